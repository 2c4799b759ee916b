#!/usr/bin/env python3
"""End-to-end: generate a dataset, process it over the embedded loopback HTTP
server, and check every output against independent Python references, the
HDF5 schema, run appending, `cfp report`, and https with a self-signed cert."""
import collections
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import check, cfp_serve, read_runs, run_cfp, sha256_file, tmpdir  # noqa: E402
from PIL import Image  # noqa: E402

RUN_ATTRS = ["mode", "engine", "ranks", "workers", "concurrency", "latency_ms", "started", "wall_s",
             "cpu_user_s", "cpu_sys_s", "peak_rss_kb", "tasks", "ok", "failed", "bytes_in", "bytes_out"]
TASK_FIELDS = ["index", "url", "kind", "status", "error", "http_status", "attempts", "bytes_in",
               "bytes_out", "output", "rank", "worker", "t_start", "t_fetch", "t_process", "t_write",
               "width_in", "height_in", "width_out", "height_out", "lines", "words", "chars", "rows", "cols"]
TOKEN = re.compile(rb"[A-Za-z0-9\x80-\xff]+(?:'[A-Za-z0-9\x80-\xff]+)*")
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")


def expect_size(w, h, max_side):
    longest = max(w, h)
    if longest <= max_side:
        return w, h
    if w >= h:
        return max_side, max(1, int(h * max_side / w + 0.5))
    return max(1, int(w * max_side / h + 0.5)), max_side


def check_image(src, row, max_side):
    im = Image.open(src)
    w, h = im.size
    ew, eh = expect_size(w, h, max_side)
    out = Image.open(row["output"])
    check(out.size == (ew, eh), "%s: output %r, expected %r" % (src, out.size, (ew, eh)))
    check((row["width_in"], row["height_in"], row["width_out"], row["height_out"]) == (w, h, ew, eh),
          "%s: record sizes" % src)
    has_alpha = im.mode in ("RGBA", "LA") or "transparency" in im.info
    gray = im.mode in ("L", "LA", "I", "I;16", "1")
    want = ("LA" if has_alpha else "L") if gray else ("RGBA" if has_alpha else "RGB")
    check(out.mode == want, "%s: output mode %s, expected %s" % (src, out.mode, want))


def text_reference(data):
    tokens = collections.Counter(t.lower() for t in TOKEN.findall(data))
    top = sorted(tokens.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {"lines": data.count(b"\n"), "words": len(data.split()), "bytes": len(data),
            "chars": len(data.decode("utf-8", "surrogateescape")),
            "top_words": [[k.decode("utf-8", "replace"), v] for k, v in top]}


def csv_reference(data):
    text = data.decode("utf-8-sig")
    recs = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    header, out = recs[0], []
    for r in recs[1:]:
        obj = {}
        for i, k in enumerate(header):
            if i >= len(r):
                obj[k] = None
            else:
                obj[k] = r[i]
        out.append(obj)
    return header, out


def check_csv(src, row):
    data = open(src, "rb").read()
    header, ref = csv_reference(data)
    got = json.load(open(row["output"], encoding="utf-8"))
    check(len(got) == len(ref) == row["rows"] and row["cols"] == len(header), "%s: row counts" % src)
    for g, r in zip(got, ref):
        check(list(g.keys()) == header, "%s: key order" % src)
        for k in header:
            v = g[k]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                check(NUMBER.match(r[k]) is not None and float(r[k]) == v, "%s: number %r vs %r" % (src, v, r[k]))
            else:
                check(v == r[k], "%s: %r vs %r" % (src, v, r[k]))


def check_outputs(ds, rows, max_side):
    for r in rows:
        name = r["url"].rsplit("/", 1)[1]
        src = os.path.join(ds, name)
        check(r["status"] == "ok", "%s failed: %s" % (name, r["error"]))
        check(sha256_file(r["output"]) == r["digest"], "%s: digest" % name)
        check(os.path.getsize(src) == r["bytes_in"], "%s: bytes_in" % name)
        if r["kind"] == "image":
            check_image(src, r, max_side)
        elif r["kind"] == "text":
            got = json.load(open(r["output"], encoding="utf-8"))
            ref = text_reference(open(src, "rb").read())
            check(got == ref, "%s: text stats %r != reference %r" % (name, got, ref))
            check((r["lines"], r["words"], r["chars"]) == (ref["lines"], ref["words"], ref["chars"]),
                  "%s: record text fields" % name)
        else:
            check(r["kind"] == "csv", "%s: kind %s" % (name, r["kind"]))
            check_csv(src, r)


def check_first_run(ds, rid, attrs, rows, nfiles):
    import h5py
    check(rid.endswith("-sequential"), "run id %s" % rid)
    for a in RUN_ATTRS:
        check(a in attrs, "run attribute %s missing" % a)
    check(attrs["tasks"] == nfiles == len(rows) and attrs["ok"] == nfiles and attrs["failed"] == 0,
          "run counts %r" % attrs)
    check(attrs["latency_ms"] == 5 and attrs["mode"] == "sequential", "mode/latency attrs")
    check(attrs["bytes_in"] == sum(r["bytes_in"] for r in rows), "bytes_in sum")
    check(sorted(r["index"] for r in rows) == list(range(nfiles)), "one row per task")
    for r in rows:
        check(r["t_fetch"] >= 0.004, "fetch time includes the 5 ms latency: %r" % r["t_fetch"])
        check(r["http_status"] == 200 and r["attempts"] == 1, "http status/attempts")
    return h5py


def check_https(work, ds):
    if shutil.which("openssl") is None:
        from e2e_common import skip_part
        skip_part("https part", "openssl not installed")
        return
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    srv, base = cfp_serve(ds, 0, ["--tls-cert", cert, "--tls-key", key])
    try:
        check(base.startswith("https://"), "served over https: %s" % base)
        lst = os.path.join(work, "https.txt")
        open(lst, "w").write(base + "text_0000.txt\n" + base + "image_0000.png\n")
        h5 = os.path.join(work, "https.h5")
        common = ["--mode", "sequential", "--input", lst, "--results", h5, "--quiet", "--retries", "0"]
        rc, _, err = run_cfp(common + ["--output-dir", os.path.join(work, "h1"), "--cacert", cert])
        check(rc == 0, "https with --cacert: exit %d %s" % (rc, err))
        rc, _, err = run_cfp(common + ["--output-dir", os.path.join(work, "h2")])
        check(rc == 1, "https without the CA must fail: exit %d" % rc)
        rc, _, err = run_cfp(common + ["--output-dir", os.path.join(work, "h3"), "--insecure"])
        check(rc == 0, "https --insecure: exit %d %s" % (rc, err))
        runs = read_runs(h5)
        check([r["error_code"] for r in runs[1][2]] == ["TLS", "TLS"], "untrusted cert gives TLS errors: %r"
              % [r["error"] for r in runs[1][2]])
        check(runs[0][2][0]["digest"] == runs[2][2][0]["digest"], "same output over verified and insecure https")
    finally:
        srv.stop()


def check_streamed(work, ds, base, whole_rows):
    """Every image decoded as it arrives (the test hook CFP_TEST_STREAM_ALL;
    async fetches each one again on a pool thread): the same output bytes as
    the whole-buffer path, task by task."""
    env = dict(os.environ, CFP_TEST_STREAM_ALL="1")
    want = {r["index"]: (r["status"], r["digest"]) for r in whole_rows}
    for mode in ("threading", "async"):
        h5 = os.path.join(work, "stream-%s.h5" % mode)
        args = list(base)
        args[args.index("--results") + 1] = h5
        args[args.index("--mode") + 1] = mode
        rc, _, err = run_cfp(args + ["--output-dir", os.path.join(work, "stream-" + mode),
                                     "--max-side", "100"], env=env)
        check(rc == 0, "streamed %s run: exit %d %s" % (mode, rc, err))
        rows = read_runs(h5)[0][2]
        got = {r["index"]: (r["status"], r["digest"]) for r in rows}
        check(got == want, "streamed %s: outputs differ from the whole-buffer path: %r vs %r"
              % (mode, got, want))
    print("streamed decoding: same outputs in threading and async")


def main():
    work = tmpdir("cfp-e2e-")
    ds = os.path.join(work, "dataset")
    h5 = os.path.join(work, "results.h5")
    rc, _, err = run_cfp(["--generate-dataset", "--num-images", "6", "--num-texts", "4", "--num-csv", "3",
                          "--seed", "7", "--dataset-dir", ds, "--quiet"])
    check(rc == 0, "generate: exit %d %s" % (rc, err))
    nfiles = 13
    base = ["--mode", "sequential", "--dataset-dir", ds, "--results", h5, "--latency-ms", "5", "--quiet"]
    rc, _, err = run_cfp(base + ["--output-dir", os.path.join(work, "out1")])
    check(rc == 0, "run 1: exit %d %s" % (rc, err))
    runs = read_runs(h5)
    rid, attrs, rows = runs[0]
    h5py = check_first_run(ds, rid, attrs, rows, nfiles)
    with h5py.File(h5, "r") as f:
        check(f.attrs["schema_version"] == 1 and "cfp_version" in f.attrs, "root attributes")
        names = f["runs"][rid]["tasks"].dtype.names
        for fld in TASK_FIELDS:
            check(fld in names, "task field %s missing" % fld)
        check(f["runs"][rid]["tasks"].chunks is not None, "tasks dataset is chunked")
        check(f["runs"][rid]["tasks"].maxshape == (None,), "tasks dataset is extensible")
    check_outputs(ds, rows, 512)
    rc, _, err = run_cfp(base + ["--output-dir", os.path.join(work, "out2"), "--max-side", "100"])
    check(rc == 0, "run 2: exit %d %s" % (rc, err))
    runs2 = read_runs(h5)
    check(len(runs2) == 2 and runs2[0][0] == rid and len(runs2[0][2]) == nfiles, "second run appended")
    check_outputs(ds, runs2[1][2], 100)
    check_streamed(work, ds, base, runs2[1][2])
    rep = os.path.join(work, "again.txt")
    rc, _, err = run_cfp(["report", h5, "-o", rep])
    check(rc == 0, "cfp report: exit %d %s" % (rc, err))
    text = open(rep).read()
    check(runs2[0][0] in text and runs2[1][0] in text and "fetch" in text, "report names both runs")
    check_https(work, ds)
    shutil.rmtree(work)
    print("dataset e2e ok: %d files x 2 runs" % nfiles)


if __name__ == "__main__":
    main()
