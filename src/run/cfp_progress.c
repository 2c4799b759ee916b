/* cfp_progress.c - progress display as a sink decorator. */
#include "run/cfp_progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cfp_clock.h"

#define TTY_INTERVAL  0.1
#define PIPE_INTERVAL 5.0

static void draw(struct cfp_progress *p, bool final)
{
    double el = cfp_now() - p->t0;
    double rate = el > 0 ? (double)p->done / el : 0;
    char total[32], eta[32];

    if (p->total >= 0)
        (void)snprintf(total, sizeof(total), "/%lld", (long long)p->total);
    else
        total[0] = '\0';
    if (p->total >= 0 && rate > 0 && !final)
        (void)snprintf(eta, sizeof(eta), ", ETA %.0f s", (double)(p->total - p->done) / rate);
    else
        (void)snprintf(eta, sizeof(eta), ", %.1f s", el);
    fprintf(stderr, "%s%s: %lld%s done, %lld failed, %.1f files/s%s%s", p->tty ? "\r\033[K" : "",
            p->label, (long long)p->done, total, (long long)p->failed, rate, eta,
            p->tty && !final ? "" : "\n");
    fflush(stderr);
    p->last_draw = cfp_now();
}

#define MORE_INTERVAL 1.0

/* Counts r's failure under its class: the HTTP status, else the error's
 * name; past the table's size, under other. */
static void count_class(struct cfp_joblog *log, const struct cfp_record *r)
{
    char name[CFP_JOBLOG_NAME];

    if (r->code == CFP_ERR_HTTP && r->http_status > 0)
        (void)snprintf(name, sizeof(name), "%d", (int)r->http_status);
    else
        (void)snprintf(name, sizeof(name), "%s", cfp_errname(r->code));
    for (int i = 0; i < log->nclasses; i++) {
        if (strcmp(log->cls[i].name, name) == 0) {
            log->cls[i].n++;
            return;
        }
    }
    if (log->nclasses == CFP_JOBLOG_CLASSES) {
        log->other++;
        return;
    }
    (void)snprintf(log->cls[log->nclasses].name, CFP_JOBLOG_NAME, "%s", name);
    log->cls[log->nclasses++].n = 1;
}

/* Clears the live progress line before a line of its own. */
static void clear_live(const struct cfp_progress *p)
{
    if (p->tty && !p->quiet)
        fputs("\r\033[K", stderr);
}

/* Prints the count of failures not printed yet. */
static void say_more(struct cfp_progress *p, double now)
{
    clear_live(p);
    fprintf(stderr, "cfp: %lld more failed (see the summary and the results file)\n",
            (long long)p->held);
    p->held = 0;
    p->last_more = now;
}

/* r's error without the "GET <url>: " the line already shows. */
static const char *error_cause(const struct cfp_record *r)
{
    size_t n = strlen(r->url);

    if (!r->error[0])
        return cfp_strerror(r->code);
    if (strncmp(r->error, "GET ", 4) == 0 && strncmp(r->error + 4, r->url, n) == 0 &&
        strncmp(r->error + 4 + n, ": ", 2) == 0)
        return r->error + 4 + n + 2;
    return r->error;
}

/* The job log line of the failed record r (its URL already scrubbed by the
 * run's sink), or its count once CFP_JOBLOG_LINES were printed. */
static void log_failure(struct cfp_progress *p, const struct cfp_record *r)
{
    double now;

    if (p->silent)
        return;
    if (p->lines < CFP_JOBLOG_LINES) {
        p->lines++;
        clear_live(p);
        fprintf(stderr, "cfp: failed %06lld %s : %s\n", (long long)r->index, r->url,
                error_cause(r));
        p->last_more = cfp_now();
        return;
    }
    p->held++;
    now = cfp_now();
    if (now - p->last_more >= MORE_INTERVAL)
        say_more(p, now);
}

static cfp_err progress_push(struct cfp_sink *s, const struct cfp_record *r,
                             struct cfp_status *st)
{
    struct cfp_progress *p = s->ctx;
    double now;

    p->done++;
    if (p->log) {
        p->log->bytes_in += r->bytes_in > 0 ? r->bytes_in : 0;
        p->log->bytes_out += r->bytes_out > 0 ? r->bytes_out : 0;
    }
    if (r->code != CFP_ERR_OK) {
        p->failed++;
        if (p->log) {
            p->log->failed++;
            count_class(p->log, r);
        }
        log_failure(p, r);
    }
    if (!p->quiet) {
        now = cfp_now();
        if (now - p->last_draw >= (p->tty ? TTY_INTERVAL : PIPE_INTERVAL))
            draw(p, false);
    }
    return p->next->push(p->next, r, st);
}

void cfp_progress_init(struct cfp_progress *p, struct cfp_sink *next, const char *label,
                       int64_t total, bool quiet, bool silent, struct cfp_joblog *log)
{
    p->sink.push = progress_push;
    p->sink.ctx = p;
    p->next = next;
    p->label = label;
    p->total = total;
    p->done = p->failed = 0;
    p->t0 = p->last_draw = cfp_now();
    p->tty = isatty(STDERR_FILENO) == 1;
    p->quiet = quiet;
    p->silent = silent;
    p->log = log;
    p->lines = p->held = 0;
    p->last_more = 0;
    if (log)
        memset(log, 0, sizeof(*log));
}

void cfp_progress_end(struct cfp_progress *p)
{
    if (p->held > 0)
        say_more(p, cfp_now());
    if (!p->quiet)
        draw(p, true);
    if (p->log)
        p->log->wall_s = cfp_now() - p->t0;
}
