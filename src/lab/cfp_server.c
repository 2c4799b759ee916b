/* cfp_server.c - static-file HTTP(S) server on libmicrohttpd (MHD).
 *
 * Threads: MHD runs one internal polling thread (epoll on Linux) that calls
 * on_request(); one timer thread resumes connections whose latency has
 * passed. They share only the wait queue and the start-up log buffer, both
 * guarded by s->mu. Everything else in struct cfp_server is written before
 * either thread starts and is read-only afterwards.
 *
 * Latency without blocking: on the first call for a request the handler
 * suspends the connection and queues (connection, deadline); the timer thread
 * resumes it when due and MHD calls the handler again, which then answers.
 * No thread sleeps per request, so any number of waits overlap.
 */
#include "lab/cfp_server.h"
#include "lab/cfp_server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cfp_mem.h"

/* A certificate or key file larger than this is refused (real ones are a
 * few KiB); it bounds what a mistaken path can make us read. */
#define PEM_MAX (1024 * 1024)

/* Connections resumed per pass of the timer thread; the rest wait for the
 * next pass (immediately after), so the lock is never held while resuming. */
#define RESUME_BATCH 64

#define LOG_MAX 256

/* Descriptors left to the rest of the process (stdio, MHD's epoll, listen
 * and wake-up descriptors, the caller's own files) when the connection
 * limit is fitted to RLIMIT_NOFILE. */
#define FD_RESERVE 32

/* One suspended connection waiting for its deadline. */
struct server_wait {
    struct MHD_Connection *conn;
    struct timespec due; /* CLOCK_MONOTONIC */
};

struct cfp_server {
    /* Set when MHD_start_daemon() returns; used only by the owner's thread
     * (the handler never reads them). */
    struct MHD_Daemon *daemon;
    uint16_t port;
    pthread_t timer;

    /* Written before the threads start, read-only afterwards. */
    char *root;      /* realpath of the served directory, cfp_strdup'ed */
    size_t root_len; /* strlen(root) */
    unsigned latency_ms;
    unsigned conn_max; /* MHD's connection limit, also the wait queue's size */
    unsigned idle_timeout_s;
    char *tls_cert; /* PEM text; MHD keeps pointers to it until it stops */
    char *tls_key;

    pthread_mutex_t mu;
    pthread_cond_t cv;        /* signalled when wq becomes non-empty or stopping is set */
    struct server_wait *wq;   /* entries guarded by mu; a ring of wq_cap */
    size_t wq_cap;            /* constant, = conn_max: a connection waits at most once */
    size_t wq_head;           /* guarded by mu */
    size_t wq_count;          /* guarded by mu */
    bool stopping;            /* guarded by mu */
    bool log_capture;         /* guarded by mu: keep MHD's first message (start-up) */
    char log_msg[LOG_MAX];    /* guarded by mu */
};

/* Per-request state kept in MHD's per-request slot: only the addresses
 * matter, so requests need no allocation. WAITING: suspended for the latency
 * (or just resumed); READY: the next complete-request call answers. */
static char req_states[2];
#define REQ_WAITING ((void *)&req_states[0])
#define REQ_READY   ((void *)&req_states[1])

static void ts_now(struct timespec *ts)
{
    (void)clock_gettime(CLOCK_MONOTONIC, ts);
}

static void ts_add_ms(struct timespec *ts, unsigned ms)
{
    ts->tv_sec += (time_t)(ms / 1000u);
    ts->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static bool ts_reached(const struct timespec *due, const struct timespec *now)
{
    if (now->tv_sec != due->tv_sec)
        return now->tv_sec > due->tv_sec;
    return now->tv_nsec >= due->tv_nsec;
}

/* ---- wait queue and timer thread ---------------------------------------- */

/* Queues c, suspended by the caller, to be resumed after the latency.
 * Returns false (caller resumes c itself) when stopping or full. Called on
 * the MHD thread. The deadline is computed under the lock with a constant
 * latency, so deadlines are non-decreasing in queue order: a FIFO is a
 * priority queue here, and only an empty-to-non-empty change needs a wake-up. */
static bool waitq_push(struct cfp_server *s, struct MHD_Connection *c)
{
    struct server_wait *w;
    bool ok = false;

    pthread_mutex_lock(&s->mu);
    if (!s->stopping && s->wq_count < s->wq_cap) {
        w = &s->wq[(s->wq_head + s->wq_count) % s->wq_cap];
        w->conn = c;
        ts_now(&w->due);
        ts_add_ms(&w->due, s->latency_ms);
        if (s->wq_count++ == 0)
            pthread_cond_signal(&s->cv);
        ok = true;
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* Pops up to max due entries (all of them once stopping) into out.
 * Called with s->mu held. */
static size_t waitq_take_due(struct cfp_server *s, struct MHD_Connection **out, size_t max)
{
    struct timespec now;
    size_t n = 0;

    ts_now(&now);
    while (n < max && s->wq_count > 0) {
        const struct server_wait *w = &s->wq[s->wq_head];

        if (!s->stopping && !ts_reached(&w->due, &now))
            break;
        out[n++] = w->conn;
        s->wq_head = (s->wq_head + 1) % s->wq_cap;
        s->wq_count--;
    }
    return n;
}

/* Timer thread: resumes connections when due; on stop resumes all that are
 * left, so MHD never sees a suspended connection at MHD_stop_daemon(). */
static void *timer_main(void *arg)
{
    struct cfp_server *s = arg;
    struct MHD_Connection *due[RESUME_BATCH];
    size_t n, i;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        n = waitq_take_due(s, due, RESUME_BATCH);
        if (n > 0) {
            /* MHD_resume_connection takes MHD's own lock: call it unlocked. */
            pthread_mutex_unlock(&s->mu);
            for (i = 0; i < n; i++)
                MHD_resume_connection(due[i]);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (s->stopping)
            break;
        if (s->wq_count == 0)
            pthread_cond_wait(&s->cv, &s->mu);
        else
            (void)pthread_cond_timedwait(&s->cv, &s->mu, &s->wq[s->wq_head].due);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- responses ----------------------------------------------------------- */

static const char *status_body(unsigned code)
{
    switch (code) {
    case 400:
        return "400 Bad Request\n";
    case 403:
        return "403 Forbidden\n";
    case 404:
        return "404 Not Found\n";
    case 405:
        return "405 Method Not Allowed\n";
    case 503:
        return "503 Service Unavailable\n";
    default:
        return "500 Internal Server Error\n";
    }
}

/* Queues a short text/plain error response. MHD_NO makes MHD drop the
 * connection, the only thing left to do when even that fails. */
static enum MHD_Result reply_status(struct MHD_Connection *c, unsigned code)
{
    const char *body = status_body(code);
    struct MHD_Response *r;
    enum MHD_Result ret;

    /* PERSISTENT: MHD only reads the static string, the cast drops no write. */
    r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8") !=
            MHD_YES ||
        (code == 405 && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers one GET/HEAD for the raw path url. MHD sends Content-Length from
 * the response size and drops the body itself for HEAD. The file is sent
 * from its descriptor (sendfile or pread), never read whole into memory. */
static enum MHD_Result serve(const struct cfp_server *s, struct MHD_Connection *c,
                             const char *url)
{
    char rel[CFP_SERVER_PATH_MAX + 1];
    struct MHD_Response *r;
    enum MHD_Result ret;
    uint64_t size = 0;
    unsigned code;
    int fd = -1;

    code = cfp_server_resolve(s->root, url, rel, &fd, &size);
    if (code != 200)
        return reply_status(c, code);
    /* The response owns fd once created; on failure it is still ours. */
    r = MHD_create_response_from_fd64(size, fd);
    if (!r) {
        close(fd);
        return reply_status(c, 500);
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                cfp_server_content_type(rel)) != MHD_YES) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* MHD access handler, called on the MHD thread, no lock held. MHD calls it
 * once the headers are parsed, again for body chunks, and again once the
 * request is complete; only an answer given on that last kind of call keeps
 * the connection alive (an earlier one makes MHD close it after the reply).
 * So: first call, mark the request and suspend it for the latency (see the
 * file comment); the call right after a resume may still be the
 * headers-parsed one, so it only marks the request ready; then discard any
 * body and answer. Other methods get 405 at once and, since MHD then skips
 * their body, a closed connection. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct cfp_server *s = cls;

    (void)version;
    (void)upload_data;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_status(c, 405);
    if (*req_cls == NULL) {
        *req_cls = s->latency_ms > 0 ? REQ_WAITING : REQ_READY;
        if (s->latency_ms > 0) {
            MHD_suspend_connection(c);
            /* Resuming from inside the handler is allowed: it takes effect
             * when we return, and MHD calls us again. */
            if (!waitq_push(s, c))
                MHD_resume_connection(c);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        *req_cls = REQ_READY;
        return MHD_YES;
    }
    if (*req_cls == REQ_WAITING) {
        *req_cls = REQ_READY;
        return MHD_YES;
    }
    return serve(s, c, url);
}

/* MHD unescape callback: leave the path as sent. MHD would otherwise decode
 * it into a C string, where "%00" silently truncates "/a%00b" to "/a";
 * decode_path() decodes it once and refuses the NUL instead. */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* MHD error logger: keeps the first message while the daemon starts, so
 * cfp_server_start() can say why (e.g. "Failed to bind to port 80:
 * Permission denied"); later messages are per-connection noise, dropped. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct cfp_server *s = cls;
    size_t n;

    pthread_mutex_lock(&s->mu);
    if (s->log_capture && s->log_msg[0] == '\0') {
        (void)vsnprintf(s->log_msg, sizeof(s->log_msg), fmt, ap);
        n = strlen(s->log_msg);
        while (n > 0 && (s->log_msg[n - 1] == '\n' || s->log_msg[n - 1] == '\r'))
            s->log_msg[--n] = '\0';
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- start and stop ------------------------------------------------------- */

/* Parses the numeric address addr and port into sa; sets *len and *ipv6. */
static cfp_err parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *sa,
                          socklen_t *len, bool *ipv6, struct cfp_status *st)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

    memset(sa, 0, sizeof(*sa));
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *len = sizeof(*in4);
        *ipv6 = false;
        return CFP_ERR_OK;
    }
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
        *ipv6 = true;
        return CFP_ERR_OK;
    }
    return cfp_status_set(st, CFP_ERR_SERVER,
                          "server bind address \"%s\": not a numeric IPv4 or IPv6 address", addr);
}

/* Reads the PEM file path into a NUL-terminated buffer (caller frees with
 * cfp_free); MHD wants certificate and key as C strings. */
static cfp_err read_pem(const char *path, char **out, struct cfp_status *st)
{
    struct stat sb;
    cfp_err err = CFP_ERR_OK;
    size_t n = 0;
    ssize_t got;
    char *buf;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return cfp_status_set(st, CFP_ERR_SERVER, "TLS file %s: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > PEM_MAX) {
        err = cfp_status_set(st, CFP_ERR_SERVER, "TLS file %s: not a regular file of at most %d bytes",
                             path, PEM_MAX);
        goto out_close;
    }
    buf = cfp_malloc((size_t)sb.st_size + 1);
    if (!buf) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "TLS file %s: out of memory", path);
        goto out_close;
    }
    /* The file may shrink while read: stop at EOF; never read past the size. */
    while (n < (size_t)sb.st_size && (got = read(fd, buf + n, (size_t)sb.st_size - n)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = cfp_status_set(st, CFP_ERR_SERVER, "TLS file %s: read: %s", path, strerror(errno));
            cfp_free(buf);
            goto out_close;
        }
        n += (size_t)got;
    }
    buf[n] = '\0';
    *out = buf;
out_close:
    close(fd);
    return err;
}

/* Resolves the root to its realpath (the reference of every containment
 * check) and checks it is a directory. */
static cfp_err load_root(struct cfp_server *s, const char *root, struct cfp_status *st)
{
    char real[PATH_MAX];
    struct stat sb;

    if (!realpath(root, real))
        return cfp_status_set(st, CFP_ERR_SERVER, "server root %s: %s", root, strerror(errno));
    if (stat(real, &sb) != 0)
        return cfp_status_set(st, CFP_ERR_SERVER, "server root %s: %s", root, strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return cfp_status_set(st, CFP_ERR_SERVER, "server root %s: not a directory", root);
    s->root = cfp_strdup(real);
    if (!s->root)
        return cfp_status_set(st, CFP_ERR_NOMEM, "server root %s: out of memory", root);
    s->root_len = strlen(s->root);
    return CFP_ERR_OK;
}

/* Loads certificate and key when HTTPS is asked for. */
static cfp_err load_tls(struct cfp_server *s, const struct cfp_server_opts *o,
                        struct cfp_status *st)
{
    cfp_err err;

    if (!o->tls_cert_pem && !o->tls_key_pem)
        return CFP_ERR_OK;
    if (!o->tls_cert_pem || !o->tls_key_pem)
        return cfp_status_set(st, CFP_ERR_SERVER,
                              "HTTPS server: both a certificate and a key file are needed");
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return cfp_status_set(st, CFP_ERR_SERVER,
                              "HTTPS server: this libmicrohttpd was built without TLS support");
    err = read_pem(o->tls_cert_pem, &s->tls_cert, st);
    if (!err)
        err = read_pem(o->tls_key_pem, &s->tls_key, st);
    return err;
}

/* Initialises the lock, the condition (on CLOCK_MONOTONIC, so deadlines do
 * not move with the wall clock) and the wait queue, then starts the timer. */
static cfp_err start_timer(struct cfp_server *s, struct cfp_status *st)
{
    pthread_condattr_t ca;
    int rc;

    s->wq_cap = s->conn_max;
    s->wq = cfp_calloc(s->wq_cap, sizeof(*s->wq));
    if (!s->wq)
        return cfp_status_set(st, CFP_ERR_NOMEM, "server wait queue: out of memory");
    if (pthread_condattr_init(&ca) != 0)
        goto out_free_wq;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        goto out_free_wq;
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        goto out_destroy_cv;
    rc = pthread_create(&s->timer, NULL, timer_main, s);
    if (rc == 0)
        return CFP_ERR_OK;
    pthread_mutex_destroy(&s->mu);
out_destroy_cv:
    pthread_cond_destroy(&s->cv);
out_free_wq:
    cfp_free(s->wq);
    s->wq = NULL;
    return cfp_status_set(st, CFP_ERR_SERVER, "server timer thread: cannot start");
}

/* Stops the timer thread; it resumes every queued connection on its way
 * out. The lock stays usable: the MHD thread may still take it. */
static void stop_timer(struct cfp_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->timer, NULL);
}

/* Frees what start_timer() made; only once no thread can use it. */
static void destroy_timer(struct cfp_server *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    cfp_free(s->wq);
    s->wq = NULL;
}

/* Starts MHD on sa. MHD_ALLOW_SUSPEND_RESUME implies MHD_USE_ITC, which makes
 * MHD_resume_connection() from the timer thread wake the polling thread. */
static cfp_err start_daemon(struct cfp_server *s, const char *addr,
                            const struct cfp_server_opts *o, struct cfp_status *st)
{
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct sockaddr_storage sa;
    socklen_t salen = 0;
    bool ipv6 = false;
    const union MHD_DaemonInfo *info;
    cfp_err err;

    err = parse_addr(addr, o->port, &sa, &salen, &ipv6, st);
    if (err)
        return err;
    if (ipv6)
        flags |= MHD_USE_IPv6;
    if (s->tls_cert)
        flags |= MHD_USE_TLS;
    pthread_mutex_lock(&s->mu);
    s->log_capture = true;
    pthread_mutex_unlock(&s->mu);
    /* The logger goes first: MHD logs options parsed before it to stderr.
     * The port argument is ignored with MHD_OPTION_SOCK_ADDR but named in
     * MHD's bind error message. The varargs types are MHD's: unsigned for
     * the counts and the timeout, size_t for the memory limit, int for the
     * strictness (1: HTTP/1.1 without Host, or a space in the target, is
     * 400). No per-IP limit: on the default loopback bind every client is
     * 127.0.0.1, so it would only be a second, smaller global limit that
     * refuses instead of queueing. */
    s->daemon = MHD_start_daemon(
        flags, o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, s->conn_max,
        MHD_OPTION_CONNECTION_TIMEOUT, s->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CFP_SERVER_CONN_MEMORY, MHD_OPTION_LISTEN_BACKLOG_SIZE, s->conn_max,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_ARRAY, s->tls_cert ? tls : tls + 2, MHD_OPTION_END);
    pthread_mutex_lock(&s->mu);
    s->log_capture = false;
    if (!s->daemon)
        err = cfp_status_set(st, CFP_ERR_SERVER, "start %s server on %s port %u: %s",
                             s->tls_cert ? "HTTPS" : "HTTP", addr, (unsigned)o->port,
                             s->log_msg[0] ? s->log_msg : "MHD_start_daemon failed");
    pthread_mutex_unlock(&s->mu);
    if (err)
        return err;
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return CFP_ERR_OK;
}

/* The connection limit: want (0 = CFP_SERVER_CONN_MAX), lowered so every
 * connection can hold its socket and the file it sends within the soft
 * RLIMIT_NOFILE. Past that, accept() and open() fail with EMFILE and clients
 * get 503s; under it, surplus clients just wait in the listen backlog. */
static unsigned conn_limit(unsigned want)
{
    struct rlimit rl;
    rlim_t fit;

    if (want == 0)
        want = CFP_SERVER_CONN_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return want;
    fit = rl.rlim_cur > 2 * FD_RESERVE ? (rl.rlim_cur - FD_RESERVE) / 2 : FD_RESERVE / 2;
    return fit < want ? (unsigned)fit : want;
}

static void free_server(struct cfp_server *s)
{
    cfp_free(s->tls_key);
    cfp_free(s->tls_cert);
    cfp_free(s->root);
    cfp_free(s);
}

cfp_err cfp_server_start(const struct cfp_server_opts *o, struct cfp_server **out,
                         struct cfp_status *st)
{
    const char *addr;
    struct cfp_server *s;
    cfp_err err;

    if (!o || !o->root || !o->root[0])
        return cfp_status_set(st, CFP_ERR_SERVER, "server: no root directory given");
    addr = o->bind_addr ? o->bind_addr : "127.0.0.1";
    s = cfp_calloc(1, sizeof(*s));
    if (!s)
        return cfp_status_set(st, CFP_ERR_NOMEM, "server: out of memory");
    s->latency_ms = o->latency_ms;
    s->conn_max = conn_limit(o->conn_max);
    s->idle_timeout_s = o->idle_timeout_s ? o->idle_timeout_s : CFP_SERVER_IDLE_TIMEOUT_S;
    err = load_root(s, o->root, st);
    if (!err)
        err = load_tls(s, o, st);
    if (err)
        goto out_free_server;
    err = start_timer(s, st);
    if (err)
        goto out_free_server;
    err = start_daemon(s, addr, o, st);
    if (err)
        goto out_stop_timer;
    *out = s;
    return CFP_ERR_OK;
out_stop_timer:
    stop_timer(s);
    destroy_timer(s);
out_free_server:
    free_server(s);
    return err;
}

uint16_t cfp_server_port(const struct cfp_server *s)
{
    return s ? s->port : 0;
}

void cfp_server_stop(struct cfp_server **ps)
{
    struct cfp_server *s;

    if (!ps || !*ps)
        return;
    s = *ps;
    /* Timer first: once it has resumed everything and stopping is set, the
     * handler resumes any new suspension itself, so MHD_stop_daemon() never
     * meets a suspended connection (an API violation in MHD). */
    stop_timer(s);
    MHD_stop_daemon(s->daemon);
    destroy_timer(s);
    free_server(s);
    *ps = NULL;
}
