/* test_csv.c - the CSV to JSON converter.
 *
 * Modes:
 *   test_csv                       run the unit tests
 *   test_csv file IN OUT [IN OUT ...]
 *                                  convert each IN (fed in 4093-byte chunks)
 *                                  into OUT and print one line per file to
 *                                  stdout: "ok ROWS COLS" or "error NAME MSG";
 *                                  used by textcsv_ref.py
 *   test_csv bench FILE...         print throughput on the files (fed in
 *                                  128 KiB chunks to a counting sink)
 *
 * Expected outputs in the tables are written by hand from the rules in
 * doc/text-csv.md, never copied from the program's output. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc/cfp_csv.h"
#include "base/cfp_mem.h"
#include "cfp_test.h"

#define S(lit) lit, sizeof(lit) - 1

/* struct sink, sink_write() and rnd() come from cfp_test.h. */

struct result {
    cfp_err err;
    int64_t rows, cols;
    struct sink out;
    char msg[CFP_MSG_MAX];
};

/* Feeds in[0..len) in the chunks plan[0..nplan) (the rest as one last
 * chunk), then finishes. The input is fed from an exact-size heap copy, so
 * that ASan and valgrind see any read past its end. */
static void run_plan(const char *in0, size_t len, size_t max_record, const size_t *plan,
                     size_t nplan, struct result *r)
{
    struct cfp_csv *c = NULL;
    struct cfp_status st;
    size_t off = 0, k, n;
    char *in = malloc(len ? len : 1);

    ASSERT(in != NULL);
    memcpy(in, in0, len);
    memset(r, 0, sizeof(*r));
    r->rows = r->cols = -7;
    cfp_status_clear(&st);
    r->err = cfp_csv_new(sink_write, &r->out, max_record, &c);
    for (k = 0; !r->err && k <= nplan; k++) {
        n = k < nplan ? plan[k] : len - off;
        if (n > len - off)
            n = len - off;
        r->err = cfp_csv_feed(c, in + off, n, &st);
        off += n;
    }
    if (!r->err)
        r->err = cfp_csv_finish(c, &r->rows, &r->cols, &st);
    if (r->err)
        ASSERT(r->rows == -7 && r->cols == -7); /* outputs untouched on failure */
    memcpy(r->msg, st.msg, sizeof(r->msg));
    cfp_csv_free(&c);
    ASSERT(c == NULL);
    free(in);
}

static void result_free(struct result *r)
{
    free(r->out.p);
    r->out.p = NULL;
}

/* Same outcome: code, message, counts, and (on success) output bytes. */
static void assert_same(const struct result *a, const struct result *b, const char *what,
                        size_t idx)
{
    bool out_differs = a->out.n != b->out.n || (a->out.n && memcmp(a->out.p, b->out.p, a->out.n));

    if (a->err != b->err || strcmp(a->msg, b->msg) != 0 || a->rows != b->rows ||
        a->cols != b->cols || (!a->err && out_differs))
        CFP_FAILF("chunked feed (%s %zu) differs: %s [%s]\n%s\nvs whole: %s [%s]\n%s", what, idx,
                  cfp_errname(a->err), a->msg, a->out.p ? a->out.p : "", cfp_errname(b->err),
                  b->msg, b->out.p ? b->out.p : "");
}

static void check_chunking(const char *in, size_t len, size_t max_record,
                           const struct result *whole)
{
    size_t plan[4096], k, i, np;
    struct result r;

    for (k = 0; k <= len; k++) {
        plan[0] = k;
        run_plan(in, len, max_record, plan, 1, &r);
        assert_same(&r, whole, "split", k);
        result_free(&r);
    }
    for (k = 0; k < 12; k++) {
        size_t maxc = k == 0 ? 1 : 1 + rnd() % (k < 6 ? 4 : 64);

        for (i = np = 0; i < len && np < 4096; np++) {
            plan[np] = rnd() % (maxc + 1); /* 0 too: empty feeds are legal */
            i += plan[np];
        }
        run_plan(in, len, max_record, plan, np, &r);
        assert_same(&r, whole, "plan", k);
        result_free(&r);
    }
}

/* The case again with 16 empty lines appended, which changes nothing (they
 * end a last record as finishing would, or are content of an unclosed
 * quote, which fails the same way) but gives the fast path, which needs 16
 * bytes after a record's end, every record of the case. */
static void check_padded(const char *in, size_t len, size_t max_record, const struct result *want,
                         size_t idx)
{
    char *padded = malloc(len + 16);
    struct result r;

    ASSERT(padded != NULL);
    memcpy(padded, in, len);
    memset(padded + len, '\n', 16);
    run_plan(padded, len + 16, max_record, NULL, 0, &r);
    assert_same(&r, want, "padded", idx);
    result_free(&r);
    free(padded);
}

struct csv_case {
    const char *in;
    size_t len;
    size_t max_record; /* 0: default */
    cfp_err err;
    const char *want; /* the output if err is OK, else the message */
    int64_t rows, cols;
};

static const struct csv_case csv_cases[] = {
    {S(""), 0, CFP_ERR_OK, "[]\n", 0, 0},
    {S("a,b\n"), 0, CFP_ERR_OK, "[]\n", 0, 2},
    {S("a,b"), 0, CFP_ERR_OK, "[]\n", 0, 2},
    {S("a,b\n1,x\n"), 0, CFP_ERR_OK, "[\n{\"a\": 1, \"b\": \"x\"}\n]\n", 1, 2},
    {S("a,b\r\n1,2\r\n3,4"), 0, CFP_ERR_OK, "[\n{\"a\": 1, \"b\": 2},\n{\"a\": 3, \"b\": 4}\n]\n",
     2, 2},
    /* Lone CR ends a record too. */
    {S("a\r1\r2"), 0, CFP_ERR_OK, "[\n{\"a\": 1},\n{\"a\": 2}\n]\n", 2, 1},
    /* BOM: skipped at the start only. */
    {S("\xef\xbb\xbfid,name\n7,Bob\n"), 0, CFP_ERR_OK, "[\n{\"id\": 7, \"name\": \"Bob\"}\n]\n", 1,
     2},
    {S("\xef\xbb\xbf"), 0, CFP_ERR_OK, "[]\n", 0, 0},
    {S("x\n\xef\xbb\xbf\n"), 0, CFP_ERR_OK, "[\n{\"x\": \"\xef\xbb\xbf\"}\n]\n", 1, 1},
    /* Quoted newlines and "" escapes. */
    {S("q,r\n\"line1\nline2\",\"say \"\"hi\"\"\"\n"), 0, CFP_ERR_OK,
     "[\n{\"q\": \"line1\\nline2\", \"r\": \"say \\\"hi\\\"\"}\n]\n", 1, 2},
    {S("q\r\n\"a\r\nb\"\r\n"), 0, CFP_ERR_OK, "[\n{\"q\": \"a\\r\\nb\"}\n]\n", 1, 1},
    /* Numbers only when unquoted and exactly the JSON grammar. */
    {S("a,b,c,d,e,f,g,h,i,j,k,l,m,n\n"
       "01,1.,-0,1e5, 1,+1,\"1\",0,1.5E-3,-,1e,.5,0.0,-12.50e+07\n"
       "1 ,0x10,1e+,--1,Infinity,NaN,1.5.,00,-01,1E+0,123456789012345678901234567890,,,\n"),
     0, CFP_ERR_OK,
     "[\n{\"a\": \"01\", \"b\": \"1.\", \"c\": -0, \"d\": 1e5, \"e\": \" 1\", \"f\": \"+1\", "
     "\"g\": \"1\", \"h\": 0, \"i\": 1.5E-3, \"j\": \"-\", \"k\": \"1e\", \"l\": \".5\", "
     "\"m\": 0.0, \"n\": -12.50e+07},\n"
     "{\"a\": \"1 \", \"b\": \"0x10\", \"c\": \"1e+\", \"d\": \"--1\", \"e\": \"Infinity\", "
     "\"f\": \"NaN\", \"g\": \"1.5.\", \"h\": \"00\", \"i\": \"-01\", \"j\": 1E+0, "
     "\"k\": 123456789012345678901234567890, \"l\": \"\", \"m\": \"\", \"n\": \"\"}\n]\n",
     2, 14},
    /* Short records: null for the missing keys. */
    {S("a,b,c\n1\n1,2\n"), 0, CFP_ERR_OK,
     "[\n{\"a\": 1, \"b\": null, \"c\": null},\n{\"a\": 1, \"b\": 2, \"c\": null}\n]\n", 2, 3},
    {S("a,b\n,\n\"\"\n"), 0, CFP_ERR_OK,
     "[\n{\"a\": \"\", \"b\": \"\"},\n{\"a\": \"\", \"b\": null}\n]\n", 2, 2},
    {S("a,b\n \n"), 0, CFP_ERR_OK, "[\n{\"a\": \" \", \"b\": null}\n]\n", 1, 2},
    /* Empty lines anywhere outside quotes are skipped. */
    {S("\n\r\na\n\n1\n\r\n2\n\n"), 0, CFP_ERR_OK, "[\n{\"a\": 1},\n{\"a\": 2}\n]\n", 2, 1},
    /* Quote inside an unquoted field, text after a closing quote: literal. */
    {S("a,b\nx\"y,\"ab\"cd\n"), 0, CFP_ERR_OK, "[\n{\"a\": \"x\\\"y\", \"b\": \"abcd\"}\n]\n", 1,
     2},
    {S("a\n\"1\"2\n"), 0, CFP_ERR_OK, "[\n{\"a\": \"12\"}\n]\n", 1, 1},
    {S("a,b\n\"x\ty\",\"\x01\\\"\n"), 0, CFP_ERR_OK,
     "[\n{\"a\": \"x\\ty\", \"b\": \"\\u0001\\\\\"}\n]\n", 1, 2},
    {S("名前,ü\nÅsa,\"ø\"\n"), 0, CFP_ERR_OK, "[\n{\"名前\": \"Åsa\", \"ü\": \"ø\"}\n]\n", 1, 2},
    {S("a,b\n1,\n"), 0, CFP_ERR_OK, "[\n{\"a\": 1, \"b\": \"\"}\n]\n", 1, 2},
    {S("a,b\n1,"), 0, CFP_ERR_OK, "[\n{\"a\": 1, \"b\": \"\"}\n]\n", 1, 2},
    {S("\"x,y\",z\n1,2\n"), 0, CFP_ERR_OK, "[\n{\"x,y\": 1, \"z\": 2}\n]\n", 1, 2},
    {S("\"a\"\"b\"\n1\n"), 0, CFP_ERR_OK, "[\n{\"a\\\"b\": 1}\n]\n", 1, 1},
    {S("a\n\"\""), 0, CFP_ERR_OK, "[\n{\"a\": \"\"}\n]\n", 1, 1},
    {S("a\n\"x\""), 0, CFP_ERR_OK, "[\n{\"a\": \"x\"}\n]\n", 1, 1},
    {S("a,b\n1234,678\n"), 8, CFP_ERR_OK, "[\n{\"a\": 1234, \"b\": 678}\n]\n", 1, 2},
    /* A UTF-8 sequence near the end of the input (found by fuzz_csv: the
     * fast path read past it), literal quotes in unquoted fields. */
    {S("a,n\"x\r\ny\"\"\"uotet[e\"\"\xc3\xa9\n"), 0, CFP_ERR_OK,
     "[\n{\"a\": \"y\\\"\\\"\\\"uotet[e\\\"\\\"\xc3\xa9\", \"n\\\"x\": null}\n]\n", 1, 2},
    /* Errors: record number (header = 1) and the line the record starts on. */
    {S("a,b\n1,2,3\n"), 0, CFP_ERR_CSV, "CSV record 2 (line 2): 3 fields, header has 2", 0, 0},
    {S("a,b\n\n\"x\ny\",1\n1,2,3\n"), 0, CFP_ERR_CSV,
     "CSV record 3 (line 5): 3 fields, header has 2", 0, 0},
    {S("h\r\n\r\n1\r\n2,3\r\n"), 0, CFP_ERR_CSV, "CSV record 3 (line 4): 2 fields, header has 1", 0,
     0},
    {S("h\r1\r2,3"), 0, CFP_ERR_CSV, "CSV record 3 (line 3): 2 fields, header has 1", 0, 0},
    {S("a,b,a\n"), 0, CFP_ERR_CSV, "CSV record 1 (line 1): header field 3 duplicates field 1 \"a\"",
     0, 0},
    {S("x,b,a,b,a\n"), 0, CFP_ERR_CSV,
     "CSV record 1 (line 1): header field 4 duplicates field 2 \"b\"", 0, 0},
    {S("a,,b\n"), 0, CFP_ERR_CSV, "CSV record 1 (line 1): header field 2 is empty", 0, 0},
    {S("\n\"\"\n"), 0, CFP_ERR_CSV, "CSV record 1 (line 2): header field 1 is empty", 0, 0},
    {S("a\n1\n\"abc\nd\n"), 0, CFP_ERR_CSV,
     "CSV record 3 (line 3): field 1: quote opened on line 3 is not closed", 0, 0},
    {S("a,b\n1,\"x\ny\r\nz"), 0, CFP_ERR_CSV,
     "CSV record 2 (line 2): field 2: quote opened on line 2 is not closed", 0, 0},
    {S("a,b\n1,x\xff\n"), 0, CFP_ERR_CSV,
     "CSV record 2 (line 2): field 2: invalid UTF-8 byte 0xff at offset 1", 0, 0},
    {S("a\xc3(\n"), 0, CFP_ERR_CSV,
     "CSV record 1 (line 1): field 1: invalid UTF-8 byte 0xc3 at offset 1", 0, 0},
    {S("\xef\xbb"), 0, CFP_ERR_CSV,
     "CSV record 1 (line 1): field 1: invalid UTF-8 byte 0xef at offset 0", 0, 0},
    {S("\xef\xbbx\n"), 0, CFP_ERR_CSV,
     "CSV record 1 (line 1): field 1: invalid UTF-8 byte 0xef at offset 0", 0, 0},
    {S("a,b\n123456789\n"), 8, CFP_ERR_TOO_BIG, "CSV record 2 (line 2): longer than 8 bytes", 0, 0},
    {S("a\n\"12345678\"\n"), 8, CFP_ERR_TOO_BIG, "CSV record 2 (line 2): longer than 8 bytes", 0,
     0},
    {S("abcd\n"), 3, CFP_ERR_TOO_BIG, "CSV record 1 (line 1): longer than 3 bytes", 0, 0},
};

static void test_cases(void)
{
    size_t i;
    struct result r;

    for (i = 0; i < sizeof(csv_cases) / sizeof(csv_cases[0]); i++) {
        const struct csv_case *c = &csv_cases[i];
        const char *got;

        run_plan(c->in, c->len, c->max_record, NULL, 0, &r);
        got = r.err ? r.msg : r.out.p;
        if (r.err != c->err || !got || strcmp(got, c->want) != 0 ||
            (!r.err && (r.rows != c->rows || r.cols != c->cols)))
            CFP_FAILF("csv case %zu: got %s, rows %jd cols %jd:\n%s\nwant %s:\n%s", i,
                      cfp_errname(r.err), (intmax_t)r.rows, (intmax_t)r.cols, got ? got : "(null)",
                      cfp_errname(c->err), c->want);
        check_chunking(c->in, c->len, c->max_record, &r);
        check_padded(c->in, c->len, c->max_record, &r, i);
        result_free(&r);
    }
}

/* A large input (output well past the 64 KiB staging buffer) against an
 * expected output built independently, whole and in random chunks. */
static void test_large(void)
{
    size_t cap = 1 << 21, n = 0, w = 0, i, k, np, plan[8192];
    char *in = malloc(cap), *want = malloc(cap * 2);
    struct result whole, r;

    ASSERT(in && want);
    n += (size_t)snprintf(in, cap, "id,name,note\r\n");
    w += (size_t)snprintf(want, cap * 2, "[\n");
    for (i = 0; i < 20000; i++) {
        n += (size_t)snprintf(in + n, cap - n, "%zu,\"n\"\"%zu\",\"a,\nb\"\r\n", i, i * 7);
        w += (size_t)snprintf(want + w, cap * 2 - w,
                              "%s{\"id\": %zu, \"name\": \"n\\\"%zu\", \"note\": \"a,\\nb\"}",
                              i ? ",\n" : "", i, i * 7);
    }
    w += (size_t)snprintf(want + w, cap * 2 - w, "\n]\n");
    run_plan(in, n, 0, NULL, 0, &whole);
    ASSERT_EQ(whole.err, CFP_ERR_OK);
    ASSERT_EQ(whole.rows, 20000);
    ASSERT_EQ(whole.cols, 3);
    ASSERT_EQ(whole.out.n, w);
    ASSERT(memcmp(whole.out.p, want, w) == 0);
    for (k = 0; k < 10; k++) {
        size_t maxc = 1 + rnd() % (k < 5 ? 700 : 70000);

        for (i = np = 0; i < n && np < 8192; np++) {
            plan[np] = 1 + rnd() % maxc;
            i += plan[np];
        }
        run_plan(in, n, 0, plan, np, &r);
        assert_same(&r, &whole, "large plan", k);
        result_free(&r);
    }
    result_free(&whole);
    free(in);
    free(want);
}

/* Random CSV for the differential test below. */
struct gen {
    char *p;
    size_t n, cap;
};

static void gen_put(struct gen *g, const char *s, size_t len)
{
    if (g->n + len > g->cap) {
        g->cap = (g->n + len) * 2;
        g->p = realloc(g->p, g->cap);
        ASSERT(g->p != NULL);
    }
    memcpy(g->p + g->n, s, len);
    g->n += len;
}

#define GEN_PUT(g, lit) gen_put(g, lit, sizeof(lit) - 1)

/* Field content pieces: plain text, numbers and near-numbers, and every
 * byte kind that needs care in JSON. Pieces marked by a leading '\x7f'
 * make the record fail (invalid UTF-8); quoted fields may hold all. */
static const char *const gen_pieces[] = {
    "a", "Tokyo", "New York", "x y z", "0", "7", "-0", "42", "-17", "4594.61", "-0.387059",
    "1e5", "1.5E-3", "01", "1.", ".5", "+1", "-", "1e", "00", "123456789012345678901",
    "true", "\\", "\\\\x", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9", "Z\xc3\xbcrich",
    "\xe5\x90\x8d\xe5\x89\x8d", "\xf0\x9f\x98\x80", "\xef\xbb\xbf", " ", "'", "a\"b",
};
static const char *const gen_bad[] = {"\xff", "\x80", "\xc3(", "\xe0\x80\x80", "\xed\xa0\x80",
                                      "\xf4\x90\x80\x80", "\xc0\xaf", "\xe2\x82"};

static void gen_content(struct gen *g, bool quoted, bool bad)
{
    size_t k, np = rnd() % 4 == 0 ? 1 + rnd() % 12 : 1;

    if (rnd() % 40 == 0) { /* long: many 16-byte blocks, sometimes past 4 KiB */
        size_t len = rnd() % 20 ? 16 + rnd() % 100 : 4000 + rnd() % 300;

        for (k = 0; k < len; k++)
            gen_put(g, &"abcdefgh01234567"[k % 16], 1);
    }
    for (k = 0; k < np; k++) {
        const char *s = gen_pieces[rnd() % (sizeof(gen_pieces) / sizeof(gen_pieces[0]))];

        if (strchr(s, '"')) /* literal inside an unquoted field, doubled in a quoted one */
            s = quoted ? "q\"\"q" : "q\"q";
        gen_put(g, s, strlen(s));
        if (quoted && rnd() % 6 == 0) {
            static const char *const q[] = {",", "\"\"", "\n", "\r\n", "\r", "\"\",\"\""};

            s = q[rnd() % 6];
            gen_put(g, s, strlen(s));
        }
    }
    if (bad) {
        const char *s = gen_bad[rnd() % (sizeof(gen_bad) / sizeof(gen_bad[0]))];

        gen_put(g, s, strlen(s));
    }
}

/* One record of up to ncols + (extra) fields. p_err: 1 in p_err records
 * holds one failing thing (0: none). */
static void gen_record(struct gen *g, size_t ncols, unsigned p_err)
{
    bool err = p_err && rnd() % p_err == 0;
    unsigned kind = err ? rnd() % 3 : 9; /* 0 bad UTF-8, 1 too many fields, 2 unclosed-ish */
    size_t k, nf = 1 + rnd() % ncols, bad_at;
    static const char *const eol[] = {"\n", "\n", "\n", "\r\n", "\r"};

    if (rnd() % 5 == 0)
        nf = ncols;
    if (kind == 1)
        nf = ncols + 1 + rnd() % 3;
    bad_at = rnd() % nf;
    for (k = 0; k < nf; k++) {
        bool q = rnd() % 4 == 0;

        if (k)
            GEN_PUT(g, ",");
        if (q)
            GEN_PUT(g, "\"");
        gen_content(g, q, kind == 0 && k == bad_at);
        if (q)
            GEN_PUT(g, "\"");
        if (q && rnd() % 50 == 0)
            GEN_PUT(g, "tail"); /* text after the closing quote */
    }
    if (kind == 2 && rnd() % 2)
        GEN_PUT(g, ",\"open"); /* a quote that may only close records later */
    if (rnd() % 30 == 0)
        GEN_PUT(g, "\n"); /* an empty line follows */
    k = rnd() % 5;
    gen_put(g, eol[k], strlen(eol[k]));
}

/* Same outcome in every respect, output included even on failure: the
 * bytes passed to the writer before an error must not depend on which path
 * converted the records. */
static void assert_identical(const struct result *a, const struct result *b, const char *what,
                             size_t idx)
{
    if (a->err != b->err || strcmp(a->msg, b->msg) != 0 || a->rows != b->rows ||
        a->cols != b->cols || a->out.n != b->out.n ||
        (a->out.n && memcmp(a->out.p, b->out.p, a->out.n) != 0))
        CFP_FAILF("%s %zu: %s [%s] rows %jd, %zu bytes out vs %s [%s] rows %jd, %zu bytes out",
                  what, idx, cfp_errname(a->err), a->msg, (intmax_t)a->rows, a->out.n,
                  cfp_errname(b->err), b->msg, (intmax_t)b->rows, b->out.n);
}

/* The fast path (cfp_csv_fast.c, which needs 16 readable bytes past a
 * record's end) against the byte state machine alone (every chunk shorter
 * than 16 bytes), on random CSVs holding every field kind, line end and
 * failure, big enough for the 64 KiB staging buffer to flush many times
 * before a failure; plus random chunk plans mixing both paths. */
static void test_fast_vs_machine(void)
{
    size_t *plan;
    struct gen g = {0};
    struct result fast, slow, r;
    size_t t, k, np, i, ncols, recs;
    static const size_t maxrec[] = {0, 0, 0, 300, 4200};
    int fails = 0;

    for (t = 0; t < 24; t++) {
        unsigned p_err = t < 6 ? 0 : 200 + rnd() % 3000;
        size_t max_record = maxrec[t % 5];

        g.n = 0;
        ncols = 1 + rnd() % (t % 3 == 0 ? 3 : 12);
        for (k = 0; k < ncols; k++) {
            char name[32];

            snprintf(name, sizeof(name), "%s%s%zu%s", k ? "," : "", k % 4 == 3 ? "\"n,\"\"" : "c",
                     k, k % 4 == 3 ? "\"" : "");
            gen_put(&g, name, strlen(name));
        }
        GEN_PUT(&g, "\n");
        recs = 200 + rnd() % 3000;
        for (k = 0; k < recs; k++)
            gen_record(&g, ncols, p_err);
        if (rnd() % 2)
            g.n--; /* no line end after the last record */
        run_plan(g.p, g.n, max_record, NULL, 0, &fast);
        plan = malloc(g.n * sizeof(*plan)); /* chunks of 1..15 bytes: at most g.n */
        ASSERT(plan != NULL);
        for (i = np = 0; i < g.n; np++) {
            plan[np] = 1 + rnd() % 15;
            i += plan[np];
        }
        run_plan(g.p, g.n, max_record, plan, np, &slow);
        assert_identical(&fast, &slow, "fast vs machine", t);
        for (i = np = 0; i < g.n && np < g.n; np++) {
            plan[np] = rnd() % (t % 2 ? 70 : 5000);
            i += plan[np];
        }
        run_plan(g.p, g.n, max_record, plan, np, &r);
        assert_identical(&r, &slow, "mixed plan vs machine", t);
        fails += fast.err != CFP_ERR_OK;
        result_free(&fast);
        result_free(&slow);
        result_free(&r);
        free(plan);
    }
    if (fails < 6)
        CFP_FAILF("only %d of the random inputs failed: the error paths were not reached", fails);
    free(g.p);
}

/* Every allocation, failed in turn, gives CFP_ERR_NOMEM and leaks nothing
 * (ASan/valgrind check the leaks); past the last one the result is right. */
static void test_nomem(void)
{
    size_t cap = 200000, n = 0, i, plan[256], np = 0;
    char *in = malloc(cap);
    struct result whole, r;
    int failures = 0;
    long k;

    /* A wide header and long fields: every buffer grows more than once. */
    ASSERT(in != NULL);
    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(in + n, cap - n, "%scol%zu", i ? "," : "", i);
    n += (size_t)snprintf(in + n, cap - n, "\n");
    for (i = 0; i < 300; i++)
        n += (size_t)snprintf(in + n, cap - n, "%zu,\"%0*zu\",x\n", i, (int)(i * 3 % 900), i);
    for (i = 0; i * 1000 < n; i++)
        plan[np++] = 1000;
    run_plan(in, n, 0, plan, np, &whole);
    ASSERT_EQ(whole.err, CFP_ERR_OK);
    for (k = 1; k < 100000; k++) {
        cfp_mem_fail_after(k);
        run_plan(in, n, 0, plan, np, &r);
        cfp_mem_fail_after(0);
        if (r.err == CFP_ERR_OK) {
            assert_same(&r, &whole, "nomem", (size_t)k);
            result_free(&r);
            break;
        }
        ASSERT_EQ(r.err, CFP_ERR_NOMEM);
        result_free(&r);
        failures++;
    }
    if (failures < 8)
        CFP_FAILF("only %d allocation points were exercised", failures);
    printf("test_csv: %d injected allocation failures all gave CFP_ERR_NOMEM\n", failures);
    result_free(&whole);
    free(in);
}

/* A failing writer, mid-input (the staging buffer overflows) or at the
 * end: its error comes back, and the converter refuses further use. */
static void test_write_errors(void)
{
    size_t n = 0, i, cap = 600000;
    char *in = malloc(cap);
    struct cfp_csv *c = NULL;
    struct cfp_status st;
    struct sink out;
    int64_t rows = -7, cols = -7;
    int k;
    cfp_err err;

    ASSERT(in != NULL);
    n += (size_t)snprintf(in, cap, "a,b\n");
    for (i = 0; i < 30000; i++) /* about 800 KB of JSON */
        n += (size_t)snprintf(in + n, cap - n, "%zu,xyz\n", i);
    /* k = 1..4 fail during feed (the staging buffer flushes every 64 KiB);
     * k = 5 uses a one-record input whose only write happens in finish. */
    for (k = 1; k <= 5; k++) {
        memset(&out, 0, sizeof(out));
        out.fail_at = k < 5 ? k : 1;
        cfp_status_clear(&st);
        ASSERT_EQ(cfp_csv_new(sink_write, &out, 0, &c), CFP_ERR_OK);
        err = k < 5 ? cfp_csv_feed(c, in, n, &st) : cfp_csv_feed(c, "a\n1\n", 4, &st);
        ASSERT_EQ(err, k < 5 ? CFP_ERR_IO : CFP_ERR_OK);
        if (!err)
            err = cfp_csv_finish(c, &rows, &cols, &st);
        ASSERT_EQ(err, CFP_ERR_IO);
        ASSERT_CONTAINS(st.msg, "writing output");
        /* Used up: feeding fails with the same error, finishing is refused. */
        ASSERT_EQ(cfp_csv_feed(c, "1\n", 2, NULL), CFP_ERR_IO);
        (void)cfp_csv_finish(c, &rows, &cols, NULL);
        ASSERT_EQ(cfp_csv_finish(c, &rows, &cols, NULL), CFP_ERR_USAGE);
        ASSERT(rows == -7 && cols == -7);
        cfp_csv_free(&c);
        free(out.p);
    }
    cfp_csv_free(&c); /* NULL-safe */
    cfp_csv_free(NULL);
    free(in);
}

static int file_mode(int argc, char **argv)
{
    static char chunk[4093];
    int i;

    for (i = 2; i + 1 < argc; i += 2) {
        FILE *in = fopen(argv[i], "rb"), *out = fopen(argv[i + 1], "wb");
        struct cfp_csv *c = NULL;
        struct cfp_status st;
        struct result r;
        size_t n;

        if (!in || !out)
            CFP_FAILF("cannot open %s or %s", argv[i], argv[i + 1]);
        memset(&r, 0, sizeof(r));
        cfp_status_clear(&st);
        r.err = cfp_csv_new(sink_write, &r.out, 0, &c);
        while (!r.err && (n = fread(chunk, 1, sizeof(chunk), in)) > 0)
            r.err = cfp_csv_feed(c, chunk, n, &st);
        if (!r.err)
            r.err = cfp_csv_finish(c, &r.rows, &r.cols, &st);
        if (r.err)
            printf("error %s %s\n", cfp_errname(r.err), st.msg);
        else
            printf("ok %jd %jd\n", (intmax_t)r.rows, (intmax_t)r.cols);
        if (r.out.n && fwrite(r.out.p, 1, r.out.n, out) != r.out.n)
            CFP_FAILF("cannot write %s", argv[i + 1]);
        cfp_csv_free(&c);
        result_free(&r);
        fclose(in);
        if (fclose(out) != 0)
            CFP_FAILF("cannot write %s", argv[i + 1]);
    }
    return 0;
}

/* cfp_write_fn that only counts: the bench measures the converter. */
static cfp_err count_write(void *ctx, const void *data, size_t len)
{
    (void)data;
    *(size_t *)ctx += len;
    return CFP_ERR_OK;
}

/* Converts every file fed in 128 KiB chunks (as cfp's fetcher delivers
 * them) into a counting sink, 5 times; prints the best round. */
static int bench_mode(int nfiles, char **paths)
{
    size_t len[256], in = 0, out = 0, off, n;
    char *buf[256];
    double best = 1e9, t;
    int i, round;

    if (nfiles > 256)
        CFP_FAILF("at most 256 files");
    for (i = 0; i < nfiles; i++) {
        buf[i] = slurp(paths[i], &len[i]);
        in += len[i];
    }
    for (round = 0; round < 5; round++) {
        t = mono_seconds();
        for (i = 0, out = 0; i < nfiles; i++) {
            struct cfp_csv *c = NULL;
            cfp_err err = cfp_csv_new(count_write, &out, 0, &c);

            for (off = 0; !err && off < len[i]; off += n) {
                n = len[i] - off < 131072 ? len[i] - off : 131072;
                err = cfp_csv_feed(c, buf[i] + off, n, NULL);
            }
            if (!err)
                err = cfp_csv_finish(c, NULL, NULL, NULL);
            if (err)
                CFP_FAILF("%s: %s", paths[i], cfp_errname(err));
            cfp_csv_free(&c);
        }
        t = mono_seconds() - t;
        best = t < best ? t : best;
    }
    printf("%zu bytes in, %zu out, %d files: %.4f s (best of 5), %.1f MB/s\n", in, out, nfiles,
           best, (double)in / best / 1e6);
    for (i = 0; i < nfiles; i++)
        free(buf[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "file") == 0)
        return file_mode(argc, argv);
    if (argc >= 3 && strcmp(argv[1], "bench") == 0)
        return bench_mode(argc - 2, argv + 2);
    test_cases();
    test_large();
    test_fast_vs_machine();
    test_write_errors();
    test_nomem();
    puts("test_csv: all passed");
    return 0;
}
