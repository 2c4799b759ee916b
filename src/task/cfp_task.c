/* cfp_task.c - the per-task pipeline shared by every engine. */
#include "task/cfp_task.h"

#include <string.h>

#include "base/cfp_buf.h"
#include "base/cfp_clock.h"
#include "base/cfp_mem.h"
#include "task/cfp_proc.h"
#include "base/cfp_stop.h"
#include "task/cfp_watch.h"

struct cfp_worker {
    const struct cfp_task_cfg *cfg;
    int id;
    struct cfp_fetcher *fetcher; /* owned */
    struct cfp_buf body;         /* the image body; back to the pool after each task */
    bool cpu_held;               /* a core slot is held (engine or image): no cpu gate */
    struct cfp_budget_hold hold; /* the task's memory charge, given back after it */
};

/* The memory hooks of one task (cfp_proc_hooks): its charge, and whether
 * it holds a core (then it is charged active, else its body is parked). */
struct task_mem {
    const struct cfp_task_cfg *cfg;
    struct cfp_budget_hold *hold;
    bool *cpu_held;
};

/* Charges what plan needs beyond what the task holds. */
static cfp_err mem_charge(const struct task_mem *m, const struct cfp_img_plan *pl, bool active,
                          struct cfp_status *st)
{
    uint64_t want = pl->body + pl->need, have = m->hold->parked + m->hold->active;

    if (!active)
        return pl->body > have ? cfp_budget_park(m->cfg->budget, m->hold, pl->body - have, true, st)
                               : CFP_ERR_OK;
    if (want <= have && m->hold->parked == 0)
        return CFP_ERR_OK;
    return cfp_budget_admit(m->cfg->budget, m->hold, want > have ? want - have : 0, true, st);
}

/* At the header. Waiting here, inside the transfer's write callback, is
 * safe: the transfer is blocked, not stalled (libcurl's 100 bytes/s check
 * averages over the whole wait, and the wait ends as soon as memory is
 * free), and the waits cannot deadlock (cfp_budget.h): a streamed image
 * takes its core before its memory, a whole body parks. */
static cfp_err hook_plan(void *ctx, const struct cfp_img_plan *pl, struct cfp_status *st)
{
    const struct task_mem *m = ctx;
    const struct cfp_task_gates *g = m->cfg->gates;

    if (!pl->stream && !*m->cpu_held)
        return mem_charge(m, pl, false, st);
    if (pl->stream && !*m->cpu_held && g && g->cpu_enter) {
        cfp_watch_stage("waiting for a core");
        g->cpu_enter(g->ctx);
        *m->cpu_held = true; /* the engine gives it back (cfp_task_gates) */
    }
    if (pl->stream) {
        cfp_watch_stage("decoding as it arrives");
        return CFP_ERR_OK; /* its memory: once its exact need is known (hook_decode) */
    }
    return mem_charge(m, pl, true, st);
}

/* Before a whole body is decoded: the task holds its core. */
static cfp_err hook_decode(void *ctx, const struct cfp_img_plan *pl, struct cfp_status *st)
{
    return mem_charge(ctx, pl, true, st);
}

cfp_err cfp_worker_new(const struct cfp_task_cfg *cfg, int id, CURLSH *share,
                       struct cfp_worker **out, struct cfp_status *st)
{
    struct cfp_worker *w = cfp_calloc(1, sizeof(*w));
    cfp_err err;

    if (!w)
        return cfp_status_set(st, CFP_ERR_NOMEM, "worker %d: out of memory", id);
    err = cfp_fetcher_new(&cfg->fetch, share, &w->fetcher, st);
    if (err) {
        cfp_free(w);
        return err;
    }
    w->cfg = cfg;
    w->id = id;
    cfp_buf_init(&w->body, cfg->fetch.max_bytes);
    *out = w;
    return CFP_ERR_OK;
}

void cfp_worker_free(struct cfp_worker **pw)
{
    struct cfp_worker *w = pw ? *pw : NULL;

    if (!w)
        return;
    cfp_fetcher_free(&w->fetcher);
    cfp_buf_free(&w->body);
    cfp_free(w);
    *pw = NULL;
}

void cfp_task_fail(struct cfp_record *r, const struct cfp_status *st)
{
    r->code = st->code ? st->code : CFP_ERR_INTERNAL;
    (void)snprintf(r->error, sizeof(r->error), "%s", st->msg[0] ? st->msg : cfp_strerror(st->code));
    r->output[0] = '\0';
    r->digest[0] = '\0';
    r->bytes_out = 0;
}

bool cfp_task_begin(const struct cfp_task_cfg *cfg, int worker, const struct cfp_task *t,
                    struct cfp_record *r, struct cfp_status *st)
{
    cfp_record_init(r, t);
    r->rank = cfg->rank;
    memcpy(r->host, cfp_host_name(), sizeof(r->host));
    r->worker = worker;
    r->t_start = cfp_now() - cfg->t0;
    if (t->url_truncated) {
        cfp_status_set(st, CFP_ERR_URL, "URL too long (over %d bytes)", CFP_URL_MAX - 1);
        return false;
    }
    if (t->bad_col > 0) {
        /* t->url stops before the byte: quoting it would name another URL. */
        cfp_status_set(st, CFP_ERR_URL, "malformed URL: control byte 0x%02X at column %u",
                       (unsigned)t->bad_byte, (unsigned)t->bad_col);
        return false;
    }
    return cfp_fetch_check_url(t->url, st) == CFP_ERR_OK;
}

/* A body fetched but not processed when a stop's grace period ends is
 * abandoned (redone by --resume) rather than keeping the process alive. */
static bool abandoned(struct cfp_status *st)
{
    if (!cfp_stop_abandon())
        return false;
    cfp_status_set(st, CFP_ERR_STOPPED, "abandoned before processing: the run was stopped");
    return true;
}

/* --task-timeout passed before processing could start (waiting for a core
 * counts: the limit is the task's wall clock). */
static bool over_time(const struct cfp_task_cfg *cfg, struct cfp_status *st)
{
    if (!cfp_deadline_passed())
        return false;
    cfp_status_set(st, CFP_ERR_TIMEOUT, "over --task-timeout %g s before processing",
                   cfg->fetch.task_timeout_s);
    return true;
}

void cfp_task_process_whole(const struct cfp_task_cfg *cfg, const struct cfp_task *t,
                            const char *content_type, const unsigned char *body, size_t len,
                            struct cfp_budget_hold *hold, struct cfp_record *r)
{
    struct cfp_status st;
    bool core = true; /* the caller is a core (an async pool thread) */
    struct task_mem m = {cfg, hold, &core};
    struct cfp_proc_hooks hooks = {NULL, hook_decode, &m};

    cfp_status_clear(&st);
    cfp_deadline_set(cfg->fetch.task_timeout_s > 0
                         ? cfg->t0 + r->t_start + cfg->fetch.task_timeout_s : 0);
    if (abandoned(&st) || over_time(cfg, &st) ||
        cfp_proc_whole(cfg, t, content_type, body, len, &hooks, r, &st))
        cfp_task_fail(r, &st);
    cfp_budget_release(cfg->budget, hold);
}

void cfp_task_stuck(const struct cfp_task_cfg *cfg, const struct cfp_watch_stuck *s,
                    struct cfp_record *r)
{
    struct cfp_status st;
    double late = cfp_now() - s->t_begin - cfg->fetch.task_timeout_s;

    cfp_status_clear(&st);
    cfp_record_init(r, s->task);
    r->rank = cfg->rank;
    memcpy(r->host, cfp_host_name(), sizeof(r->host));
    r->worker = s->worker;
    r->t_start = s->t_begin - cfg->t0;
    r->stuck = true;
    if (s->stopping)
        cfp_status_set(&st, CFP_ERR_STOPPED, "abandoned: stuck %s when the run was stopped",
                       s->stage);
    else
        cfp_status_set(&st, CFP_ERR_TIMEOUT, "over --task-timeout %g s: still %s %.1f s later, "
                       "in a call that does not return; its thread was abandoned",
                       cfg->fetch.task_timeout_s, s->stage, late > 0 ? late : 0.0);
    cfp_task_fail(r, &st);
}

void cfp_worker_set_cpu_held(struct cfp_worker *w, bool held)
{
    w->cpu_held = held;
}

bool cfp_worker_cpu_held(const struct cfp_worker *w)
{
    return w->cpu_held;
}

void cfp_task_run(struct cfp_worker *w, const struct cfp_task *t, struct cfp_record *r)
{
    const struct cfp_task_cfg *cfg = w->cfg;
    struct cfp_status st;
    struct cfp_fetch_result res = {0, 0, 0};
    struct cfp_fetch_sink sink;
    struct cfp_proc *proc = NULL;
    struct task_mem m = {cfg, &w->hold, &w->cpu_held};
    struct cfp_proc_hooks hooks = {hook_plan, hook_decode, &m};
    double t_begin = cfp_now(), proc_s;
    /* A local file is read, not transferred: it takes no transfer slot
     * (a core holder must never wait for one: cfp_budget.h). */
    bool gated = cfg->gates && cfg->gates->fetch_enter && !cfp_fetch_is_file(t->url);
    cfp_err err = CFP_ERR_INTERNAL;

    cfp_status_clear(&st);
    cfp_deadline_set(cfg->fetch.task_timeout_s > 0 ? t_begin + cfg->fetch.task_timeout_s : 0);
    if (!cfp_task_begin(cfg, w->id, t, r, &st) || abandoned(&st) ||
        cfp_proc_new(cfg, t, &w->body, &st, &proc))
        goto out;
    cfp_proc_set_hooks(proc, &hooks);
    sink = cfp_proc_sink(proc);
    cfp_watch_stage("fetching");
    if (gated)
        cfg->gates->fetch_enter(cfg->gates->ctx, t->url);
    err = cfp_fetch_url(w->fetcher, t->url, &sink, cfp_deadline(), &res, &st);
    if (gated && cfg->gates->fetch_leave)
        cfg->gates->fetch_leave(cfg->gates->ctx, t->url);
    r->http_status = res.http_status;
    r->attempts = res.attempts;
    r->bytes_in = res.bytes;
    r->t_fetch = cfp_now() - t_begin - cfp_proc_seconds(proc);
    if (!err) {
        /* Text and CSV were processed as they arrived; what is left is the
         * image decode/resize/encode, the work that needs a core. */
        if (!w->cpu_held && cfg->gates && cfg->gates->cpu_enter) {
            cfg->gates->cpu_enter(cfg->gates->ctx);
            w->cpu_held = true; /* the engine gives it back (cfp_task_gates) */
        }
        cfp_watch_stage("processing");
        err = abandoned(&st) ? CFP_ERR_STOPPED
              : over_time(cfg, &st) ? CFP_ERR_TIMEOUT
                                    : cfp_proc_finish(proc, r);
    } else {
        memcpy(r->kind, cfp_proc_kind(proc), strlen(cfp_proc_kind(proc)) + 1);
    }
    proc_s = cfp_proc_seconds(proc);
    r->t_process = proc_s > r->t_write ? proc_s - r->t_write : 0;
    if (r->t_fetch < 0)
        r->t_fetch = 0;
out:
    cfp_proc_free(&proc);
    cfp_budget_release(cfg->budget, &w->hold);
    /* The body goes back to the pool, not kept by this worker: with a pool
     * of 16 threads, 16 idle buffers the size of the largest photo each
     * thread has seen would otherwise stay mapped. */
    cfp_buf_free(&w->body);
    if (err)
        cfp_task_fail(r, &st);
}
