#!/usr/bin/env bash
# hosts-up.sh DIR [N] - make N "hosts" (default 2) on this one machine, for
# multi-host tests: each host is a network namespace (/run/netns/hosta,
# hostb, ...) with a veth eth0 on a private subnet (10.77.0.0/24 by default:
# hosta 10.77.0.1, hostb 10.77.0.2, ...) joined by a bridge in one more
# namespace (host-sw), and a persistent UTS namespace (DIR/uts/H) that gives
# it its own hostname. The filesystem, /tmp and /dev/shm are shared by all.
# Nothing is added to the root network namespace: no interface, no route
# (the first `ip netns add` on a machine mounts /run/netns, and that stays).
# Writes:
#   DIR/hosts      "name ip" per host (read by hosts-down.sh, on.sh, ../slurm/)
#   DIR/rsh        an ssh look-alike for mpirun's --mca plm_rsh_agent
#   DIR/hostfile   "H slots=2" per host, for mpirun --hostfile
#   DIR/env.sh     CFP_HOSTS_* variables and CFP_MPIRUN_ARGS (source it)
# Run things on a host with tests/cluster/hosts/on.sh DIR H CMD..., a Slurm
# on the hosts with ../slurm/slurm-up.sh --hosts DIR DIR/slurm.
# Environment: CFP_HOSTS_PREFIX (default "host": hosts hosta, hostb, ...;
# bridge namespace host-sw), CFP_HOSTS_NET (first three octets, default
# 10.77.0), CFP_HOSTS_SLOTS (mpirun slots per host, default 2).
# Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN): exits 77 (skip) without it.
# On failure: teardown (hosts-down.sh DIR), exit 1. Details: doc/hosts.md.
set -euo pipefail

[[ $# -eq 1 || $# -eq 2 ]] || { echo "usage: $0 DIR [N]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
n=${2:-2}
if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1 || n > 26)); then echo "hosts-up: N must be 1..26" >&2; exit 2; fi
mkdir -p "$1"
dir=$(cd "$1" && pwd)
prefix=${CFP_HOSTS_PREFIX:-host}
net=${CFP_HOSTS_NET:-10.77.0}
slots=${CFP_HOSTS_SLOTS:-2}
sw=$prefix-sw
start_us=${EPOCHREALTIME/./}

die() { echo "hosts-up: $*" >&2; exit 1; }

# shellcheck source=tests/cfp_skip.sh
source "$here/../../cfp_skip.sh"
skipped="the two hosts (hosts_smoke and hosts_jobs skip too)"
for prog in ip nsenter unshare hostname mount umount; do
  command -v "$prog" >/dev/null || { cfp_skip_part hosts_up "$skipped" "$prog not found"; exit 77; }
done
if ((EUID != 0)); then cfp_skip_part hosts_up "$skipped" "needs root"; exit 77; fi
# Root without the capabilities (an unprivileged container): skip as well.
if ! unshare --net --uts true 2>/dev/null; then
  cfp_skip_part hosts_up "$skipped" "cannot create network/UTS namespaces here"
  exit 77
fi

# Whatever a previous run in DIR left behind goes first (no-op if nothing).
"$here/hosts-down.sh" "$dir"

letters=abcdefghijklmnopqrstuvwxyz
names=()
for ((i = 0; i < n; i++)); do names+=("$prefix${letters:i:1}"); done
for ns in "${names[@]}" "$sw"; do
  # Namespace names are machine-wide: another DIR's hosts (or a crashed run
  # whose DIR is gone) must be torn down first, by hand.
  [[ -e /run/netns/$ns ]] && die "network namespace $ns exists already (another instance? 'ip netns del $ns'; or set CFP_HOSTS_PREFIX)"
done

up_ok=0
on_exit() {
  [[ $up_ok == 1 ]] && return
  echo "hosts-up: failed; tearing down" >&2
  "$here/hosts-down.sh" "$dir" || true
}
trap on_exit EXIT

rm -rf "$dir/uts"
mkdir -p "$dir/uts"
# DIR/hosts is written first and grown as things are made, so that
# hosts-down.sh knows what to remove even after a half-done setup.
{
  echo "# name ip (written by hosts-up.sh; bridge namespace $sw)"
  echo "@sw $sw"
} >"$dir/hosts"

# --- the switch: a bridge in its own namespace
ip netns add "$sw"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
ip -n "$sw" link set lo up

# --- the hosts
for ((i = 0; i < n; i++)); do
  h=${names[i]}
  ipaddr=$net.$((i + 1))
  echo "$h $ipaddr" >>"$dir/hosts"
  ip netns add "$h"
  # The pair is created in the switch namespace, its peer directly in the
  # host's: neither end ever exists in the root namespace (whose own eth0
  # would clash with the name).
  ip -n "$sw" link add "p-$h" type veth peer name eth0 netns "$h"
  ip -n "$sw" link set "p-$h" master br0
  ip -n "$sw" link set "p-$h" up
  ip -n "$h" link set lo up
  ip -n "$h" addr add "$ipaddr/24" dev eth0
  ip -n "$h" link set eth0 up
  # The hostname: a UTS namespace kept alive by a bind mount on a file.
  : >"$dir/uts/$h"
  unshare --uts="$dir/uts/$h" hostname "$h"
done

# --- the ssh look-alike for mpirun (plm_rsh_agent): "rsh [opts] HOST CMD..."
# runs CMD with sh -c on HOST. Open MPI passes the remote command as words
# of one shell command line (it would give them to ssh, which joins them).
cat >"$dir/rsh" <<EOF
#!/bin/sh
# Written by tests/cluster/hosts/hosts-up.sh: ssh for the hosts under $dir.
while [ \$# -gt 0 ]; do
  case \$1 in
    -[bcDEeFIiJLlmOopQRSWw]) shift 2 ;;  # ssh options that take a value
    -*) shift ;;
    *) break ;;
  esac
done
[ \$# -ge 1 ] || { echo "rsh: no host" >&2; exit 255; }
h=\$1
shift
# A host given by its address (a hostfile of IPs): its name, from DIR/hosts.
case \$h in
  [0-9]*.[0-9]*.[0-9]*.[0-9]*) h=\$(awk -v ip="\$h" '\$2 == ip { print \$1 }' "$dir/hosts") ;;
esac
[ -n "\$h" ] && [ -e "/run/netns/\$h" ] && [ -e "$dir/uts/\$h" ] || { echo "rsh: no such host: \$h" >&2; exit 255; }
exec nsenter --net="/run/netns/\$h" --uts="$dir/uts/\$h" -- sh -c "\$*"
EOF
chmod 0755 "$dir/rsh"

for h in "${names[@]}"; do echo "$h slots=$slots"; done >"$dir/hostfile"

cat >"$dir/env.sh" <<EOF
# Written by tests/cluster/hosts/hosts-up.sh; source it, then run mpirun on
# the first host: tests/cluster/hosts/on.sh $dir ${names[0]} mpirun \$CFP_MPIRUN_ARGS -np N prog
export CFP_HOSTS_DIR=$dir
export CFP_HOSTS="${names[*]}"
export CFP_HOSTS_NET=$net.0/24
export CFP_HOSTS_HOSTFILE=$dir/hostfile
export CFP_HOSTS_RSH=$dir/rsh
# Launch through DIR/rsh (no ssh), keep Open MPI's daemons (oob) and MPI
# traffic (btl tcp) on the private subnet: the hosts' lo interfaces all have
# 127.0.0.1 and must never be taken for a way to another host.
export CFP_MPIRUN_ARGS="--hostfile $dir/hostfile --mca plm_rsh_agent $dir/rsh --mca oob_tcp_if_include $net.0/24 --mca btl_tcp_if_include $net.0/24"
# Add these for a lost-host test: mpirun then notices a host whose link went
# down after ~4 s (OOB keepalive) and ends the job (exit 205); by default it
# takes minutes, or hangs in its abort (doc/hosts.md, "A lost host").
export CFP_MPIRUN_KEEPALIVE_ARGS="--mca oob_tcp_keepalive_time 1 --mca oob_tcp_keepalive_intvl 1 --mca oob_tcp_keepalive_probes 2"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
EOF

# --- check: every host has its hostname and reaches every other one
for h in "${names[@]}"; do
  got=$("$here/on.sh" "$dir" "$h" hostname)
  [[ $got == "$h" ]] || die "hostname on $h is '$got'"
done
if ((n > 1)); then
  for ((i = 1; i < n; i++)); do
    ok=0
    for ((t = 0; t < 50; t++)); do
      # No ping here: a TCP connect to a closed port; "refused" means the
      # peer answered (a lost packet would hang until the timeout).
      err=$("$here/on.sh" "$dir" "${names[0]}" timeout 1 bash -c \
        "exec 3<>/dev/tcp/$net.$((i + 1))/9" 2>&1 || true)
      if [[ $err == *refused* ]]; then ok=1; break; fi
      sleep 0.1
    done
    ((ok)) || die "${names[0]} cannot reach ${names[i]} ($net.$((i + 1)))"
  done
fi
up_ok=1
ms=$(((${EPOCHREALTIME/./} - start_us) / 1000))
echo "hosts-up: ${names[*]} on $net.0/24 up after ${ms} ms; source $dir/env.sh"
