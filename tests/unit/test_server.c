/* test_server.c - the loopback HTTP(S) server, driven by libcurl and raw
 * sockets over real loopback connections: file serving, path safety (also
 * through cfp_server_resolve() directly), methods, keep-alive, concurrent
 * latency, the bind address, connection/size/idle limits, HTTPS, stop with
 * suspended requests, start-up errors. */
#include "lab/cfp_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/cfp_mem.h"
#include "lab/cfp_server_internal.h"
#include "cfp_test.h"

#define BIG_SIZE  (5u * 1024u * 1024u)
#define BODY_MAX  (16u * 1024u * 1024u)
#define N_PARALLEL 256

static char base[64];     /* temp dir: root/, root2/, tls/ */
static char root[128];
static char big_data[BIG_SIZE];
static char png_data[3000];

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- fixture ------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(data, 1, len, f), len);
    ASSERT_EQ(fclose(f), 0);
}

static void fill_random(char *buf, size_t len, unsigned seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (char)(seed >> 16);
    }
}

static void at(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", base, rel);
}

/* Registered with atexit() so a failing assertion cleans up too. */
static void remove_tree(void)
{
    char cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", base);
}

/* root/ holds the served files; root2/ sits next to it (same name prefix,
 * so a naive prefix check would accept it) with a secret nobody may read. */
static void make_tree(void)
{
    char p[256], q[256];

    snprintf(base, sizeof(base), "/tmp/cfp_test_server_XXXXXX");
    ASSERT(mkdtemp(base) != NULL);
    atexit(remove_tree);
    snprintf(root, sizeof(root), "%s/root", base);
    ASSERT_EQ(mkdir(root, 0755), 0);
    at(p, sizeof(p), "root/sub");
    ASSERT_EQ(mkdir(p, 0755), 0);
    at(q, sizeof(q), "root2");
    ASSERT_EQ(mkdir(q, 0755), 0);
    write_file(q, "secret.txt", "SECRET\n", 7);

    fill_random(big_data, sizeof(big_data), 7);
    fill_random(png_data, sizeof(png_data), 11);
    memcpy(png_data, "\x89PNG\r\n\x1a\n", 8);
    write_file(root, "a.png", png_data, sizeof(png_data));
    write_file(root, "b.txt", "hello\n", 6);
    write_file(root, "c.csv", "x,y\n1,2\n", 8);
    write_file(root, "d.json", "{\"k\":1}", 7);
    write_file(root, "e.bin", "\0\1\2", 3);
    write_file(root, "F.TXT", "upper\n", 6);
    write_file(root, "empty.txt", "", 0);
    write_file(root, "sp ace.txt", "space\n", 6);
    write_file(root, "big.bin", big_data, sizeof(big_data));
    write_file(p, "g.txt", "in sub\n", 7);

    at(p, sizeof(p), "root/link_in.txt");
    ASSERT_EQ(symlink("b.txt", p), 0);
    at(p, sizeof(p), "root/link_out.txt");
    at(q, sizeof(q), "root2/secret.txt");
    ASSERT_EQ(symlink(q, p), 0); /* absolute, outside */
    at(p, sizeof(p), "root/link_rel.txt");
    ASSERT_EQ(symlink("../root2/secret.txt", p), 0);
    at(p, sizeof(p), "root/dir_out");
    ASSERT_EQ(symlink("../root2", p), 0);
    at(p, sizeof(p), "root/passwd");
    ASSERT_EQ(symlink("/etc/passwd", p), 0);
    at(p, sizeof(p), "root/fifo");
    ASSERT_EQ(mkfifo(p, 0644), 0);
}

/* ---- client -------------------------------------------------------------- */

struct resp {
    CURLcode rc;
    size_t cap;
    long code;
    char *body;
    size_t len;
    curl_off_t clen;  /* Content-Length, -1 when absent */
    char ctype[128];
    double total;     /* seconds */
    long connects;    /* new connections made by this transfer */
    char err[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = size * n;
    char *p;

    if (len > BODY_MAX - r->len)
        return 0;
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;

        while (cap < r->len + len + 1)
            cap *= 2;
        p = realloc(r->body, cap);
        if (!p)
            return 0;
        r->body = p;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

static void resp_reset(struct resp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static void setup(CURL *h, struct resp *r, const char *url)
{
    resp_reset(r);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->err);
    /* Send "/../x" as written: curl would otherwise remove dot segments. */
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_VERBOSE, getenv("V") ? 1L : 0L);
}

static void collect(CURL *h, struct resp *r)
{
    const char *ct = NULL;

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->clen);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &r->total);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf(r->ctype, sizeof(r->ctype), "%s", ct);
}

static void perform(CURL *h, struct resp *r, const char *url)
{
    setup(h, r, url);
    r->rc = curl_easy_perform(h);
    collect(h, r);
}

static void url_for(char *out, size_t n, const char *scheme, uint16_t port, const char *path)
{
    snprintf(out, n, "%s://127.0.0.1:%u%s", scheme, (unsigned)port, path);
}

static void get(uint16_t port, const char *path, struct resp *r)
{
    char url[4096];
    CURL *h = curl_easy_init();

    ASSERT(h != NULL);
    url_for(url, sizeof(url), "http", port, path);
    perform(h, r, url);
    curl_easy_cleanup(h);
}

static struct cfp_server *start_or_die(const struct cfp_server_opts *o)
{
    struct cfp_status st;
    struct cfp_server *s = NULL;
    cfp_err err;

    cfp_status_clear(&st);
    err = cfp_server_start(o, &s, &st);
    if (err)
        CFP_FAILF("cfp_server_start: %s: %s", cfp_errname(err), st.msg);
    ASSERT(s != NULL);
    ASSERT(cfp_server_port(s) != 0);
    return s;
}

/* ---- tests --------------------------------------------------------------- */

static void test_content_type_table(void)
{
    static const struct {
        const char *name, *type;
    } cases[] = {
        {"a.png", "image/png"},         {"A.PNG", "image/png"},
        {"x/b.txt", "text/plain; charset=utf-8"},
        {"c.csv", "text/csv"},          {"d.json", "application/json"},
        {"e.bin", "application/octet-stream"},
        {"noext", "application/octet-stream"},
        {"dir.png/x", "application/octet-stream"},
        {"a.png.gz", "application/octet-stream"},
        {"", "application/octet-stream"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ASSERT_STREQ(cfp_server_content_type(cases[i].name), cases[i].type);
    ASSERT_STREQ(cfp_server_content_type(NULL), "application/octet-stream");
}

/* Each file comes back byte-identical with its length and type. */
static void test_serve_files(uint16_t port)
{
    static const struct {
        const char *path, *type, *data;
        size_t len;
    } cases[] = {
        {"/a.png", "image/png", png_data, sizeof(png_data)},
        {"/b.txt", "text/plain; charset=utf-8", "hello\n", 6},
        {"/c.csv", "text/csv", "x,y\n1,2\n", 8},
        {"/d.json", "application/json", "{\"k\":1}", 7},
        {"/e.bin", "application/octet-stream", "\0\1\2", 3},
        {"/F.TXT", "text/plain; charset=utf-8", "upper\n", 6},
        {"/empty.txt", "text/plain; charset=utf-8", "", 0},
        {"/sub/g.txt", "text/plain; charset=utf-8", "in sub\n", 7},
        {"/sp%20ace.txt", "text/plain; charset=utf-8", "space\n", 6},
        {"/%62.txt", "text/plain; charset=utf-8", "hello\n", 6}, /* %62 = 'b' */
        {"/link_in.txt", "text/plain; charset=utf-8", "hello\n", 6},
        {"/big.bin", "application/octet-stream", big_data, BIG_SIZE},
    };
    struct resp r = {0};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        get(port, cases[i].path, &r);
        if (r.rc != CURLE_OK || r.code != 200)
            CFP_FAILF("GET %s: curl %d (%s) HTTP %ld", cases[i].path, r.rc, r.err, r.code);
        ASSERT_EQ(r.len, cases[i].len);
        ASSERT(r.len == 0 || memcmp(r.body, cases[i].data, r.len) == 0);
        ASSERT_EQ(r.clen, (curl_off_t)cases[i].len);
        ASSERT_STREQ(r.ctype, cases[i].type);
    }
    resp_reset(&r);
}

/* Missing files, directories, special files and everything that tries to
 * leave the root are refused; the secret never comes back. */
static void test_refused(uint16_t port)
{
    static const char *const cases[] = {
        "/missing.txt", "/sub/missing", "/b.txt/x", "/", "/sub", "/fifo",
        "/../root2/secret.txt", "/%2e%2e/root2/secret.txt", "/%2E%2E/root2/secret.txt",
        "/sub/../../root2/secret.txt", "/sub/%2e%2e/%2e%2e/root2/secret.txt",
        "/..%2froot2%2fsecret.txt", "/sub%2f..%2f..%2froot2/secret.txt",
        "/..%5croot2%5csecret.txt", "/sub\\..\\..\\root2\\secret.txt",
        "/a%00b", "/b.txt%00.png", "/b.txt%00", "/%zz", "/b.txt%", "/b.txt%4",
        "/./b.txt", "/sub/./g.txt", "//b.txt", "/sub//g.txt", "/sub/",
        "/link_out.txt", "/link_rel.txt", "/dir_out/secret.txt", "/passwd",
        "/%2fetc/passwd", "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd",
        "/../../../../../../etc/passwd", "/%2562.txt" /* decoded once: "%62.txt" */,
        "/b.txt%0a", "/%7f",
    };
    struct resp r = {0};
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        get(port, cases[i], &r);
        if (r.rc != CURLE_OK)
            CFP_FAILF("GET %s: curl %d (%s)", cases[i], r.rc, r.err);
        if (r.code != 400 && r.code != 403 && r.code != 404)
            CFP_FAILF("GET %s: HTTP %ld, want 400/403/404", cases[i], r.code);
        ASSERT(!r.body || !strstr(r.body, "SECRET"));
        ASSERT(!r.body || !strstr(r.body, "root:"));
    }
    /* Specific codes where the contract fixes them. */
    get(port, "/missing.txt", &r);
    ASSERT_EQ(r.code, 404);
    get(port, "/a%00b", &r);
    ASSERT_EQ(r.code, 400);
    get(port, "/%2e%2e/root2/secret.txt", &r);
    ASSERT_EQ(r.code, 400);
    resp_reset(&r);
}

static void test_long_path(uint16_t port)
{
    char path[CFP_SERVER_PATH_MAX + 64];
    struct resp r = {0};

    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    get(port, path, &r);
    ASSERT_EQ(r.rc, CURLE_OK);
    ASSERT_EQ(r.code, 400);
    /* Escapes count decoded: 3 raw bytes per byte, still under the limit. */
    resp_reset(&r);
}

/* Sends one raw request (curl cannot send these targets) and returns the
 * status code of the reply, 0 if none. */
static int raw_status(uint16_t port, const char *target)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {.tv_sec = 10};
    char req[512], buf[256];
    ssize_t n;
    size_t got = 0;
    int fd, code = 0;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target);
    ASSERT_EQ(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    while (got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
    if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
        return 0;
    return code;
}

/* Reads on fd give up after timeout_ms (EAGAIN). */
static void set_rcvtimeo(int fd, long timeout_ms)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};

    ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

/* A TCP connection to 127.0.0.1:port whose reads give up after timeout_ms. */
static int raw_connect(uint16_t port, long timeout_ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    set_rcvtimeo(fd, timeout_ms);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const char *data, size_t len)
{
    ASSERT_EQ(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* How a raw read ended. */
enum raw_end { RAW_CLOSED, RAW_TIMEOUT, RAW_FULL, RAW_MATCH };

/* Reads into buf (cap bytes, NUL-terminated) until the peer closes (or
 * resets), the read timeout passes, buf is full or (until non-NULL) buf
 * contains until; *code gets the status of the first reply, 0 when none. */
static enum raw_end raw_read_until(int fd, char *buf, size_t cap, const char *until, int *code)
{
    size_t got = 0;
    ssize_t n;
    enum raw_end end = RAW_FULL;

    buf[0] = '\0';
    while (got < cap - 1) {
        n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            if (until && strstr(buf, until)) {
                end = RAW_MATCH;
                break;
            }
            continue;
        }
        end = (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ? RAW_TIMEOUT : RAW_CLOSED;
        break;
    }
    buf[got] = '\0';
    if (sscanf(buf, "HTTP/1.%*d %d", code) != 1)
        *code = 0;
    return end;
}

static enum raw_end raw_read(int fd, char *buf, size_t cap, int *code)
{
    return raw_read_until(fd, buf, cap, NULL, code);
}

/* Request targets that are not origin-form paths. */
static void test_raw_targets(uint16_t port)
{
    ASSERT_EQ(raw_status(port, "/b.txt"), 200); /* the helper itself works */
    ASSERT_EQ(raw_status(port, "http://127.0.0.1/b.txt"), 400);
    ASSERT_EQ(raw_status(port, "b.txt"), 400);
    ASSERT_EQ(raw_status(port, "/../root2/secret.txt"), 400);
    ASSERT_EQ(raw_status(port, "*"), 400);
}

static void test_methods(uint16_t port)
{
    char url[256];
    struct resp r = {0};
    CURL *h = curl_easy_init();

    url_for(url, sizeof(url), "http", port, "/big.bin");
    setup(h, &r, url);
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    r.rc = curl_easy_perform(h);
    collect(h, &r);
    ASSERT_EQ(r.rc, CURLE_OK);
    ASSERT_EQ(r.code, 200);
    ASSERT_EQ(r.len, 0);
    ASSERT_EQ(r.clen, (curl_off_t)BIG_SIZE);
    ASSERT_STREQ(r.ctype, "application/octet-stream");
    curl_easy_cleanup(h);

    h = curl_easy_init();
    setup(h, &r, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    r.rc = curl_easy_perform(h);
    collect(h, &r);
    ASSERT_EQ(r.code, 405);
    setup(h, &r, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "x=1");
    r.rc = curl_easy_perform(h);
    collect(h, &r);
    ASSERT_EQ(r.code, 405);
    curl_easy_cleanup(h);
    resp_reset(&r);
}

/* The second request on the same handle reuses the connection. */
static void test_keepalive(uint16_t port, double min_s)
{
    char url[256];
    struct resp r = {0};
    CURL *h = curl_easy_init();

    url_for(url, sizeof(url), "http", port, "/b.txt");
    perform(h, &r, url);
    ASSERT_EQ(r.code, 200);
    ASSERT_EQ(r.connects, 1);
    ASSERT(r.total >= min_s);
    url_for(url, sizeof(url), "http", port, "/c.csv");
    perform(h, &r, url);
    ASSERT_EQ(r.code, 200);
    ASSERT_STREQ(r.body, "x,y\n1,2\n");
    ASSERT_EQ(r.connects, 0);
    ASSERT(r.total >= min_s); /* the latency applies per request, not per connection */
    curl_easy_cleanup(h);
    resp_reset(&r);
}

/* cfp_server_resolve() on its own: the table of attacks gives the exact
 * status, and every 200 is a descriptor of a file inside the root. */
static void test_resolve_table(void)
{
    static const struct {
        const char *url;
        unsigned code;
    } cases[] = {
        {"/b.txt", 200},
        {"/sub/g.txt", 200},
        {"/%62.txt", 200},
        {"/link_in.txt", 200},
        {"/sp%20ace.txt", 200},
        {"/missing", 404},
        {"/", 403},
        {"/sub", 403},
        {"/fifo", 403},
        {"../root2/secret.txt", 400},
        {"/../root2/secret.txt", 400},
        {"/%2e%2e/root2/secret.txt", 400},
        {"%2e%2e%2froot2/secret.txt", 400},
        {"/..%2froot2%2fsecret.txt", 400},
        {"/sub/..%2f..%2froot2/secret.txt", 400},
        {"//etc/passwd", 400},
        {"/%2fetc/passwd", 400},
        {"http://127.0.0.1/../../etc/passwd", 400},
        {"/..\\root2\\secret.txt", 400},
        {"/%5c..%5croot2", 400},
        {"/b.txt%00", 400},
        {"/b.txt%00.png", 400},
        {"/%", 400},
        {"/%g0", 400},
        {"", 400},
        {"*", 400},
        {"/link_out.txt", 404},
        {"/link_rel.txt", 404},
        {"/dir_out/secret.txt", 404},
        {"/passwd", 404},
    };
    char real_root[PATH_MAX], rel[CFP_SERVER_PATH_MAX + 1], buf[16];
    uint64_t size;
    unsigned code;
    size_t i;
    int fd;

    ASSERT(realpath(root, real_root) != NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fd = -1;
        code = cfp_server_resolve(real_root, cases[i].url, rel, &fd, &size);
        if (code != cases[i].code)
            CFP_FAILF("resolve \"%s\": %u, want %u", cases[i].url, code, cases[i].code);
        if (code != 200) {
            ASSERT_EQ(fd, -1); /* untouched */
            continue;
        }
        ASSERT(fd >= 0);
        ASSERT(size < sizeof(buf));
        ASSERT_EQ(read(fd, buf, sizeof(buf)), (ssize_t)size);
        ASSERT(memcmp(buf, "SECRET", 6) != 0);
        close(fd);
    }
}

/* Decoded length is what counts: exactly CFP_SERVER_PATH_MAX bytes pass the
 * decoding (and are then simply missing), one more is 400. */
static void test_resolve_length(void)
{
    static char url[3 * CFP_SERVER_PATH_MAX + 8];
    char rel[CFP_SERVER_PATH_MAX + 1];
    uint64_t size;
    int fd = -1;
    size_t i;

    url[0] = '/';
    for (i = 1; i < CFP_SERVER_PATH_MAX; i++)
        url[i] = (i % 200 == 0) ? '/' : 'a';
    url[CFP_SERVER_PATH_MAX] = '\0';
    ASSERT_EQ(cfp_server_resolve("/nonexistent-root", url, rel, &fd, &size), 404);
    ASSERT_EQ(strlen(rel), CFP_SERVER_PATH_MAX);
    url[CFP_SERVER_PATH_MAX] = 'a';
    url[CFP_SERVER_PATH_MAX + 1] = '\0';
    ASSERT_EQ(cfp_server_resolve("/nonexistent-root", url, rel, &fd, &size), 400);
    /* Escapes count decoded: "%61" is one byte. */
    for (i = 0; i < CFP_SERVER_PATH_MAX; i++)
        memcpy(url + 1 + 3 * i, (i + 1) % 200 == 0 ? "%2f" : "%61", 3);
    url[1 + 3 * (CFP_SERVER_PATH_MAX - 1)] = '\0';
    ASSERT_EQ(cfp_server_resolve("/nonexistent-root", url, rel, &fd, &size), 404);
    ASSERT_EQ(fd, -1);
}

/* The default bind address is 127.0.0.1 only: another loopback address of
 * the same host (Linux routes all of 127/8 to lo) finds no listener. */
static void test_default_bind(uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd;

    ASSERT_EQ(inet_pton(AF_INET, "127.0.0.2", &sa.sin_addr), 1);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        CFP_FAILF("connected to 127.0.0.2:%u: the server is not bound to 127.0.0.1 only",
                  (unsigned)port);
    ASSERT_EQ(errno, ECONNREFUSED);
    close(fd);
    ASSERT_EQ(raw_status(port, "/b.txt"), 200);
}

static void test_plain_http(void)
{
    struct cfp_server_opts o = {.root = root};
    struct cfp_server *s = start_or_die(&o);
    uint16_t port = cfp_server_port(s);

    test_serve_files(port);
    test_refused(port);
    test_long_path(port);
    test_raw_targets(port);
    test_default_bind(port);
    test_methods(port);
    test_keepalive(port, 0.0);
    cfp_server_stop(&s);
    ASSERT(s == NULL);
    cfp_server_stop(&s); /* NULL-safe */
    cfp_server_stop(NULL);
}

/* A request line or header over CFP_SERVER_CONN_MEMORY is answered 4xx and
 * its connection closed; the server goes on answering. */
static void test_oversized(uint16_t port)
{
    static const char *const heads[] = {"GET /", "GET /b.txt HTTP/1.1\r\nHost: x\r\nX-Big: "};
    static char big[1024 * 1024];
    char buf[512];
    size_t i;
    int fd, code;

    memset(big, 'a', sizeof(big));
    for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        fd = raw_connect(port, 5000);
        raw_send(fd, heads[i], strlen(heads[i]));
        /* The server may close before all of it is sent: a reset or EPIPE. */
        (void)send(fd, big, sizeof(big), MSG_NOSIGNAL);
        (void)raw_read(fd, buf, sizeof(buf), &code);
        close(fd);
        if (code != (i == 0 ? 414 : 431))
            CFP_FAILF("1 MiB %s: status %d, want %d", i == 0 ? "URL" : "header", code,
                      i == 0 ? 414 : 431);
        ASSERT_EQ(raw_status(port, "/b.txt"), 200);
    }
}

/* With all conn_max (4) slots taken by clients stalled in their headers
 * (slowloris), a new client waits in the backlog, unanswered; the idle
 * timeout (1 s) drops the stalled ones without a reply, then the waiting
 * client is served. Returns its connection, still open (keep-alive). */
static int check_slowloris(uint16_t port)
{
    static const char req[] = "GET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    static const char part[] = "GET /b.txt HTTP/1.1\r\nHost:";
    char buf[512];
    int stalled[4], fd, code, i;
    double t0 = now_s(), dt;

    for (i = 0; i < 4; i++) {
        stalled[i] = raw_connect(port, 5000);
        raw_send(stalled[i], part, strlen(part));
    }
    fd = raw_connect(port, 300); /* the kernel accepts it into the backlog */
    raw_send(fd, req, strlen(req));
    ASSERT_EQ(raw_read(fd, buf, sizeof(buf), &code), RAW_TIMEOUT);
    ASSERT_EQ(code, 0);
    set_rcvtimeo(fd, 5000);
    for (i = 0; i < 4; i++) {
        ASSERT_EQ(raw_read(stalled[i], buf, sizeof(buf), &code), RAW_CLOSED);
        ASSERT_EQ(code, 0);
        close(stalled[i]);
    }
    dt = now_s() - t0;
    printf("4 stalled clients dropped after %.3f s (idle timeout 1 s)\n", dt);
    ASSERT(dt >= 0.9 && dt < 4.0);
    ASSERT_EQ(raw_read_until(fd, buf, sizeof(buf), "\r\n\r\nhello\n", &code), RAW_MATCH);
    ASSERT_EQ(code, 200);
    return fd;
}

/* An idle keep-alive connection is closed after the idle timeout (1 s). */
static void check_idle_close(int fd)
{
    char buf[64];
    double t0 = now_s();
    int code;

    ASSERT_EQ(raw_read(fd, buf, sizeof(buf), &code), RAW_CLOSED);
    printf("idle keep-alive connection closed after %.3f s\n", now_s() - t0);
    ASSERT(now_s() - t0 < 4.0);
    close(fd);
}

/* The connection limit, the idle timeout and the request size limit, on a
 * server with small limits so the test needs few sockets and little time. */
static void test_limits(void)
{
    struct cfp_server_opts o = {.root = root, .conn_max = 4, .idle_timeout_s = 1};
    struct cfp_server *s = start_or_die(&o);

    check_idle_close(check_slowloris(cfp_server_port(s)));
    test_oversized(cfp_server_port(s));
    cfp_server_stop(&s);
}

/* A connection waiting for its latency is not idle: a latency over the idle
 * timeout still gets its answer. */
static void test_latency_over_idle(void)
{
    struct cfp_server_opts o = {.root = root, .latency_ms = 2500, .idle_timeout_s = 1};
    struct cfp_server *s = start_or_die(&o);
    struct resp r = {0};
    double t0 = now_s();

    get(cfp_server_port(s), "/b.txt", &r);
    ASSERT_EQ(r.rc, CURLE_OK);
    ASSERT_EQ(r.code, 200);
    ASSERT(now_s() - t0 >= 2.4);
    resp_reset(&r);
    cfp_server_stop(&s);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;

    /* 256 client + 256 server sockets + open files: above a 1024 default. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* 256 simultaneous requests with 200 ms latency finish together (serially
 * they would take 51 s), and none of them is faster than the latency. */
static void test_latency_concurrent(void)
{
    struct cfp_server_opts o = {.root = root, .latency_ms = 200};
    struct cfp_server *s = start_or_die(&o);
    static struct resp r[N_PARALLEL];
    CURL *h[N_PARALLEL];
    CURLM *m = curl_multi_init();
    char url[256];
    int running = 1, i;
    double t0, dt;

    test_keepalive(cfp_server_port(s), 0.19);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    url_for(url, sizeof(url), "http", cfp_server_port(s), "/a.png");
    for (i = 0; i < N_PARALLEL; i++) {
        h[i] = curl_easy_init();
        setup(h[i], &r[i], url);
        curl_multi_add_handle(m, h[i]);
    }
    t0 = now_s();
    while (running) {
        ASSERT_EQ(curl_multi_perform(m, &running), CURLM_OK);
        if (running)
            ASSERT_EQ(curl_multi_poll(m, NULL, 0, 100, NULL), CURLM_OK);
    }
    dt = now_s() - t0;
    for (i = 0; i < N_PARALLEL; i++) {
        collect(h[i], &r[i]);
        if (r[i].code != 200) /* say why: a refused connect, a timeout... */
            CFP_FAILF("request %d of %d: HTTP %ld after %.3f s: %s", i, N_PARALLEL, r[i].code,
                      r[i].total, r[i].err[0] ? r[i].err : "(no curl error)");
        ASSERT_EQ(r[i].len, sizeof(png_data));
        ASSERT(memcmp(r[i].body, png_data, sizeof(png_data)) == 0);
        if (r[i].total < 0.19)
            CFP_FAILF("request %d took %.3f s, below the 200 ms latency", i, r[i].total);
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
        resp_reset(&r[i]);
    }
    curl_multi_cleanup(m);
    printf("%d concurrent requests at 200 ms latency: %.3f s\n", N_PARALLEL, dt);
    if (dt >= 2.0)
        CFP_FAILF("batch took %.3f s: latencies were not concurrent", dt);
    cfp_server_stop(&s);
}

/* Stopping while requests wait for a long latency returns promptly and the
 * clients see their transfers end (answered or closed), never hang. */
static void test_stop_with_suspended(void)
{
    struct cfp_server_opts o = {.root = root, .latency_ms = 10000};
    struct resp r[8] = {{0}};
    CURL *h[8];
    int round, i, running;
    double t0, dt;
    char url[256];

    for (round = 0; round < 5; round++) {
        struct cfp_server *s = start_or_die(&o);
        CURLM *m = curl_multi_init();

        url_for(url, sizeof(url), "http", cfp_server_port(s), "/b.txt");
        for (i = 0; i < 8; i++) {
            h[i] = curl_easy_init();
            setup(h[i], &r[i], url);
            curl_multi_add_handle(m, h[i]);
        }
        /* Long enough for the requests to reach the server and be parked. */
        t0 = now_s();
        do {
            curl_multi_perform(m, &running);
            curl_multi_poll(m, NULL, 0, 20, NULL);
        } while (now_s() - t0 < 0.3);
        ASSERT_EQ(running, 8);
        t0 = now_s();
        cfp_server_stop(&s);
        dt = now_s() - t0;
        printf("stop with 8 requests suspended for 10 s: %.3f s\n", dt);
        if (dt > 2.0)
            CFP_FAILF("stop with suspended requests took %.3f s", dt);
        t0 = now_s();
        while (running && now_s() - t0 < 5.0) {
            curl_multi_perform(m, &running);
            curl_multi_poll(m, NULL, 0, 50, NULL);
        }
        ASSERT_EQ(running, 0);
        for (i = 0; i < 8; i++) {
            curl_multi_remove_handle(m, h[i]);
            curl_easy_cleanup(h[i]);
            resp_reset(&r[i]);
        }
        curl_multi_cleanup(m);
    }
}

static void expect_start_error(const struct cfp_server_opts *o, cfp_err want, const char *needle)
{
    struct cfp_status st;
    struct cfp_server *s = NULL;
    cfp_err err;

    cfp_status_clear(&st);
    err = cfp_server_start(o, &s, &st);
    if (err != want)
        CFP_FAILF("start: got %s (%s), want %s", cfp_errname(err), st.msg, cfp_errname(want));
    ASSERT(s == NULL);
    ASSERT_CONTAINS(st.msg, needle);
    printf("expected error: %s\n", st.msg);
}

static void test_start_errors(void)
{
    struct cfp_server_opts o = {.root = root};
    struct cfp_server *s;
    char path[256];

    expect_start_error(NULL, CFP_ERR_SERVER, "no root");
    o.root = NULL;
    expect_start_error(&o, CFP_ERR_SERVER, "no root");
    at(path, sizeof(path), "nonexistent");
    o.root = path;
    expect_start_error(&o, CFP_ERR_SERVER, "No such file or directory");
    o.root = "/tmp/does/not/exist/cfp";
    expect_start_error(&o, CFP_ERR_SERVER, "/tmp/does/not/exist/cfp");
    at(path, sizeof(path), "root/b.txt");
    o.root = path;
    expect_start_error(&o, CFP_ERR_SERVER, "not a directory");
    o.root = root;
    o.bind_addr = "localhost";
    expect_start_error(&o, CFP_ERR_SERVER, "not a numeric");
    o.bind_addr = NULL;

    s = start_or_die(&o);
    o.port = cfp_server_port(s);
    expect_start_error(&o, CFP_ERR_SERVER, "in use");
    cfp_server_stop(&s);
    o.port = 0;

    o.tls_cert_pem = "/nonexistent.pem";
    expect_start_error(&o, CFP_ERR_SERVER, "both a certificate and a key");
}

/* Every allocation of the start path can fail; each failure is NOMEM and
 * leaves nothing behind (valgrind/ASan check the "nothing"). */
static void test_start_nomem(void)
{
    struct cfp_server_opts o = {.root = root};
    struct cfp_status st;
    struct cfp_server *s = NULL;
    cfp_err err = CFP_ERR_NOMEM;
    long n;

    for (n = 1; n < 20 && err == CFP_ERR_NOMEM; n++) {
        cfp_status_clear(&st);
        cfp_mem_fail_after(n);
        err = cfp_server_start(&o, &s, &st);
        cfp_mem_fail_after(0);
        if (err)
            ASSERT(s == NULL);
    }
    ASSERT_EQ(err, CFP_ERR_OK);
    ASSERT(n > 2); /* at least one injected failure was hit */
    cfp_server_stop(&s);
}

static void test_ipv6(void)
{
    struct cfp_server_opts o = {.root = root, .bind_addr = "::1"};
    struct cfp_status st;
    struct cfp_server *s = NULL;
    struct resp r = {0};
    char url[256];
    CURL *h;

    cfp_status_clear(&st);
    if (cfp_server_start(&o, &s, &st) != CFP_ERR_OK) {
        cfp_skip_part("test_server", "IPv6 part", "IPv6 loopback unavailable: %s", st.msg);
        return;
    }
    snprintf(url, sizeof(url), "http://[::1]:%u/b.txt", (unsigned)cfp_server_port(s));
    h = curl_easy_init();
    perform(h, &r, url);
    ASSERT_EQ(r.code, 200);
    ASSERT_STREQ(r.body, "hello\n");
    curl_easy_cleanup(h);
    resp_reset(&r);
    cfp_server_stop(&s);
}

/* ---- HTTPS --------------------------------------------------------------- */

static bool make_cert(const char *name)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost "
             "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -days 1 "
             "-keyout '%s/%s.key' -out '%s/%s.crt' >/dev/null 2>&1",
             base, name, base, name);
    return system(cmd) == 0;
}

static void https_get(uint16_t port, const char *ca, struct resp *r)
{
    char url[256];
    CURL *h = curl_easy_init();

    url_for(url, sizeof(url), "https", port, "/d.json");
    setup(h, r, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    r->rc = curl_easy_perform(h);
    collect(h, r);
    curl_easy_cleanup(h);
}

static void test_https_errors(const char *crt1, const char *key2)
{
    struct cfp_server_opts o = {.root = root};
    char bad[256];

    at(bad, sizeof(bad), "root/b.txt"); /* exists, but is no PEM */
    o.tls_cert_pem = bad;
    o.tls_key_pem = bad;
    expect_start_error(&o, CFP_ERR_SERVER, "HTTPS");
    o.tls_cert_pem = crt1; /* key of another certificate */
    o.tls_key_pem = key2;
    expect_start_error(&o, CFP_ERR_SERVER, "HTTPS");
    o.tls_key_pem = "/nonexistent/cfp.key";
    expect_start_error(&o, CFP_ERR_SERVER, "/nonexistent/cfp.key");
}

static void test_https(void)
{
    char crt1[256], key1[256], crt2[256], key2[256];
    struct cfp_server_opts o = {.root = root};
    struct cfp_server *s;
    struct resp r = {0};

    if (system("openssl version >/dev/null 2>&1") != 0 || !make_cert("one") || !make_cert("two")) {
        cfp_skip_part("test_server", "HTTPS part", "openssl CLI unavailable");
        return;
    }
    at(crt1, sizeof(crt1), "one.crt");
    at(key1, sizeof(key1), "one.key");
    at(crt2, sizeof(crt2), "two.crt");
    at(key2, sizeof(key2), "two.key");
    o.tls_cert_pem = crt1;
    o.tls_key_pem = key1;
    o.latency_ms = 20;
    s = start_or_die(&o);
    https_get(cfp_server_port(s), crt1, &r);
    if (r.rc != CURLE_OK)
        CFP_FAILF("HTTPS GET: curl %d: %s", r.rc, r.err);
    ASSERT_EQ(r.code, 200);
    ASSERT_STREQ(r.body, "{\"k\":1}");
    ASSERT_STREQ(r.ctype, "application/json");
    /* Trusting a different certificate: verification must fail. */
    https_get(cfp_server_port(s), crt2, &r);
    ASSERT_EQ(r.rc, CURLE_PEER_FAILED_VERIFICATION);
    printf("expected TLS failure: %s\n", r.err);
    cfp_server_stop(&s);
    resp_reset(&r);
    test_https_errors(crt1, key2);
}

int main(void)
{
    ASSERT_EQ(curl_global_init(CURL_GLOBAL_ALL), CURLE_OK);
    raise_fd_limit();
    make_tree();
    test_content_type_table();
    test_resolve_table();
    test_resolve_length();
    test_plain_http();
    test_limits();
    test_latency_over_idle();
    test_latency_concurrent();
    test_stop_with_suspended();
    test_start_errors();
    test_start_nomem();
    test_ipv6();
    test_https();
    curl_global_cleanup();
    printf("test_server: ok\n");
    return 0;
}
