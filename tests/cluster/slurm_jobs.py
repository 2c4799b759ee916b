#!/usr/bin/env python3
"""jobs/*.sbatch on the real one-node Slurm of tests/cluster/slurm/slurm-up.sh.

1. `sbatch -n 2 jobs/cfp.sbatch` (srun --mpi=pmix) completes; its results
   file equals an uninterrupted local run.
2. `scancel --signal=USR1 --batch` mid-run: the batch script passes the
   signal to cfp, cfp stops cleanly (exit 5), the script requeues the job,
   the job starts again with --resume and completes: every task exactly
   once, one run with 2 sessions, outputs identical.
3. jobs/cfp-array-submit.sh 3: an array of 3 shards, then cfp-merge.sbatch
   after them (afterok): the merged file equals the single run.
4. `sbatch -n 2 --cpus-per-task=1` running `srun --mpi=pmix cfp --mode mpi
   -v`: each rank sizes its engine for 1 CPU (its log line and 8 threading
   workers), the run records cpus = 2. This Slurm binds no CPUs (task/none,
   or task/cgroup constraining memory only), so both ranks see the
   machine's CPUs: the 1 comes from cfp's node-local split (doc/mpi.md),
   not from SLURM_CPUS_PER_TASK, which cfp does not read.
Usage: slurm_jobs.py SLURM_DIR (CFP_BIN, CFP_SRC from CTest)."""
import os
import re
import shutil
import subprocess
import sys
import time

# The end-to-end helpers (tests/e2e/e2e_common.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e_common import (CFP, SRC, cfp_serve, check, read_runs, run_cfp, sha256_file, skip_part,  # noqa: E402
                        wait_for)

KEY = ("url", "status", "error_code", "digest", "kind")


def slurm_env(sdir):
    env = dict(os.environ)
    env["SLURM_CONF"] = os.path.join(sdir, "slurm.conf")
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["CFP"] = CFP
    env.pop("HDF5_USE_FILE_LOCKING", None)
    return env


def sh(argv, env, timeout=60):
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    check(p.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p.stdout.strip()


def job_field(env, jobid, field):
    p = subprocess.run(["scontrol", "show", "job", str(jobid)], env=env, capture_output=True, text=True,
                       timeout=30)
    m = re.search(r"\b%s=(\S+)" % field, p.stdout)
    return m.group(1) if m else ""


def wait_job(env, jobid, states=("COMPLETED",), timeout=120, restarts=None):
    t0 = time.time()
    state = ""
    while time.time() - t0 < timeout:
        state = job_field(env, jobid, "JobState")
        if state in states and (restarts is None or job_field(env, jobid, "Restarts") == str(restarts)):
            return state
        if state in ("FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY") and state not in states:
            break
        time.sleep(0.3)
    check(False, "job %s: state %s after %.0f s (wanted %s)" % (jobid, state, time.time() - t0, states))


def final_view(rows):
    view = {}
    for r in rows:
        view[r["index"]] = r
    return view


def same_as(h5, ref, what):
    runs = read_runs(h5)
    check(len(runs) >= 1, "%s: no run in %s" % (what, h5))
    rid, attrs, rows = runs[-1]
    view = final_view(rows)
    check(sorted(view) == sorted(ref), "%s: %d tasks, reference %d" % (what, len(view), len(ref)))
    for i, r in view.items():
        check(tuple(r[k] for k in KEY) == tuple(ref[i][k] for k in KEY),
              "%s: task %d differs from the local run:\n %r\n %r"
              % (what, i, tuple(r[k] for k in KEY), tuple(ref[i][k] for k in KEY)))
        if r["status"] == "ok":
            check(sha256_file(r["output"]) == r["digest"], "%s: output %s changed" % (what, r["output"]))
    oks = {}
    for r in rows:
        if r["status"] == "ok":
            oks[r["index"]] = oks.get(r["index"], 0) + 1
    check(all(n == 1 for n in oks.values()), "%s: a task was done twice" % what)
    check(attrs["complete"] == 1, "%s: run not complete" % what)
    return rid, attrs, rows


def main():
    sdir = os.path.abspath(sys.argv[1])
    env = slurm_env(sdir)
    work = os.path.join(sdir, "jobs-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ds = os.path.join(work, "ds")
    rc, _, err = run_cfp(["-g", "-d", ds, "-q", "--num-images", "6", "--num-texts", "24", "--num-csv", "6"])
    check(rc == 0, "generate: " + err)
    srv, base = cfp_serve(ds, latency_ms=150)
    jobs = []
    try:
        names = sorted(n for n in os.listdir(ds) if n != "manifest.txt")
        lst = os.path.join(work, "urls.txt")
        with open(lst, "w") as f:
            f.write("\n".join(base + n for n in names) + "\n")
        ref_h5 = os.path.join(work, "ref.h5")
        rc, _, err = run_cfp(["-i", lst, "-q", "-m", "sequential", "-o", os.path.join(work, "ref"), "-r", ref_h5])
        check(rc == 0, "reference run: exit %d %s" % (rc, err))
        ref = final_view(read_runs(ref_h5)[-1][2])
        sbatch_script = os.path.join(SRC, "jobs", "cfp.sbatch")

        # 1. A plain run of cfp.sbatch with 2 tasks.
        e = dict(env, CFP_INPUT=lst, CFP_RESULTS=os.path.join(work, "plain.h5"),
                 CFP_OUTPUT_DIR=os.path.join(work, "out-plain"), CFP_ENGINE="threading")
        jid = sh(["sbatch", "--parsable", "-n", "2", "--time=5", "--chdir", work,
                  "--output", os.path.join(work, "plain.log"), sbatch_script], e)
        jobs.append(jid)
        wait_job(env, jid)
        rid, attrs, _ = same_as(os.path.join(work, "plain.h5"), ref, "sbatch cfp.sbatch")
        check(attrs["ranks"] == 2 and attrs["mode"] == "mpi", "plain: attrs %r" % attrs)
        print("sbatch -n 2 jobs/cfp.sbatch (srun --mpi=pmix): %d tasks on 2 ranks, equal to the local run"
              % len(ref))

        # 2. USR1 to the batch shell mid-run -> clean stop, requeue, resume.
        h5 = os.path.join(work, "stop.h5")
        log = os.path.join(work, "stop.log")
        e = dict(env, CFP_INPUT=lst, CFP_RESULTS=h5, CFP_OUTPUT_DIR=os.path.join(work, "out-stop"),
                 CFP_ENGINE="sequential", CFP_GRACE="10")
        jid = sh(["sbatch", "--parsable", "-n", "2", "--time=5", "--chdir", work, "--output", log,
                  sbatch_script], e)
        jobs.append(jid)
        wait_job(env, jid, states=("RUNNING",), timeout=60)
        # The batch script's "start 0" line: it is about to launch cfp.
        # Slurm creates the log when the job starts; 30 s guards a hang.
        wait_for(lambda: os.path.exists(log) and "start 0" in open(log).read(), 30,
                 lambda: "stop job %s: the line 'start 0' in %s (log: %s)"
                 % (jid, log, repr(open(log).read()[-2000:]) if os.path.exists(log) else "absent"))
        # Let some tasks finish (cfp is then past MPI_Init, its handlers in
        # place), not a fixed time: 4 outputs of 36 (150 ms each, 2 ranks)
        # leave about 2.4 s to stop in. 60 s guards a hang.
        outdir = os.path.join(work, "out-stop")
        done = lambda: [n for n in os.listdir(outdir) if not n.startswith(".")] if os.path.isdir(outdir) else []  # noqa: E731
        wait_for(lambda: len(done()) >= 4, 60, "stop job %s: 4 outputs in %s" % (jid, outdir))
        sh(["scancel", "--signal=USR1", "--batch", jid], env)
        wait_job(env, jid, timeout=120, restarts=1)
        text = open(log).read()
        check("cfp exited with 5" in text and "requeueing" in text,
              "stop job log lacks the clean stop and the requeue:\n" + text[-3000:])
        rid, attrs, rows = same_as(h5, ref, "USR1 + requeue + resume")
        check(attrs["sessions"] == 2 and len(read_runs(h5)) == 1,
              "stop job: sessions %s, runs %d" % (attrs["sessions"], len(read_runs(h5))))
        first = sum(1 for r in rows)  # noqa: F841
        print("scancel --signal=USR1 --batch: cfp stopped (exit 5), job requeued (Restarts=1), "
              "--resume completed run %s: every task once, equal to the local run" % rid)

        # 3. Array of 3 shards + merge after them.
        resdir = os.path.join(work, "shards")
        merged = os.path.join(work, "merged.h5")
        e = dict(env, CFP_INPUT=lst, CFP_RESULTS_DIR=resdir, CFP_RESULTS=merged,
                 CFP_OUTPUT_DIR=os.path.join(work, "out-array"), CFP_MODE="async")
        out = sh([os.path.join(SRC, "jobs", "cfp-array-submit.sh"), "3", "--chdir", work, "--time=5",
                  "--output", os.path.join(work, "array-%x-%j.log")], e)
        m = re.match(r"array (\d+) merge (\d+)", out)
        check(m is not None, "cfp-array-submit.sh printed %r" % out)
        jobs += [m.group(1), m.group(2)]
        wait_job(env, m.group(2), timeout=120)
        shards = sorted(os.listdir(resdir))
        check(shards == ["shard-%d-of-3.h5" % k for k in (1, 2, 3)], "shard files: %s" % shards)
        _, attrs, _ = same_as(merged, ref, "array of 3 + merge")
        check(os.path.exists(os.path.join(work, "merged.report.txt")), "merge wrote no report beside merged.h5")
        print("array of 3 (--shard K/3) + cfp-merge.sbatch (afterok): merged file equals the single run")
        # 4. --cpus-per-task=1: 1 CPU per rank.
        if len(os.sched_getaffinity(0)) == 2:
            h5 = os.path.join(work, "cpus.h5")
            log = os.path.join(work, "cpus.log")
            cmd = ("srun --mpi=pmix %s --mode mpi --rank-engine threading -i %s -q -v --no-report "
                   "-o %s -r %s" % (CFP, lst, os.path.join(work, "out-cpus"), h5))
            jid = sh(["sbatch", "--parsable", "-n", "2", "--cpus-per-task=1", "--time=5", "--chdir", work,
                      "--output", log, "--wrap", cmd], env)
            jobs.append(jid)
            wait_job(env, jid)
            text = open(log).read()
            shares = re.findall(r"rank \d\] info: (\d+) CPUs? for this rank", text)
            engines = re.findall(r"rank \d\] info: threading: (\d+) workers, \d+ transfers, (\d+) cpu slots",
                                 text)
            check(shares == ["1", "1"] and sorted(engines) == [("8", "1")] * 2,
                  "--cpus-per-task=1: shares %r, engines %r:\n%s" % (shares, engines, text[-3000:]))
            rid, attrs, _ = same_as(h5, ref, "--cpus-per-task=1")
            check(attrs["cpus"] == 2 and attrs["ranks"] == 2, "--cpus-per-task=1: attrs %r" % attrs)
            print("sbatch -n 2 --cpus-per-task=1 (srun --mpi=pmix): 1 CPU per rank, 8 workers each, cpus=2")
        else:
            skip_part("--cpus-per-task=1", "written for a machine with 2 CPUs (this process has %d)"
                      % len(os.sched_getaffinity(0)))
    finally:
        for j in jobs:
            subprocess.run(["scancel", j], env=env, capture_output=True)
        srv.stop()
    print("ok")


if __name__ == "__main__":
    main()
