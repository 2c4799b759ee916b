/* cfp_mpi.c - MPI start-up and shutdown, and `--mode multiprocessing` from
 * a plain shell. */
#include "mpi/cfp_mpi.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_log.h"
#include "base/cfp_memlimit.h"
#include "base/cfp_mem.h"
#include "mpi/cfp_mpi_internal.h"
#include "task/cfp_out.h"

bool cfp_mpi_under_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") ||
           getenv("SLURM_STEP_ID");
}

int cfp_mpi_want(const struct cfp_run_cfg *cfg)
{
    int want;

    switch (cfg->rank_engine) {
    case CFP_MODE_THREADS: want = 2 * cfg->engine.workers; break;
    case CFP_MODE_ASYNC: want = cfg->engine.concurrency + 2 * cfg->engine.workers; break;
    default: want = 2; break; /* one running, one waiting */
    }
    return want < 2 ? 2 : want > CFP_MPI_MAX_BATCH ? CFP_MPI_MAX_BATCH : want;
}

/* Per task: the int64 index; a flag byte: 0, 1 for url_truncated, or 0x80 |
 * bad_byte for a control byte in the line (the reader sets at most one of
 * the two, and bad_byte is ASCII); the uint16 URL length; the URL bytes;
 * and, after a 0x80 flag, the uint16 bad_col. The URL of such a task stops
 * before its control byte, so it is at most CFP_URL_MAX - 2 bytes and the
 * column fits in CFP_MPI_PACKED_MAX's room for one task; the length is
 * capped there all the same, whoever filled the task. */
size_t cfp_mpi_pack_tasks(const struct cfp_task *t, int n, unsigned char *out)
{
    size_t off = 0;

    for (int i = 0; i < n; i++) {
        uint16_t len = (uint16_t)strnlen(t[i].url, CFP_URL_MAX - 1);
        bool bad = !t[i].url_truncated && t[i].bad_col > 0;
        unsigned char flag = t[i].url_truncated ? 1 : 0;

        if (bad) {
            flag = (unsigned char)(0x80 | (t[i].bad_byte & 0x7f));
            len = len > CFP_URL_MAX - 2 ? CFP_URL_MAX - 2 : len;
        }
        memcpy(out + off, &t[i].index, 8);
        out[off + 8] = flag;
        memcpy(out + off + 9, &len, 2);
        memcpy(out + off + 11, t[i].url, len);
        off += 11 + (size_t)len;
        if (bad) {
            memcpy(out + off, &t[i].bad_col, 2);
            off += 2;
        }
    }
    return off;
}

/* Unpacks the flag byte and, after the URL, the column of one task. */
static bool unpack_flag(unsigned char flag, const unsigned char *col, size_t room,
                        struct cfp_task *t)
{
    t->url_truncated = flag == 1;
    t->bad_byte = 0;
    t->bad_col = 0;
    if (flag <= 1)
        return true;
    if (!(flag & 0x80) || room < 2)
        return false;
    t->bad_byte = flag & 0x7f;
    memcpy(&t->bad_col, col, 2);
    return t->bad_col > 0;
}

int cfp_mpi_unpack_tasks(const unsigned char *in, size_t len, struct cfp_task *out, int max)
{
    size_t off = 0;
    int n = 0;

    while (off < len) {
        uint16_t ulen;
        if (n == max || len - off < 11)
            return -1;
        memcpy(&out[n].index, in + off, 8);
        memcpy(&ulen, in + off + 9, 2);
        if (ulen >= CFP_URL_MAX || len - off - 11 < ulen)
            return -1;
        memcpy(out[n].url, in + off + 11, ulen);
        out[n].url[ulen] = '\0';
        if (!unpack_flag(in[off + 8], in + off + 11 + ulen, len - off - 11 - ulen, &out[n]))
            return -1;
        off += 11 + (size_t)ulen + (out[n].bad_col > 0 ? 2 : 0);
        n++;
    }
    return n;
}

cfp_err cfp_mpi_init(MPI_Comm *comm, int *rank, int *size, struct cfp_status *st)
{
    int provided = 0;

    if (cfp_mpi_startup_init(MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "MPI_Init_thread failed");
    /* A private communicator: cfp's tags cannot meet anyone else's messages. */
    MPI_Comm_dup(MPI_COMM_WORLD, comm);
    MPI_Comm_rank(*comm, rank);
    MPI_Comm_size(*comm, size);
    cfp_log_setup(cfp_log_threshold, *rank);
    if (provided < MPI_THREAD_MULTIPLE)
        return cfp_status_set(st, CFP_ERR_INTERNAL,
                              "this MPI library does not provide MPI_THREAD_MULTIPLE");
    return CFP_ERR_OK;
}

/* What each rank says at the start: where it runs, and whether it can
 * write the output directory (ranks on other hosts may not see the same
 * filesystem: doc/cluster.md). */
struct rank_hello {
    char host[CFP_HOST_MAX];
    int32_t ok;
    char msg[256];
};

/* Collective, before any work: gathers every rank's hello on rank 0 and
 * stops all ranks when one of them cannot write the outputs. On rank 0,
 * hosts (size entries, owned by the caller) gets every rank's host name. */
static cfp_err start_check(MPI_Comm comm, const struct cfp_run_cfg *cfg, int rank, int size,
                           char (*hosts)[CFP_HOST_MAX], struct cfp_status *st)
{
    struct rank_hello me, *all = NULL;
    struct cfp_status cst;
    int32_t verdict = 1;

    memset(&me, 0, sizeof(me));
    cfp_status_clear(&cst);
    (void)snprintf(me.host, sizeof(me.host), "%s", cfp_host_name());
    me.ok = !cfp_mkdirs(cfg->task.output_dir, &cst) &&
            !cfp_out_check_writable(cfg->task.output_dir, &cst);
    (void)snprintf(me.msg, sizeof(me.msg), "%.255s", cst.msg);
    if (rank == 0 && (!hosts || !(all = cfp_calloc((size_t)size, sizeof(*all)))))
        verdict = 0; /* out of memory: still take part in the collectives below */
    MPI_Gather(&me, (int)sizeof(me), MPI_BYTE, all, (int)sizeof(me), MPI_BYTE, 0, comm);
    if (rank == 0 && all) {
        for (int i = 0; i < size; i++) {
            all[i].host[CFP_HOST_MAX - 1] = all[i].msg[sizeof(all[i].msg) - 1] = '\0';
            memcpy(hosts[i], all[i].host, CFP_HOST_MAX);
            if (!cfg->input && strcmp(all[i].host, all[0].host) != 0 && verdict) {
                verdict = 0;
                cfp_status_set(st, CFP_ERR_USAGE,
                               "rank %d runs on host %s, but without --input the dataset is served "
                               "by rank 0 on 127.0.0.1 of host %s, which other hosts cannot reach: "
                               "give --input with URLs every host can reach",
                               i, all[i].host, all[0].host);
            }
            if (!all[i].ok && verdict) {
                verdict = 0;
                cfp_status_set(st, CFP_ERR_IO,
                               "rank %d on host %s cannot write the output directory: %s (every "
                               "rank must see the same, writable output directory)",
                               i, all[i].host, all[i].msg);
            }
        }
    } else if (rank == 0) {
        cfp_status_set(st, CFP_ERR_NOMEM, "rank 0: out of memory");
    }
    cfp_free(all);
    MPI_Bcast(&verdict, 1, MPI_INT32_T, 0, comm);
    if (verdict)
        return CFP_ERR_OK;
    /* Workers end quietly; rank 0 says why and exits 3. */
    return rank == 0 ? st->code : cfp_status_set(st, CFP_ERR_IO, "%s", "stopped by rank 0");
}

int cfp_mpi_per_host_share(int per_host, int size, int rank, bool rank0_works)
{
    int first = rank0_works || size == 1 ? 0 : 1, consumers = size - first, i = rank - first;

    if (per_host <= 0 || i < 0)
        return per_host;
    /* Split per_host among the consumer ranks: the first per_host % n get
     * one more, so the shares add up to per_host exactly. */
    return per_host / consumers + (i < per_host % consumers ? 1 : 0);
}

/* cfp_mpi_run(), with the job's start-up to record on rank 0 (or NULL). */
static cfp_err run_job(MPI_Comm comm, const struct cfp_run_cfg *in, const struct cfp_mpi_opts *mo,
                       const struct cfp_mpi_startup *su, struct cfp_engine_stats *stats,
                       struct cfp_status *st)
{
    char (*hosts)[CFP_HOST_MAX] = NULL;
    struct cfp_run_cfg c = *in, *cfg = &c;
    int rank = 0, size = 1, consumers, share;
    cfp_err err;

    memset(stats, 0, sizeof(*stats));
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    consumers = mo->rank0_works || size == 1 ? size : size - 1;
    if (cfg->engine.per_host > 0 && cfg->engine.per_host < consumers)
        /* Every rank makes the same decision: no message needed. */
        return cfp_status_set(st, CFP_ERR_USAGE,
                              "--per-host-connections %d is less than the %d ranks that fetch: "
                              "each needs at least one connection per server (use fewer ranks or "
                              "--no-rank0-work, or a larger cap)",
                              cfg->engine.per_host, consumers);
    c.engine.per_host = cfp_mpi_per_host_share(in->engine.per_host, size, rank, mo->rank0_works);
    /* Every default that depends on cores follows this rank's share of its
     * node's CPUs; --workers / --concurrency as given still win. Rank 0
     * records the job's CPUs, the sum of the shares, with the run. */
    share = cfp_mpi_cpu_share(comm);
    cfp_engine_size(cfg->rank_engine, share, mo->workers, mo->concurrency, &c.engine);
    MPI_Reduce(&share, &c.cpus, 1, MPI_INT, MPI_SUM, 0, comm);
    /* The memory budget likewise: each rank's share of its node's, unless
     * --memory gave every rank its own (doc/limits.md). */
    if (c.task.memory == CFP_MEMORY_AUTO) {
        c.task.memory = cfp_mpi_mem_share(comm);
        c.memory_source = cfp_memlimit_source_name(cfp_memlimit_get()->source);
    }
    {
        unsigned long long mine = c.task.memory, sum = 0;

        MPI_Reduce(&mine, &sum, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, comm);
        c.memory_total = sum;
    }
    if (rank == 0)
        hosts = cfp_calloc((size_t)size, CFP_HOST_MAX); /* NULL: start_check() fails the run */
    err = start_check(comm, cfg, rank, size, hosts, st);
    if (!err)
        err = rank == 0 ? cfp_mpi_root_run(comm, cfg, mo, (const char(*)[CFP_HOST_MAX])hosts, su,
                                           stats, st)
                        : cfp_mpi_worker_run(comm, cfg, st);
    cfp_free(hosts);
    return err;
}

cfp_err cfp_mpi_run(MPI_Comm comm, const struct cfp_run_cfg *in, const struct cfp_mpi_opts *mo,
                    struct cfp_engine_stats *stats, struct cfp_status *st)
{
    return run_job(comm, in, mo, NULL, stats, st);
}

void cfp_mpi_finalize(MPI_Comm *comm)
{
    double t0;

    MPI_Comm_free(comm);
    t0 = cfp_now();
    MPI_Finalize();
    cfp_log(CFP_LOG_DEBUG, "MPI_Finalize took %.3f s", cfp_now() - t0);
}

void cfp_mpi_idle_barrier(MPI_Comm comm)
{
    struct timespec nap = {0, 1000 * 1000};
    MPI_Request req;
    int done = 0;

    MPI_Ibarrier(comm, &req);
    while (MPI_Test(&req, &done, MPI_STATUS_IGNORE) == MPI_SUCCESS && !done)
        nanosleep(&nap, NULL);
}

cfp_err cfp_mpi_main(const struct cfp_run_cfg *cfg, const struct cfp_mpi_opts *mo,
                     struct cfp_engine_stats *stats, bool *is_root, struct cfp_status *st)
{
    MPI_Comm comm;
    int rank = 0, size = 1;
    struct cfp_mpi_startup su;
    cfp_err err;

    memset(stats, 0, sizeof(*stats));
    err = cfp_mpi_init(&comm, &rank, &size, st);
    *is_root = rank == 0;
    if (!err) {
        cfp_mpi_startup_gather(comm, &su); /* one job per launch: its start-up is this run's */
        err = run_job(comm, cfg, mo, &su, stats, st);
    }
    cfp_mpi_finalize(&comm);
    return err;
}

/* The path of this executable, for re-executing it under mpirun. */
static bool self_path(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);

    if (n <= 0 || (size_t)n >= size - 1)
        return false;
    buf[n] = '\0';
    return true;
}

cfp_err cfp_mpi_relaunch(int argc, char **argv, int ranks, struct cfp_status *st)
{
    char exe[PATH_MAX], np[16];
    char **av = cfp_calloc((size_t)argc + 10, sizeof(*av));
    int n = 0;

    if (!av)
        return cfp_status_set(st, CFP_ERR_NOMEM, "relaunch: out of memory");
    if (!self_path(exe, sizeof(exe))) {
        cfp_free(av);
        return cfp_status_set(st, CFP_ERR_INTERNAL, "relaunch: cannot find this executable");
    }
    (void)snprintf(np, sizeof(np), "%d", ranks);
    av[n++] = "mpirun";
    av[n++] = "-np";
    av[n++] = np;
    av[n++] = "--oversubscribe"; /* more ranks than cores is the user's call */
    if (geteuid() == 0)
        av[n++] = "--allow-run-as-root";
    av[n++] = "-x"; /* the launch time, to every rank (cfp_mpi_startup.c) */
    av[n++] = "CFP_MPI_LAUNCH_T";
    av[n++] = exe;
    for (int i = 1; i < argc; i++)
        av[n++] = argv[i];
    av[n] = NULL;
    cfp_log(CFP_LOG_INFO, "multiprocessing: re-executing under mpirun -np %d", ranks);
    fflush(stdout);
    fflush(stderr);
    cfp_mpi_startup_mark_launch();
    execvp("mpirun", av);
    cfp_status_set(st, CFP_ERR_INTERNAL, "relaunch: cannot run mpirun: %s (install openmpi-bin, or start cfp with mpirun yourself)",
                   strerror(errno));
    cfp_free(av);
    return st->code;
}
