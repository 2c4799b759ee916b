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

#include <mpi.h>

#include "engine/cfp_engine.h"
#include "run/cfp_run.h" /* struct cfp_mpi_opts: parsed in every build */

#define CFP_MPI_HEARTBEAT_S 1.0

/* True when this process was started by an MPI launcher (mpirun, srun). */
bool cfp_mpi_under_launcher(void);

/* Runs cfg (mode mpi, cfg->rank_engine on every rank) on MPI_COMM_WORLD;
 * initialises and finalises MPI. Every rank calls it with the same cfg.
 * On rank 0, stats holds the run's counts and *is_root is true. Returns an
 * error when the run could not be carried out (st says why, on rank 0). */
cfp_err cfp_mpi_main(const struct cfp_run_cfg *cfg, const struct cfp_mpi_opts *mo,
                     struct cfp_engine_stats *stats, bool *is_root, struct cfp_status *st);

/* The same in three steps, for callers that run several MPI jobs in one
 * launch (the --compare matrix): cfp_mpi_init() initialises MPI and returns
 * a private duplicate of MPI_COMM_WORLD; cfp_mpi_run() runs one job on comm
 * (its rank 0 is the root; ranks outside comm do not call it);
 * cfp_mpi_finalize() frees comm and finalises MPI. */
cfp_err cfp_mpi_init(MPI_Comm *comm, int *rank, int *size, struct cfp_status *st);
cfp_err cfp_mpi_run(MPI_Comm comm, const struct cfp_run_cfg *cfg, const struct cfp_mpi_opts *mo,
                    struct cfp_engine_stats *stats, struct cfp_status *st);
void cfp_mpi_finalize(MPI_Comm *comm);

/* Waits until every rank of comm arrives, without spinning a core (a
 * non-blocking barrier tested every millisecond): ranks that wait while
 * another measures a run must not steal its CPU. */
void cfp_mpi_idle_barrier(MPI_Comm comm);

/* Leaves seconds of rank 0's own work before MPI_Init (generating the
 * dataset) out of the job's recorded start-up (cfp_mpi_startup.c). */
void cfp_mpi_startup_exclude(double seconds);

/* `--mode multiprocessing` from a plain shell: re-executes this program
 * under `mpirun -np ranks` with the same arguments. Returns only when that
 * cannot be done (the message is in st). */
cfp_err cfp_mpi_relaunch(int argc, char **argv, int ranks, struct cfp_status *st);

#endif
