#!/usr/bin/env bash
# tests/fuzz/run-long.sh [SECONDS] [TARGET...] - tests/fuzz/run.sh for a long
# time (default 3600 s per target), keeping the grown corpus under
# build-fuzz/corpus/<target>/ so the next long run starts where this one
# stopped. That corpus is never committed: copy an input into
# tests/fuzz/corpus/<target>/ by hand only when it reproduces a fixed bug
# (regress-*) or covers something the seeds miss.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-3600}
[ $# -gt 0 ] && shift
mkdir -p build-fuzz/corpus
CFP_FUZZ_KEEP_CORPUS=$(pwd)/build-fuzz/corpus exec tests/fuzz/run.sh "$secs" "$@"
