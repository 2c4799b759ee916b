#!/usr/bin/python3
"""hosts_smoke.py DIR - cfp --mode mpi across two "hosts" (network + UTS
namespaces made by tests/cluster/hosts/hosts-up.sh DIR, with the two-node
Slurm of tests/cluster/slurm/slurm-up.sh --hosts DIR DIR/slurm on top;
doc/hosts.md). Two runs of 4 ranks, 2 per host, on a list of file:// text
files in DIR/smoke (the filesystem is shared by the hosts):

  a. mpirun, started on hosta, reaching hostb through DIR/rsh (no ssh);
  b. srun -N 2 -n 4 --mpi=pmix in a batch job (sbatch -N 2
     --ntasks-per-node=2) submitted from hosta, polled with scontrol.

Each rank is started through a wrapper that notes its rank and hostname.
Checks per run: the command succeeds; the HDF5 results hold one run of
mode mpi with 4 ranks, every rank with tasks, one record per URL, all ok,
every output present; ranks 0-1 ran on hosta and 2-3 on hostb (the wrapper's
notes, and the records' host column when the file has one); and traffic
crossed hosta's eth0 (its byte counters, read with `ip -n hosta -s -j`,
rose in both directions). Needs CFP_BIN; exit 77 when DIR has no hosts.
"""
import json
import os
import shlex
import subprocess
import sys
import time

import h5py

# skip_part() comes from the end-to-end helpers (tests/e2e/e2e_common.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

if len(sys.argv) != 2:
    sys.exit("usage: hosts_smoke.py DIR")
top = os.path.abspath(sys.argv[1])
cfp = os.environ.get("CFP_BIN")
if not cfp:
    sys.exit("CFP_BIN must point at the cfp binary")
here = os.path.dirname(os.path.abspath(__file__))
on_sh = os.path.join(here, "hosts", "on.sh")
for f in ("env.sh", "slurm/env.sh"):
    if not os.path.isfile(os.path.join(top, f)):
        from e2e_common import skip_part
        skip_part("whole test", f"no {top}/{f} (hosts_up did not run or was skipped)")
        sys.exit(77)


def sourced(path):
    """The environment after sourcing a shell file."""
    out = subprocess.run(["bash", "-c", 'source "$1" && env -0', "_", path],
                         check=True, capture_output=True).stdout
    return dict(kv.split("=", 1) for kv in out.decode().split("\0") if "=" in kv)


env = sourced(os.path.join(top, "env.sh"))
env.update(sourced(os.path.join(top, "slurm", "env.sh")))
hosts = env["CFP_HOSTS"].split()
first = hosts[0]
work = os.path.join(top, "smoke")
subprocess.run(["rm", "-rf", work], check=True)
os.makedirs(os.path.join(work, "in"))

# The input: 40 text files of 4 MB (hard links to one file: one inode, one
# page-cache copy), listed as file:// URLs. A task takes some 30 ms of CPU,
# the run about a second. Every rank must get a share whatever the start-up
# skew: a worker rank asks for its first tasks ~0.1 s after rank 0 starts on
# its own share, and small files (0.3 ms each) were all gone by then.
words = ["alpha", "beta", "gamma", "delta", "quick", "brown", "fox", "jumps", "lazy", "dog",
         "über", "naïve"]
big = os.path.join(work, "in", "big.txt")
with open(big, "w") as f:
    line = 0
    while f.tell() < 4 << 20:
        f.write(" ".join(words[(line * 7 + k * k) % len(words)] for k in range(14)) + "\n")
        line += 1
urls = []
for i in range(40):
    p = os.path.join(work, "in", f"t{i:02d}.txt")
    os.link(big, p)
    urls.append("file://" + p)
with open(os.path.join(work, "urls.txt"), "w") as f:
    f.write("\n".join(urls) + "\n")

# place.sh NOTES_DIR CMD...: note "rank hostname" in NOTES_DIR/RANK, run CMD.
place = os.path.join(work, "place.sh")
with open(place, "w") as f:
    f.write('#!/bin/sh\nd=$1\nshift\n'
            'r=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${SLURM_PROCID:-x}}}\n'
            'echo "$r $(hostname)" >"$d/$r"\nexec "$@"\n')
os.chmod(place, 0o755)

bad = 0


def check(cond, what):
    global bad
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    bad += not cond
    return cond


def eth0_bytes(host):
    """(rx, tx) bytes of HOST's eth0, read inside its namespace."""
    out = subprocess.run(["ip", "-n", host, "-s", "-j", "link", "show", "eth0"],
                         check=True, capture_output=True, text=True).stdout
    s = json.loads(out)[0]["stats64"]
    return s["rx"]["bytes"], s["tx"]["bytes"]


def cfp_args(name):
    return [place, os.path.join(work, "place-" + name), cfp, "--mode", "mpi",
            "--input", "urls.txt", "--output-dir", "out-" + name,
            "--results", name + ".h5", "--quiet"]


def run(name, argv, limit):
    """Run argv on the first host (cwd: work), with the counters around it."""
    os.makedirs(os.path.join(work, "place-" + name))
    print(f"== {name}: on {first}: {' '.join(argv)}", flush=True)
    before = eth0_bytes(first)
    t0 = time.monotonic()
    try:
        p = subprocess.run([on_sh, top, first] + argv, cwd=work, env=env, timeout=limit,
                           capture_output=True, text=True)
        rc, out = p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = f"timeout ({limit} s)", (e.stdout or b"").decode() + (e.stderr or b"").decode()
    secs = time.monotonic() - t0
    after = eth0_bytes(first)
    if out.strip():
        print(out.rstrip())
    check(rc == 0, f"{name}: exit status {rc} ({secs:.1f} s)")
    rx, tx = after[0] - before[0], after[1] - before[1]
    # Idle, the link carries ~15 B/s (Slurm's pings); one run moves tens of KB.
    check(rx >= 4096 and tx >= 1024,
          f"{name}: traffic crossed {first}'s eth0 (rx +{rx} B, tx +{tx} B)")


def results(name):
    path = os.path.join(work, name + ".h5")
    if not check(os.path.isfile(path), f"{name}: {path} exists"):
        return
    with h5py.File(path, "r") as f:
        runs = sorted(f["runs"].keys())
        check(len(runs) == 1, f"{name}: one run ({runs})")
        g = f["runs"][runs[-1]]
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
        check(a.get("mode") == "mpi", f"{name}: mode attribute is mpi ({a.get('mode')})")
        ranks = g["ranks"][()] if "ranks" in g else []
        check(a.get("ranks") == 4 and len(ranks) == 4,
              f"{name}: 4 ranks in one world (attribute {a.get('ranks')}, {len(ranks)} rank rows)")
        per_rank = {int(r["rank"]): int(r["tasks"]) for r in ranks}
        check(sorted(per_rank) == [0, 1, 2, 3] and all(n > 0 for n in per_rank.values()),
              f"{name}: every rank ran tasks ({per_rank})")
        t = g["tasks"][()]
        got = sorted(u.decode() for u in t["url"])
        check(got == sorted(urls), f"{name}: one record per URL ({len(got)} records, {len(urls)} URLs)")
        st = [s.decode() for s in t["status"]]
        check(st.count("ok") == len(st), f"{name}: every record ok ({st.count('ok')}/{len(st)})")
        outs = [os.path.join(work, o.decode()) for o in t["output"]]
        check(all(os.path.isfile(o) for o in outs), f"{name}: every output file exists")
        # Where each rank ran: the wrapper's notes...
        notes = {}
        nd = os.path.join(work, "place-" + name)
        for fn in os.listdir(nd):
            with open(os.path.join(nd, fn)) as fh:
                r, h = fh.read().split()
                notes[int(r)] = h
        want = {0: hosts[0], 1: hosts[0], 2: hosts[1], 3: hosts[1]}
        check(notes == want, f"{name}: ranks 0-1 on {hosts[0]}, 2-3 on {hosts[1]} ({notes})")
        # ... and the records' own host column (cfp's gethostname), if any.
        if "host" in t.dtype.names:
            rec = {}
            for r, h in zip(t["rank"], t["host"]):
                rec.setdefault(int(r), set()).add(h.decode())
            check(all(rec.get(r) == {h} for r, h in notes.items() if r in rec) and
                  {h for s in rec.values() for h in s} == set(hosts[:2]),
                  f"{name}: the records' host column agrees ({ {r: sorted(s) for r, s in sorted(rec.items())} })")


# a. mpirun across the hosts, no ssh: DIR/rsh enters the other host.
run("mpirun", ["mpirun"] + shlex.split(env["CFP_MPIRUN_ARGS"]) + ["-np", "4"] + cfp_args("mpirun"), 60)
results("mpirun")

# b. a Slurm batch job on both nodes, direct launch with PMIx. Not
# `sbatch --wait`: it polls after 2, 10, 42 s, so a job of 2.1 s costs 10 s.
# wait_job.sh submits, polls scontrol every 0.2 s and exits with the job's
# exit code.
srun = ["srun", "-N", "2", "-n", "4", "--mpi=pmix"] + cfp_args("srun")
wait_job = os.path.join(work, "wait_job.sh")
with open(wait_job, "w") as f:
    f.write(r"""#!/bin/bash
# wait_job.sh LIMIT SBATCH_ARGS...: submit, wait for the end, exit with the job's code.
limit=$1; shift
id=$(sbatch --parsable "$@") || exit 1
echo "job $id"
end=$((SECONDS + limit))
while ((SECONDS < end)); do
  line=$(scontrol -o show job "$id" 2>/dev/null)
  st=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
  case $st in
    PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | "") sleep 0.2 ;;
    *) ec=$(sed -n 's/.* ExitCode=\([0-9]*\):\([0-9]*\).*/\1 \2/p' <<<"$line")
       echo "job $id: $st, ExitCode ${ec/ /:}"
       read -r code sig <<<"$ec"
       [[ $st == COMPLETED && $code == 0 ]] && exit 0
       exit $((code ? code : 1)) ;;
  esac
done
echo "job $id: not finished after $limit s" >&2
scancel "$id"
exit 124
""")
os.chmod(wait_job, 0o755)
sbatch = [wait_job, "90", "--job-name=cfp_hosts_smoke", "-N", "2",
          "--ntasks-per-node=2", "--time=2", "--chdir=" + work,
          "--output=" + os.path.join(work, "srun.out"), "--wrap", shlex.join(srun)]
try:
    run("srun", sbatch, 100)
finally:
    # A job left behind by a timeout would hold the nodes.
    subprocess.run([on_sh, top, first, "scancel", "--name=cfp_hosts_smoke"], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    with open(os.path.join(work, "srun.out")) as f:
        out = f.read().strip()
    if out:
        print("-- srun.out:\n" + out)
except OSError:
    pass
results("srun")

print("hosts_smoke: " + ("FAILED" if bad else "passed"))
sys.exit(1 if bad else 0)
