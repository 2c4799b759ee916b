/* cfp_gen_png.c - chooses each generated image's size and PNG format and
 * encodes the scene (cfp_gen_scene.c) with libpng.
 *
 * Formats follow a fixed cycle of ten so that the first ten images already
 * hold every colour type, 8 and 16 bits, a sub-byte depth, Adam7 and not;
 * the next ten flip the interlace flag of each, so the default twenty hold
 * every (colour type, depth, interlace) combination of the main nine formats. */
#include <png.h>
#include <stdbool.h>
#include <string.h>

#include "lab/cfp_gen_internal.h"
#include "base/cfp_mem.h"

/* zlib level 3: the pixels carry sensor-like noise, so level 6 made files
 * only ~2% smaller but took twice as long (measured: 20 default images in
 * 2.8 s at level 3, 5.5 s at level 6). */
#define PNG_ZLEVEL 3

enum trns_kind { TRNS_NONE, TRNS_PALETTE, TRNS_GRAY_KEY };

struct png_fmt {
    int color_type;
    int depth;
};

static const struct png_fmt main_fmts[9] = {
    {PNG_COLOR_TYPE_RGB, 8},        {PNG_COLOR_TYPE_RGB_ALPHA, 8}, {PNG_COLOR_TYPE_GRAY, 8},
    {PNG_COLOR_TYPE_GRAY_ALPHA, 8}, {PNG_COLOR_TYPE_PALETTE, 8},   {PNG_COLOR_TYPE_RGB, 16},
    {PNG_COLOR_TYPE_RGB_ALPHA, 16}, {PNG_COLOR_TYPE_GRAY, 16},     {PNG_COLOR_TYPE_GRAY_ALPHA, 16},
};

/* Slot 9 of each cycle of ten: the sub-byte depths, in rotation. */
static const struct {
    struct png_fmt fmt;
    enum trns_kind trns;
} low_fmts[6] = {
    {{PNG_COLOR_TYPE_PALETTE, 4}, TRNS_PALETTE}, {{PNG_COLOR_TYPE_GRAY, 2}, TRNS_GRAY_KEY},
    {{PNG_COLOR_TYPE_PALETTE, 1}, TRNS_NONE},    {{PNG_COLOR_TYPE_GRAY, 4}, TRNS_NONE},
    {{PNG_COLOR_TYPE_PALETTE, 2}, TRNS_PALETTE}, {{PNG_COLOR_TYPE_GRAY, 1}, TRNS_GRAY_KEY},
};

/* Everything decided about one image before rendering. */
struct img_plan {
    unsigned index;
    uint32_t w, h;
    struct png_fmt fmt;
    bool interlace;
    enum trns_kind trns;
    unsigned channels;
    size_t rowbytes;
    png_color palette[256];
    png_byte trans[256];
    int npalette, ntrans;
};


static void plan_format(struct img_plan *p)
{
    unsigned slot = p->index % 10, cycle = p->index / 10;

    if (slot < 9) {
        p->fmt = main_fmts[slot];
        /* Palette images alternate with and without tRNS. */
        p->trns = slot == 4 && cycle % 2 == 0 ? TRNS_PALETTE : TRNS_NONE;
    } else {
        p->fmt = low_fmts[cycle % 6].fmt;
        p->trns = low_fmts[cycle % 6].trns;
    }
    p->interlace = (slot + cycle) % 2 == 1;
    p->channels = p->fmt.color_type == PNG_COLOR_TYPE_RGB          ? 3
                  : p->fmt.color_type == PNG_COLOR_TYPE_RGB_ALPHA  ? 4
                  : p->fmt.color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                                                                   : 1;
}

/* Size class by stratum: 6 in 10 images are large (longest side
 * 1200..2400), 3 medium (300..1199), 1 small (64x48 or 1..299); image 0 is
 * small so that tests asking for one image stay fast. */
static void plan_size(struct img_plan *p, enum cfp_gen_profile profile, struct cfp_rng *r)
{
    static const uint32_t aspect[][2] = {{3, 4}, {2, 3}, {9, 16}, {1, 1}, {4, 5}, {1, 2}, {5, 8}};
    unsigned cls = (cfp_gen_stratum(p->index) + 9) % 10;
    uint32_t lng, shrt, a;

    if (profile == CFP_GEN_SMALL)
        lng = (uint32_t)cfp_rng_range(r, 32, 256);
    else if (profile == CFP_GEN_LARGE)
        lng = (uint32_t)cfp_rng_range(r, 1600, 2400);
    else if (cls == 9 && cfp_rng_chance(r, 1, 3))
        lng = 64;
    else if (cls == 9)
        lng = (uint32_t)cfp_rng_range(r, 1, 299);
    else if (cls >= 6)
        lng = (uint32_t)cfp_rng_range(r, 300, 1199);
    else
        lng = (uint32_t)cfp_rng_range(r, 1200, 2400);
    a = (uint32_t)cfp_rng_below(r, sizeof(aspect) / sizeof(aspect[0]));
    shrt = lng == 64 ? 48 : lng * aspect[a][0] / aspect[a][1];
    if (shrt == 0)
        shrt = 1;
    if (shrt > 1600) { /* square 2400 would be far bigger than the rest */
        lng = lng * 1600 / shrt;
        shrt = 1600;
    }
    /* One in three portrait. */
    if (cfp_rng_chance(r, 1, 3)) {
        p->w = shrt;
        p->h = lng;
    } else {
        p->w = lng;
        p->h = shrt;
    }
}

/* 8-bit palettes are a 6x6x6 colour cube; with tRNS they start with one
 * transparent entry and a 3x3x3 half-transparent cube. Sub-byte palettes
 * are a ramp between two random colours, entry 0 transparent with tRNS. */
static void plan_palette(struct img_plan *p, struct cfp_rng *r)
{
    int n = 0;

    if (p->fmt.depth == 8) {
        if (p->trns == TRNS_PALETTE) {
            p->palette[n++] = (png_color){0, 0, 0};
            for (int i = 0; i < 27; i++, n++)
                p->palette[n] = (png_color){(png_byte)(i / 9 * 127), (png_byte)(i / 3 % 3 * 127),
                                            (png_byte)(i % 3 * 127)};
            p->ntrans = n;
            memset(p->trans, 128, (size_t)n);
            p->trans[0] = 0;
        }
        for (int i = 0; i < 216; i++, n++)
            p->palette[n] = (png_color){(png_byte)(i / 36 * 51), (png_byte)(i / 6 % 6 * 51),
                                        (png_byte)(i % 6 * 51)};
    } else {
        png_byte a[3], b[3];
        int top = (1 << p->fmt.depth) - 1;
        for (int c = 0; c < 3; c++) {
            a[c] = (png_byte)cfp_rng_below(r, 96);
            b[c] = (png_byte)cfp_rng_range(r, 160, 255);
        }
        for (n = 0; n <= top; n++)
            p->palette[n] = (png_color){(png_byte)(a[0] + (b[0] - a[0]) * n / top),
                                        (png_byte)(a[1] + (b[1] - a[1]) * n / top),
                                        (png_byte)(a[2] + (b[2] - a[2]) * n / top)};
        if (p->trns == TRNS_PALETTE) {
            p->trans[0] = 0;
            p->ntrans = 1;
        }
    }
    p->npalette = n;
}

static void plan_image(struct img_plan *p, unsigned index, enum cfp_gen_profile profile,
                       struct cfp_rng *r)
{
    memset(p, 0, sizeof(*p));
    p->index = index;
    plan_format(p);
    plan_size(p, profile, r);
    if (p->fmt.color_type == PNG_COLOR_TYPE_PALETTE)
        plan_palette(p, r);
    /* w <= 2400 here, so this cannot overflow. */
    p->rowbytes = ((size_t)p->w * p->channels * (size_t)p->fmt.depth + 7) / 8;
}

/* 4x4 Bayer matrix: ordered dithering keeps the quantised images textured
 * rather than banded, and is deterministic. */
static const uint8_t bayer[4][4] = {{0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};

/* Quantises v (0..65535) to 0..levels-1 with dither threshold t (0..15). */
static unsigned quant(uint32_t v, unsigned levels, unsigned t)
{
    uint64_t q = ((uint64_t)v * (levels - 1) + (2 * t + 1) * UINT64_C(65535) / 32) / 65535;

    return q > levels - 1 ? levels - 1 : (unsigned)q;
}

static uint32_t luma(const uint16_t *px)
{
    /* Rec. 601 weights in 16.16 fixed point; they sum to 65536. */
    return (px[0] * UINT32_C(19595) + px[1] * UINT32_C(38470) + px[2] * UINT32_C(7471)) >> 16;
}

static unsigned palette_index(const struct img_plan *p, const uint16_t *px, unsigned t)
{
    if (p->fmt.depth < 8)
        return quant(luma(px), 1u << p->fmt.depth, t);
    if (p->trns == TRNS_PALETTE && px[3] < 16384)
        return 0;
    if (p->trns == TRNS_PALETTE && px[3] < 49152)
        return 1 + quant(px[0], 3, t) * 9 + quant(px[1], 3, t) * 3 + quant(px[2], 3, t);
    return (unsigned)p->ntrans + quant(px[0], 6, t) * 36 + quant(px[1], 6, t) * 6 +
           quant(px[2], 6, t);
}

/* Packs one row of 16-bit RGBA into the PNG row format of p. */
static void pack_row(const struct img_plan *p, uint32_t y, const uint16_t *rgba, png_byte *out)
{
    unsigned depth = (unsigned)p->fmt.depth;

    if (depth < 8 || p->fmt.color_type == PNG_COLOR_TYPE_PALETTE) {
        memset(out, 0, p->rowbytes);
        for (uint32_t x = 0; x < p->w; x++) {
            const uint16_t *px = rgba + 4 * (size_t)x;
            unsigned t = bayer[y & 3][x & 3];
            unsigned v = p->fmt.color_type == PNG_COLOR_TYPE_PALETTE
                             ? palette_index(p, px, t)
                             : quant(luma(px), 1u << depth, t);
            size_t bit = (size_t)x * depth;
            /* Sub-byte pixels are packed most significant bits first. */
            out[bit / 8] |= (png_byte)(v << (8 - depth - bit % 8));
        }
        return;
    }
    for (uint32_t x = 0; x < p->w; x++) {
        const uint16_t *px = rgba + 4 * (size_t)x;
        uint32_t ch[4] = {px[0], px[1], px[2], px[3]};
        if (p->channels <= 2) {
            ch[0] = luma(px);
            ch[1] = px[3];
        }
        for (unsigned c = 0; c < p->channels; c++) {
            if (depth == 16) {
                *out++ = (png_byte)(ch[c] >> 8); /* PNG samples are big-endian */
                *out++ = (png_byte)(ch[c] & 0xff);
            } else {
                *out++ = (png_byte)(ch[c] >> 8);
            }
        }
    }
}

static png_voidp png_alloc_cb(png_structp png, png_alloc_size_t n)
{
    png_voidp q = cfp_malloc(n);

    if (!q)
        ((struct cfp_gen_pngerr *)png_get_error_ptr(png))->nomem = true;
    return q;
}

static void png_free_cb(png_structp png, png_voidp q)
{
    (void)png;
    cfp_free(q);
}

static void png_error_cb(png_structp png, png_const_charp msg)
{
    struct cfp_gen_pngerr *e = png_get_error_ptr(png);

    (void)snprintf(e->msg, sizeof(e->msg), "%s", msg);
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    /* Nothing we write should warn; a warning does not spoil the file. */
    (void)png;
    (void)msg;
}

png_structp cfp_gen_png_writer(struct cfp_gen_pngerr *e)
{
    return png_create_write_struct_2(PNG_LIBPNG_VER_STRING, e, png_error_cb, png_warning_cb, NULL,
                                     png_alloc_cb, png_free_cb);
}

/* Row filters: one image in six lets libpng choose per row (a mix of all
 * five types in one image), the others use one fixed type each, so every
 * filter type is well represented and encoding stays fast (the adaptive
 * choice tries all five on every row). */
static int filter_for(const struct img_plan *p)
{
    static const int f[] = {PNG_ALL_FILTERS, PNG_FILTER_SUB,   PNG_FILTER_UP,
                            PNG_FILTER_AVG,  PNG_FILTER_PAETH, PNG_FILTER_NONE};

    return f[p->index % 6];
}

/* Header chunks: IHDR, PLTE, tRNS, and a tEXt naming the generator (no
 * tIME: a timestamp would make the bytes differ between runs). */
static void write_header(png_structp png, png_infop info, const struct img_plan *p)
{
    png_text text[2];
    png_color_16 key = {0};

    png_set_IHDR(png, info, p->w, p->h, p->fmt.depth, p->fmt.color_type,
                 p->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (p->fmt.color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_PLTE(png, info, p->palette, p->npalette);
    if (p->trns == TRNS_PALETTE)
        png_set_tRNS(png, info, p->trans, p->ntrans, NULL);
    else if (p->trns == TRNS_GRAY_KEY)
        png_set_tRNS(png, info, NULL, 0, &key); /* black is transparent */
    if (p->index % 3 == 0 && p->fmt.color_type != PNG_COLOR_TYPE_PALETTE)
        png_set_sRGB(png, info, PNG_sRGB_INTENT_PERCEPTUAL);
    memset(text, 0, sizeof(text));
    text[0].compression = PNG_TEXT_COMPRESSION_NONE;
    text[0].key = "Software";
    text[0].text = "cfp dataset generator";
    text[1].compression = PNG_TEXT_COMPRESSION_NONE;
    text[1].key = "Comment";
    text[1].text = "synthetic test image: gradients, shapes, texture, noise";
    png_set_text(png, info, text, 2);
    png_set_compression_level(png, PNG_ZLEVEL);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filter_for(p));
    png_write_info(png, info);
}

/* Buffers the rows need: one row of 16-bit RGBA and the packed PNG rows
 * (the whole image for Adam7, whose passes need every row at once). */
struct img_bufs {
    uint16_t *rgba;
    png_byte *pixels;
    png_bytep *rows;
};

static void write_pixels(png_structp png, const struct img_plan *p, struct cfp_gen_scene *sc,
                         const struct img_bufs *b)
{
    for (uint32_t y = 0; y < p->h; y++) {
        png_byte *row = p->interlace ? b->rows[y] : b->pixels;
        cfp_gen_scene_row(sc, y, b->rgba);
        pack_row(p, y, b->rgba, row);
        if (!p->interlace)
            png_write_row(png, row);
    }
    if (p->interlace)
        png_write_image(png, b->rows);
}

/* Runs libpng; every libpng error longjmps back here. Nothing is modified
 * between setjmp and a possible longjmp except through pointers, so no local
 * needs to be volatile. */
static cfp_err encode(FILE *f, const struct img_plan *p, struct cfp_gen_scene *sc,
                      const struct img_bufs *b, struct cfp_gen_pngerr *ctx)
{
    png_structp png = cfp_gen_png_writer(ctx);
    png_infop info;

    if (!png)
        return CFP_ERR_NOMEM;
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return CFP_ERR_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return ctx->nomem ? CFP_ERR_NOMEM : CFP_ERR_PNG_ENCODE;
    }
    png_init_io(png, f);
    write_header(png, info, p);
    write_pixels(png, p, sc, b);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return CFP_ERR_OK;
}

static cfp_err alloc_bufs(struct img_bufs *b, const struct img_plan *p)
{
    size_t n = p->interlace ? p->h : 1;

    b->rgba = cfp_malloc((size_t)p->w * 4 * sizeof(*b->rgba));
    b->pixels = cfp_malloc(n * p->rowbytes);
    b->rows = p->interlace ? cfp_malloc(n * sizeof(*b->rows)) : NULL;
    if (!b->rgba || !b->pixels || (p->interlace && !b->rows))
        return CFP_ERR_NOMEM;
    for (size_t y = 0; p->interlace && y < n; y++)
        b->rows[y] = b->pixels + y * p->rowbytes;
    return CFP_ERR_OK;
}

static void free_bufs(struct img_bufs *b)
{
    cfp_free(b->rgba);
    cfp_free(b->pixels);
    cfp_free(b->rows);
}

cfp_err cfp_gen_png_file(FILE *f, uint64_t seed, unsigned index, enum cfp_gen_profile profile,
                         struct cfp_status *st)
{
    struct cfp_rng r;
    struct img_plan plan;
    struct cfp_gen_scene *sc = NULL;
    struct img_bufs bufs = {0};
    struct cfp_gen_pngerr ctx = {.nomem = false};
    cfp_err err;

    cfp_rng_seed_stream(&r, seed, CFP_GEN_STREAM_IMAGE, index);
    plan_image(&plan, index, profile, &r);
    /* Palette and sub-byte images get their texture from dithering. */
    err = cfp_gen_scene_new(
        &sc, &r, plan.w, plan.h,
        plan.fmt.depth < 8 || plan.npalette ? 0 : (unsigned)cfp_rng_range(&r, 256, 1024));
    if (err)
        return cfp_status_set(st, err, "image %ux%u: %s", plan.w, plan.h, cfp_strerror(err));
    err = alloc_bufs(&bufs, &plan);
    if (err) {
        cfp_status_set(st, err, "image %ux%u: %s", plan.w, plan.h, cfp_strerror(err));
        goto out_free_bufs;
    }
    err = encode(f, &plan, sc, &bufs, &ctx);
    /* libpng reports a failed fwrite as "Write Error"; leave that to the
     * caller, who names the file and the errno (see cfp_gen_internal.h). */
    if (err && ferror(f))
        err = CFP_ERR_OK;
    if (err)
        cfp_status_set(st, err, "libpng: %s",
                       ctx.nomem    ? "out of memory"
                       : ctx.msg[0] ? ctx.msg
                                    : cfp_strerror(err));
out_free_bufs:
    free_bufs(&bufs);
    cfp_gen_scene_free(&sc);
    return err;
}
