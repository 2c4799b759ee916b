/* cfp_queue.h - a bounded multi-producer multi-consumer queue of fixed-size
 * items (mutex + two condition variables). Producers block while it is full,
 * consumers while it is empty: the capacity, not the input, bounds memory.
 * cfp_queue_close() wakes everyone; pops then drain what is left and report
 * the end. */
#ifndef CFP_QUEUE_H
#define CFP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/cfp_err.h"

struct cfp_queue;

/* Creates a queue of capacity items of item_size bytes each. Caller frees
 * with cfp_queue_free() once no thread uses it. */
cfp_err cfp_queue_new(size_t item_size, size_t capacity, struct cfp_queue **out);

/* Copies item in, waiting while the queue is full. Returns false (item not
 * queued) when the queue is closed. */
bool cfp_queue_push(struct cfp_queue *q, const void *item);

/* As cfp_queue_push, but never waits: false when full or closed. */
bool cfp_queue_try_push(struct cfp_queue *q, const void *item);

/* Copies the oldest item out, waiting while the queue is empty. Returns false
 * when the queue is closed and empty. */
bool cfp_queue_pop(struct cfp_queue *q, void *item);

/* As cfp_queue_pop, but never waits: false when the queue is empty. */
bool cfp_queue_try_pop(struct cfp_queue *q, void *item);

/* No more pushes; waiting consumers and producers return. Idempotent. */
void cfp_queue_close(struct cfp_queue *q);

void cfp_queue_free(struct cfp_queue **pq);

#endif
