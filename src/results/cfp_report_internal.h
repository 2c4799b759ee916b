/* cfp_report_internal.h - private to cfp_report*.c: what the report knows
 * of the runs in a results file. */
#ifndef CFP_REPORT_INTERNAL_H
#define CFP_REPORT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "results/cfp_h5.h"

#define CFP_REPORT_MAX_RUNS      64 /* the newest runs are read; older ones are only counted */
#define CFP_REPORT_MAX_WORKLOADS 8
#define CFP_REPORT_MODES         4  /* sequential, threading, mpi, async */
#define CFP_REPORT_RANKS         16 /* ranks whose load is tracked per run */

/* One run: its attributes and sums over its task rows. */
#define CFP_REPORT_HOSTS 16 /* hosts listed per run; more are summed as "(other hosts)" */

struct host_sum {
    char name[CFP_HOST_MAX]; /* "" for records from before the host column */
    int64_t tasks, ok;
    double busy_s;
};

struct cfp_report_run {
    char id[CFP_H5_RUN_ID_MAX];
    struct cfp_run_info info;
    double fetch_s, process_s, write_s;
    int64_t n_kind[3], ok_kind[3]; /* image, text, csv */
    uint64_t fingerprint;          /* order-independent hash of (index, status, digest) */
    double rank_busy[CFP_REPORT_RANKS]; /* summed task time per rank (mpi runs) */
    int64_t rank_tasks[CFP_REPORT_RANKS];
    struct host_sum hosts[CFP_REPORT_HOSTS + 1]; /* the last one: every other host */
    int nhosts;
};

/* The newest run of each mode for one workload. */
struct cfp_report_workload {
    const char *name;
    const struct cfp_report_run *by_mode[CFP_REPORT_MODES]; /* NULL: no run of that mode */
    const struct cfp_report_run *matrix[CFP_REPORT_RANKS + 1][3]; /* newest mpi run by ranks x engine */
};

struct cfp_report_state {
    struct cfp_report_run *runs; /* ring of the newest CFP_REPORT_MAX_RUNS */
    int64_t nruns;        /* runs in the file */
    struct cfp_report_workload wl[CFP_REPORT_MAX_WORKLOADS];
    int nwl;
    const char *path;
    long cores;           /* CPUs of the process writing the report (cfp_cpus.h) */
    long online;          /* online CPUs of that machine */
    const char *cores_source; /* "affinity", "cgroup", "online" */
    FILE *f;
    int fail_shown;
};

/* Mode slots in table order, and their display names. */
int cfp_report_mode_slot(const char *mode);
const char *cfp_report_mode_label(int slot);

/* Seconds of wall time, never zero (for divisions). */
double cfp_report_wall(const struct cfp_report_run *s);
/* The CPUs run s had: its cpus attribute, or rep->cores for runs recorded
 * before it. */
double cfp_report_cpus(const struct cfp_report_state *rep, const struct cfp_report_run *s);
/* Cores a mode could compute on: 1 for sequential, else min(its CPUs, workers x ranks). */
double cfp_report_parallel_units(const struct cfp_report_state *rep, const struct cfp_report_run *s);
double cfp_report_cpu_util(const struct cfp_report_state *rep, const struct cfp_report_run *s);
double cfp_report_pct(double part, double whole);

/* max/mean of the per-rank task time of an mpi run (1.0 = perfect). */
double cfp_report_load_balance(const struct cfp_report_run *s);

void cfp_report_print_insights(const struct cfp_report_state *rep, const struct cfp_report_workload *w);
cfp_err cfp_report_write_svg(const struct cfp_report_state *rep, const char *path, struct cfp_status *st);

#endif
