#!/usr/bin/env bash
# link.sh DIR HOST up|down - plug HOST's cable in or pull it out: sets HOST's
# eth0 (of the hosts hosts-up.sh made under DIR) up or down. Down, the host
# is unreachable at once (no route left for the subnet): a "lost host" fault.
# Up again, its address and route come back with it (a link that goes down
# keeps its address; the kernel re-adds the connected route).
set -euo pipefail
[[ $# -eq 3 && ($3 == up || $3 == down) ]] || { echo "usage: $0 DIR HOST up|down" >&2; exit 2; }
dir=$1 h=$2
grep -q "^$h " "$dir/hosts" 2>/dev/null || { echo "link.sh: no host $h under $dir" >&2; exit 2; }
ip -n "$h" link set eth0 "$3"
