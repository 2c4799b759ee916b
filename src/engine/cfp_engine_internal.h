/* cfp_engine_internal.h - private to the engine files (cfp_engine*.c). */
#ifndef CFP_ENGINE_INTERNAL_H
#define CFP_ENGINE_INTERNAL_H

#include "engine/cfp_engine.h"
#include "engine/cfp_serial.h"
#include "task/cfp_watch.h"

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

/* Starts the watchdog and n lanes running ops (cfp_watch_start). Fails only
 * when the watchdog itself cannot start; a lane that cannot start is the
 * run's fatal error, recorded in out (the lanes that did start find the
 * run failed and end at once). */
cfp_err cfp_engine_start_lanes(const struct cfp_watch_ops *ops, int n, struct cfp_serial_sink *out,
                               struct cfp_watch **watch, struct cfp_status *st);

#endif
