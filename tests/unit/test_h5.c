/* test_h5.c - the HDF5 results module: write runs, read them back field by
 * field, append to an existing file, survive interruption and a killed
 * writer, refuse foreign files, and clean up after allocation failures.
 *
 * `test_h5 write FILE` writes the fixed set of runs that tests/unit/h5_check.py
 * checks independently with h5py (the generator below is mirrored there).
 * `test_h5 expect-locked FILE` is the child process of test_locked().
 */
#include "base/cfp_clock.h"
#include "results/cfp_h5.h"

#include <hdf5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cfp_mem.h"
#include "cfp_test.h"

#define ASSERT_DEQ(a, b)                                                                           \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (a_ != b_)                                                                              \
            CFP_FAILF("%s == %s: %.17g != %.17g", #a, #b, a_, b_);                                 \
    } while (0)

static char dir[64];
static const char *argv0;

/* ---- the deterministic generator (mirrored in tests/unit/h5_check.py) ---- */

static const char *const kinds[] = {"image", "text", "csv", "unknown"};
static const cfp_err fail_codes[] = {CFP_ERR_HTTP, CFP_ERR_TIMEOUT, CFP_ERR_PNG_DECODE,
                                     CFP_ERR_CSV};

static bool gen_failed(int64_t i)
{
    return i % 7 == 3;
}

/* The URL of row i of run `run`. Row 6 (mod 50) carries bytes that are not
 * UTF-8; as stored (expect = true) each such byte reads back as '?'. */
static void gen_url(int run, int64_t i, bool expect, char *url, size_t size)
{
    int n = snprintf(url, size, "http://127.0.0.1:8080/r%d/%" PRId64, run, i);

    switch (i % 5) {
    case 0: /* long: up to the 4095-byte limit */
        while ((size_t)n < size - 1 && n < 60 + (int)(i * 37 % 4100)) {
            url[n] = (char)('a' + n % 26);
            n++;
        }
        url[n] = '\0';
        break;
    case 1:
        snprintf(url + n, size - (size_t)n,
                 "/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80.png");
        break;
    case 2:
        snprintf(url + n, size - (size_t)n, "/plain.txt");
        break;
    case 3:
        url[0] = '\0';
        break;
    default:
        snprintf(url + n, size - (size_t)n, "/data.csv");
        break;
    }
    if (i % 50 == 6) /* \xff and a truncated 3-byte sequence */
        snprintf(url + n, size - (size_t)n, expect ? "/bad??x??" : "/bad\xff\xfex\xe6\x97");
}

static void gen_record(int run, int64_t i, bool expect, struct cfp_record *r)
{
    const char *kind = kinds[i % 4];
    bool failed = gen_failed(i);

    memset(r, 0, sizeof(*r));
    r->index = i;
    gen_url(run, i, expect, r->url, sizeof(r->url));
    snprintf(r->kind, sizeof(r->kind), "%s", kind);
    r->code = failed ? fail_codes[(i / 7) % 4] : CFP_ERR_OK;
    if (failed)
        snprintf(r->error, sizeof(r->error), "GET row %" PRId64 ": \xc3\xbc failure %s", i,
                 cfp_errname(r->code));
    r->http_status = r->code == CFP_ERR_HTTP ? 404 : (i % 3 == 0 ? 0 : 200);
    r->attempts = 1 + (int32_t)(i % 3);
    r->bytes_in = i << 33;
    r->bytes_out = failed ? 0 : i * 17;
    if (!failed) {
        uint64_t d = (uint64_t)i * 0x9E3779B97F4A7C15u;
        snprintf(r->output, sizeof(r->output), "out/%d/%06" PRId64 ".png", run, i);
        snprintf(r->digest, sizeof(r->digest),
                 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, d, d, d, d);
    }
    r->rank = run == 2 ? (int32_t)(i % 4) : 0;
    r->worker = (int32_t)(i % 3);
    r->t_start = (double)i * 0.25;
    r->t_fetch = (double)i / 7.0;
    r->t_process = 1.0 / (double)(i + 1);
    r->t_write = failed ? -1.0 : 0.5;
    r->width_in = r->height_in = r->width_out = r->height_out = -1;
    r->lines = r->words = r->chars = r->rows = r->cols = -1;
    if (!failed && i % 4 == 0) {
        r->width_in = 100 + (int32_t)i;
        r->height_in = 50 + (int32_t)i;
        r->width_out = r->width_in / 2;
        r->height_out = r->height_in / 2;
    } else if (!failed && i % 4 == 1) {
        r->lines = i;
        r->words = i * 2;
        r->chars = i * 10;
    } else if (!failed && i % 4 == 2) {
        r->rows = i + 1;
        r->cols = 3;
    }
}

static const char *const modes[] = {"sequential", "threading", "mpi"};
static const char *const workloads[] = {"default", "io-bound", "cpu-bound"};

/* Run attributes; at_begin gives what is known when a run starts (counters
 * 0, complete deliberately 1 to check that run_begin forces 0). */
static void gen_info(int run, int64_t n, bool at_begin, struct cfp_run_info *info)
{
    int64_t i;

    memset(info, 0, sizeof(*info));
    snprintf(info->mode, sizeof(info->mode), "%s", modes[run - 1]);
    snprintf(info->engine, sizeof(info->engine), "engine-%d", run);
    snprintf(info->workload, sizeof(info->workload), "%s", workloads[run - 1]);
    ASSERT_EQ(cfp_iso8601(1700000000 + run * 3600, info->started, sizeof(info->started)), 0);
    snprintf(info->input, sizeof(info->input), "urls/run%d-\xc3\xa9.txt", run);
    snprintf(info->output_dir, sizeof(info->output_dir), "out/run%d", run);
    info->ranks = run == 3 ? 4 : 1;
    info->workers = run * 2;
    info->concurrency = run * 8;
    info->latency_ms = run == 1 ? -1 : run * 10;
    info->max_side = 256 * run;
    info->complete = 1;
    if (at_begin)
        return;
    info->wall_s = run * 1.5;
    info->mpi_startup_s = run == 3 ? 0.375 : 0; /* known once the run is open: written at its end */
    info->cpu_user_s = run / 3.0;
    info->cpu_sys_s = run * 0.125;
    info->peak_rss_kb = ((int64_t)1 << 33) + run;
    info->tasks = n;
    for (i = 0; i < n; i++) {
        struct cfp_record r;
        gen_record(run, i, true, &r);
        info->ok += !gen_failed(i);
        info->failed += gen_failed(i);
        info->bytes_in += r.bytes_in;
        info->bytes_out += r.bytes_out;
    }
}

/* ---- comparing ---- */

static void check_record(const struct cfp_record *a, const struct cfp_record *b)
{
    ASSERT_EQ(a->index, b->index);
    ASSERT_STREQ(a->url, b->url);
    ASSERT_STREQ(a->kind, b->kind);
    ASSERT_EQ(a->code, b->code);
    ASSERT_STREQ(a->error, b->error);
    ASSERT_EQ(a->http_status, b->http_status);
    ASSERT_EQ(a->attempts, b->attempts);
    ASSERT_EQ(a->bytes_in, b->bytes_in);
    ASSERT_EQ(a->bytes_out, b->bytes_out);
    ASSERT_STREQ(a->output, b->output);
    ASSERT_STREQ(a->digest, b->digest);
    ASSERT_EQ(a->rank, b->rank);
    ASSERT_EQ(a->worker, b->worker);
    ASSERT_DEQ(a->t_start, b->t_start);
    ASSERT_DEQ(a->t_fetch, b->t_fetch);
    ASSERT_DEQ(a->t_process, b->t_process);
    ASSERT_DEQ(a->t_write, b->t_write);
    ASSERT_EQ(a->width_in, b->width_in);
    ASSERT_EQ(a->height_in, b->height_in);
    ASSERT_EQ(a->width_out, b->width_out);
    ASSERT_EQ(a->height_out, b->height_out);
    ASSERT_EQ(a->lines, b->lines);
    ASSERT_EQ(a->words, b->words);
    ASSERT_EQ(a->chars, b->chars);
    ASSERT_EQ(a->rows, b->rows);
    ASSERT_EQ(a->cols, b->cols);
}

static void check_info(const struct cfp_run_info *a, const struct cfp_run_info *b)
{
    ASSERT_STREQ(a->mode, b->mode);
    ASSERT_STREQ(a->engine, b->engine);
    ASSERT_STREQ(a->workload, b->workload);
    ASSERT_STREQ(a->started, b->started);
    ASSERT_STREQ(a->input, b->input);
    ASSERT_STREQ(a->output_dir, b->output_dir);
    ASSERT_EQ(a->ranks, b->ranks);
    ASSERT_EQ(a->workers, b->workers);
    ASSERT_EQ(a->concurrency, b->concurrency);
    ASSERT_EQ(a->latency_ms, b->latency_ms);
    ASSERT_EQ(a->max_side, b->max_side);
    ASSERT_EQ(a->complete, b->complete);
    ASSERT_DEQ(a->wall_s, b->wall_s);
    ASSERT_DEQ(a->cpu_user_s, b->cpu_user_s);
    ASSERT_DEQ(a->cpu_sys_s, b->cpu_sys_s);
    ASSERT_EQ(a->peak_rss_kb, b->peak_rss_kb);
    ASSERT_EQ(a->tasks, b->tasks);
    ASSERT_EQ(a->ok, b->ok);
    ASSERT_EQ(a->failed, b->failed);
    ASSERT_EQ(a->bytes_in, b->bytes_in);
    ASSERT_EQ(a->bytes_out, b->bytes_out);
    ASSERT_DEQ(a->mpi_startup_s, b->mpi_startup_s);
}

/* Collected by the read callbacks. */
struct seen_runs {
    int n;
    char id[8][CFP_H5_RUN_ID_MAX];
    struct cfp_run_info info[8];
    int stop_after; /* 0: never */
};

static int on_run(void *ctx, const char *id, const struct cfp_run_info *info)
{
    struct seen_runs *s = ctx;

    ASSERT(s->n < 8);
    snprintf(s->id[s->n], sizeof(s->id[0]), "%s", id);
    s->info[s->n++] = *info;
    return s->stop_after && s->n >= s->stop_after;
}

struct seen_tasks {
    int run;
    int64_t n;
    int64_t stop_after; /* 0: never */
};

/* Checks each row against the generator as it arrives, in file order. */
static int on_task(void *ctx, const struct cfp_record *r)
{
    struct seen_tasks *s = ctx;
    struct cfp_record want;

    gen_record(s->run, s->n, true, &want);
    check_record(r, &want);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

/* The same for a brief read: every column but url, error and output,
 * which come back "". */
struct seen_brief {
    struct seen_tasks t;
    int64_t with_url; /* rows where "" is a real check */
};

static int on_task_brief(void *ctx, const struct cfp_record *r)
{
    struct seen_brief *s = ctx;
    struct cfp_record want;

    gen_record(s->t.run, s->t.n, true, &want);
    s->with_url += want.url[0] != '\0';
    want.url[0] = want.error[0] = want.output[0] = '\0';
    check_record(r, &want);
    s->t.n++;
    return 0;
}

static int64_t count_tasks(const char *path, const char *id, int run)
{
    struct seen_tasks s = {run, 0, 0};
    struct cfp_status st;

    cfp_status_clear(&st);
    if (cfp_h5_read_tasks(path, id, on_task, &s, &st) != CFP_ERR_OK)
        CFP_FAILF("read_tasks %s: %s", id, st.msg);
    return s.n;
}

static void assert_no_open_objects(void)
{
    ASSERT_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

/* ---- writing ---- */

static void path_in_dir(char *out, size_t size, const char *name)
{
    ASSERT((size_t)snprintf(out, size, "%s/%s", dir, name) < size);
}

/* Appends rows [from, to) of run `run` to the open run of h. */
static void append_rows(struct cfp_h5 *h, int run, int64_t from, int64_t to)
{
    struct cfp_status st;
    struct cfp_record r;
    int64_t i;

    cfp_status_clear(&st);
    for (i = from; i < to; i++) {
        gen_record(run, i, false, &r);
        if (cfp_h5_append(h, &r, &st) != CFP_ERR_OK)
            CFP_FAILF("append %" PRId64 ": %s", i, st.msg);
    }
}

/* Writes run `run` with n rows through a complete begin/append/end cycle. */
static void write_run(struct cfp_h5 *h, int run, int64_t n, const char *want_id)
{
    struct cfp_run_info info;
    struct cfp_status st;
    char id[CFP_H5_RUN_ID_MAX];

    cfp_status_clear(&st);
    gen_info(run, n, true, &info);
    if (cfp_h5_run_begin(h, &info, id, sizeof(id), &st) != CFP_ERR_OK)
        CFP_FAILF("run_begin: %s", st.msg);
    ASSERT_STREQ(id, want_id);
    append_rows(h, run, 0, n);
    if (run == 2) {
        const int32_t rank[] = {0, 1, 2};
        const int64_t tasks[] = {n - 2 * (n / 3), n / 3, n / 3};
        const double busy[] = {0.5, 1.25, 2.0};
        ASSERT_EQ(cfp_h5_write_ranks(h, rank, tasks, busy, NULL, 3, &st), CFP_ERR_OK);
        ASSERT_EQ(cfp_h5_write_ranks(h, rank, tasks, busy, NULL, 3, &st), CFP_ERR_USAGE);
        ASSERT_CONTAINS(st.msg, "ranks already written");
        cfp_status_clear(&st);
    }
    gen_info(run, n, false, &info);
    if (cfp_h5_run_end(h, &info, &st) != CFP_ERR_OK)
        CFP_FAILF("run_end: %s", st.msg);
}

static struct cfp_h5 *open_ok(const char *path)
{
    struct cfp_h5 *h = NULL;
    struct cfp_status st;

    cfp_status_clear(&st);
    if (cfp_h5_open(path, &h, &st) != CFP_ERR_OK)
        CFP_FAILF("open %s: %s", path, st.msg);
    ASSERT(h != NULL);
    return h;
}

/* Run 3 ("mpi") is left open: closed without run_end, as after SIGINT. */
static void write_interrupted(struct cfp_h5 *h, int64_t n)
{
    struct cfp_run_info info;
    struct cfp_status st;
    char id[CFP_H5_RUN_ID_MAX];

    cfp_status_clear(&st);
    gen_info(3, n, true, &info);
    ASSERT_EQ(cfp_h5_run_begin(h, &info, id, sizeof(id), &st), CFP_ERR_OK);
    append_rows(h, 3, 0, n);
}

/* The file h5_check.py verifies: 0001-sequential (300 rows), 0002-threading
 * (130 rows + ranks), 0003-mpi interrupted after 70 rows. */
static int write_mode(const char *path)
{
    struct cfp_h5 *h;

    (void)unlink(path);
    h = open_ok(path);
    write_run(h, 1, 300, "0001-sequential");
    write_run(h, 2, 130, "0002-threading");
    write_interrupted(h, 70);
    cfp_h5_close(&h);
    ASSERT(h == NULL);
    assert_no_open_objects();
    return 0;
}

/* ---- unit tests ---- */

/* Two runs, read back field by field; a second open appends a third run and
 * leaves the first two as they were. */
static void test_roundtrip(void)
{
    char path[128];
    struct seen_runs runs;
    struct cfp_run_info want;
    struct cfp_status st;
    struct cfp_h5 *h;
    int i;

    path_in_dir(path, sizeof(path), "roundtrip.h5");
    h = open_ok(path);
    write_run(h, 1, 300, "0001-sequential");
    write_run(h, 2, 257, "0002-threading"); /* not a multiple of the batch */
    cfp_h5_close(&h);
    assert_no_open_objects();

    h = open_ok(path);
    write_run(h, 3, 10, "0003-mpi");
    cfp_h5_close(&h);
    cfp_h5_close(&h); /* NULL-safe */
    assert_no_open_objects();

    memset(&runs, 0, sizeof(runs));
    cfp_status_clear(&st);
    if (cfp_h5_read_runs(path, on_run, &runs, &st) != CFP_ERR_OK)
        CFP_FAILF("read_runs: %s", st.msg);
    ASSERT_EQ(runs.n, 3);
    ASSERT_STREQ(runs.id[0], "0001-sequential");
    ASSERT_STREQ(runs.id[1], "0002-threading");
    ASSERT_STREQ(runs.id[2], "0003-mpi");
    for (i = 0; i < 3; i++) {
        gen_info(i + 1, i == 0 ? 300 : i == 1 ? 257 : 10, false, &want);
        check_info(&runs.info[i], &want);
    }
    ASSERT_STREQ(runs.info[0].started, "2023-11-14T23:13:20Z"); /* date -u -d @1700003600 */
    ASSERT_EQ(count_tasks(path, "0001-sequential", 1), 300);
    ASSERT_EQ(count_tasks(path, "0002-threading", 2), 257);
    ASSERT_EQ(count_tasks(path, "0003-mpi", 3), 10);
    {
        struct seen_brief s = {{2, 0, 0}, 0};
        ASSERT_EQ(cfp_h5_read_tasks_brief(path, "0002-threading", on_task_brief, &s, &st),
                  CFP_ERR_OK);
        ASSERT_EQ(s.t.n, 257);
        ASSERT(s.with_url > 200);
    }

    /* Early stop from both readers. */
    memset(&runs, 0, sizeof(runs));
    runs.stop_after = 1;
    ASSERT_EQ(cfp_h5_read_runs(path, on_run, &runs, &st), CFP_ERR_OK);
    ASSERT_EQ(runs.n, 1);
    {
        struct seen_tasks s = {1, 0, 10};
        ASSERT_EQ(cfp_h5_read_tasks(path, "0001-sequential", on_task, &s, &st), CFP_ERR_OK);
        ASSERT_EQ(s.n, 10);
    }
    assert_no_open_objects();
    unlink(path);
}

/* close without run_end keeps every appended row and complete = 0. */
static void test_interrupted(void)
{
    char path[128];
    struct seen_runs runs;
    struct cfp_run_info want;
    struct cfp_status st;
    struct cfp_h5 *h;

    path_in_dir(path, sizeof(path), "interrupted.h5");
    h = open_ok(path);
    write_interrupted(h, 70);
    cfp_h5_close(&h);
    memset(&runs, 0, sizeof(runs));
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_read_runs(path, on_run, &runs, &st), CFP_ERR_OK);
    ASSERT_EQ(runs.n, 1);
    ASSERT_STREQ(runs.id[0], "0001-mpi");
    gen_info(3, 70, true, &want);
    want.complete = 0; /* given as 1 at begin: forced to 0 */
    check_info(&runs.info[0], &want);
    ASSERT_EQ(count_tasks(path, "0001-mpi", 3), 70);
    assert_no_open_objects();
    unlink(path);
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child writes, then dies without closing (as on SIGKILL: no atexit, no
 * flush). Returns the child's exit status: 0 if its appends took < 0.9 s. */
static int killed_writer(const char *path, int64_t n, double pause_at_3)
{
    int status = 0;
    pid_t pid = fork();

    ASSERT(pid >= 0);
    if (pid == 0) {
        struct cfp_h5 *h = open_ok(path);
        double t0 = mono_s();
        write_interrupted(h, 3);
        if (pause_at_3 > 0)
            usleep((useconds_t)(pause_at_3 * 1e6));
        append_rows(h, 3, 3, n);
        _exit(mono_s() - t0 - pause_at_3 < 0.9 ? 0 : 3);
    }
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* What is on disk after a crash is exactly what the batch rules wrote. */
static void test_killed(void)
{
    char path[128];
    struct seen_runs runs;
    struct cfp_status st;
    struct cfp_h5 *h;
    int64_t rows;
    int fast;

    path_in_dir(path, sizeof(path), "killed.h5");
    /* 100 quick appends: one full batch of 64 reached the disk. */
    fast = killed_writer(path, 100, 0) == 0;
    rows = count_tasks(path, "0001-mpi", 3);
    if (fast)
        ASSERT_EQ(rows, CFP_H5_BATCH);
    else /* a very slow machine also flushed on time */
        ASSERT(rows >= CFP_H5_BATCH && rows <= 100);
    /* 3 rows, a pause over CFP_H5_FLUSH_S, 1 more: the 4th append wrote 4. */
    (void)killed_writer(path, 4, CFP_H5_FLUSH_S + 0.2);
    ASSERT_EQ(count_tasks(path, "0002-mpi", 3), 4);

    memset(&runs, 0, sizeof(runs));
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_read_runs(path, on_run, &runs, &st), CFP_ERR_OK);
    ASSERT_EQ(runs.n, 2);
    ASSERT_EQ(runs.info[0].complete, 0);
    ASSERT_EQ(runs.info[1].complete, 0);
    /* The file is still writable: the next run appends after both. */
    h = open_ok(path);
    write_run(h, 1, 5, "0003-sequential");
    cfp_h5_close(&h);
    ASSERT_EQ(count_tasks(path, "0003-sequential", 1), 5);
    assert_no_open_objects();
    unlink(path);
}

/* A file written before an attribute existed reads it as 0: here
 * mpi_startup_s, the newest, removed from a finished mpi run. */
static void test_older_file(void)
{
    char path[128];
    struct seen_runs runs;
    struct cfp_run_info want;
    struct cfp_status st;
    struct cfp_h5 *h;
    hid_t f, g;

    path_in_dir(path, sizeof(path), "older.h5");
    h = open_ok(path);
    write_run(h, 3, 10, "0001-mpi");
    cfp_h5_close(&h);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT(f >= 0);
    g = H5Gopen2(f, "/runs/0001-mpi", H5P_DEFAULT);
    ASSERT(g >= 0);
    ASSERT(H5Aexists(g, "mpi_startup_s") > 0);
    ASSERT(H5Adelete(g, "mpi_startup_s") >= 0);
    H5Gclose(g);
    H5Fclose(f);
    memset(&runs, 0, sizeof(runs));
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_read_runs(path, on_run, &runs, &st), CFP_ERR_OK);
    ASSERT_EQ(runs.n, 1);
    gen_info(3, 10, false, &want);
    want.mpi_startup_s = 0;
    check_info(&runs.info[0], &want);
    assert_no_open_objects();
    unlink(path);
}

static void write_bytes(const char *path, const char *data)
{
    FILE *f = fopen(path, "wb");

    ASSERT(f != NULL);
    ASSERT(fputs(data, f) >= 0);
    ASSERT(fclose(f) == 0);
}

/* An HDF5 file that is not ours: no schema_version, or another version. */
static void write_foreign_h5(const char *path, int version)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);

    ASSERT(f >= 0);
    if (version >= 0) {
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(f, "schema_version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        ASSERT(a >= 0 && H5Awrite(a, H5T_NATIVE_INT, &version) >= 0);
        H5Aclose(a);
        H5Sclose(sp);
    }
    H5Fclose(f);
}

static int never(void *ctx, const char *id, const struct cfp_run_info *info)
{
    (void)ctx;
    (void)id;
    (void)info;
    CFP_FAILF("callback called");
    return 1;
}

/* Opening (for writing or reading) a file that is not a cfp results file
 * fails with a message naming the file and the reason, and leaves it alone. */
static void expect_open_fails(const char *path, cfp_err code, const char *why)
{
    struct cfp_h5 *h = NULL;
    struct cfp_status st;

    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_open(path, &h, &st), code);
    ASSERT(h == NULL);
    ASSERT_CONTAINS(st.msg, path);
    ASSERT_CONTAINS(st.msg, why);
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_read_runs(path, never, NULL, &st), code);
    ASSERT_CONTAINS(st.msg, why);
    assert_no_open_objects();
}

static void test_bad_files(void)
{
    char path[128];
    FILE *f;
    char buf[16] = "";

    path_in_dir(path, sizeof(path), "not-hdf5.h5");
    write_bytes(path, "hello, not HDF5\n");
    expect_open_fails(path, CFP_ERR_HDF5, "not an HDF5 file");
    f = fopen(path, "rb");
    ASSERT(f && fgets(buf, sizeof(buf), f));
    fclose(f);
    ASSERT_STREQ(buf, "hello, not HDF5"); /* untouched */
    unlink(path);

    /* An empty file is not HDF5 for a reader; the writer makes it a new
     * results file (nothing to lose: mktemp, touch). */
    write_bytes(path, "");
    {
        struct cfp_status st;
        struct cfp_h5 *h;
        cfp_status_clear(&st);
        ASSERT_EQ(cfp_h5_read_runs(path, never, NULL, &st), CFP_ERR_HDF5);
        ASSERT_CONTAINS(st.msg, "empty, not an HDF5 file");
        h = open_ok(path);
        write_run(h, 1, 3, "0001-sequential");
        cfp_h5_close(&h);
        ASSERT_EQ(count_tasks(path, "0001-sequential", 1), 3);
    }
    unlink(path);

    path_in_dir(path, sizeof(path), "foreign.h5");
    write_foreign_h5(path, -1);
    expect_open_fails(path, CFP_ERR_HDF5, "not a cfp results file");
    write_foreign_h5(path, 2);
    expect_open_fails(path, CFP_ERR_HDF5, "schema_version 2 is not supported");
    unlink(path);

    path_in_dir(path, sizeof(path), "no-such-dir/results.h5");
    expect_open_fails(path, CFP_ERR_IO, "No such file or directory");
    {
        struct cfp_h5 *h = NULL;
        struct cfp_status st;
        cfp_status_clear(&st);
        ASSERT_EQ(cfp_h5_open(path, &h, &st), CFP_ERR_IO);
        ASSERT_CONTAINS(st.msg, "directory");
        ASSERT_CONTAINS(st.msg, "no-such-dir");
    }
    expect_open_fails(dir, CFP_ERR_IO, "not a regular file");
}

/* `test_h5 expect-locked FILE`, run in a fresh process while the parent
 * holds FILE open: HDF5's lock makes the open fail with a message. */
static int expect_locked_mode(const char *path)
{
    struct cfp_h5 *h = NULL;
    struct cfp_status st;

    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_open(path, &h, &st), CFP_ERR_HDF5);
    ASSERT_CONTAINS(st.msg, "file is locked");
    ASSERT_CONTAINS(st.msg, "HDF5_USE_FILE_LOCKING=FALSE");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_read_runs(path, never, NULL, &st), CFP_ERR_HDF5);
    ASSERT_CONTAINS(st.msg, "file is locked");
    return 0;
}

static void test_locked(void)
{
    char path[128];
    struct cfp_h5 *h;
    int status;
    pid_t pid;

    if (getenv("HDF5_USE_FILE_LOCKING")) {
        cfp_skip_part("test_h5", "test_locked", "HDF5_USE_FILE_LOCKING is set");
        return;
    }
    path_in_dir(path, sizeof(path), "locked.h5");
    h = open_ok(path);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        /* exec: a forked HDF5 would share the parent's open file instead of
         * opening (and locking) it anew. */
        execl(argv0, argv0, "expect-locked", path, (char *)NULL);
        _exit(127);
    }
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    cfp_h5_close(&h);
    unlink(path);
}

/* Misuse is CFP_ERR_USAGE with a message, and changes nothing. */
static void test_usage(void)
{
    char path[128], id[CFP_H5_RUN_ID_MAX];
    struct cfp_run_info info;
    struct cfp_status st;
    struct cfp_record r;
    struct cfp_h5 *h;

    path_in_dir(path, sizeof(path), "usage.h5");
    h = open_ok(path);
    gen_record(1, 0, false, &r);
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_append(h, &r, &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "append without a run");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_write_ranks(h, NULL, NULL, NULL, NULL, 0, &st), CFP_ERR_USAGE);
    memset(&info, 0, sizeof(info));
    cfp_iso8601_now(info.started, sizeof(info.started));
    ASSERT_EQ(strlen(info.started), 20); /* "YYYY-MM-DDTHH:MM:SSZ" */
    ASSERT_EQ(info.started[19], 'Z');
    snprintf(info.mode, sizeof(info.mode), "../x");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_run_begin(h, &info, id, sizeof(id), &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "invalid run mode '../x'");
    snprintf(info.mode, sizeof(info.mode), "local");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_run_begin(h, &info, id, 7, &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "too small");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_run_begin(h, &info, id, sizeof(id), &st), CFP_ERR_OK);
    ASSERT_STREQ(id, "0001-local"); /* the failed attempts left no group */
    ASSERT_EQ(cfp_h5_run_begin(h, &info, id, sizeof(id), &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "0001-local is still open");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_write_ranks(h, NULL, NULL, NULL, NULL, 0, &st), CFP_ERR_OK); /* empty */
    info.complete = 1;
    ASSERT_EQ(cfp_h5_run_end(h, &info, &st), CFP_ERR_OK);
    ASSERT_EQ(cfp_h5_run_end(h, &info, &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "run_end without a run");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_flush(h, &st), CFP_ERR_OK);
    cfp_h5_close(&h);

    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_read_tasks(path, "0002-local", on_task, NULL, &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "0002-local: no such run");
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_h5_read_tasks(path, "0001-local/../x", on_task, NULL, &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "invalid run id");
    {
        struct seen_tasks s = {1, 0, 0};
        ASSERT_EQ(cfp_h5_read_tasks(path, "0001-local", on_task, &s, &st), CFP_ERR_OK);
        ASSERT_EQ(s.n, 0);
    }
    assert_no_open_objects();
    unlink(path);
}

/* One full cycle; returns the first error (after closing the handle). */
static cfp_err cycle(const char *path, struct cfp_status *st)
{
    const int32_t rank[] = {0, 1};
    const int64_t tasks[] = {2, 1};
    const double busy[] = {0.25, 0.5};
    struct cfp_run_info info;
    struct seen_runs runs;
    struct seen_tasks s = {1, 0, 0};
    struct cfp_record r;
    struct cfp_h5 *h = NULL;
    char id[CFP_H5_RUN_ID_MAX];
    cfp_err err;
    int64_t i;

    gen_info(1, 3, false, &info);
    err = cfp_h5_open(path, &h, st);
    if (!err)
        err = cfp_h5_run_begin(h, &info, id, sizeof(id), st);
    for (i = 0; !err && i < 3; i++) {
        gen_record(1, i, false, &r);
        err = cfp_h5_append(h, &r, st);
    }
    if (!err)
        err = cfp_h5_write_ranks(h, rank, tasks, busy, NULL, 2, st);
    if (!err)
        err = cfp_h5_run_end(h, &info, st);
    cfp_h5_close(&h);
    memset(&runs, 0, sizeof(runs));
    if (!err)
        err = cfp_h5_read_runs(path, on_run, &runs, st);
    if (!err)
        err = cfp_h5_read_tasks(path, "0001-sequential", on_task, &s, st);
    if (!err)
        ASSERT(runs.n == 1 && s.n == 3);
    return err;
}

/* Each allocation in turn fails: the call returns NOMEM with a message and
 * leaves no HDF5 object open (ASan/valgrind check the memory). */
static void test_nomem(void)
{
    char path[128];
    struct cfp_status st;
    cfp_err err = CFP_ERR_NOMEM;
    long n;

    path_in_dir(path, sizeof(path), "nomem.h5");
    for (n = 1; n < 100 && err; n++) {
        (void)unlink(path);
        cfp_status_clear(&st);
        cfp_mem_fail_after(n);
        err = cycle(path, &st);
        cfp_mem_fail_after(0);
        assert_no_open_objects();
        if (err) {
            ASSERT_EQ(err, CFP_ERR_NOMEM);
            ASSERT_CONTAINS(st.msg, "out of memory");
        }
    }
    ASSERT_EQ(err, CFP_ERR_OK);
    ASSERT(n > 8); /* open, ranks and both readers allocate */
    unlink(path);
}

int main(int argc, char **argv)
{
    argv0 = argv[0];
    if (argc == 3 && strcmp(argv[1], "write") == 0)
        return write_mode(argv[2]);
    if (argc == 3 && strcmp(argv[1], "expect-locked") == 0)
        return expect_locked_mode(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: test_h5 [write FILE]\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "h5_test_XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
    test_roundtrip();
    test_interrupted();
    test_killed();
    test_older_file();
    test_bad_files();
    test_locked();
    test_usage();
    test_nomem();
    ASSERT(rmdir(dir) == 0);
    puts("test_h5: ok");
    return 0;
}
