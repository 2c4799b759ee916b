/* fuzz_png_gen.c - libFuzzer target for the PNG path on well-formed images
 * of any geometry: the input describes an image, the target builds a valid
 * PNG from it (zlib, right CRCs) and runs cfp_png_process on it.
 *
 * fuzz_png mutates PNG files, and nearly all its mutants die in libpng's
 * parser; this target instead spends its time in cfp's own code: the
 * transforms of every colour type and depth, Adam7, tRNS, and above all
 * the streaming Lanczos resizer (box stage, odd factors, 1-pixel sides,
 * alpha) with max_side drawn from the input.
 *
 * Input: 8 header bytes, then sample bytes (cycled to fill the image):
 *   [0..1] width, [2..3] height (little endian, see side(): 1..2048,
 *          small ones as likely as large ones; at most 2^18 pixels, a
 *          larger height is folded down),
 *   [4]    colour type / bit depth (one of the 15 valid pairs),
 *   [5]    bit 0 Adam7, bit 1 tRNS, bit 2 solid (one colour everywhere),
 *          bits 3..5 filter byte of every row (0..4; 5..7: from the data),
 *   [6]    max_side - 1,
 *   [7]    zlib level (mod 3).
 * Checks: the image decodes (it is valid), the output has the size
 * cfp_resize_fit gives, the output processed again is unchanged; and for
 * a solid image every output pixel equals (within 1) the colour of the
 * image processed without resizing, except that a fully transparent
 * colour becomes 0 when resized. The output is decoded by a small PNG
 * reader here (zlib + unfiltering), independent of libpng. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "proc/cfp_png.h"
#include "proc/cfp_resize.h"
#include "fuzz_common.h"

#define SIDE_MAX   2048u
#define PIXELS_MAX (1u << 18)
#define OUT_LIMIT  ((size_t)1 << 26)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    uint8_t type, depth, ch;
} formats[15] = {{0, 1, 1}, {0, 2, 1},  {0, 4, 1},  {0, 8, 1}, {0, 16, 1},
                 {2, 8, 3}, {2, 16, 3}, {3, 1, 1},  {3, 2, 1}, {3, 4, 1},
                 {3, 8, 1}, {4, 8, 2},  {4, 16, 2}, {6, 8, 4}, {6, 16, 4}};

struct spec {
    uint32_t w, h, max_side;
    int fmt, level, filter; /* filter -1: from the data */
    bool interlace, trns, solid;
    const uint8_t *samples;
    size_t nsamples;
};

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void add_chunk(struct fuzz_mem *m, const char *type, const unsigned char *d, size_t n)
{
    unsigned char b[8];
    uLong crc = crc32(0, (const Bytef *)type, 4);

    put32(b, (uint32_t)n);
    memcpy(b + 4, type, 4);
    crc = crc32(crc, d, (uInt)n);
    FUZZ_CHECK(fuzz_mem_write(m, b, 8) == CFP_ERR_OK && fuzz_mem_write(m, d, n) == CFP_ERR_OK,
               "PNG too big");
    put32(b, (uint32_t)crc);
    FUZZ_CHECK(fuzz_mem_write(m, b, 4) == CFP_ERR_OK, "PNG too big");
}

/* 1..2048 from 16 bits: 11 bits shifted right by the top bits' value
 * (0..7), so small sides are as common as large ones. */
static uint32_t side(uint32_t v)
{
    return 1 + ((v & (SIDE_MAX - 1)) >> (v >> 11 & 7));
}

static bool parse(const uint8_t *d, size_t n, struct spec *s)
{
    uint32_t w, h;

    if (n < 8)
        return false;
    w = side((uint32_t)d[0] | (uint32_t)d[1] << 8);
    h = side((uint32_t)d[2] | (uint32_t)d[3] << 8);
    if ((uint64_t)w * h > PIXELS_MAX)
        h = PIXELS_MAX / w;
    s->w = w;
    s->h = h;
    s->fmt = d[4] % 15;
    s->interlace = d[5] & 1;
    s->trns = d[5] & 2;
    s->solid = d[5] & 4;
    s->filter = (d[5] >> 3 & 7) < 5 ? (d[5] >> 3 & 7) : -1;
    s->max_side = 1u + d[6];
    s->level = d[7] % 3; /* stored, fastest or fast: zlib's time is not ours */
    s->samples = d + 8;
    s->nsamples = n - 8;
    return true;
}

/* Bytes of one row of pw pixels. */
static size_t row_bytes(const struct spec *s, uint32_t pw)
{
    return ((size_t)pw * formats[s->fmt].ch * formats[s->fmt].depth + 7) / 8;
}

/* The next sample byte: the data cycled, or for a solid image the bytes of
 * one pixel (sub-byte samples: one value repeated across the byte). */
static uint8_t next_byte(const struct spec *s, size_t *k)
{
    size_t pix = ((size_t)formats[s->fmt].ch * formats[s->fmt].depth + 7) / 8;
    uint8_t b;

    if (!s->nsamples)
        return 0;
    if (!s->solid)
        return s->samples[(*k)++ % s->nsamples];
    if (formats[s->fmt].depth < 8) {
        int d = formats[s->fmt].depth;
        uint8_t v = s->samples[0] & ((1u << d) - 1), r = 0;

        for (int i = 0; i < 8; i += d)
            r = (uint8_t)(r << d | v);
        return r;
    }
    b = s->samples[((*k)++ % pix) % s->nsamples];
    return b;
}

/* Appends the filtered rows of one pass (or of the whole image). */
static void add_rows(const struct spec *s, uint32_t pw, uint32_t ph, unsigned char *raw,
                     size_t *len, size_t *k)
{
    size_t rb = row_bytes(s, pw);

    if (pw == 0 || ph == 0)
        return;
    for (uint32_t y = 0; y < ph; y++) {
        raw[(*len)++] = s->solid ? 0 : (uint8_t)(s->filter >= 0 ? s->filter : next_byte(s, k) % 5);
        if (s->solid)
            *k = 0; /* every row starts on a pixel boundary */
        for (size_t i = 0; i < rb; i++)
            raw[(*len)++] = next_byte(s, k);
    }
}

/* Builds the PNG described by s into m. */
static void build(const struct spec *s, struct fuzz_mem *m)
{
    static const uint8_t a7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4},
                                     {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}};
    int type = formats[s->fmt].type, depth = formats[s->fmt].depth;
    unsigned char ihdr[13], plte[768], trns[256];
    size_t cap = 2 * ((size_t)s->h + 8) * (row_bytes(s, s->w) + 1), len = 0, k = 0;
    unsigned char *raw = malloc(cap), *z;
    uLongf zlen;

    FUZZ_CHECK(raw != NULL, "out of memory");
    if (!s->interlace) {
        add_rows(s, s->w, s->h, raw, &len, &k);
    } else {
        for (int p = 0; p < 7; p++)
            add_rows(s, (s->w - a7[p][0] + a7[p][2] - 1) / a7[p][2] * (s->w > a7[p][0]),
                     (s->h - a7[p][1] + a7[p][3] - 1) / a7[p][3] * (s->h > a7[p][1]), raw, &len,
                     &k);
    }
    FUZZ_CHECK(len <= cap, "raw buffer overrun");
    zlen = compressBound(len);
    z = malloc(zlen);
    FUZZ_CHECK(z && compress2(z, &zlen, raw, len, s->level) == Z_OK, "compress failed");
    put32(ihdr, s->w);
    put32(ihdr + 4, s->h);
    ihdr[8] = (unsigned char)depth;
    ihdr[9] = (unsigned char)type;
    ihdr[10] = ihdr[11] = 0;
    ihdr[12] = s->interlace;
    FUZZ_CHECK(fuzz_mem_write(m, "\x89PNG\r\n\x1a\n", 8) == CFP_ERR_OK, "PNG too big");
    add_chunk(m, "IHDR", ihdr, 13);
    if (type == 3) {
        for (int i = 0; i < 768; i++)
            plte[i] = (unsigned char)(i * 89 + (i / 3) * 7);
        add_chunk(m, "PLTE", plte, (size_t)3 << depth);
    }
    if (s->trns) {
        /* palette: alphas from the data; gray/RGB: the first sample value(s) */
        for (int i = 0; i < 256; i++)
            trns[i] = s->nsamples ? s->samples[(size_t)i % s->nsamples] : 0;
        if (type == 3)
            add_chunk(m, "tRNS", trns, (size_t)1 << depth);
        else if (type == 0)
            add_chunk(m, "tRNS", (const unsigned char[]){0, trns[0] & ((1u << depth) - 1)}, 2);
        else if (type == 2)
            add_chunk(m, "tRNS", (const unsigned char[]){0, trns[0], 0, trns[1], 0, trns[2]}, 6);
    }
    add_chunk(m, "IDAT", z, zlen);
    add_chunk(m, "IEND", (const unsigned char *)"", 0);
    free(z);
    free(raw);
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decodes an 8-bit non-interlaced PNG as cfp writes them (independent of
 * libpng). Returns the pixels (caller frees) and sets w, h, ch. */
static unsigned char *read_png(const unsigned char *p, size_t n, uint32_t *w, uint32_t *h, int *ch)
{
    static const int chans[7] = {1, 0, 3, 0, 2, 0, 4};
    unsigned char *idat = malloc(n), *raw, *px;
    size_t pos = 8, ilen = 0, stride, rawlen;
    uLongf got;

    FUZZ_CHECK(idat != NULL, "out of memory");
    FUZZ_CHECK(n >= 8 + 25 && memcmp(p + 12, "IHDR", 4) == 0, "output has no IHDR");
    *w = get32(p + 16);
    *h = get32(p + 20);
    FUZZ_CHECK(p[24] == 8 && p[25] <= 6 && chans[p[25]] && p[28] == 0, "output IHDR %d/%d/%d",
               p[24], p[25], p[28]);
    *ch = chans[p[25]];
    while (n - pos >= 12) {
        size_t len = get32(p + pos);

        FUZZ_CHECK(len <= n - pos - 12, "output chunk overruns");
        FUZZ_CHECK(get32(p + pos + 8 + len) == (uint32_t)crc32(0, p + pos + 4, (uInt)len + 4),
                   "output CRC wrong");
        if (memcmp(p + pos + 4, "IDAT", 4) == 0) {
            memcpy(idat + ilen, p + pos + 8, len);
            ilen += len;
        }
        pos += 12 + len;
    }
    FUZZ_CHECK(pos == n, "output has trailing bytes");
    stride = (size_t)*w * (size_t)*ch;
    rawlen = (stride + 1) * *h;
    raw = malloc(rawlen + 1);
    px = malloc(stride * *h + 1);
    got = rawlen + 1;
    FUZZ_CHECK(raw && px && uncompress(raw, &got, idat, ilen) == Z_OK && got == rawlen,
               "output IDAT does not inflate to %zu bytes", rawlen);
    for (uint32_t y = 0; y < *h; y++) {
        const unsigned char *f = raw + y * (stride + 1) + 1;
        unsigned char *r = px + y * stride, *up = y ? r - stride : NULL;
        int ft = f[-1];

        FUZZ_CHECK(ft <= 4, "filter %d", ft);
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)*ch ? r[i - *ch] : 0, b = up ? up[i] : 0;
            int c = up && i >= (size_t)*ch ? up[i - *ch] : 0;
            int pred = ft == 0   ? 0
                       : ft == 1 ? a
                       : ft == 2 ? b
                       : ft == 3 ? (a + b) / 2
                                 : paeth(a, b, c);

            r[i] = (unsigned char)(f[i] + pred);
        }
    }
    free(raw);
    free(idat);
    return px;
}

/* A solid image: every output pixel equals the unresized colour (within 1);
 * fully transparent pixels of a resized image have colour 0. */
static void check_solid(const struct fuzz_mem *full, const struct fuzz_mem *out, bool resized)
{
    uint32_t fw, fh, w, h;
    int fch, ch;
    unsigned char *ref = read_png(full->p, full->len, &fw, &fh, &fch);
    unsigned char *px = read_png(out->p, out->len, &w, &h, &ch);
    unsigned char want[4];

    FUZZ_CHECK(fch == ch, "channels %d vs %d", fch, ch);
    memcpy(want, ref, (size_t)ch);
    for (size_t i = 1; i < (size_t)fw * fh; i++)
        FUZZ_CHECK(memcmp(ref + i * (size_t)ch, want, (size_t)ch) == 0,
                   "solid image decodes unevenly at pixel %zu", i);
    if (resized && (ch == 2 || ch == 4) && want[ch - 1] == 0)
        memset(want, 0, (size_t)ch);
    for (size_t i = 0; i < (size_t)w * h; i++)
        for (int c = 0; c < ch; c++)
            FUZZ_CHECK(abs(px[i * (size_t)ch + (size_t)c] - want[c]) <= 1,
                       "solid colour %d of channel %d became %d at pixel %zu (%ux%u, %d ch)",
                       want[c], c, px[i * (size_t)ch + (size_t)c], i, w, h, ch);
    free(ref);
    free(px);
}

static cfp_err run(const struct fuzz_mem *png, uint32_t max_side, struct fuzz_mem *out,
                   struct cfp_png_info *in, struct cfp_status *st)
{
    struct cfp_png_opts o;

    cfp_png_opts_init(&o);
    o.max_side = max_side;
    cfp_status_clear(st);
    return cfp_png_process(png->p, png->len, &o, fuzz_mem_write, out, in, st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_mem png = {.limit = OUT_LIMIT}, out = {.limit = OUT_LIMIT},
                    again = {.limit = OUT_LIMIT}, full = {.limit = OUT_LIMIT};
    struct cfp_png_info in, in2;
    struct cfp_status st;
    struct spec s;
    uint32_t w, h;
    cfp_err err;

    if (!parse(data, size, &s))
        return 0;
    build(&s, &png);
    err = run(&png, s.max_side, &out, &in, &st);
    FUZZ_CHECK(err == CFP_ERR_OK, "valid %ux%u image (format %d, interlace %d) failed: %s", s.w,
               s.h, s.fmt, s.interlace, st.msg);
    cfp_resize_fit(s.w, s.h, s.max_side, &w, &h);
    FUZZ_CHECK(in.width_in == (int32_t)s.w && in.height_in == (int32_t)s.h &&
                   in.width_out == (int32_t)w && in.height_out == (int32_t)h,
               "info %dx%d -> %dx%d for %ux%u -> %ux%u", in.width_in, in.height_in, in.width_out,
               in.height_out, s.w, s.h, w, h);
    err = run(&out, s.max_side, &again, &in2, &st);
    FUZZ_CHECK(err == CFP_ERR_OK && again.len == out.len && memcmp(again.p, out.p, out.len) == 0,
               "processing the output again changed it: %s", st.msg);
    if (s.solid) {
        err = run(&png, SIDE_MAX, &full, &in2, &st);
        FUZZ_CHECK(err == CFP_ERR_OK, "unresized: %s", st.msg);
        check_solid(&full, &out, w != s.w || h != s.h);
    }
    fuzz_mem_free(&png);
    fuzz_mem_free(&out);
    fuzz_mem_free(&again);
    fuzz_mem_free(&full);
    return 0;
}
