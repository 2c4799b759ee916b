/* cfp_cli.h - command-line parsing helpers shared by the subcommands. */
#ifndef CFP_CLI_H
#define CFP_CLI_H

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses (documented in README). */
enum {
    CFP_EXIT_OK = 0,     /* every task succeeded */
    CFP_EXIT_FAILED = 1, /* some tasks failed; the others completed */
    CFP_EXIT_USAGE = 2,  /* bad command line */
    CFP_EXIT_FATAL = 3,  /* the run could not be carried out */
    CFP_EXIT_DIFFER = 4, /* --compare: the modes' outputs differ */
    CFP_EXIT_STOPPED = 5 /* stopped by a signal before the end; --resume finishes */
};

/* Parses an unsigned integer in [min, max] with an optional K/M/G suffix
 * (powers of 1024) when allow_suffix; false (and a message on stderr naming
 * option) when s is not one. */
bool cfp_cli_u64(const char *option, const char *s, uint64_t min, uint64_t max,
                 bool allow_suffix, uint64_t *out);

/* Parses a non-negative decimal number of seconds in [min, max]. */
bool cfp_cli_seconds(const char *option, const char *s, double min, double max, double *out);

struct cfp_engine_stats;

/* Prints the run's one-line summary (unless quiet) and returns its exit
 * status: STOPPED after a stop request (cfp_stop.h), else FAILED when a
 * task failed, else OK. */
int cfp_cli_run_exit(const struct cfp_engine_stats *s, const char *results, const char *report,
                     bool quiet);

/* Prints "cfp: <msg>" and a hint to stderr and returns CFP_EXIT_USAGE. */
int cfp_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
