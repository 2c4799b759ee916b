/* cfp_buf.c - bounded growable buffer. */
#include "cfp_buf.h"

#include <string.h>

#include "cfp_mem.h"

void cfp_buf_init(struct cfp_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
}

cfp_err cfp_buf_append(struct cfp_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return CFP_ERR_OK;
    if (n > b->limit - b->len)
        return CFP_ERR_TOO_BIG;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        unsigned char *d;
        while (cap < b->len + n)
            cap = cap > b->limit / 2 ? b->limit : cap * 2;
        d = cfp_realloc(b->data, cap);
        if (!d)
            return CFP_ERR_NOMEM;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return CFP_ERR_OK;
}

void cfp_buf_reset(struct cfp_buf *b)
{
    b->len = 0;
}

void cfp_buf_free(struct cfp_buf *b)
{
    cfp_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
