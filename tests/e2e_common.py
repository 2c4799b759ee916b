"""Shared helpers for cfp's end-to-end tests (run with /usr/bin/python3)."""
import hashlib
import os
import subprocess
import sys
import tempfile

CFP = os.environ.get("CFP_BIN", "cfp")
SRC = os.environ.get("CFP_SRC", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run_cfp(args, timeout=600, env=None):
    """Runs cfp with args; returns (exit status, stdout, stderr)."""
    p = subprocess.run([CFP] + args, capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


class Proc:
    """A background process whose first stdout line is read (e.g. a port)."""

    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        self.first_line = self.p.stdout.readline().strip()
        if not self.first_line:
            fail("background process %r printed nothing" % argv)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        if self.p.stdout:
            self.p.stdout.close()


def cfp_serve(root, latency_ms=0, extra=()):
    """Starts `cfp serve`; returns (Proc, base URL)."""
    proc = Proc([CFP, "serve", "--root", root, "--port", "0", "--latency-ms", str(latency_ms)]
                + list(extra))
    # "serving DIR on http://127.0.0.1:PORT/ (latency L ms)"
    url = proc.first_line.split(" on ")[1].split(" ")[0]
    return proc, url


def fault_server():
    proc = Proc([sys.executable, os.path.join(SRC, "tests", "faultsrv.py")])
    return proc, "http://127.0.0.1:%s" % proc.first_line


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_runs(h5path):
    """Returns [(run_id, attrs dict, rows list of dicts)] in run order."""
    import h5py
    out = []
    with h5py.File(h5path, "r") as f:
        for rid in sorted(f["runs"].keys()):
            g = f["runs"][rid]
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
            rows = []
            ds = g["tasks"]
            names = ds.dtype.names
            for rec in ds[()]:
                row = {}
                for n in names:
                    v = rec[n]
                    if isinstance(v, bytes):
                        v = v.decode("utf-8")
                    row[n] = v
                rows.append(row)
            out.append((rid, attrs, rows))
    return out


def tmpdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
