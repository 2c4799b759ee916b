#!/usr/bin/env bash
# jobs/bench_peers.sh [REPS] - cfp against the tools its users would otherwise
# pick, on the same files, in one interleaved run (../shared/bench's timer.py),
# reported as ratios. Needs ../shared/bench (the peer harness); installs its
# Debian packages. A benchmark, not a test: it prints figures.
#
# Plans (medians of REPS rounds, default 3):
#  A. whole peer dataset (150 files, ~287 MB), latency 0 (nginx):
#     seedpy.py's four modes vs cfp sequential / threading / async
#  B. the same behind 50 ms per-request latency (serve.py)
#  C. the 60 PNGs alone over file://: one vipsthumbnail process vs cfp
#     sequential and threading
#  D. 500 small files at 50 ms (cfp serve): async --concurrency 64 and
#     threading --workers 64 against the ideal files x latency / 64 + CPU / cores
#  E. 10,000 files of 1 KB over keep-alive at latency 0 (nginx): cfp async vs
#     curl --parallel --parallel-max 64 downloading the same list to disk
# PLANS="lat0 cpu" runs some of them (lat0 lat50 cpu io tiny = A..E).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
root=$(pwd)
shared=$(cd .. && pwd)/shared/bench
[ -d "$shared" ] || { echo "bench_peers: $shared not found (the peer harness)"; exit 77; }
jobs/deps.sh --tests
missing=()
for p in parallel libvips-tools imagemagick aria2 wget2 nginx-light python3-aiohttp python3-requests python3-pil; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
jobs/build.sh build
CFP=$root/build/cfp
H=$root/data/bench/harness          # a writable copy: the harness writes logs/ and out/ beside itself
mkdir -p "$H" && cp -r "$shared"/. "$H"/ && chmod -R u+w "$H"
cd "$H"
PY=/usr/bin/python3
[ -f data/urls.txt ] || $PY gen_dataset.py --out data --port 8000
W=$H/cfpwork; rm -rf "$W"; mkdir -p "$W"
mkdir -p logs out
sed 's/:8000\//:8050\//' data/urls.txt > logs/urls_8050.txt
find "$H/data/img" -name '*.png' | sort | sed 's|^|file://|' > "$W/png_urls.txt"

# D and E inputs: 500 small texts, 10,000 files of 1 KB.
mkdir -p "$W/small" "$W/tiny"
$PY - "$W" <<'PY'
import os, random, sys
w = sys.argv[1]; r = random.Random(7)
words = "the of and to in is was for on that with as by at from it be this are or".split()
for i in range(500):
    open(os.path.join(w, "small", "s%03d.txt" % i), "w").write(" ".join(r.choice(words) for _ in range(400)) + "\n")
body = ("tiny file payload " * 64)[:1023] + "\n"
for i in range(10000):
    open(os.path.join(w, "tiny", "t%05d.txt" % i), "w").write(body)
PY
ls "$W/tiny" | sed 's|^|http://127.0.0.1:8000/cfpwork/tiny/|' > "$W/tiny_urls.txt"
ln -sfn "$W" data/cfpwork

sh nginx.sh stop 2>/dev/null || true; sleep 0.3; sh nginx.sh start 8000 data
$PY serve.py --dir data --port 8050 --latency-ms 50 > logs/serve8050.log 2>&1 & SRV=$!
"$CFP" serve --root "$W/small" --port 8060 --latency-ms 50 > logs/cfpserve.log 2>&1 & CSRV=$!
trap 'kill $SRV $CSRV 2>/dev/null; sh nginx.sh stop' EXIT
sleep 1
ls "$W/small" | sed 's|^|http://127.0.0.1:8060/|' > "$W/small_urls.txt"
find -L data -type f -exec cat {} + > /dev/null   # page cache warm

cfp() { # label mode input extra...
  local mode=$1 input=$2; shift 2
  echo "$CFP --mode $mode --input $input --results $W/bench.h5 --report $W/report.txt --output-dir $W/out_$mode --quiet $*"
}
for lat in 0 50; do
  if [ $lat = 0 ]; then U=data/urls.txt; else U=logs/urls_8050.txt; fi
  {
    for m in seq threads procs async; do echo "net|seedpy $m|$lat|150|$PY seedpy.py --urls $U --mode $m --workers 8 --out out/seedpy_$lat"; done
    for m in sequential threading async; do echo "net|cfp $m|$lat|150|$(cfp $m $U)"; done
  } > logs/plan_cfp_lat$lat.txt
done
{
  echo "cpu|vipsthumbnail (1 process)|-|60|./peers.sh cpu-vipsthumbnail data out/cpu_vt"
  echo "cpu|cfp sequential (png file://)|-|60|$(cfp sequential $W/png_urls.txt)"
  echo "cpu|cfp threading (png file://)|-|60|$(cfp threading $W/png_urls.txt)"
} > logs/plan_cfp_cpu.txt
{
  echo "io|cfp async c64 (500 x 50 ms)|50|500|$(cfp async $W/small_urls.txt --concurrency 64)"
  echo "io|cfp threading w64 (500 x 50 ms)|50|500|$(cfp threading $W/small_urls.txt --workers 64)"
  echo "io|cfp sequential (500 x 50 ms)|50|500|$(cfp sequential $W/small_urls.txt)"
} > logs/plan_cfp_io.txt
{
  echo "tiny|cfp async c64 (10k x 1 KB)|0|10000|$(cfp async $W/tiny_urls.txt --concurrency 64)"
  echo "tiny|curl --parallel-max 64 (10k x 1 KB)|0|10000|./peers.sh dl-curl $W/tiny_urls.txt 64 out/dl_tiny"
} > logs/plan_cfp_tiny.txt
rm -f logs/cfp_results.tsv
for p in ${PLANS:-lat0 lat50 cpu io tiny}; do
  $PY timer.py --reps "$REPS" --warmup 0 --tsv logs/cfp_results.tsv logs/plan_cfp_$p.txt
done
$PY "$root/jobs/bench_ratios.py" logs/cfp_results.tsv "$W/bench.h5"
