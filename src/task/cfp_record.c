/* cfp_record.c - task record helpers. */
#include "task/cfp_record.h"

#include <stdbool.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

void cfp_record_init(struct cfp_record *r, const struct cfp_task *t)
{
    memset(r, 0, sizeof(*r));
    r->index = t->index;
    memcpy(r->url, t->url, sizeof(r->url));
    r->url[sizeof(r->url) - 1] = '\0';
    memcpy(r->kind, "unknown", sizeof("unknown"));
    r->width_in = r->height_in = r->width_out = r->height_out = -1;
    r->lines = r->words = r->chars = r->rows = r->cols = -1;
}

const char *cfp_record_status(const struct cfp_record *r)
{
    return r->code == CFP_ERR_OK ? "ok" : "failed";
}

/* Finds the password of url's userinfo: sets *pw and *len; false if none. */
static bool url_password(const char *url, const char **pw, size_t *len)
{
    const char *auth = strstr(url, "://"), *end, *at = NULL, *colon;

    if (!auth)
        return false;
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return false;
    colon = memchr(auth, ':', (size_t)(at - auth));
    if (!colon || colon + 1 == at)
        return false;
    *pw = colon + 1;
    *len = (size_t)(at - colon - 1);
    return true;
}

void cfp_url_scrub_in(const char *url, char *s)
{
    char needle[CFP_URL_MAX + 2];
    const char *pw;
    size_t len;
    char *p;

    if (!url_password(url, &pw, &len) || len + 2 >= sizeof(needle))
        return;
    needle[0] = ':';
    memcpy(needle + 1, pw, len);
    needle[len + 1] = '@';
    needle[len + 2] = '\0';
    while ((p = strstr(s, needle)) != NULL) {
        /* ":***@" is never longer than ":<pw>@" (len >= 1): shift left. */
        memcpy(p, ":***@", 5);
        memmove(p + 5, p + len + 2, strlen(p + len + 2) + 1);
    }
}

void cfp_record_scrub(struct cfp_record *r)
{
    char url[CFP_URL_MAX];

    memcpy(url, r->url, sizeof(url));
    url[sizeof(url) - 1] = '\0';
    cfp_url_scrub_in(url, r->error);
    cfp_url_scrub_in(url, r->url);
}

static char host_buf[CFP_HOST_MAX];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void read_host_name(void)
{
    if (gethostname(host_buf, sizeof(host_buf) - 1) != 0)
        host_buf[0] = '\0';
    for (char *p = host_buf; *p; p++)
        if (*p == '/')
            *p = '_';
}

const char *cfp_host_name(void)
{
    pthread_once(&host_once, read_host_name);
    return host_buf;
}
