#!/usr/bin/env bash
# jobs/quickstart.sh - from a fresh clone: install what is missing, build
# (Release), generate the default dataset, run the main job on it over the
# embedded loopback HTTP server, and say where the report and results are.
# Extra arguments go to cfp (e.g. --latency-ms 0).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs/deps.sh
jobs/build.sh build
set +e
build/cfp --generate-dataset --mode sequential "$@"
rc=$?
set -e
if [ $rc -ge 2 ]; then
  echo "quickstart: cfp failed with exit status $rc" >&2
  exit $rc
fi
echo
echo "report:  data/processed/performance_report.txt"
echo "results: data/processed/results.h5   (cfp report data/processed/results.h5 regenerates the report)"
echo "outputs: data/processed/sequential/"
exit $rc
