/* cfp_compare.h - `cfp --compare`: the same work in every mode, side by side.
 *
 * Two workloads by default, so the lesson shows:
 *  - io:  many small files (SMALL profile) behind a simulated per-request
 *         latency (default 50 ms): waiting dominates;
 *  - cpu: large images only (LARGE profile), no latency: the CPU dominates.
 * Or one workload: the user's --input list. Each (workload, mode) is its own
 * run group in the HDF5 file; then the report and chart are written from the
 * file, and the outputs of every mode are checked to be identical. */
#ifndef CFP_COMPARE_H
#define CFP_COMPARE_H

#include <stdbool.h>

#include "cfp_gen.h"
#include "cfp_run.h"

#define CFP_COMPARE_IO_LATENCY_MS 50

enum cfp_workload_set { CFP_WL_BOTH, CFP_WL_IO, CFP_WL_CPU };

struct cfp_compare_cfg {
    struct cfp_run_cfg base;     /* limits, results, report; mode/input/output set per run */
    const char *workloads_dir;   /* holds io/ and cpu/ datasets */
    const char *processed_dir;   /* outputs go to <processed>/compare/<workload>/<mode> */
    enum cfp_workload_set set;
    bool generate;               /* (re)generate the workload datasets first */
    uint64_t seed;
    int io_latency_ms;
    int workers, concurrency;    /* 0 = each mode's default */
};

/* Runs the comparison. *failed is set when some task failed in some run;
 * *identical to whether every mode produced the same outputs (digests) and
 * statuses per workload. Returns an error only when it could not run. */
cfp_err cfp_compare_run(const struct cfp_compare_cfg *cfg, bool *failed, bool *identical,
                        struct cfp_status *st);

#endif
