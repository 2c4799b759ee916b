/* cfp_engine_internal.h - private to the engine files (cfp_engine*.c). */
#ifndef CFP_ENGINE_INTERNAL_H
#define CFP_ENGINE_INTERNAL_H

#include "engine/cfp_engine.h"

/* Adds r to the run's counts (cfp_engine_stats_add). */
#define cfp_engine_count cfp_engine_stats_add

/* The threading engine, and with one worker the sequential one; name is
 * the mode's, for the log. */
cfp_err cfp_engine_run_threads(const char *name, const struct cfp_engine_opts *eo,
                               const struct cfp_task_cfg *cfg, struct cfp_source *src,
                               struct cfp_sink *sink, struct cfp_engine_stats *stats,
                               struct cfp_status *st);

cfp_err cfp_engine_run_async(const struct cfp_engine_opts *eo, const struct cfp_task_cfg *cfg,
                             struct cfp_source *src, struct cfp_sink *sink,
                             struct cfp_engine_stats *stats, struct cfp_status *st);

#endif
