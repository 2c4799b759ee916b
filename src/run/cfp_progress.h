/* cfp_progress.h - a result sink that counts records, shows progress on
 * stderr and passes each record on to the next sink.
 *
 * On a TTY: one live line, redrawn at most 10 times a second
 * ("sequential: 120/500 done, 3 failed, 41.2 files/s, ETA 9 s").
 * Otherwise: one line every 5 seconds, and one at the end. Quiet: nothing.
 *
 * The job log: each failed record prints "cfp: failed 000123 URL : error"
 * (also when quiet; not when silent), the first CFP_JOBLOG_LINES as they
 * come, then at most one line a second counting the failures since, so
 * that 100,000 failures do not flood a batch log. The counts by error
 * class and the bytes moved go to an optional struct cfp_joblog for the
 * run's summary. */
#ifndef CFP_PROGRESS_H
#define CFP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/cfp_engine_seam.h"

#define CFP_JOBLOG_LINES   20 /* failure lines printed before rate-limiting */
#define CFP_JOBLOG_CLASSES 16 /* classes counted; later ones go to other */
#define CFP_JOBLOG_NAME    24

/* What one session's records add up to, for the run's summary. Written by
 * the progress sink (one thread at a time, as every sink), read after the
 * run. Its size is fixed: it does not grow with the URL count. */
struct cfp_joblog {
    int64_t failed;              /* failed records of this session */
    int64_t bytes_in, bytes_out; /* of every record of this session */
    double wall_s;               /* from the first push to cfp_progress_end() */
    int nclasses;
    struct {
        char name[CFP_JOBLOG_NAME]; /* "404" for HTTP statuses, else cfp_errname() */
        int64_t n;
    } cls[CFP_JOBLOG_CLASSES];
    int64_t other; /* failures of classes past the table */
};

struct cfp_progress {
    struct cfp_sink sink;  /* the view engines push to; ctx = this struct */
    struct cfp_sink *next; /* not owned */
    const char *label;
    int64_t total;         /* -1 when unknown */
    int64_t done, failed;
    double t0, last_draw;
    bool tty, quiet;
    bool silent;            /* no failure lines either */
    struct cfp_joblog *log; /* not owned; may be NULL */
    int64_t lines, held;    /* failure lines printed; failures not printed yet */
    double last_more;       /* cfp_now() of the last "N more failed" line */
};

/* Initialises p to forward to next. total may be -1 (unknown). quiet: no
 * progress line; silent: no failure lines either. log (may be NULL) is
 * zeroed and filled as records pass; it must outlive p. */
void cfp_progress_init(struct cfp_progress *p, struct cfp_sink *next, const char *label,
                       int64_t total, bool quiet, bool silent, struct cfp_joblog *log);
/* Draws the final line (and ends the live line on a TTY), says how many
 * failures were not printed yet and closes the log's clock. */
void cfp_progress_end(struct cfp_progress *p);

#endif
