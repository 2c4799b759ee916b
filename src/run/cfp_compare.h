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

#include "lab/cfp_gen.h"
#include "run/cfp_run.h"

#define CFP_COMPARE_IO_LATENCY_MS 50

enum cfp_workload_set { CFP_WL_BOTH, CFP_WL_IO, CFP_WL_CPU };

/* Called after the local modes of each workload, e.g. to add the
 * multiprocessing (MPI) run: label, the dataset directory (NULL when the
 * input is base->input) and the latency; *failed set when tasks failed. */
typedef cfp_err (*cfp_compare_extra_fn)(void *ctx, const struct cfp_run_cfg *base,
                                        const char *label, const char *dataset_dir,
                                        int latency_ms, bool *failed, struct cfp_status *st);

struct cfp_compare_cfg {
    struct cfp_run_cfg base;     /* limits, results, report; mode/input/output set per run */
    const char *workloads_dir;   /* holds io/ and cpu/ datasets */
    const char *processed_dir;   /* outputs go to <processed>/compare/<workload>/<mode> */
    enum cfp_workload_set set;
    bool generate;               /* (re)generate the workload datasets first */
    uint64_t seed;
    int io_latency_ms;
    int workers, concurrency;    /* 0 = each mode's default */
    cfp_compare_extra_fn extra;  /* NULL: local modes only */
    void *extra_ctx;
    bool no_report;              /* the caller writes the report (MPI matrix) */
};

/* One workload of the comparison, as run_modes() and the MPI matrix see it. */
struct cfp_compare_workload {
    char label[16];
    char dataset_dir[CFP_PATH_MAX]; /* "" when the input is base.input */
    int latency_ms;
};

/* The workloads cfg selects, in order; returns how many (at most max). */
int cfp_compare_plan(const struct cfp_compare_cfg *cfg, struct cfp_compare_workload *wl, int max);

/* The output directory of (workload, mode name) under cfg->processed_dir. */
cfp_err cfp_compare_output_dir(const struct cfp_compare_cfg *cfg, const char *label,
                               const char *mode, char out[CFP_PATH_MAX], struct cfp_status *st);

/* Runs the comparison. *failed is set when some task failed in some run;
 * *identical to whether every mode produced the same outputs (digests) and
 * statuses per workload. Returns an error only when it could not run. */
cfp_err cfp_compare_run(const struct cfp_compare_cfg *cfg, bool *failed, bool *identical,
                        struct cfp_status *st);

#endif
