#!/usr/bin/env bash
# on.sh DIR HOST CMD... - run CMD "on" HOST of the hosts that hosts-up.sh made
# under DIR: in HOST's network namespace and UTS namespace (its hostname),
# everything else (filesystem, /tmp, /dev/shm, pids, cgroups) shared.
# Exits with CMD's status. Not `ip netns exec`: that also enters a new mount
# namespace with /sys remounted for the netns, which hides /sys/fs/cgroup
# (slurmd needs it). Consequence: /sys/class/net here still shows the root
# namespace's interfaces; use `ip -s link show eth0` for HOST's counters.
set -euo pipefail
[[ $# -ge 3 ]] || { echo "usage: $0 DIR HOST CMD..." >&2; exit 2; }
dir=$1 h=$2
shift 2
[[ -e /run/netns/$h && -e $dir/uts/$h ]] || { echo "on.sh: no host $h under $dir" >&2; exit 2; }
exec nsenter --net="/run/netns/$h" --uts="$dir/uts/$h" -- "$@"
