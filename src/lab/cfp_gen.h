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

#endif
