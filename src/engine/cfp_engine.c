/* cfp_engine.c - mode names, defaults, dispatch, and the sequential engine. */
#include "engine/cfp_engine.h"

#include <string.h>

#include "base/cfp_cpus.h"
#include "base/cfp_scratch.h"
#include "engine/cfp_engine_internal.h"
#include "task/cfp_budget.h"

/* Image bodies buffered ahead of the cores, per core slot (cfp_budget.h). */
#define PARK_PER_CORE ((uint64_t)4 << 20)

static const char *const mode_names[CFP_MODE_COUNT_] = {"sequential", "threading", "async", "mpi"};

const char *cfp_mode_name(enum cfp_mode m)
{
    return (unsigned)m < CFP_MODE_COUNT_ ? mode_names[m] : "unknown";
}

bool cfp_mode_parse(const char *s, enum cfp_mode *m)
{
    for (int i = 0; i < CFP_MODE_COUNT_; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *m = (enum cfp_mode)i;
            return true;
        }
    if (strcmp(s, "threads") == 0) {
        *m = CFP_MODE_THREADS;
        return true;
    }
    return false;
}

/* The defaults for c CPUs (doc/engines.md). */
static void size_for(enum cfp_mode m, int c, struct cfp_engine_opts *eo)
{
    eo->cpu_slots = c;
    switch (m) {
    case CFP_MODE_THREADS:
        /* Threads block during transfers, so the pool is sized for I/O
         * overlap (8 per core, at most 64); image work is still capped at
         * one job per core by cpu_slots. */
        eo->workers = 8 * c > 64 ? 64 : 8 * c;
        eo->concurrency = eo->workers;
        break;
    case CFP_MODE_ASYNC:
        /* One loop multiplexes transfers cheaply: 64 in flight. The CPU
         * pool never waits on the network, but one thread per core left
         * cores idle: the loop thread copies every body byte on those same
         * cores, and a worker waits whenever the queue runs dry between
         * bursts of bodies. One thread more than cores was measured 10 %
         * faster behind 50 ms of latency (peer dataset, 1.81 -> 1.64 s,
         * interleaved runs), ~5 % at latency 0, no change over file://;
         * the memory bound grows by three bodies (doc/async.md). */
        eo->workers = c + 1;
        eo->concurrency = 64;
        break;
    default:
        eo->workers = 1;
        eo->concurrency = 1;
        eo->cpu_slots = 1;
        break;
    }
}

void cfp_engine_size(enum cfp_mode m, int cpus, int workers, int concurrency,
                     struct cfp_engine_opts *eo)
{
    /* Not the machine's cores: under taskset, Slurm or a cgroup quota those
     * oversubscribe what this process may run on (cfp_cpus.h). 256 bounds
     * what a count can make of the pools (threading stops at 64 anyway). */
    int c = cpus > 0 ? cpus : cfp_cpus_count();

    c = c > 256 ? 256 : c;
    size_for(m, c, eo);
    if (m == CFP_MODE_SEQUENTIAL)
        return;
    if (workers > 0)
        eo->workers = workers;
    if (concurrency > 0)
        eo->concurrency = concurrency;
    else if (m == CFP_MODE_THREADS)
        eo->concurrency = eo->workers;
}

void cfp_engine_defaults(enum cfp_mode m, struct cfp_engine_opts *eo)
{
    cfp_engine_size(m, 0, 0, 0, eo);
}

cfp_err cfp_engine_run(enum cfp_mode mode, const struct cfp_engine_opts *eo,
                       const struct cfp_task_cfg *cfg, struct cfp_source *src,
                       struct cfp_sink *sink, struct cfp_engine_stats *stats,
                       struct cfp_status *st)
{
    struct cfp_task_cfg bcfg = *cfg;
    struct cfp_budget *budget = NULL;
    cfp_err err;

    memset(stats, 0, sizeof(*stats));
    /* Image bodies read ahead of the cores: PARK_PER_CORE bytes per core
     * slot, whatever the budget (cfp_budget.h). */
    if (cfp_budget_new(cfg->memory, (uint64_t)PARK_PER_CORE * (uint64_t)eo->cpu_slots, &budget))
        return cfp_status_set(st, CFP_ERR_NOMEM, "memory budget: out of memory");
    bcfg.budget = budget;
    cfg = &bcfg;
    switch (mode) {
    case CFP_MODE_SEQUENTIAL: {
        /* One task at a time, in list order: the baseline every other
         * engine is measured against. It runs on one worker thread, not
         * the caller's, so that a task stuck in a system call can be
         * given up like in the other engines (cfp_watch.h). */
        struct cfp_engine_opts one = {.workers = 1, .concurrency = 1, .cpu_slots = 1};
        err = cfp_engine_run_threads("sequential", &one, cfg, src, sink, stats, st);
        break;
    }
    case CFP_MODE_THREADS:
        err = cfp_engine_run_threads("threading", eo, cfg, src, sink, stats, st);
        break;
    case CFP_MODE_ASYNC:
        err = cfp_engine_run_async(eo, cfg, src, sink, stats, st);
        break;
    default:
        err = cfp_status_set(st, CFP_ERR_USAGE, "mode '%s' is not available in this build",
                             cfp_mode_name(mode));
        break;
    }
    stats->mem_budget = cfg->memory;
    stats->mem_peak = cfp_budget_peak(budget);
    cfp_budget_free(&budget);
    /* Every worker is done: the image buffers kept for reuse go back to
     * the system, so a run leaves nothing mapped (and --compare's modes
     * each start from nothing, as they would alone). */
    cfp_scratch_drain();
    return err;
}
