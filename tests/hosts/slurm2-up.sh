#!/usr/bin/env bash
# slurm2-up.sh DIR - a private multi-node Slurm on the hosts that hosts-up.sh
# made under DIR (one node per host: hosta, hostb, ...): one munged (its
# socket, a file, is shared by every namespace), slurmctld on the first
# host, one slurmd per host; everything under DIR/slurm. Returns once sinfo
# shows every node idle. Clients run on a host:
#   source DIR/slurm/env.sh; tests/hosts/on.sh DIR hosta sbatch -N 2 ...
# DIR/slurm/daemons.pids records "name pid [host]" per daemon, for
# slurm2-down.sh (hosts-down.sh DIR calls it). Settings as in
# tests/slurm/slurm-up.sh (doc/slurm.md), plus the per-node ones (doc/hosts.md).
# Environment: CFP_HOSTS_SLURM_PORT_BASE (slurmctld port; slurmd the next
# one; default 16827), CFP_SLURM_UP_TIMEOUT (seconds to wait for idle,
# default 30). On failure: log tails on stderr, Slurm torn down (the hosts
# stay), exit 1.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$1" && pwd)
dir=$top/slurm
ctld_port=${CFP_HOSTS_SLURM_PORT_BASE:-16827}
slurmd_port=$((ctld_port + 1))
timeout_s=${CFP_SLURM_UP_TIMEOUT:-30}
start_us=${EPOCHREALTIME/./}

die() { echo "slurm2-up: $*" >&2; exit 1; }
if ! [[ $ctld_port =~ ^[0-9]+$ ]] || ((ctld_port < 1024 || ctld_port > 65534)); then
  die "CFP_HOSTS_SLURM_PORT_BASE must be 1024..65534 (is '$ctld_port')"
fi

[[ -f $top/hosts ]] || die "no hosts under $top (run tests/hosts/hosts-up.sh $top first)"
hosts=() ips=()
while read -r a b; do
  case $a in '#'* | @* | '') ;; *) hosts+=("$a"); ips+=("$b") ;; esac
done <"$top/hosts"
((${#hosts[@]})) || die "$top/hosts lists no host"
first=${hosts[0]}
on() { "$here/on.sh" "$top" "$@"; }

for prog in munged mungekey slurmctld slurmd sinfo; do
  command -v "$prog" >/dev/null || die "$prog not found (apt-get install slurm-wlm munge)"
done

started() {
  local i pid=
  for ((i = 0; i < 100; i++)); do
    pid=$(cat "$2" 2>/dev/null || true)
    [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]] || die "$1 wrote no pid file $2"
  echo "$1 $pid ${3:-}" >>"$dir/daemons.pids"
}

# A previous Slurm in DIR goes first (no-op if none).
"$here/slurm2-down.sh" "$top"

up_ok=0
on_exit() {
  [[ $up_ok == 1 ]] && return
  for f in "$dir"/log/*.log; do
    [[ -s $f ]] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }
  done
  "$here/slurm2-down.sh" "$top" || true
}
trap on_exit EXIT

rm -rf "$dir"
mkdir -p "$dir/munge/run" "$dir/run" "$dir/state" "$dir/log"
for h in "${hosts[@]}"; do mkdir -p "$dir/spool/$h" "$dir/tmp/$h"; done
# munged wants o+x on every directory of its socket's path.
chmod 0755 "$top" "$dir" "$dir/munge" "$dir/munge/run"
: >"$dir/daemons.pids"
# shellcheck source=tests/slurm/daemons.sh
source "$here/../slurm/daemons.sh"
sock=$(make_sockdir "$dir")/munge.socket

# --- munge: a Unix socket, so one munged (in the root namespace) serves
# every host: they all see the same filesystem.
mungekey -c -k "$dir/munge/munge.key"
munged --socket="$sock" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/munged.seed"
started munged "$dir/run/munged.pid"

nodes=$(IFS=,; echo "${hosts[*]}")
{
  cat <<EOF
# Written by tests/hosts/slurm2-up.sh; nodes ${hosts[*]}, everything under $dir.
ClusterName=cfphosts
SlurmctldHost=$first(${ips[0]})
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock,cred_expire=5
StateSaveLocation=$dir/state
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmctldLogFile=$dir/log/slurmctld.log
# Per node (%n = the node name): the slurmds share one filesystem.
SlurmdSpoolDir=$dir/spool/%n
SlurmdPidFile=$dir/run/slurmd.%n.pid
SlurmdLogFile=$dir/log/slurmd.%n.log
# The PMIx plugin makes its per-step directories under TmpFS: with one TmpFS
# for all, the second node's step fails ("File exists").
TmpFS=$dir/tmp/%n
MailProg=/bin/true
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=1,bf_interval=1
MinJobAge=300
JobRequeue=1
KillWait=2
ReturnToService=2
SlurmdParameters=config_overrides
EOF
  for i in "${!hosts[@]}"; do
    echo "NodeName=${hosts[i]} NodeAddr=${ips[i]} CPUs=4 State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=$nodes Default=YES MaxTime=INFINITE State=UP"
} >"$dir/slurm.conf"
cat >"$dir/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
CgroupAutomount=yes
CgroupMountpoint=/sys/fs/cgroup
EOF
cat >"$dir/env.sh" <<EOF
# Source this, then run Slurm clients on a host:
#   tests/hosts/on.sh $top $first sbatch -N ${#hosts[@]} ...
export SLURM_CONF=$dir/slurm.conf
export CFP_SLURM_NODES=$nodes
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
EOF
export SLURM_CONF=$dir/slurm.conf

# --- daemons, each on its host (network and UTS namespace)
on "$first" slurmctld -i
started slurmctld "$dir/run/slurmctld.pid" "$first"
for h in "${hosts[@]}"; do
  on "$h" slurmd -N "$h"
  started slurmd "$dir/run/slurmd.$h.pid" "$h"
done

# --- wait for every node to be idle
want=$(printf 'idle\n%.0s' "${hosts[@]}")
state=
while ((${EPOCHREALTIME/./} - start_us < timeout_s * 1000000)); do
  state=$(on "$first" timeout 5 sinfo -h -N -o %t 2>/dev/null || true)
  [[ $state == "$want" ]] && break
  sleep 0.2
done
[[ $state == "$want" ]] || die "nodes not idle after ${timeout_s}s (sinfo: '${state//$'\n'/ }')"
up_ok=1
ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
echo "slurm2-up: nodes $nodes idle after ${ms} ms; source $dir/env.sh, run clients with on.sh $top $first"
