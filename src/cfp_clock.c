/* cfp_clock.c - time and resource usage. */
#include "cfp_clock.h"

#include <sys/resource.h>
#include <time.h>

double cfp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cfp_rusage(double *user_s, double *sys_s, int64_t *peak_rss_kb)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        *user_s = *sys_s = 0;
        *peak_rss_kb = 0;
        return;
    }
    *user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    *sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    *peak_rss_kb = (int64_t)ru.ru_maxrss; /* Linux reports KiB */
}

void cfp_iso8601_now(char *buf, unsigned size)
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && size > 0)
        buf[0] = '\0';
}
