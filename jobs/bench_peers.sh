#!/usr/bin/env bash
# jobs/bench_peers.sh [REPS] - cfp against the tools its users would otherwise
# pick, on the same files, in one interleaved run (../shared/bench's timer.py),
# reported as ratios. Needs ../shared/bench (the peer harness); installs its
# Debian packages. A benchmark, not a test: it prints figures.
#
# Plans (medians of REPS rounds, default 3; the commands of a plan run in
# turn, round after round, so they share the machine's drift):
#  A. whole peer dataset (150 files, ~287 MB), latency 0 (nginx):
#     seedpy.py's four modes vs cfp sequential / threading / async /
#     multiprocessing (also: its MPI start-up, from the results file)
#  B. the same behind 50 ms per-request latency (serve.py)
#  C. the 60 PNGs alone over file://: one vipsthumbnail process vs cfp
#     sequential and threading
#  D. 500 small files at 50 ms (cfp serve): async --concurrency 64 and
#     threading --workers 64 against the ideal files x latency / 64 + CPU / cores
#  E. 10,000 files of 1 KB over keep-alive at latency 0 (nginx): cfp async vs
#     curl --parallel --parallel-max 64 downloading the same list to disk
#  F. CPU seconds per file type: cfp sequential over file:// lists of the
#     60 PNGs, the 60 texts and the 30 CSVs, each under GNU time (user +
#     sys, and wall), the three interleaved, medians of REPS rounds
# PLANS="lat0 cpu" runs some of them (lat0 lat50 cpu io tiny types = A..F).
# CFP_BUILD=DIR builds and measures DIR/cfp instead of build/cfp.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
BUILD=${CFP_BUILD:-build}
root=$(pwd)
shared=$(cd .. && pwd)/shared/bench
[ -d "$shared" ] || { echo "bench_peers: $shared not found (the peer harness)"; exit 77; }
jobs/deps.sh --tests --bench
missing=()
for p in parallel libvips-tools imagemagick aria2 wget2 nginx-light python3-aiohttp python3-requests python3-pil; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
jobs/build.sh "$BUILD"
case $BUILD in /*) CFP=$BUILD/cfp ;; *) CFP=$root/$BUILD/cfp ;; esac
# --mode multiprocessing starts mpirun: as root it needs Open MPI's consent.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
H=$root/data/bench/harness          # a writable copy: the harness writes logs/ and out/ beside itself
mkdir -p "$H" && cp -r "$shared"/. "$H"/ && chmod -R u+w "$H"
cd "$H"
PY=/usr/bin/python3
[ -f data/urls.txt ] || $PY gen_dataset.py --out data --port 8000
W=$H/cfpwork; rm -rf "$W"; mkdir -p "$W"
mkdir -p logs out
sed 's/:8000\//:8050\//' data/urls.txt > logs/urls_8050.txt
find "$H/data/img" -name '*.png' | sort | sed 's|^|file://|' > "$W/png_urls.txt"
find "$H/data/txt" -name '*.txt' | sort | sed 's|^|file://|' > "$W/txt_urls.txt"
find "$H/data/csv" -name '*.csv' | sort | sed 's|^|file://|' > "$W/csv_urls.txt"

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
    # The seed's process pool, as cfp does it: ranks started by mpirun (A only).
    if [ $lat = 0 ]; then echo "net|cfp multiprocessing|$lat|150|$(cfp multiprocessing $U)"; fi
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

# F: CPU seconds of cfp sequential per file type, over file:// (GNU time).
types() {
  $PY - "$REPS" "$CFP" "$W" <<'PY'
import os, statistics, subprocess, sys
reps, cfp, w = int(sys.argv[1]), sys.argv[2], sys.argv[3]
kinds = [(k, l, sum(1 for _ in open(os.path.join(w, l))))
         for k, l in (("images", "png_urls.txt"), ("texts", "txt_urls.txt"), ("CSVs", "csv_urls.txt"))]
got = {k: [] for k, _, _ in kinds}
for r in range(reps):
    for kind, lst, _ in kinds:
        tf = os.path.join(w, "time_%s.txt" % kind)
        cmd = ["/usr/bin/time", "-f", "%e %U %S", "-o", tf, cfp, "--mode", "sequential", "--input",
               os.path.join(w, lst), "--results", os.path.join(w, "types.h5"), "--no-report",
               "--output-dir", os.path.join(w, "out_types_" + kind), "--quiet"]
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode not in (0, 1):
            sys.exit("types: %s exited %d: %s" % (kind, p.returncode, p.stderr[-500:]))
        e, u, s = map(float, open(tf).read().split()[-3:])
        got[kind].append((e, u, s))
        print("rep%d %-7s wall %.3f s, user %.3f s, sys %.3f s" % (r, kind, e, u, s), file=sys.stderr)
print("\n== F: cfp sequential over file://, per file type (GNU time, medians of %d rounds) ==" % reps)
print("%-7s %6s %9s %9s %9s %9s %12s" % ("type", "files", "wall_s", "user_s", "sys_s", "cpu_s", "cpu_ms/file"))
total = 0.0
for kind, _, n in kinds:
    med = lambda i: statistics.median(t[i] for t in got[kind])
    cpu = statistics.median(t[1] + t[2] for t in got[kind])
    total += cpu
    print("%-7s %6d %9.3f %9.3f %9.3f %9.3f %12.1f" % (kind, n, med(0), med(1), med(2), cpu, 1000 * cpu / n))
print("%-7s %6d %9s %9s %9s %9.3f" % ("all", sum(n for _, _, n in kinds), "", "", "", total))
PY
}

# A's multiprocessing runs: MPI start-up (mpi_startup_s) against their wall.
mpi_startup() {
  $PY - "$W/bench.h5" logs/cfp_results.tsv <<'PY'
import csv, statistics, sys
import h5py
runs = []
with h5py.File(sys.argv[1], "r") as f:
    for rid in sorted(f["runs"]):
        a = f["runs"][rid].attrs
        if a["mode"] == "mpi" and a["tasks"] == 150 and "mpi_startup_s" in a and a["mpi_startup_s"] > 0:
            runs.append((float(a["mpi_startup_s"]), float(a["wall_s"]), int(a["ranks"])))
outside = [float(r["median_s"]) for r in csv.DictReader(open(sys.argv[2]), delimiter="\t")
           if r["label"] == "cfp multiprocessing"]
if runs:
    su, wall = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    print("\n== A: cfp multiprocessing (%d ranks), medians of %d runs ==" % (runs[-1][2], len(runs)))
    print("MPI start-up (mpirun to the last MPI_Init return) %.3f s; the run's own wall %.3f s;"
          " timed from outside %s" % (su, wall, "%.3f s" % outside[0] if outside else "n/a"))
PY
}

rm -f logs/cfp_results.tsv
for p in ${PLANS:-lat0 lat50 cpu io tiny types}; do
  [ "$p" = types ] && continue
  $PY timer.py --reps "$REPS" --warmup 0 --tsv logs/cfp_results.tsv logs/plan_cfp_$p.txt
done
[ -f logs/cfp_results.tsv ] && $PY "$root/jobs/bench_ratios.py" logs/cfp_results.tsv "$W/bench.h5"
case " ${PLANS:-lat0 lat50 cpu io tiny types} " in *" lat0 "*) mpi_startup ;; esac
case " ${PLANS:-lat0 lat50 cpu io tiny types} " in *" types "*) types ;; esac
