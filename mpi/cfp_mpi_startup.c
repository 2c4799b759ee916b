/* cfp_mpi_startup.c - what starting MPI costs, and two cuts to it.
 *
 * Timing: every rank notes, on CLOCK_REALTIME (one clock for every process
 * of a host; across hosts as close as their clocks are synchronised), its
 * process start, the call to MPI_Init_thread and its return; cfp_mpi_relaunch()
 * notes the moment it starts mpirun in CFP_MPI_LAUNCH_T, which mpirun hands to
 * every rank. Rank 0 gathers the extremes and records, with the run, the
 * seconds from the launch to the last rank's return from MPI_Init
 * (mpi_startup_s): a cost the run's wall_s, which starts later, does not
 * show.
 *
 * Cuts (measured in doc/mpi.md, "Start-up"), both for Open MPI 4.1:
 * - OMPI_MCA_pml defaults to ob1. Otherwise MPI_Init also opens the cm PML
 *   and probes its PSM and PSM2 transports (Omni-Path, TrueScale), which
 *   costs ~0.2 s on a machine without that hardware. cfp's messages are few
 *   and small: the PML does not matter to its speed. A user's choice
 *   (OMPI_MCA_pml in the environment, mpirun --mca pml ...) wins.
 * - TCP_NODELAY on the rank's connection to the PMIx server (mpirun's, or
 *   the launcher's): PMIx 4.2 leaves Nagle's algorithm on, and MPI_Finalize
 *   sends its last small messages back to back, so the last of them waited
 *   for the server's delayed ACK: 40 ms in every MPI_Finalize.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_log.h"
#include "mpi/cfp_mpi_internal.h"

#define LAUNCH_ENV "CFP_MPI_LAUNCH_T"

/* This process's start-up, CLOCK_REALTIME seconds; 0 = unknown. */
static struct {
    double launch;       /* LAUNCH_ENV, when sane */
    double start;        /* process start */
    double init0, init1; /* MPI_Init_thread called, returned */
    double excluded_s;   /* rank 0's own work before MPI_Init (the dataset) */
} me;

static double real_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* When this process started (fork), from /proc/self/stat's starttime (clock
 * ticks since boot, CLOCK_BOOTTIME's origin): to 10 ms; 0 if unknown. */
static double process_start(void)
{
    char buf[1024], *p;
    unsigned long long ticks = 0;
    struct timespec boot;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
        return 0;
    /* After ")": state is field 3, starttime field 22. */
    if (sscanf(p + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
               "%*d %llu",
               &ticks) != 1)
        return 0;
    return real_now() - ((double)boot.tv_sec + (double)boot.tv_nsec * 1e-9 - (double)ticks / hz);
}

void cfp_mpi_startup_mark_launch(void)
{
    char v[32];

    (void)snprintf(v, sizeof(v), "%.6f", real_now());
    (void)setenv(LAUNCH_ENV, v, 1);
}

void cfp_mpi_startup_exclude(double seconds)
{
    me.excluded_s += seconds;
}

/* The host:port of the PMIx server this rank talks to (PMIX_SERVER_URI*:
 * "<nspace>.<rank>;tcp4://127.0.0.1:40983"); false when it is not TCP/IPv4
 * or IPv6, or not given. */
static bool pmix_server(struct sockaddr_storage *ss)
{
    static const char *const names[] = {"PMIX_SERVER_URI41", "PMIX_SERVER_URI4", "PMIX_SERVER_URI3",
                                        "PMIX_SERVER_URI21", "PMIX_SERVER_URI2"};
    char host[64];
    unsigned port = 0;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = getenv(names[i]), *p;
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        if (!v)
            continue;
        memset(ss, 0, sizeof(*ss));
        if ((p = strstr(v, "tcp4://")) && sscanf(p + 7, "%63[0-9.]:%u", host, &port) == 2 &&
            port > 0 && port < 65536 && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons((uint16_t)port);
            return true;
        }
        if ((p = strstr(v, "tcp6://[")) && sscanf(p + 8, "%63[0-9a-fA-F:]]:%u", host, &port) == 2 &&
            port > 0 && port < 65536 && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)port);
            return true;
        }
        return false;
    }
    return false;
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
    const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
    return a->ss_family == AF_INET6 && a6->sin6_port == b6->sin6_port &&
           memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* Turns Nagle's algorithm off on this process's connections to the PMIx
 * server (the file's comment says why). Best effort. */
static void pmix_nodelay(void)
{
    struct sockaddr_storage srv;
    DIR *d;
    struct dirent *e;
    int set = 0;

    if (!pmix_server(&srv) || !(d = opendir("/proc/self/fd")))
        return;
    while ((e = readdir(d)) != NULL) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd = atoi(e->d_name), one = 1;

        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
            continue;
        memset(&peer, 0, sizeof(peer));
        if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0 && same_peer(&peer, &srv) &&
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
            set++;
    }
    closedir(d);
    cfp_log(CFP_LOG_DEBUG, "PMIx server connection: TCP_NODELAY set on %d socket%s", set,
            set == 1 ? "" : "s");
}

int cfp_mpi_startup_init(int required, int *provided)
{
    const char *launch = getenv(LAUNCH_ENV);
    int rc;

    me.start = process_start();
    me.launch = launch ? strtod(launch, NULL) : 0;
    /* A launch after this process started, or more than an hour before it,
     * is not this job's (a variable left in an environment). */
    if (me.start > 0 && (me.launch > me.start + 1.0 || me.launch < me.start - 3600))
        me.launch = 0;
    if (getenv("OMPI_MCA_pml"))
        cfp_log(CFP_LOG_DEBUG, "Open MPI PML: OMPI_MCA_pml=%s kept", getenv("OMPI_MCA_pml"));
    else
        (void)setenv("OMPI_MCA_pml", "ob1", 0);
    me.init0 = real_now();
    rc = MPI_Init_thread(NULL, NULL, required, provided);
    me.init1 = real_now();
    if (rc == MPI_SUCCESS)
        pmix_nodelay();
    return rc;
}

void cfp_mpi_startup_gather(MPI_Comm comm, struct cfp_mpi_startup *su)
{
    /* One MAX reduction: minima travel negated. */
    double v[7] = {me.launch,
                   -me.launch,
                   -(me.start > 0 ? me.start : 1e300),
                   me.start,
                   me.start > 0 ? me.init0 - me.start : 0,
                   me.init1 - me.init0,
                   me.init1};
    double m[7] = {0};

    MPI_Reduce(v, m, 7, MPI_DOUBLE, MPI_MAX, 0, comm);
    memset(su, 0, sizeof(*su));
    /* Every rank must have been given the same launch, or none counts (a
     * rank without one makes the minimum 0). */
    su->launch = m[0] > 0 && -m[1] == m[0] ? m[0] : 0;
    su->first_start = -m[2] < 1e299 ? -m[2] : 0;
    su->last_start = m[3];
    su->load_s = m[4];
    su->init_s = m[5];
    su->ready = m[6];
    su->excluded_s = me.excluded_s; /* rank 0's: the others do no work before MPI_Init */
}

void cfp_mpi_startup_record(const struct cfp_mpi_startup *su, double run_t0,
                            struct cfp_run_info *info)
{
    double run_start = real_now() - (cfp_now() - run_t0);
    double from = su->launch > 0 ? su->launch : su->first_start, total;

    if (from <= 0 || su->ready <= 0)
        return;
    total = su->ready - from - su->excluded_s;
    if (total < 0 || total > 3600)
        return; /* clocks of different hosts too far apart to say */
    info->mpi_startup_s = total;
    if (su->launch > 0)
        cfp_log(CFP_LOG_INFO,
                "MPI start-up: %.3f s from starting mpirun to the last rank's return from "
                "MPI_Init: the ranks' processes started %.3f-%.3f s after mpirun, reached "
                "MPI_Init %.3f s later, MPI_Init took %.3f s; the run opened %.3f s after%s",
                total, su->first_start - su->launch, su->last_start - su->launch, su->load_s,
                su->init_s, run_start - su->ready,
                su->excluded_s > 0 ? " (dataset generation left out)" : "");
    else
        cfp_log(CFP_LOG_INFO,
                "MPI start-up: %.3f s from the first rank's start to the last rank's return "
                "from MPI_Init (the launcher's own start not included): the ranks reached "
                "MPI_Init after %.3f s, MPI_Init took %.3f s; the run opened %.3f s after%s",
                total, su->load_s, su->init_s, run_start - su->ready,
                su->excluded_s > 0 ? " (dataset generation left out)" : "");
}
