#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...] - build the libFuzzer targets with
# clang (build-fuzz/, -DCFP_FUZZ=ON) and run each for SECONDS on a
# temporary copy of its seed corpus tests/fuzz/corpus/<target>/. TARGET is
# "png" or "fuzz_png"; default: every target built (fuzz_server too when
# its source exists). The PNG run also gets the third-party images of
# ../shared/data/pngsuite and ../shared/data/libpng-testpngs when present;
# they are copied at run time, never committed.
#
# Exit status 0 when every target ran clean; 1 when any crashed, leaked,
# hung (-timeout=10), ran out of memory or failed a check: the reproducer
# path and the command replaying it are printed; 3 when clang or the build
# is missing. Logs and reproducers stay in build-fuzz/{logs,artifacts}/.
#
# Environment: CFP_FUZZ_JOBS targets at once (default: min(nproc, 2));
# CFP_FUZZ_KEEP_CORPUS=DIR fuzzes DIR/<target>/ (created and topped up from
# the seeds) instead of a temporary copy, so the corpus grows from run to
# run (tests/fuzz/run-long.sh uses build-fuzz/corpus).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

usage() {
  echo "usage: tests/fuzz/run.sh SECONDS [TARGET...]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
secs=$1
shift
case "$secs" in '' | *[!0-9]*) usage ;; esac
[ "$secs" -gt 0 ] || usage

bdir=$root/build-fuzz
jobs=${CFP_FUZZ_JOBS:-$(n=$(nproc); [ "$n" -gt 2 ] && n=2; echo "$n")}
shared=$(cd "$root/../shared/data" 2>/dev/null && pwd) || shared=/nonexistent

# True when clang can build and link a libFuzzer program.
have_fuzzer() {
  local d
  command -v clang >/dev/null 2>&1 || return 1
  d=$(mktemp -d) || return 1
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$d/p.c"
  clang -fsanitize=fuzzer,address,undefined "$d/p.c" -o "$d/p" >/dev/null 2>&1
  local rc=$?
  rm -rf "$d"
  return $rc
}

# Debian's clang; its libFuzzer runtime is only a Recommends.
install_clang() {
  local major
  if [ "$(id -u)" != 0 ]; then
    echo "cfp fuzz: clang with libFuzzer missing; install clang and libclang-rt-*-dev" >&2
    return 1
  fi
  echo "cfp fuzz: installing clang" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends clang >/dev/null || return 1
  have_fuzzer && return 0
  major=$(clang -dumpversion | cut -d. -f1)
  apt-get install -y -qq --no-install-recommends "libclang-rt-$major-dev" >/dev/null || return 1
  have_fuzzer
}

if ! have_fuzzer; then
  install_clang || { echo "cfp fuzz: cannot build libFuzzer targets" >&2; exit 3; }
fi

# Build (incremental: configuring again is cheap).
if [ ! -f "$bdir/CMakeCache.txt" ]; then
  CC=clang cmake -S . -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFP_FUZZ=ON \
    -DCFP_WITH_MPI=OFF -DBUILD_TESTING=OFF >"$bdir.configure.log" 2>&1 ||
    { cat "$bdir.configure.log" >&2; exit 3; }
else
  cmake -S . -B "$bdir" >/dev/null || exit 3
fi
rm -f "$bdir.configure.log"
if ! cmake --build "$bdir" --target fuzz -j "$(nproc)" -- --no-print-directory >"$bdir/build.log" 2>&1; then
  grep -E "error|Error" "$bdir/build.log" | head -20 >&2
  echo "cfp fuzz: build failed, see $bdir/build.log" >&2
  exit 3
fi

bindir=$bdir/tests/fuzz
targets=()
if [ $# -eq 0 ]; then
  for b in "$bindir"/fuzz_*; do
    [ -x "$b" ] && [ -f "$b" ] && targets+=("$(basename "$b")")
  done
else
  for t in "$@"; do
    t=fuzz_${t#fuzz_}
    [ -x "$bindir/$t" ] || { echo "cfp fuzz: no target $t" >&2; exit 2; }
    targets+=("$t")
  done
fi
[ ${#targets[@]} -gt 0 ] || { echo "cfp fuzz: no targets built" >&2; exit 3; }

# Longest input per target: big enough for its interesting cases (a PNG
# needing the resizer, a URL line over CFP_URL_MAX), small enough to keep
# thousands of executions per second.
max_len() {
  case "$1" in
  fuzz_png) echo 65536 ;;
  fuzz_png_gen) echo 4096 ;;
  fuzz_urllist) echo 12288 ;;
  fuzz_csv | fuzz_text) echo 16384 ;;
  fuzz_server*) echo 4200 ;; # as tests/fuzz/fuzz_server.sh
  *) echo 8192 ;;
  esac
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cfp-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$bdir/logs" "$bdir/artifacts"

# Runs one target; leaves its exit status in $tmp/<target>.rc.
run_one() {
  local t=$1 name=${1#fuzz_} corpus seeds=$root/tests/fuzz/corpus/${1#fuzz_}
  local art=$bdir/artifacts/$t log=$bdir/logs/$t.log extra=() n_extra=0 f
  # fuzz_server_path's seeds are corpus/server/: fall back to the first word.
  [ -d "$seeds" ] || seeds=$root/tests/fuzz/corpus/${name%%_*}
  if [ -n "${CFP_FUZZ_KEEP_CORPUS:-}" ]; then
    corpus=$CFP_FUZZ_KEEP_CORPUS/$name
  else
    corpus=$tmp/corpus-$name
  fi
  mkdir -p "$corpus" "$art"
  [ -d "$seeds" ] && cp -rn "$seeds"/. "$corpus"/ 2>/dev/null
  if [ "$t" = fuzz_png ]; then
    # Third-party images: extra seed directories, read but never written.
    for d in pngsuite libpng-testpngs; do
      [ -d "$shared/$d" ] || continue
      mkdir -p "$tmp/png-$d"
      while IFS= read -r -d '' f; do
        cp "$f" "$tmp/png-$d/$(echo "$f" | md5sum | cut -c1-12)-$(basename "$f")"
        n_extra=$((n_extra + 1))
      done < <(find "$shared/$d" -iname '*.png' -size -1024k -print0)
      extra+=("$tmp/png-$d")
    done
    [ $n_extra -gt 0 ] && echo "  $t: adding $n_extra third-party PNGs from $shared"
  fi
  [ -f "$root/tests/fuzz/$t.dict" ] && extra=(-dict="$root/tests/fuzz/$t.dict" "${extra[@]}")
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bindir/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$art/" \
    "$corpus" "${extra[@]}" >"$log" 2>&1
  echo $? >"$tmp/$t.rc"
}

# One line per target: executions, corpus size, verdict.
report() {
  local t=$1 rc log=$bdir/logs/$1.log execs cov units art
  rc=$(cat "$tmp/$t.rc" 2>/dev/null || echo 99)
  execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
  cov=$(grep -a -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | grep -o 'cov: [0-9]*' | awk '{print $2}')
  units=$(grep -a -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | grep -o 'corp: [0-9]*' | awk '{print $2}')
  if [ "$rc" = 0 ]; then
    echo "  $t: ok, ${execs:-?} execs in ${secs} s, coverage ${cov:-?}, corpus ${units:-?} inputs"
    return 0
  fi
  echo "  $t: FAILED (exit $rc) after ${execs:-?} execs; log $log"
  grep -a -E 'ERROR: |FUZZ_CHECK|SUMMARY: |runtime error' "$log" | head -5 | sed 's/^/    /'
  art=$(grep -a -o 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //')
  if [ -n "$art" ]; then
    echo "    reproducer: $art"
    echo "    replay:     $bindir/$t $art"
  fi
  return 1
}

echo "cfp fuzz: ${#targets[@]} targets x ${secs} s, $jobs at a time (build-fuzz/)"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
wait

fail=0
for t in "${targets[@]}"; do
  report "$t" || fail=1
done
if [ $fail -ne 0 ]; then
  echo "cfp fuzz: FAILED (add each reproducer to tests/fuzz/corpus/<target>/ as regress-* once fixed)"
  exit 1
fi
echo "cfp fuzz: all ${#targets[@]} targets clean"
