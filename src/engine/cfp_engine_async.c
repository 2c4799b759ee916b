/* cfp_engine_async.c - the async engine: one event-loop thread multiplexes
 * the transfers with curl_multi, a small pool of CPU threads processes the
 * finished bodies (the loop's run_in_executor).
 *
 * The calling thread runs the loop (cfp_engine_async_loop.c): it reads the
 * source, keeps up to --concurrency transfers in flight, retries transient
 * failures after their backoff without blocking, and try-pushes each
 * finished job into a bounded queue. --workers pool threads (this file) pop
 * jobs, decode/process/write the outputs, and push records to the sink under
 * one lock, so the HDF5 writer is never entered by two threads and the loop
 * never waits on CPU work or disk.
 *
 * Memory: a job holds a body of at most --max-bytes; bodies alive are at
 * most concurrency (loop slots) + 2 * workers (queue) + workers (being
 * processed), whatever the number of URLs. */
#include <string.h>

#include "engine/cfp_async_internal.h"
#include "base/cfp_clock.h"
#include "task/cfp_fetch.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"
#include "task/cfp_proc.h"
#include "task/cfp_watch.h"

/* For a transfer that failed after some bytes arrived: the kind the
 * streaming path of the other engines records in that case, found by
 * feeding those bytes to a processor that is then discarded. */
static void failed_kind(const struct cfp_task_cfg *cfg, struct cfp_async_job *j)
{
    struct cfp_buf scratch;
    struct cfp_proc *proc = NULL;
    struct cfp_status st;
    struct cfp_fetch_sink s;
    const char *kind;

    cfp_status_clear(&st);
    cfp_buf_init(&scratch, (size_t)cfg->fetch.max_bytes);
    if (cfp_proc_new(cfg, &j->task, &scratch, &st, &proc))
        return;
    s = cfp_proc_sink(proc);
    if (s.begin(s.ctx, j->content_type[0] ? j->content_type : NULL, -1) == CFP_ERR_OK)
        (void)s.data(s.ctx, j->body.data, j->body.len);
    kind = cfp_proc_kind(proc);
    memcpy(j->rec.kind, kind, strlen(kind) + 1);
    cfp_proc_free(&proc);
    cfp_buf_free(&scratch);
}

/* Runs on a pool thread: the CPU and disk part of a task. */
static void job_run(const struct cfp_task_cfg *cfg, struct cfp_async_job *j)
{
    /* An empty body has no buffer; the processors want a valid pointer. */
    static const unsigned char empty[1];
    const unsigned char *body = j->body.data ? j->body.data : empty;

    if (j->process)
        cfp_task_process_whole(cfg, &j->task, j->content_type, body, j->body.len, &j->hold,
                               &j->rec);
    else if (j->body.len > 0)
        failed_kind(cfg, j);
}

/* Pushes r to the sink unless the run already failed. Any pool thread. */
static void deliver(struct cfp_async_pool *p, const struct cfp_record *r)
{
    /* A failed push is recorded by the writer; wake the loop so it stops. */
    if (cfp_serial_sink_push(&p->out, r) && p->multi)
        curl_multi_wakeup(p->multi);
}

/* Runs a file:// task whole on this pool thread: the loop never opens a
 * file. *w is this thread's worker, made at its first local task. */
static void local_run(struct cfp_async_pool *p, int id, struct cfp_worker **w,
                      struct cfp_async_job *j)
{
    struct cfp_status st;

    cfp_status_clear(&st);
    if (!*w && cfp_worker_new(p->cfg, id, NULL, w, &st)) {
        cfp_record_init(&j->rec, &j->task);
        cfp_task_fail(&j->rec, &st);
        return;
    }
    cfp_worker_set_cpu_held(*w, true); /* a pool thread is a core: no gate */
    cfp_task_run(*w, &j->task, &j->rec);
}

/* The deadline of job j, which began at its record's t_start. */
static double job_deadline(const struct cfp_task_cfg *cfg, const struct cfp_async_job *j)
{
    if (cfg->fetch.task_timeout_s <= 0)
        return 0;
    return (j->local ? cfp_now() : cfg->t0 + j->rec.t_start) + cfg->fetch.task_timeout_s;
}

/* The watchdog gave a job up (on its thread): deliver its record. */
static void pool_stuck(void *ctx, const struct cfp_watch_stuck *s)
{
    struct cfp_async_pool *p = ctx;
    struct cfp_record r;

    cfp_task_stuck(p->cfg, s, &r);
    deliver(p, &r);
}

/* A pool thread (a lane of the watchdog). */
static void lane_run(void *ctx, struct cfp_watch_lane *lane, int id)
{
    struct cfp_async_pool *p = ctx;
    struct cfp_worker *w = NULL; /* for file:// tasks */
    struct cfp_async_job j;

    while (cfp_queue_pop(p->jobs, &j)) {
        /* The queue has room again: a job the loop could not hand over
         * may go now. The wakeup is not lost if the loop is not polling
         * yet: it makes the next curl_multi_poll return at once. */
        curl_multi_wakeup(p->multi);
        if (!cfp_async_failed(p)) {
            cfp_watch_begin(lane, &j.task, job_deadline(p->cfg, &j));
            if (j.local)
                local_run(p, id, &w, &j);
            else
                job_run(p->cfg, &j);
            if (j.process)
                atomic_fetch_sub(&p->images_out, 1);
            cfp_watch_end(lane); /* parks here if the watchdog gave the job up */
        } else {
            if (j.process)
                atomic_fetch_sub(&p->images_out, 1);
            if (j.local)
                cfp_record_init(&j.rec, &j.task); /* dropped by deliver(): the run failed */
        }
        cfp_budget_release(p->cfg->budget, &j.hold); /* a job not processed */
        cfp_buf_free(&j.body);
        j.rec.worker = id;
        deliver(p, &j.rec);
    }
    cfp_worker_free(&w);
}

static cfp_err pool_init(struct cfp_async_pool *p, const struct cfp_engine_opts *eo,
                         const struct cfp_task_cfg *cfg, struct cfp_sink *sink,
                         struct cfp_engine_stats *stats, struct cfp_status *st)
{
    memset(p, 0, sizeof(*p));
    if (eo->workers < 1 || eo->concurrency < 1)
        return cfp_status_set(st, CFP_ERR_USAGE, "async: workers (%d), concurrency (%d): need >= 1",
                              eo->workers, eo->concurrency);
    if (cfp_queue_new(sizeof(struct cfp_async_job), (size_t)eo->workers * 2, &p->jobs))
        return cfp_status_set(st, CFP_ERR_NOMEM, "async: job queue: out of memory");
    cfp_serial_sink_init(&p->out, sink, stats, st);
    p->cfg = cfg;
    p->ops = (struct cfp_watch_ops){lane_run, pool_stuck, p};
    p->cores = eo->cpu_slots > 0 ? eo->cpu_slots : 1;
    atomic_init(&p->images_out, 0);
    return CFP_ERR_OK;
}

static void pool_destroy(struct cfp_async_pool *p)
{
    cfp_serial_sink_destroy(&p->out);
    cfp_queue_free(&p->jobs);
}

cfp_err cfp_engine_run_async(const struct cfp_engine_opts *eo, const struct cfp_task_cfg *cfg,
                             struct cfp_source *src, struct cfp_sink *sink,
                             struct cfp_engine_stats *stats, struct cfp_status *st)
{
    struct cfp_async_loop *loop = NULL;
    struct cfp_watch *watch = NULL;
    struct cfp_async_pool p;
    cfp_err err = pool_init(&p, eo, cfg, sink, stats, st);

    if (err)
        return err;
    err = cfp_async_loop_new(&p, eo->concurrency, eo->per_host, src, &loop, st);
    if (err)
        goto out_destroy_pool;
    err = cfp_engine_start_lanes(&p.ops, eo->workers, &p.out, &watch, st);
    if (err)
        goto out_free_loop;
    cfp_log(CFP_LOG_INFO, "async: %d transfers in flight, %d CPU workers", eo->concurrency,
            eo->workers);
    cfp_async_loop_run(loop); /* returns at once if a lane failed to start */
    cfp_queue_close(p.jobs);  /* the pool drains what is queued, then ends */
    cfp_watch_join(watch);
    cfp_watch_free(&watch);
    err = cfp_serial_sink_error(&p.out);
out_free_loop:
    cfp_async_loop_free(&loop);
out_destroy_pool:
    pool_destroy(&p);
    return err;
}
