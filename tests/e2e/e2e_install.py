#!/usr/bin/env python3
"""cfp installed like a real tool (issue #16): what `cmake --install` puts
under a prefix and nothing else, the installed binary run from another
directory without the source tree, the man page against every command's
--help (both ways), the bash completion; and the Debian package.

  e2e_install.py BUILD_DIR            install into a temporary prefix, check it
  e2e_install.py BUILD_DIR --deb      cpack -G DEB: its Depends and its files
  e2e_install.py BUILD_DIR --chroot   the .deb installed with apt-get in a fresh
                                      Debian 12 chroot (fresh-check.sh, as root;
                                      slow: label "slow", not in tests/run.sh),
                                      then cfp --compare --generate-dataset
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import check, fail, skip_part, tmpdir  # noqa: E402

# What an install holds, below the prefix (Debian package: below /usr).
EXAMPLES = ("cfp.sbatch", "cfp-array.sbatch", "cfp-merge.sbatch", "cfp-array-submit.sh", "local.sh")
EXPECTED = {"bin/cfp", "share/man/man1/cfp.1", "share/bash-completion/completions/cfp"} | {
    "share/doc/cfp/examples/" + e for e in EXAMPLES}
# Libraries the package must depend on, by package name prefix.
SHLIBS = ("libcurl", "libpng", "libhdf5", "libmicrohttpd", "libdeflate")
OPTION = re.compile(r"(?<![\w-])--[a-z0-9][a-z0-9-]*")


def run(argv, cwd=None, env=None, timeout=600, ok=True):
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if ok:
        check(p.returncode == 0, "%s: exit %d\nstdout: %s\nstderr: %s"
              % (" ".join(argv), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    return p


def clean_env(prefix):
    """The environment of a user who installed cfp: no CFP_* variables (no
    CFP_SRC pointing at the checkout), the prefix's bin first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CFP_")}
    env["PATH"] = os.path.join(prefix, "bin") + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    return env


def file_set(root):
    out = set()
    for d, _, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


def commands(env):
    """The subcommands `cfp help` lists in its usage lines, except help."""
    text = run(["cfp", "help"], env=env).stdout
    names = re.findall(r"^\s*(?:Usage: )?cfp ([a-z][a-z-]*)", text, re.M)
    names = sorted(set(names) - {"help"})
    check({"serve", "report", "merge"} <= set(names), "cfp help lists %r" % names)
    return names


def man_text(page):
    """The man page as a reader sees it: groff's rendering (which must give
    no warning), else the roff source with its escapes undone."""
    src = open(page).read()
    groff = shutil.which("groff")
    if groff:
        p = run([groff, "-man", "-Tascii", "-ww", "-P-cbou", page])
        check(not p.stderr.strip(), "groff warns about cfp.1: %s" % p.stderr)
        return p.stdout
    skip_part("man page rendering", "groff not found: roff source checked")
    return roff_text(src)


def roff_text(src):
    """The roff source as text, without groff: comments dropped, a heading's
    macro (.SH NAME) and a line's font macro (.B, .BR, .TP...) taken off,
    escapes undone."""
    out = []
    for line in src.splitlines():
        if line.startswith('.\\"'):
            continue
        line = re.sub(r"^\.[A-Za-z]+ ?", "", line).replace('"', "")
        out.append(re.sub(r"\\f[BIRP]", "", line.replace("\\-", "-").replace("\\%", "")))
    return "\n".join(out)


def check_man(prefix, env):
    page = os.path.join(prefix, "share", "man", "man1", "cfp.1")
    text = man_text(page)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "EXIT STATUS"):
        check(re.search(r"^%s$" % section, text, re.M), "cfp.1 has no %s section" % section)
    version = run(["cfp", "--version"], env=env).stdout.splitlines()[0].split()[1]
    check("cfp %s" % version in text, "cfp.1 does not say version %s" % version)
    # Every long option of every command's help is in the man page, and
    # every option the man page names is in some help.
    helps = {None: run(["cfp", "--help"], env=env).stdout}
    for cmd in commands(env):
        helps[cmd] = run(["cfp", cmd, "--help"], env=env).stdout
    in_help = set()
    for cmd, h in helps.items():
        opts = set(OPTION.findall(h))
        check(opts, "no options in the help of %s" % (cmd or "cfp"))
        for o in sorted(opts - set(OPTION.findall(text))):
            fail("%s (in the help of %s) is not in the man page doc/cfp.1" % (o, cmd or "cfp"))
        in_help |= opts
    for o in sorted(set(OPTION.findall(text)) - in_help):
        fail("%s is in the man page doc/cfp.1 but in no command's --help" % o)
    # The relative defaults are documented as relative to the current directory.
    src = " ".join(open(page).read().split())
    check("relative to the current directory" in src, "cfp.1 FILES: relative to what?")
    if shutil.which("man"):
        p = run(["man", "--manpath=" + os.path.join(prefix, "share", "man"), "cfp"],
                env=dict(env, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
        check("cfp - concurrent" in p.stdout, "man cfp (installed): %r" % p.stdout[:300])
    print("man page: %d options, every one in a --help (%s) and back" % (
        len(in_help), ", ".join(c or "cfp" for c in helps)))


def complete(prefix, env, words, cwd):
    """COMPREPLY of the installed completion for COMP_WORDS=WORDS (the
    last word is the one being completed)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'complete -p cfp >/dev/null || exit 9; _cfp; printf "%s\\n" "${COMPREPLY[@]}"')
    comp = os.path.join(prefix, "share", "bash-completion", "completions", "cfp")
    p = run(["bash", "-c", script, "bash", comp] + list(words), cwd=cwd, env=env)
    return sorted(w for w in p.stdout.splitlines() if w)


def check_completion(prefix, env, work):
    modes = run(["cfp", "--version"], env=env).stdout
    modes = sorted(re.search(r"^Modes: (.*)$", modes, re.M).group(1).split())
    cases = [(["cfp", "--mo"], ["--mode"]),
             (["cfp", "--mode", ""], modes),
             (["cfp", "-m", "th"], ["threading"]),
             (["cfp", "s"], ["serve"]),
             (["cfp", "help", "me"], ["merge"]),
             (["cfp", "serve", "--ro"], ["--root"]),
             (["cfp", "merge", "--rep"], ["--report"]),
             (["cfp", "--rank-engine", "a"], ["async"]),
             (["cfp", "--workload", ""], ["both", "cpu", "io"]),
             (["cfp", "--input", "url"], ["urls.txt"]),
             (["cfp", "report", "data/processed/res"], ["data/processed/results.h5"]),
             (["cfp", "--output-dir", "da"], ["data"])]
    if "export" in commands(env):
        cases += [(["cfp", "export", "--sta"], ["--status"]),
                  (["cfp", "export", "--format", "j"], ["jsonl"])]
    for words, want in cases:
        got = complete(prefix, env, words, work)
        check(got == want, "completion of %r: %r, expected %r" % (words, got, want))
    got = complete(prefix, env, ["cfp", "--"], work)
    check({"--mode", "--input", "--compare", "--resume", "--help"} <= set(got),
          "completion of 'cfp --': %r" % got)
    print("bash completion: %d cases" % (len(cases) + 1))


def run_installed(env, work):
    """The installed cfp, from a directory far from the checkout: a small
    dataset, then a URL list of file:// URLs; the relative defaults land
    under the current directory."""
    rc = run(["cfp", "--generate-dataset", "--num-images", "2", "--num-texts", "2", "--num-csv", "1",
              "--mode", "async", "-q"], cwd=work, env=env)
    names = open(os.path.join(work, "data", "test_dataset", "manifest.txt")).read().split()
    check(len(names) == 5, "manifest: %r" % names)
    with open(os.path.join(work, "urls.txt"), "w") as f:
        for n in names:
            f.write("file://%s\n" % os.path.join(work, "data", "test_dataset", n))
    rc = run(["cfp", "--mode", "threading", "--input", "urls.txt", "-q"], cwd=work, env=env)
    outs = os.listdir(os.path.join(work, "data", "processed", "threading"))
    check(len(outs) == 5, "outputs: %r" % outs)
    for f in ("results.h5", "performance_report.txt", "performance_report.svg"):
        check(os.path.isfile(os.path.join(work, "data", "processed", f)), "no data/processed/" + f)
    rc = run(["cfp", "report", "data/processed/results.h5", "-o", "-"], cwd=work, env=env)
    check("threading" in rc.stdout, "cfp report: %r" % rc.stdout[:300])
    print("installed cfp ran from %s: 5 file:// URLs, outputs under ./data/processed" % work)


def check_install(build):
    prefix = tmpdir("cfp-prefix-")
    work = tmpdir("cfp-work-")
    try:
        run(["cmake", "--install", build, "--prefix", prefix])
        got = file_set(prefix)
        check(got == EXPECTED, "installed files: extra %r, missing %r"
              % (sorted(got - EXPECTED), sorted(EXPECTED - got)))
        for rel in ["bin/cfp"] + ["share/doc/cfp/examples/" + e for e in EXAMPLES]:
            check(os.access(os.path.join(prefix, rel), os.X_OK), "%s is not executable" % rel)
        env = clean_env(prefix)
        check(shutil.which("cfp", path=env["PATH"]) == os.path.join(prefix, "bin", "cfp"),
              "cfp on PATH is not the installed one")
        p = run(["cfp", "--help"], cwd=work, env=env)
        check(p.stdout.startswith("Usage: cfp"), "installed cfp --help: %r" % p.stdout[:200])
        run_installed(env, work)
        check_man(prefix, env)
        check_completion(prefix, env, work)
        print("installed: " + " ".join(sorted(got)))
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def make_deb(build, out):
    """cpack -G DEB into OUT with the build's CPack settings; returns the
    package's path. Plain cpack first builds the tree (its "preinstall"
    target), which would relink cfp under the tests running beside this
    one if a source changed since the build: it packs the files of
    `cmake --install` into OUT/stage/usr instead."""
    for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps"):
        if not shutil.which(tool):
            skip_part("Debian package", "%s not found (apt-get install cmake dpkg-dev)" % tool)
            sys.exit(77)
    stage = os.path.join(out, "stage")
    run(["cmake", "--install", build, "--prefix", os.path.join(stage, "usr")])
    run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"), "-B", out,
         "-D", "CPACK_INSTALL_CMAKE_PROJECTS=", "-D", "CPACK_INSTALLED_DIRECTORIES=%s;." % stage])
    debs = [f for f in os.listdir(out) if re.match(r"cfp_.*\.deb$", f)]
    check(len(debs) == 1, "cpack made %r" % debs)
    return os.path.join(out, debs[0])


def check_deb(build):
    out = tmpdir("cfp-deb-")
    try:
        deb = make_deb(build, out)
        info = run(["dpkg-deb", "-I", deb]).stdout
        m = re.search(r"^ Depends: (.*)$", info, re.M)
        check(m, "no Depends in %s:\n%s" % (deb, info))
        deps = [d.strip().split()[0] for d in m.group(1).split(",")]
        for lib in SHLIBS + (("libopenmpi",) if os.environ.get("CFP_WITH_MPI") == "ON" else ()):
            check(any(d.startswith(lib) for d in deps), "Depends lacks %s: %r" % (lib, deps))
        check(not [d for d in deps if d.endswith("-dev")], "Depends has -dev packages: %r" % deps)
        listing = run(["dpkg-deb", "-c", deb]).stdout
        files = set()
        for line in listing.splitlines():
            path = line.split()[-1]
            if not path.endswith("/"):
                files.add(os.path.relpath(path, "./usr"))
        check(files == EXPECTED, "package files: extra %r, missing %r"
              % (sorted(files - EXPECTED), sorted(EXPECTED - files)))
        print("%s: Depends: %s" % (os.path.basename(deb), m.group(1)))
    finally:
        shutil.rmtree(out, ignore_errors=True)


CHROOT_CMDS = r"""set -e
export DEBIAN_FRONTEND=noninteractive OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
apt-get update -qq
apt-get install -y -qq ./cfp_*.deb >/dev/null
echo "installed: $(command -v cfp); $(dpkg-query -W cfp)"
mkdir /tmp/empty && cd /tmp/empty
cfp --compare --generate-dataset -q
test -s data/processed/performance_report.txt && test -s data/processed/results.h5
echo "report: $(head -n 3 data/processed/performance_report.txt | tr '\n' ' ')"
bash -c 'source /usr/share/bash-completion/completions/cfp; COMP_WORDS=(cfp --mo); COMP_CWORD=1;
         _cfp; [ "${COMPREPLY[*]}" = --mode ]'
echo CFP-CHROOT-OK
"""


def check_chroot(build):
    fresh = os.environ.get("CFP_FRESH_CHECK", os.path.join(
        os.environ.get("CFP_SRC", ""), "..", "shared", "tools", "fresh-check.sh"))
    if os.geteuid() != 0 or not os.path.isfile(fresh) or not shutil.which("git"):
        skip_part("the .deb in a fresh Debian 12 chroot",
                  "needs root, git and %s (CFP_FRESH_CHECK)" % fresh)
        sys.exit(77)
    run(["bash", fresh, "build"], timeout=1800)  # cached after the first time
    out = tmpdir("cfp-debrepo-")
    try:
        deb = make_deb(build, out)
        # fresh-check.sh clones a git repository into the chroot: a
        # throw-away one holding only the package carries it in.
        repo = os.path.join(out, "repo")
        os.mkdir(repo)
        shutil.copy(deb, repo)
        git = ["git", "-C", repo, "-c", "user.name=cfp test", "-c", "user.email=cfp@localhost"]
        run(git + ["init", "-q"])
        run(git + ["add", os.path.basename(deb)])
        run(git + ["commit", "-q", "-m", "the package"])
        p = run(["bash", fresh, "run", repo, CHROOT_CMDS], timeout=2400, ok=False,
                env=dict(os.environ, FRESH_LOG=os.path.join(out, "fresh.log")))
        print(p.stdout[-4000:], p.stderr[-4000:])
        check(p.returncode == 0 and "CFP-CHROOT-OK" in p.stdout + p.stderr,
              "fresh chroot: exit %d" % p.returncode)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    if len(sys.argv) < 2:
        fail("usage: e2e_install.py BUILD_DIR [--deb | --chroot]")
    build = os.path.abspath(sys.argv[1])
    what = sys.argv[2] if len(sys.argv) > 2 else None
    if what == "--deb":
        check_deb(build)
    elif what == "--chroot":
        check_chroot(build)
    else:
        check_install(build)


if __name__ == "__main__":
    main()
