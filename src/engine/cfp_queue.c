/* cfp_queue.c - bounded blocking queue. */
#include "engine/cfp_queue.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "base/cfp_mem.h"

struct cfp_queue {
    pthread_mutex_t mu;        /* guards every field below */
    pthread_cond_t not_empty;  /* signalled on push and close; consumers wait */
    pthread_cond_t not_full;   /* signalled on pop and close; producers wait */
    unsigned char *items;      /* guarded by mu: ring of capacity * item_size */
    size_t item_size, capacity;
    size_t head, count;        /* guarded by mu */
    bool closed;               /* guarded by mu */
};

cfp_err cfp_queue_new(size_t item_size, size_t capacity, struct cfp_queue **out)
{
    struct cfp_queue *q;

    if (item_size == 0 || capacity == 0 || capacity > SIZE_MAX / item_size)
        return CFP_ERR_USAGE;
    q = cfp_calloc(1, sizeof(*q));
    if (!q)
        return CFP_ERR_NOMEM;
    q->items = cfp_malloc(item_size * capacity);
    if (!q->items) {
        cfp_free(q);
        return CFP_ERR_NOMEM;
    }
    q->item_size = item_size;
    q->capacity = capacity;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    *out = q;
    return CFP_ERR_OK;
}

/* Caller holds q->mu and has checked there is room. */
static void put_locked(struct cfp_queue *q, const void *item)
{
    size_t tail = (q->head + q->count) % q->capacity;

    memcpy(q->items + tail * q->item_size, item, q->item_size);
    q->count++;
    pthread_cond_signal(&q->not_empty);
}

bool cfp_queue_push(struct cfp_queue *q, const void *item)
{
    bool ok;

    pthread_mutex_lock(&q->mu);
    while (q->count == q->capacity && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mu);
    ok = !q->closed;
    if (ok)
        put_locked(q, item);
    pthread_mutex_unlock(&q->mu);
    return ok;
}

bool cfp_queue_try_push(struct cfp_queue *q, const void *item)
{
    bool ok;

    pthread_mutex_lock(&q->mu);
    ok = !q->closed && q->count < q->capacity;
    if (ok)
        put_locked(q, item);
    pthread_mutex_unlock(&q->mu);
    return ok;
}

/* Takes the oldest item, if any; q->mu held. */
static bool take_locked(struct cfp_queue *q, void *item)
{
    if (q->count == 0)
        return false;
    memcpy(item, q->items + q->head * q->item_size, q->item_size);
    q->head = (q->head + 1) % q->capacity;
    q->count--;
    pthread_cond_signal(&q->not_full);
    return true;
}

bool cfp_queue_pop(struct cfp_queue *q, void *item)
{
    bool ok;

    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mu);
    ok = take_locked(q, item);
    pthread_mutex_unlock(&q->mu);
    return ok;
}

bool cfp_queue_try_pop(struct cfp_queue *q, void *item)
{
    bool ok;

    pthread_mutex_lock(&q->mu);
    ok = take_locked(q, item);
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void cfp_queue_close(struct cfp_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

void cfp_queue_free(struct cfp_queue **pq)
{
    struct cfp_queue *q = pq ? *pq : NULL;

    if (!q)
        return;
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mu);
    cfp_free(q->items);
    cfp_free(q);
    *pq = NULL;
}
