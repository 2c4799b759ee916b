#!/usr/bin/env bash
# tests/run.sh - install what is missing, build, and run the test suite three
# times: under AddressSanitizer+UBSan (build-asan/, every test), under
# ThreadSanitizer (build-tsan/, the tests labelled "tsan": the concurrent
# engines, the server, the queue), and finally the Release build (build/,
# every test plus the valgrind runs of the module tests). Between the last
# two, every libFuzzer target (tests/fuzz/, build-fuzz/) runs for
# CFP_FUZZ_SECONDS (default 30; 0 skips the step) on its seed corpus. A
# failing suite stops the script right there, so the last line printed is
# always the ctest summary of the suite that decided the outcome (or the
# fuzz step's reproducer).
set -uo pipefail
cd "$(dirname "$0")/.."
jobs/deps.sh --tests || exit $?
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
jobs/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFP_SANITIZE=address,undefined || exit 3
jobs/build.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFP_SANITIZE=thread || exit 3
jobs/build.sh build || exit 3
n=$(nproc)
echo "== ctest: AddressSanitizer + UndefinedBehaviorSanitizer (build-asan) =="
supp=$(pwd)/tests
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$supp/lsan.supp \
   UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j "$n" -LE "nosan|valgrind") || exit 1
echo "== ctest: ThreadSanitizer (build-tsan, label tsan) =="
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
   ctest --output-on-failure -j "$n" -L tsan) || exit 1
fuzz_secs=${CFP_FUZZ_SECONDS:-30}
if [ "$fuzz_secs" != 0 ]; then
  echo "== fuzz: $fuzz_secs s per target =="
  tests/fuzz/run.sh "$fuzz_secs" || exit $?
fi
echo "== ctest: Release (build) =="
cd build && exec ctest --output-on-failure -j "$n"
