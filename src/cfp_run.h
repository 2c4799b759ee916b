/* cfp_run.h - one run of one mode, end to end: open the task source (a URL
 * list, or the dataset served by the embedded loopback server), record the
 * run in the HDF5 file, drive the engine, close the run, write the report.
 * The CLI and later the comparison call this; mpi/ reuses its pieces. */
#ifndef CFP_RUN_H
#define CFP_RUN_H

#include <stdbool.h>

#include "cfp_engine.h"
#include "cfp_h5.h"
#include "cfp_progress.h"
#include "cfp_server.h"
#include "cfp_task.h"
#include "cfp_urllist.h"

struct cfp_run_cfg {
    enum cfp_mode mode;
    struct cfp_task_cfg task;   /* output_dir and limits; t0 is set by the run */
    const char *input;          /* URL list path ("-" = stdin), or NULL: dataset */
    const char *dataset_dir;    /* served over HTTP when input is NULL */
    const char *results_path;   /* HDF5 file, appended to */
    const char *report_path;    /* text report, regenerated; NULL = none */
    const char *workload;       /* label stored with the run */
    int latency_ms;             /* embedded server's per-request latency */
    struct cfp_engine_opts engine; /* workers, concurrency, cpu slots */
    bool quiet;                 /* no progress line */
    const char *progress_label; /* NULL: the mode's name */
    int ranks;                  /* MPI ranks (recorded); 0 or 1 for local runs */
    enum cfp_mode rank_engine;  /* the engine each rank runs, for mode mpi */
};

/* Name of the list of dataset files, one relative name per line, written by
 * cfp_run_write_manifest() after generating a dataset. */
#define CFP_MANIFEST_NAME "manifest.txt"

/* Writes dataset_dir/manifest.txt listing the regular, non-hidden files of
 * the directory in byte order (the manifest itself excluded). */
cfp_err cfp_run_write_manifest(const char *dataset_dir, struct cfp_status *st);


/* An open run: source, results file and run group, progress display. The
 * MPI layer drives the engines between cfp_run_open() and cfp_run_close();
 * cfp_run_job() is the local case. */
struct cfp_run_ctx {
    struct cfp_run_cfg cfg;     /* a copy; cfg.task.t0 is the run start */
    struct cfp_server *srv;     /* embedded server, when serving the dataset */
    struct cfp_urllist *ul;
    struct cfp_h5 *h5;
    struct cfp_run_info info;
    char run_id[64];
    int64_t total;              /* tasks in the list, -1 if unknown */
    double u0, s0, t0;
    double other_user_s, other_sys_s; /* CPU time of other processes of the run (MPI
                                         ranks), added to this process's at close */
    struct cfp_source src;      /* the URL list */
    struct cfp_sink h5sink;     /* the HDF5 writer */
    struct cfp_progress prog;   /* prog.sink: progress, then h5sink */
};

/* Opens the run described by cfg into *ctx (caller-allocated; it is large).
 * On success the caller must end it with cfp_run_close(). */
cfp_err cfp_run_open(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx,
                     struct cfp_status *st);

/* Records stats and the run's resource use, closes the run group (complete
 * only when run_err is OK), releases everything and writes the report.
 * Returns run_err if set, else the first error of closing. */
cfp_err cfp_run_close(struct cfp_run_ctx *ctx, const struct cfp_engine_stats *stats,
                      cfp_err run_err, struct cfp_status *st);

/* Runs cfg->mode over the input. On return stats holds the counts. Returns
 * an error only when the run could not be carried out (fatal); failed tasks
 * are counted in stats->failed. */
cfp_err cfp_run_job(const struct cfp_run_cfg *cfg, struct cfp_engine_stats *stats,
                    struct cfp_status *st);

#endif
