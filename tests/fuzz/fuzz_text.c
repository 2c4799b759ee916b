/* fuzz_text.c - libFuzzer target for the streaming text statistics.
 *
 * The input is a text file. It is processed twice as the processor does
 * (cfp_text_new, feed..., finish writing the JSON document to a sink):
 * fed whole, and fed in chunks drawn from a generator seeded by the input
 * (single bytes to 4 KiB, with empty feeds of a NULL pointer mixed in), so
 * boundaries fall inside UTF-8 sequences, tokens, apostrophes and CRLFs.
 * Both runs must give the same stats and the same JSON bytes (top_words
 * included: the two objects also hash with different seeds).
 *
 * The counts are also recomputed here, independently, from the rules in
 * cfp_text.h: bytes, lines ('\n'), words (runs of non-ASCII-whitespace)
 * and chars (strict UTF-8 decoding, one per invalid byte). The document
 * must be valid JSON. No input is an error. */
#include <stdint.h>
#include <string.h>

#include "proc/cfp_text.h"
#include "fuzz_common.h"

#define OUT_LIMIT ((size_t)1 << 20)

struct text_run {
    struct fuzz_mem out;
    struct cfp_text_stats s;
    cfp_err err;
    struct cfp_status st;
};

static void text_run(const uint8_t *d, size_t n, struct fuzz_chunker *ck, struct text_run *r)
{
    struct cfp_text *t = NULL;
    size_t off = 0, k;

    memset(r, 0, sizeof(*r));
    r->out.limit = OUT_LIMIT;
    r->s.lines = r->s.words = r->s.chars = r->s.bytes = -1;
    cfp_status_clear(&r->st);
    r->err = cfp_text_new(&t);
    FUZZ_CHECK(r->err == CFP_ERR_OK, "cfp_text_new: %s", cfp_strerror(r->err));
    if (!ck) {
        r->err = cfp_text_feed(t, d, n);
    } else {
        while (!r->err && off < n) {
            k = fuzz_chunk_next(ck, n - off);
            r->err = cfp_text_feed(t, k ? d + off : NULL, k);
            off += k;
        }
    }
    if (!r->err)
        r->err = cfp_text_finish(t, fuzz_mem_write, &r->out, &r->s, &r->st);
    if (!r->err)
        FUZZ_CHECK(cfp_text_feed(t, "x", 1) == CFP_ERR_USAGE, "feed after finish accepted");
    cfp_text_free(&t);
    FUZZ_CHECK(t == NULL, "cfp_text_free left the pointer set");
}

static bool is_ws(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The counts by the letter of cfp_text.h, one byte at a time. */
static void reference(const uint8_t *d, size_t n, struct cfp_text_stats *s)
{
    bool in_word = false;
    size_t i;
    int r;

    s->bytes = (int64_t)n;
    s->lines = s->words = s->chars = 0;
    for (i = 0; i < n; i++) {
        s->lines += d[i] == '\n';
        s->words += !is_ws(d[i]) && !in_word;
        in_word = !is_ws(d[i]);
    }
    for (i = 0; i<n; i += r> 0 ? (size_t)r : 1) {
        r = cfp_utf8_check(d + i, n - i);
        if (r == CFP_UTF8_SHORT) { /* cut off by the end: one char per byte */
            s->chars += (int64_t)(n - i);
            break;
        }
        s->chars++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct text_run whole, chunked;
    struct cfp_text_stats ref;
    struct fuzz_chunker ck;

    fuzz_chunker_init(&ck, fuzz_hash(data, size));
    text_run(data, size, NULL, &whole);
    text_run(data, size, &ck, &chunked);
    FUZZ_CHECK(whole.err == CFP_ERR_OK && chunked.err == CFP_ERR_OK,
               "whole: %s \"%s\"; chunked: %s \"%s\"", cfp_errname(whole.err), whole.st.msg,
               cfp_errname(chunked.err), chunked.st.msg);
    reference(data, size, &ref);
#define SAME(f)                                                                                    \
    FUZZ_CHECK(whole.s.f == ref.f && chunked.s.f == ref.f,                                         \
               #f ": whole %lld, chunked %lld (max %zu), reference %lld", (long long)whole.s.f,    \
               (long long)chunked.s.f, ck.max, (long long)ref.f)
    SAME(bytes);
    SAME(lines);
    SAME(words);
    SAME(chars);
#undef SAME
    FUZZ_CHECK(fuzz_json_valid(whole.out.p, whole.out.len, NULL), "output is not JSON: %.*s",
               (int)(whole.out.len < 400 ? whole.out.len : 400), (const char *)whole.out.p);
    FUZZ_CHECK(whole.out.len > 0 && whole.out.p[whole.out.len - 1] == '\n' &&
                   memchr(whole.out.p, '\n', whole.out.len) == whole.out.p + whole.out.len - 1,
               "output is not one line");
    FUZZ_CHECK(whole.out.len == chunked.out.len &&
                   memcmp(whole.out.p, chunked.out.p, whole.out.len) == 0,
               "output differs (chunks up to %zu):\nwhole:   %.*s\nchunked: %.*s", ck.max,
               (int)whole.out.len, (const char *)whole.out.p, (int)chunked.out.len,
               (const char *)chunked.out.p);
    fuzz_mem_free(&whole.out);
    fuzz_mem_free(&chunked.out);
    return 0;
}
