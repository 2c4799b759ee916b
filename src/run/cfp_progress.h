/* cfp_progress.h - a result sink that counts records, shows progress on
 * stderr and passes each record on to the next sink.
 *
 * On a TTY: one live line, redrawn at most 10 times a second
 * ("sequential: 120/500 done, 3 failed, 41.2 files/s, ETA 9 s").
 * Otherwise: one line every 5 seconds, and one at the end. Quiet: nothing. */
#ifndef CFP_PROGRESS_H
#define CFP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/cfp_engine_seam.h"

struct cfp_progress {
    struct cfp_sink sink;  /* the view engines push to; ctx = this struct */
    struct cfp_sink *next; /* not owned */
    const char *label;
    int64_t total;         /* -1 when unknown */
    int64_t done, failed;
    double t0, last_draw;
    bool tty, quiet;
};

/* Initialises p to forward to next. total may be -1 (unknown). */
void cfp_progress_init(struct cfp_progress *p, struct cfp_sink *next, const char *label,
                       int64_t total, bool quiet);
/* Draws the final line (and ends the live line on a TTY). */
void cfp_progress_end(struct cfp_progress *p);

#endif
