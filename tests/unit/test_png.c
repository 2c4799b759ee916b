/* test_png.c - unit tests of the PNG processor and the Lanczos resampler.
 *
 * Inputs are written here with libpng's write API from raw samples we
 * choose, and outputs are read back with libpng's simplified API, so the
 * expected pixels come from the conversion formulas (round(v * 255 / 65535),
 * palette lookup, tRNS match), not from cfp's own decoder.
 *
 * Without arguments it runs the unit tests. CLI modes used by png_psnr.py:
 *   test_png resize IN OUT MAXSIDE [MAXPIXELS]  -> "ok WIN HIN WOUT HOUT" | "error NAME: msg"
 *   test_png bench IN [REPEAT [libpng]]         -> milliseconds per call
 *   test_png same FILE...                       -> fast path == libpng on each
 */
#include "proc/cfp_png.h"

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <zlib.h>

#include "base/cfp_mem.h"
#include "base/cfp_scratch.h"
#include "cfp_test.h"
#include "proc/cfp_png_internal.h" /* cfp_zrle, compared with zlib itself */
#include "proc/cfp_pngfast.h"
#include "proc/cfp_resize.h"

/* ---------------------------------------------------------------- helpers */

/* Growable byte buffer used as the output sink. It uses libc realloc, not
 * cfp_realloc, so that injected cfp allocation failures hit only the code
 * under test. fail_at: the write that would pass this many total bytes
 * fails with CFP_ERR_IO (-1: never). */
struct membuf {
    unsigned char *p;
    size_t len, cap;
    long fail_at;
};

static cfp_err mem_write(void *ctx, const void *data, size_t n)
{
    struct membuf *m = ctx;

    if (m->fail_at >= 0 && m->len + n > (size_t)m->fail_at)
        return CFP_ERR_IO;
    if (m->len + n > m->cap) {
        size_t cap = (m->len + n) * 2;
        unsigned char *q = realloc(m->p, cap);

        ASSERT(q != NULL);
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
    return CFP_ERR_OK;
}

static void membuf_init(struct membuf *m)
{
    memset(m, 0, sizeof(*m));
    m->fail_at = -1;
}

static void membuf_free(struct membuf *m)
{
    free(m->p);
    membuf_init(m);
}

static void PNGCBAPI png_mem_write(png_structp png, png_bytep data, size_t n)
{
    ASSERT_EQ(mem_write(png_get_io_ptr(png), data, n), CFP_ERR_OK);
}

static void PNGCBAPI png_mem_flush(png_structp png)
{
    (void)png;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;

    if (!f)
        return NULL;
    ASSERT(fseek(f, 0, SEEK_END) == 0);
    n = ftell(f);
    ASSERT(n >= 0);
    rewind(f);
    p = malloc((size_t)n + 1);
    ASSERT(p != NULL);
    ASSERT_EQ(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* -------------------------------------------------- generated test images */

/* A synthetic image: raw samples at the file's bit depth (palette indices
 * for colour type 3), plus the palette / tRNS it is written with. */
struct gen {
    uint32_t w, h;
    int ct, depth;
    bool interlace, trns;
    int nin;       /* samples per pixel in the file */
    uint16_t *raw; /* w * h * nin samples */
    png_color pal[256];
    png_byte pal_alpha[256];
    int npal, ntrans;
    png_color_16 trns_color;
};

static int samples_of(int ct)
{
    switch (ct) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
        return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    default:
        return 4;
    }
}

/* Photo-like value in [0, 1]: gradients, a disc, a bar, a ripple, noise. */
static double photo(const struct gen *g, uint32_t x, uint32_t y, int c, uint32_t *rng)
{
    double fx = (x + 0.5) / g->w, fy = (y + 0.5) / g->h, v;
    double dx = fx - 0.4, dy = fy - 0.55;

    v = 0.15 + 0.45 * fx * (1 + c) / 3.0 + 0.3 * fy;
    if (dx * dx + dy * dy < 0.06)
        v = 0.9 - 0.5 * c / 3.0;
    if (fx > 0.7 && fx < 0.8)
        v = 0.05 + 0.1 * c;
    v += 0.05 * __builtin_sin(x * 0.7 + c) * __builtin_cos(y * 0.3);
    v += ((rng_next(rng) & 1023) / 1023.0 - 0.5) * 0.08;
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void gen_palette(struct gen *g)
{
    g->npal = g->depth >= 8 ? 256 : 1 << g->depth;
    for (int i = 0; i < g->npal; i++) {
        double t = g->npal > 1 ? (double)i / (g->npal - 1) : 0;

        g->pal[i] = (png_color){(png_byte)(255 * t), (png_byte)(255 * t * t),
                                (png_byte)(255 * (1 - t) * (i % 2 ? 0.5 : 1))};
        g->pal_alpha[i] = (png_byte)(i % 3 == 0 ? 0 : (i * 77 + 40) & 255);
    }
    /* Fewer tRNS entries than palette entries: the rest are opaque. */
    g->ntrans = g->npal > 2 ? g->npal * 2 / 3 : 1;
}

/* Fills g->raw; with tRNS for gray/RGB the top-left block gets exactly
 * the transparent colour so that alpha 0 really occurs. */
static void gen_fill(struct gen *g, uint32_t seed)
{
    uint32_t maxv = (1u << g->depth) - 1, rng = seed | 1;
    size_t i = 0;

    g->nin = samples_of(g->ct);
    g->raw = malloc(sizeof(uint16_t) * g->w * g->h * (size_t)g->nin);
    ASSERT(g->raw != NULL);
    if (g->ct == PNG_COLOR_TYPE_PALETTE)
        gen_palette(g);
    for (uint32_t y = 0; y < g->h; y++)
        for (uint32_t x = 0; x < g->w; x++)
            for (int c = 0; c < g->nin; c++, i++) {
                double v = photo(g, x, y, c, &rng);

                if (c == 3 || (c == 1 && g->ct == PNG_COLOR_TYPE_GRAY_ALPHA))
                    v = x < g->w / 4 ? 0.0 : (double)x / g->w; /* alpha: clear, then ramp */
                g->raw[i] = (uint16_t)(v * (g->ct == 3 ? g->npal - 1 : (int)maxv) + 0.5);
            }
    if (g->trns && (g->ct == PNG_COLOR_TYPE_GRAY || g->ct == PNG_COLOR_TYPE_RGB)) {
        g->trns_color = (png_color_16){0, (png_uint_16)(maxv / 3), (png_uint_16)(maxv / 2),
                                       (png_uint_16)(maxv / 5), (png_uint_16)(maxv / 3)};
        for (uint32_t y = 0; y < g->h / 3; y++)
            for (uint32_t x = 0; x < g->w / 3; x++) {
                uint16_t *p = g->raw + ((size_t)y * g->w + x) * (size_t)g->nin;

                if (g->ct == PNG_COLOR_TYPE_GRAY)
                    p[0] = g->trns_color.gray;
                else
                    memcpy(
                        p,
                        (uint16_t[3]){g->trns_color.red, g->trns_color.green, g->trns_color.blue},
                        sizeof(uint16_t) * 3);
            }
    }
}

/* Packs one row of raw samples into PNG bytes (MSB first, big-endian). */
static void pack_row(const struct gen *g, uint32_t y, unsigned char *out)
{
    const uint16_t *s = g->raw + (size_t)y * g->w * (size_t)g->nin;
    size_t n = (size_t)g->w * (size_t)g->nin;

    if (g->depth == 16) {
        for (size_t i = 0; i < n; i++) {
            out[2 * i] = (unsigned char)(s[i] >> 8);
            out[2 * i + 1] = (unsigned char)s[i];
        }
    } else if (g->depth == 8) {
        for (size_t i = 0; i < n; i++)
            out[i] = (unsigned char)s[i];
    } else {
        memset(out, 0, (n * (size_t)g->depth + 7) / 8);
        for (size_t i = 0; i < n; i++) {
            size_t bit = i * (size_t)g->depth;

            out[bit / 8] |= (unsigned char)(s[i] << (8 - g->depth - (int)(bit % 8)));
        }
    }
}

static void gen_write_chunks(const struct gen *g, png_structp png, png_infop info)
{
    png_set_IHDR(png, info, g->w, g->h, g->depth, g->ct,
                 g->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (g->ct == PNG_COLOR_TYPE_PALETTE)
        png_set_PLTE(png, info, g->pal, g->npal);
    if (g->trns && g->ct == PNG_COLOR_TYPE_PALETTE)
        png_set_tRNS(png, info, g->pal_alpha, g->ntrans, NULL);
    else if (g->trns)
        png_set_tRNS(png, info, NULL, 0, &g->trns_color);
    /* An ancillary chunk the decoder must skip without harm. */
    png_text text = {PNG_TEXT_COMPRESSION_zTXt, "Comment", "cfp test image", 14, 0, NULL, NULL};
    png_set_text(png, info, &text, 1);
}

/* Encodes g as a PNG into out (caller frees with membuf_free). */
static void gen_encode(const struct gen *g, struct membuf *out)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    size_t rowbytes = ((size_t)g->w * (size_t)g->nin * (size_t)g->depth + 7) / 8;
    unsigned char *rows = malloc(rowbytes * g->h);
    png_bytep *rp = malloc(sizeof(png_bytep) * g->h);

    ASSERT(png && info && rows && rp);
    membuf_init(out);
    if (setjmp(png_jmpbuf(png)))
        CFP_FAILF("libpng failed to write a test image");
    png_set_write_fn(png, out, png_mem_write, png_mem_flush);
    png_set_compression_level(png, 1);
    gen_write_chunks(g, png, info);
    for (uint32_t y = 0; y < g->h; y++) {
        rp[y] = rows + (size_t)y * rowbytes;
        pack_row(g, y, rp[y]);
    }
    png_write_info(png, info);
    png_write_image(png, rp);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(rp);
}

static void gen_make(struct gen *g, uint32_t w, uint32_t h, int ct, int depth, bool interlace,
                     bool trns, struct membuf *png)
{
    memset(g, 0, sizeof(*g));
    *g = (struct gen){
        .w = w, .h = h, .ct = ct, .depth = depth, .interlace = interlace, .trns = trns};
    gen_fill(g, w * 31 + h * 17 + (uint32_t)ct * 7 + (uint32_t)depth);
    gen_encode(g, png);
}

/* 8-bit value of a raw sample, by the spec's formulas (not libpng's code). */
static unsigned char to8(uint32_t v, int depth)
{
    if (depth == 16)
        return (unsigned char)(v * 255.0 / 65535.0 + 0.5);
    return (unsigned char)(v * 255u / ((1u << depth) - 1u));
}

/* Expected output pixel (x, y) of g without resizing; returns channels. */
static int expect_px(const struct gen *g, uint32_t x, uint32_t y, unsigned char out[4])
{
    const uint16_t *s = g->raw + ((size_t)y * g->w + x) * (size_t)g->nin;
    bool clear;

    if (g->ct == PNG_COLOR_TYPE_PALETTE) {
        const png_color *c = &g->pal[s[0]];

        memcpy(out, (unsigned char[3]){c->red, c->green, c->blue}, 3);
        out[3] = s[0] < g->ntrans ? g->pal_alpha[s[0]] : 255;
        return g->trns ? 4 : 3;
    }
    for (int c = 0; c < g->nin && c < 4; c++) /* nin <= 4; the bound is for gcc */
        out[c] = to8(s[c], g->depth);
    if (!g->trns)
        return g->nin;
    if (g->ct == PNG_COLOR_TYPE_GRAY) {
        out[1] = s[0] == g->trns_color.gray ? 0 : 255;
        return 2;
    }
    clear = s[0] == g->trns_color.red && s[1] == g->trns_color.green && s[2] == g->trns_color.blue;
    out[3] = clear ? 0 : 255;
    return 4;
}

static void gen_free(struct gen *g)
{
    free(g->raw);
    g->raw = NULL;
}

/* ------------------------------------------------------ checking outputs */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Colour type cfp must produce for the PNG in buf, from its own IHDR and
 * whether a tRNS chunk is present (walks the chunks; no libpng). */
static int expected_out_type(const unsigned char *buf, size_t len)
{
    int ct = buf[25];
    bool trns = false;

    for (size_t off = 8; off + 12 <= len;) {
        uint32_t n = be32(buf + off);

        if (memcmp(buf + off + 4, "tRNS", 4) == 0)
            trns = true;
        if (memcmp(buf + off + 4, "IDAT", 4) == 0 || n > len - off - 12)
            break;
        off += 12 + (size_t)n;
    }
    if (ct == PNG_COLOR_TYPE_PALETTE)
        return trns ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB;
    if (trns && ct == PNG_COLOR_TYPE_GRAY)
        return PNG_COLOR_TYPE_GRAY_ALPHA;
    if (trns && ct == PNG_COLOR_TYPE_RGB)
        return PNG_COLOR_TYPE_RGB_ALPHA;
    return ct;
}

/* The decoded output: checks its IHDR (8-bit, colour type ct, size w x h,
 * not interlaced) and decodes it fully with libpng's simplified API.
 * Returns the pixels (caller frees) with 8-bit channels as in the file. */
static unsigned char *check_output(const struct membuf *m, uint32_t w, uint32_t h, int ct)
{
    static const png_uint_32 fmt[7] = {PNG_FORMAT_GRAY, 0, PNG_FORMAT_RGB, 0,
                                       PNG_FORMAT_GA,   0, PNG_FORMAT_RGBA};
    png_image im;
    unsigned char *px;

    ASSERT(m->len > 33);
    ASSERT(cfp_png_sniff(m->p, m->len));
    ASSERT(memcmp(m->p + 12, "IHDR", 4) == 0);
    ASSERT_EQ(be32(m->p + 16), w);
    ASSERT_EQ(be32(m->p + 20), h);
    ASSERT_EQ(m->p[24], 8);
    ASSERT_EQ(m->p[25], ct);
    ASSERT_EQ(m->p[28], 0);
    memset(&im, 0, sizeof(im));
    im.version = PNG_IMAGE_VERSION;
    ASSERT(png_image_begin_read_from_memory(&im, m->p, m->len));
    im.format = fmt[ct];
    px = malloc(PNG_IMAGE_SIZE(im));
    ASSERT(px != NULL);
    if (!png_image_finish_read(&im, NULL, px, 0, NULL))
        CFP_FAILF("output does not decode: %s", im.message);
    return px;
}

/* Runs cfp_png_process on m with max_side; asserts success. */
static void process_ok(const struct membuf *in, uint32_t max_side, struct membuf *out,
                       struct cfp_png_info *info)
{
    struct cfp_png_opts o;
    struct cfp_status st;
    cfp_err err;

    cfp_png_opts_init(&o);
    o.max_side = max_side;
    cfp_status_clear(&st);
    membuf_init(out);
    err = cfp_png_process(in->p, in->len, &o, mem_write, out, info, &st);
    if (err)
        CFP_FAILF("cfp_png_process: %s: %s", cfp_errname(err), st.msg);
    ASSERT_EQ(st.code, CFP_ERR_OK);
}


/* Runs buf through the streaming decoder, fed in pieces of `chunk` bytes
 * (the first piece shorter, to cut the header too). */
static cfp_err stream_run(const unsigned char *buf, size_t len, const struct cfp_png_opts *o,
                          size_t chunk, struct membuf *out, struct cfp_status *st)
{
    struct cfp_png_stream *s = NULL;
    cfp_err err = cfp_png_stream_new(o, mem_write, out, NULL, NULL, NULL, &s, st);

    for (size_t at = 0, n = chunk > 5 ? 5 : chunk; !err && at < len; at += n, n = chunk)
        err = cfp_png_stream_feed(s, buf + at, n < len - at ? n : len - at, st);
    if (!err)
        err = cfp_png_stream_finish(s, st);
    cfp_png_stream_free(&s);
    return err;
}

/* Set while the bit-flip test runs: see same_as_stream. */
static bool stream_lenient;
static int stream_verdicts_differ;

/* The streaming decoder against the whole-buffer one on buf: the same code
 * and, on success, the same output bytes, whatever the pieces. Messages
 * may differ (a truncated file is found at a different point). Under
 * stream_lenient (zlib data damaged inside IDATs whose CRCs were made
 * right again) the verdicts may differ: libpng's progressive reader only
 * warns about a compressed stream that ends badly once every row is
 * decoded, where its whole-file reader sometimes fails (doc/png.md); the
 * outputs of images both accept must still be the same. */
static void same_as_stream(const unsigned char *buf, size_t len, const struct cfp_png_opts *o,
                           cfp_err whole, const char *why, const struct membuf *want)
{
    static const size_t chunks[] = {1, 7, 4096, SIZE_MAX};

    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct membuf m;
        struct cfp_status st;
        cfp_err err;

        if (chunks[i] == 1 && len > 20000)
            continue; /* a byte at a time: small files only */
        membuf_init(&m);
        cfp_status_clear(&st);
        err = stream_run(buf, len, o, chunks[i], &m, &st);
        if (err != whole && stream_lenient)
            stream_verdicts_differ++;
        else if (err != whole)
            CFP_FAILF("stream (pieces of %zu) %s \"%s\", whole buffer %s \"%s\"", chunks[i],
                      cfp_errname(err), st.msg, cfp_errname(whole), why);
        if (!err && !whole && (m.len != want->len || memcmp(m.p, want->p, m.len) != 0))
            CFP_FAILF("stream (pieces of %zu): output differs (%zu vs %zu bytes)", chunks[i],
                      m.len, want->len);
        membuf_free(&m);
    }
}

/* Runs buf through the default decoder (fast path where it applies) and
 * through libpng alone: same code, same message, same output bytes; and
 * through the streaming decoder: same code, same bytes. Returns the code. */
static cfp_err same_verdict(const unsigned char *buf, size_t len, uint32_t max_side)
{
    struct cfp_png_opts o;
    struct membuf a, b;
    struct cfp_status sa, sb;
    cfp_err ea, eb;

    cfp_png_opts_init(&o);
    o.max_side = max_side;
    membuf_init(&a);
    membuf_init(&b);
    cfp_status_clear(&sa);
    cfp_status_clear(&sb);
    ea = cfp_png_process(buf, len, &o, mem_write, &a, NULL, &sa);
    o.libpng_only = true;
    eb = cfp_png_process(buf, len, &o, mem_write, &b, NULL, &sb);
    if (ea != eb || strcmp(sa.msg, sb.msg) != 0)
        CFP_FAILF("fast path %s \"%s\", libpng %s \"%s\"", cfp_errname(ea), sa.msg,
                  cfp_errname(eb), sb.msg);
    if (ea == CFP_ERR_OK) {
        ASSERT_EQ(a.len, b.len);
        ASSERT(memcmp(a.p, b.p, a.len) == 0);
    }
    o.libpng_only = false;
    same_as_stream(buf, len, &o, ea, sa.msg, &a);
    membuf_free(&a);
    membuf_free(&b);
    return ea;
}

/* Whether the fast path takes buf (and frees what it took). */
static bool fast_takes(const unsigned char *buf, size_t len)
{
    struct cfp_pngfast f;
    bool taken;

    ASSERT_EQ(cfp_pngfast_open(buf, len, CFP_PNG_MAX_PIXELS_DEFAULT, &f, &taken), CFP_ERR_OK);
    if (taken) { /* every row is handed out once */
        for (uint32_t y = 0; y < f.h; y++)
            ASSERT(cfp_pngfast_row(&f) != NULL);
        cfp_pngfast_free(&f);
    }
    ASSERT(f.raw == NULL);
    return taken;
}

/* --------------------------------------------------------------- tests */

static void test_sniff(void)
{
    const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    ASSERT(cfp_png_sniff(sig, 8));
    ASSERT(!cfp_png_sniff(sig, 7));
    ASSERT(!cfp_png_sniff(NULL, 0));
    ASSERT(!cfp_png_sniff((const unsigned char *)"GIF89a\0\0", 8));
}

/* Hand-computed sizes: longest side -> max_side, other side rounded. */
static void test_fit(void)
{
    static const struct {
        uint32_t w, h, max, ow, oh;
    } t[] = {
        {2400, 1600, 512, 512, 341}, /* 341.33 */
        {1600, 2400, 512, 341, 512},
        {100, 50, 512, 100, 50}, /* never upscale */
        {512, 512, 512, 512, 512},
        {513, 512, 512, 512, 511}, /* 510.999 */
        {1000, 1, 512, 512, 1},    /* 0.512 -> 1 */
        {1, 1000, 512, 1, 512},
        {100000, 1, 512, 512, 1}, /* 0.005 -> at least 1 */
        {1024, 3, 512, 512, 2},   /* 1.5 rounds half up */
        {1024, 5, 512, 512, 3},   /* 2.5 rounds half up */
        {32, 32, 20, 20, 20},
        {33, 32, 20, 20, 19}, /* 19.39 */
        {2147483647, 2147483647, 4294967295u, 2147483647, 2147483647},
        {2147483647, 2147483646, 1000, 1000, 1000}, /* 999.9999995 */
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint32_t ow, oh;

        cfp_resize_fit(t[i].w, t[i].h, t[i].max, &ow, &oh);
        if (ow != t[i].ow || oh != t[i].oh)
            CFP_FAILF("fit %ux%u max %u: got %ux%u, want %ux%u", t[i].w, t[i].h, t[i].max, ow, oh,
                      t[i].ow, t[i].oh);
    }
}

/* Small cases computable by hand, through the resampler directly. */
static void test_resize_hand(void)
{
    unsigned char g2[2] = {0, 255}, g1[1], rgba[8] = {255, 0, 0, 255, 0, 0, 255, 0}, o4[4];
    struct cfp_img s = {g2, 2, 1, 2, 1}, d = {g1, 1, 1, 1, 1};

    /* 2 -> 1: taps at -0.25 and +0.25 of the kernel: equal weights, so the
     * mean 127.5, rounded half up. */
    ASSERT_EQ(cfp_resize_lanczos3(&s, &d), CFP_ERR_OK);
    ASSERT_EQ(g1[0], 128);
    /* Premultiplied: the transparent blue pixel must not tint the result:
     * (255,0,0,255) + (0,0,255,0) -> alpha 127.5, colour 255 red. */
    s = (struct cfp_img){rgba, 2, 1, 8, 4};
    d = (struct cfp_img){o4, 1, 1, 4, 4};
    ASSERT_EQ(cfp_resize_lanczos3(&s, &d), CFP_ERR_OK);
    ASSERT_EQ(o4[0], 255);
    ASSERT_EQ(o4[1], 0);
    ASSERT_EQ(o4[2], 0);
    ASSERT_EQ(o4[3], 128);
    /* Fully transparent result: colour 0. */
    memset(rgba, 0, sizeof(rgba));
    rgba[0] = 200;
    ASSERT_EQ(cfp_resize_lanczos3(&s, &d), CFP_ERR_OK);
    ASSERT_EQ(o4[0] | o4[1] | o4[2] | o4[3], 0);
    /* Bad arguments. */
    d.channels = 3;
    ASSERT_EQ(cfp_resize_lanczos3(&s, &d), CFP_ERR_INTERNAL);
}

/* Normalised weights: a flat image stays exactly flat, for every channel
 * count and odd scale factors in both directions. */
static void test_resize_flat(void)
{
    static const unsigned char colour[4] = {10, 200, 30, 77};
    static const uint32_t sizes[][4] = {{37, 23, 11, 7},
                                        {5, 300, 1, 2},
                                        {9, 9, 40, 3},
                                        {3001, 5, 10, 2},
                                        {2, 1500, 1, 5}}; /* box stage */

    for (int ch = 1; ch <= 4; ch++)
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            const uint32_t *z = sizes[k];
            unsigned char *a = malloc((size_t)z[0] * z[1] * 4),
                          *b = malloc((size_t)z[2] * z[3] * 4);
            struct cfp_img s = {a, z[0], z[1], (size_t)z[0] * (size_t)ch, ch};
            struct cfp_img d = {b, z[2], z[3], (size_t)z[2] * (size_t)ch, ch};

            ASSERT(a && b);
            for (size_t i = 0; i < (size_t)z[0] * z[1] * (size_t)ch; i++)
                a[i] = colour[i % (size_t)ch + (ch < 3 && i % (size_t)ch == 1 ? 2 : 0)];
            ASSERT_EQ(cfp_resize_lanczos3(&s, &d), CFP_ERR_OK);
            for (size_t i = 0; i < (size_t)z[2] * z[3] * (size_t)ch; i++)
                if (b[i] != a[i % (size_t)ch])
                    CFP_FAILF("flat %d ch %ux%u->%ux%u: byte %zu = %d, want %d", ch, z[0], z[1],
                              z[2], z[3], i, b[i], a[i % (size_t)ch]);
            free(a);
            free(b);
        }
}

struct type_case {
    int ct, depth;
    bool trns, interlace;
    int out_ct;
};

static const struct type_case type_cases[] = {
    {PNG_COLOR_TYPE_GRAY, 1, false, false, PNG_COLOR_TYPE_GRAY},
    {PNG_COLOR_TYPE_GRAY, 2, false, true, PNG_COLOR_TYPE_GRAY},
    {PNG_COLOR_TYPE_GRAY, 4, true, false, PNG_COLOR_TYPE_GRAY_ALPHA},
    {PNG_COLOR_TYPE_GRAY, 8, false, false, PNG_COLOR_TYPE_GRAY},
    {PNG_COLOR_TYPE_GRAY, 8, true, true, PNG_COLOR_TYPE_GRAY_ALPHA},
    {PNG_COLOR_TYPE_GRAY, 16, false, true, PNG_COLOR_TYPE_GRAY},
    {PNG_COLOR_TYPE_GRAY, 16, true, false, PNG_COLOR_TYPE_GRAY_ALPHA},
    {PNG_COLOR_TYPE_RGB, 8, false, false, PNG_COLOR_TYPE_RGB},
    {PNG_COLOR_TYPE_RGB, 8, true, false, PNG_COLOR_TYPE_RGB_ALPHA},
    {PNG_COLOR_TYPE_RGB, 16, false, true, PNG_COLOR_TYPE_RGB},
    {PNG_COLOR_TYPE_RGB, 16, true, true, PNG_COLOR_TYPE_RGB_ALPHA},
    {PNG_COLOR_TYPE_PALETTE, 1, false, false, PNG_COLOR_TYPE_RGB},
    {PNG_COLOR_TYPE_PALETTE, 2, true, true, PNG_COLOR_TYPE_RGB_ALPHA},
    {PNG_COLOR_TYPE_PALETTE, 4, false, true, PNG_COLOR_TYPE_RGB},
    {PNG_COLOR_TYPE_PALETTE, 8, true, false, PNG_COLOR_TYPE_RGB_ALPHA},
    {PNG_COLOR_TYPE_PALETTE, 8, false, false, PNG_COLOR_TYPE_RGB},
    {PNG_COLOR_TYPE_GRAY_ALPHA, 8, false, true, PNG_COLOR_TYPE_GRAY_ALPHA},
    {PNG_COLOR_TYPE_GRAY_ALPHA, 16, false, false, PNG_COLOR_TYPE_GRAY_ALPHA},
    {PNG_COLOR_TYPE_RGB_ALPHA, 8, false, false, PNG_COLOR_TYPE_RGB_ALPHA},
    {PNG_COLOR_TYPE_RGB_ALPHA, 16, false, true, PNG_COLOR_TYPE_RGB_ALPHA},
};

/* Not resized: the output must equal the formula conversion exactly. */
static void check_exact(const struct type_case *t, const struct gen *g, const struct membuf *in)
{
    struct membuf out;
    struct cfp_png_info info;
    unsigned char *px, want[4];

    process_ok(in, 512, &out, &info);
    ASSERT_EQ(info.width_in, g->w);
    ASSERT_EQ(info.height_out, g->h);
    px = check_output(&out, g->w, g->h, t->out_ct);
    for (uint32_t y = 0; y < g->h; y++)
        for (uint32_t x = 0; x < g->w; x++) {
            int n = expect_px(g, x, y, want);
            const unsigned char *p = px + ((size_t)y * g->w + x) * (size_t)n;

            if (memcmp(p, want, (size_t)n) != 0)
                CFP_FAILF("ct %d depth %d trns %d: pixel (%u,%u) ch0 %d want %d, ch%d %d want %d",
                          t->ct, t->depth, t->trns, x, y, p[0], want[0], n - 1, p[n - 1],
                          want[n - 1]);
        }
    free(px);
    membuf_free(&out);
}

/* Every colour type / depth / tRNS / interlace combination: exact when not
 * resized, right type and size and decodable when resized. */
static void test_colour_types(void)
{
    for (size_t i = 0; i < sizeof(type_cases) / sizeof(type_cases[0]); i++) {
        const struct type_case *t = &type_cases[i];
        struct gen g;
        struct membuf in, out;
        struct cfp_png_info info;

        gen_make(&g, 70, 45, t->ct, t->depth, t->interlace, t->trns, &in);
        ASSERT_EQ(expected_out_type(in.p, in.len), t->out_ct);
        check_exact(t, &g, &in);
        process_ok(&in, 32, &out, &info);
        ASSERT_EQ(info.width_out, 32);
        ASSERT_EQ(info.height_out, 21); /* 45 * 32 / 70 = 20.57 */
        free(check_output(&out, 32, 21, t->out_ct));
        membuf_free(&out);
        membuf_free(&in);
        gen_free(&g);
    }
}

/* libpng's own encoding of 8-bit pixels px (colour type ct, not palette)
 * into out, with libpng's adaptive filter choice and cfp's zlib settings
 * (level 4, Z_RLE: PNG_ZLEVEL and PNG_ZSTRATEGY in cfp_png.c). */
static void libpng_encode(const unsigned char *px, uint32_t w, uint32_t h, int ct,
                          struct membuf *out)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    size_t stride = (size_t)w * (size_t)samples_of(ct);

    ASSERT(png && info);
    membuf_init(out);
    if (setjmp(png_jmpbuf(png)))
        CFP_FAILF("libpng failed to write a test image");
    png_set_write_fn(png, out, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, w, h, 8, ct, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 4);
    png_set_compression_strategy(png, Z_RLE);
    png_write_info(png, info);
    for (uint32_t y = 0; y < h; y++)
        png_write_row(png, px + (size_t)y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
}

/* Sample c of pixel (x, y) in pattern k: flat, vertical ramp, horizontal
 * ramp, stripes, noise, and (k = 5) a different one on every row, so that
 * each filter wins somewhere and some rows tie. */
static unsigned char pattern(int k, uint32_t x, uint32_t y, int c, uint32_t *rng)
{
    switch (k == 5 ? (int)(y % 5) : k) {
    case 0:
        return (unsigned char)(77 + c);
    case 1:
        return (unsigned char)(y * 5 + (uint32_t)c);
    case 2:
        return (unsigned char)(x * 3 + (uint32_t)c * 40);
    case 3:
        return (unsigned char)((x / 3 + y / 2) % 2 * 200 + (uint32_t)c);
    default:
        return (unsigned char)rng_next(rng);
    }
}

/* cfp chooses each output row's filter itself (pick_filter in
 * cfp_png_encode.c) and must write exactly the bytes of libpng's own
 * adaptive choice: an image that fits is re-encoded from the same pixels, so
 * cfp's output must equal an input libpng wrote with the same settings.
 * Every 8-bit channel count, patterns where each filter wins or ties, 1-row
 * and 1-pixel-wide images (where libpng restricts the filters). Images of
 * over 16 KiB of filtered data (most of the last three sizes) go through
 * cfp's own writer, the others through libpng: both must give these bytes. */
static void test_filter_choice(void)
{
    static const int cts[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                              PNG_COLOR_TYPE_RGB_ALPHA};
    static const uint32_t sizes[][2] = {{61, 40}, {1, 9},    {9, 1},    {1, 1},
                                        {300, 3}, {130, 70}, {1, 9000}, {20000, 1}};
    uint32_t rng = 99;

    for (size_t t = 0; t < sizeof(cts) / sizeof(cts[0]); t++)
        for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
            for (int k = 0; k < 6; k++) {
                uint32_t w = sizes[z][0], h = sizes[z][1];
                int ch = samples_of(cts[t]);
                unsigned char *px = malloc((size_t)w * h * (size_t)ch), *p = px;
                struct membuf in, out;

                ASSERT(px != NULL);
                for (uint32_t y = 0; y < h; y++)
                    for (uint32_t x = 0; x < w; x++)
                        for (int c = 0; c < ch; c++)
                            *p++ = pattern(k, x, y, c, &rng);
                libpng_encode(px, w, h, cts[t], &in);
                process_ok(&in, 20000, &out, NULL); /* never resized */
                if (out.len != in.len || memcmp(out.p, in.p, in.len) != 0)
                    CFP_FAILF("type %d %ux%u pattern %d: %zu bytes, libpng's choice %zu", cts[t], w,
                              h, k, out.len, in.len);
                membuf_free(&out);
                membuf_free(&in);
                free(px);
            }
}

/* ------------------------------------------------- cfp's own PNG writer */

static void alloc_fail_all(const struct membuf *in, const struct cfp_png_opts *o, int *nomem);

/* Collects cfp_zrle's output; every piece but the last must be a whole
 * IDAT's worth. */
struct zsink {
    struct membuf out;
    size_t short_pieces;
};

static cfp_err zsink_put(void *ctx, const unsigned char *p, size_t n)
{
    struct zsink *z = ctx;

    ASSERT(n > 0 && n <= CFP_ZRLE_CHUNK);
    ASSERT_EQ(z->short_pieces, 0); /* only the last piece may be short */
    z->short_pieces += n < CFP_ZRLE_CHUNK;
    return mem_write(&z->out, p, n);
}

/* data fed in pieces of sizes pieces[0], pieces[1], ... (cycled), as one
 * deflate(Z_NO_FLUSH) call each, then deflate(Z_FINISH): what libpng does
 * with one filtered row per call. zlib: through zlib itself, with cfp's
 * output settings; else through cfp_zrle. */
static void deflate_pieces(const unsigned char *data, size_t n, const size_t *pieces,
                           size_t npieces, bool zlib, struct membuf *out)
{
    size_t pos = 0, len;

    membuf_init(out);
    if (zlib) {
        unsigned char buf[3000];
        z_stream zs;
        int ret;

        memset(&zs, 0, sizeof(zs));
        ASSERT_EQ(deflateInit2(&zs, 4, Z_DEFLATED, 15, 8, Z_RLE), Z_OK);
        for (size_t k = 0; pos < n; pos += len, k++) {
            len = n - pos < pieces[k % npieces] ? n - pos : pieces[k % npieces];
            zs.next_in = (Bytef *)(uintptr_t)(data + pos);
            zs.avail_in = (uInt)len;
            while (zs.avail_in > 0) {
                zs.next_out = buf;
                zs.avail_out = sizeof(buf);
                ASSERT_EQ(deflate(&zs, Z_NO_FLUSH), Z_OK);
                ASSERT_EQ(mem_write(out, buf, sizeof(buf) - zs.avail_out), CFP_ERR_OK);
            }
        }
        do {
            zs.next_out = buf;
            zs.avail_out = sizeof(buf);
            ret = deflate(&zs, Z_FINISH);
            ASSERT_EQ(mem_write(out, buf, sizeof(buf) - zs.avail_out), CFP_ERR_OK);
        } while (ret == Z_OK);
        ASSERT_EQ(ret, Z_STREAM_END);
        deflateEnd(&zs);
    } else {
        struct zsink zk;
        struct cfp_zrle *z;

        membuf_init(&zk.out);
        zk.short_pieces = 0;
        ASSERT_EQ(cfp_zrle_new(zsink_put, &zk, &z), CFP_ERR_OK);
        for (size_t k = 0; pos < n; pos += len, k++) {
            len = n - pos < pieces[k % npieces] ? n - pos : pieces[k % npieces];
            ASSERT_EQ(cfp_zrle_feed(z, data + pos, len), CFP_ERR_OK);
        }
        ASSERT_EQ(cfp_zrle_finish(z, (uint32_t)adler32(adler32(0, NULL, 0), data, (uInt)n)),
                  CFP_ERR_OK);
        cfp_zrle_free(&z);
        ASSERT(z == NULL);
        *out = zk.out;
    }
}

/* Byte i of test stream k: noise (stored blocks), one byte (runs of 258,
 * blocks spanning many window slides), random runs of 1-700 (matches of
 * every length, literal and match blocks mixed), a skewed distribution
 * (symbol j about twice as frequent as j + 1), bytes that never repeat
 * (only literals: 16383 of them fill a block exactly, leaving an empty
 * fixed-code last one), rows of noise between flat rows (stored and coded
 * blocks alternating). Short streams get fixed codes. */
static unsigned char zstream_byte(int k, size_t i, uint32_t *rng, unsigned *run, unsigned char *b)
{
    uint32_t r;
    int j = 0;

    switch (k) {
    case 0:
        return (unsigned char)rng_next(rng);
    case 1:
        return 0x55;
    case 2:
        if (*run == 0) {
            *run = 1 + rng_next(rng) % 700;
            *b = (unsigned char)rng_next(rng);
        }
        (*run)--;
        return *b;
    case 3:
        for (r = rng_next(rng); (r & 1) && j < 31; r >>= 1)
            j++;
        return (unsigned char)(j * 5);
    case 4:
        return (unsigned char)(i * 7 + 1);
    default:
        return (i / 1000) % 5 == 0 ? (unsigned char)rng_next(rng) : (unsigned char)(i / 1000);
    }
}

/* Blocks of 16383 literals whose counts are Fibonacci numbers (2, 3, 5,
 * ..., 2584 for 16 bytes in a random order, each after one or two of a
 * 17th byte that fills the block): with the end-of-block code's count of 1
 * every merge of zlib's Huffman construction takes the last node and the
 * next byte, a chain 17 deep, so every block goes through zlib's repair of
 * lengths over 15. No byte repeats 4 times, so there are no matches. */
static void fib_fill(unsigned char *d, size_t n, uint32_t *rng)
{
    unsigned char others[6762]; /* 2 + 3 + ... + 2584 = F(20) - 3 */
    size_t m = 0;

    while (m < n) {
        size_t k = 0, gaps = sizeof(others), twos = 16383 - 2 * gaps;

        for (uint32_t a = 2, b = 3, sym = 1; sym <= 16; sym++, b = a + b, a = b - a)
            for (uint32_t c = 0; c < a; c++)
                others[k++] = (unsigned char)(sym * 7);
        ASSERT_EQ(k, gaps);
        for (size_t i = gaps - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = rng_next(rng) % (i + 1);
            unsigned char t = others[i];

            others[i] = others[j];
            others[j] = t;
        }
        for (size_t g = 0; g < gaps && m < n; g++) {
            for (size_t t = 0; t < 1 + (g < twos) && m < n; t++)
                d[m++] = 200;
            if (m < n)
                d[m++] = others[g];
        }
    }
}

/* cfp_zrle gives zlib's exact bytes (level 4, Z_RLE, windowBits 15,
 * memLevel 8) for streams built to reach each of its paths (zstream_byte,
 * fib_fill), fed in pieces of several sizes (one byte, a 512 px RGB row,
 * more than the window). */
static void test_zrle(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 5, 300, 16383, 2 * 16383, 70000, 400000};
    static const size_t pieces[][2] = {{1537, 1537}, {1, 1}, {7, 100000}, {200000, 200000}};
    int cases = 0;

    for (int k = 0; k < 7; k++)
        for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
            for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
                size_t n = sizes[z];
                unsigned char *data, b = 0;
                uint32_t rng = 1234 + (uint32_t)k;
                unsigned run = 0;
                struct membuf want, got;

                if (pieces[p][0] == 1 && n > 70000)
                    continue; /* a byte per call: slow under valgrind, and 70000 covers it */
                data = malloc(n + 1);
                ASSERT(data != NULL);
                if (k == 6)
                    fib_fill(data, n, &rng);
                else
                    for (size_t i = 0; i < n; i++)
                        data[i] = zstream_byte(k, i, &rng, &run, &b);
                deflate_pieces(data, n, pieces[p], 2, true, &want);
                deflate_pieces(data, n, pieces[p], 2, false, &got);
                if (got.len != want.len || memcmp(got.p, want.p, want.len) != 0)
                    CFP_FAILF("zrle stream %d, %zu bytes in pieces of %zu/%zu: %zu bytes, zlib %zu",
                              k, n, pieces[p][0], pieces[p][1], got.len, want.len);
                cases++;
                membuf_free(&want);
                membuf_free(&got);
                free(data);
            }
    printf("zrle: %d streams byte-identical to zlib's\n", cases);
}

/* Images cfp writes with its own writer (over 16 KiB of filtered data):
 * the same bytes as libpng's writer (libpng_only also decodes with libpng,
 * which gives the same pixels) for every channel count and kinds of data
 * that reach stored, fixed and dynamic blocks; failing writes (in the
 * header, an IDAT, IEND) return the writer's error, as libpng's path does;
 * failing allocations give NOMEM. */
static void test_own_writer(void)
{
    static const int cts[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                              PNG_COLOR_TYPE_RGB_ALPHA};
    static const long fail_at[] = {0, 8, 33, 40, 9000, 20000};
    struct cfp_png_opts o;
    struct membuf in, a, b;
    struct cfp_status st;
    uint32_t rng = 5;
    int nomem = 0;

    cfp_png_opts_init(&o);
    o.max_side = 4096; /* not resized: the pixels are the input's */
    for (size_t t = 0; t < sizeof(cts) / sizeof(cts[0]); t++)
        for (int k = 0; k < 6; k++) {
            uint32_t w = 150 + 40 * (uint32_t)k, h = 90;
            int ch = samples_of(cts[t]);
            unsigned char *px = malloc((size_t)w * h * (size_t)ch), *p = px, v = 0;
            unsigned run = 0;

            ASSERT(px != NULL);
            for (size_t i = 0; i < (size_t)w * h * (size_t)ch; i++)
                *p++ = zstream_byte(k, i, &rng, &run, &v);
            libpng_encode(px, w, h, cts[t], &in);
            process_ok(&in, o.max_side, &a, NULL);
            o.libpng_only = true;
            membuf_init(&b);
            cfp_status_clear(&st);
            ASSERT_EQ(cfp_png_process(in.p, in.len, &o, mem_write, &b, NULL, &st), CFP_ERR_OK);
            o.libpng_only = false;
            if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0 || a.len != in.len ||
                memcmp(a.p, in.p, in.len) != 0)
                CFP_FAILF("own writer, type %d data %d: %zu bytes, libpng %zu, input %zu", cts[t],
                          k, a.len, b.len, in.len);
            membuf_free(&a);
            membuf_free(&b);
            membuf_free(&in);
            free(px);
        }
    /* failures: a 200x100 RGB photo-like image, re-encoded by cfp's writer */
    {
        struct gen g;

        gen_make(&g, 200, 100, PNG_COLOR_TYPE_RGB, 8, false, false, &in);
        process_ok(&in, o.max_side, &b, NULL);
        for (size_t i = 0; i <= sizeof(fail_at) / sizeof(fail_at[0]); i++) {
            membuf_init(&a); /* the last case fails IEND */
            a.fail_at = i < sizeof(fail_at) / sizeof(fail_at[0]) ? fail_at[i] : (long)b.len - 1;
            cfp_status_clear(&st);
            ASSERT_EQ(cfp_png_process(in.p, in.len, &o, mem_write, &a, NULL, &st), CFP_ERR_IO);
            ASSERT_CONTAINS(st.msg, "PNG encode: writing output");
            ASSERT((long)a.len <= a.fail_at);
            membuf_free(&a);
        }
        membuf_free(&b);
        alloc_fail_all(&in, &o, &nomem);
        membuf_free(&in);
        gen_free(&g);
    }
    { /* rows of 100 KB of noise (stored blocks): a failing write stops the
       * rest of a row, whose blocks must not pile up meanwhile */
        unsigned char *px = malloc((size_t)25000 * 3 * 4);

        ASSERT(px != NULL);
        for (size_t i = 0; i < (size_t)25000 * 3 * 4; i++)
            px[i] = (unsigned char)rng_next(&rng);
        libpng_encode(px, 25000, 3, PNG_COLOR_TYPE_RGB_ALPHA, &in);
        o.max_side = 25000;
        membuf_init(&a);
        a.fail_at = 40;
        cfp_status_clear(&st);
        ASSERT_EQ(cfp_png_process(in.p, in.len, &o, mem_write, &a, NULL, &st), CFP_ERR_IO);
        ASSERT_CONTAINS(st.msg, "PNG encode: writing output");
        membuf_free(&a);
        membuf_free(&in);
        free(px);
    }
    printf("own writer: libpng's bytes; write and allocation failures (%d NOMEM) handled\n", nomem);
}

/* The resizer's 8-float (AVX) passes give the 4-float code's bytes: with
 * and without a box, every channel count, alpha. */
static void test_resize_avx(void)
{
    static const struct {
        uint32_t w, h, max;
        int ct;
    } t[] = {
        {700, 460, 256, PNG_COLOR_TYPE_RGB},        /* box 1, ~14-tap kernel */
        {900, 300, 200, PNG_COLOR_TYPE_RGB_ALPHA},  /* box 3 */
        {333, 517, 100, PNG_COLOR_TYPE_GRAY_ALPHA}, /* box 2 and 3 */
        {640, 480, 300, PNG_COLOR_TYPE_GRAY},       {1000, 3, 333, PNG_COLOR_TYPE_RGB},
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct gen g;
        struct membuf in, a, b;

        gen_make(&g, t[i].w, t[i].h, t[i].ct, 8, false, false, &in);
        ASSERT_EQ(setenv("CFP_TEST_NO_AVX", "1", 1), 0);
        process_ok(&in, t[i].max, &a, NULL);
        ASSERT_EQ(unsetenv("CFP_TEST_NO_AVX"), 0);
        process_ok(&in, t[i].max, &b, NULL);
        if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
            CFP_FAILF("%ux%u type %d -> %u: AVX and 4-float resizers differ", t[i].w, t[i].h,
                      t[i].ct, t[i].max);
        membuf_free(&a);
        membuf_free(&b);
        membuf_free(&in);
        gen_free(&g);
    }
}

/* Output sizes through the whole pipeline, and determinism. */
static void test_sizes(void)
{
    static const struct {
        uint32_t w, h, max, ow, oh;
        int ct;
    } t[] = {
        {1000, 1, 512, 512, 1, PNG_COLOR_TYPE_RGB_ALPHA},
        {1, 1000, 512, 1, 512, PNG_COLOR_TYPE_RGB_ALPHA},
        {100, 50, 512, 100, 50, PNG_COLOR_TYPE_RGB_ALPHA},
        {600, 200, 512, 512, 171, PNG_COLOR_TYPE_RGB_ALPHA},
        {1, 1, 512, 1, 1, PNG_COLOR_TYPE_RGB_ALPHA},
        {300, 700, 64, 27, 64, PNG_COLOR_TYPE_RGB_ALPHA},
        {1600, 2400, 512, 341, 512, PNG_COLOR_TYPE_GRAY}, /* gray: cheap under valgrind */
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct gen g;
        struct membuf in, out, again;
        struct cfp_png_info info;

        gen_make(&g, t[i].w, t[i].h, t[i].ct, 8, i % 2 == 1, false, &in);
        process_ok(&in, t[i].max, &out, &info);
        ASSERT_EQ(info.width_in, t[i].w);
        ASSERT_EQ(info.height_in, t[i].h);
        ASSERT_EQ(info.width_out, t[i].ow);
        ASSERT_EQ(info.height_out, t[i].oh);
        free(check_output(&out, t[i].ow, t[i].oh, t[i].ct));
        process_ok(&in, t[i].max, &again, NULL);
        ASSERT_EQ(again.len, out.len);
        ASSERT(memcmp(again.p, out.p, out.len) == 0);
        membuf_free(&again);
        membuf_free(&out);
        membuf_free(&in);
        gen_free(&g);
    }
}

/* The benchmark case: 2400x1600 RGB photo with default options (o NULL). */
static void test_large_photo(void)
{
    struct gen g;
    struct membuf in, out;
    struct cfp_png_info info;
    struct cfp_status st;
    double t0, ms;

    gen_make(&g, 2400, 1600, PNG_COLOR_TYPE_RGB, 8, false, false, &in);
    membuf_init(&out);
    cfp_status_clear(&st);
    t0 = now_ms();
    ASSERT_EQ(cfp_png_process(in.p, in.len, NULL, mem_write, &out, &info, &st), CFP_ERR_OK);
    ms = now_ms() - t0;
    printf("2400x1600 RGB (%zu bytes) -> %dx%d (%zu bytes) in %.1f ms\n", in.len, info.width_out,
           info.height_out, out.len, ms);
    ASSERT_EQ(info.width_out, 512);
    ASSERT_EQ(info.height_out, 341);
    free(check_output(&out, 512, 341, PNG_COLOR_TYPE_RGB));
    /* Printed, not asserted: speed is measured by jobs/bench_*.sh, never by
     * a test (valgrind and sanitizers run this same test). */
    membuf_free(&out);
    membuf_free(&in);
    gen_free(&g);
}

/* Expects an error whose code is want and whose message contains needle. */
static void expect_fail(const unsigned char *buf, size_t len, const struct cfp_png_opts *o,
                        cfp_err want, const char *needle)
{
    struct membuf out;
    struct cfp_status st;
    cfp_err err;

    membuf_init(&out);
    cfp_status_clear(&st);
    err = cfp_png_process(buf, len, o, mem_write, &out, NULL, &st);
    if (err != want)
        CFP_FAILF("want %s, got %s: %s", cfp_errname(want), cfp_errname(err), st.msg);
    ASSERT_EQ(st.code, want);
    ASSERT_CONTAINS(st.msg, needle);
    membuf_free(&out);
}

/* A PNG whose IHDR (with a valid CRC) claims w x h, then one empty IDAT. */
static size_t fake_header(unsigned char *b, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[17] = {'I',
                              'H',
                              'D',
                              'R',
                              (unsigned char)(w >> 24),
                              (unsigned char)(w >> 16),
                              (unsigned char)(w >> 8),
                              (unsigned char)w,
                              (unsigned char)(h >> 24),
                              (unsigned char)(h >> 16),
                              (unsigned char)(h >> 8),
                              (unsigned char)h,
                              8,
                              2,
                              0,
                              0,
                              0};
    uLong crc = crc32(0, ihdr, sizeof(ihdr));

    memcpy(b, sig, 8);
    memcpy(b + 8, (unsigned char[4]){0, 0, 0, 13}, 4);
    memcpy(b + 12, ihdr, 17);
    memcpy(b + 29,
           (unsigned char[4]){(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                              (unsigned char)(crc >> 8), (unsigned char)crc},
           4);
    memcpy(b + 33, "\0\0\0\0IDAT\x35\xaf\x06\x1e", 12); /* CRC of "IDAT" */
    return 45;
}

static void test_too_big(void)
{
    unsigned char b[64];
    size_t n = fake_header(b, 70000, 70000);
    struct cfp_png_info info;
    struct cfp_status st;
    struct cfp_png_opts o;
    struct membuf out;
    double t0 = now_ms();

    membuf_init(&out);
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_png_process(b, n, NULL, mem_write, &out, &info, &st), CFP_ERR_TOO_BIG);
    ASSERT_STREQ(st.msg, "PNG: 70000x70000 = 4900000000 pixels over --max-pixels 4294967296");
    ASSERT_EQ(info.width_in, 70000);
    ASSERT_EQ(info.height_in, 70000);
    ASSERT_EQ(info.width_out, -1);
    ASSERT_EQ(out.len, 0);
    /* Refused from the header alone: no 14.7 GB buffer (ASan would abort on
     * it) and no time spent. The streaming decoder refuses it alike. */
    ASSERT(now_ms() - t0 < 200);
    cfp_png_opts_init(&o);
    cfp_status_clear(&st);
    ASSERT_EQ(stream_run(b, n, &o, 7, &out, &st), CFP_ERR_TOO_BIG);
    ASSERT_STREQ(st.msg, "PNG: 70000x70000 = 4900000000 pixels over --max-pixels 4294967296");
    ASSERT_EQ(out.len, 0);
    /* The limit is inclusive: 100x100 passes at 10000, fails at 9999 (it
     * then fails at the empty IDAT, proving it got past the check). */
    cfp_png_opts_init(&o);
    n = fake_header(b, 100, 100);
    o.max_pixels = 9999;
    expect_fail(b, n, &o, CFP_ERR_TOO_BIG, "100x100 = 10000 pixels over --max-pixels 9999");
    o.max_pixels = 10000;
    expect_fail(b, n, &o, CFP_ERR_PNG_DECODE, "PNG decode: ");
    /* The format's largest size must not overflow anything either. */
    n = fake_header(b, 0x7fffffff, 0x7fffffff);
    expect_fail(b, n, NULL, CFP_ERR_TOO_BIG, "2147483647x2147483647 = 4611686014132420609");
    o.max_side = 0;
    expect_fail(b, n, &o, CFP_ERR_USAGE, "max_side 0");
}

/* Recomputes the CRC of the last IDAT chunk of the PNG in b, so that a
 * change inside its data goes unnoticed by the CRC. */
static void reseal_last_idat(unsigned char *b, size_t len)
{
    size_t last = 0;
    uLong crc;
    uint32_t n;

    for (size_t off = 8; off + 12 <= len && be32(b + off) <= len - off - 12;
         off += 12 + (size_t)be32(b + off))
        if (memcmp(b + off + 4, "IDAT", 4) == 0)
            last = off;
    ASSERT(last != 0);
    n = be32(b + last);
    crc = crc32(0, b + last + 4, 4 + n);
    memcpy(b + last + 8 + n,
           (unsigned char[4]){(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                              (unsigned char)(crc >> 8), (unsigned char)crc},
           4);
}

static void test_bad_input(void)
{
    struct gen g;
    struct membuf in, out1, out2;
    unsigned char *b;

    expect_fail(NULL, 0, NULL, CFP_ERR_PNG_DECODE, "PNG decode: empty input");
    expect_fail((const unsigned char *)"", 0, NULL, CFP_ERR_PNG_DECODE, "empty input");
    expect_fail((const unsigned char *)"GIF89a..", 8, NULL, CFP_ERR_PNG_DECODE, "not a PNG");
    gen_make(&g, 20, 20, PNG_COLOR_TYPE_RGB, 8, true, false, &in);
    /* Every strict prefix is truncated, wherever the cut falls. */
    for (size_t n = 0; n < in.len; n++)
        expect_fail(in.p, n, NULL, CFP_ERR_PNG_DECODE, "PNG decode: ");
    expect_fail(in.p, in.len - 20, NULL, CFP_ERR_PNG_DECODE,
                "PNG decode: truncated input: IDAT needs");
    b = malloc(in.len);
    ASSERT(b != NULL);
    memcpy(b, in.p, in.len);
    b[20] ^= 1; /* height byte inside IHDR: its CRC no longer matches */
    expect_fail(b, in.len, NULL, CFP_ERR_PNG_DECODE, "PNG decode: IHDR: CRC error");
    memcpy(b, in.p, in.len);
    b[in.len - 14] ^= 0x40; /* the last IDAT's CRC (IEND is the last 12 bytes) */
    expect_fail(b, in.len, NULL, CFP_ERR_PNG_DECODE, "PNG decode: IDAT: CRC error");
    memcpy(b, in.p, in.len);
    b[in.len - 20] ^= 0x40; /* zlib's Adler-32 at the end of the IDAT data */
    expect_fail(b, in.len, NULL, CFP_ERR_PNG_DECODE, "PNG decode: IDAT: CRC error");
    /* The same bad Adler-32 under a recomputed CRC: the CRC is the check
     * cfp relies on and the Adler-32 is not computed (doc/png.md), so the
     * image decodes to the same pixels as the intact file. */
    reseal_last_idat(b, in.len);
    process_ok(&in, 512, &out1, NULL);
    process_ok(&(struct membuf){b, in.len, in.len, -1}, 512, &out2, NULL);
    ASSERT_EQ(out1.len, out2.len);
    ASSERT(memcmp(out1.p, out2.p, out1.len) == 0);
    membuf_free(&out1);
    membuf_free(&out2);
    free(b);
    membuf_free(&in);
    gen_free(&g);
}

/* Random bytes after the signature, and random bit flips of a valid PNG:
 * any result is fine as long as nothing crashes or leaks (ASan, valgrind)
 * and failures carry a message. */
static void test_garbage(void)
{
    unsigned char b[600];
    uint32_t rng = 12345;
    struct gen g;
    struct membuf in, out;
    struct cfp_status st;
    int ok = 0;

    for (int i = 0; i < 300; i++) {
        size_t n = 8 + rng_next(&rng) % (sizeof(b) - 8);

        fake_header(b, 1, 1);
        for (size_t k = (i % 2 ? 33 : 8); k < n; k++)
            b[k] = (unsigned char)rng_next(&rng);
        expect_fail(b, n, NULL, CFP_ERR_PNG_DECODE, "PNG decode: ");
    }
    gen_make(&g, 24, 17, PNG_COLOR_TYPE_PALETTE, 4, true, true, &in);
    for (int i = 0; i < 400; i++) {
        unsigned char *c = malloc(in.len);

        ASSERT(c != NULL);
        memcpy(c, in.p, in.len);
        for (int k = 0; k < 1 + i % 3; k++)
            c[8 + rng_next(&rng) % (in.len - 8)] ^= (unsigned char)(1u << (rng_next(&rng) % 8));
        membuf_init(&out);
        cfp_status_clear(&st);
        if (cfp_png_process(c, in.len, NULL, mem_write, &out, NULL, &st) == CFP_ERR_OK)
            ok++;
        else
            ASSERT(st.msg[0] != '\0');
        membuf_free(&out);
        free(c);
    }
    printf("bit flips: %d of 400 still decoded\n", ok);
    membuf_free(&in);
    gen_free(&g);
}

/* The fast path (cfp_pngfast.h) takes exactly the common kind of PNG, and
 * gives libpng's pixels, verdicts and messages on it and on its damaged
 * forms (the damage inside a resealed IDAT reaches libdeflate). */
static void test_fast_path(void)
{
    static const struct {
        uint32_t w, h;
        int ct, depth;
        bool interlace, trns, taken;
    } t[] = {
        {1, 1, PNG_COLOR_TYPE_RGB, 8, false, false, true},
        {333, 250, PNG_COLOR_TYPE_RGB, 8, false, false, true},
        {40, 700, PNG_COLOR_TYPE_RGBA, 8, false, false, true},
        {300, 7, PNG_COLOR_TYPE_GRAY, 8, false, false, true},
        {97, 61, PNG_COLOR_TYPE_GRAY_ALPHA, 8, false, false, true},
        {20, 10, PNG_COLOR_TYPE_RGB, 8, false, false, true}, /* not resized */
        {333, 250, PNG_COLOR_TYPE_RGB, 8, true, false, false},
        {333, 250, PNG_COLOR_TYPE_RGB, 16, false, false, false},
        {333, 250, PNG_COLOR_TYPE_RGB, 8, false, true, false},
        {333, 250, PNG_COLOR_TYPE_PALETTE, 8, false, false, false},
        {333, 250, PNG_COLOR_TYPE_GRAY, 4, false, false, false},
    };
    uint32_t rng = 777;
    int decoded = 0;

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct gen g;
        struct membuf in;

        gen_make(&g, t[i].w, t[i].h, t[i].ct, t[i].depth, t[i].interlace, t[i].trns, &in);
        ASSERT_EQ(fast_takes(in.p, in.len), t[i].taken);
        ASSERT_EQ(same_verdict(in.p, in.len, 64), CFP_ERR_OK);
        if (t[i].taken) {
            /* truncated anywhere: libpng's verdict */
            for (size_t n = 8; n < in.len; n += 1 + in.len / 37)
                (void)same_verdict(in.p, n, 64);
        }
        membuf_free(&in);
        gen_free(&g);
    }
    { /* bit flips inside the last IDAT, its CRC made right again */
        struct gen g;
        struct membuf in;

        gen_make(&g, 120, 90, PNG_COLOR_TYPE_RGB, 8, false, false, &in);
        stream_lenient = true;
        for (int i = 0; i < 300; i++) {
            unsigned char *c = malloc(in.len);
            size_t at = in.len - 12 - 1 - rng_next(&rng) % 200;

            ASSERT(c != NULL);
            memcpy(c, in.p, in.len);
            c[at] ^= (unsigned char)(1u << (rng_next(&rng) % 8));
            reseal_last_idat(c, in.len);
            decoded += same_verdict(c, in.len, 64) == CFP_ERR_OK;
            free(c);
        }
        membuf_free(&in);
        gen_free(&g);
    }
    stream_lenient = false;
    printf("fast path: same verdicts as libpng; %d of 300 resealed IDAT flips decoded; the "
           "streaming decoder's verdict differed on %d of the 1200 runs (same output where both "
           "decoded)\n",
           decoded, stream_verdicts_differ);
}

/* The n-th allocation fails, for every n until the call succeeds: each
 * run must be OK or NOMEM (cleanups checked by ASan/valgrind). */
static void alloc_fail_all(const struct membuf *in, const struct cfp_png_opts *o, int *nomem);

static void test_alloc_failure(void)
{
    struct gen g;
    struct membuf in;
    struct cfp_png_opts o;
    int nomem = 0;

    cfp_png_opts_init(&o);
    o.max_side = 16;
    gen_make(&g, 40, 30, PNG_COLOR_TYPE_PALETTE, 8, true, true, &in);
    alloc_fail_all(&in, &o, &nomem);
    membuf_free(&in);
    gen_free(&g);
    /* the fast path's allocations (RGB, not interlaced) */
    gen_make(&g, 40, 30, PNG_COLOR_TYPE_RGB, 8, false, false, &in);
    ASSERT(fast_takes(in.p, in.len));
    alloc_fail_all(&in, &o, &nomem);
    printf("allocation failure: %d failing allocations all gave NOMEM\n", nomem);
    ASSERT(nomem >= 12);
    membuf_free(&in);
    gen_free(&g);
}

/* Fails the n-th allocation of cfp_png_process(in), for n = 1, 2, ... until
 * it succeeds; counts the NOMEM runs into *nomem. */
static void alloc_fail_all(const struct membuf *in, const struct cfp_png_opts *o, int *nomem)
{
    struct membuf out;
    struct cfp_status st;
    cfp_err err = CFP_ERR_NOMEM;

    for (long n = 1; err != CFP_ERR_OK; n++) {
        ASSERT(n < 10000);
        membuf_init(&out);
        cfp_status_clear(&st);
        cfp_scratch_drain(); /* every buffer is allocated again, so can fail */
        cfp_mem_fail_after(n);
        err = cfp_png_process(in->p, in->len, o, mem_write, &out, NULL, &st);
        cfp_mem_fail_after(0);
        if (err == CFP_ERR_NOMEM) {
            ASSERT_CONTAINS(st.msg, "out of memory");
            (*nomem)++;
        } else if (err != CFP_ERR_OK) {
            CFP_FAILF("allocation %ld failing gave %s: %s", n, cfp_errname(err), st.msg);
        }
        membuf_free(&out);
    }
}

/* The sink's error comes back unchanged and stops the encoder. */
static void test_write_failure(void)
{
    static const long fail_at[] = {0, 8, 40, 300};
    struct gen g;
    struct membuf in, out;
    struct cfp_status st;
    struct cfp_png_opts o;

    cfp_png_opts_init(&o);
    o.max_side = 50;
    gen_make(&g, 120, 80, PNG_COLOR_TYPE_RGB, 8, false, false, &in);
    for (size_t i = 0; i < sizeof(fail_at) / sizeof(fail_at[0]); i++) {
        membuf_init(&out);
        out.fail_at = fail_at[i];
        cfp_status_clear(&st);
        ASSERT_EQ(cfp_png_process(in.p, in.len, &o, mem_write, &out, NULL, &st), CFP_ERR_IO);
        ASSERT_CONTAINS(st.msg, "PNG encode: writing output");
        ASSERT((long)out.len <= fail_at[i]);
        membuf_free(&out);
    }
    membuf_free(&in);
    gen_free(&g);
}

/* ------------------------------------------------------ shared test data */

/* Runs every PNG of dir; returns how many files there were (-1: no dir).
 * mode 'v': must succeed with the expected type and size; 'x': must fail;
 * 'a': anything goes (printed); "x*" files of a 'v' dir must fail. */
static int run_dir(const char *dir, int mode, uint32_t max_side)
{
    struct dirent **names;
    int count = 0, n = scandir(dir, &names, NULL, alphasort);

    if (n < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const struct dirent *e = names[i];
        char path[1024];
        size_t len, nl = strlen(e->d_name);
        unsigned char *buf;
        struct membuf out;
        struct cfp_png_info info;
        struct cfp_png_opts o;
        struct cfp_status st;
        cfp_err err;
        int m = mode == 'v' && e->d_name[0] == 'x' ? 'x' : mode;

        if (nl < 4 || strcmp(e->d_name + nl - 4, ".png") != 0) {
            free(names[i]);
            continue;
        }
        ASSERT(snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path));
        buf = read_file(path, &len);
        ASSERT(buf != NULL);
        cfp_png_opts_init(&o);
        o.max_side = max_side;
        membuf_init(&out);
        cfp_status_clear(&st);
        err = cfp_png_process(buf, len, &o, mem_write, &out, &info, &st);
        printf("  %-34s %s %s%s\n", e->d_name, cfp_errname(err), err ? st.msg : "",
               fast_takes(buf, len) ? " (fast path)" : "");
        ASSERT_EQ(same_verdict(buf, len, max_side), err);
        if (m == 'x' && err == CFP_ERR_OK)
            CFP_FAILF("%s: corrupt file was accepted", path);
        if (m == 'v') {
            if (err)
                CFP_FAILF("%s: %s", path, st.msg);
            free(check_output(&out, (uint32_t)info.width_out, (uint32_t)info.height_out,
                              expected_out_type(buf, len)));
            ASSERT(info.width_out <= (int32_t)max_side && info.height_out <= (int32_t)max_side);
        }
        membuf_free(&out);
        free(buf);
        free(names[i]);
        count++;
    }
    free(names);
    return count;
}

static void test_shared_data(void)
{
    const char *root = getenv("CFP_SHARED_DATA");
    static const struct {
        const char *sub;
        int mode;
        uint32_t max_side;
    } dirs[] = {{"pngsuite", 'v', 20},
                {"libpng-testpngs/valid", 'v', 20},
                {"libpng-testpngs/crashers", 'a', 20},
                {"libpng-testpngs/badpal", 'a', 20}};

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char path[1024];
        int n;

        if (!root || !*root) {
            cfp_skip_part("test_png", "shared data (PngSuite, libpng test images)",
                          "CFP_SHARED_DATA is not set");
            return;
        }
        ASSERT(snprintf(path, sizeof(path), "%s/%s", root, dirs[i].sub) < (int)sizeof(path));
        printf("%s:\n", path);
        n = run_dir(path, dirs[i].mode, dirs[i].max_side);
        if (n < 0)
            cfp_skip_part("test_png", path, "directory absent");
        else
            ASSERT(n > 0);
    }
}

/* ------------------------------------------------------------ CLI modes */

/* A whole decimal number in [1, max], or 0 when arg is not one. */
static uint64_t parse_count(const char *arg, uint64_t max)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > max)
        return 0;
    return v;
}

static int cli_resize(int argc, char **argv)
{
    struct cfp_png_opts o;
    struct cfp_png_info info;
    struct cfp_status st;
    struct membuf out;
    unsigned char *buf;
    size_t len;
    FILE *f;
    cfp_err err;

    cfp_png_opts_init(&o);
    if (argc < 5 || argc > 6)
        return 2;
    o.max_side = (uint32_t)parse_count(argv[4], UINT32_MAX);
    if (argc > 5)
        o.max_pixels = parse_count(argv[5], UINT64_MAX);
    if (!o.max_side || !o.max_pixels)
        return 2;
    buf = read_file(argv[2], &len);
    if (!buf)
        return 2;
    membuf_init(&out);
    cfp_status_clear(&st);
    err = cfp_png_process(buf, len, &o, mem_write, &out, &info, &st);
    free(buf);
    if (err) {
        printf("error %s: %s\n", cfp_errname(err), st.msg);
        membuf_free(&out);
        return 1;
    }
    f = fopen(argv[3], "wb");
    ASSERT(f && fwrite(out.p, 1, out.len, f) == out.len && fclose(f) == 0);
    printf("ok %d %d %d %d\n", info.width_in, info.height_in, info.width_out, info.height_out);
    membuf_free(&out);
    return 0;
}

/* test_png same FILE...: each file gives the same result with and without
 * the fast path (same_verdict); prints which path each took. */
static int cli_same(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        size_t len;
        unsigned char *buf = read_file(argv[i], &len);
        cfp_err err;

        if (!buf)
            return 2;
        err = same_verdict(buf, len, getenv("SIDE") ? (uint32_t)atoi(getenv("SIDE")) : CFP_PNG_MAX_SIDE_DEFAULT);
        printf("%s %s%s\n", argv[i], cfp_errname(err), fast_takes(buf, len) ? " fast" : "");
        free(buf);
    }
    return 0;
}

static int cli_bench(int argc, char **argv)
{
    long repeat = argc > 3 ? (long)parse_count(argv[3], 1000000) : 10;
    struct cfp_png_opts o;
    size_t len;
    unsigned char *buf;
    double best = 1e30;

    if (repeat < 1)
        return 2;
    cfp_png_opts_init(&o);
    o.libpng_only = argc > 4 && strcmp(argv[4], "libpng") == 0;
    buf = read_file(argv[2], &len);
    if (!buf)
        return 2;
    for (long i = 0; i < repeat; i++) {
        struct membuf out;
        double t0 = now_ms(), t;

        membuf_init(&out);
        ASSERT_EQ(cfp_png_process(buf, len, &o, mem_write, &out, NULL, NULL), CFP_ERR_OK);
        t = now_ms() - t0;
        best = t < best ? t : best;
        membuf_free(&out);
    }
    printf("best of %ld: %.2f ms\n", repeat, best);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress visible before a failure */
    if (argc > 2 && strcmp(argv[1], "resize") == 0)
        return cli_resize(argc, argv);
    if (argc > 2 && strcmp(argv[1], "bench") == 0)
        return cli_bench(argc, argv);
    if (argc > 2 && strcmp(argv[1], "same") == 0)
        return cli_same(argc, argv);
    test_sniff();
    test_fit();
    test_resize_hand();
    test_resize_flat();
    test_colour_types();
    test_sizes();
    test_filter_choice();
    test_zrle();
    test_own_writer();
    test_resize_avx();
    test_too_big();
    test_bad_input();
    test_garbage();
    test_fast_path();
    test_alloc_failure();
    test_write_failure();
    test_large_photo();
    test_shared_data();
    printf("test_png: all passed\n");
    return 0;
}
