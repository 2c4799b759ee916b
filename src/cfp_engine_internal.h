/* cfp_engine_internal.h - private to the engine files (cfp_engine*.c). */
#ifndef CFP_ENGINE_INTERNAL_H
#define CFP_ENGINE_INTERNAL_H

#include "cfp_engine.h"

/* Adds r to the run's counts. Caller serialises calls (the sink lock). */
void cfp_engine_count(struct cfp_engine_stats *s, const struct cfp_record *r);

cfp_err cfp_engine_run_threads(const struct cfp_engine_opts *eo, const struct cfp_task_cfg *cfg,
                               struct cfp_source *src, struct cfp_sink *sink,
                               struct cfp_engine_stats *stats, struct cfp_status *st);

cfp_err cfp_engine_run_async(const struct cfp_engine_opts *eo, const struct cfp_task_cfg *cfg,
                             struct cfp_source *src, struct cfp_sink *sink,
                             struct cfp_engine_stats *stats, struct cfp_status *st);

#endif
