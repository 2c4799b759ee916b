/* cfp_sha256.c - SHA-256 of every output file (the digest in each task's
 * record, which proves that all modes produced the same bytes), through
 * OpenSSL's EVP interface.
 *
 * Every output byte passes through here. libcrypto picks its fastest block
 * code from CPUID at load time (SHA-NI, AVX2, SSSE3 or plain C), the same
 * instructions the hand-written code this replaced used, maintained by
 * others; it was as fast on the peer dataset's outputs (doc/benchmarks.md,
 * "SHA-256: OpenSSL against the hand-written code"). libcrypto is loaded
 * anyway (libcurl's TLS). */
#include "base/cfp_sha256.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

/* The SHA-256 implementation, fetched from the default provider once:
 * EVP_sha256() would make EVP_DigestInit_ex() look it up again at every
 * init, a lock and a hash lookup per output file. Written once, before any
 * reader (pthread_once); kept for the process's life. */
static EVP_MD *sha256_md;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The digest to init with: the fetched one, or when that fetch failed (out
 * of memory at the first init) EVP_sha256(), which needs no allocation here
 * and is looked up at each init instead. */
static const EVP_MD *md(void)
{
    pthread_once(&fetch_once, fetch);
    return sha256_md ? sha256_md : EVP_sha256();
}

cfp_err cfp_sha256_init(struct cfp_sha256 *c)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    c->ctx = NULL;
    c->failed = false;
    if (!ctx)
        return CFP_ERR_NOMEM;
    if (EVP_DigestInit_ex(ctx, md(), NULL) != 1) { /* only its allocations can fail */
        EVP_MD_CTX_free(ctx);
        return CFP_ERR_NOMEM;
    }
    c->ctx = ctx;
    return CFP_ERR_OK;
}

void cfp_sha256_update(struct cfp_sha256 *c, const void *data, size_t len)
{
    if (!c->ctx || c->failed)
        return;
    if (len > 0 && EVP_DigestUpdate(c->ctx, data, len) != 1)
        c->failed = true;
}

cfp_err cfp_sha256_final_hex(struct cfp_sha256 *c, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    bool ok = c->ctx && !c->failed && EVP_DigestFinal_ex(c->ctx, d, &n) == 1 && n == 32;
    unsigned int i;

    cfp_sha256_free(c);
    if (!ok)
        return CFP_ERR_INTERNAL;
    for (i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
    return CFP_ERR_OK;
}

void cfp_sha256_free(struct cfp_sha256 *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->ctx); /* accepts NULL */
    c->ctx = NULL;
}

cfp_err cfp_sha256_file(const char *path, char hex[65], struct cfp_status *st)
{
    unsigned char buf[64 * 1024];
    struct cfp_sha256 c;
    FILE *f = fopen(path, "rb");
    size_t n;
    int bad;

    if (!f)
        return cfp_status_set(st, CFP_ERR_IO, "open %s: %s", path, strerror(errno));
    if (cfp_sha256_init(&c) != CFP_ERR_OK) {
        fclose(f);
        return cfp_status_set(st, CFP_ERR_NOMEM, "SHA-256 of %s: out of memory", path);
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        cfp_sha256_update(&c, buf, n);
    bad = ferror(f);
    fclose(f);
    if (bad) {
        cfp_sha256_free(&c);
        return cfp_status_set(st, CFP_ERR_IO, "read %s: I/O error", path);
    }
    if (cfp_sha256_final_hex(&c, hex) != CFP_ERR_OK)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "SHA-256 of %s: libcrypto failed", path);
    return CFP_ERR_OK;
}
