/* cfp_progress.c - progress display as a sink decorator. */
#include "run/cfp_progress.h"

#include <stdio.h>
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

static cfp_err progress_push(struct cfp_sink *s, const struct cfp_record *r,
                             struct cfp_status *st)
{
    struct cfp_progress *p = s->ctx;
    double now;

    p->done++;
    if (r->code != CFP_ERR_OK)
        p->failed++;
    if (!p->quiet) {
        now = cfp_now();
        if (now - p->last_draw >= (p->tty ? TTY_INTERVAL : PIPE_INTERVAL))
            draw(p, false);
    }
    return p->next->push(p->next, r, st);
}

void cfp_progress_init(struct cfp_progress *p, struct cfp_sink *next, const char *label,
                       int64_t total, bool quiet)
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
}

void cfp_progress_end(struct cfp_progress *p)
{
    if (!p->quiet)
        draw(p, true);
}
