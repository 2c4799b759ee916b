/* cfp_cli_internal.h - private to src/cli: the processing command's options
 * and the helpers the subcommands share. */
#ifndef CFP_CLI_INTERNAL_H
#define CFP_CLI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cfp_cli.h"
#include "lab/cfp_gen.h"
#include "run/cfp_compare.h"
#include "run/cfp_run.h"

#define CFP_CLI_DATASET_DIR "data/test_dataset"
#define CFP_CLI_PROCESSED   "data/processed"

struct cfp_cli_opts {
    bool generate, run, quiet, compare, latency_given, multiprocessing, no_report;
    const char *label;
    struct cfp_mpi_opts mpi;
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

/* cfp_cli_opts.c */

/* cfp_cli_opts_parse() found options to act on (no exit status yet). */
#define CFP_CLI_PARSED (-1)

/* Parses the processing command's line into *o (its strings point into
 * argv) and checks that the options go together. Returns CFP_CLI_PARSED,
 * or the exit status when the command ends here: OK after --help or
 * --version, USAGE after a bad option (the message printed). */
int cfp_cli_opts_parse(struct cfp_cli_opts *o, int argc, char **argv);

/* cfp_cli_usage.c */

/* Prints the usage text on stdout; returns CFP_EXIT_OK. */
int cfp_cli_help(void);

/* cfp_cli.c */

/* Parses an unsigned integer in [min, max] with an optional K/M/G suffix
 * (powers of 1024) when allow_suffix; false (and a message on stderr naming
 * option) when s is not one. */
bool cfp_cli_u64(const char *option, const char *s, uint64_t min, uint64_t max, bool allow_suffix,
                 uint64_t *out);

/* Parses a non-negative decimal number of seconds in [min, max]. */
bool cfp_cli_seconds(const char *option, const char *s, double min, double max, double *out);

/* Prints "cfp: <msg>" and a hint to stderr and returns CFP_EXIT_USAGE. */
int cfp_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct cfp_engine_stats;

/* Prints the run's one-line summary (unless quiet) and returns its exit
 * status: STOPPED after a stop request (cfp_stop.h), else FAILED when a
 * task failed, else OK. */
int cfp_cli_run_exit(const struct cfp_engine_stats *s, const char *results, const char *report,
                     bool quiet);

/* The default report of a results file: performance_report.txt in its
 * directory, written into buf; NULL when it does not fit. */
const char *cfp_cli_report_beside(const char *results, char *buf, size_t size);

/* cfp_cli_generate.c */

/* Generates the dataset of o and its manifest; an exit status (the message
 * printed). */
int cfp_cli_generate(struct cfp_cli_opts *o, struct cfp_status *st);

/* cfp_cli_compare.c */

/* Fills *cc for the comparison o asks for (no extra row); sets o->processed,
 * which cc->processed_dir points to: cc is valid while o is. */
void cfp_cli_compare_cfg(struct cfp_cli_opts *o, struct cfp_compare_cfg *cc);

/* Runs the comparison cc on this process (with cc's extra row, if any),
 * prints its verdict; an exit status. */
int cfp_cli_compare_run(const struct cfp_cli_opts *o, const struct cfp_compare_cfg *cc);

#endif
