#!/usr/bin/python3
"""gen_check.py - checks a generated dataset with independent readers.

Usage: gen_check.py TEST_GEN_BINARY

Runs `TEST_GEN_BINARY --generate DIR` (default counts and seed, i.e. what
`cfp --generate-dataset` writes), then checks:
  - PNGs: chunk structure and CRCs read directly, every file fully decoded by
    PIL, (colour type, bit depth, interlace) coverage, tRNS present, sizes,
    pixels not flat, and for non-interlaced images a small independent
    decoder (zlib + unfiltering) agreeing with PIL / showing real 16-bit data;
  - texts: strict UTF-8, multibyte characters, apostrophes, sizes, and a
    Zipf-like word-frequency decline;
  - CSVs: Python's csv module in strict mode, consistent field counts,
    fields with commas, quotes and newlines, empty fields, LF and CRLF files;
  - the PRNG against a Python re-implementation of splitmix64/xoshiro256**;
  - a second run in a new process reproduces the same bytes.
Exit 0 on success, 1 on a failed check, 77 when PIL/numpy are missing.
"""
import collections
import csv
import datetime
import io
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

# skip_part() comes from the end-to-end helpers (tests/e2e/e2e_common.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
try:
    import numpy as np
    from PIL import Image
except ImportError as e:  # the test needs them: skip, do not fail
    from e2e_common import skip_part
    skip_part("whole test", "%s (run with /usr/bin/python3)" % e)
    sys.exit(77)

N_IMAGES, N_TEXTS, N_CSV, SEED = 20, 20, 10, 42
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what)
    return cond


# ---------------------------------------------------------------- PRNG

M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def xoshiro_outputs(seed, n):
    s, st = [], seed
    for _ in range(4):
        st, v = splitmix64(st)
        s.append(v)
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
    out = []
    for _ in range(n):
        out.append((rotl((s[1] * 5) & M64, 7) * 9) & M64)
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


def check_rng(binary):
    for seed in (0, 42, 0xFFFFFFFFFFFFFFFF):
        got = subprocess.run([binary, "--rng", str(seed), "6"], check=True,
                             capture_output=True, text=True).stdout.split()
        check([int(x) for x in got] == xoshiro_outputs(seed, 6),
              "cfp_rng seeded with %d differs from the Python reference" % seed)


# ---------------------------------------------------------------- PNG

def png_chunks(data, name):
    """Returns [(type, payload)], checking signature, lengths and CRCs."""
    if not check(data[:8] == b"\x89PNG\r\n\x1a\n", name + ": PNG signature"):
        return []
    chunks, pos = [], 8
    while pos < len(data):
        if not check(pos + 12 <= len(data), name + ": truncated chunk"):
            break
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        payload = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        check(zlib.crc32(ctype + payload) == crc, "%s: bad CRC in %r" % (name, ctype))
        chunks.append((ctype, payload))
        pos += 12 + length
    check(chunks and chunks[-1][0] == b"IEND", name + ": IEND last")
    return chunks


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def unfilter_row(ftype, line, prev, bpp):
    """Reference PNG unfiltering of one row (PNG spec, section 9.2)."""
    if ftype == 0:
        return line
    if ftype == 1:  # Sub: running sums along each byte lane of a pixel
        return (line.reshape(-1, bpp).cumsum(axis=0) % 256).reshape(-1)
    if ftype == 2:
        return (line + prev) % 256
    cur, up = [int(v) for v in line], [int(v) for v in prev]
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        c = up[i - bpp] if i >= bpp else 0
        pred = (a + up[i]) // 2 if ftype == 3 else paeth(a, up[i], c)
        cur[i] = (cur[i] + pred) & 255
    return np.array(cur, dtype=np.int64)


def reference_decode(raw, width, height, channels, depth, budget):
    """Unfilters non-interlaced image data to samples of shape (h, w, ch).
    Returns None when the rows needing Python loops (Average, Paeth) exceed
    budget bytes: the check samples images, it need not decode every one."""
    bpp = max(1, channels * depth // 8)
    stride = (width * channels * depth + 7) // 8
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride + 1).astype(np.int64)
    if not np.all(rows[:, 0] <= 4):
        raise ValueError("bad filter type")
    if np.count_nonzero(rows[:, 0] >= 3) * stride > budget:
        return None
    out, prev = np.zeros((height, stride), dtype=np.int64), np.zeros(stride, dtype=np.int64)
    for y in range(height):
        prev = out[y] = unfilter_row(int(rows[y, 0]), rows[y, 1:], prev, bpp)
    if depth == 16:
        return (out[:, 0::2] * 256 + out[:, 1::2]).reshape(height, width, channels)
    if depth == 8:
        return out.reshape(height, width, channels)
    bits = np.unpackbits(out.astype(np.uint8), axis=1)  # MSB first, as PNG packs
    vals = bits.reshape(height, -1, depth) @ (1 << np.arange(depth - 1, -1, -1))
    return vals[:, :width].reshape(height, width, 1)


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def check_png_pixels(name, hdr, chunks, img):
    """Independent decode of non-interlaced images, compared with PIL's."""
    w, h, depth, ctype, interlace = hdr
    if interlace:
        return False
    raw = zlib.decompress(b"".join(p for t, p in chunks if t == b"IDAT"))
    ch = CHANNELS[ctype]
    check(len(raw) == h * (1 + (w * ch * depth + 7) // 8), name + ": IDAT data size")
    ref = reference_decode(raw, w, h, ch, depth, 2000000)
    if ref is None:
        return False
    if depth == 16:
        check(len(np.unique(ref & 0xFF)) > 64, name + ": 16-bit samples use the low byte")
    if ctype == 0 and depth == 16:  # PIL keeps 16-bit grey ("I" modes)
        pil, want = np.asarray(img).astype(np.int64), ref[:, :, 0]
    elif ctype == 0 and depth < 8:  # PIL scales sub-byte grey to 0..255
        pil = np.asarray(img.convert("L")).astype(np.int64)
        want = ref[:, :, 0] * 255 // ((1 << depth) - 1)
    elif ctype == 3:  # palette indices
        pil, want = np.asarray(img).astype(np.int64), ref[:, :, 0]
    else:  # PIL reduces 16-bit colour to the high byte
        pil = np.asarray(img).astype(np.int64).reshape(h, w, -1)
        if ch == 2 and pil.shape[2] == 4:  # 16-bit grey+alpha opens as RGBA
            pil = pil[:, :, [0, 3]]
        want = ref >> 8 if depth == 16 else ref
    check(np.array_equal(pil, want), name + ": PIL and the reference decoder agree")
    return True


def std_normalised(img, depth):
    if img.mode == "P" or depth < 8:
        a = np.asarray(img.convert("RGBA"), dtype=np.float64) / 255.0
    elif img.mode in ("I", "I;16", "I;16B"):
        a = np.asarray(img, dtype=np.float64) / 65535.0
    else:
        a = np.asarray(img, dtype=np.float64) / 255.0
    if a.ndim == 3:  # per channel, so a plain gradient in one channel counts
        return max(a[:, :, c].std() for c in range(a.shape[2]))
    return a.std()


def check_images(d):
    combos, first10, longest = set(), set(), []
    trns_palette = False
    decoded_ref = 0
    for i in range(N_IMAGES):
        name = "image_%04d.png" % i
        data = open(os.path.join(d, name), "rb").read()
        chunks = png_chunks(data, name)
        if not chunks or not check(chunks[0][0] == b"IHDR", name + ": IHDR first"):
            continue
        hdr = struct.unpack(">IIBBBBB", chunks[0][1])
        w, h, depth, ctype, _, _, interlace = hdr
        hdr = (w, h, depth, ctype, interlace)
        types = {t for t, _ in chunks}
        check(b"tIME" not in types, name + ": no tIME chunk (it would break determinism)")
        if ctype == 3:
            trns_palette |= b"tRNS" in types
        combos.add((ctype, depth, interlace))
        if i < 10:
            first10.add((ctype, depth, interlace))
        longest.append(max(w, h))
        img = Image.open(os.path.join(d, name))
        img.load()  # full decode: raises on any error
        check(img.size == (w, h), name + ": PIL size matches IHDR")
        if w * h >= 256:
            s = std_normalised(img, depth)
            check(s > 0.03, "%s: not flat (normalised std-dev %.4f)" % (name, s))
        if check_png_pixels(name, hdr, chunks, img):
            decoded_ref += 1
    main = {(c, b) for c in (0, 2, 4, 6) for b in (8, 16)} | {(3, 8)}
    for c, b in sorted(main):
        for il in (0, 1):
            check((c, b, il) in combos,
                  "colour type %d, depth %d, interlace %d present" % (c, b, il))
    check({c for c, _, _ in first10} == {0, 2, 3, 4, 6}, "first 10 images: all colour types")
    check({b for _, b, _ in first10} >= {8, 16}, "first 10 images: 8 and 16 bit")
    check({il for _, _, il in first10} == {0, 1}, "first 10 images: interlaced and not")
    check(any(b < 8 for _, b, _ in combos), "some sub-byte depth")
    check(trns_palette, "a palette image with tRNS")
    large = sum(1 for m in longest if m >= 1200)
    check(large * 2 >= len(longest), "at least half the images are large (%d)" % large)
    check(min(longest) < 300, "a small image")
    check(max(longest) <= 2400, "no image over 2400 px")
    check(decoded_ref >= 5, "reference decoder checked some images (%d)" % decoded_ref)
    print("images: %d, combos %s, large %d, %d checked by the reference decoder" %
          (len(longest), sorted(combos), large, decoded_ref))


# ---------------------------------------------------------------- text

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def check_texts(d):
    total, sizes = collections.Counter(), []
    for i in range(N_TEXTS):
        name = "text_%04d.txt" % i
        raw = open(os.path.join(d, name), "rb").read()
        sizes.append(len(raw))
        try:
            text = raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            check(False, "%s: invalid UTF-8: %s" % (name, e))
            continue
        check(any(ord(ch) > 127 for ch in text), name + ": multibyte characters")
        check(re.search(r"[a-z]'[a-z]", text, re.I) is not None, name + ": apostrophes")
        check(re.search(r"[.?!] [A-Z]", text) is not None, name + ": sentences")
        check("\n" in text and "\r" not in text, name + ": LF lines")
        check(not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), name + ": no control characters")
        words = collections.Counter(WORD.findall(text.lower()))
        total.update(words)
        if len(raw) >= 20000:
            top = words.most_common(10)
            check(top[0][1] > 3 * top[9][1],
                  "%s: Zipf-like, top %d > 3 x 10th %d" % (name, top[0][1], top[9][1]))
    top = total.most_common(1000)
    check(top[0][1] > 3 * top[9][1], "all texts: top word > 3 x 10th")
    # Slope of log(frequency) against log(rank) over ranks 1..1000: ~ -1
    # for Zipf; -0.6..-1.6 accepts "Zipf-like" and rejects uniform words.
    xs = [math.log(r + 1) for r in range(len(top))]
    ys = [math.log(c) for _, c in top]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    check(-1.6 < slope < -0.6, "Zipf slope %.2f" % slope)
    check(min(sizes) >= 4096 and min(sizes) < 16384, "smallest text %d B" % min(sizes))
    check(1 << 20 < max(sizes) <= 3300000, "largest text %d B" % max(sizes))
    print("texts: %d, %d..%d bytes, %d distinct words, Zipf slope %.2f, top %s" %
          (len(sizes), min(sizes), max(sizes), len(total), slope, top[:5]))


# ---------------------------------------------------------------- CSV

def classify(values):
    """Which kinds of values a column holds (ignoring empty fields)."""
    kinds = set()
    for v in values:
        if v == "":
            continue
        if re.fullmatch(r"-?\d+", v):
            kinds.add("negint" if v.startswith("-") else "int")
        elif re.fullmatch(r"-?\d+\.\d+", v):
            kinds.add("decimal")
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            datetime.date.fromisoformat(v)  # raises on an impossible date
            kinds.add("date")
        else:
            kinds.add("string")
    return kinds


def check_csvs(d):
    rows_per_file, eols, kinds = [], set(), set()
    empty = 0
    for i in range(N_CSV):
        name = "data_%04d.csv" % i
        raw = open(os.path.join(d, name), "rb").read()
        try:
            text = raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            check(False, "%s: invalid UTF-8: %s" % (name, e))
            continue
        header_end = raw.index(b"\n")
        eols.add("crlf" if raw[header_end - 1:header_end] == b"\r" else "lf")
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as e:
            check(False, "%s: csv module: %s" % (name, e))
            continue
        header, body = rows[0], rows[1:]
        check(len(header) >= 4, name + ": at least 4 columns")
        check(all(len(r) == len(header) for r in body), name + ": consistent field count")
        fields = [f for r in body for f in r]
        check(any("," in f and '"' in f and "\n" in f for f in fields),
              name + ": a field with a comma, a quote and a newline")
        check(not any("\r" in f for f in fields), name + ": no CR inside fields")
        empty += sum(1 for f in fields if f == "")
        for c in range(len(header)):
            kinds |= classify(r[c] for r in body)
        rows_per_file.append(len(body))
    check(min(rows_per_file) < 100 and max(rows_per_file) >= 10000,
          "rows from tens to tens of thousands: %s" % rows_per_file)
    check(eols == {"lf", "crlf"}, "LF and CRLF files: %s" % sorted(eols))
    check(empty > 0, "some empty fields")
    check(kinds >= {"int", "negint", "decimal", "date", "string"}, "value kinds %s" % sorted(kinds))
    print("csv: %d files, rows %s, line ends %s, kinds %s" %
          (len(rows_per_file), rows_per_file, sorted(eols), sorted(kinds)))


# ---------------------------------------------------------------- main

def main():
    if len(sys.argv) != 2:
        print("usage: gen_check.py TEST_GEN_BINARY")
        return 2
    binary = sys.argv[1]
    check_rng(binary)
    with tempfile.TemporaryDirectory(prefix="cfp-gen-check-") as tmp:
        d = os.path.join(tmp, "ds")
        t0 = time.monotonic()
        subprocess.run([binary, "--generate", d], check=True)
        print("generated in %.1f s" % (time.monotonic() - t0))
        expected = {"image_%04d.png" % i for i in range(N_IMAGES)}
        expected |= {"text_%04d.txt" % i for i in range(N_TEXTS)}
        expected |= {"data_%04d.csv" % i for i in range(N_CSV)}
        check(set(os.listdir(d)) == expected, "exactly the expected files, no temporaries")
        check_images(d)
        check_texts(d)
        check_csvs(d)
        # A new process with fewer files reproduces the first files exactly.
        d2 = os.path.join(tmp, "again")
        subprocess.run([binary, "--generate", d2, "3", "2", "2", str(SEED)], check=True)
        for f in sorted(os.listdir(d2)):
            check(open(os.path.join(d, f), "rb").read() == open(os.path.join(d2, f), "rb").read(),
                  f + ": same bytes in a second run")
    if FAILURES:
        print("gen_check: %d check(s) failed" % len(FAILURES))
        return 1
    print("gen_check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
