/* cfp_cli_mpi_version.c - the MPI library's version for `cfp --version`.
 * Built, like cfp_cli_mpi.c, only WITH_MPI into the executable: main.c
 * hands cfp_cli_mpi_version to cfp_cli_process(), so the core library never
 * links MPI. */
#include "cli/cfp_cli.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

const char *cfp_cli_mpi_version(void)
{
    /* MPI-3 allows both calls before MPI_Init (and after MPI_Finalize):
     * --version starts no MPI runtime. */
    static char line[MPI_MAX_LIBRARY_VERSION_STRING + 32];
    char lib[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0, major = 0, minor = 0;

    if (MPI_Get_library_version(lib, &len) != MPI_SUCCESS)
        (void)snprintf(lib, sizeof(lib), "unknown library");
    lib[strcspn(lib, "\n")] = '\0'; /* MPICH's runs over several lines */
    if (MPI_Get_version(&major, &minor) != MPI_SUCCESS)
        major = minor = 0;
    (void)snprintf(line, sizeof(line), "%s (MPI standard %d.%d)", lib, major, minor);
    return line;
}
