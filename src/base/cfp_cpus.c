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
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_log.h"

#define CPUS_MAX  (1 << 20) /* beyond any machine: bounds the arithmetic */
#define CG_PATH   4096
#define MASK_CPUS 8192 /* affinity mask size tried; larger machines count as unknown */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
/* Written once inside pthread_once (or by the test hook with no reader
 * running), read only after it: no lock needed. */
static struct cfp_cpus cached;
static const char *cached_root;

/* Reads the first line of path into buf (NUL-terminated, newline cut);
 * false when it cannot be read or is empty. */
static bool read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    bool ok;

    if (!f)
        return false;
    ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok && buf[0] != '\0';
}

/* Parses a decimal integer that fills s up to a space or the end. */
static bool parse_ll(const char *s, long long *v)
{
    char *end;

    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno == 0 && end != s && (*end == '\0' || *end == ' ');
}

/* quota / period in whole CPUs, rounded up; 0 for no limit. */
static int quota_cpus(long long quota, long long period)
{
    long long n;

    if (quota <= 0 || period <= 0)
        return 0;
    n = quota / period + (quota % period != 0);
    return n > CPUS_MAX ? CPUS_MAX : (int)n;
}

/* The quota of one cgroup v1 directory of the cpu controller; 0 = none. */
static int quota_v1(const char *dir)
{
    char path[CG_PATH + 32], line[64];
    long long q, p;

    if (snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir) >= (int)sizeof(path) ||
        !read_line(path, line, sizeof(line)) || !parse_ll(line, &q) || q < 0)
        return 0; /* -1: no quota */
    if (snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir) >= (int)sizeof(path) ||
        !read_line(path, line, sizeof(line)) || !parse_ll(line, &p))
        return 0;
    return quota_cpus(q, p);
}

/* The quota of one cgroup v2 directory (cpu.max: "max 100000" or
 * "150000 100000"); 0 = none. */
static int quota_v2(const char *dir)
{
    char path[CG_PATH + 32], line[64];
    const char *sp;
    long long q, p = 100000;

    if (snprintf(path, sizeof(path), "%s/cpu.max", dir) >= (int)sizeof(path) ||
        !read_line(path, line, sizeof(line)) || strncmp(line, "max", 3) == 0 || !parse_ll(line, &q))
        return 0;
    sp = strchr(line, ' ');
    if (sp && !parse_ll(sp + 1, &p))
        return 0;
    return quota_cpus(q, p);
}

/* The smallest quota from mount/path up to mount itself (a parent's limit
 * applies to its children too). A level that does not exist is skipped:
 * in a container the path is the host's, while the mount shows the
 * container's own cgroup as its root. */
static int walk_up(const char *mount, const char *path, int (*quota)(const char *))
{
    char dir[CG_PATH];
    int best = 0;
    size_t mlen = strlen(mount);

    if (snprintf(dir, sizeof(dir), "%s%s", mount, path) >= (int)sizeof(dir))
        return 0;
    for (;;) {
        size_t len = strlen(dir);
        int q;

        while (len > mlen && dir[len - 1] == '/')
            dir[--len] = '\0';
        q = quota(dir);
        if (q > 0 && (best == 0 || q < best))
            best = q;
        if (len <= mlen)
            return best;
        while (len > mlen && dir[len - 1] != '/')
            len--;
        dir[len] = '\0';
    }
}

/* True if the comma-separated list has the entry "cpu". */
static bool has_cpu(const char *list)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 3 && strncmp(p, "cpu", 3) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* The first of the candidate mount points under root that holds file. */
static bool find_mount(const char *root, const char *const *cands, size_t n, const char *file,
                       char *out, size_t size)
{
    char probe[CG_PATH + 64];
    struct stat sb;

    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || snprintf(out, size, "%s/sys/fs/cgroup%s", root, cands[i]) >= (int)size)
            continue;
        if (snprintf(probe, sizeof(probe), "%s/%s", out, file) < (int)sizeof(probe) &&
            stat(probe, &sb) == 0)
            return true;
    }
    return false;
}

/* The quota of one line of /proc/self/cgroup ("N:controllers:/path"). */
static int quota_line(const char *root, char *line)
{
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char mount[CG_PATH], sub[CG_PATH];

    if (!c2 || c2[1] != '/')
        return 0;
    *c1 = *c2 = '\0';
    if (strcmp(line, "0") == 0 && c1[1] == '\0') {
        /* v2 (unified): mounted on /sys/fs/cgroup, or on .../unified in
         * the hybrid layout (systemd's, and these machines'). */
        const char *cands[] = {"", "/unified"};
        if (!find_mount(root, cands, 2, "cgroup.controllers", mount, sizeof(mount)))
            return 0;
        return walk_up(mount, c2 + 1, quota_v2);
    }
    if (!has_cpu(c1 + 1))
        return 0;
    if (snprintf(sub, sizeof(sub), "/%s", c1 + 1) >= (int)sizeof(sub))
        return 0;
    {
        const char *cands[] = {sub, "/cpu,cpuacct", "/cpu", "/cpuacct,cpu"};
        if (!find_mount(root, cands, 4, "cpu.cfs_period_us", mount, sizeof(mount)))
            return 0;
    }
    return walk_up(mount, c2 + 1, quota_v1);
}

int cfp_cpus_cgroup_quota(const char *root)
{
    char path[CG_PATH], line[CG_PATH];
    int best = 0;
    FILE *f;

    if (!root || strcmp(root, "/") == 0)
        root = "";
    if (snprintf(path, sizeof(path), "%s/proc/self/cgroup", root) >= (int)sizeof(path) ||
        !(f = fopen(path, "re")))
        return 0;
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\n");
        int q;

        if (line[len] != '\n' && !feof(f)) {
            int ch; /* longer than any path we can open: skip the rest */
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        line[len] = '\0';
        q = quota_line(root, line);
        if (q > 0 && (best == 0 || q < best))
            best = q;
    }
    fclose(f);
    return best;
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
