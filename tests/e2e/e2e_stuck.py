"""e2e_stuck: no task can hold a run hostage (issue #14).

- file:// reads only regular files: a FIFO, a directory, a socket, a
  character device (/dev/zero, /dev/urandom, /dev/null) and a symlink to a
  FIFO each fail that one task at once with "not a regular file (KIND)"; a
  symlink to a regular file is read; a regular file over --max-bytes fails
  before a byte is read (a 5 GiB sparse file, --max-bytes 1M). Every engine,
  and under mpirun -np 3.
- A task made to block in the kernel on purpose (CFP_TEST_HANG_OPEN: cfp
  opens that FIFO blocking, as a hung mount would block) is given up at
  --task-timeout plus the watchdog's margin: a TIMEOUT record naming the
  stage, every other task ok, exit 1, the summary counts it. Every engine,
  and on a worker rank under mpirun -np 3.
- A stop (SIGTERM; SIGUSR1 to mpirun) while a task is stuck ends the run
  within --grace + 5 s with exit 5: the finished tasks' records are written,
  the stuck task has none, the summary counts it, and --resume then does it.

Waiting is on events: the test looks in /proc for cfp's thread blocked in
the FIFO's open (wchan), not at the clock. The one wall-clock assertion is
the issue's bound for a stop (--grace + 5 s, with --grace 1 and a margin of
2 s inside cfp).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (CFP, check, kill_session, mpi_available, read_runs, run_cfp,  # noqa: E402
                        tmpdir, wait_for)

MODES = ["sequential", "threading", "async"]
MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root"]
GRACE = 1.0
STOP_BOUND = GRACE + 5.0  # the bound for a stop with a stuck task


def write_list(path, urls):
    with open(path, "w") as f:
        f.write("".join(u + "\n" for u in urls))


def rows_by_index(h5, n):
    """The rows of the newest run, keyed by index; every index at most once
    and the row count equal to the number of distinct indices."""
    runs = read_runs(h5)
    check(runs, "%s: no run recorded" % h5)
    rows = runs[-1][2]
    idx = [int(r["index"]) for r in rows]
    check(len(idx) == len(set(idx)), "%s: an index recorded twice: %s" % (h5, sorted(idx)))
    check(all(0 <= i < n for i in idx), "%s: index out of range: %s" % (h5, idx))
    return {int(r["index"]): r for r in rows}


def mpi_run(args, timeout=300, env=None):
    """cfp under mpirun -np 3 (env passed on to the ranks with -x)."""
    xs = [a for k in (env or {}) if k.startswith("CFP_TEST_") for a in ("-x", k)]
    p = subprocess.Popen(MPIRUN + xs + ["-np", "3", CFP] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True, env=env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = "", "timed out"
    finally:
        kill_session(p.pid)
        if p.returncode is None:
            p.communicate()
    return p.returncode, out, err


# ---- 1. what a file:// URL may name ---------------------------------------

def nonregular_cases(d):
    """(url, expected code, expected message part) for each case."""
    with open(os.path.join(d, "a.txt"), "w") as f:
        f.write("one two three\nfour\n")
    os.mkfifo(os.path.join(d, "fifo.txt"))
    os.mkdir(os.path.join(d, "dir.txt"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.path.join(d, "sock.txt"))
    os.symlink(os.path.join(d, "a.txt"), os.path.join(d, "link.txt"))
    os.symlink(os.path.join(d, "fifo.txt"), os.path.join(d, "linkfifo.txt"))
    with open(os.path.join(d, "big.txt"), "wb") as f:
        f.truncate(5 << 30)  # sparse: no disk used, 5 GiB by fstat
    u = "file://" + d + "/"
    cases = [
        (u + "a.txt", "OK", ""),
        (u + "fifo.txt", "NOT_FILE", "not a regular file (FIFO)"),
        (u + "dir.txt", "NOT_FILE", "not a regular file (directory)"),
        ("file:///dev/zero", "NOT_FILE", "not a regular file (character device)"),
        ("file:///dev/urandom", "NOT_FILE", "not a regular file (character device)"),
        ("file:///dev/null", "NOT_FILE", "not a regular file (character device)"),
        (u + "sock.txt", "NOT_FILE", "not a regular file (socket)"),
        (u + "link.txt", "OK", ""),
        (u + "linkfifo.txt", "NOT_FILE", "not a regular file (FIFO)"),
        (u + "big.txt", "TOO_BIG", "body over --max-bytes 1048576 (file is 5368709120 bytes)"),
        (u + "missing.txt", "IO", "No such file or directory"),
        ("file://otherhost" + d + "/a.txt", "URL", "malformed URL"),
        (u + "a%00.txt", "URL", "malformed URL"),  # %00 would cut the path short
        (u + "a.txt", "OK", ""),
    ]
    return sock, cases


def check_cases(h5, cases, what):
    rows = rows_by_index(h5, len(cases))
    check(len(rows) == len(cases), "%s: %d rows for %d tasks" % (what, len(rows), len(cases)))
    for i, (url, code, msg) in enumerate(cases):
        r = rows[i]
        check(r["error_code"] == code, "%s: task %d (%s): code %s, want %s (%s)"
              % (what, i, url, r["error_code"], code, r["error"]))
        check(msg in r["error"], "%s: task %d: message %r lacks %r" % (what, i, r["error"], msg))
        if code != "OK":
            check(r["output"] == "", "%s: task %d failed but has output %s" % (what, i, r["output"]))


def test_nonregular(work, mpi):
    d = os.path.join(work, "nonreg")
    os.mkdir(d)
    sock, cases = nonregular_cases(d)
    lst = os.path.join(work, "nonreg.txt")
    write_list(lst, [c[0] for c in cases])
    try:
        for mode in MODES:
            h5 = os.path.join(work, "nonreg-%s.h5" % mode)
            rc, _, err = run_cfp(["-i", lst, "-m", mode, "-r", h5, "-o", os.path.join(work, "o-" + mode),
                                  "--max-bytes", "1M", "--task-timeout", "30", "-q"], timeout=300)
            check(rc == 1, "%s: exit %d (want 1: some failed)\n%s" % (mode, rc, err[-2000:]))
            check_cases(h5, cases, mode)
            print("nonregular %s: %d cases as expected" % (mode, len(cases)))
        if mpi:
            h5 = os.path.join(work, "nonreg-mpi.h5")
            rc, _, err = mpi_run(["--mode", "mpi", "-i", lst, "-r", h5, "-o", os.path.join(work, "o-mpi"),
                                  "--max-bytes", "1M", "-q"])
            check(rc == 1, "mpirun -np 3: exit %d (want 1)\n%s" % (rc, err[-2000:]))
            check_cases(h5, cases, "mpi")
            print("nonregular mpi (-np 3): %d cases as expected" % len(cases))
    finally:
        sock.close()


# ---- 2. a task stuck in the kernel, past --task-timeout --------------------

def hang_setup(work, name, before, after):
    """A directory with text files and a FIFO `hang.txt`; the list puts
    `before` text files, the FIFO, then `after` text files. Returns (list,
    fifo path, index of the FIFO's line, n)."""
    d = os.path.join(work, name)
    os.mkdir(d)
    urls = []
    for i in range(before + after):
        with open(os.path.join(d, "t%02d.txt" % i), "w") as f:
            f.write("word %d\n" % i)
    fifo = os.path.join(d, "hang.txt")
    os.mkfifo(fifo)
    urls = ["file://%s/t%02d.txt" % (d, i) for i in range(before)]
    urls.append("file://" + fifo)
    urls += ["file://%s/t%02d.txt" % (d, i) for i in range(before, before + after)]
    lst = os.path.join(work, name + ".txt")
    write_list(lst, urls)
    return lst, fifo, before, len(urls)


def hang_env(fifo):
    env = dict(os.environ)
    env["CFP_TEST_HANG_OPEN"] = fifo
    return env


def check_timeout_run(h5, hang, n, rc, err, what):
    check(rc == 1, "%s: exit %d (want 1)\n%s" % (what, rc, err[-2000:]))
    rows = rows_by_index(h5, n)
    check(len(rows) == n, "%s: %d rows for %d tasks" % (what, len(rows), n))
    r = rows[hang]
    check(r["error_code"] == "TIMEOUT", "%s: stuck task: %s %s" % (what, r["error_code"], r["error"]))
    check("over --task-timeout 2 s: still opening the file" in r["error"]
          and "its thread was abandoned" in r["error"], "%s: stuck task message: %r" % (what, r["error"]))
    bad = [(i, x["error"]) for i, x in rows.items() if i != hang and x["status"] != "ok"]
    check(not bad, "%s: other tasks failed: %s" % (what, bad))
    check("1 stuck in a system call" in err, "%s: the summary does not count the stuck task:\n%s"
          % (what, err[-1500:]))


def test_stuck_timeout(work, mpi):
    lst, fifo, hang, n = hang_setup(work, "tmo", 3, 6)
    for mode in MODES:
        h5 = os.path.join(work, "tmo-%s.h5" % mode)
        rc, _, err = run_cfp(["-i", lst, "-m", mode, "-r", h5, "-o", os.path.join(work, "to-" + mode),
                              "--task-timeout", "2"], timeout=300, env=hang_env(fifo))
        check_timeout_run(h5, hang, n, rc, err, mode)
        print("stuck past --task-timeout, %s: TIMEOUT record, %d others ok" % (mode, n - 1))
    if mpi:
        h5 = os.path.join(work, "tmo-mpi.h5")
        # --no-rank0-work: the stuck task is a worker rank's, whose record
        # reaches rank 0 from the watchdog.
        rc, _, err = mpi_run(["--mode", "mpi", "--no-rank0-work", "-i", lst, "-r", h5,
                              "-o", os.path.join(work, "to-mpi"), "--task-timeout", "2"],
                             env=hang_env(fifo))
        check_timeout_run(h5, hang, n, rc, err, "mpi")
        print("stuck past --task-timeout, mpirun -np 3: TIMEOUT record, %d others ok" % (n - 1))


# ---- 3. a stop while a task is stuck --------------------------------------

def blocked_in_fifo_open(pids):
    """True when a thread of one of pids sleeps in a FIFO's open, waiting for
    a writer (the kernel's wait_for_partner)."""
    for pid in pids:
        try:
            tasks = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for t in tasks:
            try:
                with open("/proc/%d/task/%s/wchan" % (pid, t)) as f:
                    if f.read().strip() in ("wait_for_partner", "fifo_open"):
                        return True
            except OSError:
                continue
    return False


def cfp_pids(marker):
    """The cfp processes whose command line holds marker (mpirun's ranks)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and os.path.basename(cmd[0]) == b"cfp" and marker.encode() in cmd:
            out.append(int(pid))
    return out


def stop_while_stuck(argv, env, pids_of, sig, what):
    """Starts argv, waits until a task is blocked in the FIFO, sends sig,
    and returns (exit status, stderr, seconds from the signal to the end)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, start_new_session=True)
    try:
        wait_for(lambda: p.poll() is not None or blocked_in_fifo_open(pids_of(p)), 120,
                 "%s: a thread blocked in the FIFO's open" % what)
        check(p.poll() is None, "%s: ended before it could be stopped" % what)
        os.kill(p.pid, sig)
        t0 = time.monotonic()
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            check(False, "%s: still running 120 s after the stop" % what)
        return p.returncode, err, time.monotonic() - t0
    finally:
        kill_session(p.pid)
        if p.returncode is None:
            p.communicate()


def check_stopped(h5, hang, n, rc, err, took, what):
    check(rc == 5, "%s: exit %d after the stop (want 5)\n%s" % (what, rc, err[-2000:]))
    check(took < STOP_BOUND, "%s: the stop took %.1f s, over --grace %g + 5 s" % (what, took, GRACE))
    check("1 stuck in a system call" in err, "%s: the summary does not count the stuck task:\n%s"
          % (what, err[-1500:]))
    rows = rows_by_index(h5, n)
    check(hang not in rows, "%s: the stuck task has a record: %s" % (what, rows.get(hang)))
    bad = [(i, x["error"]) for i, x in rows.items() if x["status"] != "ok"]
    check(not bad, "%s: failed records: %s" % (what, bad))
    return rows


def resume_after(argv_resume, fifo, h5, n, what, runner):
    """The FIFO becomes a regular file; --resume does what the stop left."""
    os.unlink(fifo)
    with open(fifo, "w") as f:
        f.write("no longer stuck\n")
    rc, _, err = runner(argv_resume)
    check(rc == 0, "%s: --resume exit %d\n%s" % (what, rc, err[-2000:]))
    done = {}
    for _, _, rows in read_runs(h5):
        for r in rows:
            if r["status"] == "ok":
                done[int(r["index"])] = done.get(int(r["index"]), 0) + 1
    check(sorted(done) == list(range(n)), "%s: after --resume, ok: %s" % (what, sorted(done)))
    check(all(c == 1 for c in done.values()), "%s: a task done twice: %s" % (what, done))


def test_stop_while_stuck(work, mpi):
    for mode in MODES:
        lst, fifo, hang, n = hang_setup(work, "stop-" + mode, 0, 5)
        h5 = os.path.join(work, "stop-%s.h5" % mode)
        args = ["-i", lst, "-m", mode, "-r", h5, "-o", os.path.join(work, "so-" + mode)]
        rc, err, took = stop_while_stuck([CFP] + args + ["--grace", str(GRACE)], hang_env(fifo),
                                         lambda p: [p.pid], signal.SIGTERM, mode)
        rows = check_stopped(h5, hang, n, rc, err, took, mode)
        print("stop with a stuck task, %s: exit 5 %.1f s after SIGTERM (--grace %g), %d records, "
              "none for the stuck task" % (mode, took, GRACE, len(rows)))
        resume_after(args + ["--resume"], fifo, h5, n, mode,
                     lambda a: run_cfp(a, timeout=300))
    if mpi:
        lst, fifo, hang, n = hang_setup(work, "stop-mpi", 0, 5)
        h5 = os.path.join(work, "stop-mpi.h5")
        args = ["--mode", "mpi", "--no-rank0-work", "-i", lst, "-r", h5, "-o", os.path.join(work, "so-mpi")]
        argv = MPIRUN + ["-x", "CFP_TEST_HANG_OPEN", "-np", "3", CFP] + args + ["--grace", str(GRACE)]
        # SIGUSR1: mpirun forwards it to every rank (SIGTERM ends the job).
        rc, err, took = stop_while_stuck(argv, hang_env(fifo), lambda p: cfp_pids(h5),
                                         signal.SIGUSR1, "mpi")
        rows = check_stopped(h5, hang, n, rc, err, took, "mpi")
        print("stop with a stuck task, mpirun -np 3: exit 5 %.1f s after SIGUSR1, %d records"
              % (took, len(rows)))
        resume_after(args + ["--resume"], fifo, h5, n, "mpi", mpi_run)


def main():
    work = tmpdir("cfp-e2e-stuck-")
    try:
        mpi = mpi_available()
        test_nonregular(work, mpi)
        test_stuck_timeout(work, mpi)
        test_stop_while_stuck(work, mpi)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("e2e_stuck: ok")


if __name__ == "__main__":
    main()
