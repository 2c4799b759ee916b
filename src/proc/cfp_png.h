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

/* A safety limit against decompression bombs, not a memory limit (the
 * memory budget is: cfp_png_need()): 2^32 pixels, a 65536 x 65536 image. */
#define CFP_PNG_MAX_PIXELS_DEFAULT 4294967296u

struct cfp_png_opts {
    uint32_t max_side;   /* longest output side, > 0; default 512 */
    uint64_t max_pixels; /* refuse width * height above this, > 0; default 2^32 */
    bool libpng_only;    /* decode with libpng even where the fast path
                          * (cfp_pngfast.h) would: for tests and benchmarks */
    /* Called (when set) as soon as the input buffer is no longer read:
     * after the fast path inflated the image, or after libpng read IEND,
     * before the rows are resized and encoded; the caller may free the
     * buffer then, so a task does not hold its compressed body and its
     * inflated image for the rest of the work. */
    void (*input_done)(void *ctx);
    void *input_ctx;
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

/* ---- the streaming decoder -------------------------------------------
 * The same processing as cfp_png_process() (same checks, transforms,
 * resizer and encoder: the same output bytes for every image both take),
 * fed the file in pieces of any size as it arrives. A non-interlaced image
 * is decoded and shrunk row by row as its bytes come in: memory is
 * O(width) (libpng's rows, the resizer's window, the output), whatever
 * the height or the file's size. An Adam7 image holds its whole decoded
 * image (every pass refines every row). cfp_png_need() says how much. */

/* What the IHDR chunk says, read without libpng (cfp_png_peek). */
struct cfp_png_header {
    uint32_t width, height;
    int depth;      /* 1, 2, 4, 8, 16 */
    int color_type; /* 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
    bool interlaced;
    int channels;   /* after the transforms, once known (a tRNS chunk adds
                       alpha); 0 = not yet: cfp_png_need assumes the most */
};

/* Bytes of the file cfp_png_peek() needs: signature, IHDR, its CRC. */
#define CFP_PNG_HEAD_LEN 33u

/* Reads the header from the first len bytes of a PNG. False when len <
 * CFP_PNG_HEAD_LEN or the bytes are not a signature and a well-formed
 * IHDR (sizes 1..2^31-1, a valid colour type and depth); the decoders then
 * give the precise verdict. */
bool cfp_png_peek(const unsigned char *buf, size_t len, struct cfp_png_header *h);

/* Estimated peak bytes of processing the image h describes to max_side:
 * streaming (stream = true) or from a whole buffer (not counting the
 * buffer itself), with libpng's and the resizer's working memory, the
 * output image and, for Adam7, the decoded image. An upper bound for
 * budgeting, not an exact count (doc/limits.md). */
uint64_t cfp_png_need(const struct cfp_png_header *h, uint32_t max_side, bool stream);

struct cfp_png_stream;

/* Called once the chunks before the image data are read, when the exact
 * memory of the decode is known (cfp_png_need with the real channels),
 * before it is allocated: an error refuses the image (its message in st). */
typedef cfp_err (*cfp_png_admit_fn)(void *ctx, uint64_t need, struct cfp_status *st);

/* Starts a streaming decode; o, wr, wctx and info as for
 * cfp_png_process(), and o and info must outlive the stream. admit may be
 * NULL. On success *out owns the stream (free with cfp_png_stream_free). */
cfp_err cfp_png_stream_new(const struct cfp_png_opts *o, cfp_write_fn wr, void *wctx,
                           struct cfp_png_info *info, cfp_png_admit_fn admit, void *actx,
                           struct cfp_png_stream **out, struct cfp_status *st);

/* Feeds the next n bytes of the file. Returns the same errors as
 * cfp_png_process() as soon as they are known (the stream is then dead:
 * further calls return the same error). */
cfp_err cfp_png_stream_feed(struct cfp_png_stream *s, const unsigned char *p, size_t n,
                            struct cfp_status *st);

/* Ends the input: fails with CFP_ERR_PNG_DECODE ("truncated input") when
 * IEND was not reached, else encodes the output through wr. */
cfp_err cfp_png_stream_finish(struct cfp_png_stream *s, struct cfp_status *st);

/* Frees *sp (NULL is fine) and sets it to NULL. */
void cfp_png_stream_free(struct cfp_png_stream **sp);

/* True when buf[0..len) starts with the 8-byte PNG signature. */
bool cfp_png_sniff(const unsigned char *buf, size_t len);

#endif
