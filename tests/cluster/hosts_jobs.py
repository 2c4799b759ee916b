#!/usr/bin/python3
"""hosts_jobs.py DIR - cfp on two hosts (tests/cluster/hosts/, doc/hosts.md):

A. `sbatch -N 2 --ntasks-per-node=2 jobs/cfp.sbatch` submitted on hosta:
   one results file and report on rank 0's host, the records' host column
   names both hosts, the report's per-host table lists both, outputs and
   statuses equal a local sequential run.
B. A lost host: mpirun across both hosts (2 ranks each, with TCP keepalive
   so mpirun notices within seconds); hostb's cable is pulled mid-run. The
   run ends within seconds with an error naming the lost host; every record
   that reached rank 0 is in the file (readable, run incomplete, running
   totals no ahead of its rows). With the cable back, --resume across both
   hosts completes the run: final view equal to the local run, each task ok
   exactly once.
Needs CFP_BIN and CFP_SRC; exit 77 when DIR has no hosts."""
import os
import re
import shlex
import subprocess
import sys
import time

# The end-to-end helpers (tests/e2e/e2e_common.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e_common import CFP, SRC, check, read_runs, run_cfp  # noqa: E402

# This process reads results while rank 0 writes them: past HDF5's lock
# (read once, at HDF5's first use); the cfp processes keep locking (env
# below drops the variable).
os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"
top = os.path.abspath(sys.argv[1])
here = os.path.dirname(os.path.abspath(__file__))
ON = os.path.join(here, "hosts", "on.sh")
LINK = os.path.join(here, "hosts", "link.sh")
for f in ("env.sh", "slurm/env.sh"):
    if not os.path.isfile(os.path.join(top, f)):
        from e2e_common import skip_part
        skip_part("whole test", "no %s/%s (hosts_up did not run or was skipped)" % (top, f))
        sys.exit(77)


def sourced(path):
    out = subprocess.run(["bash", "-c", 'source "$1" && env -0', "_", path], check=True,
                         capture_output=True).stdout
    return dict(kv.split("=", 1) for kv in out.decode().split("\0") if "=" in kv)


env = sourced(os.path.join(top, "env.sh"))
env.update(sourced(os.path.join(top, "slurm", "env.sh")))
env.pop("HDF5_USE_FILE_LOCKING", None)
hosts = env["CFP_HOSTS"].split()
A, B = hosts[0], hosts[1]
work = os.path.join(top, "jobs")
subprocess.run(["rm", "-rf", work], check=True)
os.makedirs(os.path.join(work, "in"))
KEY = ("url", "status", "error_code", "digest", "kind")


def make_list(name, n):
    """n text files of 4 MB (hard links of one), as file:// URLs."""
    big = os.path.join(work, "in", "big.txt")
    if not os.path.exists(big):
        with open(big, "w") as f:
            k = 0
            while f.tell() < 4 << 20:
                f.write("alpha beta gamma %d delta über naïve fox %d\n" % (k, k * 7))
                k += 1
    urls = []
    for i in range(n):
        p = os.path.join(work, "in", "%s%03d.txt" % (name, i))
        if not os.path.exists(p):
            os.link(big, p)
        urls.append("file://" + p)
    path = os.path.join(work, name + ".txt")
    with open(path, "w") as f:
        f.write("\n".join(urls) + "\n")
    return path


def final(rows):
    v = {}
    for r in rows:
        v[r["index"]] = r
    return v


def reference(lst):
    h5 = lst + ".ref.h5"
    rc, _, err = run_cfp(["-i", lst, "-q", "-m", "threading", "-o", os.path.join(work, "ref"), "-r", h5])
    check(rc == 0, "reference: %s" % err)
    return final(read_runs(h5)[-1][2])


def same(h5, ref, what):
    rid, attrs, rows = read_runs(h5)[-1]
    v = final(rows)
    check(sorted(v) == sorted(ref), "%s: %d tasks, want %d" % (what, len(v), len(ref)))
    for i, r in v.items():
        check(tuple(r[k] for k in KEY[1:]) == tuple(ref[i][k] for k in KEY[1:]),
              "%s: task %d differs from the local run" % (what, i))
    oks = {}
    for r in rows:
        if r["status"] == "ok":
            oks[r["index"]] = oks.get(r["index"], 0) + 1
    check(all(n == 1 for n in oks.values()), "%s: a task was ok twice" % what)
    return rid, attrs, rows


def on(host, argv, timeout, **kw):
    return subprocess.run([ON, top, host] + argv, cwd=work, env=env, capture_output=True, text=True,
                          timeout=timeout, **kw)


# A. jobs/cfp.sbatch on two nodes.
lst = make_list("a", 40)
ref = reference(lst)
h5 = os.path.join(work, "sbatch.h5")
jenv = "ALL,CFP=%s,CFP_INPUT=%s,CFP_RESULTS=%s,CFP_OUTPUT_DIR=%s,CFP_ENGINE=sequential" % (
    CFP, lst, h5, os.path.join(work, "out-sbatch"))
p = on(A, ["sbatch", "--parsable", "-N", "2", "--ntasks-per-node=2", "--time=5", "--chdir", work,
           "--export", jenv, "--output", os.path.join(work, "sbatch.log"),
           os.path.join(SRC, "jobs", "cfp.sbatch")], 30)
check(p.returncode == 0, "sbatch: %s %s" % (p.stdout, p.stderr))
jid = p.stdout.strip().split(";")[0]
t0, state = time.time(), ""
while time.time() - t0 < 120:
    q = on(A, ["scontrol", "-o", "show", "job", jid], 30)
    m = re.search(r"JobState=(\S+)", q.stdout)
    state = m.group(1) if m else ""
    if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL"):
        break
    time.sleep(0.3)
log = open(os.path.join(work, "sbatch.log")).read() if os.path.exists(os.path.join(work, "sbatch.log")) else ""
check(state == "COMPLETED", "sbatch -N 2 jobs/cfp.sbatch: %s\n%s" % (state, log[-3000:]))
rid, attrs, rows = same(h5, ref, "sbatch -N 2 jobs/cfp.sbatch")
seen = {r["host"] for r in rows}
check(seen == {A, B} and attrs["ranks"] == 4, "sbatch: records from hosts %s, %s ranks" % (seen, attrs["ranks"]))
report = open(os.path.join(work, "sbatch.report.txt")).read()
check(re.search(r"Per host, newest run .*\(2 hosts", report) and re.search(r"^%s\s+\d+" % A, report, re.M)
      and re.search(r"^%s\s+\d+" % B, report, re.M), "report lacks the per-host table:\n" + report[-1500:])
per_host = {h: sum(1 for r in rows if r["host"] == h) for h in (A, B)}
print("A. sbatch -N 2 --ntasks-per-node=2 jobs/cfp.sbatch: %d tasks on %s; report lists both hosts; "
      "equal to the local run" % (len(rows), per_host))

# B. Lose hostb mid-run, then resume.
lst = make_list("b", 800)
ref = reference(lst)
h5 = os.path.join(work, "lost.h5")
mpirun = (["timeout", "-k", "5", "60", "mpirun"] + shlex.split(env["CFP_MPIRUN_ARGS"])
          + shlex.split(env["CFP_MPIRUN_KEEPALIVE_ARGS"]) + ["-np", "4", CFP, "--mode", "mpi", "--input", lst,
                                                           "--rank-timeout", "3",
                                                           "--output-dir", os.path.join(work, "out-lost"),
                                                           "--results", h5, "--quiet"])
# Output to a file, not a pipe: processes cut off on hostb may keep a pipe
# open long after mpirun is gone.
logpath = os.path.join(work, "lost.log")
logf = open(logpath, "w")
proc = subprocess.Popen([ON, top, A] + mpirun, cwd=work, env=env, stdout=logf, stderr=subprocess.STDOUT)
t0 = time.time()
n = 0
while time.time() - t0 < 60 and proc.poll() is None:
    try:
        n = len(read_runs(h5)[-1][2])
    except Exception:
        n = 0
    if n >= 20:
        break
    time.sleep(0.1)
check(proc.poll() is None and n >= 20, "the run ended (or never wrote) before the cable could be pulled (%d rows)" % n)
subprocess.run([LINK, top, B, "down"], check=True)
t_down = time.time()
proc.wait(timeout=90)
took = time.time() - t_down
logf.close()
out = open(logpath).read()
subprocess.run([LINK, top, B, "up"], check=True)
check(proc.returncode != 0, "lost host: mpirun exited 0")
check(took < 20, "lost host: the run took %.1f s to end" % took)
check(re.search(r"\b%s\b" % B, out) is not None, "lost host: no error names %s:\n%s" % (B, out[-3000:]))
msg = [ln for ln in out.splitlines() if B in ln][:1]
runs = read_runs(h5)
_, attrs, rows = runs[-1]
check(len(runs) == 1 and attrs["complete"] == 0 and 0 < len(rows) < len(ref),
      "lost host: %d runs, complete %s, %d rows" % (len(runs), attrs["complete"], len(rows)))
check(0 < attrs["tasks"] <= len(rows), "lost host: totals say %s tasks for %d rows" % (attrs["tasks"], len(rows)))
p = subprocess.run(["h5dump", "-H", h5], capture_output=True, text=True)
check(p.returncode == 0, "lost host: h5dump cannot read the file: %s" % p.stderr[-500:])
print("B. hostb's cable pulled after %d records: the run ended %.1f s later (exit %d): %s; %d records saved, "
      "totals %d" % (n, took, proc.returncode, msg[0].strip()[:120] if msg else "", len(rows), attrs["tasks"]))
resume = [a for a in mpirun if a != "--quiet"] + ["--resume", "--quiet"]
p = on(A, resume, 120)
check(p.returncode == 0, "resume across both hosts: exit %d\n%s%s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
rid, attrs, rows2 = same(h5, ref, "lost host + resume")
check(attrs["complete"] == 1 and attrs["sessions"] == 2 and attrs["tasks"] == len(ref),
      "after resume: complete %s sessions %s tasks %s" % (attrs["complete"], attrs["sessions"], attrs["tasks"]))
print("   --resume across both hosts: run %s complete, %d tasks, each ok once, equal to the local run" % (rid, len(ref)))
print("ok")
