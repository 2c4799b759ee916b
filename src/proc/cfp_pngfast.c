/* cfp_pngfast.c - whole-image PNG decode with libdeflate (see the header).
 *
 * Two passes over the chunks: the first checks the layout and sums the IDAT
 * bytes, the second gathers them (one IDAT is used in place). Every check
 * that fails declines; the caller then runs libpng over the same bytes. */
#include "proc/cfp_pngfast.h"

#include <libdeflate.h>
#include <pthread.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/cfp_mem.h"
#include "base/cfp_scratch.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool is_type(const unsigned char *t, const char *name)
{
    return memcmp(t, name, 4) == 0;
}

/* The CRC of a chunk at p (length field first) whose data is n bytes. */
static bool crc_ok(const unsigned char *p, uint32_t n)
{
    return libdeflate_crc32(0, p + 4, (size_t)n + 4) == be32(p + 8 + n);
}

/* libdeflate allocates (its decompressor) through cfp's allocator, so the
 * allocation-failure tests reach it too. Set once, before any use. */
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void set_allocator(void)
{
    libdeflate_set_memory_allocator(cfp_malloc, cfp_free);
}

/* Reads IHDR (the chunk at p, length 13) into f; false unless it is of the
 * kind this path takes. */
static bool read_ihdr(const unsigned char *p, uint64_t max_pixels, struct cfp_pngfast *f)
{
    static const int channels[7] = {1, 0, 3, 0, 2, 0, 4}; /* by colour type */
    const unsigned char *d = p + 8;
    uint64_t pixels;

    if (be32(p) != 13 || !is_type(p + 4, "IHDR") || !crc_ok(p, 13))
        return false;
    f->w = be32(d);
    f->h = be32(d + 4);
    if (f->w == 0 || f->h == 0 || f->w > 0x7fffffffu || f->h > 0x7fffffffu)
        return false;
    /* bit depth 8, a known colour type, compression 0, filter 0, no interlace */
    if (d[8] != 8 || d[9] > 6 || channels[d[9]] == 0 || d[10] || d[11] || d[12])
        return false;
    pixels = (uint64_t)f->w * f->h;
    f->channels = channels[d[9]];
    f->rowbytes = (size_t)f->w * (size_t)f->channels;
    return pixels <= max_pixels &&
           pixels * (uint64_t)f->channels + f->h <= (uint64_t)CFP_PNGFAST_MAX_RAW;
}

/* First pass: checks the chunk layout after IHDR; sets the IDAT byte total,
 * the number of IDAT chunks and the first one's data. */
static bool walk(const unsigned char *buf, size_t len, size_t *total, size_t *count,
                 const unsigned char **first)
{
    size_t pos = 8 + 25;
    bool idat_done = false;

    *total = *count = 0;
    for (;;) {
        const unsigned char *p = buf + pos, *t = p + 4;
        uint32_t n;

        if (len - pos < 12)
            return false;
        n = be32(p);
        if (n > 0x7fffffffu || n > len - pos - 12)
            return false;
        for (int i = 0; i < 4; i++)
            if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
                return false;
        if (is_type(t, "IDAT")) {
            if (idat_done || !crc_ok(p, n))
                return false;
            if ((*count)++ == 0)
                *first = p + 8;
            *total += n;
        } else {
            idat_done = *count > 0;
            if (is_type(t, "IEND"))
                return n == 0 && *count > 0 && crc_ok(p, 0);
            /* PLTE and tRNS change the pixels, any other critical chunk is
             * an error: libpng's business. Ancillary chunks are skipped
             * unread, as cfp's libpng settings skip them. */
            if (t[0] < 'a' || is_type(t, "tRNS"))
                return false;
        }
        pos += 12 + (size_t)n;
    }
}

/* Second pass: copies the IDAT data, in order, into dst. */
static void gather(const unsigned char *buf, unsigned char *dst)
{
    size_t pos = 8 + 25;

    for (;;) {
        const unsigned char *p = buf + pos;
        uint32_t n = be32(p);

        if (is_type(p + 4, "IEND"))
            return;
        if (is_type(p + 4, "IDAT")) {
            memcpy(dst, p + 8, n);
            dst += n;
        }
        pos += 12 + (size_t)n;
    }
}

/* Inflates z[0..zlen) into f->raw; true when it is exactly the image.
 * The deflate data is inflated without its zlib wrapper, as
 * libdeflate_zlib_decompress_ex does it, but the Adler-32 after it is not
 * computed (4% of the inflate): libpng's path ignores it too
 * (PNG_IGNORE_ADLER32, doc/png.md), and both paths must give the same
 * verdict. The 4 bytes must still be there, and nothing after them. */
static bool inflate_all(const unsigned char *z, size_t zlen, struct cfp_pngfast *f, size_t rawlen,
                        bool *oom)
{
    struct libdeflate_decompressor *dz;
    size_t in = 0, out = 0;
    enum libdeflate_result r;

    /* CM 8, no dictionary, a valid check. libpng lets zlib hold the
     * stream to the window its header names (libpng's writer names the
     * smallest that covers a small image), libdeflate always allows 32 KiB:
     * both agree when the window is 32 KiB or covers the whole output, as
     * no distance can reach further back than the output's start. */
    if (zlen < 6 || (z[0] & 0x0f) != 8 || ((unsigned)z[0] << 8 | z[1]) % 31 != 0 || (z[1] & 0x20) ||
        z[0] >> 4 > 7 || (z[0] >> 4 < 7 && rawlen > (size_t)256 << (z[0] >> 4)))
        return false;
    dz = libdeflate_alloc_decompressor();
    if (!dz) {
        *oom = true;
        return false;
    }
    r = libdeflate_deflate_decompress_ex(dz, z + 2, zlen - 6, f->raw, rawlen, &in, &out);
    libdeflate_free_decompressor(dz);
    return r == LIBDEFLATE_SUCCESS && in == zlen - 6 && out == rawlen;
}

cfp_err cfp_pngfast_open(const unsigned char *buf, size_t len, uint64_t max_pixels,
                         struct cfp_pngfast *f, bool *taken)
{
    const unsigned char *first = NULL;
    unsigned char *joined = NULL;
    size_t total, count, rawlen;
    bool oom = false, ok;

    memset(f, 0, sizeof(*f));
    *taken = false;
    if (len < 8 + 25 + 12 || !read_ihdr(buf + 8, max_pixels, f) ||
        !walk(buf, len, &total, &count, &first))
        return CFP_ERR_OK;
    pthread_once(&alloc_once, set_allocator);
    rawlen = f->h * (f->rowbytes + 1); /* <= CFP_PNGFAST_MAX_RAW: read_ihdr */
    f->raw = cfp_scratch_take(rawlen);
    if (!f->raw)
        return CFP_ERR_NOMEM;
    if (count > 1) {
        joined = cfp_scratch_take(total);
        if (!joined) {
            cfp_pngfast_free(f);
            return CFP_ERR_NOMEM;
        }
        gather(buf, joined);
        first = joined;
    }
    ok = inflate_all(first, total, f, rawlen, &oom);
    cfp_scratch_give(joined);
    for (uint32_t y = 0; ok && y < f->h; y++)
        ok = f->raw[(size_t)y * (f->rowbytes + 1)] <= 4;
    if (!ok) {
        cfp_pngfast_free(f);
        return oom ? CFP_ERR_NOMEM : CFP_ERR_OK;
    }
    *taken = true;
    return CFP_ERR_OK;
}

#ifdef __SSE2__
/* Sub unfiltering, r[i] += r[i - bpp], is a prefix sum per channel: 16
 * bytes at a time it takes log2 shifted adds, after adding the previous
 * step's last pixel to the first. For bpp 1, 2 and 4 a step is 16 bytes of
 * whole pixels and the shifts start at one pixel; called with bpp a
 * constant, the tests on it fold away. Returns the bytes done. */
static inline size_t unsub_pow2(unsigned char *r, size_t n, size_t bpp)
{
    __m128i carry = _mm_setzero_si128(), v;
    size_t i = 0;

    for (; n - i >= 16; i += 16) {
        v = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)(r + i)), carry);
        if (bpp == 1)
            v = _mm_add_epi8(v, _mm_slli_si128(v, 1));
        if (bpp <= 2)
            v = _mm_add_epi8(v, _mm_slli_si128(v, 2));
        v = _mm_add_epi8(v, _mm_slli_si128(v, 4));
        v = _mm_add_epi8(v, _mm_slli_si128(v, 8));
        _mm_storeu_si128((__m128i *)(void *)(r + i), v);
        carry = bpp == 4 ? _mm_srli_si128(v, 12)
                : bpp == 2 ? _mm_srli_si128(v, 14)
                           : _mm_srli_si128(v, 15);
    }
    return i;
}

/* Sub unfiltering 16 bytes at a time: RGB here (a step is 4 pixels, 12 of
 * the 16 bytes loaded), 1, 2 and 4 bytes a pixel in unsub_pow2. Returns
 * the bytes done; the caller finishes the row. */
static size_t unsub_sse2(unsigned char *r, size_t n, size_t bpp)
{
    __m128i carry = _mm_setzero_si128(), v;
    size_t i = 0;

    switch (bpp) {
    case 3:
        for (; n - i >= 16; i += 12) {
            v = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)(r + i)), carry);
            v = _mm_add_epi8(v, _mm_slli_si128(v, 3));
            v = _mm_add_epi8(v, _mm_slli_si128(v, 6));
            _mm_storel_epi64((__m128i *)(void *)(r + i), v);
            memcpy(r + i + 8, &(uint32_t){(uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(v, 8))}, 4);
            carry = _mm_and_si128(_mm_srli_si128(v, 9), _mm_cvtsi32_si128(0xffffff));
        }
        return i;
    case 4:
        return unsub_pow2(r, n, 4);
    case 2:
        return unsub_pow2(r, n, 2);
    default:
        return unsub_pow2(r, n, 1);
    }
}
#endif

const unsigned char *cfp_pngfast_row(struct cfp_pngfast *f)
{
    size_t n = f->rowbytes, bpp = (size_t)f->channels, i;
    unsigned char *r = f->raw + (size_t)f->next * (n + 1) + 1;
    const unsigned char *u = f->next ? r - (n + 1) : NULL; /* the row above */
    int type = r[-1];

    f->next++;
    if (!u && type == 4)
        type = 1; /* Paeth on the first row is Sub: a, since b = c = 0 */
    switch (type) {
    case 1:
#ifdef __SSE2__
        i = unsub_sse2(r, n, bpp);
        if (i < bpp)
            i = bpp;
#else
        i = bpp;
#endif
        for (; i < n; i++)
            r[i] = (unsigned char)(r[i] + r[i - bpp]);
        break;
    case 2:
        for (i = 0; u && i < n; i++)
            r[i] = (unsigned char)(r[i] + u[i]);
        break;
    case 3:
        for (i = 0; i < bpp && i < n; i++)
            r[i] = (unsigned char)(r[i] + (u ? u[i] >> 1 : 0));
        for (; i < n; i++)
            r[i] = (unsigned char)(r[i] + ((r[i - bpp] + (u ? u[i] : 0)) >> 1));
        break;
    case 4:
        for (i = 0; i < bpp && i < n; i++)
            r[i] = (unsigned char)(r[i] + u[i]);
        for (; i < n; i++)
            r[i] = (unsigned char)(r[i] + cfp_paeth(r[i - bpp], u[i], u[i - bpp]));
        break;
    default:
        break;
    }
    return r;
}

void cfp_pngfast_free(struct cfp_pngfast *f)
{
    cfp_scratch_give(f->raw);
    f->raw = NULL;
}
