/* cfp_resize.h - Lanczos-3 resampling of 8-bit interleaved images, and the
 * "fit the longest side" size rule used by the PNG processor.
 *
 * The filter follows Pillow's Image.resize(..., LANCZOS, reducing_gap=1.5):
 * an axis shrunk by 3x or more is first averaged over blocks of an integer
 * floor(factor / 1.5) samples, then a separable truncated-sinc kernel whose
 * support is widened by the remaining factor, normalised weights, source
 * centre (i + 0.5) * scale, horizontal pass then vertical pass. Unlike
 * Pillow the intermediate is kept in float (no 8-bit rounding between
 * stages), and alpha images are filtered premultiplied. */
#ifndef CFP_RESIZE_H
#define CFP_RESIZE_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"

/* An 8-bit interleaved image: channels is 1 (gray), 2 (gray+alpha), 3 (RGB)
 * or 4 (RGBA); with 2 or 4 channels the last one is alpha. Row y starts at
 * px + y * stride. The struct does not own px. */
struct cfp_img {
    unsigned char *px;
    uint32_t width;
    uint32_t height;
    size_t stride;
    int channels;
};

/* Computes the size of a width x height image scaled so that its longest side
 * is at most max_side, keeping the aspect ratio: the longest side becomes
 * max_side and the other round-half-up(side * max_side / longest), at least 1.
 * Never upscales: an image whose longest side is <= max_side keeps its size.
 * width, height and max_side must be > 0. */
void cfp_resize_fit(uint32_t width, uint32_t height, uint32_t max_side, uint32_t *out_w,
                    uint32_t *out_h);

/* A streaming resampler: source rows go in one at a time, in order, and
 * each output row is written into dst as soon as the rows it needs have
 * arrived. Only the box-stage row being summed and at most 20 filtered rows
 * are kept, never the whole source image, and buffers are sized by the
 * output width (rows of at most 3x it) and a chunk of max(1024, b) source
 * pixels, not by the source width, so a decoder can feed it row by row.
 * Opaque. */
struct cfp_resizer;

/* Creates a resizer from src_w x src_h to dst. The caller sets dst->px (at
 * least dst->height rows of dst->stride bytes), dst->width, dst->height,
 * dst->stride and dst->channels; dst->px must stay valid until the last
 * row is pushed, and only its pixels are written.
 * An axis shrunk by a factor f >= 3 is first box-averaged over blocks of
 * b = floor(f / 1.5) source samples (the last block of a row or column may
 * be smaller); the filter is then Lanczos-3 in both directions with the
 * exact remaining scale src / (b * dst) (cfp only downscales). Colour of
 * images with alpha is averaged and filtered premultiplied, then divided by
 * the filtered alpha (before clamping it); a pixel whose alpha rounds to 0
 * gets colour 0. Results are clamped to [0, 255] and rounded half up.
 * On success *out owns the resizer (free with cfp_resizer_free). Returns
 * CFP_ERR_NOMEM, CFP_ERR_TOO_BIG (a buffer size would overflow size_t) or
 * CFP_ERR_INTERNAL (zero size, channels not 1-4). */
cfp_err cfp_resizer_new(uint32_t src_w, uint32_t src_h, const struct cfp_img *dst,
                        struct cfp_resizer **out);

/* Feeds the next source row: src_w * channels bytes, read only. Rows past
 * src_h are ignored. Cannot fail: everything was allocated by _new. */
void cfp_resizer_push(struct cfp_resizer *rs, const unsigned char *row);

/* Frees *rsp (NULL is fine) and sets it to NULL. */
void cfp_resizer_free(struct cfp_resizer **rsp);

/* Resamples all of src into dst (as cfp_resizer_new + one push per row).
 * dst->channels must equal src->channels. Same errors as cfp_resizer_new.
 * Single-threaded per call; allocates through cfp_malloc. */
cfp_err cfp_resize_lanczos3(const struct cfp_img *src, const struct cfp_img *dst);

#endif
