#!/usr/bin/python3
"""Independent check of the HDF5 results schema (doc/hdf5-schema.md).

Usage: h5_check.py TEST_H5_BINARY OUT_FILE

Runs `TEST_H5_BINARY write OUT_FILE` (tests/unit/test_h5.c writes three known
runs), then reads the file with h5dump and with h5py and checks the layout,
types and every row against the same deterministic generator, re-implemented
here from its description rather than from the C code's output.
Exit 0: pass, 1: fail, 77: skipped (no h5py/numpy in this Python).
"""
import datetime
import os
import re
import shutil
import subprocess
import sys

# skip_part() comes from the end-to-end helpers (tests/e2e/e2e_common.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    from e2e_common import skip_part
    skip_part("whole test", f"this Python lacks h5py/numpy ({e}); set CFP_PY")
    sys.exit(77)

KINDS = ["image", "text", "csv", "unknown"]
FAIL_CODES = ["HTTP", "TIMEOUT", "PNG_DECODE", "CSV"]
MODES = ["sequential", "threading", "mpi"]
WORKLOADS = ["default", "io-bound", "cpu-bound"]
URL_MAX = 4096
MASK64 = (1 << 64) - 1

# (field, numpy dtype or "str") in schema order.
TASK_FIELDS = [
    ("index", "i8"), ("url", "str"), ("kind", "str"), ("status", "str"),
    ("error_code", "str"), ("error", "str"), ("http_status", "i4"), ("attempts", "i4"),
    ("bytes_in", "i8"), ("bytes_out", "i8"), ("output", "str"), ("digest", "str"),
    ("rank", "i4"), ("worker", "i4"), ("t_start", "f8"), ("t_fetch", "f8"),
    ("t_process", "f8"), ("t_write", "f8"), ("width_in", "i4"), ("height_in", "i4"),
    ("width_out", "i4"), ("height_out", "i4"), ("lines", "i8"), ("words", "i8"),
    ("chars", "i8"), ("rows", "i8"), ("cols", "i8"), ("host", "str"),
]
RUN_ATTRS = {
    "mode": "str", "engine": "str", "workload": "str", "started": "str", "input": "str",
    "output_dir": "str", "ranks": "i4", "workers": "i4", "concurrency": "i4",
    "latency_ms": "i4", "max_side": "i4", "complete": "i4", "wall_s": "f8",
    "cpu_user_s": "f8", "cpu_sys_s": "f8", "peak_rss_kb": "i8", "tasks": "i8", "ok": "i8",
    "failed": "i8", "bytes_in": "i8", "bytes_out": "i8",
}
# What test_h5 write produces: (run number, rows, ended cleanly).
RUNS = {"0001-sequential": (1, 300, True), "0002-threading": (2, 130, True),
        "0003-mpi": (3, 70, False)}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def short(v):
    r = repr(v)
    return r if len(r) <= 120 else f"{r[:60]}...{r[-40:]} ({len(v)} chars)"


def gen_url(run, i):
    """The URL as stored: invalid UTF-8 bytes (row i % 50 == 6) read as '?'."""
    base = f"http://127.0.0.1:8080/r{run}/{i}"
    if i % 50 == 6:
        return base + "/bad??x??"
    m = i % 5
    if m == 0:  # long, letters chosen by byte position, capped at URL_MAX - 1
        limit = min(URL_MAX - 1, 60 + (i * 37) % 4100)
        return base + "".join(chr(ord("a") + n % 26) for n in range(len(base), limit))
    if m == 1:
        return base + "/caf\u00e9/\u65e5\u672c/\U0001F600.png"
    if m == 2:
        return base + "/plain.txt"
    if m == 3:
        return ""
    return base + "/data.csv"


def gen_row(run, i):
    failed = i % 7 == 3
    code = FAIL_CODES[(i // 7) % 4] if failed else "OK"
    d = (i * 0x9E3779B97F4A7C15) & MASK64
    r = {
        "index": i, "url": gen_url(run, i), "kind": KINDS[i % 4],
        "status": "failed" if failed else "ok", "error_code": code,
        "error": f"GET row {i}: \u00fc failure {code}" if failed else "",
        "http_status": 404 if code == "HTTP" else (0 if i % 3 == 0 else 200),
        "attempts": 1 + i % 3, "bytes_in": i << 33, "bytes_out": 0 if failed else i * 17,
        "output": "" if failed else f"out/{run}/{i:06d}.png",
        "digest": "" if failed else f"{d:016x}" * 4,
        "rank": i % 4 if run == 2 else 0, "worker": i % 3,
        "t_start": i * 0.25, "t_fetch": i / 7.0, "t_process": 1.0 / (i + 1),
        "t_write": -1.0 if failed else 0.5, "host": "",
    }
    for f in ("width_in", "height_in", "width_out", "height_out",
              "lines", "words", "chars", "rows", "cols"):
        r[f] = -1
    if not failed and i % 4 == 0:
        r.update(width_in=100 + i, height_in=50 + i, width_out=(100 + i) // 2,
                 height_out=(50 + i) // 2)
    elif not failed and i % 4 == 1:
        r.update(lines=i, words=2 * i, chars=10 * i)
    elif not failed and i % 4 == 2:
        r.update(rows=i + 1, cols=3)
    return r


def gen_info(run, n, ended):
    t = datetime.datetime.fromtimestamp(1700000000 + run * 3600, datetime.timezone.utc)
    a = {
        "mode": MODES[run - 1], "engine": f"engine-{run}", "workload": WORKLOADS[run - 1],
        "started": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "input": f"urls/run{run}-\u00e9.txt",
        "output_dir": f"out/run{run}", "ranks": 4 if run == 3 else 1, "workers": 2 * run,
        "concurrency": 8 * run, "latency_ms": -1 if run == 1 else 10 * run,
        "max_side": 256 * run, "complete": 1 if ended else 0,
        "wall_s": 0.0, "cpu_user_s": 0.0, "cpu_sys_s": 0.0, "peak_rss_kb": 0, "tasks": 0,
        "ok": 0, "failed": 0, "bytes_in": 0, "bytes_out": 0,
    }
    if ended:  # the interrupted run keeps the values given at its start
        rows = [gen_row(run, i) for i in range(n)]
        a.update(wall_s=run * 1.5, cpu_user_s=run / 3.0, cpu_sys_s=run * 0.125,
                 peak_rss_kb=(1 << 33) + run, tasks=n,
                 ok=sum(r["status"] == "ok" for r in rows),
                 failed=sum(r["status"] == "failed" for r in rows),
                 bytes_in=sum(r["bytes_in"] for r in rows),
                 bytes_out=sum(r["bytes_out"] for r in rows))
    return a


def is_utf8_str_type(dt):
    info = h5py.check_string_dtype(dt)
    return info is not None and info.encoding == "utf-8" and info.length is None


def check_attr_types(where, attrs, spec):
    for name, kind in spec.items():
        check(name in attrs, f"{where}: attribute {name} missing")
        if name not in attrs:
            continue
        v = attrs[name]
        if kind == "str":
            check(isinstance(v, str), f"{where}.{name}: {type(v)} is not str")
            check(is_utf8_str_type(attrs.get_id(name).dtype),
                  f"{where}.{name}: not a variable-length UTF-8 string")
        else:
            check(np.asarray(v).dtype == np.dtype("<" + kind),
                  f"{where}.{name}: dtype {np.asarray(v).dtype} != {kind}")
            check(np.asarray(v).shape == (), f"{where}.{name}: not scalar")


# Units the tasks dataset's per-column attributes use ("<unit>: <meaning>").
DOC_UNITS = {"seconds", "bytes", "pixels", "count", "text", "id", "code"}


def check_task_docs(run_id, ds):
    """Every column has a str attribute of its name: "<unit>: <meaning>"."""
    for f, kind in TASK_FIELDS:
        doc = ds.attrs.get(f)
        if not isinstance(doc, str) or ": " not in doc:
            check(False, f"{run_id}/tasks.attrs[{f!r}]: {doc!r} is not '<unit>: <meaning>'")
            continue
        unit = doc.split(": ", 1)[0]
        check(unit in DOC_UNITS, f"{run_id}/tasks.attrs[{f!r}]: unknown unit {unit!r}")
        check((unit == "seconds") == (kind == "f8"), f"{run_id}/tasks.attrs[{f!r}]: unit {unit!r}")
        check((unit == "text") == (kind == "str"), f"{run_id}/tasks.attrs[{f!r}]: unit {unit!r}")
        if f in ("width_in", "height_in", "width_out", "height_out", "lines", "words", "chars",
                 "rows", "cols"):
            check("-1 = not applicable" in doc, f"{run_id}/tasks.attrs[{f!r}]: no -1 convention")


def check_tasks(run_id, ds, run, n):
    names = [f for f, _ in TASK_FIELDS]
    check(list(ds.dtype.names) == names, f"{run_id}/tasks: fields {ds.dtype.names}")
    for f, kind in TASK_FIELDS:
        dt = ds.dtype[f]
        if kind == "str":
            check(is_utf8_str_type(dt), f"{run_id}/tasks.{f}: not a vlen UTF-8 string")
        else:
            check(dt == np.dtype("<" + kind), f"{run_id}/tasks.{f}: dtype {dt} != {kind}")
    check(ds.shape == (n,), f"{run_id}/tasks: shape {ds.shape} != ({n},)")
    check(ds.maxshape == (None,), f"{run_id}/tasks: maxshape {ds.maxshape} not extensible")
    check(ds.chunks is not None, f"{run_id}/tasks: not chunked")
    check_task_docs(run_id, ds)
    data = ds[()]
    for i in range(min(n, len(data))):
        want = gen_row(run, i)
        row = data[i]
        for f, kind in TASK_FIELDS:
            got = row[f]
            if kind == "str":
                # h5py returns vlen strings inside compounds as bytes.
                got = got.decode("utf-8") if isinstance(got, bytes) else got
            elif kind == "f8":
                got = float(got)
            else:
                got = int(got)
            if got != want[f]:  # report the first difference of a run only
                check(False, f"{run_id}/tasks[{i}].{f}: {short(got)} != {short(want[f])}")
                return
        check((want["status"] == "ok") == (want["error_code"] == "OK"),
              f"{run_id}/tasks[{i}]: status/error_code disagree")


def check_file(path):
    with h5py.File(path, "r") as f:
        check_attr_types("/", f.attrs, {"schema_version": "i4", "cfp_version": "str"})
        check(int(f.attrs.get("schema_version", -1)) == 1, "schema_version != 1")
        src = os.environ.get("CFP_SRC")
        if src:
            m = re.search(r"project\(cfp\s+VERSION\s+([0-9.]+)",
                          open(os.path.join(src, "CMakeLists.txt")).read())
            check(m and f.attrs.get("cfp_version") == m.group(1),
                  f"cfp_version {f.attrs.get('cfp_version')!r} != CMake project version")
        check(sorted(f["runs"].keys()) == sorted(RUNS), f"runs {list(f['runs'].keys())}")
        for run_id, (run, n, ended) in RUNS.items():
            if run_id not in f["runs"]:
                continue
            g = f["runs"][run_id]
            check_attr_types(run_id, g.attrs, RUN_ATTRS)
            for name, want in gen_info(run, n, ended).items():
                got = g.attrs.get(name)
                check(got == want, f"{run_id}.{name}: {got!r} != {want!r}")
            check_tasks(run_id, g["tasks"], run, n)
            check(("ranks" in g) == (run == 2), f"{run_id}: ranks dataset presence")
        ranks = f["runs/0002-threading/ranks"][()]
        check(list(ranks.dtype.names) == ["rank", "tasks", "busy_s", "host"],
              f"ranks fields {ranks.dtype.names}")
        # test_h5 writes no host names: the column holds empty strings.
        check([tuple(r) for r in ranks.tolist()] == [(0, 44, 0.5, b""), (1, 43, 1.25, b""), (2, 43, 2.0, b"")],
              f"ranks values {ranks.tolist()}")


def check_h5dump(path):
    h5dump = shutil.which("h5dump")
    if not h5dump:
        from e2e_common import skip_part
        skip_part("h5dump part", "h5dump not found (package hdf5-tools)")
        return
    out = subprocess.run([h5dump, "-H", path], capture_output=True, text=True)
    check(out.returncode == 0, f"h5dump -H failed: {out.stderr}")
    for needle in ('GROUP "0001-sequential"', 'GROUP "0003-mpi"', 'DATASET "tasks"',
                   'DATASET "ranks"', "H5T_CSET_UTF8", 'ATTRIBUTE "schema_version"'):
        check(needle in out.stdout, f"h5dump -H output lacks {needle}")
    out = subprocess.run([h5dump, "-d", "/runs/0003-mpi/tasks", path], capture_output=True,
                         text=True)
    check(out.returncode == 0 and "DATASPACE  SIMPLE { ( 70 ) / ( H5S_UNLIMITED ) }" in out.stdout
          and '"out/3/000069.png"' in out.stdout, f"h5dump -d tasks: {out.stderr[:500]}")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, path = sys.argv[1], sys.argv[2]
    w = subprocess.run([binary, "write", path])
    if w.returncode != 0:
        print(f"h5_check: {binary} write {path} exited {w.returncode}", file=sys.stderr)
        return 1
    check_h5dump(path)
    check_file(path)
    if failures:
        print(f"h5_check: {len(failures)} failure(s); file kept: {path}", file=sys.stderr)
        return 1
    os.unlink(path)
    print("h5_check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
