#!/usr/bin/env python3
"""Every engine does the same work: on a generated dataset served with latency,
sequential, threading and async produce byte-identical outputs and the same
records; `cfp --compare` runs them side by side, checks that itself, and
writes a report and an SVG chart that `cfp report` regenerates."""
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import check, read_runs, run_cfp, sha256_file, tmpdir  # noqa: E402

FIELDS = ["status", "error_code", "kind", "digest", "bytes_in", "bytes_out", "width_in", "height_in",
          "width_out", "height_out", "lines", "words", "chars", "rows", "cols", "http_status"]


def check_single(work, ds):
    """A results file with one run: its report shows that run, no empty rows."""
    h5 = os.path.join(work, "single.h5")
    rc, _, err = run_cfp(["--mode", "sequential", "--dataset-dir", ds, "--results", h5,
                          "--output-dir", os.path.join(work, "out-single"), "--quiet"])
    check(rc == 0, "single: exit %d %s" % (rc, err))
    text = open(os.path.join(work, "single.report.txt")).read()
    check(re.search(r"^sequential\s+1/1\s", text, re.M) and "no run recorded" not in text,
          "single-mode report shows its run only:\n" + text[:1200])


def svg_labels(svg):
    """The texts of an SVG chart, and the bar labels (right-aligned texts)."""
    texts = list(ET.parse(svg).getroot().iter("{http://www.w3.org/2000/svg}text"))
    return ([t.text or "" for t in texts],
            [t.text for t in texts if t.get("text-anchor") == "end"])


def check_chart(h5, work):
    """cfp report without -o names the report after the results file; the
    chart says which way is better and names modes as the text does."""
    rc, _, err = run_cfp(["report", h5])
    check(rc == 0, "cfp report (default name): %s" % err)
    rep = os.path.join(work, "compare.report.txt")
    check(os.path.isfile(rep) and os.path.isfile(os.path.join(work, "compare.report.svg")),
          "cfp report compare.h5 writes compare.report.txt/.svg: %r" % sorted(os.listdir(work)))
    text = open(rep).read()
    texts, labels = svg_labels(os.path.join(work, "compare.report.svg"))
    check(any("shorter is better" in t for t in texts), "chart says shorter is better: %r" % texts)
    check(not any("multiprocessing" in t for t in texts), "chart has no 'multiprocessing' label")
    check(len(labels) >= 3 and all(re.search(r"^%s\s" % re.escape(m), text, re.M) for m in labels),
          "chart's mode labels %r are the text report's" % labels)
    check(any(t.strip() == "0" for t in texts), "chart has a time axis from 0")


def check_modes(work):
    ds = os.path.join(work, "ds")
    h5 = os.path.join(work, "modes.h5")
    rc, _, err = run_cfp(["--generate-dataset", "--num-images", "5", "--num-texts", "5", "--num-csv", "4",
                          "--dataset-dir", ds, "--quiet"])
    check(rc == 0, "generate: %s" % err)
    for mode, extra in (("sequential", []), ("threading", ["--workers", "6", "--concurrency", "3"]),
                        ("async", ["--workers", "2", "--concurrency", "5"]), ("threads", [])):
        rc, _, err = run_cfp(["--mode", mode, "--dataset-dir", ds, "--latency-ms", "20", "--results", h5,
                              "--output-dir", os.path.join(work, "out-" + mode), "--quiet"] + extra)
        check(rc == 0, "%s: exit %d %s" % (mode, rc, err))
    # The report is named after the results file, never the lab's shared name.
    check(os.path.isfile(os.path.join(work, "modes.report.txt")) and
          os.path.isfile(os.path.join(work, "modes.report.svg")) and
          not os.path.exists(os.path.join(work, "performance_report.txt")),
          "report beside modes.h5 is modes.report.txt/.svg: %r" % sorted(os.listdir(work)))
    check_single(work, ds)
    runs = read_runs(h5)
    check([a["mode"] for _, a, _ in runs] == ["sequential", "threading", "async", "threading"],
          "modes recorded: %r" % [a["mode"] for _, a, _ in runs])
    check((runs[1][1]["workers"], runs[1][1]["concurrency"]) == (6, 3), "threading workers/concurrency attrs")
    check((runs[2][1]["workers"], runs[2][1]["concurrency"]) == (2, 5), "async workers/concurrency attrs")
    # Keyed by index, a duplicated row would collapse: the row counts are
    # checked too, so that each task is recorded exactly once.
    ref = {r["index"]: tuple(r[k] for k in FIELDS) for r in runs[0][2]}
    check(len(runs[0][2]) == 14 and len(ref) == 14 and all(v[0] == "ok" for v in ref.values()),
          "sequential: 14 tasks, each once and ok: %d rows, %d tasks" % (len(runs[0][2]), len(ref)))
    for rid, attrs, rows in runs[1:]:
        got = {r["index"]: tuple(r[k] for k in FIELDS) for r in rows}
        check(len(rows) == len(ref), "%s: %d rows for %d tasks" % (rid, len(rows), len(ref)))
        check(got == ref, "%s: records differ from sequential" % rid)
        for r in rows:
            check(sha256_file(r["output"]) == r["digest"], "%s: output digest" % rid)
            check(0 <= r["worker"] < attrs["workers"], "%s: worker id %d" % (rid, r["worker"]))
        check(len({r["worker"] for r in rows}) > 1, "%s: work spread over workers" % rid)
    # Byte-identical output files, name by name.
    names = sorted(os.listdir(os.path.join(work, "out-sequential")))
    for mode in ("threading", "async"):
        other = sorted(os.listdir(os.path.join(work, "out-" + mode)))
        check(other == names, "%s: output names differ" % mode)
        for n in names:
            a = open(os.path.join(work, "out-sequential", n), "rb").read()
            b = open(os.path.join(work, "out-" + mode, n), "rb").read()
            check(a == b, "%s: %s differs" % (mode, n))


def check_compare(work):
    h5 = os.path.join(work, "compare.h5")
    rep = os.path.join(work, "report.txt")
    wl = os.path.join(work, "workloads")
    rc, _, err = run_cfp(["--compare", "--generate-dataset", "--workload", "io", "--latency-ms", "10",
                          "--workloads-dir", wl, "--results", h5, "--report", rep, "--quiet"], timeout=900)
    check(rc == 0, "compare: exit %d %s" % (rc, err))
    runs = read_runs(h5)
    modes = [a["mode"] for _, a, _ in runs]
    # With MPI built, --compare also runs the multiprocessing row (mode "mpi").
    check(modes in (["sequential", "threading", "async"], ["sequential", "threading", "async", "mpi"]),
          "compare ran every mode: %r" % modes)
    nmodes = len(modes)
    check(all(a["workload"] == "io" and a["latency_ms"] == 10 for _, a, _ in runs), "workload attrs")
    text = open(rep).read()
    for needle in ("Workload 'io'", "Outputs: identical across the %d modes" % nmodes, "What the numbers say",
                   "multiprocessing", "won:", "speedup", "I/O-bound"):
        check(needle in text, "report lacks %r:\n%s" % (needle, text))
    seq_wall = runs[0][1]["wall_s"]
    check("%.2f" % seq_wall in text, "report quotes the measured sequential wall time")
    svg = rep[:-4] + ".svg"
    root = ET.parse(svg).getroot()
    check(root.tag.endswith("svg") and len(root.findall("{http://www.w3.org/2000/svg}rect")) >= 4,
          "chart has a bar per mode")
    again = os.path.join(work, "again.txt")
    rc, _, err = run_cfp(["report", h5, "-o", again])
    check(rc == 0, "cfp report: %s" % err)
    strip = lambda t: [ln for ln in t.splitlines() if not ln.startswith("Generated:")]  # noqa: E731
    check(strip(open(again).read()) == strip(text), "cfp report regenerates the same report")
    check(os.path.isfile(again[:-4] + ".svg"), "cfp report regenerates the chart")
    check_chart(h5, work)


def main():
    work = tmpdir("cfp-modes-")
    check_modes(work)
    check_compare(work)
    shutil.rmtree(work)
    print("modes ok")


if __name__ == "__main__":
    main()
