#!/usr/bin/env bash
# tests/run.sh - install what is missing, build, and run the test suite three
# times: under AddressSanitizer+UBSan (build-asan/, every test), under
# ThreadSanitizer (build-tsan/, the tests labelled "tsan": the concurrent
# engines, the server, the queue), and finally the Release build (build/,
# every test plus the valgrind runs of the module tests). Tests labelled
# "slow" (minutes each, e.g. the .deb installed in a fresh chroot) are left
# out of every suite: `cd build && ctest -L slow` runs them. Between the last
# two, every libFuzzer target (tests/fuzz/, build-fuzz/) runs for
# CFP_FUZZ_SECONDS (default 30; 0 skips the step) on its seed corpus. A
# failing suite stops the script right there, so the last line printed is
# always the ctest summary of the suite that decided the outcome (or the
# fuzz step's reproducer).
#
# What did not run is listed before that summary: the optional suites CMake
# did not register, and why (the "cfp: not registered:" lines of
# BUILD_DIR/cmake-configure.log, written by jobs/build.sh), and the parts of
# tests skipped for want of something (a passing test's output is hidden by
# ctest --output-on-failure). Tests append those to $CFP_SKIP_LOG, here
# BUILD_DIR/cfp-skipped.log, cleared first (skip_part() in
# tests/e2e/e2e_common.py, cfp_skip_part() in tests/unit/cfp_test.h and
# tests/cfp_skip.sh). ctest's output is saved to BUILD_DIR/ctest-run.log and
# its summary, from the "% tests passed" line on, is printed again last.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 3
jobs/deps.sh --tests || exit $?
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
jobs/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFP_SANITIZE=address,undefined || exit 3
jobs/build.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFP_SANITIZE=thread || exit 3
jobs/build.sh build || exit 3
suites=(build-asan build-tsan build)
for d in "${suites[@]}"; do : >"$d/cfp-skipped.log"; done
n=$(nproc)
supp=$(pwd)/tests

# ctest_in DIR [VAR=VALUE...] -- [ctest args...]: runs ctest in DIR with
# those variables and CFP_SKIP_LOG=DIR/cfp-skipped.log, its output shown and
# saved to DIR/ctest-run.log; returns ctest's exit status.
ctest_in() {
  local dir=$1 vars=()
  shift
  while [ "$1" != -- ]; do vars+=("$1"); shift; done
  shift
  (cd "$dir" && env "${vars[@]}" CFP_SKIP_LOG="$PWD/cfp-skipped.log" ctest "$@") 2>&1 |
    tee "$dir/ctest-run.log"
  return "${PIPESTATUS[0]}"
}

# finish STATUS DIR: lists what did not run, prints DIR's ctest summary
# again (verbatim, so that it stays the last thing printed) and exits with
# STATUS.
finish() {
  local status=$1 dir=$2 d unregistered
  unregistered=$(for d in "${suites[@]}"; do
                   cat "$d/cmake-configure.log" 2>/dev/null
                 done | sed -n 's/^.*cfp: not registered: /  /p' | LC_ALL=C sort -u)
  echo
  echo "Optional suites not registered:"
  echo "${unregistered:-  none}"
  # One line per skipped part, with the suites it was skipped in.
  echo "Skipped parts:"
  for d in "${suites[@]}"; do
    [ -f "$d/cfp-skipped.log" ] && awk -v s="$d" 'NF { print $0 "\t" s }' "$d/cfp-skipped.log"
  done | LC_ALL=C sort -u | awk -F'\t' '
    $1 != last { if (NR > 1) print "  " last "  [" where "]"; last = $1; where = $2; next }
    { where = where ", " $2 }
    END { if (NR) print "  " last "  [" where "]"; else print "  none" }'
  echo
  echo "== ctest summary ($dir), again =="
  if grep -q "% tests passed" "$dir/ctest-run.log"; then
    sed -n '/% tests passed/,$p' "$dir/ctest-run.log"
  else
    tail -n 5 "$dir/ctest-run.log"
  fi
  exit "$status"
}

echo "== ctest: AddressSanitizer + UndefinedBehaviorSanitizer (build-asan) =="
ctest_in build-asan ASAN_OPTIONS=detect_leaks=1 "LSAN_OPTIONS=suppressions=$supp/lsan.supp" \
  UBSAN_OPTIONS=print_stacktrace=1 -- --output-on-failure -j "$n" -LE "nosan|valgrind|slow" || finish 1 build-asan
echo "== ctest: ThreadSanitizer (build-tsan, label tsan) =="
ctest_in build-tsan "TSAN_OPTIONS=halt_on_error=1 second_deadlock_stack=1" \
  -- --output-on-failure -j "$n" -L tsan || finish 1 build-tsan
fuzz_secs=${CFP_FUZZ_SECONDS:-30}
if [ "$fuzz_secs" != 0 ]; then
  echo "== fuzz: $fuzz_secs s per target =="
  tests/fuzz/run.sh "$fuzz_secs" || exit $?
fi
echo "== ctest: Release (build) =="
ctest_in build -- --output-on-failure -j "$n" -LE slow
finish $? build
