/* test_serial.c - the engines' single writer under real threads: every
 * record counted and passed on exactly once, never two pushes at a time,
 * the first fatal error kept and later pushes refused. */
#include <pthread.h>

#include "engine/cfp_serial.h"
#include "cfp_test.h"

#define THREADS 4
#define PER     5000

struct next {
    int inside;     /* pushes in progress: must never exceed 1 */
    int64_t seen;   /* records received */
    int64_t fail_at; /* the push that fails (0: none) */
};

static cfp_err next_push(struct cfp_sink *s, const struct cfp_record *r, struct cfp_status *st)
{
    struct next *n = s->ctx;

    (void)r;
    ASSERT_EQ(++n->inside, 1); /* plain ints: TSan reports any unserialised access */
    n->seen++;
    n->inside--;
    if (n->seen == n->fail_at)
        return cfp_status_set(st, CFP_ERR_HDF5, "results: disk full at record %lld",
                              (long long)n->seen);
    return CFP_ERR_OK;
}

static struct cfp_serial_sink ser;

static void *pusher(void *arg)
{
    struct cfp_record r;

    memset(&r, 0, sizeof(r));
    r.code = ((intptr_t)arg % 2) ? CFP_ERR_HTTP : CFP_ERR_OK;
    r.bytes_in = 10;
    for (int i = 0; i < PER; i++)
        (void)cfp_serial_sink_push(&ser, &r);
    return NULL;
}

static void run(struct next *n, struct cfp_engine_stats *stats, struct cfp_status *st)
{
    struct cfp_sink sink = {next_push, n};
    pthread_t t[THREADS];

    memset(stats, 0, sizeof(*stats));
    cfp_status_clear(st);
    cfp_serial_sink_init(&ser, &sink, stats, st);
    for (intptr_t i = 0; i < THREADS; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, pusher, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    struct next n = {0, 0, 0};
    struct cfp_engine_stats stats;
    struct cfp_status st, why;

    run(&n, &stats, &st);
    ASSERT_EQ(n.seen, THREADS * PER);
    ASSERT_EQ(stats.tasks, THREADS * PER);
    ASSERT_EQ(stats.failed, THREADS / 2 * PER);
    ASSERT_EQ(stats.bytes_in, 10LL * THREADS * PER);
    ASSERT(!cfp_serial_sink_failed(&ser));
    ASSERT_EQ(cfp_serial_sink_error(&ser), CFP_ERR_OK);
    cfp_serial_sink_destroy(&ser);

    /* The 1000th push fails: it is the run's error, nothing is pushed after. */
    n = (struct next){0, 0, 1000};
    run(&n, &stats, &st);
    ASSERT_EQ(n.seen, 1000);
    ASSERT(cfp_serial_sink_failed(&ser));
    ASSERT_EQ(cfp_serial_sink_error(&ser), CFP_ERR_HDF5);
    ASSERT_STREQ(st.msg, "results: disk full at record 1000");
    /* A later failure does not replace the first cause. */
    cfp_status_clear(&why);
    cfp_status_set(&why, CFP_ERR_INTERNAL, "later");
    ASSERT(!cfp_serial_sink_fail(&ser, CFP_ERR_INTERNAL, &why));
    ASSERT_STREQ(st.msg, "results: disk full at record 1000");
    cfp_serial_sink_destroy(&ser);
    puts("serial sink ok");
    return 0;
}
