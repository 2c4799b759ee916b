/* cfp_engine_internal.h - private to the engine files (cfp_engine*.c). */
#ifndef CFP_ENGINE_INTERNAL_H
#define CFP_ENGINE_INTERNAL_H

#include "engine/cfp_engine_seam.h"
#include "engine/cfp_serial.h"
#include "task/cfp_task.h"
#include "task/cfp_watch.h"

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
static inline cfp_err cfp_engine_start_lanes(const struct cfp_watch_ops *ops, int n,
                                             struct cfp_serial_sink *out, struct cfp_watch **watch,
                                             struct cfp_status *st)
{
    struct cfp_status why;
    cfp_err err;

    cfp_status_clear(&why);
    err = cfp_watch_start(ops, n, watch, &why);
    if (!*watch)
        return cfp_status_set(st, err, "%s", why.msg);
    if (err)
        (void)cfp_serial_sink_fail(out, err, &why);
    return CFP_ERR_OK;
}

#endif
