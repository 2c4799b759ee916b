/* cfp_json.c - JSON string writing and strict UTF-8 checks. */
#include "proc/cfp_json.h"

#include <stdint.h>
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

#define ONES 0x0101010101010101ULL
#define HIGH 0x8080808080808080ULL

/* Nonzero when a byte of x is zero (exact: no false positives on "some"). */
static inline uint64_t has_zero(uint64_t x)
{
    return (x - ONES) & ~x & HIGH;
}

size_t cfp_utf8_ascii_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    uint64_t x;

    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        if (x & HIGH)
            break;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

/* Length of the leading run of bytes that a JSON string holds as they are:
 * ASCII from 0x20, except '"' and '\\'. Eight bytes at a time while it can. */
static size_t plain_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    uint64_t x;

    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        /* (x - 0x20..) & ~x & 0x80.. is nonzero iff some byte < 0x20 */
        if ((x & HIGH) | ((x - 0x20 * ONES) & ~x & HIGH) | has_zero(x ^ ('"' * ONES)) |
            has_zero(x ^ ('\\' * ONES)))
            break;
    }
    for (; i < n; i++)
        if (s[i] < 0x20 || s[i] >= 0x80 || s[i] == '"' || s[i] == '\\')
            break;
    return i;
}

/* Escapes s[*pi..n) into d[0..cap) in whole units (a plain run, a UTF-8
 * sequence, an escape: at most 6 bytes each) while they fit; returns the
 * bytes written and advances *pi. */
static size_t escape_part(unsigned char *d, size_t cap, const unsigned char *s, size_t n,
                          size_t *pi)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = *pi, o = 0, k;

    while (i < n && cap - o >= 6) {
        k = plain_prefix(s + i, n - i < cap - o ? n - i : cap - o);
        memcpy(d + o, s + i, k);
        o += k, i += k;
        if (i == n || cap - o < 6)
            break;
        if (s[i] >= 0x80) {
            k = cfp_utf8_seq_len(s + i, n - i);
            if (k) {
                memcpy(d + o, s + i, k);
                o += k, i += k;
            } else { /* an invalid byte: U+FFFD */
                memcpy(d + o, "\xEF\xBF\xBD", 3);
                o += 3, i++;
            }
            continue;
        }
        d[o++] = '\\';
        switch (s[i]) {
        case '"':
        case '\\':
            d[o++] = s[i];
            break;
        case '\b':
            d[o++] = 'b';
            break;
        case '\f':
            d[o++] = 'f';
            break;
        case '\n':
            d[o++] = 'n';
            break;
        case '\r':
            d[o++] = 'r';
            break;
        case '\t':
            d[o++] = 't';
            break;
        default:
            memcpy(d + o, "u00", 3);
            d[o + 3] = (unsigned char)hex[s[i] >> 4];
            d[o + 4] = (unsigned char)hex[s[i] & 15];
            o += 5;
        }
        i++;
    }
    *pi = i;
    return o;
}

unsigned char *cfp_json_escape(unsigned char *dst, const unsigned char *s, size_t len)
{
    size_t i = 0;

    *dst++ = '"';
    dst += escape_part(dst, CFP_JSON_STRING_MAX(len) - 1, s, len, &i);
    *dst++ = '"';
    return dst;
}

cfp_err cfp_json_write_string(cfp_write_fn wr, void *ctx, const unsigned char *s, size_t len)
{
    unsigned char b[1024];
    size_t i = 0, n = 1;
    cfp_err err = CFP_ERR_OK;

    b[0] = '"';
    while (!err && i < len) {
        /* one byte kept back for the closing quote */
        n += escape_part(b + n, sizeof(b) - 1 - n, s, len, &i);
        if (i < len) { /* b is full (fewer than 6 bytes left) */
            err = wr(ctx, b, n);
            n = 0;
        }
    }
    if (err)
        return err;
    b[n++] = '"';
    return wr(ctx, b, n);
}
