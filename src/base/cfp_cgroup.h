/* cfp_cgroup.h - the tightest limit a cgroup controller puts on this process
 * (internal to src/base: cfp_cpus and cfp_memlimit read their limits through
 * it).
 *
 * /proc/self/cgroup names the process's cgroup in each hierarchy: v1 lines
 * "N:controller,controller:/path", the v2 (unified) line "0::/path". A limit
 * set on a cgroup applies to its descendants too, so the limit that binds
 * is the smallest one from the process's cgroup up to the hierarchy's root,
 * over every hierarchy the process is in. Each controller says where its
 * v1 hierarchy may be mounted and how to read one directory's limit; the
 * walk, the mount lookup and the /proc/self/cgroup parsing are here, once.
 *
 * Inside a container the path is the host's while the mount shows the
 * container's own cgroup as its root: levels that do not exist under the
 * mount are skipped, so the mount root's limit is still found. */
#ifndef CFP_CGROUP_H
#define CFP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest cgroup directory path handled; longer ones count as "no
 * limit" there. */
#define CFP_CGROUP_PATH 4096

/* Reads one directory's limit: 0 = none (no limit, file missing or
 * unreadable). dir has no trailing slash. */
typedef uint64_t cfp_cgroup_limit_fn(const char *dir);

/* How one controller is found and read. */
struct cfp_cgroup_ctl {
    const char *v1_name; /* its name in /proc/self/cgroup: "cpu", "memory" */
    /* Mount points under /sys/fs/cgroup tried after the one named like the
     * line's controller list ("/cpu,cpuacct" for "4:cpu,cpuacct:/a"), for
     * a line that lists controllers in another order than the mount. */
    const char *const *v1_mounts;
    size_t v1_nmounts;
    const char *v1_probe;          /* a file that marks the v1 mount: "cpu.cfs_period_us" */
    cfp_cgroup_limit_fn *v1_limit; /* NULL: v1 hierarchies are not read */
    cfp_cgroup_limit_fn *v2_limit; /* NULL: the unified hierarchy is not read */
};

/* The smallest non-zero limit ctl reads in the cgroups that
 * root/proc/self/cgroup names and all their ancestors; 0 when there is
 * none. root: "" or NULL = "/" (tests pass a directory holding
 * proc/self/cgroup and sys/fs/cgroup/...). *version (may be NULL) is set
 * to the hierarchy that gave it: 1, 2, or 0 for none. */
uint64_t cfp_cgroup_limit(const char *root, const struct cfp_cgroup_ctl *ctl, int *version);

/* Reads the first line of dir/file into buf (NUL-terminated, newline cut);
 * false when it cannot be read, is empty or the path is too long. */
bool cfp_cgroup_read(const char *dir, const char *file, char *buf, size_t size);

#endif
