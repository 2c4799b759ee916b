/* cfp_report.c - text report from the HDF5 results. */
#include "cfp_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfp_clock.h"
#include "cfp_h5.h"
#include "cfp_mem.h"

#define REPORT_MAX_RUNS     24 /* the newest ones are shown */
#define REPORT_MAX_FAILURES 20

/* What the report knows of one run: its attributes and task sums. */
struct run_sum {
    char id[64];
    struct cfp_run_info info;
    double fetch_s, process_s, write_s;
    int64_t n_kind[3], ok_kind[3]; /* image, text, csv */
};

struct report {
    struct run_sum *runs; /* ring of the newest REPORT_MAX_RUNS */
    int64_t nruns;        /* runs seen in the file */
    const char *path;
    FILE *f;
    int fail_shown;
};

static int kind_index(const char *kind)
{
    if (strcmp(kind, "image") == 0)
        return 0;
    if (strcmp(kind, "text") == 0)
        return 1;
    if (strcmp(kind, "csv") == 0)
        return 2;
    return -1;
}

static int on_task(void *ctx, const struct cfp_record *r)
{
    struct run_sum *s = ctx;
    int k = kind_index(r->kind);

    s->fetch_s += r->t_fetch;
    s->process_s += r->t_process;
    s->write_s += r->t_write;
    if (k >= 0) {
        s->n_kind[k]++;
        if (r->code == CFP_ERR_OK)
            s->ok_kind[k]++;
    }
    return 0;
}

static int on_run(void *ctx, const char *run_id, const struct cfp_run_info *info)
{
    struct report *rep = ctx;
    struct run_sum *s = &rep->runs[rep->nruns % REPORT_MAX_RUNS];

    memset(s, 0, sizeof(*s));
    (void)snprintf(s->id, sizeof(s->id), "%s", run_id);
    s->info = *info;
    rep->nruns++;
    return 0;
}

static const struct run_sum *nth(const struct report *rep, int64_t i)
{
    return &rep->runs[i % REPORT_MAX_RUNS];
}

static int64_t first_shown(const struct report *rep)
{
    return rep->nruns > REPORT_MAX_RUNS ? rep->nruns - REPORT_MAX_RUNS : 0;
}

static double pct(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

static void print_runs(const struct report *rep, long cores)
{
    FILE *f = rep->f;

    fprintf(f, "Runs (newest last)\n------------------\n");
    fprintf(f, "%-22s %-11s %-10s %6s %5s %5s %6s %6s %8s %8s %7s %6s %8s\n", "run", "mode",
            "workload", "lat_ms", "wrk", "conc", "tasks", "failed", "wall_s", "files/s", "MB/s",
            "cpu%", "rss_MB");
    for (int64_t i = first_shown(rep); i < rep->nruns; i++) {
        const struct cfp_run_info *in = &nth(rep, i)->info;
        double wall = in->wall_s > 0 ? in->wall_s : 1e-9;
        fprintf(f, "%-22s %-11s %-10s %6d %5d %5d %6lld %6lld %8.2f %8.1f %7.1f %5.0f%% %8.1f%s\n",
                nth(rep, i)->id, in->mode, in->workload, in->latency_ms, in->workers,
                in->concurrency, (long long)in->tasks, (long long)in->failed, in->wall_s,
                (double)in->tasks / wall, (double)in->bytes_in / wall / 1e6,
                pct(in->cpu_user_s + in->cpu_sys_s, wall * (double)cores),
                (double)in->peak_rss_kb / 1024.0, in->complete ? "" : "  (incomplete)");
    }
    fprintf(f, "\nfiles/s = tasks / wall; MB/s = bytes downloaded / wall; cpu%% = (user+sys) / "
               "wall / %ld cores.\n\n",
            cores);
}

static void print_phases(const struct report *rep)
{
    FILE *f = rep->f;

    fprintf(f, "Where the task time went (sums over tasks, seconds and share)\n");
    fprintf(f, "-------------------------------------------------------------\n");
    fprintf(f, "%-22s %16s %16s %16s   %s\n", "run", "fetch", "process", "write",
            "images/texts/csv ok");
    for (int64_t i = first_shown(rep); i < rep->nruns; i++) {
        const struct run_sum *s = nth(rep, i);
        double tot = s->fetch_s + s->process_s + s->write_s;
        fprintf(f, "%-22s %8.2f (%4.0f%%) %8.2f (%4.0f%%) %8.2f (%4.0f%%)   %lld/%lld %lld/%lld %lld/%lld\n",
                s->id, s->fetch_s, pct(s->fetch_s, tot), s->process_s, pct(s->process_s, tot),
                s->write_s, pct(s->write_s, tot), (long long)s->ok_kind[0],
                (long long)s->n_kind[0], (long long)s->ok_kind[1], (long long)s->n_kind[1],
                (long long)s->ok_kind[2], (long long)s->n_kind[2]);
    }
    fprintf(f, "\n");
}

/* For each workload, the newest run of each mode against the newest
 * sequential run of the same workload. */
static void print_comparison(const struct report *rep)
{
    FILE *f = rep->f;
    bool any = false;

    for (int64_t i = rep->nruns - 1; i >= first_shown(rep); i--) {
        const struct run_sum *s = nth(rep, i);
        const struct run_sum *seq = NULL;
        bool newest_of_pair = true;
        for (int64_t j = rep->nruns - 1; j >= first_shown(rep); j--) {
            const struct run_sum *o = nth(rep, j);
            if (strcmp(o->info.workload, s->info.workload) != 0)
                continue;
            if (j > i && strcmp(o->info.mode, s->info.mode) == 0)
                newest_of_pair = false;
            if (!seq && strcmp(o->info.mode, "sequential") == 0)
                seq = o;
        }
        if (!newest_of_pair || !seq || seq == s || s->info.wall_s <= 0)
            continue;
        if (!any)
            fprintf(f, "Speedup against sequential (same workload, newest runs)\n"
                       "-------------------------------------------------------\n");
        any = true;
        fprintf(f, "%-10s %-11s %8.2f s vs %8.2f s  speedup %5.2fx\n", s->info.workload,
                s->info.mode, s->info.wall_s, seq->info.wall_s, seq->info.wall_s / s->info.wall_s);
    }
    if (any)
        fprintf(f, "\n");
}

/* Observations computed from the newest run's own numbers. */
static void print_insights(const struct report *rep, long cores)
{
    const struct run_sum *s = nth(rep, rep->nruns - 1);
    const struct cfp_run_info *in = &s->info;
    double tot = s->fetch_s + s->process_s + s->write_s;
    double fetch_share = pct(s->fetch_s, tot), cpu_share = pct(s->process_s + s->write_s, tot);
    double wall = in->wall_s > 0 ? in->wall_s : 1e-9;
    double cpu_bound_floor = (s->process_s + s->write_s) / (double)cores;
    FILE *f = rep->f;

    fprintf(f, "What the numbers say (newest run, %s)\n", s->id);
    fprintf(f, "------------------------------------------------------------\n");
    fprintf(f, "- Task time was %.0f%% fetching and %.0f%% processing+writing: the workload is %s.\n",
            fetch_share, cpu_share,
            fetch_share >= 60 ? "I/O-bound (waiting on the network dominates)"
            : cpu_share >= 60 ? "CPU-bound (decoding, resizing, parsing dominate)"
                              : "mixed");
    if (in->latency_ms > 0 && in->tasks > 0)
        fprintf(f, "- Each request waited %d ms on the server: %lld requests x %d ms = %.2f s, %.0f%% "
                   "of the %.2f s wall time.\n",
                in->latency_ms, (long long)in->tasks, in->latency_ms,
                (double)in->tasks * in->latency_ms / 1000.0,
                pct((double)in->tasks * in->latency_ms / 1000.0, wall), in->wall_s);
    fprintf(f, "- CPU use was %.0f%% of %ld cores. ", pct(in->cpu_user_s + in->cpu_sys_s, wall * (double)cores),
            cores);
    if (strcmp(in->mode, "sequential") == 0)
        fprintf(f, "One task at a time can use at most one core and waits idle during every fetch.\n");
    else
        fprintf(f, "\n");
    fprintf(f, "- Lower bound for any engine on this machine: the CPU work spread over %ld cores takes "
               "%.2f s; waits can overlap only as far as the concurrency allows.\n",
            cores, cpu_bound_floor);
    if (in->failed > 0)
        fprintf(f, "- %lld of %lld tasks failed; each failure is listed below with its cause, and "
                   "every other task completed.\n",
                (long long)in->failed, (long long)in->tasks);
    fprintf(f, "\n");
}

static int on_failure(void *ctx, const struct cfp_record *r)
{
    struct report *rep = ctx;

    if (r->code == CFP_ERR_OK)
        return 0;
    if (rep->fail_shown++ >= REPORT_MAX_FAILURES)
        return 1;
    fprintf(rep->f, "  #%lld %s\n      %s: %s\n", (long long)r->index, r->url, cfp_errname(r->code),
            r->error);
    return 0;
}

static cfp_err write_body(struct report *rep, struct cfp_status *st)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const struct run_sum *last;
    char now[32];
    cfp_err err;

    if (cores < 1)
        cores = 1;
    cfp_iso8601_now(now, sizeof(now));
    fprintf(rep->f, "cfp performance report\n======================\n");
    fprintf(rep->f, "Results: %s (%lld runs)\nGenerated: %s by cfp %s on %ld cores\n\n", rep->path,
            (long long)rep->nruns, now, CFP_VERSION, cores);
    if (rep->nruns == 0) {
        fprintf(rep->f, "No runs recorded yet.\n");
        return CFP_ERR_OK;
    }
    print_runs(rep, cores);
    print_phases(rep);
    print_comparison(rep);
    print_insights(rep, cores);
    last = nth(rep, rep->nruns - 1);
    if (last->info.failed > 0) {
        fprintf(rep->f, "Failed tasks of %s (first %d)\n", last->id, REPORT_MAX_FAILURES);
        err = cfp_h5_read_tasks(rep->path, last->id, on_failure, rep, st);
        if (err)
            return err;
    }
    return CFP_ERR_OK;
}

cfp_err cfp_report_write(const char *results_path, const char *out_path, struct cfp_status *st)
{
    struct report rep = {0};
    char tmp[CFP_PATH_MAX + 16];
    bool to_stdout = strcmp(out_path, "-") == 0;
    cfp_err err;

    rep.path = results_path;
    rep.runs = cfp_calloc(REPORT_MAX_RUNS, sizeof(*rep.runs));
    if (!rep.runs)
        return cfp_status_set(st, CFP_ERR_NOMEM, "report: out of memory");
    err = cfp_h5_read_runs(results_path, on_run, &rep, st);
    for (int64_t i = first_shown(&rep); !err && i < rep.nruns; i++) {
        struct run_sum *s = &rep.runs[i % REPORT_MAX_RUNS];
        err = cfp_h5_read_tasks(results_path, s->id, on_task, s, st);
    }
    if (err)
        goto out_free_runs;
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", out_path, (long)getpid());
    rep.f = to_stdout ? stdout : fopen(tmp, "w");
    if (!rep.f) {
        err = cfp_status_set(st, CFP_ERR_IO, "create %s: %s", tmp, strerror(errno));
        goto out_free_runs;
    }
    err = write_body(&rep, st);
    if (to_stdout) {
        fflush(stdout);
    } else if (fclose(rep.f) != 0 || err || rename(tmp, out_path) != 0) {
        if (!err)
            err = cfp_status_set(st, CFP_ERR_IO, "write %s: %s", out_path, strerror(errno));
        (void)unlink(tmp);
    }
out_free_runs:
    cfp_free(rep.runs);
    return err;
}
