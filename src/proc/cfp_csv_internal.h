/* cfp_csv_internal.h - private to the CSV converter's files: cfp_csv.c (the
 * byte state machine, header checks, errors, record writer) and
 * cfp_csv_fast.c (the fast path for whole data records in one chunk). */
#ifndef CFP_CSV_INTERNAL_H
#define CFP_CSV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/cfp_csv.h"

/* S_QQ: a quote seen inside a quoted field: either the first half of "" or
 * the closing quote, decided by the next byte. */
enum { S_REC, S_FIELD, S_UNQ, S_QUO, S_QQ };

#define OUT_CAP 65536u /* output staging: JSON reaches wr in blocks this big */
/* Bytes allocated past OUT_CAP (c->out) and past keys_len (c->keys): the
 * fast path stores and loads 16 bytes at a time and may run that far past
 * the end of what it means. Never part of the output. */
#define CSV_SLACK 64u

struct field {
    size_t off, len; /* content bytes at c->buf + off */
    bool quoted;     /* began with '"': always a JSON string */
};

struct cfp_csv {
    cfp_write_fn wr;
    void *ctx;
    size_t max_record;
    cfp_err err; /* first failure; sticky */
    bool finished;
    int state;
    bool bom_done;      /* the BOM question is settled */
    size_t bom_len;     /* BOM prefix bytes held while undecided */
    bool last_cr;       /* the previous chunk ended with '\r' */
    int64_t line;       /* line of the byte being parsed, 1-based */
    int64_t rec_line;   /* line where the current record began */
    int64_t quote_line; /* line of the current field's opening quote */
    int64_t nrec;       /* completed records, the header included */
    int64_t rows;       /* data records written */
    size_t rec_bytes;   /* raw bytes of the current record so far */
    bool quoted;        /* the current field began with a quote */
    size_t fstart;      /* offset in buf of the current field */
    unsigned char *buf; /* field contents of the current record */
    size_t len, cap;
    struct field *f; /* finished fields of the current record */
    size_t nf, fcap;
    unsigned char *keys; /* header as JSON: `"a": ` then `, "b": ` ...; CSV_SLACK
                          * zero bytes follow keys_len once the header is set */
    size_t keys_len, keys_cap;
    size_t *key_end;    /* key i is keys[key_end[i-1] .. key_end[i]) */
    size_t ncols;       /* 0 until the header is known */
    unsigned char *out; /* staged output, OUT_CAP (+ CSV_SLACK) bytes */
    size_t out_len;
};

/* The JSON number grammar, exactly: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static inline bool cfp_csv_is_number(const unsigned char *s, size_t n)
{
    size_t i = 0;

#define DIGIT(k) ((k) < n && s[k] >= '0' && s[k] <= '9')
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (DIGIT(i) && s[i] != '0')
        while (DIGIT(i))
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        if (!DIGIT(i + 1))
            return false;
        for (i++; DIGIT(i); i++)
            ;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!DIGIT(i))
            return false;
        while (DIGIT(i))
            i++;
    }
#undef DIGIT
    return i == n;
}

/* The fast path. Called in state S_REC once the header is known, it
 * converts the data records that begin at p[i] and lie wholly in
 * p[i..n), straight into c->out, and returns the offset after the last one
 * it took (i when it took none). It stops, leaving everything as it was
 * for the record at hand, before an empty line, a record that ends beyond
 * p[n - 16], the header, or any record that could fail (more fields than
 * the header, invalid UTF-8, over max_record), holds text after a closing
 * quote, or whose worst-case JSON could make the staging buffer flush:
 * the state machine then handles that record, with the same output, the
 * same flushes and the same messages. Never fails. */
size_t cfp_csv_fast(struct cfp_csv *c, const unsigned char *p, size_t n, size_t i);

#endif
