/* test_async.c - the async engine through cfp_engine_run(): same records as
 * the sequential engine, transfers really overlap (loopback server with
 * latency), retries wait without blocking the loop, the memory bound holds
 * under back-pressure from a slow sink, an image is not held up behind the
 * texts the loop processes itself, fatal source and sink errors stop
 * the run with their message, and allocation failures reach the cleanup
 * paths. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "engine/cfp_engine.h"
#include "task/cfp_fetch.h"
#include "base/cfp_mem.h"
#include "lab/cfp_server.h"
#include "cfp_test.h"

#define MAX_TASKS 600

static char base[64]; /* temp dir: files/ and one out-<case>/ per case */

/* ---- a source over an array of URLs ----------------------------------- */

struct list_src {
    const char **urls;
    int n, next;
    int fail_at;         /* -1: never; else returns an error instead of task fail_at */
    pthread_mutex_t *mu; /* guards started (read by the sink's thread) */
    int *started;
    const bool *truncated; /* optional per-task url_truncated flag */
};

static cfp_err list_next(struct cfp_source *s, struct cfp_task *t, bool *done,
                         struct cfp_status *st)
{
    struct list_src *l = s->ctx;

    if (l->next == l->fail_at)
        return cfp_status_set(st, CFP_ERR_IO, "list broke at task %d", l->next);
    if (l->next >= l->n) {
        *done = true;
        return CFP_ERR_OK;
    }
    memset(t, 0, sizeof(*t));
    t->index = l->next;
    snprintf(t->url, sizeof(t->url), "%s", l->urls[l->next]);
    t->url_truncated = l->truncated && l->truncated[l->next];
    l->next++;
    *done = false;
    if (l->mu) {
        pthread_mutex_lock(l->mu);
        (*l->started)++;
        pthread_mutex_unlock(l->mu);
    }
    return CFP_ERR_OK;
}

/* ---- a sink keeping every record by index ----------------------------- */

struct rec_sink {
    struct cfp_record *recs; /* MAX_TASKS, by index */
    int seen[MAX_TASKS];
    int pushes;
    int fail_at;       /* -1: never; else push number fail_at fails */
    unsigned sleep_us; /* per push: a slow writer */
    /* bound check: tasks read from the source but not yet delivered */
    pthread_mutex_t *mu;
    const int *started;
    int max_open;
};

static cfp_err rec_push(struct cfp_sink *s, const struct cfp_record *r, struct cfp_status *st)
{
    struct rec_sink *k = s->ctx;

    ASSERT(r->index >= 0 && r->index < MAX_TASKS);
    if (k->pushes++ == k->fail_at)
        return cfp_status_set(st, CFP_ERR_HDF5, "results disk full at push %d", k->fail_at);
    k->seen[r->index]++;
    k->recs[r->index] = *r;
    if (k->mu) {
        pthread_mutex_lock(k->mu);
        if (*k->started - (k->pushes - 1) > k->max_open)
            k->max_open = *k->started - (k->pushes - 1);
        pthread_mutex_unlock(k->mu);
    }
    if (k->sleep_us)
        usleep(k->sleep_us);
    return CFP_ERR_OK;
}

static void sink_init(struct rec_sink *k)
{
    memset(k, 0, sizeof(*k));
    k->recs = calloc(MAX_TASKS, sizeof(*k->recs));
    ASSERT(k->recs);
    k->fail_at = -1;
}

/* ---- fixture ------------------------------------------------------------ */

static void write_file(const char *name, const char *data, size_t len)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/files/%s", base, name);
    f = fopen(path, "wb");
    ASSERT(f);
    ASSERT_EQ(fwrite(data, 1, len, f), len);
    ASSERT_EQ(fclose(f), 0);
}

static void task_cfg(struct cfp_task_cfg *c, const char *out)
{
    static char dirs[8][128];
    static int ndirs;
    char *d = dirs[ndirs++ % 8];

    snprintf(d, 128, "%s/%s", base, out);
    ASSERT(mkdir(d, 0755) == 0 || access(d, W_OK) == 0);
    memset(c, 0, sizeof(*c));
    c->output_dir = d;
    c->fetch.max_bytes = 1 << 20;
    c->fetch.timeout_s = 10;
    c->fetch.retries = 2;
    c->fetch.backoff_s = 0.05;
    c->max_side = 512;
    c->max_pixels = 100000000;
    c->max_record = 1 << 20;
    c->t0 = cfp_now();
}

static cfp_err run(enum cfp_mode m, int workers, int conc, const struct cfp_task_cfg *c,
                   struct list_src *ls, struct rec_sink *k, struct cfp_engine_stats *stats,
                   struct cfp_status *st)
{
    struct cfp_engine_opts eo = {workers, conc, workers, 0};
    struct cfp_source src = {list_next, ls};
    struct cfp_sink sink = {rec_push, k};

    cfp_status_clear(st);
    return cfp_engine_run(m, &eo, c, &src, &sink, stats, st);
}

/* A loopback server over base/files with latency_ms per request. */
static struct cfp_server *serve_files(int latency_ms)
{
    struct cfp_server_opts so = {0};
    struct cfp_server *srv = NULL;
    struct cfp_status st;
    static char root[128];

    snprintf(root, sizeof(root), "%s/files", base);
    so.root = root;
    so.latency_ms = latency_ms;
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_server_start(&so, &srv, &st), CFP_ERR_OK);
    return srv;
}

/* The URL of file `name` under srv. */
static void served_url(struct cfp_server *srv, const char *name, char *url, size_t size)
{
    int n = snprintf(url, size, "http://127.0.0.1:%u/%s", cfp_server_port(srv), name);

    ASSERT(n > 0 && (size_t)n < size);
}

/* ---- cases -------------------------------------------------------------- */

#define N_TEXT  12
#define N_MIXED (N_TEXT + 8)

/* Texts with hand-known word counts (file i holds i + 1 words), CSVs, and
 * every failure the loop side can meet: missing file, bad scheme, malformed
 * and over-long URL, unknown type, empty body. */
static void make_mixed(char urls[N_MIXED][160], bool trunc[N_MIXED])
{
    static const char *const tail[] = {"a.csv", "bad.csv", "blob.bin", "empty.txt", "missing.txt"};
    char name[64], body[512];
    int n = 0;

    for (int i = 0; i < N_TEXT; i++) {
        size_t len = 0;
        for (int w = 0; w <= i; w++)
            len += (size_t)snprintf(body + len, sizeof(body) - len, "w%d%s", w, w % 3 ? " " : "\n");
        snprintf(name, sizeof(name), "t%02d.txt", i);
        write_file(name, body, len);
        snprintf(urls[n++], 160, "file://%s/files/%s", base, name);
    }
    write_file("a.csv", "x,y\n1,2\n3,4\n", 12);
    write_file("bad.csv", "x,y\n1,2,3\n", 10);
    write_file("blob.bin", "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9);
    write_file("empty.txt", "", 0);
    for (int i = 0; i < 5; i++)
        snprintf(urls[n++], 160, "file://%s/files/%s", base, tail[i]);
    snprintf(urls[n++], 160, "ftp://127.0.0.1/x.txt");
    snprintf(urls[n++], 160, "http://exa mple.com/x.txt");
    snprintf(urls[n++], 160, "file://%s/files/t00.txt", base);
    memset(trunc, 0, N_MIXED * sizeof(*trunc));
    trunc[n - 1] = true;
    ASSERT_EQ(n, N_MIXED);
}

/* Async must record what sequential records. */
static void compare_records(const struct rec_sink *ka, const struct rec_sink *ks, int n)
{
    for (int i = 0; i < n; i++) {
        const struct cfp_record *a = &ka->recs[i], *s = &ks->recs[i];
        ASSERT_EQ(ka->seen[i], 1);
        ASSERT_EQ(a->index, i);
        ASSERT_EQ(a->code, s->code);
        ASSERT_STREQ(a->kind, s->kind);
        ASSERT_STREQ(a->error, s->error);
        ASSERT_STREQ(a->digest, s->digest);
        ASSERT_EQ(a->attempts, s->attempts);
        ASSERT_EQ(a->bytes_in, s->bytes_in);
        ASSERT_EQ(a->bytes_out, s->bytes_out);
        ASSERT_EQ(a->words, s->words);
        ASSERT_EQ(a->rows, s->rows);
        ASSERT(a->worker >= 0 && a->worker < 2);
        ASSERT(a->t_fetch >= 0 && a->t_start >= 0);
    }
}

static void test_same_as_sequential(void)
{
    static char urls[N_MIXED][160];
    const char *u[N_MIXED];
    bool trunc[N_MIXED];
    struct cfp_task_cfg cs, ca;
    struct rec_sink ks, ka;
    struct list_src ls;
    struct cfp_engine_stats ss, sa;
    struct cfp_status st;

    make_mixed(urls, trunc);
    for (int i = 0; i < N_MIXED; i++)
        u[i] = urls[i];
    task_cfg(&cs, "out-seq");
    task_cfg(&ca, "out-async");
    sink_init(&ks);
    sink_init(&ka);
    ls = (struct list_src){u, N_MIXED, 0, -1, NULL, NULL, trunc};
    ASSERT_EQ(run(CFP_MODE_SEQUENTIAL, 1, 1, &cs, &ls, &ks, &ss, &st), CFP_ERR_OK);
    ls = (struct list_src){u, N_MIXED, 0, -1, NULL, NULL, trunc};
    ASSERT_EQ(run(CFP_MODE_ASYNC, 2, 4, &ca, &ls, &ka, &sa, &st), CFP_ERR_OK);
    ASSERT_EQ(sa.tasks, N_MIXED);
    ASSERT_EQ(sa.ok, ss.ok);
    ASSERT_EQ(sa.failed, ss.failed);
    ASSERT_EQ(sa.bytes_in, ss.bytes_in);
    ASSERT_EQ(sa.bytes_out, ss.bytes_out);
    compare_records(&ka, &ks, N_MIXED);
    for (int i = 0; i < N_TEXT; i++)
        ASSERT_EQ(ka.recs[i].words, i + 1);
    ASSERT_EQ(ka.recs[N_TEXT].rows, 2);
    ASSERT_EQ(ka.recs[N_TEXT + 1].code, CFP_ERR_CSV);
    ASSERT_EQ(ka.recs[N_TEXT + 2].code, CFP_ERR_TYPE);
    ASSERT_EQ(ka.recs[N_TEXT + 3].code, CFP_ERR_OK);
    ASSERT_EQ(ka.recs[N_TEXT + 3].words, 0);
    ASSERT_EQ(ka.recs[N_TEXT + 4].code, CFP_ERR_IO);
    ASSERT_EQ(ka.recs[N_TEXT + 5].code, CFP_ERR_SCHEME);
    ASSERT_EQ(ka.recs[N_TEXT + 5].attempts, 0);
    ASSERT_EQ(ka.recs[N_TEXT + 6].code, CFP_ERR_URL);
    ASSERT_EQ(ka.recs[N_TEXT + 7].code, CFP_ERR_URL);
    ASSERT_CONTAINS(ka.recs[N_TEXT + 7].error, "too long");
    free(ks.recs);
    free(ka.recs);
}

/* 32 requests against 200 ms of server latency: one after the other they
 * take 6.4 s; 32 in flight take about one latency. */
static void test_overlap(void)
{
    struct cfp_server *srv;
    static char urls[32][128];
    const char *u[32];
    struct cfp_task_cfg c;
    struct rec_sink k;
    struct list_src ls;
    struct cfp_engine_stats stats;
    struct cfp_status st;
    char name[32];
    double t0, wall;

    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof(name), "o%02d.txt", i);
        write_file(name, "one two three\n", 14);
    }
    srv = serve_files(200);
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof(name), "o%02d.txt", i);
        served_url(srv, name, urls[i], sizeof(urls[i]));
        u[i] = urls[i];
    }
    task_cfg(&c, "out-overlap");
    sink_init(&k);
    ls = (struct list_src){u, 32, 0, -1, NULL, NULL, NULL};
    t0 = cfp_now();
    ASSERT_EQ(run(CFP_MODE_ASYNC, 2, 32, &c, &ls, &k, &stats, &st), CFP_ERR_OK);
    wall = cfp_now() - t0;
    cfp_server_stop(&srv);
    ASSERT_EQ(stats.ok, 32);
    for (int i = 0; i < 32; i++) {
        ASSERT_EQ(k.recs[i].http_status, 200);
        ASSERT_EQ(k.recs[i].words, 3);
        ASSERT(k.recs[i].t_fetch >= 0.19);
    }
    if (wall > 3.0)
        CFP_FAILF("32 requests at 200 ms latency took %.2f s: transfers did not overlap", wall);
    free(k.recs);
}

/* A 2x2 RGB PNG (79 bytes). */
static const unsigned char tiny_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x16, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x3c, 0xc1, 0xc5, 0xc5,
    0xc0, 0xc0, 0xc0, 0xc4, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0x00, 0x00, 0x0b, 0x38, 0x00, 0xe0, 0x11,
    0xf4, 0xd5, 0xd6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

#define N_BIG      8
#define BIG_TEXT   ((size_t)8 << 20)

/* An image is handed to the pool as soon as its body is in, not when the
 * loop is done with the texts it processes itself: a tiny PNG listed after
 * eight 8 MB texts, all in flight at once at latency 0, is delivered
 * before any text is done. Before issue #18 one curl_multi_perform call
 * drained every busy socket, so the image reached the pool only with the
 * texts (async's first image after 0.3-0.4 s on the peer dataset). */
static void test_image_not_behind_streams(void)
{
    struct cfp_server *srv;
    static char urls[N_BIG + 1][128];
    const char *u[N_BIG + 1];
    struct cfp_task_cfg c;
    struct rec_sink k;
    struct list_src ls;
    struct cfp_engine_stats stats;
    struct cfp_status st;
    char name[N_BIG + 1][32];
    char *text = malloc(BIG_TEXT);
    double img_end;

    ASSERT(text);
    for (size_t i = 0; i < BIG_TEXT; i++)
        text[i] = i % 6 == 5 ? (i % 60 == 59 ? '\n' : ' ') : (char)('a' + i % 7);
    for (int i = 0; i < N_BIG; i++) {
        snprintf(name[i], sizeof(name[i]), "big%d.txt", i);
        write_file(name[i], text, BIG_TEXT);
    }
    free(text);
    snprintf(name[N_BIG], sizeof(name[N_BIG]), "tiny.png");
    write_file(name[N_BIG], (const char *)tiny_png, sizeof(tiny_png));
    srv = serve_files(0);
    for (int i = 0; i <= N_BIG; i++) {
        served_url(srv, name[i], urls[i], sizeof(urls[i]));
        u[i] = urls[i];
    }
    task_cfg(&c, "out-first");
    c.fetch.max_bytes = BIG_TEXT * 2;
    sink_init(&k);
    ls = (struct list_src){u, N_BIG + 1, 0, -1, NULL, NULL, NULL};
    ASSERT_EQ(run(CFP_MODE_ASYNC, 2, N_BIG + 1, &c, &ls, &k, &stats, &st), CFP_ERR_OK);
    cfp_server_stop(&srv);
    ASSERT_EQ(stats.ok, N_BIG + 1);
    ASSERT_STREQ(k.recs[N_BIG].kind, "image");
    ASSERT_EQ(k.recs[N_BIG].width_out, 2);
    img_end = k.recs[N_BIG].t_start + k.recs[N_BIG].t_fetch;
    for (int i = 0; i < N_BIG; i++) {
        double end = k.recs[i].t_start + k.recs[i].t_fetch + k.recs[i].t_process;
        ASSERT_EQ(k.recs[i].bytes_in, (int64_t)BIG_TEXT);
        if (end <= img_end)
            CFP_FAILF("text %d was done at %.3f s, the 79-byte image only at %.3f s: the image "
                      "waited behind the texts", i, end, img_end);
    }
    for (int i = 0; i < N_BIG; i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/files/big%d.txt", base, i);
        (void)unlink(path);
    }
    free(k.recs);
}

/* Refused connections are transient: each is retried twice after 0.3 s
 * then 0.6 s. Eight of them waiting must not hold up the loop: the good
 * files finish at once and the whole run takes about one retry sequence. */
static void test_retries_do_not_block(void)
{
    static char urls[16][128];
    const char *u[16];
    struct cfp_task_cfg c;
    struct rec_sink k;
    struct list_src ls;
    struct cfp_engine_stats stats;
    struct cfp_status st;
    double t0, wall;

    for (int i = 0; i < 16; i++) {
        if (i % 2)
            snprintf(urls[i], sizeof(urls[i]), "file://%s/files/o%02d.txt", base, i);
        else
            snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:1/r%d.txt", i);
        u[i] = urls[i];
    }
    task_cfg(&c, "out-retry");
    c.fetch.backoff_s = 0.3;
    sink_init(&k);
    ls = (struct list_src){u, 16, 0, -1, NULL, NULL, NULL};
    t0 = cfp_now();
    ASSERT_EQ(run(CFP_MODE_ASYNC, 1, 16, &c, &ls, &k, &stats, &st), CFP_ERR_OK);
    wall = cfp_now() - t0;
    ASSERT_EQ(stats.failed, 8);
    for (int i = 0; i < 16; i++) {
        const struct cfp_record *r = &k.recs[i];
        if (i % 2) {
            ASSERT_EQ(r->code, CFP_ERR_OK);
            ASSERT(r->t_fetch < 0.25);
        } else {
            ASSERT_EQ(r->code, CFP_ERR_CONNECT);
            ASSERT_EQ(r->attempts, 3);
            ASSERT(r->t_fetch >= 0.85); /* 0.3 + 0.6 s of backoff */
            ASSERT_CONTAINS(r->error, "127.0.0.1");
        }
    }
    if (wall > 3.0)
        CFP_FAILF("8 retried tasks took %.2f s: retries blocked the loop", wall);
    free(k.recs);
}

/* One CPU worker behind a slow sink: the queue fills, finished jobs wait in
 * the loop, and no new task starts. Tasks read but not delivered never
 * exceed concurrency (slots) + 2 * workers (queue) + workers (processing,
 * the task being delivered included). Over http: file:// tasks go to the
 * pool at once and never fill the transfer slots. */
static void test_backpressure_bound(void)
{
    static char urls[MAX_TASKS][128];
    const char *u[MAX_TASKS];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int started = 0, conc = 8, workers = 1, n = 300;
    struct cfp_server *srv;
    struct cfp_task_cfg c;
    struct rec_sink k;
    struct list_src ls;
    struct cfp_engine_stats stats;
    struct cfp_status st;
    char name[32];

    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof(name), "o%02d.txt", i);
        write_file(name, "one two three\n", 14);
    }
    srv = serve_files(0);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "o%02d.txt", i % 32);
        served_url(srv, name, urls[i], sizeof(urls[i]));
        u[i] = urls[i];
    }
    task_cfg(&c, "out-bp");
    sink_init(&k);
    k.sleep_us = 1000;
    k.mu = &mu;
    k.started = &started;
    ls = (struct list_src){u, n, 0, -1, &mu, &started, NULL};
    ASSERT_EQ(run(CFP_MODE_ASYNC, workers, conc, &c, &ls, &k, &stats, &st), CFP_ERR_OK);
    cfp_server_stop(&srv);
    ASSERT_EQ(stats.ok, n);
    for (int i = 0; i < n; i++)
        ASSERT_EQ(k.seen[i], 1);
    if (k.max_open > conc + 3 * workers)
        CFP_FAILF("%d tasks open at once, bound %d", k.max_open, conc + 3 * workers);
    /* The slow sink must have filled the pipeline, or the check proved nothing. */
    ASSERT(k.max_open >= conc);
    free(k.recs);
}

static void test_fatal_errors(void)
{
    static char urls[200][128];
    const char *u[200];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    int started = 0;
    struct cfp_task_cfg c;
    struct rec_sink k;
    struct list_src ls;
    struct cfp_engine_stats stats;
    struct cfp_status st;

    for (int i = 0; i < 200; i++) {
        snprintf(urls[i], sizeof(urls[i]), "file://%s/files/o%02d.txt", base, i % 32);
        u[i] = urls[i];
    }
    task_cfg(&c, "out-fatal");

    /* The source fails at task 10: its error and message are the run's. */
    sink_init(&k);
    ls = (struct list_src){u, 200, 0, 10, NULL, NULL, NULL};
    ASSERT_EQ(run(CFP_MODE_ASYNC, 2, 4, &c, &ls, &k, &stats, &st), CFP_ERR_IO);
    ASSERT_CONTAINS(st.msg, "list broke at task 10");
    ASSERT(k.pushes <= 10);
    for (int i = 10; i < 200; i++)
        ASSERT_EQ(k.seen[i], 0);
    free(k.recs);

    /* The sink fails at its 5th push: nothing is pushed after it, and the
     * source is not read to its end. */
    sink_init(&k);
    k.fail_at = 4;
    ls = (struct list_src){u, 200, 0, -1, &mu, &started, NULL};
    ASSERT_EQ(run(CFP_MODE_ASYNC, 1, 4, &c, &ls, &k, &stats, &st), CFP_ERR_HDF5);
    ASSERT_CONTAINS(st.msg, "results disk full at push 4");
    ASSERT_EQ(k.pushes, 5);
    ASSERT(started < 100);
    free(k.recs);

    /* Bad options. */
    sink_init(&k);
    ls = (struct list_src){u, 1, 0, -1, NULL, NULL, NULL};
    ASSERT_EQ(run(CFP_MODE_ASYNC, 0, 4, &c, &ls, &k, &stats, &st), CFP_ERR_USAGE);
    ASSERT_EQ(run(CFP_MODE_ASYNC, 1, 0, &c, &ls, &k, &stats, &st), CFP_ERR_USAGE);
    free(k.recs);
}

/* Every set-up allocation fails in turn (an empty source: no allocation
 * happens once threads run, so the single-threaded failure hook is safe);
 * then the first allocation of a one-task run, the pool thread's worker
 * for the file:// task, which must fail that task alone. */
static void test_alloc_failures(void)
{
    const char *u[1];
    static char url[128];
    struct cfp_task_cfg c;
    struct rec_sink k;
    struct list_src ls;
    struct cfp_engine_stats stats;
    struct cfp_status st;
    cfp_err err;
    long n;

    snprintf(url, sizeof(url), "file://%s/files/o01.txt", base);
    u[0] = url;
    task_cfg(&c, "out-nomem");
    sink_init(&k);
    for (n = 1; n < 100; n++) {
        ls = (struct list_src){u, 0, 0, -1, NULL, NULL, NULL};
        cfp_mem_fail_after(n);
        err = run(CFP_MODE_ASYNC, 2, 4, &c, &ls, &k, &stats, &st);
        cfp_mem_fail_after(0);
        if (err == CFP_ERR_OK)
            break;
        ASSERT_EQ(err, CFP_ERR_NOMEM);
        ASSERT_CONTAINS(st.msg, "out of memory");
    }
    ASSERT(n > 1 && n < 100);
    ls = (struct list_src){u, 1, 0, -1, NULL, NULL, NULL};
    cfp_mem_fail_after(n); /* set-up takes n - 1 allocations */
    ASSERT_EQ(run(CFP_MODE_ASYNC, 2, 4, &c, &ls, &k, &stats, &st), CFP_ERR_OK);
    cfp_mem_fail_after(0);
    ASSERT_EQ(stats.failed, 1);
    ASSERT_EQ(k.recs[0].code, CFP_ERR_NOMEM);
    ASSERT_CONTAINS(k.recs[0].error, "out of memory");
    free(k.recs);
}

int main(void)
{
    struct cfp_status st;
    char cmd[128];

    snprintf(base, sizeof(base), "/tmp/cfp-test-async-XXXXXX");
    ASSERT(mkdtemp(base));
    snprintf(cmd, sizeof(cmd), "%s/files", base);
    ASSERT_EQ(mkdir(cmd, 0755), 0);
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_fetch_global_init(&st), CFP_ERR_OK);
    test_same_as_sequential();
    test_overlap();
    test_image_not_behind_streams();
    test_retries_do_not_block();
    test_backpressure_bound();
    test_fatal_errors();
    test_alloc_failures();
    cfp_fetch_global_cleanup();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    ASSERT_EQ(system(cmd), 0);
    puts("test_async: ok");
    return 0;
}
