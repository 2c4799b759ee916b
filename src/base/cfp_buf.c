/* cfp_buf.c - bounded growable buffer.
 *
 * Memory comes from cfp_scratch: bodies are the largest short-lived buffers
 * cfp has (a photo is megabytes), and a buffer given back by one task is
 * taken by the next with its pages still mapped. Growing copies into a
 * larger buffer (rather than realloc): at most the final size again, far
 * cheaper than faulting in fresh pages. */
#include "base/cfp_buf.h"

#include <string.h>

#include "base/cfp_scratch.h"

void cfp_buf_init(struct cfp_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
}

/* Moves b into a buffer of exactly cap bytes (cap > b->cap). */
static cfp_err grow(struct cfp_buf *b, size_t cap)
{
    unsigned char *d = cfp_scratch_take(cap);

    if (!d)
        return CFP_ERR_NOMEM;
    if (b->len)
        memcpy(d, b->data, b->len);
    cfp_scratch_give(b->data);
    b->data = d;
    b->cap = cap;
    return CFP_ERR_OK;
}

cfp_err cfp_buf_reserve(struct cfp_buf *b, uint64_t n)
{
    size_t cap = n > b->limit ? b->limit : (size_t)n;

    return cap > b->cap ? grow(b, cap) : CFP_ERR_OK;
}

cfp_err cfp_buf_append(struct cfp_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return CFP_ERR_OK;
    if (n > b->limit - b->len)
        return CFP_ERR_TOO_BIG;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        cfp_err err;

        while (cap < b->len + n)
            cap = cap > b->limit / 2 ? b->limit : cap * 2;
        err = grow(b, cap);
        if (err)
            return err;
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
    cfp_scratch_give(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
