/* cfp_h5.h - the HDF5 results file: one group per run, one row per task.
 *
 * Layout (schema_version 1, see doc/hdf5-schema.md):
 *   /                      attrs schema_version (int32), cfp_version (str)
 *   /runs/<NNNN>-<mode>    attrs of struct cfp_run_info; NNNN is one above the
 *                          highest existing number, so runs never overwrite
 *                          each other and the ids sort in run order
 *   /runs/<id>/tasks       chunked, extensible 1-D compound, one row per record
 *   /runs/<id>/ranks       optional compound {rank, tasks, busy_s, host}
 *
 * Threads: every function of this module, and every handle, must be used
 * from one thread. Debian's libhdf5 happens to be built thread-safe (one
 * global lock), other builds are not, and the handle has no lock of its own.
 * The error-printing switch HDF5 keeps is per thread in thread-safe builds,
 * so each entry point silences it (H5Eset_auto2) on the calling thread.
 *
 * Crash safety: rows are buffered in memory and written in batches, each
 * batch followed by H5Fflush; no HDF5 call modifies the file between
 * batches, so a killed process leaves a readable file holding every row of
 * the last completed batch, with the run's complete attribute still 0.
 */
#ifndef CFP_H5_H
#define CFP_H5_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "task/cfp_record.h"

#define CFP_H5_SCHEMA_VERSION 1
/* Rows buffered before a batch is written; also written after CFP_H5_FLUSH_S. */
#define CFP_H5_BATCH   64
#define CFP_H5_FLUSH_S 1.0
/* Room for "<NNNN>-<mode>" with a sequence of any width and a 31-byte mode. */
#define CFP_H5_RUN_ID_MAX 64

/* An open results file (writer). Opaque. */
struct cfp_h5;

/* Run-level attributes. Strings are NUL-terminated and copied by the writer;
 * bytes that are not valid UTF-8 are stored as '?'. mode must be 1-31 chars of
 * [A-Za-z0-9_-] (it becomes part of the group name). Counters that do not
 * apply are -1. */
struct cfp_run_info {
    char mode[32], engine[32], workload[32];
    char started[32]; /* ISO 8601 UTC, "2024-05-01T12:00:00Z" */
    char input[CFP_PATH_MAX], output_dir[CFP_PATH_MAX];
    char input_sha256[65]; /* SHA-256 of the URL list (or manifest), "" unknown */
    char shard[32];        /* "K/N" when the run did one shard of the list, else "" */
    int32_t ranks, workers, concurrency, latency_ms, max_side;
    int32_t complete; /* 0 until the run ended cleanly, then 1 */
    int32_t sessions; /* processes that worked on the run: 1, plus one per --resume */
    /* CPUs the run's defaults were sized for (cfp_cpus.h): the process's
     * available count, or under MPI the sum of the ranks' shares; 0 in
     * files written before the attribute. cpus_source: "affinity",
     * "cgroup" or "online" (rank 0's under MPI); "" when unknown. */
    int32_t cpus;
    char cpus_source[16];
    /* The memory budget (cfp_budget.h) in bytes, 0 = none (or files written
     * before the attribute); under MPI the sum of the ranks' shares.
     * memory_source: "given" (--memory), "cgroup", "slurm", "available",
     * "none". memory_peak: the most image memory charged at once (under
     * MPI, the largest of a rank's). */
    int64_t memory_budget, memory_peak;
    char memory_source[16];
    /* MPI runs: seconds from the job's launch (cfp's own mpirun, for --mode
     * multiprocessing; else the first rank's process start) to the last
     * rank's return from MPI_Init: the launcher, loading, MPI_Init, all
     * before wall_s starts (doc/mpi.md); a resumed run keeps its last
     * session's. 0 = not measured (local runs, the runs of an mpirun
     * --compare matrix, older files). */
    double mpi_startup_s;
    double wall_s, cpu_user_s, cpu_sys_s;
    int64_t peak_rss_kb, tasks, ok, failed, bytes_in, bytes_out;
};


/* Opens path for appending runs; creates it with the root attributes if it
 * does not exist (the parent directory must exist). On success *out is a new
 * handle the caller closes with cfp_h5_close(). Errors (out untouched):
 * CFP_ERR_HDF5 when the file exists but is not an HDF5 file, is not a cfp
 * results file, has another schema_version or is locked by another process;
 * CFP_ERR_IO when path cannot be examined; CFP_ERR_NOMEM. st gets a message
 * naming the path and HDF5's own reason. HDF5 file locking is best-effort:
 * on filesystems without locking it is skipped; HDF5_USE_FILE_LOCKING=FALSE
 * in the environment turns it off entirely. */
cfp_err cfp_h5_open(const char *path, struct cfp_h5 **out, struct cfp_status *st);

/* Creates the run group /runs/<NNNN>-<info->mode> with info's attributes
 * (complete forced to 0) and an empty tasks dataset, and makes it the current
 * run. Writes the id (e.g. "0003-threading") into run_id (run_id_size >=
 * CFP_H5_RUN_ID_MAX is always enough). CFP_ERR_USAGE if a run is already
 * open, mode is invalid or run_id is too small. */
cfp_err cfp_h5_run_begin(struct cfp_h5 *h, const struct cfp_run_info *info, char *run_id,
                         size_t run_id_size, struct cfp_status *st);

/* Makes the existing run run_id current again, to append to it (--resume):
 * new rows go after the ones in the file, and its complete attribute is set
 * to 0 until cfp_h5_run_end(). CFP_ERR_USAGE if a run is open or there is
 * no such run. */
cfp_err cfp_h5_run_reopen(struct cfp_h5 *h, const char *run_id, struct cfp_status *st);

/* Buffers a copy of r for the current run. The buffer is written when it
 * holds CFP_H5_BATCH rows or when more than CFP_H5_FLUSH_S seconds passed
 * since the last write, then the file is flushed. On a write error the rows
 * stay buffered and the next call retries (rows are never written twice).
 * CFP_ERR_USAGE without an open run. */
cfp_err cfp_h5_append(struct cfp_h5 *h, const struct cfp_record *r, struct cfp_status *st);

/* Writes the buffered rows (if any) and flushes the file. */
cfp_err cfp_h5_flush(struct cfp_h5 *h, struct cfp_status *st);

/* Writes the buffered rows and the run attributes from info with complete
 * 0, and flushes: a run still going (or killed later) shows its totals so
 * far. */
cfp_err cfp_h5_run_update(struct cfp_h5 *h, const struct cfp_run_info *info, struct cfp_status *st);

/* Writes the buffered rows, rewrites the run attributes from info (complete
 * as given; mode is ignored, the id keeps the one from run_begin), flushes the
 * file and closes the run; another run may then begin on h. */
cfp_err cfp_h5_run_end(struct cfp_h5 *h, const struct cfp_run_info *info, struct cfp_status *st);

/* Writes /runs/<id>/ranks of the current run: n rows of {rank[i], tasks[i],
 * busy_s[i], host[i]} (arrays owned by the caller, read only; host may be
 * NULL: empty names). Once per run; a second
 * call is CFP_ERR_USAGE. */
cfp_err cfp_h5_write_ranks(struct cfp_h5 *h, const int32_t *rank, const int64_t *tasks,
                           const double *busy_s, const char (*host)[CFP_HOST_MAX], size_t n,
                           struct cfp_status *st);

/* Writes the buffered rows, flushes and closes the file, and sets *ph = NULL.
 * A run still open stays complete=0 (an interrupted run). NULL-safe. Errors
 * while closing cannot be returned; they are logged at WARN. */
void cfp_h5_close(struct cfp_h5 **ph);

/* Calls fn(ctx, id, info) for each run group of the file at path, in run
 * order (numeric sequence), opening the file read-only. info is valid only
 * during the call. Attributes missing from a group read as 0 / "". Stops
 * early, returning CFP_ERR_OK, when fn returns non-zero. */
cfp_err cfp_h5_read_runs(const char *path,
                         int (*fn)(void *ctx, const char *run_id, const struct cfp_run_info *info),
                         void *ctx, struct cfp_status *st);

/* Calls fn(ctx, r) for each task row of run_id in file order, reading a few
 * hundred rows at a time (memory does not grow with the run). r is valid only
 * during the call. Strings longer than the record's fields are truncated;
 * code is parsed back from error_code (an unknown name on a failed row gives
 * CFP_ERR_INTERNAL). CFP_ERR_USAGE if there is no such run. Stops early,
 * returning CFP_ERR_OK, when fn returns non-zero. */
cfp_err cfp_h5_read_tasks(const char *path, const char *run_id,
                          int (*fn)(void *ctx, const struct cfp_record *r), void *ctx,
                          struct cfp_status *st);

/* The same, without the free-text columns: r->url, r->error and r->output
 * are "". For sums over many rows (the report): HDF5 converts every
 * variable-length string through its global heap, and these are the three
 * longest (cfp report on a 36-run file: 124 -> 115 ms). */
cfp_err cfp_h5_read_tasks_brief(const char *path, const char *run_id,
                                int (*fn)(void *ctx, const struct cfp_record *r), void *ctx,
                                struct cfp_status *st);

#endif
