#!/usr/bin/env python3
"""e2e_memory: big images in bounded memory (issue #17).

1. A 1-gigapixel image (40000x25000 gray+alpha, smooth: ~74 MB on disk,
   over the 64 MiB up to which cfp buffers a body whole; made by
   `cfp generate-image` and deleted afterwards, also on failure) is
   streamed: sequential over file://, async and threading over `cfp serve`;
   each run is ok, its output is 512 px on the long side (read from the
   PNG header), the three outputs are byte-identical, the run's
   memory_peak is under the file's size (the body was not held), and
   cfp's peak RSS
   (ru_maxrss from os.wait4, in a small parent: see WAIT4) stays under
   128 MB.
2. An Adam7 100 MP RGB image (decoded whole: ~300 MB) completes with
   --memory 1G (run attributes memory_budget = 1 GiB, memory_source =
   "given", memory_peak > 290e6 bytes) and fails at once with --memory 256M
   in every engine: code MEMORY, "needs ~N MB, budget 256 MB", well under a
   second of CPU (nothing decoded).
3. A real cgroup v1 memory limit of 384 MiB (a fresh child of this
   process's own memory cgroup, memsw too when present): 32 Adam7 images of
   50 to 100 MP, listed under distinct names, in --mode threading and
   --mode async with the default budget: cfp finds 384 MiB itself
   (memory_source "cgroup"), every task is ok, exit 0, no OOM kill in the
   group's memory.oom_control, no SIGKILL. The same threading run with
   --memory 0 (no budget) must be OOM-killed or fail tasks: proof that the
   limit is real and that the passing runs are the budget's doing. The
   cgroup is removed afterwards, also on failure. Skipped when the v1
   memory controller is absent or not writable (not root).
4. Admission cannot deadlock: a budget with room for exactly one 50 MP
   Adam7 image (computed from its "needs ~N MB" and the admission rule
   limit = budget - max(32 MiB, budget / 8)), 12 such images and a few small
   files from a slow server (`cfp serve --latency-ms 200`) through
   threading -c 16 -w 16 and async -c 16: every task ok, and memory_peak
   under twice the need (one big image admitted at a time). The only time
   bound is the harness's hang guard.

The generated Adam7 images are cached between runs beside the cfp binary
(BUILD_DIR/e2e-memory-cache, or $CFP_MEMORY_CACHE); a cached file is reused
when its PNG header matches. Parts can be run alone: e2e_memory.py 2 4.
Release build only (label nosan): the RSS bounds and the cgroup limit do
not hold under a sanitizer's shadow memory and quarantine.
"""
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import CFP, cfp_serve, check, fail, read_runs, skip_part, tmpdir  # noqa: E402

MIB = 1 << 20
GIB = 1 << 30
RSS_BOUND_KB = 128 * 1024        # part 1: streaming a 1 GP image
CG_LIMIT = 384 * MIB             # part 3
HANG_GUARD = 300                 # seconds: a run taking longer is a hang
BIG = (40000, 25000)             # part 1: 1 GP, gray+alpha
WHOLE_MAX = 64 * MIB             # bodies up to this are buffered whole (CFP_PROC_WHOLE_MAX)
IL100 = (10000, 10000)           # Adam7 RGB, 100 MP (parts 2, 3)
IL83 = (10000, 8300)             # 83 MP (part 3)
IL53 = (8900, 6000)              # 53 MP (part 3)
IL50 = (8660, 5774)              # 50 MP (parts 3, 4)
TIMES = []                       # (part, seconds)


# ---- helpers ---------------------------------------------------------------

class Result:
    def __init__(self, rc, out, err, maxrss_kb, cpu_s, wall_s):
        self.rc, self.out, self.err = rc, out, err
        self.maxrss_kb, self.cpu_s, self.wall_s = maxrss_kb, cpu_s, wall_s


def threads_state(pid):
    """One line per thread of pid and of its children: name, state, wchan
    (where a hang is)."""
    lines = []
    try:
        for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
            base = "/proc/%d/task/%s/" % (pid, tid)
            try:
                comm = read_text(base, "comm").strip()
                state = read_text(base, "stat").rsplit(")", 1)[1].split()[0]
                wchan = read_text(base, "wchan").strip()
                children = read_text(base, "children").split()
            except OSError:
                continue
            lines.append("  %d/%s %s %s %s" % (pid, tid, comm, state, wchan))
            lines += [threads_state(int(c)) for c in children]
    except OSError:
        pass
    return "\n".join(line for line in lines if line)


# The measured command's parent: a small Python (-I -S, ~7 MB) that forks it,
# waits with os.wait4 and writes the status and rusage to argv[1]. Linux
# carries a process's peak RSS across exec (ru_maxrss starts at the exec'ing
# process's peak), so a command this test (h5py loaded: ~50 MB) exec'd
# itself would report at least the test's own peak; a fork of a small
# process starts at that process's size.
WAIT4 = r"""
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%d %d %.6f %.6f\n" % (status, ru.ru_maxrss, ru.ru_utime, ru.ru_stime))
"""


def run_measured(argv, what, timeout=HANG_GUARD, env=None):
    """Runs argv; returns a Result with its exit status (negative: killed by
    that signal), output, peak RSS (ru_maxrss, KB) and CPU seconds, from
    os.wait4 on it (the process exec'd, when argv is a shell that execs). A
    run past timeout is a hang: its threads are shown, it is killed and the
    test fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r", prefix="cfp-e2e-memory-ru-") as ru:
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/python3", "-I", "-S", "-c", WAIT4, ru.name] + list(argv),
                             stdout=out, stderr=err, start_new_session=True, env=env)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            diag = threads_state(p.pid)
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            err.seek(0)
            fail("%s: not finished within %d s (a hang?)\n%s\nstderr:\n%s"
                 % (what, timeout, diag, err.read()[-3000:]))
        wall = time.monotonic() - t0
        fields = ru.read().split()
        out.seek(0)
        err.seek(0)
        check(p.returncode == 0 and len(fields) == 4, "%s: the wait4 helper failed (exit %d)\n%s"
              % (what, p.returncode, err.read()[-3000:]))
        return Result(os.waitstatus_to_exitcode(int(fields[0])), out.read(), err.read(), int(fields[1]),
                      float(fields[2]) + float(fields[3]), wall)


def read_ihdr(path):
    """(width, height, bit depth, colour type, interlace) from the IHDR;
    None when path is missing or not a PNG."""
    try:
        with open(path, "rb") as f:
            d = f.read(33)
    except OSError:
        return None
    if len(d) < 33 or d[:8] != b"\x89PNG\r\n\x1a\n" or d[12:16] != b"IHDR":
        return None
    w, h, depth, ctype, _, _, il = struct.unpack(">IIBBBBB", d[16:29])
    return w, h, depth, ctype, il


def png_header(path):
    h = read_ihdr(path)
    check(h is not None, "%s: missing or not a PNG" % path)
    return h


def generate(path, size, color="rgb", interlace=False):
    argv = [CFP, "generate-image", "--size", "%dx%d" % size, "-o", path, "--color", color,
            "--noise", "0", "-q"] + (["--interlace"] if interlace else [])
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=HANG_GUARD)
    check(p.returncode == 0, "%s: exit %d\n%s" % (" ".join(argv), p.returncode, p.stderr))
    print("generated %s (%dx%d %s%s): %.1f MB in %.1f s"
          % (os.path.basename(path), size[0], size[1], color, ", Adam7" if interlace else "",
             os.path.getsize(path) / 1e6, time.monotonic() - t0), flush=True)


def cache_dir():
    d = os.environ.get("CFP_MEMORY_CACHE")
    if not d and os.environ.get("CFP_BIN"):
        d = os.path.join(os.path.dirname(os.path.abspath(os.environ["CFP_BIN"])), "e2e-memory-cache")
    return d


def adam7(cache, size):
    """The cached Adam7 RGB image of that size, generated when missing."""
    path = os.path.join(cache, "adam7-%dx%d.png" % size)
    if read_ihdr(path) == (size[0], size[1], 8, 2, 1):
        return path
    generate(path, size, "rgb", interlace=True)  # written to a temporary name, renamed
    return path


def write_list(path, urls):
    with open(path, "w") as f:
        f.write("".join(u + "\n" for u in urls))


def last_run(h5, n=None):
    runs = read_runs(h5)
    check(runs, "%s: no run recorded" % h5)
    _, attrs, rows = runs[-1]
    if n is not None:
        check(len(rows) == n, "%s: %d rows, want %d" % (h5, len(rows), n))
    return attrs, rows


def check_all_ok(rows, what):
    bad = [r for r in rows if r["status"] != "ok"]
    check(not bad, "%s: %d of %d tasks failed, e.g. %s %s: %s"
          % (what, len(bad), len(rows), bad[0]["url"], bad[0]["error_code"], bad[0]["error"])
          if bad else "")


def cfp_args(lst, mode, work, name, extra=()):
    return [CFP, "-i", lst, "--mode", mode, "-o", os.path.join(work, "out-" + name),
            "-r", os.path.join(work, name + ".h5"), "--no-report", "-q"] + list(extra)


def timed(part, fn, *args):
    t0 = time.monotonic()
    fn(*args)
    TIMES.append((part, time.monotonic() - t0))
    print("part %s: %.1f s" % (part, TIMES[-1][1]), flush=True)


# ---- 1. a 1 GP image, streamed ----------------------------------------------

def test_huge_streaming(work):
    d = os.path.join(work, "huge")
    os.mkdir(d)
    img = os.path.join(d, "gigapixel.png")
    try:
        generate(img, BIG, "gray-alpha")
        size = os.path.getsize(img)
        check(size < 900 * 1000 * 1000, "the 1 GP image is %d bytes: over the test's disk bound" % size)
        check(size > WHOLE_MAX, "the 1 GP image is %d bytes: cfp would buffer it whole, not stream it" % size)
        lst = os.path.join(work, "huge-file.txt")
        write_list(lst, ["file://" + img])
        runs = [("sequential", "file://", lst)]
        srv, base = cfp_serve(d)
        try:
            lst_http = os.path.join(work, "huge-http.txt")
            write_list(lst_http, [base + "gigapixel.png"])
            runs += [("async", "http", lst_http), ("threading", "http", lst_http)]
            digests = set()
            for mode, via, l in runs:
                name = "huge-" + mode
                r = run_measured(cfp_args(l, mode, work, name), name)
                check(r.rc == 0, "%s over %s: exit %d\n%s" % (mode, via, r.rc, r.err[-3000:]))
                attrs, rows = last_run(os.path.join(work, name + ".h5"), 1)
                check_all_ok(rows, name)
                out = rows[0]["output"]
                w, h, _, _, _ = png_header(out)
                check((w, h) == (512, 320), "%s: output %dx%d, want 512x320" % (name, w, h))
                check((rows[0]["width_in"], rows[0]["height_in"]) == BIG,
                      "%s: input recorded as %dx%d" % (name, rows[0]["width_in"], rows[0]["height_in"]))
                digests.add(rows[0]["digest"])
                check(attrs["memory_peak"] < size, "%s over %s: memory_peak %d, the body is %d bytes: "
                      "held whole, not streamed" % (mode, via, attrs["memory_peak"], size))
                print("1 GP %s over %s: ok, %dx%d out, peak RSS %.1f MB, memory_peak %.1f MB, "
                      "%.1f s wall, %.1f s CPU" % (mode, via, w, h, r.maxrss_kb / 1024.0,
                                                    attrs["memory_peak"] / MIB, r.wall_s, r.cpu_s),
                      flush=True)
                check(r.maxrss_kb < RSS_BOUND_KB, "%s over %s: peak RSS %d KB, bound %d KB"
                      % (mode, via, r.maxrss_kb, RSS_BOUND_KB))
            check(len(digests) == 1, "the engines' outputs of the 1 GP image differ: %s" % digests)
        finally:
            srv.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- 2. Adam7 100 MP: the budget admits it or refuses it at once -------------

def test_interlaced(work, cache):
    img = adam7(cache, IL100)
    lst = os.path.join(work, "il100.txt")
    write_list(lst, ["file://" + img])
    r = run_measured(cfp_args(lst, "sequential", work, "il100-1g", ["--memory", "1G"]), "il100 1G")
    check(r.rc == 0, "Adam7 100 MP, --memory 1G: exit %d\n%s" % (r.rc, r.err[-3000:]))
    attrs, rows = last_run(os.path.join(work, "il100-1g.h5"), 1)
    check_all_ok(rows, "Adam7 100 MP, --memory 1G")
    check(png_header(rows[0]["output"])[:2] == (512, 512), "Adam7 100 MP: output not 512x512")
    check(attrs["memory_budget"] == GIB, "--memory 1G: memory_budget %r" % attrs["memory_budget"])
    check(attrs["memory_source"] == "given", "--memory 1G: memory_source %r" % attrs["memory_source"])
    check(attrs["memory_peak"] > 290e6, "Adam7 100 MP: memory_peak %r, want > 290e6 (the whole image)"
          % attrs["memory_peak"])
    print("Adam7 100 MP --memory 1G: ok, memory_peak %.1f MB, peak RSS %.1f MB, %.1f s"
          % (attrs["memory_peak"] / MIB, r.maxrss_kb / 1024.0, r.wall_s), flush=True)

    for mode in ("sequential", "threading", "async"):
        name = "il100-256m-" + mode
        r = run_measured(cfp_args(lst, mode, work, name, ["--memory", "256M"]), name)
        check(r.rc == 1, "Adam7 100 MP, --memory 256M, %s: exit %d (want 1)\n%s"
              % (mode, r.rc, r.err[-3000:]))
        attrs, rows = last_run(os.path.join(work, name + ".h5"), 1)
        row = rows[0]
        check(row["error_code"] == "MEMORY" and "needs ~" in row["error"] and "budget 256 MB" in row["error"],
              "%s --memory 256M: %s: %s" % (mode, row["error_code"], row["error"]))
        check(row["output"] == "", "%s --memory 256M: failed but has output %s" % (mode, row["output"]))
        check(attrs["memory_budget"] == 256 * MIB, "%s: memory_budget %r" % (mode, attrs["memory_budget"]))
        # A decode of it takes ~3 s of CPU: refusing must not decode.
        check(r.cpu_s < 1.0, "%s --memory 256M: %.2f s of CPU before refusing (decoded?)" % (mode, r.cpu_s))
        print("Adam7 100 MP --memory 256M %s: MEMORY '%s' in %.2f s wall, %.2f s CPU, peak RSS %.1f MB"
              % (mode, row["error"], r.wall_s, r.cpu_s, r.maxrss_kb / 1024.0), flush=True)


# ---- 3. the budget holds under a real cgroup limit ----------------------------

def memory_cgroup_dir():
    """This process's own cgroup v1 memory directory, or (None, why)."""
    rel = None
    with open("/proc/self/cgroup") as f:
        for line in f:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) == 3 and "memory" in parts[1].split(","):
                rel = parts[2]
    if rel is None:
        return None, "no cgroup v1 memory controller in /proc/self/cgroup"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup" and "memory" in fields[sep + 3].split(","):
                root, mnt = fields[3], fields[4]
                if rel == root or rel.startswith(root.rstrip("/") + "/"):
                    d = os.path.join(mnt, rel[len(root.rstrip("/")):].lstrip("/"))
                    if os.path.exists(os.path.join(d, "memory.limit_in_bytes")):
                        return d, None
    return None, "this process's memory cgroup %s is not mounted here" % rel


def meminfo_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def read_text(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read()


def cg_write(cg, name, value):
    with open(os.path.join(cg, name), "w") as f:
        f.write(str(value))


def oom_state(cg):
    """memory.oom_control as a dict (oom_kill exists from Linux 4.13)."""
    return {k: int(v) for k, v in (line.split() for line in read_text(cg, "memory.oom_control").splitlines())}


def remove_cgroup(cg, parent):
    """Moves whatever is left in cg to parent, then removes cg (a process
    just killed may take a moment to leave)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            for pid in read_text(cg, "cgroup.procs").split():
                try:
                    cg_write(parent, "cgroup.procs", pid)
                except OSError:
                    pass
            os.rmdir(cg)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if time.monotonic() > deadline:
                print("cannot remove %s: %s" % (cg, e), file=sys.stderr)
                raise
            time.sleep(0.1)


def cgroup_inputs(work, cache):
    """32 file:// URLs, distinct names (symlinks to 4 cached images). The
    first eight are the 100 and 83 MP ones, which the budget admits one at a
    time and which, any two at once, are over the limit; the rest are 50 and
    53 MP, two of which fit together."""
    imgs = {s: adam7(cache, s) for s in (IL100, IL83, IL50, IL53)}
    order = [IL100, IL83] * 4 + [IL50, IL53] * 12
    d = os.path.join(work, "cg-in")
    os.mkdir(d)
    urls = []
    for i, s in enumerate(order):
        link = os.path.join(d, "img%02d-%dmp.png" % (i, s[0] * s[1] // 1000000))
        os.symlink(imgs[s], link)
        urls.append("file://" + link)
    lst = os.path.join(work, "cg.txt")
    write_list(lst, urls)
    return lst, len(urls)


def cg_run(cg, work, lst, mode, name, extra=()):
    for f in ("memory.max_usage_in_bytes", "memory.failcnt"):
        cg_write(cg, f, 0)
    before = oom_state(cg)
    # The shell moves itself into the cgroup, then becomes cfp.
    wrap = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg]
    # The default budget is the smallest of the cgroup's, Slurm's and 80 %
    # of MemAvailable: no Slurm memory from a surrounding job.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_MEM_")}
    r = run_measured(wrap + cfp_args(lst, mode, work, name, extra), name, env=env)
    after = oom_state(cg)
    r.oom_kills = after.get("oom_kill", 0) - before.get("oom_kill", 0)
    r.under_oom = after["under_oom"]
    r.max_usage = int(read_text(cg, "memory.max_usage_in_bytes"))
    r.failcnt = int(read_text(cg, "memory.failcnt"))
    return r


def test_cgroup(work, cache):
    parent, why = memory_cgroup_dir()
    if not parent:
        skip_part("cgroup limit", why)
        return
    stat = dict(line.split() for line in read_text(parent, "memory.stat").splitlines())
    if int(stat.get("hierarchical_memory_limit", 1 << 62)) < CG_LIMIT + 64 * MIB:
        skip_part("cgroup limit", "this process's memory cgroup %s is limited to %s bytes: no room for a "
                  "384 MiB child" % (parent, stat["hierarchical_memory_limit"]))
        return
    avail = meminfo_available()
    if avail * 0.8 < CG_LIMIT + 64 * MIB:
        skip_part("cgroup limit", "MemAvailable %d MB: 80 %% of it, not the cgroup, would be the budget"
                  % (avail // MIB))
        return
    cg = os.path.join(parent, "cfp-e2e-memory-%d" % os.getpid())
    try:
        os.mkdir(cg)
    except OSError as e:
        skip_part("cgroup limit", "cannot create %s: %s (needs root)" % (cg, e))
        return
    try:
        try:
            cg_write(cg, "memory.limit_in_bytes", CG_LIMIT)
            if os.path.exists(os.path.join(cg, "memory.memsw.limit_in_bytes")):
                cg_write(cg, "memory.memsw.limit_in_bytes", CG_LIMIT)  # swap must not hide it
        except OSError as e:
            skip_part("cgroup limit", "cannot set the limits of %s: %s" % (cg, e))
            return
        check(int(read_text(cg, "memory.limit_in_bytes")) == CG_LIMIT, "%s: limit not set" % cg)
        lst, n = cgroup_inputs(work, cache)
        for mode in ("threading", "async"):
            name = "cg-" + mode
            r = cg_run(cg, work, lst, mode, name)
            print("cgroup 384 MiB, %s, default budget: exit %d, %.1f s wall, peak RSS %.1f MB, "
                  "cgroup max usage %.1f MB, failcnt %d, oom kills %d"
                  % (mode, r.rc, r.wall_s, r.maxrss_kb / 1024.0, r.max_usage / MIB, r.failcnt, r.oom_kills),
                  flush=True)
            check(r.rc != -signal.SIGKILL, "%s in a 384 MiB cgroup with the default budget: SIGKILLed "
                  "(oom kills %d)\n%s" % (mode, r.oom_kills, r.err[-3000:]))
            check(r.oom_kills == 0 and r.under_oom == 0, "%s: oom_control: %d oom kills, under_oom %d"
                  % (mode, r.oom_kills, r.under_oom))
            check(r.rc == 0, "%s in a 384 MiB cgroup: exit %d\n%s" % (mode, r.rc, r.err[-3000:]))
            attrs, rows = last_run(os.path.join(work, name + ".h5"), n)
            check_all_ok(rows, mode + " in a 384 MiB cgroup")
            check(attrs["memory_source"] == "cgroup" and attrs["memory_budget"] == CG_LIMIT,
                  "%s: memory_source %r, memory_budget %r: want the cgroup's 384 MiB"
                  % (mode, attrs["memory_source"], attrs["memory_budget"]))
            limit = CG_LIMIT - max(32 * MIB, CG_LIMIT // 8)
            check(0 < attrs["memory_peak"] <= limit, "%s: memory_peak %d over the admission limit %d"
                  % (mode, attrs["memory_peak"], limit))
            print("  %d tasks ok; memory_budget %d (cgroup), memory_peak %.1f MB of %.1f MB admitted"
                  % (n, attrs["memory_budget"], attrs["memory_peak"] / MIB, limit / MIB), flush=True)

        # Without the budget the same run is over the limit: the test can fail.
        r = cg_run(cg, work, lst, "threading", "cg-nobudget", ["--memory", "0"])
        records = failed = 0
        try:
            _, rows = last_run(os.path.join(work, "cg-nobudget.h5"))
            records, failed = len(rows), sum(1 for row in rows if row["status"] != "ok")
        except Exception:  # killed before the results file was readable
            pass
        print("cgroup 384 MiB, threading, --memory 0: exit %d, %.1f s wall, peak RSS %.1f MB, "
              "cgroup max usage %.1f MB, oom kills %d, %d records (%d failed)"
              % (r.rc, r.wall_s, r.maxrss_kb / 1024.0, r.max_usage / MIB, r.oom_kills, records, failed),
              flush=True)
        check(r.rc == -signal.SIGKILL or r.oom_kills > 0 or (r.rc == 1 and failed > 0),
              "--memory 0 in a 384 MiB cgroup succeeded (exit %d, no OOM kill, no failed task): "
              "the limit did not bite, so the runs above prove nothing" % r.rc)
    finally:
        remove_cgroup(cg, parent)


# ---- 4. admission cannot deadlock ---------------------------------------------

def admission_limit(budget):
    return budget - max(32 * MIB, budget // 8)


def test_no_deadlock(work, cache):
    img = adam7(cache, IL50)
    # Its need, as cfp computes it, from the refusal under a tiny budget.
    lst = os.path.join(work, "probe.txt")
    write_list(lst, ["file://" + img])
    r = run_measured(cfp_args(lst, "sequential", work, "probe", ["--memory", "64M"]), "probe")
    _, rows = last_run(os.path.join(work, "probe.h5"), 1)
    msg = rows[0]["error"]
    check(rows[0]["error_code"] == "MEMORY" and msg.startswith("needs ~"), "probe: %s" % msg)
    need = int(msg.split("~", 1)[1].split(" ", 1)[0]) * MIB  # rounded MB: +-0.5 MiB
    # Room for one: limit = 1.5 x need, the smallest budget giving it.
    want = need * 3 // 2
    budget = max(want + 32 * MIB, -(-want * 8 // 7))
    budget = -(-budget // MIB) * MIB
    limit = admission_limit(budget)
    check(need + MIB <= limit < 2 * (need - MIB), "budget %d: limit %d does not fit exactly one of %d"
          % (budget, limit, need))
    print("50 MP Adam7 needs ~%d MiB; --memory %dM: admission limit %d MiB (one fits, two do not)"
          % (need // MIB, budget // MIB, limit // MIB), flush=True)

    root = os.path.join(work, "slow")
    os.mkdir(root)
    try:
        os.link(img, os.path.join(root, "big00.png"))
    except OSError:
        shutil.copyfile(img, os.path.join(root, "big00.png"))
    names = ["big00.png"]
    for i in range(1, 12):
        os.symlink("big00.png", os.path.join(root, "big%02d.png" % i))  # inside --root: served
        names.append("big%02d.png" % i)
    for i in range(2):
        generate(os.path.join(root, "small%d.png" % i), (640 + 64 * i, 480), "rgb")
        with open(os.path.join(root, "words%d.txt" % i), "w") as f:
            f.write("the quick brown fox jumps over the lazy dog\n" * (100 + i))
        with open(os.path.join(root, "table%d.csv" % i), "w") as f:
            f.write("a,b,c\n" + "".join("%d,%d,x%d\n" % (j, j * j, j) for j in range(50 + i)))
        names += ["small%d.png" % i, "words%d.txt" % i, "table%d.csv" % i]
    # Interleaved: small files between the big ones.
    order = names[:12]
    for k, s in enumerate(names[12:]):
        order.insert(2 * k + 1, s)
    srv, base = cfp_serve(root, latency_ms=200)
    try:
        lst = os.path.join(work, "slow.txt")
        write_list(lst, [base + n for n in order])
        for mode, extra in (("threading", ["--concurrency", "16", "--workers", "16"]),
                            ("async", ["--concurrency", "16"])):
            name = "slow-" + mode
            r = run_measured(cfp_args(lst, mode, work, name, ["--memory", "%dM" % (budget // MIB)] + extra),
                             "%s, budget for one, slow server" % mode)
            check(r.rc == 0, "%s, budget for one: exit %d\n%s" % (mode, r.rc, r.err[-3000:]))
            attrs, rows = last_run(os.path.join(work, name + ".h5"), len(order))
            check_all_ok(rows, "%s, budget for one" % mode)
            check(attrs["memory_peak"] < 2 * (need - MIB),
                  "%s: memory_peak %d: two big images admitted at once under limit %d"
                  % (mode, attrs["memory_peak"], limit))
            print("budget for one, %s %s, 12 x 50 MP + %d small over 200 ms latency: all ok in %.1f s, "
                  "memory_peak %.1f MB, peak RSS %.1f MB"
                  % (mode, " ".join(extra), len(order) - 12, r.wall_s, attrs["memory_peak"] / MIB,
                     r.maxrss_kb / 1024.0), flush=True)
    finally:
        srv.stop()


def main():
    if os.environ.get("CFP_SANITIZE", ""):
        skip_part("whole test", "sanitizer build (%s): RSS bounds and the cgroup limit need the Release "
                  "build" % os.environ["CFP_SANITIZE"])
        sys.exit(77)
    parts = set(sys.argv[1:]) or {"1", "2", "3", "4"}
    t0 = time.monotonic()
    work = tmpdir("cfp-e2e-memory-")
    cache = cache_dir()
    own_cache = not cache
    if own_cache:
        cache = os.path.join(work, "cache")
    os.makedirs(cache, exist_ok=True)
    try:
        if "1" in parts:
            timed("1 (1 GP streamed)", test_huge_streaming, work)
        if "2" in parts:
            timed("2 (Adam7 100 MP)", test_interlaced, work, cache)
        if "3" in parts:
            timed("3 (cgroup 384 MiB)", test_cgroup, work, cache)
        if "4" in parts:
            timed("4 (no deadlock)", test_no_deadlock, work, cache)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("timings: " + ", ".join("part %s %.1f s" % t for t in TIMES)
          + "; total %.1f s" % (time.monotonic() - t0))
    print("e2e_memory: ok")


if __name__ == "__main__":
    main()
