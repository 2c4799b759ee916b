/* cfp_run.h - one run of one mode, end to end: open the task source (a URL
 * list, or the dataset served by the embedded loopback server), record the
 * run in the HDF5 file, drive the engine, close the run, write the report.
 * The CLI and later the comparison call this; mpi/ reuses its pieces. */
#ifndef CFP_RUN_H
#define CFP_RUN_H

#include <pthread.h>
#include <stdbool.h>

#include "engine/cfp_engine.h"
#include "results/cfp_h5.h"
#include "run/cfp_progress.h"
#include "run/cfp_resume.h"
#include "lab/cfp_server.h"
#include "task/cfp_task.h"
#include "run/cfp_urllist.h"

/* The MPI options. Defined here, below both the CLI and mpi/, because every
 * build parses them (a build without MPI then says that MPI is missing
 * instead of calling them unknown) and mpi/ takes them as they are. */
struct cfp_mpi_opts {
    bool rank0_works;      /* rank 0 also processes tasks (default: yes) */
    double rank_timeout_s; /* a worker silent this long (no heartbeat) ends the run */
    int ranks;             /* --mode multiprocessing: ranks to start (0 = cfp_cpus_count()) */
    /* --workers and --concurrency as given (0 = default): each rank sizes
     * the defaults for its share of its node's CPUs (cfp_engine_size()) and
     * applies these on top; set by the CLI before cfp_mpi_main(). */
    int workers, concurrency;
};

#define CFP_MPI_RANK_TIMEOUT_DEFAULT 30.0

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
    bool silent;                /* no failure lines either (-qq) */
    struct cfp_joblog *joblog;  /* filled for the summary (cfp_progress.h); may be NULL;
                                   not owned, must outlive the run */
    const char *progress_label; /* NULL: the mode's name */
    int ranks;                  /* MPI ranks (recorded); 0 or 1 for local runs */
    int cpus;                   /* CPUs the run uses (recorded): 0 = cfp_cpus_count(); under
                                   MPI the sum of the ranks' shares, set by mpi/ */
    enum cfp_mode rank_engine;  /* the engine each rank runs, for mode mpi */
    /* --shard K/N: only tasks with index % shard_n == shard_k - 1; shard_n
     * 0 = every task. */
    int shard_k, shard_n;
    /* --resume: continue the last run of results_path instead of starting
     * one (a file without runs starts one): tasks whose final row is ok and
     * whose output is intact are skipped; failed ones are done again unless
     * retry_failed is false. */
    bool resume, retry_failed;
    int64_t stats_every;        /* log RSS and open fds every N records (soak tests); 0 = off */
    const char *memory_source;  /* where task.memory came from (a cfp_memlimit source
                                   name); NULL = --memory */
    uint64_t memory_total;      /* under MPI: the job's budget, the sum of the ranks'
                                   shares (recorded); 0 = task.memory */
};

/* Resolves cfg->task.memory when it is CFP_MEMORY_AUTO: this process's
 * budget (cfp_memlimit_get), logged once; sets memory_source. */
void cfp_run_resolve_memory(struct cfp_run_cfg *cfg);

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
    /* Engines pull from src and push to sink; one thread at a time each
     * (struct cfp_source, struct cfp_sink). src reads the list through
     * list, leaves out the tasks of other shards and those already done,
     * and ends early when a stop is requested (cfp_stop.h). sink drops the
     * records of abandoned tasks, keeps the final view when resuming, and
     * passes the rest on to prog.sink: progress, then h5sink. */
    struct cfp_source src;
    struct cfp_sink sink;
    struct cfp_source list;     /* the URL list */
    struct cfp_sink h5sink;     /* the HDF5 writer */
    struct cfp_progress prog;
    struct cfp_resume_prior prior; /* resume: the run continued */
    struct cfp_resume_set *done;   /* resume: its final view, kept current; else NULL.
                                      Guarded by done_mu: the source reads it on the engine's
                                      feeding thread while the sink writes it on another */
    pthread_mutex_t done_mu;
    int64_t skipped;            /* tasks left out (other shards, already done) */
    int64_t abandoned;          /* records of abandoned tasks dropped */
    int64_t pushed;             /* records passed on (for --stats-every) */
    struct cfp_engine_stats live; /* counts of the records written so far */
    double live_written;        /* cfp_now() of the last running-totals update */
    struct cfp_record scrubbed; /* sink's copy of the record being pushed */
    bool stopped;               /* a stop ended the source early */
};

/* Opens the run described by cfg into *ctx (caller-allocated; it is large).
 * On success the caller must end it with cfp_run_close(). */
cfp_err cfp_run_open(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx,
                     struct cfp_status *st);

/* When the run resumes an earlier one, replaces the task counts of stats
 * (this session's) by those of the run's final view (every session's), for
 * the exit status and summary. */
void cfp_run_final_stats(const struct cfp_run_ctx *ctx, struct cfp_engine_stats *stats);

/* Records stats and the run's resource use, closes the run group (complete
 * only when run_err is OK), releases everything and writes the report.
 * Returns run_err if set, else the first error of closing. */
cfp_err cfp_run_close(struct cfp_run_ctx *ctx, const struct cfp_engine_stats *stats,
                      cfp_err run_err, struct cfp_status *st);

/* Runs cfg->mode over the input. On return stats holds the counts (when
 * resuming, of the run's final view: every session together). Returns
 * an error only when the run could not be carried out (fatal); failed tasks
 * are counted in stats->failed. */
cfp_err cfp_run_job(const struct cfp_run_cfg *cfg, struct cfp_engine_stats *stats,
                    struct cfp_status *st);

#endif
