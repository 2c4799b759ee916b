/* cfp_clock.h - monotonic time in seconds and resource usage snapshots. */
#ifndef CFP_CLOCK_H
#define CFP_CLOCK_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_err.h"

/* Seconds on the monotonic clock (arbitrary origin). */
double cfp_now(void);

/* The deadline of the task running on the calling thread, on the cfp_now()
 * clock (0 = none): set by the task pipeline (--task-timeout), read by
 * long loops (image decoding, resizing) so that processing is bounded too. */
void cfp_deadline_set(double t);
double cfp_deadline(void);
/* True when the calling thread's deadline is set and has passed. */
bool cfp_deadline_passed(void);

/* Resets the process's peak RSS to its current RSS, so that the next
 * cfp_rusage() reports the peak of what ran in between. Best effort. */
void cfp_reset_peak_rss(void);

/* The process's resident set now (KiB) and its open file descriptors; -1
 * when /proc cannot tell. For soak monitoring (--stats-every). */
int64_t cfp_rss_kb(void);
int cfp_open_fds(void);

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
