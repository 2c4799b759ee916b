#!/usr/bin/env bash
# A build with -DCFP_WITH_MPI=OFF keeps every local mode and says clearly that
# MPI is not built. Configures and builds the cfp target in its own tree.
set -euo pipefail
src=${CFP_SRC:?}
bld=${1:?build dir}
cmake -S "$src" -B "$bld" -DCMAKE_BUILD_TYPE=Release -DCFP_WITH_MPI=OFF -DBUILD_TESTING=OFF -DCFP_WERROR=ON >/dev/null
cmake --build "$bld" --target cfp -j "$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'hello nompi world\n' > "$work/a.txt"
echo "file://$work/a.txt" > "$work/urls.txt"
set +e
"$bld/cfp" --mode mpi --input "$work/urls.txt" --results "$work/r.h5" 2> "$work/err"
rc=$?
set -e
[ $rc -eq 2 ] || { echo "FAIL: --mode mpi without MPI exited $rc, expected 2"; exit 1; }
grep -q "MPI is not built" "$work/err" || { echo "FAIL: message: $(cat "$work/err")"; exit 1; }
"$bld/cfp" --version > "$work/version"
grep -q "^MPI: not built" "$work/version" || { echo "FAIL: --version: $(cat "$work/version")"; exit 1; }
for m in sequential threading async; do
  "$bld/cfp" --mode $m --input "$work/urls.txt" --results "$work/r.h5" --output-dir "$work/o-$m" --quiet
done
[ "$(cat "$work"/o-*/000000_a.json | sort -u | wc -l)" -eq 1 ] || { echo "FAIL: outputs differ"; exit 1; }
echo "no-MPI build: local modes work; --mode mpi says: $(head -1 "$work/err")"
