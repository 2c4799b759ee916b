/* cfp_proc.c - detect a body's type and run its processor. */
#include "task/cfp_proc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cfp_clock.h"
#include "proc/cfp_csv.h"
#include "base/cfp_mem.h"
#include "task/cfp_out.h"
#include "proc/cfp_png.h"
#include "proc/cfp_text.h"

enum proc_kind { KIND_UNDECIDED, KIND_IMAGE, KIND_TEXT, KIND_CSV };

/* An image's body: gathered until its header is read, then buffered whole
 * or streamed to the decoder (cfp_proc.h). */
enum img_mode { IMG_HEAD, IMG_WHOLE, IMG_STREAM };

#define SNIFF_LEN 8
#define STREAM_ALL_ENV "CFP_TEST_STREAM_ALL"
#define CT_MAX    128

struct cfp_proc {
    const struct cfp_task_cfg *cfg;
    const struct cfp_task *task;
    struct cfp_status *st;
    enum proc_kind kind;
    char content_type[CT_MAX]; /* "" when none */
    unsigned char sniff[SNIFF_LEN];
    size_t sniff_len;
    struct cfp_buf *body;     /* images only; not owned */
    enum img_mode img;        /* how the image body is taken */
    struct cfp_img_plan plan; /* valid once img != IMG_HEAD */
    struct cfp_proc_hooks hooks;
    struct cfp_png_opts png;  /* the stream's options and sizes (outlive it) */
    struct cfp_png_info info;
    struct cfp_png_stream *stream; /* owned; IMG_STREAM */
    struct cfp_text *text;    /* owned */
    struct cfp_csv *csv;      /* owned */
    struct cfp_out *out;      /* owned until committed */
    double seconds;           /* time inside processors, writes included */
    int64_t announced;        /* the body size the fetch announced; <= 0: none */
    bool whole;               /* body is a complete, borrowed buffer */
};

/* The lowercased extension of the URL's last path segment, "" if none. */
static void url_ext(const char *url, char *ext, size_t size)
{
    size_t len, n = 0;
    const char *seg = cfp_out_url_segment(url, &len);
    const char *dot = NULL;

    for (size_t i = 0; i < len; i++)
        if (seg[i] == '.')
            dot = seg + i;
    if (dot)
        for (const char *q = dot + 1; q < seg + len && n + 1 < size; q++)
            ext[n++] = (char)((*q >= 'A' && *q <= 'Z') ? *q + 32 : *q);
    ext[n] = '\0';
}

static bool ct_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum proc_kind detect_kind(const char *url, const char *content_type,
                                  const unsigned char *head, size_t n)
{
    char ext[16];

    if (cfp_png_sniff(head, n))
        return KIND_IMAGE;
    url_ext(url, ext, sizeof(ext));
    if (strcmp(ext, "png") == 0 || ct_is(content_type, "image/png"))
        return KIND_IMAGE;
    if (strcmp(ext, "csv") == 0 || ct_is(content_type, "text/csv"))
        return KIND_CSV;
    if (strcmp(ext, "txt") == 0 || strncasecmp(content_type, "text/", 5) == 0)
        return KIND_TEXT;
    return KIND_UNDECIDED;
}

static enum proc_kind detect(const struct cfp_proc *p)
{
    return detect_kind(p->task->url, p->content_type, p->sniff, p->sniff_len);
}

/* The one "unsupported type" message, whichever engine finds it. */
static cfp_err type_error(const char *url, const char *content_type, struct cfp_status *st)
{
    char ext[16];

    url_ext(url, ext, sizeof(ext));
    return cfp_status_set(st, CFP_ERR_TYPE,
                          "unsupported type (not PNG; extension '%s', Content-Type '%s')", ext,
                          content_type[0] ? content_type : "none");
}

cfp_err cfp_proc_check_type(const struct cfp_task *t, const char *content_type,
                            const unsigned char *head, size_t n, struct cfp_status *st)
{
    const char *ct = content_type ? content_type : "";

    if (detect_kind(t->url, ct, head, n < SNIFF_LEN ? n : SNIFF_LEN) == KIND_UNDECIDED)
        return type_error(t->url, ct, st);
    return CFP_ERR_OK;
}

/* Opens the output file for the decided kind. */
static cfp_err open_output(struct cfp_proc *p, const char *ext)
{
    char name[256];

    cfp_out_name(p->task->index, p->task->url, ext, name, sizeof(name));
    return cfp_out_open(p->cfg->output_dir, name, &p->out, p->st);
}

void cfp_proc_plan_image(const unsigned char *head, size_t len, int64_t announced,
                         uint32_t max_side, struct cfp_img_plan *plan)
{
    struct cfp_png_header h;
    bool small = announced > 0 && (uint64_t)announced <= CFP_PROC_WHOLE_MAX;

    memset(plan, 0, sizeof(*plan));
    /* Test hook (doc/testing.md): stream every image, so that tests can
     * check the streaming path gives the whole path's bytes on any data. */
    if (getenv(STREAM_ALL_ENV))
        small = false;
    if (!cfp_png_peek(head, len, &h)) {
        /* No header to plan by: a small body goes whole to libpng's verdict,
         * a large or unsized one streams (its header fails it early). */
        plan->stream = !small;
        plan->need = (uint64_t)1 << 20;
    } else {
        /* The fast path joins IDAT chunks into one copy of the compressed
         * data (at most the body) while it inflates: counted too. */
        plan->need = cfp_png_need(&h, max_side, false) + (small ? (uint64_t)announced : 0);
        plan->stream = !small || plan->need > CFP_PROC_WHOLE_NEED;
        if (plan->stream)
            plan->need = cfp_png_need(&h, max_side, true);
    }
    plan->body = plan->stream ? 0 : (uint64_t)announced;
}

static cfp_err body_append(struct cfp_proc *p, const void *data, size_t n)
{
    cfp_err err = cfp_buf_append(p->body, data, n);

    if (err == CFP_ERR_TOO_BIG)
        return cfp_status_set(p->st, err, "image body over --max-bytes %llu",
                              (unsigned long long)p->cfg->fetch.max_bytes);
    if (err)
        return cfp_status_set(p->st, err, "image body: %s", cfp_strerror(err));
    return CFP_ERR_OK;
}


/* The stream knows its exact need (the chunks before the pixels are in):
 * the engine admits it (its decode hook) before anything is allocated. */
static cfp_err stream_admit(void *ctx, uint64_t need, struct cfp_status *st)
{
    struct cfp_proc *p = ctx;

    p->plan.need = need;
    return p->hooks.decode ? p->hooks.decode(p->hooks.ctx, &p->plan, st) : CFP_ERR_OK;
}

/* The header is in: plan, ask the engine, and start buffering or
 * streaming (what was gathered goes to the decoder first). */
static cfp_err image_start(struct cfp_proc *p)
{
    cfp_err err;

    cfp_proc_plan_image(p->body->data, p->body->len, p->announced, p->cfg->max_side, &p->plan);
    if (p->hooks.plan) {
        err = p->hooks.plan(p->hooks.ctx, &p->plan, p->st);
        if (err)
            return err;
    }
    if (!p->plan.stream) {
        p->img = IMG_WHOLE;
        err = cfp_buf_reserve(p->body, p->plan.body); /* one allocation */
        return err ? cfp_status_set(p->st, err, "image body: %s", cfp_strerror(err)) : CFP_ERR_OK;
    }
    p->img = IMG_STREAM;
    p->png = (struct cfp_png_opts){.max_side = p->cfg->max_side, .max_pixels = p->cfg->max_pixels};
    err = open_output(p, "png");
    if (!err)
        err = cfp_png_stream_new(&p->png, cfp_out_write, p->out, &p->info, stream_admit, p,
                                 &p->stream, p->st);
    if (!err)
        err = cfp_png_stream_feed(p->stream, p->body->data, p->body->len, p->st);
    cfp_buf_free(p->body); /* gathered bytes are decoded: the buffer goes back */
    return err;
}

/* Image bytes: gathered for the header, then buffered or streamed. */
static cfp_err image_data(struct cfp_proc *p, const void *data, size_t n)
{
    const unsigned char *d = data;
    cfp_err err;

    if (p->img == IMG_STREAM)
        return cfp_png_stream_feed(p->stream, d, n, p->st);
    if (p->img == IMG_HEAD && p->body->len < CFP_PNG_HEAD_LEN) {
        size_t take = CFP_PNG_HEAD_LEN - p->body->len;

        take = take < n ? take : n;
        err = body_append(p, d, take);
        if (err || p->body->len < CFP_PNG_HEAD_LEN)
            return err;
        d += take;
        n -= take;
        err = image_start(p);
        if (err || n == 0)
            return err;
        if (p->img == IMG_STREAM)
            return cfp_png_stream_feed(p->stream, d, n, p->st);
    }
    return body_append(p, d, n);
}

/* Feeds bytes to the decided processor. */
static cfp_err dispatch(struct cfp_proc *p, const void *data, size_t n)
{
    cfp_err err;

    switch (p->kind) {
    case KIND_IMAGE:
        return p->whole ? CFP_ERR_OK /* borrowed complete body: nothing to gather */
                        : image_data(p, data, n);
    case KIND_TEXT:
        err = cfp_text_feed(p->text, data, n);
        if (err && cfp_out_cause(p->out, p->st))
            return p->st->code;
        return err ? cfp_status_set(p->st, err, "text: %s", cfp_strerror(err)) : CFP_ERR_OK;
    case KIND_CSV:
        err = cfp_csv_feed(p->csv, data, n, p->st);
        return err && cfp_out_cause(p->out, p->st) ? p->st->code : err;
    default:
        return cfp_status_set(p->st, CFP_ERR_INTERNAL, "no processor");
    }
}

/* Decides the kind from what was sniffed and starts its processor. */
static cfp_err decide(struct cfp_proc *p)
{
    cfp_err err;

    p->kind = detect(p);
    switch (p->kind) {
    case KIND_IMAGE:
        p->img = IMG_HEAD;
        if (p->whole)
            return CFP_ERR_OK; /* the body is already complete in p->body */
        cfp_buf_reset(p->body);
        p->body->limit = p->cfg->fetch.max_bytes;
        return CFP_ERR_OK;
    case KIND_TEXT:
        err = cfp_text_new(&p->text);
        return err ? cfp_status_set(p->st, err, "text: %s", cfp_strerror(err)) : CFP_ERR_OK;
    case KIND_CSV:
        err = open_output(p, "json");
        if (err)
            return err;
        err = cfp_csv_new(cfp_out_write, p->out, p->cfg->max_record, &p->csv);
        return err ? cfp_status_set(p->st, err, "CSV: %s", cfp_strerror(err)) : CFP_ERR_OK;
    default:
        return type_error(p->task->url, p->content_type, p->st);
    }
}

static cfp_err sink_begin(void *ctx, const char *content_type, int64_t size)
{
    struct cfp_proc *p = ctx;

    p->announced = size;
    (void)snprintf(p->content_type, sizeof(p->content_type), "%s",
                   content_type ? content_type : "");
    return CFP_ERR_OK;
}

static cfp_err sink_data(void *ctx, const void *data, size_t n)
{
    struct cfp_proc *p = ctx;
    double t0 = cfp_now();
    cfp_err err = CFP_ERR_OK;

    if (p->kind == KIND_UNDECIDED) {
        size_t take = SNIFF_LEN - p->sniff_len;
        if (take > n)
            take = n;
        memcpy(p->sniff + p->sniff_len, data, take);
        p->sniff_len += take;
        data = (const unsigned char *)data + take;
        n -= take;
        if (p->sniff_len < SNIFF_LEN)
            goto out;
        err = decide(p);
        if (!err)
            err = dispatch(p, p->sniff, p->sniff_len);
    }
    if (!err && n > 0)
        err = dispatch(p, data, n);
out:
    p->seconds += cfp_now() - t0;
    return err;
}

/* Drops everything received so far, for a retry. */
static void proc_reset(struct cfp_proc *p)
{
    cfp_png_stream_free(&p->stream);
    p->img = IMG_HEAD;
    cfp_text_free(&p->text);
    cfp_csv_free(&p->csv);
    cfp_out_abort(&p->out);
    p->kind = KIND_UNDECIDED;
    p->sniff_len = 0;
    p->content_type[0] = '\0';
}

static void sink_reset(void *ctx)
{
    proc_reset(ctx);
}

cfp_err cfp_proc_new(const struct cfp_task_cfg *cfg, const struct cfp_task *t,
                     struct cfp_buf *body, struct cfp_status *st, struct cfp_proc **out)
{
    struct cfp_proc *p = cfp_calloc(1, sizeof(*p));

    if (!p)
        return cfp_status_set(st, CFP_ERR_NOMEM, "processor: out of memory");
    p->cfg = cfg;
    p->task = t;
    p->st = st;
    p->body = body;
    p->info = (struct cfp_png_info){-1, -1, -1, -1};
    *out = p;
    return CFP_ERR_OK;
}

void cfp_proc_set_hooks(struct cfp_proc *p, const struct cfp_proc_hooks *h)
{
    p->hooks = *h;
}

struct cfp_fetch_sink cfp_proc_sink(struct cfp_proc *p)
{
    struct cfp_fetch_sink s = {sink_begin, sink_data, sink_reset, p};
    return s;
}

/* The decoder read the whole body: it goes back to the pool now. */
static void body_done(void *ctx)
{
    cfp_buf_free(ctx);
}

/* A whole body: the engine admits its decode, then it is processed. */
static cfp_err finish_whole(struct cfp_proc *p)
{
    struct cfp_png_opts o = {.max_side = p->cfg->max_side, .max_pixels = p->cfg->max_pixels};
    cfp_err err;

    if (!p->whole) { /* a borrowed body belongs to the engine */
        o.input_done = body_done;
        o.input_ctx = p->body;
    }

    if (p->img == IMG_HEAD) /* a borrowed body, or one shorter than a header */
        cfp_proc_plan_image(p->body->data, p->body->len, (int64_t)p->body->len,
                            p->cfg->max_side, &p->plan);
    if (p->hooks.decode && p->body->len >= CFP_PNG_HEAD_LEN) {
        err = p->hooks.decode(p->hooks.ctx, &p->plan, p->st);
        if (err)
            return err;
    }
    err = open_output(p, "png");
    if (err)
        return err;
    return cfp_png_process(p->body->data, p->body->len, &o, cfp_out_write, p->out, &p->info,
                           p->st);
}

static cfp_err finish_image(struct cfp_proc *p, struct cfp_record *r)
{
    cfp_err err;

    if (p->img == IMG_STREAM)
        err = cfp_png_stream_finish(p->stream, p->st);
    else
        err = finish_whole(p);
    r->width_in = p->info.width_in;
    r->height_in = p->info.height_in;
    if (!err) {
        r->width_out = p->info.width_out;
        r->height_out = p->info.height_out;
    }
    return err;
}

static cfp_err finish_text(struct cfp_proc *p, struct cfp_record *r)
{
    struct cfp_text_stats s;
    cfp_err err = open_output(p, "json");

    if (err)
        return err;
    err = cfp_text_finish(p->text, cfp_out_write, p->out, &s, p->st);
    if (!err) {
        r->lines = s.lines;
        r->words = s.words;
        r->chars = s.chars;
    }
    return err;
}

static cfp_err finish_csv(struct cfp_proc *p, struct cfp_record *r)
{
    return cfp_csv_finish(p->csv, &r->rows, &r->cols, p->st);
}

cfp_err cfp_proc_finish(struct cfp_proc *p, struct cfp_record *r)
{
    double t0 = cfp_now(), t_commit;
    cfp_err err = CFP_ERR_OK;

    if (p->kind == KIND_UNDECIDED) {
        /* A body shorter than the sniff: decide now and hand it over. */
        err = decide(p);
        if (!err && p->sniff_len > 0)
            err = dispatch(p, p->sniff, p->sniff_len);
    }
    memcpy(r->kind, cfp_proc_kind(p), strlen(cfp_proc_kind(p)) + 1);
    if (err)
        goto out;
    if (p->kind == KIND_IMAGE)
        err = finish_image(p, r);
    else if (p->kind == KIND_TEXT)
        err = finish_text(p, r);
    else
        err = finish_csv(p, r);
    if (err && cfp_out_cause(p->out, p->st))
        err = p->st->code;
    if (err)
        goto out;
    r->t_write = cfp_out_seconds(p->out);
    t_commit = cfp_now();
    err = cfp_out_commit(&p->out, r->output, r->digest, &r->bytes_out, p->st);
    r->t_write += cfp_now() - t_commit;
out:
    p->seconds += cfp_now() - t0;
    return err;
}

const char *cfp_proc_kind(const struct cfp_proc *p)
{
    static const char *const names[] = {"unknown", "image", "text", "csv"};
    return names[p->kind];
}

double cfp_proc_seconds(const struct cfp_proc *p)
{
    return p->seconds;
}

void cfp_proc_free(struct cfp_proc **pp)
{
    struct cfp_proc *p = pp ? *pp : NULL;

    if (!p)
        return;
    proc_reset(p);
    cfp_free(p);
    *pp = NULL;
}

cfp_err cfp_proc_end(struct cfp_proc *p, cfp_err err, struct cfp_record *r)
{
    double proc_s;

    if (!err)
        err = cfp_proc_finish(p, r);
    else
        memcpy(r->kind, cfp_proc_kind(p), strlen(cfp_proc_kind(p)) + 1);
    proc_s = cfp_proc_seconds(p);
    r->t_process = proc_s > r->t_write ? proc_s - r->t_write : 0;
    return err;
}

cfp_err cfp_proc_whole(const struct cfp_task_cfg *cfg, const struct cfp_task *t,
                       const char *content_type, const unsigned char *body, size_t len,
                       const struct cfp_proc_hooks *hooks, struct cfp_record *r,
                       struct cfp_status *st)
{
    /* A read-only view: the image path reads body->data and never appends
     * when whole is set, so the cast away from const is not written through. */
    struct cfp_buf view = {(unsigned char *)(uintptr_t)body, len, len, len};
    struct cfp_proc *p = NULL;
    size_t sniff = len < SNIFF_LEN ? len : SNIFF_LEN;
    cfp_err err = cfp_proc_new(cfg, t, &view, st, &p);

    if (err)
        return err;
    p->whole = true;
    if (hooks)
        p->hooks = *hooks;
    (void)sink_begin(p, content_type, (int64_t)len);
    err = sink_data(p, body, sniff);
    if (!err && p->kind != KIND_UNDECIDED && p->kind != KIND_IMAGE && len > sniff) {
        double t0 = cfp_now();
        err = dispatch(p, body + sniff, len - sniff);
        p->seconds += cfp_now() - t0;
    }
    err = cfp_proc_end(p, err, r);
    cfp_proc_free(&p);
    return err;
}
