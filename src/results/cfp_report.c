/* cfp_report.c - load the runs of a results file and write the report. */
#include "results/cfp_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_cpus.h"
#include "base/cfp_mem.h"
#include "results/cfp_report_internal.h"

#define REPORT_MAX_FAILURES 20

static const char *const mode_names[CFP_REPORT_MODES] = {"sequential", "threading", "mpi", "async"};

int cfp_report_mode_slot(const char *mode)
{
    for (int i = 0; i < CFP_REPORT_MODES; i++)
        if (strcmp(mode, mode_names[i]) == 0)
            return i;
    return strcmp(mode, "multiprocessing") == 0 ? 2 : -1;
}

/* The label of a mode in the table, the insights and the chart alike: the
 * mode as recorded in the file and in run ids ("mpi"; `--mode
 * multiprocessing` records "mpi"), so no two parts of the report name the
 * same runs differently. */
const char *cfp_report_mode_label(int slot)
{
    return mode_names[slot];
}

double cfp_report_pct(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}

double cfp_report_wall(const struct cfp_report_run *s)
{
    return s->info.wall_s > 1e-9 ? s->info.wall_s : 1e-9;
}

double cfp_report_cpus(const struct cfp_report_state *rep, const struct cfp_report_run *s)
{
    return s->info.cpus > 0 ? (double)s->info.cpus : (double)rep->cores;
}

double cfp_report_parallel_units(const struct cfp_report_state *rep, const struct cfp_report_run *s)
{
    double units = (double)(s->info.workers > 0 ? s->info.workers : 1) *
                   (s->info.ranks > 0 ? s->info.ranks : 1);
    if (strcmp(s->info.mode, "sequential") == 0)
        return 1;
    return units < cfp_report_cpus(rep, s) ? units : cfp_report_cpus(rep, s);
}

double cfp_report_cpu_util(const struct cfp_report_state *rep, const struct cfp_report_run *s)
{
    return (s->info.cpu_user_s + s->info.cpu_sys_s) / cfp_report_wall(s) / cfp_report_cpus(rep, s);
}

static int kind_index(const char *kind)
{
    static const char *const kinds[] = {"image", "text", "csv"};
    for (int i = 0; i < 3; i++)
        if (strcmp(kind, kinds[i]) == 0)
            return i;
    return -1;
}

/* A 64-bit mix of one row's identity and outcome; summed over rows it gives
 * a fingerprint that does not depend on completion order. */
static uint64_t row_hash(const struct cfp_record *r)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)r->index;
    const char *s = r->digest;

    h = (h ^ (uint64_t)r->code) * 1099511628211ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h ^= h >> 31;
    h *= 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

/* Adds r to its host's totals. */
static void host_add(struct cfp_report_run *s, const struct cfp_record *r)
{
    struct host_sum *h = NULL;

    for (int i = 0; i < s->nhosts && !h; i++)
        if (strcmp(s->hosts[i].name, r->host) == 0)
            h = &s->hosts[i];
    if (!h && s->nhosts < CFP_REPORT_HOSTS) {
        h = &s->hosts[s->nhosts++];
        (void)snprintf(h->name, sizeof(h->name), "%s", r->host);
    }
    if (!h) {
        h = &s->hosts[CFP_REPORT_HOSTS];
        (void)snprintf(h->name, sizeof(h->name), "(other hosts)");
    }
    h->tasks++;
    h->ok += r->code == CFP_ERR_OK;
    h->busy_s += r->t_fetch + r->t_process + r->t_write;
}

static int on_task(void *ctx, const struct cfp_record *r)
{
    struct cfp_report_run *s = ctx;
    int k = kind_index(r->kind);

    host_add(s, r);
    s->fetch_s += r->t_fetch;
    s->process_s += r->t_process;
    s->write_s += r->t_write;
    s->fingerprint += row_hash(r);
    if (r->rank >= 0 && r->rank < CFP_REPORT_RANKS) {
        s->rank_busy[r->rank] += r->t_fetch + r->t_process + r->t_write;
        s->rank_tasks[r->rank]++;
    }
    if (k >= 0) {
        s->n_kind[k]++;
        if (r->code == CFP_ERR_OK)
            s->ok_kind[k]++;
    }
    return 0;
}

static int on_run(void *ctx, const char *run_id, const struct cfp_run_info *info)
{
    struct cfp_report_state *rep = ctx;
    struct cfp_report_run *s = &rep->runs[rep->nruns % CFP_REPORT_MAX_RUNS];

    memset(s, 0, sizeof(*s));
    (void)snprintf(s->id, sizeof(s->id), "%s", run_id);
    s->info = *info;
    rep->nruns++;
    return 0;
}

static int64_t first_shown(const struct cfp_report_state *rep)
{
    return rep->nruns > CFP_REPORT_MAX_RUNS ? rep->nruns - CFP_REPORT_MAX_RUNS : 0;
}

static const struct cfp_report_run *nth(const struct cfp_report_state *rep, int64_t i)
{
    return &rep->runs[i % CFP_REPORT_MAX_RUNS];
}

double cfp_report_load_balance(const struct cfp_report_run *s)
{
    double max = 0, sum = 0;
    int n = s->info.ranks < CFP_REPORT_RANKS ? s->info.ranks : CFP_REPORT_RANKS;

    for (int i = 0; i < n; i++) {
        sum += s->rank_busy[i];
        if (s->rank_busy[i] > max)
            max = s->rank_busy[i];
    }
    return sum > 0 ? max / (sum / n) : 1.0;
}

static int engine_index(const char *engine)
{
    return strcmp(engine, "threading") == 0 ? 1 : strcmp(engine, "async") == 0 ? 2 : 0;
}

/* The multiprocessing row: the newest mpi run with the sequential rank
 * engine on the most ranks (the seed's process pool), else the newest. */
static void pick_multiprocessing(struct cfp_report_workload *w)
{
    for (int k = CFP_REPORT_RANKS; k >= 1; k--)
        if (w->matrix[k][0]) {
            w->by_mode[2] = w->matrix[k][0];
            return;
        }
}

/* Groups the newest run of each mode by workload, in order of appearance. */
static void build_views(struct cfp_report_state *rep)
{
    for (int64_t i = first_shown(rep); i < rep->nruns; i++) {
        const struct cfp_report_run *s = nth(rep, i);
        int slot = cfp_report_mode_slot(s->info.mode), w;
        for (w = 0; w < rep->nwl; w++)
            if (strcmp(rep->wl[w].name, s->info.workload) == 0)
                break;
        if (w == rep->nwl) {
            if (rep->nwl == CFP_REPORT_MAX_WORKLOADS)
                continue;
            rep->wl[rep->nwl++].name = s->info.workload;
        }
        if (slot >= 0)
            rep->wl[w].by_mode[slot] = s; /* later runs replace earlier ones */
        if (slot == 2 && s->info.ranks >= 1 && s->info.ranks <= CFP_REPORT_RANKS)
            rep->wl[w].matrix[s->info.ranks][engine_index(s->info.engine)] = s;
    }
    for (int w = 0; w < rep->nwl; w++)
        pick_multiprocessing(&rep->wl[w]);
}

/* Whether s is a workload's run of some mode or of its MPI matrix: the
 * runs whose task sums (phases, digests, ranks) the report prints. */
static bool in_view(const struct cfp_report_state *rep, const struct cfp_report_run *s)
{
    for (int w = 0; w < rep->nwl; w++) {
        const struct cfp_report_workload *v = &rep->wl[w];
        for (int m = 0; m < CFP_REPORT_MODES; m++)
            if (v->by_mode[m] == s)
                return true;
        for (int k = 1; k <= CFP_REPORT_RANKS; k++)
            for (int e = 0; e < 3; e++)
                if (v->matrix[k][e] == s)
                    return true;
    }
    return false;
}

static cfp_err load(struct cfp_report_state *rep, const char *path, struct cfp_status *st)
{
    cfp_err err;

    memset(rep, 0, sizeof(*rep));
    rep->path = path;
    /* What this process may use, not the machine's count: under taskset,
     * Slurm or a cgroup quota the efficiency of a run is over the CPUs it
     * had. Runs that recorded their own count use it (cfp_report_cpus). */
    rep->cores = cfp_cpus_get()->count;
    rep->online = cfp_cpus_get()->online;
    rep->cores_source = cfp_cpus_source_name(cfp_cpus_get()->source);
    rep->runs = cfp_calloc(CFP_REPORT_MAX_RUNS, sizeof(*rep->runs));
    if (!rep->runs)
        return cfp_status_set(st, CFP_ERR_NOMEM, "report: out of memory");
    err = cfp_h5_read_runs(path, on_run, rep, st);
    if (err)
        return err;
    build_views(rep);
    /* Only the runs the report shows in detail need their tasks read: a
     * results file that collects hundreds of runs (a benchmark appends
     * to one) costs the same to report as one with a run per mode. */
    for (int64_t i = first_shown(rep); !err && i < rep->nruns; i++) {
        struct cfp_report_run *s = &rep->runs[i % CFP_REPORT_MAX_RUNS];
        if (i == rep->nruns - 1 || in_view(rep, s))
            err = cfp_h5_read_tasks_brief(path, s->id, on_task, s, st);
    }
    return err;
}

/* Whether every mode's newest run of w (and every run of its MPI matrix)
 * recorded the same tasks, statuses and output digests (compared through
 * their fingerprints and task counts). */
static bool workload_identical(const struct cfp_report_workload *w, int *nmodes)
{
    const struct cfp_report_run *ref = NULL;
    bool same = true;

    *nmodes = 0;
    for (int m = 0; m < CFP_REPORT_MODES + (CFP_REPORT_RANKS + 1) * 3; m++) {
        const struct cfp_report_run *s = m < CFP_REPORT_MODES ? w->by_mode[m]
                                                   : w->matrix[(m - CFP_REPORT_MODES) / 3]
                                                              [(m - CFP_REPORT_MODES) % 3];
        if (!s)
            continue;
        if (m < CFP_REPORT_MODES)
            (*nmodes)++;
        if (!ref)
            ref = s;
        else if (s->fingerprint != ref->fingerprint || s->info.tasks != ref->info.tasks)
            same = false;
    }
    return same;
}

/* The speedup and eff columns of run s: "-" without a sequential run to
 * compare with (a plain processing run), rather than a misleading 0.00x. */
static const char *speed_cols(char *buf, size_t size, const struct cfp_report_state *rep,
                              const struct cfp_report_run *seq, const struct cfp_report_run *s)
{
    double speed;

    if (!seq) {
        (void)snprintf(buf, size, "%8s %6s", "-", "-");
        return buf;
    }
    speed = cfp_report_wall(seq) / cfp_report_wall(s);
    (void)snprintf(buf, size, "%7.2fx %5.0f%%", speed,
                   100.0 * speed / cfp_report_parallel_units(rep, s));
    return buf;
}

static void print_workload_table(const struct cfp_report_state *rep, const struct cfp_report_workload *w)
{
    const struct cfp_report_run *seq = w->by_mode[0];
    FILE *f = rep->f;
    int nmodes;
    bool same = workload_identical(w, &nmodes);

    fprintf(f, "%-16s %9s %8s %8s %7s %8s %6s %5s %7s %6s   %s\n", "mode", "wrk/conc", "wall_s",
            "files/s", "MB/s", "speedup", "eff", "cpu%", "rss_MB", "failed",
            "fetch/process/write");
    for (int m = 0; m < CFP_REPORT_MODES; m++) {
        const struct cfp_report_run *s = w->by_mode[m];
        const struct cfp_run_info *in = s ? &s->info : NULL;
        double tot;
        char wc[24], sp[48];
        /* A run of one mode (a plain processing run) is shown alone: rows
         * of modes nobody asked for would only be noise. */
        if (!s && nmodes <= 1)
            continue;
        if (!s) {
            fprintf(f, "%-16s %s\n", cfp_report_mode_label(m),
                    m == 2 ? "no run recorded (cfp --compare runs it when built with MPI)"
                           : "no run recorded for this workload");
            continue;
        }
        tot = s->fetch_s + s->process_s + s->write_s;
        (void)snprintf(wc, sizeof(wc), "%d/%d", in->workers, in->concurrency);
        if (m == 2)
            (void)snprintf(wc, sizeof(wc), "%dr x%d", in->ranks, in->workers);
        fprintf(f, "%-16s %9s %8.2f %8.1f %7.1f %s %4.0f%% %7.1f %6lld   %.0f/%.0f/%.0f%%\n",
                cfp_report_mode_label(m), wc, in->wall_s, (double)in->tasks / cfp_report_wall(s),
                (double)in->bytes_in / cfp_report_wall(s) / 1e6,
                speed_cols(sp, sizeof(sp), rep, seq, s), 100.0 * cfp_report_cpu_util(rep, s),
                (double)in->peak_rss_kb / 1024.0, (long long)in->failed,
                cfp_report_pct(s->fetch_s, tot), cfp_report_pct(s->process_s, tot),
                cfp_report_pct(s->write_s, tot));
    }
    if (nmodes > 1)
        fprintf(f, "Outputs: %s across the %d modes (status and SHA-256 of every output, per task).\n",
                same ? "identical" : "DIFFERENT", nmodes);
}

/* The ranks x rank-engine matrix of a workload's mpi runs, if any. */
static void print_matrix(const struct cfp_report_state *rep, const struct cfp_report_workload *w)
{
    static const char *const eng[3] = {"sequential", "threading", "async"};
    const struct cfp_report_run *seq = w->by_mode[0];
    FILE *f = rep->f;
    bool any = false;

    for (int k = 1; k <= CFP_REPORT_RANKS; k++)
        for (int e = 0; e < 3; e++) {
            const struct cfp_report_run *s = w->matrix[k][e];
            if (!s)
                continue;
            if (!any)
                fprintf(f, "MPI runs (newest per ranks x rank engine; balance = max/mean task time per rank):\n"
                           "%6s %-11s %8s %8s %8s\n", "ranks", "engine", "wall_s", "speedup", "balance");
            any = true;
            fprintf(f, "%6d %-11s %8.2f %7.2fx %8.2f\n", k, eng[e], s->info.wall_s,
                    seq ? cfp_report_wall(seq) / cfp_report_wall(s) : 0, cfp_report_load_balance(s));
        }
    if (any)
        fprintf(f, "\n");
}

static void print_workloads(const struct cfp_report_state *rep)
{
    FILE *f = rep->f;

    for (int i = 0; i < rep->nwl; i++) {
        const struct cfp_report_workload *w = &rep->wl[i];
        const struct cfp_report_run *any = NULL;
        for (int m = 0; m < CFP_REPORT_MODES && !any; m++)
            any = w->by_mode[m];
        if (!any)
            continue;
        fprintf(f, "Workload '%s': %lld tasks, %.1f MB, server latency %d ms (newest run of each mode)\n",
                w->name, (long long)any->info.tasks, (double)any->info.bytes_in / 1e6,
                any->info.latency_ms);
        fprintf(f, "------------------------------------------------------------------------------\n");
        print_workload_table(rep, w);
        fprintf(f, "\n");
        print_matrix(rep, w);
        cfp_report_print_insights(rep, w);
    }
    fprintf(f, "Columns: wrk/conc = workers (threads) / transfers in flight; speedup = sequential wall / "
               "wall;\neff = speedup / cores the mode can compute on (min(CPUs, workers x ranks); over "
               "100%% means\nwaits were overlapped, not that cores multiplied); cpu%% = (user+sys) / wall "
               "/ the run's CPUs\n(its cpus attribute; %ld for runs recorded without one); rss_MB = "
               "peak resident memory of the run;\nfetch/process/write = shares of the summed task "
               "time; mpi = ranks x rank engine (the --compare row\nis cfp --mode "
               "multiprocessing: the seed's process pool).\n\n",
            rep->cores);
}

static void print_history(const struct cfp_report_state *rep)
{
    FILE *f = rep->f;

    fprintf(f, "All runs in the file (newest %d, oldest first)\n", CFP_REPORT_MAX_RUNS);
    fprintf(f, "------------------------------------------------\n");
    for (int64_t i = first_shown(rep); i < rep->nruns; i++) {
        const struct cfp_report_run *s = nth(rep, i);
        fprintf(f, "%-22s %-10s %-11s %s  %6lld tasks %5lld failed %8.2f s%s\n", s->id,
                s->info.workload, s->info.mode, s->info.started, (long long)s->info.tasks,
                (long long)s->info.failed, s->info.wall_s, s->info.complete ? "" : "  (incomplete)");
    }
    fprintf(f, "\n");
}

/* Where the newest run's tasks ran, when that was more than one host. */
static void print_hosts(const struct cfp_report_state *rep, const struct cfp_report_run *s)
{
    int n = s->nhosts + (s->hosts[CFP_REPORT_HOSTS].tasks > 0);
    double busy = 0;

    if (n < 2)
        return;
    for (int i = 0; i <= CFP_REPORT_HOSTS; i++)
        busy += s->hosts[i].busy_s;
    fprintf(rep->f, "Per host, newest run %s (%d hosts; busy = summed task time)\n", s->id, n);
    fprintf(rep->f, "%-24s %8s %8s %8s %10s %6s\n", "host", "tasks", "ok", "failed", "busy_s", "share");
    for (int i = 0; i <= CFP_REPORT_HOSTS; i++) {
        const struct host_sum *h = &s->hosts[i];
        if (!h->tasks)
            continue;
        fprintf(rep->f, "%-24s %8lld %8lld %8lld %10.2f %5.0f%%\n", h->name[0] ? h->name : "(unknown)",
                (long long)h->tasks, (long long)h->ok, (long long)(h->tasks - h->ok), h->busy_s,
                cfp_report_pct(h->busy_s, busy));
    }
    fprintf(rep->f, "\n");
}

static int on_failure(void *ctx, const struct cfp_record *r)
{
    struct cfp_report_state *rep = ctx;

    if (r->code == CFP_ERR_OK)
        return 0;
    if (rep->fail_shown++ >= REPORT_MAX_FAILURES)
        return 1;
    fprintf(rep->f, "  #%lld %s\n      %s: %s\n", (long long)r->index, r->url, cfp_errname(r->code),
            r->error);
    return 0;
}

/* The newest run's memory budget and what its images held at once. */
static void print_memory(const struct cfp_report_state *rep, const struct cfp_report_run *r)
{
    const struct cfp_run_info *in = &r->info;

    if (in->memory_source[0] == '\0')
        return; /* recorded before the budget existed */
    if (in->memory_budget <= 0)
        fprintf(rep->f, "Memory: the newest run had no budget (%s); its images held at most "
                        "%.1f MB at once, peak RSS %.1f MB.\n\n",
                in->memory_source, (double)in->memory_peak / 1048576.0,
                (double)in->peak_rss_kb / 1024.0);
    else
        fprintf(rep->f, "Memory: the newest run's budget was %.1f MB (%s); its images held at "
                        "most %.1f MB at once, peak RSS %.1f MB.\n\n",
                (double)in->memory_budget / 1048576.0, in->memory_source,
                (double)in->memory_peak / 1048576.0, (double)in->peak_rss_kb / 1024.0);
}

static cfp_err write_body(struct cfp_report_state *rep, struct cfp_status *st)
{
    const struct cfp_report_run *last;
    char now[32];

    cfp_iso8601_now(now, sizeof(now));
    fprintf(rep->f, "cfp performance report\n======================\n");
    fprintf(rep->f, "Results: %s (%lld runs)\nGenerated: %s by cfp %s: %ld CPU%s available (%s), %ld "
                    "online\n\n",
            rep->path, (long long)rep->nruns, now, CFP_VERSION, rep->cores,
            rep->cores == 1 ? "" : "s", rep->cores_source, rep->online);
    if (rep->nruns == 0) {
        fprintf(rep->f, "No runs recorded yet.\n");
        return CFP_ERR_OK;
    }
    last = nth(rep, rep->nruns - 1);
    print_memory(rep, last);
    print_workloads(rep);
    print_history(rep);
    print_hosts(rep, last);
    if (last->info.failed == 0)
        return CFP_ERR_OK;
    fprintf(rep->f, "Failed tasks of the newest run, %s (first %d)\n", last->id, REPORT_MAX_FAILURES);
    return cfp_h5_read_tasks(rep->path, last->id, on_failure, rep, st);
}

/* The chart's path: out_path with .txt replaced by .svg (or .svg appended). */
static void svg_path(const char *out_path, char *buf, size_t size)
{
    size_t n = strlen(out_path);

    if (n > 4 && strcmp(out_path + n - 4, ".txt") == 0)
        n -= 4;
    (void)snprintf(buf, size, "%.*s.svg", (int)(n < size - 5 ? n : size - 5), out_path);
}

cfp_err cfp_report_write(const char *results_path, const char *out_path, bool *identical,
                         struct cfp_status *st)
{
    struct cfp_report_state rep;
    char tmp[CFP_PATH_MAX + 32], svg[CFP_PATH_MAX + 8];
    bool to_stdout = strcmp(out_path, "-") == 0;
    cfp_err err = load(&rep, results_path, st);

    if (err)
        goto out_free_runs;
    if (identical) {
        int nmodes;
        *identical = true;
        for (int i = 0; i < rep.nwl; i++)
            if (!workload_identical(&rep.wl[i], &nmodes))
                *identical = false;
    }
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
    if (!err && !to_stdout) {
        svg_path(out_path, svg, sizeof(svg));
        err = cfp_report_write_svg(&rep, svg, st);
    }
out_free_runs:
    cfp_free(rep.runs);
    return err;
}
