/* cfp_resume.c - final view of a run: 2-bit task states, loaded from the
 * results file. */
#include "run/cfp_resume.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cfp_mem.h"
#include "base/cfp_sha256.h"

struct cfp_resume_set {
    uint8_t *bits; /* 4 tasks per byte */
    size_t cap;    /* bytes */
};

cfp_err cfp_resume_set_new(struct cfp_resume_set **out, struct cfp_status *st)
{
    *out = cfp_calloc(1, sizeof(**out));
    return *out ? CFP_ERR_OK : cfp_status_set(st, CFP_ERR_NOMEM, "resume: out of memory");
}

void cfp_resume_set_free(struct cfp_resume_set **ps)
{
    if (!ps || !*ps)
        return;
    cfp_free((*ps)->bits);
    cfp_free(*ps);
    *ps = NULL;
}

cfp_err cfp_resume_set_put(struct cfp_resume_set *s, int64_t index, enum cfp_resume_state v,
                           struct cfp_status *st)
{
    size_t byte;

    if (index < 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "resume: negative task index %lld",
                              (long long)index);
    byte = (size_t)(index / 4);
    if (byte >= s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        uint8_t *p;
        while (cap <= byte)
            cap *= 2;
        p = cfp_realloc(s->bits, cap);
        if (!p)
            return cfp_status_set(st, CFP_ERR_NOMEM, "resume: out of memory");
        memset(p + s->cap, 0, cap - s->cap);
        s->bits = p;
        s->cap = cap;
    }
    s->bits[byte] = (uint8_t)((s->bits[byte] & ~(3u << (index % 4 * 2))) |
                              ((unsigned)v << (index % 4 * 2)));
    return CFP_ERR_OK;
}

enum cfp_resume_state cfp_resume_set_get(const struct cfp_resume_set *s, int64_t index)
{
    size_t byte = (size_t)(index / 4);

    if (index < 0 || byte >= s->cap)
        return CFP_RESUME_NONE;
    return (enum cfp_resume_state)((s->bits[byte] >> (index % 4 * 2)) & 3u);
}

void cfp_resume_set_count(const struct cfp_resume_set *s, int64_t *ok, int64_t *failed)
{
    *ok = *failed = 0;
    for (size_t i = 0; i < s->cap; i++)
        for (int k = 0; k < 4; k++) {
            unsigned v = (s->bits[i] >> (k * 2)) & 3u;
            *ok += v == CFP_RESUME_OK;
            *failed += v == CFP_RESUME_FAILED;
        }
}

static int last_run(void *ctx, const char *run_id, const struct cfp_run_info *info)
{
    struct cfp_resume_prior *p = ctx;

    p->found = true;
    (void)snprintf(p->run_id, sizeof(p->run_id), "%s", run_id);
    p->info = *info;
    return 0;
}

cfp_err cfp_resume_last_run(const char *path, struct cfp_resume_prior *prior,
                            struct cfp_status *st)
{
    memset(prior, 0, sizeof(*prior));
    return cfp_h5_read_runs(path, last_run, prior, st);
}

struct load {
    struct cfp_resume_prior *prior;
    struct cfp_resume_set *set;
    cfp_err err;
    struct cfp_status *st;
};

/* An ok row counts only while its output is still the one recorded. */
static bool output_intact(const struct cfp_record *r)
{
    char hex[CFP_DIGEST_HEX];

    return r->output[0] && access(r->output, R_OK) == 0 &&
           cfp_sha256_file(r->output, hex, NULL) == CFP_ERR_OK && strcmp(hex, r->digest) == 0;
}

static int load_row(void *ctx, const struct cfp_record *r)
{
    struct load *l = ctx;
    enum cfp_resume_state v = CFP_RESUME_FAILED;

    l->prior->rows++;
    if (r->code == CFP_ERR_OK) {
        v = output_intact(r) ? CFP_RESUME_OK : CFP_RESUME_NONE;
        l->prior->outputs_redo += v == CFP_RESUME_NONE;
    }
    l->err = cfp_resume_set_put(l->set, r->index, v, l->st);
    return l->err != CFP_ERR_OK;
}

cfp_err cfp_resume_load(const char *path, struct cfp_resume_prior *prior,
                        struct cfp_resume_set **out, struct cfp_status *st)
{
    struct load l = {prior, NULL, CFP_ERR_OK, st};
    cfp_err err;

    memset(prior, 0, sizeof(*prior));
    *out = NULL;
    err = cfp_resume_set_new(&l.set, st);
    if (err)
        return err;
    if (access(path, F_OK) == 0) {
        err = cfp_resume_last_run(path, prior, st);
        if (!err && prior->found)
            err = cfp_h5_read_tasks(path, prior->run_id, load_row, &l, st);
        if (!err)
            err = l.err;
    }
    if (err) {
        cfp_resume_set_free(&l.set);
        return err;
    }
    *out = l.set;
    return CFP_ERR_OK;
}
