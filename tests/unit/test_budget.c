/* test_budget.c - the memory budget (task/cfp_budget.h): the limit and its
 * reserve, parking and its byte cap, admission that waits only on other
 * active tasks, the non-blocking answers, deadlines, the release hook, the
 * peak; and a stress of threads that park, take a core and admit as the
 * engines do, which must neither deadlock nor ever exceed the limit. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/cfp_clock.h"
#include "cfp_test.h"
#include "task/cfp_budget.h"

#define MiB ((uint64_t)1 << 20)

static void test_limit(void)
{
    struct cfp_budget *b = NULL;
    struct cfp_budget_hold h = {0, 0};
    struct cfp_status st;

    ASSERT_EQ(cfp_budget_new(384 * MiB, 0, &b), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_bytes(b), 384 * MiB);
    ASSERT_EQ(cfp_budget_limit(b), 336 * MiB); /* reserve: max(32 MiB, 1/8) */
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_budget_admit(b, &h, 337 * MiB, true, &st), CFP_ERR_MEMORY);
    ASSERT(strstr(st.msg, "needs ~337 MB, budget 384 MB") != NULL);
    ASSERT_EQ(h.active, 0);
    ASSERT_EQ(cfp_budget_check(b, 336 * MiB, &st), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_admit(b, &h, 336 * MiB, true, &st), CFP_ERR_OK);
    ASSERT_EQ(h.active, 336 * MiB);
    ASSERT_EQ(cfp_budget_peak(b), 336 * MiB);
    cfp_budget_release(b, &h);
    ASSERT_EQ(h.active, 0);
    cfp_budget_free(&b);
    ASSERT(b == NULL);
    /* Small budgets keep half for images; 0 is no budget at all. */
    ASSERT_EQ(cfp_budget_new(40 * MiB, 0, &b), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_limit(b), 20 * MiB);
    cfp_budget_free(&b);
    ASSERT_EQ(cfp_budget_new(0, 0, &b), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_limit(b), 0);
    ASSERT_EQ(cfp_budget_admit(b, &h, (uint64_t)1 << 50, false, &st), CFP_ERR_OK);
    cfp_budget_release(b, &h);
    cfp_budget_free(&b);
    /* A NULL budget allows everything. */
    ASSERT_EQ(cfp_budget_park(NULL, &h, 1, false, &st), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_admit(NULL, &h, 1, false, &st), CFP_ERR_OK);
    cfp_budget_release(NULL, &h);
}

/* Admission waits only while other tasks are active; parked bodies alone
 * never hold up an admission (they wait for a core, which the admitted
 * task holds). */
static void test_admission_rules(void)
{
    struct cfp_budget *b = NULL;
    struct cfp_budget_hold a = {0, 0}, p = {0, 0}, c = {0, 0};
    struct cfp_status st;

    cfp_status_clear(&st);
    ASSERT_EQ(cfp_budget_new(256 * MiB, 0, &b), CFP_ERR_OK); /* limit 224 */
    ASSERT_EQ(cfp_budget_park(b, &p, 200 * MiB, false, &st), CFP_ERR_OK);
    /* Nothing active: admitted although parked + need is over the limit. */
    ASSERT_EQ(cfp_budget_admit(b, &a, 100 * MiB, false, &st), CFP_ERR_OK);
    /* Now one is active: another that does not fit must wait. */
    ASSERT_EQ(cfp_budget_admit(b, &c, 10 * MiB, false, &st), CFP_ERR_AGAIN);
    ASSERT_EQ(c.active, 0);
    /* The parked body is admitted when it gets its core: it waits on a. */
    ASSERT_EQ(cfp_budget_admit(b, &p, 0, false, &st), CFP_ERR_AGAIN);
    cfp_budget_release(b, &a);
    ASSERT_EQ(cfp_budget_admit(b, &p, 20 * MiB, false, &st), CFP_ERR_OK);
    ASSERT_EQ(p.parked, 0);
    ASSERT_EQ(p.active, 220 * MiB);
    ASSERT_EQ(cfp_budget_peak(b), 300 * MiB);
    /* A task adding to its own active charge waits only on others. */
    ASSERT_EQ(cfp_budget_admit(b, &p, 4 * MiB, false, &st), CFP_ERR_OK);
    cfp_budget_release(b, &p);
    cfp_budget_free(&b);
}

static void test_park_cap(void)
{
    struct cfp_budget *b = NULL;
    struct cfp_budget_hold x = {0, 0}, y = {0, 0}, z = {0, 0};
    struct cfp_status st;

    cfp_status_clear(&st);
    ASSERT_EQ(cfp_budget_new(0, 8 * MiB, &b), CFP_ERR_OK);
    /* One body always parks, however large; then the cap applies. */
    ASSERT_EQ(cfp_budget_park(b, &x, 20 * MiB, false, &st), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_park(b, &y, 1, false, &st), CFP_ERR_AGAIN);
    cfp_budget_release(b, &x);
    ASSERT_EQ(cfp_budget_park(b, &y, 5 * MiB, false, &st), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_park(b, &z, 3 * MiB, false, &st), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_park(b, &x, 1, false, &st), CFP_ERR_AGAIN);
    /* Admitting a parked body frees its park bytes. */
    ASSERT_EQ(cfp_budget_admit(b, &y, 0, false, &st), CFP_ERR_OK);
    ASSERT_EQ(cfp_budget_park(b, &x, 1, false, &st), CFP_ERR_OK);
    cfp_budget_release(b, &x);
    cfp_budget_release(b, &y);
    cfp_budget_release(b, &z);
    cfp_budget_free(&b);
}

static atomic_int releases;

static void on_release(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&releases, 1);
}

/* A wait ends at the calling thread's deadline, with its reason. */
static void test_deadline_and_hook(void)
{
    struct cfp_budget *b = NULL;
    struct cfp_budget_hold a = {0, 0}, c = {0, 0};
    struct cfp_status st;
    double t0;

    cfp_status_clear(&st);
    ASSERT_EQ(cfp_budget_new(256 * MiB, 0, &b), CFP_ERR_OK);
    cfp_budget_on_release(b, on_release, NULL);
    ASSERT_EQ(cfp_budget_admit(b, &a, 200 * MiB, true, &st), CFP_ERR_OK);
    t0 = cfp_now();
    cfp_deadline_set(t0 + 0.3);
    ASSERT_EQ(cfp_budget_admit(b, &c, 100 * MiB, true, &st), CFP_ERR_TIMEOUT);
    ASSERT(strstr(st.msg, "waiting for memory") != NULL);
    ASSERT(cfp_now() - t0 >= 0.3);
    cfp_deadline_set(0);
    cfp_budget_release(b, &a);
    ASSERT_EQ(atomic_load(&releases), 1);
    cfp_budget_release(b, &c); /* holds nothing: no call */
    ASSERT_EQ(atomic_load(&releases), 1);
    cfp_budget_free(&b);
}

/* The engines' pattern, many threads at once: a task parks its body (no
 * core), takes one of `cores` core slots, admits its decode, "works",
 * releases; other tasks hold a core first (local files) and admit. The
 * charge never goes over the limit unless a task was admitted alone, and
 * every task finishes. */
#define STRESS_THREADS 12
#define STRESS_TASKS   150
#define STRESS_CORES   3

struct stress {
    struct cfp_budget *b;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int cores_free;
    atomic_int done;
    atomic_uint_fast64_t active;
    atomic_int over;
};

static void core_take(struct stress *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->cores_free == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    s->cores_free--;
    pthread_mutex_unlock(&s->mu);
}

static void core_give(struct stress *s)
{
    pthread_mutex_lock(&s->mu);
    s->cores_free++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *stress_thread(void *arg)
{
    struct stress *s = arg;
    struct cfp_status st;
    unsigned seed = (unsigned)(uintptr_t)&st;

    cfp_status_clear(&st);
    for (int i = 0; i < STRESS_TASKS / STRESS_THREADS; i++) {
        struct cfp_budget_hold h = {0, 0};
        uint64_t body = (uint64_t)(rand_r(&seed) % 40) * MiB, need = (uint64_t)(rand_r(&seed) % 60 + 1) * MiB;
        bool local = rand_r(&seed) % 3 == 0;

        if (local) {
            core_take(s);
        } else {
            ASSERT_EQ(cfp_budget_park(s->b, &h, body, true, &st), CFP_ERR_OK);
            core_take(s);
        }
        ASSERT_EQ(cfp_budget_admit(s->b, &h, need, true, &st), CFP_ERR_OK);
        {
            /* Counted after the budget's admit and before its release, so
             * this sum never runs ahead of the budget's own. */
            uint64_t before = atomic_fetch_add(&s->active, h.active);

            if (before != 0 && before + h.active > cfp_budget_limit(s->b))
                atomic_fetch_add(&s->over, 1);
        }
        {
            struct timespec nap = {0, 200 * 1000};
            nanosleep(&nap, NULL);
        }
        atomic_fetch_sub(&s->active, h.active);
        cfp_budget_release(s->b, &h);
        core_give(s);
        atomic_fetch_add(&s->done, 1);
    }
    return NULL;
}

static void test_stress(void)
{
    struct stress s;
    pthread_t t[STRESS_THREADS];

    memset(&s, 0, sizeof(s));
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    s.cores_free = STRESS_CORES;
    /* A limit of 112 MiB against needs up to 100 MiB: one at a time often. */
    ASSERT_EQ(cfp_budget_new(144 * MiB, 16 * MiB, &s.b), CFP_ERR_OK);
    for (int i = 0; i < STRESS_THREADS; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, stress_thread, &s), 0);
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(atomic_load(&s.done), STRESS_TASKS / STRESS_THREADS * STRESS_THREADS);
    ASSERT_EQ(atomic_load(&s.over), 0);
    ASSERT(cfp_budget_peak(s.b) > 0);
    printf("stress: %d tasks, %d threads, %d cores, peak %.0f MiB of %.0f\n",
           atomic_load(&s.done), STRESS_THREADS, STRESS_CORES,
           (double)cfp_budget_peak(s.b) / MiB, (double)cfp_budget_limit(s.b) / MiB);
    cfp_budget_free(&s.b);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_limit();
    test_admission_rules();
    test_park_cap();
    test_deadline_and_hook();
    test_stress();
    printf("test_budget: all passed\n");
    return 0;
}
