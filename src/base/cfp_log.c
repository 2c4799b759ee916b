/* cfp_log.c - leveled logging. Each line is formatted into one buffer and
 * written with one fputs so lines from different threads do not interleave. */
#include "base/cfp_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum cfp_log_level cfp_log_threshold = CFP_LOG_WARN;
static int log_rank = -1; /* written once before threads start */

static const char *const level_name[] = {"error", "warn", "info", "debug"};

void cfp_log_setup(enum cfp_log_level level, int rank)
{
    cfp_log_threshold = level;
    log_rank = rank;
}

void cfp_log_emit(enum cfp_log_level level, const char *file, int line, const char *fmt, ...)
{
    char buf[1024];
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    int n;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
    if (log_rank >= 0)
        n = snprintf(buf, sizeof(buf), "cfp[%s rank %d] %s: ", stamp, log_rank, level_name[level]);
    else
        n = snprintf(buf, sizeof(buf), "cfp[%s] %s: ", stamp, level_name[level]);
    if (n < 0 || (size_t)n >= sizeof(buf))
        n = 0;
    if (level == CFP_LOG_DEBUG) {
        int m = snprintf(buf + n, sizeof(buf) - (size_t)n, "%s:%d: ", file, line);
        if (m > 0 && (size_t)m < sizeof(buf) - (size_t)n)
            n += m;
    }
    va_start(ap, fmt);
    (void)vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    buf[sizeof(buf) - 2] = '\0';
    {
        size_t len = 0;
        while (buf[len])
            len++;
        buf[len] = '\n';
        buf[len + 1] = '\0';
    }
    fputs(buf, stderr);
}
