/* cfp_memlimit.c - this process's memory budget (see the header). */
#include "base/cfp_memlimit.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cfp_cgroup.h"
#include "base/cfp_cpus.h"
#include "base/cfp_log.h"

/* cgroup v1 has no "unlimited" token: an unset limit reads as the largest
 * page multiple below 2^63 (9223372036854771712 with 4 KiB pages), and
 * writing -1 sets that. Anything from 2^62 (4 EiB) up is no real limit. */
#define V1_UNLIMITED (1ULL << 62)
#define MIB          (1ULL << 20)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
/* Written once inside pthread_once (or by the test hook with no reader
 * running), read only after it: no lock needed. */
static struct cfp_memlimit cached;
static const char *cached_root;

/* Parses a decimal number that is the whole of s (digits only: no sign, no
 * spaces, which strtoull would accept). */
static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    unsigned long long n;

    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    n = strtoull(s, &end, 10);
    if (errno || *end != '\0')
        return false;
    *v = n;
    return true;
}

/* The limit of one cgroup v1 directory of the memory controller; 0 = none. */
static uint64_t limit_v1(const char *dir)
{
    char line[64];
    uint64_t v;

    if (!cfp_cgroup_read(dir, "memory.limit_in_bytes", line, sizeof(line)) ||
        !parse_u64(line, &v) || v >= V1_UNLIMITED)
        return 0;
    return v;
}

/* The limit of one cgroup v2 directory (memory.max: "max" or bytes);
 * 0 = none. The root cgroup has no memory.max: no limit there. */
static uint64_t limit_v2(const char *dir)
{
    char line[64];
    uint64_t v;

    if (!cfp_cgroup_read(dir, "memory.max", line, sizeof(line)) || !parse_u64(line, &v))
        return 0; /* "max" too */
    return v;
}

/* The memory controller: v1 mounted alone, or with the controllers named on
 * its line (tried first by cfp_cgroup_limit()). */
static const char *const mem_mounts[] = {"/memory"};
static const struct cfp_cgroup_ctl mem_ctl = {
    .v1_name = "memory",
    .v1_mounts = mem_mounts,
    .v1_nmounts = sizeof(mem_mounts) / sizeof(mem_mounts[0]),
    .v1_probe = "memory.limit_in_bytes",
    .v1_limit = limit_v1,
    .v2_limit = limit_v2,
};

uint64_t cfp_memlimit_cgroup(const char *root, const char **origin)
{
    int version = 0;
    uint64_t v = cfp_cgroup_limit(root, &mem_ctl, &version);

    if (origin)
        *origin = version == 1 ? "memory.limit_in_bytes" : version == 2 ? "memory.max" : "";
    return v;
}

/* A positive whole number from the environment variable name. */
static bool env_u64(const char *name, uint64_t *v)
{
    const char *s = getenv(name);

    return s && parse_u64(s, v) && *v > 0;
}

/* Slurm's memory for this job on this node; 0 = none. Per-node memory
 * first (--mem; 0 there means "all of the node's", so none); else the
 * per-CPU memory (--mem-per-cpu) times the CPUs allocated on this node.
 * A product beyond 64 bits is not a limit. */
static uint64_t slurm_limit(int cpus, int *slurm_cpus, const char **origin)
{
    uint64_t mb, n;

    if (env_u64("SLURM_MEM_PER_NODE", &mb)) {
        *origin = "SLURM_MEM_PER_NODE";
        return mb > UINT64_MAX / MIB ? 0 : mb * MIB;
    }
    if (!env_u64("SLURM_MEM_PER_CPU", &mb))
        return 0;
    if (!env_u64("SLURM_CPUS_ON_NODE", &n) || n > INT_MAX)
        n = cpus < 1 ? 1 : (uint64_t)cpus;
    if (mb > UINT64_MAX / MIB / n)
        return 0;
    *origin = "SLURM_MEM_PER_CPU";
    *slurm_cpus = (int)n;
    return mb * MIB * n;
}

/* MemAvailable of root/proc/meminfo in bytes ("MemAvailable:  123 kB");
 * 0 when unknown (kernels before 3.14 do not have it). */
static uint64_t meminfo_available(const char *root)
{
    char path[CFP_CGROUP_PATH], line[256];
    uint64_t kb = 0;
    FILE *f;

    if (!root || strcmp(root, "/") == 0)
        root = "";
    if (snprintf(path, sizeof(path), "%s/proc/meminfo", root) >= (int)sizeof(path) ||
        !(f = fopen(path, "re")))
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char *p = line + strlen("MemAvailable:"), *end;

        if (strncmp(line, "MemAvailable:", strlen("MemAvailable:")) != 0)
            continue;
        p += strspn(p, " \t");
        errno = 0;
        kb = isdigit((unsigned char)*p) ? strtoull(p, &end, 10) : 0;
        if (kb && (errno || strncmp(end + strspn(end, " \t"), "kB", 2) != 0))
            kb = 0;
        break;
    }
    fclose(f);
    return kb > UINT64_MAX / 1024 ? 0 : kb * 1024;
}

/* Makes v the budget when it is a limit tighter than the budget so far. */
static void consider(struct cfp_memlimit *m, uint64_t v, enum cfp_memlimit_source source,
                     const char *origin)
{
    if (v == 0 || (m->bytes != 0 && v >= m->bytes))
        return;
    m->bytes = v;
    m->source = source;
    m->origin = origin;
}

void cfp_memlimit_detect(const char *root, int cpus, struct cfp_memlimit *out)
{
    struct cfp_memlimit m;
    const char *cg_origin = "", *slurm_origin = "";

    memset(&m, 0, sizeof(m));
    m.cgroup = cfp_memlimit_cgroup(root, &cg_origin);
    m.slurm = slurm_limit(cpus, &m.slurm_cpus, &slurm_origin);
    m.mem_available = meminfo_available(root);
    m.available = m.mem_available / 5 * 4 + m.mem_available % 5 * 4 / 5; /* 80 %, no overflow */
    m.origin = "";
    m.source = CFP_MEMLIMIT_NONE;
    /* On a tie the enforced limit is named: Slurm's task/cgroup sets the
     * job's cgroup to exactly its --mem. */
    consider(&m, m.cgroup, CFP_MEMLIMIT_CGROUP, cg_origin);
    consider(&m, m.slurm, CFP_MEMLIMIT_SLURM, slurm_origin);
    consider(&m, m.available, CFP_MEMLIMIT_AVAILABLE, "MemAvailable");
    *out = m;
}

static void load(void)
{
    cfp_memlimit_detect(cached_root, cfp_cpus_count(), &cached);
}

const struct cfp_memlimit *cfp_memlimit_get(void)
{
    (void)pthread_once(&once, load);
    return &cached;
}

void cfp_memlimit_reload(const char *root)
{
    cached_root = root;
    (void)pthread_once(&once, load); /* spend the once, so it cannot run later */
    load();
}

const char *cfp_memlimit_source_name(enum cfp_memlimit_source s)
{
    switch (s) {
    case CFP_MEMLIMIT_CGROUP:
        return "cgroup";
    case CFP_MEMLIMIT_SLURM:
        return "slurm";
    case CFP_MEMLIMIT_AVAILABLE:
        return "available";
    default:
        return "none";
    }
}

/* The suffix at *p: its power of 1024 as a shift (0 for none), and p moved
 * past it and an optional "B" or "iB"; false for anything else. */
static bool parse_suffix(const char **p, unsigned *shift)
{
    static const char units[] = "kmgt"; /* 2^10, 2^20, 2^30, 2^40 */
    const char *s = *p;
    const char *u = *s ? strchr(units, tolower((unsigned char)*s)) : NULL;

    *shift = u ? 10 * (unsigned)(u - units + 1) : 0;
    s += *shift != 0;
    if (*shift && tolower((unsigned char)s[0]) == 'i' && tolower((unsigned char)s[1]) == 'b')
        s += 2;
    else if (tolower((unsigned char)*s) == 'b')
        s++;
    *p = s;
    return *s == '\0';
}

cfp_err cfp_memlimit_parse(const char *s, uint64_t *out)
{
    char *end;
    const char *p;
    unsigned long long v;
    unsigned shift;

    if (!s || !isdigit((unsigned char)*s))
        return CFP_ERR_USAGE; /* empty, a sign, a space: strtoull would take them */
    errno = 0;
    v = strtoull(s, &end, 10);
    p = end;
    if (errno || !parse_suffix(&p, &shift) || v > (UINT64_MAX >> shift))
        return CFP_ERR_USAGE;
    *out = (uint64_t)v << shift;
    return CFP_ERR_OK;
}

uint64_t cfp_memlimit_share(uint64_t bytes, int ranks_on_node)
{
    return bytes / (uint64_t)(ranks_on_node < 1 ? 1 : ranks_on_node);
}

char *cfp_memlimit_format(uint64_t bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    unsigned u = 0;
    double v;

    while (u < 6 && bytes >= 1ULL << (10 * (u + 1)))
        u++;
    v = (double)bytes / (double)(1ULL << (10 * u));
    if (u < 6 && v >= 1023.95) /* would print as "1024.0" of this unit */
        v /= 1024, u++;
    if (bytes % (1ULL << (10 * u)) == 0)
        (void)snprintf(buf, size, "%llu %s", (unsigned long long)(bytes >> (10 * u)), units[u]);
    else
        (void)snprintf(buf, size, "%.1f %s", v, units[u]);
    return buf;
}

char *cfp_memlimit_describe(const struct cfp_memlimit *m, char *buf, size_t size)
{
    switch (m->source) {
    case CFP_MEMLIMIT_CGROUP:
        (void)snprintf(buf, size, "cgroup %s", m->origin);
        break;
    case CFP_MEMLIMIT_SLURM:
        if (m->slurm_cpus > 0)
            (void)snprintf(buf, size, "Slurm %s x %d CPUs", m->origin, m->slurm_cpus);
        else
            (void)snprintf(buf, size, "Slurm %s", m->origin);
        break;
    case CFP_MEMLIMIT_AVAILABLE:
        (void)snprintf(buf, size, "80%% of MemAvailable");
        break;
    default:
        (void)snprintf(buf, size, "no cgroup limit, Slurm memory or MemAvailable");
        break;
    }
    return buf;
}

static void log_budget(void)
{
    const struct cfp_memlimit *m = cfp_memlimit_get();
    char budget[32], avail[32], how[96];

    cfp_memlimit_describe(m, how, sizeof(how));
    if (m->source == CFP_MEMLIMIT_NONE)
        cfp_log(CFP_LOG_INFO, "memory budget unknown (%s)", how);
    else if (m->mem_available)
        cfp_log(CFP_LOG_INFO, "memory budget %s (%s), %s available",
                cfp_memlimit_format(m->bytes, budget, sizeof(budget)), how,
                cfp_memlimit_format(m->mem_available, avail, sizeof(avail)));
    else
        cfp_log(CFP_LOG_INFO, "memory budget %s (%s)",
                cfp_memlimit_format(m->bytes, budget, sizeof(budget)), how);
}

void cfp_memlimit_log(void)
{
    (void)pthread_once(&log_once, log_budget);
}
