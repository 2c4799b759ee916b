/* cfp_engine.h - engines pull tasks from a source and push records to a sink.
 *
 * This is the seam that keeps engines ignorant of where work comes from and
 * where results go: locally the source is a URL list and the sink the HDF5
 * writer; on an MPI worker rank both are messages to and from rank 0. An
 * engine only adds a way of running tasks (sequentially, on threads, on an
 * event loop). */
#ifndef CFP_ENGINE_H
#define CFP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "task/cfp_record.h"
#include "task/cfp_task.h"

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

enum cfp_mode { CFP_MODE_SEQUENTIAL, CFP_MODE_THREADS, CFP_MODE_ASYNC, CFP_MODE_MPI, CFP_MODE_COUNT_ };

/* "sequential", "threading", "async", "mpi". */
const char *cfp_mode_name(enum cfp_mode m);
/* Parses a mode name or alias ("threads"); false when unknown. */
bool cfp_mode_parse(const char *s, enum cfp_mode *m);

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

/* Defaults from the machine's cores for mode m (doc/engines.md). */
void cfp_engine_defaults(enum cfp_mode m, struct cfp_engine_opts *eo);

/* What a run counted; filled by the engine. abandoned: tasks cut short by a
 * stop (CFP_ERR_STOPPED, see cfp_stop.h), not in tasks/ok/failed. stuck:
 * tasks the watchdog gave up (cfp_watch.h), also counted as abandoned
 * (after a stop) or failed (a timeout). */
struct cfp_engine_stats {
    int64_t tasks, ok, failed, bytes_in, bytes_out, abandoned, stuck;
};

/* Adds r to the counts in s. Not thread-safe: callers serialise (engines
 * call it under their sink lock). */
void cfp_engine_stats_add(struct cfp_engine_stats *s, const struct cfp_record *r);

/* Runs every task of src through the task pipeline configured by cfg and
 * pushes one record per task to sink, in completion order. Returns an error
 * only when the run itself cannot go on (source or sink failed); task
 * failures are in the records and counted in stats. */
cfp_err cfp_engine_run(enum cfp_mode mode, const struct cfp_engine_opts *eo,
                       const struct cfp_task_cfg *cfg, struct cfp_source *src,
                       struct cfp_sink *sink, struct cfp_engine_stats *stats,
                       struct cfp_status *st);

#endif
