/* cfp_report.h - the text comparison report, generated from the HDF5
 * results file alone (so `cfp report RESULTS.h5` regenerates it anywhere). */
#ifndef CFP_REPORT_H
#define CFP_REPORT_H

#include "cfp_err.h"

/* Reads results_path and writes the report to out_path (through a temporary
 * file renamed into place; "-" writes to stdout). */
cfp_err cfp_report_write(const char *results_path, const char *out_path, struct cfp_status *st);

#endif
