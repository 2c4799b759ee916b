/* cfp_stop.c - process-wide stop request and grace period. */
#include "base/cfp_stop.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Lock-free atomics (checked below): the only kind a signal handler may
 * touch. requested_ns, the CLOCK_MONOTONIC time of the first request (never
 * 0 once set), is also the flag, so no reader sees a request without its
 * time. */
static atomic_int signal_no;
static atomic_llong requested_ns;
static atomic_llong grace_ns;

#if ATOMIC_INT_LOCK_FREE != 2 || ATOMIC_LLONG_LOCK_FREE != 2
#error "cfp_stop needs lock-free int and long long atomics"
#endif

static long long mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe (POSIX) */
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void cfp_stop_request(int sig)
{
    long long expected = 0, now = mono_ns();

    if (atomic_compare_exchange_strong(&requested_ns, &expected, now > 0 ? now : 1))
        atomic_store(&signal_no, sig);
}

static void on_signal(int sig)
{
    cfp_stop_request(sig);
}

void cfp_stop_install(double grace_s)
{
    struct sigaction sa;
    static const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};

    atomic_store(&grace_ns, grace_s > 0 ? (long long)(grace_s * 1e9) : 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESTART: a blocking read or poll elsewhere is not cut short; the
     * sources and transfer callbacks poll the flag instead. */
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        (void)sigaction(sigs[i], &sa, NULL);
}

bool cfp_stop_requested(void)
{
    return atomic_load(&requested_ns) != 0;
}

int cfp_stop_signal(void)
{
    return atomic_load(&signal_no);
}

bool cfp_stop_abandon(void)
{
    long long t = atomic_load(&requested_ns);

    return t != 0 && mono_ns() - t >= atomic_load(&grace_ns);
}

void cfp_stop_reset(void)
{
    atomic_store(&requested_ns, 0);
    atomic_store(&signal_no, 0);
}
