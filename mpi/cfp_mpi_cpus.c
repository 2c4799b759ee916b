/* cfp_mpi_cpus.c - each rank's share of its node's CPUs.
 *
 * cfp_cpus_count() is what this process may use. Ranks on one node that
 * were given the same CPUs (mpirun without binding, or bound to a socket;
 * srun without task/affinity) would each size their pools for all of
 * them: 64 ranks on a 64-core node, 64 x 8 threads per rank. The rule: a
 * rank's count is divided among the node-local ranks whose affinity masks
 * overlap its own, itself included. Ranks given disjoint masks (mpirun
 * --bind-to core, srun --cpus-per-task with task/affinity or task/cgroup)
 * already have their own CPUs in their count and are not divided again;
 * partly overlapping masks count as sharing (the safe side: fewer threads,
 * never more than the CPUs). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC */
#include "mpi/cfp_mpi_internal.h"

#include <sched.h>
#include <stdbool.h>
#include <string.h>

#include "base/cfp_cpus.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"

/* Mask bits compared between ranks; CPUs beyond them are not compared
 * (such a rank counts as sharing with every other). */
#define SHARE_MASK_CPUS 4096

/* Fills mask (size bytes) with this process's affinity; all bits set when
 * it cannot be read, so it overlaps every other rank's. */
static void own_mask(cpu_set_t *mask, size_t size)
{
    if (sched_getaffinity(0, size, mask) != 0)
        memset(mask, 0xff, size);
}

static bool overlap(const unsigned char *a, const unsigned char *b, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (a[i] & b[i])
            return true;
    return false;
}

/* Among the ranks of node whose masks overlap this one's: how many
 * (*sharing, itself included) and how many of them come before it (*pos).
 * Collective over node. */
static void count_sharing(MPI_Comm node, int *sharing, int *pos)
{
    size_t size = CPU_ALLOC_SIZE(SHARE_MASK_CPUS);
    cpu_set_t *mine = CPU_ALLOC(SHARE_MASK_CPUS);
    unsigned char *all = NULL;
    int nrank, nsize, have, everyone = 0;

    MPI_Comm_rank(node, &nrank);
    MPI_Comm_size(node, &nsize);
    if (mine)
        all = cfp_calloc((size_t)nsize, size);
    have = mine && all;
    /* One rank without memory: every rank skips the gather alike. */
    MPI_Allreduce(&have, &everyone, 1, MPI_INT, MPI_MIN, node);
    *sharing = nsize, *pos = nrank; /* without masks: every rank shares */
    if (everyone) {
        CPU_ZERO_S(size, mine);
        own_mask(mine, size);
        MPI_Allgather(mine, (int)size, MPI_BYTE, all, (int)size, MPI_BYTE, node);
        *sharing = *pos = 0;
        for (int j = 0; j < nsize; j++)
            if (overlap(all + (size_t)nrank * size, all + (size_t)j * size, size)) {
                (*sharing)++;
                *pos += j < nrank;
            }
    }
    cfp_free(all);
    if (mine)
        CPU_FREE(mine);
}

int cfp_mpi_cpu_share(MPI_Comm comm)
{
    const struct cfp_cpus *c = cfp_cpus_get();
    int sharing = 1, pos = 0, share;
    MPI_Comm node;

    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    count_sharing(node, &sharing, &pos);
    MPI_Comm_free(&node);
    /* The first count % sharing ranks get one more, so that ranks with the
     * same mask add up to exactly what they were given. */
    share = c->count / sharing + (pos < c->count % sharing ? 1 : 0);
    share = share < 1 ? 1 : share;
    cfp_log(CFP_LOG_INFO,
            "%d CPU%s for this rank: %d available (%s), %d online, shared by %d rank%s "
            "on this node",
            share, share == 1 ? "" : "s", c->count, cfp_cpus_source_name(c->source), c->online,
            sharing, sharing == 1 ? "" : "s");
    return share;
}
