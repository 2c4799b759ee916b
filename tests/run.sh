#!/usr/bin/env bash
# tests/run.sh - install what is missing, build, and run the test suite:
# first under AddressSanitizer+UBSan (build-asan/), then the Release build
# (build/, which also runs the valgrind checks). The output ends with ctest's
# summary line of the last suite run; a failing sanitizer suite stops here,
# so its summary is the last line.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs/deps.sh --tests || exit $?
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
jobs/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFP_SANITIZE=address,undefined || exit 3
jobs/build.sh build || exit 3
jobs_n=$(nproc)
echo "== ctest: AddressSanitizer + UndefinedBehaviorSanitizer (build-asan) =="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j "$jobs_n" -LE nosan) || exit 1
echo "== ctest: Release (build) =="
cd build && exec ctest --output-on-failure -j "$jobs_n"
