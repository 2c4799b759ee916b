/* cfp_io.h - the byte-sink callback shared by processors and writers. */
#ifndef CFP_IO_H
#define CFP_IO_H

#include <stddef.h>

#include "base/cfp_err.h"

/* Writes len bytes of data somewhere (a file, a buffer). Returns CFP_ERR_OK
 * or an error; a processor stops and returns that error unchanged. Called on
 * the thread that called the processor. */
typedef cfp_err (*cfp_write_fn)(void *ctx, const void *data, size_t len);

#endif
