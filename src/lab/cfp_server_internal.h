/* cfp_server_internal.h - the server's request-path resolution, exposed
 * only for tests and the fuzz target (tests/fuzz/fuzz_server_path.c). Not
 * part of the cfp_server API: defined in cfp_server_path.c; nothing but
 * cfp_server.c and the tests calls it.
 */
#ifndef CFP_SERVER_INTERNAL_H
#define CFP_SERVER_INTERNAL_H

#include <stdint.h>

#include "lab/cfp_server.h"

/* Maps the raw request target url (exactly as sent, still percent-encoded,
 * NUL-terminated) to a regular file under root, which must be the realpath
 * of the served directory (absolute, no symlink, no trailing '/' except for
 * "/" itself).
 *
 * Returns 200 when the file may be served: *fd is an O_RDONLY descriptor of
 * it (caller closes), *size its size, and rel (CFP_SERVER_PATH_MAX + 1
 * bytes, OUT) holds the decoded path such as "/sub/a.txt". Otherwise returns
 * the HTTP status to answer, leaving *fd and *size untouched (rel may hold
 * a partial decoding): 400 malformed path, 404 missing or outside root, 403
 * not a regular file or no permission, 503 out of descriptors, 500 other.
 * Whatever url is, a 200 names a file whose realpath is under root.
 * Thread-safe; allocates nothing. */
unsigned cfp_server_resolve(const char *root, const char *url, char *rel, int *fd, uint64_t *size);

#endif
