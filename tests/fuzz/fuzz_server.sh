#!/usr/bin/env bash
# tests/fuzz/fuzz_server.sh SECONDS - build the request-path fuzz target
# (tests/fuzz/fuzz_server_path.c) with clang and libFuzzer, standalone (the
# few src/*.c it needs compiled with clang too, no CMake), and run it for
# SECONDS on a temporary copy of tests/fuzz/corpus/server/.
#
# Exit status: 0 clean; 1 a crash, leak, hang or failed check (the
# reproducer and the command replaying it are printed); 2 usage; 3 clang
# with libFuzzer or libmicrohttpd missing, or the build failed.
# The binary, log and reproducers stay in $CFP_FUZZ_SERVER_DIR (default
# ${TMPDIR:-/tmp}/cfp-fuzz-server). CFP_FUZZ_SERVER_CORPUS=DIR fuzzes DIR
# (created and topped up from the seeds) instead, so it grows across runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)

[ $# -eq 1 ] && [[ "$1" =~ ^[1-9][0-9]*$ ]] || {
  echo "usage: tests/fuzz/fuzz_server.sh SECONDS" >&2
  exit 2
}
secs=$1
out=${CFP_FUZZ_SERVER_DIR:-${TMPDIR:-/tmp}/cfp-fuzz-server}
bin=$out/fuzz_server_path
log=$out/fuzz_server_path.log
mkdir -p "$out/artifacts" || exit 3

command -v clang >/dev/null 2>&1 || { echo "fuzz_server: clang not found" >&2; exit 3; }
mhd_libs=$(pkg-config --libs libmicrohttpd 2>/dev/null) || mhd_libs=-lmicrohttpd

# The project's definitions (CMakeLists.txt) and warnings; the sources are
# the target plus the server's files (cfp_server_path.c resolves the paths)
# and what they link against.
if ! clang -std=c11 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Wall -Wextra -Werror \
  -DCFP_VERSION='"0.1.0"' -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$src/src" \
  "$src/tests/fuzz/fuzz_server_path.c" "$src/src/lab/cfp_server.c" \
  "$src/src/lab/cfp_server_path.c" "$src/src/base/cfp_mem.c" \
  "$src/src/base/cfp_err.c" $mhd_libs -lpthread -o "$bin" >"$out/build.log" 2>&1; then
  cat "$out/build.log" >&2
  echo "fuzz_server: build failed (clang with libFuzzer and libmicrohttpd-dev needed)" >&2
  exit 3
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cfp-fuzz-server-run.XXXXXX") || exit 3
trap 'rm -rf "$tmp"' EXIT
corpus=${CFP_FUZZ_SERVER_CORPUS:-$tmp/corpus}
mkdir -p "$corpus"
cp -n "$src"/tests/fuzz/corpus/server/* "$corpus"/ 2>/dev/null

# TMPDIR for the target's fixture (a root with files and symlinks),
# removed with the run directory.
TMPDIR=$tmp \
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4200 \
  -dict="$src/tests/fuzz/fuzz_server_path.dict" -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/" "$corpus" >"$log" 2>&1
rc=$?

execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
last=$(grep -a -E '^#[0-9]+' "$log" | tail -1)
cov=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
units=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
if [ $rc -eq 0 ]; then
  echo "fuzz_server_path: ok, ${execs:-?} execs in $secs s, coverage ${cov:-?}, corpus ${units:-?} inputs"
  exit 0
fi
echo "fuzz_server_path: FAILED (exit $rc) after ${execs:-?} execs; log $log"
grep -a -E 'ERROR: |CHECK\(|SUMMARY: |runtime error' "$log" | head -5 | sed 's/^/  /'
art=$(grep -a -o 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //')
if [ -n "$art" ]; then
  echo "  reproducer: $art"
  echo "  replay:     $bin $art"
  echo "  once fixed, add it to tests/fuzz/corpus/server/ as regress-<what>"
fi
exit 1
