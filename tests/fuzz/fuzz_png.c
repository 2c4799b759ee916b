/* fuzz_png.c - libFuzzer target for the PNG path: decode -> Lanczos-3
 * shrink -> encode, as the processor runs it (cfp_proc.c finish_image:
 * cfp_png_process on the whole body, writing to a sink).
 *
 * The input is a PNG file. It is processed with the default pixel limit
 * (CFP_PNG_MAX_PIXELS_DEFAULT, so the refusal right after IHDR is reached)
 * and a longest side of 64, so nearly every image goes through the
 * resizer. Checks:
 * - failure: only the documented codes (PNG_DECODE, TOO_BIG), with a
 *   message in the status; info sizes set only as far as known;
 * - success: the output is a PNG, its size obeys the fit rule (longest
 *   side <= 64, never upscaled, at least 1);
 * - idempotence: the output, processed again with the same options,
 *   decodes, keeps its size, and re-encodes to the very same bytes (the
 *   output already fits, so the second pass only decodes and encodes).
 *
 * libpng rejects a critical chunk whose CRC is wrong, so nearly every
 * mutation of IHDR (sizes, colour type, depth, interlace) or of the image
 * data would stop at the CRC. When the input has a wrong CRC, it is
 * therefore processed a second time with every chunk CRC recomputed, so
 * such mutations reach the decoder, transforms, resizer and encoder.
 *
 * As the engines do (cfp_proc.c, task/cfp_budget.h), an image whose
 * estimated decode (cfp_png_need from its header) is over a budget of
 * FUZZ_BUDGET is not decoded: a real run fails it with MEMORY before any
 * allocation; since --max-pixels became a bomb limit (2^32) only the budget
 * bounds a decode's memory. The same input then goes through the
 * streaming decoder (cfp_png_stream) in pieces whose size the input picks,
 * its admission hook refusing a need over FUZZ_BUDGET: when both decoders
 * succeed, their outputs must be the same bytes. */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "proc/cfp_png.h"
#include "proc/cfp_resize.h"
#include "fuzz_common.h"

#define MAX_SIDE    64u
#define OUT_LIMIT   ((size_t)1 << 24)
#define FUZZ_BUDGET ((uint64_t)256 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_failure(cfp_err err, const struct cfp_status *st, const struct cfp_png_info *in)
{
    FUZZ_CHECK(err == CFP_ERR_PNG_DECODE || err == CFP_ERR_TOO_BIG, "undocumented error %s: %s",
               cfp_errname(err), st->msg);
    FUZZ_CHECK(st->code == err && st->msg[0], "status %d \"%s\" for error %d", st->code, st->msg,
               err);
    FUZZ_CHECK((in->width_in > 0) == (in->height_in > 0), "info in %dx%d", in->width_in,
               in->height_in);
    FUZZ_CHECK(in->width_out == -1 || in->width_in > 0, "output size before input size");
}

static void check_sizes(const struct cfp_png_info *in)
{
    uint32_t w, h;

    FUZZ_CHECK(in->width_in > 0 && in->height_in > 0 && in->width_out > 0 && in->height_out > 0,
               "info %dx%d -> %dx%d", in->width_in, in->height_in, in->width_out, in->height_out);
    FUZZ_CHECK((uint64_t)in->width_in * (uint64_t)in->height_in <= CFP_PNG_MAX_PIXELS_DEFAULT,
               "%dx%d passed the pixel limit", in->width_in, in->height_in);
    cfp_resize_fit((uint32_t)in->width_in, (uint32_t)in->height_in, MAX_SIDE, &w, &h);
    FUZZ_CHECK(w == (uint32_t)in->width_out && h == (uint32_t)in->height_out,
               "%dx%d -> %dx%d, fit rule says %ux%u", in->width_in, in->height_in, in->width_out,
               in->height_out, w, h);
    FUZZ_CHECK(w <= MAX_SIDE && h <= MAX_SIDE && w <= (uint32_t)in->width_in &&
                   h <= (uint32_t)in->height_in,
               "fit %ux%u out of bounds", w, h);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A copy of d[0..n) with the CRC of every complete chunk recomputed, or
 * NULL when every CRC was already right (or there is no chunk). */
static unsigned char *fix_crcs(const uint8_t *d, size_t n)
{
    unsigned char *c;
    size_t pos = 8;
    bool changed = false;

    if (n < 8 + 12)
        return NULL;
    c = malloc(n);
    FUZZ_CHECK(c != NULL, "out of memory");
    memcpy(c, d, n);
    while (n - pos >= 12 && get32(c + pos) <= n - pos - 12) {
        size_t len = get32(c + pos);
        uint32_t crc = (uint32_t)crc32(0, c + pos + 4, (uInt)(len + 4));
        unsigned char *at = c + pos + 8 + len;

        if (get32(at) != crc) {
            at[0] = (unsigned char)(crc >> 24);
            at[1] = (unsigned char)(crc >> 16);
            at[2] = (unsigned char)(crc >> 8);
            at[3] = (unsigned char)crc;
            changed = true;
        }
        pos += 12 + len;
    }
    if (!changed) {
        free(c);
        return NULL;
    }
    return c;
}

static void process(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *fixed = fix_crcs(data, size);

    process(data, size);
    if (fixed)
        process(fixed, size);
    free(fixed);
    return 0;
}

/* The engines' admission of a streamed decode's exact need. */
static cfp_err admit(void *ctx, uint64_t need, struct cfp_status *st)
{
    (void)ctx;
    return need > FUZZ_BUDGET ? cfp_status_set(st, CFP_ERR_MEMORY, "needs ~%llu bytes",
                                               (unsigned long long)need)
                              : CFP_ERR_OK;
}

/* The streaming decoder on data, in pieces of a size the input picks; when
 * it and the whole-buffer decoder (whose output is want, NULL if it failed)
 * both succeed, the bytes must be the same. */
static void stream_check(const uint8_t *data, size_t size, const struct cfp_png_opts *o,
                         const struct fuzz_mem *want)
{
    struct fuzz_mem out = {.limit = OUT_LIMIT};
    struct cfp_png_stream *s = NULL;
    struct cfp_png_info in;
    struct cfp_status st;
    size_t piece = size > 40 ? (size_t)data[size - 1] % 97 + 1 : 7;
    cfp_err err;

    cfp_status_clear(&st);
    err = cfp_png_stream_new(o, fuzz_mem_write, &out, &in, admit, NULL, &s, &st);
    FUZZ_CHECK(err == CFP_ERR_OK, "stream_new: %s", st.msg);
    for (size_t at = 0; !err && at < size; at += piece)
        err = cfp_png_stream_feed(s, data + at, size - at < piece ? size - at : piece, &st);
    if (!err)
        err = cfp_png_stream_finish(s, &st);
    cfp_png_stream_free(&s);
    FUZZ_CHECK(err == CFP_ERR_OK || err == CFP_ERR_PNG_DECODE || err == CFP_ERR_TOO_BIG ||
                   err == CFP_ERR_MEMORY,
               "stream: undocumented error %s: %s", cfp_errname(err), st.msg);
    if (!err && want)
        FUZZ_CHECK(out.len == want->len && memcmp(out.p, want->p, out.len) == 0,
                   "stream and whole-buffer outputs differ (%zu vs %zu bytes)", out.len,
                   want->len);
    fuzz_mem_free(&out);
}

static void process(const uint8_t *data, size_t size)
{
    struct fuzz_mem out = {.limit = OUT_LIMIT}, again = {.limit = OUT_LIMIT};
    struct cfp_png_info in, in2;
    struct cfp_png_opts o;
    struct cfp_png_header h;
    struct cfp_status st;
    cfp_err err;

    cfp_png_opts_init(&o);
    o.max_side = MAX_SIDE;
    if (cfp_png_peek(data, size, &h) && cfp_png_need(&h, MAX_SIDE, false) > FUZZ_BUDGET) {
        stream_check(data, size, &o, NULL); /* the stream's hook refuses it, or it streams */
        return;
    }
    cfp_status_clear(&st);
    err = cfp_png_process(data, size, &o, fuzz_mem_write, &out, &in, &st);
    stream_check(data, size, &o, err ? NULL : &out);
    if (err) {
        check_failure(err, &st, &in);
        goto out;
    }
    check_sizes(&in);
    FUZZ_CHECK(cfp_png_sniff(out.p, out.len), "output (%zu bytes) is not a PNG", out.len);

    cfp_status_clear(&st);
    err = cfp_png_process(out.p, out.len, &o, fuzz_mem_write, &again, &in2, &st);
    FUZZ_CHECK(err == CFP_ERR_OK, "own output does not process: %s", st.msg);
    FUZZ_CHECK(in2.width_in == in.width_out && in2.height_in == in.height_out &&
                   in2.width_out == in.width_out && in2.height_out == in.height_out,
               "second pass %dx%d -> %dx%d, first gave %dx%d", in2.width_in, in2.height_in,
               in2.width_out, in2.height_out, in.width_out, in.height_out);
    FUZZ_CHECK(again.len == out.len && memcmp(again.p, out.p, out.len) == 0,
               "re-encoding the output changed it (%zu -> %zu bytes)", out.len, again.len);
out:
    fuzz_mem_free(&out);
    fuzz_mem_free(&again);
}
