/* cfp_report_insights.c - "What the numbers say": observations computed
 * from a workload's measured runs, never canned conclusions. */
#include <string.h>

#include "results/cfp_report_internal.h"

/* The fastest run of w and the runner-up (NULL when there is none). */
static void rank_runs(const struct cfp_report_workload *w, const struct cfp_report_run **best,
                      const struct cfp_report_run **second)
{
    *best = *second = NULL;
    for (int m = 0; m < CFP_REPORT_MODES; m++) {
        const struct cfp_report_run *s = w->by_mode[m];
        if (!s)
            continue;
        if (!*best || s->info.wall_s < (*best)->info.wall_s) {
            *second = *best;
            *best = s;
        } else if (!*second || s->info.wall_s < (*second)->info.wall_s) {
            *second = s;
        }
    }
}

/* I/O- or CPU-bound, judged from the phase split of the sequential run
 * (where no overlap hides either phase), else of the first run found. */
static void print_boundness(const struct cfp_report_state *rep, const struct cfp_report_workload *w)
{
    const struct cfp_report_run *s = w->by_mode[0];
    double tot, fetch;

    for (int m = 1; !s && m < CFP_REPORT_MODES; m++)
        s = w->by_mode[m];
    tot = s->fetch_s + s->process_s + s->write_s;
    fetch = cfp_report_pct(s->fetch_s, tot);
    fprintf(rep->f, "- In the %s run, tasks spent %.0f%% of their time fetching and %.0f%% processing "
                    "and writing:\n  this workload is %s.\n",
            s->info.mode, fetch, 100.0 - fetch,
            fetch >= 60   ? "I/O-bound (waiting for the network dominates)"
            : fetch <= 40 ? "CPU-bound (decoding, resizing and parsing dominate)"
                          : "mixed (neither phase dominates)");
}

/* What stopped the winner from going faster. */
static void print_limit(const struct cfp_report_state *rep, const struct cfp_report_run *b)
{
    const struct cfp_run_info *in = &b->info;
    double util = cfp_report_cpu_util(rep, b);
    double cpus = cfp_report_cpus(rep, b);
    double cpu_floor = (in->cpu_user_s + in->cpu_sys_s) / cpus;
    double io_floor = in->concurrency > 0 && in->latency_ms > 0
                          ? (double)in->tasks * in->latency_ms / 1000.0 / in->concurrency
                          : 0;
    double tot = b->fetch_s + b->process_s + b->write_s;

    fprintf(rep->f, "- What limited %s: ", in->mode);
    if (util >= 0.8)
        fprintf(rep->f, "the cores. It kept %.1f of %.0f CPUs busy (%.0f%%); more workers cannot "
                        "help with these CPUs.\n",
                util * cpus, cpus, 100 * util);
    else if (io_floor > 0 && io_floor >= cpu_floor && in->wall_s <= 2.5 * io_floor)
        fprintf(rep->f, "latency x concurrency. %lld requests x %d ms / %d in flight = %.2f s of "
                        "unavoidable waiting;\n  it took %.2f s. More concurrency would lower that "
                        "floor; the CPU was only %.0f%% busy.\n",
                (long long)in->tasks, in->latency_ms, in->concurrency, io_floor, in->wall_s,
                100 * util);
    else if (cfp_report_pct(b->write_s, tot) >= 30)
        fprintf(rep->f, "the disk: writing outputs took %.0f%% of task time.\n",
                cfp_report_pct(b->write_s, tot));
    else if (strcmp(in->mode, "sequential") == 0)
        fprintf(rep->f, "doing one thing at a time: it used %.0f%% of %.0f CPUs and overlapped no "
                        "waits.\n",
                100 * util, cpus);
    else
        fprintf(rep->f, "not a hardware limit: the CPU was %.0f%% busy and the waiting floor is "
                        "%.2f s,\n  so the rest is coordination and serial work (%.2f s wall).\n",
                100 * util, io_floor, in->wall_s);
}

/* The seed lab's lesson, with this machine's numbers. */
static void print_lesson(const struct cfp_report_state *rep, const struct cfp_report_workload *w, bool cpu_bound)
{
    const struct cfp_report_run *seq = w->by_mode[0], *thr = w->by_mode[1], *asy = w->by_mode[3];

    if (!seq || !thr)
        return;
    if (cpu_bound)
        fprintf(rep->f, "- C has no GIL: on this CPU-bound work threads ran image code on all cores "
                        "at once and got\n  %.2fx over sequential on %.0f CPUs (efficiency %.0f%%). In "
                        "the Python seed lab the GIL\n  holds CPU-bound threads near 1x, and only "
                        "processes scale.\n",
                cfp_report_wall(seq) / cfp_report_wall(thr), cfp_report_cpus(rep, thr),
                100.0 * cfp_report_wall(seq) / cfp_report_wall(thr) / cfp_report_parallel_units(rep, thr));
    else if (asy)
        fprintf(rep->f, "- Waiting overlaps without cores: threading (%d threads) got %.1fx and async "
                        "(one loop, %d transfers) %.1fx\n  on %.0f CPUs, because a task waiting on "
                        "the network needs no CPU.\n",
                thr->info.workers, cfp_report_wall(seq) / cfp_report_wall(thr), asy->info.concurrency,
                cfp_report_wall(seq) / cfp_report_wall(asy), cfp_report_cpus(rep, thr));
}

/* The fixed cost of starting MPI ranks, which the mpi row's wall time does
 * not include (mpi_startup_s: the launch to the last rank's return from
 * MPI_Init), against the fastest other run: why MPI loses on short jobs. */
static void print_mpi_startup(const struct cfp_report_state *rep, const struct cfp_report_workload *w)
{
    const struct cfp_report_run *m = w->by_mode[2], *other = NULL;
    const char *name = cfp_report_mode_label(2);
    double su, whole;

    if (!m || m->info.mpi_startup_s <= 0)
        return;
    for (int i = 0; i < CFP_REPORT_MODES; i++)
        if (i != 2 && w->by_mode[i] && (!other || w->by_mode[i]->info.wall_s < other->info.wall_s))
            other = w->by_mode[i];
    su = m->info.mpi_startup_s;
    whole = su + m->info.wall_s;
    fprintf(rep->f, "- MPI start-up: %s started %d ranks (the launcher, loading, MPI_Init) before its "
                    "clock started:\n  start-up %.2f s of the %.2f s wall from launch (%.0f%%); a "
                    "fixed cost like this is under 5%% of runs over %.1f s.\n",
            name, m->info.ranks, su, whole, cfp_report_pct(su, whole), 19.0 * su);
    if (!other)
        return;
    if (whole <= other->info.wall_s)
        fprintf(rep->f, "  With it, %s is still %.2fx faster than %s (%.2f s).\n", name,
                other->info.wall_s / whole, other->info.mode, other->info.wall_s);
    else if (m->info.wall_s < other->info.wall_s)
        fprintf(rep->f, "  It turns a win into a loss: with it, %s took %.2fx the time of %s (%.2f "
                        "s), which it beat by %.2f s without it.\n",
                name, whole / cfp_report_wall(other), other->info.mode, other->info.wall_s,
                other->info.wall_s - m->info.wall_s);
    else
        fprintf(rep->f, "  %s lost to %s (%.2f s) even without it; start-up is %.0f%% of the "
                        "%.2f s gap.\n",
                name, other->info.mode, other->info.wall_s,
                cfp_report_pct(su, whole - other->info.wall_s), whole - other->info.wall_s);
}

void cfp_report_print_insights(const struct cfp_report_state *rep, const struct cfp_report_workload *w)
{
    const struct cfp_report_run *best, *second, *seq = w->by_mode[0];
    double fetch_share;

    rank_runs(w, &best, &second);
    if (!best)
        return;
    fprintf(rep->f, "What the numbers say about '%s'\n", w->name);
    if (second)
        fprintf(rep->f, "- %s won: %.2f s, %.2fx faster than %s (%.2f s)%s", best->info.mode,
                best->info.wall_s, cfp_report_wall(second) / cfp_report_wall(best), second->info.mode,
                second->info.wall_s, seq && seq != best && seq != second ? "" : ".\n");
    if (second && seq && seq != best && seq != second)
        fprintf(rep->f, " and %.2fx faster than sequential.\n", cfp_report_wall(seq) / cfp_report_wall(best));
    print_boundness(rep, w);
    print_limit(rep, best);
    fetch_share = seq ? cfp_report_pct(seq->fetch_s, seq->fetch_s + seq->process_s + seq->write_s) : 50;
    print_lesson(rep, w, fetch_share <= 40);
    print_mpi_startup(rep, w);
    if (best->info.failed > 0)
        fprintf(rep->f, "- %lld of %lld tasks failed in the winning run; each is recorded with its "
                        "cause, and every other task completed.\n",
                (long long)best->info.failed, (long long)best->info.tasks);
    fprintf(rep->f, "\n");
}
