/* cfp_json.c - JSON string writing and strict UTF-8 checks. */
#include "cfp_json.h"

#include <string.h>

int cfp_utf8_check(const unsigned char *s, size_t n)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (n == 0)
        return CFP_UTF8_SHORT;
    if (s[0] < 0x80)
        return 1;
    /* C0/C1 could only start overlong forms; F5..FF would exceed U+10FFFF. */
    if (s[0] < 0xC2 || s[0] > 0xF4)
        return 0;
    if (s[0] < 0xE0) {
        len = 2;
    } else if (s[0] < 0xF0) {
        len = 3;
        if (s[0] == 0xE0)
            lo = 0xA0; /* below: overlong */
        else if (s[0] == 0xED)
            hi = 0x9F; /* above: UTF-16 surrogates */
    } else {
        len = 4;
        if (s[0] == 0xF0)
            lo = 0x90; /* below: overlong */
        else if (s[0] == 0xF4)
            hi = 0x8F; /* above: beyond U+10FFFF */
    }
    /* Only the second byte has a narrowed range; the rest are 80..BF. */
    for (i = 1; i < len; i++) {
        if (i >= n)
            return CFP_UTF8_SHORT;
        if (s[i] < lo || s[i] > hi)
            return 0;
        lo = 0x80;
        hi = 0xBF;
    }
    return (int)len;
}

size_t cfp_utf8_seq_len(const unsigned char *s, size_t n)
{
    int r = cfp_utf8_check(s, n);

    return r > 0 ? (size_t)r : 0;
}

/* Output staging so that a short string costs one wr call, not one per
 * escape. */
struct jbuf {
    cfp_write_fn wr;
    void *ctx;
    size_t n;
    unsigned char b[512];
};

static cfp_err jb_flush(struct jbuf *jb)
{
    cfp_err err = CFP_ERR_OK;

    if (jb->n)
        err = jb->wr(jb->ctx, jb->b, jb->n);
    jb->n = 0;
    return err;
}

static cfp_err jb_put(struct jbuf *jb, const void *p, size_t len)
{
    cfp_err err;

    if (len > sizeof(jb->b) - jb->n) {
        err = jb_flush(jb);
        if (err)
            return err;
        /* A long run of plain bytes goes straight through, uncopied. */
        if (len >= sizeof(jb->b))
            return jb->wr(jb->ctx, p, len);
    }
    memcpy(jb->b + jb->n, p, len);
    jb->n += len;
    return CFP_ERR_OK;
}

/* Writes the escape for an ASCII byte that JSON does not allow raw. */
static cfp_err jb_escape(struct jbuf *jb, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

    switch (c) {
    case '"':
        return jb_put(jb, "\\\"", 2);
    case '\\':
        return jb_put(jb, "\\\\", 2);
    case '\b':
        return jb_put(jb, "\\b", 2);
    case '\f':
        return jb_put(jb, "\\f", 2);
    case '\n':
        return jb_put(jb, "\\n", 2);
    case '\r':
        return jb_put(jb, "\\r", 2);
    case '\t':
        return jb_put(jb, "\\t", 2);
    default:
        return jb_put(jb, e, sizeof(e));
    }
}

cfp_err cfp_json_write_string(cfp_write_fn wr, void *ctx, const unsigned char *s, size_t len)
{
    static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};
    struct jbuf jb = {.wr = wr, .ctx = ctx, .n = 0};
    size_t i = 0, run = 0, sl;
    cfp_err err = jb_put(&jb, "\"", 1);

    /* Invariant: s[run..i) is plain (copied as is) and not yet written. */
    while (!err && i < len) {
        unsigned char c = s[i];

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80 && (sl = cfp_utf8_seq_len(s + i, len - i)) != 0) {
            i += sl;
            continue;
        }
        err = jb_put(&jb, s + run, i - run);
        if (!err)
            err = c >= 0x80 ? jb_put(&jb, fffd, sizeof(fffd)) : jb_escape(&jb, c);
        run = ++i;
    }
    if (!err)
        err = jb_put(&jb, s + run, i - run);
    if (!err)
        err = jb_put(&jb, "\"", 1);
    if (!err)
        err = jb_flush(&jb);
    return err;
}
