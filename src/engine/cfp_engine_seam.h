/* cfp_engine_seam.h - the seam between engines and the rest: the task
 * source, the result sink, the engine's options and the counts of a run.
 *
 * Engines pull tasks from a source and push records to a sink and know
 * nothing else of where work comes from and where results go: locally the
 * source is a URL list and the sink the HDF5 writer; on an MPI worker rank
 * both are messages to and from rank 0. Sources and sinks (run/, mpi/)
 * include this header, not the engines'. */
#ifndef CFP_ENGINE_SEAM_H
#define CFP_ENGINE_SEAM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "task/cfp_record.h"

struct cfp_source {
    /* Fills *t with the next task and sets *done = false, or sets *done =
     * true when there is no more work. An error is fatal for the run (the
     * list cannot be read); a bad URL is not an error here, it becomes that
     * task's failure. Engines call it from one thread at a time. */
    cfp_err (*next)(struct cfp_source *s, struct cfp_task *t, bool *done, struct cfp_status *st);
    void *ctx;
};

struct cfp_sink {
    /* Takes a copy of r. Engines call it from one thread at a time, so a
     * sink needs no lock of its own. An error is fatal for the run. */
    cfp_err (*push)(struct cfp_sink *s, const struct cfp_record *r, struct cfp_status *st);
    void *ctx;
};

/* How much concurrency an engine uses (ignored by sequential).
 * threading: workers = threads in the pool, concurrency = transfers in
 *            flight (a counting semaphore), cpu_slots = image jobs at once;
 * async:     concurrency = transfers in flight on the event loop,
 *            workers = CPU threads processing finished bodies. */
struct cfp_engine_opts {
    int workers;
    int concurrency;
    int cpu_slots;
    int per_host; /* transfers in flight to one origin (scheme, host, port); 0 = no cap */
};

/* What a run counted; filled by the engine. abandoned: tasks cut short by a
 * stop (CFP_ERR_STOPPED, see cfp_stop.h), not in tasks/ok/failed. stuck:
 * tasks the watchdog gave up (cfp_watch.h), also counted as abandoned
 * (after a stop) or failed (a timeout). */
struct cfp_engine_stats {
    int64_t tasks, ok, failed, bytes_in, bytes_out, abandoned, stuck;
    uint64_t mem_budget; /* the memory budget of the run (cfp_budget.h); 0 = none */
    uint64_t mem_peak;   /* the most image memory charged to it at once */
};

/* Adds r to the counts in s. Not thread-safe: callers serialise (engines
 * call it under their sink lock). */
void cfp_engine_stats_add(struct cfp_engine_stats *s, const struct cfp_record *r);

#endif
