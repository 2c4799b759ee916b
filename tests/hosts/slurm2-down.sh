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

alive() {
  local comm state
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  read -r _ comm state _ 2>/dev/null <"/proc/$1/stat" || return 1
  [[ $comm == "($2)" && $state != Z ]]
}

declare -a names=() pids=()
add() { names+=("$1"); pids+=("$2"); }
for d in slurmd slurmctld munged; do
  if [[ -f $dir/daemons.pids ]]; then
    while read -r n p _; do if [[ $n == "$d" ]]; then add "$n" "$p"; fi; done <"$dir/daemons.pids"
  fi
  # A daemon may have written its pid file after slurm2-up gave up on it
  # (slurmd's are per node: slurmd.hosta.pid, ...).
  for f in "$dir/run/$d.pid" "$dir/run/$d".*.pid; do
    if [[ -s $f ]]; then add "$d" "$(<"$f")"; fi
  done
done
for p in $(pgrep -x slurmstepd || true); do
  if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$dir/slurm.conf"; then
    add slurmstepd "$p"
  fi
done

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

wait_gone() {
  local end=$((SECONDS + $1)) i left
  shift
  while :; do
    left=0
    for i in "${!pids[@]}"; do
      if [[ " $* " == *" ${names[i]} "* ]] && alive "${pids[i]}" "${names[i]}"; then left=1; fi
    done
    ((left == 0)) && return 0
    ((SECONDS >= end)) && return 1
    sleep 0.1
  done
}

stop() {
  local sig i
  for sig in TERM KILL; do
    for i in "${!pids[@]}"; do
      if [[ " $* " == *" ${names[i]} "* ]] && alive "${pids[i]}" "${names[i]}"; then
        kill "-$sig" "${pids[i]}" 2>/dev/null || true
      fi
    done
    wait_gone 15 "$@" && return 0
    echo "slurm2-down: $* still running after SIG$sig" >&2
  done
  return 1
}

if ((${#pids[@]})); then
  wait_gone 10 slurmstepd || true
fi
rc=0
if ((${#pids[@]})); then
  stop slurmstepd slurmd slurmctld || rc=1
  stop munged || rc=1
fi
((rc == 0)) || exit 1
rm -f "$dir/daemons.pids" "$dir"/run/*.pid
