/* cfp_png.c - PNG decode -> Lanczos-3 shrink -> 8-bit PNG encode.
 *
 * libpng reports errors by longjmp()ing out of its calls. Each setjmp lives
 * in a small function (decode, encode) whose caller owns every piece of
 * state, reached through pointer parameters that are never reassigned. The
 * only thing read after a longjmp is that state (in memory, not in
 * registers); the one local changed after setjmp (err) is not read on that
 * path. So no value can be clobbered and no local needs to be volatile.
 * libpng allocates through cfp_malloc (png_create_*_struct_2), so injected
 * allocation failures reach it too and come back as CFP_ERR_NOMEM. */
#include "proc/cfp_png.h"

#include <ctype.h>
#include <inttypes.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "base/cfp_clock.h"
#include "base/cfp_mem.h"
#include "base/cfp_scratch.h"
#include "proc/cfp_png_internal.h"
#include "proc/cfp_pngfast.h"
#include "proc/cfp_resize.h"

/* No single ancillary chunk may make libpng allocate more than this; and
 * at most this many ancillary chunks (sPLT, text, unknown) are stored. */
#define PNG_CHUNK_MALLOC_MAX (8u * 1024u * 1024u)
#define PNG_CHUNK_CACHE_MAX  128u

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};


bool cfp_png_sniff(const unsigned char *buf, size_t len)
{
    return buf && len >= sizeof(png_signature) &&
           memcmp(buf, png_signature, sizeof(png_signature)) == 0;
}

void cfp_png_opts_init(struct cfp_png_opts *o)
{
    o->max_side = CFP_PNG_MAX_SIDE_DEFAULT;
    o->max_pixels = CFP_PNG_MAX_PIXELS_DEFAULT;
    o->libpng_only = false;
    o->input_done = NULL;
    o->input_ctx = NULL;
}

png_voidp PNGCBAPI cfp_png_on_malloc(png_structp png, png_alloc_size_t n)
{
    struct png_ctx *c = png_get_mem_ptr(png);
    void *p = cfp_malloc(n);

    if (!p && c)
        c->oom = true;
    return p;
}

void PNGCBAPI cfp_png_on_free(png_structp png, png_voidp p)
{
    (void)png;
    cfp_free(p);
}

/* Keeps the first message (the root cause) and unwinds to the setjmp. */
void PNGCBAPI cfp_png_on_error(png_structp png, png_const_charp msg)
{
    struct png_ctx *c = png_get_error_ptr(png);

    if (c && c->msg[0] == '\0')
        (void)snprintf(c->msg, sizeof(c->msg), "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary CRC, benign errors such as an out-of-range
 * palette index) do not make the image unusable; like most viewers we
 * carry on, so they are deliberately dropped. */
void PNGCBAPI cfp_png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void PNGCBAPI on_read(png_structp png, png_bytep out, size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);

    if (n > c->len - c->pos) {
        png_uint_32 t = png_get_io_chunk_type(png);
        char name[5] = {(char)(t >> 24), (char)(t >> 16), (char)(t >> 8), (char)t, '\0'};

        /* The chunk libpng is in, when there is one, tells a cut-off file
         * (IDAT) from a lying chunk length (huge tEXt). */
        if (!isalpha((unsigned char)name[0]) || !isalpha((unsigned char)name[3]))
            (void)snprintf(name, sizeof(name), "%s", "file");
        (void)snprintf(c->msg, sizeof(c->msg),
                       "truncated input: %s needs %zu more bytes at offset %zu of %zu", name, n,
                       c->pos, c->len);
        png_error(png, c->msg);
    }
    memcpy(out, c->buf + c->pos, n);
    c->pos += n;
}

void PNGCBAPI cfp_png_on_write(png_structp png, png_bytep data, size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);
    cfp_err err = c->wr(c->wctx, data, n);

    if (err) {
        c->wr_err = err;
        png_error(png, "output write failed");
    }
}

void PNGCBAPI cfp_png_on_flush(png_structp png)
{
    (void)png;
}

/* Turns the state a longjmp left in c into an error code and message. */
cfp_err cfp_png_lib_failed(const struct png_ctx *c, struct cfp_status *st, cfp_err code,
                          const char *what)
{
    if (c->wr_err)
        return cfp_status_set(st, c->wr_err, "%s: writing output: %s", what,
                              cfp_strerror(c->wr_err));
    if (c->oom)
        return cfp_status_set(st, CFP_ERR_NOMEM, "%s: out of memory (libpng: %s)", what, c->msg);
    if (c->late)
        return cfp_status_set(st, CFP_ERR_TIMEOUT, "%s: over --task-timeout", what);
    return cfp_status_set(st, code, "%s: %s", what, c->msg[0] ? c->msg : "libpng error");
}

/* Creates the read structs with cfp's allocator. */
cfp_err cfp_png_decoder_create(struct png_ctx *c, struct decoder *d, struct cfp_status *st)
{
    memset(d, 0, sizeof(*d));
    d->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, c, cfp_png_on_error, cfp_png_on_warning, c, cfp_png_on_malloc,
                                      cfp_png_on_free);
    if (!d->png)
        return cfp_status_set(st, CFP_ERR_NOMEM, "PNG decode: out of memory (read struct)");
    d->info = png_create_info_struct(d->png);
    if (!d->info) {
        png_destroy_read_struct(&d->png, NULL, NULL);
        return cfp_status_set(st, CFP_ERR_NOMEM, "PNG decode: out of memory (info struct)");
    }
    return CFP_ERR_OK;
}

/* Safety limits; may allocate, so only call once the setjmp is armed. */
void cfp_png_set_limits(const struct decoder *d)
{
    /* Per-side limit: the format's own maximum. libpng's default (1e6)
     * would refuse long thin images our pixel limit accepts, and our
     * width * height check right after IHDR is stricter anyway and gives
     * the precise TOO_BIG message. */
    png_set_user_limits(d->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_chunk_malloc_max(d->png, PNG_CHUNK_MALLOC_MAX);
    png_set_chunk_cache_max(d->png, PNG_CHUNK_CACHE_MAX);
    /* Only IHDR, PLTE, tRNS, IDAT and IEND affect our pixels (no colour
     * management): skip every other chunk without storing or parsing it,
     * which also keeps iCCP/zTXt/iTXt decompression off untrusted data. */
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    /* zlib's Adler-32 of the image data is not computed (5% of the image
     * path): every byte of the zlib stream, its Adler-32 included, is
     * already covered by the CRC-32 of its IDAT chunk, which libpng still
     * checks (a mismatch fails the image), and a CRC-32 is the stronger
     * check against damage in storage or transfer. What the Adler-32 adds
     * is a check of the encoder's own arithmetic: a file whose writer
     * stored a wrong Adler-32 under right CRCs now decodes. doc/png.md. */
    png_set_option(d->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
}

/* Refuses the image (d->w x d->h) before any pixel buffer exists; sets the
 * output size. */
cfp_err cfp_png_check_header(struct decoder *d, const struct cfp_png_opts *o,
                            struct cfp_png_info *info, struct cfp_status *st)
{
    uint64_t pixels;

    pixels = (uint64_t)d->w * d->h; /* both < 2^31: cannot overflow */
    if (info) {
        info->width_in = (int32_t)d->w;
        info->height_in = (int32_t)d->h;
    }
    if (pixels > o->max_pixels)
        return cfp_status_set(st, CFP_ERR_TOO_BIG,
                              "PNG: %" PRIu32 "x%" PRIu32 " = %" PRIu64
                              " pixels over --max-pixels %" PRIu64,
                              d->w, d->h, pixels, o->max_pixels);
    cfp_resize_fit(d->w, d->h, o->max_side, &d->out.width, &d->out.height);
    if (info) {
        info->width_out = (int32_t)d->out.width;
        info->height_out = (int32_t)d->out.height;
    }
    return CFP_ERR_OK;
}

int cfp_png_channels(const struct decoder *d)
{
    static const int base[7] = {1, 0, 3, 3, 2, 0, 4};
    int type = png_get_color_type(d->png, d->info) & 7;
    int ch = base[type] ? base[type] : 4;

    return (ch == 1 || ch == 3) && png_get_valid(d->png, d->info, PNG_INFO_tRNS) ? ch + 1 : ch;
}

/* Asks libpng for 8-bit gray, gray+alpha, RGB or RGBA (see cfp_png.h). */
void cfp_png_set_transforms(struct decoder *d)
{
    int depth = png_get_bit_depth(d->png, d->info);
    int type = png_get_color_type(d->png, d->info);

    if (depth == 16)
        png_set_scale_16(d->png); /* round(v * 255 / 65535), not v >> 8 */
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(d->png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(d->png);
    if (png_get_valid(d->png, d->info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(d->png);
    d->passes = png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);
}

cfp_err cfp_png_check_layout(struct decoder *d, int *ch, struct cfp_status *st)
{
    *ch = png_get_channels(d->png, d->info);
    d->rowbytes = png_get_rowbytes(d->png, d->info);
    if (png_get_bit_depth(d->png, d->info) != 8 || *ch < 1 || *ch > 4 ||
        d->rowbytes / (size_t)*ch != d->w || d->rowbytes % (size_t)*ch != 0)
        return cfp_status_set(st, CFP_ERR_INTERNAL,
                              "PNG decode: unexpected layout after transforms (%d channels)", *ch);
    return CFP_ERR_OK;
}

void cfp_png_decoder_release(struct decoder *d)
{
    png_destroy_read_struct(&d->png, &d->info, NULL);
    cfp_resizer_free(&d->rs);
    cfp_scratch_give(d->src);
    d->src = NULL;
}

/* a * b without overflow, into *out; false when it would not fit. */
static bool size_mul(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

/* Allocates the output image of ch channels (rows of d->rowbytes), and the
 * source buffer and resizer when the image must shrink, after checking every
 * size. */
cfp_err cfp_png_alloc_buffers(struct decoder *d, int ch, struct cfp_status *st)
{
    size_t out_len, src_len;
    cfp_err err;

    d->out.channels = ch;
    d->out.stride = (size_t)d->out.width * (size_t)ch; /* <= rowbytes: out.width <= w */
    src_len = d->rowbytes;
    if (!size_mul(d->out.stride, d->out.height, &out_len) ||
        (d->passes > 1 && !size_mul(d->rowbytes, d->h, &src_len)))
        return cfp_status_set(st, CFP_ERR_TOO_BIG,
                              "PNG: %" PRIu32 "x%" PRIu32 " image does not fit in memory", d->w,
                              d->h);
    d->out.px = cfp_scratch_take(out_len);
    if (!d->out.px)
        return cfp_status_set(st, CFP_ERR_NOMEM, "PNG: out of memory (%zu-byte output image)",
                              out_len);
    if (d->out.width == d->w && d->out.height == d->h)
        return CFP_ERR_OK;
    d->src = cfp_scratch_take(src_len);
    if (!d->src)
        return cfp_status_set(st, CFP_ERR_NOMEM, "PNG decode: out of memory (%zu-byte buffer)",
                              src_len);
    err = cfp_resizer_new(d->w, d->h, &d->out, &d->rs);
    if (err)
        return cfp_status_set(st, err,
                              "PNG resize %" PRIu32 "x%" PRIu32 " -> %" PRIu32 "x%" PRIu32 ": %s",
                              d->w, d->h, d->out.width, d->out.height, cfp_strerror(err));
    return CFP_ERR_OK;
}

/* Where libpng writes source row y. */
static unsigned char *row_target(const struct decoder *d, uint32_t y)
{
    if (!d->rs)
        return d->out.px + (size_t)y * d->out.stride; /* not resized: final place */
    if (d->passes > 1)
        return d->src + (size_t)y * d->rowbytes;
    return d->src;
}

/* Every 64 rows: gives up (longjmp) once the task's deadline has passed,
 * so that --task-timeout holds while a large image is decoded or encoded. */
void cfp_png_check_deadline(png_structp png, uint32_t y)
{
    struct png_ctx *c;

    if ((y & 63u) != 0 || !cfp_deadline_passed())
        return;
    c = png_get_io_ptr(png);
    c->late = true;
    png_error(png, "over --task-timeout");
}

/* Reads every pass of every row; with interlace handling libpng merges
 * the passes into the rows it is given again on each pass. */
static void read_pixels(const struct decoder *d)
{
    for (int p = 0; p < d->passes; p++)
        for (uint32_t y = 0; y < d->h; y++) {
            cfp_png_check_deadline(d->png, y);
            png_read_row(d->png, row_target(d, y), NULL);
            if (d->rs && d->passes == 1)
                cfp_resizer_push(d->rs, d->src);
        }
    if (d->rs && d->passes > 1)
        for (uint32_t y = 0; y < d->h; y++)
            cfp_resizer_push(d->rs, d->src + (size_t)y * d->rowbytes);
}

/* Decodes (and shrinks) the image into d->out. See the file comment about
 * setjmp. */
static cfp_err decode(struct png_ctx *c, struct decoder *d, const struct cfp_png_opts *o,
                      struct cfp_png_info *info, struct cfp_status *st)
{
    cfp_err err;
    int ch;

    if (setjmp(png_jmpbuf(d->png)))
        return cfp_png_lib_failed(c, st, CFP_ERR_PNG_DECODE, "PNG decode");
    cfp_png_set_limits(d);
    png_set_read_fn(d->png, c, on_read);
    png_read_info(d->png, d->info);
    d->w = png_get_image_width(d->png, d->info);
    d->h = png_get_image_height(d->png, d->info);
    err = cfp_png_check_header(d, o, info, st);
    if (err)
        return err;
    cfp_png_set_transforms(d);
    err = cfp_png_check_layout(d, &ch, st);
    if (!err)
        err = cfp_png_alloc_buffers(d, ch, st);
    if (err)
        return err;
    read_pixels(d);
    /* Reading to IEND catches truncation and CRC errors after the pixels. */
    png_read_end(d->png, NULL);
    return CFP_ERR_OK;
}

/* The fast path (cfp_pngfast.h): decodes the common kind of PNG without
 * libpng. Sets *taken; when the image is declined nothing has happened and
 * the caller decodes with libpng. */
static cfp_err decode_fast(const struct png_ctx *c, struct decoder *d, const struct cfp_png_opts *o,
                           struct cfp_png_info *info, struct cfp_status *st, bool *taken)
{
    struct cfp_pngfast f;
    cfp_err err = cfp_pngfast_open(c->buf, c->len, o->max_pixels, &f, taken);

    if (err)
        return cfp_status_set(st, err, "PNG decode: out of memory (whole-image buffer)");
    if (!*taken)
        return CFP_ERR_OK;
    if (o->input_done)
        o->input_done(o->input_ctx); /* f holds the image: the file is read */
    d->w = f.w;
    d->h = f.h;
    d->passes = 1;
    d->rowbytes = f.rowbytes;
    err = cfp_png_check_header(d, o, info, st);
    if (!err)
        err = cfp_png_alloc_buffers(d, f.channels, st);
    for (uint32_t y = 0; !err && y < d->h; y++) {
        const unsigned char *row;

        if ((y & 63u) == 0 && cfp_deadline_passed()) {
            err = cfp_status_set(st, CFP_ERR_TIMEOUT, "PNG decode: over --task-timeout");
            break;
        }
        row = cfp_pngfast_row(&f);
        if (d->rs)
            cfp_resizer_push(d->rs, row);
        else
            memcpy(d->out.px + (size_t)y * d->out.stride, row, d->rowbytes);
    }
    cfp_pngfast_free(&f);
    return err;
}

static cfp_err check_args(const unsigned char *buf, size_t len, const struct cfp_png_opts *o,
                          cfp_write_fn wr, struct cfp_status *st)
{
    if (!wr || o->max_side == 0 || o->max_pixels == 0)
        return cfp_status_set(st, CFP_ERR_USAGE,
                              "PNG: bad options (max_side %" PRIu32 ", max_pixels %" PRIu64 ")",
                              o->max_side, o->max_pixels);
    if (len == 0 || !buf)
        return cfp_status_set(st, CFP_ERR_PNG_DECODE, "PNG decode: empty input");
    if (!cfp_png_sniff(buf, len))
        return cfp_status_set(st, CFP_ERR_PNG_DECODE, "PNG decode: not a PNG (bad signature)");
    return CFP_ERR_OK;
}

cfp_err cfp_png_process(const unsigned char *buf, size_t len, const struct cfp_png_opts *o,
                        cfp_write_fn wr, void *wctx, struct cfp_png_info *info,
                        struct cfp_status *st)
{
    struct cfp_png_opts defaults;
    struct png_ctx c;
    struct decoder d;
    bool fast = false;
    cfp_err err;

    if (info)
        info->width_in = info->height_in = info->width_out = info->height_out = -1;
    if (!o) {
        cfp_png_opts_init(&defaults);
        o = &defaults;
    }
    err = check_args(buf, len, o, wr, st);
    if (err)
        return err;
    memset(&c, 0, sizeof(c));
    memset(&d, 0, sizeof(d));
    c.buf = buf;
    c.len = len;
    c.wr = wr;
    c.wctx = wctx;
    err = o->libpng_only ? CFP_ERR_OK : decode_fast(&c, &d, o, info, st, &fast);
    if (!err && !fast) {
        err = cfp_png_decoder_create(&c, &d, st);
        if (err)
            return err;
        err = decode(&c, &d, o, info, st);
        if (!err && o->input_done)
            o->input_done(o->input_ctx);
    }
    /* Only the output image is still needed: free the rest before encoding. */
    cfp_png_decoder_release(&d);
    if (!err)
        err = cfp_png_encode_image(&c, &d.out, o->libpng_only, st);
    cfp_scratch_give(d.out.px);
    return err;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool cfp_png_peek(const unsigned char *buf, size_t len, struct cfp_png_header *h)
{
    static const unsigned char ihdr[8] = {0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    int d, t;

    if (len < CFP_PNG_HEAD_LEN || !cfp_png_sniff(buf, len) || memcmp(buf + 8, ihdr, 8) != 0)
        return false;
    h->width = be32(buf + 16);
    h->height = be32(buf + 20);
    d = h->depth = buf[24];
    t = h->color_type = buf[25];
    h->interlaced = buf[28] == 1;
    h->channels = 0;
    if (h->width == 0 || h->height == 0 || h->width > PNG_UINT_31_MAX ||
        h->height > PNG_UINT_31_MAX || buf[28] > 1)
        return false;
    switch (t) {
    case 0:
        return d == 1 || d == 2 || d == 4 || d == 8 || d == 16;
    case 3:
        return d == 1 || d == 2 || d == 4 || d == 8;
    case 2:
    case 4:
    case 6:
        return d == 8 || d == 16;
    default:
        return false;
    }
}

/* Scratch buffers of 2 MiB or more are rounded up to whole 2 MiB pages
 * (cfp_scratch.h): at most this much more than asked, per buffer. */
#define NEED_PAGE_SLACK ((uint64_t)2 << 20)
/* libpng's structs, zlib's inflate state and window, the resizer's axes
 * and chunk buffers, the encoder: less than this in all. */
#define NEED_FIXED ((uint64_t)1 << 20)

uint64_t cfp_png_need(const struct cfp_png_header *h, uint32_t max_side, bool stream)
{
    static const int samples[7] = {1, 0, 3, 1, 2, 0, 4};
    /* Channels after the transforms; a tRNS chunk may add alpha. */
    static const int chans[7] = {2, 0, 4, 4, 2, 0, 4};
    uint64_t w = h->width, ch = (uint64_t)(h->channels ? h->channels : chans[h->color_type & 7]);
    uint64_t px16 = ch * (h->depth == 16 ? 2 : 1); /* libpng's widest pixel */
    uint64_t raw_row = (w * (uint64_t)samples[h->color_type & 7] * (uint64_t)h->depth + 7) / 8 + 1;
    uint64_t need = NEED_FIXED;
    uint32_t ow, oh;

    cfp_resize_fit(h->width, h->height, max_side ? max_side : 1, &ow, &oh);
    need += 2 * (w * px16 + 64) + raw_row; /* libpng's row and previous row */
    need += w * ch;                        /* cfp's source row */
    need += (w + 4) * 16 + (uint64_t)ow * 16 * 17; /* resizer: box row, ring of <= 16 rows */
    need += (uint64_t)ow * oh * ch + NEED_PAGE_SLACK; /* the output image */
    if (h->interlaced)
        need += w * ch * h->height + NEED_PAGE_SLACK; /* every pass refines every row */
    else if (!stream && h->depth == 8 && h->color_type != 3 &&
             raw_row * h->height <= CFP_PNGFAST_MAX_RAW)
        need += raw_row * h->height + NEED_PAGE_SLACK; /* the fast path's inflated image */
    return need;
}
