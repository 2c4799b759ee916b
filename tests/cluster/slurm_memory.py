#!/usr/bin/env python3
"""The budget under Slurm --mem (issue #17), on the real one-node Slurm of
tests/cluster/slurm/slurm-up.sh.

`sbatch --mem=384M -c 2` runs `cfp --mode threading` (no --memory: the
default budget) on 8 interlaced PNGs of 50 to 100 MP (file:// URLs; 4
distinct images, made once by `cfp generate-image --interlace --noise 0`
under SLURM_DIR/memory-images and kept across runs, listed under 8 names
through symlinks). An Adam7 image holds its whole decoded image (W*H*3
bytes: 143 to 286 MiB), so the budget admits them one or two at a time.
Checks: the job completes (JobState COMPLETED, ExitCode 0:0, not
OUT_OF_MEMORY, no oom-kill in its cgroup), every task ok with its output,
the same image gives the same output under every name; the run's
memory_budget is 384 MiB, memory_source "cgroup" when the fixture enforces
--mem (task/cgroup + ConstrainRAMSpace: the job's cgroup limit, seen from
inside the job, is 384 MiB, and ties with SLURM_MEM_PER_NODE go to the
cgroup), else "slurm"; memory_peak within the admission limit (384 - 48 MiB)
and at least the largest image's decoded size; peak RSS within the budget.
Usage: slurm_memory.py SLURM_DIR (CFP_BIN, CFP_SRC from CTest)."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import CFP, check, read_runs, run_cfp, sha256_file  # noqa: E402
from slurm_jobs import job_field, sh, slurm_env, wait_job  # noqa: E402

MIB = 1 << 20
MEM = "384M"
BUDGET = 384 * MIB
LIMIT = BUDGET - max(32 * MIB, BUDGET // 8)  # cfp_budget.h: the reserve
# The distinct images (W, H), 50 to 100 MP, RGB: 143, 172, 215, 286 MiB
# decoded; 16 to 31 MB each on disk (--noise 0 compresses well).
SIZES = [(10000, 5000), (10000, 6000), (10000, 7500), (10000, 10000)]
# The list: 8 names over them. 50 + 60 MP fit the limit together (two core
# slots), any other pair waits.
ORDER = [3, 0, 1, 2, 0, 1, 3, 2]


def fixture_enforces(sdir):
    """Whether the fixture's Slurm puts a job's --mem into its cgroup."""
    conf = open(os.path.join(sdir, "slurm.conf")).read()
    cg = open(os.path.join(sdir, "cgroup.conf")).read()
    return (re.search(r"^TaskPlugin=task/cgroup$", conf, re.M) is not None
            and re.search(r"^SelectTypeParameters=CR_\w*Memory$", conf, re.M) is not None
            and re.search(r"^ConstrainRAMSpace=yes$", cg, re.M) is not None)


def images(sdir):
    """The distinct images, made once (generate-image renames a complete
    file into place, so a file that is there is whole); their paths and
    the seconds spent making the missing ones."""
    d = os.path.join(sdir, "memory-images")
    os.makedirs(d, exist_ok=True)
    paths, t0 = [], time.time()
    for w, h in SIZES:
        p = os.path.join(d, "adam7-%dx%d.png" % (w, h))
        if not os.path.exists(p):
            rc, _, err = run_cfp(["generate-image", "--size", "%dx%d" % (w, h), "-o", p, "--interlace",
                                  "--noise", "0", "-q"])
            check(rc == 0, "generate-image %dx%d: exit %d %s" % (w, h, rc, err))
        paths.append(p)
    return paths, time.time() - t0


# Runs inside the job: the memory cgroup seen from there (the tightest limit
# on the way up), cfp, then whether the kernel OOM-killed anything in the
# job's cgroups (those under slurm_<node>: none when Slurm made none).
JOB = r"""#!/bin/bash
set -u
cg=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
echo "job: SLURM_MEM_PER_NODE=${SLURM_MEM_PER_NODE:-} SLURM_CPUS_ON_NODE=${SLURM_CPUS_ON_NODE:-} memory cgroup $cg"
d=/sys/fs/cgroup/memory$cg
limit=
while [[ $d == /sys/fs/cgroup/memory/?* ]]; do
  v=$(cat "$d/memory.limit_in_bytes" 2>/dev/null || echo 0)
  if [[ -z $limit ]] || ((v < limit)); then limit=$v; fi
  d=$(dirname "$d")
done
echo "job: cgroup limit ${limit:-none}"
"$CFP" --mode threading -i urls.txt -o out -r mem.h5 -q -v --no-report
rc=$?
echo "job: cfp exited with $rc"
kills=0
d=/sys/fs/cgroup/memory$cg
while [[ $d == /sys/fs/cgroup/memory/slurm_*/?* ]]; do # Slurm's job cgroups only
  k=$(sed -n 's/^oom_kill //p' "$d/memory.oom_control" 2>/dev/null)
  kills=$((kills + ${k:-0}))
  d=$(dirname "$d")
done
echo "job: oom_kill $kills"
if [[ $cg == /slurm_*/job_*/* ]]; then
  echo "job: job cgroup max usage $(cat "/sys/fs/cgroup/memory${cg%/step_*}/memory.max_usage_in_bytes") (page cache too)"
fi
exit "$rc"
"""


def main():
    sdir = os.path.abspath(sys.argv[1])
    env = slurm_env(sdir)
    enforced = fixture_enforces(sdir)
    if enforced:
        print("the fixture enforces --mem: task/cgroup, CR_CPU_Memory, ConstrainRAMSpace=yes (cgroup v1)")
    else:
        print("NOTE: the fixture does not enforce --mem (no task/cgroup with ConstrainRAMSpace): the job "
              "gets --mem=%s through its environment only (SLURM_MEM_PER_NODE); nothing would stop cfp "
              "going over it" % MEM)
    paths, gen_s = images(sdir)
    print("images: %s (%s)" % (", ".join("%dx%d" % s for s in SIZES),
                               "made in %.1f s" % gen_s if gen_s > 0.5 else "reused"))

    work = os.path.join(sdir, "memory-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "in"))
    urls, source = [], {}
    for i, k in enumerate(ORDER):
        w, h = SIZES[k]
        link = os.path.join(work, "in", "img%02d-%dmp.png" % (i + 1, w * h // 1000000))
        os.symlink(paths[k], link)
        urls.append("file://" + link)
        source[i] = k
    with open(os.path.join(work, "urls.txt"), "w") as f:
        f.write("\n".join(urls) + "\n")
    script = os.path.join(work, "job.sh")
    with open(script, "w") as f:
        f.write(JOB)
    log = os.path.join(work, "job.log")
    jid = None
    try:
        t0 = time.time()
        jid = sh(["sbatch", "--parsable", "--job-name=cfp_memory", "--mem=" + MEM, "-n", "1", "-c", "2",
                  "--time=5", "--chdir", work, "--output", log, script], env)
        state = wait_job(env, jid, states=("COMPLETED", "FAILED", "OUT_OF_MEMORY"), timeout=240)
        job_s = time.time() - t0
        text = open(log).read() if os.path.exists(log) else "(no log)"
        print(text.rstrip())
        exit_code = job_field(env, jid, "ExitCode")
        check(state == "COMPLETED" and exit_code == "0:0",
              "job %s: JobState %s ExitCode %s (OUT_OF_MEMORY: the cgroup killed cfp)" % (jid, state, exit_code))
        check("job: cfp exited with 0" in text, "cfp did not exit 0 in the job:\n" + text[-3000:])
        check("job: oom_kill 0" in text and "oom-kill" not in text,
              "an OOM kill in the job's cgroups:\n" + text[-3000:])
        m = re.search(r"job: cgroup limit (\d+)", text)
        cg_limit = int(m.group(1)) if m else 0
        if enforced:
            check(cg_limit == BUDGET, "job's memory cgroup limit %d, wanted %d (--mem=%s)" % (cg_limit, BUDGET, MEM))

        runs = read_runs(os.path.join(work, "mem.h5"))
        check(len(runs) == 1, "%d runs in mem.h5" % len(runs))
        rid, a, rows = runs[0]
        check(len(rows) == len(urls) and all(r["status"] == "ok" for r in rows),
              "not every task ok: %r" % [(r["url"], r["status"], r["error"]) for r in rows])
        check(a["complete"] == 1 and a["ok"] == len(urls), "run attrs: %r" % a)
        digest = {}
        for r in rows:
            out = os.path.join(work, r["output"])
            check(sha256_file(out) == r["digest"], "output %s does not match its digest" % out)
            k = source[int(r["index"])]
            check(digest.setdefault(k, r["digest"]) == r["digest"],
                  "image %dx%d gave two different outputs" % SIZES[k])
        want_source = "cgroup" if enforced else "slurm"
        check(a["memory_source"] == want_source,
              "memory_source %r, wanted %r" % (a["memory_source"], want_source))
        check(a["memory_budget"] == BUDGET, "memory_budget %d, wanted %d" % (a["memory_budget"], BUDGET))
        largest = max(w * h * 3 for w, h in SIZES)
        check(largest <= a["memory_peak"] <= LIMIT,
              "memory_peak %d: wanted between the largest decoded image %d and the admission limit %d"
              % (a["memory_peak"], largest, LIMIT))
        rss = int(a["peak_rss_kb"]) * 1024
        check(rss <= BUDGET, "peak RSS %.1f MiB over the budget %d MiB" % (rss / MIB, BUDGET // MIB))
        print("sbatch --mem=%s: job %s COMPLETED in %.1f s (cfp %.1f s), %d tasks ok; memory_source %s, "
              "memory_budget %d MiB, memory_peak %.1f MiB (limit %d MiB), peak RSS %.1f MiB; %s"
              % (MEM, jid, job_s, a["wall_s"], len(rows), a["memory_source"], a["memory_budget"] // MIB,
                 a["memory_peak"] / MIB, LIMIT // MIB, rss / MIB,
                 "the job's cgroup limit was %d MiB, no OOM kill" % (cg_limit // MIB) if enforced
                 else "--mem passed through the environment only (not enforced by this fixture)"))
    finally:
        if jid:
            subprocess.run(["scancel", jid], env=env, capture_output=True)
    print("ok")


if __name__ == "__main__":
    main()
