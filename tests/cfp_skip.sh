# shellcheck shell=bash
# tests/cfp_skip.sh - sourced by shell tests: cfp_skip_part TEST WHAT WHY
# says that part of a test (or all of it, before an exit 77) did not run:
# prints "SKIP TEST: WHAT: WHY" on stderr and appends "TEST: WHAT: WHY" to
# $CFP_SKIP_LOG, else to cfp-skipped.log beside $CFP_BIN (the top of the
# build dir; nowhere when neither is set). tests/run.sh prints that file at
# the end, since ctest --output-on-failure hides a passing test's output.
# Same format as skip_part() in tests/e2e/e2e_common.py and cfp_skip_part()
# in tests/unit/cfp_test.h.
cfp_skip_part() {
  local line="$1: $2: $3" log=${CFP_SKIP_LOG:-}
  line=${line//$'\n'/ }
  echo "SKIP $line" >&2
  if [[ -z $log && -n ${CFP_BIN:-} ]]; then
    log=$(dirname "$CFP_BIN")/cfp-skipped.log
  fi
  if [[ -n $log ]]; then
    printf '%s\n' "$line" >>"$log" || echo "SKIP log $log not written" >&2
  fi
  return 0
}
