# shellcheck shell=bash
# daemons.sh - sourced by slurm-up.sh and slurm-down.sh: the nodes of a
# Slurm (one, localhost, or one per host of ../hosts/hosts-up.sh) and how to
# run a command on one; the daemons a Slurm under DIR was started with, and
# how to stop exactly those. Uses and fills the arrays nodes[] and addrs[],
# names[] and pids[] of the caller.

daemons_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# read_nodes HOSTS_DIR: the nodes, in nodes[] (names) and addrs[] (IPv4):
# the hosts listed in HOSTS_DIR/hosts (written by hosts-up.sh), or with
# HOSTS_DIR empty the one node localhost at 127.0.0.1. 1 when HOSTS_DIR has
# no hosts.
read_nodes() {
  local a b
  nodes=() addrs=()
  if [[ -z $1 ]]; then
    nodes=(localhost) addrs=(127.0.0.1)
    return 0
  fi
  [[ -f $1/hosts ]] || return 1
  while read -r a b; do
    case $a in '#'* | @* | '') ;; *) nodes+=("$a"); addrs+=("$b") ;; esac
  done <"$1/hosts"
  ((${#nodes[@]} > 0))
}

# on_node HOSTS_DIR NODE CMD...: run CMD on NODE, in its network and UTS
# namespaces (../hosts/on.sh); here when HOSTS_DIR is empty.
on_node() {
  local hosts_dir=$1 node=$2
  shift 2
  if [[ -n $hosts_dir ]]; then
    "$daemons_here/../hosts/on.sh" "$hosts_dir" "$node" "$@"
  else
    "$@"
  fi
}

# alive PID NAME: PID is a live process called NAME. An exited daemon whose
# parent is PID 1 stays a zombie until PID 1 reaps it (PID 1 here need not
# be an init that does), so a zombie counts as gone.
alive() {
  local comm state
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  read -r _ comm state _ 2>/dev/null <"/proc/$1/stat" || return 1
  [[ $comm == "($2)" && $state != Z ]]
}

add() { names+=("$1"); pids+=("$2"); }

# collect_daemons DIR: the daemons recorded in DIR/daemons.pids and in their
# own pid files (DIR/run/NAME.pid, or per node NAME.NODE.pid: a daemon may
# have written its pid file after the start script gave up on it), in stop
# order: slurmd, slurmctld, then munged (which the other two need while they
# shut down); then every slurmstepd of a job of this Slurm (it inherits
# slurmd's SLURM_CONF).
collect_daemons() {
  local d n p f
  for d in slurmd slurmctld munged; do
    if [[ -f $1/daemons.pids ]]; then
      while read -r n p _; do if [[ $n == "$d" ]]; then add "$n" "$p"; fi; done <"$1/daemons.pids"
    fi
    for f in "$1/run/$d.pid" "$1/run/$d".*.pid; do
      if [[ -s $f ]]; then add "$d" "$(<"$f")"; fi
    done
  done
  for p in $(pgrep -x slurmstepd || true); do
    if tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$1/slurm.conf"; then
      add slurmstepd "$p"
    fi
  done
}

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

# stop LABEL NAME...: SIGTERM the recorded processes called NAME, SIGKILL what
# is left after 15 s, and wait for them to be gone.
stop() {
  local label=$1 sig i
  shift
  for sig in TERM KILL; do
    for i in "${!pids[@]}"; do
      if [[ " $* " == *" ${names[i]} "* ]] && alive "${pids[i]}" "${names[i]}"; then
        kill "-$sig" "${pids[i]}" 2>/dev/null || true
      fi
    done
    wait_gone 15 "$@" && return 0
    echo "$label: $* still running after SIG$sig" >&2
  done
  return 1
}

# make_sockdir DIR: a new directory for munged's socket, printed. munged
# wants o+x on every directory above its socket, which a checkout under
# /root (mode 0700) does not give, so it lives under /tmp, recorded in
# DIR/munge/sockdir for remove_sockdir.
make_sockdir() {
  local d
  d=$(mktemp -d /tmp/cfp-munge.XXXXXX)
  chmod 0755 "$d"
  echo "$d" >"$1/munge/sockdir"
  echo "$d"
}

# remove_sockdir DIR: the munge socket directory slurm-up.sh made under /tmp.
remove_sockdir() {
  local d
  d=$(cat "$1/munge/sockdir" 2>/dev/null || true)
  if [[ $d == /tmp/cfp-munge.* ]]; then rm -rf "$d"; fi
  rm -f "$1/munge/sockdir"
}
