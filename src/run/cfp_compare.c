/* cfp_compare.c - every mode on the same workloads, then one report. */
#include "run/cfp_compare.h"

#include <stdio.h>
#include <string.h>

#include "base/cfp_log.h"
#include "results/cfp_report.h"

struct workload {
    const char *name;
    enum cfp_gen_profile profile;
    unsigned images, texts, csv;
};

/* io: 200 small files, so that 50 ms per request is what a run waits on;
 * cpu: 16 large images, so that decoding and resizing is what it computes. */
static const struct workload workloads[] = {
    {"io", CFP_GEN_SMALL, 60, 90, 50},
    {"cpu", CFP_GEN_LARGE, 16, 0, 0},
};

static const enum cfp_mode compare_modes[] = {CFP_MODE_SEQUENTIAL, CFP_MODE_THREADS,
                                              CFP_MODE_ASYNC};

static void gen_progress(void *ctx, unsigned done, unsigned total)
{
    const char *name = ctx;
    if (done == total)
        fprintf(stderr, "compare: workload %s: generated %u files\n", name, total);
}

static cfp_err generate(const struct cfp_compare_cfg *cfg, const struct workload *w,
                        const char *dir, struct cfp_status *st)
{
    struct cfp_gen_opts g = {dir, w->images, w->texts, w->csv, cfg->seed, w->profile};
    cfp_err err = cfp_gen_dataset(&g, cfg->base.quiet ? NULL : gen_progress, (void *)w->name, st);

    return err ? err : cfp_run_write_manifest(dir, st);
}

cfp_err cfp_compare_output_dir(const struct cfp_compare_cfg *cfg, const char *label,
                               const char *mode, char out[CFP_PATH_MAX], struct cfp_status *st)
{
    int n = snprintf(out, CFP_PATH_MAX, "%s/compare/%s/%s", cfg->processed_dir, label, mode);

    if (n < 0 || n >= CFP_PATH_MAX)
        return cfp_status_set(st, CFP_ERR_USAGE, "compare: output path too long");
    return CFP_ERR_OK;
}

/* Runs every local mode on one workload; dataset_dir NULL means --input. */
static cfp_err run_modes(const struct cfp_compare_cfg *cfg, const char *label,
                         const char *dataset_dir, int latency_ms, bool *failed,
                         struct cfp_status *st)
{
    for (size_t i = 0; i < sizeof(compare_modes) / sizeof(compare_modes[0]); i++) {
        struct cfp_run_cfg run = cfg->base;
        struct cfp_engine_stats stats;
        char out[CFP_PATH_MAX];
        cfp_err err;

        run.mode = compare_modes[i];
        cfp_engine_defaults(run.mode, &run.engine);
        if (cfg->workers && run.mode != CFP_MODE_SEQUENTIAL)
            run.engine.workers = cfg->workers;
        if (cfg->concurrency && run.mode != CFP_MODE_SEQUENTIAL)
            run.engine.concurrency = cfg->concurrency;
        else if (run.mode == CFP_MODE_THREADS)
            run.engine.concurrency = run.engine.workers;
        err = cfp_compare_output_dir(cfg, label, cfp_mode_name(run.mode), out, st);
        if (err)
            return err;
        run.task.output_dir = out;
        run.dataset_dir = dataset_dir;
        run.latency_ms = latency_ms;
        run.workload = label;
        run.report_path = NULL;
        err = cfp_run_job(&run, &stats, st);
        if (err)
            return err;
        if (stats.failed)
            *failed = true;
    }
    if (cfg->extra)
        return cfg->extra(cfg->extra_ctx, &cfg->base, label, dataset_dir, latency_ms, failed, st);
    return CFP_ERR_OK;
}

int cfp_compare_plan(const struct cfp_compare_cfg *cfg, struct cfp_compare_workload *wl, int max)
{
    int n = 0;

    if (cfg->base.input && max > 0) {
        (void)snprintf(wl[0].label, sizeof(wl[0].label), "url-list");
        wl[0].dataset_dir[0] = '\0';
        wl[0].latency_ms = 0;
        return 1;
    }
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]) && n < max; i++) {
        const struct workload *w = &workloads[i];
        bool is_io = strcmp(w->name, "io") == 0;
        if ((cfg->set == CFP_WL_IO && !is_io) || (cfg->set == CFP_WL_CPU && is_io))
            continue;
        (void)snprintf(wl[n].label, sizeof(wl[n].label), "%s", w->name);
        if (snprintf(wl[n].dataset_dir, sizeof(wl[n].dataset_dir), "%s/%s", cfg->workloads_dir,
                     w->name) >= (int)sizeof(wl[n].dataset_dir))
            continue;
        wl[n].latency_ms = is_io ? cfg->io_latency_ms : 0;
        n++;
    }
    return n;
}

static const struct workload *find_workload(const char *label)
{
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
        if (strcmp(workloads[i].name, label) == 0)
            return &workloads[i];
    return NULL;
}

cfp_err cfp_compare_run(const struct cfp_compare_cfg *cfg, bool *failed, bool *identical,
                        struct cfp_status *st)
{
    struct cfp_compare_workload wl[4];
    int n = cfp_compare_plan(cfg, wl, 4);
    cfp_err err = CFP_ERR_OK;

    *failed = false;
    *identical = true;
    for (int i = 0; i < n && !err; i++) {
        const struct workload *w = find_workload(wl[i].label);
        const char *dir = wl[i].dataset_dir[0] ? wl[i].dataset_dir : NULL;
        if (cfg->generate && w && dir)
            err = generate(cfg, w, dir, st);
        if (!err) {
            cfp_log(CFP_LOG_INFO, "compare: workload %s (latency %d ms)", wl[i].label,
                    wl[i].latency_ms);
            err = run_modes(cfg, wl[i].label, dir, wl[i].latency_ms, failed, st);
        }
    }
    if (err || cfg->no_report)
        return err;
    return cfp_report_write(cfg->base.results_path, cfg->base.report_path, identical, st);
}
