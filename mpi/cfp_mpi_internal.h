/* cfp_mpi_internal.h - private to mpi/: the message protocol.
 *
 * Every message travels on a duplicate of the job's communicator, so cfp's
 * traffic cannot match anyone else's. Tasks and records are sent as the raw
 * bytes of their flat structs: every rank runs the same binary on the same
 * architecture (the usual MPI job; documented in doc/mpi.md). */
#ifndef CFP_MPI_INTERNAL_H
#define CFP_MPI_INTERNAL_H

#include <mpi.h>
#include <stdint.h>

#include "mpi/cfp_mpi.h"
#include "task/cfp_record.h"

enum cfp_mpi_tag {
    CFP_TAG_REQUEST = 101, /* worker -> 0: int32[3] {wanted, in hand, engine waiting now} */
    CFP_TAG_TASKS,         /* 0 -> worker: one reply byte (below), then packed tasks */
    CFP_TAG_RECORDS,       /* worker -> 0: struct cfp_record[n] */
    CFP_TAG_HEARTBEAT,     /* worker -> 0: empty, every CFP_MPI_HEARTBEAT_S */
    CFP_TAG_FINAL          /* worker -> 0: struct cfp_mpi_final, its last message */
};

/* The first byte of a TAG_TASKS reply. LATER is the end-of-run rule: when
 * fewer tasks are left than there are ranks, a rank that still holds work
 * gets none, so the last tasks go to idle ranks instead of queueing behind a
 * long one (a single huge file does not stall the end of the run). */
enum cfp_mpi_reply { CFP_REPLY_TASKS = 'T', CFP_REPLY_DONE = 'D', CFP_REPLY_LATER = 'L' };

/* Most tasks in one TAG_TASKS message, records in one TAG_RECORDS message. */
#define CFP_MPI_MAX_BATCH   64
#define CFP_MPI_RECORD_BATCH 16
#define CFP_MPI_RECORD_FLUSH_S 0.25

struct cfp_mpi_final {
    int64_t tasks;      /* records this rank produced */
    double busy_s;      /* engine wall time minus time spent waiting for work */
    double cpu_user_s, cpu_sys_s; /* this rank's CPU time during the run */
    uint64_t mem_peak;  /* the most image memory its budget had charged at once */
    int32_t err;        /* cfp_err: a fatal error on that rank, 0 if none */
    char msg[CFP_MSG_MAX];
};

/* Tasks travel packed: per task the int64 index, a flag byte (0; 1 =
 * truncated; 0x80 | the control byte of a malformed line, whose uint16
 * column then follows the URL: see cfp_mpi.c), the uint16 URL length, then
 * the URL bytes (typically ~80 bytes a task instead of the struct's 4 KB).
 * A malformed line's URL stops before its control byte, so its two extra
 * bytes fit: CFP_MPI_PACKED_MAX(n) bounds n tasks. */
#define CFP_MPI_PACKED_MAX(n) (1 + (size_t)(n) * (8 + 1 + 2 + CFP_URL_MAX))

/* Packs n tasks into out (at least CFP_MPI_PACKED_MAX(n) bytes); returns
 * the bytes used. */
size_t cfp_mpi_pack_tasks(const struct cfp_task *t, int n, unsigned char *out);

/* Unpacks up to max tasks from in[0..len); returns how many, or -1 when the
 * bytes are not a packed task list. */
int cfp_mpi_unpack_tasks(const unsigned char *in, size_t len, struct cfp_task *out, int max);

/* Runs a worker rank: its engine with the MPI source and sink. */
cfp_err cfp_mpi_worker_run(MPI_Comm comm, const struct cfp_run_cfg *cfg, struct cfp_status *st);

struct cfp_mpi_startup; /* below */

/* Runs rank 0: dispatcher, collector and (optionally) a local engine. */
/* This rank's share of --per-host-connections (per_host) among the ranks
 * that fetch (all, or all but rank 0): the shares add up to per_host. */
int cfp_mpi_per_host_share(int per_host, int size, int rank, bool rank0_works);

/* hosts: every rank's host name (size entries, read only; for messages).
 * su: the job's start-up, recorded with the run (NULL: none, as for the
 * runs of the --compare matrix, which share one start-up). */
cfp_err cfp_mpi_root_run(MPI_Comm comm, const struct cfp_run_cfg *cfg,
                         const struct cfp_mpi_opts *mo, const char (*hosts)[CFP_HOST_MAX],
                         const struct cfp_mpi_startup *su, struct cfp_engine_stats *stats,
                         struct cfp_status *st);

/* This rank's CPUs: its own count (cfp_cpus_count()) divided among the
 * ranks on its node whose affinity masks overlap its own (cfp_mpi_cpus.c
 * says why), at least 1; logged at INFO. Collective over comm. */
int cfp_mpi_cpu_share(MPI_Comm comm);

/* This rank's memory budget in bytes: its own (cfp_memlimit_get()->bytes,
 * the node's or the job's on the node) divided among all the ranks on its
 * node (cfp_mpi_mem.c says why); 0 when no budget is known. Logged at INFO.
 * Collective over comm. */
uint64_t cfp_mpi_mem_share(MPI_Comm comm);

/* What starting the job cost, gathered on rank 0 (cfp_mpi_startup.c).
 * Times are CLOCK_REALTIME seconds; 0 = unknown. */
struct cfp_mpi_startup {
    double launch;                  /* cfp_mpi_relaunch() started mpirun; 0: not launched by cfp */
    double first_start, last_start; /* the first and the last rank's process start */
    double load_s;                  /* longest time from a rank's start to its MPI_Init call */
    double init_s;                  /* longest MPI_Init_thread */
    double ready;                   /* the last return from MPI_Init_thread */
    double excluded_s;              /* rank 0's work before MPI_Init (generating the dataset) */
};

/* cfp_mpi_relaunch(), just before it starts mpirun: notes the time in the
 * environment mpirun hands to the ranks. */
void cfp_mpi_startup_mark_launch(void);

/* MPI_Init_thread(NULL, NULL, required, provided), timed, with the two
 * start-up cuts of cfp_mpi_startup.c (OMPI_MCA_pml=ob1 unless set; Nagle off
 * on the PMIx connection). Returns MPI_Init_thread's code. */
int cfp_mpi_startup_init(int required, int *provided);

/* Collective over comm: the ranks' start-up timing, into *su on rank 0. */
void cfp_mpi_startup_gather(MPI_Comm comm, struct cfp_mpi_startup *su);

/* Rank 0, once its run is open (run_t0: its cfp_now() start): sets
 * info->mpi_startup_s, the seconds from the launch to the last rank's
 * return from MPI_Init, and logs where they went (INFO). Leaves it 0 when
 * they cannot be known. */
void cfp_mpi_startup_record(const struct cfp_mpi_startup *su, double run_t0,
                            struct cfp_run_info *info);

/* How many tasks a rank asks for at a time: enough to keep its engine busy
 * while the next batch is on its way. */
int cfp_mpi_want(const struct cfp_run_cfg *cfg);

#endif
