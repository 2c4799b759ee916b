/* cfp_cli_export.c - `cfp export`: a run's task rows as text on stdout
 * (TSV, CSV or JSON Lines), e.g. the failed URLs as a list to run again. */
#include "cli/cfp_cli_internal.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "results/cfp_h5.h"

/* The columns of the tasks dataset, in its order (doc/hdf5-schema.md). */
enum col {
    C_INDEX, C_URL, C_KIND, C_STATUS, C_ERROR_CODE, C_ERROR, C_HTTP_STATUS, C_ATTEMPTS,
    C_BYTES_IN, C_BYTES_OUT, C_OUTPUT, C_DIGEST, C_RANK, C_WORKER, C_T_START, C_T_FETCH,
    C_T_PROCESS, C_T_WRITE, C_WIDTH_IN, C_HEIGHT_IN, C_WIDTH_OUT, C_HEIGHT_OUT, C_LINES,
    C_WORDS, C_CHARS, C_ROWS, C_COLS, C_HOST, C_COUNT
};

static const char *const col_names[C_COUNT + 1] = {
    "index", "url", "kind", "status", "error_code", "error", "http_status", "attempts",
    "bytes_in", "bytes_out", "output", "digest", "rank", "worker", "t_start", "t_fetch",
    "t_process", "t_write", "width_in", "height_in", "width_out", "height_out", "lines",
    "words", "chars", "rows", "cols", "host", NULL};

enum fmt { F_TSV, F_CSV, F_JSONL };
enum status_filter { S_ALL, S_OK, S_FAILED };

struct export {
    const char *path, *run;
    char run_buf[CFP_H5_RUN_ID_MAX];
    enum fmt fmt;
    enum status_filter status;
    int cols[C_COUNT], ncols;
    int64_t rows;
    bool header_done; /* written before the first row, so not before an error */
};

/* The text of column c of r: a string (*is_str true), or a number written
 * into buf. Floats get 17 digits, so that they read back exactly. */
static const char *col_text(const struct cfp_record *r, int c, char *buf, size_t n, bool *is_str)
{
    const int64_t i64[C_COUNT] = {
        [C_INDEX] = r->index,         [C_HTTP_STATUS] = r->http_status, [C_ATTEMPTS] = r->attempts,
        [C_BYTES_IN] = r->bytes_in,   [C_BYTES_OUT] = r->bytes_out,     [C_RANK] = r->rank,
        [C_WORKER] = r->worker,       [C_WIDTH_IN] = r->width_in,       [C_HEIGHT_IN] = r->height_in,
        [C_WIDTH_OUT] = r->width_out, [C_HEIGHT_OUT] = r->height_out,   [C_LINES] = r->lines,
        [C_WORDS] = r->words,         [C_CHARS] = r->chars,             [C_ROWS] = r->rows,
        [C_COLS] = r->cols};

    *is_str = true;
    switch (c) {
    case C_URL: return r->url;
    case C_KIND: return r->kind;
    case C_STATUS: return r->code == CFP_ERR_OK ? "ok" : "failed";
    case C_ERROR_CODE: return cfp_errname(r->code);
    case C_ERROR: return r->error;
    case C_OUTPUT: return r->output;
    case C_DIGEST: return r->digest;
    case C_HOST: return r->host;
    case C_T_START: (void)snprintf(buf, n, "%.17g", r->t_start); break;
    case C_T_FETCH: (void)snprintf(buf, n, "%.17g", r->t_fetch); break;
    case C_T_PROCESS: (void)snprintf(buf, n, "%.17g", r->t_process); break;
    case C_T_WRITE: (void)snprintf(buf, n, "%.17g", r->t_write); break;
    default: (void)snprintf(buf, n, "%" PRId64, i64[c]); break;
    }
    *is_str = false;
    return buf;
}

/* Writes s as a TSV field: tab, newline, CR and backslash escaped as \t, \n,
 * \r, \\ (the convention of PostgreSQL's COPY and of GNU parallel). */
static void put_tsv(const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r"
                      : *s == '\\' ? "\\\\" : NULL;
        if (e)
            fputs(e, stdout);
        else
            putchar(*s);
    }
}

/* Writes s as a CSV field (RFC 4180): quoted when it holds a comma, quote
 * or line break, quotes doubled. */
static void put_csv(const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* Writes s as a JSON string. Records hold no control bytes (cfp_record.h),
 * but the file may come from elsewhere: they are escaped all the same. */
static void put_json(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void put_header(struct export *x)
{
    if (x->header_done || x->fmt == F_JSONL)
        return;
    x->header_done = true;
    /* TSV's header is a comment line, so that `--columns url` is a URL
     * list as it stands. */
    if (x->fmt == F_TSV)
        putchar('#');
    for (int i = 0; i < x->ncols; i++)
        printf("%s%s", i ? (x->fmt == F_TSV ? "\t" : ",") : "", col_names[x->cols[i]]);
    putchar('\n');
}

/* cfp_h5_read_tasks() callback: one row. */
static int put_row(void *ctx, const struct cfp_record *r)
{
    struct export *x = ctx;
    char buf[64];

    if ((x->status == S_OK && r->code != CFP_ERR_OK) ||
        (x->status == S_FAILED && r->code == CFP_ERR_OK))
        return 0;
    x->rows++;
    put_header(x);
    if (x->fmt == F_JSONL)
        putchar('{');
    for (int i = 0; i < x->ncols; i++) {
        bool is_str;
        const char *v = col_text(r, x->cols[i], buf, sizeof(buf), &is_str);

        if (x->fmt == F_JSONL)
            printf("%s\"%s\":", i ? "," : "", col_names[x->cols[i]]);
        else if (i)
            putchar(x->fmt == F_TSV ? '\t' : ',');
        if (x->fmt == F_TSV)
            put_tsv(v);
        else if (x->fmt == F_CSV)
            put_csv(v);
        else if (is_str)
            put_json(v);
        else
            fputs(v, stdout);
    }
    fputs(x->fmt == F_JSONL ? "}\n" : "\n", stdout);
    return ferror(stdout) ? 1 : 0;
}

/* Parses --columns "a,b,c" into x->cols; false after a usage message. */
static bool parse_columns(struct export *x, const char *arg)
{
    x->ncols = 0;
    while (*arg) {
        size_t len = strcspn(arg, ",");
        int c;

        for (c = 0; c < C_COUNT; c++)
            if (strlen(col_names[c]) == len && strncmp(col_names[c], arg, len) == 0)
                break;
        if (c == C_COUNT || x->ncols == C_COUNT) {
            cfp_cli_cmd_usage_error("export", "--columns: no column '%.*s' (the columns are "
                                    "those of the tasks dataset, doc/hdf5-schema.md)",
                                    (int)len, arg);
            return false;
        }
        x->cols[x->ncols++] = c;
        arg += len + (arg[len] == ',');
    }
    if (x->ncols == 0)
        cfp_cli_cmd_usage_error("export", "--columns: give at least one column");
    return x->ncols > 0;
}

/* Picks value in the NULL-terminated names; -1 after a usage message. */
static int choice(const char *opt, const char *value, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    cfp_cli_cmd_usage_error("export", "%s: '%s' is not one of %s, %s, %s", opt, value, names[0],
                            names[1], names[2]);
    return -1;
}

/* cfp_h5_read_runs() callback: remembers the last run (the newest). */
static int last_run(void *ctx, const char *run_id, const struct cfp_run_info *info)
{
    struct export *x = ctx;

    (void)info;
    (void)snprintf(x->run_buf, sizeof(x->run_buf), "%s", run_id);
    return 0;
}

/* Parses the command line into *x; CFP_CLI_PARSED or an exit status. */
static int export_parse(struct export *x, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"run", required_argument, NULL, 'R'},    {"status", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'}, {"columns", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    static const char *const statuses[] = {"all", "ok", "failed", NULL};
    static const char *const formats[] = {"tsv", "csv", "jsonl", NULL};
    int c, v;

    memset(x, 0, sizeof(*x));
    for (x->ncols = 0; x->ncols < C_COUNT; x->ncols++)
        x->cols[x->ncols] = x->ncols;
    opterr = 0; /* cfp_cli_bad_option() says it, on one line */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h')
            return cfp_cli_cmd_help("export");
        if (c == 'R')
            x->run = optarg;
        else if (c == 's' && (v = choice("--status", optarg, statuses)) >= 0)
            x->status = (enum status_filter)v;
        else if (c == 'f' && (v = choice("--format", optarg, formats)) >= 0)
            x->fmt = (enum fmt)v;
        else if (c == 'c' && parse_columns(x, optarg))
            continue;
        else if (c == '?')
            return cfp_cli_bad_option("export", argv, "h", longopts);
        else if (c == 's' || c == 'f' || c == 'c')
            return CFP_EXIT_USAGE;
    }
    if (optind != argc - 1)
        return cfp_cli_cmd_usage_error("export", "give exactly one RESULTS.h5");
    x->path = argv[optind];
    return CFP_CLI_PARSED;
}

int cfp_cli_export(int argc, char **argv)
{
    struct export x;
    struct cfp_status st;
    int rc = export_parse(&x, argc, argv);

    if (rc != CFP_CLI_PARSED)
        return rc;
    cfp_status_clear(&st);
    if (!x.run && cfp_h5_read_runs(x.path, last_run, &x, &st) == CFP_ERR_OK) {
        if (!x.run_buf[0]) {
            fprintf(stderr, "cfp: export: %s holds no run\n", x.path);
            return CFP_EXIT_FATAL;
        }
        x.run = x.run_buf;
    }
    if (!st.code && cfp_h5_read_tasks(x.path, x.run, put_row, &x, &st) == CFP_ERR_OK)
        put_header(&x); /* no row matched: the header alone */
    if (st.code) {
        fprintf(stderr, "cfp: export: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "cfp: export: write to stdout failed\n");
        return CFP_EXIT_FATAL;
    }
    return CFP_EXIT_OK;
}
