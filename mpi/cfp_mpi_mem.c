/* cfp_mpi_mem.c - each rank's share of its node's memory budget.
 *
 * cfp_memlimit_get() is what this process may use, but it is the node's
 * (or the job's on this node): MemAvailable is the machine's, Slurm's
 * --mem and --mem-per-cpu are per node, and the job's cgroup holds all of
 * its ranks there. Ranks that each sized their buffers by it would together
 * ask for N times what the node allows, and the OOM killer would pick one.
 * The rule, as for the CPUs (cfp_mpi_cpus.c): a rank's budget is divided
 * among the ranks of its node (MPI_COMM_TYPE_SHARED), itself included.
 * Memory has no affinity mask, so every node-local rank counts as sharing;
 * ranks in separate containers, each with its own limit, are divided
 * anyway (the safe side: smaller buffers, never more than allowed). */
#include "mpi/cfp_mpi_internal.h"

#include "base/cfp_log.h"
#include "base/cfp_memlimit.h"

uint64_t cfp_mpi_mem_share(MPI_Comm comm)
{
    const struct cfp_memlimit *m = cfp_memlimit_get();
    char share_s[32], budget_s[32], how[96];
    uint64_t share;
    int sharing = 1;
    MPI_Comm node;

    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &sharing);
    MPI_Comm_free(&node);
    share = cfp_memlimit_share(m->bytes, sharing);
    cfp_memlimit_describe(m, how, sizeof(how));
    if (share == 0)
        cfp_log(CFP_LOG_INFO, "no memory budget for this rank (%s)", how);
    else
        cfp_log(CFP_LOG_INFO,
                "memory budget %s for this rank: %s (%s) shared by %d rank%s on this node",
                cfp_memlimit_format(share, share_s, sizeof(share_s)),
                cfp_memlimit_format(m->bytes, budget_s, sizeof(budget_s)), how, sharing,
                sharing == 1 ? "" : "s");
    return share;
}
