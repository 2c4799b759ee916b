#!/usr/bin/python3
"""Runs the pandas recipe of doc/pandas.md on a real results file.

Usage: pandas_recipe.py TEST_H5_BINARY OUT_FILE

Writes OUT_FILE with `TEST_H5_BINARY write` (tests/unit/test_h5.c: three
known runs through cfp's writer), takes the first ```python block of
doc/pandas.md as it is, executes it and checks what load_tasks() returns
against h5py's view of the same rows: str columns, NaN exactly where the
file has -1 in a not-applicable column, every other value unchanged, the
column docs. Exit 0: pass, 1: fail, 77: skipped (no h5py/pandas here).
"""
import math
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
try:
    import h5py
    import pandas  # noqa: F401 - the recipe imports it too
except ImportError as e:  # pragma: no cover - depends on the machine
    from e2e_common import skip_part
    skip_part("whole test", f"this Python lacks h5py/pandas ({e}); jobs/deps.sh --tests")
    sys.exit(77)

DOC = os.path.join(HERE, "..", "..", "doc", "pandas.md")
NA_COLS = {"width_in", "height_in", "width_out", "height_out", "lines", "words", "chars",
           "rows", "cols"}
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def recipe():
    m = re.search(r"^```python\n(.*?)^```", open(DOC, encoding="utf-8").read(), re.M | re.S)
    if not m:
        sys.exit("pandas_recipe: no ```python block in " + DOC)
    ns = {}
    exec(compile(m.group(1), DOC, "exec"), ns)
    return ns["load_tasks"]


def check_run(load_tasks, path, run_id):
    df = load_tasks(path, run_id)
    with h5py.File(path, "r") as f:
        raw = f["runs"][run_id]["tasks"][()]
    check(list(df.columns) == list(raw.dtype.names), f"{run_id}: columns {list(df.columns)}")
    check(len(df) == len(raw), f"{run_id}: {len(df)} rows != {len(raw)}")
    for c in raw.dtype.names:
        col = df[c].tolist()
        for i, want in enumerate(raw[c].tolist()):
            got = col[i]
            if isinstance(want, bytes):
                ok = isinstance(got, str) and got == want.decode("utf-8")
            elif c in NA_COLS and want == -1:
                ok = isinstance(got, float) and math.isnan(got)
            else:
                ok = got == want
            if not ok:  # the first difference of a column is enough
                check(False, f"{run_id}[{i}].{c}: {got!r} for {want!r} in the file")
                break
    check(df.attrs["docs"]["t_fetch"].startswith("seconds: "),
          f"{run_id}: docs t_fetch {df.attrs['docs'].get('t_fetch')!r}")
    return df


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, path = sys.argv[1], sys.argv[2]
    if subprocess.run([binary, "write", path]).returncode != 0:
        print(f"pandas_recipe: {binary} write {path} failed", file=sys.stderr)
        return 1
    load_tasks = recipe()
    df = check_run(load_tasks, path, "0001-sequential")
    images = df[df["kind"] == "image"]
    check(df["width_in"].isna().sum() > 0 and images["width_in"].notna().sum() > 0,
          "width_in: NaN for non-images, numbers for ok images")
    check(df["width_in"].mean() == images["width_in"].dropna().mean(), "mean over images only")
    newest = load_tasks(path)
    check(len(newest) == 70 and (newest["index"] == check_run(load_tasks, path, "0003-mpi")["index"]).all(),
          "default run is the newest (0003-mpi)")
    if failures:
        print(f"pandas_recipe: {len(failures)} failure(s); file kept: {path}", file=sys.stderr)
        return 1
    os.unlink(path)
    print("pandas_recipe: ok (doc/pandas.md recipe on a results file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
