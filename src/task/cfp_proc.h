/* cfp_proc.h - type detection and dispatch of a body to its processor.
 *
 * A struct cfp_proc receives a body as it arrives (begin/data, the shape of
 * struct cfp_fetch_sink) and decides its kind from the first bytes: the PNG
 * signature first; then the URL's extension or the Content-Type: .png or
 * image/png is an image (which will then fail as "not a PNG"), .csv or
 * text/csv is CSV, .txt or any text/ type is text; anything else fails with
 * CFP_ERR_TYPE as soon as it is known, without downloading the rest.
 * Text and CSV are streamed to their processors. An image is planned from
 * its header (the first 33 bytes): a body of announced size up to
 * CFP_PROC_WHOLE_MAX whose decode needs little is buffered whole and
 * decoded after the transfer (the fast path needs the whole file); any
 * other image is decoded as it arrives (cfp_png_stream), in memory
 * proportional to its width. The plan is offered to the engine's memory
 * budget first (struct cfp_proc_hooks). */
#ifndef CFP_PROC_H
#define CFP_PROC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_buf.h"
#include "task/cfp_fetch.h"
#include "task/cfp_record.h"
#include "task/cfp_task.h"

struct cfp_proc;

/* Bodies buffered whole: at most this announced size, and a decode need
 * (cfp_png_need, the fast path's inflated image included) of at most
 * CFP_PROC_WHOLE_NEED. Larger images stream. */
#define CFP_PROC_WHOLE_MAX  ((uint64_t)64 << 20)
#define CFP_PROC_WHOLE_NEED ((uint64_t)160 << 20)

/* What an image will hold, planned from its header. */
struct cfp_img_plan {
    bool stream;   /* decoded as it arrives; else buffered whole, then decoded */
    uint64_t body; /* bytes buffered whole: the announced size (0 when streamed) */
    uint64_t need; /* decode memory (cfp_png_need), the body not included */
};

/* The engine's say on an image's memory (cfp_budget.h). Both are called
 * on the fetching or processing thread; NULL hooks allow everything.
 *   plan:   at the header, before the body is received: a whole body is
 *           about to be buffered (plan->body), or a stream decoded (it
 *           needs its core now; plan->need is an upper bound).
 *   decode: a whole body is about to be decoded, or a stream has read the
 *           chunks before its pixels and knows its exact need: admit
 *           plan->need. */
struct cfp_proc_hooks {
    cfp_err (*plan)(void *ctx, const struct cfp_img_plan *plan, struct cfp_status *st);
    cfp_err (*decode)(void *ctx, const struct cfp_img_plan *plan, struct cfp_status *st);
    void *ctx;
};

/* Plans an image from the first len bytes of its body (at least
 * CFP_PNG_HEAD_LEN to read the header) and its announced size (<= 0:
 * none), for max_side. */
void cfp_proc_plan_image(const unsigned char *head, size_t len, int64_t announced,
                         uint32_t max_side, struct cfp_img_plan *plan);

/* Prepares processing for task index/url. body is the worker's reusable
 * image buffer; st receives any failure message. Caller frees with
 * cfp_proc_free(). */
cfp_err cfp_proc_new(const struct cfp_task_cfg *cfg, const struct cfp_task *t,
                     struct cfp_buf *body, struct cfp_status *st, struct cfp_proc **out);

/* Installs the engine's memory hooks (copied); before the fetch. */
void cfp_proc_set_hooks(struct cfp_proc *p, const struct cfp_proc_hooks *h);

/* The fetch sink that feeds p; valid while p lives. */
struct cfp_fetch_sink cfp_proc_sink(struct cfp_proc *p);

/* Ends the body: finishes processing, commits the output and fills r's
 * kind, output, digest, bytes_out, kind-specific fields, t_process and
 * t_write. On failure r's fields stay as they were and no output exists. */
cfp_err cfp_proc_finish(struct cfp_proc *p, struct cfp_record *r);

/* The kind decided so far ("image", "text", "csv", "unknown"). */
const char *cfp_proc_kind(const struct cfp_proc *p);

/* Seconds spent processing and writing so far (excluded from fetch time). */
double cfp_proc_seconds(const struct cfp_proc *p);

void cfp_proc_free(struct cfp_proc **pp);

/* Checks, from a body's first bytes (the first 8 are enough), the URL and
 * the Content-Type, that the body has a processor: CFP_ERR_TYPE with the
 * same message as the streaming path otherwise. Lets an engine that buffers
 * whole bodies (async) stop a transfer as early as the streaming path does. */
cfp_err cfp_proc_check_type(const struct cfp_task *t, const char *content_type,
                            const unsigned char *head, size_t n, struct cfp_status *st);

/* Ends p's body: with err OK finishes the output (cfp_proc_finish), else
 * (the fetch failed) records the kind decided so far; then sets
 * r->t_process, the time inside the processors less the output's write.
 * Returns cfp_proc_finish's error, or err. */
cfp_err cfp_proc_end(struct cfp_proc *p, cfp_err err, struct cfp_record *r);

/* Processes a body that is already complete in memory (the async engine's
 * CPU stage): the same detection, processors and outputs as the streaming
 * path, without copying the body. Fills r as cfp_proc_finish() does, and
 * t_process / t_write. On failure the message is in st. */
cfp_err cfp_proc_whole(const struct cfp_task_cfg *cfg, const struct cfp_task *t,
                       const char *content_type, const unsigned char *body, size_t len,
                       const struct cfp_proc_hooks *hooks, struct cfp_record *r,
                       struct cfp_status *st);

#endif
