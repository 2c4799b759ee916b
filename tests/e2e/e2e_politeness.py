#!/usr/bin/env python3
"""--per-host-connections: transfers in flight to one server, counted by the
server itself (tests/e2e/faultsrv.py /slow/ counts requests being answered at
once). Two servers (two origins), 24 slow URLs each, interleaved:
- threading (16 workers) and async (concurrency 32): with the cap, neither
  server ever sees more than N at once; without it, more (the test can fail);
- under mpirun -np 3 (3 ranks fetch, async): the cap holds for the whole
  job, the ranks' shares adding up to N; a cap below the number of fetching
  ranks is refused with a clear message.
"""
import os
import shutil
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import CFP, check, fault_server, read_runs, run_cfp, tmpdir  # noqa: E402


def maxconc(base):
    with urllib.request.urlopen(base + "/maxconc", timeout=10) as r:
        return int(r.read().decode().strip())


def main():
    work = tmpdir("cfp-polite-")
    s1, b1 = fault_server()
    s2, b2 = fault_server()
    try:
        lst = os.path.join(work, "urls.txt")
        with open(lst, "w") as f:
            for i in range(24):
                f.write("%s/slow/150/a%02d.txt\n%s/slow/150/b%02d.txt\n" % (b1, i, b2, i))
        common = ["-i", lst, "-q", "-o", os.path.join(work, "out")]
        maxconc(b1), maxconc(b2)  # reset
        runs = [("threading", ["-w", "16"], 3), ("async", ["-c", "32"], 4)]
        for mode, extra, n in runs:
            for cap in (n, None):
                args = common + ["-m", mode, "-r", os.path.join(work, "%s.h5" % mode)] + extra
                if cap:
                    args += ["--per-host-connections", str(cap)]
                rc, _, err = run_cfp(args)
                check(rc == 0, "%s cap %s: exit %d\n%s" % (mode, cap, rc, err))
                m1, m2 = maxconc(b1), maxconc(b2)
                if cap:
                    check(m1 <= cap and m2 <= cap, "%s --per-host-connections %d: servers saw %d and %d at once"
                          % (mode, cap, m1, m2))
                    check(m1 >= 1 and m2 >= 1, "%s: no request seen" % mode)
                else:
                    check(m1 > n and m2 > n, "%s without a cap: only %d and %d at once (the test could not fail)"
                          % (mode, m1, m2))
                print("%s %s: at most %d and %d requests at once on the two servers"
                      % (mode, "--per-host-connections %d" % cap if cap else "without a cap", m1, m2))
        if shutil.which("mpirun") and os.environ.get("CFP_SANITIZE", "") == "":
            mpirun = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "3", CFP]
            for cap in (4, None):
                args = mpirun + common + ["-m", "mpi", "--rank-engine", "async", "-c", "16",
                                          "-r", os.path.join(work, "mpi.h5")]
                if cap:
                    args += ["--per-host-connections", str(cap)]
                p = subprocess.run(args, capture_output=True, text=True, timeout=300)
                check(p.returncode == 0, "mpi cap %s: exit %d\n%s" % (cap, p.returncode, p.stderr[-2000:]))
                m1, m2 = maxconc(b1), maxconc(b2)
                if cap:
                    check(m1 <= cap and m2 <= cap, "mpirun -np 3 --per-host-connections %d: servers saw %d and %d"
                          % (cap, m1, m2))
                else:
                    check(m1 > 4 and m2 > 4, "mpirun without a cap: only %d and %d at once" % (m1, m2))
                ranks = {r["rank"] for r in read_runs(os.path.join(work, "mpi.h5"))[-1][2]}
                check(len(ranks) == 3, "mpi: tasks ran on ranks %s, want all 3" % sorted(ranks))
                print("mpirun -np 3 %s: at most %d and %d at once, tasks on all 3 ranks"
                      % ("--per-host-connections %d (shares 2+1+1)" % cap if cap else "without a cap", m1, m2))
            p = subprocess.run(mpirun + common + ["-m", "mpi", "-r", os.path.join(work, "bad.h5"),
                                                  "--per-host-connections", "2"],
                               capture_output=True, text=True, timeout=120)
            check(p.returncode == 3 and "less than the 3 ranks" in p.stderr,
                  "cap below the ranks: exit %d: %s" % (p.returncode, p.stderr[-500:]))
            print("mpirun -np 3 --per-host-connections 2: refused (%s)" % p.stderr.strip().splitlines()[0][:90])
    finally:
        s1.stop()
        s2.stop()
    shutil.rmtree(work, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
