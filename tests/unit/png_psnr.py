#!/usr/bin/python3
"""Quality check of cfp's PNG shrink against Pillow.

usage: png_psnr.py TEST_PNG_BINARY

For each input PNG, `TEST_PNG resize IN OUT MAXSIDE` (tests/unit/test_png.c,
calling cfp_png_process) writes OUT. The reference is Pillow's
Image.resize(size, Image.LANCZOS) of the same image converted to 8 bits
the way cfp documents it (doc/png.md). Checks: output size (longest side
= MAXSIDE, other side rounded, never upscaled), 8-bit depth, colour type,
PSNR >= 30 dB against the reference, and exact equality when the image
is not resized. cfp's own definition (an integer box pre-shrink from 3x,
then Lanczos-3; premultiplied alpha) is computed here in float64 and must
match to >= 50 dB; where Pillow implements the same two stages (opaque
images, resize(..., reducing_gap=1.5)) cfp must match that to >= 45 dB.

Inputs:
  (a) photo-like images generated here (gradients, shapes, noise, alpha
      ramps) in every colour type and bit depth, some interlaced, some with
      tRNS, written by the small PNG encoder below (all five row filters,
      Adam7), so 16-bit and low-bit files do not depend on Pillow's writer;
  (b) every PNG of $CFP_SHARED_DATA/pngsuite, read with the small decoder
      below (exact 16-bit samples and tRNS, which Pillow truncates or
      ignores), itself cross-checked against Pillow. Files starting with
      'x' are corrupt and must fail cleanly. Skipped when absent.
"""
import math
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image

# skip_part() comes from the end-to-end helpers (tests/e2e/e2e_common.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

MIN_PSNR = 30.0        # against Pillow
MIN_PSNR_IDEAL = 50.0  # against the same filter computed in float64 here
MIN_PSNR_TWO_STAGE = 45.0  # against Pillow's own box + Lanczos (reducing_gap=1.5)
BOX_GAP = 1.5          # box factor floor(factor / 1.5); cfp_resize.c BOX_GAP_NUM / _DEN
SIG = b"\x89PNG\r\n\x1a\n"
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
MODE_OF_TYPE = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}


# ------------------------------------------------------------ PNG writer

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pack_rows(raw, depth):
    """raw: h x w x c array of samples -> list of unfiltered row bytes."""
    rows = []
    for r in raw:
        flat = r.reshape(-1)
        if depth == 16:
            rows.append(flat.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(flat.astype(np.uint8).tobytes())
        else:
            bits = np.unpackbits(flat.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:]
            rows.append(np.packbits(bits.reshape(-1)).tobytes())
    return rows


def filter_rows(rows, bpp, first):
    """Filters rows, cycling through filter types 0-4 from `first`."""
    out = bytearray()
    prior = None
    for i, row in enumerate(rows):
        x = np.frombuffer(row, np.uint8).astype(np.int32)
        b = prior if prior is not None else np.zeros_like(x)
        a = np.zeros_like(x)
        a[bpp:] = x[:-bpp]
        c = np.zeros_like(x)
        c[bpp:] = b[:-bpp]
        ft = (first + i) % 5
        if ft == 0:
            f = x
        elif ft == 1:
            f = x - a
        elif ft == 2:
            f = x - b
        elif ft == 3:
            f = x - (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            f = x - np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        out.append(ft)
        out += (f & 0xFF).astype(np.uint8).tobytes()
        prior = x
    return bytes(out)


def encode_png(raw, ct, depth, plte=None, trns=None, interlace=False):
    h, w = raw.shape[:2]
    raw = raw.reshape(h, w, -1)
    bpp = max(1, raw.shape[2] * depth // 8)
    if interlace:
        data = b""
        for k, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = raw[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                data += filter_rows(pack_rows(sub, depth), bpp, k)
    else:
        data = filter_rows(pack_rows(raw, depth), bpp, 0)
    out = SIG + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ct, 0, 0, int(interlace)))
    if plte is not None:
        out += chunk(b"PLTE", np.asarray(plte, np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"tEXt", b"Comment\0png_psnr.py test image")
    return out + chunk(b"IDAT", zlib.compress(data, 6)) + chunk(b"IEND", b"")


# ------------------------------------------------------------ PNG reader

def parse_chunks(blob):
    assert blob[:8] == SIG, "not a PNG"
    pos, out = 8, []
    while pos + 8 <= len(blob):
        n, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        out.append((kind, blob[pos + 8:pos + 8 + n]))
        pos += 12 + n
        if kind == b"IEND":
            break
    return out


def unfilter(data, pos, nrows, rowlen, bpp):
    rows, prior = [], bytearray(rowlen)
    for _ in range(nrows):
        ft, cur = data[pos], bytearray(data[pos + 1:pos + 1 + rowlen])
        pos += 1 + rowlen
        for i in range(rowlen):
            a = cur[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            if ft == 1:
                cur[i] = (cur[i] + a) & 255
            elif ft == 2:
                cur[i] = (cur[i] + b) & 255
            elif ft == 3:
                cur[i] = (cur[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            elif ft != 0:
                raise ValueError("bad filter type %d" % ft)
        rows.append(bytes(cur))
        prior = cur
    return rows, pos


def unpack_rows(rows, w, c, depth):
    out = []
    for r in rows:
        if depth == 16:
            v = np.frombuffer(r, ">u2")
        elif depth == 8:
            v = np.frombuffer(r, np.uint8)
        else:
            bits = np.unpackbits(np.frombuffer(r, np.uint8)).reshape(-1, depth)
            v = bits.dot(1 << np.arange(depth - 1, -1, -1))
        out.append(v[:w * c].astype(np.int64).reshape(w, c))
    return np.array(out).reshape(len(rows), w, c)


def decode_png(blob):
    """-> dict(raw=h x w x c samples, ct, depth, plte, trns)."""
    chunks = parse_chunks(blob)
    w, h, depth, ct, _, _, il = struct.unpack(">IIBBBBB", chunks[0][1])
    c = SAMPLES[ct]
    data = zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT"))
    bpp = max(1, c * depth // 8)
    raw = np.zeros((h, w, c), np.int64)
    passes = ADAM7 if il else [(0, 0, 1, 1)]
    pos = 0
    for x0, y0, dx, dy in passes:
        pw, ph = (w - x0 + dx - 1) // dx, (h - y0 + dy - 1) // dy
        if pw <= 0 or ph <= 0:
            continue
        rows, pos = unfilter(data, pos, ph, (pw * c * depth + 7) // 8, bpp)
        raw[y0::dy, x0::dx] = unpack_rows(rows, pw, c, depth)
    plte = next((np.frombuffer(d, np.uint8).reshape(-1, 3) for k, d in chunks if k == b"PLTE"), None)
    trns = next((d for k, d in chunks if k == b"tRNS"), None)
    return dict(raw=raw, ct=ct, depth=depth, plte=plte, trns=trns)


# ---------------------------------------------- the documented conversion

def to8(v, depth):
    if depth == 16:
        return (v * 255 + 32767) // 65535  # round(v * 255 / 65535); no ties possible
    return v * (255 // ((1 << depth) - 1))


def truth(img):
    """The 8-bit image cfp must see before resizing: (Pillow mode, array)."""
    raw, ct, depth, plte, trns = img["raw"], img["ct"], img["depth"], img["plte"], img["trns"]
    if ct == 3:
        idx = raw[..., 0]
        rgb = plte[np.minimum(idx, len(plte) - 1)]
        if trns is None:
            return "RGB", rgb.astype(np.uint8)
        alpha = np.full(256, 255, np.int64)
        alpha[:len(trns)] = np.frombuffer(trns, np.uint8)
        return "RGBA", np.dstack([rgb, alpha[idx]]).astype(np.uint8)
    v8 = to8(raw, depth)
    if ct in (0, 2) and trns is not None:
        key = np.array(struct.unpack(">%dH" % SAMPLES[ct], trns[:2 * SAMPLES[ct]]))
        alpha = np.where((raw == key).all(axis=2), 0, 255)
        return ("LA" if ct == 0 else "RGBA"), np.dstack([v8, alpha]).astype(np.uint8)
    return MODE_OF_TYPE[ct], v8.astype(np.uint8)


def pillow_crosscheck(path, img):
    """The small decoder must agree with Pillow wherever Pillow is exact."""
    pil = Image.open(path)
    pil.load()
    a = np.asarray(pil).astype(np.int64)
    raw, ct, depth = img["raw"], img["ct"], img["depth"]
    if ct == 3:
        want = raw[..., 0]
    elif ct == 0 and depth == 16:
        want = raw[..., 0]  # Pillow keeps 16-bit gray ("I;16")
    elif depth == 16:
        want = raw >> 8  # Pillow truncates other 16-bit types to 8 bits
    else:
        want = to8(raw, depth)
    want = want.reshape(a.shape) if want.size == a.size else want
    if pil.mode == "1":
        a = a * 255
    if ct == 4 and pil.mode == "RGBA":
        a = a[..., [0, 3]]  # Pillow opens 16-bit gray+alpha as RGBA
    if a.shape != want.shape or not np.array_equal(a, want):
        raise AssertionError("%s: small decoder disagrees with Pillow (mode %s)" % (path, pil.mode))


# ------------------------------------------------------------- the check

def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def premultiplied(a):
    """What is visible of an image with alpha: colour * alpha / 255, alpha."""
    a = a.astype(np.float64)
    return np.concatenate([a[..., :-1] * a[..., -1:] / 255.0, a[..., -1:]], axis=-1)


def fit(w, h, m):
    longest = max(w, h)
    if longest <= m:
        return w, h
    other = min(w, h) * m
    other = max(1, other // longest + (1 if 2 * (other % longest) >= longest else 0))
    return (m, other) if w >= h else (other, m)


def box_factor(n_in, n_out):
    """The integer box pre-shrink: floor(factor / 1.5), 1 (none) below 3x
    (in integers, as cfp computes it)."""
    return max(1, n_in * 2 // (n_out * 3))


def box_matrix(n_in, b):
    """Means of groups of b samples (the last group may be smaller), as a
    ceil(n_in / b) x n_in matrix."""
    m = np.zeros(((n_in + b - 1) // b, n_in))
    for k in range(m.shape[0]):
        lo, hi = k * b, min((k + 1) * b, n_in)
        m[k, lo:hi] = 1.0 / (hi - lo)
    return m


def lanczos_matrix(n_in, n_out, scale=None):
    """Pillow's Lanczos-3 weights (precompute_coeffs) as a dense matrix;
    scale defaults to n_in / n_out."""
    scale = n_in / n_out if scale is None else scale
    fscale = max(scale, 1.0)
    support = 3.0 * fscale
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        centre = (i + 0.5) * scale
        lo, hi = max(int(centre - support + 0.5), 0), min(int(centre + support + 0.5), n_in)
        x = (np.arange(lo, hi) - centre + 0.5) / fscale
        k = np.sinc(x) * np.sinc(x / 3) * (np.abs(x) < 3)
        m[i, lo:hi] = k / k.sum()
    return m


def axis_matrix(n_in, n_out):
    """One axis of the documented filter: an axis shrunk 3x or more is
    box-averaged by b = floor(factor / 1.5) first, then Lanczos-3 runs on
    the box samples with the exact scale n_in / (b * n_out) (Pillow's
    resize(..., reducing_gap=1.5) defines the same two stages)."""
    if n_in == n_out:
        return np.eye(n_in)
    b = box_factor(n_in, n_out)
    if b == 1:
        return lanczos_matrix(n_in, n_out)
    box = box_matrix(n_in, b)
    return lanczos_matrix(box.shape[0], n_out, n_in / (b * n_out)) @ box


def ideal_resize(arr, ow, oh):
    """The documented filter in float64 (doc/png.md): box pre-shrink and
    separable Lanczos-3, premultiplied alpha, clamp, round half up, alpha 0
    -> colour 0."""
    h, w, c = arr.shape
    if (ow, oh) == (w, h):
        return arr
    a = arr.astype(np.float64)
    if c in (2, 4):
        a = premultiplied(a)
    res = np.einsum("yh,hxc->yxc", axis_matrix(h, oh), np.einsum("xw,hwc->hxc", axis_matrix(w, ow), a))
    if c in (2, 4):
        # Divide by the filtered alpha before clamping it: a flat colour
        # under a ringing alpha edge stays exactly that colour.
        alpha = res[..., -1:]
        a8 = np.floor(np.clip(alpha, 0, 255) + 0.5)
        colour = np.where(a8 > 0, res[..., :-1] * 255.0 / np.maximum(alpha, 0.5), 0)
        res = np.concatenate([colour, alpha], axis=-1)
    return np.floor(np.clip(res, 0, 255) + 0.5)


def check(tool, path, img, max_side, tmp, label):
    """Runs cfp on path; returns an error string or None."""
    out = os.path.join(tmp, "out.png")
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([tool, "resize", path, out, str(max_side)], capture_output=True, text=True)
    if r.returncode != 0:
        return "%s: cfp failed: %s%s" % (label, r.stdout.strip(), r.stderr.strip())
    mode, arr = truth(img)
    h, w = arr.shape[:2]
    ow, oh = fit(w, h, max_side)
    blob = open(out, "rb").read()
    ihdr = struct.unpack(">IIBBBBB", parse_chunks(blob)[0][1])
    want_type = {v: k for k, v in MODE_OF_TYPE.items()}[mode]
    if ihdr[:4] != (ow, oh, 8, want_type) or ihdr[6] != 0:
        return "%s: output IHDR %s, want %dx%d depth 8 type %d" % (label, ihdr, ow, oh, want_type)
    got = Image.open(out)
    if got.mode != mode or got.size != (ow, oh):
        return "%s: Pillow reads %s %s, want %s %s" % (label, got.mode, got.size, mode, (ow, oh))
    got = np.asarray(got).reshape(oh, ow, -1)
    src = Image.fromarray(arr if arr.shape[2] > 1 else arr[..., 0], mode)
    ref = np.asarray(src.resize((ow, oh), Image.LANCZOS)).reshape(oh, ow, -1)
    q = psnr(got, ref)
    q_ideal = psnr(got, ideal_resize(arr, ow, oh))
    alpha = arr.shape[2] in (2, 4)
    # Pillow implements the same two stages (reduce(), then LANCZOS on the
    # exact remaining box) when given reducing_gap, in 8-bit fixed point: an
    # independent check that the float64 reference above defines them
    # right. Pillow drops reducing_gap for images with alpha, so opaque only.
    q_two = None
    if not alpha and max(box_factor(w, ow), box_factor(h, oh)) > 1:
        two = src.resize((ow, oh), Image.LANCZOS, reducing_gap=BOX_GAP)
        q_two = psnr(got, np.asarray(two).reshape(oh, ow, -1))
    # With alpha the pass mark is on the visible (premultiplied) values:
    # colour under alpha ~1/255 is unstable and Pillow quantises it (8-bit
    # premultiplied intermediates, truncating unpremultiply).
    q_pass = psnr(premultiplied(got), premultiplied(ref)) if alpha else q
    print("  %-28s %-4s %4dx%-4d -> %4dx%-4d PSNR vs Pillow %6.2f dB%s, vs float64 %6.2f dB%s"
          % (label, mode, w, h, ow, oh, q, " (premultiplied %6.2f)" % q_pass if alpha else "", q_ideal,
             ", vs Pillow two-stage %6.2f dB" % q_two if q_two is not None else ""))
    if (ow, oh) == (w, h) and q != math.inf:
        return "%s: not resized but not identical to the 8-bit conversion" % label
    if q_pass < MIN_PSNR:
        return "%s: PSNR vs Pillow %.2f dB < %.1f" % (label, q_pass, MIN_PSNR)
    if q_ideal < MIN_PSNR_IDEAL:
        return "%s: PSNR vs the float64 filter %.2f dB < %.1f" % (label, q_ideal, MIN_PSNR_IDEAL)
    if q_two is not None and q_two < MIN_PSNR_TWO_STAGE:
        return "%s: PSNR vs Pillow's two stages %.2f dB < %.1f" % (label, q_two, MIN_PSNR_TWO_STAGE)
    return None


# ------------------------------------------------------ generated images

def photo(w, h, c, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    x, y = (x + 0.5) / w, (y + 0.5) / h
    chans = []
    for k in range(c):
        v = 0.15 + 0.5 * x * (k + 1) / c + 0.25 * y + 0.07 * np.sin(x * 31 + k) * np.cos(y * 19)
        v = np.where((x - 0.35) ** 2 + (y - 0.5) ** 2 < 0.05, 0.85 - 0.2 * k, v)
        v = np.where((x > 0.62) & (x < 0.74) & (y > 0.15) & (y < 0.85), 0.1 + 0.15 * k, v)
        chans.append(np.clip(v + rng.normal(0, 0.03, v.shape), 0, 1))
    return np.stack(chans, -1)


def alpha_ramp(w, h):
    """Fully transparent left part, fully opaque disc, smooth ramps between."""
    y, x = np.mgrid[0:h, 0:w]
    x, y = (x + 0.5) / w, (y + 0.5) / h
    a = np.clip((x - 0.2) * 1.6, 0, 1)
    return np.where((x - 0.7) ** 2 + (y - 0.4) ** 2 < 0.03, 1.0, a)


def generate(ct, depth, trns, w, h, seed):
    maxv = (1 << depth) - 1
    c = SAMPLES[ct]
    img = dict(ct=ct, depth=depth, plte=None, trns=None)
    if ct == 3:
        npal = 1 << depth
        rgb = Image.fromarray((photo(w, h, 3, seed) * 255 + 0.5).astype(np.uint8), "RGB")
        q = rgb.quantize(colors=npal, method=Image.Quantize.MEDIANCUT)
        idx = np.asarray(q).astype(np.int64)
        pal = np.array(q.getpalette()[:3 * npal] + [0] * (3 * npal), np.uint8)[:3 * npal]
        img.update(raw=idx[..., None], plte=pal.reshape(-1, 3))
        if trns:
            # Fewer entries than colours: the rest must be opaque.
            img["trns"] = bytes((i * 97) % 256 if i % 4 else 0 for i in range(max(1, npal * 3 // 4)))
        return img
    v = photo(w, h, c, seed)
    if ct in (4, 6):
        v[..., -1] = alpha_ramp(w, h)
    raw = np.rint(v * maxv).astype(np.int64)
    if trns:
        key = [maxv // 3, maxv // 2, maxv // 5][:c]
        raw[: h // 3, : w // 4] = key  # a block that is exactly the transparent colour
        img["trns"] = struct.pack(">%dH" % c, *key)
    img["raw"] = raw
    return img


CASES = [
    # ct, depth, tRNS, interlace, w, h, max_side
    (0, 1, False, False, 300, 200, 128),
    (0, 2, False, True, 203, 157, 64),
    (0, 4, True, False, 180, 240, 100),
    (0, 8, False, False, 640, 427, 512),
    (0, 8, True, True, 333, 222, 97),
    (0, 16, False, False, 260, 190, 77),
    (0, 16, True, True, 190, 260, 120),
    (2, 8, False, False, 400, 300, 128),
    (2, 8, True, True, 257, 255, 100),
    (2, 16, False, True, 300, 200, 150),
    (2, 16, True, False, 220, 330, 64),
    (3, 1, False, False, 160, 120, 50),
    (3, 2, True, True, 150, 150, 71),
    (3, 4, False, True, 210, 140, 90),
    (3, 8, True, False, 300, 240, 128),
    (3, 8, False, True, 250, 250, 125),
    (4, 8, False, False, 300, 200, 100),
    (4, 16, False, True, 240, 180, 80),
    (6, 8, False, False, 400, 300, 128),
    (6, 8, False, True, 301, 199, 64),
    (6, 16, False, False, 280, 210, 140),
    (2, 8, False, False, 1000, 3, 100),    # thin: 3 * 100 / 1000 = 0.3 -> 1 row
    (2, 8, False, False, 13001, 700, 100), # factor 130: box 86 (a narrower last block), 93
    (6, 8, False, True, 300, 9000, 64),    # factors 150, 140: box 100, 93, with alpha
    (6, 8, False, False, 100, 50, 512),    # fits: re-encoded unchanged
    (0, 16, True, False, 90, 60, 512),
    (3, 4, True, True, 64, 64, 512),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    errors = []
    with tempfile.TemporaryDirectory(prefix="cfp-png-psnr-") as tmp:
        print("generated images:")
        for i, (ct, depth, trns, il, w, h, m) in enumerate(CASES):
            img = generate(ct, depth, trns, w, h, seed=100 + i)
            path = os.path.join(tmp, "in.png")
            with open(path, "wb") as f:
                f.write(encode_png(img["raw"], ct, depth, img["plte"], img["trns"], il))
            pillow_crosscheck(path, img)  # Pillow validates the writer
            label = "ct%d d%d%s%s %dx%d/%d" % (ct, depth, " tRNS" if trns else "", " il" if il else "", w, h, m)
            err = check(tool, path, img, m, tmp, label)
            if err:
                errors.append(err)
            # the fast decode path (8-bit, not interlaced) equals libpng's
            r = subprocess.run([tool, "same", path], capture_output=True, text=True)
            if r.returncode != 0:
                errors.append("%s: fast path and libpng differ: %s" % (label, (r.stdout + r.stderr).strip()))
        suite = os.path.join(os.environ.get("CFP_SHARED_DATA", ""), "pngsuite")
        if not os.environ.get("CFP_SHARED_DATA") or not os.path.isdir(suite):
            from e2e_common import skip_part
            skip_part("PngSuite part", "%s not found (set CFP_SHARED_DATA)" % suite)
        else:
            print("PngSuite (%s), max side 20:" % suite)
            names = sorted(n for n in os.listdir(suite) if n.endswith(".png"))
            for name in names:
                path = os.path.join(suite, name)
                if name.startswith("x"):
                    r = subprocess.run([tool, "resize", path, os.path.join(tmp, "x.png"), "20"],
                                       capture_output=True, text=True)
                    print("  %-28s corrupt: %s" % (name, r.stdout.strip()))
                    if r.returncode != 1 or not r.stdout.startswith("error "):
                        errors.append("%s: corrupt file not refused cleanly (rc %d)" % (name, r.returncode))
                    continue
                img = decode_png(open(path, "rb").read())
                pillow_crosscheck(path, img)
                err = check(tool, path, img, 20, tmp, name)
                if err:
                    errors.append(err)
            if not names:
                errors.append("%s holds no PNG" % suite)
    for e in errors:
        print("FAIL " + e)
    print("png_psnr: %s" % ("%d failures" % len(errors) if errors else "all passed"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
