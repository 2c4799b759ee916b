/* main.c - the cfp command: process-wide settings, then the command word
 * picks the subcommand (src/cli/, one file each); without one, the
 * processing command `cfp [OPTIONS]`; a word naming no command is an
 * error. */
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "cli/cfp_cli.h"

/* The MPI commands (src/cli/cfp_cli_mpi.c) and the MPI version of
 * --version (cfp_cli_mpi_version.c) are linked only WITH_MPI, and
 * CFP_WITH_MPI is defined only for this executable, not for the core
 * library that holds the rest of src/cli: the choice is made here, once.
 * Without them the processing command gets NULL, its one fallback. */
#ifdef CFP_WITH_MPI
#define MAIN_MPI_CMDS    cfp_cli_mpi
#define MAIN_MPI_VERSION cfp_cli_mpi_version
#else
#define MAIN_MPI_CMDS    NULL
#define MAIN_MPI_VERSION NULL
#endif

static const struct main_cmd {
    const char *word;
    int (*run)(int argc, char **argv); /* gets argv from the command word on */
} main_cmds[] = {
    {"serve", cfp_cli_serve},
    {"merge", cfp_cli_merge},
    {"report", cfp_cli_report},
    {"export", cfp_cli_export},
    {"generate-image", cfp_cli_generate_image},
    {"help", cfp_cli_help_command},
};

int main(int argc, char **argv)
{
    /* Over a file-size limit (ulimit -f, RLIMIT_FSIZE) a write must fail
     * with EFBIG, failing that task, instead of SIGXFSZ killing the run. */
    signal(SIGXFSZ, SIG_IGN);
    /* Bodies and images are large, short-lived buffers freed on another
     * thread than the one that allocated them. glibc raises its mmap
     * threshold after such frees and then serves them from per-thread
     * arenas, which fragment: a 40,000-task soak grew by 55 MB. A fixed
     * threshold keeps every buffer over 256 KB in its own mapping, returned
     * to the system when freed. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    /* Fixing the mmap threshold also fixes the trim threshold at 128 KB:
     * every image's encoder state (zlib's ~300 KB, freed at the end of the
     * encode) was handed back with madvise and faulted in again for the
     * next image, and in a threaded run each such call flushes the other
     * cores' TLBs. 4 MB of free heap top kept per arena ends that: 60
     * photos 5-9 % faster in every mode. */
    mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
    for (size_t i = 0; argc > 1 && i < sizeof(main_cmds) / sizeof(main_cmds[0]); i++)
        if (strcmp(argv[1], main_cmds[i].word) == 0)
            return main_cmds[i].run(argc - 1, argv + 1);
    /* The processing command takes options only: a first word that is no
     * option is a misspelt command ("cfp serv"). */
    if (argc > 1 && argv[1][0] != '-')
        return cfp_cli_unknown_command(argv[1]);
    return cfp_cli_process(argc, argv, MAIN_MPI_CMDS, MAIN_MPI_VERSION);
}
