#!/usr/bin/env bash
# jobs/bench_images.sh [REPS] [CFP_BINARY] [BASELINE_BINARY] - the image path
# alone: plan C of jobs/bench_peers.sh (the peer harness's 60 photo-like
# PNGs over file://, longest side <= 512) without the network plans, so a
# change to cfp_png / cfp_resize can be judged in a couple of minutes. One
# interleaved run of ../shared/bench's timer.py (REPS rounds, default 3):
# one vipsthumbnail process, cfp --mode sequential, cfp --mode threading,
# and with BASELINE_BINARY (e.g. a copy of cfp built before a change) its
# sequential mode too; prints medians, the ratios and the total output
# bytes of each. CFP_BINARY defaults to /tmp/pngbuild/cfp.
# A benchmark, not a test: it prints figures. Compare ratios within one run,
# never absolute seconds across runs (the machine is shared).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
root=$(pwd)
CFP=${2:-/tmp/pngbuild/cfp}
BASE=${3:-}
[ -x "$CFP" ] || { echo "bench_images: $CFP not built"; exit 77; }
[ -z "$BASE" ] || [ -x "$BASE" ] || { echo "bench_images: $BASE not found"; exit 77; }
shared=$(cd .. && pwd)/shared/bench
[ -d "$shared" ] || { echo "bench_images: $shared not found (the peer harness)"; exit 77; }
command -v vipsthumbnail > /dev/null || { echo "bench_images: vipsthumbnail missing (libvips-tools)"; exit 77; }
H=$root/data/bench/harness          # same writable copy as bench_peers.sh
mkdir -p "$H" && cp -r "$shared"/. "$H"/ && chmod -R u+w "$H"
cd "$H"
PY=/usr/bin/python3
[ -f data/urls.txt ] || $PY gen_dataset.py --out data --port 8000
W=$H/imgwork; rm -rf "$W"; mkdir -p "$W" logs out
find "$H/data/img" -name '*.png' | sort | sed 's|^|file://|' > "$W/png_urls.txt"
cat data/img/*.png > /dev/null      # page cache warm

cfp() { # binary mode tag: one run, its results file removed first (HDF5 appends)
  echo "rm -f $W/bench_$3.h5; $1 --mode $2 --input $W/png_urls.txt --results $W/bench_$3.h5 --report $W/report_$3.txt --output-dir $W/out_$3 --quiet"
}
{
  echo "cpu|vipsthumbnail (1 process)|-|60|./peers.sh cpu-vipsthumbnail data out/cpu_vt"
  echo "cpu|cfp sequential (png file://)|-|60|$(cfp "$CFP" sequential sequential)"
  echo "cpu|cfp threading (png file://)|-|60|$(cfp "$CFP" threading threading)"
  [ -z "$BASE" ] || echo "cpu|baseline cfp sequential (png file://)|-|60|$(cfp "$BASE" sequential baseline)"
} > "$W/plan.txt"
$PY timer.py --reps "$REPS" --warmup 0 --tsv "$W/results.tsv" "$W/plan.txt"
$PY - "$W/results.tsv" out/cpu_vt "$W/out_sequential" "$W/out_threading" "$W/out_baseline" <<'PY'
import csv, os, sys
med = {r["label"]: float(r["median_s"]) for r in csv.DictReader(open(sys.argv[1]), delimiter="\t")}
vt = med["vipsthumbnail (1 process)"]
seq, thr = med["cfp sequential (png file://)"], med["cfp threading (png file://)"]
base = med.get("baseline cfp sequential (png file://)")
print("vipsthumbnail / cfp sequential %.2fx  (%.2f s vs %.2f s; target >= 1.0)" % (vt / seq, vt, seq))
print("vipsthumbnail / cfp threading  %.2fx  (%.2f s vs %.2f s)" % (vt / thr, vt, thr))
print("cfp sequential / threading     %.2fx" % (seq / thr))
if base is not None:
    print("vipsthumbnail / baseline seq.  %.2fx  (%.2f s vs %.2f s)" % (vt / base, vt, base))
    print("baseline / cfp sequential      %.2fx  (%.2f s vs %.2f s)" % (base / seq, base, seq))
def size(d):
    n = b = 0
    for root, _, files in os.walk(d):
        for f in files:
            if f.endswith(".png"):
                n += 1
                b += os.path.getsize(os.path.join(root, f))
    return n, b
for label, d in (("vipsthumbnail", sys.argv[2]), ("cfp sequential", sys.argv[3]),
                 ("cfp threading", sys.argv[4]), ("baseline", sys.argv[5])):
    if base is None and label == "baseline":
        continue
    n, b = size(d)
    print("output %-15s %2d PNGs, %10d bytes" % (label, n, b))
PY
