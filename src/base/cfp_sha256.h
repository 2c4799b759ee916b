/* cfp_sha256.h - SHA-256 (FIPS 180-4) through OpenSSL's libcrypto (EVP),
 * used to record a digest of every output file so that runs in different
 * modes can be proven identical. */
#ifndef CFP_SHA256_H
#define CFP_SHA256_H

#include <stdbool.h>
#include <stddef.h>

#include "base/cfp_err.h"

struct evp_md_ctx_st; /* OpenSSL's EVP_MD_CTX, kept out of every includer */

/* One digest in progress. Embed it by value; its fields are private. */
struct cfp_sha256 {
    struct evp_md_ctx_st *ctx; /* owned; NULL when not initialised or done */
    bool failed;               /* an update failed: final reports it */
};

/* Any number of contexts may be used at once from any threads; one context
 * belongs to one thread at a time.
 *
 * cfp_sha256_init() starts a digest in c. CFP_ERR_NOMEM when libcrypto
 * cannot allocate its context: then c holds nothing and needs no
 * cfp_sha256_free(). On success the caller ends c with exactly one of
 * cfp_sha256_final_hex() or cfp_sha256_free() (either may come after the
 * other: both are idempotent). */
cfp_err cfp_sha256_init(struct cfp_sha256 *c);
/* Adds len bytes. Never fails by itself: a libcrypto failure (none is known
 * for SHA-256 once init succeeded) is kept and reported by final. */
void cfp_sha256_update(struct cfp_sha256 *c, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL into hex[65] and releases c's
 * context. CFP_ERR_INTERNAL (hex untouched) if libcrypto failed at any step
 * or c was not initialised. */
cfp_err cfp_sha256_final_hex(struct cfp_sha256 *c, char hex[65]);
/* Releases c's context without a digest (an abandoned output). Accepts a
 * context that failed init, was finished or freed already. */
void cfp_sha256_free(struct cfp_sha256 *c);

/* Digest of the whole file at path into hex[65]. CFP_ERR_IO (message in st)
 * when it cannot be read, CFP_ERR_NOMEM or CFP_ERR_INTERNAL from libcrypto. */
cfp_err cfp_sha256_file(const char *path, char hex[65], struct cfp_status *st);

#endif
