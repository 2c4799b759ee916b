/* cfp_engine.c - mode names and the sequential engine. */
#include "cfp_engine.h"

#include <string.h>

static const char *const mode_names[CFP_MODE_COUNT_] = {"sequential", "threading", "async", "mpi"};

const char *cfp_mode_name(enum cfp_mode m)
{
    return (unsigned)m < CFP_MODE_COUNT_ ? mode_names[m] : "unknown";
}

bool cfp_mode_parse(const char *s, enum cfp_mode *m)
{
    for (int i = 0; i < CFP_MODE_COUNT_; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *m = (enum cfp_mode)i;
            return true;
        }
    if (strcmp(s, "threads") == 0) {
        *m = CFP_MODE_THREADS;
        return true;
    }
    return false;
}

static void count(struct cfp_engine_stats *s, const struct cfp_record *r)
{
    s->tasks++;
    if (r->code == CFP_ERR_OK)
        s->ok++;
    else
        s->failed++;
    s->bytes_in += r->bytes_in;
    s->bytes_out += r->bytes_out;
}

/* One worker on the calling thread: the baseline every other engine is
 * measured against. */
static cfp_err run_sequential(const struct cfp_task_cfg *cfg, struct cfp_source *src,
                              struct cfp_sink *sink, struct cfp_engine_stats *stats,
                              struct cfp_status *st)
{
    struct cfp_worker *w = NULL;
    struct cfp_task t;
    struct cfp_record r;
    cfp_err err = cfp_worker_new(cfg, 0, NULL, &w, st);

    if (err)
        return err;
    for (;;) {
        bool done = false;
        err = src->next(src, &t, &done, st);
        if (err || done)
            break;
        cfp_task_run(w, &t, &r);
        count(stats, &r);
        err = sink->push(sink, &r, st);
        if (err)
            break;
    }
    cfp_worker_free(&w);
    return err;
}

cfp_err cfp_engine_run(enum cfp_mode mode, const struct cfp_task_cfg *cfg, struct cfp_source *src,
                       struct cfp_sink *sink, struct cfp_engine_stats *stats,
                       struct cfp_status *st)
{
    memset(stats, 0, sizeof(*stats));
    switch (mode) {
    case CFP_MODE_SEQUENTIAL:
        return run_sequential(cfg, src, sink, stats, st);
    default:
        return cfp_status_set(st, CFP_ERR_USAGE, "mode '%s' is not available in this build",
                              cfp_mode_name(mode));
    }
}
