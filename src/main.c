/* main.c - the cfp command line: the seed lab's commands (--generate-dataset,
 * --mode), plus `cfp serve` and `cfp report`. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cfp_cli.h"
#include "cli/cfp_cmd.h"
#include "run/cfp_compare.h"
#include "engine/cfp_engine.h"
#include "task/cfp_fetch.h"
#include "lab/cfp_gen.h"
#include "base/cfp_log.h"
#include "run/cfp_merge.h"
#include "results/cfp_report.h"
#include "run/cfp_run.h"
#include "lab/cfp_server.h"
#include "base/cfp_stop.h"
#ifdef CFP_WITH_MPI
#include "mpi/cfp_mpi.h"
#endif

#define DEFAULT_DATASET_DIR "data/test_dataset"
#define DEFAULT_PROCESSED   "data/processed"
#define DEFAULT_LATENCY_MS  20
#define DEFAULT_MAX_BYTES   (256ULL * 1024 * 1024)
#define DEFAULT_MAX_PIXELS  100000000ULL
/* A CSV record is held whole while it is parsed: 16 MB is far beyond any
 * sane record and bounds a quote that never closes. */
#define CFP_DEFAULT_MAX_RECORD (16u << 20)

static const char usage_text[] =
    "Usage: cfp [OPTIONS]                 generate a dataset and/or process URLs\n"
    "       cfp serve --root DIR [--port P] [--latency-ms L] [--bind ADDR]\n"
    "                 [--tls-cert PEM --tls-key PEM]\n"
    "       cfp report RESULTS.h5 [-o FILE]\n"
    "       cfp merge [--report FILE] OUT.h5 IN.h5...   one run from the shards' runs\n"
    "\n"
    "Dataset:\n"
    "  -g, --generate-dataset   write a deterministic test dataset, then run --mode if given\n"
    "      --num-images N       PNG images (default 20)\n"
    "      --num-texts N        text files (default 20)\n"
    "      --num-csv N          CSV files (default 10)\n"
    "      --seed S             generator seed (default 42)\n"
    "      --profile P          mixed (default), small (many small files) or large (large images)\n"
    "  -d, --dataset-dir DIR    dataset directory (default " DEFAULT_DATASET_DIR ")\n"
    "\n"
    "Comparison (the seed lab's main command):\n"
    "      --compare            run every mode on the same work, check the outputs are identical,\n"
    "                           write the report and a chart (.svg) from the HDF5 results\n"
    "      --workload W         io, cpu or both (default both); ignored with --input\n"
    "      --workloads-dir DIR  datasets of the io and cpu workloads (default data/workloads)\n"
    "\n"
    "Processing:\n"
    "  -m, --mode MODE          sequential, threading (alias threads), async, mpi (under mpirun\n"
    "                           or srun) or multiprocessing (starts its own MPI ranks)\n"
    "      --rank-engine E      mpi: the engine each rank runs (default sequential)\n"
    "      --ranks N            multiprocessing: ranks to start (default: cores)\n"
    "      --no-rank0-work      mpi: rank 0 only dispatches and writes results\n"
    "      --rank-timeout S     mpi: end the run when a rank is silent this long (default 30)\n"
    "  -w, --workers N          threading: pool threads (default 8 per core, max 64);\n"
    "                           async: CPU threads (default: cores + 1)\n"
    "  -c, --concurrency N      transfers in flight (threading: = workers; async: 64)\n"
    "  -i, --input FILE         URL list, one per line ('-' = stdin); without it the dataset\n"
    "                           is served over HTTP by cfp's own loopback server\n"
    "  -o, --output-dir DIR     outputs (default " DEFAULT_PROCESSED "/<mode>)\n"
    "  -r, --results FILE.h5    HDF5 results, appended (default " DEFAULT_PROCESSED "/results.h5)\n"
    "      --report FILE        text report (default performance_report.txt beside results)\n"
    "      --max-side PX        longest side of output images (default 512)\n"
    "      --max-pixels P       refuse larger images (default 100000000)\n"
    "      --max-bytes B        refuse larger downloads, K/M/G suffix (default 256M)\n"
    "      --retries N          retries of transient failures (default 2)\n"
    "      --timeout S          connect and stall timeout in seconds (default 30)\n"
    "      --task-timeout S     wall-clock limit of one task, fetch and processing (default none)\n"
    "      --max-record B       longest CSV record, K/M/G suffix (default 16M)\n"
    "      --stats-every N      log memory and open files every N tasks (soak tests)\n"
    "      --per-host-connections N  transfers in flight to any one server (scheme, host, port),\n"
    "                           in all: under MPI shared out among the ranks (default: no cap)\n"
    "      --latency-ms L       per-request latency of the loopback server (default 20)\n"
    "      --cacert FILE        CA certificates for https\n"
    "\n"
    "Clusters (see README, \"Running on a cluster\"):\n"
    "      --shard K/N          do only tasks K, K+N, K+2N, ... of the list (1 <= K <= N)\n"
    "      --resume             continue the last run of --results: skip tasks already ok\n"
    "                           (output intact), redo failed and unfinished ones\n"
    "      --no-retry-failed    with --resume: keep failed tasks as they are\n"
    "      --grace S            on SIGTERM/SIGINT/SIGUSR1: stop taking tasks, let those in\n"
    "                           flight finish for S seconds, then abandon them (default 30)\n"
    "      --insecure           do not verify https certificates\n"
    "\n"
    "  -q, --quiet              no progress line\n"
    "  -v, --verbose            more log lines (repeat for debug)\n"
    "  -h, --help               this help\n"
    "  -V, --version            version\n"
    "\n"
    "Exit status: 0 all tasks ok, 1 some tasks failed, 2 usage error, 3 fatal error,\n"
    "             4 --compare found that the modes' outputs differ,\n"
    "             5 stopped by a signal (finish with --resume).\n";

enum {
    OPT_NUM_IMAGES = 256, OPT_NUM_TEXTS, OPT_NUM_CSV, OPT_SEED, OPT_REPORT, OPT_MAX_SIDE,
    OPT_MAX_PIXELS, OPT_MAX_BYTES, OPT_RETRIES, OPT_TIMEOUT, OPT_LATENCY, OPT_CACERT,
    OPT_INSECURE, OPT_PORT, OPT_ROOT, OPT_BIND, OPT_TLS_CERT, OPT_TLS_KEY, OPT_COMPARE,
    OPT_WORKLOAD, OPT_WORKLOADS_DIR, OPT_RANK_ENGINE, OPT_RANKS, OPT_NO_RANK0_WORK,
    OPT_RANK_TIMEOUT, OPT_LABEL, OPT_NO_REPORT, OPT_PROFILE, OPT_SHARD, OPT_RESUME,
    OPT_NO_RETRY_FAILED, OPT_GRACE, OPT_TASK_TIMEOUT, OPT_MAX_RECORD, OPT_STATS_EVERY,
    OPT_PER_HOST
};


#define MAX_WORKERS     1024
#define MAX_CONCURRENCY 4096

static const struct option main_longopts[] = {
    {"generate-dataset", no_argument, NULL, 'g'}, {"num-images", required_argument, NULL, OPT_NUM_IMAGES},
    {"num-texts", required_argument, NULL, OPT_NUM_TEXTS}, {"num-csv", required_argument, NULL, OPT_NUM_CSV},
    {"seed", required_argument, NULL, OPT_SEED}, {"dataset-dir", required_argument, NULL, 'd'},
    {"mode", required_argument, NULL, 'm'}, {"input", required_argument, NULL, 'i'},
    {"output-dir", required_argument, NULL, 'o'}, {"results", required_argument, NULL, 'r'},
    {"report", required_argument, NULL, OPT_REPORT}, {"max-side", required_argument, NULL, OPT_MAX_SIDE},
    {"max-pixels", required_argument, NULL, OPT_MAX_PIXELS}, {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
    {"retries", required_argument, NULL, OPT_RETRIES}, {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"latency-ms", required_argument, NULL, OPT_LATENCY}, {"cacert", required_argument, NULL, OPT_CACERT},
    {"insecure", no_argument, NULL, OPT_INSECURE}, {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'}, {"workers", required_argument, NULL, 'w'},
    {"concurrency", required_argument, NULL, 'c'}, {"compare", no_argument, NULL, OPT_COMPARE},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"workloads-dir", required_argument, NULL, OPT_WORKLOADS_DIR},
    {"rank-engine", required_argument, NULL, OPT_RANK_ENGINE},
    {"ranks", required_argument, NULL, OPT_RANKS},
    {"no-rank0-work", no_argument, NULL, OPT_NO_RANK0_WORK},
    {"rank-timeout", required_argument, NULL, OPT_RANK_TIMEOUT},
    {"label", required_argument, NULL, OPT_LABEL},
    {"no-report", no_argument, NULL, OPT_NO_REPORT}, {"profile", required_argument, NULL, OPT_PROFILE},
    {"shard", required_argument, NULL, OPT_SHARD}, {"resume", no_argument, NULL, OPT_RESUME},
    {"no-retry-failed", no_argument, NULL, OPT_NO_RETRY_FAILED},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"task-timeout", required_argument, NULL, OPT_TASK_TIMEOUT},
    {"max-record", required_argument, NULL, OPT_MAX_RECORD},
    {"stats-every", required_argument, NULL, OPT_STATS_EVERY},
    {"per-host-connections", required_argument, NULL, OPT_PER_HOST},
    {NULL, 0, NULL, 0}};

static void opts_defaults(struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->gen.dir = DEFAULT_DATASET_DIR;
    o->gen.num_images = CFP_GEN_DEFAULT_IMAGES;
    o->gen.num_texts = CFP_GEN_DEFAULT_TEXTS;
    o->gen.num_csv = CFP_GEN_DEFAULT_CSV;
    o->gen.seed = CFP_GEN_DEFAULT_SEED;
    o->results = DEFAULT_PROCESSED "/results.h5";
    o->workloads_dir = "data/workloads";
    o->mpi.rank0_works = true;
    o->mpi.rank_timeout_s = 30.0;
    o->run_cfg.mode = CFP_MODE_SEQUENTIAL;
    o->run_cfg.latency_ms = DEFAULT_LATENCY_MS;
    o->run_cfg.task.max_side = 512;
    o->run_cfg.task.max_pixels = DEFAULT_MAX_PIXELS;
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

/* Handles one numeric option of the generate/run command. */
static bool main_num_opt(struct opts *o, int c, const char *arg)
{
    struct cfp_task_cfg *t = &o->run_cfg.task;
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
    case OPT_MAX_SIDE:
        U64_OR_FAIL("--max-side", 1, 65535, false);
        t->max_side = (uint32_t)v;
        return true;
    case OPT_MAX_PIXELS:
        return cfp_cli_u64("--max-pixels", arg, 1, 1ULL << 40, false, &t->max_pixels);
    case OPT_MAX_BYTES:
        return cfp_cli_u64("--max-bytes", arg, 1, 64ULL << 30, true, &t->fetch.max_bytes);
    case OPT_RETRIES:
        U64_OR_FAIL("--retries", 0, 20, false);
        t->fetch.retries = (int)v;
        return true;
    case OPT_TIMEOUT:
        return cfp_cli_seconds("--timeout", arg, 0.1, 86400, &t->fetch.timeout_s);
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
    case OPT_RANK_TIMEOUT:
        return cfp_cli_seconds("--rank-timeout", arg, 1, 86400, &o->mpi.rank_timeout_s);
    case OPT_GRACE:
        return cfp_cli_seconds("--grace", arg, 0, 86400, &o->grace_s);
    case OPT_TASK_TIMEOUT:
        return cfp_cli_seconds("--task-timeout", arg, 0.01, 7 * 86400, &t->fetch.task_timeout_s);
    case OPT_MAX_RECORD:
        U64_OR_FAIL("--max-record", 16, 1ULL << 30, true);
        t->max_record = (size_t)v;
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
        return false;
    }
}

/* Handles one option of the generate/run command; false on a bad value. */
static bool main_opt(struct opts *o, int c, const char *arg)
{
    switch (c) {
    case 'g': o->generate = true; return true;
    case 'd': o->gen.dir = arg; return true;
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
        if (!cfp_mode_parse(arg, &o->run_cfg.rank_engine) || o->run_cfg.rank_engine == CFP_MODE_MPI) {
            cfp_cli_usage_error("--rank-engine: '%s' is not sequential, threading or async", arg);
            return false;
        }
        return true;
    case OPT_NO_RANK0_WORK: o->mpi.rank0_works = false; return true;
    case 'i': o->run_cfg.input = arg; o->run = true; return true;
    case 'o': o->output_dir = arg; return true;
    case 'r': o->results = arg; return true;
    case OPT_REPORT: o->report = arg; return true;
    case OPT_CACERT: o->run_cfg.task.fetch.cacert = arg; return true;
    case OPT_COMPARE: o->compare = true; return true;
    case OPT_LABEL: o->label = arg; return true;
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
    case OPT_NO_REPORT: o->no_report = true; return true;
    case OPT_SHARD: return parse_shard(arg, &o->run_cfg);
    case OPT_RESUME: o->run_cfg.resume = true; return true;
    case OPT_NO_RETRY_FAILED: o->run_cfg.retry_failed = false; return true;
    case OPT_WORKLOADS_DIR: o->workloads_dir = arg; return true;
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
    case OPT_INSECURE: o->run_cfg.task.fetch.insecure = true; return true;
    case 'q': o->quiet = true; return true;
    case 'v': o->verbose++; return true;
    default: return main_num_opt(o, c, arg);
    }
}

/* The default report of a results file: performance_report.txt in its
 * directory, written into buf; NULL when it does not fit. */
static const char *report_beside(const char *results, char *buf, size_t size)
{
    const char *slash = strrchr(results, '/');
    int n = snprintf(buf, size, "%.*sperformance_report.txt",
                     slash ? (int)(slash - results + 1) : 0, results);

    return n < 0 || (size_t)n >= size ? NULL : buf;
}

/* Derives the default output dir and report path once options are known. */
static bool finish_opts(struct opts *o)
{
    struct cfp_run_cfg *r = &o->run_cfg;

    if (!o->output_dir) {
        (void)snprintf(o->output_buf, sizeof(o->output_buf), DEFAULT_PROCESSED "/%s",
                       cfp_mode_name(r->mode));
        o->output_dir = o->output_buf;
    }
    if (strlen(o->output_dir) > CFP_PATH_MAX - 128) {
        cfp_cli_usage_error("--output-dir: path longer than %d bytes", CFP_PATH_MAX - 128);
        return false;
    }
    if (!o->report && !(o->report = report_beside(o->results, o->report_buf,
                                                  sizeof(o->report_buf)))) {
        cfp_cli_usage_error("--results: path too long");
        return false;
    }
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
    r->task.output_dir = o->output_dir;
    if (!r->task.max_record)
        r->task.max_record = CFP_DEFAULT_MAX_RECORD;
    r->dataset_dir = o->gen.dir;
    r->results_path = o->results;
    r->report_path = o->report;
    r->quiet = o->quiet;
    r->workload = o->label ? o->label : r->input ? "url-list" : "dataset";
    if (o->no_report)
        r->report_path = NULL;
    return true;
}

void cfp_cmd_gen_progress(void *ctx, unsigned done, unsigned total)
{
    const bool *quiet = ctx;

    if (!*quiet && (done == total || isatty(STDERR_FILENO)))
        fprintf(stderr, "%sgenerating dataset: %u/%u files%s", isatty(STDERR_FILENO) ? "\r" : "",
                done, total, done == total ? "\n" : "");
}

static int cmd_compare(struct opts *o)
{
    struct cfp_compare_cfg cc;
    struct cfp_status st;
    bool failed, identical;
    char processed[CFP_PATH_MAX];
    const char *slash = strrchr(o->results, '/');

    memset(&cc, 0, sizeof(cc));
    cfp_status_clear(&st);
    (void)snprintf(processed, sizeof(processed), "%.*s", slash ? (int)(slash - o->results) : 1,
                   slash ? o->results : ".");
    cc.base = o->run_cfg;
    cc.workloads_dir = o->workloads_dir;
    cc.processed_dir = processed;
    cc.set = o->workload_set;
    cc.generate = o->generate;
    cc.seed = o->gen.seed;
    cc.io_latency_ms = o->latency_given ? o->run_cfg.latency_ms : CFP_COMPARE_IO_LATENCY_MS;
    cc.workers = o->workers;
    cc.concurrency = o->concurrency;
    (void)snprintf(o->processed, sizeof(o->processed), "%s", processed);
#ifdef CFP_WITH_MPI
    if (cfp_mpi_under_launcher())
        return cfp_cmd_compare_matrix(o, &cc);
    cc.extra = cfp_cmd_spawn_multiprocessing;
    cc.extra_ctx = o;
#endif
    if (cfp_fetch_global_init(&st) || cfp_compare_run(&cc, &failed, &identical, &st)) {
        fprintf(stderr, "cfp: compare: %s\n", st.msg);
        cfp_fetch_global_cleanup();
        return CFP_EXIT_FATAL;
    }
    cfp_fetch_global_cleanup();
    fprintf(stderr, "cfp: compare: outputs %s across modes; report %s, chart beside it, results %s\n",
            identical ? "identical" : "DIFFER", o->report, o->results);
    if (cfp_stop_requested())
        return CFP_EXIT_STOPPED;
    if (!identical)
        return CFP_EXIT_DIFFER;
    return failed ? CFP_EXIT_FAILED : CFP_EXIT_OK;
}

int cfp_cmd_generate(struct opts *o, struct cfp_status *st)
{
    if (cfp_gen_dataset(&o->gen, cfp_cmd_gen_progress, &o->quiet, st) ||
        cfp_run_write_manifest(o->gen.dir, st)) {
        fprintf(stderr, "cfp: generate dataset: %s\n", st->msg);
        return CFP_EXIT_FATAL;
    }
    return CFP_EXIT_OK;
}

#ifndef CFP_WITH_MPI
int cfp_cmd_mpi(struct opts *o, int argc, char **argv)
{
    (void)o, (void)argc, (void)argv;
    return cfp_cli_usage_error("--mode mpi/multiprocessing: MPI is not built in this cfp "
                               "(configured with -DCFP_WITH_MPI=OFF); sequential, threading and "
                               "async are available");
}
#endif

static int cmd_main(int argc, char **argv)
{
    struct opts o;
    struct cfp_status st;
    struct cfp_engine_stats stats;
    int c;

    opts_defaults(&o);
    cfp_status_clear(&st);
    while ((c = getopt_long(argc, argv, "gd:m:i:o:r:w:c:qvhV", main_longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            return CFP_EXIT_OK;
        }
        if (c == 'V') {
            puts("cfp " CFP_VERSION);
            return CFP_EXIT_OK;
        }
        if (c == '?' || !main_opt(&o, c, optarg))
            return c == '?' ? cfp_cli_usage_error("bad option") : CFP_EXIT_USAGE;
    }
    if (optind < argc)
        return cfp_cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!o.generate && !o.run && !o.compare)
        return cfp_cli_usage_error("nothing to do: give --generate-dataset, --mode or --compare");
    if (o.compare && o.run && !o.run_cfg.input)
        return cfp_cli_usage_error("--compare runs every mode itself: drop --mode");
    if (!finish_opts(&o))
        return CFP_EXIT_USAGE;
    cfp_log_setup(o.verbose >= 2 ? CFP_LOG_DEBUG : o.verbose ? CFP_LOG_INFO : CFP_LOG_WARN, -1);
    if ((o.run_cfg.resume || o.run_cfg.shard_n) && (o.compare || !o.run))
        return cfp_cli_usage_error("--resume and --shard go with --mode (one run), not --compare");
    if (!o.run_cfg.retry_failed && !o.run_cfg.resume)
        return cfp_cli_usage_error("--no-retry-failed goes with --resume");
    cfp_stop_install(o.grace_s);
    if (o.compare)
        return cmd_compare(&o);
    if (o.run && o.run_cfg.mode == CFP_MODE_MPI)
        return cfp_cmd_mpi(&o, argc, argv);
    if (o.generate && (c = cfp_cmd_generate(&o, &st)) != CFP_EXIT_OK)
        return c;
    if (!o.run)
        return CFP_EXIT_OK;
    if (cfp_fetch_global_init(&st) || cfp_run_job(&o.run_cfg, &stats, &st)) {
        fprintf(stderr, "cfp: %s\n", st.msg);
        cfp_fetch_global_cleanup();
        return CFP_EXIT_FATAL;
    }
    cfp_fetch_global_cleanup();
    return cfp_cli_run_exit(&stats, o.results, o.report, o.quiet);
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, OPT_ROOT}, {"port", required_argument, NULL, OPT_PORT},
        {"latency-ms", required_argument, NULL, OPT_LATENCY}, {"bind", required_argument, NULL, OPT_BIND},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT}, {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct cfp_server_opts so = {0};
    struct cfp_server *srv = NULL;
    struct cfp_status st;
    uint64_t v;
    int c;

    cfp_status_clear(&st);
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ROOT: so.root = optarg; break;
        case OPT_BIND: so.bind_addr = optarg; break;
        case OPT_TLS_CERT: so.tls_cert_pem = optarg; break;
        case OPT_TLS_KEY: so.tls_key_pem = optarg; break;
        case OPT_PORT:
            if (!cfp_cli_u64("--port", optarg, 0, 65535, false, &v))
                return CFP_EXIT_USAGE;
            so.port = (uint16_t)v;
            break;
        case OPT_LATENCY:
            if (!cfp_cli_u64("--latency-ms", optarg, 0, 600000, false, &v))
                return CFP_EXIT_USAGE;
            so.latency_ms = (unsigned)v;
            break;
        case 'h': fputs(usage_text, stdout); return CFP_EXIT_OK;
        default: return cfp_cli_usage_error("serve: bad option");
        }
    }
    if (!so.root || optind < argc)
        return cfp_cli_usage_error("serve: --root DIR is required (and nothing else)");
    cfp_stop_install(0); /* before the port is announced: a SIGTERM then is a clean stop */
    if (cfp_server_start(&so, &srv, &st)) {
        fprintf(stderr, "cfp: serve: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    printf("serving %s on %s://%s:%u/ (latency %u ms)\n", so.root, so.tls_cert_pem ? "https" : "http",
           so.bind_addr ? so.bind_addr : "127.0.0.1", cfp_server_port(srv), so.latency_ms);
    fflush(stdout);
    while (!cfp_stop_requested())
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL); /* no race, unlike pause() */
    cfp_server_stop(&srv);
    return CFP_EXIT_OK;
}

static int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *out = NULL;
    char buf[CFP_PATH_MAX];
    struct cfp_status st;
    int c;

    cfp_status_clear(&st);
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'h')
            return fputs(usage_text, stdout), CFP_EXIT_OK;
        else
            return cfp_cli_usage_error("report: bad option");
    }
    if (optind != argc - 1)
        return cfp_cli_usage_error("report: give exactly one RESULTS.h5");
    if (!out && !(out = report_beside(argv[optind], buf, sizeof(buf))))
        return cfp_cli_usage_error("report: path too long");
    if (cfp_report_write(argv[optind], out, NULL, &st)) {
        fprintf(stderr, "cfp: report: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    if (strcmp(out, "-") != 0)
        fprintf(stderr, "cfp: report written to %s\n", out);
    return CFP_EXIT_OK;
}

static int cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = {{"report", required_argument, NULL, 'o'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *report = NULL;
    char buf[CFP_PATH_MAX];
    struct cfp_engine_stats stats;
    struct cfp_status st;
    bool quiet = false;
    int c;

    cfp_status_clear(&st);
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        if (c == 'o')
            report = optarg;
        else if (c == 'q')
            quiet = true;
        else if (c == 'h')
            return fputs(usage_text, stdout), CFP_EXIT_OK;
        else
            return cfp_cli_usage_error("merge: bad option");
    }
    if (argc - optind < 2)
        return cfp_cli_usage_error("merge: give OUT.h5 and at least one IN.h5");
    if (!report && !(report = report_beside(argv[optind], buf, sizeof(buf))))
        return cfp_cli_usage_error("merge: path too long");
    if (cfp_merge(argv[optind], (const char *const *)argv + optind + 1, argc - optind - 1, &stats,
                  &st) ||
        cfp_report_write(argv[optind], report, NULL, &st)) {
        fprintf(stderr, "cfp: merge: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    return cfp_cli_run_exit(&stats, argv[optind], report, quiet);
}

int main(int argc, char **argv)
{
    /* Over a file-size limit (ulimit -f, RLIMIT_FSIZE) a write must fail
     * with EFBIG, failing that task, instead of SIGXFSZ killing the run. */
    signal(SIGXFSZ, SIG_IGN);
    /* Bodies and images are large, short-lived buffers freed on another
     * thread than the one that allocated them. glibc raises its mmap
     * threshold after such frees and then serves them from per-thread
     * arenas, which fragment: a 40,000-task soak grew by 55 MB. A fixed
     * threshold keeps every buffer over 256 KB in its own mapping, returned
     * to the system when freed. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    /* Fixing the mmap threshold also fixes the trim threshold at 128 KB:
     * every image's encoder state (zlib's ~300 KB, freed at the end of the
     * encode) was handed back with madvise and faulted in again for the
     * next image, and in a threaded run each such call flushes the other
     * cores' TLBs. 4 MB of free heap top kept per arena ends that: 60
     * photos 5-9 % faster in every mode. */
    mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
    if (argc > 1 && strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return cmd_merge(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    return cmd_main(argc, argv);
}
