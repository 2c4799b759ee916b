#!/usr/bin/env python3
"""The CLI's contract: help (global, per command, `cfp help`), version,
usage errors (exit 2, one line then the Try line; the closest option for a
misspelt one), fatal errors (exit 3 with a message)."""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import CFP, SRC, check, run_cfp, skip_part, tmpdir  # noqa: E402

# The subcommands, the file of each with its option table; None is the
# processing command (`cfp --help`).
COMMANDS = {None: "cfp_cli_opts.c", "serve": "cfp_cli_serve.c", "report": "cfp_cli_report.c",
            "merge": "cfp_cli_merge.c", "generate-image": "cfp_cli_generate.c"}
LIBRARIES = ("libcurl", "libpng", "zlib", "libdeflate", "HDF5", "libmicrohttpd")


def expect(args, code, out_has=None, err_has=None):
    rc, out, err = run_cfp(args, timeout=60)
    check(rc == code, "cfp %s: exit %d, expected %d; stderr=%r" % (" ".join(args), rc, code, err))
    if out_has:
        check(out_has in out, "cfp %s: stdout lacks %r" % (" ".join(args), out_has))
    if err_has:
        check(err_has in err, "cfp %s: stderr %r lacks %r" % (" ".join(args), err, err_has))


def cfp_lines(args):
    """(exit status, stdout, stderr lines) of cfp ARGS."""
    rc, out, err = run_cfp(args, timeout=60)
    return rc, out, err.splitlines()


def table_options(source):
    """The long option names of the `longopts[] = {...}` table in src/cli/SOURCE."""
    text = open(os.path.join(SRC, "src", "cli", source)).read()
    m = re.search(r"longopts\[\]\s*=\s*\{(.*?)\{NULL", text, re.S)
    check(m, "%s: no longopts table found" % source)
    names = re.findall(r'\{"([a-z0-9-]+)"', m.group(1))
    check(names, "%s: no options in its table" % source)
    return names


def mentions(text, option):
    return re.search(r"(?<![\w-])--%s(?![\w-])" % re.escape(option), text) is not None


def check_help():
    """Each command's own short help on stdout, exit 0, the same through
    `cfp help COMMAND`; every option of each table in its command's help
    and in doc/usage.md."""
    rc, glob, _ = cfp_lines(["--help"])
    check(rc == 0 and "cfp help [COMMAND]" in glob, "cfp --help lacks cfp help: %r" % glob)
    rc, out, err = cfp_lines(["help"])
    check(rc == 0 and out == glob and not err, "cfp help != cfp --help")
    usage_md = open(os.path.join(SRC, "doc", "usage.md")).read()
    for cmd, source in COMMANDS.items():
        text = glob
        if cmd:
            for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
                rc, text, err = cfp_lines(args)
                check(rc == 0 and not err, "cfp %s: exit %d, stderr %r" % (" ".join(args), rc, err))
                check(text.startswith("Usage: cfp %s" % cmd) and "\nExample: cfp %s" % cmd in text,
                      "cfp %s: not %s's help: %r" % (" ".join(args), cmd, text))
                check(len(text.splitlines()) <= 20 and "Exit status" not in text,
                      "cfp %s: not short: %r" % (" ".join(args), text))
        for name in table_options(source):
            check(mentions(text, name), "--%s (%s) is not in the help of %s" % (name, source, cmd or "cfp"))
            check(mentions(usage_md, name), "--%s (%s) is not in doc/usage.md" % (name, source))
    rc, out, err = cfp_lines(["help", "help"])
    check(rc == 0 and out.startswith("Usage: cfp help"), "cfp help help: %r" % out)
    rc, out, err = cfp_lines(["help", "sevre"])
    check(rc == 2 and not out and len(err) == 1 and "'serve'" in err[0], "cfp help sevre: %r" % err)


def expect_two_lines(args, first, try_cmd=None):
    """cfp ARGS: exit 2, nothing on stdout, exactly the line FIRST then the
    Try line (of the subcommand TRY_CMD) on stderr."""
    rc, out, err = cfp_lines(args)
    hint = "Try 'cfp %s--help' for more information." % (try_cmd + " " if try_cmd else "")
    check(rc == 2 and not out and err == [first, hint],
          "cfp %s: exit %d, stderr %r, expected %r" % (" ".join(args), rc, err, [first, hint]))


def check_bad_options():
    expect_two_lines(["--mdoe", "x"], "cfp: unknown option '--mdoe'; did you mean '--mode'?")
    expect_two_lines(["--generate-datasett"],
                     "cfp: unknown option '--generate-datasett'; did you mean '--generate-dataset'?")
    expect_two_lines(["serve", "--prot", "1"],
                     "cfp: serve: unknown option '--prot'; did you mean '--port'?", "serve")
    expect_two_lines(["report", "--outptu=x", "r.h5"],
                     "cfp: report: unknown option '--outptu'; did you mean '--output'?", "report")
    expect_two_lines(["merge", "--qiuet"], "cfp: merge: unknown option '--qiuet'; did you mean '--quiet'?",
                     "merge")
    # Too far from every option: no guess.
    expect_two_lines(["--frobnicate"], "cfp: unknown option '--frobnicate'")
    expect_two_lines(["serve", "--mode", "x"], "cfp: serve: unknown option '--mode'", "serve")
    expect_two_lines(["-Z"], "cfp: unknown option '-Z'")
    expect_two_lines(["-qZ"], "cfp: unknown option '-Z'")
    expect_two_lines(["--mode"], "cfp: option '--mode' requires an argument")
    expect_two_lines(["-q", "-m"], "cfp: option '-m' requires an argument")
    expect_two_lines(["--quiet=yes"], "cfp: option '--quiet' takes no argument")
    expect_two_lines(["--no-r"], "cfp: option '--no-r' is ambiguous: --no-rank0-work, --no-report, "
                     "--no-retry-failed")
    expect_two_lines(["sevre"], "cfp: unknown command 'sevre'; did you mean 'serve'?")


def built_with_mpi():
    """CFP_WITH_MPI of the build the binary is in (its CMakeCache.txt), or
    None when that is not known."""
    cache = os.path.join(os.path.dirname(os.path.abspath(CFP)), "CMakeCache.txt")
    try:
        m = re.search(r"^CFP_WITH_MPI:BOOL=(\w+)$", open(cache).read(), re.M)
    except OSError:
        return None
    return m.group(1).upper() in ("ON", "1", "TRUE", "YES") if m else None


def check_version():
    rc, out, err = cfp_lines(["--version"])
    lines = out.splitlines()
    check(rc == 0 and not err and lines, "cfp --version: exit %d, stderr %r" % (rc, err))
    check(re.match(r"^cfp \d+\.\d+\.\d+$", lines[0]), "first line %r is not 'cfp X.Y.Z'" % lines[0])
    for lib in LIBRARIES:
        check(any(re.match(r"^%s \d+\.\d+" % lib, ln) for ln in lines), "--version lacks %s: %r" % (lib, out))
    check(re.search(r"^libcurl .*, TLS \S+", out, re.M) and "  protocols: " in out and " https" in out,
          "--version: libcurl's TLS or protocols missing: %r" % out)
    mpi = [ln for ln in lines if ln.startswith("MPI: ")]
    check(len(mpi) == 1, "--version: no one MPI line: %r" % out)
    with_mpi = built_with_mpi()
    if with_mpi is None:
        skip_part("--version MPI line", "no CMakeCache.txt beside %s to say if MPI is built" % CFP)
    elif with_mpi:
        check("not built" not in mpi[0] and "MPI standard" in mpi[0], "MPI build: %r" % mpi[0])
    else:
        check(mpi[0].startswith("MPI: not built"), "no-MPI build: %r" % mpi[0])


def main():
    check_help()
    check_bad_options()
    check_version()
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
