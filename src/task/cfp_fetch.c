/* cfp_fetch.c - libcurl downloads with limits and retries. */
#include "task/cfp_fetch_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/cfp_clock.h"
#include "base/cfp_mem.h"
#include "base/cfp_stop.h"

#define FETCH_MAX_REDIRS      5
#define FETCH_RETRY_AFTER_MAX 30.0
#define FETCH_BACKOFF_MAX     10.0

struct cfp_fetcher {
    CURL *h; /* owned; used by one thread */
    struct cfp_fetch_cfg cfg;
};

cfp_err cfp_fetch_global_init(struct cfp_status *st)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "curl_global_init: %s",
                              curl_easy_strerror(rc));
    return CFP_ERR_OK;
}

void cfp_fetch_global_cleanup(void)
{
    curl_global_cleanup();
}

bool cfp_fetch_is_file(const char *url)
{
    return strncmp(url, "file:", 5) == 0;
}

/* Once per attempt, at the first body byte (or at the end of an empty
 * body). CURLINFO_RESPONSE_CODE is then the final reply's status: libcurl
 * does not pass the body of a redirect it follows to the write callback. A
 * 3xx here is a redirect it did not follow (no Location): not content, so
 * the sink never sees it, and the caller stops the transfer. */
static cfp_err xfer_begin(struct cfp_fetch_xfer *x)
{
    char *ct = NULL;
    curl_off_t size = -1;
    long status = 0;

    x->begun = true;
    if (curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 300 &&
        status <= 399) {
        x->redirect_status = (int)status;
        return CFP_ERR_REDIRECT;
    }
    (void)curl_easy_getinfo(x->h, CURLINFO_CONTENT_TYPE, &ct);
    if (curl_easy_getinfo(x->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &size) != CURLE_OK)
        size = -1;
    x->sink_err = x->sink->begin(x->sink->ctx, ct, (int64_t)size);
    return x->sink_err;
}

/* libcurl write callback: runs on the thread driving the handle. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct cfp_fetch_xfer *x = ud;
    size_t len = size * n;

    if (!x->begun && xfer_begin(x))
        return 0;
    if ((uint64_t)x->bytes + len > x->cfg->max_bytes) {
        x->too_big = true;
        return 0;
    }
    x->sink_err = x->sink->data(x->sink->ctx, p, len);
    if (x->sink_err == CFP_ERR_AGAIN) {
        /* The sink cannot take these bytes yet (the async loop waits for
         * memory): libcurl keeps them and hands them over again after
         * curl_easy_pause(CURLPAUSE_CONT). A paused transfer is not
         * subject to the stall check (libcurl >= 7.75). */
        x->sink_err = CFP_ERR_OK;
        x->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    x->bytes += (int64_t)len;
    return x->sink_err ? 0 : len;
}

/* libcurl progress callback: aborts the transfer once a stop's grace period
 * is over. libcurl calls it about once a second even when no data flows, so
 * a stalled server cannot hold a stop up. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ud, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return cfp_stop_abandon() ? 1 : 0;
}

void cfp_fetch_setup_handle(CURL *h, const struct cfp_fetch_cfg *cfg, CURLSH *share)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cfp/" CFP_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->timeout_s * 1000));
    /* Slower than 100 bytes/s for the whole --timeout counts as stalled: a
     * server dripping a byte a second must not hold a worker for hours. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 100L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(cfg->timeout_s < 1 ? 1 : cfg->timeout_s));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cfg->max_bytes);
    /* 128 KB, under main.c's 256 KB mmap threshold: libcurl allocates this
     * buffer per transfer, and at 256 KB each was a fresh mapping whose
     * pages faulted in again (5,000 faults in an async run of the peer
     * dataset); from the heap it is reused. */
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)CFP_FETCH_CHUNK);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    /* Accept gzip/deflate: libcurl decodes, and on_body counts (and limits
     * by --max-bytes) the decoded bytes, so a compression bomb is cut at the
     * limit like any other large body. */
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (cfg->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->cacert);
    if (cfg->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (share)
        curl_easy_setopt(h, CURLOPT_SHARE, share);
}

void cfp_fetch_xfer_start(struct cfp_fetch_xfer *x, CURL *h, const struct cfp_fetch_cfg *cfg,
                          const struct cfp_fetch_sink *sink, const char *url, double deadline)
{
    long ms = 0;

    memset(x, 0, sizeof(*x));
    x->h = h;
    x->cfg = cfg;
    x->sink = sink;
    x->deadline = deadline;
    if (deadline > 0) {
        double left = deadline - cfp_now();
        ms = left * 1000 < 1 ? 1 : (long)(left * 1000);
    }
    /* Handles are reused: 0 clears a previous task's limit. */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_URL, url);
    /* libcurl never reads a local file: file:// URLs are cfp_fetch_file's
     * (cfp_fetch_url, and the async engine hands them to its pool). */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
}

cfp_err cfp_fetcher_new(const struct cfp_fetch_cfg *cfg, CURLSH *share, struct cfp_fetcher **out,
                        struct cfp_status *st)
{
    struct cfp_fetcher *f = cfp_calloc(1, sizeof(*f));

    if (!f)
        return cfp_status_set(st, CFP_ERR_NOMEM, "fetcher: out of memory");
    f->h = curl_easy_init();
    if (!f->h) {
        cfp_free(f);
        return cfp_status_set(st, CFP_ERR_NOMEM, "curl_easy_init failed");
    }
    f->cfg = *cfg;
    cfp_fetch_setup_handle(f->h, &f->cfg, share);
    *out = f;
    return CFP_ERR_OK;
}

void cfp_fetcher_free(struct cfp_fetcher **pf)
{
    struct cfp_fetcher *f = pf ? *pf : NULL;

    if (!f)
        return;
    curl_easy_cleanup(f->h);
    cfp_free(f);
    *pf = NULL;
}

cfp_err cfp_fetch_check_url(const char *url, struct cfp_status *st)
{
    CURLU *u = curl_url();
    CURLUcode uc;
    char *scheme = NULL;
    cfp_err err = CFP_ERR_OK;

    if (!u)
        return cfp_status_set(st, CFP_ERR_NOMEM, "URL parser: out of memory");
    uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        err = cfp_status_set(st, CFP_ERR_URL, "malformed URL '%s': %s", url, curl_url_strerror(uc));
        goto out_free_url;
    }
    uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc != CURLUE_OK) {
        err = cfp_status_set(st, CFP_ERR_URL, "malformed URL '%s': %s", url, curl_url_strerror(uc));
        goto out_free_url;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0 && strcmp(scheme, "file") != 0)
        err = cfp_status_set(st, CFP_ERR_SCHEME,
                             "unsupported scheme '%s' in '%s' (accepted: http, https, file)",
                             scheme, url);
    curl_free(scheme);
out_free_url:
    curl_url_cleanup(u);
    return err;
}

static bool http_transient(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

static bool curl_transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static cfp_err curl_to_err(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return CFP_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return CFP_ERR_TIMEOUT;
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return CFP_ERR_REDIRECT;
    case CURLE_FILESIZE_EXCEEDED:
        return CFP_ERR_TOO_BIG;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        return CFP_ERR_TLS;
    case CURLE_FILE_COULDNT_READ_FILE:
    case CURLE_READ_ERROR:
        return CFP_ERR_IO;
    case CURLE_URL_MALFORMAT:
        return CFP_ERR_URL;
    default:
        return CFP_ERR_TRANSFER;
    }
}

/* Turns the outcome of one attempt into an error with a message; sets
 * *transient when another attempt may succeed. */
static cfp_err attempt_result(const struct cfp_fetch_xfer *x, const char *url, CURLcode rc,
                              long status, bool *transient, struct cfp_status *st)
{
    const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);

    *transient = false;
    if (rc == CURLE_OPERATION_TIMEDOUT && x->deadline > 0 && cfp_now() >= x->deadline - 0.001)
        return cfp_status_set(st, CFP_ERR_TIMEOUT, "GET %s: over --task-timeout %g s", url,
                              x->cfg->task_timeout_s);
    if (rc == CURLE_ABORTED_BY_CALLBACK && cfp_stop_abandon())
        return cfp_status_set(st, CFP_ERR_STOPPED, "GET %s: abandoned: the run was stopped", url);
    if (x->redirect_status) {
        /* libcurl ignores an empty Location too (and curl_easy_header may
         * leave a CR in such a value). */
        struct curl_header *loc = NULL;
        bool has_loc = curl_easy_header(x->h, "Location", 0, CURLH_HEADER, -1, &loc) == CURLHE_OK &&
                       loc->value[strspn(loc->value, " \t\r\n")] != '\0';
        return cfp_status_set(st, CFP_ERR_REDIRECT, "GET %s: HTTP %d %s", url, x->redirect_status,
                              has_loc ? "redirect not followed" : "without Location");
    }
    if (rc == CURLE_TOO_MANY_REDIRECTS)
        return cfp_status_set(st, CFP_ERR_REDIRECT, "GET %s: more than %d redirects", url,
                              FETCH_MAX_REDIRS);
    if (x->sink_err)
        return x->sink_err; /* the sink wrote its own message */
    if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return cfp_status_set(st, CFP_ERR_TOO_BIG, "GET %s: body over --max-bytes %llu", url,
                              (unsigned long long)x->cfg->max_bytes);
    if (rc == CURLE_HTTP_RETURNED_ERROR || (rc == CURLE_OK && status >= 400)) {
        *transient = http_transient(status);
        return cfp_status_set(st, CFP_ERR_HTTP, "GET %s: HTTP %ld", url, status);
    }
    if (rc == CURLE_OK)
        return CFP_ERR_OK;
    *transient = curl_transient(rc);
    if (rc == CURLE_UNSUPPORTED_PROTOCOL)
        return cfp_status_set(st, CFP_ERR_REDIRECT, "GET %s: redirect refused: %s", url, detail);
    return cfp_status_set(st, curl_to_err(rc), "GET %s: %s: %s", url, curl_easy_strerror(rc),
                          detail);
}

cfp_err cfp_fetch_xfer_done(struct cfp_fetch_xfer *x, const char *url, CURLcode rc,
                            bool *transient, struct cfp_fetch_result *res, struct cfp_status *st)
{
    long status = 0;

    (void)curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    res->attempts++;
    res->http_status = cfp_fetch_is_file(url) ? 0 : (int32_t)status;
    res->bytes = x->bytes;
    if (rc == CURLE_OK && !x->begun)
        (void)xfer_begin(x); /* empty body: the sink still sees begin */
    return attempt_result(x, url, rc, status, transient, st);
}

static void sleep_s(double s)
{
    struct timespec ts;

    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

double cfp_fetch_retry_delay(CURL *h, const struct cfp_fetch_cfg *cfg, int retry)
{
    double d = cfg->backoff_s;
    curl_off_t after = 0;

    for (int i = 1; i < retry && d < FETCH_BACKOFF_MAX; i++)
        d *= 2;
    if (d > FETCH_BACKOFF_MAX)
        d = FETCH_BACKOFF_MAX;
    if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
        d = (double)after < FETCH_RETRY_AFTER_MAX ? (double)after : FETCH_RETRY_AFTER_MAX;
    return d;
}

bool cfp_fetch_retry_in_time(double deadline, double delay_s)
{
    return deadline <= 0 || cfp_now() + delay_s < deadline;
}

cfp_err cfp_fetch_url(struct cfp_fetcher *f, const char *url, const struct cfp_fetch_sink *sink,
                      double deadline, struct cfp_fetch_result *res, struct cfp_status *st)
{
    struct cfp_fetch_xfer x;
    cfp_err err = CFP_ERR_OK;

    if (cfp_fetch_is_file(url))
        return cfp_fetch_file(url, &f->cfg, sink, deadline, res, st);
    memset(res, 0, sizeof(*res));
    for (int attempt = 0;; attempt++) {
        struct cfp_status tmp;
        bool transient;
        CURLcode rc;

        double delay;

        cfp_fetch_xfer_start(&x, f->h, &f->cfg, sink, url, deadline);
        rc = curl_easy_perform(f->h);
        cfp_status_clear(&tmp);
        err = cfp_fetch_xfer_done(&x, url, rc, &transient, res, &tmp);
        if (err && transient && attempt < f->cfg.retries && cfp_stop_requested()) {
            /* A retry would outlive the stop: abandon, --resume tries again. */
            err = cfp_status_set(st, CFP_ERR_STOPPED,
                                 "GET %s: abandoned before a retry: the run was stopped", url);
            break;
        }
        delay = err && transient ? cfp_fetch_retry_delay(f->h, &f->cfg, attempt + 1) : 0;
        if (!err || !transient || attempt >= f->cfg.retries ||
            !cfp_fetch_retry_in_time(deadline, delay)) {
            if (err && !x.sink_err)
                cfp_status_set(st, tmp.code, "%s", tmp.msg);
            break;
        }
        sink->reset(sink->ctx);
        sleep_s(delay);
    }
    /* The error buffer lives in x: detach it before x goes out of scope. */
    curl_easy_setopt(f->h, CURLOPT_ERRORBUFFER, NULL);
    return err;
}

bool cfp_fetch_origin_hash(const char *url, uint64_t *hash)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    bool ok = false;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        strcmp(scheme, "file") != 0) {
        const char *parts[] = {scheme, "://", host, ":", port};
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
            for (const char *c = parts[i]; *c; c++) {
                unsigned char b = (unsigned char)*c;
                h = (h ^ (b >= 'A' && b <= 'Z' ? b + 32u : b)) * 1099511628211ULL;
            }
        *hash = h;
        ok = true;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}
