#!/usr/bin/env python3
"""The sequential engine end to end under valgrind (memcheck): good and bad
URLs over real HTTP (cfp serve, tests/e2e/faultsrv.py) and file://, every kind of
task and failure path, --resume and cfp merge. valgrind must report no error
and no definite or indirect leak (--error-exitcode=99); cfp's own statuses
must be the expected ones."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import CFP, SRC, cfp_serve, check, fault_server, run_cfp, tmpdir  # noqa: E402

VG = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
      "--track-fds=no", "--quiet"]


def vg(args, want):
    p = subprocess.run(VG + [CFP] + args, capture_output=True, text=True, timeout=900)
    check(p.returncode == want, "valgrind cfp %s: exit %d (want %d; 99 = valgrind found errors)\n%s"
          % (" ".join(args[:4]), p.returncode, want, p.stderr[-4000:]))


def main():
    work = tmpdir("cfp-vg-")
    ds = os.path.join(work, "ds")
    rc, _, err = run_cfp(["-g", "-d", ds, "-q", "--num-images", "3", "--num-texts", "3", "--num-csv", "3"])
    check(rc == 0, "generate: " + err)
    srv, base = cfp_serve(ds)
    fsrv, fbase = fault_server()
    try:
        names = sorted(n for n in os.listdir(ds) if n != "manifest.txt")
        bad = ["/status/404/a.txt", "/truncate/t.txt", "/loop/0", "/tofile", "/flaky/1/f.txt",
               "/gzbomb/4/g.txt", "/empty/e.txt", "/chunkcut/c.txt"]
        with open(os.path.join(work, "bad.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
        urls = [base + n for n in names] + [fbase + b for b in bad] + [
            "file://" + os.path.join(work, "bad.png"), "ftp://127.0.0.1/x", "not a url"]
        lst = os.path.join(work, "list.txt")
        with open(lst, "w") as f:
            f.write("\n".join(urls) + "\n")
        common = ["-i", lst, "-q", "-m", "sequential", "-o", os.path.join(work, "out"), "--max-bytes", "1M",
                  "--retries", "1"]
        vg(common + ["-r", os.path.join(work, "r.h5")], 1)
        vg(common + ["-r", os.path.join(work, "r.h5"), "--resume"], 1)
        for k in (1, 2):
            vg(common + ["-r", os.path.join(work, "s%d.h5" % k), "--shard", "%d/2" % k], 1)
        vg(["merge", "-q", os.path.join(work, "m.h5"), os.path.join(work, "s1.h5"), os.path.join(work, "s2.h5")], 1)
        vg(["report", os.path.join(work, "m.h5"), "-o", os.path.join(work, "report.txt")], 0)
        print("valgrind: sequential run of %d URLs (%d bad), --resume, 2 shards, merge, report: "
              "no errors, no definite or indirect leaks" % (len(urls), len(bad) + 3))
    finally:
        srv.stop()
        fsrv.stop()
    shutil.rmtree(work, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
