/* cfp_cli.c - what the subcommands share: number parsing, usage errors,
 * the run summary and default paths. */
#include "cli/cfp_cli_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cfp_engine.h"
#include "base/cfp_stop.h"

bool cfp_cli_u64(const char *option, const char *s, uint64_t min, uint64_t max,
                 bool allow_suffix, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mul = 1;

    errno = 0;
    if (!s || *s == '\0' || *s == '-')
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        goto bad;
    if (allow_suffix && *end) {
        switch (*end++) {
        case 'K': case 'k': mul = 1024ULL; break;
        case 'M': case 'm': mul = 1024ULL * 1024; break;
        case 'G': case 'g': mul = 1024ULL * 1024 * 1024; break;
        default: goto bad;
        }
    }
    if (*end || (v != 0 && mul > UINT64_MAX / v) || v * mul < min || v * mul > max)
        goto bad;
    *out = v * mul;
    return true;
bad:
    fprintf(stderr, "cfp: %s: '%s' is not a whole number in [%llu, %llu]%s\n", option,
            s ? s : "", (unsigned long long)min, (unsigned long long)max,
            allow_suffix ? " (suffix K, M or G allowed)" : "");
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

int cfp_cli_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("cfp: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'cfp --help' for more information.\n", stderr);
    return CFP_EXIT_USAGE;
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

int cfp_cli_run_exit(const struct cfp_engine_stats *s, const char *results, const char *report,
                     bool quiet)
{
    char note[96];

    if (cfp_stop_requested()) {
        /* Always said, also with --quiet: a batch log must show why the
         * job ended early and what to do. */
        fprintf(stderr,
                "cfp: stopped by %s: %lld tasks recorded (%lld ok, %lld failed), %lld in flight "
                "abandoned%s; results %s; finish with the same command and --resume\n",
                cfp_stop_signal() ? strsignal(cfp_stop_signal()) : "request",
                (long long)s->tasks, (long long)s->ok, (long long)s->failed,
                (long long)s->abandoned, stuck_note(s, note, sizeof(note)), results);
        return CFP_EXIT_STOPPED;
    }
    /* Stuck tasks are said also with --quiet: a thread was left behind. */
    if (!quiet || s->stuck > 0)
        fprintf(stderr, "cfp: %lld tasks, %lld ok, %lld failed%s; results %s, report %s\n",
                (long long)s->tasks, (long long)s->ok, (long long)s->failed,
                stuck_note(s, note, sizeof(note)), results, report);
    return s->failed ? CFP_EXIT_FAILED : CFP_EXIT_OK;
}

const char *cfp_cli_report_beside(const char *results, char *buf, size_t size)
{
    const char *slash = strrchr(results, '/');
    int n = snprintf(buf, size, "%.*sperformance_report.txt",
                     slash ? (int)(slash - results + 1) : 0, results);

    return n < 0 || (size_t)n >= size ? NULL : buf;
}
