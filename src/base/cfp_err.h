/* cfp_err.h - the one error type of cfp, and the per-task status that carries
 * a precise message next to it.
 *
 * Every fallible function returns cfp_err. Functions that can say more than
 * the code also take a struct cfp_status *, into which they write a message
 * naming the object, the call and the cause ("GET http://h/a.png: HTTP 404").
 * The first message wins: like curl's error buffer, the root cause is kept and
 * later, vaguer failures do not overwrite it.
 */
#ifndef CFP_ERR_H
#define CFP_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* X(name, text): the table is written once so no code lacks a message. */
#define CFP_ERR_MAP(X)                                                                 \
    X(OK, "success")                                                                   \
    X(NOMEM, "out of memory")                                                          \
    X(USAGE, "usage error")                                                            \
    X(IO, "I/O error")                                                                 \
    X(NOT_FILE, "not a regular file")                                                  \
    X(TOO_BIG, "input over limit")                                                     \
    X(MEMORY, "over the memory budget")                                                \
    X(URL, "bad URL")                                                                  \
    X(SCHEME, "unsupported URL scheme")                                                \
    X(CONNECT, "connection failed")                                                    \
    X(TIMEOUT, "timed out")                                                            \
    X(HTTP, "HTTP error status")                                                       \
    X(TRANSFER, "transfer failed")                                                     \
    X(TLS, "TLS error")                                                                \
    X(REDIRECT, "redirect refused")                                                    \
    X(TYPE, "unsupported type")                                                        \
    X(PNG_DECODE, "bad PNG data")                                                      \
    X(PNG_ENCODE, "PNG encoding failed")                                               \
    X(CSV, "bad CSV data")                                                             \
    X(HDF5, "HDF5 error")                                                              \
    X(SERVER, "server error")                                                          \
    X(STOPPED, "stopped before finishing")                                             \
    X(AGAIN, "waits for memory: try again") /* internal: never in a record */          \
    X(INTERNAL, "internal error")

#define CFP_ENUM_(name, text) CFP_ERR_##name,
typedef enum { CFP_ERR_MAP(CFP_ENUM_) CFP_ERR_COUNT_ } cfp_err;
#undef CFP_ENUM_

/* Human-readable text of e; never NULL, also for out-of-range values. */
const char *cfp_strerror(cfp_err e);

/* Stable short name of e ("HTTP", "PNG_DECODE"); never NULL. */
const char *cfp_errname(cfp_err e);

#define CFP_MSG_MAX 512

/* A task's (or a call's) outcome: the code and a bounded message. */
struct cfp_status {
    cfp_err code;
    char msg[CFP_MSG_MAX];
};

/* Resets st to OK with an empty message. st may be NULL. */
void cfp_status_clear(struct cfp_status *st);

/* Records code and the formatted message in st unless st already holds an
 * error (first cause wins). Returns code, so callers can write
 * `return cfp_status_set(st, CFP_ERR_IO, "open %s: %s", p, strerror(errno));`.
 * st may be NULL (then only code is returned). */
cfp_err cfp_status_set(struct cfp_status *st, cfp_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As cfp_status_set, but prefixes "<prefix>: " to an existing message (used
 * by callers that add context, e.g. the task pipeline adding the URL). */
void cfp_status_prefix(struct cfp_status *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
