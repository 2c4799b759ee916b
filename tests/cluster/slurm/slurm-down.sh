#!/usr/bin/env bash
# slurm-down.sh DIR - stop the Slurm that slurm-up.sh started under DIR, and
# nothing else: only the PIDs recorded in DIR (DIR/daemons.pids and the
# daemons' own pid files in DIR/run), each checked to still be that daemon,
# plus any slurmstepd of a job of this Slurm. Waits until they have exited.
# Safe to run twice, on a DIR where slurm-up failed half-way, or on a DIR
# that never had a Slurm (then it does nothing).
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd)

# shellcheck source=tests/slurm/daemons.sh
source "$(dirname "$0")/daemons.sh"
declare -a names=() pids=()
collect_daemons "$dir"

# Cancel the jobs first, so that their steps end cleanly (best effort).
for i in "${!pids[@]}"; do
  if [[ ${names[i]} == slurmctld ]] && alive "${pids[i]}" slurmctld; then
    SLURM_CONF=$dir/slurm.conf timeout 5 scancel --user=root >/dev/null 2>&1 || true
    break
  fi
done

wait_gone 10 slurmstepd || true # the cancelled jobs' steps end by themselves
rc=0
stop slurm-down slurmstepd slurmd slurmctld || rc=1
stop slurm-down munged || rc=1
((rc == 0)) || exit 1
rm -f "$dir/daemons.pids" "$dir"/run/*.pid
remove_sockdir "$dir"
