/* cfp_cli_opts.c - the options of the processing command (generate,
 * --mode, --compare): the table, the defaults, one handler per kind of
 * option, and the checks that the options go together. */
#include "cli/cfp_cli_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfp_engine.h"
#include "proc/cfp_png.h"

#define DEFAULT_LATENCY_MS 20
#define DEFAULT_MAX_BYTES  (256ULL * 1024 * 1024)
#define DEFAULT_MAX_PIXELS CFP_PNG_MAX_PIXELS_DEFAULT
/* A CSV record is held whole while it is parsed: 16 MB is far beyond any
 * sane record and bounds a quote that never closes. */
#define CFP_DEFAULT_MAX_RECORD (16u << 20)

#define MAX_WORKERS     1024
#define MAX_CONCURRENCY 4096

enum {
    OPT_NUM_IMAGES = 256, OPT_NUM_TEXTS, OPT_NUM_CSV, OPT_SEED, OPT_REPORT, OPT_MAX_SIDE,
    OPT_MAX_PIXELS, OPT_MAX_BYTES, OPT_RETRIES, OPT_TIMEOUT, OPT_LATENCY, OPT_CACERT,
    OPT_INSECURE, OPT_COMPARE, OPT_WORKLOAD, OPT_WORKLOADS_DIR, OPT_RANK_ENGINE, OPT_RANKS,
    OPT_NO_RANK0_WORK, OPT_RANK_TIMEOUT, OPT_LABEL, OPT_NO_REPORT, OPT_PROFILE, OPT_SHARD,
    OPT_RESUME, OPT_NO_RETRY_FAILED, OPT_GRACE, OPT_TASK_TIMEOUT, OPT_MAX_RECORD,
    OPT_STATS_EVERY, OPT_PER_HOST, OPT_MEMORY
};

static const struct option longopts[] = {
    {"generate-dataset", no_argument, NULL, 'g'},
    {"num-images", required_argument, NULL, OPT_NUM_IMAGES},
    {"num-texts", required_argument, NULL, OPT_NUM_TEXTS},
    {"num-csv", required_argument, NULL, OPT_NUM_CSV},
    {"seed", required_argument, NULL, OPT_SEED},
    {"dataset-dir", required_argument, NULL, 'd'},
    {"mode", required_argument, NULL, 'm'},
    {"input", required_argument, NULL, 'i'},
    {"output-dir", required_argument, NULL, 'o'},
    {"results", required_argument, NULL, 'r'},
    {"report", required_argument, NULL, OPT_REPORT},
    {"max-side", required_argument, NULL, OPT_MAX_SIDE},
    {"max-pixels", required_argument, NULL, OPT_MAX_PIXELS},
    {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"workers", required_argument, NULL, 'w'},
    {"concurrency", required_argument, NULL, 'c'},
    {"compare", no_argument, NULL, OPT_COMPARE},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"workloads-dir", required_argument, NULL, OPT_WORKLOADS_DIR},
    {"rank-engine", required_argument, NULL, OPT_RANK_ENGINE},
    {"ranks", required_argument, NULL, OPT_RANKS},
    {"no-rank0-work", no_argument, NULL, OPT_NO_RANK0_WORK},
    {"rank-timeout", required_argument, NULL, OPT_RANK_TIMEOUT},
    {"label", required_argument, NULL, OPT_LABEL},
    {"no-report", no_argument, NULL, OPT_NO_REPORT},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"no-retry-failed", no_argument, NULL, OPT_NO_RETRY_FAILED},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"task-timeout", required_argument, NULL, OPT_TASK_TIMEOUT},
    {"max-record", required_argument, NULL, OPT_MAX_RECORD},
    {"stats-every", required_argument, NULL, OPT_STATS_EVERY},
    {"per-host-connections", required_argument, NULL, OPT_PER_HOST},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {NULL, 0, NULL, 0}};

static void opts_defaults(struct cfp_cli_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->gen.dir = CFP_CLI_DATASET_DIR;
    o->gen.num_images = CFP_GEN_DEFAULT_IMAGES;
    o->gen.num_texts = CFP_GEN_DEFAULT_TEXTS;
    o->gen.num_csv = CFP_GEN_DEFAULT_CSV;
    o->gen.seed = CFP_GEN_DEFAULT_SEED;
    o->results = CFP_CLI_PROCESSED "/results.h5";
    o->workloads_dir = "data/workloads";
    o->mpi.rank0_works = true;
    o->mpi.rank_timeout_s = CFP_MPI_RANK_TIMEOUT_DEFAULT;
    o->run_cfg.mode = CFP_MODE_SEQUENTIAL;
    o->run_cfg.latency_ms = DEFAULT_LATENCY_MS;
    o->run_cfg.task.max_side = 512;
    o->run_cfg.task.max_pixels = DEFAULT_MAX_PIXELS;
    o->run_cfg.task.memory = CFP_MEMORY_AUTO;
    o->run_cfg.task.fetch.max_bytes = DEFAULT_MAX_BYTES;
    o->run_cfg.task.fetch.retries = 2;
    o->run_cfg.task.fetch.timeout_s = 30;
    o->run_cfg.task.fetch.backoff_s = 0.2;
    o->run_cfg.retry_failed = true;
    o->grace_s = 30;
}

/* --shard K/N */
static bool parse_shard(const char *arg, struct cfp_run_cfg *r)
{
    char *end;
    long k = strtol(arg, &end, 10), n;

    if (end == arg || *end != '/')
        goto bad;
    n = strtol(end + 1, &end, 10);
    if (*end || n < 1 || n > 1000000 || k < 1 || k > n)
        goto bad;
    r->shard_k = (int)k;
    r->shard_n = (int)n;
    return true;
bad:
    cfp_cli_usage_error("--shard: '%s' is not K/N with 1 <= K <= N", arg);
    return false;
}

/* Parses an unsigned option value into *v; prints the error itself. */
#define U64_OR_FAIL(name, min, max, suffix)                                           \
    do {                                                                               \
        if (!cfp_cli_u64(name, arg, min, max, suffix, &v))                             \
            return false;                                                              \
    } while (0)

/* Handles one option that limits a task: its size, time and retries. */
static bool opt_limit(struct cfp_cli_opts *o, int c, const char *arg)
{
    struct cfp_task_cfg *t = &o->run_cfg.task;
    uint64_t v = 0;

    switch (c) {
    case OPT_MAX_SIDE:
        U64_OR_FAIL("--max-side", 1, 65535, false);
        t->max_side = (uint32_t)v;
        return true;
    case OPT_MAX_PIXELS:
        return cfp_cli_u64("--max-pixels", arg, 1, 1ULL << 40, false, &t->max_pixels);
    case OPT_MAX_BYTES:
        return cfp_cli_u64("--max-bytes", arg, 1, 64ULL << 30, true, &t->fetch.max_bytes);
    case OPT_MEMORY:
        return cfp_cli_u64("--memory", arg, 0, 1ULL << 50, true, &t->memory);
    case OPT_MAX_RECORD:
        U64_OR_FAIL("--max-record", 16, 1ULL << 30, true);
        t->max_record = (size_t)v;
        return true;
    case OPT_RETRIES:
        U64_OR_FAIL("--retries", 0, 20, false);
        t->fetch.retries = (int)v;
        return true;
    case OPT_TIMEOUT:
        return cfp_cli_seconds("--timeout", arg, 0.1, 86400, &t->fetch.timeout_s);
    case OPT_TASK_TIMEOUT:
        return cfp_cli_seconds("--task-timeout", arg, 0.01, 7 * 86400, &t->fetch.task_timeout_s);
    case OPT_RANK_TIMEOUT:
        return cfp_cli_seconds("--rank-timeout", arg, 1, 86400, &o->mpi.rank_timeout_s);
    case OPT_GRACE:
        return cfp_cli_seconds("--grace", arg, 0, 86400, &o->grace_s);
    default:
        return false;
    }
}

/* Handles one numeric option that sizes the dataset or the run. */
static bool opt_count(struct cfp_cli_opts *o, int c, const char *arg)
{
    uint64_t v = 0;

    switch (c) {
    case OPT_NUM_IMAGES:
        U64_OR_FAIL("--num-images", 0, CFP_GEN_MAX_COUNT, false);
        o->gen.num_images = (unsigned)v;
        return true;
    case OPT_NUM_TEXTS:
        U64_OR_FAIL("--num-texts", 0, CFP_GEN_MAX_COUNT, false);
        o->gen.num_texts = (unsigned)v;
        return true;
    case OPT_NUM_CSV:
        U64_OR_FAIL("--num-csv", 0, CFP_GEN_MAX_COUNT, false);
        o->gen.num_csv = (unsigned)v;
        return true;
    case OPT_SEED:
        return cfp_cli_u64("--seed", arg, 0, UINT64_MAX, false, &o->gen.seed);
    case OPT_LATENCY:
        U64_OR_FAIL("--latency-ms", 0, 600000, false);
        o->run_cfg.latency_ms = (int)v;
        o->latency_given = true;
        return true;
    case 'w':
        U64_OR_FAIL("--workers", 1, MAX_WORKERS, false);
        o->workers = (int)v;
        return true;
    case 'c':
        U64_OR_FAIL("--concurrency", 1, MAX_CONCURRENCY, false);
        o->concurrency = (int)v;
        return true;
    case OPT_RANKS:
        U64_OR_FAIL("--ranks", 1, 4096, false);
        o->mpi.ranks = (int)v;
        return true;
    case OPT_PER_HOST:
        U64_OR_FAIL("--per-host-connections", 1, MAX_CONCURRENCY, false);
        o->per_host = (int)v;
        return true;
    case OPT_STATS_EVERY:
        U64_OR_FAIL("--stats-every", 1, 1ULL << 40, false);
        o->run_cfg.stats_every = (int64_t)v;
        return true;
    default:
        return opt_limit(o, c, arg);
    }
}

/* Handles one option that picks among names: mode, engine, profile,
 * workload. */
static bool opt_choice(struct cfp_cli_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'm':
        o->run = true;
        o->multiprocessing = strcmp(arg, "multiprocessing") == 0;
        if (o->multiprocessing) {
            o->run_cfg.mode = CFP_MODE_MPI;
        } else if (!cfp_mode_parse(arg, &o->run_cfg.mode)) {
            cfp_cli_usage_error("--mode: '%s' is not a mode (sequential, threading, async, mpi, "
                                "multiprocessing)", arg);
            return false;
        }
        return true;
    case OPT_RANK_ENGINE:
        if (!cfp_mode_parse(arg, &o->run_cfg.rank_engine) ||
            o->run_cfg.rank_engine == CFP_MODE_MPI) {
            cfp_cli_usage_error("--rank-engine: '%s' is not sequential, threading or async", arg);
            return false;
        }
        return true;
    case OPT_PROFILE:
        if (strcmp(arg, "mixed") == 0)
            o->gen.profile = CFP_GEN_MIXED;
        else if (strcmp(arg, "small") == 0)
            o->gen.profile = CFP_GEN_SMALL;
        else if (strcmp(arg, "large") == 0)
            o->gen.profile = CFP_GEN_LARGE;
        else {
            cfp_cli_usage_error("--profile: '%s' is not mixed, small or large", arg);
            return false;
        }
        return true;
    case OPT_WORKLOAD:
        if (strcmp(arg, "io") == 0)
            o->workload_set = CFP_WL_IO;
        else if (strcmp(arg, "cpu") == 0)
            o->workload_set = CFP_WL_CPU;
        else if (strcmp(arg, "both") == 0)
            o->workload_set = CFP_WL_BOTH;
        else {
            cfp_cli_usage_error("--workload: '%s' is not io, cpu or both", arg);
            return false;
        }
        return true;
    default:
        return opt_count(o, c, arg);
    }
}

/* Handles one option; false on a bad value (the message printed). */
static bool opt_set(struct cfp_cli_opts *o, int c, const char *arg)
{
    switch (c) {
    case 'g': o->generate = true; return true;
    case 'd': o->gen.dir = arg; return true;
    case OPT_NO_RANK0_WORK: o->mpi.rank0_works = false; return true;
    case 'i': o->run_cfg.input = arg; o->run = true; return true;
    case 'o': o->output_dir = arg; return true;
    case 'r': o->results = arg; return true;
    case OPT_REPORT: o->report = arg; return true;
    case OPT_CACERT: o->run_cfg.task.fetch.cacert = arg; return true;
    case OPT_COMPARE: o->compare = true; return true;
    case OPT_LABEL: o->label = arg; return true;
    case OPT_NO_REPORT: o->no_report = true; return true;
    case OPT_SHARD: return parse_shard(arg, &o->run_cfg);
    case OPT_RESUME: o->run_cfg.resume = true; return true;
    case OPT_NO_RETRY_FAILED: o->run_cfg.retry_failed = false; return true;
    case OPT_WORKLOADS_DIR: o->workloads_dir = arg; return true;
    case OPT_INSECURE: o->run_cfg.task.fetch.insecure = true; return true;
    case 'q': o->silent = o->quiet; o->quiet = true; return true; /* -qq: silent */
    case 'v': o->verbose++; return true;
    default: return opt_choice(o, c, arg);
    }
}

/* The engine options of the mode that runs (each rank's, under MPI). */
static void opts_engine(const struct cfp_cli_opts *o, struct cfp_run_cfg *r)
{
    enum cfp_mode em = r->mode == CFP_MODE_MPI ? r->rank_engine : r->mode;

    cfp_engine_defaults(em, &r->engine);
    if (o->workers && em != CFP_MODE_SEQUENTIAL)
        r->engine.workers = o->workers;
    if (o->concurrency && em != CFP_MODE_SEQUENTIAL)
        r->engine.concurrency = o->concurrency;
    else if (em == CFP_MODE_THREADS)
        r->engine.concurrency = r->engine.workers;
    r->engine.per_host = o->per_host; /* MPI: each rank's share, set in mpi/ */
}

/* Derives the default output dir and report path once options are known. */
static bool opts_finish(struct cfp_cli_opts *o)
{
    struct cfp_run_cfg *r = &o->run_cfg;

    if (!o->output_dir) {
        (void)snprintf(o->output_buf, sizeof(o->output_buf), CFP_CLI_PROCESSED "/%s",
                       cfp_mode_name(r->mode));
        o->output_dir = o->output_buf;
    }
    if (strlen(o->output_dir) > CFP_PATH_MAX - 128) {
        cfp_cli_usage_error("--output-dir: path longer than %d bytes", CFP_PATH_MAX - 128);
        return false;
    }
    if (!o->report && !(o->report = cfp_cli_report_beside(o->results, o->report_buf,
                                                          sizeof(o->report_buf)))) {
        cfp_cli_usage_error("--results: path too long");
        return false;
    }
    opts_engine(o, r);
    r->task.output_dir = o->output_dir;
    if (!r->task.max_record)
        r->task.max_record = CFP_DEFAULT_MAX_RECORD;
    r->dataset_dir = o->gen.dir;
    r->results_path = o->results;
    r->report_path = o->report;
    r->quiet = o->quiet;
    r->silent = o->silent;
    r->joblog = &o->joblog;
    r->workload = o->label ? o->label : r->input ? "url-list" : "dataset";
    if (o->no_report)
        r->report_path = NULL;
    return true;
}

int cfp_cli_opts_parse(struct cfp_cli_opts *o, int argc, char **argv,
                       cfp_cli_mpi_version_fn *mpi_version)
{
    static const char shortopts[] = "gd:m:i:o:r:w:c:qvhV";
    int c;

    opts_defaults(o);
    o->argc = argc;
    o->argv = argv;
    opterr = 0; /* cfp_cli_bad_option() says it, on one line */
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (c == 'h')
            return cfp_cli_help();
        if (c == 'V')
            return cfp_cli_version(mpi_version);
        if (c == '?')
            return cfp_cli_bad_option(NULL, argv, shortopts, longopts);
        if (!opt_set(o, c, optarg))
            return CFP_EXIT_USAGE;
    }
    if (optind < argc)
        return cfp_cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->generate && !o->run && !o->compare)
        return cfp_cli_usage_error("nothing to do: give --generate-dataset, --mode or --compare");
    if (o->compare && o->run && !o->run_cfg.input)
        return cfp_cli_usage_error("--compare runs every mode itself: drop --mode");
    if (!opts_finish(o))
        return CFP_EXIT_USAGE;
    if ((o->run_cfg.resume || o->run_cfg.shard_n) && (o->compare || !o->run))
        return cfp_cli_usage_error("--resume and --shard go with --mode (one run), not --compare");
    if (!o->run_cfg.retry_failed && !o->run_cfg.resume)
        return cfp_cli_usage_error("--no-retry-failed goes with --resume");
    return CFP_CLI_PARSED;
}
