/* fuzz_urllist.c - libFuzzer target for the URL list reader and the output
 * names made from its URLs.
 *
 * The input is a URL list. It is read through cfp_urllist_from_stream on
 * an fmemopen stream (with or without the dataset prefix, chosen from the
 * input), task by task as the engines do, and compared with a reference
 * reader written here from the rules of cfp_urllist.h and cfp_record.h:
 * physical lines end at '\n'; a line longer than CFP_URL_MAX bytes is "too
 * long" (its first CFP_URL_MAX + 1 bytes are kept); a NUL is a byte like any
 * other; blanks are trimmed; blank and '#' lines are skipped; indexes count
 * URL lines from 0; url is prefix + the trimmed line up to its first ASCII
 * control byte, cut to CFP_URL_MAX - 1 bytes; url_truncated says whether
 * the whole trimmed line did not fit; otherwise bad_col/bad_byte name the
 * first control byte (1-based column in the line as read). Without a prefix,
 * a whole, clean line starting with "/", "./" or "../" becomes "file://",
 * the current directory and '/' for a relative one, then the line with every
 * byte outside RFC 3986's unreserved, sub-delims, ':', '@' and '/' written
 * %XX, unless that does not fit in CFP_URL_MAX - 5 bytes. So a task's URL
 * never holds a control byte, and a bad task's URL leaves the 2 bytes the
 * MPI packing (mpi/cfp_mpi.c) needs for the column.
 *
 * Every URL then goes through cfp_out_url_segment and cfp_out_name (with
 * the processor's 256-byte buffer and a smaller one, down to the 32 bytes
 * the header allows). A name must be non-empty, end with its NUL inside the
 * buffer, hold only [A-Za-z0-9._-] (so no '/'), not start with '.', start
 * with the zero-padded index and '_', end with the extension, hold a stem
 * of at most 80 bytes, and be the same for the same URL every time (the
 * part after the index does not depend on the index). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "task/cfp_out.h"
#include "run/cfp_urllist.h"
#include "fuzz_common.h"

#define PREFIX   "http://127.0.0.1:8080/dataset/"
#define STEM_MAX 80

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref {
    const uint8_t *d;
    size_t n, pos;
    int64_t index;
};

static bool blank(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool control(uint8_t c)
{
    return c < 0x20 || c == 0x7f;
}

/* The next task by the header's rules; false at the end of the list. */
static bool ref_next(struct ref *r, const char *prefix, struct cfp_task *t)
{
    const size_t room = CFP_URL_MAX - 1;

    while (r->pos < r->n) {
        const uint8_t *line = r->d + r->pos, *nl = memchr(line, '\n', r->n - r->pos);
        size_t len = nl ? (size_t)(nl - line) : r->n - r->pos, s = 0, e, p = 0, k;
        bool too_long = len > CFP_URL_MAX;

        r->pos += nl ? len + 1 : len;
        if (too_long)
            len = CFP_URL_MAX + 1;
        e = len;
        while (s < e && blank(line[s]))
            s++;
        while (e > s && blank(line[e - 1]))
            e--;
        if (e == s || line[s] == '#')
            continue;
        memset(t, 0, sizeof(*t));
        t->index = r->index++;
        if (prefix) {
            p = strlen(prefix) < room ? strlen(prefix) : room;
            memcpy(t->url, prefix, p);
        }
        t->url_truncated = too_long || e - s > room - p;
        for (k = s; k < e && !control(line[k]); k++)
            ;
        if (!t->url_truncated && k < e) {
            t->bad_byte = line[k];
            t->bad_col = (uint16_t)(k + 1);
        }
        if (k - s > room - p)
            k = s + room - p;
        memcpy(t->url + p, line + s, k - s);
        t->url[p + k - s] = '\0';
        return true;
    }
    return false;
}

/* The reference's reading of a bare local path (see the top of the file). */
static void ref_bare_path(struct cfp_task *t)
{
    static const char keep[] = "-._~!$&'()*+,;=:@/";
    char url[CFP_URL_MAX], cwd[4096] = "";
    bool rel = strncmp(t->url, "./", 2) == 0 || strncmp(t->url, "../", 3) == 0;
    size_t n;

    if (t->url_truncated || t->bad_col || (t->url[0] != '/' && !rel))
        return;
    if (rel && !getcwd(cwd, sizeof(cwd)))
        return;
    n = (size_t)snprintf(url, sizeof(url), "file://%s%s", cwd, rel ? "/" : "");
    for (const unsigned char *c = (const unsigned char *)t->url; *c; c++) {
        bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || (*c && strchr(keep, *c));
        if (n + (plain ? 1 : 3) > CFP_URL_MAX - 5)
            return; /* does not fit: left as it is */
        n += plain ? (size_t)(url[n] = (char)*c, 1)
                   : (size_t)snprintf(url + n, sizeof(url) - n, "%%%02X", *c);
    }
    url[n] = '\0';
    memcpy(t->url, url, n + 1);
}

/* What the rest of cfp relies on: no control byte reaches a record, and a
 * bad task's URL leaves room for its column in the MPI packing. */
static void check_url(const struct cfp_task *t)
{
    size_t len = strlen(t->url);

    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(!control((uint8_t)t->url[i]), "task %lld: URL holds byte 0x%02x at %zu",
                   (long long)t->index, (unsigned char)t->url[i], i);
    FUZZ_CHECK(!(t->url_truncated && t->bad_col), "task %lld: truncated and bad",
               (long long)t->index);
    FUZZ_CHECK(!t->bad_col ||
                   (t->bad_col <= CFP_URL_MAX && control(t->bad_byte) && len <= CFP_URL_MAX - 2),
               "task %lld: bad byte 0x%02x at column %u, URL of %zu bytes", (long long)t->index,
               t->bad_byte, t->bad_col, len);
}

static bool safe(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static void check_segment(const char *url)
{
    size_t len, ulen = strlen(url);
    const char *seg = cfp_out_url_segment(url, &len);

    FUZZ_CHECK(seg >= url && seg + len <= url + ulen, "segment outside the URL \"%s\"", url);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(seg[i] != '/' && seg[i] != '?' && seg[i] != '#',
                   "segment \"%.*s\" of \"%s\" holds '%c'", (int)len, seg, url, seg[i]);
}

/* Checks one name made for index and url in a size-byte buffer. */
static void check_name(int64_t index, const char *url, const char *ext, size_t size)
{
    char name[300], again[300], head[32];
    size_t len, hl, el = strlen(ext), stem;

    memset(name, 'X', sizeof(name));
    cfp_out_name(index, url, ext, name, size);
    len = strnlen(name, size);
    FUZZ_CHECK(len < size, "name not terminated in %zu bytes (url \"%s\")", size, url);
    FUZZ_CHECK(len > 0 && name[0] != '.', "name \"%s\" (url \"%s\")", name, url);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(safe((unsigned char)name[i]), "name \"%s\" holds byte 0x%02x (url \"%s\")", name,
                   (unsigned char)name[i], url);
    hl = (size_t)snprintf(head, sizeof(head), "%06lld_", (long long)index);
    FUZZ_CHECK(len >= hl + 1 + el && memcmp(name, head, hl) == 0 && name[len - el - 1] == '.' &&
                   strcmp(name + len - el, ext) == 0,
               "name \"%s\" lost its index or extension (size %zu, url \"%s\")", name, size, url);
    stem = len - hl - 1 - el;
    FUZZ_CHECK(stem <= STEM_MAX && (stem > 0 || len + 1 == size),
               "stem of %zu bytes in \"%s\" (size %zu, url \"%s\")", stem, name, size, url);
    memset(again, 'Y', sizeof(again));
    cfp_out_name(index, url, ext, again, size);
    FUZZ_CHECK(strcmp(name, again) == 0, "same URL, names \"%s\" and \"%s\"", name, again);
}

/* The stem must not depend on the index. */
static void check_index_free(const char *url)
{
    char a[256], b[256];

    cfp_out_name(0, url, "png", a, sizeof(a));
    cfp_out_name(123456789, url, "png", b, sizeof(b));
    FUZZ_CHECK(strcmp(strchr(a, '_'), strchr(b, '_')) == 0, "\"%s\" vs \"%s\"", a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t seed = fuzz_hash(data, size);
    const char *prefix = (seed & 1) ? PREFIX : NULL;
    size_t small = 32 + (size_t)((seed >> 8) % 100);
    struct ref ref = {data, size, 0, 0};
    struct cfp_urllist *ul = NULL;
    static struct cfp_task t, want;
    struct cfp_status st;
    char *copy = malloc(size + 1); /* fmemopen wants a writable buffer */
    bool done = false;
    FILE *f;
    cfp_err err;

    FUZZ_CHECK(copy != NULL, "out of memory");
    if (size)
        memcpy(copy, data, size);
    copy[size] = '\0';
    f = fmemopen(copy, size ? size : 1, "r");
    FUZZ_CHECK(f != NULL, "fmemopen failed");
    if (!size)
        (void)getc(f); /* an empty list: consume the placeholder byte */
    cfp_status_clear(&st);
    err = cfp_urllist_from_stream(f, prefix, &ul, &st);
    FUZZ_CHECK(err == CFP_ERR_OK, "from_stream: %s", st.msg);
    for (;;) {
        bool have = ref_next(&ref, prefix, &want);

        if (have && !prefix)
            ref_bare_path(&want);

        err = cfp_urllist_next(ul, &t, &done, &st);
        FUZZ_CHECK(err == CFP_ERR_OK, "next: %s", st.msg);
        FUZZ_CHECK(done == !have, "reader done=%d, reference has %s URL %lld", done,
                   have ? "a" : "no", (long long)want.index);
        if (done)
            break;
        FUZZ_CHECK(t.index == want.index && strcmp(t.url, want.url) == 0 &&
                       t.url_truncated == want.url_truncated,
                   "task %lld%s \"%.200s\" (%zu bytes), reference %lld%s \"%.200s\" (%zu bytes)",
                   (long long)t.index, t.url_truncated ? " (truncated)" : "", t.url, strlen(t.url),
                   (long long)want.index, want.url_truncated ? " (truncated)" : "", want.url,
                   strlen(want.url));
        FUZZ_CHECK(t.bad_col == want.bad_col && (!t.bad_col || t.bad_byte == want.bad_byte),
                   "task %lld: control byte 0x%02x at column %u, reference 0x%02x at %u",
                   (long long)t.index, t.bad_byte, t.bad_col, want.bad_byte, want.bad_col);
        check_url(&t);
        check_segment(t.url);
        check_name(t.index, t.url, "png", 256);
        check_name(t.index, t.url, "json", small);
        check_index_free(t.url);
    }
    cfp_urllist_close(&ul);
    fclose(f);
    free(copy);
    return 0;
}
