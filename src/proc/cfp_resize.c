/* cfp_resize.c - box pre-shrink + Lanczos-3 resampler (see cfp_resize.h for
 * the contract).
 *
 * Layout of the work, chosen for cache behaviour on the hot path (a large
 * photo shrunk to ~512 px):
 *  - each source row is converted once to float (premultiplied when it has
 *    alpha) as it arrives, box-averaged when the factor is 3 or more, and
 *    filtered horizontally into a ring of intermediate rows;
 *  - the ring holds just the rows the vertical kernel of the pending output
 *    row needs (at most ksize), so it stays in cache instead of materialising
 *    a height x out_width float image, and the caller never needs the whole
 *    source image in memory;
 *  - both passes work on 4 floats at a time (one pixel, or four taps for
 *    gray) with several independent sums, so they are neither scalar nor
 *    latency-bound.
 * Weights are computed once per axis, in double as Pillow does, and stored
 * as float. */
#include "proc/cfp_resize.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/cfp_mem.h"

/* x86-64 machines with AVX run the two filter passes 8 floats at a time
 * (chosen at run time: the build targets baseline x86-64). Each lane does
 * the same multiplies and adds in the same order as the 4-float code, so
 * the output is the same bytes; no FMA, which would round differently. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <pthread.h>
#define CFP_RESIZE_AVX 1
#endif

#define LANCZOS_SUPPORT 3.0

/* The box pre-shrink: an axis shrunk by a factor f >= 3 is first averaged
 * over blocks of b = floor(f / 1.5) samples, so the Lanczos stage sees f / b
 * in [1.5, 2.25). The horizontal Lanczos pass costs about 6 multiply-adds
 * per sample of every row it filters, the box about one add per source
 * sample, and a b x b box leaves it b^2 times fewer samples. 1.5 is the
 * quality trade: a box is a poor low-pass filter and aliases more the closer
 * its block comes to the output pixel. On the benchmark photos (3-4.7x) the
 * two stages stay within 53-58 dB PSNR of pure Lanczos; a gap of 1 falls to
 * 47-53 dB, while 2 (libvips' and Pillow's thumbnail default) boxes only
 * the images shrunk 4x or more and was 8% slower on the benchmark.
 * doc/png.md has the figures. */
#define BOX_GAP_NUM 3u
#define BOX_GAP_DEN 2u

/* Source pixels converted to float per step: 16 kB of RGBA, in L1. */
#define CONV_PX 1024u

/* Four floats processed as one SSE/NEON register. GNU C vector extensions
 * (GCC, Clang) give SIMD at -O2 without intrinsics or -O3 auto-vectorising;
 * loads and stores go through memcpy so no alignment is assumed. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f ld4(const float *p)
{
    v4f v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void st4(float *p, v4f v)
{
    memcpy(p, &v, sizeof(v));
}

/* The kernel of one axis: output i reads count[i] source samples starting at
 * start[i], with weights w[i * ksize ...]. ksize is a multiple of 4 and the
 * weights past count[i] are 0, so the horizontal pass can always read taps
 * in groups of four (the source row carries ksize zero pixels of padding,
 * so the AVX pass can even read all ksize taps). */
struct axis {
    uint32_t *start;
    uint32_t *count;
    float *w;
    size_t ksize;
};

/* Rows are kept as floats, "ps" floats per pixel: 1 for gray; 4 for the
 * others (gray+alpha and RGB padded), so that a pixel is one v4f.
 *
 * An axis shrunk by 3x or more is first box-averaged by the integer factor
 * bx (by) = floor(factor / 1.5), so the Lanczos stage sees a factor below 3
 * and bx * by times fewer samples (see BOX_GAP_NUM). Each source row is
 * converted to float a chunk at a time (conv, contiguous, so the loop
 * vectorises), averaged over groups of bx pixels and added into src_row;
 * after by rows src_row holds one box-stage row. Without a box (bx = by = 1)
 * the same path just converts. Every buffer is sized by the box-stage row,
 * the output or the chunk, never by the source width, which a 100000000x1
 * PNG of 100 kB could make huge. */
struct cfp_resizer {
    struct axis ax;     /* horizontal, rw -> dst.width */
    struct axis ay;     /* vertical, rh -> dst.height */
    struct cfp_img dst; /* px not owned */
    uint32_t src_w, src_h;
    uint32_t bx, by;    /* box factors, 1 = none */
    uint32_t rw, rh;    /* size after the box stage */
    uint32_t pushed;    /* source rows pushed so far */
    uint32_t gy;        /* source rows summed into src_row so far */
    uint32_t next;      /* box-stage rows filtered so far */
    uint32_t y;         /* next output row to produce */
    int ps;             /* floats per pixel */
    size_t row_len;     /* floats per filtered row, a multiple of 16 */
    float *src_row;     /* one box-stage row, premultiplied, + ax.ksize zero pixels */
    float *conv;        /* conv_px source pixels as floats, channels each, + 4 */
    uint32_t conv_px;   /* a multiple of bx */
    float k_full;       /* scale of a group's sum: 1 / bx, and 1 / 255 with alpha */
    float k_last;       /* the same for the last group, narrower when bx does not divide src_w */
    bool avx;           /* run the passes 8 floats at a time */
    float *ring_mem;    /* ay.ksize horizontally filtered rows of row_len */
    const float **taps; /* the ring rows of the current output row */
    float *acc;         /* one output row before rounding */
};

#ifdef CFP_RESIZE_AVX
/* Test hook (like CFP_TEST_STREAM_ALL, doc/testing.md): while it is set,
 * resizers created run the 4-float code even where AVX is there, so that
 * test_png can compare the two. */
#define NO_AVX_ENV "CFP_TEST_NO_AVX"

static pthread_once_t avx_once = PTHREAD_ONCE_INIT;
static bool avx_cpu;

static void avx_probe(void)
{
    avx_cpu = __builtin_cpu_supports("avx");
}
#endif

static bool use_avx(void)
{
#ifdef CFP_RESIZE_AVX
    pthread_once(&avx_once, avx_probe);
    return avx_cpu && !getenv(NO_AVX_ENV);
#else
    return false;
#endif
}

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double lanczos3(double x)
{
    if (x > -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT)
        return sinc(x) * sinc(x / LANCZOS_SUPPORT);
    return 0.0;
}

/* n * size <= SIZE_MAX, stored in *out. */
static bool mul_ok(size_t n, size_t size, size_t *out)
{
    if (size != 0 && n > SIZE_MAX / size)
        return false;
    *out = n * size;
    return true;
}

static void axis_free(struct axis *a)
{
    cfp_free(a->start);
    cfp_free(a->count);
    cfp_free(a->w);
    memset(a, 0, sizeof(*a));
}

/* Weights of output i, Pillow's precompute_coeffs: centre (i + 0.5) * scale,
 * taps [centre - support, centre + support) rounded, normalised to sum 1. */
static void axis_fill_one(struct axis *a, uint32_t i, uint32_t in, double scale, double fscale)
{
    double support = LANCZOS_SUPPORT * fscale;
    double centre = (i + 0.5) * scale;
    double lo = centre - support + 0.5, hi = centre + support + 0.5;
    uint32_t xmin = lo > 0.0 ? (uint32_t)lo : 0;
    uint32_t xmax = hi < (double)in ? (uint32_t)hi : in;
    double sum = 0.0;
    float *w = a->w + (size_t)i * a->ksize;
    uint32_t n = xmax > xmin ? xmax - xmin : 0;

    if (n > a->ksize)
        n = (uint32_t)a->ksize;
    for (uint32_t t = 0; t < n; t++) {
        double v = lanczos3((t + xmin - centre + 0.5) / fscale);

        w[t] = (float)v;
        sum += v;
    }
    for (uint32_t t = 0; t < n && sum != 0.0; t++)
        w[t] = (float)(w[t] / sum);
    a->start[i] = xmin;
    a->count[i] = n;
}

/* Builds the kernel mapping the in samples left by a box factor b of a
 * src-sample axis to out samples. Box sample k averages source samples
 * [k * b, (k + 1) * b), so the exact scale in box samples is src / (b * out)
 * (Pillow's resize with reducing_gap does the same): a partial last box
 * does not shift the geometry. Equal sizes get an exact identity (Pillow's
 * kernel there has ~1e-17 side taps; skipping them keeps an untouched axis
 * lossless and fast). */
static cfp_err axis_init(struct axis *a, uint32_t in, uint32_t out, uint32_t src, uint32_t b)
{
    double scale = (double)src / ((double)b * out), fscale = scale < 1.0 ? 1.0 : scale;
    size_t k = in == out ? 1 : (size_t)ceil(LANCZOS_SUPPORT * fscale) * 2 + 1;
    size_t nb;

    memset(a, 0, sizeof(*a));
    if (k > SIZE_MAX / 16 || !mul_ok(out, sizeof(uint32_t), &nb))
        return CFP_ERR_TOO_BIG;
    a->ksize = (k + 3) & ~(size_t)3;
    if (!mul_ok(out, a->ksize * sizeof(float), &nb) || !mul_ok(out, sizeof(uint32_t), &nb))
        return CFP_ERR_TOO_BIG;
    a->start = cfp_malloc(nb);
    a->count = cfp_malloc(nb);
    a->w = cfp_calloc(out, a->ksize * sizeof(float)); /* calloc checks the product */
    if (!a->start || !a->count || !a->w) {
        axis_free(a);
        return CFP_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < out; i++) {
        if (in == out) {
            a->start[i] = i;
            a->count[i] = 1;
            a->w[(size_t)i * a->ksize] = 1.0f;
        } else {
            axis_fill_one(a, i, in, scale, fscale);
        }
    }
    return CFP_ERR_OK;
}

void cfp_resizer_free(struct cfp_resizer **rsp)
{
    struct cfp_resizer *rs = rsp ? *rsp : NULL;

    if (!rs)
        return;
    axis_free(&rs->ax);
    axis_free(&rs->ay);
    cfp_free(rs->src_row);
    cfp_free(rs->conv);
    cfp_free(rs->ring_mem);
    cfp_free(rs->taps);
    cfp_free(rs->acc);
    cfp_free(rs);
    *rsp = NULL;
}

/* Allocates the row buffers once the kernels (and so ay.ksize) are known. */
static cfp_err alloc_rows(struct cfp_resizer *rs)
{
    size_t ps = (size_t)rs->ps, src_len, dst_len, ring_len, conv_len;

    /* A chunk of whole box groups, about CONV_PX pixels. The 4 floats of
     * padding let a v4f be read at the last pixel (whatever they hold is
     * finite, and masked off). */
    rs->conv_px = rs->bx * (CONV_PX > rs->bx ? CONV_PX / rs->bx : 1);
    /* width + ksize (< SIZE_MAX / 16, axis_init) padding pixels, and rows
     * rounded up to 16 floats, cannot overflow: width < 2^32 and ps <= 4.
     * The products are checked. */
    if (!mul_ok((size_t)rs->rw + rs->ax.ksize, ps * sizeof(float), &src_len) ||
        !mul_ok(rs->dst.width, ps, &dst_len) || dst_len > SIZE_MAX - 15 ||
        !mul_ok(rs->conv_px, (size_t)rs->dst.channels, &conv_len) || conv_len > SIZE_MAX - 4)
        return CFP_ERR_TOO_BIG;
    rs->row_len = (dst_len + 15) & ~(size_t)15;
    if (!mul_ok(rs->row_len, rs->ay.ksize * sizeof(float), &ring_len))
        return CFP_ERR_TOO_BIG;
    rs->src_row = cfp_calloc(1, src_len); /* the padding stays zero */
    rs->conv = cfp_calloc(conv_len + 4, sizeof(float));
    rs->acc = cfp_calloc(rs->row_len, sizeof(float));
    rs->ring_mem = cfp_calloc(1, ring_len);
    rs->taps = cfp_calloc(rs->ay.ksize, sizeof(*rs->taps));
    if (!rs->src_row || !rs->conv || !rs->acc || !rs->ring_mem || !rs->taps)
        return CFP_ERR_NOMEM;
    return CFP_ERR_OK;
}

/* Box factor for in -> out: floor(in / (out * 1.5)), in exact integer
 * arithmetic; 1 (no box) below 3x. */
static uint32_t box_factor(uint32_t in, uint32_t out)
{
    uint64_t f = (uint64_t)in * BOX_GAP_DEN / ((uint64_t)out * BOX_GAP_NUM);

    return f > 1 ? (uint32_t)f : 1;
}

/* 8-bit samples to float. Colour of alpha images is premultiplied, as
 * colour * alpha (and alpha as alpha * 255), so that transparent pixels do
 * not bleed their invisible colour into their neighbours; the common 1/255
 * is part of the group scale. Gray and RGB are a plain conversion, which
 * the compiler vectorises. */
static void convert(const unsigned char *restrict s, float *restrict f, size_t n_px, int ch)
{
    size_t n = n_px * (size_t)ch;

    if (ch == 1 || ch == 3) {
        for (size_t i = 0; i < n; i++)
            f[i] = (float)s[i];
        return;
    }
    for (size_t i = 0; i < n; i += (size_t)ch) {
        int a = s[i + (size_t)ch - 1];

        for (int c = 0; c < ch - 1; c++)
            f[i + (size_t)c] = (float)(s[i + (size_t)c] * a);
        f[i + (size_t)ch - 1] = (float)(a * 255);
    }
}

/* Groups of bx converted pixels (2-4 channels, ch floats apart) to one v4f
 * each, times k, stored to d[] (or added, after the first row of a box
 * row). A pixel is read as a whole v4f: the lanes past ch hold the next
 * pixel (or conv's padding) and k zeroes them. Inlined, so a constant bx
 * unrolls the inner loop. */
static inline void group4(const float *restrict f, float *restrict d, uint32_t n, uint32_t bx,
                          size_t ch, v4f k, bool add)
{
    for (uint32_t i = 0; i < n; i++, f += bx * ch, d += 4) {
        v4f v = ld4(f);

        for (uint32_t j = 1; j < bx; j++)
            v += ld4(f + j * ch);
        v *= k;
        st4(d, add ? ld4(d) + v : v);
    }
}

/* The same for gray: sums of bx floats. */
static inline void group1(const float *restrict f, float *restrict d, uint32_t n, uint32_t bx,
                          float k, bool add)
{
    for (uint32_t i = 0; i < n; i++, f += bx) {
        float v = f[0];

        for (uint32_t j = 1; j < bx; j++)
            v += f[j];
        d[i] = add ? d[i] + v * k : v * k;
    }
}

/* n groups of bx converted pixels, times k, into d. bx 1 (no box) and 2
 * get their own unrolled copies. */
static void groups(const struct cfp_resizer *rs, const float *f, float *d, uint32_t n, uint32_t bx,
                   float k, bool add)
{
    size_t ch = (size_t)rs->dst.channels;
    v4f k4 = {k, k, ch > 2 ? k : 0.0f, ch > 3 ? k : 0.0f};

    if (ch == 1)
        group1(f, d, n, bx, k, add);
    else if (bx == 1)
        group4(f, d, n, 1, ch, k4, add);
    else if (bx == 2)
        group4(f, d, n, 2, ch, k4, add);
    else
        group4(f, d, n, bx, ch, k4, add);
}

/* Box stage: source row s, averaged over groups of bx pixels (the last
 * group may be narrower), stored into src_row, or added to it after the
 * first row of a box row. */
static void box_row_add(struct cfp_resizer *rs, const unsigned char *s, bool add)
{
    size_t ch = (size_t)rs->dst.channels, ps = (size_t)rs->ps;
    uint32_t i = 0;

    /* x + np <= src_w: no uint32 overflow even for a width near 2^32. */
    for (uint32_t x = 0, np; x < rs->src_w; x += np) {
        uint32_t full, rest;

        np = rs->src_w - x < rs->conv_px ? rs->src_w - x : rs->conv_px;
        full = np / rs->bx;
        rest = np % rs->bx;
        convert(s + (size_t)x * ch, rs->conv, np, (int)ch);
        groups(rs, rs->conv, rs->src_row + i * ps, full, rs->bx, rs->k_full, add);
        i += full;
        if (rest) { /* the row's last group; conv_px is a multiple of bx */
            groups(rs, rs->conv + (size_t)full * rs->bx * ch, rs->src_row + i * ps, 1, rest,
                   rs->k_last, add);
            i++;
        }
    }
}

/* Horizontal pass, one v4f per pixel. Four accumulators (taps t, t + 1,
 * t + 2, t + 3 of each group of four) break the add dependency chain (a
 * ~31-tap kernel would otherwise be latency-bound); their sum is
 * (a0 + a1) + (a2 + a3). */
static void hpass4(const float *in, float *out, const struct axis *a, uint32_t n_out)
{
    for (uint32_t i = 0; i < n_out; i++) {
        const float *k = a->w + (size_t)i * a->ksize;
        const float *s = in + (size_t)a->start[i] * 4;
        uint32_t n = a->count[i];
        v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};

        for (uint32_t t = 0; t < n; t += 4, s += 16) {
            v4f kv = ld4(k + t);

            a0 += (v4f){kv[0], kv[0], kv[0], kv[0]} * ld4(s);
            a1 += (v4f){kv[1], kv[1], kv[1], kv[1]} * ld4(s + 4);
            a2 += (v4f){kv[2], kv[2], kv[2], kv[2]} * ld4(s + 8);
            a3 += (v4f){kv[3], kv[3], kv[3], kv[3]} * ld4(s + 12);
        }
        st4(out + 4 * (size_t)i, (a0 + a1) + (a2 + a3));
    }
}

#ifdef CFP_RESIZE_AVX
/* One output pixel of hpass4 with a0 and a1 in the halves of one 8-float
 * register, a2 and a3 in another: the same products and sums, lane by lane.
 * Four weights are loaded into both halves and spread by vpermilps (a table
 * of weights repeated 4 times was 15% slower: it no longer fits in L1).
 * The loop runs over all ksize taps, not count: the weights past count are
 * +0 and the source row has ksize pixels of zero padding, so the extra
 * products are zeros, and adding a zero never changes a sum that starts at
 * +0 (x + 0 = x, +0 + -0 = +0); a trip count that never varies is one the
 * branch predictor always gets right. */
__attribute__((target("avx"))) static inline __m128 hpass4_avx_px(const float *s, const float *k,
                                                                  size_t ksize)
{
    const __m256i lo = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    const __m256i hi = _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3);
    __m256 a01 = _mm256_setzero_ps(), a23 = _mm256_setzero_ps();

    for (size_t t = 0; t < ksize; t += 4, s += 16, k += 4) {
        __m256 kk = _mm256_broadcast_ps((const __m128 *)(const void *)k);

        a01 = _mm256_add_ps(a01, _mm256_mul_ps(_mm256_permutevar_ps(kk, lo), _mm256_loadu_ps(s)));
        a23 =
            _mm256_add_ps(a23, _mm256_mul_ps(_mm256_permutevar_ps(kk, hi), _mm256_loadu_ps(s + 8)));
    }
    return _mm_add_ps(_mm_add_ps(_mm256_castps256_ps128(a01), _mm256_extractf128_ps(a01, 1)),
                      _mm_add_ps(_mm256_castps256_ps128(a23), _mm256_extractf128_ps(a23, 1)));
}

/* hpass4, 8 floats at a time, two output pixels per step. */
__attribute__((target("avx"))) static void hpass4_avx(const float *in, float *out,
                                                      const struct axis *a, uint32_t n_out)
{
    size_t ks = a->ksize;
    uint32_t i = 0;

    for (; n_out - i >= 2; i += 2) {
        __m128 r0 = hpass4_avx_px(in + (size_t)a->start[i] * 4, a->w + (size_t)i * ks, ks);
        __m128 r1 =
            hpass4_avx_px(in + (size_t)a->start[i + 1] * 4, a->w + (size_t)(i + 1) * ks, ks);

        _mm_storeu_ps(out + 4 * (size_t)i, r0);
        _mm_storeu_ps(out + 4 * (size_t)i + 4, r1);
    }
    if (i < n_out)
        _mm_storeu_ps(out + 4 * (size_t)i,
                      hpass4_avx_px(in + (size_t)a->start[i] * 4, a->w + (size_t)i * ks, ks));
}
#endif

/* Horizontal pass for gray: a dot product over four taps at a time. */
static void hpass1(const float *in, float *out, const struct axis *a, uint32_t n_out)
{
    for (uint32_t i = 0; i < n_out; i++) {
        const float *k = a->w + (size_t)i * a->ksize;
        const float *s = in + a->start[i];
        uint32_t n = a->count[i];
        v4f acc = {0};

        for (uint32_t t = 0; t < n; t += 4)
            acc += ld4(k + t) * ld4(s + t);
        out[i] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

/* Vertical pass for one output row: acc = sum_t k[t] * rows[t], 16 floats
 * (four independent sums) per step over the row. */
static void vpass(float *acc, const float *const *rows, const float *k, uint32_t n, size_t len)
{
    for (size_t x = 0; x < len; x += 16) {
        v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};

        for (uint32_t t = 0; t < n; t++) {
            const float *r = rows[t] + x;

            a0 += k[t] * ld4(r);
            a1 += k[t] * ld4(r + 4);
            a2 += k[t] * ld4(r + 8);
            a3 += k[t] * ld4(r + 12);
        }
        st4(acc + x, a0);
        st4(acc + x + 4, a1);
        st4(acc + x + 8, a2);
        st4(acc + x + 12, a3);
    }
}

#ifdef CFP_RESIZE_AVX
/* vpass 8 floats at a time, 32 per step (16 for a last odd step): each
 * lane sums the same products in the same order. */
__attribute__((target("avx"))) static void vpass_avx(float *acc, const float *const *rows,
                                                     const float *k, uint32_t n, size_t len)
{
    size_t x = 0;

    for (; len - x >= 32; x += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;

        for (uint32_t t = 0; t < n; t++) {
            const float *r = rows[t] + x;
            __m256 kt = _mm256_set1_ps(k[t]);

            a0 = _mm256_add_ps(a0, _mm256_mul_ps(kt, _mm256_loadu_ps(r)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(kt, _mm256_loadu_ps(r + 8)));
            a2 = _mm256_add_ps(a2, _mm256_mul_ps(kt, _mm256_loadu_ps(r + 16)));
            a3 = _mm256_add_ps(a3, _mm256_mul_ps(kt, _mm256_loadu_ps(r + 24)));
        }
        _mm256_storeu_ps(acc + x, a0);
        _mm256_storeu_ps(acc + x + 8, a1);
        _mm256_storeu_ps(acc + x + 16, a2);
        _mm256_storeu_ps(acc + x + 24, a3);
    }
    if (x < len) { /* len is a multiple of 16 */
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;

        for (uint32_t t = 0; t < n; t++) {
            const float *r = rows[t] + x;
            __m256 kt = _mm256_set1_ps(k[t]);

            a0 = _mm256_add_ps(a0, _mm256_mul_ps(kt, _mm256_loadu_ps(r)));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(kt, _mm256_loadu_ps(r + 8)));
        }
        _mm256_storeu_ps(acc + x, a0);
        _mm256_storeu_ps(acc + x + 8, a1);
    }
}
#endif

/* Clamps to [0, 255] and rounds half up; NaN (cannot happen with finite
 * weights, but costs nothing) maps to 0. */
static unsigned char to_u8(float v)
{
    if (!(v > 0.0f))
        return 0;
    if (v >= 255.0f)
        return 255;
    return (unsigned char)(v + 0.5f);
}

#ifdef __SSE2__
/* to_u8 on 4 floats: max(v, 0) gives 0 for NaN and negatives (maxps
 * returns its second operand when either is NaN), min(., 255) caps, and
 * + 0.5 then truncation rounds half up as to_u8 does (255.5 truncates to
 * 255). The bytes land in the low byte of each 32-bit lane. */
static inline __m128i to_u8x4(__m128 v)
{
    v = _mm_min_ps(_mm_max_ps(v, _mm_setzero_ps()), _mm_set1_ps(255.0f));
    return _mm_cvttps_epi32(_mm_add_ps(v, _mm_set1_ps(0.5f)));
}

/* to_u8 on the 16 floats at acc, as 16 bytes in order. */
static inline __m128i to_u8x16(const float *acc)
{
    __m128i a = _mm_packs_epi32(to_u8x4(_mm_loadu_ps(acc)), to_u8x4(_mm_loadu_ps(acc + 4)));
    __m128i b = _mm_packs_epi32(to_u8x4(_mm_loadu_ps(acc + 8)), to_u8x4(_mm_loadu_ps(acc + 12)));

    return _mm_packus_epi16(a, b);
}

/* store_row for gray and RGB, 16 samples at a time; returns the pixels
 * done. An RGB pixel is written as 4 bytes (its fourth lane is 0) whose
 * last the next pixel overwrites, so the last pixel of the row is left to
 * the caller. */
static uint32_t store_row_sse2(const float *acc, unsigned char *d, uint32_t w, int ch)
{
    uint32_t x = 0;

    if (ch == 1) {
        for (; w - x >= 16; x += 16, acc += 16)
            _mm_storeu_si128((__m128i *)(void *)(d + x), to_u8x16(acc));
        return x;
    }
    for (; w - x > 4; x += 4, acc += 16, d += 12) {
        __m128i p = to_u8x16(acc);

        for (int i = 0; i < 4; i++, p = _mm_srli_si128(p, 4)) {
            uint32_t px = (uint32_t)_mm_cvtsi128_si32(p);

            memcpy(d + 3 * i, &px, 4);
        }
    }
    return x;
}
#endif

/* Float row (ps floats per pixel) to 8 bits, undoing the premultiplication
 * for alpha images: colour = filtered colour * 255 / filtered alpha. */
static void store_row(const float *acc, unsigned char *d, uint32_t w, int ch)
{
    uint32_t x = 0;

#ifdef __SSE2__
    if (ch == 1 || ch == 3) {
        x = store_row_sse2(acc, d, w, ch);
        acc += (size_t)x * (ch == 1 ? 1 : 4);
        d += (size_t)x * (size_t)ch;
    }
#endif
    if (ch == 1) {
        for (; x < w; x++)
            *d++ = to_u8(*acc++);
        return;
    }
    for (; x < w; x++, acc += 4, d += ch) {
        unsigned char a8;
        float f;

        if (ch == 3) {
            d[0] = to_u8(acc[0]);
            d[1] = to_u8(acc[1]);
            d[2] = to_u8(acc[2]);
            continue;
        }
        a8 = to_u8(acc[ch - 1]);
        f = a8 ? 255.0f / acc[ch - 1] : 0.0f; /* a8 > 0: alpha >= 0.5 */
        for (int c = 0; c < ch - 1; c++)
            d[c] = to_u8(acc[c] * f);
        d[ch - 1] = a8;
    }
}

/* Produces output row y; its source rows are all in the ring. */
static void emit_row(struct cfp_resizer *rs, uint32_t y)
{
    size_t slots = rs->ay.ksize;
    uint32_t first = rs->ay.start[y], n = rs->ay.count[y];

    for (uint32_t t = 0; t < n; t++)
        rs->taps[t] = rs->ring_mem + ((first + t) % slots) * rs->row_len;
#ifdef CFP_RESIZE_AVX
    if (rs->avx)
        vpass_avx(rs->acc, rs->taps, rs->ay.w + (size_t)y * slots, n, rs->row_len);
    else
#endif
        vpass(rs->acc, rs->taps, rs->ay.w + (size_t)y * slots, n, rs->row_len);
    store_row(rs->acc, rs->dst.px + (size_t)y * rs->dst.stride, rs->dst.width, rs->dst.channels);
}

/* Filters the box-stage row in src_row into the ring, then emits every
 * output row whose window is now complete. */
static void filter_row(struct cfp_resizer *rs)
{
    /* Row r goes to slot r % ksize. Output rows are emitted as soon as
     * their window is complete and windows only move forward, so the row
     * this overwrites (r - ksize) is before every pending window, which
     * holds at most ksize rows ending at or after r. */
    float *out = rs->ring_mem + (rs->next % rs->ay.ksize) * rs->row_len;

    if (rs->ps == 1)
        hpass1(rs->src_row, out, &rs->ax, rs->dst.width);
#ifdef CFP_RESIZE_AVX
    else if (rs->avx)
        hpass4_avx(rs->src_row, out, &rs->ax, rs->dst.width);
#endif
    else
        hpass4(rs->src_row, out, &rs->ax, rs->dst.width);
    rs->next++;
    while (rs->y < rs->dst.height && rs->ay.start[rs->y] + rs->ay.count[rs->y] <= rs->next)
        emit_row(rs, rs->y++);
}

void cfp_resizer_push(struct cfp_resizer *rs, const unsigned char *row)
{
    if (rs->pushed >= rs->src_h)
        return;
    rs->pushed++;
    box_row_add(rs, row, rs->gy > 0);
    if (++rs->gy < rs->by && rs->pushed < rs->src_h)
        return;
    if (rs->gy > 1) { /* a mean of gy rows; the last box row may have fewer than by */
        size_t n = (size_t)rs->rw * (size_t)rs->ps;
        float k = (float)(1.0 / rs->gy);

        for (size_t i = 0; i < n; i++)
            rs->src_row[i] *= k;
    }
    rs->gy = 0;
    filter_row(rs);
}

cfp_err cfp_resizer_new(uint32_t src_w, uint32_t src_h, const struct cfp_img *dst,
                        struct cfp_resizer **out)
{
    struct cfp_resizer *rs;
    double unit;
    cfp_err err;

    if (!dst || !dst->px || dst->channels < 1 || dst->channels > 4 || !src_w || !src_h ||
        !dst->width || !dst->height)
        return CFP_ERR_INTERNAL;
    rs = cfp_calloc(1, sizeof(*rs));
    if (!rs)
        return CFP_ERR_NOMEM;
    rs->dst = *dst;
    rs->src_w = src_w;
    rs->src_h = src_h;
    rs->bx = box_factor(src_w, dst->width);
    rs->by = box_factor(src_h, dst->height);
    rs->rw = src_w / rs->bx + (src_w % rs->bx != 0);
    rs->rh = src_h / rs->by + (src_h % rs->by != 0);
    rs->ps = dst->channels == 1 ? 1 : 4;
    rs->avx = use_avx();
    unit = dst->channels == 2 || dst->channels == 4 ? 255.0 : 1.0; /* see convert() */
    rs->k_full = (float)(1.0 / (unit * rs->bx));
    rs->k_last = (float)(1.0 / (unit * (src_w - (rs->rw - 1) * rs->bx)));
    err = axis_init(&rs->ax, rs->rw, dst->width, src_w, rs->bx);
    if (!err)
        err = axis_init(&rs->ay, rs->rh, dst->height, src_h, rs->by);
    if (!err)
        err = alloc_rows(rs);
    if (err) {
        cfp_resizer_free(&rs);
        return err;
    }
    *out = rs;
    return CFP_ERR_OK;
}

cfp_err cfp_resize_lanczos3(const struct cfp_img *src, const struct cfp_img *dst)
{
    struct cfp_resizer *rs;
    cfp_err err;

    if (!src || !src->px || !dst || dst->channels != src->channels)
        return CFP_ERR_INTERNAL;
    err = cfp_resizer_new(src->width, src->height, dst, &rs);
    if (err)
        return err;
    for (uint32_t y = 0; y < src->height; y++)
        cfp_resizer_push(rs, src->px + (size_t)y * src->stride);
    cfp_resizer_free(&rs);
    return CFP_ERR_OK;
}

void cfp_resize_fit(uint32_t width, uint32_t height, uint32_t max_side, uint32_t *out_w,
                    uint32_t *out_h)
{
    uint32_t longest = width > height ? width : height;
    uint64_t q, side;

    if (longest <= max_side || longest == 0) {
        *out_w = width;
        *out_h = height;
        return;
    }
    /* side * max_side < 2^64; the remainder test rounds half up without
     * floating point, so the result is exact for every size. */
    side = width == longest ? height : width;
    q = side * (uint64_t)max_side;
    side = q / longest + (2 * (q % longest) >= longest ? 1 : 0);
    if (side == 0)
        side = 1;
    if (width == longest) {
        *out_w = max_side;
        *out_h = (uint32_t)side;
    } else {
        *out_w = (uint32_t)side;
        *out_h = max_side;
    }
}
