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

# alive PID NAME: PID is a live process called NAME. An exited daemon whose
# parent is PID 1 stays a zombie until PID 1 reaps it (PID 1 here need not
# be an init that does), so a zombie counts as gone.
alive() {
  local comm state
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  read -r _ comm state _ 2>/dev/null <"/proc/$1/stat" || return 1
  [[ $comm == "($2)" && $state != Z ]]
}

# The daemons, in stop order: slurmd, slurmctld, then munged (which the
# other two need while they shut down).
declare -a names=() pids=()
add() { names+=("$1"); pids+=("$2"); }
for d in slurmd slurmctld munged; do
  if [[ -f $dir/daemons.pids ]]; then
    while read -r n p; do if [[ $n == "$d" ]]; then add "$n" "$p"; fi; done <"$dir/daemons.pids"
  fi
  # A daemon may have written its pid file after slurm-up gave up on it.
  if [[ -s $dir/run/$d.pid ]]; then add "$d" "$(<"$dir/run/$d.pid")"; fi
done
# Job steps of this Slurm: slurmstepd inherits slurmd's SLURM_CONF.
for p in $(pgrep -x slurmstepd || true); do
  if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$dir/slurm.conf"; then
    add slurmstepd "$p"
  fi
done

# Cancel the jobs first, so that their steps end cleanly (best effort).
for i in "${!pids[@]}"; do
  if [[ ${names[i]} == slurmctld ]] && alive "${pids[i]}" slurmctld; then
    SLURM_CONF=$dir/slurm.conf timeout 5 scancel --user=root >/dev/null 2>&1 || true
    break
  fi
done

# wait_gone SECONDS NAME...: poll until no recorded process called one of
# NAMEs is alive; 1 on timeout.
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

# stop NAME...: SIGTERM the recorded processes called NAME, SIGKILL what is
# left after 15 s, and wait for them to be gone.
stop() {
  local sig i
  for sig in TERM KILL; do
    for i in "${!pids[@]}"; do
      if [[ " $* " == *" ${names[i]} "* ]] && alive "${pids[i]}" "${names[i]}"; then
        kill "-$sig" "${pids[i]}" 2>/dev/null || true
      fi
    done
    wait_gone 15 "$@" && return 0
    echo "slurm-down: $* still running after SIG$sig" >&2
  done
  return 1
}

wait_gone 10 slurmstepd || true # the cancelled jobs' steps end by themselves
rc=0
stop slurmstepd slurmd slurmctld || rc=1
stop munged || rc=1
((rc == 0)) || exit 1
rm -f "$dir/daemons.pids" "$dir"/run/*.pid
