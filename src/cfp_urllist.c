/* cfp_urllist.c - streaming URL list reader. */
#include "cfp_urllist.h"

#include <errno.h>
#include <string.h>

#include "cfp_mem.h"

struct cfp_urllist {
    FILE *f;
    bool owns_f;
    char *prefix;      /* owned, may be NULL */
    size_t prefix_len;
    int64_t next_index; /* index of the next URL line */
    int64_t line_no;
    char line[CFP_URL_MAX + 2]; /* room to notice an over-long line */
};

static bool is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
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

/* Discards the rest of an over-long line. */
static void skip_rest_of_line(FILE *f)
{
    int c;
    while ((c = getc(f)) != EOF && c != '\n')
        ;
}

/* Reads one physical line into ul->line; returns false at EOF. Sets *too_long
 * when the line did not fit (the kept part is still a valid C string). */
static bool read_line(struct cfp_urllist *ul, bool *too_long)
{
    char *end = &ul->line[sizeof(ul->line) - 1];

    *too_long = false;
    /* fgets stores its terminator in the last byte only when it filled the
     * buffer. strlen() cannot tell: a NUL byte inside a long line would
     * hide the overflow, and the rest of the line would come back as a
     * URL line of its own, shifting every later index. */
    *end = 'x';
    if (!fgets(ul->line, sizeof(ul->line), ul->f))
        return false;
    ul->line_no++;
    if (*end == '\0' && end[-1] != '\n') {
        *too_long = true;
        skip_rest_of_line(ul->f);
    }
    return true;
}

static void fill_task(struct cfp_urllist *ul, struct cfp_task *t, const char *s, size_t len,
                      bool too_long)
{
    size_t room = sizeof(t->url) - 1, p = 0;

    t->index = ul->next_index++;
    t->url_truncated = too_long;
    if (ul->prefix_len > 0) {
        p = ul->prefix_len < room ? ul->prefix_len : room;
        memcpy(t->url, ul->prefix, p);
    }
    if (len > room - p) {
        len = room - p;
        t->url_truncated = true;
    }
    memcpy(t->url + p, s, len);
    t->url[p + len] = '\0';
}

cfp_err cfp_urllist_next(struct cfp_urllist *ul, struct cfp_task *t, bool *done,
                         struct cfp_status *st)
{
    bool too_long;

    for (;;) {
        char *s, *e;
        if (!read_line(ul, &too_long)) {
            if (ferror(ul->f))
                return cfp_status_set(st, CFP_ERR_IO, "read URL list line %lld: %s",
                                      (long long)ul->line_no + 1, strerror(errno));
            *done = true;
            return CFP_ERR_OK;
        }
        s = ul->line;
        while (*s && is_blank((unsigned char)*s))
            s++;
        e = s + strlen(s);
        while (e > s && is_blank((unsigned char)e[-1]))
            e--;
        if (e == s || *s == '#')
            continue;
        fill_task(ul, t, s, (size_t)(e - s), too_long);
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
