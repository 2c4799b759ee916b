/* cfp_cpus.c - the CPUs this process may use (see the header). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC */
#include "base/cfp_cpus.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cfp_cgroup.h"
#include "base/cfp_log.h"

#define CPUS_MAX  (1 << 20) /* beyond any machine: bounds the arithmetic */
#define MASK_CPUS 8192      /* affinity mask size tried; larger machines count as unknown */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
/* Written once inside pthread_once (or by the test hook with no reader
 * running), read only after it: no lock needed. */
static struct cfp_cpus cached;
static const char *cached_root;

/* Parses a decimal integer that fills s up to a space or the end. */
static bool parse_ll(const char *s, long long *v)
{
    char *end;

    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && end != s && (*end == '\0' || *end == ' ');
}

/* quota / period in whole CPUs, rounded up; 0 for no limit. */
static uint64_t quota_cpus(long long quota, long long period)
{
    long long n;

    if (quota <= 0 || period <= 0)
        return 0;
    n = quota / period + (quota % period != 0);
    return n > CPUS_MAX ? CPUS_MAX : (uint64_t)n;
}

/* The quota of one cgroup v1 directory of the cpu controller; 0 = none. */
static uint64_t quota_v1(const char *dir)
{
    char line[64];
    long long q, p;

    if (!cfp_cgroup_read(dir, "cpu.cfs_quota_us", line, sizeof(line)) || !parse_ll(line, &q) ||
        q < 0)
        return 0; /* -1: no quota */
    if (!cfp_cgroup_read(dir, "cpu.cfs_period_us", line, sizeof(line)) || !parse_ll(line, &p))
        return 0;
    return quota_cpus(q, p);
}

/* The quota of one cgroup v2 directory (cpu.max: "max 100000" or
 * "150000 100000"); 0 = none. */
static uint64_t quota_v2(const char *dir)
{
    char line[64];
    const char *sp;
    long long q, p = 100000;

    if (!cfp_cgroup_read(dir, "cpu.max", line, sizeof(line)) || strncmp(line, "max", 3) == 0 ||
        !parse_ll(line, &q))
        return 0;
    sp = strchr(line, ' ');
    if (sp && !parse_ll(sp + 1, &p))
        return 0;
    return quota_cpus(q, p);
}

/* The cpu controller: v1 mounted alone or with cpuacct, in either order. */
static const char *const cpu_mounts[] = {"/cpu,cpuacct", "/cpu", "/cpuacct,cpu"};
static const struct cfp_cgroup_ctl cpu_ctl = {
    .v1_name = "cpu",
    .v1_mounts = cpu_mounts,
    .v1_nmounts = sizeof(cpu_mounts) / sizeof(cpu_mounts[0]),
    .v1_probe = "cpu.cfs_period_us",
    .v1_limit = quota_v1,
    .v2_limit = quota_v2,
};

int cfp_cpus_cgroup_quota(const char *root)
{
    /* quota_cpus() caps every level at CPUS_MAX, so the minimum fits. */
    return (int)cfp_cgroup_limit(root, &cpu_ctl, NULL);
}

/* CPUs in this process's affinity mask; 0 when it cannot be read. */
static int affinity_count(void)
{
    cpu_set_t *set = CPU_ALLOC(MASK_CPUS);
    size_t size = CPU_ALLOC_SIZE(MASK_CPUS);
    int n = 0;

    if (!set)
        return 0;
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) == 0)
        n = CPU_COUNT_S(size, set);
    CPU_FREE(set);
    return n;
}

void cfp_cpus_detect(const char *root, struct cfp_cpus *out)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    struct cfp_cpus c;

    memset(&c, 0, sizeof(c));
    c.online = online < 1 ? 1 : online > CPUS_MAX ? CPUS_MAX : (int)online;
    c.affinity = affinity_count();
    c.quota = cfp_cpus_cgroup_quota(root);
    c.count = c.online;
    c.source = CFP_CPUS_ONLINE;
    if (c.affinity > 0 && c.affinity < c.count) {
        c.count = c.affinity;
        c.source = CFP_CPUS_AFFINITY;
    }
    if (c.quota > 0 && c.quota < c.count) {
        c.count = c.quota;
        c.source = CFP_CPUS_CGROUP;
    }
    *out = c;
}

static void load(void)
{
    cfp_cpus_detect(cached_root, &cached);
}

const struct cfp_cpus *cfp_cpus_get(void)
{
    (void)pthread_once(&once, load);
    return &cached;
}

int cfp_cpus_count(void)
{
    return cfp_cpus_get()->count;
}

const char *cfp_cpus_source_name(enum cfp_cpus_source s)
{
    switch (s) {
    case CFP_CPUS_AFFINITY:
        return "affinity";
    case CFP_CPUS_CGROUP:
        return "cgroup";
    default:
        return "online";
    }
}

static void log_count(void)
{
    const struct cfp_cpus *c = cfp_cpus_get();

    cfp_log(CFP_LOG_INFO, "%d CPU%s available (%s), %d online", c->count, c->count == 1 ? "" : "s",
            cfp_cpus_source_name(c->source), c->online);
}

void cfp_cpus_log(void)
{
    (void)pthread_once(&log_once, log_count);
}

void cfp_cpus_reload(const char *root)
{
    cached_root = root;
    (void)pthread_once(&once, load); /* spend the once, so it cannot run later */
    load();
}
