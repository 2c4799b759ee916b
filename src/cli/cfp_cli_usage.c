/* cfp_cli_usage.c - the help texts: the global one (cfp --help, cfp help),
 * one per subcommand (cfp serve --help, cfp help serve), and `cfp help`. */
#include "cli/cfp_cli_internal.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "Usage: cfp [OPTIONS]                 generate a dataset and/or process URLs\n"
    "       cfp serve --root DIR [--port P] [--latency-ms L] [--bind ADDR]\n"
    "                 [--tls-cert PEM --tls-key PEM]\n"
    "       cfp report RESULTS.h5 [-o FILE]\n"
    "       cfp merge [--report FILE] OUT.h5 IN.h5...   one run from the shards' runs\n"
    "       cfp export RESULTS.h5 [--status failed] [--columns url]   task rows as text\n"
    "       cfp generate-image --size WxH -o FILE [...]   one huge PNG, streamed\n"
    "       cfp help [COMMAND]            the help of one command (serve, report, merge,\n"
    "                                     export, generate-image)\n"
    "\n"
    "Dataset:\n"
    "  -g, --generate-dataset   write a deterministic test dataset, then run --mode if given\n"
    "      --num-images N       PNG images (default 20)\n"
    "      --num-texts N        text files (default 20)\n"
    "      --num-csv N          CSV files (default 10)\n"
    "      --seed S             generator seed (default 42)\n"
    "      --profile P          mixed (default), small (many small files) or large (large images)\n"
    "  -d, --dataset-dir DIR    dataset directory (default " CFP_CLI_DATASET_DIR ")\n"
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
    "      --ranks N            multiprocessing: ranks to start (default: CPUs available)\n"
    "      --no-rank0-work      mpi: rank 0 only dispatches and writes results\n"
    "      --rank-timeout S     mpi: end the run when a rank is silent this long (default 30)\n"
    "  -w, --workers N          threading: pool threads (default 8 per CPU, max 64);\n"
    "                           async: CPU threads (default: CPUs + 1)\n"
    "  -c, --concurrency N      transfers in flight (threading: = workers; async: 64)\n"
    "  -i, --input FILE         URL list, one per line ('-' = stdin); without it the dataset\n"
    "                           is served over HTTP by cfp's own loopback server\n"
    "  -o, --output-dir DIR     outputs (default " CFP_CLI_PROCESSED "/<mode>)\n"
    "  -r, --results FILE.h5    HDF5 results, appended (default " CFP_CLI_PROCESSED "/results.h5)\n"
    "      --report FILE        text report (default beside results: r1.h5 -> r1.report.txt)\n"
    "      --max-side PX        longest side of output images (default 512)\n"
    "      --max-pixels P       refuse larger images: a bomb limit (default 4294967296)\n"
    "      --memory SIZE        memory budget for images, K/M/G suffix, 0 = none (default:\n"
    "                           the cgroup's limit, Slurm's --mem, or 80% of MemAvailable,\n"
    "                           the smallest; under MPI shared among a node's ranks)\n"
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
    "      --label NAME         the run's workload name in the results and report\n"
    "                           (default url-list with --input, else dataset)\n"
    "      --no-report          write the results only, no text report (cfp report makes it)\n"
    "\n"
    "Clusters (see doc/cluster.md):\n"
    "      --shard K/N          do only tasks K, K+N, K+2N, ... of the list (1 <= K <= N)\n"
    "      --resume             continue the last run of --results: skip tasks already ok\n"
    "                           (output intact), redo failed and unfinished ones\n"
    "      --no-retry-failed    with --resume: keep failed tasks as they are\n"
    "      --grace S            on SIGTERM/SIGINT/SIGUSR1: stop taking tasks, let those in\n"
    "                           flight finish for S seconds, then abandon them (default 30)\n"
    "      --insecure           do not verify https certificates\n"
    "\n"
    "  -q, --quiet              no progress line (failures and the summary are still\n"
    "                           printed); -qq: nothing at all\n"
    "  -v, --verbose            more log lines (repeat for debug)\n"
    "  -h, --help               this help\n"
    "  -V, --version            version\n"
    "\n"
    "Exit status: 0 all tasks ok, 1 some tasks failed, 2 usage error, 3 fatal error,\n"
    "             4 --compare found that the modes' outputs differ,\n"
    "             5 stopped by a signal (finish with --resume).\n";

static const char serve_text[] =
    "Usage: cfp serve --root DIR [OPTIONS]\n"
    "Serve the files under DIR over HTTP(S), as the runs' loopback server does, until\n"
    "SIGINT or SIGTERM; prints the URL on stdout.\n"
    "\n"
    "      --root DIR       directory to serve (required); nothing outside it is served\n"
    "      --port P         TCP port (default 0: a free port, printed)\n"
    "      --bind ADDR      numeric IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
    "      --latency-ms L   delay added before each response (default 0)\n"
    "      --tls-cert PEM   serve https with this certificate (with --tls-key)\n"
    "      --tls-key PEM    the certificate's private key\n"
    "  -h, --help           this help\n"
    "\n"
    "Example: cfp serve --root data/test_dataset --port 8080 --latency-ms 20\n";

static const char report_text[] =
    "Usage: cfp report RESULTS.h5 [-o FILE]\n"
    "Write again the text report and its chart (.svg) of an HDF5 results file.\n"
    "\n"
    "  -o, --output FILE    the report (default beside RESULTS.h5, named after it;\n"
    "                       '-' prints it)\n"
    "  -h, --help           this help\n"
    "\n"
    "Example: cfp report data/processed/results.h5 -o -\n";

static const char merge_text[] =
    "Usage: cfp merge [OPTIONS] OUT.h5 IN.h5...\n"
    "Combine the runs of --shard jobs (one results file each) into one run in a new\n"
    "OUT.h5, and write its report.\n"
    "\n"
    "  -o, --report FILE    the report (default beside OUT.h5, named after it)\n"
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this help\n"
    "\n"
    "Example: cfp merge data/processed/all.h5 data/processed/shard-*.h5\n";

static const char export_text[] =
    "Usage: cfp export RESULTS.h5 [OPTIONS]\n"
    "Write the task rows of one run of an HDF5 results file as text on stdout.\n"
    "\n"
    "      --run ID         the run (e.g. 0002-threading; default the newest)\n"
    "      --status S       failed, ok or all (default all)\n"
    "      --format F       tsv (header line starts with '#'), csv or jsonl (default tsv)\n"
    "      --columns A,B    the columns, in that order (default all, as in the file:\n"
    "                       index,url,kind,status,error_code,error,http_status,...)\n"
    "  -h, --help           this help\n"
    "\n"
    "Example: cfp export data/processed/results.h5 --status failed --columns url > again.txt\n";

static const char image_text[] =
    "Usage: cfp generate-image --size WxH -o FILE [OPTIONS]\n"
    "Write one photo-like PNG of any size, row by row (memory: a few rows); the\n"
    "bytes are a pure function of the options.\n"
    "\n"
    "      --size WxH       width x height, each 1..2147483647 (required)\n"
    "  -o, --output FILE    the PNG (required); written to a temporary name, renamed\n"
    "      --seed N         picture seed (default 42)\n"
    "      --color C        gray, gray-alpha, rgb or rgba, 8-bit (default rgb)\n"
    "      --interlace      Adam7\n"
    "      --noise N        fine noise, +-N levels (default 3; 0: smooth, compresses well)\n"
    "      --zlib-level N   0..9 (default 1)\n"
    "  -q, --quiet          no progress line and no summary\n"
    "  -h, --help           this help\n"
    "\n"
    "Example: cfp generate-image --size 40000x25000 -o data/bench/1gp.png\n";

static const char help_text[] =
    "Usage: cfp help [COMMAND]\n"
    "Print the help of COMMAND (serve, report, merge, export, generate-image, help);\n"
    "without one, the help of cfp itself (cfp --help).\n"
    "\n"
    "Example: cfp help serve\n";

/* The subcommands' words (as main.c dispatches them) and their help. */
static const char *const cmd_words[] = {"serve", "report", "merge", "export", "generate-image",
                                        "help", NULL};
static const char *const cmd_texts[] = {serve_text,  report_text, merge_text,
                                        export_text, image_text,  help_text};

int cfp_cli_help(void)
{
    fputs(usage_text, stdout);
    return CFP_EXIT_OK;
}

int cfp_cli_cmd_help(const char *cmd)
{
    for (size_t i = 0; cmd_words[i]; i++) {
        if (strcmp(cmd, cmd_words[i]) == 0) {
            fputs(cmd_texts[i], stdout);
            return CFP_EXIT_OK;
        }
    }
    return cfp_cli_help();
}

int cfp_cli_help_command(int argc, char **argv)
{
    const char *near;
    size_t i;

    if (argc < 2)
        return cfp_cli_help();
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cfp_cli_cmd_help("help");
    if (argc > 2)
        return cfp_cli_cmd_usage_error("help", "give one COMMAND at most");
    for (i = 0; cmd_words[i] && strcmp(argv[1], cmd_words[i]) != 0; i++)
        ;
    if (cmd_words[i])
        return cfp_cli_cmd_help(argv[1]);
    /* One line: it names the commands there are, so no Try line. */
    near = cfp_cli_closest(argv[1], cmd_words);
    fprintf(stderr,
            "cfp: help: no command '%s'%s%s%s; the commands are serve, report, merge, "
            "export, generate-image and help\n",
            argv[1], near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    return CFP_EXIT_USAGE;
}

int cfp_cli_unknown_command(const char *word)
{
    const char *near = cfp_cli_closest(word, cmd_words);

    if (near)
        return cfp_cli_usage_error("unknown command '%s'; did you mean '%s'?", word, near);
    return cfp_cli_usage_error("unknown command '%s' (the commands are serve, report, merge, "
                               "export, generate-image and help; the processing command takes "
                               "options only)",
                               word);
}
