/* cfp_text.c - streaming text statistics and the word-frequency table.
 *
 * Each chunk is scanned twice: once for characters (UTF-8, with an
 * 8-bytes-at-a-time ASCII fast path) and once for lines, words and tokens
 * (one table lookup per byte, token bytes copied in runs). Both scans keep
 * their state between chunks: the character scan holds an incomplete UTF-8
 * sequence (at most 3 bytes), the token scan the current token. */
#include "proc/cfp_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proc/cfp_json.h"
#include "base/cfp_mem.h"

/* Byte classes: 1 = ASCII whitespace (ends words), 2 = token byte
 * ([A-Za-z0-9] and every byte >= 0x80), 0 = anything else. */
#define CLS_WS  1
#define CLS_TOK 2
static const unsigned char cls[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 20 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, /* 30 */
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 40 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, /* 50 */
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 60 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, /* 70 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 90 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* a0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* b0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* c0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* d0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* e0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* f0 */
};

/* Token scanner states. TOK_APOS: a token followed by one '\'' that is
 * joined only if a token byte comes next; otherwise the token ends without
 * it (regex backtracking, done as a state). */
enum { TOK_OUT, TOK_IN, TOK_APOS };

#define TAB_INIT  1024u        /* slots; a power of two */
#define TAB_MAX   (1ull << 31) /* slots; the index comes from a 32-bit hash */
#define KEYS_INIT 8192u
#define TOK_INIT  64u

/* One distinct token. count == 0 marks an empty slot. */
struct word {
    uint64_t off; /* key bytes at t->keys + off */
    int64_t count;
    uint32_t hash; /* slot index and cheap compare */
    uint32_t len;
};

struct cfp_text {
    struct cfp_text_stats s;
    cfp_err err; /* first failure of feed; sticky */
    bool finished;
    bool in_word; /* the last byte seen was not whitespace */
    int tok_state;
    unsigned char u8[4]; /* incomplete UTF-8 sequence from the last chunk */
    size_t u8_len;
    unsigned char *tok; /* current token, lowercased; valid unless TOK_OUT */
    size_t tok_len, tok_cap;
    bool tok_long;      /* the current token passed CFP_TEXT_TOKEN_MAX: not ranked */
    struct word *tab; /* open addressing, linear probing, load <= 0.7 */
    size_t tab_cap, tab_used;
    unsigned char *keys; /* arena of all distinct tokens, back to back */
    size_t keys_len, keys_cap;
    uint64_t seed;
};

cfp_err cfp_text_new(struct cfp_text **out)
{
    struct cfp_text *t = cfp_calloc(1, sizeof(*t));

    if (!t)
        return CFP_ERR_NOMEM;
    t->tab = cfp_calloc(TAB_INIT, sizeof(*t->tab));
    if (!t->tab)
        goto out_free_t;
    t->keys = cfp_malloc(KEYS_INIT);
    if (!t->keys)
        goto out_free_tab;
    t->tok = cfp_malloc(TOK_INIT);
    if (!t->tok)
        goto out_free_keys;
    t->tab_cap = TAB_INIT;
    t->keys_cap = KEYS_INIT;
    t->tok_cap = TOK_INIT;
    /* Output never depends on slot order, so a per-object seed costs no
     * determinism and makes crafted collision floods harder. */
    t->seed = (uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15ull;
    *out = t;
    return CFP_ERR_OK;

out_free_keys:
    cfp_free(t->keys);
out_free_tab:
    cfp_free(t->tab);
out_free_t:
    cfp_free(t);
    return CFP_ERR_NOMEM;
}

void cfp_text_free(struct cfp_text **pt)
{
    struct cfp_text *t;

    if (!pt || !*pt)
        return;
    t = *pt;
    cfp_free(t->tok);
    cfp_free(t->keys);
    cfp_free(t->tab);
    cfp_free(t);
    *pt = NULL;
}

/* Hashes 8 bytes per round (tokens are short: usually one or two rounds),
 * then the murmur3 finaliser so every output bit depends on every input
 * bit. */
static uint32_t hash_key(uint64_t seed, const unsigned char *s, size_t n)
{
    uint64_t h = seed ^ (n * 0xC2B2AE3D27D4EB4Full), w;

    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 32;
    }
    if (n) {
        w = 0;
        memcpy(&w, s, n);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    }
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return (uint32_t)h;
}

/* Doubles the slot array and reinserts every word by its stored hash. */
static cfp_err tab_grow(struct cfp_text *t)
{
    size_t cap = t->tab_cap * 2, i, j;
    struct word *nt;

    if (cap > TAB_MAX)
        return CFP_ERR_TOO_BIG;
    nt = cfp_calloc(cap, sizeof(*nt));
    if (!nt)
        return CFP_ERR_NOMEM;
    for (i = 0; i < t->tab_cap; i++) {
        if (!t->tab[i].count)
            continue;
        for (j = t->tab[i].hash & (cap - 1); nt[j].count; j = (j + 1) & (cap - 1))
            ;
        nt[j] = t->tab[i];
    }
    cfp_free(t->tab);
    t->tab = nt;
    t->tab_cap = cap;
    return CFP_ERR_OK;
}

/* Makes room for n more bytes in *buf (capacity *cap, n + *len used after),
 * doubling so appends stay amortised O(1). */
static cfp_err reserve(unsigned char **buf, size_t *cap, size_t len, size_t n)
{
    size_t need, ncap = *cap;
    unsigned char *nb;

    if (n > SIZE_MAX - len)
        return CFP_ERR_TOO_BIG;
    need = len + n;
    if (need <= *cap)
        return CFP_ERR_OK;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return CFP_ERR_TOO_BIG;
        ncap *= 2;
    }
    nb = cfp_realloc(*buf, ncap);
    if (!nb)
        return CFP_ERR_NOMEM;
    *buf = nb;
    *cap = ncap;
    return CFP_ERR_OK;
}

/* Counts one occurrence of token s[0..n), n > 0. Every allocation happens
 * before the table is touched, so a failure leaves it consistent. */
static cfp_err word_add(struct cfp_text *t, const unsigned char *s, size_t n)
{
    uint32_t h = hash_key(t->seed, s, n);
    size_t mask = t->tab_cap - 1, i;
    struct word *w;
    cfp_err err;

    for (i = h & mask; t->tab[i].count; i = (i + 1) & mask) {
        w = &t->tab[i];
        if (w->hash == h && w->len == n && memcmp(t->keys + w->off, s, n) == 0) {
            w->count++;
            return CFP_ERR_OK;
        }
    }
    if (n > UINT32_MAX)
        return CFP_ERR_TOO_BIG;
    err = reserve(&t->keys, &t->keys_cap, t->keys_len, n);
    if (err)
        return err;
    if ((t->tab_used + 1) * 10 > t->tab_cap * 7) {
        err = tab_grow(t);
        if (err)
            return err;
        mask = t->tab_cap - 1;
        for (i = h & mask; t->tab[i].count; i = (i + 1) & mask)
            ;
    }
    memcpy(t->keys + t->keys_len, s, n);
    t->tab[i] = (struct word){.off = t->keys_len, .count = 1, .hash = h, .len = (uint32_t)n};
    t->keys_len += n;
    t->tab_used++;
    return CFP_ERR_OK;
}

/* Ends the current token (without a pending apostrophe) and counts it. */
static cfp_err tok_end(struct cfp_text *t)
{
    t->tok_state = TOK_OUT;
    return t->tok_long ? CFP_ERR_OK : word_add(t, t->tok, t->tok_len);
}

/* Appends the token bytes s[0..n), lowercased, to the current token,
 * first joining a pending apostrophe or starting a new token. */
static cfp_err tok_append(struct cfp_text *t, const unsigned char *s, size_t n)
{
    unsigned char *d;
    size_t i;
    cfp_err err;

    if (t->tok_state == TOK_OUT) {
        t->tok_len = 0;
        t->tok_long = false;
    }
    if (t->tok_long || t->tok_len + n + (t->tok_state == TOK_APOS) > CFP_TEXT_TOKEN_MAX) {
        t->tok_long = true; /* keep scanning it, but keep none of it */
        t->tok_state = TOK_IN;
        return CFP_ERR_OK;
    }
    err = reserve(&t->tok, &t->tok_cap, t->tok_len, n + 1);
    if (err)
        return err;
    if (t->tok_state == TOK_APOS)
        t->tok[t->tok_len++] = '\'';
    t->tok_state = TOK_IN;
    d = t->tok + t->tok_len;
    for (i = 0; i < n; i++)
        d[i] = (unsigned char)(s[i] + ((unsigned)(s[i] - 'A') < 26u ? 32 : 0));
    t->tok_len += n;
    return CFP_ERR_OK;
}

/* Lines, words and tokens of one chunk. */
static cfp_err scan_words(struct cfp_text *t, const unsigned char *p, size_t len)
{
    int64_t lines = 0, words = 0;
    bool in_word = t->in_word;
    cfp_err err = CFP_ERR_OK;
    size_t i = 0, j;

    while (i < len && !err) {
        unsigned char k = cls[p[i]];

        if (k == CLS_WS) {
            lines += p[i] == '\n';
            in_word = false;
            if (t->tok_state != TOK_OUT)
                err = tok_end(t);
            i++;
            continue;
        }
        words += !in_word;
        in_word = true;
        if (k == CLS_TOK) {
            for (j = i + 1; j < len && cls[p[j]] == CLS_TOK; j++)
                ;
            err = tok_append(t, p + i, j - i);
            i = j;
        } else {
            if (p[i] == '\'' && t->tok_state == TOK_IN)
                t->tok_state = TOK_APOS;
            else if (t->tok_state != TOK_OUT)
                err = tok_end(t);
            i++;
        }
    }
    t->s.lines += lines;
    t->s.words += words;
    t->in_word = in_word;
    return err;
}

/* Completes the held incomplete sequence with the start of p. Returns how
 * many bytes of p it used (all of p if the sequence is still incomplete). */
static size_t chars_resume(struct cfp_text *t, const unsigned char *p, size_t len)
{
    unsigned char b[8];
    size_t held = t->u8_len, take = len < 4 ? len : 4, j = 0;
    int r;

    memcpy(b, t->u8, held);
    memcpy(b + held, p, take);
    t->u8_len = 0;
    /* Held bytes are a lead byte and continuation bytes; only the lead can
     * start a sequence, so SHORT is only possible at j == 0 with p used up. */
    while (j < held) {
        r = cfp_utf8_check(b + j, held + take - j);
        if (r == CFP_UTF8_SHORT) {
            memcpy(t->u8, b, held + take);
            t->u8_len = held + take;
            return len;
        }
        t->s.chars++;
        j += r > 0 ? (size_t)r : 1;
    }
    return j - held;
}

/* Characters of one chunk: ASCII 8 bytes at a time, else one sequence (or
 * one invalid byte) per step. */
static void scan_chars(struct cfp_text *t, const unsigned char *p, size_t len)
{
    size_t i = t->u8_len ? chars_resume(t, p, len) : 0;
    int64_t chars = 0;
    uint64_t w;
    int r;

    while (i < len) {
        while (len - i >= 8) {
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
            chars += 8;
        }
        if (i >= len)
            break;
        if (p[i] < 0x80) {
            chars++;
            i++;
            continue;
        }
        r = cfp_utf8_check(p + i, len - i);
        if (r == CFP_UTF8_SHORT) {
            memcpy(t->u8, p + i, len - i);
            t->u8_len = len - i;
            break;
        }
        chars++;
        i += r > 0 ? (size_t)r : 1;
    }
    t->s.chars += chars;
}

cfp_err cfp_text_feed(struct cfp_text *t, const void *data, size_t len)
{
    if (t->err)
        return t->err;
    if (t->finished)
        return CFP_ERR_USAGE;
    if (len == 0) /* data may then be NULL */
        return CFP_ERR_OK;
    if ((uint64_t)len > (uint64_t)(INT64_MAX - t->s.bytes))
        return t->err = CFP_ERR_TOO_BIG;
    t->s.bytes += (int64_t)len;
    scan_chars(t, data, len);
    t->err = scan_words(t, data, len);
    return t->err;
}

/* True if word a ranks before word b: higher count, then smaller bytes. */
static bool word_before(const struct cfp_text *t, const struct word *a, const struct word *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c;

    if (a->count != b->count)
        return a->count > b->count;
    c = memcmp(t->keys + a->off, t->keys + b->off, n);
    return c < 0 || (c == 0 && a->len < b->len);
}

/* Fills top[0..*ntop) with the best CFP_TEXT_TOP words, best first, by
 * insertion into a short sorted array (one pass over the table). */
static void top_select(const struct cfp_text *t, const struct word **top, size_t *ntop)
{
    size_t n = 0, i, j;

    for (i = 0; i < t->tab_cap; i++) {
        const struct word *w = &t->tab[i];

        if (!w->count || (n == CFP_TEXT_TOP && !word_before(t, w, top[n - 1])))
            continue;
        j = n < CFP_TEXT_TOP ? n++ : n - 1;
        for (; j > 0 && word_before(t, w, top[j - 1]); j--)
            top[j] = top[j - 1];
        top[j] = w;
    }
    *ntop = n;
}

static cfp_err write_doc(const struct cfp_text *t, cfp_write_fn wr, void *ctx)
{
    const struct word *top[CFP_TEXT_TOP];
    char b[160];
    size_t ntop, i;
    cfp_err err = CFP_ERR_OK;
    int n;

    n = snprintf(b, sizeof(b),
                 "{\"lines\": %" PRId64 ", \"words\": %" PRId64 ", \"chars\": %" PRId64
                 ", \"bytes\": %" PRId64 ", \"top_words\": [",
                 t->s.lines, t->s.words, t->s.chars, t->s.bytes);
    if (n < 0 || (size_t)n >= sizeof(b))
        return CFP_ERR_INTERNAL;
    err = wr(ctx, b, (size_t)n);
    top_select(t, top, &ntop);
    for (i = 0; i < ntop && !err; i++) {
        err = wr(ctx, i ? ", [" : "[", i ? 3 : 1);
        if (!err)
            err = cfp_json_write_string(wr, ctx, t->keys + top[i]->off, top[i]->len);
        n = snprintf(b, sizeof(b), ", %" PRId64 "]", top[i]->count);
        if (!err && (n < 0 || (size_t)n >= sizeof(b)))
            err = CFP_ERR_INTERNAL;
        if (!err)
            err = wr(ctx, b, (size_t)n);
    }
    if (!err)
        err = wr(ctx, "]}\n", 3);
    return err;
}

cfp_err cfp_text_finish(struct cfp_text *t, cfp_write_fn wr, void *ctx,
                        struct cfp_text_stats *stats, struct cfp_status *st)
{
    cfp_err err;

    if (t->finished)
        return cfp_status_set(st, CFP_ERR_USAGE, "text: finished twice");
    t->finished = true;
    if (t->err)
        return cfp_status_set(st, t->err, "text: word table: %s", cfp_strerror(t->err));
    if (t->tok_state != TOK_OUT) {
        err = tok_end(t);
        if (err)
            return cfp_status_set(st, err, "text: word table: %s", cfp_strerror(err));
    }
    /* Bytes of a sequence cut off by the end of input are invalid: one
     * character each, as Python's surrogateescape decoding counts them. */
    t->s.chars += (int64_t)t->u8_len;
    t->u8_len = 0;
    err = write_doc(t, wr, ctx);
    if (err)
        return cfp_status_set(st, err, "text: writing output: %s", cfp_strerror(err));
    if (stats)
        *stats = t->s;
    return CFP_ERR_OK;
}
