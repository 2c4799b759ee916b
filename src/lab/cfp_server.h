/* cfp_server.h - a small static-file HTTP(S) server on top of libmicrohttpd.
 *
 * It serves the regular files under one directory so that the fetch path of
 * cfp is exercised over real HTTP (tests, `cfp serve`). Requests are
 * untrusted: the path is percent-decoded once, must be a plain relative path
 * (no NUL, no backslash, no "." or ".." segment, no empty segment) and its
 * realpath must stay under the root's realpath, so nothing outside the root
 * is served, symlinks included (a symlink that stays inside is followed).
 * Only GET and HEAD are answered (405 with "Allow: GET, HEAD" otherwise);
 * there is no directory listing. Connections, request size and idle time are
 * bounded (see the limits below); the default bind address is 127.0.0.1.
 *
 * An optional latency is added to every GET/HEAD response without blocking
 * anything: the connection is suspended and one timer thread resumes it when
 * its deadline passes, so N concurrent requests all finish after about one
 * latency, not N of them.
 */
#ifndef CFP_SERVER_H
#define CFP_SERVER_H

#include <stdint.h>

#include "base/cfp_err.h"

/* Longest decoded request path accepted (bytes, without the NUL); a longer
 * one is answered 400. */
#define CFP_SERVER_PATH_MAX 1024

/* Default for cfp_server_opts.conn_max: most connections open at once (idle
 * keep-alive and ones waiting for their latency included). Further clients
 * wait in the kernel's listen backlog (same size) until a slot frees. The
 * limit is lowered to (soft RLIMIT_NOFILE - 32) / 2 when that is smaller,
 * so each connection can hold its socket and an open file. */
#define CFP_SERVER_CONN_MAX 1024

/* Default for cfp_server_opts.idle_timeout_s: a connection that sends and
 * receives nothing for this many seconds is closed (an idle keep-alive
 * connection, or one stalled in the middle of its request headers). A
 * connection waiting for its latency is not idle. */
#define CFP_SERVER_IDLE_TIMEOUT_S 30

/* Memory per connection for the request line and headers (bytes). A request
 * whose line or headers do not fit is answered 414 or 431 and its connection
 * closed. With CFP_SERVER_CONN_MAX it bounds the server's request memory to
 * 32 MiB. Bodies are never buffered. */
#define CFP_SERVER_CONN_MEMORY (32u * 1024u)

struct cfp_server;

struct cfp_server_opts {
    const char *root;         /* directory served (required) */
    const char *bind_addr;    /* numeric IPv4 or IPv6 address; "127.0.0.1" when NULL */
    uint16_t port;            /* 0 = an ephemeral port, see cfp_server_port() */
    unsigned latency_ms;      /* added before each GET/HEAD response */
    const char *tls_cert_pem; /* PEM file paths; both set = HTTPS, one set = error */
    const char *tls_key_pem;
    unsigned conn_max;       /* 0 = CFP_SERVER_CONN_MAX */
    unsigned idle_timeout_s; /* 0 = CFP_SERVER_IDLE_TIMEOUT_S */
};

/* Starts a server as described by o; it runs on its own threads until
 * cfp_server_stop(). o and its strings are only read during the call.
 * Returns CFP_ERR_OK and sets *out, or CFP_ERR_SERVER (root not a directory,
 * bad address, cannot bind, bad certificate or key, TLS not built into
 * libmicrohttpd), CFP_ERR_NOMEM or CFP_ERR_IO (cannot read a PEM file) with
 * a message in st; *out is untouched on error. Caller stops with
 * cfp_server_stop(). */
cfp_err cfp_server_start(const struct cfp_server_opts *o, struct cfp_server **out,
                         struct cfp_status *st);

/* The bound port (the one the kernel chose when 0 was asked). */
uint16_t cfp_server_port(const struct cfp_server *s);

/* Stops the server: requests still waiting for their latency are answered
 * or dropped at once, then all threads are joined and everything is freed.
 * NULL-safe; sets *ps = NULL. Must not be called from a server thread. */
void cfp_server_stop(struct cfp_server **ps);

/* The Content-Type served for a file name, by its extension (case does not
 * matter): .png, .txt, .csv, .json, else application/octet-stream. Never
 * NULL; a static string. */
const char *cfp_server_content_type(const char *name);

#endif
