/* cfp_png_encode.c - the 8-bit PNG encoder of the image processor: libpng
 * with its adaptive row filters chosen here, vectorised (same bytes), and
 * cfp's own writer of the same bytes (filter choice, filtering, zlib-exact
 * deflate in cfp_png_zrle.c, chunks), which the processor uses. */
#include <libdeflate.h>
#include <png.h>
#include <string.h>
#include <zlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/cfp_clock.h"
#include "base/cfp_mem.h"
#include "proc/cfp_png_internal.h"
#include "proc/cfp_pngfast.h"

/* zlib settings of the output: Z_RLE, matches of distance 1 only (the
 * level then only has to be non-zero). On 512 px photos LZ77 finds almost
 * nothing the row filters have not already removed: level 4 spent about
 * 2/3 of its time searching, Z_RLE is 3x faster and 2% smaller. It keeps
 * the runs flat areas filter into, so graphics grow only ~4% (a text page
 * 23%); level 1 was 20% larger on photos, Z_HUFFMAN_ONLY 31% larger on
 * graphics. Measurements in doc/png.md. */
#define PNG_ZLEVEL    4
#define PNG_ZSTRATEGY Z_RLE

struct encoder {
    png_structp png;
    png_infop info;
};

/* A filtered byte's cost in libpng's filter heuristic: its distance from 0
 * read as a signed byte. */
static inline uint32_t filter_cost(unsigned v)
{
    v &= 0xffu;
    return v < 128u ? v : 256u - v;
}

#ifdef __SSE2__
/* 16 bytes at a time: the costs are 8-bit values, min(v, -v), summed by
 * psadbw into 64-bit lanes. */
static inline __m128i cost16(__m128i d)
{
    return _mm_min_epu8(d, _mm_sub_epi8(_mm_setzero_si128(), d));
}

static inline __m128i absdiff16(__m128i x, __m128i y)
{
    return _mm_or_si128(_mm_subs_epu8(x, y), _mm_subs_epu8(y, x));
}

/* x <= y as a byte mask, unsigned. */
static inline __m128i le16(__m128i x, __m128i y)
{
    return _mm_cmpeq_epi8(_mm_min_epu8(x, y), x);
}

static inline __m128i select16(__m128i mask, __m128i yes, __m128i no)
{
    return _mm_or_si128(_mm_and_si128(mask, yes), _mm_andnot_si128(mask, no));
}

/* floor((a + b) / 2): pavgb rounds up. */
static inline __m128i avg16(__m128i a, __m128i b)
{
    return _mm_sub_epi8(_mm_avg_epu8(a, b), _mm_and_si128(_mm_xor_si128(a, b), _mm_set1_epi8(1)));
}

/* cfp_paeth on 16 bytes without widening: pa = |b - c| and pb = |a - c|
 * fit in 8 bits; pc = |(b - c) + (a - c)| is pa + pb when both
 * differences have the same sign, else |pa - pb|. pa + pb may pass 255:
 * saturated, it still compares as greater or equal to pa and pb, which is
 * all the predictor asks of it. */
static inline __m128i paeth16(__m128i a, __m128i b, __m128i c)
{
    __m128i pa = absdiff16(b, c), pb = absdiff16(a, c);
    __m128i b_ge = _mm_cmpeq_epi8(_mm_max_epu8(b, c), b),
            a_ge = _mm_cmpeq_epi8(_mm_max_epu8(a, c), a);
    __m128i same = _mm_cmpeq_epi8(a_ge, b_ge);
    __m128i pc = select16(same, _mm_adds_epu8(pa, pb), absdiff16(pa, pb));
    __m128i use_a = _mm_and_si128(le16(pa, pb), le16(pa, pc));

    return select16(use_a, a, select16(le16(pb, pc), b, c));
}

static inline __m128i load16(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}
#endif

/* Adds the heuristic cost of bytes [from, to) of row x under each of the
 * five filters into cost[] (none, sub, up, avg, paeth); prev is the row
 * above, and from >= bpp. One branch-free pass without libpng's early
 * exit: 16 bytes at a time with SSE2, the rest (or everything elsewhere)
 * in a loop the compiler vectorises. Blocks of at most 2^24 bytes keep
 * the 32-bit sums exact (cost <= 128 per byte). */
static void filter_costs(const unsigned char *restrict x, const unsigned char *restrict prev,
                         size_t from, size_t to, size_t bpp, uint64_t cost[5])
{
#ifdef __SSE2__
    __m128i s[5] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(),
                    _mm_setzero_si128(), _mm_setzero_si128()};
    uint64_t lanes[2];

    for (; to - from >= 16; from += 16) {
        __m128i v = load16(x + from), a = load16(x + from - bpp);
        __m128i b = load16(prev + from), c = load16(prev + from - bpp), z = _mm_setzero_si128();

        s[0] = _mm_add_epi64(s[0], _mm_sad_epu8(cost16(v), z));
        s[1] = _mm_add_epi64(s[1], _mm_sad_epu8(cost16(_mm_sub_epi8(v, a)), z));
        s[2] = _mm_add_epi64(s[2], _mm_sad_epu8(cost16(_mm_sub_epi8(v, b)), z));
        s[3] = _mm_add_epi64(s[3], _mm_sad_epu8(cost16(_mm_sub_epi8(v, avg16(a, b))), z));
        s[4] = _mm_add_epi64(s[4], _mm_sad_epu8(cost16(_mm_sub_epi8(v, paeth16(a, b, c))), z));
    }
    for (int f = 0; f < 5; f++) {
        _mm_storeu_si128((__m128i *)(void *)lanes, s[f]);
        cost[f] += lanes[0] + lanes[1];
    }
#endif
    while (from < to) {
        size_t end = to - from > ((size_t)1 << 24) ? from + ((size_t)1 << 24) : to;
        uint32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0;

        for (size_t i = from; i < end; i++) {
            int v = x[i], a = x[i - bpp], b = prev[i], c = prev[i - bpp];

            c0 += filter_cost((unsigned)v);
            c1 += filter_cost((unsigned)(v - a));
            c2 += filter_cost((unsigned)(v - b));
            c3 += filter_cost((unsigned)(v - ((a + b) >> 1)));
            c4 += filter_cost((unsigned)(v - cfp_paeth(a, b, c)));
        }
        cost[0] += c0;
        cost[1] += c1;
        cost[2] += c2;
        cost[3] += c3;
        cost[4] += c4;
        from = end;
    }
}

/* libpng's adaptive filter choice for row x (png_write_find_filter: the
 * least sum of filter_cost, the earliest filter on a tie), restricted to
 * the filters in allowed (PNG_FILTER_* flags). Returns one flag. */
static int pick_filter(const unsigned char *x, const unsigned char *prev, size_t n, size_t bpp,
                       int allowed)
{
    static const int flags[5] = {PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP, PNG_FILTER_AVG,
                                 PNG_FILTER_PAETH};
    uint64_t cost[5] = {0, 0, 0, 0, 0};
    int best = 0;

    /* The first pixel has no left neighbour: a = c = 0. */
    for (size_t i = 0; i < bpp && i < n; i++) {
        cost[0] += filter_cost(x[i]);
        cost[1] += filter_cost(x[i]);
        cost[2] += filter_cost((unsigned)(x[i] - prev[i]));
        cost[3] += filter_cost((unsigned)(x[i] - (prev[i] >> 1)));
        cost[4] += filter_cost((unsigned)(x[i] - prev[i]));
    }
    filter_costs(x, prev, bpp, n, bpp, cost);
    for (int f = 1; f < 5; f++)
        if ((allowed & flags[f]) && (!(allowed & flags[best]) || cost[f] < cost[best]))
            best = f;
    return flags[best];
}

/* Writes the rows with libpng's adaptive filters, but chooses each row's
 * filter here (pick_filter, the same choice, so the same bytes) and hands
 * libpng just that one: libpng's own heuristic tries all five filters in
 * scalar code and was over a quarter of the encoding time. Row 0 is left to
 * libpng: it must start with every filter enabled to keep the previous
 * row, and png_set_filter may change the set after the first row
 * (pngwrite.c). libpng drops Up, Avg and Paeth for 1-row images and Sub,
 * Avg and Paeth for 1-pixel-wide ones; so does allowed. */
static void write_rows(png_structp png, const struct cfp_img *img)
{
    size_t n = (size_t)img->width * (size_t)img->channels, bpp = (size_t)img->channels;
    int allowed = PNG_ALL_FILTERS;

    if (img->height == 1)
        allowed &= ~(PNG_FILTER_UP | PNG_FILTER_AVG | PNG_FILTER_PAETH);
    if (img->width == 1)
        allowed &= ~(PNG_FILTER_SUB | PNG_FILTER_AVG | PNG_FILTER_PAETH);
    for (uint32_t y = 0; y < img->height; y++) {
        const unsigned char *row = img->px + (size_t)y * img->stride;

        cfp_png_check_deadline(png, y);
        if (y > 0)
            png_set_filter(png, PNG_FILTER_TYPE_BASE,
                           pick_filter(row, row - img->stride, n, bpp, allowed));
        png_write_row(png, row);
    }
}

/* Encodes img through c->wr. See the file comment about setjmp. */
static cfp_err encode(struct png_ctx *c, const struct encoder *e, const struct cfp_img *img,
                      struct cfp_status *st)
{
    static const int types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};

    if (setjmp(png_jmpbuf(e->png)))
        return cfp_png_lib_failed(c, st, CFP_ERR_PNG_ENCODE, "PNG encode");
    png_set_write_fn(e->png, c, cfp_png_on_write, cfp_png_on_flush);
    png_set_IHDR(e->png, e->info, img->width, img->height, 8, types[img->channels - 1],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(e->png, PNG_ZLEVEL);
    png_set_compression_strategy(e->png, PNG_ZSTRATEGY);
    png_write_info(e->png, e->info);
    write_rows(e->png, img);
    png_write_end(e->png, e->info);
    return CFP_ERR_OK;
}

static cfp_err encode_libpng(struct png_ctx *c, const struct cfp_img *img, struct cfp_status *st)
{
    struct encoder e;
    cfp_err err;

    memset(&e, 0, sizeof(e));
    e.png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, c, cfp_png_on_error, cfp_png_on_warning, c, cfp_png_on_malloc,
                                      cfp_png_on_free);
    if (!e.png)
        return cfp_status_set(st, CFP_ERR_NOMEM, "PNG encode: out of memory (write struct)");
    e.info = png_create_info_struct(e.png);
    if (!e.info) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "PNG encode: out of memory (info struct)");
        goto out_destroy;
    }
    err = encode(c, &e, img, st);
out_destroy:
    png_destroy_write_struct(&e.png, &e.info);
    return err;
}

/* ------------------------------------------------------ cfp's own writer */

/* libpng shrinks zlib's window, and rewrites the stream header, for
 * images of at most this many filtered bytes (png_deflate_claim,
 * optimize_cmf); cfp's writer does neither, so it leaves them to libpng. */
#define SMALL_IMAGE 16384u

/* The writer's state: the output sink and the chunk being assembled. */
struct writer {
    struct png_ctx *c;
    unsigned char chunk[8 + CFP_ZRLE_CHUNK + 4]; /* length, type, data, CRC */
};

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes one chunk of type t whose data (n bytes) is already at
 * w->chunk + 8. */
static cfp_err put_chunk(struct writer *w, const char *t, size_t n)
{
    cfp_err err;

    put_be32(w->chunk, (uint32_t)n);
    memcpy(w->chunk + 4, t, 4);
    put_be32(w->chunk + 8 + n, (uint32_t)libdeflate_crc32(0, w->chunk + 4, n + 4));
    err = w->c->wr(w->c->wctx, w->chunk, n + 12);
    if (err && !w->c->wr_err)
        w->c->wr_err = err;
    return err;
}

/* cfp_zrle's sink: each piece of the stream is one IDAT, as libpng's
 * 8192-byte compression buffer makes them. */
static cfp_err put_idat(void *ctx, const unsigned char *p, size_t n)
{
    struct writer *w = ctx;

    memcpy(w->chunk + 8, p, n);
    return put_chunk(w, "IDAT", n);
}

/* The signature and IHDR, as png_write_info writes them for cfp. */
static cfp_err put_head(struct writer *w, const struct cfp_img *img)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                          PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    unsigned char *d = w->chunk + 8;
    cfp_err err = w->c->wr(w->c->wctx, sig, sizeof(sig));

    if (err) {
        w->c->wr_err = err;
        return err;
    }
    put_be32(d, img->width);
    put_be32(d + 4, img->height);
    d[8] = 8;
    d[9] = types[img->channels - 1];
    d[10] = d[11] = d[12] = 0; /* deflate, adaptive filters, no interlace */
    return put_chunk(w, "IHDR", 13);
}

/* Row x filtered with filter f (PNG_FILTER_VALUE_*) against prev into
 * out[0] (the filter byte) and out[1..n]. Avg and Paeth 16 bytes at a time
 * with SSE2 (the compiler's own vectorising of cfp_paeth works in 32-bit
 * lanes); the rest in loops the compiler vectorises. */
static void filter_row(const unsigned char *restrict x, const unsigned char *restrict prev,
                       size_t n, size_t bpp, int f, unsigned char *restrict out)
{
    size_t i, b = bpp < n ? bpp : n;

    out[0] = (unsigned char)f;
    out++;
    switch (f) {
    case PNG_FILTER_VALUE_SUB:
        memcpy(out, x, b);
        for (i = b; i < n; i++)
            out[i] = (unsigned char)(x[i] - x[i - bpp]);
        break;
    case PNG_FILTER_VALUE_UP:
        for (i = 0; i < n; i++)
            out[i] = (unsigned char)(x[i] - prev[i]);
        break;
    case PNG_FILTER_VALUE_AVG:
        for (i = 0; i < b; i++)
            out[i] = (unsigned char)(x[i] - (prev[i] >> 1));
#ifdef __SSE2__
        for (; n - i >= 16; i += 16)
            _mm_storeu_si128(
                (__m128i *)(void *)(out + i),
                _mm_sub_epi8(load16(x + i), avg16(load16(x + i - bpp), load16(prev + i))));
#endif
        for (; i < n; i++)
            out[i] = (unsigned char)(x[i] - ((x[i - bpp] + prev[i]) >> 1));
        break;
    case PNG_FILTER_VALUE_PAETH:
        for (i = 0; i < b; i++)
            out[i] = (unsigned char)(x[i] - prev[i]);
#ifdef __SSE2__
        for (; n - i >= 16; i += 16)
            _mm_storeu_si128(
                (__m128i *)(void *)(out + i),
                _mm_sub_epi8(load16(x + i), paeth16(load16(x + i - bpp), load16(prev + i),
                                                    load16(prev + i - bpp))));
#endif
        for (; i < n; i++)
            out[i] = (unsigned char)(x[i] - cfp_paeth(x[i - bpp], prev[i], prev[i - bpp]));
        break;
    default:
        memcpy(out, x, n);
        break;
    }
}

/* The filter value (0..4) of a PNG_FILTER_* flag. */
static int filter_value(int flag)
{
    return flag == PNG_FILTER_SUB     ? PNG_FILTER_VALUE_SUB
           : flag == PNG_FILTER_UP    ? PNG_FILTER_VALUE_UP
           : flag == PNG_FILTER_AVG   ? PNG_FILTER_VALUE_AVG
           : flag == PNG_FILTER_PAETH ? PNG_FILTER_VALUE_PAETH
                                      : PNG_FILTER_VALUE_NONE;
}

/* Filters every row (libpng's choice for each, row 0 against a row of
 * zeros as libpng's prev_row starts) and compresses it, one row per
 * cfp_zrle_feed as libpng calls deflate(); rows holds 2 * (n + 1) bytes,
 * zeroed: the filtered row, then the row of zeros. */
static cfp_err filter_and_compress(struct cfp_zrle *z, const struct cfp_img *img,
                                   unsigned char *rows, uint32_t *adler, struct cfp_status *st)
{
    size_t n = (size_t)img->width * (size_t)img->channels, bpp = (size_t)img->channels;
    unsigned char *frow = rows, *zero = rows + n + 1;
    int allowed = PNG_ALL_FILTERS;
    cfp_err err = CFP_ERR_OK;

    if (img->height == 1)
        allowed &= ~(PNG_FILTER_UP | PNG_FILTER_AVG | PNG_FILTER_PAETH);
    if (img->width == 1)
        allowed &= ~(PNG_FILTER_SUB | PNG_FILTER_AVG | PNG_FILTER_PAETH);
    for (uint32_t y = 0; !err && y < img->height; y++) {
        const unsigned char *row = img->px + (size_t)y * img->stride;
        const unsigned char *prev = y ? row - img->stride : zero;

        if ((y & 63u) == 0 && cfp_deadline_passed())
            return cfp_status_set(st, CFP_ERR_TIMEOUT, "PNG encode: over --task-timeout");
        filter_row(row, prev, n, bpp, filter_value(pick_filter(row, prev, n, bpp, allowed)), frow);
        *adler = (uint32_t)libdeflate_adler32(*adler, frow, n + 1);
        err = cfp_zrle_feed(z, frow, n + 1);
    }
    return err;
}

/* Writes img as libpng would for cfp (encode()), byte for byte, without
 * libpng: the row filters libpng's heuristic picks, zlib's exact Z_RLE
 * stream (cfp_png_zrle.c) in 8192-byte IDATs. About 5x faster than libpng +
 * zlib on 512 px photos (doc/png.md, Speed). */
static cfp_err encode_own(struct png_ctx *c, const struct cfp_img *img, struct cfp_status *st)
{
    size_t n = (size_t)img->width * (size_t)img->channels;
    struct writer *w = cfp_malloc(sizeof(*w));
    unsigned char *rows = cfp_calloc(2, n + 1);
    struct cfp_zrle *z = NULL;
    uint32_t adler = 1;
    cfp_err err;

    if (!w || !rows || cfp_zrle_new(put_idat, w, &z)) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "PNG encode: out of memory (writer)");
        goto out_free;
    }
    w->c = c;
    err = put_head(w, img);
    if (!err)
        err = filter_and_compress(z, img, rows, &adler, st);
    if (!err)
        err = cfp_zrle_finish(z, adler);
    if (!err)
        err = put_chunk(w, "IEND", 0);
    if (err && c->wr_err)
        err = cfp_status_set(st, c->wr_err, "PNG encode: writing output: %s",
                             cfp_strerror(c->wr_err));
out_free:
    cfp_zrle_free(&z);
    cfp_free(rows);
    cfp_free(w);
    return err;
}

cfp_err cfp_png_encode_image(struct png_ctx *c, const struct cfp_img *img, bool libpng_only,
                             struct cfp_status *st)
{
    size_t n = (size_t)img->width * (size_t)img->channels + 1;

    if (libpng_only || n * img->height <= SMALL_IMAGE)
        return encode_libpng(c, img, st);
    return encode_own(c, img, st);
}
