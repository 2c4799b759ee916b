/* cfp_buf.h - a growable byte buffer with a hard limit fixed at creation
 * (curl's dynbuf): growing past the limit is CFP_ERR_TOO_BIG, so memory is
 * bounded by configuration, never by what a peer sends. data comes from
 * cfp_scratch: never free it or realloc it directly. */
#ifndef CFP_BUF_H
#define CFP_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"

struct cfp_buf {
    unsigned char *data; /* owned; NULL until the first append */
    size_t len, cap, limit;
};

/* Initialises an empty buffer that may hold at most limit bytes. */
void cfp_buf_init(struct cfp_buf *b, size_t limit);
/* Appends n bytes; CFP_ERR_TOO_BIG past the limit, CFP_ERR_NOMEM on
 * allocation failure (b is unchanged on error). */
cfp_err cfp_buf_append(struct cfp_buf *b, const void *p, size_t n);
/* Makes room for n bytes in all (capped at the limit) in one allocation,
 * so a body whose size is announced is not grown step by step; n may be
 * any announced size (0: nothing to do). CFP_ERR_NOMEM on failure (b
 * unchanged). */
cfp_err cfp_buf_reserve(struct cfp_buf *b, uint64_t n);
/* Empties the buffer, keeping its memory for reuse. */
void cfp_buf_reset(struct cfp_buf *b);
/* Gives the memory back (to cfp_scratch's pool), keeping the limit: b may
 * be appended to again. */
void cfp_buf_free(struct cfp_buf *b);

#endif
