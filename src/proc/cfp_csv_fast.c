/* cfp_csv_fast.c - the CSV converter's fast path.
 *
 * Most data records lie whole inside one chunk and are plain: short
 * unquoted fields of ASCII, now and then a quoted one. For those, the byte
 * state machine of cfp_csv.c (copy each field into the record buffer, then
 * check its UTF-8, then test it for a number, then escape it into the
 * staging buffer) does four passes and many calls per field. Here a record
 * is converted in one pass, straight from the input into c->out: 16 input
 * bytes at a time are classified at once (SSE2 compares on x86-64, 64-bit
 * word arithmetic on other little-endian machines, a byte loop elsewhere) into field ends (, CR LF) and bytes that need
 * care in JSON (" \ controls, >= 0x80), and are stored to the output as
 * they are while none needs care; a number is recognised on the bytes
 * still in cache.
 *
 * A record is taken only when nothing about it can differ from the state
 * machine's result:
 * - it ends (CR or LF) no later than p[n - 16], so every 16-byte load is
 *   inside the chunk, and a chunk boundary never falls inside it;
 * - it cannot fail: at most ncols fields, valid UTF-8 (checked as it is
 *   copied), at most max_record raw bytes;
 * - no text follows a closing quote (rare; the state machine's rule);
 * - its worst case (every key, 6 bytes per raw byte, the brackets) fits in
 *   what is left of the staging buffer, so the state machine's writer would
 *   not have flushed anywhere inside it either: flushes, and so the output
 *   passed to wr before a later error, are the same whichever path took a
 *   record.
 * Otherwise it leaves the record, untouched, to the state machine. Output is
 * written past c->out_len and only counted (with rows, nrec, line) once the
 * whole record is accepted. */
#include "proc/cfp_csv_internal.h"

#include <stdint.h>
#include <string.h>

#include "proc/cfp_json.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* A field end (the offset of its terminator) that means "not here". */
#define BAIL SIZE_MAX

/* Masks over s[0..16) (bit k for s[k]). unq_masks: *stop marks , CR LF;
 * the result marks bytes that a JSON string cannot hold as they are
 * (" \ below 0x20, 0x80 and up: the last must be UTF-8 checked).
 * quo_masks: *quote marks '"'; the result marks \ below 0x20 and 0x80
 * and up. */
#ifdef __SSE2__
static inline unsigned unq_masks(const unsigned char *s, unsigned *stop)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i e = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')),
                             _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
    /* signed: 0x80..0xFF are negative, so "< 0x20" also catches them */
    __m128i x = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                             _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

    *stop = (unsigned)_mm_movemask_epi8(e);
    return (unsigned)_mm_movemask_epi8(x);
}

static inline unsigned quo_masks(const unsigned char *s, unsigned *quote)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i x = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));

    *quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    return (unsigned)_mm_movemask_epi8(x);
}
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The same masks eight bytes at a time in 64-bit words (SWAR), exact:
 * no carry crosses a byte. */
#define ONES 0x0101010101010101ull
#define LOW7 0x7F7F7F7F7F7F7F7Full
#define HIGH 0x8080808080808080ull

static inline uint64_t bytes_eq(uint64_t x, unsigned char c)
{
    uint64_t t = x ^ (ONES * c);

    return ~(((t & LOW7) + LOW7) | t) & HIGH; /* high bit of each zero byte */
}

static inline uint64_t bytes_care(uint64_t x) /* < 0x20 or >= 0x80 */
{
    return (x | ~((x & LOW7) + ONES * 0x60)) & HIGH;
}

/* Bit k of the result is the high bit of byte k of h[0] (k < 8), h[1]. */
static inline unsigned gather(const uint64_t h[2])
{
    return (unsigned)(((h[0] >> 7) * 0x0102040810204080ull) >> 56) |
           (unsigned)(((h[1] >> 7) * 0x0102040810204080ull) >> 56) << 8;
}

static inline unsigned unq_masks(const unsigned char *s, unsigned *stop)
{
    uint64_t x[2], e[2], c[2];
    int k;

    memcpy(x, s, 16);
    for (k = 0; k < 2; k++) {
        e[k] = bytes_eq(x[k], ',') | bytes_eq(x[k], '\n') | bytes_eq(x[k], '\r');
        c[k] = bytes_care(x[k]) | bytes_eq(x[k], '"') | bytes_eq(x[k], '\\');
    }
    *stop = gather(e);
    return gather(c);
}

static inline unsigned quo_masks(const unsigned char *s, unsigned *quote)
{
    uint64_t x[2], q[2], c[2];
    int k;

    memcpy(x, s, 16);
    for (k = 0; k < 2; k++) {
        q[k] = bytes_eq(x[k], '"');
        c[k] = bytes_care(x[k]) | bytes_eq(x[k], '\\');
    }
    *quote = gather(q);
    return gather(c);
}
#else
static inline unsigned unq_masks(const unsigned char *s, unsigned *stop)
{
    unsigned k, e = 0, x = 0;

    for (k = 0; k < 16; k++) {
        e |= (unsigned)(s[k] == ',' || s[k] == '\n' || s[k] == '\r') << k;
        x |= (unsigned)(s[k] < 0x20 || s[k] >= 0x80 || s[k] == '"' || s[k] == '\\') << k;
    }
    *stop = e;
    return x;
}

static inline unsigned quo_masks(const unsigned char *s, unsigned *quote)
{
    unsigned k, q = 0, x = 0;

    for (k = 0; k < 16; k++) {
        q |= (unsigned)(s[k] == '"') << k;
        x |= (unsigned)(s[k] < 0x20 || s[k] >= 0x80 || s[k] == '\\') << k;
    }
    *quote = q;
    return x;
}
#endif

static inline unsigned low_bits(unsigned k)
{
    return (1u << k) - 1; /* k <= 15 */
}

/* cfp_csv_is_number(s, len) for 1 <= len <= 16 with s[0..16) readable.
 * The common shapes, -?[0-9]+ and -?[0-9]+.[0-9]+, are decided from a
 * mask of the digits without a loop whose exit depends on the length
 * (a mispredicted branch or two per field); the rest go the long way. */
static inline bool short_number(const unsigned char *s, size_t len)
{
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i t = _mm_subs_epu8(_mm_sub_epi8(v, _mm_set1_epi8('0')), _mm_set1_epi8(9));
    unsigned digits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(t, _mm_setzero_si128()));
    unsigned lead = s[0] == '-', other = ((1u << len) - 1) & ~digits & ~lead, d;

    if (len <= lead || !(digits & (1u << lead)))
        return false; /* no digit where the integer part must start */
    /* the integer part is 0 or starts with 1..9 */
    if (other == 0) /* -?[0-9]+ */
        return len - lead == 1 || s[lead] != '0';
    d = (unsigned)__builtin_ctz(other);
    if ((other & (other - 1)) == 0 && s[d] == '.') /* -?[0-9]+.[0-9]+ */
        return d + 1 < len && (d - lead == 1 || s[lead] != '0');
#endif
    return cfp_csv_is_number(s, len);
}

/* Copies n bytes in 16-byte blocks: up to 15 bytes past either end are
 * read and written (the callers' slack). Returns d + n. */
static inline unsigned char *copy16(unsigned char *d, const unsigned char *s, size_t n)
{
    size_t k = 0;

    do {
        memcpy(d + k, s + k, 16);
        k += 16;
    } while (k < n);
    return d + n;
}

/* Writes the JSON escape of the ASCII byte b (", \ or a control). */
static unsigned char *escape_byte(unsigned char *o, unsigned char b)
{
    static const char hex[] = "0123456789abcdef";

    *o++ = '\\';
    switch (b) {
    case '"':
    case '\\':
        *o++ = b;
        break;
    case '\b':
        *o++ = 'b';
        break;
    case '\f':
        *o++ = 'f';
        break;
    case '\n':
        *o++ = 'n';
        break;
    case '\r':
        *o++ = 'r';
        break;
    case '\t':
        *o++ = 't';
        break;
    default:
        memcpy(o, "u00", 3);
        o[3] = (unsigned char)hex[b >> 4];
        o[4] = (unsigned char)hex[b & 15];
        o += 5;
    }
    return o;
}

/* Escapes field content p[a..b) (b <= n) into o as cfp_json_escape() would,
 * counting its line ends in *lines as the state machine does (CR, LF not
 * after CR, p[a - 1] being readable). Returns the end, or NULL if the bytes
 * are not valid UTF-8 on their own (a sequence cut at b included). */
static unsigned char *escape_run(unsigned char *o, const unsigned char *p, size_t a, size_t b,
                                 size_t n, int64_t *lines)
{
    unsigned x, quote;
    int sl;

    while (a < b) {
        if (a + 16 <= n) {
            x = quo_masks(p + a, &quote) | quote;
            memcpy(o, p + a, 16);
            x = x ? (unsigned)__builtin_ctz(x) : 16;
            if (x >= b - a)
                return o + (b - a);
            o += x;
            a += x;
            if (x == 16)
                continue;
        } else if (p[a] >= 0x20 && p[a] < 0x80 && p[a] != '"' && p[a] != '\\') {
            *o++ = p[a++];
            continue;
        }
        if (p[a] >= 0x80) {
            sl = cfp_utf8_check(p + a, b - a);
            if (sl <= 0)
                return NULL;
            if (a + 4 <= n)
                memcpy(o, p + a, 4); /* one fixed-size move; sl of its bytes count */
            else
                memcpy(o, p + a, (size_t)sl);
            o += sl;
            a += (size_t)sl;
            continue;
        }
        if (p[a] == '\r' || (p[a] == '\n' && p[a - 1] != '\r'))
            ++*lines;
        o = escape_byte(o, p[a++]);
    }
    return o;
}

/* The offset of the , CR or LF that ends the unquoted field containing
 * p[at], searching from at, or BAIL if none is found by lim. *care tells
 * whether a byte needing care (unq_masks) precedes it. */
static size_t unq_end(const unsigned char *p, size_t n, size_t at, size_t lim, bool *care)
{
    unsigned x, stop;

    for (;; at += 16) {
        if (at + 16 > n || at > lim)
            return BAIL;
        x = unq_masks(p + at, &stop);
        if (stop) {
            x &= low_bits((unsigned)__builtin_ctz(stop));
            *care |= x != 0;
            return at + (unsigned)__builtin_ctz(stop);
        }
        *care |= x != 0;
    }
}

/* An unquoted field at p[j] (not '"'): renders it at *po (a number
 * verbatim, else a JSON string) and returns the offset of its terminator,
 * or BAIL. The common case, a field shorter than 16 bytes of plain ASCII,
 * costs one load, one store and the number test. */
static size_t unquoted(const unsigned char *p, size_t n, size_t j, size_t lim, unsigned char **po)
{
    unsigned char *o = *po;
    size_t e, len;
    unsigned x, stop;
    bool care = false;
    int64_t none = 0;

    if (j + 16 > n)
        return BAIL;
    x = unq_masks(p + j, &stop);
    if (stop && !(x & low_bits((unsigned)__builtin_ctz(stop)))) {
        len = (unsigned)__builtin_ctz(stop);
        if (len && short_number(p + j, len)) {
            memcpy(o, p + j, 16);
            *po = o + len;
        } else {
            *o = '"';
            memcpy(o + 1, p + j, 16);
            o[len + 1] = '"';
            *po = o + len + 2;
        }
        return j + len;
    }
    e = unq_end(p, n, j, lim, &care);
    if (e == BAIL || e > lim)
        return BAIL;
    len = e - j;
    if (!care && cfp_csv_is_number(p + j, len)) {
        *po = copy16(o, p + j, len);
        return e;
    }
    *o++ = '"';
    o = care ? escape_run(o, p, j, e, n, &none) : copy16(o, p + j, len);
    if (!o)
        return BAIL;
    *o++ = '"';
    *po = o;
    return e;
}

/* A quoted field whose opening quote is p[j]: renders it at *po as a
 * JSON string and returns the offset of the , CR or LF after its closing
 * quote, or BAIL (also when other text follows the closing quote). Line
 * ends inside are added to *lines. */
static size_t quoted(const unsigned char *p, size_t n, size_t j, size_t lim, unsigned char **po,
                     int64_t *lines)
{
    unsigned char *o = *po;
    size_t a = j + 1, at = a, q;
    unsigned x, quote;
    bool plain = true; /* no "" and no byte needing care: a straight copy */

    for (;;) {
        if (at + 16 > n || at > lim)
            return BAIL;
        x = quo_masks(p + at, &quote);
        if (!quote) {
            plain = plain && !x;
            at += 16;
            continue;
        }
        q = at + (unsigned)__builtin_ctz(quote);
        plain = plain && !(x & low_bits((unsigned)__builtin_ctz(quote)));
        if (q + 1 >= n)
            return BAIL;
        if (p[q + 1] != '"')
            break;
        plain = false; /* "" : one quote of content */
        at = q + 2;
    }
    if (p[q + 1] != ',' && p[q + 1] != '\r' && p[q + 1] != '\n')
        return BAIL; /* "ab"cd: the state machine's business */
    if (q + 1 > lim)
        return BAIL;
    *o++ = '"';
    if (plain) {
        o = copy16(o, p + a, q - a);
    } else {
        /* Segments between the "" pairs. */
        for (;;) {
            const unsigned char *dq = memchr(p + a, '"', q - a);
            size_t b = dq ? (size_t)(dq - p) : q;

            o = escape_run(o, p, a, b, n, lines);
            if (!o)
                return BAIL;
            if (b == q)
                break;
            memcpy(o, "\\\"", 2);
            o += 2;
            a = b + 2;
        }
    }
    *o++ = '"';
    *po = o;
    return q + 1;
}

/* Converts the data record at p[rs] (not an empty line) into c->out after
 * out_len; returns the offset after its line end, or rs to leave it. */
static size_t fast_record(struct cfp_csv *c, const unsigned char *p, size_t n, size_t rs)
{
    size_t room = OUT_CAP - c->out_len, fixed = c->keys_len + 6 * c->ncols + 4;
    size_t lim, j = rs, k = 0, kstart = 0;
    unsigned char *o = c->out + c->out_len;
    int64_t lines = 1; /* the record's own line end */

    if (fixed >= room)
        return rs;
    /* Raw bytes allowed: 6 output bytes each at worst (the brackets and
     * every key, null or not, are in fixed), and max_record. */
    lim = (room - fixed) / 6;
    lim = rs + (lim < c->max_record ? lim : c->max_record);
    memcpy(o, c->rows ? ",\n{" : "[\n{", 3);
    o += 3;
    for (;;) {
        if (k == c->ncols || j + 16 > n)
            return rs; /* more fields than the header (an error), or too near n */
        o = copy16(o, c->keys + kstart, c->key_end[k] - kstart);
        kstart = c->key_end[k++];
        j = p[j] == '"' ? quoted(p, n, j, lim, &o, &lines) : unquoted(p, n, j, lim, &o);
        if (j == BAIL || j > lim)
            return rs;
        if (p[j] != ',')
            break;
        j++;
    }
    for (; k < c->ncols; k++) { /* missing fields */
        o = copy16(o, c->keys + kstart, c->key_end[k] - kstart);
        kstart = c->key_end[k];
        memcpy(o, "null", 4);
        o += 4;
    }
    *o++ = '}';
    /* p[j] is CR or LF; a CRLF is one line end. A CR ending the chunk
     * leaves its LF to the next one, which knows (c->last_cr). */
    if (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n')
        j++;
    c->out_len = (size_t)(o - c->out);
    c->line += lines;
    c->nrec++;
    c->rows++;
    return j + 1;
}

size_t cfp_csv_fast(struct cfp_csv *c, const unsigned char *p, size_t n, size_t i)
{
    size_t e;

    while (i + 16 <= n && p[i] != '\r' && p[i] != '\n') {
        e = fast_record(c, p, n, i);
        if (e == i)
            break;
        i = e;
    }
    return i;
}
