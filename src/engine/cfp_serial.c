/* cfp_serial.c - the engines' single writer. */
#include "engine/cfp_serial.h"

void cfp_serial_sink_init(struct cfp_serial_sink *s, struct cfp_sink *next,
                          struct cfp_engine_stats *stats, struct cfp_status *st)
{
    pthread_mutex_init(&s->mu, NULL);
    s->next = next;
    s->stats = stats;
    s->err = CFP_ERR_OK;
    s->st = st;
    atomic_init(&s->failed, false);
}

void cfp_serial_sink_destroy(struct cfp_serial_sink *s)
{
    pthread_mutex_destroy(&s->mu);
}

/* Caller holds s->mu. */
static bool fail_locked(struct cfp_serial_sink *s, cfp_err err, const struct cfp_status *why)
{
    if (s->err)
        return false;
    s->err = err;
    cfp_status_set(s->st, err, "%s", why->msg[0] ? why->msg : cfp_strerror(err));
    atomic_store(&s->failed, true);
    return true;
}

cfp_err cfp_serial_sink_push(struct cfp_serial_sink *s, const struct cfp_record *r)
{
    struct cfp_status st;
    cfp_err err;

    cfp_status_clear(&st);
    pthread_mutex_lock(&s->mu);
    if (!s->err) {
        cfp_engine_stats_add(s->stats, r);
        err = s->next->push(s->next, r, &st);
        if (err)
            fail_locked(s, err, &st);
    }
    err = s->err;
    pthread_mutex_unlock(&s->mu);
    return err;
}

bool cfp_serial_sink_fail(struct cfp_serial_sink *s, cfp_err err, const struct cfp_status *why)
{
    bool first;

    pthread_mutex_lock(&s->mu);
    first = fail_locked(s, err, why);
    pthread_mutex_unlock(&s->mu);
    return first;
}

bool cfp_serial_sink_failed(struct cfp_serial_sink *s)
{
    return atomic_load(&s->failed);
}

cfp_err cfp_serial_sink_error(struct cfp_serial_sink *s)
{
    cfp_err err;

    pthread_mutex_lock(&s->mu);
    err = s->err;
    pthread_mutex_unlock(&s->mu);
    return err;
}
