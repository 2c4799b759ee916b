/* cfp_run.c - one run of one mode, from the task source to the report. */
#include "cfp_run.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfp_clock.h"
#include "cfp_h5.h"
#include "cfp_log.h"
#include "cfp_mem.h"
#include "cfp_out.h"
#include "cfp_progress.h"
#include "cfp_report.h"
#include "cfp_server.h"
#include "cfp_urllist.h"

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int manifest_filter(const struct dirent *d)
{
    return d->d_name[0] != '.' && strcmp(d->d_name, CFP_MANIFEST_NAME) != 0;
}

cfp_err cfp_run_write_manifest(const char *dataset_dir, struct cfp_status *st)
{
    char path[CFP_PATH_MAX], tmp[CFP_PATH_MAX + 8];
    struct dirent **names = NULL;
    cfp_err err = CFP_ERR_OK;
    FILE *f;
    int n;

    (void)snprintf(path, sizeof(path), "%s/%s", dataset_dir, CFP_MANIFEST_NAME);
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    n = scandir(dataset_dir, &names, manifest_filter, name_cmp);
    if (n < 0)
        return cfp_status_set(st, CFP_ERR_IO, "list %s: %s", dataset_dir, strerror(errno));
    f = fopen(tmp, "w");
    if (!f) {
        err = cfp_status_set(st, CFP_ERR_IO, "create %s: %s", tmp, strerror(errno));
        goto out_free_names;
    }
    for (int i = 0; i < n; i++)
        fprintf(f, "%s\n", names[i]->d_name);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        err = cfp_status_set(st, CFP_ERR_IO, "write %s: %s", path, strerror(errno));
out_free_names:
    for (int i = 0; i < n; i++)
        free(names[i]); /* allocated by scandir with malloc */
    free(names);
    return err;
}

/* Counts the URL lines of path (for the progress total); -1 if unknown. */
static int64_t count_tasks(const char *path)
{
    struct cfp_urllist *ul = NULL;
    struct cfp_task *t;
    int64_t n = 0;
    bool done = false;

    if (strcmp(path, "-") == 0)
        return -1;
    t = cfp_malloc(sizeof(*t));
    if (!t || cfp_urllist_open(path, NULL, &ul, NULL)) {
        cfp_free(t);
        return -1;
    }
    while (cfp_urllist_next(ul, t, &done, NULL) == CFP_ERR_OK && !done)
        n++;
    cfp_urllist_close(&ul);
    cfp_free(t);
    return n;
}

/* The HDF5 writer as a result sink. */
static cfp_err h5_push(struct cfp_sink *s, const struct cfp_record *r, struct cfp_status *st)
{
    return cfp_h5_append(s->ctx, r, st);
}

static void fill_info(const struct cfp_run_cfg *cfg, struct cfp_run_info *info)
{
    memset(info, 0, sizeof(*info));
    (void)snprintf(info->mode, sizeof(info->mode), "%s", cfp_mode_name(cfg->mode));
    (void)snprintf(info->engine, sizeof(info->engine), "%s",
                   cfp_mode_name(cfg->mode == CFP_MODE_MPI ? cfg->rank_engine : cfg->mode));
    (void)snprintf(info->workload, sizeof(info->workload), "%s",
                   cfg->workload ? cfg->workload : "default");
    cfp_iso8601_now(info->started, sizeof(info->started));
    (void)snprintf(info->input, sizeof(info->input), "%s",
                   cfg->input ? cfg->input : cfg->dataset_dir);
    (void)snprintf(info->output_dir, sizeof(info->output_dir), "%s", cfg->task.output_dir);
    info->ranks = cfg->ranks > 0 ? cfg->ranks : 1;
    info->workers = cfg->engine.workers;
    info->concurrency = cfg->engine.concurrency;
    info->latency_ms = cfg->input ? 0 : cfg->latency_ms;
    info->max_side = (int32_t)cfg->task.max_side;
}

/* Opens the task source: the URL list, or the dataset's manifest with every
 * name prefixed by the embedded server's base URL. */
static cfp_err open_source(const struct cfp_run_cfg *cfg, struct cfp_server **srv,
                           struct cfp_urllist **ul, int64_t *total, struct cfp_status *st)
{
    struct cfp_server_opts so = {0};
    char manifest[CFP_PATH_MAX], prefix[64];
    cfp_err err;

    if (cfg->input) {
        *total = count_tasks(cfg->input);
        return cfp_urllist_open(cfg->input, NULL, ul, st);
    }
    (void)snprintf(manifest, sizeof(manifest), "%s/%s", cfg->dataset_dir, CFP_MANIFEST_NAME);
    if (access(manifest, R_OK) != 0)
        return cfp_status_set(st, CFP_ERR_IO,
                              "no dataset in %s (%s missing): run cfp --generate-dataset first, "
                              "or give --input FILE",
                              cfg->dataset_dir, CFP_MANIFEST_NAME);
    so.root = cfg->dataset_dir;
    so.latency_ms = (unsigned)cfg->latency_ms;
    err = cfp_server_start(&so, srv, st);
    if (err)
        return err;
    (void)snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%u/", cfp_server_port(*srv));
    cfp_log(CFP_LOG_INFO, "serving %s at %s (latency %d ms)", cfg->dataset_dir, prefix,
            cfg->latency_ms);
    *total = count_tasks(manifest);
    return cfp_urllist_open(manifest, prefix, ul, st);
}

/* Completes info with what the run measured. */
static void finish_info(struct cfp_run_info *info, const struct cfp_engine_stats *stats,
                        double wall_s, double u0, double s0, bool complete)
{
    double u1, s1;
    int64_t rss;

    cfp_rusage(&u1, &s1, &rss);
    info->wall_s = wall_s;
    info->cpu_user_s = u1 - u0;
    info->cpu_sys_s = s1 - s0;
    info->peak_rss_kb = rss;
    info->tasks = stats->tasks;
    info->ok = stats->ok;
    info->failed = stats->failed;
    info->bytes_in = stats->bytes_in;
    info->bytes_out = stats->bytes_out;
    info->complete = complete ? 1 : 0;
}

/* Releases what cfp_run_open() acquired, in reverse order. */
static void run_release(struct cfp_run_ctx *ctx)
{
    cfp_urllist_close(&ctx->ul);
    cfp_server_stop(&ctx->srv);
    cfp_h5_close(&ctx->h5);
}

cfp_err cfp_run_open(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx, struct cfp_status *st)
{
    int64_t rss0;
    cfp_err err;

    memset(ctx, 0, sizeof(*ctx));
    ctx->cfg = *cfg;
    ctx->total = -1;
    err = cfp_mkdirs(cfg->task.output_dir, st);
    if (err)
        return err;
    err = cfp_h5_open(cfg->results_path, &ctx->h5, st);
    if (err)
        return err;
    err = open_source(cfg, &ctx->srv, &ctx->ul, &ctx->total, st);
    if (err)
        goto out_release;
    fill_info(cfg, &ctx->info);
    err = cfp_h5_run_begin(ctx->h5, &ctx->info, ctx->run_id, sizeof(ctx->run_id), st);
    if (err)
        goto out_release;
    cfp_reset_peak_rss();
    cfp_rusage(&ctx->u0, &ctx->s0, &rss0);
    ctx->t0 = cfp_now();
    ctx->cfg.task.t0 = ctx->t0;
    ctx->src = cfp_urllist_source(ctx->ul);
    ctx->h5sink.push = h5_push;
    ctx->h5sink.ctx = ctx->h5;
    cfp_progress_init(&ctx->prog, &ctx->h5sink, cfg->progress_label ? cfg->progress_label
                                                                    : cfp_mode_name(cfg->mode),
                      ctx->total, cfg->quiet);
    return CFP_ERR_OK;
out_release:
    run_release(ctx);
    return err;
}

cfp_err cfp_run_close(struct cfp_run_ctx *ctx, const struct cfp_engine_stats *stats,
                      cfp_err run_err, struct cfp_status *st)
{
    cfp_err err;

    cfp_progress_end(&ctx->prog);
    finish_info(&ctx->info, stats, cfp_now() - ctx->t0, ctx->u0, ctx->s0, run_err == CFP_ERR_OK);
    ctx->info.cpu_user_s += ctx->other_user_s;
    ctx->info.cpu_sys_s += ctx->other_sys_s;
    /* Close the run even when it failed, so that what finished is kept. */
    err = cfp_h5_run_end(ctx->h5, &ctx->info, run_err ? NULL : st);
    if (run_err)
        err = run_err;
    cfp_log(CFP_LOG_INFO, "run %s: %lld tasks, %lld failed, %.2f s", ctx->run_id,
            (long long)stats->tasks, (long long)stats->failed, ctx->info.wall_s);
    run_release(ctx);
    if (!err && ctx->cfg.report_path)
        err = cfp_report_write(ctx->cfg.results_path, ctx->cfg.report_path, NULL, st);
    return err;
}

cfp_err cfp_run_job(const struct cfp_run_cfg *cfg, struct cfp_engine_stats *stats,
                    struct cfp_status *st)
{
    struct cfp_run_ctx *ctx = cfp_malloc(sizeof(*ctx));
    cfp_err err, run_err;

    memset(stats, 0, sizeof(*stats));
    if (!ctx)
        return cfp_status_set(st, CFP_ERR_NOMEM, "run: out of memory");
    err = cfp_run_open(cfg, ctx, st);
    if (!err) {
        run_err = cfp_engine_run(cfg->mode, &cfg->engine, &ctx->cfg.task, &ctx->src,
                                 &ctx->prog.sink, stats, st);
        err = cfp_run_close(ctx, stats, run_err, st);
    }
    cfp_free(ctx);
    return err;
}
