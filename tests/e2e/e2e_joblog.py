"""e2e_joblog: the job log says what happened (issue #16 part 3).

- Each failed task prints "cfp: failed NNNNNN URL : cause" on stderr as it
  fails, its URL's password hidden; -q drops the progress line but keeps
  them and the summary; -qq prints nothing (exit status unchanged).
- 200 failures: the first 20 lines, then "cfp: N more failed" lines whose
  counts add up to the other 180.
- The summary counts failures by class (HTTP status or error name), gives
  MB in/out and the output dir, and the exact --resume command, which run
  as printed finishes the run (the flaky URLs then succeed).
- `cfp export` writes the rows h5py reads from the same file: every column
  of every row equal, row counts per --status; --columns url --status
  failed is a URL list.
- A failed start (missing list, a directory as list, a results path that
  is a directory or runs through a file, an unwritable directory) exits 3
  with the OS cause and creates nothing.
- A bare local path in the list is read as that file.
"""
import csv
import io
import json
import os
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import CFP, check, fault_server, read_runs, run_cfp, tmpdir  # noqa: E402


def write_list(path, urls):
    with open(path, "w") as f:
        f.write("\n".join(urls) + "\n")


def failure_lines(err):
    return [ln for ln in err.splitlines() if ln.startswith("cfp: failed ")]


def part_lines(work, base):
    urls = ["%s/ok/a%d.txt" % (base, i) for i in range(4)]
    urls += [base.replace("http://", "http://u:secret@") + "/status/404/x%d.txt" % i
             for i in range(3)]
    urls += [base + "/status/500/y.txt"]
    lst = os.path.join(work, "mixed.txt")
    write_list(lst, urls)
    common = ["--mode", "sequential", "-i", lst, "--retries", "0"]
    rc, _, err = run_cfp(common + ["-o", os.path.join(work, "o1"), "-r",
                                   os.path.join(work, "r1.h5")])
    check(rc == 1, "mixed run: exit %d, want 1\n%s" % (rc, err))
    lines = failure_lines(err)
    check(len(lines) == 4, "want 4 failure lines:\n%s" % err)
    want = "cfp: failed 000004 %s/status/404/x0.txt : HTTP 404" % base.replace(
        "http://", "http://u:***@")
    check(want in lines, "no line %r in:\n%s" % (want, err))
    check("secret" not in err, "password shown:\n%s" % err)
    check("cfp: failed 000007 %s/status/500/y.txt : HTTP 500" % base in lines, err)
    check("sequential: 8/8 done, 4 failed" in err, "no progress line:\n%s" % err)
    check("cfp: 8 tasks, 4 ok, 4 failed; results " in err, "no summary:\n%s" % err)
    check("cfp: failures: 404 \u00d73, 500 \u00d71\n" in err, "classes:\n%s" % err)
    check(" MB in, " in err and " MB out, " in err and "output %s/o1\n" % work in err, err)

    rc, _, err = run_cfp(common + ["-q", "-o", os.path.join(work, "o2"), "-r",
                                   os.path.join(work, "r2.h5")])
    check(rc == 1 and len(failure_lines(err)) == 4, "-q: exit %d\n%s" % (rc, err))
    check(" done, " not in err, "-q printed progress:\n%s" % err)
    check("cfp: 8 tasks, 4 ok, 4 failed;" in err, "-q: no summary:\n%s" % err)

    rc, out, err = run_cfp(common + ["-qq", "-o", os.path.join(work, "o3"), "-r",
                                     os.path.join(work, "r3.h5")])
    check(rc == 1 and err == "" and out == "", "-qq: exit %d, stderr %r" % (rc, err))


def part_rate_limit(work, base):
    lst = os.path.join(work, "many.txt")
    write_list(lst, ["%s/status/404/m%d.txt" % (base, i) for i in range(200)])
    rc, _, err = run_cfp(["--mode", "threading", "-i", lst, "--retries", "0", "-q", "-o",
                          os.path.join(work, "om"), "-r", os.path.join(work, "rm.h5")])
    check(rc == 1, "200 failures: exit %d\n%s" % (rc, err))
    check(len(failure_lines(err)) == 20, "want 20 failure lines:\n%s" % err)
    more = [ln for ln in err.splitlines() if ln.endswith(
        " more failed (see the summary and the results file)")]
    total = sum(int(ln.split()[1]) for ln in more)
    check(more and total == 180, "more-lines add up to %d, want 180:\n%s" % (total, err))
    check(len(err.splitlines()) < 40, "stderr floods:\n%s" % err)
    check("cfp: failures: 404 \u00d7200\n" in err, err)


def part_resume(work, base):
    lst = os.path.join(work, "flaky list.txt")  # a space: the command must quote it
    write_list(lst, ["%s/ok/b%d.txt" % (base, i) for i in range(3)]
               + ["%s/flaky/1/f%d.txt" % (base, i) for i in range(3)])
    h5 = os.path.join(work, "rf.h5")
    rc, _, err = run_cfp(["--mode", "async", "-i", lst, "--retries", "0", "-q", "-o",
                          os.path.join(work, "of"), "-r", h5])
    check(rc == 1, "flaky run: exit %d\n%s" % (rc, err))
    check("cfp: failures: 503 \u00d73\n" in err, err)
    pre = "cfp: finish or retry the failed tasks with: "
    cmd = [ln[len(pre):] for ln in err.splitlines() if ln.startswith(pre)]
    check(len(cmd) == 1 and cmd[0].endswith(" --resume"), "no resume command:\n%s" % err)
    argv = shlex.split(cmd[0])
    check(argv[0] == CFP and lst in argv, "resume command %r" % argv)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "resume: exit %d\n%s" % (p.returncode, p.stderr))
    check("cfp: 6 tasks, 6 ok, 0 failed;" in p.stderr, p.stderr)
    check(pre not in p.stderr, "resume command after success:\n%s" % p.stderr)


def export(args):
    rc, out, err = run_cfp(["export"] + args)
    check(rc == 0, "export %r: exit %d\n%s" % (args, rc, err))
    return out


def same(text, ref):
    """text (exported) equals ref (an h5py value)."""
    if isinstance(ref, float):
        return float(text) == ref
    if isinstance(ref, str):
        return text == ref
    return int(text) == int(ref)


def part_export(work):
    h5 = os.path.join(work, "r1.h5")  # part_lines': 4 ok, 4 failed
    _, _, rows = read_runs(h5)[-1]
    names = list(rows[0].keys())
    tsv = export([h5]).splitlines()
    check(tsv[0] == "#" + "\t".join(names), "tsv header %r" % tsv[0])
    check(len(tsv) == 1 + len(rows), "tsv rows %d, want %d" % (len(tsv) - 1, len(rows)))
    for line, row in zip(tsv[1:], rows):
        for name, v in zip(names, line.split("\t")):
            check(same(v, row[name]), "tsv %s: %r vs h5py %r" % (name, v, row[name]))
    recs = list(csv.DictReader(io.StringIO(export([h5, "--format", "csv"]))))
    for rec, row in zip(recs, rows):
        for name in names:
            check(same(rec[name], row[name]), "csv %s: %r vs %r" % (name, rec[name], row[name]))
    js = [json.loads(ln) for ln in export([h5, "--format", "jsonl"]).splitlines()]
    check(len(js) == len(rows) and all(j[n] == r[n] for j, r in zip(js, rows) for n in names),
          "jsonl differs from h5py")
    for status in ("ok", "failed"):
        want = [r for r in rows if r["status"] == status]
        got = export([h5, "--status", status, "--columns", "url"]).splitlines()
        check(got == ["#url"] + [r["url"] for r in want], "--status %s: %r" % (status, got))
    rc, _, err = run_cfp(["export", h5, "--columns", "nope"])
    check(rc == 2 and "no column 'nope'" in err, "bad column: %d %s" % (rc, err))
    rc, _, err = run_cfp(["export", h5, "--run", "9999-x"])
    check(rc == 3 and "no such run" in err, "bad run: %d %s" % (rc, err))
    rc, out, _ = run_cfp(["export", "--help"])
    check(rc == 0 and out.startswith("Usage: cfp export"), "export --help")


def part_failed_start(work):
    d = os.path.join(work, "start")
    os.mkdir(d)
    os.mkdir(os.path.join(d, "adir"))
    with open(os.path.join(d, "afile"), "w") as f:
        f.write("x\n")
    write_list(os.path.join(d, "u.txt"), ["http://127.0.0.1:9/x"])
    before = sorted(os.listdir(d))
    cases = [
        (["-i", "missing.txt"], "open URL list %s/missing.txt: No such file or directory"),
        (["-i", "adir"], "open URL list %s/adir: Is a directory"),
        (["-i", "u.txt", "-r", "adir"], "results file %s/adir: Is a directory"),
        (["-i", "u.txt", "-r", "afile/r.h5"], "directory %s/afile: Not a directory"),
        (["-i", "u.txt", "-r", "nodir/r.h5"], "directory %s/nodir: No such file or directory"),
        (["-i", "u.txt", "-o", "afile/o"], "output directory %s/afile/o: Not a directory"),
    ]
    for args, msg in cases:
        args = [a if a.startswith("-") else os.path.join(d, a) for a in args]
        full = ["--mode", "sequential", "-o", os.path.join(d, "out/x"), "-r",
                os.path.join(d, "res.h5")] + args
        rc, _, err = run_cfp(full)
        check(rc == 3 and (msg % d) in err, "%r: exit %d, want %r:\n%s" % (args, rc, msg % d, err))
        check(sorted(os.listdir(d)) == before, "%r left %r" % (args, os.listdir(d)))
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv:  # root writes anywhere: run as nobody
        os.chmod(work, 0o755)
        os.chmod(d, 0o755)
        rc = subprocess.run([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups",
                             CFP, "--mode", "sequential", "-i", os.path.join(d, "u.txt"), "-o",
                             os.path.join(d, "o"), "-r", "/tmp/never.h5"],
                            capture_output=True, text=True, timeout=60)
        check(rc.returncode == 3 and "%s: Permission denied" % d in rc.stderr,
              "unwritable: exit %d\n%s" % (rc.returncode, rc.stderr))
        check(sorted(os.listdir(d)) == before, "unwritable left %r" % os.listdir(d))


def part_bare(work):
    d = os.path.join(work, "bare")
    os.mkdir(d)
    for name in ("abs.txt", "rel x.txt"):
        with open(os.path.join(d, name), "w") as f:
            f.write("some words here\n")
    lst = os.path.join(d, "list.txt")
    write_list(lst, [os.path.join(d, "abs.txt"), "./rel x.txt"])
    p = subprocess.run([CFP, "--mode", "sequential", "-i", lst, "-q", "-o", os.path.join(d, "o"),
                        "-r", os.path.join(d, "r.h5")], capture_output=True, text=True,
                       cwd=d, timeout=60)
    check(p.returncode == 0, "bare paths: exit %d\n%s" % (p.returncode, p.stderr))
    urls = [r["url"] for r in read_runs(os.path.join(d, "r.h5"))[-1][2]]
    check(urls == ["file://%s/abs.txt" % d, "file://%s/./rel%%20x.txt" % d], "urls %r" % urls)


def main():
    work = tmpdir("cfp-joblog-")
    srv, base = fault_server()
    try:
        part_lines(work, base)
        part_rate_limit(work, base)
        part_resume(work, base)
        part_export(work)
        part_failed_start(work)
        part_bare(work)
    finally:
        srv.stop()
    shutil.rmtree(work)
    print("e2e_joblog: ok")


if __name__ == "__main__":
    main()
