/* cfp_budget.h - the memory budget: which image tasks may hold their
 * memory at once (issue #17, doc/limits.md "Memory budget").
 *
 * Every engine charges an image's memory here before it holds it: the
 * decode (cfp_png_need: rows, the resizer's window, the output, an Adam7
 * image whole, the fast path's inflated image) and a body buffered whole.
 * Two kinds of charge:
 *   - *parked*: a body buffered before its CPU stage (a remote image
 *     waiting for a core). At most park_max bytes are parked at once (one
 *     body always may be), which bounds the bodies read ahead of the
 *     cores whatever the budget.
 *   - *active*: a task in its CPU stage, holding a core (a core slot, an
 *     async pool thread). Admission turns the task's parked charge into
 *     active and adds its decode.
 * The waits cannot deadlock: an admission waits only while *other active*
 * tasks hold memory, and active tasks hold a core and wait on nothing
 * held by a waiter (at most the network or a file). A park waits on
 * parked and active tasks; parked ones wait only for a core. A task that
 * nothing else is admitted beside is admitted whenever it fits alone, so
 * the run always moves. Waits end at the task's deadline (--task-timeout)
 * or when a stop's grace is over. Callers that must not block (the async
 * loop, a transfer's write callback) ask with wait = false and get
 * CFP_ERR_AGAIN, then wait outside the transfer and start it again.
 *
 * The admission limit is the budget less a reserve for what is not
 * charged (libraries, threads, HDF5, curl buffers, text and CSV):
 * max(32 MiB, budget / 8). A task whose charge alone is over the limit
 * fails at once: "needs ~N MB, budget M MB". Thread-safe: one mutex. */
#ifndef CFP_BUDGET_H
#define CFP_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_err.h"

struct cfp_budget;

/* What one task holds; zero-initialise. Owned by the task's thread. */
struct cfp_budget_hold {
    uint64_t parked, active;
};

/* bytes: the budget (0 = none: only park_max applies); park_max: bytes
 * parked at once (0 = no limit). Caller frees with cfp_budget_free. */
cfp_err cfp_budget_new(uint64_t bytes, uint64_t park_max, struct cfp_budget **out);
void cfp_budget_free(struct cfp_budget **bp);

/* The budget as given, and the admission limit (0 when none). */
uint64_t cfp_budget_bytes(const struct cfp_budget *b);
uint64_t cfp_budget_limit(const struct cfp_budget *b);

/* The most ever charged at once (parked + active), in bytes. */
uint64_t cfp_budget_peak(const struct cfp_budget *b);

/* CFP_ERR_MEMORY (message in st) when a task charging `bytes` in all
 * could never be admitted, else CFP_ERR_OK. b may be NULL. */
cfp_err cfp_budget_check(const struct cfp_budget *b, uint64_t bytes, struct cfp_status *st);

/* Charges `bytes` of a body about to be buffered, as parked, to h. b may
 * be NULL (nothing to do). Returns CFP_ERR_OK, CFP_ERR_AGAIN (would wait
 * and wait is false), CFP_ERR_TOO_BIG (over the limit alone),
 * CFP_ERR_TIMEOUT (the calling thread's deadline passed while waiting) or
 * CFP_ERR_STOPPED (a stop's grace ended); the message is in st. */
cfp_err cfp_budget_park(struct cfp_budget *b, struct cfp_budget_hold *h, uint64_t bytes, bool wait,
                        struct cfp_status *st);

/* Admits h's CPU stage: its parked charge becomes active, and `need` more
 * is charged active. Same returns as cfp_budget_park. */
cfp_err cfp_budget_admit(struct cfp_budget *b, struct cfp_budget_hold *h, uint64_t need,
                         bool wait, struct cfp_status *st);

/* Gives back everything h holds (h is zeroed). b may be NULL. */
void cfp_budget_release(struct cfp_budget *b, struct cfp_budget_hold *h);

/* Calls fn(ctx) from cfp_budget_release whenever memory is given back (the
 * async engine wakes its loop with it). Set before threads use b. */
void cfp_budget_on_release(struct cfp_budget *b, void (*fn)(void *ctx), void *ctx);

#endif
