/* cfp_cpus.h - how many CPUs this process may use.
 *
 * sysconf(_SC_NPROCESSORS_ONLN) counts the machine's CPUs, not the ones a
 * process was given: under `taskset`, Slurm or a container CPU limit, pools
 * sized from it oversubscribe what the process may run on. The count here
 * is the smallest of
 *   - the CPUs of the affinity mask (sched_getaffinity: taskset, numactl,
 *     mpirun --bind-to, Slurm's task/affinity and task/cgroup cpusets),
 *   - the CPU quota of the process's cgroup and of every ancestor, rounded
 *     up (v1 cpu.cfs_quota_us / cpu.cfs_period_us, v2 cpu.max: docker
 *     --cpus, systemd CPUQuota=, Kubernetes limits),
 *   - the online CPUs,
 * and at least 1. Read once per process and cached; every default that
 * depends on cores (engines, the report, --mode multiprocessing) uses it.
 * Under MPI, mpi/ divides it among the ranks of one node that share CPUs
 * (doc/mpi.md). */
#ifndef CFP_CPUS_H
#define CFP_CPUS_H

/* Where the count came from: the limit that was the smallest. */
enum cfp_cpus_source { CFP_CPUS_ONLINE, CFP_CPUS_AFFINITY, CFP_CPUS_CGROUP };

struct cfp_cpus {
    int count;    /* CPUs this process may use, >= 1 */
    int online;   /* sysconf(_SC_NPROCESSORS_ONLN), >= 1 */
    int affinity; /* CPUs in the affinity mask; 0 = unknown */
    int quota;    /* tightest cgroup quota in CPUs, rounded up; 0 = no quota */
    enum cfp_cpus_source source;
};

/* This process's CPUs, read on the first call (thread-safe, pthread_once);
 * valid for the process's life. */
const struct cfp_cpus *cfp_cpus_get(void);

/* cfp_cpus_get()->count. */
int cfp_cpus_count(void);

/* "online", "affinity", "cgroup"; never NULL. */
const char *cfp_cpus_source_name(enum cfp_cpus_source s);

/* Logs "N CPUs available (source), M online" at INFO, once per process. */
void cfp_cpus_log(void);

/* Reads everything again, without the cache: the cgroup files under root
 * ("" or NULL = "/"; tests pass a directory holding proc/self/cgroup and
 * sys/fs/cgroup/...), the affinity and online counts of this process. */
void cfp_cpus_detect(const char *root, struct cfp_cpus *out);

/* The tightest CPU quota of the cgroups the file root/proc/self/cgroup
 * names, walking up to each hierarchy's root, rounded up to whole CPUs;
 * 0 when there is none (quota -1 or "max", files missing or unreadable). */
int cfp_cpus_cgroup_quota(const char *root);

/* Test hook: the next cfp_cpus_get() reads again (root as for
 * cfp_cpus_detect()). Not safe while other threads call cfp_cpus_get(). */
void cfp_cpus_reload(const char *root);

#endif
