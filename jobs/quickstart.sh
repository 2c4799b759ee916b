#!/usr/bin/env bash
# jobs/quickstart.sh - from a fresh clone: install what is missing, build
# (Release), generate the default dataset, and run the main job: the seed
# lab's `--compare --generate-dataset` (every mode on an I/O-bound and a
# CPU-bound workload, served by cfp's own loopback HTTP server). Then say
# where the report and results are. Extra arguments go to cfp --compare.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs/deps.sh
jobs/build.sh build
build/cfp --generate-dataset --quiet
set +e
build/cfp --compare --generate-dataset "$@"
rc=$?
set -e
if [ $rc -ge 2 ]; then
  echo "quickstart: cfp failed with exit status $rc" >&2
  exit $rc
fi
cat <<MSG

report:  data/processed/performance_report.txt  (chart: data/processed/performance_report.svg)
results: data/processed/results.h5  (cfp report data/processed/results.h5 regenerates the report)
outputs: data/processed/compare/<workload>/<mode>/
default dataset: data/test_dataset  (try: build/cfp --mode threading)
MSG
exit $rc
