/* cfp_mpi_worker.c - a worker rank: the local engine with a task source and
 * a result sink that are messages to and from rank 0.
 *
 * MPI is initialised with MPI_THREAD_MULTIPLE: the source is called by the
 * engine's reading thread while the sink is called by whichever worker
 * thread holds the engine's sink lock, and a heartbeat thread sends a small
 * message every second, so these may be in MPI at the same time. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "base/cfp_clock.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"
#include "base/cfp_stop.h"
#include "mpi/cfp_mpi_internal.h"
#include "task/cfp_out.h"

/* The task source: a local buffer refilled from rank 0 before it runs dry. */
struct mpi_source {
    MPI_Comm comm;
    int want;                 /* tasks asked for per request */
    struct cfp_task *buf;     /* ring of `want` tasks; owned */
    size_t head, count;
    unsigned char *inbox;     /* packed reply of the outstanding request; owned */
    MPI_Request req;          /* valid while pending */
    struct cfp_task *scratch; /* unpacked reply; owned */
    int64_t popped;           /* tasks handed to the engine */
    const atomic_llong *recorded; /* records the engine pushed (the sink's counter) */
    long long asked_at;       /* records pushed when the outstanding request was sent */
    long long later_mark;     /* after a LATER reply: ask again once recorded passes it */
    bool pending, done, later;
    double idle_s;            /* time spent waiting for work */
};

/* The result sink: records batched into one message. Called under the
 * engine's sink lock, so it needs no lock of its own. */
struct mpi_sink {
    MPI_Comm comm;
    struct cfp_record *batch; /* CFP_MPI_RECORD_BATCH records; owned */
    int n;
    double first_at;          /* when the oldest buffered record arrived */
    int64_t sent;
    atomic_llong pushed;      /* records taken; read by the source on another thread */
};

/* Asks rank 0 for work. blocking says the engine is waiting for a task
 * right now: rank 0 never answers LATER to that, so a source never waits on
 * anything but a prompt reply (the async engine calls it on its event loop). */
static cfp_err source_request(struct mpi_source *s, bool blocking, struct cfp_status *st)
{
    /* in hand = queued here + taken by the engine and not yet recorded */
    int32_t msg[3] = {(int32_t)(s->want - (int)s->count),
                      (int32_t)(s->count + (size_t)(s->popped - atomic_load(s->recorded))),
                      blocking ? 1 : 0};

    if (MPI_Irecv(s->inbox, (int)CFP_MPI_PACKED_MAX(s->want), MPI_BYTE, 0, CFP_TAG_TASKS, s->comm,
                  &s->req) != MPI_SUCCESS ||
        MPI_Send(msg, 3, MPI_INT32_T, 0, CFP_TAG_REQUEST, s->comm) != MPI_SUCCESS)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "MPI: work request to rank 0 failed");
    s->pending = true;
    s->asked_at = atomic_load(s->recorded);
    return CFP_ERR_OK;
}

/* Moves a completed reply into the ring; no tasks means no more work. */
static cfp_err source_take(struct mpi_source *s, const MPI_Status *ms, struct cfp_status *st)
{
    int bytes = 0, n;
    size_t room = (size_t)s->want - s->count;

    MPI_Get_count(ms, MPI_BYTE, &bytes);
    s->pending = false;
    if (bytes >= 1 && s->inbox[0] == CFP_REPLY_DONE) {
        s->done = true;
        return CFP_ERR_OK;
    }
    if (bytes >= 1 && s->inbox[0] == CFP_REPLY_LATER) {
        /* Measured from when we asked: a task that finished since then
         * already changed what we hold. */
        s->later = true;
        s->later_mark = s->asked_at;
        return CFP_ERR_OK;
    }
    n = bytes >= 1 && s->inbox[0] == CFP_REPLY_TASKS
            ? cfp_mpi_unpack_tasks(s->inbox + 1, (size_t)bytes - 1, s->scratch, (int)room)
            : -1;
    if (n <= 0)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "MPI: malformed task batch from rank 0");
    for (int i = 0; i < n; i++)
        s->buf[(s->head + s->count + (size_t)i) % (size_t)s->want] = s->scratch[i];
    s->count += (size_t)n;
    return CFP_ERR_OK;
}

/* Completes the outstanding request, waiting for it when wait is set. */
static cfp_err source_poll(struct mpi_source *s, bool wait, struct cfp_status *st)
{
    MPI_Status ms;
    int flag = 0;

    if (!s->pending)
        return CFP_ERR_OK;
    if (wait) {
        double t0 = cfp_now();
        MPI_Wait(&s->req, &ms);
        s->idle_s += cfp_now() - t0;
        flag = 1;
    } else {
        MPI_Test(&s->req, &flag, &ms);
    }
    return flag ? source_take(s, &ms, st) : CFP_ERR_OK;
}

static cfp_err source_next(struct cfp_source *src, struct cfp_task *t, bool *done,
                           struct cfp_status *st)
{
    struct mpi_source *s = src->ctx;
    long long rec;

    if (cfp_stop_requested() && !s->done) {
        /* Stop: take no new task. The request in flight is answered first
         * (MPI needs it completed); tasks in hand are abandoned without a
         * record, so --resume does them. */
        if (s->pending && source_poll(s, true, st))
            return st->code;
        s->count = 0;
        s->done = true;
    }
    /* The engine needs a task now: take one from the buffer, or ask and wait
     * (a pending prefetch may come back LATER; then ask again, blocking). */
    while (s->count == 0 && !s->done) {
        if (!s->pending && source_request(s, true, st))
            return st->code;
        if (source_poll(s, true, st))
            return st->code;
    }
    if (s->count == 0) {
        *done = true;
        return CFP_ERR_OK;
    }
    *t = s->buf[s->head];
    s->head = (s->head + 1) % (size_t)s->want;
    s->count--;
    s->popped++;
    *done = false;
    /* Prefetch while half the buffer is left, so work is on its way before
     * the engine needs it; after LATER, only once one of our tasks finished. */
    if (source_poll(s, false, st))
        return st->code;
    rec = atomic_load(s->recorded);
    if (s->later && rec > s->later_mark)
        s->later = false;
    if (!s->done && !s->pending && !s->later && s->count <= (size_t)s->want / 2 &&
        source_request(s, false, st))
        return st->code;
    return CFP_ERR_OK;
}

static cfp_err sink_flush(struct mpi_sink *k, struct cfp_status *st)
{
    if (k->n == 0)
        return CFP_ERR_OK;
    if (MPI_Send(k->batch, (int)(k->n * sizeof(struct cfp_record)), MPI_BYTE, 0, CFP_TAG_RECORDS,
                 k->comm) != MPI_SUCCESS)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "MPI: sending records to rank 0 failed");
    k->sent += k->n;
    k->n = 0;
    return CFP_ERR_OK;
}

static cfp_err sink_push(struct cfp_sink *snk, const struct cfp_record *r, struct cfp_status *st)
{
    struct mpi_sink *k = snk->ctx;

    if (k->n == 0)
        k->first_at = cfp_now();
    k->batch[k->n++] = *r;
    atomic_fetch_add(&k->pushed, 1);
    /* Full batches keep messages few; the age bound keeps rank 0's view
     * (progress, the HDF5 file of an interrupted run) close to the truth. */
    if (k->n == CFP_MPI_RECORD_BATCH || cfp_now() - k->first_at >= CFP_MPI_RECORD_FLUSH_S)
        return sink_flush(k, st);
    return CFP_ERR_OK;
}

/* The heartbeat tells rank 0 this rank is alive while a long task runs. */
struct heartbeat {
    MPI_Comm comm;
    pthread_mutex_t mu;  /* guards stop */
    pthread_cond_t cv;   /* signalled when stop is set */
    bool stop;           /* guarded by mu */
    pthread_t tid;
};

static void *heartbeat_main(void *ud)
{
    struct heartbeat *hb = ud;
    struct timespec until;

    pthread_mutex_lock(&hb->mu);
    while (!hb->stop) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)CFP_MPI_HEARTBEAT_S;
        pthread_cond_timedwait(&hb->cv, &hb->mu, &until);
        if (hb->stop)
            break;
        pthread_mutex_unlock(&hb->mu);
        MPI_Send(NULL, 0, MPI_BYTE, 0, CFP_TAG_HEARTBEAT, hb->comm);
        pthread_mutex_lock(&hb->mu);
    }
    pthread_mutex_unlock(&hb->mu);
    return NULL;
}

static bool heartbeat_start(struct heartbeat *hb, MPI_Comm comm)
{
    hb->comm = comm;
    hb->stop = false;
    pthread_mutex_init(&hb->mu, NULL);
    pthread_cond_init(&hb->cv, NULL);
    return pthread_create(&hb->tid, NULL, heartbeat_main, hb) == 0;
}

static void heartbeat_stop(struct heartbeat *hb)
{
    pthread_mutex_lock(&hb->mu);
    hb->stop = true;
    pthread_cond_signal(&hb->cv);
    pthread_mutex_unlock(&hb->mu);
    pthread_join(hb->tid, NULL);
    pthread_cond_destroy(&hb->cv);
    pthread_mutex_destroy(&hb->mu);
}

/* Sends this rank's last message: what it did, and any fatal error. */
static void send_final(MPI_Comm comm, int64_t tasks, double busy_s, double u0, double s0,
                       uint64_t mem_peak, const struct cfp_status *st)
{
    struct cfp_mpi_final fin;
    int64_t rss;
    double u1, s1;

    memset(&fin, 0, sizeof(fin));
    fin.tasks = tasks;
    fin.busy_s = busy_s;
    cfp_rusage(&u1, &s1, &rss);
    fin.cpu_user_s = u1 - u0;
    fin.cpu_sys_s = s1 - s0;
    fin.mem_peak = mem_peak;
    fin.err = (int32_t)st->code;
    memcpy(fin.msg, st->msg, sizeof(fin.msg));
    MPI_Send(&fin, (int)sizeof(fin), MPI_BYTE, 0, CFP_TAG_FINAL, comm);
}

cfp_err cfp_mpi_worker_run(MPI_Comm comm, const struct cfp_run_cfg *cfg, struct cfp_status *st)
{
    struct mpi_source s = {0};
    struct mpi_sink k = {0};
    struct cfp_source src = {source_next, &s};
    struct cfp_sink snk = {sink_push, &k};
    struct cfp_engine_stats stats;
    struct cfp_task_cfg tcfg = cfg->task;
    struct heartbeat hb;
    bool hb_on = false;
    double t0 = cfp_now(), u0, s0;
    int64_t rss0;
    int rank = 0;
    cfp_err err;

    cfp_rusage(&u0, &s0, &rss0);
    MPI_Comm_rank(comm, &rank);
    memset(&stats, 0, sizeof(stats));
    s.comm = k.comm = comm;
    atomic_init(&k.pushed, 0);
    s.recorded = &k.pushed;
    s.want = cfp_mpi_want(cfg);
    s.buf = cfp_calloc((size_t)s.want, sizeof(*s.buf));
    s.inbox = cfp_malloc(CFP_MPI_PACKED_MAX(s.want));
    s.scratch = cfp_calloc((size_t)s.want, sizeof(*s.scratch));
    k.batch = cfp_calloc(CFP_MPI_RECORD_BATCH, sizeof(*k.batch));
    if (!s.buf || !s.inbox || !s.scratch || !k.batch) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "rank %d: out of memory", rank);
        goto out_final;
    }
    err = cfp_mkdirs(tcfg.output_dir, st);
    if (err)
        goto out_final;
    tcfg.rank = rank;
    tcfg.t0 = t0;
    hb_on = heartbeat_start(&hb, comm);
    err = cfp_engine_run(cfg->rank_engine, &cfg->engine, &tcfg, &src, &snk, &stats, st);
    if (!err)
        err = sink_flush(&k, st);
    if (s.pending) { /* stopped early: rank 0 always answers; drop the reply */
        MPI_Status ms;
        MPI_Wait(&s.req, &ms);
    }
out_final:
    if (hb_on)
        heartbeat_stop(&hb);
    send_final(comm, k.sent, cfp_now() - t0 - s.idle_s, u0, s0, stats.mem_peak, st);
    cfp_free(s.buf);
    cfp_free(s.inbox);
    cfp_free(s.scratch);
    cfp_free(k.batch);
    return err;
}
