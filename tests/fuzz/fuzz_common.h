/* fuzz_common.h - helpers shared by the libFuzzer targets: a bounded memory
 * sink (a cfp_write_fn), a deterministic chunk splitter seeded from the
 * input, a strict JSON validator, and FUZZ_CHECK, which aborts (libFuzzer
 * then saves the input as crash-*) with both sides printed.
 *
 * Everything is static inline: each target is one translation unit. */
#ifndef CFP_FUZZ_COMMON_H
#define CFP_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cfp_err.h"
#include "proc/cfp_json.h"

/* Fails the run: prints where and why, then aborts so libFuzzer keeps the
 * input as a reproducer. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A growable output buffer with a hard limit, usable as a cfp_write_fn. */
struct fuzz_mem {
    unsigned char *p;
    size_t len, cap, limit;
};

static inline cfp_err fuzz_mem_write(void *ctx, const void *data, size_t len)
{
    struct fuzz_mem *m = ctx;

    if (len > m->limit - m->len)
        return CFP_ERR_TOO_BIG;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 256;
        unsigned char *np;

        while (cap < m->len + len)
            cap *= 2;
        np = realloc(m->p, cap);
        if (!np)
            return CFP_ERR_NOMEM;
        m->p = np;
        m->cap = cap;
    }
    if (len)
        memcpy(m->p + m->len, data, len);
    m->len += len;
    return CFP_ERR_OK;
}

static inline void fuzz_mem_free(struct fuzz_mem *m)
{
    free(m->p);
    m->p = NULL;
    m->len = m->cap = 0;
}

/* FNV-1a of the input: seeds every choice a target makes, so a saved input
 * replays exactly, and each mutation explores other chunkings. */
static inline uint64_t fuzz_hash(const uint8_t *d, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 0x100000001b3ull;
    return h;
}

/* splitmix64 */
static inline uint64_t fuzz_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Chunk sizes for one split of an input: a style (single bytes, tiny,
 * small, large) picked once, then random sizes in its range, with an
 * occasional empty chunk. */
struct fuzz_chunker {
    uint64_t s;
    size_t max;
};

static inline void fuzz_chunker_init(struct fuzz_chunker *ck, uint64_t seed)
{
    static const size_t maxes[4] = {1, 8, 64, 4096};

    ck->s = seed;
    ck->max = maxes[fuzz_rand(&ck->s) & 3];
}

static inline size_t fuzz_chunk_next(struct fuzz_chunker *ck, size_t left)
{
    uint64_t r = fuzz_rand(&ck->s);
    size_t n;

    if (r % 17 == 0)
        return 0;
    n = 1 + (size_t)((r >> 8) % ck->max);
    return n < left ? n : left;
}

/* A strict JSON (RFC 8259) validator over s[0..n): returns true when the
 * whole input is one value, with optional surrounding whitespace. Strings
 * must be valid UTF-8 with no raw control characters. *top_items receives
 * the number of elements of a top-level array (0 otherwise). */
struct fuzz_json {
    const unsigned char *s;
    size_t n, i;
    int depth;
};

static inline void fj_ws(struct fuzz_json *j)
{
    while (j->i < j->n &&
           (j->s[j->i] == ' ' || j->s[j->i] == '\n' || j->s[j->i] == '\t' || j->s[j->i] == '\r'))
        j->i++;
}

static inline bool fj_lit(struct fuzz_json *j, const char *lit)
{
    size_t k = strlen(lit);

    if (j->n - j->i < k || memcmp(j->s + j->i, lit, k) != 0)
        return false;
    j->i += k;
    return true;
}

static inline bool fj_digits(struct fuzz_json *j)
{
    size_t start = j->i;

    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
        j->i++;
    return j->i > start;
}

static inline bool fj_number(struct fuzz_json *j)
{
    if (j->i < j->n && j->s[j->i] == '-')
        j->i++;
    if (j->i < j->n && j->s[j->i] == '0')
        j->i++;
    else if (j->i >= j->n || j->s[j->i] < '1' || j->s[j->i] > '9' || !fj_digits(j))
        return false;
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        if (!fj_digits(j))
            return false;
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
            j->i++;
        if (!fj_digits(j))
            return false;
    }
    return true;
}

static inline bool fj_string(struct fuzz_json *j)
{
    j->i++; /* the opening quote */
    while (j->i < j->n) {
        unsigned char c = j->s[j->i];
        size_t sl;

        if (c == '"') {
            j->i++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (++j->i >= j->n)
                return false;
            c = j->s[j->i];
            if (c == 'u') {
                for (int k = 0; k < 4; k++)
                    if (++j->i >= j->n || !strchr("0123456789abcdefABCDEF", j->s[j->i]) ||
                        j->s[j->i] == '\0')
                        return false;
            } else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
                return false;
            }
            j->i++;
            continue;
        }
        sl = c < 0x80 ? 1 : cfp_utf8_seq_len(j->s + j->i, j->n - j->i);
        if (!sl)
            return false;
        j->i += sl;
    }
    return false;
}

static inline bool fj_value(struct fuzz_json *j, size_t *items);

/* Array or object: open is '[' or '{'. */
static inline bool fj_container(struct fuzz_json *j, unsigned char open, size_t *items)
{
    unsigned char close = open == '[' ? ']' : '}';
    size_t count = 0;

    if (++j->depth > 64)
        return false;
    j->i++;
    fj_ws(j);
    if (j->i < j->n && j->s[j->i] == close) {
        j->i++;
        j->depth--;
        *items = 0;
        return true;
    }
    for (;;) {
        size_t sub;

        fj_ws(j);
        if (open == '{') {
            if (j->i >= j->n || j->s[j->i] != '"' || !fj_string(j))
                return false;
            fj_ws(j);
            if (j->i >= j->n || j->s[j->i++] != ':')
                return false;
            fj_ws(j);
        }
        if (!fj_value(j, &sub))
            return false;
        count++;
        fj_ws(j);
        if (j->i >= j->n)
            return false;
        if (j->s[j->i] == ',') {
            j->i++;
            continue;
        }
        if (j->s[j->i] != close)
            return false;
        j->i++;
        j->depth--;
        *items = count;
        return true;
    }
}

static inline bool fj_value(struct fuzz_json *j, size_t *items)
{
    *items = 0;
    if (j->i >= j->n)
        return false;
    switch (j->s[j->i]) {
    case '[':
    case '{':
        return fj_container(j, j->s[j->i], items);
    case '"':
        return fj_string(j);
    case 't':
        return fj_lit(j, "true");
    case 'f':
        return fj_lit(j, "false");
    case 'n':
        return fj_lit(j, "null");
    default:
        return fj_number(j);
    }
}

static inline bool fuzz_json_valid(const unsigned char *s, size_t n, size_t *top_items)
{
    struct fuzz_json j = {s, n, 0, 0};
    size_t items = 0, start;
    bool ok;

    fj_ws(&j);
    start = j.i;
    ok = j.i < n && fj_value(&j, &items);
    fj_ws(&j);
    if (top_items)
        *top_items = ok && s[start] == '[' ? items : 0;
    return ok && j.i == n;
}

#endif
