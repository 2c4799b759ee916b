#!/usr/bin/env python3
"""The CLI's contract: help, version, usage errors (exit 2 with a hint),
fatal errors (exit 3 with a message)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import check, run_cfp, tmpdir  # noqa: E402


def expect(args, code, out_has=None, err_has=None):
    rc, out, err = run_cfp(args, timeout=60)
    check(rc == code, "cfp %s: exit %d, expected %d; stderr=%r" % (" ".join(args), rc, code, err))
    if out_has:
        check(out_has in out, "cfp %s: stdout lacks %r" % (" ".join(args), out_has))
    if err_has:
        check(err_has in err, "cfp %s: stderr %r lacks %r" % (" ".join(args), err, err_has))


def main():
    work = tmpdir("cfp-cli-")
    try:
        lst = os.path.join(work, "urls.txt")
        open(lst, "w").write("file:///nonexistent.txt\n")
        notdir = os.path.join(work, "plainfile")
        open(notdir, "w").write("x")
        expect(["--help"], 0, out_has="--mode")
        expect(["--version"], 0, out_has="cfp ")
        expect([], 2, err_has="Try 'cfp --help'")
        expect(["--bogus"], 2, err_has="Try 'cfp --help'")
        expect(["--mode", "nosuchmode"], 2, err_has="nosuchmode")
        expect(["--mode", "sequential", "--max-side", "abc"], 2, err_has="--max-side")
        expect(["--mode", "sequential", "--max-bytes", "-5"], 2, err_has="--max-bytes")
        expect(["--mode", "sequential", "--input", lst, "extra"], 2, err_has="unexpected argument")
        expect(["serve"], 2, err_has="--root")
        expect(["report"], 2, err_has="RESULTS.h5")
        # Fatal: results file cannot be created / is not HDF5; input missing; no dataset.
        expect(["--mode", "sequential", "--input", lst, "--results", notdir + "/r.h5",
                "--output-dir", os.path.join(work, "o")], 3, err_has="cfp: ")
        expect(["--mode", "sequential", "--input", lst, "--results", notdir,
                "--output-dir", os.path.join(work, "o")], 3, err_has="cfp: ")
        expect(["--mode", "sequential", "--input", os.path.join(work, "missing.txt"),
                "--results", os.path.join(work, "r.h5"), "--output-dir", os.path.join(work, "o")], 3,
               err_has="missing.txt")
        expect(["--mode", "sequential", "--dataset-dir", os.path.join(work, "nodata"),
                "--results", os.path.join(work, "r.h5"), "--output-dir", os.path.join(work, "o")], 3,
               err_has="--generate-dataset")
        expect(["--mode", "sequential", "--input", lst, "--results", os.path.join(work, "r.h5"),
                "--output-dir", notdir], 3, err_has="Not a directory")
        expect(["report", notdir], 3, err_has="cfp: report")
        expect(["serve", "--root", os.path.join(work, "nodir")], 3, err_has="cfp: serve")
        # A list whose only task fails: exit 1.
        expect(["--mode", "sequential", "--input", lst, "--results", os.path.join(work, "r.h5"),
                "--output-dir", os.path.join(work, "o"), "--quiet"], 1)
    finally:  # also after a failed check (sys.exit)
        shutil.rmtree(work, ignore_errors=True)
    print("cli ok")


if __name__ == "__main__":
    main()
