/* cfp_gen_internal.h - private interface between the parts of the dataset
 * generator: cfp_gen.c (directory, temp files, order), cfp_gen_png.c and
 * cfp_gen_scene.c (images), cfp_gen_words.c (vocabulary), cfp_gen_text.c and
 * cfp_gen_csv.c; cfp_gen_big.c (one huge image) shares the scene and the
 * temp files. Not for use outside cfp_gen_*.c. */
#ifndef CFP_GEN_INTERNAL_H
#define CFP_GEN_INTERNAL_H

#include <png.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/cfp_err.h"
#include "lab/cfp_gen.h"
#include "base/cfp_rng.h"

/* Determinism rule for every cfp_gen_*.c: draw at most one random number
 * per function argument list or initialiser list. The order in which C
 * evaluates arguments and initialisers is unspecified (gcc and clang differ),
 * so `f(cfp_rng_next(r), cfp_rng_next(r))` gives different files with
 * different compilers. Draw into locals, one statement each. (`&&`, `||`,
 * `?:`, `,` and separate declarators are sequenced and safe.) */

/* Stream numbers for cfp_rng_seed_stream(): one per kind of file, so image 3
 * and text 3 draw unrelated numbers. Never renumber: it changes the data. */
enum cfp_gen_stream {
    CFP_GEN_STREAM_IMAGE = 1,
    CFP_GEN_STREAM_TEXT = 2,
    CFP_GEN_STREAM_CSV = 3,
    CFP_GEN_STREAM_VOCAB = 4,
    CFP_GEN_STREAM_BIG = 5, /* cfp_gen_big.c: index 0 */
};

/* What the libpng callbacks of a generator's write leave behind. */
struct cfp_gen_pngerr {
    bool nomem;    /* an allocation failed */
    char msg[128]; /* libpng's error message */
};

/* A libpng write struct allocating through cfp_malloc, whose errors land in
 * e (its error pointer) and longjmp; warnings are dropped. NULL when out of
 * memory. */
png_structp cfp_gen_png_writer(struct cfp_gen_pngerr *e);

/* Writes file number index of its kind to f (opened for writing by the
 * caller, who also flushes, checks and closes it). The generators stop early
 * when ferror(f) is set; the caller reports the write error. Return
 * CFP_ERR_OK, CFP_ERR_NOMEM or CFP_ERR_PNG_ENCODE with a message in st. */
cfp_err cfp_gen_png_file(FILE *f, uint64_t seed, unsigned index, enum cfp_gen_profile profile,
                         struct cfp_status *st);
cfp_err cfp_gen_text_file(FILE *f, uint64_t seed, unsigned index, enum cfp_gen_profile profile,
                          struct cfp_status *st);
cfp_err cfp_gen_csv_file(FILE *f, uint64_t seed, unsigned index, enum cfp_gen_profile profile,
                         struct cfp_status *st);

/* Opens a fresh temporary file "DIR/.cfp-gen-XXXXXX" (mode 0644) for
 * writing; its name goes to tmp (tmpsz bytes). The caller renames or
 * unlinks it. CFP_ERR_USAGE (path too long) or CFP_ERR_IO, message in st. */
cfp_err cfp_gen_open_temp(const char *dir, char *tmp, size_t tmpsz, FILE **out,
                          struct cfp_status *st);

/* Flushes and closes f (always closed), turning any stream error into
 * CFP_ERR_IO with a message naming path. */
cfp_err cfp_gen_close_checked(FILE *f, const char *path, struct cfp_status *st);

/* Position of file index in a cycle of 10 "strata": within each run of ten
 * consecutive indices every value 0..9 occurs once, index 0 gets 0, and the
 * order shifts from one run of ten to the next. Used to spread sizes so that
 * even a few files cover small and large ones (random draws might not). */
unsigned cfp_gen_stratum(unsigned index);

/* A value between lo and about lo * 2^(span_q10 / 1024), log-uniformly
 * distributed within the given stratum (0..9) of that range: stratum 0 is the
 * smallest tenth of the (logarithmic) range. Integer-only. */
uint64_t cfp_gen_log_spread(struct cfp_rng *r, unsigned stratum, uint64_t lo, unsigned span_q10);

/* The word list shared by texts and CSVs: common English words (with
 * contractions) at the top, then generated pseudo-words, drawn with a
 * Zipf-like frequency (rank r has weight ~ 1 / (r + 2)). Opaque. */
struct cfp_gen_vocab;

/* Builds the vocabulary (the same for every seed, so all files share one
 * "language"). Caller frees with cfp_gen_vocab_free(). CFP_ERR_NOMEM. */
cfp_err cfp_gen_vocab_new(struct cfp_gen_vocab **out);

/* Frees *pv (NULL allowed) and sets *pv = NULL. */
void cfp_gen_vocab_free(struct cfp_gen_vocab **pv);

/* Draws one word (lower-case ASCII letters and apostrophes, NUL-terminated,
 * valid as long as v); *len receives its length in bytes. Non-ASCII words
 * come from cfp_gen_multibyte_word() instead. */
const char *cfp_gen_vocab_pick(const struct cfp_gen_vocab *v, struct cfp_rng *r, size_t *len);

/* A random non-ASCII word (accented Latin, Greek, Cyrillic, CJK, emoji),
 * valid UTF-8, static storage. */
const char *cfp_gen_multibyte_word(struct cfp_rng *r);

/* An image "scene": a gradient background, shapes (rectangles, circles,
 * rings, ellipses, thick lines, checkerboards), a smooth value-noise texture
 * and fine per-pixel noise, rendered row by row in 16-bit RGBA. Any row can
 * be rendered in any order with the same result (noise is hashed from the
 * pixel position), so a writer can stream rows. Memory is O(w), whatever h:
 * the texture's random grid is drawn two rows at a time as rendering moves
 * down; going back up draws it again from its start (cheap: one number per
 * cell-by-cell block), so render top to bottom, once per Adam7 pass. Opaque. */
struct cfp_gen_scene;

/* Builds a scene of w x h pixels (both 1..2^31 - 1) from r's next numbers;
 * fine noise of +-noise_amp in 16-bit units (0: none). The texture grid's
 * numbers come after those r has given when this returns, from a copy of r:
 * r is not advanced past them. Caller frees with cfp_gen_scene_free().
 * CFP_ERR_NOMEM or CFP_ERR_TOO_BIG (a side over 2^31 - 1). */
cfp_err cfp_gen_scene_new(struct cfp_gen_scene **out, struct cfp_rng *r, uint32_t w, uint32_t h,
                          unsigned noise_amp);

/* Frees *ps (NULL allowed) and sets *ps = NULL. */
void cfp_gen_scene_free(struct cfp_gen_scene **ps);

/* Renders row y (< h) into rgba: 4 * w values, R G B A, 0..65535. Uses
 * scratch space inside s, hence not const: one thread per scene. */
void cfp_gen_scene_row(struct cfp_gen_scene *s, uint32_t y, uint16_t *rgba);

/* Writes s (len bytes) to f; short writes show up in ferror(f). */
void cfp_gen_put(FILE *f, const char *s, size_t len);

/* Appends s[0..len) to buf (capacity cap, *n used), dropping what does not
 * fit: the generators' pieces are far smaller than their buffers by
 * construction; the bound only keeps every write inside the buffer. */
void cfp_gen_append(char *buf, size_t cap, size_t *n, const char *s, size_t len);

#endif
