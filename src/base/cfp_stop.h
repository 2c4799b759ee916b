/* cfp_stop.h - the clean stop of a run (preemption, Ctrl-C, a batch
 * system's time-limit warning).
 *
 * A stop is requested by a signal (SIGTERM, SIGINT, SIGUSR1, once
 * cfp_stop_install() has run) or by a call. From then on task sources hand
 * out no new task; tasks in flight may finish during the grace period; when
 * it is over, transfers in flight are aborted and the tasks not finished are
 * *abandoned*: they fail with CFP_ERR_STOPPED, such records are dropped
 * before the results file (no record, no output under a final name), and
 * `--resume` does those tasks again.
 *
 * The state is a few process-wide atomics: set from a signal handler, read
 * from any thread without a lock. */
#ifndef CFP_STOP_H
#define CFP_STOP_H

#include <stdbool.h>

/* Installs the handlers for SIGTERM, SIGINT and SIGUSR1 (a second signal of
 * the same kind after the first does not kill the process: the grace period
 * still bounds the stop) and sets the grace period in seconds (>= 0). */
void cfp_stop_install(double grace_s);

/* Requests a stop as if signal sig (0: not a signal) had arrived. The first
 * request wins; later ones change nothing. Async-signal-safe. */
void cfp_stop_request(int sig);

/* True once a stop was requested. */
bool cfp_stop_requested(void);

/* The signal of the first request, 0 if none or not a signal. */
int cfp_stop_signal(void);

/* True when a stop was requested and its grace period is over: work in
 * flight must be abandoned now. */
bool cfp_stop_abandon(void);

/* Forgets a request (between the runs of --compare, and in tests). */
void cfp_stop_reset(void);

#endif
