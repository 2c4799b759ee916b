/* cfp_cli.c - what the subcommands share: number parsing, usage errors and
 * the messages for bad options (with the closest valid one), the run summary
 * and default paths. */
#include "cli/cfp_cli_internal.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cfp_memlimit.h"
#include "base/cfp_stop.h"
#include "engine/cfp_engine.h"

bool cfp_cli_u64(const char *option, const char *s, uint64_t min, uint64_t max,
                 bool allow_suffix, uint64_t *out)
{
    char *end;
    uint64_t v = 0;

    if (allow_suffix) {
        if (!s || cfp_memlimit_parse(s, &v) != CFP_ERR_OK)
            goto bad;
    } else {
        /* A digit first: strtoull would also take spaces and a sign, and
         * wrap "-5" around to a huge value. */
        if (!s || !isdigit((unsigned char)*s))
            goto bad;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
            goto bad;
    }
    if (v < min || v > max)
        goto bad;
    *out = v;
    return true;
bad:
    fprintf(stderr, "cfp: %s: '%s' is not a whole number in [%llu, %llu]%s\n", option,
            s ? s : "", (unsigned long long)min, (unsigned long long)max,
            allow_suffix ? " (suffix K, M, G or T allowed)" : "");
    return false;
}

bool cfp_cli_seconds(const char *option, const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = s ? strtod(s, &end) : NAN;
    if (!s || errno || end == s || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "cfp: %s: '%s' is not a number of seconds in [%g, %g]\n", option,
                s ? s : "", min, max);
        return false;
    }
    *out = v;
    return true;
}

/* The message and Try line of a usage error of cmd (NULL: the processing
 * command). */
static int usage_error_v(const char *cmd, const char *fmt, va_list ap)
{
    fputs("cfp: ", stderr);
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'cfp %s%s--help' for more information.\n", cmd ? cmd : "",
            cmd ? " " : "");
    return CFP_EXIT_USAGE;
}

int cfp_cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = usage_error_v(NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int cfp_cli_cmd_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = usage_error_v(cmd, fmt, ap);
    va_end(ap);
    return rc;
}

/* Longest word compared: option and command names are far shorter, and a
 * longer word is no typo of one. */
#define SUGGEST_MAX 40

/* The optimal string alignment distance (Levenshtein plus the swap of two
 * neighbours, "mdoe" -> "mode" being one edit) between a[0..al) and b, or
 * SIZE_MAX when either is longer than SUGGEST_MAX. */
static size_t edit_distance(const char *a, size_t al, const char *b)
{
    size_t bl = strlen(b), d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

    if (al > SUGGEST_MAX || bl > SUGGEST_MAX)
        return SIZE_MAX;
    for (size_t i = 0; i <= al; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= bl; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= al; i++) {
        for (size_t j = 1; j <= bl; j++) {
            size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[al][bl];
}

/* Offers name for word[0..len) when it is the closest so far and close
 * enough: at most one edit per three letters of the word, one at least and
 * two at most. "prot" (one swap) still means port; beyond two edits, or one
 * in a two-letter word, the words share too little for the guess to help,
 * so --frobnicate gets no suggestion. */
static void consider(const char *word, size_t len, const char *name, const char **best,
                     size_t *best_d)
{
    size_t allowed = len / 3 < 1 ? 1 : len / 3 > 2 ? 2 : len / 3;
    size_t d = edit_distance(word, len, name);

    if (d <= allowed && d < *best_d) {
        *best = name;
        *best_d = d;
    }
}

const char *cfp_cli_closest(const char *word, const char *const *names)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (; *names; names++)
        consider(word, strlen(word), *names, &best, &best_d);
    return best;
}

/* The closest long option to word[0..len), or NULL. */
static const char *closest_option(const char *word, size_t len, const struct option *opts)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;

    for (; opts->name; opts++)
        consider(word, len, opts->name, &best, &best_d);
    return best;
}

/* "--name[=value]": an unknown or ambiguous name (getopt_long set optopt to
 * 0). The ambiguous case lists the options the prefix names, as getopt
 * would, but on the one line. */
static int bad_long_name(const char *cmd, const char *arg, const struct option *opts)
{
    size_t len = strcspn(arg + 2, "=");
    char list[512] = "";
    size_t used = 0;
    int matches = 0;
    const char *near;

    for (const struct option *p = opts; p->name; p++) {
        if (strncmp(p->name, arg + 2, len) != 0)
            continue;
        matches++;
        if (used < sizeof(list))
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s--%s", used ? ", " : "",
                                     p->name);
    }
    if (matches > 1)
        return cfp_cli_cmd_usage_error(cmd, "option '--%.*s' is ambiguous: %s", (int)len, arg + 2,
                                       list);
    near = closest_option(arg + 2, len, opts);
    if (near)
        return cfp_cli_cmd_usage_error(cmd, "unknown option '--%.*s'; did you mean '--%s'?",
                                       (int)len, arg + 2, near);
    return cfp_cli_cmd_usage_error(cmd, "unknown option '--%.*s'", (int)len, arg + 2);
}

/* "--name[=value]", a known option whose argument is missing or not allowed
 * (optopt is its val). */
static int bad_long_arg(const char *cmd, const char *arg, const struct option *opts)
{
    size_t len = strcspn(arg + 2, "=");

    for (; opts->name; opts++) {
        if (opts->val != optopt || strncmp(opts->name, arg + 2, len) != 0)
            continue;
        if (opts->has_arg == no_argument)
            return cfp_cli_cmd_usage_error(cmd, "option '--%s' takes no argument", opts->name);
        return cfp_cli_cmd_usage_error(cmd, "option '--%s' requires an argument", opts->name);
    }
    return cfp_cli_cmd_usage_error(cmd, "bad option '%s'", arg);
}

int cfp_cli_bad_option(const char *cmd, char *const *argv, const char *shortopts,
                       const struct option *longopts)
{
    /* glibc's getopt_long, with opterr = 0: an unknown or ambiguous long
     * option sets optopt to 0; a long option's missing or unwanted argument
     * sets it to the option's val; a short one sets it to its letter, which
     * is in shortopts only when its argument is missing. Every long error
     * has moved optind past the word; a short letter may be mid-word. */
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    bool is_long = strncmp(arg, "--", 2) == 0 && arg[2] != '\0';
    bool letter = optopt > 0 && optopt < 256;
    bool known = optopt > 255 || (letter && optopt != ':' && strchr(shortopts, optopt));

    if (optopt == 0 && is_long)
        return bad_long_name(cmd, arg, longopts);
    if (known && is_long)
        return bad_long_arg(cmd, arg, longopts);
    if (known && letter)
        return cfp_cli_cmd_usage_error(cmd, "option '-%c' requires an argument", optopt);
    if (letter)
        return cfp_cli_cmd_usage_error(cmd, "unknown option '-%c'", optopt);
    return cfp_cli_cmd_usage_error(cmd, "bad option '%s'", arg);
}

/* ", 2 stuck in a system call (threads left behind)", or "" when none. */
static const char *stuck_note(const struct cfp_engine_stats *s, char *buf, size_t size)
{
    if (s->stuck <= 0)
        return "";
    (void)snprintf(buf, size, " (%lld stuck in a system call, threads left behind)",
                   (long long)s->stuck);
    return buf;
}

/* cfp_cli_run_exit() with silent: nothing at all is printed, not even the
 * stop. */
static int run_exit(const struct cfp_engine_stats *s, const char *results, const char *report,
                    bool quiet, bool silent)
{
    char note[96];

    if (cfp_stop_requested()) {
        /* Always said, also with --quiet: a batch log must show why the
         * job ended early and what to do. */
        if (!silent)
            fprintf(stderr,
                    "cfp: stopped by %s: %lld tasks recorded (%lld ok, %lld failed), %lld in "
                    "flight abandoned%s; results %s; finish with the same command and --resume\n",
                    cfp_stop_signal() ? strsignal(cfp_stop_signal()) : "request",
                    (long long)s->tasks, (long long)s->ok, (long long)s->failed,
                    (long long)s->abandoned, stuck_note(s, note, sizeof(note)), results);
        return CFP_EXIT_STOPPED;
    }
    /* Stuck tasks are said also with --quiet: a thread was left behind. */
    if (!silent && (!quiet || s->stuck > 0))
        fprintf(stderr, "cfp: %lld tasks, %lld ok, %lld failed%s; results %s%s%s\n",
                (long long)s->tasks, (long long)s->ok, (long long)s->failed,
                stuck_note(s, note, sizeof(note)), results, report ? ", report " : " (no report)",
                report ? report : "");
    return s->failed ? CFP_EXIT_FAILED : CFP_EXIT_OK;
}

int cfp_cli_run_exit(const struct cfp_engine_stats *s, const char *results, const char *report,
                     bool quiet)
{
    return run_exit(s, results, report, quiet, false);
}

/* Classes shown in the summary; the rest are summed up as "...". */
#define SUMMARY_CLASSES 8

/* "cfp: failures: 404 ×12, TIMEOUT ×3", the most frequent classes first. */
static void print_classes(const struct cfp_joblog *log)
{
    bool shown[CFP_JOBLOG_CLASSES] = {false};
    int64_t rest = log->other;

    fputs("cfp: failures:", stderr);
    for (int k = 0; k < log->nclasses; k++) {
        int best = -1;

        for (int i = 0; i < log->nclasses; i++)
            if (!shown[i] && (best < 0 || log->cls[i].n > log->cls[best].n))
                best = i;
        shown[best] = true;
        if (k < SUMMARY_CLASSES)
            fprintf(stderr, "%s %s \u00d7%lld", k ? "," : "", log->cls[best].name,
                    (long long)log->cls[best].n);
        else
            rest += log->cls[best].n;
    }
    if (rest > 0)
        fprintf(stderr, ", \u2026 \u00d7%lld", (long long)rest);
    fputc('\n', stderr);
}

/* Writes s to f quoted for a POSIX shell when it needs it. */
static void put_shell_word(FILE *f, const char *s)
{
    if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        "_-./:=,@%+") == strlen(s)) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* Whether word is --resume or an abbreviation getopt_long takes for it. */
static bool is_resume(const char *word)
{
    size_t n = strlen(word);

    return n >= 5 && strncmp(word, "--resume", n) == 0;
}

/* "cfp: finish or retry the failed tasks with: <the command> --resume". */
static void print_resume(const struct cfp_cli_opts *o)
{
    bool has = false;

    if (o->run_cfg.input && strcmp(o->run_cfg.input, "-") == 0)
        return; /* --resume reads the list again: not from stdin */
    fputs("cfp: finish or retry the failed tasks with:", stderr);
    for (int i = 0; i < o->argc; i++) {
        fputc(' ', stderr);
        put_shell_word(stderr, o->argv[i]);
        has = has || (i > 0 && is_resume(o->argv[i]));
    }
    fputs(has ? "\n" : " --resume\n", stderr);
}

int cfp_cli_run_end(const struct cfp_cli_opts *o, const struct cfp_engine_stats *s)
{
    const struct cfp_joblog *log = &o->joblog;
    int rc = run_exit(s, o->results, o->no_report ? NULL : o->report, false, o->silent);
    double mb = 1024.0 * 1024.0;

    if (o->silent || rc == CFP_EXIT_STOPPED)
        return rc;
    if (log->failed > 0)
        print_classes(log);
    fprintf(stderr, "cfp: %.2f MB in, %.2f MB out, %.2f MB/s in; output %s\n",
            (double)log->bytes_in / mb, (double)log->bytes_out / mb,
            log->wall_s > 0 ? (double)log->bytes_in / mb / log->wall_s : 0.0,
            o->run_cfg.task.output_dir);
    if (s->failed > 0)
        print_resume(o);
    return rc;
}

/* Each results file gets its own report, so two in one directory do not
 * overwrite each other's: r1.h5 -> r1.report.txt (the chart then is
 * r1.report.svg). A file named results.h5, the default
 * data/processed/results.h5 included, keeps the lab's
 * performance_report.txt beside it. */
const char *cfp_cli_report_beside(const char *results, char *buf, size_t size)
{
    const char *slash = strrchr(results, '/');
    const char *base = slash ? slash + 1 : results;
    size_t stem = strlen(results);
    int n;

    if (strcmp(base, "results.h5") == 0)
        n = snprintf(buf, size, "%.*sperformance_report.txt", (int)(base - results), results);
    else {
        if (stem > 3 && strcmp(results + stem - 3, ".h5") == 0 && base < results + stem - 3)
            stem -= 3;
        if (stem >= size) /* also keeps the %.*s precision an int */
            return NULL;
        n = snprintf(buf, size, "%.*s.report.txt", (int)stem, results);
    }
    return n < 0 || (size_t)n >= size ? NULL : buf;
}
