/* cfp_async_internal.h - private to the async engine (cfp_engine_async*.c).
 *
 * Threads and who owns what:
 * - The loop thread (the caller of cfp_engine_run_async) owns the CURLM,
 *   every easy handle, every transfer slot and the task source: it alone
 *   calls src->next() and libcurl, except curl_multi_wakeup().
 * - `workers` pool threads pop finished jobs from the job queue, process the
 *   bodies, and are the only callers of the sink, through p->out (one lock).
 *   They are the lanes of a watchdog (cfp_watch.h), which delivers the
 *   record of a job stuck past its deadline and starts a new thread.
 * - A file:// task is not the loop's: no file is ever opened on the loop
 *   thread (a blocking open would stall every transfer). It goes to the
 *   pool as a job with `local` set, and a pool thread runs it whole
 *   (cfp_task_run), reading the file in chunks like the other engines.
 *   So does an image the loop finds, from its header, must be decoded as
 *   it arrives (cfp_proc.h): its transfer is stopped and a pool thread
 *   fetches it again, decoding as the bytes come (cost: one request).
 * - Memory (cfp_budget.h): a body the loop buffers whole is parked when its
 *   header is in; when the budget has no room the transfer is paused
 *   (curl's CURL_WRITEFUNC_PAUSE) and resumed when a pool thread gives
 *   memory back (the budget's release hook wakes the loop).
 * A job crosses from the loop to the pool by value through the queue (whose
 * mutex orders the loop's writes before the pool's reads); the body buffer
 * it points to moves with it and is freed by the pool thread. */
#ifndef CFP_ASYNC_INTERNAL_H
#define CFP_ASYNC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <curl/curl.h>

#include "base/cfp_buf.h"
#include "engine/cfp_engine_internal.h"
#include "engine/cfp_queue.h"
#include "engine/cfp_serial.h"
#include "task/cfp_watch.h"

/* Longest Content-Type kept; cfp_proc keeps no more than this either. */
#define CFP_ASYNC_CT_MAX 128

/* A finished task on its way to the CPU pool. Whoever holds the job owns
 * body.data (NULL when nothing was received). */
struct cfp_async_job {
    struct cfp_task task;
    struct cfp_record rec; /* fetch fields filled; final when !process */
    struct cfp_buf body;
    char content_type[CFP_ASYNC_CT_MAX]; /* "" when none */
    bool process;                        /* true: the body is to be processed; false: rec failed */
    bool local;                          /* file:// or an image to stream: the pool thread runs
                                            the whole task (cfp_task_run) */
    struct cfp_budget_hold hold;         /* the body's memory charge (parked by the loop) */
};

/* State shared by the loop and the pool. */
struct cfp_async_pool {
    const struct cfp_task_cfg *cfg; /* read-only while threads run */
    struct cfp_queue *jobs;         /* thread-safe itself: the loop try-pushes, the pool pops */
    CURLM *multi;                   /* owned by the loop thread; written before the pool
                                       starts; pool threads only call curl_multi_wakeup()
                                       on it, which libcurl allows from any thread */
    struct cfp_serial_sink out;     /* the single writer and the first fatal error; its
                                       `failed` flag lets the loop check for an error
                                       without waiting for a sink push in progress */
    struct cfp_watch_ops ops;       /* the pool threads' body, the stuck-job callback */
    int cores;                      /* image jobs the machine runs at once (cpu_slots) */
    atomic_int images_out;          /* image jobs handed over (handoff list, queue or a pool
                                       thread) and not yet processed: the loop adds, the
                                       pool subtracts */
};

/* Records err with why's message unless a fatal error is already recorded
 * (first cause wins), then wakes the loop so that it stops. Any thread. */
static inline void cfp_async_fail(struct cfp_async_pool *p, cfp_err err,
                                  const struct cfp_status *why)
{
    (void)cfp_serial_sink_fail(&p->out, err, why);
    if (p->multi)
        curl_multi_wakeup(p->multi);
}

/* True once a fatal error is recorded. Any thread; never blocks. */
static inline bool cfp_async_failed(struct cfp_async_pool *p)
{
    return cfp_serial_sink_failed(&p->out);
}

struct cfp_async_loop;

/* Creates the loop for p: the multi handle (stored in p->multi, so call
 * before starting the pool) and room for `concurrency` transfer slots.
 * src must outlive the loop. Caller frees with cfp_async_loop_free(). */
/* per_host: connections (= transfers, HTTP/1.1) to one host at once; 0 = concurrency. */
cfp_err cfp_async_loop_new(struct cfp_async_pool *p, int concurrency, int per_host, struct cfp_source *src,
                           struct cfp_async_loop **out, struct cfp_status *st);

/* Runs the loop on the calling thread until the source is exhausted and
 * every task's job was accepted by p->jobs, or until a fatal error (then
 * transfers in flight are aborted). Errors are reported through
 * cfp_async_fail(). */
void cfp_async_loop_run(struct cfp_async_loop *l);

/* Cleans up every easy handle, then the multi handle. Call after the pool
 * is joined (pool threads use p->multi). NULL-safe; sets *pl = NULL. */
void cfp_async_loop_free(struct cfp_async_loop **pl);

#endif
