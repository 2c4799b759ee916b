/* cfp_task.h - the task pipeline every engine runs: check the URL, fetch the
 * body, detect its type, process it, write the output atomically, and fill
 * the task's record. Engines decide only where and when it runs. */
#ifndef CFP_TASK_H
#define CFP_TASK_H

#include <curl/curl.h>

#include "cfp_err.h"
#include "cfp_fetch.h"
#include "cfp_record.h"

struct cfp_task_cfg {
    const char *output_dir; /* must exist */
    struct cfp_fetch_cfg fetch;
    uint32_t max_side;     /* images: longest side of the output */
    uint64_t max_pixels;   /* images: refuse larger ones before decoding */
    size_t max_record;     /* CSV: longest record in bytes */
    double t0;             /* run start on the cfp_now() clock */
    int rank;              /* recorded in each record */
};

/* Per-worker state: one CURL easy handle (connection reuse) and the body
 * buffer for images, reused from task to task. Belongs to one thread. */
struct cfp_worker;

/* cfg must outlive the worker. share may be NULL (see cfp_fetcher_new).
 * Caller frees with cfp_worker_free(). */
cfp_err cfp_worker_new(const struct cfp_task_cfg *cfg, int id, CURLSH *share,
                       struct cfp_worker **out, struct cfp_status *st);
void cfp_worker_free(struct cfp_worker **pw);

/* Runs task t and fills r. Every failure is the task's own: it is recorded
 * in r (code, precise message) and never stops the caller. */
void cfp_task_run(struct cfp_worker *w, const struct cfp_task *t, struct cfp_record *r);

#endif
