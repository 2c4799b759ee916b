/* cfp_csv.c - streaming CSV parser and JSON writer.
 *
 * A byte-level state machine (the one of Python's _csv.c, minus its
 * line-iterator coupling) collects one record's field contents in c->buf
 * and their bounds in c->f. When a record ends it is checked and, for data
 * records, rendered at once; so only one record is ever held, plus the
 * header, pre-rendered as the JSON keys ("name": ) it contributes to every
 * object. Runs of plain bytes are located with a table and copied in bulk.
 *
 * That machine is the reference; most data records never reach it:
 * cfp_csv_fast() (cfp_csv_fast.c) converts every record that lies whole in
 * the chunk and cannot fail straight from the input into the staging
 * buffer, and hands anything else (the header, records cut by a chunk
 * boundary, errors, odd quoting, a coming flush) back to it, record by
 * record. */
#include "proc/cfp_csv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/cfp_csv_internal.h"
#include "proc/cfp_json.h"
#include "base/cfp_mem.h"

/* Bytes that end a run inside an unquoted field. */
static const bool unq_stop[256] = {[','] = true, ['\r'] = true, ['\n'] = true};

cfp_err cfp_csv_new(cfp_write_fn wr, void *ctx, size_t max_record, struct cfp_csv **out)
{
    struct cfp_csv *c = cfp_calloc(1, sizeof(*c));

    if (!c)
        return CFP_ERR_NOMEM;
    /* buf and f start non-NULL so that empty fields still point somewhere. */
    c->out = cfp_malloc(OUT_CAP + CSV_SLACK);
    if (!c->out)
        goto out_free_c;
    c->buf = cfp_malloc(256);
    if (!c->buf)
        goto out_free_out;
    c->f = cfp_malloc(16 * sizeof(*c->f));
    if (!c->f)
        goto out_free_buf;
    c->cap = 256;
    c->fcap = 16;
    c->wr = wr;
    c->ctx = ctx;
    c->max_record = max_record ? max_record : CFP_CSV_MAX_RECORD_DEFAULT;
    c->state = S_REC;
    c->line = 1;
    *out = c;
    return CFP_ERR_OK;

out_free_buf:
    cfp_free(c->buf);
out_free_out:
    cfp_free(c->out);
out_free_c:
    cfp_free(c);
    return CFP_ERR_NOMEM;
}

void cfp_csv_free(struct cfp_csv **pc)
{
    struct cfp_csv *c;

    if (!pc || !*pc)
        return;
    c = *pc;
    cfp_free(c->out);
    cfp_free(c->key_end);
    cfp_free(c->keys);
    cfp_free(c->f);
    cfp_free(c->buf);
    cfp_free(c);
    *pc = NULL;
}

/* Records the failure of the current record (sticky) with the standard
 * "CSV record R (line L): " prefix. Returns code. */
static cfp_err csv_fail(struct cfp_csv *c, struct cfp_status *st, cfp_err code, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
static cfp_err csv_fail(struct cfp_csv *c, struct cfp_status *st, cfp_err code, const char *fmt,
                        ...)
{
    char what[CFP_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(what, sizeof(what), fmt, ap); /* bounded message: may truncate */
    va_end(ap);
    c->err = code;
    return cfp_status_set(st, code, "CSV record %" PRId64 " (line %" PRId64 "): %s", c->nrec + 1,
                          c->rec_line, what);
}

/* Grows *buf (element size es, capacity *cap elements) to hold n more
 * elements after len, doubling. Sizes are bounded by max_record, but the
 * arithmetic is checked anyway. */
static cfp_err grow(void **buf, size_t *cap, size_t len, size_t n, size_t es)
{
    size_t ncap = *cap ? *cap : 64;
    void *nb;

    if (n > SIZE_MAX / es - len)
        return CFP_ERR_TOO_BIG;
    if (len + n <= *cap)
        return CFP_ERR_OK;
    while (ncap < len + n) {
        if (ncap > SIZE_MAX / es / 2)
            return CFP_ERR_TOO_BIG;
        ncap *= 2;
    }
    nb = cfp_realloc(*buf, ncap * es);
    if (!nb)
        return CFP_ERR_NOMEM;
    *buf = nb;
    *cap = ncap;
    return CFP_ERR_OK;
}

/* Output sink for cfp_json_write_string: stages into c->out. */
static cfp_err out_write(void *ctx, const void *data, size_t len)
{
    struct cfp_csv *c = ctx;
    cfp_err err;

    if (len > OUT_CAP - c->out_len) {
        err = c->out_len ? c->wr(c->ctx, c->out, c->out_len) : CFP_ERR_OK;
        c->out_len = 0;
        if (err)
            return err;
        if (len >= OUT_CAP)
            return c->wr(c->ctx, data, len);
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return CFP_ERR_OK;
}

static cfp_err out_flush(struct cfp_csv *c)
{
    cfp_err err = c->out_len ? c->wr(c->ctx, c->out, c->out_len) : CFP_ERR_OK;

    c->out_len = 0;
    return err;
}

/* Counts a line end at p[i] ('\r' or '\n'): CR, LF and CRLF are one each,
 * so the LF of a CRLF (possibly split across chunks) is not counted. */
static void newline(struct cfp_csv *c, const unsigned char *p, size_t i)
{
    bool after_cr = i ? p[i - 1] == '\r' : c->last_cr;

    if (p[i] == '\r' || !after_cr)
        c->line++;
}

/* Accounts k raw bytes to the current record against max_record. */
static cfp_err rec_take(struct cfp_csv *c, size_t k, struct cfp_status *st)
{
    if (k > c->max_record - c->rec_bytes)
        return csv_fail(c, st, CFP_ERR_TOO_BIG, "longer than %zu bytes", c->max_record);
    c->rec_bytes += k;
    return CFP_ERR_OK;
}

/* Appends raw bytes s[0..k) (accounted) that are also field content. */
static cfp_err content_add(struct cfp_csv *c, const unsigned char *s, size_t k, bool raw,
                           struct cfp_status *st)
{
    cfp_err err = raw ? rec_take(c, k, st) : CFP_ERR_OK;

    if (err || k == 0)
        return err;
    err = grow((void **)&c->buf, &c->cap, c->len, k, 1);
    if (err)
        return csv_fail(c, st, err, "%s", cfp_strerror(err));
    memcpy(c->buf + c->len, s, k);
    c->len += k;
    return CFP_ERR_OK;
}

/* Closes the current field and starts the next one. */
static cfp_err field_end(struct cfp_csv *c, struct cfp_status *st)
{
    cfp_err err = grow((void **)&c->f, &c->fcap, c->nf, 1, sizeof(*c->f));

    if (err)
        return csv_fail(c, st, err, "%s", cfp_strerror(err));
    c->f[c->nf++] =
        (struct field){.off = c->fstart, .len = c->len - c->fstart, .quoted = c->quoted};
    c->fstart = c->len;
    c->quoted = false;
    return CFP_ERR_OK;
}

/* Fails unless every field of the record is valid UTF-8. */
static cfp_err check_utf8(struct cfp_csv *c, struct cfp_status *st)
{
    size_t k, i, sl;

    for (k = 0; k < c->nf; k++) {
        const unsigned char *s = c->buf + c->f[k].off;
        size_t n = c->f[k].len;

        for (i = cfp_utf8_ascii_prefix(s, n); i < n; i += sl) {
            sl = s[i] < 0x80 ? 1 : cfp_utf8_seq_len(s + i, n - i);
            if (!sl)
                return csv_fail(c, st, CFP_ERR_CSV,
                                "field %zu: invalid UTF-8 byte 0x%02x at offset %zu", k + 1, s[i],
                                i);
        }
    }
    return CFP_ERR_OK;
}

/* Copies at most 40 bytes of a header name for a message, cut at a
 * character boundary, control characters shown as '?'. */
static void name_excerpt(char *d, size_t cap, const unsigned char *s, size_t n)
{
    size_t i, m = n < 40 ? n : 40;

    while (m < n && m > 0 && (s[m] & 0xC0) == 0x80)
        m--;
    for (i = 0; i < m && i + 1 < cap; i++)
        d[i] = s[i] < 0x20 || s[i] == 0x7F ? '?' : (char)s[i];
    d[i] = '\0';
}

struct name_ref {
    const unsigned char *s;
    size_t len, idx;
};

static int name_cmp(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->s, y->s, n);

    if (r)
        return r;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool same_name(const struct name_ref *a, const struct name_ref *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* Fails on an empty header name, then on the earliest repeated one
 * ("field 3 duplicates field 1"). Sorting keeps a wide header O(n log n). */
static cfp_err check_names(struct cfp_csv *c, struct cfp_status *st)
{
    struct name_ref *r, *dup = NULL;
    char name[48];
    size_t k, first;

    for (k = 0; k < c->nf; k++)
        if (c->f[k].len == 0)
            return csv_fail(c, st, CFP_ERR_CSV, "header field %zu is empty", k + 1);
    r = cfp_malloc(c->nf * sizeof(*r)); /* nf * size fits: f[] holds as many */
    if (!r)
        return csv_fail(c, st, CFP_ERR_NOMEM, "%s", cfp_strerror(CFP_ERR_NOMEM));
    for (k = 0; k < c->nf; k++)
        r[k] = (struct name_ref){c->buf + c->f[k].off, c->f[k].len, k};
    qsort(r, c->nf, sizeof(*r), name_cmp);
    /* In a run of equal names r[k-1] is the first occurrence when r[k] is
     * the second; report the smallest such second occurrence. */
    for (k = 1; k < c->nf; k++) {
        if (!same_name(&r[k], &r[k - 1]) || (k >= 2 && same_name(&r[k - 2], &r[k])))
            continue;
        if (!dup || r[k].idx < dup[1].idx)
            dup = &r[k - 1];
    }
    if (!dup) {
        cfp_free(r);
        return CFP_ERR_OK;
    }
    name_excerpt(name, sizeof(name), dup->s, dup->len);
    first = dup->idx;
    k = dup[1].idx;
    cfp_free(r);
    return csv_fail(c, st, CFP_ERR_CSV, "header field %zu duplicates field %zu \"%s\"", k + 1,
                    first + 1, name);
}

/* keys_write: cfp_write_fn appending to c->keys (header rendering). */
static cfp_err keys_write(void *ctx, const void *data, size_t len)
{
    struct cfp_csv *c = ctx;
    cfp_err err = grow((void **)&c->keys, &c->keys_cap, c->keys_len, len, 1);

    if (err)
        return err;
    memcpy(c->keys + c->keys_len, data, len);
    c->keys_len += len;
    return CFP_ERR_OK;
}

/* Checks the header record and renders its names once as JSON keys. */
static cfp_err header_set(struct cfp_csv *c, struct cfp_status *st)
{
    cfp_err err = check_utf8(c, st);
    size_t k;

    if (!err)
        err = check_names(c, st);
    if (err)
        return err;
    c->key_end = cfp_malloc(c->nf * sizeof(*c->key_end));
    if (!c->key_end)
        return csv_fail(c, st, CFP_ERR_NOMEM, "%s", cfp_strerror(CFP_ERR_NOMEM));
    for (k = 0; k < c->nf && !err; k++) {
        err = k ? keys_write(c, ", ", 2) : CFP_ERR_OK;
        if (!err)
            err = cfp_json_write_string(keys_write, c, c->buf + c->f[k].off, c->f[k].len);
        if (!err)
            err = keys_write(c, ": ", 2);
        c->key_end[k] = c->keys_len;
    }
    /* Zeroed slack after the keys: the fast path copies them 16 bytes at a
     * time. */
    if (!err)
        err = grow((void **)&c->keys, &c->keys_cap, c->keys_len, CSV_SLACK, 1);
    if (err)
        return csv_fail(c, st, err, "%s", cfp_strerror(err));
    memset(c->keys + c->keys_len, 0, CSV_SLACK);
    c->ncols = c->nf; /* only now: ncols != 0 means the header is complete */
    return CFP_ERR_OK;
}

/* Makes room for need bytes in c->out, flushing it if it must. */
static cfp_err out_room(struct cfp_csv *c, size_t need)
{
    return need > OUT_CAP - c->out_len ? out_flush(c) : CFP_ERR_OK;
}

/* Writes one data record as a JSON object. Key and value go straight into
 * the staging buffer when their worst case (6 bytes per value byte) fits in
 * it; a longer key or value streams through out_write. */
static cfp_err record_write(struct cfp_csv *c)
{
    cfp_err err = out_room(c, 3);
    size_t k, start = 0;

    if (!err) {
        memcpy(c->out + c->out_len, c->rows ? ",\n{" : "[\n{", 3);
        c->out_len += 3;
    }
    for (k = 0; k < c->ncols && !err; k++) {
        const struct field *f = &c->f[k];
        const unsigned char *key = c->keys + start, *v = k < c->nf ? c->buf + f->off : NULL;
        size_t klen = c->key_end[k] - start, vlen = v ? f->len : 0;
        bool num = v && !f->quoted && cfp_csv_is_number(v, vlen);
        unsigned char *o;

        start = c->key_end[k];
        if (klen < OUT_CAP / 2 && vlen < OUT_CAP / 16) {
            /* 6 * vlen + 2 < OUT_CAP / 2: key plus worst-case value fit */
            err = out_room(c, klen + CFP_JSON_STRING_MAX(vlen) + 4);
            if (err)
                break;
            o = c->out + c->out_len;
            memcpy(o, key, klen);
            o += klen;
            if (!v)
                memcpy(o, "null", 4), o += 4;
            else if (num)
                memcpy(o, v, vlen), o += vlen;
            else
                o = cfp_json_escape(o, v, vlen);
            c->out_len = (size_t)(o - c->out);
            continue;
        }
        err = out_write(c, key, klen);
        if (err)
            break;
        if (!v)
            err = out_write(c, "null", 4);
        else if (num)
            err = out_write(c, v, vlen);
        else
            err = cfp_json_write_string(out_write, c, v, vlen);
    }
    if (!err)
        err = out_write(c, "}", 1);
    return err;
}

/* A record is complete: the header is checked and kept, a data record is
 * checked and written. */
static cfp_err record_end(struct cfp_csv *c, struct cfp_status *st)
{
    cfp_err err;

    if (c->ncols == 0) {
        err = header_set(c, st);
    } else if (c->nf > c->ncols) {
        err = csv_fail(c, st, CFP_ERR_CSV, "%zu fields, header has %zu", c->nf, c->ncols);
    } else {
        err = check_utf8(c, st);
        if (!err && (err = record_write(c)) != CFP_ERR_OK) {
            c->err = err;
            return cfp_status_set(st, err, "CSV: writing output: %s", cfp_strerror(err));
        }
        c->rows += !err;
    }
    c->nrec += !err;
    c->state = S_REC;
    return err;
}

/* Ends the current field, and the record if p[i] is a line end. */
static cfp_err field_or_record_end(struct cfp_csv *c, const unsigned char *p, size_t i,
                                   struct cfp_status *st)
{
    cfp_err err;

    if (p[i] == ',') {
        err = rec_take(c, 1, st);
        if (!err)
            err = field_end(c, st);
        c->state = S_FIELD;
        return err;
    }
    err = field_end(c, st);
    if (!err)
        err = record_end(c, st);
    newline(c, p, i);
    return err;
}

/* Handles p[*i] at a record or field start; consumes it unless it begins
 * an unquoted field (then S_UNQ takes it). */
static cfp_err at_start(struct cfp_csv *c, const unsigned char *p, size_t *i, struct cfp_status *st)
{
    unsigned char b = p[*i];

    if (c->state == S_REC) {
        if (b == '\r' || b == '\n') { /* empty line: no record */
            newline(c, p, (*i)++);
            return CFP_ERR_OK;
        }
        c->rec_line = c->line;
        c->rec_bytes = c->len = c->nf = c->fstart = 0;
        c->quoted = false;
        c->state = S_FIELD;
    }
    if (b == '"') {
        c->quoted = true;
        c->quote_line = c->line;
        c->state = S_QUO;
        (*i)++;
        return rec_take(c, 1, st);
    }
    if (b == ',' || b == '\r' || b == '\n')
        return field_or_record_end(c, p, (*i)++, st);
    c->state = S_UNQ;
    return CFP_ERR_OK;
}

/* Inside an unquoted field: copies the run up to , CR or LF. */
static cfp_err in_unquoted(struct cfp_csv *c, const unsigned char *p, size_t n, size_t *i,
                           struct cfp_status *st)
{
    size_t j = *i;
    cfp_err err;

    while (j < n && !unq_stop[p[j]])
        j++;
    err = content_add(c, p + *i, j - *i, true, st);
    *i = j;
    if (!err && j < n)
        err = field_or_record_end(c, p, (*i)++, st);
    return err;
}

/* Inside a quoted field: copies the run up to the next quote, counting the
 * line ends it holds. */
static cfp_err in_quoted(struct cfp_csv *c, const unsigned char *p, size_t n, size_t *i,
                         struct cfp_status *st)
{
    size_t j;
    cfp_err err;

    for (j = *i; j < n && p[j] != '"'; j++)
        if (p[j] == '\r' || p[j] == '\n')
            newline(c, p, j);
    err = content_add(c, p + *i, j - *i, true, st);
    *i = j;
    if (!err && j < n) {
        c->state = S_QQ;
        (*i)++;
        err = rec_take(c, 1, st);
    }
    return err;
}

/* After a quote inside a quoted field. */
static cfp_err after_quote(struct cfp_csv *c, const unsigned char *p, size_t *i,
                           struct cfp_status *st)
{
    unsigned char b = p[*i];

    if (b == '"') { /* "" is one literal quote */
        c->state = S_QUO;
        (*i)++;
        return content_add(c, p + *i - 1, 1, true, st);
    }
    if (b == ',' || b == '\r' || b == '\n')
        return field_or_record_end(c, p, (*i)++, st);
    /* Text after the closing quote is literal, as in Python's csv module;
     * the field still counts as quoted (a string). */
    c->state = S_UNQ;
    return CFP_ERR_OK;
}

static cfp_err csv_parse(struct cfp_csv *c, const unsigned char *p, size_t n, struct cfp_status *st)
{
    size_t i = 0;
    cfp_err err = CFP_ERR_OK;

    while (i < n && !err) {
        /* Between data records the fast path takes what it can; it leaves
         * the rest of the chunk, or a record it will not take, to us. */
        if (c->state == S_REC && c->ncols && (i = cfp_csv_fast(c, p, n, i)) == n)
            break;
        switch (c->state) {
        case S_REC:
        case S_FIELD:
            err = at_start(c, p, &i, st);
            break;
        case S_UNQ:
            err = in_unquoted(c, p, n, &i, st);
            break;
        case S_QUO:
            err = in_quoted(c, p, n, &i, st);
            break;
        default:
            err = after_quote(c, p, &i, st);
            break;
        }
    }
    if (n)
        c->last_cr = p[n - 1] == '\r';
    return err;
}

/* Holds a possible UTF-8 BOM at the very start (it may arrive split over
 * chunks); replays the held bytes as data once they turn out not to be
 * one. Advances *p and *n past what it consumed. */
static cfp_err bom_skip(struct cfp_csv *c, const unsigned char **p, size_t *n,
                        struct cfp_status *st)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

    while (!c->bom_done && *n > 0) {
        if (**p != bom[c->bom_len]) {
            c->bom_done = true;
            return csv_parse(c, bom, c->bom_len, st);
        }
        c->bom_len++;
        (*p)++;
        (*n)--;
        c->bom_done = c->bom_len == sizeof(bom);
    }
    return CFP_ERR_OK;
}

cfp_err cfp_csv_feed(struct cfp_csv *c, const void *data, size_t len, struct cfp_status *st)
{
    const unsigned char *p = data;
    cfp_err err;

    if (c->err)
        return cfp_status_set(st, c->err, "CSV: input already failed");
    if (c->finished)
        return cfp_status_set(st, CFP_ERR_USAGE, "CSV: fed after finish");
    err = bom_skip(c, &p, &len, st);
    if (!err)
        err = csv_parse(c, p, len, st);
    return err;
}

cfp_err cfp_csv_finish(struct cfp_csv *c, int64_t *rows, int64_t *cols, struct cfp_status *st)
{
    cfp_err err = CFP_ERR_OK;

    if (c->finished)
        return cfp_status_set(st, CFP_ERR_USAGE, "CSV: finished twice");
    c->finished = true;
    if (c->err)
        return cfp_status_set(st, c->err, "CSV: input already failed");
    if (!c->bom_done) /* input was a proper prefix of the BOM: it is data */
        err = csv_parse(c, (const unsigned char *)"\xEF\xBB", c->bom_len, st);
    if (!err && c->state == S_QUO)
        return csv_fail(c, st, CFP_ERR_CSV,
                        "field %zu: quote opened on line %" PRId64 " is not closed", c->nf + 1,
                        c->quote_line);
    if (!err && c->state != S_REC) {
        err = field_end(c, st);
        if (!err)
            err = record_end(c, st);
    }
    if (err)
        return err;
    err = out_write(c, c->rows ? "\n]\n" : "[]\n", 3);
    if (!err)
        err = out_flush(c);
    if (err) {
        c->err = err;
        return cfp_status_set(st, err, "CSV: writing output: %s", cfp_strerror(err));
    }
    if (rows)
        *rows = c->rows;
    if (cols)
        *cols = (int64_t)c->ncols;
    return CFP_ERR_OK;
}
