#!/usr/bin/python3
"""Prints the ratios of jobs/bench_peers.sh from timer.py's TSV (medians) and
the cfp HDF5 results of the same runs (CPU time for the ideal bounds)."""
import csv
import os
import sys

import h5py

tsv, h5 = sys.argv[1], sys.argv[2]
med = {}
for row in csv.DictReader(open(tsv), delimiter="\t"):
    med[(row["label"], row["latency_ms"])] = float(row["median_s"])
    if row["rc"].strip("{}") not in ("0", "1"):
        print("warning: %s exited with %s" % (row["label"], row["rc"]))
cores = os.cpu_count()


def m(label, lat):
    return med.get((label, str(lat)))


def ratio(name, a, b, target=None):
    if a is None or b is None:
        print("%-60s n/a" % name)
        return
    r = a / b
    ok = "" if target is None else ("  (target >= %.1fx: %s)" % (target, "met" if r >= target else "NOT met"))
    print("%-60s %6.2fx  (%.2f s vs %.2f s)%s" % (name, r, a, b, ok))


print("== A/B: whole peer dataset (150 files); every cfp mode vs the same seedpy mode ==")
pairs = [("sequential", "seq"), ("threading", "threads"), ("async", "async")]
# The targets are at latency 0; at 50 ms the ratios are printed for
# reference (sequential there waits 150 x 50 ms in any language).
for lat in (0, 50):
    for c, s in pairs:
        ratio("lat %d ms: seedpy %s / cfp %s" % (lat, s, c), m("seedpy " + s, lat), m("cfp " + c, lat),
              5 if lat == 0 else None)
    best_s = min((v for v in (m("seedpy " + s, lat) for s in ("seq", "threads", "procs", "async")) if v), default=None)
    best_c = min((v for v in (m("cfp " + c, lat) for c, _ in pairs) if v), default=None)
    ratio("lat %d ms: seedpy best / cfp best" % lat, best_s, best_c, 8 if lat == 0 else None)

f = h5py.File(h5, "r")
runs = [(rid, f["runs"][rid].attrs) for rid in sorted(f["runs"])]


def cpu_of(mode, tasks, latency_input=None):
    """CPU seconds of the newest cfp run of that mode with that many tasks."""
    for rid, a in reversed(runs):
        if a["mode"] == mode and a["tasks"] == tasks and (latency_input is None or latency_input in a["input"]):
            return a["cpu_user_s"] + a["cpu_sys_s"], a["wall_s"]
    return None, None


print("\n== A/B: 50 ms latency: async vs max(files x latency / concurrency, CPU / cores) ==")
cpu, _ = cpu_of("async", 150, "8050")
if cpu is not None and m("cfp async", 50):
    ideal = max(150 * 0.05 / 64, cpu / cores)
    print("async %.2f s, ideal %.2f s (CPU %.2f s / %d cores): %.2fx the ideal (target <= 1.3x)"
          % (m("cfp async", 50), ideal, cpu, cores, m("cfp async", 50) / ideal))

print("\n== C: 60 PNGs over file:// ==")
ratio("vipsthumbnail / cfp sequential", m("vipsthumbnail (1 process)", "-"), m("cfp sequential (png file://)", "-"), 1.0)
ratio("cfp sequential / cfp threading", m("cfp sequential (png file://)", "-"), m("cfp threading (png file://)", "-"), 1.8)

print("\n== D: 500 small files at 50 ms ==")
for label, mode, bound in (("cfp async c64 (500 x 50 ms)", "async", 1.5), ("cfp threading w64 (500 x 50 ms)", "threading", 2.0)):
    cpu, _ = cpu_of(mode, 500)
    t = m(label, 50)
    if cpu is None or t is None:
        print("%s: n/a" % label)
        continue
    ideal = 500 * 0.05 / 64 + cpu / cores
    print("%-36s %.2f s, ideal %.2f s: %.2fx the ideal (target <= %.1fx: %s)"
          % (mode, t, ideal, t / ideal, bound, "met" if t / ideal <= bound else "NOT met"))
ratio("sequential / async", m("cfp sequential (500 x 50 ms)", 50), m("cfp async c64 (500 x 50 ms)", 50))

print("\n== E: 10,000 x 1 KB at latency 0 ==")
ratio("curl --parallel-max 64 / cfp async (>= 1 means cfp as fast or faster)",
      m("curl --parallel-max 64 (10k x 1 KB)", 0), m("cfp async c64 (10k x 1 KB)", 0), 1.0)
