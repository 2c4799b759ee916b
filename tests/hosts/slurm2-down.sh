#!/usr/bin/env bash
# slurm2-down.sh DIR - stop the two-node Slurm that slurm2-up.sh started
# under DIR/slurm, and nothing else: only the PIDs recorded in
# DIR/slurm/daemons.pids and the daemons' own pid files in DIR/slurm/run,
# each checked to still be that daemon, plus any slurmstepd whose
# environment has this Slurm's SLURM_CONF. Waits until they have exited (a
# zombie counts as gone). hosts-down.sh calls it first. Idempotent.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
[[ -d $1/slurm ]] || exit 0
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$1" && pwd)
dir=$top/slurm

# shellcheck source=tests/slurm/daemons.sh
source "$here/../slurm/daemons.sh"
declare -a names=() pids=()
collect_daemons "$dir"

# Cancel the jobs first, so that their steps end cleanly (best effort). The
# client must run on a host: slurmctld listens in the first host's namespace.
for i in "${!pids[@]}"; do
  if [[ ${names[i]} == slurmctld ]] && alive "${pids[i]}" slurmctld; then
    first=$(awk '$1 !~ /^[#@]/ { print $1; exit }' "$top/hosts" 2>/dev/null || true)
    if [[ -n $first ]]; then
      SLURM_CONF=$dir/slurm.conf timeout 5 "$here/on.sh" "$top" "$first" \
        scancel --user=root >/dev/null 2>&1 || true
    fi
    break
  fi
done

if ((${#pids[@]})); then
  wait_gone 10 slurmstepd || true
fi
rc=0
if ((${#pids[@]})); then
  stop slurm2-down slurmstepd slurmd slurmctld || rc=1
  stop slurm2-down munged || rc=1
fi
((rc == 0)) || exit 1
rm -f "$dir/daemons.pids" "$dir"/run/*.pid
remove_sockdir "$dir"
