/* cfp_fetch_internal.h - private to the fetch files (cfp_fetch*.c). */
#ifndef CFP_FETCH_INTERNAL_H
#define CFP_FETCH_INTERNAL_H

#include "task/cfp_fetch.h"

/* Chunk size of a body as the processors see it: libcurl's receive buffer
 * (CURLOPT_BUFFERSIZE) and the file reader's read size, so a file:// body
 * arrives in the same pieces as an http one. */
#define CFP_FETCH_CHUNK (128u * 1024)

/* Reads the local file a file:// URL names into sink, with cfp's own code
 * rather than libcurl's (cfp_fetch_file.c says why): regular files only,
 * --max-bytes checked against the size before a byte is read, deadline
 * (cfp_now() clock, 0 = none) and a stop's grace checked between chunks.
 * Fills res (one attempt, no HTTP status); on error the message is in st
 * (a sink error's message is already there). */
cfp_err cfp_fetch_file(const char *url, const struct cfp_fetch_cfg *cfg,
                       const struct cfp_fetch_sink *sink, double deadline,
                       struct cfp_fetch_result *res, struct cfp_status *st);

#endif
