/* cfp_cmd.h - the command line's options, shared by main.c and the MPI
 * commands in mpi/cfp_mpi_cli.c (built only with MPI). */
#ifndef CFP_CMD_H
#define CFP_CMD_H

#include <stdbool.h>

#include "run/cfp_compare.h"
#include "lab/cfp_gen.h"
#include "run/cfp_run.h"

/* MPI options, parsed in every build so that a build without MPI can say
 * clearly that MPI is missing instead of calling them unknown. */
struct mpi_opts {
    bool rank0_works;
    double rank_timeout_s;
    int ranks; /* --mode multiprocessing: ranks to start (0 = cores) */
};

struct opts {
    bool generate, run, quiet, compare, latency_given, multiprocessing, no_report;
    const char *label;
    struct mpi_opts mpi;
    char processed[CFP_PATH_MAX]; /* --compare: the processed-output directory */
    int verbose;
    enum cfp_workload_set workload_set;
    const char *workloads_dir;
    int workers, concurrency; /* 0 = the mode's default */
    double grace_s;           /* --grace: see cfp_stop.h */
    int per_host;             /* --per-host-connections, 0 = none */
    struct cfp_gen_opts gen;
    struct cfp_run_cfg run_cfg;
    const char *output_dir, *results, *report;
    char output_buf[CFP_PATH_MAX], report_buf[CFP_PATH_MAX];
};


/* Generates the dataset of o and its manifest; an exit status. */
int cfp_cmd_generate(struct opts *o, struct cfp_status *st);
/* Progress callback of the generator (ctx: a bool *quiet). */
void cfp_cmd_gen_progress(void *ctx, unsigned done, unsigned total);

/* --mode mpi / multiprocessing; an exit status. Without MPI: a usage error
 * that says MPI is not built. */
int cfp_cmd_mpi(struct opts *o, int argc, char **argv);

#ifdef CFP_WITH_MPI
/* `mpirun -np N cfp --compare`: local modes on rank 0, then the matrix. */
int cfp_cmd_compare_matrix(struct opts *o, struct cfp_compare_cfg *cc);
/* The comparison's multiprocessing row (a cfp_compare_extra_fn; ctx: o). */
cfp_err cfp_cmd_spawn_multiprocessing(void *ctx, const struct cfp_run_cfg *base,
                                      const char *label, const char *dataset_dir, int latency_ms,
                                      bool *failed, struct cfp_status *st);
#endif

#endif
