/* cfp_report.h - the text comparison report and its chart, generated from
 * the HDF5 results file alone (so `cfp report RESULTS.h5` regenerates both
 * anywhere, any time).
 *
 * For each workload (a run's `workload` attribute) the report takes the
 * newest run of each mode and sets them side by side: wall time, files/s,
 * MB/s, speedup against sequential, parallel efficiency, CPU use, peak RSS,
 * failures and the per-phase split. Its "What the numbers say" section is
 * computed from those numbers: the winner and its margin, whether the
 * workload was I/O- or CPU-bound (from the measured phase split), what
 * limited the winner, and the C-versus-Python lesson of the seed lab. */
#ifndef CFP_REPORT_H
#define CFP_REPORT_H

#include <stdbool.h>

#include "base/cfp_err.h"

/* Reads results_path and writes the report to out_path, through a temporary
 * file renamed into place ("-" writes to stdout), and the chart beside it
 * (out_path with ".txt" replaced by ".svg", or ".svg" appended).
 * identical, when not NULL, is set to whether, for every workload, the
 * newest runs of all modes recorded the same status and output digest for
 * every task index (from an order-independent fingerprint of each run's
 * rows, computed in the same pass: memory does not depend on the number of
 * tasks). */
cfp_err cfp_report_write(const char *results_path, const char *out_path, bool *identical,
                         struct cfp_status *st);

#endif
