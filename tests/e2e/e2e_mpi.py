#!/usr/bin/env python3
"""The MPI distribution layer with real mpirun: 1 to 4 ranks x every rank
engine give the same outputs as sequential, one record per task exactly once;
dynamic dispatch balances one huge image among small files; the seed's
--mode multiprocessing works from a plain shell; a rank that goes silent ends
the run with a clear error and every finished record saved, without a hang."""
import io
import re
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (CFP, check, kill_session, read_runs, run_cfp, sha256_file, skip_part,  # noqa: E402
                        tmpdir, wait_for)

MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root"]
KEY = ("status", "error_code", "kind", "digest", "bytes_in", "width_out", "height_out", "lines", "rows")


def start_mpirun(argv, **kw):
    """Starts mpirun in a session of its own, so that end_mpirun() can take
    its ranks down with it (each rank has a process group of its own)."""
    return subprocess.Popen(MPIRUN + argv, start_new_session=True, text=True, **kw)


def end_mpirun(p):
    """Kills what is left of mpirun's session (nothing after a clean exit)
    and reaps mpirun: a failed check or a timeout must not leave an mpirun
    or its ranks (one of them maybe SIGSTOPped) behind."""
    kill_session(p.pid)
    if p.returncode is None:
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pass


def mpi_cfp(np_, args, timeout=300):
    p = start_mpirun(["-np", str(np_), CFP] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        end_mpirun(p)
    return p.returncode, out, err


def table(rows):
    return {r["index"]: tuple(r[k] for k in KEY) for r in rows}


def ranks_of(h5, rid):
    import h5py
    with h5py.File(h5, "r") as f:
        g = f["runs"][rid]
        check("ranks" in g, "%s: per-rank dataset missing" % rid)
        return {int(r["rank"]): (int(r["tasks"]), float(r["busy_s"])) for r in g["ranks"][()]}


def check_matrix(work):
    ds = os.path.join(work, "ds")
    h5 = os.path.join(work, "mpi.h5")
    rc, _, err = run_cfp(["--generate-dataset", "--num-images", "4", "--num-texts", "5", "--num-csv", "3",
                          "--dataset-dir", ds, "--quiet"])
    check(rc == 0, "generate: %s" % err)
    base = ["--dataset-dir", ds, "--latency-ms", "5", "--results", h5, "--quiet"]
    rc, _, err = run_cfp(["--mode", "sequential", "--output-dir", os.path.join(work, "seq")] + base)
    check(rc == 0, "sequential: %s" % err)
    ref = table(read_runs(h5)[0][2])
    n = 0
    for np_ in (1, 2, 3, 4):
        for eng in ("sequential", "threading", "async"):
            out = os.path.join(work, "mpi-%d-%s" % (np_, eng))
            rc, _, err = mpi_cfp(np_, ["--mode", "mpi", "--rank-engine", eng, "--workers", "2",
                                       "--output-dir", out] + base)
            check(rc == 0, "np %d %s: exit %d\n%s" % (np_, eng, rc, err))
            n += 1
            rid, attrs, rows = read_runs(h5)[n]
            check(attrs["mode"] == "mpi" and attrs["engine"] == eng and attrs["ranks"] == np_,
                  "%s attrs: mode %s engine %s ranks %s" % (rid, attrs["mode"], attrs["engine"], attrs["ranks"]))
            idx = sorted(r["index"] for r in rows)
            check(idx == sorted(ref), "np %d %s: each task exactly once (%d rows)" % (np_, eng, len(rows)))
            check(table(rows) == ref, "np %d %s: records differ from sequential" % (np_, eng))
            for r in rows:
                check(sha256_file(r["output"]) == r["digest"], "np %d %s: digest" % (np_, eng))
                check(0 <= r["rank"] < np_, "rank field %d" % r["rank"])
            per_rank = ranks_of(h5, rid)
            check(sorted(per_rank) == list(range(np_)), "per-rank rows for every rank")
            check(sum(t for t, _ in per_rank.values()) == len(ref), "per-rank task counts add up")
            check(all(r["rank"] in per_rank and per_rank[r["rank"]][0] > 0 for r in rows),
                  "every rank that recorded a task is counted")
            # Started by a user's mpirun: from the first rank's process start.
            check(0 < attrs["mpi_startup_s"] < 60, "np %d %s: mpi_startup_s %r" % (np_, eng, attrs["mpi_startup_s"]))
    print("matrix: np 1..4 x 3 rank engines identical to sequential")


def check_badinput(work):
    """The bad-input suite's list through mpirun -np 3: same statuses as sequential."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import e2e_badinput as b
    from e2e_common import cfp_serve, fault_server
    files = os.path.join(work, "bad")
    os.makedirs(files)
    b.make_files(files)
    srv, http = cfp_serve(files)
    fsrv, fault = fault_server()
    try:
        expected = b.cases(http, fault, files)
        h5 = os.path.join(work, "bad.h5")
        for i, (mode, launch) in enumerate((("sequential", None), ("mpi", 3))):
            lst = os.path.join(work, "bad-%s.txt" % mode)
            with open(lst, "w") as f:
                for url, *_ in expected:
                    f.write(url.replace("/flaky/2/", "/flaky/2/%s-" % mode) + "\n")
            args = ["--mode", mode, "--input", lst, "--results", h5, "--max-bytes", "100000",
                    "--retries", "2", "--timeout", "10", "--quiet", "--output-dir", os.path.join(work, "bo-" + mode)]
            rc, _, err = mpi_cfp(launch, args) if launch else run_cfp(args)
            check(rc == 1, "%s: exit %d (expected 1)\n%s" % (mode, rc, err))
        runs = read_runs(h5)
        a = {r["index"]: (r["status"], r["error_code"], r["digest"]) for r in runs[0][2]}
        m = {r["index"]: (r["status"], r["error_code"], r["digest"]) for r in runs[1][2]}
        # Keyed by index, a duplicated row would collapse: count the rows too.
        check(len(runs[0][2]) == len(a) and len(runs[1][2]) == len(m),
              "bad input: a task recorded twice: sequential %d rows for %d tasks, mpi %d rows for %d"
              % (len(runs[0][2]), len(a), len(runs[1][2]), len(m)))
        check(a == m, "mpi bad-input records differ from sequential:\n%r\n%r" % (a, m))
        check(len({r["rank"] for r in runs[1][2]}) > 1, "bad-input tasks spread over ranks")
    finally:
        srv.stop()
        fsrv.stop()
    print("bad input under mpirun -np 3: same records as sequential")


def check_imbalance(work):
    from PIL import Image
    d = os.path.join(work, "imb")
    os.makedirs(d)
    big = Image.effect_noise((4000, 3000), 64).convert("RGB")
    big.save(os.path.join(d, "a_big.png"), compress_level=1)
    for i in range(60):
        open(os.path.join(d, "s%02d.txt" % i), "w").write("small file %d\n" % i)
    names = sorted(os.listdir(d))
    lst = os.path.join(work, "imb.txt")
    srv_root = d
    from e2e_common import cfp_serve
    srv, base = cfp_serve(srv_root, 20)
    try:
        open(lst, "w").write("".join(base + n + "\n" for n in names))
        h5 = os.path.join(work, "imb.h5")
        rc, _, err = mpi_cfp(3, ["--mode", "mpi", "--input", lst, "--results", h5, "--quiet",
                                 "--output-dir", os.path.join(work, "imb-out")])
        check(rc == 0, "imbalance run: %s" % err)
    finally:
        srv.stop()
    rid, attrs, rows = read_runs(h5)[0]
    big_rank = [r["rank"] for r in rows if r["url"].endswith("a_big.png")][0]
    per = ranks_of(h5, rid)
    others = [per[k][0] for k in per if k != big_rank]
    print("imbalance: tasks per rank %r, big image on rank %d" % ({k: v[0] for k, v in per.items()}, big_rank))
    check(per[big_rank][0] < min(others),
          "the rank with the huge image should take fewer small files than each other rank: %r" % per)
    busy = [b for _, b in per.values()]
    print("imbalance: busy max/mean = %.2f" % (max(busy) / (sum(busy) / len(busy))))


def check_multiprocessing(work):
    ds = os.path.join(work, "ds")
    h5 = os.path.join(work, "mp.h5")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_COMM_WORLD", "PMIX_"))}
    rc, _, err = run_cfp(["--mode", "multiprocessing", "--ranks", "2", "--dataset-dir", ds, "--latency-ms", "5",
                          "--results", h5, "--quiet", "--output-dir", os.path.join(work, "mp")], env=env)
    check(rc == 0, "multiprocessing from a plain shell: exit %d %s" % (rc, err))
    rid, attrs, rows = read_runs(h5)[0]
    check(attrs["ranks"] == 2 and len(rows) == 12 and len({r["index"] for r in rows}) == 12,
          "multiprocessing ran 2 ranks over 12 tasks, each once: ranks %r, %d rows" % (attrs["ranks"], len(rows)))
    # The start-up (mpirun to the last MPI_Init) is recorded, said at -v and
    # in the report's insights, and fits in the time measured from outside.
    t0 = time.monotonic()
    rc, _, err = run_cfp(["--mode", "multiprocessing", "--ranks", "2", "--dataset-dir", ds, "--latency-ms", "5",
                          "--results", h5, "--quiet", "-vv", "--output-dir", os.path.join(work, "mp2")], env=env)
    outside = time.monotonic() - t0
    check(rc == 0, "multiprocessing -vv: exit %d %s" % (rc, err))
    su = read_runs(h5)[1][1]["mpi_startup_s"]
    m = re.search(r"MPI start-up: ([0-9.]+) s from starting mpirun to the last rank's return from MPI_Init", err)
    check(m and abs(float(m.group(1)) - su) < 0.002, "start-up logged and recorded: %r, %r" % (m and m.group(0), su))
    check(0 < su < outside, "mpi_startup_s %.3f s within the %.3f s measured from outside" % (su, outside))
    # The cuts of mpi/cfp_mpi_startup.c are in place: each rank found its
    # PMIx connection, and cfp's PML default was set (a user's is kept).
    check(err.count("PMIx server connection: TCP_NODELAY set on 1 socket") == 2,
          "each rank set TCP_NODELAY on its PMIx connection:\n" + err[-2000:])
    rc, _, err = run_cfp(["--mode", "multiprocessing", "--ranks", "2", "--dataset-dir", ds, "--latency-ms", "5",
                          "--results", h5, "--quiet", "-vv", "--output-dir", os.path.join(work, "mp3")],
                         env=dict(env, OMPI_MCA_pml="^ucx"))
    check(rc == 0 and err.count("Open MPI PML: OMPI_MCA_pml=^ucx kept") == 2,
          "a user's OMPI_MCA_pml is kept: exit %d\n%s" % (rc, err[-2000:]))
    rep = os.path.join(work, "mp.txt")
    rc, _, err = run_cfp(["report", h5, "-o", rep])
    text = open(rep).read() if rc == 0 else ""
    check("- MPI start-up: mpi started 2 ranks" in text and "s of the" in text,
          "the report says the start-up: exit %d %s\n%s" % (rc, err, text))
    print("multiprocessing from a plain shell: ok; MPI start-up %.3f s of %.3f s from outside" % (su, outside))


def find_rank_pid(rank):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
            cmd = open("/proc/%s/cmdline" % pid, "rb").read()
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK=%d" % rank in env and b"silent-test" in cmd:
            return int(pid)
    return None


def check_silent_rank(work):
    stop_rank(work, signal.SIGSTOP, "silent")


def check_killed_rank(work):
    stop_rank(work, signal.SIGKILL, "killed")


def stop_rank(work, sig, name):
    """SIGSTOP: rank 0 notices the silence (no heartbeat for --rank-timeout)
    and ends the run. SIGKILL: mpirun notices the death and ends the job,
    sending SIGTERM to rank 0, which closes the results file first."""
    d = os.path.join(work, "slow")
    os.makedirs(d, exist_ok=True)
    for i in range(300):
        open(os.path.join(d, "f%03d.txt" % i), "w").write("x %d\n" % i)
    from e2e_common import cfp_serve
    srv, base = cfp_serve(d, 100)
    h5 = os.path.join(work, name + ".h5")
    lst = os.path.join(work, "slow.txt")
    open(lst, "w").write("".join(base + n + "\n" for n in sorted(os.listdir(d))))
    p = pid = None
    try:
        p = start_mpirun(["-np", "3", CFP, "--mode", "mpi", "--input", lst, "--results", h5,
                          "--rank-timeout", "3", "--quiet", "--label", "silent-test",
                          "--output-dir", os.path.join(work, name)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # However long start-up takes (ASan on a busy machine); 120 s
        # guards against a hang.
        def rank2():
            if p.poll() is not None:
                check(False, "mpirun ended (exit %d) before rank 2 could be found" % p.returncode)
            return find_rank_pid(2)
        pid = wait_for(rank2, 120, "rank 2 process found", poll=0.1)
        # Mid-run, not during start-up or teardown: once outputs appear,
        # every rank is past MPI_Init and the start-up gather (a rank
        # stopped inside a collective stalls everyone, a case
        # --rank-timeout does not cover: README), and with 300 tasks of
        # 100 ms the run has seconds to go. Under ASan on a loaded machine
        # start-up took longer than the 1 s the test used to sleep, and the
        # results file cannot be polled (rank 0 holds its lock).
        outdir = os.path.join(work, name)
        t_wait = time.time()
        while time.time() - t_wait < 120 and p.poll() is None:
            done = [n for n in os.listdir(outdir) if not n.startswith(".")] if os.path.isdir(outdir) else []
            if len(done) >= 20:
                break
            time.sleep(0.05)
        check(p.poll() is None, "the run ended before rank 2 could be stopped")
        os.kill(pid, sig)
        t0 = time.time()
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            check(False, "mpirun hung after rank 2 went silent")
        took = time.time() - t0
    finally:  # also when a check failed
        if p is not None:
            end_mpirun(p)
        srv.stop()
    check(p.returncode != 0, "a %s rank makes the run fail" % name)
    if sig == signal.SIGSTOP:
        check(re.search(r"rank 2 on host \S+ sent nothing", err), "clear error about rank 2: %r" % err[-500:])
    else:
        check("rank 2" in err and "signal 9" in err, "mpirun names the killed rank: %r" % err[-500:])
    rid, attrs, rows = read_runs(h5)[0]
    idx = [r["index"] for r in rows]
    check(attrs["complete"] == 0, "run marked incomplete")
    check(len(rows) > 0 and len(idx) == len(set(idx)), "finished records saved, none twice (%d)" % len(rows))
    print("%s rank: ended after %.1f s with %d of 300 records saved" % (name, took, len(rows)))


def check_compare_matrix(work):
    h5 = os.path.join(work, "matrix.h5")
    rep = os.path.join(work, "matrix.txt")
    rc, _, err = mpi_cfp(2, ["--compare", "--generate-dataset", "--workload", "io", "--latency-ms", "5",
                             "--workloads-dir", os.path.join(work, "wl"), "--results", h5, "--report", rep,
                             "--quiet"], timeout=600)
    check(rc == 0, "mpirun -np 2 cfp --compare: exit %d\n%s" % (rc, err))
    runs = read_runs(h5)
    got = sorted((a["mode"], a["ranks"], a["engine"]) for _, a, _ in runs)
    want = sorted([("sequential", 1, "sequential"), ("threading", 1, "threading"), ("async", 1, "async")] +
                  [("mpi", k, e) for k in (1, 2) for e in ("sequential", "threading", "async")])
    check(got == want, "compare matrix runs: %r" % got)
    # One launch for the whole matrix: no run has a start-up of its own.
    check(all(a["mpi_startup_s"] == 0 for _, a, _ in runs), "matrix runs record no start-up")
    text = open(rep).read()
    check("MPI runs (newest per ranks x rank engine" in text and "identical across the 4 modes" in text,
          "report shows the matrix and identical outputs:\n" + text)
    print("compare under mpirun -np 2: 3 local modes + 2 ranks x 3 engines, identical")


def main():
    if shutil.which("mpirun") is None:
        skip_part("whole test", "mpirun not installed")
        sys.exit(77)
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    work = tmpdir("cfp-mpi-")
    only = sys.argv[1:]  # e.g. `e2e_mpi.py silent_rank` while debugging
    try:
        for name in ("matrix", "multiprocessing", "badinput", "imbalance", "compare_matrix", "silent_rank",
                     "killed_rank"):
            if only and name not in only:
                continue
            if name == "multiprocessing" and only and "matrix" not in only:
                check_matrix(work)  # it needs the matrix's dataset
            globals()["check_" + name](work)
    finally:  # also after a failed check (sys.exit) or an exception
        shutil.rmtree(work, ignore_errors=True)
    print("mpi ok")


if __name__ == "__main__":
    main()
