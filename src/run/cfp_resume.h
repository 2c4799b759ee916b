/* cfp_resume.h - what an earlier run left behind, for --resume and merge.
 *
 * A run's *final view* is the last row of each task index in the run's
 * tasks table (a resumed run appends new rows after the old ones, so a task
 * that failed and then succeeded has two rows; the later one counts).
 * struct cfp_resume_set keeps that view as 2 bits per task index: memory is
 * 1 MB per 4 million URLs, and nothing else grows with the list. */
#ifndef CFP_RESUME_H
#define CFP_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "results/cfp_h5.h"

enum cfp_resume_state { CFP_RESUME_NONE, CFP_RESUME_OK, CFP_RESUME_FAILED };

struct cfp_resume_set;

cfp_err cfp_resume_set_new(struct cfp_resume_set **out, struct cfp_status *st);
void cfp_resume_set_free(struct cfp_resume_set **ps);
/* Records the state of task index (>= 0), growing the set as needed. */
cfp_err cfp_resume_set_put(struct cfp_resume_set *s, int64_t index, enum cfp_resume_state v,
                           struct cfp_status *st);
enum cfp_resume_state cfp_resume_set_get(const struct cfp_resume_set *s, int64_t index);
/* Counts the tasks in each state (NONE not counted). */
void cfp_resume_set_count(const struct cfp_resume_set *s, int64_t *ok, int64_t *failed);

/* What cfp_resume_load() found: the last run of the file. */
struct cfp_resume_prior {
    bool found;                  /* false: no file, or no run in it */
    char run_id[CFP_H5_RUN_ID_MAX];
    struct cfp_run_info info;    /* its attributes as last written */
    int64_t rows;                /* rows in its tasks table */
    int64_t outputs_redo;        /* ok rows whose output is missing or changed */
};

/* Reads the attributes of the last run of the results file at path into
 * *prior (rows and outputs_redo stay 0); prior->found is false when it has
 * no run. */
cfp_err cfp_resume_last_run(const char *path, struct cfp_resume_prior *prior,
                            struct cfp_status *st);

/* Reads the last run of the results file at path into *prior and its final
 * view into a new set *out (caller frees). An ok row counts as OK only if
 * its output file still exists with the recorded SHA-256 (else NONE: the
 * task is done again). A missing file or a file without runs is not an
 * error: prior->found is false and the set is empty. */
cfp_err cfp_resume_load(const char *path, struct cfp_resume_prior *prior,
                        struct cfp_resume_set **out, struct cfp_status *st);

#endif
