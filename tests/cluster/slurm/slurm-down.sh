#!/usr/bin/env bash
# slurm-down.sh [--hosts HOSTS_DIR] DIR - stop the Slurm that slurm-up.sh
# (same arguments) started under DIR, and nothing else: only the PIDs
# recorded in DIR (DIR/daemons.pids and the daemons' own pid files in
# DIR/run), each checked to still be that daemon, plus any slurmstepd whose
# environment has this Slurm's SLURM_CONF. Waits until they have exited (a
# zombie counts as gone). Safe to run twice, on a DIR where slurm-up failed
# half-way, or on a DIR that never had a Slurm (then it does nothing).
# ../hosts/hosts-down.sh calls it first.
set -euo pipefail

usage() { echo "usage: $0 [--hosts HOSTS_DIR] DIR" >&2; exit 2; }
hosts_dir=''
if [[ ${1:-} == --hosts ]]; then
  [[ $# -eq 3 ]] || usage
  hosts_dir=$2
  shift 2
fi
[[ $# -eq 1 ]] || usage
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd)

# shellcheck source=tests/cluster/slurm/daemons.sh
source "$(dirname "$0")/daemons.sh"
declare -a names=() pids=() nodes=() addrs=()
collect_daemons "$dir"

# Cancel the jobs first, so that their steps end cleanly (best effort). The
# client runs on the first node: with --hosts, slurmctld listens in that
# host's network namespace only.
for i in "${!pids[@]}"; do
  if [[ ${names[i]} == slurmctld ]] && alive "${pids[i]}" slurmctld; then
    if read_nodes "$hosts_dir"; then
      on_node "$hosts_dir" "${nodes[0]}" env SLURM_CONF="$dir/slurm.conf" \
        timeout 5 scancel --user=root >/dev/null 2>&1 || true
    fi
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
