/* cfp_sha256.h - SHA-256 (FIPS 180-4), used to record a digest of every
 * output file so that runs in different modes can be proven identical. */
#ifndef CFP_SHA256_H
#define CFP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "cfp_err.h"

struct cfp_sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t fill;
};

void cfp_sha256_init(struct cfp_sha256 *c);
void cfp_sha256_update(struct cfp_sha256 *c, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL into hex[65]. */
void cfp_sha256_final_hex(struct cfp_sha256 *c, char hex[65]);

/* Digest of the whole file at path into hex[65]. CFP_ERR_IO (message in st)
 * when it cannot be read. */
cfp_err cfp_sha256_file(const char *path, char hex[65], struct cfp_status *st);

#endif
