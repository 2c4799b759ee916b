#!/usr/bin/python3
"""jobs/bench_ab.py N 'label::command' ... - times shell commands interleaved
(round r runs each command once, in order), N rounds, and prints median, min
and max wall seconds per label. For A/B comparisons of two builds or two
option sets on a noisy machine: compare medians measured in one run.

  jobs/bench_ab.py 5 "old::/tmp/cfp-old -i list.txt -q" "new::build/cfp -i list.txt -q"
"""
import statistics
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    cmds = [a.split("::", 1) for a in sys.argv[2:]]
    if any(len(c) != 2 for c in cmds):
        sys.exit("each command is 'label::shell command'")
    times = {label: [] for label, _ in cmds}
    for _ in range(rounds):
        for label, cmd in cmds:
            t0 = time.perf_counter()
            rc = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            times[label].append(time.perf_counter() - t0)
            if rc != 0:
                print("%s: exit %d" % (label, rc), file=sys.stderr)
    for label, _ in cmds:
        t = times[label]
        print("%-28s median %.3f  min %.3f  max %.3f" % (label, statistics.median(t), min(t), max(t)))


if __name__ == "__main__":
    main()
