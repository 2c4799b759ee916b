/* cfp_png_encode.c - the 8-bit PNG encoder of the image processor: libpng
 * with its adaptive row filters chosen here, vectorised (same bytes). */
#include <png.h>
#include <string.h>
#include <zlib.h>

#include "proc/cfp_png_internal.h"
#include "proc/cfp_pngfast.h"

/* zlib settings of the output: Z_RLE, matches of distance 1 only (the
 * level then only has to be non-zero). On 512 px photos LZ77 finds almost
 * nothing the row filters have not already removed: level 4 spent about
 * 2/3 of its time searching, Z_RLE is 3x faster and 2% smaller. It keeps
 * the runs flat areas filter into, so graphics grow only ~4% (a text page
 * 23%); level 1 was 20% larger on photos, Z_HUFFMAN_ONLY 31% larger on
 * graphics. Measurements in doc/png.md. */
#define PNG_ZLEVEL    4
#define PNG_ZSTRATEGY Z_RLE

struct encoder {
    png_structp png;
    png_infop info;
};

/* A filtered byte's cost in libpng's filter heuristic: its distance from 0
 * read as a signed byte. */
static inline uint32_t filter_cost(unsigned v)
{
    v &= 0xffu;
    return v < 128u ? v : 256u - v;
}

/* Adds the heuristic cost of bytes [from, to) of row x under each of the
 * five filters into cost[] (none, sub, up, avg, paeth); prev is the row
 * above, and from >= bpp. One branch-free pass without libpng's early
 * exit, so the compiler vectorises it. Blocks of at most 2^24 bytes keep
 * the 32-bit sums exact (cost <= 128 per byte). */
static void filter_costs(const unsigned char *restrict x, const unsigned char *restrict prev,
                         size_t from, size_t to, size_t bpp, uint64_t cost[5])
{
    while (from < to) {
        size_t end = to - from > ((size_t)1 << 24) ? from + ((size_t)1 << 24) : to;
        uint32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0;

        for (size_t i = from; i < end; i++) {
            int v = x[i], a = x[i - bpp], b = prev[i], c = prev[i - bpp];

            c0 += filter_cost((unsigned)v);
            c1 += filter_cost((unsigned)(v - a));
            c2 += filter_cost((unsigned)(v - b));
            c3 += filter_cost((unsigned)(v - ((a + b) >> 1)));
            c4 += filter_cost((unsigned)(v - cfp_paeth(a, b, c)));
        }
        cost[0] += c0;
        cost[1] += c1;
        cost[2] += c2;
        cost[3] += c3;
        cost[4] += c4;
        from = end;
    }
}

/* libpng's adaptive filter choice for row x (png_write_find_filter: the
 * least sum of filter_cost, the earliest filter on a tie), restricted to
 * the filters in allowed (PNG_FILTER_* flags). Returns one flag. */
static int pick_filter(const unsigned char *x, const unsigned char *prev, size_t n, size_t bpp,
                       int allowed)
{
    static const int flags[5] = {PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP, PNG_FILTER_AVG,
                                 PNG_FILTER_PAETH};
    uint64_t cost[5] = {0, 0, 0, 0, 0};
    int best = 0;

    /* The first pixel has no left neighbour: a = c = 0. */
    for (size_t i = 0; i < bpp && i < n; i++) {
        cost[0] += filter_cost(x[i]);
        cost[1] += filter_cost(x[i]);
        cost[2] += filter_cost((unsigned)(x[i] - prev[i]));
        cost[3] += filter_cost((unsigned)(x[i] - (prev[i] >> 1)));
        cost[4] += filter_cost((unsigned)(x[i] - prev[i]));
    }
    filter_costs(x, prev, bpp, n, bpp, cost);
    for (int f = 1; f < 5; f++)
        if ((allowed & flags[f]) && (!(allowed & flags[best]) || cost[f] < cost[best]))
            best = f;
    return flags[best];
}

/* Writes the rows with libpng's adaptive filters, but chooses each row's
 * filter here (pick_filter, the same choice, so the same bytes) and hands
 * libpng just that one: libpng's own heuristic tries all five filters in
 * scalar code and was over a quarter of the encoding time. Row 0 is left to
 * libpng: it must start with every filter enabled to keep the previous
 * row, and png_set_filter may change the set after the first row
 * (pngwrite.c). libpng drops Up, Avg and Paeth for 1-row images and Sub,
 * Avg and Paeth for 1-pixel-wide ones; so does allowed. */
static void write_rows(png_structp png, const struct cfp_img *img)
{
    size_t n = (size_t)img->width * (size_t)img->channels, bpp = (size_t)img->channels;
    int allowed = PNG_ALL_FILTERS;

    if (img->height == 1)
        allowed &= ~(PNG_FILTER_UP | PNG_FILTER_AVG | PNG_FILTER_PAETH);
    if (img->width == 1)
        allowed &= ~(PNG_FILTER_SUB | PNG_FILTER_AVG | PNG_FILTER_PAETH);
    for (uint32_t y = 0; y < img->height; y++) {
        const unsigned char *row = img->px + (size_t)y * img->stride;

        cfp_png_check_deadline(png, y);
        if (y > 0)
            png_set_filter(png, PNG_FILTER_TYPE_BASE,
                           pick_filter(row, row - img->stride, n, bpp, allowed));
        png_write_row(png, row);
    }
}

/* Encodes img through c->wr. See the file comment about setjmp. */
static cfp_err encode(struct png_ctx *c, const struct encoder *e, const struct cfp_img *img,
                      struct cfp_status *st)
{
    static const int types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGB_ALPHA};

    if (setjmp(png_jmpbuf(e->png)))
        return cfp_png_lib_failed(c, st, CFP_ERR_PNG_ENCODE, "PNG encode");
    png_set_write_fn(e->png, c, cfp_png_on_write, cfp_png_on_flush);
    png_set_IHDR(e->png, e->info, img->width, img->height, 8, types[img->channels - 1],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(e->png, PNG_ZLEVEL);
    png_set_compression_strategy(e->png, PNG_ZSTRATEGY);
    png_write_info(e->png, e->info);
    write_rows(e->png, img);
    png_write_end(e->png, e->info);
    return CFP_ERR_OK;
}

cfp_err cfp_png_encode_image(struct png_ctx *c, const struct cfp_img *img, struct cfp_status *st)
{
    struct encoder e;
    cfp_err err;

    memset(&e, 0, sizeof(e));
    e.png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, c, cfp_png_on_error, cfp_png_on_warning, c, cfp_png_on_malloc,
                                      cfp_png_on_free);
    if (!e.png)
        return cfp_status_set(st, CFP_ERR_NOMEM, "PNG encode: out of memory (write struct)");
    e.info = png_create_info_struct(e.png);
    if (!e.info) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "PNG encode: out of memory (info struct)");
        goto out_destroy;
    }
    err = encode(c, &e, img, st);
out_destroy:
    png_destroy_write_struct(&e.png, &e.info);
    return err;
}