#!/usr/bin/env bash
# slurm_smoke.sh DIR - cfp --mode mpi as a Slurm batch job, on the test Slurm
# that tests/cluster/slurm/slurm-up.sh brought up under DIR. Two jobs of 2 tasks:
#   1. srun -n 2 --mpi=pmix cfp ...  (direct launch, PMIx from slurmd)
#   2. mpirun -np 2 cfp ...           (Open MPI's launcher inside the allocation)
# Each runs a list of file:// text URLs; the HDF5 results are then read back
# with h5py: one run of 2 ranks, one record per URL, every one ok.
# Needs CFP_BIN (set by CMake); CFP_PY defaults to /usr/bin/python3.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 SLURM_DIR" >&2; exit 2; }
dir=$(cd "$1" && pwd)
: "${CFP_BIN:?CFP_BIN must point at the cfp binary}"
py=${CFP_PY:-/usr/bin/python3}
# shellcheck source=/dev/null
source "$dir/env.sh"
work=$dir/smoke
rm -rf "$work"
mkdir -p "$work/in"
# A job left behind by a timeout here would hold the node: cancel it on exit.
trap 'scancel --name=cfp_smoke >/dev/null 2>&1 || true' EXIT

# The input: 6 small text files, listed as file:// URLs.
for i in 1 2 3 4 5 6; do
  printf 'line one of file %d\nthe quick brown fox %d\n' "$i" "$i" >"$work/in/t$i.txt"
  echo "file://$work/in/t$i.txt"
done >"$work/urls.txt"

# submit NAME LAUNCH...: one sbatch job of 2 tasks that runs
# LAUNCH cfp --mode mpi on the URL list, writing $work/NAME.h5; waits for it.
submit() {
  local name=$1 rc=0
  shift
  echo "== job $name: sbatch -n 2 running: $* cfp --mode mpi"
  timeout 60 sbatch --wait --job-name=cfp_smoke --ntasks=2 --time=2 --chdir="$work" \
    --output="$work/$name.out" --wrap "$* '$CFP_BIN' --mode mpi --input urls.txt \
      --output-dir out-$name --results $name.h5 --quiet" || rc=$?
  cat "$work/$name.out" 2>/dev/null || true
  if ((rc != 0)); then
    echo "FAIL: job $name exited with $rc (124 = no result within 60 s)" >&2
    exit 1
  fi
}

submit srun srun -n 2 --mpi=pmix
submit mpirun mpirun -np 2

# Read the results back.
"$py" - "$work" <<'EOF'
import os, sys
import h5py

work = sys.argv[1]
urls = [u.strip() for u in open(os.path.join(work, "urls.txt")) if u.strip()]
bad = 0

def check(cond, what):
    global bad
    print(("ok   " if cond else "FAIL ") + what)
    bad += not cond

for name in ("srun", "mpirun"):
    path = os.path.join(work, name + ".h5")
    with h5py.File(path, "r") as f:
        runs = sorted(f["runs"].keys())
        check(len(runs) == 1, f"{name}: {path} holds one run ({runs})")
        g = f["runs"][runs[-1]]
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
        check(a.get("mode") == "mpi", f"{name}: mode attribute is mpi ({a.get('mode')})")
        check(a.get("ranks") == 2 and g["ranks"].shape == (2,),
              f"{name}: 2 ranks in one MPI world (attribute {a.get('ranks')}, "
              f"{g['ranks'].shape[0]} rank rows)")
        t = g["tasks"][()]
        got = sorted(u.decode() for u in t["url"])
        check(got == sorted(urls), f"{name}: one record per URL ({len(got)} records, {len(urls)} URLs)")
        st = [s.decode() for s in t["status"]]
        check(all(s == "ok" for s in st), f"{name}: every record ok ({st.count('ok')}/{len(st)})")
        check(a.get("ok") == len(urls) and a.get("failed") == 0,
              f"{name}: run attributes ok={a.get('ok')} failed={a.get('failed')}")
        outs = [os.path.join(work, o.decode()) for o in t["output"]]
        check(all(os.path.isfile(o) for o in outs), f"{name}: every output file exists")
        print(f"     {name}: tasks per rank {[int(r['tasks']) for r in g['ranks'][()]]}")
sys.exit(1 if bad else 0)
EOF
echo "slurm_smoke: passed"
