#!/usr/bin/env bash
# jobs/bench_mpi.sh - the MPI layer's figures (a benchmark, not a test):
#  1. CPU-bound: 32 large images (file://): mpirun -np 2 --mode mpi
#     --rank-engine sequential against --mode sequential, as a ratio;
#  2. dispatch: 20,000 tiny file:// files with -np 3: tasks/s and the share of
#     wall time rank 0's dispatcher spent handling messages;
#  3. memory: rank 0's peak RSS for 1,000, 20,000 and 60,000 URLs.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs/build.sh build
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
CFP=$(pwd)/build/cfp
W=$(mktemp -d /tmp/cfp-bench-mpi-XXXXXX)
trap 'rm -rf "$W"' EXIT
MPI="mpirun --oversubscribe -np"
attr() { /usr/bin/python3 -c "
import h5py, sys
f = h5py.File('$1', 'r'); a = f['runs'][sorted(f['runs'])[-1]].attrs
print(a['$2'])"; }

echo "== 1. CPU-bound: 32 large images over file:// =="
$CFP --generate-dataset --profile large --num-images 32 --num-texts 0 --num-csv 0 --dataset-dir "$W/cpu" --quiet
ls "$W/cpu"/*.png | sed 's|^|file://|' > "$W/cpu.txt"
for rep in 1 2 3; do
  $CFP --mode sequential --input "$W/cpu.txt" --results "$W/cpu.h5" --output-dir "$W/o1" --quiet --no-report
  s=$(attr "$W/cpu.h5" wall_s)
  $MPI 2 $CFP --mode mpi --rank-engine sequential --input "$W/cpu.txt" --results "$W/cpu.h5" --output-dir "$W/o2" --quiet --no-report
  m=$(attr "$W/cpu.h5" wall_s)
  /usr/bin/python3 -c "print('round $rep: sequential %.2f s, mpi -np 2 %.2f s: %.2fx' % ($s, $m, $s / $m))"
done

echo "== 2. dispatch: 20,000 tiny files, -np 3 =="
mkdir -p "$W/tiny"
/usr/bin/python3 - "$W" <<'PY'
import os, sys
w = sys.argv[1]
for i in range(60000):
    open(os.path.join(w, "tiny", "t%05d.txt" % i), "w").write("tiny %d\n" % i)
for n, name in ((1000, "tiny1k"), (20000, "tiny20k"), (60000, "tiny60k")):
    with open(os.path.join(w, name + ".txt"), "w") as f:
        for i in range(n):
            f.write("file://%s/tiny/t%05d.txt\n" % (w, i))
PY
$MPI 3 $CFP --mode mpi --input "$W/tiny20k.txt" --results "$W/tiny.h5" --output-dir "$W/o3" --quiet --no-report -v 2> "$W/disp.log"
grep "dispatcher" "$W/disp.log" | sed 's/^.*rank 0 dispatcher/rank 0 dispatcher/'
/usr/bin/python3 -c "
import h5py
f = h5py.File('$W/tiny.h5', 'r'); a = f['runs'][sorted(f['runs'])[-1]].attrs
print('20,000 tasks in %.2f s: %.0f tasks/s; rank 0 peak RSS %.1f MB' % (a['wall_s'], a['tasks'] / a['wall_s'], a['peak_rss_kb'] / 1024))"

echo "== 3. rank 0 memory: 1,000 vs 20,000 vs 60,000 URLs (-np 3) =="
$MPI 3 $CFP --mode mpi --input "$W/tiny1k.txt" --results "$W/tiny.h5" --output-dir "$W/o4" --quiet --no-report
$MPI 3 $CFP --mode mpi --input "$W/tiny60k.txt" --results "$W/tiny.h5" --output-dir "$W/o5" --quiet --no-report
/usr/bin/python3 -c "
import h5py
f = h5py.File('$W/tiny.h5', 'r'); r = sorted(f['runs'])
for rid in r: a = f['runs'][rid].attrs; print('%6d URLs: rank 0 peak RSS %.1f MB' % (a['tasks'], a['peak_rss_kb'] / 1024))"
