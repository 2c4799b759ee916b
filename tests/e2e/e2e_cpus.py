#!/usr/bin/env python3
"""cfp uses the CPUs it was given (issue #16), not the machine's cores.

1. `taskset -c 0 cfp --mode threading -v`: the 1-CPU defaults (8 workers,
   8 transfers, 1 cpu slot) in the engine's log line, the count and its
   source logged once ("1 CPU available (affinity), N online"), the run
   attributes cpus = 1 and cpus_source = "affinity", and the report's
   "1 CPU available (affinity), N online". Async under taskset: 2 CPU
   workers. Without taskset: this process's CPUs (2 on the test VM), the
   matching defaults.
2. A real cgroup: a fresh child of the v1 cpu controller with a quota of
   one CPU (cfs_quota_us = cfs_period_us = 100000); cfp started inside it
   (a shell writes its pid to cgroup.procs, then execs cfp) gets the 1-CPU
   defaults and cpus_source = "cgroup". The cgroup is removed afterwards,
   also on failure. Skipped when the controller is not writable.
3. MPI (outside the sanitizer builds' limits: run with the LSan
   suppressions of e2e_mpi): `mpirun -np 2 --bind-to none` (both ranks
   given the same CPUs) divides them: each rank logs "1 CPU for this rank
   ... shared by 2 ranks" and runs 8 threading workers; `--bind-to core`
   (disjoint masks) is not divided again ("shared by 1 rank"); the run
   records cpus = 2 (the sum of the shares); --workers given by the user
   still wins; `taskset -c 0 cfp --mode multiprocessing` starts 1 rank.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import CFP, check, mpi_available, read_runs, run_cfp, skip_part, tmpdir  # noqa: E402

MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root"]
AFFINITY = len(os.sched_getaffinity(0))
ONLINE = os.cpu_count()


def defaults(c):
    """(workers, transfers, cpu slots) of the threading engine for c CPUs."""
    w = min(8 * c, 64)
    return w, w, c


def engine_line(err):
    m = re.search(r"threading: (\d+) workers, (\d+) transfers, (\d+) cpu slots", err)
    check(m is not None, "no threading log line in:\n" + err)
    return tuple(int(x) for x in m.groups())


def count_line(err):
    """(count, source, online) of the "N CPUs available (S), M online" lines;
    fails unless there is exactly one."""
    found = re.findall(r"info: (\d+) CPUs? available \((\w+)\), (\d+) online", err)
    check(len(found) == 1, "want one 'CPUs available' line, got %d:\n%s" % (len(found), err))
    return int(found[0][0]), found[0][1], int(found[0][2])


def last_attrs(h5):
    runs = read_runs(h5)
    check(runs, "%s: no run" % h5)
    return runs[-1][1]


def run_threading(work, name, prefix=(), mode="threading", extra=()):
    h5 = os.path.join(work, name + ".h5")
    rep = os.path.join(work, name + ".txt")
    argv = list(prefix) + [CFP, "-d", os.path.join(work, "ds"), "-m", mode, "-q", "-v",
                           "-o", os.path.join(work, "out-" + name), "-r", h5, "--report", rep] + list(extra)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "%s: exit %d\n%s" % (" ".join(argv), p.returncode, p.stderr))
    return p.stderr, last_attrs(h5), open(rep).read()


def test_taskset(work):
    if not shutil.which("taskset"):
        skip_part("taskset", "taskset not found")
        return
    err, attrs, rep = run_threading(work, "taskset", ["taskset", "-c", "0"])
    check(engine_line(err) == defaults(1), "taskset -c 0: %r, want %r" % (engine_line(err), defaults(1)))
    check(count_line(err) == (1, "affinity", ONLINE), "taskset -c 0: %r" % (count_line(err),))
    check(attrs["cpus"] == 1 and attrs["cpus_source"] == "affinity" and attrs["workers"] == 8,
          "taskset -c 0: run attributes cpus=%r cpus_source=%r workers=%r"
          % (attrs.get("cpus"), attrs.get("cpus_source"), attrs.get("workers")))
    want = "1 CPU available (affinity), %d online" % ONLINE
    check(want in rep, "report lacks %r:\n%s" % (want, rep[:600]))
    print("taskset -c 0: 8 workers, 8 transfers, 1 cpu slot; cpus=1 (affinity); report says so")

    err, attrs, _ = run_threading(work, "taskset-async", ["taskset", "-c", "0"], mode="async")
    check("async: 64 transfers in flight, 2 CPU workers" in err, "taskset async:\n" + err)
    check(attrs["cpus"] == 1 and attrs["workers"] == 2, "taskset async: attrs %r" % attrs)
    print("taskset -c 0 async: 2 CPU workers (c + 1)")


def test_plain(work):
    err, attrs, _ = run_threading(work, "plain")
    n, src, online = count_line(err)
    check(online == ONLINE, "online %d, os.cpu_count() %d" % (online, ONLINE))
    if src != "cgroup":  # this test itself may run under a quota
        check(n == AFFINITY, "%d CPUs (%s), this process has %d" % (n, src, AFFINITY))
    check(engine_line(err) == defaults(n), "plain: %r for %d CPUs" % (engine_line(err), n))
    check(attrs["cpus"] == n and attrs["cpus_source"] == src, "plain: attrs %r" % attrs)
    print("no taskset: %d CPUs (%s): %d workers, %d cpu slots" % (n, src, defaults(n)[0], n))


def cpu_controller():
    """The v1 cpu controller's mount, or None."""
    for d in ("/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"):
        if os.path.exists(os.path.join(d, "cpu.cfs_quota_us")):
            return d
    return None


def test_cgroup(work):
    ctl = cpu_controller()
    if not ctl:
        skip_part("cgroup", "no cgroup v1 cpu controller under /sys/fs/cgroup")
        return
    cg = os.path.join(ctl, "cfp-e2e-cpus-%d" % os.getpid())
    try:
        os.mkdir(cg)
    except OSError as e:
        skip_part("cgroup", "cannot create %s: %s" % (cg, e))
        return
    try:
        try:
            with open(os.path.join(cg, "cpu.cfs_period_us"), "w") as f:
                f.write("100000")
            with open(os.path.join(cg, "cpu.cfs_quota_us"), "w") as f:
                f.write("100000")
        except OSError as e:
            skip_part("cgroup", "cannot set the quota of %s: %s" % (cg, e))
            return
        # The shell moves itself into the cgroup, then becomes cfp.
        wrap = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg]
        err, attrs, rep = run_threading(work, "cgroup", wrap)
        src = "cgroup" if AFFINITY > 1 else "affinity"
        check(count_line(err) == (1, src, ONLINE), "in %s: %r" % (cg, count_line(err)))
        check(engine_line(err) == defaults(1), "in %s: %r" % (cg, engine_line(err)))
        check(attrs["cpus"] == 1 and attrs["cpus_source"] == src, "cgroup: attrs %r" % attrs)
        check("1 CPU available (%s)" % src in rep, "cgroup: report:\n" + rep[:600])
        print("cgroup %s with cfs_quota_us 100000 / 100000: 1 CPU (%s), 8 workers, 1 cpu slot"
              % (cg, src))
    finally:
        try:
            os.rmdir(cg)
        except OSError as e:
            print("cannot remove %s: %s" % (cg, e), file=sys.stderr)
            raise


def mpi_run(work, name, binding, extra=()):
    h5 = os.path.join(work, name + ".h5")
    argv = MPIRUN + ["--bind-to", binding, "-np", "2", CFP, "-d", os.path.join(work, "ds"), "-m", "mpi",
                     "--rank-engine", "threading", "-q", "-v", "--no-report",
                     "-o", os.path.join(work, "out-" + name), "-r", h5] + list(extra)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300, start_new_session=True)
    check(p.returncode == 0, "%s: exit %d\n%s" % (" ".join(argv), p.returncode, p.stderr))
    shares = re.findall(r"rank (\d)\] info: (\d+) CPUs? for this rank: (\d+) available \((\w+)\), "
                        r"\d+ online, shared by (\d+) ranks?", p.stderr)
    check(len(shares) == 2, "%s: want one share line per rank:\n%s" % (name, p.stderr))
    lines = re.findall(r"rank \d\] info: threading: (\d+) workers, (\d+) transfers, (\d+) cpu slots",
                       p.stderr)
    check(len(lines) == 2, "%s: want one engine line per rank:\n%s" % (name, p.stderr))
    return shares, [tuple(int(x) for x in t) for t in lines], last_attrs(h5)


def test_mpi(work):
    if AFFINITY != 2:
        skip_part("mpirun parts", "written for a process with 2 CPUs (this one has %d)" % AFFINITY)
        return
    # Both ranks on the same 2 CPUs: 1 each.
    shares, lines, attrs = mpi_run(work, "mpi-none", "none")
    for rank, share, avail, src, sharing in shares:
        check((share, avail, sharing) == ("1", "2", "2"), "bind-to none: rank %s: %s of %s, shared by %s"
              % (rank, share, avail, sharing))
    check(lines == [defaults(1)] * 2, "bind-to none: %r" % lines)
    check(attrs["cpus"] == 2 and attrs["workers"] == 8 and attrs["ranks"] == 2,
          "bind-to none: attrs %r" % attrs)
    print("mpirun -np 2 --bind-to none: each rank 1 CPU of 2 shared by 2 ranks, 8 workers; cpus=2")
    # One core each: already their own, not divided again.
    shares, lines, attrs = mpi_run(work, "mpi-core", "core")
    for rank, share, avail, src, sharing in shares:
        check((share, avail, src, sharing) == ("1", "1", "affinity", "1"),
              "bind-to core: rank %s: %s of %s (%s), shared by %s" % (rank, share, avail, src, sharing))
    check(lines == [defaults(1)] * 2 and attrs["cpus"] == 2, "bind-to core: %r %r" % (lines, attrs))
    print("mpirun -np 2 --bind-to core: each rank 1 CPU of its own (affinity), not divided again")
    # What the user gives wins over the share.
    _, lines, attrs = mpi_run(work, "mpi-workers", "none", ["--workers", "5"])
    check(lines == [(5, 5, 1)] * 2 and attrs["workers"] == 5, "--workers 5: %r" % lines)
    print("mpirun --workers 5: 5 workers, 5 transfers, 1 cpu slot per rank")


def test_multiprocessing(work):
    if not shutil.which("taskset"):
        return
    h5 = os.path.join(work, "mp.h5")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(["taskset", "-c", "0", CFP, "-d", os.path.join(work, "ds"), "-m", "multiprocessing",
                        "-q", "--no-report", "-o", os.path.join(work, "out-mp"), "-r", h5],
                       capture_output=True, text=True, timeout=300, env=env, start_new_session=True)
    check(p.returncode == 0, "taskset multiprocessing: exit %d\n%s" % (p.returncode, p.stderr))
    attrs = last_attrs(h5)
    check(attrs["ranks"] == 1 and attrs["cpus"] == 1, "taskset multiprocessing: attrs %r" % attrs)
    print("taskset -c 0 cfp --mode multiprocessing: 1 rank (default --ranks = CPUs available)")


def main():
    work = tmpdir("cfp-e2e-cpus-")
    try:
        rc, _, err = run_cfp(["-g", "-d", os.path.join(work, "ds"), "-q", "--num-images", "3",
                              "--num-texts", "4", "--num-csv", "2"])
        check(rc == 0, "generate: " + err)
        test_taskset(work)
        test_plain(work)
        test_cgroup(work)
        if mpi_available(sanitizer_ok=True):
            test_mpi(work)
            test_multiprocessing(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
