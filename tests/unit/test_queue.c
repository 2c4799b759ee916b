/* test_queue.c - the bounded queue under real threads: every item delivered
 * exactly once, producers block at capacity, close wakes everyone. */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "base/cfp_mem.h"
#include "engine/cfp_queue.h"
#include "cfp_test.h"

#define PRODUCERS 4
#define CONSUMERS 3
#define PER_PROD  20000

static struct cfp_queue *q;
static int seen[PRODUCERS * PER_PROD];
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER; /* guards seen */

static void *producer(void *arg)
{
    int base = (int)(intptr_t)arg * PER_PROD;
    for (int i = 0; i < PER_PROD; i++) {
        int v = base + i;
        ASSERT(cfp_queue_push(q, &v));
    }
    return NULL;
}

static void *consumer(void *arg)
{
    int v;
    (void)arg;
    while (cfp_queue_pop(q, &v)) {
        pthread_mutex_lock(&seen_mu);
        seen[v]++;
        pthread_mutex_unlock(&seen_mu);
    }
    return NULL;
}

static void test_exactly_once(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];

    ASSERT_EQ(cfp_queue_new(sizeof(int), 8, &q), CFP_ERR_OK);
    for (int i = 0; i < CONSUMERS; i++)
        ASSERT_EQ(pthread_create(&c[i], NULL, consumer, NULL), 0);
    for (int i = 0; i < PRODUCERS; i++)
        ASSERT_EQ(pthread_create(&p[i], NULL, producer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    cfp_queue_close(q);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(c[i], NULL);
    for (int i = 0; i < PRODUCERS * PER_PROD; i++)
        ASSERT_EQ(seen[i], 1);
    cfp_queue_free(&q);
    ASSERT(q == NULL);
}

static void test_capacity_and_close(void)
{
    int v = 7, out = 0;

    ASSERT_EQ(cfp_queue_new(sizeof(int), 2, &q), CFP_ERR_OK);
    ASSERT(!cfp_queue_try_pop(q, &out)); /* empty: never waits */
    ASSERT(cfp_queue_try_push(q, &v));
    v = 8;
    ASSERT(cfp_queue_try_push(q, &v));
    ASSERT(!cfp_queue_try_push(q, &v)); /* full: never waits */
    ASSERT(cfp_queue_try_pop(q, &out));
    ASSERT_EQ(out, 7);                   /* oldest first */
    ASSERT(cfp_queue_try_push(q, &v));   /* the pop made room */
    ASSERT(cfp_queue_pop(q, &out));
    ASSERT_EQ(out, 8);
    cfp_queue_close(q);
    ASSERT(!cfp_queue_push(q, &v));      /* closed: refused */
    ASSERT(cfp_queue_try_pop(q, &out));  /* what was queued still drains */
    ASSERT_EQ(out, 8);
    ASSERT(!cfp_queue_try_pop(q, &out)); /* then the end, */
    ASSERT(!cfp_queue_pop(q, &out));     /* for both */
    cfp_queue_free(&q);
}

static void *blocked_pop(void *arg)
{
    int v;
    (void)arg;
    return (void *)(intptr_t)cfp_queue_pop(q, &v);
}

static void test_close_wakes_waiters(void)
{
    pthread_t t;
    void *ret;

    ASSERT_EQ(cfp_queue_new(sizeof(int), 1, &q), CFP_ERR_OK);
    ASSERT_EQ(pthread_create(&t, NULL, blocked_pop, NULL), 0);
    usleep(20000);
    cfp_queue_close(q);
    pthread_join(t, &ret);
    ASSERT_EQ((intptr_t)ret, 0);
    cfp_queue_free(&q);
}

static void test_errors(void)
{
    ASSERT_EQ(cfp_queue_new(0, 4, &q), CFP_ERR_USAGE);
    ASSERT_EQ(cfp_queue_new(SIZE_MAX / 2, 4, &q), CFP_ERR_USAGE);
    cfp_mem_fail_after(1);
    ASSERT_EQ(cfp_queue_new(4, 4, &q), CFP_ERR_NOMEM);
    cfp_mem_fail_after(2);
    ASSERT_EQ(cfp_queue_new(4, 4, &q), CFP_ERR_NOMEM);
    cfp_mem_fail_after(0);
    cfp_queue_free(NULL);
}

int main(void)
{
    test_errors();
    test_capacity_and_close();
    test_close_wakes_waiters();
    test_exactly_once();
    puts("queue ok");
    return 0;
}
