#!/usr/bin/env python3
"""tests/fuzz/gen_corpus.py - (re)generates the seed corpora of the fuzz
targets under tests/fuzz/corpus/<target>/seed-*: small PNGs of every colour
type, bit depth and interlace made here with zlib (no third-party files),
their broken variants, image descriptions for fuzz_png_gen, and the
project's own bad-input cases (those of
tests/e2e_badinput.py) for CSV, text and URL lists. Deterministic: running
it again rewrites the same bytes. Regression inputs (regress-*) that the
fuzzers found are kept next to the seeds and never touched by this script.

Usage: tests/fuzz/gen_corpus.py [CORPUS_DIR]   (default: beside this file)
"""
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(tag, data):
    body = tag + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


SIG = b"\x89PNG\r\n\x1a\n"
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def pack_row(samples, depth):
    """Packs integer samples of one row at the given bit depth."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, bits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        bits += depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def raw_image(w, h, ctype, depth, rng, interlace):
    """Filtered scanlines (filter type cycling 0..4 as bytes; only type 0 and
    1..4 on raw data, which a decoder must undo) for a w x h image."""
    ch = CHANNELS[ctype]
    top = (1 << depth) - 1
    pix = [[[((x * 7 + y * 13 + c * 29) * (top + 1) // 97 + rng.randrange(2)) % (top + 1)
             for c in range(ch)] for x in range(w)] for y in range(h)]

    def rows_of(x0, y0, dx, dy):
        out = b""
        for n, y in enumerate(range(y0, h, dy)):
            samples = [s for x in range(x0, w, dx) for s in pix[y][x]]
            if not samples:
                continue
            out += bytes([n % 5]) + pack_row(samples, depth)
        return out

    if not interlace:
        return rows_of(0, 0, 1, 1)
    return b"".join(rows_of(x0, y0, dx, dy) for x0, y0, dx, dy in ADAM7)


def png(w, h, ctype, depth, interlace=False, trns=False, extra=b"", seed=1, level=9):
    rng = random.Random(seed)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0)
    out = SIG + chunk(b"IHDR", ihdr)
    out += extra
    if ctype == 3:
        n = 1 << min(depth, 8)
        n = min(n, 40)
        out += chunk(b"PLTE", bytes((i * 37 + k * 91) % 256 for i in range(n) for k in range(3)))
        if trns:
            out += chunk(b"tRNS", bytes((i * 53) % 256 for i in range(n // 2)))
    elif trns and ctype == 0:
        out += chunk(b"tRNS", struct.pack(">H", 1))
    elif trns and ctype == 2:
        out += chunk(b"tRNS", struct.pack(">HHH", 1, 2, 3))
    data = zlib.compress(raw_image(w, h, ctype, depth, rng, interlace), level)
    half = len(data) // 2
    out += chunk(b"IDAT", data[:half]) + chunk(b"IDAT", data[half:])
    return out + chunk(b"IEND", b"")


def bad_crc(b, at):
    b = bytearray(b)
    b[at] ^= 0x55
    return bytes(b)


def png_seeds():
    s = {}
    sizes = [(70, 9), (9, 70), (66, 20), (5, 3), (1, 1), (130, 2)]
    n = 0
    for ctype, depths in ((0, (1, 2, 4, 8, 16)), (2, (8, 16)), (3, (1, 2, 4, 8)), (4, (8, 16)),
                          (6, (8, 16))):
        for depth in depths:
            w, h = sizes[n % len(sizes)]
            n += 1
            s[f"c{ctype}d{depth}.png"] = png(w, h, ctype, depth, seed=n)
            s[f"c{ctype}d{depth}i.png"] = png(w, h, ctype, depth, interlace=True, seed=n)
    for ctype, depth in ((0, 8), (2, 8), (3, 4), (0, 16), (2, 16)):
        s[f"c{ctype}d{depth}-trns.png"] = png(67, 12, ctype, depth, trns=True, seed=ctype)
    s["c6d8-2x300.png"] = png(2, 300, 6, 8, seed=5)
    s["c2d8-200x3i.png"] = png(200, 3, 2, 8, interlace=True, seed=6)
    good = png(70, 9, 2, 8, seed=7)
    s["good-ancillary.png"] = png(70, 9, 2, 8, seed=8, extra=chunk(b"tEXt", b"Comment\0fuzz seed")
                                  + chunk(b"gAMA", struct.pack(">I", 45455))
                                  + chunk(b"zTXt", b"Raw\0\0" + zlib.compress(b"x" * 200))
                                  + chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * 128))
                                  + chunk(b"prVt", b"private"))
    s["truncated-half.png"] = good[: len(good) // 2]
    s["truncated-noiend.png"] = good[:-12]
    s["truncated-sig.png"] = good[:8]
    s["badcrc-ihdr.png"] = bad_crc(good, 8 + 8 + 5)
    s["badcrc-idat.png"] = bad_crc(good, len(good) - 12 - 6)
    s["badcrc-text.png"] = bad_crc(s["good-ancillary.png"], 33 + 10)
    ihdr = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    s["huge-50000x50000.png"] = (SIG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                                 + chunk(b"IEND", b""))
    ihdr = struct.pack(">IIBBBBB", 10000, 10000, 1, 0, 0, 0, 1)
    s["limit-10000x10000-interlaced.png"] = (SIG + chunk(b"IHDR", ihdr)
                                             + chunk(b"IDAT", zlib.compress(b"\0" * 2000))
                                             + chunk(b"IEND", b""))
    ihdr = struct.pack(">IIBBBBB", 0, 5, 8, 0, 0, 0, 0)
    s["zero-width.png"] = SIG + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    ihdr = struct.pack(">IIBBBBB", 4, 4, 3, 2, 0, 0, 0)
    s["bad-depth.png"] = SIG + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 52)) + chunk(b"IEND", b"")
    s["bad-zlib.png"] = (SIG + good[8:33] + chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 40) + chunk(b"IEND", b""))
    s["no-idat.png"] = SIG + good[8:33] + chunk(b"IEND", b"")
    s["short-idat.png"] = (SIG + good[8:33] + chunk(b"IDAT", zlib.compress(b"\0" * 50)) + chunk(b"IEND", b""))
    big_len = SIG + good[8:33] + struct.pack(">I", 0x7FFFFFF0) + b"tEXt" + b"abc"
    s["lying-length.png"] = big_len
    p3 = png(20, 20, 3, 8, seed=10)
    at = p3.index(b"PLTE")
    s["plte-missing.png"] = p3[: at - 4] + p3[at + 4 + 4 + 3 * 40:]
    s["empty.png"] = b""
    s["signature-only.png"] = SIG
    return s


CSV_SEEDS = {
    "good.csv": b'name,qty\n"a, b",3\nc,-1.5e3\n',
    "notutf8.csv": b"name,qty\nok,1\n\xff\xfe,2\n",
    "longrec.csv": b"a,b\n1,2\n1,2,3\n",
    "unterminated.csv": b'a,b\n1,"abc\n2,3\n',
    "empty.csv": b"",
    "header-only.csv": b"a,b,c\n",
    "bom.csv": b"\xef\xbb\xbfid,name\n1,Ann\n2,\n",
    "bom-partial.csv": b"\xef\xbb",
    "crlf.csv": b"a,b\r\n1,2\r\n\r\n3,4\r\n",
    "cr-only.csv": b"a,b\r1,2\r3\r",
    "quoted-newlines.csv": b'a,b\n"line1\nline2","x\r\ny"\n"q""uote",""\n',
    "literal-quotes.csv": b'a,b\nx"y,"ab"cd\n"",""""\n',
    "numbers.csv": b"n,m,o\n0,-0,1.5\n01,1e5,-1.2E-3\n1.,.5,1e\n-,00,9999999999999999999999\n",
    "dup-header.csv": b"a,b,a\n1,2,3\n",
    "empty-header.csv": b"a,,c\n1,2,3\n",
    "missing-fields.csv": b"a,b,c\n1\n1,2\n,,\n",
    "controls.csv": b"a,b\n\x01\x02\x1f,\x7f\ttab\n\"\\back\\slash\",\"\x00nul\"\n",
    "utf8.csv": "k\u00e9y,\u65e5\u672c\n\u00e9t\u00e9,\U0001F600\n".encode(),
    "bad-utf8-header.csv": b"a\xc0\xaf,b\n1,2\n",
    "surrogate.csv": b"a\n\xed\xa0\x80\n",
    "trailing-comma.csv": b"a,b,\n1,2,\n",
    "no-final-newline.csv": b"a,b\n1,2",
    "wide-header.csv": (",".join(f"c{i}" for i in range(300)) + "\n" + ",".join(str(i) for i in range(300)) + "\n").encode(),
    "long-field.csv": b"a,b\n" + b"x" * 3000 + b",\"" + b"y" * 1500 + b"\"\n",
}

TEXT_SEEDS = {
    "plain.txt": b"The cat sat on the mat.\nThe dog didn't.\n",
    "empty.txt": b"",
    "utf8.txt": "na\u00efve caf\u00e9 \u65e5\u672c\u8a9e \U0001F600 \u00c9T\u00c9\n".encode(),
    "bad-utf8.txt": b"ok \xff\xfe \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82 end\n",
    "truncated-utf8.txt": b"abc \xf0\x9f\x98",
    "nuls.txt": b"a\0b\0\0c d\0\n\0",
    "apostrophes.txt": b"don't 'quoted' it's'' rock'n'roll o'' 'x ''y\n",
    "whitespace.txt": b" \t\n\v\f\r\n\r\n  x\r",
    "crlf.txt": b"one two\r\nthree\r\n\r\n",
    "long-token.txt": b"a" * 256 + b" " + b"b" * 257 + b" " + b"c" * 255 + b"'" + b"d" * 3 + b"\n",
    "many-words.txt": b" ".join(b"w%d" % (i % 97) for i in range(600)) + b"\n",
    "ties.txt": b"b a c b a c z y x w v u t s r q\n",
    "case.txt": b"Word WORD word wOrD \xc3\x89t\xc3\xa9 \xc3\xa9T\xc3\xa9\n",
    "controls.txt": b"\x01\x02 \"quote\" back\\slash \x7f\x1b[0m\n",
}

URLLIST_SEEDS = {
    "basic.txt": b"http://127.0.0.1:8080/a.png\nhttps://example.com/dir/b.csv?x=1#frag\nfile:///tmp/c.txt\n",
    "comments.txt": b"# a comment\n\n   # indented comment\nhttp://h/x.png # not a comment\n\t\n",
    "blanks.txt": b"  \t http://h/a.png \r\n\r\n\v\fhttp://h/b.txt\t\r\n",
    "no-newline.txt": b"http://h/last",
    "empty.txt": b"",
    "names.txt": (b"http://h/\nhttp://h\nhttp://h/.hidden\nhttp://h/..\nhttp://h/a/../b.png\n"
                  b"http://h/x.tar.gz\nhttp://h/%2e%2e%2fetc\nrelative/path.png\n/abs/p.png\n"
                  b"http://h/dir/?q=/a/b\nhttp://h/#/x\nhttp://h/\xc3\xa9t\xc3\xa9.png\n...\n.\n"),
    "long-line.txt": b"http://h/" + b"a" * 4100 + b".png\nhttp://h/next.png\n",
    "exact-4095.txt": b"http://h/" + b"b" * (4095 - 9) + b"\nhttp://h/after\n",
    "exact-4097.txt": b"http://h/" + b"c" * (4097 - 9) + b"\nhttp://h/after\n",
    "long-stem.txt": b"http://h/" + b"s" * 200 + b".png\n",
    "nul.txt": b"http://h/a\0b.png\nhttp://h/c.png\n",
    "controls.txt": b"http://h/a\x01b\x7f.png\nhttp://h/sp ace.png\n",
}


def gen_seed(w, h, fmt, flags, max_side, level, samples):
    """A fuzz_png_gen input (see the comment at the top of fuzz_png_gen.c);
    w and h here are below 2048, so they are stored as is."""
    return struct.pack("<HHBBBB", w - 1 if w > 1 else 0, h - 1 if h > 1 else 0, fmt, flags,
                       max_side - 1, level) + bytes(samples)


def png_gen_seeds():
    s = {}
    fmts = ["g1", "g2", "g4", "g8", "g16", "rgb8", "rgb16", "p1", "p2", "p4", "p8", "ga8",
            "ga16", "rgba8", "rgba16"]
    for i, name in enumerate(fmts):
        w, h = [(300, 200), (7, 900), (1000, 3), (65, 65), (2, 2)][i % 5]
        flags = (i % 2) | ((i % 3 == 0) << 1) | ((i % 6) << 3)
        s[f"{name}-{w}x{h}"] = gen_seed(w, h, i, flags, 64, i % 3, range(i, 256, 3))
    s["rgba8-solid-300x200"] = gen_seed(300, 200, 13, 4, 64, 1, [10, 200, 30, 128])
    s["rgba8-solid-clear"] = gen_seed(300, 200, 13, 4 | 1, 50, 1, [10, 200, 30, 0])
    s["ga16-solid-interlaced"] = gen_seed(500, 40, 12, 4 | 1, 17, 1, [1, 2, 3, 4])
    s["rgb8-trns-solid"] = gen_seed(90, 91, 5, 4 | 2, 30, 1, [5, 6, 7])
    s["p8-solid-trns"] = gen_seed(129, 257, 10, 4 | 2, 128, 0, [77])
    s["g8-1x2000"] = gen_seed(1, 2000, 3, 0, 256, 1, [9, 250])
    s["rgb8-2000x1-side1"] = gen_seed(2000, 1, 5, 8, 1, 1, range(0, 255, 5))
    return s


def write_all(root, seeds_by_target):
    for target, seeds in seeds_by_target.items():
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            if old.startswith("seed-"):
                os.remove(os.path.join(d, old))
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
    write_all(root, {"png": png_seeds(), "png_gen": png_gen_seeds(), "csv": CSV_SEEDS, "text": TEXT_SEEDS,
                     "urllist": URLLIST_SEEDS})


if __name__ == "__main__":
    main()
