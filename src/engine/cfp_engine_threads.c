/* cfp_engine_threads.c - the threading engine: a pool of pthreads fed by a
 * bounded task queue.
 *
 * The calling thread reads the source and pushes tasks into the queue (it
 * blocks while the queue is full, so memory does not grow with the list).
 * Each worker owns a CURL easy handle and its keep-alive connections; all
 * handles share the DNS cache and TLS sessions through one CURLSH, never
 * the connection pool (pool_init says why). Two counting
 * semaphores keep the two kinds of work apart: `fetch` caps transfers in
 * flight (--concurrency), `cpu` caps image decode/resize/encode jobs at one
 * per core (cpu_slots), so a pool sized for I/O overlap does not oversubscribe
 * the cores with image work. A file:// task holds `cpu` for its whole run,
 * taken here before it starts (lane_run says why). Records reach the
 * sink under one lock, so the HDF5 writer is never entered by two threads.
 *
 * The workers are lanes of a watchdog (cfp_watch.h): a task stuck in a
 * system call past its deadline, or past a stop's grace, is given up, the
 * slots it held are released here (pool_stuck) and a new thread takes its
 * place. Every slot a worker takes is marked with cfp_watch_hold() and
 * given back only if cfp_watch_release() says it is still the worker's, so
 * each slot is released once, by the worker or by the watchdog.
 *
 * The sequential engine is this one with one worker, one transfer and one
 * core slot: its task runs on a thread the caller can give up on too. */
#include <pthread.h>
#include <semaphore.h>
#include <string.h>

#include "base/cfp_clock.h"
#include "engine/cfp_engine_internal.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"
#include "task/cfp_fetch.h"
#include "engine/cfp_queue.h"
#include "engine/cfp_serial.h"
#include "base/cfp_stop.h"
#include "task/cfp_watch.h"

#define HOST_SLOTS 251 /* origin slots of --per-host-connections (a prime) */
/* Local (file://) tasks a thread runs in a row on one core slot before it
 * lets a waiting thread have it. Handing the slot over after every task
 * cost 0.7 ms of scheduling delay per task on this VM (perf sched); the
 * bound keeps tasks waiting behind the slot (a remote image whose
 * --task-timeout runs) from waiting more than HOLD_MAX tasks' time. */
#define HOLD_MAX 8

/* The slots a worker holds, as cfp_watch_hold() bits. */
enum { HOLD_FETCH = 1u, HOLD_HOST = 2u, HOLD_CPU = 4u };

struct pool {
    const struct cfp_task_cfg *cfg; /* read-only while threads run */
    struct cfp_task_gates gates;
    struct cfp_queue *tasks;        /* thread-safe itself */
    CURLSH *share;                  /* locked through share_mu[] */
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST]; /* one per kind of shared curl data;
                                                       taken by libcurl via share_lock() */
    sem_t fetch_sem;                /* transfers in flight; taken around the fetch phase */
    sem_t cpu_sem;                  /* image jobs at once; taken around the finish phase */
    /* --per-host-connections: transfers in flight per origin, counted in
     * slots by a hash of the origin (two origins in one slot share a cap:
     * never more transfers than asked, sometimes fewer). host_mu guards
     * host_busy; a worker over the cap waits on host_cv. Taken around the
     * fetch phase, after fetch_sem. Unused when per_host is 0. */
    int per_host;
    pthread_mutex_t host_mu;
    pthread_cond_t host_cv;
    int host_busy[HOST_SLOTS];
    struct cfp_serial_sink out;     /* the single writer and the first fatal error */
    struct cfp_watch_ops ops;       /* the workers' body and the stuck-task callback */
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    struct pool *p = ud;
    (void)h, (void)access;
    pthread_mutex_lock(&p->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
    struct pool *p = ud;
    (void)h;
    pthread_mutex_unlock(&p->share_mu[data]);
}

static void sem_wait_retry(sem_t *s)
{
    while (sem_wait(s) != 0)
        ; /* EINTR */
}

/* The origin slot of url, or -1 when it is not capped. */
static int host_slot(const struct pool *p, const char *url)
{
    uint64_t h;

    return p->per_host > 0 && cfp_fetch_origin_hash(url, &h) ? (int)(h % HOST_SLOTS) : -1;
}

static void fetch_enter(void *ctx, const char *url)
{
    struct pool *p = ctx;
    int slot = host_slot(p, url);

    sem_wait_retry(&p->fetch_sem);
    cfp_watch_hold(HOLD_FETCH);
    if (slot < 0)
        return;
    pthread_mutex_lock(&p->host_mu);
    while (p->host_busy[slot] >= p->per_host)
        pthread_cond_wait(&p->host_cv, &p->host_mu);
    p->host_busy[slot]++;
    pthread_mutex_unlock(&p->host_mu);
    cfp_watch_hold(HOLD_HOST);
}

static void host_leave(struct pool *p, int slot)
{
    pthread_mutex_lock(&p->host_mu);
    p->host_busy[slot]--;
    pthread_cond_broadcast(&p->host_cv); /* waiters may want other slots */
    pthread_mutex_unlock(&p->host_mu);
}

static void fetch_leave(void *ctx, const char *url)
{
    struct pool *p = ctx;
    int slot = host_slot(p, url);

    if (slot >= 0 && cfp_watch_release(HOLD_HOST))
        host_leave(p, slot);
    if (cfp_watch_release(HOLD_FETCH))
        sem_post(&p->fetch_sem);
}

static void cpu_enter(void *ctx)
{
    sem_wait_retry(&((struct pool *)ctx)->cpu_sem);
    cfp_watch_hold(HOLD_CPU);
}

static void cpu_leave(void *ctx)
{
    if (cfp_watch_release(HOLD_CPU))
        sem_post(&((struct pool *)ctx)->cpu_sem);
}

/* Records the first fatal error and stops the producer. */
static void pool_fail(struct pool *p, cfp_err err, const struct cfp_status *why)
{
    (void)cfp_serial_sink_fail(&p->out, err, why);
    cfp_queue_close(p->tasks);
}

/* The watchdog gave up a task (on its thread): give back the slots the
 * worker held and deliver the task's record. */
static void pool_stuck(void *ctx, const struct cfp_watch_stuck *s)
{
    struct pool *p = ctx;
    struct cfp_record r;
    int slot = host_slot(p, s->task->url);

    if ((s->held & HOLD_HOST) && slot >= 0)
        host_leave(p, slot);
    if (s->held & HOLD_FETCH)
        sem_post(&p->fetch_sem);
    if (s->held & HOLD_CPU)
        sem_post(&p->cpu_sem);
    cfp_task_stuck(p->cfg, s, &r);
    if (cfp_serial_sink_push(&p->out, &r))
        cfp_queue_close(p->tasks);
}

/* A worker (a lane of the watchdog). */
static void lane_run(void *ctx, struct cfp_watch_lane *lane, int id)
{
    struct pool *p = ctx;
    struct cfp_worker *w = NULL;
    struct cfp_task t;
    struct cfp_record r;
    struct cfp_status st;
    bool held = false; /* a core slot, kept from one local task to the next */
    int held_for = 0;  /* local tasks run in a row on the held slot */
    cfp_err err;

    cfp_status_clear(&st);
    err = cfp_worker_new(p->cfg, id, p->share, &w, &st);
    if (err) {
        pool_fail(p, err, &st);
        return;
    }
    for (;;) {
        bool local;

        /* Holding a core slot, take the next task without waiting; if
         * there is none, or the slot was held for HOLD_MAX tasks in a row,
         * give the slot up first: waiting for a task (or another thread
         * waiting for the slot) must not idle a core. */
        if (held && (held_for >= HOLD_MAX || !cfp_queue_try_pop(p->tasks, &t))) {
            cpu_leave(p);
            held = false;
        }
        if (!held && !cfp_queue_pop(p->tasks, &t))
            break;
        /* After a stop, a task still in the queue never started: it is
         * dropped like one the source never handed out (no record, not
         * counted as abandoned), and --resume does it. */
        if (cfp_stop_requested())
            continue;
        /* A local file's task runs whole inside a core slot: reading it is
         * copying from the page cache, not waiting, and its bytes are
         * still in cache when decoded; read ahead by a pool sized for
         * network waits, 16 threads held 16 photos for 2 cores. A slot
         * (also one a remote image took in cfp_task_run) is released after
         * the record is pushed, so the next thread does not wait behind
         * this one's bookkeeping. */
        local = cfp_fetch_is_file(t.url);
        if (local && !held) {
            cpu_enter(p);
            held = true;
            held_for = 0;
        } else if (!local && held) {
            cpu_leave(p); /* a remote fetch waits on the network */
            held = false;
        }
        held_for += held;
        cfp_worker_set_cpu_held(w, held);
        cfp_watch_begin(lane, &t, p->cfg->fetch.task_timeout_s > 0
                                      ? cfp_now() + p->cfg->fetch.task_timeout_s : 0);
        cfp_task_run(w, &t, &r);
        cfp_watch_end(lane); /* parks here if the watchdog gave the task up */
        if (!held && cfp_worker_cpu_held(w)) { /* a remote image took one */
            held = true;
            held_for = 1;
        }
        if (cfp_serial_sink_push(&p->out, &r)) {
            cfp_queue_close(p->tasks); /* the writer failed: stop the producer */
            break;
        }
    }
    if (held)
        cpu_leave(p);
    cfp_worker_free(&w);
}

static cfp_err pool_init(struct pool *p, const struct cfp_engine_opts *eo, struct cfp_status *st)
{
    int i;

    memset(p, 0, sizeof(*p));
    if (cfp_queue_new(sizeof(struct cfp_task), (size_t)eo->workers * 2, &p->tasks))
        return cfp_status_set(st, CFP_ERR_NOMEM, "threads: task queue: out of memory");
    p->share = curl_share_init();
    if (!p->share) {
        cfp_queue_free(&p->tasks);
        return cfp_status_set(st, CFP_ERR_NOMEM, "threads: curl_share_init failed");
    }
    for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&p->share_mu[i], NULL);
    curl_share_setopt(p->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(p->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(p->share, CURLSHOPT_USERDATA, p);
    curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(p->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    /* Not CURL_LOCK_DATA_CONNECT: libcurl does not support a connection
     * cache shared by concurrent threads (CURLSHOPT_SHARE(3); KNOWN_BUGS "A
     * shared connection cache is not thread-safe"). With it, runs of
     * --workers 64 corrupted the heap ("free(): corrupted unsorted chunks"
     * in libcurl, or a SIGSEGV later in cfp's own frees): 2 in about 65
     * runs of jobs/stress_threads.sh, none in 600 without. Each worker's
     * handle keeps its own connections from task to task, which is the
     * keep-alive that matters. */
    sem_init(&p->fetch_sem, 0, (unsigned)eo->concurrency);
    sem_init(&p->cpu_sem, 0, (unsigned)eo->cpu_slots);
    p->per_host = eo->per_host;
    pthread_mutex_init(&p->host_mu, NULL);
    pthread_cond_init(&p->host_cv, NULL);

    p->gates = (struct cfp_task_gates){fetch_enter, fetch_leave, cpu_enter, p};
    p->ops = (struct cfp_watch_ops){lane_run, pool_stuck, p};
    return CFP_ERR_OK;
}

static void pool_destroy(struct pool *p)
{
    /* Every easy handle using the share is gone (workers joined), but a
     * stuck worker's: then the share is left to it (curl_share_cleanup
     * refuses a share in use) with its locks, never to be used again: the
     * worker is parked or stuck outside libcurl. */
    if (curl_share_cleanup(p->share) == CURLSHE_OK)
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&p->share_mu[i]);
    sem_destroy(&p->fetch_sem);
    sem_destroy(&p->cpu_sem);
    pthread_mutex_destroy(&p->host_mu);
    pthread_cond_destroy(&p->host_cv);
    cfp_serial_sink_destroy(&p->out);
    cfp_queue_free(&p->tasks);
}

/* Reads the source into the queue until it ends, fails, or the pool stops. */
static void produce(struct pool *p, struct cfp_source *src)
{
    struct cfp_task t;
    struct cfp_status st;

    cfp_status_clear(&st);
    for (;;) {
        bool done = false;
        cfp_err err = src->next(src, &t, &done, &st);
        if (err) {
            pool_fail(p, err, &st);
            return;
        }
        if (done || !cfp_queue_push(p->tasks, &t))
            return;
    }
}

cfp_err cfp_engine_run_threads(const char *name, const struct cfp_engine_opts *eo,
                               const struct cfp_task_cfg *cfg, struct cfp_source *src,
                               struct cfp_sink *sink, struct cfp_engine_stats *stats,
                               struct cfp_status *st)
{
    struct cfp_task_cfg wcfg = *cfg;
    struct cfp_watch *watch = NULL;
    struct pool p;
    cfp_err err = pool_init(&p, eo, st);

    if (err)
        return err;
    wcfg.gates = &p.gates;
    p.cfg = &wcfg;
    cfp_serial_sink_init(&p.out, sink, stats, st);
    err = cfp_engine_start_lanes(&p.ops, eo->workers, &p.out, &watch, st);
    if (err)
        goto out_destroy_pool;
    cfp_log(CFP_LOG_INFO, "%s: %d workers, %d transfers, %d cpu slots", name, eo->workers,
            eo->concurrency, eo->cpu_slots);
    if (!cfp_serial_sink_failed(&p.out))
        produce(&p, src);
    cfp_queue_close(p.tasks);
    cfp_watch_join(watch);
    cfp_watch_free(&watch);
    err = cfp_serial_sink_error(&p.out);
out_destroy_pool:
    pool_destroy(&p);
    return err;
}
