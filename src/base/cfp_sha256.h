/* cfp_sha256.h - SHA-256 (FIPS 180-4), used to record a digest of every
 * output file so that runs in different modes can be proven identical. */
#ifndef CFP_SHA256_H
#define CFP_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"

struct cfp_sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t fill;
};

/* Any number of contexts may be used at once from any threads; one context
 * belongs to one thread at a time. */
void cfp_sha256_init(struct cfp_sha256 *c);
void cfp_sha256_update(struct cfp_sha256 *c, const void *data, size_t len);
/* Writes 64 lowercase hex digits and a NUL into hex[65]. */
void cfp_sha256_final_hex(struct cfp_sha256 *c, char hex[65]);

/* For tests: selects the SHA-NI code (on, the default when the CPU has it)
 * or the portable code (off) for every context, and returns whether SHA-NI
 * is now in use. Not thread-safe: call while no digest is being computed. */
bool cfp_sha256_use_hw(bool on);

/* Digest of the whole file at path into hex[65]. CFP_ERR_IO (message in st)
 * when it cannot be read. */
cfp_err cfp_sha256_file(const char *path, char hex[65], struct cfp_status *st);

#endif
