#!/usr/bin/env bash
# jobs/bench_memory.sh - peak RSS of the sequential engine for 100 and for
# 10,000 tiny URLs (1 KB text files over file://). Memory must be bounded by
# concurrency and file-size limits, not by the number of URLs: the two peaks
# should be within a few MB.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs/build.sh build
work=$(mktemp -d /tmp/cfp-mem-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/files"
/usr/bin/python3 - "$work" <<'PY'
import os, sys
w = sys.argv[1]
body = ("lorem ipsum dolor sit amet " * 40)[:1024]
for i in range(10000):
    open(os.path.join(w, "files", "f%05d.txt" % i), "w").write(body)
for n in (100, 10000):
    with open(os.path.join(w, "urls%d.txt" % n), "w") as f:
        for i in range(n):
            f.write("file://%s/files/f%05d.txt\n" % (w, i))
PY
for n in 100 10000; do
  build/cfp --mode sequential --input "$work/urls$n.txt" --output-dir "$work/out$n" \
    --results "$work/mem$n.h5" --report "$work/r$n.txt" --quiet
  /usr/bin/python3 -c "
import h5py,sys
f=h5py.File('$work/mem$n.h5','r'); a=f['runs'][sorted(f['runs'])[-1]].attrs
print('%6d URLs: peak RSS %.1f MB, %.0f files/s' % (a['tasks'], a['peak_rss_kb']/1024, a['tasks']/a['wall_s']))"
done
