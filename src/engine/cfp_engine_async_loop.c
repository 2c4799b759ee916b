/* cfp_engine_async_loop.c - the async engine's event loop: one thread drives
 * up to `concurrency` transfers on a curl multi handle and hands each
 * finished task to the CPU pool.
 *
 * Slots bound everything the loop holds. A slot is taken when a task is read
 * from the source and given back only when the task's job has been accepted
 * by the job queue, so a slot is either a transfer in flight, a transfer
 * waiting for its retry, or a finished job waiting for room in the queue
 * (the handoff list). While a job waits there no new task is started: that
 * is the back-pressure from the CPU pool to the network. Bodies in
 * memory are at most concurrency (slots) + queue capacity + workers (the
 * jobs being processed), each at most --max-bytes: the URL count never
 * matters.
 *
 * Everything in this file runs on the loop thread, libcurl callbacks
 * included (they are called from curl_multi_perform). No field here is
 * shared, so none needs a lock. */
#include <string.h>

#include "engine/cfp_async_internal.h"
#include "base/cfp_clock.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"
#include "proc/cfp_png.h"
#include "task/cfp_proc.h"
#include "base/cfp_stop.h"

/* Longest sleep in curl_multi_poll with no retry due: only a bound, since
 * libcurl's own timers, socket activity and pool wakeups end it sooner. */
#define LOOP_POLL_MAX_MS 1000

enum slot_state { SLOT_FREE, SLOT_XFER, SLOT_RETRY, SLOT_HANDOFF };

struct slot {
    enum slot_state state;
    CURL *h;                     /* created on first use and configured once, then reused
                                    for every task of this slot (keep-alive); PRIVATE = slot */
    struct cfp_fetch_xfer x;     /* the attempt in flight; h's error buffer points into it */
    struct cfp_fetch_sink sink;  /* appends to job.body; ctx = this slot */
    struct cfp_fetch_result res; /* summed over the task's attempts */
    struct cfp_status sink_st;   /* message of a body-sink failure */
    struct cfp_async_job job;    /* the task, its record and its body */
    double due;                  /* SLOT_RETRY: start of the next attempt (cfp_now clock) */
    int64_t announced;           /* the body's announced size, -1 if none */
    bool planned;                /* the image header was read and planned */
    bool img_rx;                 /* an admitted image body being received (l->img_rx) */
    bool encoded;                /* Content-Encoding: never held (body_data says why) */
    bool redo;                   /* stopped to be fetched again on a pool thread */
    struct slot *next;           /* link in the free, retry or handoff list */
    struct slot *next_paused;    /* link in the paused or the held list */
    struct cfp_proc *proc;       /* a body that is not a PNG streams through it, here */
    struct cfp_fetch_sink psink; /* proc's sink */
    struct cfp_buf pbody;        /* proc's image buffer (a non-PNG ".png" it fails) */
    struct cfp_async_loop *l;    /* the loop (for the body sink) */
};

struct cfp_async_loop {
    struct cfp_async_pool *p;
    struct cfp_source *src;
    CURLM *multi;       /* owned */
    struct slot *slots; /* owned array of cap; [0, used) have been handed out */
    int cap, used;
    int active;                          /* slots not free */
    struct slot *free;                   /* given back slots, handles ready for reuse */
    struct slot *retry;                  /* unordered; at most cap long, scanned linearly */
    struct slot *handoff, *handoff_tail; /* FIFO of finished jobs not yet in the queue */
    struct slot *paused;                 /* transfers paused for memory */
    struct slot *held;                   /* paused to end the round (held_resume) */
    int img_rx;                          /* slots with img_rx set */
    int ready;                           /* image bodies completed in this round */
    double img_rx_t;                     /* when image body bytes last arrived */
    double round_t0;                     /* when this round (loop_step) began */
    double hold_t0;                      /* since when texts and CSVs are held, 0: not */
    bool may_hold;                       /* this round may hold them (held_resume) */
    bool yield;                          /* end the round: pause transfers at their next bytes */
    atomic_llong mem_freed;              /* 1: a pool thread gave memory back (its hook);
                                            a whole 8 bytes, so that no plain field shares
                                            the word (TSan watches 8-byte cells) */
    bool src_done, stopping;
};

/* ---- body sink: libcurl's write callback calls these on the loop thread -- */

static cfp_err body_begin(void *ctx, const char *content_type, int64_t size)
{
    struct slot *s = ctx;
    struct curl_header *enc;

    (void)snprintf(s->job.content_type, sizeof(s->job.content_type), "%s",
                   content_type ? content_type : "");
    s->announced = size;
    s->encoded = curl_easy_header(s->h, "Content-Encoding", 0, CURLH_HEADER, -1, &enc) == CURLHE_OK;
    /* A retry of a streamed body: its processor starts over. */
    return s->proc ? s->psink.begin(s->psink.ctx, content_type, size) : CFP_ERR_OK;
}

/* The first CFP_PNG_HEAD_LEN bytes of a PNG body are in (the buffer's and
 * then data's): plan it. A streamed image is stopped, to be redone on a
 * pool thread; a whole body is parked, or the transfer paused
 * (CFP_ERR_AGAIN, nothing consumed) until memory is given back. */
static cfp_err body_plan(struct slot *s, const unsigned char *data)
{
    const struct cfp_task_cfg *cfg = s->l->p->cfg;
    unsigned char head[CFP_PNG_HEAD_LEN];
    size_t have = s->job.body.len;
    struct cfp_img_plan plan;
    cfp_err err;

    if (have > 0) /* an empty buffer has no data pointer */
        memcpy(head, s->job.body.data, have);
    memcpy(head + have, data, sizeof(head) - have); /* data holds at least that */
    if (!cfp_png_sniff(head, sizeof(head))) {
        s->planned = true; /* not a PNG: the type check decides */
        return CFP_ERR_OK;
    }
    cfp_proc_plan_image(head, sizeof(head), s->announced, cfg->max_side, &plan);
    if (plan.stream) {
        s->redo = true;
        return cfp_status_set(&s->sink_st, CFP_ERR_STOPPED, "GET %s: to be streamed",
                              s->job.task.url);
    }
    err = cfp_budget_check(cfg->budget, plan.body + plan.need, &s->sink_st);
    if (!err && plan.body > s->job.hold.parked)
        err = cfp_budget_park(cfg->budget, &s->job.hold, plan.body - s->job.hold.parked, false,
                              &s->sink_st);
    if (err == CFP_ERR_AGAIN) {
        s->next_paused = s->l->paused;
        s->l->paused = s;
        return err;
    }
    s->planned = !err;
    if (!err) {
        s->img_rx = true;
        s->l->img_rx++;
        s->l->img_rx_t = cfp_now();
    }
    /* One allocation for the announced body (the limit caps the hint). */
    if (!err && plan.body > 0 && cfp_buf_reserve(&s->job.body, plan.body) != CFP_ERR_OK)
        err = cfp_status_set(&s->sink_st, CFP_ERR_NOMEM, "GET %s: body buffer: %s",
                             s->job.task.url, cfp_strerror(CFP_ERR_NOMEM));
    return err;
}

/* The body is not a PNG (its first 8 bytes are in): it streams through
 * its processor on this thread as it arrives, as in the threading engine,
 * instead of being buffered whole for the pool. Text and CSV cost about a
 * GB/s to process, less than the copy and the fresh pages a whole buffer
 * cost (issue #18: async on CPU-bound work); their outputs are written here
 * too, into the page cache. */
static cfp_err body_stream(struct slot *s)
{
    const struct cfp_task_cfg *cfg = s->l->p->cfg;
    cfp_err err;

    cfp_buf_init(&s->pbody, (size_t)cfg->fetch.max_bytes);
    err = cfp_proc_new(cfg, &s->job.task, &s->pbody, &s->sink_st, &s->proc);
    if (err)
        return err;
    s->psink = cfp_proc_sink(s->proc);
    err = s->psink.begin(s->psink.ctx, s->job.content_type[0] ? s->job.content_type : NULL,
                         s->announced);
    if (!err)
        err = s->psink.data(s->psink.ctx, s->job.body.data, s->job.body.len);
    cfp_buf_free(&s->job.body);
    return err;
}

/* The round: one curl_multi_perform call. libcurl reads a busy socket
 * until it is drained (up to 100 reads a transfer), so at latency 0 one
 * call received every body of 64 transfers at once, and the first finished
 * image reached the pool only when the call returned: after 0.3-0.4 s on
 * the peer dataset, with the pool idle (issue #18). Three rules pause
 * transfers (held, resumed by the next round; body_data):
 * - once an image body is complete (its announced size is in), every
 *   transfer pauses at its next bytes, so the call returns and the image
 *   goes to the pool;
 * - after ROUND_S, likewise, so finished transfers are handed over and
 *   held ones resumed at least that often;
 * - while the pool has fewer image jobs than cores + 1 ("a job for each
 *   core and one waiting") and image bodies are arriving, texts and CSVs
 *   (processed here, on this thread) pause: the loop spends its time and
 *   the link on what keeps the cores busy. An image that sent nothing for
 *   HOLD_STALL_S (a slow server) holds nothing back, and after HOLD_MAX_S
 *   of holding one round holds nothing, so no text or CSV waits behind a
 *   steady stream of images. */
#define HOLD_STALL_S 0.02
#define HOLD_MAX_S 0.05
#define ROUND_S 0.005

static bool pool_hungry(const struct cfp_async_loop *l)
{
    return l->may_hold && l->img_rx > 0 &&
           atomic_load(&l->p->images_out) + l->ready < l->p->cores + 1 &&
           cfp_now() - l->img_rx_t < HOLD_STALL_S;
}

static void img_rx_end(struct slot *s);

/* Bytes of an admitted image body arrived; it may be complete. */
static void body_image_progress(struct slot *s)
{
    s->l->img_rx_t = cfp_now();
    if (s->announced > 0 && s->job.body.len >= (uint64_t)s->announced) {
        img_rx_end(s);
        s->l->ready++;
        s->l->yield = true;
    }
}

/* Takes n bytes of s's body: streams them, or appends them to the image
 * body (planning it from its header first). */
static cfp_err body_take(struct slot *s, const void *data, size_t n)
{
    /* The fetch layer stops the transfer at --max-bytes before calling us,
     * and the buffer's limit is the same, so only NOMEM is expected here. */
    size_t before = s->job.body.len;
    cfp_err err;

    if (s->proc)
        return s->psink.data(s->psink.ctx, data, n);

    if (!s->planned && before < CFP_PNG_HEAD_LEN && before + n >= CFP_PNG_HEAD_LEN) {
        err = body_plan(s, data);
        if (err)
            return err;
    }
    err = cfp_buf_append(&s->job.body, data, n);

    if (err)
        return cfp_status_set(&s->sink_st, err, "GET %s: body buffer: %s", s->job.task.url,
                              cfp_strerror(err));
    if (s->img_rx)
        body_image_progress(s);
    /* Like the streaming path: once 8 bytes are in, an unsupported type
     * stops the transfer instead of downloading the rest. */
    if (before < 8 && s->job.body.len >= 8) {
        err = cfp_proc_check_type(&s->job.task, s->job.content_type, s->job.body.data,
                                  s->job.body.len, &s->sink_st);
        if (!err && !cfp_png_sniff(s->job.body.data, s->job.body.len))
            err = body_stream(s);
        return err;
    }
    return CFP_ERR_OK;
}

static cfp_err body_data(void *ctx, const void *data, size_t n)
{
    struct slot *s = ctx;
    struct cfp_async_loop *l = s->l;
    cfp_err err = body_take(s, data, n);

    if (err)
        return err; /* CFP_ERR_AGAIN: paused for memory (body_plan) */
    if (!l->yield && cfp_now() - l->round_t0 > ROUND_S)
        l->yield = true;
    /* Held after its bytes are taken: libcurl stops reading the transfer
     * (curl_easy_pause from the write callback, which libcurl allows) and
     * keeps only what is left of the read it was handing over. Never a
     * body that is all in (held, it would end a round later), nor one
     * libcurl decodes (Content-Encoding): what is left of one read can
     * inflate past libcurl's pause buffer (a gzip bomb failed with "Out
     * of memory" instead of reaching --max-bytes). */
    if (s->announced >= 0 && s->x.bytes + (int64_t)n >= s->announced)
        return CFP_ERR_OK;
    if (!s->x.paused && !s->encoded && (l->yield || (s->proc && pool_hungry(l)))) {
        (void)curl_easy_pause(s->h, CURLPAUSE_RECV);
        s->x.paused = true;
        s->next_paused = l->held;
        l->held = s;
    }
    return CFP_ERR_OK;
}

/* s's image body is no longer being received (done, failed or retried). */
static void img_rx_end(struct slot *s)
{
    if (s->img_rx) {
        s->img_rx = false;
        s->l->img_rx--;
    }
}

static void body_reset(void *ctx)
{
    struct slot *s = ctx;

    img_rx_end(s);
    cfp_buf_reset(&s->job.body);
    s->job.content_type[0] = '\0';
    s->planned = false; /* the parked charge stays: the retry needs the same */
    if (s->proc) /* the retry starts over, sniffing again */
        s->psink.reset(s->psink.ctx);
}

/* ---- slots ------------------------------------------------------------- */

/* Reports a fatal error of the loop itself and stops starting work. */
static void loop_fatal(struct cfp_async_loop *l, cfp_err err, const char *what, const char *why)
{
    struct cfp_status st;

    cfp_status_clear(&st);
    cfp_status_set(&st, err, "async: %s: %s", what, why);
    cfp_async_fail(l->p, err, &st);
    l->stopping = true;
}

/* A slot with a configured easy handle, or NULL when all are taken (or
 * curl_easy_init failed, which is fatal). */
static struct slot *slot_get(struct cfp_async_loop *l)
{
    struct slot *s = l->free;

    if (s) {
        l->free = s->next;
    } else if (l->used < l->cap) {
        s = &l->slots[l->used++];
        s->h = curl_easy_init();
        if (!s->h) {
            l->used--;
            loop_fatal(l, CFP_ERR_NOMEM, "curl_easy_init", "failed");
            return NULL;
        }
        cfp_fetch_setup_handle(s->h, &l->p->cfg->fetch, NULL);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, (void *)s);
        s->sink = (struct cfp_fetch_sink){body_begin, body_data, body_reset, s};
    } else {
        return NULL;
    }
    s->state = SLOT_XFER;
    s->next = NULL;
    s->res = (struct cfp_fetch_result){0, 0, 0};
    cfp_status_clear(&s->sink_st);
    cfp_buf_init(&s->job.body, (size_t)l->p->cfg->fetch.max_bytes);
    s->job.content_type[0] = '\0';
    s->job.process = false;
    s->job.local = false;
    s->job.hold = (struct cfp_budget_hold){0, 0};
    s->announced = -1;
    s->planned = s->redo = s->img_rx = s->encoded = false;
    s->l = l;
    l->active++;
    return s;
}

/* Drops s's processor (its unfinished output is removed). */
static void slot_proc_free(struct slot *s)
{
    if (!s->proc)
        return;
    cfp_proc_free(&s->proc);
    cfp_buf_free(&s->pbody);
}

/* Gives s back; its body and memory charge, if still owned, are freed. */
static void slot_put(struct cfp_async_loop *l, struct slot *s)
{
    slot_proc_free(s);
    cfp_budget_release(l->p->cfg->budget, &s->job.hold);
    cfp_buf_free(&s->job.body);
    s->state = SLOT_FREE;
    s->next = l->free;
    l->free = s;
    l->active--;
}

/* ---- handoff to the CPU pool ------------------------------------------ */

static void handoff_add(struct cfp_async_loop *l, struct slot *s)
{
    s->state = SLOT_HANDOFF;
    s->next = NULL;
    if (l->handoff_tail)
        l->handoff_tail->next = s;
    else
        l->handoff = s;
    l->handoff_tail = s;
}

/* Moves finished jobs into the queue, oldest first, until it is full. Never
 * blocks: what is left waits for a pool thread's wakeup after its next pop. */
static void handoff_drain(struct cfp_async_loop *l)
{
    struct slot *s;

    while ((s = l->handoff) != NULL) {
        if (!cfp_queue_try_push(l->p->jobs, &s->job))
            return;
        l->handoff = s->next;
        if (!l->handoff)
            l->handoff_tail = NULL;
        /* The queue holds the job now, body pointer and charge included. */
        cfp_buf_init(&s->job.body, 0);
        s->job.hold = (struct cfp_budget_hold){0, 0};
        slot_put(l, s);
    }
}

/* The task failed before or during its fetch: its record is final. */
static void task_failed(struct cfp_async_loop *l, struct slot *s, const struct cfp_status *why)
{
    cfp_task_fail(&s->job.rec, why);
    s->job.process = false;
    handoff_add(l, s);
}

/* ---- transfers --------------------------------------------------------- */

/* The end of a body that streamed through its processor here (body_stream):
 * the output is finished on this thread and the record is final, as
 * cfp_task_run() makes it. */
static void streamed_finished(struct cfp_async_loop *l, struct slot *s, cfp_err err,
                              const struct cfp_status *why)
{
    struct cfp_record *r = &s->job.rec;

    r->t_fetch -= cfp_proc_seconds(s->proc);
    err = cfp_proc_end(s->proc, err, r);
    if (r->t_fetch < 0)
        r->t_fetch = 0;
    if (err)
        cfp_task_fail(r, s->x.sink_err || s->sink_st.code ? &s->sink_st : why);
    slot_proc_free(s);
    s->job.process = false;
    handoff_add(l, s);
}

/* Fills the record's fetch fields and queues the job: processing on success,
 * delivery as a failure otherwise. */
static void xfer_finished(struct cfp_async_loop *l, struct slot *s, cfp_err err,
                          const struct cfp_status *why)
{
    struct cfp_record *r = &s->job.rec;
    double t_fetch = cfp_now() - l->p->cfg->t0 - r->t_start;

    r->http_status = s->res.http_status;
    r->attempts = s->res.attempts;
    r->bytes_in = s->res.bytes;
    r->t_fetch = t_fetch > 0 ? t_fetch : 0;
    if (s->redo) {
        /* An image to stream: a pool thread runs the task again, whole. */
        cfp_budget_release(l->p->cfg->budget, &s->job.hold);
        cfp_buf_free(&s->job.body);
        s->res = (struct cfp_fetch_result){0, 0, 0};
        s->job.local = true;
        handoff_add(l, s);
        return;
    }
    if (s->proc) {
        streamed_finished(l, s, err, why);
        return;
    }
    if (err) {
        task_failed(l, s, s->x.sink_err ? &s->sink_st : why);
        return;
    }
    s->job.process = true;
    atomic_fetch_add(&l->p->images_out, 1);
    handoff_add(l, s);
}

/* Starts an attempt of s's task. */
static void xfer_add(struct cfp_async_loop *l, struct slot *s)
{
    struct cfp_status st;
    CURLMcode mc;

    const struct cfp_task_cfg *cfg = l->p->cfg;

    cfp_fetch_xfer_start(&s->x, s->h, &cfg->fetch, &s->sink, s->job.task.url,
                         cfg->fetch.task_timeout_s > 0
                             ? cfg->t0 + s->job.rec.t_start + cfg->fetch.task_timeout_s
                             : 0);
    s->state = SLOT_XFER;
    mc = curl_multi_add_handle(l->multi, s->h);
    if (mc != CURLM_OK) {
        cfp_status_clear(&st);
        cfp_status_set(&st, CFP_ERR_INTERNAL, "GET %s: curl_multi_add_handle: %s", s->job.task.url,
                       curl_multi_strerror(mc));
        xfer_finished(l, s, CFP_ERR_INTERNAL, &st);
    }
}

/* Reads one task into a free slot and starts it. False when no slot is free
 * or the source ended or failed. */
static bool task_start(struct cfp_async_loop *l)
{
    struct slot *s = slot_get(l);
    struct cfp_status st;
    bool done = false;
    cfp_err err;

    if (!s)
        return false;
    cfp_status_clear(&st);
    err = l->src->next(l->src, &s->job.task, &done, &st);
    if (err || done) {
        slot_put(l, s);
        if (err) {
            cfp_async_fail(l->p, err, &st);
            l->stopping = true;
        }
        l->src_done = true;
        return false;
    }
    /* worker is the pool thread's id, set when the record is delivered. */
    if (cfp_fetch_is_file(s->job.task.url)) {
        s->job.local = true; /* read on a pool thread, never here */
        handoff_add(l, s);
    } else if (!cfp_task_begin(l->p->cfg, 0, &s->job.task, &s->job.rec, &st))
        task_failed(l, s, &st);
    else
        xfer_add(l, s);
    return true;
}

/* Takes s off the paused or the held list (its transfer ended while
 * paused). */
static void paused_remove(struct cfp_async_loop *l, struct slot *s)
{
    struct slot **lists[2] = {&l->paused, &l->held};

    for (int i = 0; i < 2; i++)
        for (struct slot **pp = lists[i]; *pp; pp = &(*pp)->next_paused)
            if (*pp == s) {
                *pp = s->next_paused;
                return;
            }
}

/* Judges the attempt that just ended on s: retry later, or finish. */
static void xfer_done(struct cfp_async_loop *l, struct slot *s, CURLcode rc)
{
    const struct cfp_fetch_cfg *fc = &l->p->cfg->fetch;
    struct cfp_status st;
    bool transient = false;
    cfp_err err;

    cfp_status_clear(&st);
    img_rx_end(s);
    if (s->x.paused)
        paused_remove(l, s);
    err = cfp_fetch_xfer_done(&s->x, s->job.task.url, rc, &transient, &s->res, &st);
    if (err && transient && s->res.attempts <= fc->retries && cfp_stop_requested()) {
        cfp_status_clear(&st); /* a retry would outlive the stop: abandon */
        err = cfp_status_set(&st, CFP_ERR_STOPPED,
                             "GET %s: abandoned before a retry: the run was stopped",
                             s->job.task.url);
    } else if (err && transient && s->res.attempts <= fc->retries &&
               cfp_fetch_retry_in_time(s->x.deadline,
                                       cfp_fetch_retry_delay(s->h, fc, s->res.attempts))) {
        /* Retry-After is read from the handle, so before it is removed. */
        s->due = cfp_now() + cfp_fetch_retry_delay(s->h, fc, s->res.attempts);
        curl_multi_remove_handle(l->multi, s->h);
        s->sink.reset(s->sink.ctx);
        s->state = SLOT_RETRY;
        s->next = l->retry;
        l->retry = s;
        cfp_url_scrub_in(s->job.task.url, st.msg); /* logs never show a password */
        cfp_log(CFP_LOG_DEBUG, "task %lld: attempt %d failed (%s), retrying",
                (long long)s->job.task.index, s->res.attempts, st.msg);
        return;
    }
    curl_multi_remove_handle(l->multi, s->h);
    xfer_finished(l, s, err, &st);
}

/* Restarts the transfers whose retry is due. */
static void retries_start(struct cfp_async_loop *l)
{
    struct slot **pp = &l->retry;
    double now = cfp_now();

    while (*pp) {
        struct slot *s = *pp;
        if (cfp_stop_requested()) {
            struct cfp_status st;
            *pp = s->next;
            s->next = NULL;
            cfp_status_clear(&st);
            xfer_finished(l, s,
                          cfp_status_set(&st, CFP_ERR_STOPPED,
                                         "GET %s: abandoned before a retry: the run was stopped",
                                         s->job.task.url),
                          &st);
            continue;
        }
        if (s->due > now) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        s->next = NULL;
        xfer_add(l, s);
    }
}

/* Starts new tasks while slots are free, unless the pool pushes back (a job
 * still in the handoff list after handoff_drain() means the queue is full). */
static void tasks_start(struct cfp_async_loop *l)
{
    /* Drained before each start: a file:// task goes to the handoff list
     * at once, and must reach the queue before the loop sleeps (nothing
     * else would wake it). */
    for (;;) {
        handoff_drain(l);
        if (l->stopping || l->src_done || l->handoff || !task_start(l))
            break;
    }
    handoff_drain(l);
}

/* Handles every finished transfer; returns how many there were. */
static int collect_done(struct cfp_async_loop *l)
{
    struct CURLMsg *m;
    int left, n = 0;

    while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
        char *priv = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
        /* m is invalid once its handle is removed: rc is read first. */
        xfer_done(l, (struct slot *)priv, m->data.result);
        n++;
    }
    return n;
}

/* ---- the loop ---------------------------------------------------------- */

/* After a fatal error: abort transfers in flight, drop pending retries and
 * refused jobs (their records would not be written anyway). */
static void loop_abort(struct cfp_async_loop *l)
{
    l->stopping = true;
    for (int i = 0; i < l->used; i++) {
        struct slot *s = &l->slots[i];
        if (s->state == SLOT_FREE)
            continue;
        if (s->state == SLOT_XFER)
            curl_multi_remove_handle(l->multi, s->h);
        slot_put(l, s);
    }
    l->retry = l->handoff = l->handoff_tail = l->paused = l->held = NULL;
    l->img_rx = 0;
}

/* How long curl_multi_poll may sleep: until the next retry is due. */
static int poll_timeout_ms(const struct cfp_async_loop *l)
{
    double wait = LOOP_POLL_MAX_MS / 1000.0, now = cfp_now();

    for (const struct slot *s = l->retry; s; s = s->next)
        if (s->due - now < wait)
            wait = s->due - now;
    /* Held transfers: at once after a round cut short, else in time to see
     * an image stall (pool_hungry). */
    if (l->held && wait > (l->yield ? 0 : HOLD_STALL_S))
        wait = l->yield ? 0 : HOLD_STALL_S;
    /* Rounded up: waking a little early would only spin until it is due. */
    return wait <= 0 ? 0 : (int)(wait * 1000.0) + 1;
}

/* Memory was given back: every paused transfer offers its bytes again
 * (body_plan pauses those that still do not fit). */
static void paused_resume(struct cfp_async_loop *l)
{
    struct slot *s = l->paused;

    if (!s || !atomic_exchange(&l->mem_freed, 0))
        return;
    l->paused = NULL;
    for (struct slot *next; s; s = next) {
        next = s->next_paused;
        s->x.paused = false;
        (void)curl_easy_pause(s->h, CURLPAUSE_CONT);
    }
}

/* A new round: the transfers held to end the last one go on, but texts
 * and CSVs stay held while the pool is hungry (see pool_hungry). */
static void held_resume(struct cfp_async_loop *l)
{
    bool hungry;
    struct slot *s = l->held;

    l->yield = false;
    l->ready = 0;
    l->may_hold = true;
    hungry = pool_hungry(l);
    if (!hungry) {
        l->hold_t0 = 0;
    } else if (l->hold_t0 == 0) {
        l->hold_t0 = cfp_now();
    } else if (cfp_now() - l->hold_t0 > HOLD_MAX_S) {
        l->may_hold = hungry = false; /* a round for the held streams */
        l->hold_t0 = 0;
    }
    l->held = NULL;
    for (struct slot *next; s; s = next) {
        next = s->next_paused;
        if (hungry && s->proc) {
            s->next_paused = l->held;
            l->held = s;
            continue;
        }
        s->x.paused = false;
        (void)curl_easy_pause(s->h, CURLPAUSE_CONT);
    }
}

/* The budget's release hook, on a pool thread. */
static void mem_freed(void *ctx)
{
    struct cfp_async_loop *l = ctx;

    atomic_store(&l->mem_freed, 1);
    curl_multi_wakeup(l->multi);
}

/* One round: start what can start, drive the transfers, then sleep until
 * something happens. False when the loop is over. */
static bool loop_step(struct cfp_async_loop *l)
{
    CURLMcode mc;
    int running;

    l->round_t0 = cfp_now();
    if (cfp_async_failed(l->p))
        l->stopping = true; /* from the pool (sink), or recorded by this thread */
    if (!l->stopping) {
        handoff_drain(l);
        paused_resume(l);
        held_resume(l);
        retries_start(l);
        tasks_start(l);
    }
    if (l->stopping)
        loop_abort(l);
    if (l->active == 0 && (l->src_done || l->stopping))
        return false;
    mc = curl_multi_perform(l->multi, &running);
    if (mc == CURLM_OK) {
        if (collect_done(l) > 0)
            return true; /* slots may be free or jobs ready: no sleep */
        mc = curl_multi_poll(l->multi, NULL, 0, poll_timeout_ms(l), NULL);
    }
    if (mc != CURLM_OK)
        loop_fatal(l, CFP_ERR_INTERNAL, "curl_multi", curl_multi_strerror(mc));
    return true;
}

void cfp_async_loop_run(struct cfp_async_loop *l)
{
    while (loop_step(l))
        ;
}

cfp_err cfp_async_loop_new(struct cfp_async_pool *p, int concurrency, int per_host, struct cfp_source *src,
                           struct cfp_async_loop **out, struct cfp_status *st)
{
    struct cfp_async_loop *l = cfp_calloc(1, sizeof(*l));

    if (!l)
        return cfp_status_set(st, CFP_ERR_NOMEM, "async: out of memory");
    /* Slots are calloc'ed but only touched when first used, so a large
     * --concurrency costs address space, not resident memory. */
    l->slots = cfp_calloc((size_t)concurrency, sizeof(*l->slots));
    l->multi = curl_multi_init();
    if (!l->slots || !l->multi) {
        cfp_async_loop_free(&l);
        return cfp_status_set(st, CFP_ERR_NOMEM, "async: %d transfer slots: out of memory",
                              concurrency);
    }
    /* The multi handle's connection cache is shared by all its easy
     * handles: at most `concurrency` connections in all, and per host
     * --per-host-connections (this rank's share of it). libcurl keeps a
     * transfer over the host cap pending until a connection to that host
     * is free, so the loop never waits for it. */
    curl_multi_setopt(l->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)concurrency);
    curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)(per_host > 0 && per_host < concurrency ? per_host : concurrency));
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
    l->p = p;
    l->src = src;
    l->cap = concurrency;
    atomic_init(&l->mem_freed, 0);
    if (p->cfg->budget)
        cfp_budget_on_release(p->cfg->budget, mem_freed, l);
    p->multi = l->multi;
    *out = l;
    return CFP_ERR_OK;
}

void cfp_async_loop_free(struct cfp_async_loop **pl)
{
    struct cfp_async_loop *l = pl ? *pl : NULL;

    if (!l)
        return;
    /* libcurl's order: handles out of the multi (done when each transfer
     * ended or was aborted), easy handles cleaned up, then the multi. */
    for (int i = 0; i < l->used; i++) {
        if (l->slots[i].state == SLOT_XFER)
            curl_multi_remove_handle(l->multi, l->slots[i].h);
        slot_proc_free(&l->slots[i]);
        cfp_budget_release(l->p->cfg->budget, &l->slots[i].job.hold);
        cfp_buf_free(&l->slots[i].job.body);
        curl_easy_cleanup(l->slots[i].h);
    }
    if (l->multi)
        curl_multi_cleanup(l->multi);
    cfp_free(l->slots);
    cfp_free(l);
    *pl = NULL;
}
