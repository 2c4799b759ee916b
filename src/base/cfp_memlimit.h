/* cfp_memlimit.h - how much memory this process may use: its default
 * memory budget.
 *
 * The machine's RAM is not what a process was given: a cgroup limit (docker
 * --memory, systemd MemoryMax=, Kubernetes limits, Slurm's task/cgroup)
 * kills it with the OOM killer long before, and a Slurm job that asked for
 * --mem or --mem-per-cpu is held to that. The budget here is the smallest of
 *   - the memory limit of the process's cgroup and of every ancestor (v1
 *     memory.limit_in_bytes, where values from 2^62 up mean unlimited; v2
 *     memory.max, where "max" does),
 *   - Slurm's memory for this job on this node: SLURM_MEM_PER_NODE (MB), or
 *     else SLURM_MEM_PER_CPU (MB) times the CPUs it was given there
 *     (SLURM_CPUS_ON_NODE when set, else the caller's count),
 *   - 80 % of MemAvailable in /proc/meminfo (the rest is left to the page
 *     cache and to other processes),
 * or 0 when none of them is known. Read once per process and cached.
 * Under MPI, mpi/ divides it among the ranks of one node
 * (cfp_mpi_mem_share(), doc/limits.md). */
#ifndef CFP_MEMLIMIT_H
#define CFP_MEMLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"

/* Where the budget came from: the limit that was the smallest. */
enum cfp_memlimit_source {
    CFP_MEMLIMIT_NONE, /* nothing known: bytes is 0 */
    CFP_MEMLIMIT_CGROUP,
    CFP_MEMLIMIT_SLURM,
    CFP_MEMLIMIT_AVAILABLE,
};

struct cfp_memlimit {
    uint64_t bytes;         /* the budget: the smallest below; 0 = unknown */
    uint64_t cgroup;        /* tightest cgroup limit; 0 = none */
    uint64_t slurm;         /* Slurm's memory for the job on this node; 0 = none */
    uint64_t available;     /* 80 % of MemAvailable; 0 = unknown */
    uint64_t mem_available; /* MemAvailable itself, for messages; 0 = unknown */
    int slurm_cpus;         /* CPUs SLURM_MEM_PER_CPU was multiplied by; 0 = not used */
    /* What gave the budget: "memory.limit_in_bytes", "memory.max",
     * "SLURM_MEM_PER_NODE", "SLURM_MEM_PER_CPU", "MemAvailable", or "" for
     * none; a static string. */
    const char *origin;
    enum cfp_memlimit_source source;
};

/* This process's budget, read on the first call (thread-safe,
 * pthread_once) with cpus = cfp_cpus_count() (used only for
 * SLURM_MEM_PER_CPU without SLURM_CPUS_ON_NODE); valid for the process's
 * life. */
const struct cfp_memlimit *cfp_memlimit_get(void);

/* "none", "cgroup", "slurm", "available"; never NULL. */
const char *cfp_memlimit_source_name(enum cfp_memlimit_source s);

/* Logs "memory budget 384 MiB (cgroup memory.limit_in_bytes), 19.2 GiB
 * available" at INFO, once per process. */
void cfp_memlimit_log(void);

/* Reads everything again, without the cache: the cgroup files and
 * proc/meminfo under root ("" or NULL = "/"; tests pass a directory holding
 * proc/self/cgroup, proc/meminfo and sys/fs/cgroup/...) and the Slurm
 * variables of the real environment. cpus: the CPUs this process was given
 * (cfp_cpus_count()), the multiplier of SLURM_MEM_PER_CPU when
 * SLURM_CPUS_ON_NODE is unset or invalid (Slurm grants MEM_PER_CPU per
 * allocated CPU, and SLURM_CPUS_ON_NODE counts them on this node); values
 * below 1 count as 1. */
void cfp_memlimit_detect(const char *root, int cpus, struct cfp_memlimit *out);

/* The tightest memory limit of the cgroups root/proc/self/cgroup names,
 * walking up to each hierarchy's root, in bytes; 0 when there is none.
 * *origin (may be NULL) is set to "memory.limit_in_bytes", "memory.max" or
 * "" for none. */
uint64_t cfp_memlimit_cgroup(const char *root, const char **origin);

/* Parses a size: a whole number of bytes with an optional suffix K, M, G
 * or T (powers of 1024, any case), itself optionally followed by "B" or
 * "iB" ("512", "64M", "2GiB", "1kb", "100B"). "0" is valid (callers give it
 * their own meaning). CFP_ERR_USAGE, *out untouched, for anything else:
 * empty, a sign, spaces, a fraction, another suffix, over UINT64_MAX. */
cfp_err cfp_memlimit_parse(const char *s, uint64_t *out);

/* One rank's share when ranks_on_node ranks divide bytes: bytes / ranks
 * (ranks below 1 count as 1); 0 stays 0 (no budget). */
uint64_t cfp_memlimit_share(uint64_t bytes, int ranks_on_node);

/* Writes bytes as "384 MiB", "19.2 GiB", "512 B" into buf (always
 * NUL-terminated); returns buf. */
char *cfp_memlimit_format(uint64_t bytes, char *buf, size_t size);

/* Writes where m's budget came from into buf (always NUL-terminated):
 * "cgroup memory.limit_in_bytes", "cgroup memory.max", "Slurm
 * SLURM_MEM_PER_NODE", "Slurm SLURM_MEM_PER_CPU x 4 CPUs", "80% of
 * MemAvailable", or for none "no cgroup limit, Slurm memory or
 * MemAvailable"; returns buf. */
char *cfp_memlimit_describe(const struct cfp_memlimit *m, char *buf, size_t size);

/* Test hook: the next cfp_memlimit_get() reads again (root as for
 * cfp_memlimit_detect()). Not safe while other threads call
 * cfp_memlimit_get(). */
void cfp_memlimit_reload(const char *root);

#endif
