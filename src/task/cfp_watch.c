/* cfp_watch.c - the watchdog over the threads that run tasks. */
#include "task/cfp_watch.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"
#include "base/cfp_stop.h"

/* The watchdog sleeps on a condition variable, but a stop request comes
 * from a signal handler, which cannot signal one: it looks at least this
 * often (a stop's end is bounded by grace + margin + this). */
#define DOG_POLL_S 0.25

struct cfp_watch_lane {
    pthread_mutex_t mu;          /* guards busy, held, task, t_begin, deadline */
    struct cfp_watch *w;         /* not owned */
    pthread_t tid;               /* written under w->mu when started */
    int id;
    bool busy;                   /* a task is between begin and end */
    bool by_stop;                /* given up after a stop, not for its deadline */
    atomic_bool given_up;        /* set once, by the watchdog, under mu */
    unsigned held;               /* the engine's slots (cfp_watch_hold) */
    double t_begin, deadline;
    _Atomic(const char *) stage; /* a string literal */
    struct cfp_task task;        /* copy of the task in hand */
    struct cfp_watch_lane *next; /* every lane of w; w->mu */
    struct cfp_watch_lane *gone; /* the watchdog's list of lanes to report */
};

struct cfp_watch {
    const struct cfp_watch_ops *ops;
    pthread_mutex_t mu;           /* guards every field below */
    pthread_cond_t cv;            /* a lane ended or was given up; closing */
    pthread_t dog;
    bool closing;
    int live;                     /* lanes running, not given up (and replacements due) */
    int next_id;
    int64_t stuck;
    double stop_seen;             /* cfp_now() when the grace end was first seen, 0 = not */
    struct cfp_watch_lane *lanes; /* every lane started */
};

static _Thread_local struct cfp_watch_lane *this_lane;

/* Blocks the calling thread for good: its task was given up, and whatever it
 * would do next belongs to a run that has moved on. Every signal is blocked
 * here, so the process's handlers run on the other threads. */
static void park(void)
{
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, NULL);
    for (;;)
        pause();
}

static void *lane_main(void *ud)
{
    struct cfp_watch_lane *lane = ud;
    struct cfp_watch *w = lane->w;

    this_lane = lane;
    w->ops->run(w->ops->ctx, lane, lane->id);
    pthread_mutex_lock(&w->mu);
    w->live--;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Starts a lane. w->mu held; the caller has counted it in w->live, and
 * uncounts it here if it cannot start (CFP_ERR_NOMEM or CFP_ERR_INTERNAL,
 * the message in st). */
static cfp_err lane_spawn(struct cfp_watch *w, struct cfp_status *st)
{
    struct cfp_watch_lane *lane = cfp_calloc(1, sizeof(*lane));
    cfp_err err;

    if (!lane) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "worker %d: out of memory", w->next_id);
        goto out_uncount;
    }
    pthread_mutex_init(&lane->mu, NULL);
    lane->w = w;
    lane->id = w->next_id;
    atomic_init(&lane->given_up, false);
    atomic_init(&lane->stage, "starting");
    if (pthread_create(&lane->tid, NULL, lane_main, lane) == 0) {
        w->next_id++;
        lane->next = w->lanes;
        w->lanes = lane;
        return CFP_ERR_OK;
    }
    pthread_mutex_destroy(&lane->mu);
    cfp_free(lane);
    err = cfp_status_set(st, CFP_ERR_INTERNAL, "worker %d: pthread_create failed", w->next_id);
out_uncount:
    w->live--;
    pthread_cond_broadcast(&w->cv);
    return err;
}

/* When lane's task counts as stuck (+inf: never), and whether because of a
 * stop rather than its deadline. lane->mu held. */
static double lane_limit(const struct cfp_watch *w, const struct cfp_watch_lane *lane,
                         bool *by_stop)
{
    double limit = lane->deadline > 0 ? lane->deadline + CFP_WATCH_MARGIN_S : 1e300;

    *by_stop = false;
    if (w->stop_seen > 0) {
        double from = lane->t_begin > w->stop_seen ? lane->t_begin : w->stop_seen;
        if (from + CFP_WATCH_STOP_MARGIN_S < limit) {
            limit = from + CFP_WATCH_STOP_MARGIN_S;
            *by_stop = true;
        }
    }
    return limit;
}

/* Gives up the lanes whose task is stuck, chaining them on *gone; returns
 * the earliest time a busy lane may become stuck. w->mu held. */
static double scan(struct cfp_watch *w, double now, struct cfp_watch_lane **gone)
{
    double next = now + DOG_POLL_S;

    if (w->stop_seen == 0 && cfp_stop_abandon())
        w->stop_seen = now;
    for (struct cfp_watch_lane *lane = w->lanes; lane; lane = lane->next) {
        double limit;
        bool by_stop;
        pthread_mutex_lock(&lane->mu);
        if (lane->busy && !atomic_load(&lane->given_up)) {
            limit = lane_limit(w, lane, &by_stop);
            if (now >= limit) {
                atomic_store(&lane->given_up, true);
                lane->by_stop = by_stop;
                pthread_detach(lane->tid);
                w->stuck++;
                /* Its replacement (report()) takes the lane's place in
                 * `live` at once, so a join cannot see 0 before it has
                 * started. */
                lane->gone = *gone;
                *gone = lane;
            } else if (limit < next) {
                next = limit;
            }
        }
        pthread_mutex_unlock(&lane->mu);
    }
    pthread_cond_broadcast(&w->cv);
    return next;
}

/* Tells the engine about a lane given up, and starts its replacement. No
 * lock held. The lane's task and held bits no longer change: its thread is
 * stuck, or parks at its next checkpoint. */
static void report(struct cfp_watch *w, struct cfp_watch_lane *lane)
{
    struct cfp_watch_stuck s;
    struct cfp_status why;
    char url[CFP_URL_MAX];

    pthread_mutex_lock(&lane->mu);
    s.task = &lane->task;
    s.worker = lane->id;
    s.t_begin = lane->t_begin;
    s.stage = atomic_load(&lane->stage);
    s.held = lane->held;
    s.stopping = lane->by_stop;
    lane->held = 0;
    pthread_mutex_unlock(&lane->mu);
    memcpy(url, lane->task.url, sizeof(url));
    url[sizeof(url) - 1] = '\0';
    cfp_url_scrub_in(lane->task.url, url); /* logs never show a password */
    cfp_log(CFP_LOG_WARN, "task %lld (%s): stuck %s; its thread is left behind",
            (long long)lane->task.index, url, s.stage);
    w->ops->stuck(w->ops->ctx, &s);
    /* A replacement also after a stop: the engine's queues drain through
     * its lanes (the tasks left are abandoned at once), and no engine has
     * to learn that a lane will never come back. */
    pthread_mutex_lock(&w->mu);
    cfp_status_clear(&why);
    if (lane_spawn(w, &why))
        cfp_log(CFP_LOG_ERROR, "no replacement for the stuck task's thread: %s", why.msg);
    if (w->stuck >= CFP_WATCH_STUCK_MAX && !cfp_stop_requested()) {
        cfp_log(CFP_LOG_ERROR, "%d tasks stuck in system calls (a hung file system?): "
                "stopping the run; --resume redoes the rest", CFP_WATCH_STUCK_MAX);
        cfp_stop_request(0);
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_until(struct cfp_watch *w, double until)
{
    struct timespec ts;
    double left = until - cfp_now();

    if (left <= 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)left;
    ts.tv_nsec += (long)((left - (double)(time_t)left) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *dog_main(void *ud)
{
    struct cfp_watch *w = ud;

    pthread_mutex_lock(&w->mu);
    while (!w->closing) {
        struct cfp_watch_lane *gone = NULL;
        double next = scan(w, cfp_now(), &gone);
        if (gone) {
            pthread_mutex_unlock(&w->mu);
            while (gone) {
                struct cfp_watch_lane *lane = gone;
                gone = lane->gone;
                report(w, lane);
            }
            pthread_mutex_lock(&w->mu);
            continue;
        }
        wait_until(w, next);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

cfp_err cfp_watch_start(const struct cfp_watch_ops *ops, int n, struct cfp_watch **out,
                        struct cfp_status *st)
{
    struct cfp_watch *w = cfp_calloc(1, sizeof(*w));
    pthread_condattr_t ca;
    cfp_err err = CFP_ERR_OK;

    *out = NULL;
    if (!w)
        return cfp_status_set(st, CFP_ERR_NOMEM, "watchdog: out of memory");
    w->ops = ops;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->dog, NULL, dog_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        cfp_free(w);
        return cfp_status_set(st, CFP_ERR_INTERNAL, "watchdog: pthread_create failed");
    }
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < n && !err; i++) {
        w->live++;
        err = lane_spawn(w, st);
    }
    pthread_mutex_unlock(&w->mu);
    *out = w;
    return err;
}

void cfp_watch_join(struct cfp_watch *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->live > 0)
        pthread_cond_wait(&w->cv, &w->mu);
    w->closing = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->dog, NULL);
    /* No lane starts any more: the list is stable. */
    for (struct cfp_watch_lane *lane = w->lanes; lane; lane = lane->next)
        if (!atomic_load(&lane->given_up))
            pthread_join(lane->tid, NULL);
}

void cfp_watch_free(struct cfp_watch **pw)
{
    struct cfp_watch *w = pw ? *pw : NULL;
    struct cfp_watch_lane *lane, *next;

    if (!w)
        return;
    for (lane = w->lanes; lane; lane = next) {
        next = lane->next;
        if (atomic_load(&lane->given_up))
            continue; /* its thread may still look at it: left allocated */
        pthread_mutex_destroy(&lane->mu);
        cfp_free(lane);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    cfp_free(w);
    *pw = NULL;
}

void cfp_watch_begin(struct cfp_watch_lane *lane, const struct cfp_task *t, double deadline)
{
    pthread_mutex_lock(&lane->mu);
    lane->task = *t;
    lane->t_begin = cfp_now();
    lane->deadline = deadline;
    lane->busy = true;
    atomic_store(&lane->stage, "starting");
    pthread_mutex_unlock(&lane->mu);
}

void cfp_watch_end(struct cfp_watch_lane *lane)
{
    bool gone;

    pthread_mutex_lock(&lane->mu);
    gone = atomic_load(&lane->given_up);
    lane->busy = gone;
    pthread_mutex_unlock(&lane->mu);
    if (gone)
        park();
}

void cfp_watch_checkpoint(void)
{
    if (this_lane && atomic_load(&this_lane->given_up))
        park();
}

void cfp_watch_stage(const char *stage)
{
    if (this_lane)
        atomic_store(&this_lane->stage, stage);
}

void cfp_watch_hold(unsigned bit)
{
    struct cfp_watch_lane *lane = this_lane;

    if (!lane)
        return;
    pthread_mutex_lock(&lane->mu);
    lane->held |= bit;
    pthread_mutex_unlock(&lane->mu);
}

bool cfp_watch_release(unsigned bit)
{
    struct cfp_watch_lane *lane = this_lane;
    bool mine;

    if (!lane)
        return true;
    pthread_mutex_lock(&lane->mu);
    mine = !atomic_load(&lane->given_up) && (lane->held & bit);
    lane->held &= ~bit;
    pthread_mutex_unlock(&lane->mu);
    return mine;
}
