/* cfp_gen.h - the test-dataset generator behind `cfp --generate-dataset`.
 *
 * Writes PNG images, English-like UTF-8 texts and CSV files into a directory.
 * The output is a pure function of the seed and the counts: the same options
 * give the same bytes on every run (no clock, no rand(), no locale, integer
 * pixel arithmetic). File i of a kind depends only on (seed, kind, i), so
 * asking for more files adds files without changing the earlier ones.
 * doc/dataset.md describes the content in detail.
 */
#ifndef CFP_GEN_H
#define CFP_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_err.h"

/* Defaults used by the CLI when an option is not given. */
#define CFP_GEN_DEFAULT_IMAGES 20
#define CFP_GEN_DEFAULT_TEXTS  20
#define CFP_GEN_DEFAULT_CSV    10
#define CFP_GEN_DEFAULT_SEED   42

/* Largest accepted count per kind (file names use at least 4 digits). */
#define CFP_GEN_MAX_COUNT 100000

/* What the files look like. MIXED is the default dataset; the two others
 * make the comparison's workloads: SMALL is many small files (where waiting
 * on the network dominates), LARGE is large images only (where the CPU does). */
enum cfp_gen_profile {
    CFP_GEN_MIXED = 0, /* sizes spread as described above */
    CFP_GEN_SMALL,     /* images 32..256 px, texts 1..16 KiB, CSVs 10..~160 rows */
    CFP_GEN_LARGE      /* images 1600..2400 px on the longest side */
};

struct cfp_gen_opts {
    const char *dir;     /* output directory; created with parents */
    unsigned num_images; /* image_0000.png ... */
    unsigned num_texts;  /* text_0000.txt ... */
    unsigned num_csv;    /* data_0000.csv ... */
    uint64_t seed;
    enum cfp_gen_profile profile;
};

/* Called after each file is in place, on the thread that called
 * cfp_gen_dataset(), with the number of files done so far and the total. */
typedef void (*cfp_gen_progress_fn)(void *ctx, unsigned done, unsigned total);

/* Creates o->dir (and its parents) if needed and writes the files: images
 * first, then texts, then CSVs. Each file is written to a temporary name in
 * o->dir and renamed into place, so a file with a final name is always
 * complete; existing files with those names are replaced. progress may be
 * NULL; pctx is passed to it unchanged.
 * Returns CFP_ERR_OK, or CFP_ERR_USAGE (no dir, count over
 * CFP_GEN_MAX_COUNT), CFP_ERR_IO (cannot create the directory or write a
 * file), CFP_ERR_NOMEM, CFP_ERR_PNG_ENCODE, with a message naming the path
 * and cause in st (st may be NULL). Files completed before a failure stay. */
cfp_err cfp_gen_dataset(const struct cfp_gen_opts *o, cfp_gen_progress_fn progress, void *pctx,
                        struct cfp_status *st);

/* One huge photo-like PNG, streamed (cfp_gen_big.c, `cfp generate-image`):
 * the dataset's scene (gradients, shapes, texture, fine noise) at any size
 * PNG allows, written row by row, so memory is a few rows, O(width), and
 * never depends on the height: 40000x25000 (1 GP) takes a few MB. */

/* Colour types of the image, all 8-bit. */
enum cfp_gen_color {
    CFP_GEN_GRAY = 0,
    CFP_GEN_GRAY_ALPHA,
    CFP_GEN_RGB,
    CFP_GEN_RGBA,
};

#define CFP_GEN_BIG_SIDE_MAX      0x7fffffffu /* PNG's limit: 2^31 - 1 */
#define CFP_GEN_BIG_NOISE_MAX     255u
#define CFP_GEN_BIG_DEFAULT_NOISE 3u /* +-3 levels: like a camera's sensor noise */
#define CFP_GEN_BIG_DEFAULT_LEVEL 1  /* zlib level: noise barely compresses anyway */

struct cfp_gen_big_opts {
    const char *path;       /* the PNG; its directory must exist */
    uint32_t width, height; /* 1..CFP_GEN_BIG_SIDE_MAX each */
    uint64_t seed;
    enum cfp_gen_color color;
    bool interlace; /* Adam7 */
    unsigned noise; /* fine noise, +-noise levels of 8 bits (0..255); 0: smooth */
    int zlevel;     /* zlib level 0..9 */
};

/* Called on the generating thread after each row libpng takes, with the
 * rows done and the total (height, times 7 with Adam7: libpng takes every
 * row once per pass). */
typedef void (*cfp_gen_big_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Writes the image o describes to o->path, through a temporary file in the
 * same directory renamed into place (an existing file is replaced; a
 * failure leaves none). The bytes are a pure function of *o except path
 * (and of the zlib build, like the dataset's); the pixels do not depend on
 * color, interlace or zlevel: gray is the luma of the RGB picture.
 * progress may be NULL; pctx is passed to it unchanged.
 * Returns CFP_ERR_OK, or CFP_ERR_USAGE (an option out of range),
 * CFP_ERR_TOO_BIG (a row too large to address), CFP_ERR_NOMEM,
 * CFP_ERR_IO (cannot create, write or rename the file),
 * CFP_ERR_PNG_ENCODE, or CFP_ERR_STOPPED (a stop was requested, cfp_stop.h:
 * checked before each row), with a message naming the path and cause in st
 * (st may be NULL). */
cfp_err cfp_gen_big_png(const struct cfp_gen_big_opts *o, cfp_gen_big_progress_fn progress,
                        void *pctx, struct cfp_status *st);

#endif
