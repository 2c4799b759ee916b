/* cfp_buf.h - a growable byte buffer with a hard limit fixed at creation
 * (curl's dynbuf): growing past the limit is CFP_ERR_TOO_BIG, so memory is
 * bounded by configuration, never by what a peer sends. */
#ifndef CFP_BUF_H
#define CFP_BUF_H

#include <stddef.h>

#include "cfp_err.h"

struct cfp_buf {
    unsigned char *data; /* owned; NULL until the first append */
    size_t len, cap, limit;
};

/* Initialises an empty buffer that may hold at most limit bytes. */
void cfp_buf_init(struct cfp_buf *b, size_t limit);
/* Appends n bytes; CFP_ERR_TOO_BIG past the limit, CFP_ERR_NOMEM on
 * allocation failure (b is unchanged on error). */
cfp_err cfp_buf_append(struct cfp_buf *b, const void *p, size_t n);
/* Empties the buffer, keeping its memory for reuse. */
void cfp_buf_reset(struct cfp_buf *b);
/* Releases the memory; b may be reused after cfp_buf_init. */
void cfp_buf_free(struct cfp_buf *b);

#endif
