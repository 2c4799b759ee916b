/* cfp_mpi_root.c - rank 0: reads the URL list, hands out work on request,
 * collects every record into the one HDF5 file, and (by default) runs an
 * engine on its own share of the work.
 *
 * Threads on rank 0: the calling thread services MPI (it is the only one
 * that calls MPI here); the local engine runs on its own thread(s) and meets
 * the service thread only through `mu`. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/cfp_clock.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"
#include "base/cfp_stop.h"
#include "mpi/cfp_mpi_internal.h"

struct rank_state {
    int64_t tasks;       /* records received from the rank */
    int64_t outstanding; /* tasks sent, records not yet back */
    double busy_s;
    double last_heard;   /* cfp_now() of its last message */
    bool finished;       /* its FINAL arrived */
    /* The reply to its last request, sent without blocking: a stopped or
     * hung worker must never be able to stall rank 0 inside MPI_Send. */
    MPI_Request send_req;
    unsigned char *send_buf; /* owned while the send is in flight */
};

struct root {
    MPI_Comm comm;
    int size;
    int consumers;               /* ranks that process tasks */
    struct cfp_run_ctx *ctx;     /* NULL when the run could not be opened */
    const struct cfp_mpi_opts *mo;
    const char (*hosts)[CFP_HOST_MAX]; /* every rank's host name, for messages */
    pthread_mutex_t mu;          /* guards ctx->src, ctx->sink, stats, ranks[], dispatched,
                                    src_done, err, st; taken by the service thread and by the
                                    local engine's source and sink */
    struct cfp_engine_stats *stats;
    struct rank_state *ranks;    /* size entries; owned */
    int64_t dispatched;
    bool src_done;
    cfp_err err;                 /* first fatal error */
    struct cfp_status *st;
    struct cfp_task *out;        /* batch being built, CFP_MPI_MAX_BATCH; service thread only */
    struct cfp_record *in;       /* receive buffer, CFP_MPI_RECORD_BATCH; service thread only */
    double dispatch_s;           /* service thread time spent handling messages */
    int64_t messages;            /* messages handled; service thread only */
};

/* Records the first fatal error; the caller holds r->mu. */
static void fail_locked(struct root *r, cfp_err err, const char *msg)
{
    if (r->err)
        return;
    r->err = err;
    cfp_status_set(r->st, err, "%s", msg);
    r->src_done = true;
}

/* Takes the next task from the list; the caller holds r->mu. */
static bool next_locked(struct root *r, struct cfp_task *t)
{
    struct cfp_status st;
    bool done = false;

    if (r->src_done || !r->ctx)
        return false;
    cfp_status_clear(&st);
    if (r->ctx->src.next(&r->ctx->src, t, &done, &st)) {
        fail_locked(r, st.code, st.msg);
        return false;
    }
    if (done) {
        r->src_done = true;
        return false;
    }
    r->dispatched++;
    return true;
}

static cfp_err push_locked(struct root *r, int rank, const struct cfp_record *rec)
{
    struct cfp_status st;
    cfp_err err;

    cfp_status_clear(&st);
    cfp_engine_stats_add(r->stats, rec);
    r->ranks[rank].tasks++;
    err = r->ctx->sink.push(&r->ctx->sink, rec, &st);
    if (err)
        fail_locked(r, err, st.msg);
    return err;
}

/* Rank 0's own engine reads and writes through these, under r->mu. */
static cfp_err local_next(struct cfp_source *s, struct cfp_task *t, bool *done,
                          struct cfp_status *st)
{
    struct root *r = s->ctx;

    (void)st;
    pthread_mutex_lock(&r->mu);
    *done = !next_locked(r, t);
    pthread_mutex_unlock(&r->mu);
    return CFP_ERR_OK;
}

static cfp_err local_push(struct cfp_sink *s, const struct cfp_record *rec, struct cfp_status *st)
{
    struct root *r = s->ctx;
    cfp_err err;

    pthread_mutex_lock(&r->mu);
    err = push_locked(r, 0, rec);
    pthread_mutex_unlock(&r->mu);
    return err ? cfp_status_set(st, err, "results: %s", cfp_strerror(err)) : CFP_ERR_OK;
}

/* Guided self-scheduling: a batch is at most what was asked for, and at
 * most half a fair share of what is left, so batches shrink towards the end
 * and no rank is left holding a long tail while the others idle. */
static int batch_size(const struct root *r, int want)
{
    int64_t left, share;

    if (want > CFP_MPI_MAX_BATCH)
        want = CFP_MPI_MAX_BATCH;
    if (!r->ctx || r->ctx->total < 0)
        return want;
    left = r->ctx->total - r->dispatched;
    share = (left + 2 * r->consumers - 1) / (2 * r->consumers);
    if (share < 1)
        share = 1;
    return share < want ? (int)share : want;
}

/* Completes (frees) the previous reply to rank i, if any; wait says
 * whether to block for it. */
static void reap_send(struct rank_state *rs, bool wait)
{
    int flag = 1;

    if (!rs->send_buf)
        return;
    if (wait)
        MPI_Wait(&rs->send_req, MPI_STATUS_IGNORE);
    else
        MPI_Test(&rs->send_req, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        cfp_free(rs->send_buf);
        rs->send_buf = NULL;
    }
}

/* The end-of-run rule (see enum cfp_mpi_reply): a prefetch (not blocking)
 * from a rank that holds work is deferred when fewer tasks are left than
 * ranks that work. A blocking request is never deferred. The caller holds
 * r->mu. */
static bool defer_locked(const struct root *r, int32_t in_hand, int32_t blocking)
{
    return !blocking && in_hand > 0 && r->ctx && r->ctx->total >= 0 && !r->src_done &&
           r->ctx->total - r->dispatched < r->consumers;
}

static void on_request(struct root *r, const MPI_Status *ms)
{
    struct rank_state *rs = &r->ranks[ms->MPI_SOURCE];
    int32_t msg[3] = {0, 0, 1};
    unsigned char reply;
    size_t bytes = 1;
    int n = 0;

    MPI_Recv(msg, 3, MPI_INT32_T, ms->MPI_SOURCE, CFP_TAG_REQUEST, r->comm, MPI_STATUS_IGNORE);
    /* A worker asks again only after it received the last reply. */
    reap_send(rs, true);
    pthread_mutex_lock(&r->mu);
    if (defer_locked(r, msg[1], msg[2])) {
        reply = CFP_REPLY_LATER;
    } else {
        for (int max = batch_size(r, msg[0]); n < max && next_locked(r, &r->out[n]); n++)
            ;
        reply = n > 0 ? CFP_REPLY_TASKS : CFP_REPLY_DONE;
    }
    rs->outstanding += n;
    pthread_mutex_unlock(&r->mu);
    rs->send_buf = cfp_malloc(CFP_MPI_PACKED_MAX(n));
    if (!rs->send_buf) { /* cannot say anything but "no more work": the run is broken */
        static unsigned char done = CFP_REPLY_DONE;
        pthread_mutex_lock(&r->mu);
        fail_locked(r, CFP_ERR_NOMEM, "rank 0: out of memory for a task batch");
        pthread_mutex_unlock(&r->mu);
        MPI_Send(&done, 1, MPI_BYTE, ms->MPI_SOURCE, CFP_TAG_TASKS, r->comm);
        return;
    }
    rs->send_buf[0] = reply;
    bytes += cfp_mpi_pack_tasks(r->out, n, rs->send_buf + 1);
    /* Always answer, without blocking. */
    MPI_Isend(rs->send_buf, (int)bytes, MPI_BYTE, ms->MPI_SOURCE, CFP_TAG_TASKS, r->comm,
              &rs->send_req);
}

static void on_records(struct root *r, const MPI_Status *ms)
{
    int bytes = 0, n;

    MPI_Get_count(ms, MPI_BYTE, &bytes);
    n = bytes / (int)sizeof(struct cfp_record);
    if (n > CFP_MPI_RECORD_BATCH) { /* never sent by cfp: refuse rather than overflow */
        MPI_Recv(NULL, 0, MPI_BYTE, ms->MPI_SOURCE, CFP_TAG_RECORDS, r->comm, MPI_STATUS_IGNORE);
        return;
    }
    MPI_Recv(r->in, bytes, MPI_BYTE, ms->MPI_SOURCE, CFP_TAG_RECORDS, r->comm, MPI_STATUS_IGNORE);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < n && r->ctx; i++)
        if (push_locked(r, ms->MPI_SOURCE, &r->in[i]))
            break;
    r->ranks[ms->MPI_SOURCE].outstanding -= n;
    pthread_mutex_unlock(&r->mu);
}

static void on_final(struct root *r, const MPI_Status *ms)
{
    struct cfp_mpi_final fin;
    struct rank_state *rs = &r->ranks[ms->MPI_SOURCE];

    MPI_Recv(&fin, (int)sizeof(fin), MPI_BYTE, ms->MPI_SOURCE, CFP_TAG_FINAL, r->comm,
             MPI_STATUS_IGNORE);
    fin.msg[sizeof(fin.msg) - 1] = '\0';
    pthread_mutex_lock(&r->mu);
    rs->finished = true;
    rs->busy_s = fin.busy_s;
    if (fin.mem_peak > r->stats->mem_peak)
        r->stats->mem_peak = fin.mem_peak;
    if (r->ctx) { /* the run's CPU time is every rank's, not only rank 0's */
        r->ctx->other_user_s += fin.cpu_user_s;
        r->ctx->other_sys_s += fin.cpu_sys_s;
    }
    if (fin.err) {
        char msg[CFP_MSG_MAX + 32];
        (void)snprintf(msg, sizeof(msg), "rank %d: %s", ms->MPI_SOURCE, fin.msg);
        fail_locked(r, (cfp_err)fin.err, msg);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Handles one message if one is waiting; returns false when none was. */
static bool service_one(struct root *r)
{
    MPI_Status ms;
    int flag = 0;

    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, r->comm, &flag, &ms);
    if (!flag)
        return false;
    r->ranks[ms.MPI_SOURCE].last_heard = cfp_now();
    switch (ms.MPI_TAG) {
    case CFP_TAG_REQUEST: on_request(r, &ms); break;
    case CFP_TAG_RECORDS: on_records(r, &ms); break;
    case CFP_TAG_FINAL: on_final(r, &ms); break;
    default: /* heartbeat, or anything else: consume it */
        MPI_Recv(NULL, 0, MPI_BYTE, ms.MPI_SOURCE, ms.MPI_TAG, r->comm, MPI_STATUS_IGNORE);
        break;
    }
    return true;
}

/* A worker that sent nothing, not even a heartbeat, for the timeout is
 * stopped or hung (a crashed one makes mpirun end the whole job instead).
 * Returns true when the run must end. */
static bool check_silence(struct root *r)
{
    double now = cfp_now();

    for (int i = 1; i < r->size; i++) {
        struct rank_state *rs = &r->ranks[i];
        char msg[CFP_MSG_MAX];
        if (rs->finished || now - rs->last_heard < r->mo->rank_timeout_s)
            continue;
        (void)snprintf(msg, sizeof(msg),
                       "rank %d on host %s sent nothing for %.0f s (no heartbeat; --rank-timeout "
                       "%.0f) with %lld tasks outstanding: ending the run, finished records are saved",
                       i, r->hosts[i], now - rs->last_heard, r->mo->rank_timeout_s,
                       (long long)rs->outstanding);
        pthread_mutex_lock(&r->mu);
        fail_locked(r, CFP_ERR_INTERNAL, msg);
        pthread_mutex_unlock(&r->mu);
        return true;
    }
    return false;
}

static bool all_finished(const struct root *r)
{
    for (int i = 1; i < r->size; i++)
        if (!r->ranks[i].finished)
            return false;
    return true;
}

/* Serves the workers until all have said their last word, or one goes
 * silent (returns false then). */
static bool serve(struct root *r)
{
    /* Idle polling backs off from 50 us to 2 ms, so a quiet run costs rank 0
     * almost no CPU (it shares the cores with the engines) while a busy one
     * is answered at once. Blocking MPI calls would spin a core instead. */
    long nap_ns = 50 * 1000;
    bool flushed = false;

    while (!all_finished(r)) {
        double t0;
        for (int i = 1; i < r->size; i++)
            reap_send(&r->ranks[i], false);
        if (cfp_stop_requested() && !flushed) {
            /* A stop (cfp_stop.h): the source now ends, so workers are told
             * "no more work" and finish what they hold. Write what is
             * buffered at once: under mpirun a SIGTERM is followed by a
             * SIGKILL a few seconds later (and a rank's death by SIGTERM to
             * all); later records are written batch by batch. */
            struct cfp_status fst;
            cfp_status_clear(&fst);
            pthread_mutex_lock(&r->mu);
            if (r->ctx)
                (void)cfp_h5_flush(r->ctx->h5, &fst);
            pthread_mutex_unlock(&r->mu);
            flushed = true;
        }
        t0 = cfp_now();
        if (service_one(r)) {
            r->dispatch_s += cfp_now() - t0;
            r->messages++;
            nap_ns = 50 * 1000;
            continue;
        }
        if (check_silence(r))
            return false;
        nanosleep(&(struct timespec){0, nap_ns}, NULL);
        if (nap_ns < 2000 * 1000)
            nap_ns *= 2;
    }
    for (int i = 1; i < r->size; i++)
        reap_send(&r->ranks[i], true); /* every worker has finished: all were received */
    return true;
}

/* Rank 0's own engine, on its own thread. */
struct local_engine {
    struct root *r;
    const struct cfp_run_cfg *cfg;
    pthread_t tid;
    bool started;
    cfp_err err;
    struct cfp_status st;
    double busy_s;
};

static void *local_main(void *ud)
{
    struct local_engine *le = ud;
    struct cfp_source src = {local_next, le->r};
    struct cfp_sink snk = {local_push, le->r};
    struct cfp_engine_stats unused;
    double t0 = cfp_now();

    cfp_status_clear(&le->st);
    le->err = cfp_engine_run(le->cfg->rank_engine, &le->cfg->engine, &le->r->ctx->cfg.task, &src,
                             &snk, &unused, &le->st);
    le->busy_s = cfp_now() - t0;
    pthread_mutex_lock(&le->r->mu);
    if (unused.mem_peak > le->r->stats->mem_peak)
        le->r->stats->mem_peak = unused.mem_peak;
    pthread_mutex_unlock(&le->r->mu);
    return NULL;
}

/* Writes the per-rank dataset: tasks and busy time of every rank. */
static void write_ranks(struct root *r, double rank0_busy)
{
    int32_t *rank = cfp_calloc((size_t)r->size, sizeof(*rank));
    int64_t *tasks = cfp_calloc((size_t)r->size, sizeof(*tasks));
    double *busy = cfp_calloc((size_t)r->size, sizeof(*busy));
    struct cfp_status st;

    cfp_status_clear(&st);
    if (r->ctx->prior.found) {
        /* A resumed run keeps the per-rank table of its first session. */
        cfp_free(rank), cfp_free(tasks), cfp_free(busy);
        return;
    }
    r->ranks[0].busy_s = rank0_busy;
    for (int i = 0; rank && tasks && busy && i < r->size; i++) {
        rank[i] = i;
        tasks[i] = r->ranks[i].tasks;
        busy[i] = r->ranks[i].busy_s;
    }
    if (!rank || !tasks || !busy || cfp_h5_write_ranks(r->ctx->h5, rank, tasks, busy, r->hosts,
                                                       (size_t)r->size, &st))
        cfp_log(CFP_LOG_WARN, "per-rank dataset not written: %s", st.msg[0] ? st.msg : "out of memory");
    cfp_free(rank);
    cfp_free(tasks);
    cfp_free(busy);
}

static cfp_err root_init(struct root *r, MPI_Comm comm, const struct cfp_mpi_opts *mo,
                         struct cfp_engine_stats *stats, struct cfp_status *st)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    r->comm = comm;
    r->mo = mo;
    r->stats = stats;
    r->st = st;
    MPI_Comm_size(comm, &r->size);
    r->ranks = cfp_calloc((size_t)r->size, sizeof(*r->ranks));
    r->out = cfp_calloc(CFP_MPI_MAX_BATCH, sizeof(*r->out));
    r->in = cfp_calloc(CFP_MPI_RECORD_BATCH, sizeof(*r->in));
    r->ctx = cfp_malloc(sizeof(*r->ctx));
    if (!r->ranks || !r->out || !r->in || !r->ctx)
        return cfp_status_set(st, CFP_ERR_NOMEM, "rank 0: out of memory");
    for (int i = 0; i < r->size; i++)
        r->ranks[i].last_heard = cfp_now();
    return CFP_ERR_OK;
}

static void root_free(struct root *r)
{
    for (int i = 0; r->ranks && i < r->size; i++)
        cfp_free(r->ranks[i].send_buf); /* after an abort only: MPI is going away */
    cfp_free(r->ranks);
    cfp_free(r->out);
    cfp_free(r->in);
    cfp_free(r->ctx);
}

cfp_err cfp_mpi_root_run(MPI_Comm comm, const struct cfp_run_cfg *cfg,
                         const struct cfp_mpi_opts *mo, const char (*hosts)[CFP_HOST_MAX],
                         const struct cfp_mpi_startup *su, struct cfp_engine_stats *stats,
                         struct cfp_status *st)
{
    struct cfp_run_cfg rcfg = *cfg;
    struct root r;
    struct local_engine le = {0};
    bool works, alive;
    cfp_err err;

    memset(stats, 0, sizeof(*stats));
    err = root_init(&r, comm, mo, stats, st);
    r.hosts = hosts;
    rcfg.ranks = r.size;
    if (!err && (err = cfp_run_open(&rcfg, r.ctx, st)) != CFP_ERR_OK) {
        cfp_free(r.ctx);
        r.ctx = NULL; /* serve() still answers every request: "no more work" */
    }
    if (!err && r.ctx && su) /* written with the run's totals */
        cfp_mpi_startup_record(su, r.ctx->t0, &r.ctx->info);
    r.src_done = r.ctx == NULL;
    works = mo->rank0_works || r.size == 1;
    r.consumers = r.size - 1 + (works ? 1 : 0);
    le.r = &r;
    le.cfg = cfg;
    if (r.ctx && works)
        le.started = pthread_create(&le.tid, NULL, local_main, &le) == 0;
    alive = r.ranks ? serve(&r) : true;
    if (le.started)
        pthread_join(le.tid, NULL);
    if (!r.ctx)
        goto out_free;
    if (le.err) {
        pthread_mutex_lock(&r.mu);
        fail_locked(&r, le.err, le.st.msg);
        pthread_mutex_unlock(&r.mu);
    }
    write_ranks(&r, le.busy_s);
    cfp_log(CFP_LOG_INFO, "rank 0 dispatcher: %lld messages handled in %.3f s of %.3f s wall (%.1f%%)",
            (long long)r.messages, r.dispatch_s, cfp_now() - r.ctx->t0,
            100.0 * r.dispatch_s / (cfp_now() - r.ctx->t0 > 0 ? cfp_now() - r.ctx->t0 : 1));
    cfp_run_final_stats(r.ctx, stats);
    err = cfp_run_close(r.ctx, stats, r.err, st);
out_free:
    pthread_mutex_destroy(&r.mu);
    root_free(&r);
    if (!alive) {
        /* The silent rank may never answer: MPI cannot finalise with it.
         * Everything finished is in the results file by now. */
        fprintf(stderr, "cfp: %s\n", st->msg);
        MPI_Abort(comm, 3);
    }
    return err;
}
