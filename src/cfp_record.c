/* cfp_record.c - task record helpers. */
#include "cfp_record.h"

#include <string.h>

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
