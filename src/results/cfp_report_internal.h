/* cfp_report_internal.h - private to cfp_report*.c: what the report knows
 * of the runs in a results file. */
#ifndef CFP_REPORT_INTERNAL_H
#define CFP_REPORT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "results/cfp_h5.h"

#define REPORT_MAX_RUNS      64 /* the newest runs are read; older ones are only counted */
#define REPORT_MAX_WORKLOADS 8
#define REPORT_MODES         4  /* sequential, threading, mpi, async */
#define REPORT_RANKS         16 /* ranks whose load is tracked per run */

/* One run: its attributes and sums over its task rows. */
#define REPORT_HOSTS 16 /* hosts listed per run; more are summed as "(other hosts)" */

struct host_sum {
    char name[CFP_HOST_MAX]; /* "" for records from before the host column */
    int64_t tasks, ok;
    double busy_s;
};

struct run_sum {
    char id[CFP_H5_RUN_ID_MAX];
    struct cfp_run_info info;
    double fetch_s, process_s, write_s;
    int64_t n_kind[3], ok_kind[3]; /* image, text, csv */
    uint64_t fingerprint;          /* order-independent hash of (index, status, digest) */
    double rank_busy[REPORT_RANKS]; /* summed task time per rank (mpi runs) */
    int64_t rank_tasks[REPORT_RANKS];
    struct host_sum hosts[REPORT_HOSTS + 1]; /* the last one: every other host */
    int nhosts;
};

/* The newest run of each mode for one workload. */
struct workload_view {
    const char *name;
    const struct run_sum *by_mode[REPORT_MODES]; /* NULL: no run of that mode */
    const struct run_sum *matrix[REPORT_RANKS + 1][3]; /* newest mpi run by ranks x engine */
};

struct report {
    struct run_sum *runs; /* ring of the newest REPORT_MAX_RUNS */
    int64_t nruns;        /* runs in the file */
    struct workload_view wl[REPORT_MAX_WORKLOADS];
    int nwl;
    const char *path;
    long cores;
    FILE *f;
    int fail_shown;
};

/* Mode slots in table order, and their display names. */
int report_mode_slot(const char *mode);
const char *report_mode_label(int slot);

/* Seconds of wall time, never zero (for divisions). */
double report_wall(const struct run_sum *s);
/* Cores a mode could compute on: 1 for sequential, else min(cores, workers x ranks). */
double report_parallel_units(const struct report *rep, const struct run_sum *s);
double report_cpu_util(const struct report *rep, const struct run_sum *s);
double report_pct(double part, double whole);

/* max/mean of the per-rank task time of an mpi run (1.0 = perfect). */
double report_load_balance(const struct run_sum *s);

void report_print_insights(const struct report *rep, const struct workload_view *w);
cfp_err report_write_svg(const struct report *rep, const char *path, struct cfp_status *st);

#endif
