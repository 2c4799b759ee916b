#!/usr/bin/env bash
# jobs/bench_sequential.sh [RUNS] - throughput of the sequential engine on the
# default dataset served by the embedded loopback server at latency 0: files/s,
# MB/s and the per-phase split (fetch / process / write), median of RUNS (3).
# A benchmark, not a test: it prints figures; compare them as ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
jobs/build.sh build
ds=data/test_dataset
[ -f $ds/manifest.txt ] || build/cfp --generate-dataset --dataset-dir $ds --quiet
work=$(mktemp -d /tmp/cfp-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
for i in $(seq "$runs"); do
  build/cfp --mode sequential --dataset-dir $ds --latency-ms 0 --quiet \
    --output-dir "$work/out$i" --results "$work/bench.h5" --report "$work/report.txt"
done
/usr/bin/python3 - "$work/bench.h5" <<'PY'
import statistics, sys, h5py
f = h5py.File(sys.argv[1], "r")
rows = []
for rid in sorted(f["runs"]):
    g = f["runs"][rid]; a = g.attrs; t = g["tasks"][()]
    fetch, proc, write = t["t_fetch"].sum(), t["t_process"].sum(), t["t_write"].sum()
    tot = fetch + proc + write
    rows.append((a["wall_s"], a["tasks"] / a["wall_s"], a["bytes_in"] / a["wall_s"] / 1e6,
                 fetch / tot, proc / tot, write / tot, a["tasks"], a["bytes_in"]))
    print("%s: %d files, %.1f MB, wall %.2f s, %.1f files/s, %.1f MB/s, fetch %.0f%% process %.0f%% write %.0f%%"
          % (rid, a["tasks"], a["bytes_in"] / 1e6, a["wall_s"], rows[-1][1], rows[-1][2],
             100 * rows[-1][3], 100 * rows[-1][4], 100 * rows[-1][5]))
med = sorted(rows)[len(rows) // 2]
print("median: wall %.2f s, %.1f files/s, %.1f MB/s; phase split fetch %.0f%% / process %.0f%% / write %.0f%%"
      % (med[0], med[1], med[2], 100 * med[3], 100 * med[4], 100 * med[5]))
PY
