#!/bin/bash
# soak.sh [URLS] [NP] - the soak of the hardening work: URLS (default 100000)
# URLs, 10 % of them faults (errors, cut bodies, bombs, a server that never
# answers, one that drips), through --mode async --concurrency 256, then the
# same under mpirun -np NP (default 3; 0 = skip). Prints RSS and open
# descriptors every 10,000 tasks and checks every task has one record, no
# task outlived --task-timeout, memory and descriptors stay flat.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CFP_BIN=${CFP_BIN:-$here/../build/cfp} CFP_SRC=$here/..
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec /usr/bin/python3 "$here/../tests/e2e/soak.py" --urls "${1:-100000}" --np "${2:-3}" --every 10000 \
  --concurrency 256
