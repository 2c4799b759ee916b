/* cfp_record.h - the unit of work (struct cfp_task) and what is recorded
 * about it (struct cfp_record). Both are flat, fixed-size structs: they are
 * copied between threads and, in mpi/, sent as bytes between ranks, so they
 * hold no pointers. */
#ifndef CFP_RECORD_H
#define CFP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/cfp_err.h"

/* A URL line longer than this is a per-task error ("URL too long"). */
#define CFP_URL_MAX  4096
#define CFP_PATH_MAX 1024
#define CFP_KIND_MAX 16
#define CFP_DIGEST_HEX 65 /* SHA-256 as 64 hex digits + NUL */
#define CFP_HOST_MAX 64

/* One URL to process. index is its 0-based position among the list's URL
 * lines (comments and blank lines do not count): it names the output file
 * and orders results, whatever the engine.
 *
 * A line holding an ASCII control byte (cfp_urllist.h) is still a task, so
 * that later lines keep their indexes, but one that fails: bad_col is the
 * 1-based byte column of the first such byte in the line as read, bad_byte
 * its value, and url holds the line only up to that byte (a NUL cannot be
 * in a C string, and no control byte reaches a record, log or report).
 * url_truncated wins over bad_col: a list reader sets at most one. */
struct cfp_task {
    int64_t index;
    bool url_truncated; /* the line was longer than CFP_URL_MAX - 1 bytes */
    uint8_t bad_byte;   /* meaningful only when bad_col > 0 */
    uint16_t bad_col;   /* 0: no control byte; at most CFP_URL_MAX */
    char url[CFP_URL_MAX];
};

/* What happened to one task. Kind-specific fields that do not apply are -1;
 * strings that do not apply are empty. Times are seconds: t_start since the
 * run started, t_fetch/t_process/t_write durations of each phase. */
struct cfp_record {
    int64_t index;
    char url[CFP_URL_MAX];
    char kind[CFP_KIND_MAX]; /* "image", "text", "csv" or "unknown" */
    cfp_err code;            /* CFP_ERR_OK: status "ok"; else "failed" */
    char error[CFP_MSG_MAX]; /* precise message; "" when ok */
    int32_t http_status;     /* last HTTP status, 0 when none (file://, no reply) */
    int32_t attempts;        /* fetch attempts made (retries + 1) */
    int64_t bytes_in;        /* body bytes received */
    int64_t bytes_out;       /* bytes of the output file */
    char output[CFP_PATH_MAX];         /* output path, "" when failed */
    char digest[CFP_DIGEST_HEX];       /* SHA-256 of the output, "" when failed */
    int32_t rank;                      /* MPI rank, 0 for local runs */
    char host[CFP_HOST_MAX];           /* host name of the process that ran the task */
    int32_t worker;                    /* worker (thread) id within the rank */
    double t_start, t_fetch, t_process, t_write;
    int32_t width_in, height_in, width_out, height_out; /* images */
    int64_t lines, words, chars;                        /* text */
    int64_t rows, cols;                                 /* csv */
    bool stuck; /* given up by the watchdog (cfp_watch.h): counted, not a column */
};

/* Initialises r for task t: copies index and URL, sets every kind-specific
 * field to -1 and everything else to zero/empty. */
void cfp_record_init(struct cfp_record *r, const struct cfp_task *t);

/* Hides the password of the URL's userinfo ("http://user:secret@host/")
 * as "user:***@" in r->url and everywhere r->error quotes it, so that no
 * record, report or log line derived from r shows it. */
void cfp_record_scrub(struct cfp_record *r);

/* The same for one string (NUL-terminated, rewritten in place): every
 * ":<password>@" of url's userinfo in s becomes ":***@". */
void cfp_url_scrub_in(const char *url, char *s);

/* This host's name (gethostname, '/' replaced by '_'; "" if unknown),
 * read once; recorded in every record and used in temporary file names. */
const char *cfp_host_name(void);

/* "ok" or "failed". */
const char *cfp_record_status(const struct cfp_record *r);

#endif
