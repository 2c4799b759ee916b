/* cfp_clock.h - monotonic time in seconds and resource usage snapshots. */
#ifndef CFP_CLOCK_H
#define CFP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "cfp_err.h"

/* Seconds on the monotonic clock (arbitrary origin). */
double cfp_now(void);

/* Resets the process's peak RSS to its current RSS, so that the next
 * cfp_rusage() reports the peak of what ran in between. Best effort. */
void cfp_reset_peak_rss(void);

/* User and system CPU seconds of this process, and its peak RSS in KiB
 * (since the last cfp_reset_peak_rss()). */
void cfp_rusage(double *user_s, double *sys_s, int64_t *peak_rss_kb);

/* Formats t (seconds since the epoch, UTC) as ISO 8601
 * ("2026-11-25T12:00:00Z") into out[size]; CFP_ERR_TOO_BIG (and "") when
 * it does not fit or t is out of range. */
cfp_err cfp_iso8601(int64_t t, char *out, size_t size);

/* The current UTC time, as cfp_iso8601(); "" if buf is too small. */
void cfp_iso8601_now(char *buf, unsigned size);

#endif
