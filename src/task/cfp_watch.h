/* cfp_watch.h - the watchdog over the threads that run tasks: no task can
 * hold a run hostage.
 *
 * A timeout only helps where code gets to look at it: libcurl's transfers,
 * the processors' row loops. A thread blocked in a system call (a read on a
 * hung NFS mount, a device that never answers) looks at nothing. So every
 * engine runs its tasks on threads started here, one *lane* per thread, and
 * a watchdog thread watches the lanes:
 * - a task still running CFP_WATCH_MARGIN_S after its deadline
 *   (--task-timeout) is *stuck*: the watchdog gives the engine its record
 *   (a timeout) and the slots it held, and starts a replacement thread, so
 *   the run goes on with its other tasks;
 * - a task still running CFP_WATCH_STOP_MARGIN_S after a stop's grace
 *   period ended is stuck too: it gets no record (--resume redoes it), and the
 *   run ends without it (its replacement only drains the engine's queue:
 *   every task left is abandoned at once).
 * Nobody ever waits for a stuck thread: it is detached and left behind. If
 * its system call returns one day, the thread *parks* (blocks forever) at
 * its next checkpoint (cfp_watch_checkpoint(), called after every blocking
 * call of the task path and by cfp_watch_end()), before it can touch
 * anything its engine has moved on from. The process ends with it at exit
 * (exit() ends every thread; none of them is inside HDF5 or libcurl).
 * After CFP_WATCH_STUCK_MAX stuck tasks the run is stopped: a file system
 * that hangs every read would otherwise park one thread per task.
 *
 * Locks: `mu` of struct cfp_watch guards the lane list and the counts; each
 * lane's own lock guards its task fields. The watchdog takes a lane's lock
 * under `mu`, never the reverse; no other lock is held while either is
 * taken, and the engine's abandon callback runs with neither held. */
#ifndef CFP_WATCH_H
#define CFP_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "task/cfp_record.h"

/* How long past its deadline a task may go on before it counts as stuck.
 * Work that watches its deadline ends within milliseconds of it (libcurl's
 * timers, the row loops), so only a blocked system call or a long stage
 * that cannot look (one zlib call) gets here. */
#define CFP_WATCH_MARGIN_S 2.0
/* The same after a stop's grace period: libcurl's progress callback aborts
 * a transfer within a second. A task given up here has no record, as it
 * would have had none if it had noticed the stop itself: only the thread
 * is the difference. */
#define CFP_WATCH_STOP_MARGIN_S 1.0
/* Stuck tasks after which the run stops (each leaves a thread behind). */
#define CFP_WATCH_STUCK_MAX 32

struct cfp_watch;
struct cfp_watch_lane;

/* What the watchdog tells the engine about a task it gave up on. */
struct cfp_watch_stuck {
    const struct cfp_task *task; /* valid during the callback */
    int worker;                  /* the lane's id */
    double t_begin;              /* cfp_now() time the task began on its lane */
    const char *stage;           /* what it was doing ("reading the file", ...) */
    unsigned held;               /* the engine's slots the lane held (cfp_watch_hold) */
    bool stopping;               /* given up after a stop: the record is CFP_ERR_STOPPED */
};

struct cfp_watch_ops {
    /* The lane's thread body: runs tasks until there are none, calling
     * cfp_watch_begin/end around each. Started once per lane, replacements
     * included; `id` is the lane's worker number. */
    void (*run)(void *ctx, struct cfp_watch_lane *lane, int id);
    /* Called on the watchdog thread, no watch lock held, for each task given
     * up: release what s->held says and push the task's record
     * (cfp_task_stuck()). */
    void (*stuck)(void *ctx, const struct cfp_watch_stuck *s);
    void *ctx;
};

/* Starts the watchdog and n lanes, ids 0..n-1, running ops->run. *out is
 * set unless the watchdog itself could not start; an error with *out set
 * means fewer lanes started (the caller's fatal error: it stops its lanes'
 * work, then joins). Caller ends it with cfp_watch_join() then
 * cfp_watch_free(). ops must outlive the watch. */
cfp_err cfp_watch_start(const struct cfp_watch_ops *ops, int n, struct cfp_watch **out,
                        struct cfp_status *st);

/* Waits until every lane has ended or been given up, then stops the
 * watchdog. Never waits for a stuck thread. */
void cfp_watch_join(struct cfp_watch *w);

/* Frees w after cfp_watch_join(). The lanes of stuck threads stay
 * allocated: their threads may still look at them. */
void cfp_watch_free(struct cfp_watch **pw);

/* On a lane's thread: task t begins; it is stuck once deadline (cfp_now()
 * clock, 0 = none) plus the margin has passed, or a stop's grace plus the
 * margin. t is copied. */
void cfp_watch_begin(struct cfp_watch_lane *lane, const struct cfp_task *t, double deadline);

/* On a lane's thread: the task ended and the caller may deliver its record.
 * Parks the thread if the watchdog gave the task up meanwhile. */
void cfp_watch_end(struct cfp_watch_lane *lane);

/* On a lane's thread: the lane ends (ops->run returns after it). */
void cfp_watch_exit(struct cfp_watch_lane *lane);

/* On the calling thread's lane (no-op on threads that have none): parks the
 * thread if its task was given up. Call after each blocking system call and
 * before anything that makes a task's result visible. */
void cfp_watch_checkpoint(void);

/* Names what the calling thread's task is doing, for the stuck task's
 * message; stage must be a string literal. No-op without a lane. */
void cfp_watch_stage(const char *stage);

/* Engine slots (bits chosen by the engine) the calling thread's task holds:
 * set with cfp_watch_hold(), cleared with cfp_watch_release(), which returns
 * false when the task was given up: the watchdog then released the slot
 * through ops->stuck, and the caller must not. Without a lane, hold does
 * nothing and release returns true. */
void cfp_watch_hold(unsigned bit);
bool cfp_watch_release(unsigned bit);

#endif
