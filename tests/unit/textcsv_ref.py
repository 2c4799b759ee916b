#!/usr/bin/python3
"""Differential test of cfp's text and CSV processors against Python.

Usage: textcsv_ref.py TEST_TEXT TEST_CSV [--seed N] [--keep DIR]

Generates randomised inputs with a fixed seed, runs them through the C
processors (`test_text file IN OUT ...`, `test_csv file IN OUT ...`, which
feed 4093-byte chunks) and compares with references computed independently
here:
  text: bytes.split(), data.count(b"\\n"), the surrogateescape decode, the
        token regex with collections.Counter;
  CSV:  the generator's own records, cross-checked against Python's csv
        module, plus the JSON number regex; error files against the record
        and line numbers the generator knows.
Outputs are json.loads-ed and compared as structures, then byte-compared with
the documented formatting (json.dumps(..., ensure_ascii=False) conventions).
Exit 0 on success, 1 on the first mismatch (the input is kept for debugging).
"""
import collections
import csv
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

TOKEN = re.compile(rb"[A-Za-z0-9\x80-\xff]+(?:'[A-Za-z0-9\x80-\xff]+)*")
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
LINE_END = re.compile(rb"\r\n|\r|\n")

WORDS = ("the of and to in is was he for it with as his on be at by had are but from or "
         "have an they which one you were all we her she there would their will when who "
         "him been has more if no out do so can what up said about other into than its time "
         "only could new them man some these then two first may any like now my such make "
         "over our even most me state after also made many did must before back see through "
         "way where get much go well your know should down work year because come people "
         "just say each those take day good how long Little own too THE Of AND").split()
MULTI = ["café", "naïve", "Über", "straße", "ÉCOLE", "中文", "日本語", "😀", "€", "don’t", "ﬁ"]
INVALID = [b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80",
           b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80", b"\xe2\x82",
           b"\xf0\x9f\x98", b"\xc3", b"\xe2", b"\xf0"]
SEPS = [b" ", b" ", b" ", b"  ", b"\n", b"\r\n", b"\r", b"\t", b"\x0b", b"\x0c", b", ", b". ",
        b"; ", b"\x00", b"-", b"\x1c", b"\x85", b" '", b"' ", b"''", b"_", b"\"", b"(", b")"]
SPECIAL = ["don't", "rock'n'roll", "a''b", "'tis", "end'", "O'Neil", "it's", "x'", "'y'"]


def fail(msg, keep=None):
    print("FAIL: " + msg)
    if keep:
        print("inputs kept in " + keep)
    sys.exit(1)


# ---------------------------------------------------------------- text

def gen_text(rng, size):
    """English-like words with case variants, multibyte and invalid UTF-8,
    apostrophes, NULs, CRs and other separators."""
    out, n = [], 0
    style = rng.random()
    while n < size:
        r = rng.random()
        if style < 0.05:
            piece = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif r < 0.55:
            w = rng.choice(WORDS)
            piece = (w.capitalize() if rng.random() < 0.1 else w).encode()
        elif r < 0.62:
            piece = rng.choice(MULTI).encode()
        elif r < 0.67:
            piece = rng.choice(INVALID)
        elif r < 0.72:
            piece = rng.choice(SPECIAL).encode()
        elif r < 0.75:
            piece = str(rng.randint(0, 2000)).encode()
        else:
            piece = b""
        piece += rng.choice(SEPS)
        out.append(piece)
        n += len(piece)
    return b"".join(out)[:size]


def gen_utf8_soup(rng, size):
    """Short runs of boundary bytes: checks the character count (every
    invalid byte = one character) against Python's decoder."""
    alphabet = [0x41, 0x20, 0x27, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF]
    return bytes(rng.choice(alphabet) for _ in range(size))


def shown(token):
    s = token.decode("utf-8", "surrogateescape")
    return "".join("\ufffd" if "\udc80" <= ch <= "\udcff" else ch for ch in s)


def ref_text(data):
    # Tokens over CFP_TEXT_TOKEN_MAX (256) bytes are not ranked (cfp_text.h).
    counts = collections.Counter(t.lower() for t in TOKEN.findall(data) if len(t) <= 256)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "lines": data.count(b"\n"),
        "words": len(data.split()),
        "chars": len(data.decode("utf-8", "surrogateescape")),
        "bytes": len(data),
        "top_words": [[shown(t), n] for t, n in top],
    }


def check_text(binary, work, rng):
    sizes = [0, 1, 2, 3, 5, 17, 4092, 4093, 4094, 8187] + [rng.randint(0, 60000)
                                                          for _ in range(110)]
    sizes += [2_500_000]
    inputs = []
    for i, size in enumerate(sizes):
        data = gen_utf8_soup(rng, size) if i % 9 == 4 else gen_text(rng, size)
        inputs.append(data)
    args = [binary, "file"]
    for i, data in enumerate(inputs):
        with open(os.path.join(work, "t%d.txt" % i), "wb") as f:
            f.write(data)
        args += [os.path.join(work, "t%d.txt" % i), os.path.join(work, "t%d.json" % i)]
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        fail("test_text exited %d: %s" % (res.returncode, res.stderr), work)
    for i, data in enumerate(inputs):
        with open(os.path.join(work, "t%d.json" % i), "rb") as f:
            raw = f.read()
        want = ref_text(data)
        got = json.loads(raw.decode("utf-8"), object_pairs_hook=collections.OrderedDict)
        if got != want or list(got.keys()) != list(want.keys()):
            fail("text t%d.txt: got %r want %r" % (i, got, want), work)
        if raw != (json.dumps(want, ensure_ascii=False) + "\n").encode():
            fail("text t%d.txt: formatting differs: %r" % (i, raw[:300]), work)
    return len(inputs)


# ---------------------------------------------------------------- CSV

NUMS = ["0", "-0", "7", "-12", "3.25", "1e5", "-0.5E+3", "2E-07", "123456789012345678901",
        "10.0"]
NOT_NUMS = ["01", "1.", "+1", " 1", "1 ", ".5", "1e", "--1", "0x1F", "NaN", "-", "1,5"]
TEXT_BITS = ["a", "Ann", "b c", "x,y", "say \"hi\"", "line1\nline2", "cr\r\nlf", "lone\rcr",
             "tab\there", "back\\slash", "\x01ctl", "é", "中文", "😀", "  ", "\u2028", "x\"y",
             "'q'", "{}", "null", "true"]


def gen_value(rng):
    r = rng.random()
    if r < 0.3:
        return rng.choice(NUMS)
    if r < 0.4:
        return rng.choice(NOT_NUMS)
    if r < 0.5:
        return ""
    return "".join(rng.choice(TEXT_BITS) for _ in range(rng.randint(1, 3)))


def encode_field(rng, v):
    """Returns (text, quoted): quoting is required for , " CR LF at any
    place but a mid-field quote, and chosen at random otherwise."""
    must = any(ch in v for ch in ",\r\n") or v.startswith('"')
    if must or rng.random() < 0.3:
        # Sometimes a plain tail after the closing quote: "ab"cd reads abcd.
        cut = len(v)
        if rng.random() < 0.2:
            cut = max([0] + [i + 1 for i, ch in enumerate(v) if ch in ',"\r\n'])
        return '"' + v[:cut].replace('"', '""') + '"' + v[cut:], True
    return v, False


def encode_record(rng, values):
    texts, quoted = [], []
    for v in values:
        t, q = encode_field(rng, v)
        texts.append(t)
        quoted.append(q)
    line = ",".join(texts)
    if line == "":  # one unquoted empty field would be a blank line
        line, quoted[0] = '""', True
    return line, quoted


def render(v):
    if v is None:
        return "null"
    if isinstance(v, tuple):
        return v[1]
    return json.dumps(v, ensure_ascii=False)


def gen_header(rng, error):
    header = []
    for _ in range(rng.randint(1, 7)):
        name = rng.choice(["id", "name", "x,y", "say \"q\"", "é", "n\nl", "col"]) + str(
            rng.randint(0, 50))
        if name not in header:
            header.append(name)
    if error == "dup":
        i = rng.randrange(len(header))
        header.insert(rng.randint(i + 1, len(header)), header[i])
    elif error == "emptyname":
        header[rng.randrange(len(header))] = ""
    return header


def header_error(header, line):
    """The message for a bad header (first empty name, else the earliest
    second occurrence of a name), or None."""
    if "" in header:
        return "CSV record 1 (line %d): header field %d is empty" % (line, header.index("") + 1)
    first = {}
    for j, name in enumerate(header):
        if name in first:
            return "CSV record 1 (line %d): header field %d duplicates field %d \"%s\"" % (
                line, j + 1, first[name] + 1, name.replace("\n", "?"))
        first[name] = j
    return None


MARK = "\ue000"  # stands for an invalid byte while encoding


def spoil_utf8(rng, values, recno, line):
    """Puts one 0xFF byte into a random field; returns (values, message)."""
    values = list(values)
    k = rng.randrange(len(values))
    pos = rng.randint(0, len(values[k]))
    offset = len(values[k][:pos].encode())
    values[k] = values[k][:pos] + MARK + values[k][pos:]
    return values, "CSV record %d (line %d): field %d: invalid UTF-8 byte 0xff at offset %d" % (
        recno, line, k + 1, offset)


def gen_csv(rng, error):
    """Returns (bytes, expectation): ("ok", rows, cols, objects) or
    ("error", code name, exact message). error is None, "extra", "utf8",
    "quote", "dup" or "emptyname"."""
    header = gen_header(rng, error)
    ncols = len(header)
    eol_style = rng.choice(["\n", "\r\n", "mixed"])
    text = b"\xef\xbb\xbf" if rng.random() < 0.2 else b""
    body = len(text)
    rows = [[gen_value(rng) for _ in range(ncols if rng.random() < 0.8 else
                                           rng.randint(1, ncols))]
            for _ in range(rng.choice([0, 1, 2, 5, 30, 200]))]
    records = [header] + rows
    bad_at = rng.randint(1, len(rows)) if rows else None
    meta, msg = [], None
    for idx, values in enumerate(records):
        while rng.random() < 0.1:  # blank lines are skipped
            text += rng.choice([b"\n", b"\r\n"])
        line = len(LINE_END.findall(text[body:])) + 1
        last = idx == len(records) - 1
        if idx == 0:
            msg = header_error(header, line)
        if error == "extra" and idx == bad_at:
            values = values + [""] * (ncols - len(values)) + ["extra"]
            msg = "CSV record %d (line %d): %d fields, header has %d" % (
                idx + 1, line, ncols + 1, ncols)
        if error == "utf8" and idx == bad_at:
            values, msg = spoil_utf8(rng, values, idx + 1, line)
        enc, quoted = encode_record(rng, values)
        enc = enc.encode().replace(MARK.encode(), b"\xff")
        if error == "quote" and last:
            # An opening quote that is never closed, after the record's
            # own fields when there is room for one more.
            prefix = enc + b"," if idx > 0 and len(values) < ncols else b""
            enc = prefix + b'"' + gen_value(rng).replace('"', "").encode()
            msg = "CSV record %d (line %d): field %d: quote opened on line %d is not closed" % (
                idx + 1, line, len(values) + 1 if prefix else 1,
                line + len(LINE_END.findall(prefix)))
        meta.append((quoted, values))
        text += enc
        if (not last or rng.random() < 0.7) and not (error == "quote" and last):
            eol = eol_style if eol_style != "mixed" else rng.choice(["\n", "\r\n", "\r"])
            text += eol.encode()
    if msg:
        return text, ("error", "CSV", msg)
    # Independent parse: the csv module must read back what was generated.
    parsed = [r for r in csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")) if r]
    if parsed != [m[1] for m in meta]:
        raise AssertionError("generator and csv module disagree: %r vs %r" % (
            parsed[:3], [m[1] for m in meta][:3]))
    objects = []
    for quoted, values in meta[1:]:
        obj = []
        for j, name in enumerate(header):
            if j >= len(values):
                v = None
            elif not quoted[j] and NUMBER.fullmatch(values[j]):
                v = ("num", values[j])
            else:
                v = values[j]
            obj.append((name, v))
        objects.append(obj)
    return text, ("ok", len(objects), ncols, objects)


def check_csv(binary, work, rng):
    cases = []
    kinds = [None] * 120 + ["extra"] * 15 + ["utf8"] * 15 + ["quote"] * 10 + ["dup"] * 6 + \
        ["emptyname"] * 6
    for kind in kinds:
        text, want = gen_csv(rng, kind)
        cases.append((text, want))
    cases.append((b"", ("ok", 0, 0, [])))
    args = [binary, "file"]
    for i, (text, _) in enumerate(cases):
        with open(os.path.join(work, "c%d.csv" % i), "wb") as f:
            f.write(text)
        args += [os.path.join(work, "c%d.csv" % i), os.path.join(work, "c%d.json" % i)]
    res = subprocess.run(args, capture_output=True)
    if res.returncode != 0:
        fail("test_csv exited %d: %s" % (res.returncode, res.stderr.decode(errors="replace")),
             work)
    lines = res.stdout.decode("utf-8", "replace").split("\n")
    for i, (text, want) in enumerate(cases):
        status = lines[i]
        if want[0] == "error":
            expect = "error %s %s" % (want[1], want[2])
            if status != expect:
                fail("c%d.csv: got %r want %r" % (i, status, expect), work)
            continue
        if status != "ok %d %d" % (want[1], want[2]):
            fail("c%d.csv: got %r want ok %d %d" % (i, status, want[1], want[2]), work)
        with open(os.path.join(work, "c%d.json" % i), "rb") as f:
            raw = f.read()
        got = json.loads(raw.decode("utf-8"), object_pairs_hook=list,
                         parse_int=lambda s: ("num", s), parse_float=lambda s: ("num", s))
        if got != want[3]:
            fail("c%d.csv: structure differs:\n got %r\nwant %r" % (i, got[:3], want[3][:3]), work)
        exp = "[]\n" if not want[3] else "[\n" + ",\n".join(
            "{" + ", ".join(json.dumps(k, ensure_ascii=False) + ": " + render(v) for k, v in o) +
            "}" for o in want[3]) + "\n]\n"
        if raw != exp.encode():
            fail("c%d.csv: formatting differs: %r" % (i, raw[:300]), work)
    return len(cases)


def main():
    argv = sys.argv[1:]
    seed, keep = 20240611, None
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    if "--keep" in argv:
        i = argv.index("--keep")
        keep = argv[i + 1]
        del argv[i:i + 2]
    if len(argv) != 2:
        print(__doc__)
        return 2
    work = keep or tempfile.mkdtemp(prefix="cfp-textcsv-")
    os.makedirs(work, exist_ok=True)
    rng = random.Random(seed)
    nt = check_text(argv[0], work, rng)
    nc = check_csv(argv[1], work, rng)
    if not keep:
        shutil.rmtree(work)
    print("textcsv_ref: %d text and %d CSV inputs match the Python reference (seed %d)" % (
        nt, nc, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
