"""Shared helpers for cfp's end-to-end tests (run with /usr/bin/python3)."""
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time

CFP = os.environ.get("CFP_BIN", "cfp")
# The checkout: CFP_SRC, else three levels up from tests/e2e/e2e_common.py.
SRC = os.environ.get("CFP_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def skip_log_path():
    """The file partial skips are appended to: $CFP_SKIP_LOG, else
    cfp-skipped.log beside the cfp binary (the top of the build dir, as
    tests/unit/cfp_test.h and tests/cfp_skip.sh do); None when neither is known."""
    path = os.environ.get("CFP_SKIP_LOG")
    if path:
        return path
    binary = os.environ.get("CFP_BIN")
    return os.path.join(os.path.dirname(os.path.abspath(binary)), "cfp-skipped.log") if binary else None


def skip_part(what, why, test=None):
    """Says that part of a test did not run: prints "SKIP TEST: WHAT: WHY" and
    appends "TEST: WHAT: WHY" to skip_log_path(). A passing test's output is
    hidden by ctest --output-on-failure, so tests/run.sh prints that file at
    the end. TEST defaults to the script's name."""
    test = test or os.path.splitext(os.path.basename(sys.argv[0]))[0]
    line = ("%s: %s: %s" % (test, what, why)).replace("\n", " ")
    print("SKIP " + line, flush=True)
    path = skip_log_path()
    if path:
        try:
            with open(path, "a") as f:  # one short append: whole lines under ctest -j
                f.write(line + "\n")
        except OSError as e:
            print("SKIP log %s not written: %s" % (path, e), flush=True)


def wait_for(cond, timeout, what, poll=0.05):
    """Polls cond() until it returns a true value, which is returned; fails
    the test with "WHAT: not within TIMEOUT s" when it does not in time (what
    may be a function, called then, to describe the state at the end). The
    limit is a hang guard, not a measurement: make it generous."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            fail("%s: not within %g s" % (what() if callable(what) else what, timeout))
        time.sleep(poll)


def file_locked(path):
    """True when some process holds a lock (flock or fcntl, as HDF5 takes on
    the files it opens) on path, from /proc/locks; False when path does not
    exist yet. Reading /proc/locks, unlike trying the lock, cannot make the
    holder's own attempt fail."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    want = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    with open("/proc/locks") as f:
        for line in f:
            # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; blocked
            # waiters are listed as "1: -> FLOCK ...": not holders.
            fields = line.split()
            if len(fields) < 6 or fields[1] == "->":
                continue
            dev = fields[5].split(":")
            if len(dev) == 3 and (int(dev[0], 16), int(dev[1], 16), int(dev[2])) == want:
                return True
    return False


def tcp_connected(pid, port):
    """True when process pid has an established TCP connection to local
    port (from /proc/PID/fd and /proc/PID/net/tcp*): a transfer to that
    server is in flight."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        for table in ("tcp", "tcp6"):
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                next(f)
                for line in f:
                    # sl local_address rem_address st ... inode (field 9); 01 = ESTABLISHED
                    fields = line.split()
                    if (fields[3] == "01" and fields[9] in inodes
                            and int(fields[2].rsplit(":", 1)[1], 16) == int(port)):
                        return True
    except (FileNotFoundError, ProcessLookupError):
        return False
    return False


def kill_session(sid):
    """SIGKILLs every process of session sid (a process started with
    start_new_session=True and all it started, unless they left the session:
    mpirun's ranks get process groups of their own but keep its session)."""
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % pid) as f:
                # "pid (comm) state ppid pgrp session ...": comm may hold spaces
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue


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
    proc = Proc([sys.executable, os.path.join(SRC, "tests", "e2e", "faultsrv.py")])
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


def mpi_available(sanitizer_ok=False):
    """Whether the test may run its mpirun parts: cfp built with MPI
    (CFP_WITH_MPI), mpirun found, and, unless sanitizer_ok, not a sanitizer
    build (Open MPI's own internals are not instrumented). A skip for a
    missing MPI goes through skip_part; a sanitizer build skips quietly, as
    its suite only checks the local engines."""
    import shutil
    if os.environ.get("CFP_SANITIZE", "") and not sanitizer_ok:
        return False
    if os.environ.get("CFP_WITH_MPI", "ON").upper() in ("OFF", "0", "FALSE", ""):
        skip_part("mpirun parts", "cfp built without MPI")
        return False
    if not shutil.which("mpirun"):
        skip_part("mpirun parts", "mpirun not found")
        return False
    return True
