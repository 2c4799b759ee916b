/* cfp_cli_mpi.c - the MPI commands of the command line: --mode mpi and
 * multiprocessing, the comparison's multiprocessing row, and the ranks x
 * rank-engine matrix of `mpirun -np N cfp --compare`. The one file of src/
 * that calls mpi/: compiled into the cfp executable only WITH_MPI, and
 * reached only through cfp_cli_mpi(), which main.c hands to
 * cfp_cli_process(). */
#include "cli/cfp_cli_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_cpus.h"
#include "base/cfp_log.h"
#include "mpi/cfp_mpi.h"
#include "results/cfp_report.h"
#include "task/cfp_fetch.h"

/* Appends "--opt value" for the limits a child run must share. */
static int push_limits(const struct cfp_cli_opts *o, char **av, int n, char bufs[][32])
{
    const struct cfp_task_cfg *t = &o->run_cfg.task;

    (void)snprintf(bufs[0], 32, "%u", t->max_side);
    (void)snprintf(bufs[1], 32, "%llu", (unsigned long long)t->max_pixels);
    (void)snprintf(bufs[2], 32, "%llu", (unsigned long long)t->fetch.max_bytes);
    (void)snprintf(bufs[3], 32, "%d", t->fetch.retries);
    (void)snprintf(bufs[4], 32, "%g", t->fetch.timeout_s);
    av[n++] = "--max-side", av[n++] = bufs[0];
    av[n++] = "--max-pixels", av[n++] = bufs[1];
    av[n++] = "--max-bytes", av[n++] = bufs[2];
    av[n++] = "--retries", av[n++] = bufs[3];
    av[n++] = "--timeout", av[n++] = bufs[4];
    if (t->memory != CFP_MEMORY_AUTO) { /* else each rank finds its share */
        (void)snprintf(bufs[5], 32, "%llu", (unsigned long long)t->memory);
        av[n++] = "--memory", av[n++] = bufs[5];
    }
    if (t->fetch.cacert)
        av[n++] = "--cacert", av[n++] = (char *)t->fetch.cacert;
    if (t->fetch.insecure)
        av[n++] = "--insecure";
    return n;
}

/* The comparison's multiprocessing row: this program as a child,
 * `--mode multiprocessing`, which starts its own MPI ranks. */
static cfp_err spawn_multiprocessing(void *ctx, const struct cfp_run_cfg *base, const char *label,
                                     const char *dataset_dir, int latency_ms, bool *failed,
                                     struct cfp_status *st)
{
    const struct cfp_cli_opts *o = ctx;
    char exe[CFP_PATH_MAX], out[CFP_PATH_MAX], ranks[24], lat[16], bufs[6][32];
    char *av[48];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    int n = 0, status = 0;
    pid_t pid;

    if (len <= 0)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "compare: cannot find this executable");
    exe[len] = '\0';
    if (snprintf(out, sizeof(out), "%s/compare/%s/multiprocessing", o->processed, label) >=
        (int)sizeof(out))
        return cfp_status_set(st, CFP_ERR_USAGE, "compare: output path too long");
    /* One rank per CPU this process may use (cfp_cpus.h), not per core of
     * the machine: under taskset or a cgroup quota more would oversubscribe. */
    (void)snprintf(ranks, sizeof(ranks), "%d", cfp_cpus_count());
    (void)snprintf(lat, sizeof(lat), "%d", latency_ms);
    av[n++] = exe, av[n++] = "--mode", av[n++] = "multiprocessing", av[n++] = "--ranks";
    av[n++] = ranks, av[n++] = "--rank-engine", av[n++] = "sequential";
    av[n++] = "--results", av[n++] = (char *)base->results_path, av[n++] = "--output-dir";
    av[n++] = out, av[n++] = "--label", av[n++] = (char *)label, av[n++] = "--no-report";
    if (dataset_dir)
        av[n++] = "--dataset-dir", av[n++] = (char *)dataset_dir, av[n++] = "--latency-ms",
        av[n++] = lat;
    else
        av[n++] = "--input", av[n++] = (char *)base->input;
    if (base->quiet)
        av[n++] = "--quiet";
    n = push_limits(o, av, n, bufs);
    av[n] = NULL;
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        execv(exe, av);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return cfp_status_set(st, CFP_ERR_INTERNAL,
                              "compare: cannot start the multiprocessing run");
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
        return cfp_status_set(st, CFP_ERR_INTERNAL,
                              "compare: the multiprocessing run failed (status %d)",
                              WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    if (WEXITSTATUS(status) == 1)
        *failed = true;
    return CFP_ERR_OK;
}

/* One MPI run of the matrix on the first k ranks of comm. */
static cfp_err matrix_run(const struct cfp_cli_opts *o, const struct cfp_compare_cfg *cc,
                          MPI_Comm comm, const struct cfp_compare_workload *w, int k,
                          enum cfp_mode eng, bool *failed, struct cfp_status *st)
{
    struct cfp_run_cfg run = cc->base;
    struct cfp_engine_stats stats;
    char out[CFP_PATH_MAX], mode[48];
    MPI_Comm sub;
    int rank;
    cfp_err err = CFP_ERR_OK;

    MPI_Comm_rank(comm, &rank);
    MPI_Comm_split(comm, rank < k ? 0 : MPI_UNDEFINED, rank, &sub);
    if (sub == MPI_COMM_NULL)
        return CFP_ERR_OK;
    (void)snprintf(mode, sizeof(mode), "mpi-%d-%s", k, cfp_mode_name(eng));
    err = cfp_compare_output_dir(cc, w->label, mode, out, st);
    run.mode = CFP_MODE_MPI;
    run.rank_engine = eng;
    cfp_engine_defaults(eng, &run.engine);
    run.task.output_dir = out;
    run.dataset_dir = w->dataset_dir[0] ? w->dataset_dir : NULL;
    run.latency_ms = w->latency_ms;
    run.workload = w->label;
    run.report_path = NULL;
    run.progress_label = mode;
    if (!err)
        err = cfp_mpi_run(sub, &run, &o->mpi, &stats, st);
    if (stats.failed)
        *failed = true;
    MPI_Comm_free(&sub);
    return err;
}

/* `mpirun -np N cfp --compare`: rank 0 runs the local modes while the others
 * wait idle; then the matrix: every workload on 1..N ranks x every rank engine. */
static int compare_matrix(const struct cfp_cli_opts *o, struct cfp_compare_cfg *cc)
{
    static const enum cfp_mode engines[] = {CFP_MODE_SEQUENTIAL, CFP_MODE_THREADS, CFP_MODE_ASYNC};
    struct cfp_compare_workload wl[4];
    struct cfp_status st;
    bool failed = false, identical = true;
    MPI_Comm comm;
    int rank = 0, size = 1, nwl, ok = 1;
    cfp_err err;

    cfp_status_clear(&st);
    cc->no_report = true;
    err = cfp_fetch_global_init(&st);
    if (err) { /* before MPI: there is no communicator to use or finalize */
        fprintf(stderr, "cfp: compare: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    err = cfp_mpi_init(&comm, &rank, &size, &st);
    if (!err && rank == 0)
        err = cfp_compare_run(cc, &failed, &identical, &st);
    ok = err == CFP_ERR_OK;
    cfp_mpi_idle_barrier(comm);
    MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
    nwl = cfp_compare_plan(cc, wl, 4);
    for (int i = 0; ok && i < nwl; i++)
        for (int k = 1; ok && k <= size; k++)
            for (size_t e = 0; ok && e < sizeof(engines) / sizeof(engines[0]); e++) {
                err = matrix_run(o, cc, comm, &wl[i], k, engines[e], &failed, &st);
                cfp_mpi_idle_barrier(comm);
                if (rank == 0)
                    ok = err == CFP_ERR_OK;
                MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
            }
    if (rank == 0 && ok)
        err = cfp_report_write(cc->base.results_path, cc->base.report_path, &identical, &st);
    cfp_mpi_finalize(&comm);
    cfp_fetch_global_cleanup();
    if (rank != 0)
        return CFP_EXIT_OK;
    if (err) {
        fprintf(stderr, "cfp: compare: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    fprintf(stderr, "cfp: compare: outputs %s across modes and the %d-rank matrix; report %s\n",
            identical ? "identical" : "DIFFER", size, o->report);
    return !identical ? CFP_EXIT_DIFFER : failed ? CFP_EXIT_FAILED : CFP_EXIT_OK;
}

/* The rank number the launcher gave this process, before MPI_Init (so that
 * only rank 0 generates the dataset); 0 without a launcher. */
static int launcher_rank(void)
{
    const char *name = getenv("OMPI_COMM_WORLD_RANK") ? "OMPI_COMM_WORLD_RANK" : "PMIX_RANK";
    const char *v = getenv(name);
    uint64_t rank = 0;

    if (v && !cfp_cli_u64(name, v, 0, INT_MAX, false, &rank))
        return 0; /* set by the launcher, not by a user: never seen */
    return (int)rank;
}

/* --mode multiprocessing --ranks N already started by a launcher (mpirun,
 * srun): the launcher's size wins; says so when it is not N. */
static void warn_launcher_size(const struct cfp_cli_opts *o)
{
    const char *name =
        getenv("OMPI_COMM_WORLD_SIZE") ? "OMPI_COMM_WORLD_SIZE" : "SLURM_STEP_NUM_TASKS";
    const char *ws = getenv(name);
    uint64_t size = 0;

    if (ws && (!cfp_cli_u64(name, ws, 1, INT_MAX, false, &size) || size != (uint64_t)o->mpi.ranks))
        cfp_log(CFP_LOG_WARN, "--ranks %d ignored: started by a launcher with %s ranks",
                o->mpi.ranks, ws);
}

/* --mode mpi, or multiprocessing (from a plain shell: relaunched under
 * mpirun); every rank returns through here. */
static int mpi_run(struct cfp_cli_opts *o, int argc, char **argv)
{
    struct cfp_engine_stats stats;
    struct cfp_status st;
    bool root = true; /* until MPI says otherwise: a failure before it is this process's own */
    int rc;

    cfp_status_clear(&st);
    if (o->multiprocessing && !cfp_mpi_under_launcher()) {
        /* From a plain shell: become an mpirun job of --ranks processes,
         * by default one per CPU this process may use. */
        cfp_mpi_relaunch(argc, argv, o->mpi.ranks > 0 ? o->mpi.ranks : cfp_cpus_count(), &st);
        fprintf(stderr, "cfp: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    if (o->multiprocessing && o->mpi.ranks > 0 && launcher_rank() == 0)
        warn_launcher_size(o);
    if (o->generate && launcher_rank() == 0) {
        double t0 = cfp_now();

        if ((rc = cfp_cli_generate(o, &st)) != CFP_EXIT_OK)
            return rc; /* the other ranks get "no more work" from a rank 0 that cannot start */
        cfp_mpi_startup_exclude(cfp_now() - t0); /* the others wait in MPI_Init meanwhile */
    }
    /* Each rank sizes its engine for its share of its node's CPUs (mpi/);
     * what the user gave still wins. */
    o->mpi.workers = o->workers;
    o->mpi.concurrency = o->concurrency;
    if (cfp_fetch_global_init(&st) == CFP_ERR_OK)
        (void)cfp_mpi_main(&o->run_cfg, &o->mpi, &stats, &root, &st);
    cfp_fetch_global_cleanup();
    if (st.code && root) {
        fprintf(stderr, "cfp: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    if (!root) /* a failure too: rank 0 knows it (start check, final message) and says it */
        return CFP_EXIT_OK; /* rank 0 gives the job's status; a non-zero exit of a
                               worker would make mpirun kill rank 0 mid-write */
    return cfp_cli_run_end(o, &stats); /* the summary and job log, as a local run's */
}

/* --compare: under a launcher, the local modes on rank 0 and then the
 * matrix; from a plain shell, the local modes plus a multiprocessing row. */
static int mpi_compare(struct cfp_cli_opts *o)
{
    struct cfp_compare_cfg cc;

    cfp_cli_compare_cfg(o, &cc);
    if (cfp_mpi_under_launcher())
        return compare_matrix(o, &cc);
    cc.extra = spawn_multiprocessing;
    cc.extra_ctx = o;
    return cfp_cli_compare_run(o, &cc);
}

int cfp_cli_mpi(struct cfp_cli_opts *o, int argc, char **argv)
{
    return o->compare ? mpi_compare(o) : mpi_run(o, argc, argv);
}
