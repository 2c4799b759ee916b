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

/* Defaults from the machine's cores for mode m (doc/engines.md). */
void cfp_engine_defaults(enum cfp_mode m, struct cfp_engine_opts *eo);

/* Runs every task of src through the task pipeline configured by cfg and
 * pushes one record per task to sink, in completion order. Returns an error
 * only when the run itself cannot go on (source or sink failed); task
 * failures are in the records and counted in stats. */
cfp_err cfp_engine_run(enum cfp_mode mode, const struct cfp_engine_opts *eo,
                       const struct cfp_task_cfg *cfg, struct cfp_source *src,
                       struct cfp_sink *sink, struct cfp_engine_stats *stats,
                       struct cfp_status *st);

#endif
