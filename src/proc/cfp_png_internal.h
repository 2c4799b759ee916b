/* cfp_png_internal.h - private to the PNG processor's files: cfp_png.c
 * (libpng's callbacks, the whole-buffer decoder, the fast path's driver),
 * cfp_pngstream.c (the streaming decoder) and cfp_png_encode.c (the
 * encoder). Both decoders share the decoder state, the limits, the
 * transforms and the buffers, so both give the same pixels. */
#ifndef CFP_PNG_INTERNAL_H
#define CFP_PNG_INTERNAL_H

#include <png.h>
#include <stdbool.h>

#include "proc/cfp_png.h"
#include "proc/cfp_resize.h"

/* Shared by every libpng callback of one decode or encode. It lives in the
 * caller's frame (or the stream's allocation); the setjmp functions only
 * reach it through a pointer, which keeps it safe from longjmp. */
struct png_ctx {
    const unsigned char *buf; /* whole-buffer input, not owned */
    size_t len;
    size_t pos;
    cfp_write_fn wr; /* output sink */
    void *wctx;
    cfp_err wr_err;             /* first error wr returned, else OK */
    bool oom;                   /* a libpng allocation failed */
    bool late;                  /* the task's deadline (--task-timeout) passed */
    char msg[CFP_MSG_MAX - 64]; /* first libpng error text */
};

/* Decoding state; owns everything it points to. Rows go straight into
 * out when the image already fits; otherwise into the resizer, which writes
 * out. A non-interlaced image is fed one row at a time through the
 * one-row buffer src; an interlaced one needs all seven passes before any
 * row is final, so src then holds the whole source image. */
struct decoder {
    png_structp png;
    png_infop info;
    uint32_t w, h;          /* source size */
    int passes;             /* 1, or 7 for Adam7 */
    size_t rowbytes;        /* of a source row after the transforms */
    struct cfp_img out;     /* the output image; out.px owned (cfp_scratch) */
    struct cfp_resizer *rs; /* NULL when the image already fits */
    unsigned char *src;     /* one source row, or all of them */
};

/* libpng's allocator, error and I/O callbacks; the error and I/O pointers
 * are a struct png_ctx. */
png_voidp PNGCBAPI cfp_png_on_malloc(png_structp png, png_alloc_size_t n);
void PNGCBAPI cfp_png_on_free(png_structp png, png_voidp p);
void PNGCBAPI cfp_png_on_error(png_structp png, png_const_charp msg);
void PNGCBAPI cfp_png_on_warning(png_structp png, png_const_charp msg);
void PNGCBAPI cfp_png_on_write(png_structp png, png_bytep data, size_t n);
void PNGCBAPI cfp_png_on_flush(png_structp png);

/* Turns the state a longjmp left in c into an error code and message. */
cfp_err cfp_png_lib_failed(const struct png_ctx *c, struct cfp_status *st, cfp_err code,
                           const char *what);

/* Creates the read structs with cfp's allocator (d is zeroed first). */
cfp_err cfp_png_decoder_create(struct png_ctx *c, struct decoder *d, struct cfp_status *st);

/* Safety limits; may allocate, so only call once the setjmp is armed. */
void cfp_png_set_limits(const struct decoder *d);

/* Refuses the image (d->w x d->h) over o->max_pixels before any pixel
 * buffer exists; sets the output size and info. */
cfp_err cfp_png_check_header(struct decoder *d, const struct cfp_png_opts *o,
                             struct cfp_png_info *info, struct cfp_status *st);

/* The channels the transforms will give (a tRNS chunk adds alpha): known
 * once the chunks before the image data are read, before the transforms. */
int cfp_png_channels(const struct decoder *d);

/* Asks libpng for 8-bit gray, gray+alpha, RGB or RGBA; sets d->passes. */
void cfp_png_set_transforms(struct decoder *d);

/* Checks the layout libpng will deliver after the transforms (8-bit, 1-4
 * channels) and sets d->rowbytes; *ch receives the channels. */
cfp_err cfp_png_check_layout(struct decoder *d, int *ch, struct cfp_status *st);

/* Allocates the output image of ch channels, and the source buffer and
 * resizer when the image must shrink, after checking every size. */
cfp_err cfp_png_alloc_buffers(struct decoder *d, int ch, struct cfp_status *st);

/* Frees what d holds but the output image. */
void cfp_png_decoder_release(struct decoder *d);

/* Every 64 rows: gives up (longjmp) once the task's deadline has passed;
 * png's io pointer is a struct png_ctx. */
void cfp_png_check_deadline(png_structp png, uint32_t y);

/* Encodes img through c->wr (cfp_png_encode.c): cfp's own writer, which
 * gives libpng's bytes faster, or with libpng_only (and for images of at
 * most 16 KiB of filtered data) libpng itself. */
cfp_err cfp_png_encode_image(struct png_ctx *c, const struct cfp_img *img, bool libpng_only,
                             struct cfp_status *st);

/* zlib's deflate with the settings libpng uses for cfp's output (level 4,
 * Z_RLE, windowBits 15, memLevel 8), giving the same bytes as zlib 1.2.13
 * fed the same pieces (cfp_png_zrle.c). The stream (header, blocks,
 * Adler-32) goes to sink in pieces of CFP_ZRLE_CHUNK bytes, the last one
 * shorter: libpng's IDAT chunks. Opaque; single-threaded per stream. */
#define CFP_ZRLE_CHUNK 8192u
struct cfp_zrle;

/* Creates a stream whose output goes to sink(ctx, ...): the sink's first
 * error stops the stream and is returned by every later call. *out is
 * freed with cfp_zrle_free. Returns CFP_ERR_NOMEM or CFP_ERR_OK. */
cfp_err cfp_zrle_new(cfp_err (*sink)(void *ctx, const unsigned char *p, size_t n), void *ctx,
                     struct cfp_zrle **out);

/* Compresses in[0..n) as one deflate(Z_NO_FLUSH) call of zlib with that
 * input would (the block boundaries depend on the pieces: feed one
 * filtered row per call, as libpng does). */
cfp_err cfp_zrle_feed(struct cfp_zrle *z, const unsigned char *in, size_t n);

/* Ends the stream (deflate(Z_FINISH)) with adler, the Adler-32 of every
 * byte fed, and hands the rest of the output to the sink. */
cfp_err cfp_zrle_finish(struct cfp_zrle *z, uint32_t adler);

/* Frees *zp (NULL is fine) and sets it to NULL. */
void cfp_zrle_free(struct cfp_zrle **zp);

#endif
