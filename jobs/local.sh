#!/bin/bash
# local.sh NP [cfp options...] - cfp's MPI mode on a workstation, with plain
# mpirun (no batch system): NP ranks, rank 0 writes the results.
#
#   jobs/local.sh 4 --input urls.txt --rank-engine async
#   jobs/local.sh 3 --generate-dataset            # the default dataset, served locally
#
# A stop: Ctrl-C or `kill -USR1 <mpirun pid>` (mpirun forwards USR1 to every
# rank): cfp finishes what is in flight (--grace), saves and exits 5; run the
# same command with --resume to finish. (SIGTERM to mpirun also reaches the
# ranks, but mpirun kills them a few seconds later: prefer USR1.)
# As root, Open MPI refuses to start unless OMPI_ALLOW_RUN_AS_ROOT=1 and
# OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 are set: run as a user, or set them.
set -euo pipefail
[[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || { echo "usage: $0 NP [cfp options...]" >&2; exit 2; }
np=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
# $CFP, else the tree's build, else (an installed copy of this example) the cfp on PATH.
cfp_bin=${CFP:-$here/../build/cfp}
[ -n "${CFP:-}" ] || [ -x "$cfp_bin" ] || cfp_bin=$(command -v cfp || echo "$cfp_bin")
cores=$(nproc)
extra=()
((np > cores)) && extra=(--oversubscribe)
exec mpirun -np "$np" "${extra[@]}" "$cfp_bin" --mode mpi "$@"
