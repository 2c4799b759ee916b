#!/usr/bin/env bash
# slurm-up.sh DIR - bring up a private one-node Slurm (munged, slurmctld,
# slurmd, all as root) whose every file lives under DIR, and return once
# sinfo shows the node idle. Clients then `source DIR/env.sh`.
# DIR/daemons.pids records "name pid" of each daemon started here, for
# slurm-down.sh. On any failure: log tails on stderr, teardown, exit 1.
# Environment: CFP_SLURM_PORT_BASE (slurmctld port; slurmd uses the next one,
# default 16817), CFP_SLURM_UP_TIMEOUT (seconds to wait for idle, default 30).
# Why each setting is there: doc/slurm.md.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
ctld_port=${CFP_SLURM_PORT_BASE:-16817}
slurmd_port=$((ctld_port + 1))
timeout_s=${CFP_SLURM_UP_TIMEOUT:-30}
start_us=${EPOCHREALTIME/./}

die() { echo "slurm-up: $*" >&2; exit 1; }

# started NAME PIDFILE: wait for a daemon that forked into the background to
# write its pid file, and record it for slurm-down.sh.
started() {
  local i pid=
  for ((i = 0; i < 100; i++)); do
    pid=$(cat "$2" 2>/dev/null || true)
    [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]] || die "$1 wrote no pid file $2"
  echo "$1 $pid" >>"$dir/daemons.pids"
}

# Whatever a previous run in DIR left behind goes first (no-op if nothing).
"$here/slurm-down.sh" "$dir"

for p in "$ctld_port" "$slurmd_port"; do
  # A connect that succeeds means someone listens there already.
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "TCP port $p is in use; set CFP_SLURM_PORT_BASE to a free pair of ports"
  fi
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
  "$here/slurm-down.sh" "$dir" || true
}
trap on_exit EXIT

# Fresh state on every run; DIR's other contents are left alone.
rm -rf "$dir/munge" "$dir/run" "$dir/state" "$dir/spool" "$dir/log" "$dir/tmp"
mkdir -p "$dir/munge/run" "$dir/run" "$dir/state" "$dir/spool" "$dir/log" "$dir/tmp"
# munged wants o+x on the socket's directory and every directory above it
# (the key file itself is made 0600 by mungekey).
chmod 0755 "$dir" "$dir/munge" "$dir/munge/run"
: >"$dir/daemons.pids"
# shellcheck source=tests/slurm/daemons.sh
source "$here/daemons.sh"
sock=$(make_sockdir "$dir")/munge.socket

# --- munge: our own key and socket, never the system's /etc/munge or /run/munge.
mungekey -c -k "$dir/munge/munge.key"
munged --socket="$sock" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/munged.seed"
started munged "$dir/run/munged.pid"

# --- configuration
cat >"$dir/slurm.conf" <<EOF
# Written by tests/slurm/slurm-up.sh; one node, everything under $dir.
ClusterName=cfptest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job starts again after ~7 s instead of ~2 min.
AuthInfo=socket=$sock,cred_expire=5
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
TmpFS=$dir/tmp
MailProg=/bin/true
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
# No cgroup-based tracking or binding: works whatever /sys/fs/cgroup holds.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# Debian's Open MPI direct-launches with PMIx only (not pmi2).
MpiDefault=pmix
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=1,bf_interval=1
# No slurmdbd: finished jobs stay in squeue/scontrol for 5 min (jobcomp.txt
# keeps them all).
MinJobAge=300
JobRequeue=1
KillWait=2
ReturnToService=2
# 4 CPUs on any machine (2 cores here), so that -n 4 jobs run, not pend.
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
# slurmd loads a cgroup plugin even with proctrack/linuxproc + task/none.
# Autodetect fails with nothing mounted on /sys/fs/cgroup, cgroup/v2 fails on
# a v1 hybrid layout; cgroup/v1 works with hybrid, cgroup2-only and nothing
# mounted (nothing here asks it for a controller, so it never mounts one).
cat >"$dir/cgroup.conf" <<EOF
CgroupPlugin=cgroup/v1
CgroupAutomount=yes
CgroupMountpoint=/sys/fs/cgroup
EOF
cat >"$dir/env.sh" <<EOF
# Source this to use the Slurm under $dir.
export SLURM_CONF=$dir/slurm.conf
# Open MPI refuses root without these; sbatch/srun pass them on to jobs.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
EOF
export SLURM_CONF=$dir/slurm.conf

# --- Slurm daemons (they fork into the background and write their pid files).
# -i: ignore any saved state (there is none; fresh dirs).
slurmctld -i
started slurmctld "$dir/run/slurmctld.pid"
slurmd -N localhost
started slurmd "$dir/run/slurmd.pid"

# --- wait for the node to be idle (it is, within a few hundred ms)
state=
while ((${EPOCHREALTIME/./} - start_us < timeout_s * 1000000)); do
  state=$(timeout 5 sinfo -h -N -n localhost -o %t 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.2
done
[[ $state == idle ]] || die "node not idle after ${timeout_s}s (sinfo state: '${state:-none}')"
up_ok=1
ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
echo "slurm-up: node localhost idle after ${ms} ms; source $dir/env.sh"
