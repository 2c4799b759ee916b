#!/usr/bin/env bash
# jobs/build.sh [BUILD_DIR] [extra cmake args...] - configure and build
# incrementally (a re-run with nothing changed compiles nothing). Configuring
# again is cheap and picks up tools installed since the last run (valgrind
# after `jobs/deps.sh --tests`, for instance).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
# cmake's own output goes to a log beside the cache: tests/run.sh prints its
# "cfp: not registered:" lines (optional test suites left out, and why).
# Errors and warnings still reach stderr.
# The project's own builds treat warnings as errors (CFP_WERROR, off for
# someone else's plain cmake); a tree configured before the option existed
# gets it on its next run, one configured with -DCFP_WERROR=OFF keeps it.
mkdir -p "$dir"
log=$dir/cmake-configure.log
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCFP_WERROR=ON "$@" >"$log"
elif ! grep -q '^CFP_WERROR:' "$dir/CMakeCache.txt"; then
  cmake -S . -B "$dir" -DCFP_WERROR=ON >"$log"
else
  cmake -S . -B "$dir" >"$log"
fi
cmake --build "$dir" -j "$(nproc)" -- --no-print-directory >/dev/null
