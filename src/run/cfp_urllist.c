/* cfp_urllist.c - streaming URL list reader. */
#include "run/cfp_urllist.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cfp_mem.h"

struct cfp_urllist {
    FILE *f;
    bool owns_f;
    char *prefix;      /* owned, may be NULL */
    size_t prefix_len;
    int64_t next_index; /* index of the next URL line */
    int64_t line_no;
    size_t line_len; /* bytes kept in line, NULs included, '\n' excluded */
    /* A line's first CFP_URL_MAX + 1 bytes: a longer line is "too long"
     * whatever the rest holds, so the rest is not kept. */
    char line[CFP_URL_MAX + 1];
};

/* The column of a bad byte travels as uint16_t (struct cfp_task). */
_Static_assert(CFP_URL_MAX <= UINT16_MAX, "bad_col must hold every column of a kept line");

static bool is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* ASCII control bytes: C0 and DEL. Bytes >= 0x80 (UTF-8) are left to the
 * URL parser. */
static bool is_control(int c)
{
    return c < 0x20 || c == 0x7f;
}

cfp_err cfp_urllist_from_stream(FILE *f, const char *prefix, struct cfp_urllist **out,
                                struct cfp_status *st)
{
    struct cfp_urllist *ul = cfp_calloc(1, sizeof(*ul));

    if (!ul)
        return cfp_status_set(st, CFP_ERR_NOMEM, "URL list: out of memory");
    if (prefix) {
        ul->prefix = cfp_strdup(prefix);
        if (!ul->prefix) {
            cfp_free(ul);
            return cfp_status_set(st, CFP_ERR_NOMEM, "URL list: out of memory");
        }
        ul->prefix_len = strlen(prefix);
    }
    ul->f = f;
    *out = ul;
    return CFP_ERR_OK;
}

cfp_err cfp_urllist_open(const char *path, const char *prefix, struct cfp_urllist **out,
                         struct cfp_status *st)
{
    FILE *f;
    cfp_err err;

    if (strcmp(path, "-") == 0)
        return cfp_urllist_from_stream(stdin, prefix, out, st);
    f = fopen(path, "r");
    if (!f)
        return cfp_status_set(st, CFP_ERR_IO, "open URL list %s: %s", path, strerror(errno));
    err = cfp_urllist_from_stream(f, prefix, out, st);
    if (err) {
        fclose(f);
        return err;
    }
    (*out)->owns_f = true;
    return CFP_ERR_OK;
}

/* Reads one physical line, without its '\n', into ul->line and
 * ul->line_len; returns false at the end of the list (or on a read error:
 * the caller asks ferror). Byte by byte, not fgets: a NUL must count as a
 * byte of the line, not end it, or the part before it would pass for the
 * whole URL. At most CFP_URL_MAX + 1 bytes are kept, so memory does not
 * depend on the line; *too_long is set when the line holds more than
 * CFP_URL_MAX bytes. */
static bool read_line(struct cfp_urllist *ul, bool *too_long)
{
    size_t n = 0;
    int c;

    flockfile(ul->f); /* one lock per line, not per byte */
    while ((c = getc_unlocked(ul->f)) != EOF && c != '\n')
        if (n < sizeof(ul->line))
            ul->line[n++] = (char)c; /* past the buffer, bytes are dropped */
    funlockfile(ul->f);
    if (c == EOF && n == 0)
        return false;
    ul->line_len = n;
    ul->line_no++;
    *too_long = n > CFP_URL_MAX;
    return true;
}

/* Offset of the first control byte in p[0..n), or n when there is none. */
static size_t first_control(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && !is_control((unsigned char)p[i]))
        i++;
    return i;
}

/* Fills t from the trimmed line ul->line[s..e). The URL stops before the
 * first control byte (see struct cfp_task); a line too long for the URL
 * is reported as such, whatever else it holds. */
static void fill_task(struct cfp_urllist *ul, struct cfp_task *t, size_t s, size_t e, bool too_long)
{
    size_t room = sizeof(t->url) - 1, p = 0, bad = first_control(ul->line + s, e - s);
    size_t len = bad;

    t->index = ul->next_index++;
    if (ul->prefix_len > 0) {
        p = ul->prefix_len < room ? ul->prefix_len : room;
        memcpy(t->url, ul->prefix, p);
    }
    t->url_truncated = too_long || e - s > room - p;
    t->bad_byte = 0;
    t->bad_col = 0;
    if (!t->url_truncated && bad < e - s) {
        t->bad_byte = (uint8_t)ul->line[s + bad];
        t->bad_col = (uint16_t)(s + bad + 1);
    }
    if (len > room - p)
        len = room - p;
    memcpy(t->url + p, ul->line + s, len);
    t->url[p + len] = '\0';
}

/* Whether the byte may stand as it is in a file:// URL's path. */
static bool path_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("/-._~!$&'()*+,;=:@", c) != NULL;
}

/* A bare local path ("/data/x.png", "./x.png", "../x.png") becomes the
 * file:// URL of that file, a relative one from the current directory, with
 * the bytes a URL would read otherwise ('%', '?', '#', space...) percent-
 * encoded. Left as it is (and failing as a malformed URL) when it does not
 * fit or the current directory is unknown. */
static void bare_path(struct cfp_task *t)
{
    char url[CFP_URL_MAX], cwd[CFP_PATH_MAX] = "";
    bool rel = strncmp(t->url, "./", 2) == 0 || strncmp(t->url, "../", 3) == 0;
    size_t n;

    if (t->url_truncated || t->bad_col || (t->url[0] != '/' && !rel))
        return;
    if (rel && !getcwd(cwd, sizeof(cwd)))
        return;
    n = (size_t)snprintf(url, sizeof(url), "file://%s%s", cwd, rel ? "/" : "");
    for (const char *p = t->url; *p && n + 4 < sizeof(url); p++) {
        if (path_safe((unsigned char)*p))
            url[n++] = *p;
        else
            n += (size_t)snprintf(url + n, sizeof(url) - n, "%%%02X", (unsigned char)*p);
    }
    if (n + 4 >= sizeof(url))
        return;
    url[n] = '\0';
    memcpy(t->url, url, n + 1);
}

cfp_err cfp_urllist_next(struct cfp_urllist *ul, struct cfp_task *t, bool *done,
                         struct cfp_status *st)
{
    bool too_long;

    for (;;) {
        size_t s = 0, e;
        if (!read_line(ul, &too_long)) {
            if (ferror(ul->f))
                return cfp_status_set(st, CFP_ERR_IO, "read URL list line %lld: %s",
                                      (long long)ul->line_no + 1, strerror(errno));
            *done = true;
            return CFP_ERR_OK;
        }
        e = ul->line_len;
        while (s < e && is_blank((unsigned char)ul->line[s]))
            s++;
        while (e > s && is_blank((unsigned char)ul->line[e - 1]))
            e--;
        if (e == s || ul->line[s] == '#')
            continue;
        fill_task(ul, t, s, e, too_long);
        if (!ul->prefix)
            bare_path(t);
        *done = false;
        return CFP_ERR_OK;
    }
}

static cfp_err source_next(struct cfp_source *s, struct cfp_task *t, bool *done,
                           struct cfp_status *st)
{
    return cfp_urllist_next(s->ctx, t, done, st);
}

struct cfp_source cfp_urllist_source(struct cfp_urllist *ul)
{
    struct cfp_source s = {source_next, ul};
    return s;
}

void cfp_urllist_close(struct cfp_urllist **pul)
{
    struct cfp_urllist *ul = pul ? *pul : NULL;

    if (!ul)
        return;
    if (ul->owns_f)
        fclose(ul->f);
    cfp_free(ul->prefix);
    cfp_free(ul);
    *pul = NULL;
}
