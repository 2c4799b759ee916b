/* test_memlimit.c - cfp_memlimit: the cgroup memory limit read from file
 * trees built in a temporary directory (v1 under memory or co-mounted, v2 on
 * /sys/fs/cgroup or the hybrid .../unified, parents tighter than children,
 * the kernel's "unlimited" value and "max", a path that does not exist in
 * the mount as in a container, missing files, garbage), 80 % of
 * MemAvailable, Slurm's SLURM_MEM_PER_NODE and SLURM_MEM_PER_CPU (set with
 * setenv), the budget as the smallest with its source, the size parser, the
 * per-rank share, the formatting and the log line, the cache and its hook.
 * Then the real thing, as root with the v1 memory controller: a child moved
 * into a new cgroup limited to 200M must find 200 MiB. */
#define _GNU_SOURCE /* dup, fork */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cfp_log.h"
#include "base/cfp_memlimit.h"
#include "cfp_test.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static char base[] = "/tmp/cfp-test-memlimit-XXXXXX";
static int tree_no;

#include "cfp_test_tree.h" /* uses base and tree_no */

/* A v1 memory directory with its limit, as the kernel writes it. */
static void v1_dir(const char *root, const char *dir, const char *limit)
{
    char rel[1024];

    (void)snprintf(rel, sizeof(rel), "%s/memory.limit_in_bytes", dir);
    put(root, rel, limit);
}

/* What the kernel shows for "no limit" in v1 (2^63 - 4096). */
#define V1_NONE "9223372036854771712\n"

/* The cgroup limit of root and the file it came from. */
static uint64_t cg(const char *root, const char **origin)
{
    return cfp_memlimit_cgroup(root, origin);
}

static void unset_slurm(void)
{
    unsetenv("SLURM_MEM_PER_NODE");
    unsetenv("SLURM_MEM_PER_CPU");
    unsetenv("SLURM_CPUS_ON_NODE");
}

static void test_v1(void)
{
    char buf[512];
    const char *r, *o;

    /* The leaf's limit; its parent and the root are unlimited. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "5:memory:/a/b\n4:cpu,cpuacct:/a/b\n0::/\n");
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/a", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/a/b", "402653184\n");
    ASSERT_EQ(cg(r, &o), 384 * MIB);
    ASSERT_STREQ(o, "memory.limit_in_bytes");

    /* A parent tighter than its child wins: the parent's limit applies. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "5:memory:/a/b\n");
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/a", "104857600\n");
    v1_dir(r, "sys/fs/cgroup/memory/a/b", "314572800\n");
    ASSERT_EQ(cg(r, NULL), 100 * MIB);

    /* Unlimited everywhere: none. Values from 2^62 up are no limit, just
     * below is one. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "5:memory:/a\n");
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/a", "4611686018427387904\n"); /* 2^62 */
    ASSERT_EQ(cg(r, &o), 0);
    ASSERT_STREQ(o, "");
    v1_dir(r, "sys/fs/cgroup/memory/a", "4611686018427383808\n"); /* 2^62 - 4096 */
    ASSERT_EQ(cg(r, NULL), 4611686018427383808ULL);

    /* Co-mounted with cpuacct: the mount named like the line's list. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "3:cpuacct,memory:/job\n");
    v1_dir(r, "sys/fs/cgroup/cpuacct,memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/cpuacct,memory/job", "1073741824\n");
    ASSERT_EQ(cg(r, NULL), GIB);

    /* The line lists memory with another controller, only .../memory is
     * mounted. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "3:memory,hugetlb:/job\n");
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/job", "2147483648\n");
    ASSERT_EQ(cg(r, NULL), 2 * GIB);

    /* In a container: the path is the host's and does not exist in the
     * mount, whose root is the container's cgroup with its limit. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "4:memory:/docker/0123abcd\n");
    v1_dir(r, "sys/fs/cgroup/memory", "536870912\n");
    ASSERT_EQ(cg(r, NULL), 512 * MIB);

    /* Garbage, a sign, spaces, an empty file: none, no crash. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "4:memory:/a/b/c/d\n4:memory\nnonsense\n\n");
    v1_dir(r, "sys/fs/cgroup/memory", "abc\n");
    v1_dir(r, "sys/fs/cgroup/memory/a", "-1\n");
    v1_dir(r, "sys/fs/cgroup/memory/a/b", " 1000\n");
    v1_dir(r, "sys/fs/cgroup/memory/a/b/c", "");
    v1_dir(r, "sys/fs/cgroup/memory/a/b/c/d", "99999999999999999999999\n");
    ASSERT_EQ(cg(r, NULL), 0);

    /* A controller named like memory is not memory. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "3:memoryx:/a\n2:name=memory:/a\n");
    v1_dir(r, "sys/fs/cgroup/memoryx", "1000\n");
    v1_dir(r, "sys/fs/cgroup/memory", "1000\n");
    ASSERT_EQ(cg(r, NULL), 0);
}

static void test_v2(void)
{
    char buf[512];
    const char *r, *o;

    /* Unified on /sys/fs/cgroup: the parent's "max" is no limit. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/s/t\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    put(r, "sys/fs/cgroup/s/memory.max", "max\n");
    put(r, "sys/fs/cgroup/s/t/memory.max", "1073741824\n");
    ASSERT_EQ(cg(r, &o), GIB);
    ASSERT_STREQ(o, "memory.max");

    /* The parent is tighter. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/s/t\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "memory\n");
    put(r, "sys/fs/cgroup/s/memory.max", "268435456\n");
    put(r, "sys/fs/cgroup/s/t/memory.max", "max\n");
    ASSERT_EQ(cg(r, NULL), 256 * MIB);

    /* "max" only: none. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/s\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "memory\n");
    put(r, "sys/fs/cgroup/s/memory.max", "max\n");
    ASSERT_EQ(cg(r, &o), 0);
    ASSERT_STREQ(o, "");

    /* Hybrid layout: v2 on .../unified and v1 memory; the tighter one wins
     * and names its file. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "4:memory:/v1\n0::/u\n");
    put(r, "sys/fs/cgroup/unified/cgroup.controllers", "\n");
    put(r, "sys/fs/cgroup/unified/u/memory.max", "3221225472\n");
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/v1", "2147483648\n");
    ASSERT_EQ(cg(r, &o), 2 * GIB);
    ASSERT_STREQ(o, "memory.limit_in_bytes");
    put(r, "sys/fs/cgroup/unified/u/memory.max", "1073741824\n");
    ASSERT_EQ(cg(r, &o), GIB);
    ASSERT_STREQ(o, "memory.max");
}

static void test_missing(void)
{
    char buf[512];
    const char *r, *o = "x";

    /* No /proc/self/cgroup at all. */
    r = new_root(buf, sizeof(buf));
    ASSERT_EQ(cg(r, &o), 0);
    ASSERT_STREQ(o, "");
    /* The file, but nothing mounted. */
    put(r, "proc/self/cgroup", "4:memory:/a\n0::/a\n");
    ASSERT_EQ(cg(r, NULL), 0);
    /* Mounted (the probe file at the root), the group's file missing. */
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    mkdirs(r, "sys/fs/cgroup/memory/a");
    ASSERT_EQ(cg(r, NULL), 0);
    /* Empty file. */
    v1_dir(r, "sys/fs/cgroup/memory/a", "");
    ASSERT_EQ(cg(r, NULL), 0);
    ASSERT_EQ(cg("/nonexistent-cfp-root", NULL), 0);
}

/* A root with MemAvailable kb (NULL: a meminfo without that line). */
static const char *meminfo_root(char *buf, size_t size, const char *kb)
{
    const char *r = new_root(buf, size);
    char text[256];

    (void)snprintf(text, sizeof(text),
                   "MemTotal:       32768000 kB\nMemFree:         1000 kB\n%s%s%s",
                   kb ? "MemAvailable:   " : "", kb ? kb : "", kb ? "\nBuffers: 1 kB\n" : "");
    put(r, "proc/meminfo", text);
    return r;
}

static void test_meminfo(void)
{
    char buf[512];
    struct cfp_memlimit m;

    unset_slurm();
    /* 1,000,000 kB available: 80 % of 1,024,000,000 bytes. */
    cfp_memlimit_detect(meminfo_root(buf, sizeof(buf), "1000000 kB"), 4, &m);
    ASSERT_EQ(m.mem_available, 1024000000ULL);
    ASSERT_EQ(m.available, 819200000ULL);
    ASSERT_EQ(m.bytes, 819200000ULL);
    ASSERT_EQ(m.cgroup, 0);
    ASSERT_EQ(m.slurm, 0);
    ASSERT_STREQ(cfp_memlimit_source_name(m.source), "available");
    ASSERT_STREQ(m.origin, "MemAvailable");
    /* Not a multiple of 5: rounded down, no overflow near the top. */
    cfp_memlimit_detect(meminfo_root(buf, sizeof(buf), "3 kB"), 1, &m);
    ASSERT_EQ(m.available, 3072 * 4 / 5);
    /* No MemAvailable line (kernels before 3.14), garbage, no unit: unknown. */
    cfp_memlimit_detect(meminfo_root(buf, sizeof(buf), NULL), 1, &m);
    ASSERT_EQ(m.mem_available, 0);
    ASSERT_EQ(m.bytes, 0);
    ASSERT_STREQ(cfp_memlimit_source_name(m.source), "none");
    ASSERT_STREQ(m.origin, "");
    cfp_memlimit_detect(meminfo_root(buf, sizeof(buf), "lots kB"), 1, &m);
    ASSERT_EQ(m.available, 0);
    cfp_memlimit_detect(meminfo_root(buf, sizeof(buf), "-5 kB"), 1, &m);
    ASSERT_EQ(m.available, 0);
    cfp_memlimit_detect(meminfo_root(buf, sizeof(buf), "1000"), 1, &m);
    ASSERT_EQ(m.available, 0);
    cfp_memlimit_detect(meminfo_root(buf, sizeof(buf), "99999999999999999999 kB"), 1, &m);
    ASSERT_EQ(m.available, 0);
    /* No proc/meminfo at all. */
    cfp_memlimit_detect(new_root(buf, sizeof(buf)), 1, &m);
    ASSERT_EQ(m.bytes, 0);
}

/* Slurm's memory for the job on this node, with 64 GiB available. */
static void test_slurm(void)
{
    char buf[512];
    const char *r = meminfo_root(buf, sizeof(buf), "83886080 kB"); /* 80 GiB: 64 GiB budget */
    struct cfp_memlimit m;

    unset_slurm();
    setenv("SLURM_MEM_PER_NODE", "2048", 1);
    cfp_memlimit_detect(r, 8, &m);
    ASSERT_EQ(m.slurm, 2 * GIB);
    ASSERT_EQ(m.bytes, 2 * GIB);
    ASSERT_EQ(m.slurm_cpus, 0);
    ASSERT_STREQ(cfp_memlimit_source_name(m.source), "slurm");
    ASSERT_STREQ(m.origin, "SLURM_MEM_PER_NODE");

    /* Per node wins over per CPU (Slurm sets one of them). */
    setenv("SLURM_MEM_PER_CPU", "100", 1);
    cfp_memlimit_detect(r, 8, &m);
    ASSERT_EQ(m.slurm, 2 * GIB);

    /* Per CPU times the caller's CPUs without SLURM_CPUS_ON_NODE. */
    unsetenv("SLURM_MEM_PER_NODE");
    setenv("SLURM_MEM_PER_CPU", "1000", 1);
    cfp_memlimit_detect(r, 3, &m);
    ASSERT_EQ(m.slurm, 3000 * MIB);
    ASSERT_EQ(m.slurm_cpus, 3);
    ASSERT_STREQ(m.origin, "SLURM_MEM_PER_CPU");
    cfp_memlimit_detect(r, 0, &m); /* below 1 counts as 1 */
    ASSERT_EQ(m.slurm, 1000 * MIB);
    ASSERT_EQ(m.slurm_cpus, 1);

    /* ... and times SLURM_CPUS_ON_NODE when set: Slurm allocates the memory
     * per allocated CPU. An invalid count falls back to the caller's. */
    setenv("SLURM_CPUS_ON_NODE", "4", 1);
    cfp_memlimit_detect(r, 3, &m);
    ASSERT_EQ(m.slurm, 4000 * MIB);
    ASSERT_EQ(m.slurm_cpus, 4);
    setenv("SLURM_CPUS_ON_NODE", "four", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.slurm, 2000 * MIB);
    setenv("SLURM_CPUS_ON_NODE", "0", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.slurm, 2000 * MIB);

    /* --mem=0 (all of the node's memory), junk, overflow: no Slurm limit. */
    unset_slurm();
    setenv("SLURM_MEM_PER_NODE", "0", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.slurm, 0);
    ASSERT_STREQ(cfp_memlimit_source_name(m.source), "available");
    setenv("SLURM_MEM_PER_NODE", "4G", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.slurm, 0);
    setenv("SLURM_MEM_PER_NODE", "-1", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.slurm, 0);
    setenv("SLURM_MEM_PER_NODE", "18446744073709551615", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.slurm, 0);
    unset_slurm();
    setenv("SLURM_MEM_PER_CPU", "17592186044415", 1); /* (2^64 - 1) / 2^20 */
    setenv("SLURM_CPUS_ON_NODE", "2", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.slurm, 0);
    unset_slurm();
}

/* The budget is the smallest limit, and says where it came from. */
static void test_min(void)
{
    char buf[512], how[96];
    const char *r = meminfo_root(buf, sizeof(buf), "1000000 kB"); /* 781.25 MiB budget */
    struct cfp_memlimit m;

    unset_slurm();
    put(r, "proc/self/cgroup", "4:memory:/job\n");
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/job", "314572800\n"); /* 300 MiB */
    setenv("SLURM_MEM_PER_NODE", "200", 1);
    cfp_memlimit_detect(r, 1, &m);
    ASSERT_EQ(m.cgroup, 300 * MIB);
    ASSERT_EQ(m.slurm, 200 * MIB);
    ASSERT_EQ(m.available, 819200000ULL);
    ASSERT_EQ(m.bytes, 200 * MIB);
    ASSERT_EQ(m.source, CFP_MEMLIMIT_SLURM);
    ASSERT_STREQ(cfp_memlimit_describe(&m, how, sizeof(how)), "Slurm SLURM_MEM_PER_NODE");

    /* A tie between Slurm and the cgroup it set names the cgroup. */
    setenv("SLURM_MEM_PER_NODE", "300", 1);
    cfp_memlimit_detect(r, 1, &m);
    ASSERT_EQ(m.bytes, 300 * MIB);
    ASSERT_EQ(m.source, CFP_MEMLIMIT_CGROUP);
    ASSERT_STREQ(cfp_memlimit_describe(&m, how, sizeof(how)), "cgroup memory.limit_in_bytes");

    /* Per CPU: the describe names the multiplier. */
    unset_slurm();
    setenv("SLURM_MEM_PER_CPU", "50", 1);
    cfp_memlimit_detect(r, 2, &m);
    ASSERT_EQ(m.bytes, 100 * MIB);
    ASSERT_STREQ(cfp_memlimit_describe(&m, how, sizeof(how)), "Slurm SLURM_MEM_PER_CPU x 2 CPUs");
    unset_slurm();

    /* The cgroup limit above what is available: MemAvailable's 80 %. */
    v1_dir(r, "sys/fs/cgroup/memory/job", "2147483648\n");
    cfp_memlimit_detect(r, 1, &m);
    ASSERT_EQ(m.cgroup, 2 * GIB);
    ASSERT_EQ(m.bytes, 819200000ULL);
    ASSERT_EQ(m.source, CFP_MEMLIMIT_AVAILABLE);
    ASSERT_STREQ(cfp_memlimit_describe(&m, how, sizeof(how)), "80% of MemAvailable");

    /* Only a cgroup limit (no meminfo): the cgroup's, v2 here. */
    r = new_root(buf, sizeof(buf));
    put(r, "proc/self/cgroup", "0::/x\n");
    put(r, "sys/fs/cgroup/cgroup.controllers", "memory\n");
    put(r, "sys/fs/cgroup/x/memory.max", "5000\n");
    cfp_memlimit_detect(r, 1, &m);
    ASSERT_EQ(m.bytes, 5000);
    ASSERT_EQ(m.available, 0);
    ASSERT_STREQ(cfp_memlimit_describe(&m, how, sizeof(how)), "cgroup memory.max");

    /* Nothing at all. */
    cfp_memlimit_detect(new_root(buf, sizeof(buf)), 1, &m);
    ASSERT_EQ(m.bytes, 0);
    ASSERT_EQ(m.source, CFP_MEMLIMIT_NONE);
    ASSERT_STREQ(cfp_memlimit_describe(&m, how, sizeof(how)),
                 "no cgroup limit, Slurm memory or MemAvailable");
    ASSERT_STREQ(cfp_memlimit_source_name(CFP_MEMLIMIT_CGROUP), "cgroup");
    ASSERT_STREQ(cfp_memlimit_source_name((enum cfp_memlimit_source)99), "none");
}

static void test_parse(void)
{
    static const struct {
        const char *in;
        uint64_t want;
    } good[] = {
        {"0", 0},
        {"1", 1},
        {"512", 512},
        {"100B", 100},
        {"100b", 100},
        {"1K", 1024},
        {"1k", 1024},
        {"1KB", 1024},
        {"1kib", 1024},
        {"1KiB", 1024},
        {"64M", 64 * MIB},
        {"64mb", 64 * MIB},
        {"2G", 2 * GIB},
        {"2GiB", 2 * GIB},
        {"3T", 3ULL << 40},
        {"0G", 0},
        {"007", 7},
        {"18446744073709551615", UINT64_MAX},
        {"16777215T", 16777215ULL << 40},
    };
    static const char *const bad[] = {
        "",
        "-1",
        "-0",
        "+5",
        " 5",
        "5 ",
        "5 M",
        "1.5G",
        "1e3",
        "M",
        "K1",
        "1P",
        "1X",
        "1MM",
        "1MiBx",
        "1iB",
        "1Mi",
        "1Bi",
        "0x10",
        "18446744073709551616",
        "16777216T",
        "17179869184G",
        "99999999999999999999999",
    };
    uint64_t v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = 12345;
        if (cfp_memlimit_parse(good[i].in, &v) != CFP_ERR_OK || v != good[i].want)
            CFP_FAILF("parse \"%s\": %" PRIu64 ", want %" PRIu64, good[i].in, v, good[i].want);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 12345;
        if (cfp_memlimit_parse(bad[i], &v) != CFP_ERR_USAGE || v != 12345)
            CFP_FAILF("parse \"%s\" should fail and leave the output alone (%" PRIu64 ")", bad[i],
                      v);
    }
    ASSERT_EQ(cfp_memlimit_parse(NULL, &v), CFP_ERR_USAGE);
}

static void test_share_format(void)
{
    char b[32];

    ASSERT_EQ(cfp_memlimit_share(GIB, 4), 256 * MIB);
    ASSERT_EQ(cfp_memlimit_share(GIB, 1), GIB);
    ASSERT_EQ(cfp_memlimit_share(GIB, 0), GIB);
    ASSERT_EQ(cfp_memlimit_share(GIB, -3), GIB);
    ASSERT_EQ(cfp_memlimit_share(10, 3), 3);
    ASSERT_EQ(cfp_memlimit_share(0, 8), 0);
    ASSERT_EQ(cfp_memlimit_share(UINT64_MAX, 1), UINT64_MAX);

    ASSERT_STREQ(cfp_memlimit_format(0, b, sizeof(b)), "0 B");
    ASSERT_STREQ(cfp_memlimit_format(1023, b, sizeof(b)), "1023 B");
    ASSERT_STREQ(cfp_memlimit_format(1024, b, sizeof(b)), "1 KiB");
    ASSERT_STREQ(cfp_memlimit_format(1536, b, sizeof(b)), "1.5 KiB");
    ASSERT_STREQ(cfp_memlimit_format(384 * MIB, b, sizeof(b)), "384 MiB");
    ASSERT_STREQ(cfp_memlimit_format(24248516ULL * 1024, b, sizeof(b)), "23.1 GiB");
    ASSERT_STREQ(cfp_memlimit_format(MIB - 1, b, sizeof(b)), "1.0 MiB");
    ASSERT_STREQ(cfp_memlimit_format(3ULL << 40, b, sizeof(b)), "3 TiB");
    ASSERT_STREQ(cfp_memlimit_format(UINT64_MAX, b, sizeof(b)), "16.0 EiB");
    ASSERT_STREQ(cfp_memlimit_format(5000, b, 4), "4.9"); /* truncated, terminated */
}

/* The cache, its hook and the log line (stderr caught in a file). */
static void test_cache_log(void)
{
    char buf[512], path[600];
    const char *r = meminfo_root(buf, sizeof(buf), "20132659 kB"); /* 19.2 GiB */
    int saved, fd;
    size_t len;
    char *text;

    unset_slurm();
    put(r, "proc/self/cgroup", "4:memory:/job\n");
    v1_dir(r, "sys/fs/cgroup/memory", V1_NONE);
    v1_dir(r, "sys/fs/cgroup/memory/job", "402653184\n");
    ASSERT(cfp_memlimit_get() != NULL); /* the real one first */
    cfp_memlimit_reload(r);
    ASSERT_EQ(cfp_memlimit_get()->bytes, 384 * MIB);
    ASSERT_EQ(cfp_memlimit_get()->source, CFP_MEMLIMIT_CGROUP);

    (void)snprintf(path, sizeof(path), "%s/log.txt", base);
    fflush(stderr);
    saved = dup(2);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT(saved >= 0 && fd >= 0 && dup2(fd, 2) == 2);
    cfp_log_setup(CFP_LOG_INFO, -1);
    cfp_memlimit_log();
    cfp_memlimit_log(); /* once per process */
    cfp_log_setup(CFP_LOG_WARN, -1);
    fflush(stderr);
    ASSERT(dup2(saved, 2) == 2);
    close(fd);
    close(saved);
    text = slurp(path, &len);
    ASSERT_CONTAINS(text,
                    "memory budget 384 MiB (cgroup memory.limit_in_bytes), 19.2 GiB available");
    ASSERT(strstr(strstr(text, "memory budget") + 1, "memory budget") == NULL); /* once */
    free(text);

    cfp_memlimit_reload(NULL);
    ASSERT(cfp_memlimit_get()->bytes > 0); /* this machine has a /proc/meminfo */
}

/* Reads the process's v1 memory cgroup path from /proc/self/cgroup. */
static bool own_memory_cgroup(char *out, size_t size)
{
    char line[4096];
    FILE *f = fopen("/proc/self/cgroup", "re");
    bool found = false;

    while (f && !found && fgets(line, sizeof(line), f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

        line[strcspn(line, "\n")] = '\0';
        if (c2 && strncmp(c1 + 1, "memory:", 7) == 0)
            found = snprintf(out, size, "%s", strcmp(c2 + 1, "/") == 0 ? "" : c2 + 1) < (int)size;
    }
    if (f)
        fclose(f);
    return found;
}

/* Writes text to path; false with errno on failure. */
static bool write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return false;
    n = write(fd, text, strlen(text));
    if (close(fd) != 0 || n != (ssize_t)strlen(text))
        return false;
    return true;
}

/* In the child: waits until the parent moved it, detects, reports. */
static void child_detect(int go, int report)
{
    struct cfp_memlimit m;
    char c;

    if (read(go, &c, 1) != 1)
        _exit(2);
    cfp_memlimit_detect(NULL, 1, &m);
    _exit(write(report, &m, sizeof(m)) == (ssize_t)sizeof(m) ? 0 : 3);
}

/* The real thing: a child moved into a new v1 cgroup limited to 200M,
 * made beside this process (under its own memory cgroup, so nothing leaves
 * the limits this test runs under), finds 200 MiB. */
static void test_real_cgroup(void)
{
    char own[2048], dir[3072], file[3200], pid[32];
    int go[2], report[2], status;
    struct cfp_memlimit m;
    pid_t child;
    bool moved;

    if (geteuid() != 0) {
        cfp_skip_part("test_memlimit", "real cgroup", "not root: cannot create a cgroup");
        return;
    }
    if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) != 0 ||
        !own_memory_cgroup(own, sizeof(own))) {
        cfp_skip_part("test_memlimit", "real cgroup",
                      "no cgroup v1 memory controller at /sys/fs/cgroup/memory");
        return;
    }
    (void)snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory%s/cfp-test-%d", own, (int)getpid());
    if (mkdir(dir, 0755) != 0) {
        cfp_skip_part("test_memlimit", "real cgroup", "mkdir %s: %s", dir, strerror(errno));
        return;
    }
    (void)snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", dir);
    if (!write_file(file, "200M")) {
        cfp_skip_part("test_memlimit", "real cgroup", "write 200M to %s: %s", file,
                      strerror(errno));
        (void)rmdir(dir);
        return;
    }
    ASSERT(pipe(go) == 0 && pipe(report) == 0);
    fflush(NULL);
    child = fork();
    ASSERT(child >= 0);
    if (child == 0)
        child_detect(go[0], report[1]);
    (void)snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
    (void)snprintf(pid, sizeof(pid), "%d", (int)child);
    moved = write_file(file, pid);
    if (!moved)
        cfp_skip_part("test_memlimit", "real cgroup", "move %s into %s: %s", pid, file,
                      strerror(errno));
    ASSERT(write(go[1], "g", 1) == 1);
    ASSERT(read(report[0], &m, sizeof(m)) == (ssize_t)sizeof(m));
    ASSERT(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(go[0]), close(go[1]), close(report[0]), close(report[1]);
    if (rmdir(dir) != 0)
        CFP_FAILF("rmdir %s: %s", dir, strerror(errno));
    if (!moved)
        return;
    /* m.origin points to a static string: same address in parent and
     * child after fork. */
    ASSERT_EQ(m.cgroup, 200 * MIB);
    ASSERT_STREQ(m.origin, "memory.limit_in_bytes");
    if (m.available == 0 || m.available > 200 * MIB) {
        ASSERT_EQ(m.bytes, 200 * MIB);
        ASSERT_EQ(m.source, CFP_MEMLIMIT_CGROUP);
    }
    printf("test_memlimit: real cgroup %s: 200 MiB found\n", dir);
}

int main(void)
{
    char cmd[256];

    if (!mkdtemp(base))
        CFP_FAILF("mkdtemp %s: %s", base, strerror(errno));
    unset_slurm(); /* the suite may itself run inside a Slurm job */
    test_v1();
    test_v2();
    test_missing();
    test_meminfo();
    test_slurm();
    test_min();
    test_parse();
    test_share_format();
    test_cache_log();
    test_real_cgroup();
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        CFP_FAILF("%s failed", cmd);
    printf("test_memlimit: ok\n");
    return 0;
}
