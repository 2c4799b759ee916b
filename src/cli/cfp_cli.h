/* cfp_cli.h - the command line: one function per subcommand, which main.c
 * picks by the command word, and the exit statuses they return. The files of
 * the module share cfp_cli_internal.h.
 *
 * The MPI commands (cfp_cli_mpi.c) are the only part of src/ that calls
 * mpi/; they are compiled into the cfp executable, only WITH_MPI, never into
 * the core library. The rest reaches them through the one entry that main.c
 * hands to cfp_cli_process(). */
#ifndef CFP_CLI_H
#define CFP_CLI_H

#include <stdbool.h>

#include "run/cfp_run.h" /* struct cfp_mpi_opts */

/* Exit statuses (README, "Exit status"). */
enum {
    CFP_EXIT_OK = 0,     /* every task succeeded */
    CFP_EXIT_FAILED = 1, /* some tasks failed; the others completed */
    CFP_EXIT_USAGE = 2,  /* bad command line */
    CFP_EXIT_FATAL = 3,  /* the run could not be carried out */
    CFP_EXIT_DIFFER = 4, /* --compare: the modes' outputs differ */
    CFP_EXIT_STOPPED = 5 /* stopped by a signal before the end; --resume finishes */
};

/* The parsed options of the processing command (cfp_cli_internal.h). */
struct cfp_cli_opts;

/* The commands that need MPI ranks, given the parsed options o and the
 * command line (which --mode multiprocessing relaunches under mpirun):
 * --mode mpi or multiprocessing, and --compare, which adds the ranks x
 * rank-engine matrix under a launcher and the multiprocessing row
 * otherwise. Returns an exit status. */
typedef int cfp_cli_mpi_fn(struct cfp_cli_opts *o, int argc, char **argv);

/* The cfp_cli_mpi_fn of the MPI commands; defined only WITH_MPI. */
int cfp_cli_mpi(struct cfp_cli_opts *o, int argc, char **argv);

/* The MPI library's version for --version, one line: a static string,
 * never NULL. Called before (and without) MPI_Init. */
typedef const char *cfp_cli_mpi_version_fn(void);

/* The cfp_cli_mpi_version_fn of a build WITH_MPI (cfp_cli_mpi_version.c,
 * built like cfp_cli_mpi.c). */
const char *cfp_cli_mpi_version(void);

/* `cfp [OPTIONS]`: generates the dataset, processes URLs in one mode, or
 * compares the modes. mpi and mpi_version are NULL in a build without MPI:
 * --compare then runs the local modes only, --mode mpi/multiprocessing is a
 * usage error that says MPI is not built, and --version says "MPI: not
 * built". Returns an exit status. */
int cfp_cli_process(int argc, char **argv, cfp_cli_mpi_fn *mpi,
                    cfp_cli_mpi_version_fn *mpi_version);

/* `cfp serve`, `cfp report`, `cfp merge`, `cfp export`, `cfp
 * generate-image` and `cfp help [COMMAND]`; argv[0] is the command word.
 * Each returns an exit status. */
int cfp_cli_serve(int argc, char **argv);
int cfp_cli_generate_image(int argc, char **argv);
int cfp_cli_report(int argc, char **argv);
int cfp_cli_merge(int argc, char **argv);
int cfp_cli_export(int argc, char **argv);
int cfp_cli_help_command(int argc, char **argv);

/* For a first word that names no command: says so, with the closest
 * command word if one is close, and returns CFP_EXIT_USAGE. */
int cfp_cli_unknown_command(const char *word);

#endif
