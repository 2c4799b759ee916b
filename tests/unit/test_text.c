/* test_text.c - the text processor and the JSON/UTF-8 helpers.
 *
 * Modes:
 *   test_text                      run the unit tests
 *   test_text file IN OUT [IN OUT ...]
 *                                  process each IN (fed in 4093-byte chunks)
 *                                  and write its JSON to OUT; used by
 *                                  textcsv_ref.py (the Python differential)
 *   test_text bench FILE           print throughput on FILE
 *
 * Expected results in the tables are computed by hand from the rules in
 * doc/text-csv.md, never copied from the program's output. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc/cfp_json.h"
#include "base/cfp_mem.h"
#include "cfp_test.h"
#include "proc/cfp_text.h"

#define S(lit) lit, sizeof(lit) - 1
#define F      "\xef\xbf\xbd" /* U+FFFD as written for one invalid byte */

/* struct sink, sink_write() and rnd() come from cfp_test.h. */

struct result {
    cfp_err err;
    struct cfp_text_stats s;
    struct sink out;
    char msg[CFP_MSG_MAX];
};

/* Feeds in[0..len) in the chunks plan[0..nplan) (the rest as a last chunk)
 * and finishes. */
static void run_plan(const char *in, size_t len, const size_t *plan, size_t nplan, struct result *r)
{
    struct cfp_text *t = NULL;
    struct cfp_status st;
    size_t off = 0, k, n;

    memset(r, 0, sizeof(*r));
    cfp_status_clear(&st);
    r->err = cfp_text_new(&t);
    for (k = 0; !r->err && k <= nplan; k++) {
        n = k < nplan ? plan[k] : len - off;
        if (n > len - off)
            n = len - off;
        r->err = cfp_text_feed(t, in + off, n);
        off += n;
    }
    if (!r->err)
        r->err = cfp_text_finish(t, sink_write, &r->out, &r->s, &st);
    memcpy(r->msg, st.msg, sizeof(r->msg));
    cfp_text_free(&t);
    ASSERT(t == NULL);
}

static void result_free(struct result *r)
{
    free(r->out.p);
    r->out.p = NULL;
}

static void assert_same(const struct result *a, const struct result *b, const char *what,
                        size_t idx)
{
    if (a->err != b->err || a->s.lines != b->s.lines || a->s.words != b->s.words ||
        a->s.chars != b->s.chars || a->s.bytes != b->s.bytes || a->out.n != b->out.n ||
        (a->out.n && memcmp(a->out.p, b->out.p, a->out.n) != 0))
        CFP_FAILF("chunked feed (%s %zu) differs:\n%s\nvs whole:\n%s", what, idx,
                  a->out.p ? a->out.p : "(none)", b->out.p ? b->out.p : "(none)");
}

/* Every split point, one-byte chunks, and random plans (with empty feeds)
 * must all give the whole-buffer result. */
static void check_chunking(const char *in, size_t len, const struct result *whole)
{
    size_t plan[4096], k, i, np;
    struct result r;

    for (k = 0; k <= len; k++) {
        plan[0] = k;
        run_plan(in, len, plan, 1, &r);
        assert_same(&r, whole, "split", k);
        result_free(&r);
    }
    for (k = 0; k < 12; k++) {
        size_t maxc = k == 0 ? 1 : 1 + rnd() % (k < 6 ? 4 : 64);

        for (i = np = 0; i < len && np < 4096; np++) {
            plan[np] = rnd() % (maxc + 1); /* 0 too: empty feeds are legal */
            i += plan[np];
        }
        run_plan(in, len, plan, np, &r);
        assert_same(&r, whole, "plan", k);
        result_free(&r);
    }
}

struct text_case {
    const char *in;
    size_t len;
    int64_t lines, words, chars, bytes;
    const char *top; /* expected top_words JSON */
};

static const struct text_case text_cases[] = {
    {S(""), 0, 0, 0, 0, "[]"},
    {S("  \n\t "), 1, 0, 5, 5, "[]"},
    {S("don't stop\n"), 1, 2, 11, 11, "[[\"don't\", 1], [\"stop\", 1]]"},
    /* Apostrophes join only between token bytes. */
    {S("rock'n'roll a''b 'tis end'"), 0, 4, 26, 26,
     "[[\"a\", 1], [\"b\", 1], [\"end\", 1], [\"rock'n'roll\", 1], [\"tis\", 1]]"},
    {S("' '' x' 'y x''"), 0, 5, 14, 14, "[[\"x\", 2], [\"y\", 1]]"},
    /* ASCII case folding; punctuation separates tokens but not words. */
    {S("The the THE tHe cat CAT Dog."), 0, 7, 28, 28, "[[\"the\", 4], [\"cat\", 2], [\"dog\", 1]]"},
    {S("e-mail, x.y_z"), 0, 2, 13, 13,
     "[[\"e\", 1], [\"mail\", 1], [\"x\", 1], [\"y\", 1], [\"z\", 1]]"},
    /* Multibyte: only ASCII is lowercased (E-acute stays). */
    {S("Caf\xc3\xa9 caf\xc3\xa9 CAF\xc3\x89 na\xc3\xafve"), 0, 4, 20, 24,
     "[[\"caf\xc3\xa9\", 2], [\"caf\xc3\x89\", 1], [\"na\xc3\xafve\", 1]]"},
    /* U+2019 is made of token bytes: one token, sorted after the ASCII '. */
    {S("don\xe2\x80\x99t DON'T"), 0, 2, 11, 13, "[[\"don't\", 1], [\"don\xe2\x80\x99t\", 1]]"},
    {S("\xf0\x9f\x98\x80 x"), 0, 2, 3, 6, "[[\"x\", 1], [\"\xf0\x9f\x98\x80\", 1]]"},
    /* Invalid bytes are token bytes, one char each, U+FFFD each in JSON. */
    {S("a\xff"
       "b \xff \xe2\x82"),
     0, 3, 8, 8, "[[\"a" F "b\", 1], [\"" F F "\", 1], [\"" F "\", 1]]"},
    /* Overlong, surrogate, above U+10FFFF, truncated at end of input. */
    {S("\xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82"), 0, 4, 14, 14,
     "[[\"" F F "\", 1], [\"" F F "\", 1], [\"" F F F "\", 1], [\"" F F F F "\", 1]]"},
    {S("\xe2\x82\xac\xe2\x82"), 0, 1, 3, 5, "[[\"\xe2\x82\xac" F F "\", 1]]"},
    /* Ties: byte-wise ascending; only ten listed. */
    {S("k j i h g f e d c b a l a"), 0, 13, 25, 25,
     "[[\"a\", 2], [\"b\", 1], [\"c\", 1], [\"d\", 1], [\"e\", 1], [\"f\", 1], [\"g\", 1], "
     "[\"h\", 1], [\"i\", 1], [\"j\", 1]]"},
    {S("b 10 9 B Z z 2"), 0, 7, 14, 14,
     "[[\"b\", 2], [\"z\", 2], [\"10\", 1], [\"2\", 1], [\"9\", 1]]"},
    /* All six whitespace bytes; NUL is not whitespace. */
    {S("a\tb\vc\fd\re\n\nf"), 2, 6, 12, 12,
     "[[\"a\", 1], [\"b\", 1], [\"c\", 1], [\"d\", 1], [\"e\", 1], [\"f\", 1]]"},
    {S("a\0b\0\0"), 0, 1, 5, 5, "[[\"a\", 1], [\"b\", 1]]"},
    {S("one\r\ntwo\r\n"), 2, 2, 10, 10, "[[\"one\", 1], [\"two\", 1]]"},
};

static void test_cases(void)
{
    size_t i;
    char want[1024];
    struct result r;

    for (i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
        const struct text_case *c = &text_cases[i];

        snprintf(want, sizeof(want),
                 "{\"lines\": %jd, \"words\": %jd, \"chars\": %jd, \"bytes\": %jd, "
                 "\"top_words\": %s}\n",
                 (intmax_t)c->lines, (intmax_t)c->words, (intmax_t)c->chars, (intmax_t)c->bytes,
                 c->top);
        run_plan(c->in, c->len, NULL, 0, &r);
        ASSERT_EQ(r.err, CFP_ERR_OK);
        if (r.s.lines != c->lines || r.s.words != c->words || r.s.chars != c->chars ||
            r.s.bytes != c->bytes || strcmp(r.out.p, want) != 0)
            CFP_FAILF("text case %zu: got\n%s(stats %jd %jd %jd %jd)\nwant\n%s", i, r.out.p,
                      (intmax_t)r.s.lines, (intmax_t)r.s.words, (intmax_t)r.s.chars,
                      (intmax_t)r.s.bytes, want);
        check_chunking(c->in, c->len, &r);
        result_free(&r);
    }
}

/* A pseudo-random mixture of everything the scanners care about. */
static char *gen_text(size_t len)
{
    static const char *const parts[] = {"the",
                                        "The",
                                        "AND",
                                        "don't",
                                        "rock'n'roll",
                                        "'",
                                        "''",
                                        " ",
                                        "  ",
                                        "\n",
                                        "\r\n",
                                        "\r",
                                        "\t",
                                        "\0",
                                        ".",
                                        ",",
                                        "caf\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80",
                                        "\xff",
                                        "\xe2\x82",
                                        "\xc0",
                                        "\xed\xa0\x80",
                                        "x1",
                                        "42",
                                        "\xf4\x8f\xbf\xbf",
                                        "\xf4\x90"};
    char *b = malloc(len);
    size_t n = 0, k, pl;

    ASSERT(b != NULL);
    while (n < len) {
        k = rnd() % (sizeof(parts) / sizeof(parts[0]));
        pl = k == 13 ? 1 : strlen(parts[k]);
        if (pl > len - n)
            pl = len - n;
        memcpy(b + n, parts[k], pl);
        n += pl;
    }
    return b;
}

static void test_generated_chunking(void)
{
    size_t len = 20000, plan[20000], k, i, np;
    char *in = gen_text(len);
    struct result whole, r;

    run_plan(in, len, NULL, 0, &whole);
    ASSERT_EQ(whole.err, CFP_ERR_OK);
    ASSERT_EQ(whole.s.bytes, len);
    for (k = 0; k < 40; k++) {
        size_t maxc = k < 10 ? 1 + k : 1 + rnd() % 5000;

        for (i = np = 0; i < len; np++) {
            plan[np] = 1 + rnd() % maxc;
            i += plan[np];
        }
        run_plan(in, len, plan, np, &r);
        assert_same(&r, &whole, "generated plan", k);
        result_free(&r);
    }
    result_free(&whole);
    free(in);
}

/* Reference decoder by code-point arithmetic, independent of the
 * range-table implementation: decode by the bit pattern, then reject
 * overlongs, surrogates and values above U+10FFFF. */
static int ref_utf8(const unsigned char *s, size_t n)
{
    size_t len, i;
    uint32_t cp;

    if (n == 0)
        return CFP_UTF8_SHORT;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    for (i = 1; i < len && i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (i < len) {
        /* Incomplete: SHORT only if some completion is valid, i.e. the
         * smallest and largest completions bracket a valid code point. */
        uint32_t lo = cp << 6 * (len - i), hi = lo | ((1u << 6 * (len - i)) - 1);
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};

        if (hi < min_cp[len] || lo > 0x10FFFF || (lo >= 0xD800 && hi <= 0xDFFF))
            return 0;
        return CFP_UTF8_SHORT;
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return (int)len;
}

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t n;
        int want;
    } t[] = {
        {S("A"), 1},
        {S("\x7f"), 1},
        {S("\xc2\x80"), 2},
        {S("\xdf\xbf"), 2},
        {S("\xc0\x80"), 0},
        {S("\xc1\xbf"), 0},
        {S("\xe0\xa0\x80"), 3},
        {S("\xe0\x9f\xbf"), 0},
        {S("\xed\x9f\xbf"), 3},
        {S("\xed\xa0\x80"), 0},
        {S("\xef\xbf\xbf"), 3},
        {S("\xf0\x90\x80\x80"), 4},
        {S("\xf0\x8f\xbf\xbf"), 0},
        {S("\xf4\x8f\xbf\xbf"), 4},
        {S("\xf4\x90\x80\x80"), 0},
        {S("\xf5\x80\x80\x80"), 0},
        {S("\xff"), 0},
        {S("\x80"), 0},
        {S("\xc2"), -1},
        {S("\xe0\xa0"), -1},
        {S("\xe0\x80"), 0},
        {S("\xf0\x90\x80"), -1},
        {S("\xc2\x41"), 0},
        {S(""), -1},
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int got = cfp_utf8_check((const unsigned char *)t[i].s, t[i].n);

        if (got != t[i].want)
            CFP_FAILF("utf8 case %zu: got %d want %d", i, got, t[i].want);
        ASSERT_EQ(cfp_utf8_seq_len((const unsigned char *)t[i].s, t[i].n),
                  t[i].want > 0 ? t[i].want : 0);
    }
}

/* Exhaustive over all 1-, 2- and 3-byte inputs; 4-byte over every lead and
 * second byte with boundary third/fourth bytes. */
static void test_utf8_exhaustive(void)
{
    unsigned char b[4];
    size_t i;
    uint32_t v;

    for (v = 0; v < (1u << 24); v++) {
        b[0] = (unsigned char)(v >> 16), b[1] = (unsigned char)(v >> 8), b[2] = (unsigned char)v;
        for (i = 1; i <= 3; i++)
            if (cfp_utf8_check(b, i) != ref_utf8(b, i))
                CFP_FAILF("utf8 %02x %02x %02x (n=%zu): %d vs ref %d", b[0], b[1], b[2], i,
                          cfp_utf8_check(b, i), ref_utf8(b, i));
    }
    for (v = 0; v < (1u << 16) * 16; v++) {
        static const unsigned char edge[4] = {0x7F, 0x80, 0xBF, 0xC0};

        b[0] = (unsigned char)(v >> 12 & 0xFF), b[1] = (unsigned char)(v >> 4 & 0xFF);
        b[2] = edge[v >> 2 & 3], b[3] = edge[v & 3];
        if (cfp_utf8_check(b, 4) != ref_utf8(b, 4))
            CFP_FAILF("utf8 %02x %02x %02x %02x: %d vs ref %d", b[0], b[1], b[2], b[3],
                      cfp_utf8_check(b, 4), ref_utf8(b, 4));
    }
}

static void test_json_string(void)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } t[] = {
        {S(""), "\"\""},
        {S("a\"b\\c/"), "\"a\\\"b\\\\c/\""},
        {S("\b\f\n\r\t\x01\x1f\x7f"), "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\""},
        {S("\0"), "\"\\u0000\""},
        {S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {S("\xff"), "\"" F "\""},
        {S("\xe2\x82"), "\"" F F "\""},
        {S("a\xc3"), "\"a" F "\""},
        {S("\xed\xa0\x80x"), "\"" F F F "x\""},
    };
    struct sink s;
    char *big, *want;
    size_t i, n;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(&s, 0, sizeof(s));
        ASSERT_EQ(cfp_json_write_string(sink_write, &s, (const unsigned char *)t[i].in, t[i].n),
                  CFP_ERR_OK);
        ASSERT_STREQ(s.p, t[i].want);
        free(s.p);
    }
    /* Long plain runs and many escapes cross the staging buffer's edge. */
    big = malloc(3000);
    want = malloc(6 * 3000 + 3);
    ASSERT(big && want);
    want[0] = '"';
    for (i = 0, n = 1; i < 3000; i++) {
        big[i] = i % 700 < 600 ? 'x' : '\x01';
        memcpy(want + n, big[i] == 'x' ? "x" : "\\u0001", big[i] == 'x' ? 1 : 6);
        n += big[i] == 'x' ? 1 : 6;
    }
    memcpy(want + n, "\"", 2);
    memset(&s, 0, sizeof(s));
    ASSERT_EQ(cfp_json_write_string(sink_write, &s, (const unsigned char *)big, 3000), CFP_ERR_OK);
    ASSERT_STREQ(s.p, want);
    free(s.p);
    /* A failing sink's error comes back unchanged. */
    memset(&s, 0, sizeof(s));
    s.fail_at = 2;
    ASSERT_EQ(cfp_json_write_string(sink_write, &s, (const unsigned char *)big, 3000), CFP_ERR_IO);
    free(s.p);
    free(big);
    free(want);
}

/* Every allocation, failed in turn, gives CFP_ERR_NOMEM and leaks nothing
 * (ASan/valgrind check the leaks); past the last one the result is right. */
static void test_nomem(void)
{
    size_t len = 60000, plan[64], np = 0, i;
    char *in = gen_text(len);
    struct result whole, r;
    long n;
    int failures = 0;

    /* Many distinct tokens and a long one: every growth path is taken. */
    for (i = 0; i + 12 < 40000; i += 12)
        snprintf(in + i, 13, "w%09zu ", i);
    memset(in + 40000, 'q', 300);
    for (i = 0; i < len; i += 1000)
        plan[np++] = 1000;
    run_plan(in, len, plan, np, &whole);
    ASSERT_EQ(whole.err, CFP_ERR_OK);
    for (n = 1; n < 100000; n++) {
        cfp_mem_fail_after(n);
        run_plan(in, len, plan, np, &r);
        cfp_mem_fail_after(0);
        if (r.err == CFP_ERR_OK) {
            assert_same(&r, &whole, "nomem", (size_t)n);
            result_free(&r);
            break;
        }
        ASSERT_EQ(r.err, CFP_ERR_NOMEM);
        ASSERT(r.out.n == 0);
        result_free(&r);
        failures++;
    }
    if (failures < 8)
        CFP_FAILF("only %d allocation points were exercised", failures);
    printf("test_text: %d injected allocation failures all gave CFP_ERR_NOMEM\n", failures);
    result_free(&whole);
    free(in);
}

static void test_api_errors(void)
{
    struct cfp_text *t = NULL;
    struct cfp_text_stats s = {-7, -7, -7, -7};
    struct cfp_status st;
    struct sink out;
    int k;

    /* A failing writer: the error is returned, stats stay untouched. */
    for (k = 1; k <= 3; k++) {
        memset(&out, 0, sizeof(out));
        out.fail_at = k;
        cfp_status_clear(&st);
        ASSERT_EQ(cfp_text_new(&t), CFP_ERR_OK);
        ASSERT_EQ(cfp_text_feed(t, "a b a", 5), CFP_ERR_OK);
        ASSERT_EQ(cfp_text_finish(t, sink_write, &out, &s, &st), CFP_ERR_IO);
        ASSERT_CONTAINS(st.msg, "writing output");
        ASSERT_EQ(s.lines, -7);
        /* Used up: neither feeding nor finishing again is allowed. */
        ASSERT_EQ(cfp_text_feed(t, "x", 1), CFP_ERR_USAGE);
        ASSERT_EQ(cfp_text_finish(t, sink_write, &out, &s, NULL), CFP_ERR_USAGE);
        cfp_text_free(&t);
        free(out.p);
    }
    cfp_text_free(&t); /* NULL-safe */
    cfp_text_free(NULL);
}

static int file_mode(int argc, char **argv)
{
    static char chunk[4093];
    int i, rc = 0;

    for (i = 2; i + 1 < argc; i += 2) {
        FILE *in = fopen(argv[i], "rb"), *out = fopen(argv[i + 1], "wb");
        struct cfp_text *t = NULL;
        struct result r;
        size_t n;

        if (!in || !out)
            CFP_FAILF("cannot open %s or %s", argv[i], argv[i + 1]);
        memset(&r, 0, sizeof(r));
        r.err = cfp_text_new(&t);
        while (!r.err && (n = fread(chunk, 1, sizeof(chunk), in)) > 0)
            r.err = cfp_text_feed(t, chunk, n);
        if (!r.err)
            r.err = cfp_text_finish(t, sink_write, &r.out, &r.s, NULL);
        if (r.err) {
            fprintf(stderr, "%s: %s\n", argv[i], cfp_strerror(r.err));
            rc = 1;
        } else if (fwrite(r.out.p, 1, r.out.n, out) != r.out.n) {
            rc = 1;
        }
        cfp_text_free(&t);
        result_free(&r);
        fclose(in);
        if (fclose(out) != 0)
            rc = 1;
    }
    return rc;
}

static int bench_mode(const char *path)
{
    struct result r;
    size_t len;
    char *buf = slurp(path, &len);
    double secs = mono_seconds();

    run_plan(buf, len, NULL, 0, &r);
    secs = mono_seconds() - secs;
    printf("%zu bytes in %.3f s: %.1f MB/s\n%s", len, secs, (double)len / secs / 1e6, r.out.p);
    result_free(&r);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "file") == 0)
        return file_mode(argc, argv);
    if (argc == 3 && strcmp(argv[1], "bench") == 0)
        return bench_mode(argv[2]);
    test_utf8();
    test_utf8_exhaustive();
    test_json_string();
    test_cases();
    test_generated_chunking();
    test_api_errors();
    test_nomem();
    puts("test_text: all passed");
    return 0;
}
