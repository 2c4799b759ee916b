/* cfp_task.h - the task pipeline every engine runs: check the URL, fetch the
 * body, detect its type, process it, write the output atomically, and fill
 * the task's record. Engines decide only where and when it runs. */
#ifndef CFP_TASK_H
#define CFP_TASK_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "base/cfp_err.h"
#include "task/cfp_budget.h"
#include "task/cfp_fetch.h"
#include "task/cfp_record.h"

/* Optional limits an engine puts around the phases of cfp_task_run(): the
 * threads engine caps transfers in flight and CPU-heavy image work with two
 * counting semaphores. Each hook is called on the worker's thread; NULL
 * hooks are skipped. cpu_enter (a core slot) is taken before an image is
 * processed, unless the worker already holds one, and is not given back by
 * cfp_task_run(): the engine releases it when it is done with the task
 * (after pushing its record), see cfp_worker_cpu_held(). */
struct cfp_task_gates {
    void (*fetch_enter)(void *ctx, const char *url); /* url: the task's, before redirects */
    void (*fetch_leave)(void *ctx, const char *url);
    void (*cpu_enter)(void *ctx);
    void *ctx;
};

/* cfp_task_cfg.memory before the default is known: the run (or mpi/,
 * a rank's share) resolves it from cfp_memlimit_get(). */
#define CFP_MEMORY_AUTO UINT64_MAX

struct cfp_task_cfg {
    const char *output_dir; /* must exist */
    struct cfp_fetch_cfg fetch;
    uint32_t max_side;     /* images: longest side of the output */
    uint64_t max_pixels;   /* images: refuse larger ones before decoding */
    size_t max_record;     /* CSV: longest record in bytes */
    double t0;             /* run start on the cfp_now() clock */
    int rank;              /* recorded in each record */
    uint64_t memory;       /* --memory: the budget in bytes; 0 = none (cfp_budget.h);
                              CFP_MEMORY_AUTO until the run resolves the default */
    const struct cfp_task_gates *gates; /* NULL: no limits */
    struct cfp_budget *budget;          /* set by the engine; NULL: none */
};

/* Per-worker state: one CURL easy handle (connection reuse) and the body
 * buffer for images (its memory goes back to cfp_scratch after each task).
 * Belongs to one thread. */
struct cfp_worker;

/* cfg must outlive the worker. share may be NULL (see cfp_fetcher_new).
 * Caller frees with cfp_worker_free(). */
cfp_err cfp_worker_new(const struct cfp_task_cfg *cfg, int id, CURLSH *share,
                       struct cfp_worker **out, struct cfp_status *st);
void cfp_worker_free(struct cfp_worker **pw);

/* Whether w holds a core slot (cpu_enter): set by the engine when it took
 * one itself, and by cfp_task_run() when it took one for an image. A task
 * run while it is set takes no slot. */
void cfp_worker_set_cpu_held(struct cfp_worker *w, bool held);
bool cfp_worker_cpu_held(const struct cfp_worker *w);

/* Runs task t and fills r. Every failure is the task's own: it is recorded
 * in r (code, precise message) and never stops the caller. */
void cfp_task_run(struct cfp_worker *w, const struct cfp_task *t, struct cfp_record *r);

/* The steps of cfp_task_run(), for engines that split a task between
 * threads (async: the event loop fetches, a CPU pool processes). */

/* Initialises r for t (rank, worker, t_start) and checks the URL. Returns
 * false when the task already failed; the reason is in st. */
bool cfp_task_begin(const struct cfp_task_cfg *cfg, int worker, const struct cfp_task *t,
                    struct cfp_record *r, struct cfp_status *st);

/* Processes a complete body held in memory and fills r's outcome, or its
 * failure. r must hold the fetch fields already (http_status, attempts,
 * bytes_in, t_fetch). */
/* hold: the budget charge the body already has (parked by the engine; see
 * cfp_budget.h); it is admitted before decoding and released on return. */
void cfp_task_process_whole(const struct cfp_task_cfg *cfg, const struct cfp_task *t,
                            const char *content_type, const unsigned char *body, size_t len,
                            struct cfp_budget_hold *hold, struct cfp_record *r);

struct cfp_watch_stuck;

/* The record of a task the watchdog gave up (cfp_watch.h): a timeout
 * naming the stage it was stuck in, or, after a stop, an abandoned task
 * (CFP_ERR_STOPPED: dropped before the results file). r->stuck is set. */
void cfp_task_stuck(const struct cfp_task_cfg *cfg, const struct cfp_watch_stuck *s,
                    struct cfp_record *r);

/* Marks r failed with st's code and message (and no output). */
void cfp_task_fail(struct cfp_record *r, const struct cfp_status *st);

#endif
