/* cfp_merge.c - one run from the runs of several shards. */
#include "run/cfp_merge.h"

#include <string.h>
#include <sys/stat.h>

#include "results/cfp_h5.h"
#include "base/cfp_mem.h"
#include "run/cfp_resume.h"

struct merge {
    struct cfp_h5 *out;          /* NULL during the checking pass */
    struct cfp_resume_set *seen; /* final state of each task over all inputs */
    struct cfp_resume_set *mine; /* tasks of the current input */
    const char *in;
    cfp_err err;
    struct cfp_status *st;
};

/* First pass: the shards must be disjoint; second pass: copy. */
static int merge_row(void *ctx, const struct cfp_record *r)
{
    struct merge *m = ctx;
    enum cfp_resume_state v = r->code ? CFP_RESUME_FAILED : CFP_RESUME_OK;

    if (m->out) {
        m->err = cfp_h5_append(m->out, r, m->st);
        return m->err != CFP_ERR_OK;
    }
    if (cfp_resume_set_get(m->seen, r->index) != CFP_RESUME_NONE &&
        cfp_resume_set_get(m->mine, r->index) == CFP_RESUME_NONE) {
        m->err = cfp_status_set(m->st, CFP_ERR_USAGE,
                                "merge: task %lld of %s is also in an earlier input: the inputs "
                                "must be disjoint shards (--shard K/N) of one list",
                                (long long)r->index, m->in);
        return 1;
    }
    m->err = cfp_resume_set_put(m->seen, r->index, v, m->st);
    if (!m->err)
        m->err = cfp_resume_set_put(m->mine, r->index, v, m->st);
    return m->err != CFP_ERR_OK;
}

/* Adds shard info s to the merged attributes m. */
static void combine(struct cfp_run_info *m, const struct cfp_run_info *s, bool first)
{
    if (first) {
        *m = *s;
        m->shard[0] = '\0';
        return;
    }
    if (strcmp(s->started, m->started) < 0)
        memcpy(m->started, s->started, sizeof(m->started));
    m->ranks += s->ranks;
    m->complete = m->complete && s->complete;
    m->sessions += s->sessions;
    m->wall_s = s->wall_s > m->wall_s ? s->wall_s : m->wall_s;
    m->cpu_user_s += s->cpu_user_s;
    m->cpu_sys_s += s->cpu_sys_s;
    m->peak_rss_kb = s->peak_rss_kb > m->peak_rss_kb ? s->peak_rss_kb : m->peak_rss_kb;
    m->bytes_in += s->bytes_in;
    m->bytes_out += s->bytes_out;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

cfp_err cfp_merge(const char *out, const char *const *in, int n, struct cfp_engine_stats *stats,
                  struct cfp_status *st)
{
    struct merge m = {NULL, NULL, NULL, NULL, CFP_ERR_OK, st};
    struct cfp_resume_prior *p = cfp_calloc((size_t)(n > 0 ? n : 1), sizeof(*p));
    struct cfp_run_info merged;
    char run_id[CFP_H5_RUN_ID_MAX];
    cfp_err err = CFP_ERR_OK;

    memset(stats, 0, sizeof(*stats));
    memset(&merged, 0, sizeof(merged));
    if (!p || cfp_resume_set_new(&m.seen, st))
        err = cfp_status_set(st, CFP_ERR_NOMEM, "merge: out of memory");
    for (int i = 0; !err && i < n; i++) {
        m.in = in[i];
        if (same_file(out, in[i])) {
            err = cfp_status_set(st, CFP_ERR_USAGE, "merge: %s is both output and input", out);
            break;
        }
        err = cfp_resume_last_run(in[i], &p[i], st);
        if (!err && !p[i].found)
            err = cfp_status_set(st, CFP_ERR_USAGE, "merge: %s holds no run", in[i]);
        if (!err && strcmp(p[i].info.input_sha256, p[0].info.input_sha256) != 0)
            err = cfp_status_set(st, CFP_ERR_USAGE,
                                 "merge: %s was made from another URL list than %s", in[i], in[0]);
        if (!err)
            err = cfp_resume_set_new(&m.mine, st);
        if (!err)
            err = cfp_h5_read_tasks(in[i], p[i].run_id, merge_row, &m, st);
        if (!err)
            err = m.err;
        cfp_resume_set_free(&m.mine);
        if (!err)
            combine(&merged, &p[i].info, i == 0);
    }
    if (err)
        goto out_free;
    cfp_resume_set_count(m.seen, &merged.ok, &merged.failed);
    merged.tasks = merged.ok + merged.failed;
    err = cfp_h5_open(out, &m.out, st);
    if (!err)
        err = cfp_h5_run_begin(m.out, &merged, run_id, sizeof(run_id), st);
    for (int i = 0; !err && i < n; i++) {
        err = cfp_h5_read_tasks(in[i], p[i].run_id, merge_row, &m, st);
        if (!err)
            err = m.err;
    }
    if (!err)
        err = cfp_h5_run_end(m.out, &merged, st);
    stats->tasks = merged.tasks;
    stats->ok = merged.ok;
    stats->failed = merged.failed;
    stats->bytes_in = merged.bytes_in;
    stats->bytes_out = merged.bytes_out;
out_free:
    cfp_h5_close(&m.out);
    cfp_resume_set_free(&m.seen);
    cfp_free(p);
    return err;
}
