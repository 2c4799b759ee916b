#!/usr/bin/env bash
# hosts-down.sh DIR - tear down what hosts-up.sh (and ../slurm/slurm-up.sh
# --hosts DIR DIR/slurm) made under DIR: first that Slurm (slurm-down.sh
# --hosts DIR DIR/slurm), then, per host listed in DIR/hosts, any process
# still living in that host's network namespace (started there through
# on.sh/rsh: an orted, a job step), Open MPI's files named after its
# hostname (/tmp/ompi.H.*, /dev/shm/vader_segment.H.*), its UTS bind mount
# and its network namespace (its veth pair goes with it), then the switch
# namespace. Only what DIR/hosts names is touched. Waits until it is
# all gone; a zombie counts as gone (PID 1 here reaps late). Idempotent: safe
# twice, after a half-done hosts-up, or on a DIR that never had hosts.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
[[ -d $1 ]] || exit 0
here=$(cd "$(dirname "$0")" && pwd)
dir=$(cd "$1" && pwd)
rc=0

"$here/../slurm/slurm-down.sh" --hosts "$dir" "$dir/slurm" || rc=1

[[ -f $dir/hosts ]] || exit $rc
sw='' hosts=()
while read -r a b; do
  case $a in
    '#'* | '') ;;
    @sw) sw=$b ;;
    *) hosts+=("$a") ;;
  esac
done <"$dir/hosts"

# netns_pids NS: pids of the live (non-zombie) processes in network
# namespace NS (compared by the namespace's inode).
netns_pids() {
  local want got p state
  want=$(stat -L -c 'net:[%i]' "/run/netns/$1" 2>/dev/null) || return 0
  for p in /proc/[0-9]*; do
    got=$(readlink "$p/ns/net" 2>/dev/null) || continue
    [[ $got == "$want" ]] || continue
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$p/status" 2>/dev/null) || continue
    [[ $state == Z || -z $state ]] || echo "${p#/proc/}"
  done
}

# Processes left in a host (TERM, then KILL after 5 s): a namespace with a
# process in it outlives `ip netns del`, and with it its interfaces.
for ns in "${hosts[@]}" $sw; do
  pids=$(netns_pids "$ns")
  [[ -z $pids ]] && continue
  for p in $pids; do
    echo "hosts-down: stopping leftover process in $ns: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)" >&2
  done
  for sig in TERM KILL; do
    # shellcheck disable=SC2086
    kill -$sig $pids 2>/dev/null || true
    for ((t = 0; t < 50; t++)); do
      pids=$(netns_pids "$ns")
      [[ -z $pids ]] && break
      sleep 0.1
    done
    [[ -z $pids ]] && break
  done
  [[ -z $pids ]] || { echo "hosts-down: processes still in $ns: $pids" >&2; rc=1; }
done

# What a killed mpirun leaves behind on a host: Open MPI's session directory
# and shared-memory segments, both named after the hostname (which only these
# hosts have, and no process of theirs is left to use).
for h in "${hosts[@]}"; do
  rm -rf "/tmp/ompi.$h".* "/dev/shm/vader_segment.$h".*
done

for h in "${hosts[@]}"; do
  f=$dir/uts/$h
  # Unmount however many times hosts-up bound it (once, normally).
  for ((t = 0; t < 10; t++)); do umount "$f" 2>/dev/null || break; done
  rm -f "$f"
  if [[ -e /run/netns/$h ]]; then ip netns del "$h" || rc=1; fi
done
if [[ -n $sw && -e /run/netns/$sw ]]; then ip netns del "$sw" || rc=1; fi

for ns in "${hosts[@]}" $sw; do
  [[ -e /run/netns/$ns ]] && { echo "hosts-down: namespace $ns still there" >&2; rc=1; }
done
if ((rc == 0)); then
  rm -f "$dir/hosts" "$dir/rsh" "$dir/hostfile" "$dir/env.sh"
  rmdir "$dir/uts" 2>/dev/null || true
fi
exit $rc
