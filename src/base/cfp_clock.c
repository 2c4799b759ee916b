/* cfp_clock.c - time and resource usage. */
#include "base/cfp_clock.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

double cfp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* VmHWM from /proc/self/status: unlike ru_maxrss it can be reset (see
 * cfp_reset_peak_rss), so runs measured one after another in one process
 * each get their own peak. -1 when unavailable. */
static int64_t status_kb(const char *fmt)
{
    char line[256];
    long long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, fmt, &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int64_t vm_hwm_kb(void)
{
    return status_kb("VmHWM: %lld kB");
}

int64_t cfp_rss_kb(void)
{
    return status_kb("VmRSS: %lld kB");
}

int cfp_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

void cfp_reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");

    if (!f)
        return;
    fputs("5", f); /* "5": reset the peak resident set size (Linux >= 4.0) */
    fclose(f);
}

void cfp_rusage(double *user_s, double *sys_s, int64_t *peak_rss_kb)
{
    struct rusage ru;
    int64_t hwm = vm_hwm_kb();

    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        *user_s = *sys_s = 0;
        *peak_rss_kb = hwm > 0 ? hwm : 0;
        return;
    }
    *user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    *sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    *peak_rss_kb = hwm > 0 ? hwm : (int64_t)ru.ru_maxrss; /* both KiB on Linux */
}

cfp_err cfp_iso8601(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (size > 0)
        out[0] = '\0';
    if (!gmtime_r(&tt, &tm))
        return CFP_ERR_TOO_BIG;
    if (strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        if (size > 0)
            out[0] = '\0';
        return CFP_ERR_TOO_BIG;
    }
    return CFP_ERR_OK;
}

void cfp_iso8601_now(char *buf, unsigned size)
{
    (void)cfp_iso8601((int64_t)time(NULL), buf, size);
}

/* One task at a time runs on a thread, so a thread-local deadline needs no
 * plumbing through the processors. */
static _Thread_local double thread_deadline;

void cfp_deadline_set(double t)
{
    thread_deadline = t;
}

double cfp_deadline(void)
{
    return thread_deadline;
}

bool cfp_deadline_passed(void)
{
    return thread_deadline > 0 && cfp_now() >= thread_deadline;
}
