/* cfp_gen_text.c - English-like UTF-8 text: Zipf-distributed words in
 * sentences and paragraphs, with punctuation, quotes, contractions, numbers,
 * headings and some non-ASCII words. */
#include <stdbool.h>
#include <string.h>

#include "lab/cfp_gen_internal.h"
#include "base/cfp_mem.h"

#define TOKEN_MAX 128
/* Sizes are log-uniform from 4 KiB to 3 MiB: 2^(9728/1024) * 4 KiB ~ 3 MiB
 * with cfp_gen_log_spread's linear-within-an-octave approximation. */
#define TEXT_MIN_BYTES 4096
#define TEXT_SPAN_Q10  9728

struct text_gen {
    FILE *f;
    struct cfp_rng r;
    const struct cfp_gen_vocab *v;
    uint64_t written;
    unsigned col;        /* bytes on the current line */
    unsigned wrap;       /* wrap lines longer than this; 0: one line per paragraph */
    unsigned quote_left; /* words until an open quote closes; 0: none open */
    bool curly;          /* the open quote is “ (closes with ”) rather than " */
};

/* A small append-only buffer for building one token. */
struct tok {
    char s[TOKEN_MAX];
    size_t n;
};

static void tok_add(struct tok *t, const char *s, size_t len)
{
    /* Pieces are bounded (words <= 24 bytes, numbers, punctuation). */
    cfp_gen_append(t->s, sizeof(t->s), &t->n, s, len);
}

static void tok_adds(struct tok *t, const char *s)
{
    tok_add(t, s, strlen(s));
}

static void put(struct text_gen *g, const char *s, size_t len)
{
    cfp_gen_put(g->f, s, len);
    g->written += len;
}

static void newline(struct text_gen *g)
{
    put(g, "\n", 1);
    g->col = 0;
}

/* Writes a token, preceded by a space or, when it would pass the wrap
 * column, a line break. */
static void emit(struct text_gen *g, const struct tok *t)
{
    if (g->col > 0) {
        if (g->wrap && g->col + 1 + t->n > g->wrap)
            newline(g);
        else
            put(g, " ", 1);
    }
    put(g, t->s, t->n);
    g->col += (unsigned)t->n;
}

static void add_number(struct text_gen *g, struct tok *t)
{
    char buf[32];
    int n, a, b;

    switch (cfp_rng_below(&g->r, 4)) {
    case 0:
        n = snprintf(buf, sizeof(buf), "%d", (int)cfp_rng_range(&g->r, 1900, 2030));
        break;
    case 1:
        /* One draw per statement: argument evaluation order is unspecified. */
        a = (int)cfp_rng_below(&g->r, 100);
        b = (int)cfp_rng_below(&g->r, 100);
        n = snprintf(buf, sizeof(buf), "%d.%02d", a, b);
        break;
    case 2:
        n = snprintf(buf, sizeof(buf), "%d%%", (int)cfp_rng_below(&g->r, 101));
        break;
    default:
        n = snprintf(buf, sizeof(buf), "%d", (int)cfp_rng_range(&g->r, 2, 12000));
        break;
    }
    if (n > 0)
        tok_add(t, buf, (size_t)n);
}

/* The word itself: usually from the vocabulary, sometimes a number, a
 * non-ASCII word, a hyphenated compound or a possessive. */
static void add_word(struct text_gen *g, struct tok *t, bool capital)
{
    size_t start = t->n, len;
    const char *w;

    if (cfp_rng_chance(&g->r, 1, 70)) {
        tok_adds(t, cfp_gen_multibyte_word(&g->r));
        return;
    }
    if (cfp_rng_chance(&g->r, 1, 60)) {
        add_number(g, t);
        return;
    }
    w = cfp_gen_vocab_pick(g->v, &g->r, &len);
    tok_add(t, w, len);
    if (cfp_rng_chance(&g->r, 1, 80)) {
        tok_add(t, "-", 1);
        w = cfp_gen_vocab_pick(g->v, &g->r, &len);
        tok_add(t, w, len);
    } else if (len >= 5 && !memchr(w, '\'', len) && cfp_rng_chance(&g->r, 1, 40)) {
        tok_add(t, "'s", 2);
    }
    /* "i", "i'm": the pronoun is always upper case; some words are names. */
    if (capital || (t->s[start] == 'i' && (t->n == start + 1 || t->s[start + 1] == '\'')) ||
        cfp_rng_chance(&g->r, 1, 40))
        t->s[start] = (char)(t->s[start] - 'a' + 'A');
}

static const char *end_mark(struct cfp_rng *r)
{
    uint64_t u = cfp_rng_below(r, 100);

    return u < 80 ? "." : u < 89 ? "?" : u < 95 ? "!" : u < 98 ? "..." : "…";
}

/* Punctuation after word i of n, plus opening and closing quotes. */
static void add_punct(struct text_gen *g, struct tok *t, unsigned i, unsigned n)
{
    if (i + 1 == n) {
        tok_adds(t, end_mark(&g->r));
    } else if (cfp_rng_chance(&g->r, 1, 9)) {
        tok_add(t, ",", 1);
    } else if (cfp_rng_chance(&g->r, 1, 90)) {
        tok_add(t, cfp_rng_chance(&g->r, 1, 2) ? ";" : ":", 1);
    }
    if (g->quote_left && (--g->quote_left == 0 || i + 1 == n)) {
        tok_adds(t, g->curly ? "”" : "\"");
        g->quote_left = 0;
    }
}

static void sentence(struct text_gen *g)
{
    unsigned n = (unsigned)(cfp_rng_chance(&g->r, 1, 10) ? cfp_rng_range(&g->r, 20, 45)
                                                         : cfp_rng_range(&g->r, 3, 22));

    for (unsigned i = 0; i < n; i++) {
        struct tok t = {.n = 0};

        if (!g->quote_left && i + 1 < n && cfp_rng_chance(&g->r, 1, 50)) {
            g->curly = cfp_rng_chance(&g->r, 1, 3);
            g->quote_left = (unsigned)cfp_rng_range(&g->r, 1, 6);
            tok_adds(&t, g->curly ? "“" : "\"");
        }
        add_word(g, &t, i == 0);
        add_punct(g, &t, i, n);
        emit(g, &t);
    }
}

/* A heading line ("Chapter 12" or a few capitalised words), then a blank. */
static void heading(struct text_gen *g, unsigned *chapter)
{
    struct tok t = {.n = 0};
    unsigned words = (unsigned)cfp_rng_range(&g->r, 2, 5);

    if (cfp_rng_chance(&g->r, 1, 2)) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "Chapter %u", ++*chapter);
        if (n > 0)
            tok_add(&t, buf, (size_t)n);
        emit(g, &t);
    } else {
        for (unsigned i = 0; i < words; i++) {
            t.n = 0;
            add_word(g, &t, true);
            emit(g, &t);
        }
    }
    newline(g);
    newline(g);
}

static void paragraph(struct text_gen *g)
{
    unsigned n = (unsigned)cfp_rng_range(&g->r, 1, 8);

    for (unsigned i = 0; i < n; i++)
        sentence(g);
    newline(g);
    /* Unwrapped files put one paragraph per line, mostly without blank
     * lines between them, as many plain-text exports do. */
    if (g->wrap || cfp_rng_chance(&g->r, 1, 4))
        newline(g);
}

cfp_err cfp_gen_text_file(FILE *f, uint64_t seed, unsigned index, enum cfp_gen_profile profile,
                          struct cfp_status *st)
{
    struct cfp_gen_vocab *v = NULL;
    struct text_gen g = {.f = f};
    uint64_t target;
    unsigned chapter = 0;

    if (cfp_gen_vocab_new(&v))
        return cfp_status_set(st, CFP_ERR_NOMEM, "text vocabulary: out of memory");
    g.v = v;
    cfp_rng_seed_stream(&g.r, seed, CFP_GEN_STREAM_TEXT, index);
    if (profile == CFP_GEN_SMALL) /* 1 KiB .. 16 KiB */
        target = cfp_gen_log_spread(&g.r, cfp_gen_stratum(index), 1024, 4 * 1024);
    else
        target = cfp_gen_log_spread(&g.r, cfp_gen_stratum(index), TEXT_MIN_BYTES, TEXT_SPAN_Q10);
    g.wrap = cfp_rng_chance(&g.r, 2, 3) ? (unsigned)cfp_rng_range(&g.r, 60, 90) : 0;
    heading(&g, &chapter);
    while (g.written < target && !ferror(f)) {
        if (cfp_rng_chance(&g.r, 1, 25))
            heading(&g, &chapter);
        paragraph(&g);
    }
    cfp_gen_vocab_free(&v);
    return CFP_ERR_OK;
}
