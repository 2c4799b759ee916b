/* cfp_run.c - one run of one mode, from the task source to the report. */
#include "run/cfp_run.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_cpus.h"
#include "base/cfp_memlimit.h"
#include "results/cfp_h5.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"
#include "task/cfp_out.h"
#include "run/cfp_progress.h"
#include "results/cfp_report.h"
#include "lab/cfp_server.h"
#include "base/cfp_sha256.h"
#include "base/cfp_stop.h"
#include "run/cfp_urllist.h"

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

/* Whether task index is this run's to do: its shard, and not already done. */
static bool selected(const struct cfp_run_cfg *cfg, const struct cfp_resume_set *done,
                     int64_t index)
{
    enum cfp_resume_state v;

    if (cfg->shard_n > 0 && index % cfg->shard_n != cfg->shard_k - 1)
        return false;
    v = done ? cfp_resume_set_get(done, index) : CFP_RESUME_NONE;
    return v == CFP_RESUME_NONE || (v == CFP_RESUME_FAILED && cfg->retry_failed);
}

/* Counts the tasks of the list at path this run will do (for the progress
 * total); -1 if unknown. */
static int64_t count_tasks(const char *path, const struct cfp_run_cfg *cfg,
                           const struct cfp_resume_set *done)
{
    struct cfp_urllist *ul = NULL;
    struct cfp_task *t;
    int64_t n = 0;
    bool end = false;

    if (strcmp(path, "-") == 0)
        return -1;
    t = cfp_malloc(sizeof(*t));
    if (!t || cfp_urllist_open(path, NULL, &ul, NULL)) {
        cfp_free(t);
        return -1;
    }
    while (cfp_urllist_next(ul, t, &end, NULL) == CFP_ERR_OK && !end)
        n += selected(cfg, done, t->index);
    cfp_urllist_close(&ul);
    cfp_free(t);
    return n;
}

/* The source engines pull from: see struct cfp_run_ctx. */
static cfp_err select_next(struct cfp_source *s, struct cfp_task *t, bool *end,
                           struct cfp_status *st)
{
    struct cfp_run_ctx *ctx = s->ctx;

    for (;;) {
        cfp_err err;
        bool pick;
        if (cfp_stop_requested()) {
            ctx->stopped = true;
            *end = true;
            return CFP_ERR_OK;
        }
        err = ctx->list.next(&ctx->list, t, end, st);
        if (err || *end)
            return err;
        pthread_mutex_lock(&ctx->done_mu);
        pick = selected(&ctx->cfg, ctx->done, t->index);
        pthread_mutex_unlock(&ctx->done_mu);
        if (pick)
            return CFP_ERR_OK;
        ctx->skipped++;
    }
}

/* The sink engines push to: see struct cfp_run_ctx. */
static cfp_err guard_push(struct cfp_sink *s, const struct cfp_record *in, struct cfp_status *st)
{
    struct cfp_run_ctx *ctx = s->ctx;
    struct cfp_record *r = &ctx->scrubbed; /* engines push one at a time */
    cfp_err err;

    *r = *in;
    cfp_record_scrub(r); /* passwords in URLs stop here, before file, report or progress */
    if (r->code == CFP_ERR_STOPPED) {
        ctx->abandoned++;
        return CFP_ERR_OK;
    }
    if (ctx->cfg.stats_every && ++ctx->pushed % ctx->cfg.stats_every == 0) {
        double u, s_;
        int64_t peak;
        cfp_rusage(&u, &s_, &peak);
        fprintf(stderr, "cfp: stats: %lld records, rss %.1f MB, peak %.1f MB, open fds %d\n",
                (long long)ctx->pushed, (double)cfp_rss_kb() / 1024, (double)peak / 1024,
                cfp_open_fds());
    }
    if (ctx->done) {
        pthread_mutex_lock(&ctx->done_mu);
        err = cfp_resume_set_put(ctx->done, r->index, r->code ? CFP_RESUME_FAILED : CFP_RESUME_OK,
                                 st);
        pthread_mutex_unlock(&ctx->done_mu);
        if (err)
            return err;
    }
    return ctx->prog.sink.push(&ctx->prog.sink, r, st);
}

static void measure_info(const struct cfp_run_ctx *ctx, const struct cfp_engine_stats *stats,
                         bool complete, struct cfp_run_info *info);

/* The HDF5 writer as a result sink. Once a second it also rewrites the
 * run's totals (still incomplete), so that a process killed without a
 * chance to close the run (mpirun's SIGKILL after a lost host) leaves
 * totals that match its saved rows. */
static cfp_err h5_push(struct cfp_sink *s, const struct cfp_record *r, struct cfp_status *st)
{
    struct cfp_run_ctx *ctx = s->ctx;
    struct cfp_run_info info;
    cfp_err err = cfp_h5_append(ctx->h5, r, st);

    cfp_engine_stats_add(&ctx->live, r);
    if (err || cfp_now() - ctx->live_written < CFP_H5_FLUSH_S)
        return err;
    ctx->live_written = cfp_now();
    measure_info(ctx, &ctx->live, false, &info);
    return cfp_h5_run_update(ctx->h5, &info, st);
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
    info->sessions = 1;
    info->cpus = cfg->cpus > 0 ? cfg->cpus : cfp_cpus_count();
    (void)snprintf(info->cpus_source, sizeof(info->cpus_source), "%s",
                   cfp_cpus_source_name(cfp_cpus_get()->source));
    info->memory_budget = (int64_t)(cfg->memory_total ? cfg->memory_total : cfg->task.memory);
    (void)snprintf(info->memory_source, sizeof(info->memory_source), "%s",
                   cfg->memory_source ? cfg->memory_source : cfg->task.memory ? "given" : "none");
    if (cfg->shard_n > 0)
        (void)snprintf(info->shard, sizeof(info->shard), "%d/%d", cfg->shard_k, cfg->shard_n);
}

/* Opens the task source: the URL list, or the dataset's manifest with every
 * name prefixed by the embedded server's base URL. */
static cfp_err open_source(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx,
                           struct cfp_status *st)
{
    struct cfp_server_opts so = {0};
    char manifest[CFP_PATH_MAX], prefix[64];
    cfp_err err;

    if (cfg->input) {
        ctx->total = count_tasks(cfg->input, cfg, ctx->done);
        return cfp_urllist_open(cfg->input, NULL, &ctx->ul, st);
    }
    (void)snprintf(manifest, sizeof(manifest), "%s/%s", cfg->dataset_dir, CFP_MANIFEST_NAME);
    if (access(manifest, R_OK) != 0)
        return cfp_status_set(st, CFP_ERR_IO,
                              "no dataset in %s (%s missing): run cfp --generate-dataset first, "
                              "or give --input FILE",
                              cfg->dataset_dir, CFP_MANIFEST_NAME);
    so.root = cfg->dataset_dir;
    so.latency_ms = (unsigned)cfg->latency_ms;
    err = cfp_server_start(&so, &ctx->srv, st);
    if (err)
        return err;
    (void)snprintf(prefix, sizeof(prefix), "http://127.0.0.1:%u/", cfp_server_port(ctx->srv));
    cfp_log(CFP_LOG_INFO, "serving %s at %s (latency %d ms)", cfg->dataset_dir, prefix,
            cfg->latency_ms);
    ctx->total = count_tasks(manifest, cfg, ctx->done);
    return cfp_urllist_open(manifest, prefix, &ctx->ul, st);
}

/* The list's path: the URL list, or the dataset's manifest. */
static void list_path(const struct cfp_run_cfg *cfg, char *buf, size_t n)
{
    if (cfg->input)
        (void)snprintf(buf, n, "%s", cfg->input);
    else
        (void)snprintf(buf, n, "%s/%s", cfg->dataset_dir, CFP_MANIFEST_NAME);
}

/* --resume: loads the last run of the results file and checks it is this
 * run's to continue. Sets ctx->prior and ctx->done. */
static cfp_err resume_prepare(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx,
                              const char *list_sha, struct cfp_status *st)
{
    const struct cfp_run_info *pi = &ctx->prior.info;
    char shard[32] = "";
    cfp_err err;

    if (cfg->input && strcmp(cfg->input, "-") == 0)
        return cfp_status_set(st, CFP_ERR_USAGE,
                              "--resume needs the URL list in a file (not stdin): the list is "
                              "read again to skip what is done");
    err = cfp_resume_load(cfg->results_path, &ctx->prior, &ctx->done, st);
    if (err || !ctx->prior.found)
        return err;
    if (cfg->shard_n > 0)
        (void)snprintf(shard, sizeof(shard), "%d/%d", cfg->shard_k, cfg->shard_n);
    if (pi->input_sha256[0] && strcmp(pi->input_sha256, list_sha) != 0)
        return cfp_status_set(st, CFP_ERR_USAGE,
                              "--resume: run %s of %s was made from another URL list (SHA-256 "
                              "%.12s..., now %.12s...): resume with the same list",
                              ctx->prior.run_id, cfg->results_path, pi->input_sha256, list_sha);
    if (strcmp(pi->shard, shard) != 0)
        return cfp_status_set(st, CFP_ERR_USAGE,
                              "--resume: run %s of %s did shard '%s', not '%s'", ctx->prior.run_id,
                              cfg->results_path, pi->shard, shard);
    if (cfp_out_sweep(cfg->task.output_dir) > 0)
        cfp_log(CFP_LOG_INFO, "resume: removed temporary files of a killed run from %s",
                cfg->task.output_dir);
    if (ctx->prior.outputs_redo)
        cfp_log(CFP_LOG_WARN, "resume: %lld ok tasks have a missing or changed output: redoing them",
                (long long)ctx->prior.outputs_redo);
    return CFP_ERR_OK;
}

/* What the run measured so far into *info (which may be &ctx->info): the
 * run's attributes as opened plus this session; a resumed run counts its
 * final view. */
static void measure_info(const struct cfp_run_ctx *ctx, const struct cfp_engine_stats *stats,
                         bool complete, struct cfp_run_info *info)
{
    double u1, s1;
    int64_t rss;

    *info = ctx->info;
    cfp_rusage(&u1, &s1, &rss);
    info->wall_s += cfp_now() - ctx->t0;
    info->cpu_user_s += u1 - ctx->u0 + ctx->other_user_s;
    info->cpu_sys_s += s1 - ctx->s0 + ctx->other_sys_s;
    info->peak_rss_kb = rss > info->peak_rss_kb ? rss : info->peak_rss_kb;
    if ((int64_t)stats->mem_peak > info->memory_peak)
        info->memory_peak = (int64_t)stats->mem_peak;
    info->bytes_in += stats->bytes_in;
    info->bytes_out += stats->bytes_out;
    if (ctx->done) {
        pthread_mutex_lock((pthread_mutex_t *)&ctx->done_mu); /* the source may be reading it */
        cfp_resume_set_count(ctx->done, &info->ok, &info->failed);
        pthread_mutex_unlock((pthread_mutex_t *)&ctx->done_mu);
        info->tasks = info->ok + info->failed;
    } else {
        info->tasks = stats->tasks;
        info->ok = stats->ok;
        info->failed = stats->failed;
    }
    info->complete = complete ? 1 : 0;
}

/* The nearest existing one of path and its ancestors into buf (size n, at
 * least 2), with its stat in *sb. Returns 0, or the errno that stopped the
 * walk (ENOTDIR when a part of the path is a file, EACCES). */
static int existing_ancestor(const char *path, char *buf, size_t n, struct stat *sb)
{
    (void)snprintf(buf, n, "%s", path);
    for (;;) {
        char *slash;

        if (stat(buf, sb) == 0)
            return 0;
        if (errno != ENOENT)
            return errno;
        slash = strrchr(buf, '/');
        if (!slash)
            (void)snprintf(buf, n, ".");
        else
            slash[slash == buf] = '\0'; /* "/x" -> "/" */
    }
}

/* 0 when the existing directory dir may get new entries, else why not
 * (ENOTDIR, EACCES, EROFS). */
static int dir_writable(const char *dir, const struct stat *sb)
{
    if (!S_ISDIR(sb->st_mode))
        return ENOTDIR;
    return access(dir, W_OK | X_OK) == 0 ? 0 : errno;
}

/* The URL list (or the dataset's manifest) can be read. */
static cfp_err check_list(const struct cfp_run_cfg *cfg, struct cfp_status *st)
{
    char list[CFP_PATH_MAX];
    struct stat sb;

    if (!cfg->input) {
        list_path(cfg, list, sizeof(list));
        if (access(list, R_OK) != 0)
            return cfp_status_set(st, CFP_ERR_IO,
                                  "no dataset in %s (%s missing): run cfp --generate-dataset "
                                  "first, or give --input FILE",
                                  cfg->dataset_dir, CFP_MANIFEST_NAME);
        return CFP_ERR_OK;
    }
    if (strcmp(cfg->input, "-") == 0)
        return CFP_ERR_OK;
    if (stat(cfg->input, &sb) != 0 || access(cfg->input, R_OK) != 0)
        return cfp_status_set(st, CFP_ERR_IO, "open URL list %s: %s", cfg->input,
                              strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return cfp_status_set(st, CFP_ERR_IO, "open URL list %s: %s", cfg->input,
                              strerror(EISDIR));
    return CFP_ERR_OK;
}

/* The output dir exists and is writable, or can be made: its nearest
 * existing ancestor is a writable directory. */
static cfp_err check_output_dir(const char *dir, struct cfp_status *st)
{
    char have[CFP_PATH_MAX];
    struct stat sb;
    int e = existing_ancestor(dir, have, sizeof(have), &sb);

    if (!e)
        e = dir_writable(have, &sb);
    if (e)
        return cfp_status_set(st, CFP_ERR_IO, "output directory %s: %s%s%s", dir,
                              strcmp(have, dir) ? have : "", strcmp(have, dir) ? ": " : "",
                              strerror(e));
    return CFP_ERR_OK;
}

/* The results file is a file that can be written, or can be created: its
 * directory is writable, or will be made as a parent of the output dir. */
static cfp_err check_results(const char *path, const char *out_dir, struct cfp_status *st)
{
    char parent[CFP_PATH_MAX], have[CFP_PATH_MAX];
    const char *slash = strrchr(path, '/');
    struct stat sb;
    size_t n;
    int e;

    if (stat(path, &sb) == 0) {
        e = S_ISDIR(sb.st_mode) ? EISDIR : access(path, W_OK) == 0 ? 0 : errno;
        if (e)
            return cfp_status_set(st, CFP_ERR_IO, "results file %s: %s", path, strerror(e));
        return CFP_ERR_OK;
    }
    (void)snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 1,
                   slash ? (slash == path ? "/" : path) : ".");
    n = strlen(parent);
    e = existing_ancestor(parent, have, sizeof(have), &sb);
    if (!e && strcmp(have, parent) != 0 &&
        !(strncmp(out_dir, parent, n) == 0 && (out_dir[n] == '/' || out_dir[n] == '\0')))
        e = ENOENT; /* not made as a parent of the output dir */
    if (!e)
        e = dir_writable(have, &sb);
    if (e)
        return cfp_status_set(st, CFP_ERR_IO, "results file %s: directory %s: %s", path, parent,
                              strerror(e));
    return CFP_ERR_OK;
}

/* Whatever cfp_run_open() may create is checked before anything is: a
 * failed start leaves no directory and no results file behind. */
static cfp_err preflight(const struct cfp_run_cfg *cfg, struct cfp_status *st)
{
    cfp_err err = check_list(cfg, st);

    if (!err)
        err = check_output_dir(cfg->task.output_dir, st);
    if (!err)
        err = check_results(cfg->results_path, cfg->task.output_dir, st);
    return err;
}

/* After a failed start: removes the directories cfp_run_open() made, from
 * dir up to top (the first that did not exist), as far as they are empty. */
static void unmake_dirs(const char *dir, const char *top)
{
    char buf[CFP_PATH_MAX];

    if (!top[0])
        return;
    (void)snprintf(buf, sizeof(buf), "%s", dir);
    for (;;) {
        char *slash = strrchr(buf, '/');

        if (rmdir(buf) != 0 || strcmp(buf, top) == 0 || !slash || slash == buf)
            return;
        *slash = '\0';
    }
}

/* The first directory of dir's path that does not exist yet into top (""
 * when dir exists). */
static void first_missing(const char *dir, char *top, size_t n)
{
    char have[CFP_PATH_MAX];
    struct stat sb;
    size_t len;

    top[0] = '\0';
    if (existing_ancestor(dir, have, sizeof(have), &sb) != 0 || strcmp(have, dir) == 0)
        return;
    len = strcmp(have, ".") == 0 ? 0 : strlen(have) + (have[strlen(have) - 1] != '/');
    (void)snprintf(top, n, "%.*s", (int)(len + strcspn(dir + len, "/")), dir);
}

/* Releases what cfp_run_open() acquired, in reverse order. */
static void run_release(struct cfp_run_ctx *ctx)
{
    cfp_resume_set_free(&ctx->done);
    pthread_mutex_destroy(&ctx->done_mu);
    cfp_urllist_close(&ctx->ul);
    cfp_server_stop(&ctx->srv);
    cfp_h5_close(&ctx->h5);
}

/* Opens the run group: the resumed run again, or a new one. */
static cfp_err begin_or_reopen(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx,
                               const char *list_sha, struct cfp_status *st)
{
    cfp_err err;

    if (ctx->prior.found) {
        ctx->info = ctx->prior.info;
        ctx->info.sessions = (ctx->info.sessions > 0 ? ctx->info.sessions : 1) + 1;
        (void)snprintf(ctx->run_id, sizeof(ctx->run_id), "%s", ctx->prior.run_id);
        err = cfp_h5_run_reopen(ctx->h5, ctx->run_id, st);
        cfp_log(CFP_LOG_INFO, "resuming run %s: %lld tasks to do", ctx->run_id,
                (long long)ctx->total);
        return err;
    }
    fill_info(cfg, &ctx->info);
    (void)snprintf(ctx->info.input_sha256, sizeof(ctx->info.input_sha256), "%s", list_sha);
    err = cfp_h5_run_begin(ctx->h5, &ctx->info, ctx->run_id, sizeof(ctx->run_id), st);
    if (cfg->resume)
        cfp_resume_set_free(&ctx->done); /* nothing to resume: an ordinary run */
    return err;
}

/* cfp_run_open() after its checks; on failure the caller releases. */
static cfp_err run_open(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx,
                        struct cfp_status *st);

cfp_err cfp_run_open(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx, struct cfp_status *st)
{
    char top[CFP_PATH_MAX];
    bool new_results;
    cfp_err err;

    memset(ctx, 0, sizeof(*ctx));
    cfp_cpus_log(); /* once per process: what every default was sized for */
    pthread_mutex_init(&ctx->done_mu, NULL);
    ctx->cfg = *cfg;
    cfp_run_resolve_memory(&ctx->cfg);
    cfg = &ctx->cfg;
    ctx->total = -1;
    err = preflight(cfg, st);
    if (err) {
        pthread_mutex_destroy(&ctx->done_mu);
        return err;
    }
    first_missing(cfg->task.output_dir, top, sizeof(top));
    new_results = access(cfg->results_path, F_OK) != 0;
    err = run_open(cfg, ctx, st);
    if (!err)
        return CFP_ERR_OK;
    run_release(ctx);
    if (new_results)
        (void)unlink(cfg->results_path); /* made by this start: it holds no run */
    unmake_dirs(cfg->task.output_dir, top);
    return err;
}

static cfp_err run_open(const struct cfp_run_cfg *cfg, struct cfp_run_ctx *ctx,
                        struct cfp_status *st)
{
    char list[CFP_PATH_MAX], list_sha[CFP_DIGEST_HEX] = "";
    int64_t rss0;
    cfp_err err;

    err = cfp_mkdirs(cfg->task.output_dir, st);
    if (!err)
        err = cfp_out_check_writable(cfg->task.output_dir, st);
    if (err)
        return err;
    list_path(cfg, list, sizeof(list));
    if (strcmp(list, "-") != 0 && access(list, R_OK) == 0 &&
        (err = cfp_sha256_file(list, list_sha, st)) != CFP_ERR_OK)
        return err;
    if (cfg->resume && (err = resume_prepare(cfg, ctx, list_sha, st)) != CFP_ERR_OK)
        return err;
    err = cfp_h5_open(cfg->results_path, &ctx->h5, st);
    if (err)
        return err;
    err = open_source(cfg, ctx, st);
    if (err)
        return err;
    err = begin_or_reopen(cfg, ctx, list_sha, st);
    if (err)
        return err;
    cfp_reset_peak_rss();
    cfp_rusage(&ctx->u0, &ctx->s0, &rss0);
    ctx->t0 = cfp_now();
    ctx->cfg.task.t0 = ctx->t0;
    ctx->list = cfp_urllist_source(ctx->ul);
    ctx->src = (struct cfp_source){select_next, ctx};
    ctx->sink = (struct cfp_sink){guard_push, ctx};
    ctx->h5sink.push = h5_push;
    ctx->h5sink.ctx = ctx;
    ctx->live_written = ctx->t0;
    cfp_progress_init(&ctx->prog, &ctx->h5sink, cfg->progress_label ? cfg->progress_label
                                                                    : cfp_mode_name(cfg->mode),
                      ctx->total, cfg->quiet, cfg->silent, cfg->joblog);
    return CFP_ERR_OK;
}

void cfp_run_resolve_memory(struct cfp_run_cfg *cfg)
{
    const struct cfp_memlimit *m;

    if (cfg->task.memory != CFP_MEMORY_AUTO)
        return;
    m = cfp_memlimit_get();
    cfp_memlimit_log();
    cfg->task.memory = m->bytes;
    cfg->memory_source = cfp_memlimit_source_name(m->source);
}

void cfp_run_final_stats(const struct cfp_run_ctx *ctx, struct cfp_engine_stats *stats)
{
    if (!ctx->done)
        return;
    cfp_resume_set_count(ctx->done, &stats->ok, &stats->failed);
    stats->tasks = stats->ok + stats->failed;
}

cfp_err cfp_run_close(struct cfp_run_ctx *ctx, const struct cfp_engine_stats *stats,
                      cfp_err run_err, struct cfp_status *st)
{
    cfp_err err;

    cfp_progress_end(&ctx->prog);
    measure_info(ctx, stats, run_err == CFP_ERR_OK && !ctx->stopped, &ctx->info);
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
                                 &ctx->sink, stats, st);
        cfp_run_final_stats(ctx, stats);
        err = cfp_run_close(ctx, stats, run_err, st);
    }
    cfp_free(ctx);
    return err;
}
