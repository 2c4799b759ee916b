/* test_sha256.c - cfp_sha256 (OpenSSL EVP underneath) against the FIPS
 * 180-4 / NIST example vectors, fed whole and at every split point, and the
 * one-million-'a' long message in 1000-byte updates; random data of every
 * length up to 300 bytes and long messages in random chunk plans (some
 * updates empty) against the digest of the same bytes in one update;
 * cfp_sha256_file; the context's contract (final and free in any order,
 * twice) and an out-of-memory init from libcrypto's allocator, which must
 * be CFP_ERR_NOMEM and leak nothing. `test_sha256 bench` prints MB/s. */
#include <openssl/crypto.h>

#include "base/cfp_rng.h"
#include "base/cfp_sha256.h"
#include "cfp_test.h"

/* libcrypto's allocations go through these (set before its first one), so
 * that the test can make them fail. */
static int fail_allocs; /* > 0: that many allocations fail from now on */

static void *test_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    if (fail_allocs > 0) {
        fail_allocs--;
        return NULL;
    }
    return malloc(n);
}

static void *test_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return realloc(p, n);
}

static void test_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    free(p);
}

static void digest_of(const void *p, size_t n, size_t split, char hex[65])
{
    struct cfp_sha256 c;

    ASSERT_EQ(cfp_sha256_init(&c), CFP_ERR_OK);
    cfp_sha256_update(&c, p, split);
    cfp_sha256_update(&c, (const char *)p + split, n - split);
    ASSERT_EQ(cfp_sha256_final_hex(&c, hex), CFP_ERR_OK);
}

static void vectors(void)
{
    static const struct {
        const char *in, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    size_t i, k, n;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        n = strlen(v[i].in);
        for (k = 0; k <= n; k++) {
            digest_of(v[i].in, n, k, hex);
            ASSERT_STREQ(hex, v[i].hex);
        }
    }
    { /* one million 'a', in 1000-byte updates */
        static char a[1000];
        struct cfp_sha256 c;

        memset(a, 'a', sizeof(a));
        ASSERT_EQ(cfp_sha256_init(&c), CFP_ERR_OK);
        for (i = 0; i < 1000; i++)
            cfp_sha256_update(&c, a, sizeof(a));
        ASSERT_EQ(cfp_sha256_final_hex(&c, hex), CFP_ERR_OK);
        ASSERT_STREQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

/* Digest of p[0..n) fed in random pieces (some empty). */
static void chunked(const unsigned char *p, size_t n, struct cfp_rng *r, char hex[65])
{
    struct cfp_sha256 c;
    size_t at = 0, k;

    ASSERT_EQ(cfp_sha256_init(&c), CFP_ERR_OK);
    while (at < n) {
        k = cfp_rng_below(r, 200);
        if (k > n - at)
            k = n - at;
        cfp_sha256_update(&c, p + at, k);
        at += k;
    }
    ASSERT_EQ(cfp_sha256_final_hex(&c, hex), CFP_ERR_OK);
}

/* Chunking never changes the digest; neither does hashing a file of the
 * same bytes. */
static void chunking(void)
{
    static unsigned char data[70000];
    const char *path = "test_sha256.tmp";
    struct cfp_status st = {0};
    struct cfp_rng r;
    char a[65], b[65];
    size_t i, n;
    FILE *f;

    cfp_rng_seed(&r, 42);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)cfp_rng_below(&r, 256);
    for (n = 0; n <= 300; n++) {
        digest_of(data, n, n, a);
        digest_of(data, n, n / 3, b);
        ASSERT_STREQ(a, b);
        chunked(data, n, &r, b);
        ASSERT_STREQ(a, b);
    }
    for (i = 0; i < 20; i++) {
        n = cfp_rng_below(&r, sizeof(data) + 1);
        digest_of(data, n, n, a);
        chunked(data, n, &r, b);
        ASSERT_STREQ(a, b);
    }
    f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(data, 1, sizeof(data), f), sizeof(data));
    ASSERT_EQ(fclose(f), 0);
    ASSERT_EQ(cfp_sha256_file(path, b, &st), CFP_ERR_OK);
    digest_of(data, sizeof(data), 0, a);
    ASSERT_STREQ(a, b);
    remove(path);
    ASSERT_EQ(cfp_sha256_file(path, b, &st), CFP_ERR_IO);
}

/* final and free in any order, each twice; an out-of-memory init. */
static void contract(bool hooked)
{
    struct cfp_sha256 c;
    char hex[65] = "untouched";
    int k;

    ASSERT_EQ(cfp_sha256_init(&c), CFP_ERR_OK);
    cfp_sha256_update(&c, "abc", 3);
    cfp_sha256_free(&c);
    cfp_sha256_free(&c);
    cfp_sha256_update(&c, "abc", 3); /* ignored */
    ASSERT_EQ(cfp_sha256_final_hex(&c, hex), CFP_ERR_INTERNAL);
    ASSERT_STREQ(hex, "untouched");
    ASSERT_EQ(cfp_sha256_init(&c), CFP_ERR_OK);
    ASSERT_EQ(cfp_sha256_final_hex(&c, hex), CFP_ERR_OK);
    ASSERT_EQ(cfp_sha256_final_hex(&c, hex), CFP_ERR_INTERNAL);
    cfp_sha256_free(&c);
    cfp_sha256_free(NULL);
    if (!hooked) {
        cfp_skip_part("test_sha256", "out-of-memory init",
                      "libcrypto allocated before the test could hook its allocator");
        return;
    }
    /* The first, second... allocation of an init fails: NOMEM, nothing held
     * (valgrind and ASan see any leak). */
    for (k = 1; k <= 3; k++) {
        fail_allocs = k;
        ASSERT_EQ(cfp_sha256_init(&c), CFP_ERR_NOMEM);
        ASSERT(c.ctx == NULL);
        fail_allocs = 0;
    }
    digest_of("abc", 3, 1, hex);
    ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void bench(void)
{
    static unsigned char buf[1 << 20];
    struct cfp_sha256 c;
    struct timespec t0, t1;
    char hex[65];
    int i;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ASSERT_EQ(cfp_sha256_init(&c), CFP_ERR_OK);
    for (i = 0; i < 256; i++)
        cfp_sha256_update(&c, buf, sizeof(buf));
    ASSERT_EQ(cfp_sha256_final_hex(&c, hex), CFP_ERR_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("openssl %.0f MB/s (256 MiB in 1 MiB updates; jobs/bench_sha256.sh for cfp's outputs)\n",
           256.0 * 1.048576 / ((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec)));
}

int main(int argc, char **argv)
{
    /* Before anything else: fails (0) once libcrypto has allocated. Under
     * ASan, keep its interceptors: the hooks call malloc/free as well. */
    bool hooked = CRYPTO_set_mem_functions(test_malloc, test_realloc, test_free) == 1;

    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return 0;
    }
    printf("implementation: %s\n", OpenSSL_version(OPENSSL_VERSION));
    vectors();
    chunking();
    contract(hooked);
    printf("test_sha256: ok\n");
    return 0;
}
