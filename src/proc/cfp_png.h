/* cfp_png.h - the PNG processor: decode any PNG (every colour type, bit depth
 * and interlace, with tRNS) from memory, shrink it so its longest side is at
 * most max_side with a Lanczos-3 filter, and encode an 8-bit PNG.
 *
 * Conversion rules (doc/png.md has the details): 16-bit samples are scaled
 * to 8 bits with rounding; gray of 1/2/4 bits is expanded to 8; palette
 * becomes RGB, or RGBA when it has tRNS; gray + tRNS becomes gray+alpha and
 * RGB + tRNS becomes RGBA. The output keeps those channels (gray, gray+alpha,
 * RGB or RGBA), non-interlaced, without ancillary chunks. */
#ifndef CFP_PNG_H
#define CFP_PNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "base/cfp_io.h"

#define CFP_PNG_MAX_SIDE_DEFAULT   512u
#define CFP_PNG_MAX_PIXELS_DEFAULT 100000000u

struct cfp_png_opts {
    uint32_t max_side;   /* longest output side, > 0; default 512 */
    uint64_t max_pixels; /* refuse width * height above this, > 0; default 100000000 */
    bool libpng_only;    /* decode with libpng even where the fast path
                          * (cfp_pngfast.h) would: for tests and benchmarks */
};

/* Sizes of the last image processed; -1 where not (yet) known. */
struct cfp_png_info {
    int32_t width_in, height_in, width_out, height_out;
};

/* Sets o to the defaults above. */
void cfp_png_opts_init(struct cfp_png_opts *o);

/* Decodes the PNG in buf[0..len), resizes it so its longest side is at most
 * o->max_side (never upscaling), and encodes an 8-bit PNG through
 * wr(wctx, ...), possibly in several calls. o may be NULL for the defaults.
 * The output is deterministic: the same input and options give the same
 * bytes.
 *
 * info (may be NULL) is first set to -1 everywhere, then filled as far as
 * known: width_in/height_in once the header is read, width_out/height_out
 * once the image passed the pixel limit.
 *
 * Returns CFP_ERR_OK or:
 *   CFP_ERR_PNG_DECODE  bad or truncated PNG ("PNG decode: IHDR: CRC error");
 *   CFP_ERR_TOO_BIG     width * height over o->max_pixels, checked right
 *                       after the header, before any pixel buffer exists
 *                       ("PNG: 50000x50000 = 2500000000 pixels over
 *                       --max-pixels 100000000"), or a size overflow;
 *   CFP_ERR_NOMEM       an allocation failed (cfp's or libpng's);
 *   CFP_ERR_PNG_ENCODE  libpng refused to encode;
 *   CFP_ERR_USAGE       o->max_side or o->max_pixels is 0;
 *   any error wr returned, unchanged (the processor stops at once).
 * On failure st (may be NULL) receives the precise message; the first
 * message wins (cfp_status_set). Bytes already passed to wr are not taken
 * back. Reentrant: uses no global state, so threads may call it at once;
 * wr is called on the calling thread. */
cfp_err cfp_png_process(const unsigned char *buf, size_t len, const struct cfp_png_opts *o,
                        cfp_write_fn wr, void *wctx, struct cfp_png_info *info,
                        struct cfp_status *st);

/* True when buf[0..len) starts with the 8-byte PNG signature. */
bool cfp_png_sniff(const unsigned char *buf, size_t len);

#endif
