/* cfp_engine_async.c - placeholder until the async engine lands. */
#include "cfp_engine_internal.h"

cfp_err cfp_engine_run_async(const struct cfp_engine_opts *eo, const struct cfp_task_cfg *cfg,
                             struct cfp_source *src, struct cfp_sink *sink,
                             struct cfp_engine_stats *stats, struct cfp_status *st)
{
    (void)eo, (void)cfg, (void)src, (void)sink, (void)stats;
    return cfp_status_set(st, CFP_ERR_USAGE, "mode 'async' is not available in this build");
}
