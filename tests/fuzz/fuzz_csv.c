/* fuzz_csv.c - libFuzzer target for the streaming CSV -> JSON converter.
 *
 * The input is a CSV file. It is converted twice, exactly as the
 * processor drives cfp_csv (cfp_proc.c: new, feed..., finish, writing to
 * a sink): once fed whole, once in chunks of sizes drawn from a generator
 * seeded by the input (single bytes, tiny, small or large chunks, with
 * empty ones mixed in), so a chunk boundary falls inside quotes, CRLFs,
 * the BOM and UTF-8 sequences. Both runs must agree on everything: error
 * code, message, output bytes (partial output included), rows and cols.
 * max_record is also drawn from the input: small (1..64 or 65..1024
 * bytes) half of the time, so the CFP_ERR_TOO_BIG path is reached, else
 * the default.
 *
 * On success the output must be valid JSON: "[]\n" without data records,
 * else an array of exactly rows objects. On failure the code must be one
 * the header documents, with a message, and the converter must stay
 * failed. */
#include <stdint.h>
#include <string.h>

#include "proc/cfp_csv.h"
#include "fuzz_common.h"

#define OUT_LIMIT ((size_t)64 << 20)

struct csv_run {
    struct fuzz_mem out;
    cfp_err err;
    struct cfp_status st;
    int64_t rows, cols;
};

/* Converts d[0..n): whole when ck is NULL, else in ck's chunks. */
static void csv_run(const uint8_t *d, size_t n, size_t max_record, struct fuzz_chunker *ck,
                    struct csv_run *r)
{
    struct cfp_csv *c = NULL;
    size_t off = 0, k;
    cfp_err again;

    memset(r, 0, sizeof(*r));
    r->out.limit = OUT_LIMIT;
    r->rows = r->cols = -1;
    cfp_status_clear(&r->st);
    r->err = cfp_csv_new(fuzz_mem_write, &r->out, max_record, &c);
    FUZZ_CHECK(r->err == CFP_ERR_OK, "cfp_csv_new: %s", cfp_strerror(r->err));
    if (!ck) {
        r->err = cfp_csv_feed(c, d, n, &r->st);
    } else {
        while (!r->err && off < n) {
            k = fuzz_chunk_next(ck, n - off);
            r->err = cfp_csv_feed(c, d + off, k, &r->st);
            off += k;
        }
    }
    if (r->err) {
        /* Sticky: a later feed fails with the same code. */
        again = cfp_csv_feed(c, "a,b\n", 4, NULL);
        FUZZ_CHECK(again == r->err, "feed after failure: %d, first %d", again, r->err);
    }
    again = cfp_csv_finish(c, &r->rows, &r->cols, &r->st);
    if (!r->err)
        r->err = again;
    else
        FUZZ_CHECK(again == r->err, "finish after failure: %d, first %d", again, r->err);
    cfp_csv_free(&c);
    FUZZ_CHECK(c == NULL, "cfp_csv_free left the pointer set");
}

static void check_result(const struct csv_run *r)
{
    size_t items = 0;

    if (r->err) {
        FUZZ_CHECK(r->err == CFP_ERR_CSV || r->err == CFP_ERR_TOO_BIG, "undocumented error %s",
                   cfp_errname(r->err));
        FUZZ_CHECK(r->st.code == r->err && r->st.msg[0], "status %d \"%s\" for error %d",
                   r->st.code, r->st.msg, r->err);
        FUZZ_CHECK(r->rows == -1 && r->cols == -1, "rows/cols set on failure");
        return;
    }
    FUZZ_CHECK(r->rows >= 0 && r->cols >= 0, "rows %lld cols %lld", (long long)r->rows,
               (long long)r->cols);
    FUZZ_CHECK(r->cols > 0 || r->rows == 0, "%lld rows without a header", (long long)r->rows);
    FUZZ_CHECK(fuzz_json_valid(r->out.p, r->out.len, &items), "output is not JSON: %.*s",
               (int)(r->out.len < 300 ? r->out.len : 300), (const char *)r->out.p);
    FUZZ_CHECK(items == (size_t)r->rows, "%zu array items, %lld rows", items, (long long)r->rows);
    if (r->rows == 0)
        FUZZ_CHECK(r->out.len == 3 && memcmp(r->out.p, "[]\n", 3) == 0, "empty output wrong");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct csv_run whole, chunked;
    uint64_t seed = fuzz_hash(data, size);
    struct fuzz_chunker ck;
    size_t max_record;

    switch ((seed >> 40) & 3) {
    case 0:
        max_record = 1 + (size_t)((seed >> 48) % 64);
        break;
    case 1:
        max_record = 65 + (size_t)((seed >> 48) % 960);
        break;
    default:
        max_record = 0; /* CFP_CSV_MAX_RECORD_DEFAULT */
        break;
    }
    fuzz_chunker_init(&ck, seed);
    csv_run(data, size, max_record, NULL, &whole);
    csv_run(data, size, max_record, &ck, &chunked);
    check_result(&whole);
    FUZZ_CHECK(whole.err == chunked.err, "whole: %s \"%s\"; chunked (max %zu): %s \"%s\"",
               cfp_errname(whole.err), whole.st.msg, ck.max, cfp_errname(chunked.err),
               chunked.st.msg);
    FUZZ_CHECK(strcmp(whole.st.msg, chunked.st.msg) == 0, "message: whole \"%s\", chunked \"%s\"",
               whole.st.msg, chunked.st.msg);
    FUZZ_CHECK(whole.rows == chunked.rows && whole.cols == chunked.cols,
               "rows/cols: whole %lld/%lld, chunked %lld/%lld", (long long)whole.rows,
               (long long)whole.cols, (long long)chunked.rows, (long long)chunked.cols);
    FUZZ_CHECK(whole.out.len == chunked.out.len &&
                   (whole.out.len == 0 || memcmp(whole.out.p, chunked.out.p, whole.out.len) == 0),
               "output differs: whole %zu bytes, chunked %zu bytes", whole.out.len,
               chunked.out.len);
    fuzz_mem_free(&whole.out);
    fuzz_mem_free(&chunked.out);
    return 0;
}
