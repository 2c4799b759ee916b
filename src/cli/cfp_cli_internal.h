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
    bool silent;              /* -qq: no failure lines, no summary */
    int argc;                 /* the command line, for the summary's --resume command */
    char **argv;
    struct cfp_joblog joblog; /* run_cfg.joblog points here */
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
 * --version (mpi_version, NULL without MPI, gives its MPI line), USAGE
 * after a bad option (the message printed). */
int cfp_cli_opts_parse(struct cfp_cli_opts *o, int argc, char **argv,
                       cfp_cli_mpi_version_fn *mpi_version);

/* cfp_cli_usage.c */

/* Prints the global help on stdout; returns CFP_EXIT_OK. */
int cfp_cli_help(void);

/* Prints the help of the subcommand cmd ("serve") on stdout, the global
 * help for an unknown cmd; returns CFP_EXIT_OK. */
int cfp_cli_cmd_help(const char *cmd);

/* cfp_cli_version.c */

/* Prints cfp's version and those of the libraries it runs with, one per
 * line, on stdout (the first line "cfp X.Y.Z"); returns CFP_EXIT_OK. */
int cfp_cli_version(cfp_cli_mpi_version_fn *mpi_version);

/* cfp_cli.c */

/* Parses an unsigned integer in [min, max]; with allow_suffix, a size as
 * cfp_memlimit_parse() reads it (K/M/G/T suffix, powers of 1024, optional
 * B or iB). false (and a message on stderr naming option) when s is not
 * one. */
bool cfp_cli_u64(const char *option, const char *s, uint64_t min, uint64_t max, bool allow_suffix,
                 uint64_t *out);

/* Parses a non-negative decimal number of seconds in [min, max]. */
bool cfp_cli_seconds(const char *option, const char *s, double min, double max, double *out);

/* Prints "cfp: <msg>" and the line "Try 'cfp --help' for more
 * information." to stderr and returns CFP_EXIT_USAGE. */
int cfp_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same for the subcommand cmd ("serve"): "cfp: serve: <msg>" and
 * "Try 'cfp serve --help' ..."; cmd NULL is cfp_cli_usage_error(). */
int cfp_cli_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct option;

/* After getopt_long(argc, argv, shortopts, longopts, NULL) returned '?'
 * with opterr = 0 (so getopt printed nothing): prints one line saying what
 * was wrong (an unknown option and the closest valid one of longopts, an
 * ambiguous prefix, a missing or unwanted argument) and the Try line of cmd
 * (NULL: the processing command). Returns CFP_EXIT_USAGE. */
int cfp_cli_bad_option(const char *cmd, char *const *argv, const char *shortopts,
                       const struct option *longopts);

/* The name of the NULL-terminated names closest to word, or NULL when none
 * is close enough to be the one meant (cfp_cli.c says how close). */
const char *cfp_cli_closest(const char *word, const char *const *names);

struct cfp_engine_stats;

/* Prints the run's one-line summary (unless quiet) and returns its exit
 * status: STOPPED after a stop request (cfp_stop.h), else FAILED when a
 * task failed, else OK. */
int cfp_cli_run_exit(const struct cfp_engine_stats *s, const char *results, const char *report,
                     bool quiet);

/* The processing command's end of a run: the summary (unless -qq): the
 * line of cfp_cli_run_exit(), then when tasks failed their counts by error
 * class, the bytes moved, the output dir and the --resume command that
 * finishes the run. Returns the exit status as cfp_cli_run_exit() does. */
int cfp_cli_run_end(const struct cfp_cli_opts *o, const struct cfp_engine_stats *s);

/* The default report of a results file, in its directory and named after
 * it (r1.h5 -> r1.report.txt; results.h5 -> performance_report.txt),
 * written into buf; NULL when it does not fit. */
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
