/* cfp_pngstream.c - the streaming PNG decoder (cfp_png.h): libpng's
 * progressive reader, fed the file in pieces as it arrives, drives the
 * same decoder state, transforms, resizer and encoder as the whole-buffer
 * path (cfp_png_internal.h), so both give the same bytes.
 *
 * libpng calls back from inside png_process_data(): the header callback
 * sets the image up, the row callback hands each decoded row to the
 * resizer (or, for Adam7, merges it into the whole image), the end
 * callback marks IEND. Errors unwind by longjmp to the setjmp in
 * stream_process(), whose only state is the stream, reached through a
 * pointer; a callback that fails for a reason of cfp's own (the pixel
 * limit, an allocation) leaves its code in s->err first. */
#include <inttypes.h>
#include <setjmp.h>
#include <string.h>

#include "base/cfp_mem.h"
#include "base/cfp_scratch.h"
#include "proc/cfp_png_internal.h"

struct cfp_png_stream {
    struct png_ctx c; /* first: libpng's io pointer is the stream */
    struct decoder d;
    const struct cfp_png_opts *o;
    struct cfp_png_info *info;
    struct cfp_status *st; /* the status of the feed in progress */
    cfp_png_admit_fn admit;
    void *actx;
    cfp_err err;           /* sticky: the first failure */
    bool header;           /* the header callback ran */
    bool ended;            /* IEND was read */
    uint64_t fed;          /* bytes fed so far */
    uint64_t rows;         /* rows (of all passes) delivered so far */
    uint64_t rows_all;     /* rows the image has, passes summed */
};

/* Fails from inside a callback: keeps err (its message is in s->st) and
 * unwinds to stream_process(). */
static void stream_fail(struct cfp_png_stream *s, cfp_err err)
{
    s->err = err;
    png_longjmp(s->d.png, 1);
}

static void PNGCBAPI on_header(png_structp png, png_infop info)
{
    struct cfp_png_stream *s = png_get_progressive_ptr(png);
    struct decoder *d = &s->d;
    cfp_err err;
    int ch;

    (void)info;
    s->header = true;
    d->w = png_get_image_width(png, d->info);
    d->h = png_get_image_height(png, d->info);
    err = cfp_png_check_header(d, s->o, s->info, s->st);
    if (!err && s->admit) {
        /* Before png_read_update_info: it allocates libpng's rows, which a
         * 2^30-pixel-wide row makes gigabytes (the fuzzer found it). */
        struct cfp_png_header h = {d->w, d->h, png_get_bit_depth(png, d->info),
                                   png_get_color_type(png, d->info),
                                   png_get_interlace_type(png, d->info) != PNG_INTERLACE_NONE,
                                   cfp_png_channels(d)};

        err = s->admit(s->actx, cfp_png_need(&h, s->o->max_side, true), s->st);
    }
    if (err)
        stream_fail(s, err);
    cfp_png_set_transforms(d); /* png_read_update_info starts the rows */
    err = cfp_png_check_layout(d, &ch, s->st);
    if (!err)
        err = cfp_png_alloc_buffers(d, ch, s->st);
    if (err)
        stream_fail(s, err);
    for (int p = 0; p < d->passes; p++)
        if (d->passes == 1)
            s->rows_all = d->h;
        else if (PNG_PASS_COLS(d->w, p) > 0)
            s->rows_all += PNG_PASS_ROWS(d->h, p);
}

/* A row of pass `pass`; new_row is NULL for a row the pass does not touch.
 * Without interlace each row comes once, final, in order. */
static void PNGCBAPI on_row(png_structp png, png_bytep new_row, png_uint_32 y, int pass)
{
    struct cfp_png_stream *s = png_get_progressive_ptr(png);
    struct decoder *d = &s->d;

    (void)pass;
    cfp_png_check_deadline(png, y);
    if (!new_row || y >= d->h)
        return;
    s->rows++;
    if (d->passes > 1) {
        unsigned char *row = d->rs ? d->src + (size_t)y * d->rowbytes
                                   : d->out.px + (size_t)y * d->out.stride;
        png_progressive_combine_row(png, row, new_row);
    } else if (d->rs) {
        cfp_resizer_push(d->rs, new_row);
    } else {
        memcpy(d->out.px + (size_t)y * d->out.stride, new_row, d->rowbytes);
    }
}

static void PNGCBAPI on_end(png_structp png, png_infop info)
{
    struct cfp_png_stream *s = png_get_progressive_ptr(png);

    (void)info;
    s->ended = true;
}

/* Runs libpng on p[0..n); see the file comment about setjmp. */
static cfp_err stream_process(struct cfp_png_stream *s, const unsigned char *p, size_t n)
{
    if (setjmp(png_jmpbuf(s->d.png)))
        return s->err ? s->err : cfp_png_lib_failed(&s->c, s->st, CFP_ERR_PNG_DECODE, "PNG decode");
    png_process_data(s->d.png, s->d.info, (png_bytep)(uintptr_t)p, n);
    return CFP_ERR_OK;
}

/* Arms the limits (they may allocate: libpng errors unwind here). */
static cfp_err stream_setup(struct cfp_png_stream *s)
{
    if (setjmp(png_jmpbuf(s->d.png)))
        return cfp_png_lib_failed(&s->c, s->st, CFP_ERR_PNG_DECODE, "PNG decode");
    cfp_png_set_limits(&s->d);
    png_set_progressive_read_fn(s->d.png, s, on_header, on_row, on_end);
    return CFP_ERR_OK;
}

cfp_err cfp_png_stream_new(const struct cfp_png_opts *o, cfp_write_fn wr, void *wctx,
                           struct cfp_png_info *info, cfp_png_admit_fn admit, void *actx,
                           struct cfp_png_stream **out, struct cfp_status *st)
{
    struct cfp_png_stream *s;
    cfp_err err;

    if (info)
        info->width_in = info->height_in = info->width_out = info->height_out = -1;
    if (!o || !wr || o->max_side == 0 || o->max_pixels == 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "PNG: bad options");
    s = cfp_calloc(1, sizeof(*s));
    if (!s)
        return cfp_status_set(st, CFP_ERR_NOMEM, "PNG decode: out of memory (stream)");
    s->c.wr = wr;
    s->c.wctx = wctx;
    s->o = o;
    s->info = info;
    s->st = st;
    s->admit = admit;
    s->actx = actx;
    err = cfp_png_decoder_create(&s->c, &s->d, st);
    if (!err)
        err = stream_setup(s);
    if (err) {
        cfp_png_stream_free(&s);
        return err;
    }
    *out = s;
    return CFP_ERR_OK;
}

cfp_err cfp_png_stream_feed(struct cfp_png_stream *s, const unsigned char *p, size_t n,
                            struct cfp_status *st)
{
    if (s->err)
        return s->err;
    s->fed += n;
    if (s->ended || n == 0)
        return CFP_ERR_OK; /* bytes after IEND are ignored, as by png_read_end */
    s->st = st;
    s->err = stream_process(s, p, n);
    return s->err;
}

cfp_err cfp_png_stream_finish(struct cfp_png_stream *s, struct cfp_status *st)
{
    if (s->err)
        return s->err;
    if (s->fed == 0)
        return s->err = cfp_status_set(st, CFP_ERR_PNG_DECODE, "PNG decode: empty input");
    if (!s->ended)
        return s->err = cfp_status_set(st, CFP_ERR_PNG_DECODE,
                                       "PNG decode: truncated input: the file ended after %" PRIu64
                                       " bytes, %s",
                                       s->fed, s->header ? "before IEND" : "in its header");
    /* libpng's progressive reader only warns when the image data ends
     * early (its rows never come); the whole-buffer reader fails. */
    if (s->rows < s->rows_all)
        return s->err = cfp_status_set(st, CFP_ERR_PNG_DECODE, "PNG decode: Not enough image data");
    if (s->d.rs && s->d.passes > 1) /* the passes are merged: shrink the image */
        for (uint32_t y = 0; y < s->d.h; y++)
            cfp_resizer_push(s->d.rs, s->d.src + (size_t)y * s->d.rowbytes);
    cfp_png_decoder_release(&s->d); /* only the output image is still needed */
    s->err = cfp_png_encode_image(&s->c, &s->d.out, s->o->libpng_only, st);
    return s->err;
}

void cfp_png_stream_free(struct cfp_png_stream **sp)
{
    struct cfp_png_stream *s = sp ? *sp : NULL;

    if (!s)
        return;
    cfp_png_decoder_release(&s->d);
    cfp_scratch_give(s->d.out.px);
    cfp_free(s);
    *sp = NULL;
}
