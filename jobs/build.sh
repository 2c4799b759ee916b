#!/usr/bin/env bash
# jobs/build.sh [BUILD_DIR] [extra cmake args...] - configure once, then build
# incrementally (a re-run with nothing changed does no work).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
fi
cmake --build "$dir" -j "$(nproc)" -- --no-print-directory >/dev/null
