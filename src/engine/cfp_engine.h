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
#include "engine/cfp_engine_seam.h"
#include "task/cfp_task.h"

enum cfp_mode { CFP_MODE_SEQUENTIAL, CFP_MODE_THREADS, CFP_MODE_ASYNC, CFP_MODE_MPI, CFP_MODE_COUNT_ };

/* "sequential", "threading", "async", "mpi". */
const char *cfp_mode_name(enum cfp_mode m);
/* Parses a mode name or alias ("threads"); false when unknown. */
bool cfp_mode_parse(const char *s, enum cfp_mode *m);

/* Defaults for mode m from the CPUs this process may use (cfp_cpus.h,
 * doc/engines.md): cfp_engine_size(m, 0, 0, 0, eo). */
void cfp_engine_defaults(enum cfp_mode m, struct cfp_engine_opts *eo);

/* The options of mode m sized for cpus CPUs (< 1: cfp_cpus_count()), then
 * workers and concurrency where given (> 0; ignored by sequential), as the
 * command line applies them: threading without a concurrency gets one
 * transfer per worker. Sets every field but per_host (the caller's). Under
 * MPI, mpi/ calls it with each rank's share of its node's CPUs. */
void cfp_engine_size(enum cfp_mode m, int cpus, int workers, int concurrency,
                     struct cfp_engine_opts *eo);

/* Runs every task of src through the task pipeline configured by cfg and
 * pushes one record per task to sink, in completion order. Returns an error
 * only when the run itself cannot go on (source or sink failed); task
 * failures are in the records and counted in stats. */
cfp_err cfp_engine_run(enum cfp_mode mode, const struct cfp_engine_opts *eo,
                       const struct cfp_task_cfg *cfg, struct cfp_source *src,
                       struct cfp_sink *sink, struct cfp_engine_stats *stats,
                       struct cfp_status *st);

#endif
