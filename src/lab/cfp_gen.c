/* cfp_gen.c - dataset generator: creates the directory, then writes each file
 * through a temporary name and renames it into place. The content of each
 * kind lives in cfp_gen_png.c, cfp_gen_text.c and cfp_gen_csv.c. */
#include "lab/cfp_gen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/cfp_gen_internal.h"
#include "base/cfp_mem.h"
#include "task/cfp_out.h"

#define GEN_PATH_MAX 4096

/* One kind of file: how it is named and which generator writes it. */
struct gen_kind {
    const char *prefix;
    const char *ext;
    cfp_err (*write)(FILE *f, uint64_t seed, unsigned index, enum cfp_gen_profile profile,
                     struct cfp_status *st);
};

static const struct gen_kind kinds[] = {
    {"image_", ".png", cfp_gen_png_file},
    {"text_", ".txt", cfp_gen_text_file},
    {"data_", ".csv", cfp_gen_csv_file},
};

unsigned cfp_gen_stratum(unsigned index)
{
    /* i*3 mod 10 visits 0..9 once per run of ten; adding the run number
     * rotates the order so index 10 is not a copy of index 0. */
    return (index % 10 * 3 + index / 10) % 10;
}

uint64_t cfp_gen_log_spread(struct cfp_rng *r, unsigned stratum, uint64_t lo, unsigned span_q10)
{
    uint64_t width = span_q10 / 10;
    uint64_t t = stratum % 10 * width + cfp_rng_below(r, width ? width : 1);

    /* lo * 2^(t/1024), with the fraction approximated linearly inside each
     * octave: integer-only, so the same on every machine. */
    return ((lo << (t >> 10)) * (1024 + (t & 1023))) >> 10;
}

void cfp_gen_append(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
    if (len > cap - *n)
        len = cap - *n;
    memcpy(buf + *n, s, len);
    *n += len;
}

void cfp_gen_put(FILE *f, const char *s, size_t len)
{
    /* Errors stick in ferror(f); the caller checks once at the end. */
    (void)fwrite(s, 1, len, f);
}

/* The dataset directory, created with its parents; an empty or over-long
 * path is a usage error (checked before anything is created). */
static cfp_err make_dirs(const char *path, struct cfp_status *st)
{
    size_t n = strlen(path);

    if (n == 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "dataset directory: empty path");
    if (n >= CFP_PATH_MAX)
        return cfp_status_set(st, CFP_ERR_USAGE, "dataset directory: path longer than %d bytes",
                              CFP_PATH_MAX - 1);
    return cfp_mkdirs(path, st);
}

cfp_err cfp_gen_close_checked(FILE *f, const char *path, struct cfp_status *st)
{
    int bad = fflush(f) != 0 || ferror(f);
    int saved = errno;

    if (fclose(f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad)
        return cfp_status_set(st, CFP_ERR_IO, "write %s: %s", path,
                              saved ? strerror(saved) : "stream error");
    return CFP_ERR_OK;
}

/* mkstemp, not a fixed name, so that two generators writing into one
 * directory never write into the same temporary file. */
cfp_err cfp_gen_open_temp(const char *dir, char *tmp, size_t tmpsz, FILE **out,
                          struct cfp_status *st)
{
    int fd, n = snprintf(tmp, tmpsz, "%s/.cfp-gen-XXXXXX", dir);

    if (n < 0 || (size_t)n >= tmpsz)
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: path too long", dir);
    fd = mkstemp(tmp);
    if (fd < 0)
        return cfp_status_set(st, CFP_ERR_IO, "create temporary file in %s: %s", dir,
                              strerror(errno));
    /* mkstemp makes the file 0600; a dataset is meant to be shared/served. */
    (void)fchmod(fd, 0644);
    *out = fdopen(fd, "wb");
    if (!*out) {
        cfp_status_set(st, CFP_ERR_IO, "fdopen %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return CFP_ERR_IO;
    }
    return CFP_ERR_OK;
}

/* Writes file index of kind k as dir/<prefix><index><ext>. */
static cfp_err write_one(const char *dir, const struct gen_kind *k, unsigned index, uint64_t seed,
                         enum cfp_gen_profile profile, struct cfp_status *st)
{
    char tmp[GEN_PATH_MAX], final[GEN_PATH_MAX];
    FILE *f = NULL;
    cfp_err err;
    int n = snprintf(final, sizeof(final), "%s/%s%04u%s", dir, k->prefix, index, k->ext);

    if (n < 0 || (size_t)n >= sizeof(final))
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: path too long", dir);
    err = cfp_gen_open_temp(dir, tmp, sizeof(tmp), &f, st);
    if (err)
        return err;
    /* Larger than stdio's default: fewer write(2) calls for multi-MB files. */
    (void)setvbuf(f, NULL, _IOFBF, 1 << 16);
    err = k->write(f, seed, index, profile, st);
    if (err) {
        fclose(f);
        goto out_unlink;
    }
    err = cfp_gen_close_checked(f, final, st);
    if (err)
        goto out_unlink;
    if (rename(tmp, final) != 0) {
        err = cfp_status_set(st, CFP_ERR_IO, "rename %s to %s: %s", tmp, final, strerror(errno));
        goto out_unlink;
    }
    return CFP_ERR_OK;
out_unlink:
    unlink(tmp);
    if (err != CFP_ERR_IO)
        cfp_status_prefix(st, "generate %s", final);
    return err;
}

cfp_err cfp_gen_dataset(const struct cfp_gen_opts *o, cfp_gen_progress_fn progress, void *pctx,
                        struct cfp_status *st)
{
    unsigned counts[3], done = 0, total;
    cfp_err err;

    if (!o || !o->dir)
        return cfp_status_set(st, CFP_ERR_USAGE, "dataset directory: not given");
    counts[0] = o->num_images;
    counts[1] = o->num_texts;
    counts[2] = o->num_csv;
    for (int k = 0; k < 3; k++)
        if (counts[k] > CFP_GEN_MAX_COUNT)
            return cfp_status_set(st, CFP_ERR_USAGE, "%s files: %u is over the limit of %d",
                                  kinds[k].ext + 1, counts[k], CFP_GEN_MAX_COUNT);
    total = counts[0] + counts[1] + counts[2];
    err = make_dirs(o->dir, st);
    if (err)
        return err;
    for (int k = 0; k < 3; k++) {
        for (unsigned i = 0; i < counts[k]; i++) {
            err = write_one(o->dir, &kinds[k], i, o->seed, o->profile, st);
            if (err)
                return err;
            if (progress)
                progress(pctx, ++done, total);
        }
    }
    return CFP_ERR_OK;
}
