/* test_cpus.c - cfp_cpus: the cgroup CPU quota read from file trees built in
 * a temporary directory (v1 under cpu,cpuacct or cpu, v2 on /sys/fs/cgroup
 * or the hybrid .../unified, parents tighter than children, -1, "max",
 * rounding up, missing files, a path that does not exist in the mount as
 * in a container, garbage), the count as the smallest of affinity, quota
 * and online with its source, the cache and its test hook. The real
 * cgroup and taskset are exercised end to end by tests/e2e/e2e_cpus.py. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <errno.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_cpus.h"
#include "cfp_test.h"

static char base[] = "/tmp/cfp-test-cpus-XXXXXX";
static int tree_no;

#include "cfp_test_tree.h" /* uses base and tree_no */

/* A v1 cpu directory: quota and period, as the kernel writes them. */
static void v1_dir(const char *root, const char *dir, const char *quota, const char *period)
{
    char rel[1024];

    (void)snprintf(rel, sizeof(rel), "%s/cpu.cfs_quota_us", dir);
    put(root, rel, quota);
    (void)snprintf(rel, sizeof(rel), "%s/cpu.cfs_period_us", dir);
    put(root, rel, period);
}

static void test_v1(void)
{
    char buf[512];
    const char *r;

    /* cpu,cpuacct: the child's 1.5 CPUs round up to 2 (the parent allows 3). */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "5:memory:/a/b\n4:cpu,cpuacct:/a/b\n0::/\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct", "-1\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct/a", "300000\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct/a/b", "150000\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 2);

    /* A parent tighter than its child wins: the parent's limit applies. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "4:cpu,cpuacct:/a/b\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct", "-1\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct/a", "100000\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct/a/b", "250000\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 1);

    /* cpu mounted alone (these machines' layout); half a CPU is 1. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "2:cpuacct:/\n1:cpu:/x\n");
    v1_dir(r, "sys/fs/cgroup/cpu", "-1\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu/x", "50000\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 1);

    /* The line says cpu,cpuacct but only /sys/fs/cgroup/cpu exists. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "3:cpu,cpuacct:/job\n");
    v1_dir(r, "sys/fs/cgroup/cpu", "-1\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu/job", "400000\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 4);

    /* -1 everywhere: no quota. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "4:cpu,cpuacct:/a\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct", "-1\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct/a", "-1\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);

    /* In a container: the path is the host's and does not exist in the
     * mount, whose root is the container's cgroup with its quota. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "4:cpu,cpuacct:/docker/0123abcd\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct", "200000\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 2);

    /* Garbage and a zero period: no quota, no crash. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "4:cpu,cpuacct:/a\n4:cpu\nnonsense\n\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct", "abc\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu,cpuacct/a", "100000\n", "0\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);

    /* A controller named like cpu is not cpu (cpuset, cpuacct alone). */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "3:cpuset:/a\n2:cpuacct:/a\n");
    v1_dir(r, "sys/fs/cgroup/cpuset", "100000\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);
}

static void test_v2(void)
{
    char buf[512];
    const char *r;

    /* Unified on /sys/fs/cgroup: 2.5 CPUs round up to 3; the parent's
     * "max" is no limit. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/s/t\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    put(r, "sys/fs/cgroup/s/cpu.max", "max 100000\n");
    put(r, "sys/fs/cgroup/s/t/cpu.max", "250000 100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 3);

    /* The parent is tighter. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/s/t\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "cpu\n");
    put(r, "sys/fs/cgroup/s/cpu.max", "100000 100000\n");
    put(r, "sys/fs/cgroup/s/t/cpu.max", "max 100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 1);

    /* "max" only: none. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/s\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "cpu\n");
    put(r, "sys/fs/cgroup/s/cpu.max", "max 100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);

    /* Hybrid layout: v2 on .../unified; a v1 cpu quota on the same
     * process is tighter and wins. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "1:cpu:/v1\n0::/u\n");
    put(r, "sys/fs/cgroup/unified/cgroup.controllers", "\n");
    put(r, "sys/fs/cgroup/unified/u/cpu.max", "300000 100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu", "-1\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu/v1", "200000\n", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 2);

    /* A quota without a period (not what kernels write): 100000 assumed. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "cpu\n");
    put(r, "sys/fs/cgroup/cpu.max", "150000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 2);
}

static void test_missing(void)
{
    char buf[512];
    const char *r;

    /* No /proc/self/cgroup at all. */
    r = new_root(buf, sizeof(buf));
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);
    /* The file, but nothing mounted. */
    put(r, "proc/self/cgroup", "4:cpu,cpuacct:/a\n0::/a\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);
    /* Mounted, the period there, the quota file missing. */
    put(r, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);
    /* Empty file. */
    put(r, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "");
    ASSERT_EQ(cfp_cpus_cgroup_quota(r), 0);
    ASSERT_EQ(cfp_cpus_cgroup_quota("/nonexistent-cfp-root"), 0);
}

/* The count: the smallest of affinity, quota and online, and its source. */
static void test_count(void)
{
    char buf[512];
    const char *r;
    struct cfp_cpus c;
    cpu_set_t set;
    int aff;

    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    aff = CPU_COUNT(&set);
    cfp_cpus_detect(base, &c); /* no proc/self/cgroup under base: no quota */
    ASSERT_EQ(c.affinity, aff);
    ASSERT_EQ(c.quota, 0);
    ASSERT_EQ(c.online, (int)sysconf(_SC_NPROCESSORS_ONLN));
    ASSERT_EQ(c.count, aff);
    ASSERT_STREQ(cfp_cpus_source_name(c.source), aff < c.online ? "affinity" : "online");

    /* A quota of 1 CPU: the count is 1 and came from the cgroup (unless
     * the affinity mask already holds only one CPU). */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "1:cpu:/one\n");
    v1_dir(r, "sys/fs/cgroup/cpu", "-1\n", "100000\n");
    v1_dir(r, "sys/fs/cgroup/cpu/one", "100000\n", "100000\n");
    cfp_cpus_detect(r, &c);
    ASSERT_EQ(c.count, 1);
    ASSERT_EQ(c.quota, 1);
    ASSERT_STREQ(cfp_cpus_source_name(c.source), aff > 1 ? "cgroup" : "affinity");

    /* A quota above the affinity count: affinity wins. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "1:cpu:/\n");
    v1_dir(r, "sys/fs/cgroup/cpu", "100000000\n", "100000\n");
    cfp_cpus_detect(r, &c);
    ASSERT_EQ(c.quota, 1000);
    ASSERT_EQ(c.count, aff);

    /* The cache and its hook: the test root's 1 CPU, then the real one. */
    ASSERT(cfp_cpus_count() >= 1);
    (void)snprintf(buf, sizeof(buf), "%s/t%d", base, tree_no - 2);
    cfp_cpus_reload(buf);
    ASSERT_EQ(cfp_cpus_count(), 1);
    ASSERT_EQ(cfp_cpus_get()->quota, 1);
    cfp_cpus_reload(NULL);
    ASSERT_EQ(cfp_cpus_get()->affinity, aff);
    ASSERT(cfp_cpus_count() >= 1 && cfp_cpus_count() <= aff);
    ASSERT_STREQ(cfp_cpus_source_name((enum cfp_cpus_source)99), "online");
}

int main(void)
{
    char cmd[256];

    if (!mkdtemp(base))
        CFP_FAILF("mkdtemp %s: %s", base, strerror(errno));
    test_v1();
    test_v2();
    test_missing();
    test_count();
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        CFP_FAILF("%s failed", cmd);
    printf("test_cpus: ok\n");
    return 0;
}
