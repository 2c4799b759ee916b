#!/usr/bin/env python3
"""End-to-end bad-input test: every kind of bad URL, server reply and file
fails only its own task, with a precise message in its HDF5 record; every
other task completes; exit status 1; no partial or temporary output is left.
Real servers on loopback: `cfp serve` and tests/faultsrv.py."""
import io
import os
import shutil
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import (check, cfp_serve, fail, fault_server, read_runs, run_cfp,  # noqa: E402
                        sha256_file, tmpdir)
from PIL import Image  # noqa: E402


def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def good_png():
    img = Image.new("RGB", (300, 200))
    px = img.load()
    for y in range(200):
        for x in range(300):
            px[x, y] = (x % 256, y % 256, (x * y) % 256)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def huge_png():
    ihdr = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def bad_crc_png(png):
    b = bytearray(png)
    b[8 + 8 + 13] ^= 0xFF  # first byte of IHDR's CRC
    return bytes(b)


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def make_files(d):
    png = good_png()
    write(d, "good.png", png)
    write(d, "truncated.png", png[: len(png) // 2])
    write(d, "badcrc.png", bad_crc_png(png))
    write(d, "huge.png", huge_png())
    write(d, "empty.png", b"")
    write(d, "good.txt", "The cat and the dog. The end, don't panic.\n".encode())
    write(d, "good.csv", b'name,qty\n"a, b",3\nc,-1.5e3\n')
    write(d, "notutf8.csv", b"name,qty\nok,1\n\xff\xfe,2\n")
    write(d, "longrec.csv", b"a,b\n1,2\n1,2,3\n")
    write(d, "unterminated.csv", b'a,b\n1,"abc\n2,3\n')



def cases(http, fault, d):
    """(url, expected status, error_code, message fragment)."""
    f = "file://" + d
    return [
        (http + "good.png", "ok", "OK", ""),
        (http + "good.txt", "ok", "OK", ""),
        (f + "/good.csv", "ok", "OK", ""),
        (fault + "/flaky/2/recovers.txt", "ok", "OK", ""),
        (fault + "/status/404/missing.png", "failed", "HTTP", "HTTP 404"),
        (fault + "/status/500/boom.txt", "failed", "HTTP", "HTTP 500"),
        ("http://127.0.0.1:1/refused.png", "failed", "CONNECT", "127.0.0.1"),
        (fault + "/truncate/cut.txt", "failed", "TRANSFER", "partial"),
        (fault + "/big/500000/big.txt", "failed", "TOO_BIG", "--max-bytes 100000"),
        (fault + "/loop/0", "failed", "REDIRECT", "redirect"),
        (fault + "/tofile", "failed", "REDIRECT", "redirect refused"),
        ("ftp://127.0.0.1/file.txt", "failed", "SCHEME", "unsupported scheme 'ftp'"),
        ("http://exa mple.com/x.png", "failed", "URL", "malformed URL"),
        (http + "truncated.png", "failed", "PNG_DECODE", ""),
        (http + "badcrc.png", "failed", "PNG_DECODE", "CRC"),
        (http + "huge.png", "failed", "TOO_BIG", "max-pixels"),
        (http + "empty.png", "failed", "PNG_DECODE", ""),
        (f + "/notutf8.csv", "failed", "CSV", "record 3"),
        (f + "/longrec.csv", "failed", "CSV", "record 3"),
        (f + "/unterminated.csv", "failed", "CSV", "record 2"),
        (f + "/does-not-exist.txt", "failed", "IO", "does-not-exist"),
        (http + "good.png?copy=2", "ok", "OK", ""),
        # An unknown type, streamed without Content-Length past --max-bytes:
        # every engine stops at the type (TYPE), not at the size limit.
        (fault + "/big/500000/blob.bin", "failed", "TYPE", "unsupported type (not PNG; extension 'bin'"),
    ]


def check_rows(rows, expected, retries):
    check(len(rows) == len(expected), "%d rows, expected %d" % (len(rows), len(expected)))
    by_index = {r["index"]: r for r in rows}
    check(sorted(by_index) == list(range(len(expected))), "each task exactly once")
    for i, (url, status, code, frag) in enumerate(expected):
        r = by_index[i]
        what = "task %d (%s): status=%s code=%s error=%r" % (i, url, r["status"], r["error_code"], r["error"])
        check(r["url"] == url, "task %d url %r != %r" % (i, r["url"], url))
        check(r["status"] == status and r["error_code"] == code, what + "; expected %s/%s" % (status, code))
        check(frag in r["error"], what + "; expected message containing %r" % frag)
        if status == "ok":
            check(os.path.isfile(r["output"]) and sha256_file(r["output"]) == r["digest"],
                  "task %d output/digest mismatch" % i)
        else:
            check(r["output"] == "" and r["error"] != "", what + ": failed task has output or no message")
    check(by_index[3]["attempts"] == 3, "flaky URL took %d attempts, expected 3" % by_index[3]["attempts"])
    check(by_index[5]["attempts"] == retries + 1, "HTTP 500 retried %d times" % by_index[5]["attempts"])
    check(by_index[4]["attempts"] == 1, "HTTP 404 must not be retried")
    check(by_index[4]["http_status"] == 404, "http_status of the 404 task")


MODES = ["sequential", "threading", "async"]


def main():
    work = tmpdir("cfp-bad-")
    files = os.path.join(work, "files")
    os.makedirs(files)
    make_files(files)
    srv, http = cfp_serve(files)
    fsrv, fault = fault_server()
    try:
        expected = cases(http, fault, files)
        lst = os.path.join(work, "urls.txt")
        h5 = os.path.join(work, "results.h5")
        nok = sum(1 for e in expected if e[1] == "ok")
        for i, mode in enumerate(MODES):
            out = os.path.join(work, "out-" + mode)
            # The flaky URL counts requests per path: give each mode its own.
            with open(lst, "w") as f:
                f.write("# bad-input suite: comments and blank lines are not tasks\n\n")
                for url, *_ in expected:
                    f.write("  %s  \n" % url.replace("/flaky/2/", "/flaky/2/%s-" % mode))
            rc, _, err = run_cfp(["--mode", mode, "--input", lst, "--output-dir", out,
                                  "--results", h5, "--max-bytes", "100000", "--retries", "2",
                                  "--timeout", "10", "--quiet", "--workers", "4"])
            check(rc == 1, "%s: exit status %d, expected 1 (some failed); stderr: %s" % (mode, rc, err))
            runs = read_runs(h5)
            check(len(runs) == i + 1, "one run group per mode")
            rid, attrs, rows = runs[i]
            check(attrs["mode"] == mode, "run %s is %s" % (rid, mode))
            exp = [(u.replace("/flaky/2/", "/flaky/2/%s-" % mode), *rest) for u, *rest in expected]
            check_rows(rows, exp, 2)
            check(attrs["ok"] == nok and attrs["failed"] == len(expected) - nok, "run counts %r" % attrs)
            check(attrs["complete"] == 1, "run marked complete")
            left = sorted(os.listdir(out))
            check(len(left) == nok and not any(n.startswith(".") for n in left),
                  "%s: output dir holds exactly the ok outputs, no temporaries: %r" % (mode, left))
        runs = read_runs(h5)
        ref = {r["index"]: (r["status"], r["error_code"], r["digest"]) for r in runs[0][2]}
        for rid, attrs, rows in runs[1:]:
            got = {r["index"]: (r["status"], r["error_code"], r["digest"]) for r in rows}
            check(got == ref, "%s: statuses/digests differ from sequential" % rid)
        report = os.path.join(work, "performance_report.txt")
        check(os.path.isfile(report), "report written beside the results")
        text = open(report).read()
        check("HTTP 404" in text and "Failed tasks" in text, "report lists the failures")
    finally:
        srv.stop()
        fsrv.stop()
    shutil.rmtree(work)
    print("bad-input suite: %d tasks x %d modes checked" % (len(expected), len(MODES)))


if __name__ == "__main__":
    main()
