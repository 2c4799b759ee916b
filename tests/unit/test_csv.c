/* test_csv.c - the CSV to JSON converter.
 *
 * Modes:
 *   test_csv                       run the unit tests
 *   test_csv file IN OUT [IN OUT ...]
 *                                  convert each IN (fed in 4093-byte chunks)
 *                                  into OUT and print one line per file to
 *                                  stdout: "ok ROWS COLS" or "error NAME MSG";
 *                                  used by textcsv_ref.py
 *   test_csv bench FILE            print throughput on FILE
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
 * chunk), then finishes. */
static void run_plan(const char *in, size_t len, size_t max_record, const size_t *plan,
                     size_t nplan, struct result *r)
{
    struct cfp_csv *c = NULL;
    struct cfp_status st;
    size_t off = 0, k, n;

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

static int bench_mode(const char *path)
{
    struct result r;
    size_t len;
    char *buf = slurp(path, &len);
    double secs = mono_seconds();

    run_plan(buf, len, 0, NULL, 0, &r);
    secs = mono_seconds() - secs;
    printf("%zu bytes in %.3f s: %.1f MB/s, %s, %jd rows\n", len, secs, (double)len / secs / 1e6,
           cfp_errname(r.err), (intmax_t)r.rows);
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
    test_cases();
    test_large();
    test_write_errors();
    test_nomem();
    puts("test_csv: all passed");
    return 0;
}
