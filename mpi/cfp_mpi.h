/* cfp_mpi.h - the distribution layer: rank 0 hands out file work to ranks
 * that each run a local engine; one HDF5 result.
 *
 * The engines stay unaware of MPI. On a worker rank the task source and the
 * result sink are messages to and from rank 0 (cfp_mpi_worker.c); rank 0
 * (cfp_mpi_root.c) owns the URL list and the HDF5 writer, answers work
 * requests (self-scheduling: workers ask before they run dry, batches shrink
 * as the list runs out) and collects records. By default rank 0 also runs an
 * engine on its own share of the work. */
#ifndef CFP_MPI_H
#define CFP_MPI_H

#include <stdbool.h>

#include "cfp_engine.h"
#include "cfp_run.h"

struct cfp_mpi_opts {
    bool rank0_works;     /* rank 0 also processes tasks (default: yes) */
    double rank_timeout_s; /* a worker silent this long (no heartbeat) ends the run */
};

#define CFP_MPI_RANK_TIMEOUT_DEFAULT 30.0
#define CFP_MPI_HEARTBEAT_S          1.0

/* True when this process was started by an MPI launcher (mpirun, srun). */
bool cfp_mpi_under_launcher(void);

/* Runs cfg (mode mpi, cfg->rank_engine on every rank) on MPI_COMM_WORLD;
 * initialises and finalises MPI. Every rank calls it with the same cfg.
 * On rank 0, stats holds the run's counts and *is_root is true. Returns an
 * error when the run could not be carried out (st says why, on rank 0). */
cfp_err cfp_mpi_main(const struct cfp_run_cfg *cfg, const struct cfp_mpi_opts *mo,
                     struct cfp_engine_stats *stats, bool *is_root, struct cfp_status *st);

/* `--mode multiprocessing` from a plain shell: re-executes this program
 * under `mpirun -np ranks` with the same arguments. Returns only when that
 * cannot be done (the message is in st). */
cfp_err cfp_mpi_relaunch(int argc, char **argv, int ranks, struct cfp_status *st);

#endif
