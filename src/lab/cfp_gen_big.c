/* cfp_gen_big.c - one huge photo-like PNG, streamed (`cfp generate-image`).
 *
 * The dataset's scene (cfp_gen_scene.c) rendered one row at a time and
 * handed to libpng row by row, so the process holds one 16-bit RGBA row, one
 * packed row, libpng's two rows and zlib's window: O(width), never the
 * image. Adam7 is streamed too: with png_set_interlace_handling() libpng
 * takes every full row once per pass and keeps the pixels of that pass, so
 * the rows a pass uses are rendered again for it (15/8 renders per row in
 * all) instead of buffering the image. */
#include "lab/cfp_gen.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lab/cfp_gen_internal.h"
#include "base/cfp_mem.h"
#include "base/cfp_stop.h"

#define BIG_PATH_MAX 4096

/* libpng's own choice per row, as most encoders write photos: a decoder
 * benchmarked on these images meets every filter type, not only the
 * cheapest. Trying all five on each row costs time once, the images are
 * generated once (10000x10000 RGB: 7.3 s against 5.0 s for SUB alone,
 * 148.6 against 154.2 MB). */
#define BIG_FILTER PNG_ALL_FILTERS

/* IDAT chunks of 256 KiB instead of libpng's 8 KiB: 1/32 of the chunk
 * headers and CRC calls for a multi-GB stream. */
#define BIG_ZBUF (256 * 1024)

static const unsigned channels_of[] = {1, 2, 3, 4};
static const int png_type_of[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                  PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};

/* Everything one encode needs. rgba and row are w pixels each. */
struct big_job {
    const struct cfp_gen_big_opts *o;
    struct cfp_gen_scene *sc;
    uint16_t *rgba;
    png_byte *row;
    cfp_gen_big_progress_fn progress;
    void *pctx;
    uint64_t done, total;
    bool stopped;  /* a stop was requested (cfp_stop.h) */
    struct cfp_gen_pngerr err; /* libpng's verdict: out of memory, its message */
};

static cfp_err check_opts(const struct cfp_gen_big_opts *o, struct cfp_status *st)
{
    if (!o || !o->path || !*o->path)
        return cfp_status_set(st, CFP_ERR_USAGE, "generate image: no output path");
    if (o->width < 1 || o->width > CFP_GEN_BIG_SIDE_MAX || o->height < 1 ||
        o->height > CFP_GEN_BIG_SIDE_MAX)
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: size %ux%u: each side must be 1..%u", o->path,
                              o->width, o->height, CFP_GEN_BIG_SIDE_MAX);
    if ((unsigned)o->color > CFP_GEN_RGBA)
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: no colour type %u", o->path,
                              (unsigned)o->color);
    if (o->noise > CFP_GEN_BIG_NOISE_MAX)
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: noise %u is over %u", o->path, o->noise,
                              CFP_GEN_BIG_NOISE_MAX);
    if (o->zlevel < 0 || o->zlevel > 9)
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: zlib level %d is not 0..9", o->path,
                              o->zlevel);
    return CFP_ERR_OK;
}

/* The directory of path ("." for a bare name) into dir. */
static cfp_err dir_of(const char *path, char *dir, size_t size, struct cfp_status *st)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;

    if (n >= size)
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: path too long", path);
    if (!slash)
        memcpy(dir, ".", 2);
    else if (n == 0)
        memcpy(dir, "/", 2);
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return CFP_ERR_OK;
}

/* The 16-bit RGBA row as the PNG's 8-bit samples (gray: Rec. 601 luma in
 * 16.16 fixed point, as the dataset's images). */
static void pack_row(const struct big_job *j)
{
    const uint16_t *px = j->rgba;
    png_byte *out = j->row;
    enum cfp_gen_color c = j->o->color;

    for (uint32_t x = 0; x < j->o->width; x++, px += 4) {
        if (c == CFP_GEN_GRAY || c == CFP_GEN_GRAY_ALPHA) {
            uint32_t l =
                (px[0] * UINT32_C(19595) + px[1] * UINT32_C(38470) + px[2] * UINT32_C(7471)) >> 16;
            *out++ = (png_byte)(l >> 8);
        } else {
            *out++ = (png_byte)(px[0] >> 8);
            *out++ = (png_byte)(px[1] >> 8);
            *out++ = (png_byte)(px[2] >> 8);
        }
        if (c == CFP_GEN_GRAY_ALPHA || c == CFP_GEN_RGBA)
            *out++ = (png_byte)(px[3] >> 8);
    }
}

/* IHDR and a tEXt naming the generator (no tIME: the bytes must not depend
 * on the clock). libpng refuses sides over 1,000,000 unless the user limits
 * are raised, which they are here to PNG's own limit. */
static void write_header(png_structp png, png_infop info, const struct cfp_gen_big_opts *o)
{
    png_text text;

    png_set_user_limits(png, CFP_GEN_BIG_SIDE_MAX, CFP_GEN_BIG_SIDE_MAX);
    png_set_IHDR(png, info, o->width, o->height, 8, png_type_of[o->color],
                 o->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    memset(&text, 0, sizeof(text));
    text.compression = PNG_TEXT_COMPRESSION_NONE;
    text.key = "Software";
    text.text = "cfp generate-image";
    png_set_text(png, info, &text, 1);
    png_set_compression_level(png, o->zlevel);
    png_set_compression_buffer_size(png, BIG_ZBUF);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, BIG_FILTER);
    png_write_info(png, info);
}

/* Every row, once per pass. libpng ignores the rows a pass does not use
 * (and whole passes an image too narrow has no pixels in), so only the
 * others are rendered; the buffer still goes to libpng for each row, as
 * png_write_row() counts rows to know where it is. */
static void write_rows(png_structp png, struct big_job *j, int passes)
{
    const struct cfp_gen_big_opts *o = j->o;

    for (int pass = 0; pass < passes; pass++) {
        bool cols = !o->interlace || PNG_PASS_COLS(o->width, pass) > 0;

        for (uint32_t y = 0; y < o->height; y++) {
            if (cfp_stop_requested()) {
                j->stopped = true;
                png_error(png, "stopped");
            }
            if (cols && (!o->interlace || PNG_ROW_IN_INTERLACE_PASS(y, pass))) {
                cfp_gen_scene_row(j->sc, y, j->rgba);
                pack_row(j);
            }
            png_write_row(png, j->row);
            j->done++;
            if (j->progress)
                j->progress(j->pctx, j->done, j->total);
        }
    }
}

/* Runs libpng; every libpng error longjmps back here. Nothing is modified
 * between setjmp and a possible longjmp except through pointers, so no local
 * needs to be volatile. */
static cfp_err encode(FILE *f, struct big_job *j)
{
    png_structp png = cfp_gen_png_writer(&j->err);
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
        return j->err.nomem ? CFP_ERR_NOMEM : j->stopped ? CFP_ERR_STOPPED : CFP_ERR_PNG_ENCODE;
    }
    png_init_io(png, f);
    write_header(png, info, j->o);
    j->total = (uint64_t)j->o->height * (uint64_t)png_set_interlace_handling(png);
    write_rows(png, j, (int)(j->total / j->o->height));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return CFP_ERR_OK;
}

/* Scene, rows and encoder for the image of j->o into f. */
static cfp_err write_image(FILE *f, struct big_job *j, struct cfp_status *st)
{
    const struct cfp_gen_big_opts *o = j->o;
    struct cfp_rng r;
    cfp_err err;

#if SIZE_MAX < UINT64_MAX
    /* 8 bytes a pixel for the RGBA row: where size_t is 32 bits, it cannot
     * count them all (on 64 bits every side up to 2^31 fits). */
    if ((size_t)o->width > SIZE_MAX / 8)
        return cfp_status_set(st, CFP_ERR_TOO_BIG, "width %u: row too large", o->width);
#endif
    cfp_rng_seed_stream(&r, o->seed, CFP_GEN_STREAM_BIG, 0);
    err = cfp_gen_scene_new(&j->sc, &r, o->width, o->height, o->noise * 257u);
    if (err)
        return cfp_status_set(st, err, "scene %ux%u: %s", o->width, o->height, cfp_strerror(err));
    j->rgba = cfp_malloc((size_t)o->width * 4 * sizeof(*j->rgba));
    j->row = cfp_malloc((size_t)o->width * channels_of[o->color]);
    if (!j->rgba || !j->row) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "rows of %u pixels: out of memory", o->width);
        goto out_free;
    }
    err = encode(f, j);
    /* libpng reports a failed fwrite as "Write Error"; the caller names
     * the file and the errno from ferror(f) instead. */
    if (err && ferror(f))
        err = CFP_ERR_OK;
    if (err == CFP_ERR_STOPPED)
        cfp_status_set(st, err, "stopped at row %llu of %llu", (unsigned long long)j->done,
                       (unsigned long long)j->total);
    else if (err)
        cfp_status_set(st, err, "libpng: %s",
                       j->err.nomem    ? "out of memory"
                       : j->err.msg[0] ? j->err.msg
                                   : cfp_strerror(err));
out_free:
    cfp_free(j->row);
    cfp_free(j->rgba);
    cfp_gen_scene_free(&j->sc);
    return err;
}

cfp_err cfp_gen_big_png(const struct cfp_gen_big_opts *o, cfp_gen_big_progress_fn progress,
                        void *pctx, struct cfp_status *st)
{
    char dir[BIG_PATH_MAX], tmp[BIG_PATH_MAX];
    struct big_job j = {.o = o, .progress = progress, .pctx = pctx};
    FILE *f;
    cfp_err err = check_opts(o, st);

    if (err)
        return err;
    err = dir_of(o->path, dir, sizeof(dir), st);
    if (!err)
        err = cfp_gen_open_temp(dir, tmp, sizeof(tmp), &f, st);
    if (err)
        return err;
    /* Large writes: the output is hundreds of MB to GB. */
    (void)setvbuf(f, NULL, _IOFBF, 1 << 20);
    err = write_image(f, &j, st);
    if (err) {
        fclose(f);
        goto out_unlink;
    }
    err = cfp_gen_close_checked(f, o->path, st);
    if (err)
        goto out_unlink;
    if (rename(tmp, o->path) != 0) {
        err = cfp_status_set(st, CFP_ERR_IO, "rename %s to %s: %s", tmp, o->path, strerror(errno));
        goto out_unlink;
    }
    return CFP_ERR_OK;
out_unlink:
    unlink(tmp);
    if (err != CFP_ERR_IO)
        cfp_status_prefix(st, "generate %s", o->path);
    return err;
}
