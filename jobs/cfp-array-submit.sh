#!/bin/bash
# cfp-array-submit.sh N [sbatch options...] - submits jobs/cfp-array.sbatch as
# an array of N elements and jobs/cfp-merge.sbatch to run after all of them
# succeeded. Uses the same CFP_* environment as the scripts. Prints the two
# job ids. The sbatch options go to both jobs and override the scripts'
# #SBATCH lines: jobs/cfp-array-submit.sh 8 --partition=P --account=A --mem=4G
set -euo pipefail
[[ $# -ge 1 && $1 =~ ^[0-9]+$ && $1 -ge 1 ]] || { echo "usage: $0 N [sbatch options...]" >&2; exit 2; }
n=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable --array=1-"$n" "$@" "$here/cfp-array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes "$@" \
  "$here/cfp-merge.sbatch")
echo "array $array merge ${merge%%;*}"
