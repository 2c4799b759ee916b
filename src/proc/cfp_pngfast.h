/* cfp_pngfast.h - the PNG decoder's fast path for the common case.
 *
 * Photos come as 8-bit gray, gray+alpha, RGB or RGBA, not interlaced. For
 * them zlib's inflate was most of cfp's image time (164 MB/s of output on
 * the peer dataset); libdeflate inflates the same streams at ~380 MB/s, but
 * only whole buffers, so this path inflates the whole image at once and then
 * hands out unfiltered rows. It takes an image only when everything about it
 * is regular; anything else it declines and cfp_png decodes with libpng as
 * before, so libpng keeps giving every verdict on unusual or broken files
 * (the same messages), and both paths give the same pixels (test_png checks
 * this on every image it has). doc/png.md. */
#ifndef CFP_PNGFAST_H
#define CFP_PNGFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"

/* Largest inflated image (filter bytes included) taken: the whole image is
 * held, so this bounds the path's memory per task; larger images stream
 * through libpng a row at a time. 64 MiB is a 16-megapixel RGBA photo. */
#define CFP_PNGFAST_MAX_RAW ((size_t)64 << 20)

struct cfp_pngfast {
    uint32_t w, h;
    int channels;       /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; 8-bit samples */
    size_t rowbytes;    /* w * channels */
    unsigned char *raw; /* h rows of a filter byte + rowbytes; owned (cfp_scratch) */
    uint32_t next;      /* the row cfp_pngfast_row() returns next */
};

/* Takes buf[0..len) (a PNG whose signature was checked) when it is: 8-bit
 * gray, gray+alpha, RGB or RGBA, not interlaced, IHDR first, no PLTE or
 * tRNS, no unknown critical chunk, one run of IDAT, IEND; every chunk length
 * inside the buffer; CRCs of IHDR, IDAT and IEND right; a zlib stream with a
 * 32 KiB window and no preset dictionary that inflates to exactly the
 * image, followed by its 4-byte Adler-32 (not checked, as libpng's path
 * does not) and nothing else; filter types 0..4; at most
 * max_pixels pixels and CFP_PNGFAST_MAX_RAW inflated bytes.
 *
 * Sets *taken. Taken: f holds the inflated image (free it with
 * cfp_pngfast_free). Declined: f holds nothing. Returns CFP_ERR_NOMEM (and
 * holds nothing) when an allocation fails, else CFP_ERR_OK. */
cfp_err cfp_pngfast_open(const unsigned char *buf, size_t len, uint64_t max_pixels,
                         struct cfp_pngfast *f, bool *taken);

/* Unfilters the next row (0, 1, ... h-1) in place and returns its rowbytes
 * pixel bytes, valid until cfp_pngfast_free(). Call at most h times. */
const unsigned char *cfp_pngfast_row(struct cfp_pngfast *f);

/* Frees what f holds; f may hold nothing. */
void cfp_pngfast_free(struct cfp_pngfast *f);

/* The Paeth predictor of the PNG spec, in the branch-free form libpng uses
 * (ties: a, then b, then c): shared by the decoder's unfilter and the
 * encoder's filter choice. */
static inline int cfp_paeth(int a, int b, int c)
{
    int p = b - c, q = a - c;
    int pa = p < 0 ? -p : p, pb = q < 0 ? -q : q, pc = p + q < 0 ? -(p + q) : p + q;

    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

#endif
