#!/usr/bin/env bash
# jobs/bench_bigimage.sh [MAX_MP] [REPS] [CFP_BINARY] - huge images: cfp
# against vipsthumbnail, and the peak memory of cfp's modes.
#
#  1. Generates (once, cached in data/bench/bigimage/) photo-like RGB PNGs of
#     100 MP (12500x8000), 400 MP (25000x16000) and 1 GP (40000x25000) with
#     `cfp generate-image`, those up to MAX_MP megapixels (default 1000: all
#     three; `jobs/bench_bigimage.sh 100` is the quick run), and prints their
#     sizes.
#  2. Thumbnails each to a longest side of 512, REPS times (default 3),
#     interleaved: cfp --mode sequential on a one-line file:// URL list (limits
#     raised: --max-pixels 4000000000 --max-bytes 8G) and `vipsthumbnail -s
#     512`, each under GNU time; prints the medians side by side: wall
#     seconds, peak RSS, and the ratios cfp / vips.
#  3. Runs sequential, threading and async on the comparison's CPU workload
#     (data/workloads/cpu, 16 large images; generated as `cfp --compare
#     --generate-dataset` does if missing), as file:// URLs and over HTTP
#     from `cfp serve` in its own process, REPS times interleaved, each under
#     GNU time; prints each mode's median wall time and peak RSS, and the RSS
#     ratio to sequential. (--compare's report has an rss_MB column too, but
#     its modes share one process with each other and with the server.)
# CFP_BINARY defaults to build/cfp, built first with jobs/build.sh. A
# benchmark, not a test: it prints figures; compare ratios within one run
# (the machine is shared). Needs vipsthumbnail and GNU time (jobs/deps.sh
# --bench) and disk for the images (~1.5 bytes a pixel: 1 GP is ~1.5 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
MAX_MP=${1:-1000}
REPS=${2:-3}
CFP=${3:-}
case $MAX_MP$REPS in *[!0-9]*) echo "usage: jobs/bench_bigimage.sh [MAX_MP] [REPS] [CFP_BINARY]" >&2; exit 2 ;; esac
[ "$REPS" -ge 1 ] || { echo "bench_bigimage: REPS must be at least 1" >&2; exit 2; }
jobs/deps.sh --bench
if [ -z "$CFP" ]; then
  jobs/build.sh build
  CFP=$root/build/cfp
fi
[ -x "$CFP" ] || { echo "bench_bigimage: $CFP not built"; exit 77; }
CFP=$(cd "$(dirname "$CFP")" && pwd)/$(basename "$CFP")
command -v vipsthumbnail > /dev/null || { echo "bench_bigimage: vipsthumbnail missing (jobs/deps.sh --bench)"; exit 77; }
[ -x /usr/bin/time ] || { echo "bench_bigimage: GNU time missing (jobs/deps.sh --bench)"; exit 77; }
TIME=/usr/bin/time
PY=/usr/bin/python3

img=$root/data/bench/bigimage
mkdir -p "$img"
work=$(mktemp -d /tmp/cfp-bigimage-XXXXXX)
trap 'rm -rf "$work"' EXIT

# label megapixels width height
sizes=("100MP 100 12500 8000" "400MP 400 25000 16000" "1GP 1000 40000 25000")

avail_bytes() { df -P -B1 "$1" | awk 'NR == 2 { print $4 }'; }

# 1. The images, generated once. The name holds every option that changes
# the bytes (the defaults of generate-image: seed 42, noise 3, zlib level 1).
echo "== images (data/bench/bigimage, cached)"
files=()
for s in "${sizes[@]}"; do
  read -r label mp w h <<< "$s"
  [ "$mp" -le "$MAX_MP" ] || continue
  f=$img/photo_${w}x${h}_rgb_s42.png
  if [ ! -f "$f" ]; then
    need=$((w * h * 3 / 2 + (1 << 30))) # the file, and 1 GB to spare
    if [ "$(avail_bytes "$img")" -lt "$need" ]; then
      echo "bench_bigimage: not enough disk in $img for $label ($((need >> 20)) MB wanted)" >&2
      exit 3
    fi
    "$TIME" -f '%e %M' -o "$work/gen" "$CFP" generate-image --size "${w}x${h}" --seed 42 \
      --color rgb -q -o "$f"
    how=$(awk '{ printf "generated in %.1f s, peak RSS %.1f MB", $1, $2 / 1024 }' "$work/gen")
  else
    how=cached
  fi
  awk -v l="$label" -v s="${w}x${h}" -v b="$(stat -c %s "$f")" -v f="$f" -v h="$how" \
    'BEGIN { printf "%-6s %11s %9.1f MB  %s (%s)\n", l, s, b / 1e6, f, h }'
  files+=("$label $f")
done
[ ${#files[@]} -gt 0 ] || { echo "bench_bigimage: no size up to $MAX_MP MP (100, 400, 1000)" >&2; exit 2; }

# One timed run: `timed OUT LOG cmd...` appends "wall_s peak_kb rc" to OUT
# (rc non-zero: the tool failed; its stderr is in LOG).
timed() {
  local out=$1 log=$2 rc=0
  shift 2
  "$TIME" -f '%e %M' -o "$work/t" "$@" > "$log" 2>&1 || rc=$?
  echo "$(tail -n 1 "$work/t") $rc" >> "$out"
}

# 2. cfp against vipsthumbnail, interleaved.
echo
echo "== thumbnail to 512 px: cfp --mode sequential vs vipsthumbnail, $REPS rounds"
: > "$work/big.tsv"
for entry in "${files[@]}"; do
  read -r label f <<< "$entry"
  echo "file://$f" > "$work/urls.txt"
  cat "$f" > /dev/null # page cache warm for both
  for _ in $(seq "$REPS"); do
    rm -rf "$work/cfp_out" "$work/r.h5" "$work/vips.png"
    timed "$work/cfp_$label" "$work/cfp_$label.log" "$CFP" --mode sequential \
      --input "$work/urls.txt" --output-dir "$work/cfp_out" --results "$work/r.h5" \
      --no-report --max-pixels 4000000000 --max-bytes 8G --quiet
    timed "$work/vips_$label" "$work/vips_$label.log" vipsthumbnail -s 512 "$f" -o "$work/vips.png"
  done
  echo "$label $(stat -c %s "$f") $work/cfp_$label $work/vips_$label" >> "$work/big.tsv"
done
$PY - "$work/big.tsv" <<'PY'
import statistics, sys

def runs(path):
    """Median wall s and peak MB of the runs that succeeded, and how many failed."""
    ok = [l.split() for l in open(path) if l.split()[2] == "0"]
    bad = sum(1 for l in open(path) if l.split()[2] != "0")
    if not ok:
        return None, None, bad
    return (statistics.median(float(t) for t, _, _ in ok),
            statistics.median(int(k) for _, k, _ in ok) / 1024, bad)

def ratio(a, b):
    return "%.2f" % (a / b) if a is not None and b else "-"

def num(v, fmt):
    return fmt % v if v is not None else "failed"

print("%-6s %8s %8s %8s %6s %8s %8s %6s" % ("size", "file_MB", "cfp_s", "vips_s", "ratio",
                                            "cfp_MB", "vips_MB", "ratio"))
notes = []
for line in open(sys.argv[1]):
    label, size, cfp_path, vips_path = line.split()
    ct, cm, cbad = runs(cfp_path)
    vt, vm, vbad = runs(vips_path)
    print("%-6s %8.1f %8s %8s %6s %8s %8s %6s" % (
        label, int(size) / 1e6, num(ct, "%.2f"), num(vt, "%.2f"), ratio(ct, vt),
        num(cm, "%.0f"), num(vm, "%.0f"), ratio(cm, vm)))
    for tool, bad in (("cfp", cbad), ("vipsthumbnail", vbad)):
        if bad:
            notes.append("%s %s: %d run(s) failed (its last stderr below)" % (label, tool, bad))
print("Medians; ratio = cfp / vipsthumbnail (time, then peak RSS; below 1: cfp uses less).")
for n in notes:
    print(n)
PY
for entry in "${files[@]}"; do
  read -r label f <<< "$entry"
  for tool in cfp vips; do
    if grep -qv ' 0$' "$work/${tool}_$label"; then
      echo "--- $label $tool, last failed run:"
      tail -n 3 "$work/${tool}_$label.log"
    fi
  done
done

# 3. Peak RSS of the modes on the comparison's CPU workload.
ds=$root/data/workloads/cpu
if [ ! -f "$ds/manifest.txt" ]; then
  # What `cfp --compare --generate-dataset` makes for its cpu workload.
  "$CFP" --generate-dataset --profile large --num-images 16 --num-texts 0 --num-csv 0 \
    --seed 42 --dataset-dir "$ds" --quiet
fi
# The same images as file:// URLs and over HTTP from `cfp serve` (its own
# process, latency 0: the server's memory is not counted in the modes').
find "$ds" -name '*.png' | sort > "$work/cpu_files.txt"
sed 's|^|file://|' "$work/cpu_files.txt" > "$work/cpu_file.txt"
"$CFP" serve --root "$ds" --port 0 > "$work/serve.out" 2> "$work/serve.log" &
srv=$!
trap 'kill "$srv" 2> /dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q 'http://' "$work/serve.out" && break; sleep 0.1; done
base=$(grep -o 'http://[^ ]*/' "$work/serve.out" | head -n 1) ||
  { echo "bench_bigimage: cfp serve did not start: $(cat "$work/serve.log")" >&2; exit 3; }
sed "s|^.*/|$base|" "$work/cpu_files.txt" > "$work/cpu_http.txt"
xargs -d '\n' cat < "$work/cpu_files.txt" > /dev/null
echo
echo "== modes on the CPU workload ($(wc -l < "$work/cpu_files.txt") images, $(du -sm "$ds" | cut -f1) MB), $REPS rounds"
modes=(sequential threading async)
for _ in $(seq "$REPS"); do
  for t in file http; do
    for m in "${modes[@]}"; do
      rm -rf "$work/out_$m" "$work/m_$m.h5"
      timed "$work/mode_${t}_$m" "$work/mode_${t}_$m.log" "$CFP" --mode "$m" \
        --input "$work/cpu_$t.txt" --output-dir "$work/out_$m" --results "$work/m_$m.h5" \
        --no-report --quiet
    done
  done
done
kill "$srv" 2> /dev/null || true
$PY - "$work" "${modes[@]}" <<'PY'
import statistics, sys
work, modes = sys.argv[1], sys.argv[2:]

def median(t, m):
    """Median wall s and peak MB of the runs that succeeded, and how many failed."""
    runs = [l.split() for l in open("%s/mode_%s_%s" % (work, t, m))]
    ok = [r for r in runs if r[2] == "0"]
    if not ok:
        return None, None, len(runs)
    return (statistics.median(float(r[0]) for r in ok),
            statistics.median(int(r[1]) for r in ok) / 1024, len(runs) - len(ok))

print("%-11s %8s %8s %8s   %8s %8s %8s" % ("mode", "file_s", "file_MB", "/seq",
                                           "http_s", "http_MB", "/seq"))
rows = {t: {m: median(t, m) for m in modes} for t in ("file", "http")}
failed = []
for m in modes:
    cols = []
    for t in ("file", "http"):
        wall, mb, bad = rows[t][m]
        seq = rows[t][modes[0]][1]
        cols += ["%.2f" % wall if wall is not None else "failed",
                 "%.0f" % mb if mb is not None else "failed",
                 "%.2f" % (mb / seq) if mb is not None and seq else "-"]
        if bad:
            failed.append("%s over %s: %d run(s) failed" % (m, t, bad))
    print("%-11s %8s %8s %8s   %8s %8s %8s" % tuple([m] + cols))
print("Medians of wall time and peak RSS (GNU time %M, the whole cfp process) over file://\n"
      "and over HTTP; /seq = the mode's peak RSS / sequential's.")
for f in failed:
    print(f)
PY
