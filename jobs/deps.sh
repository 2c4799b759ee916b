#!/usr/bin/env bash
# jobs/deps.sh - install what cfp needs from Debian's repository, only when
# something is missing (a re-run installs nothing and does not touch apt).
#   jobs/deps.sh            build + run dependencies
#   jobs/deps.sh --tests    also what the test suite uses (h5py, PIL, valgrind, openssl,
#                           a Slurm for tests/cluster: slurm-wlm, munge)
#   jobs/deps.sh --bench    also what the jobs/bench_*.sh scripts compare with and
#                           measure by (vipsthumbnail: libvips-tools; GNU time: time)
# Both flags may be given.
set -euo pipefail

pkgs=(build-essential cmake pkg-config ca-certificates
      libcurl4-openssl-dev libssl-dev libpng-dev zlib1g-dev libhdf5-dev hdf5-tools
      libdeflate-dev libopenmpi-dev openmpi-bin libmicrohttpd-dev)
for arg in "$@"; do
  case $arg in
  --tests)
    pkgs+=(python3 python3-h5py python3-numpy python3-pil valgrind openssl curl procps
           slurm-wlm munge iproute2 python3-pandas groff-base) ;;
  --bench)
    pkgs+=(libvips-tools time python3 python3-h5py) ;;
  *)
    echo "usage: jobs/deps.sh [--tests] [--bench]" >&2
    exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "cfp: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 3
fi
echo "cfp: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
