/* cfp_budget.c - the memory budget (see cfp_budget.h for the rules). */
#include "task/cfp_budget.h"

#include <pthread.h>
#include <time.h>

#include "base/cfp_clock.h"
#include "base/cfp_mem.h"
#include "base/cfp_stop.h"

/* A waiter looks at its deadline and at a stop this often, in seconds,
 * besides being woken by every release. */
#define WAIT_POLL_S 0.25

/* The reserve for what is not charged: max(RESERVE_MIN, budget / 8). */
#define RESERVE_MIN ((uint64_t)32 << 20)

struct cfp_budget {
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* broadcast on every release */
    uint64_t bytes;     /* as given; 0 = none */
    uint64_t limit;     /* admission limit; 0 = none */
    uint64_t park_max;  /* bytes parked at once; 0 = no limit */
    uint64_t parked, active, peak;
    int n_parked, n_active; /* tasks holding some of each */
    void (*on_release)(void *ctx);
    void *ctx;
};

cfp_err cfp_budget_new(uint64_t bytes, uint64_t park_max, struct cfp_budget **out)
{
    struct cfp_budget *b = cfp_calloc(1, sizeof(*b));
    uint64_t reserve = bytes / 8 > RESERVE_MIN ? bytes / 8 : RESERVE_MIN;

    if (!b)
        return CFP_ERR_NOMEM;
    pthread_mutex_init(&b->mu, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&b->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    b->bytes = bytes;
    /* A budget under twice the reserve keeps half of itself for images. */
    b->limit = bytes == 0 ? 0 : bytes > 2 * reserve ? bytes - reserve : bytes / 2;
    b->park_max = park_max;
    *out = b;
    return CFP_ERR_OK;
}

void cfp_budget_free(struct cfp_budget **bp)
{
    struct cfp_budget *b = bp ? *bp : NULL;

    if (!b)
        return;
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    cfp_free(b);
    *bp = NULL;
}

uint64_t cfp_budget_bytes(const struct cfp_budget *b)
{
    return b ? b->bytes : 0;
}

uint64_t cfp_budget_limit(const struct cfp_budget *b)
{
    return b ? b->limit : 0;
}

uint64_t cfp_budget_peak(const struct cfp_budget *b)
{
    uint64_t v;

    if (!b)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&b->mu);
    v = b->peak;
    pthread_mutex_unlock((pthread_mutex_t *)&b->mu);
    return v;
}

void cfp_budget_on_release(struct cfp_budget *b, void (*fn)(void *ctx), void *ctx)
{
    b->on_release = fn;
    b->ctx = ctx;
}

static double mb(uint64_t n)
{
    return (double)n / (1024.0 * 1024.0);
}

/* The task's charge alone is over the limit: it can never be admitted. */
static cfp_err over_alone(const struct cfp_budget *b, uint64_t total, struct cfp_status *st)
{
    return cfp_status_set(st, CFP_ERR_MEMORY,
                          "needs ~%.0f MB, budget %.0f MB (%.0f MB for images after the reserve; "
                          "raise --memory)",
                          mb(total), mb(b->bytes), mb(b->limit));
}

/* One wait of at most WAIT_POLL_S; then why the wait must end, if it must.
 * Called with b->mu held. */
static cfp_err wait_once(struct cfp_budget *b, uint64_t total, struct cfp_status *st)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock cv waits on */
    ts.tv_nsec += (long)(WAIT_POLL_S * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    (void)pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    if (cfp_deadline_passed())
        return cfp_status_set(st, CFP_ERR_TIMEOUT,
                              "over --task-timeout waiting for memory: needs ~%.0f MB, %.0f of %.0f "
                              "MB in use",
                              mb(total), mb(b->active + b->parked), mb(b->limit));
    if (cfp_stop_abandon())
        return cfp_status_set(st, CFP_ERR_STOPPED, "abandoned waiting for memory: the run was stopped");
    return CFP_ERR_OK;
}

cfp_err cfp_budget_check(const struct cfp_budget *b, uint64_t bytes, struct cfp_status *st)
{
    return b && b->limit && bytes > b->limit ? over_alone(b, bytes, st) : CFP_ERR_OK;
}

static void note_peak(struct cfp_budget *b)
{
    if (b->active + b->parked > b->peak)
        b->peak = b->active + b->parked;
}

cfp_err cfp_budget_park(struct cfp_budget *b, struct cfp_budget_hold *h, uint64_t bytes, bool wait,
                        struct cfp_status *st)
{
    cfp_err err = CFP_ERR_OK;

    if (!b)
        return CFP_ERR_OK;
    if (b->limit && h->parked + h->active + bytes > b->limit)
        return over_alone(b, h->parked + h->active + bytes, st);
    pthread_mutex_lock(&b->mu);
    for (;;) {
        bool slot = h->parked > 0 || b->park_max == 0 || b->n_parked == 0 ||
                    b->parked + bytes <= b->park_max;
        bool fits = !b->limit || b->active + b->parked + bytes <= b->limit ||
                    (b->n_active == 0 && b->n_parked == (h->parked > 0));
        if (slot && fits)
            break;
        if (!wait) {
            err = CFP_ERR_AGAIN;
            break;
        }
        err = wait_once(b, bytes, st);
        if (err)
            break;
    }
    if (!err) {
        b->n_parked += h->parked == 0 && bytes > 0;
        b->parked += bytes;
        h->parked += bytes;
        note_peak(b);
    }
    pthread_mutex_unlock(&b->mu);
    return err;
}

cfp_err cfp_budget_admit(struct cfp_budget *b, struct cfp_budget_hold *h, uint64_t need, bool wait,
                         struct cfp_status *st)
{
    uint64_t total = h->parked + h->active + need;
    cfp_err err = CFP_ERR_OK;

    if (!b)
        return CFP_ERR_OK;
    if (b->limit && total > b->limit)
        return over_alone(b, total, st);
    pthread_mutex_lock(&b->mu);
    /* Waits only while other tasks are active (see cfp_budget.h). */
    while (b->limit && b->n_active > (h->active > 0) && b->active + b->parked + need > b->limit) {
        if (!wait) {
            err = CFP_ERR_AGAIN;
            break;
        }
        err = wait_once(b, total, st);
        if (err)
            break;
    }
    if (!err) {
        b->n_parked -= h->parked > 0;
        b->n_active += h->active == 0 && h->parked + need > 0;
        b->parked -= h->parked;
        b->active += h->parked + need;
        h->active += h->parked + need;
        h->parked = 0;
        note_peak(b);
    }
    pthread_mutex_unlock(&b->mu);
    return err;
}

void cfp_budget_release(struct cfp_budget *b, struct cfp_budget_hold *h)
{
    if (!b || (h->parked == 0 && h->active == 0))
        return;
    pthread_mutex_lock(&b->mu);
    b->n_parked -= h->parked > 0;
    b->n_active -= h->active > 0;
    b->parked -= h->parked;
    b->active -= h->active;
    h->parked = h->active = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (b->on_release)
        b->on_release(b->ctx);
}
