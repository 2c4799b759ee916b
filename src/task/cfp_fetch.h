/* cfp_fetch.h - downloading one URL with libcurl: limits, redirects, retries.
 *
 * Policy (the same for every engine):
 * - http and https over libcurl; file:// only as the URL given, never as a
 *   redirect target, and read by cfp_fetch_file.c, not by libcurl: regular
 *   files only, never a FIFO, device or directory;
 * - at most 5 redirects; connect timeout and stall timeout (under 100
 *   bytes/s for timeout_s seconds) from cfg->timeout_s;
 * - max_bytes enforced while receiving: the transfer stops at the limit;
 * - HTTP status >= 400 fails, with the status in the result; a final 3xx
 *   (a redirect not followed: no Location) fails with REDIRECT, its body
 *   unread;
 * - transient failures (connection errors, resets, timeouts, truncated
 *   bodies, 429 and 5xx) are retried up to cfg->retries times with
 *   exponential backoff, honouring Retry-After (capped at 30 s).
 * A struct cfp_fetcher owns one CURL easy handle, reused for every URL so
 * that connections stay alive; it belongs to one thread. */
#ifndef CFP_FETCH_H
#define CFP_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "base/cfp_err.h"

struct cfp_fetch_cfg {
    uint64_t max_bytes;  /* body limit */
    double timeout_s;    /* connect and stall timeout */
    int retries;         /* extra attempts for transient failures */
    double backoff_s;    /* first retry delay; doubles each time, capped at 10 s */
    const char *cacert;  /* CA bundle for https, NULL = system default */
    bool insecure;       /* skip TLS verification */
    double task_timeout_s; /* --task-timeout: whole task, every attempt and stage; 0 = none */
};

/* Where the body goes. Callbacks run on the fetching thread. data may
 * return CFP_ERR_AGAIN when it cannot take the bytes yet: only under
 * curl_multi (the async loop), which pauses the transfer and offers the same
 * bytes again once resumed. A callback that
 * returns any other error stops the transfer; it has already written its message
 * into the status passed to cfp_fetch_url(), and that error is returned
 * unchanged (never retried). */
struct cfp_fetch_sink {
    /* Once per attempt, before the first body byte (or at the end for an
     * empty body), with the Content-Type header or NULL, and the body's
     * announced size (Content-Length, a file's size) or -1: a hint for
     * buffering, never trusted as the real length. */
    cfp_err (*begin)(void *ctx, const char *content_type, int64_t size);
    cfp_err (*data)(void *ctx, const void *p, size_t n);
    /* The attempt failed and will be retried: forget what was received. */
    void (*reset)(void *ctx);
    void *ctx;
};

struct cfp_fetch_result {
    int32_t http_status; /* last status, 0 when there was no HTTP reply */
    int32_t attempts;
    int64_t bytes; /* body bytes of the last attempt */
};

/* One attempt of one transfer on an easy handle: the state the write
 * callback needs, shared by the blocking fetcher and the async engine's
 * multi loop. Owned by the thread driving the handle. */
struct cfp_fetch_xfer {
    CURL *h;                       /* not owned */
    const struct cfp_fetch_cfg *cfg;
    const struct cfp_fetch_sink *sink;
    int64_t bytes;
    double deadline;               /* cfp_now() time the task must end by, 0 = none */
    bool begun, too_big;
    bool paused;                   /* the sink returned CFP_ERR_AGAIN: the transfer is
                                      paused until the driver resumes it */
    cfp_err sink_err;
    char errbuf[CURL_ERROR_SIZE];
    int redirect_status;           /* a final 3xx reply (a redirect not followed), else 0 */
};

/* Sets the options of the fetch policy that do not depend on the URL on a
 * new easy handle (timeouts, redirects, limits, TLS, user agent). */
void cfp_fetch_setup_handle(CURL *h, const struct cfp_fetch_cfg *cfg, CURLSH *share);

/* Prepares x for an attempt of url on h: URL, protocols, write callback,
 * and a transfer timeout of what is left until deadline (cfp_now() clock;
 * 0 = no deadline). */
void cfp_fetch_xfer_start(struct cfp_fetch_xfer *x, CURL *h, const struct cfp_fetch_cfg *cfg,
                          const struct cfp_fetch_sink *sink, const char *url, double deadline);

/* Judges a finished attempt (rc from curl_easy_perform or CURLMSG_DONE):
 * fills res, returns CFP_ERR_OK or the error with its message in st, and
 * sets *transient when a retry may succeed. A sink error is returned as is
 * (its message is already in the sink's status). */
cfp_err cfp_fetch_xfer_done(struct cfp_fetch_xfer *x, const char *url, CURLcode rc,
                            bool *transient, struct cfp_fetch_result *res, struct cfp_status *st);

/* Seconds to wait before retry number `retry` (1 = first) of the transfer
 * that just ended on h: exponential backoff, or the server's Retry-After. */
double cfp_fetch_retry_delay(CURL *h, const struct cfp_fetch_cfg *cfg, int retry);

struct cfp_fetcher;

/* share may be NULL or a CURLSH * the caller keeps alive longer than the
 * fetcher. Caller frees with cfp_fetcher_free(). */
cfp_err cfp_fetcher_new(const struct cfp_fetch_cfg *cfg, CURLSH *share, struct cfp_fetcher **out,
                        struct cfp_status *st);
void cfp_fetcher_free(struct cfp_fetcher **pf);

/* Checks that url parses and has an accepted scheme (http, https, file).
 * CFP_ERR_URL for a malformed URL, CFP_ERR_SCHEME for any other scheme. */
cfp_err cfp_fetch_check_url(const char *url, struct cfp_status *st);

/* Whether url is a file:// URL (a local file, no server): the rule the
 * fetch uses to pick libcurl's protocols. */
bool cfp_fetch_is_file(const char *url);

/* Hashes url's origin (scheme, lowercased host, port, default port filled
 * in) into *hash; false for file:// and URLs without a host (no origin to
 * spare). */
bool cfp_fetch_origin_hash(const char *url, uint64_t *hash);

/* Fetches url into sink, retrying as the policy says, all before deadline
 * (cfp_now() clock; 0 = none). */
cfp_err cfp_fetch_url(struct cfp_fetcher *f, const char *url, const struct cfp_fetch_sink *sink,
                      double deadline, struct cfp_fetch_result *res, struct cfp_status *st);

/* Whether a retry after delay_s still ends before deadline (0 = none). */
bool cfp_fetch_retry_in_time(double deadline, double delay_s);

/* Call once at program start (before threads) and once at the end. */
cfp_err cfp_fetch_global_init(struct cfp_status *st);
void cfp_fetch_global_cleanup(void);

#endif
