#!/usr/bin/env bash
# slurm-up.sh [--hosts HOSTS_DIR] DIR - bring up a private Slurm (munged,
# slurmctld, slurmd, all as root) whose every file lives under DIR, and
# return once sinfo shows every node idle. Clients then `source DIR/env.sh`.
#   slurm-up.sh DIR       one node, localhost (127.0.0.1), daemons started
#                         here (the slurm fixture, doc/slurm.md)
#   slurm-up.sh --hosts HOSTS_DIR DIR
#                         one node per host that ../hosts/hosts-up.sh made
#                         under HOSTS_DIR (hosta, hostb, ...): slurmctld on
#                         the first, a slurmd on each, started there with
#                         ../hosts/on.sh; one munged in this namespace (its
#                         socket, a file, serves every host). Clients run on
#                         a host: on.sh HOSTS_DIR hosta sbatch -N 2 ... (the
#                         hosts fixture, DIR = HOSTS_DIR/slurm; doc/hosts.md)
# DIR/daemons.pids records "name pid node" of each daemon started here, for
# slurm-down.sh (same arguments). On any failure: log tails on stderr,
# Slurm torn down (hosts stay), exit 1.
# Environment: CFP_SLURM_MEM_CGROUP=0 (one node: --mem not enforced by a
# cgroup, as with --hosts; default: enforced where cgroup v1 has memory),
# CFP_SLURM_PORT_BASE, with --hosts CFP_HOSTS_SLURM_PORT_BASE
# (slurmctld port; slurmd uses the next one; default 16817, with --hosts
# 16827, so that both fixtures run at once), CFP_SLURM_UP_TIMEOUT (seconds
# to wait for idle, default 30).
# Why each setting is there: doc/slurm.md, the per-node ones doc/hosts.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
start_us=${EPOCHREALTIME/./}
die() { echo "slurm-up: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--hosts HOSTS_DIR] DIR" >&2; exit 2; }

hosts_dir='' mode=()
if [[ ${1:-} == --hosts ]]; then
  [[ $# -eq 3 ]] || usage
  [[ -d $2 ]] || die "no directory $2 (run tests/cluster/hosts/hosts-up.sh $2 first)"
  hosts_dir=$(cd "$2" && pwd)
  mode=(--hosts "$hosts_dir")
  shift 2
fi
[[ $# -eq 1 ]] || usage
mkdir -p "$1"
dir=$(cd "$1" && pwd)
if [[ -n $hosts_dir ]]; then
  port_var=CFP_HOSTS_SLURM_PORT_BASE ctld_port=${CFP_HOSTS_SLURM_PORT_BASE:-16827} cluster=cfphosts
else
  port_var=CFP_SLURM_PORT_BASE ctld_port=${CFP_SLURM_PORT_BASE:-16817} cluster=cfptest
fi
if ! [[ $ctld_port =~ ^[0-9]+$ ]] || ((ctld_port < 1024 || ctld_port > 65534)); then
  die "$port_var must be 1024..65534 (is '$ctld_port')"
fi
slurmd_port=$((ctld_port + 1))
timeout_s=${CFP_SLURM_UP_TIMEOUT:-30}

# shellcheck source=tests/cluster/slurm/daemons.sh
source "$here/daemons.sh"
declare -a nodes=() addrs=()
read_nodes "$hosts_dir" || die "no hosts under $hosts_dir (run tests/cluster/hosts/hosts-up.sh $hosts_dir first)"
first=${nodes[0]}
node_list=$(IFS=,; echo "${nodes[*]}")
on() { on_node "$hosts_dir" "$@"; }

# started NAME PIDFILE NODE: wait for a daemon that forked into the
# background to write its pid file, and record it for slurm-down.sh.
started() {
  local i pid=
  for ((i = 0; i < 100; i++)); do
    pid=$(cat "$2" 2>/dev/null || true)
    [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]] || die "$1 wrote no pid file $2"
  echo "$1 $pid $3" >>"$dir/daemons.pids"
}

# Whatever a previous run in DIR left behind goes first (no-op if nothing).
"$here/slurm-down.sh" "${mode[@]}" "$dir"

for i in "${!nodes[@]}"; do
  for p in "$ctld_port" "$slurmd_port"; do
    # A connect that succeeds means someone listens there already.
    if on "${nodes[i]}" timeout 2 bash -c "exec 3<>/dev/tcp/${addrs[i]}/$p" 2>/dev/null; then
      die "TCP port $p is in use on ${nodes[i]}; set $port_var to a free pair of ports"
    fi
  done
done
for prog in munged mungekey slurmctld slurmd sinfo; do
  command -v "$prog" >/dev/null || die "$prog not found (apt-get install slurm-wlm munge)"
done

# From here on, a failure shows the daemons' logs and tears down.
up_ok=0
on_exit() {
  [[ $up_ok == 1 ]] && return
  for f in "$dir"/log/*.log; do
    [[ -s $f ]] && { echo "--- tail of $f" >&2; tail -n 15 "$f" >&2; }
  done
  "$here/slurm-down.sh" "${mode[@]}" "$dir" || true
}
trap on_exit EXIT

# Fresh state on every run; DIR's other contents are left alone.
rm -rf "$dir/munge" "$dir/run" "$dir/state" "$dir/spool" "$dir/log" "$dir/tmp"
mkdir -p "$dir/munge/run" "$dir/run" "$dir/state" "$dir/log"
for n in "${nodes[@]}"; do mkdir -p "$dir/spool/$n" "$dir/tmp/$n"; done
# munged wants o+x on the socket's directory and every directory above it
# (the key file itself is made 0600 by mungekey).
chmod 0755 ${hosts_dir:+"$hosts_dir"} "$dir" "$dir/munge" "$dir/munge/run"
: >"$dir/daemons.pids"
sock=$(make_sockdir "$dir")/munge.socket

# --- munge: our own key and socket, never the system's /etc/munge or
# /run/munge. A Unix socket: with --hosts, every host sees it too (they
# share the filesystem).
mungekey -c -k "$dir/munge/munge.key"
munged --socket="$sock" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/munged.seed"
started munged "$dir/run/munged.pid" ''

# --- configuration
# Memory: RealMemory is the machine's (the default, 1 MB, refuses any
# --mem). The one-node Slurm enforces --mem with task/cgroup when the cgroup
# v1 memory controller is mounted (CFP_SLURM_MEM_CGROUP=0 turns that off).
# Otherwise, and always with --hosts (kept as it was: task/none, CR_CPU),
# --mem only reaches the job's environment (SLURM_MEM_PER_NODE).
mem_mb=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024))
mem_cgroup=0 task_plugin=task/none select_params=CR_CPU
if [[ -z $hosts_dir && ${CFP_SLURM_MEM_CGROUP:-1} != 0 && -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]]; then
  mem_cgroup=1 task_plugin=task/cgroup select_params=CR_CPU_Memory
fi
{
  cat <<EOF
# Written by tests/cluster/slurm/slurm-up.sh; nodes ${nodes[*]}, everything under $dir.
ClusterName=$cluster
SlurmctldHost=$first(${addrs[0]})
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job starts again after ~7 s instead of ~2 min.
AuthInfo=socket=$sock,cred_expire=5
StateSaveLocation=$dir/state
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmctldLogFile=$dir/log/slurmctld.log
# Per node (%n = the node name): with --hosts the slurmds share one filesystem.
SlurmdSpoolDir=$dir/spool/%n
SlurmdPidFile=$dir/run/slurmd.%n.pid
SlurmdLogFile=$dir/log/slurmd.%n.log
# The PMIx plugin makes its per-step directories under TmpFS: with one TmpFS
# for all, the second node's step fails ("File exists").
TmpFS=$dir/tmp/%n
MailProg=/bin/true
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
# No cgroup-based process tracking, no CPU binding (task/cgroup, when used,
# constrains memory only: cgroup.conf).
ProctrackType=proctrack/linuxproc
TaskPlugin=$task_plugin
# Debian's Open MPI direct-launches with PMIx only (not pmi2).
MpiDefault=pmix
SelectType=select/cons_tres
SelectTypeParameters=$select_params
EOF
  if ((mem_cgroup)); then
    cat <<EOF
# --mem is enforced (task/cgroup + ConstrainRAMSpace): slurmd sets the job's
# cgroup to it, but passes it on only when memory is a consumable resource
# (CR_CPU_Memory; with CR_CPU every job's cgroup gets RealMemory). A job
# without --mem gets its CPUs' share: memory never holds back a job that
# its CPUs would let run.
DefMemPerCPU=$((mem_mb / 4))
# Job cgroups are slurm_<node>/uid_0/job_<id>: ids from the port, so that two
# one-node fixtures at once (other ports, both node localhost) never share one.
FirstJobId=$((ctld_port * 1000 + 1))
EOF
  fi
  cat <<EOF
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=1,bf_interval=1
# No slurmdbd: finished jobs stay in squeue/scontrol for 5 min (jobcomp.txt
# keeps them all).
MinJobAge=300
JobRequeue=1
KillWait=2
ReturnToService=2
# 4 CPUs per node on any machine (2 cores here), so that -n 4 jobs run, not pend.
SlurmdParameters=config_overrides
EOF
  for i in "${!nodes[@]}"; do
    echo "NodeName=${nodes[i]} NodeAddr=${addrs[i]} CPUs=4 RealMemory=$mem_mb State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=$node_list Default=YES MaxTime=INFINITE State=UP"
} >"$dir/slurm.conf"
# slurmd loads a cgroup plugin even with proctrack/linuxproc + task/none.
# Autodetect fails with nothing mounted on /sys/fs/cgroup, cgroup/v2 fails on
# a v1 hybrid layout; cgroup/v1 works with hybrid, cgroup2-only and nothing
# mounted (with task/none nothing asks it for a controller, so it never
# mounts one). task/cgroup here asks for the memory controller only.
{
  echo "CgroupPlugin=cgroup/v1"
  echo "CgroupAutomount=yes"
  echo "CgroupMountpoint=/sys/fs/cgroup"
  if ((mem_cgroup)); then
    echo "ConstrainRAMSpace=yes"
    echo "ConstrainSwapSpace=no"
    echo "ConstrainCores=no"
    echo "ConstrainDevices=no"
  fi
} >"$dir/cgroup.conf"
{
  echo "# Source this to use the Slurm under $dir."
  if [[ -n $hosts_dir ]]; then
    echo "# Then run its clients on a host:"
    echo "#   tests/cluster/hosts/on.sh $hosts_dir $first sbatch -N ${#nodes[@]} ..."
  fi
  echo "export SLURM_CONF=$dir/slurm.conf"
  echo "export CFP_SLURM_NODES=$node_list"
  echo "# 1: a job's --mem is its memory cgroup's limit; 0: --mem only reaches"
  echo "# the job's environment (SLURM_MEM_PER_NODE)."
  echo "export CFP_SLURM_MEM_ENFORCED=$mem_cgroup"
  echo "# Open MPI refuses root without these; sbatch/srun pass them on to jobs."
  echo "export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
} >"$dir/env.sh"
export SLURM_CONF=$dir/slurm.conf

# --- Slurm daemons, each on its node (they fork into the background and
# write their pid files). -i: ignore any saved state (there is none; fresh
# dirs). -N: the node name (the hostname here is not localhost).
on "$first" slurmctld -i
started slurmctld "$dir/run/slurmctld.pid" "$first"
for n in "${nodes[@]}"; do
  on "$n" slurmd -N "$n"
  started slurmd "$dir/run/slurmd.$n.pid" "$n"
done

# --- wait for every node to be idle (they are, within a few hundred ms)
want=$(printf 'idle\n%.0s' "${nodes[@]}")
state=
while ((${EPOCHREALTIME/./} - start_us < timeout_s * 1000000)); do
  state=$(on "$first" timeout 5 sinfo -h -N -o %t 2>/dev/null || true)
  [[ $state == "$want" ]] && break
  sleep 0.2
done
[[ $state == "$want" ]] || die "nodes not idle after ${timeout_s}s (sinfo: '${state//$'\n'/ }')"
up_ok=1
ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
echo "slurm-up: nodes $node_list idle after ${ms} ms; source $dir/env.sh${hosts_dir:+, run clients with on.sh $hosts_dir $first}"
