#!/usr/bin/env bash
# jobs/bench_sha256.sh [ROUNDS] - cfp's SHA-256 (OpenSSL EVP, src/base/cfp_sha256.c)
# against the hand-written SHA-NI code it replaced, on the outputs of
# `cfp --mode sequential` over the peer dataset (../shared/bench), hashed
# whole and in the update sizes cfp really uses (recorded with gdb: a
# breakpoint on cfp_out_write prints its length). Medians of ROUNDS (9),
# both implementations interleaved; doc/benchmarks.md has the figures.
# A benchmark, not a test. Needs gcc, gdb, libssl-dev, git (the old code
# comes from the newest commit that still has it, or CFP_SHA_REF).
# Environment: CFP (default build/cfp), CFP_PEER_DIR (default /tmp/peer),
# CFP_BENCH_NO_SHANI=1 (both without SHA-NI).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-9}
cfp=${CFP:-build/cfp}
peer=${CFP_PEER_DIR:-/tmp/peer}
work=$(mktemp -d /tmp/cfp-bench-sha-XXXXXX)
trap 'rm -rf "$work"' EXIT

# The hand-written code: the newest version of the file that has blocks_shani.
ref=${CFP_SHA_REF:-}
if [[ -z $ref ]]; then
  for c in $(git log --format=%H -- src/base/cfp_sha256.c); do
    if git show "$c:src/base/cfp_sha256.c" | grep -q blocks_shani; then ref=$c; break; fi
  done
fi
[[ -n $ref ]] || { echo "bench_sha256: no commit with the hand-written code" >&2; exit 3; }
mkdir -p "$work/hand/base"
git show "$ref:src/base/cfp_sha256.c" >"$work/hand/base/cfp_sha256.c"
git show "$ref:src/base/cfp_sha256.h" >"$work/hand/base/cfp_sha256.h"
flags=(-std=c11 -O3 -DNDEBUG -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror)
ren=()
for s in init update final_hex use_hw file; do ren+=("-Dcfp_sha256_$s=hand_sha256_$s"); done
gcc "${flags[@]}" -Dcfp_sha256=hand_sha256 "${ren[@]}" -I"$work/hand" -Isrc \
  -c "$work/hand/base/cfp_sha256.c" -o "$work/hand.o"
gcc "${flags[@]}" -Isrc jobs/bench_sha256.c src/base/cfp_sha256.c src/base/cfp_err.c \
  "$work/hand.o" -o "$work/bench_sha256" -lcrypto -lpthread

# The outputs, and the update sizes cfp used to write them.
if [[ ! -d $peer ]]; then
  /usr/bin/python3 ../shared/bench/gen_dataset.py --out "$peer" --port 8000
fi
for f in "$peer"/img/*.png "$peer"/txt/* "$peer"/csv/*; do echo "file://$f"; done >"$work/list"
cat >"$work/trace.gdb" <<'EOF'
set pagination off
dprintf cfp_sha256_init,"I\n"
dprintf cfp_out_write,"W %lu\n",$rdx
run
EOF
gdb -q -batch -x "$work/trace.gdb" --args "$cfp" -i "$work/list" -m sequential \
  -o "$work/out" -r "$work/r.h5" -q --no-report 2>/dev/null | grep -E '^(I|W [0-9]+)$' >"$work/trace"
echo "bench_sha256: hand-written code of ${ref:0:12}; $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
# CFP_BENCH_NO_SHANI=1: both without the SHA instructions (OpenSSL's mask:
# CPUID leaf 7 EBX bit 29), as on a CPU that lacks them.
if [[ -n ${CFP_BENCH_NO_SHANI:-} ]]; then export OPENSSL_ia32cap=":~0x20000000"; fi
"$work/bench_sha256" "$work/out" "$work/trace" "$rounds"
