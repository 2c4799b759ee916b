/* test_sha256.c - SHA-256 against the FIPS 180-4 / NIST example vectors,
 * in both implementations (SHA-NI when this CPU has it, and the portable
 * code), fed whole and at every split point; then the two implementations
 * against each other on random data of every length up to 300 bytes and in
 * random chunk plans. `test_sha256 bench` prints MB/s of each. */
#include "base/cfp_rng.h"
#include "base/cfp_sha256.h"
#include "cfp_test.h"

static void digest_of(const void *p, size_t n, size_t split, char hex[65])
{
    struct cfp_sha256 c;

    cfp_sha256_init(&c);
    cfp_sha256_update(&c, p, split);
    cfp_sha256_update(&c, (const char *)p + split, n - split);
    cfp_sha256_final_hex(&c, hex);
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
        cfp_sha256_init(&c);
        for (i = 0; i < 1000; i++)
            cfp_sha256_update(&c, a, sizeof(a));
        cfp_sha256_final_hex(&c, hex);
        ASSERT_STREQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

/* Digest of p[0..n) fed in random pieces (some empty). */
static void chunked(const unsigned char *p, size_t n, struct cfp_rng *r, char hex[65])
{
    struct cfp_sha256 c;
    size_t at = 0, k;

    cfp_sha256_init(&c);
    while (at < n) {
        k = cfp_rng_below(r, 200);
        if (k > n - at)
            k = n - at;
        cfp_sha256_update(&c, p + at, k);
        at += k;
    }
    cfp_sha256_final_hex(&c, hex);
}

static void cross(bool hw)
{
    static unsigned char data[70000];
    struct cfp_rng r;
    char a[65], b[65];
    size_t i, n;

    if (!hw) {
        cfp_skip_part("test_sha256", "cross-check of the SHA-NI code",
                      "this CPU has no SHA extensions");
        return;
    }
    cfp_rng_seed(&r, 42);
    for (i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)cfp_rng_below(&r, 256);
    for (n = 0; n <= 300; n++) {
        cfp_sha256_use_hw(true);
        digest_of(data, n, n / 3, a);
        cfp_sha256_use_hw(false);
        digest_of(data, n, n / 2, b);
        ASSERT_STREQ(a, b);
    }
    for (i = 0; i < 20; i++) {
        n = cfp_rng_below(&r, sizeof(data) + 1);
        cfp_sha256_use_hw(true);
        chunked(data, n, &r, a);
        cfp_sha256_use_hw(false);
        chunked(data, n, &r, b);
        ASSERT_STREQ(a, b);
    }
    cfp_sha256_use_hw(true);
}

static void bench(void)
{
    static unsigned char buf[1 << 20];
    int pass, i;

    for (pass = 1; pass >= 0; pass--) {
        struct cfp_sha256 c;
        struct timespec t0, t1;
        char hex[65];
        bool on = cfp_sha256_use_hw(pass);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        cfp_sha256_init(&c);
        for (i = 0; i < 256; i++)
            cfp_sha256_update(&c, buf, sizeof(buf));
        cfp_sha256_final_hex(&c, hex);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%-8s %.0f MB/s\n", on ? "sha-ni" : "portable",
               256.0 * 1.048576 / ((double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec)));
    }
}

int main(int argc, char **argv)
{
    bool hw = cfp_sha256_use_hw(true);

    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        bench();
        return 0;
    }
    printf("implementation in use: %s\n", hw ? "sha-ni" : "portable");
    vectors();
    if (hw) {
        cfp_sha256_use_hw(false);
        vectors();
    }
    cross(hw);
    printf("test_sha256: ok\n");
    return 0;
}
