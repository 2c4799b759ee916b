/* cfp_serial.h - the single writer of the concurrent engines: a result sink
 * that many threads may push to, which counts each record and passes it to
 * the next sink under one lock (so HDF5 is never entered twice at once), and
 * which keeps the run's first fatal error.
 *
 * Lock: `mu` guards every field but `failed`; it is the only lock taken
 * here and no other lock is held while it is taken by cfp code. */
#ifndef CFP_SERIAL_H
#define CFP_SERIAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "engine/cfp_engine_seam.h"

struct cfp_serial_sink {
    pthread_mutex_t mu;             /* guards next, stats, err, st */
    struct cfp_sink *next;          /* not owned */
    struct cfp_engine_stats *stats; /* not owned */
    cfp_err err;                    /* first fatal error of the run */
    struct cfp_status *st;          /* its message; not owned */
    atomic_bool failed;             /* err != OK; written under mu, read without it, so a
                                       loop can check it without waiting for a push */
};

/* Initialises s to pass records to next, counting them in stats; fatal
 * errors are reported in st. Undo with cfp_serial_sink_destroy(). */
void cfp_serial_sink_init(struct cfp_serial_sink *s, struct cfp_sink *next,
                          struct cfp_engine_stats *stats, struct cfp_status *st);
void cfp_serial_sink_destroy(struct cfp_serial_sink *s);

/* Counts r and pushes it to the next sink, unless the run already failed.
 * Any thread. Returns the run's fatal error (OK while there is none); a push
 * that fails becomes that error. */
cfp_err cfp_serial_sink_push(struct cfp_serial_sink *s, const struct cfp_record *r);

/* Records err with why's message unless an error is already recorded (the
 * first cause wins). Any thread. Returns true if this call recorded it. */
bool cfp_serial_sink_fail(struct cfp_serial_sink *s, cfp_err err, const struct cfp_status *why);

/* True once a fatal error is recorded; never blocks. */
bool cfp_serial_sink_failed(struct cfp_serial_sink *s);

/* The recorded fatal error (OK if none). Call after the threads are joined. */
cfp_err cfp_serial_sink_error(struct cfp_serial_sink *s);

#endif
