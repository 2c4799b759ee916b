/* cfp_clock.h - monotonic time in seconds and resource usage snapshots. */
#ifndef CFP_CLOCK_H
#define CFP_CLOCK_H

#include <stdint.h>

/* Seconds on the monotonic clock (arbitrary origin). */
double cfp_now(void);

/* Resets the process's peak RSS to its current RSS, so that the next
 * cfp_rusage() reports the peak of what ran in between. Best effort. */
void cfp_reset_peak_rss(void);

/* User and system CPU seconds of this process, and its peak RSS in KiB
 * (since the last cfp_reset_peak_rss()). */
void cfp_rusage(double *user_s, double *sys_s, int64_t *peak_rss_kb);

/* The current UTC time as ISO 8601 ("2026-11-25T12:00:00Z") in buf[size]. */
void cfp_iso8601_now(char *buf, unsigned size);

#endif
