/* cfp_sha256.c - SHA-256 of every output file (the digest in each task's
 * record, which proves that all modes produced the same bytes).
 *
 * Every output byte passes through here, so on x86-64 CPUs with the SHA
 * extensions (Intel since Ice Lake / Goldmont, AMD since Zen) the blocks go
 * through the SHA-NI instructions: about 4x the portable code, which was
 * half of cfp's time on CSV-to-JSON work. The choice is made once, from
 * CPUID, so a CPU (or valgrind's emulated CPU) without them gets the
 * portable code; test_sha256 checks both against the FIPS vectors and each
 * other. */
#include "base/cfp_sha256.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CFP_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* Compresses n 64-byte blocks at p into h. */
typedef void blocks_fn(uint32_t h[8], const unsigned char *p, size_t n);

static void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
    uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
    int i;

    for (; n > 0; n--, p += 64) {
        for (i = 0; i < 16; i++)
            w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                   (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        for (i = 16; i < 64; i++) {
            uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        a = h[0], b = h[1], c = h[2], d = h[3];
        e = h[4], f = h[5], g = h[6], hh = h[7];
        for (i = 0; i < 64; i++) {
            t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
            t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d;
        h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
}

#ifdef CFP_SHA_NI
/* The SHA-NI form of the same rounds (the layout of Intel's white paper
 * "New Instructions Supporting the Secure Hash Algorithm on Intel
 * Architecture Processors"): the state lives as ABEF / CDGH, each
 * sha256rnds2 does two rounds, msg1/msg2 extend the schedule four words at a
 * time. w[] is a ring of the last four 4-word groups. */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t h[8],
                                                                    const unsigned char *p,
                                                                    size_t n)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* CDAB */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                        /* ABEF */
    int g;

    s1 = _mm_blend_epi16(s1, t, 0xF0); /* CDGH */
    for (; n > 0; n--, p += 64) {
        __m128i abef = s0, cdgh = s1, w[4], m;

        for (g = 0; g < 16; g++) {
            if (g < 4) {
                w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
            } else { /* w[g&3] holds group g-4, w[(g+1)&3] g-3, ... w[(g+3)&3] g-1 */
                m = _mm_add_epi32(_mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]),
                                  _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
                w[g & 3] = _mm_sha256msg2_epu32(m, w[(g + 3) & 3]);
            }
            m = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)&K[4 * g]));
            s1 = _mm_sha256rnds2_epu32(s1, s0, m);
            s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
        }
        s0 = _mm_add_epi32(s0, abef);
        s1 = _mm_add_epi32(s1, cdgh);
    }
    t = _mm_shuffle_epi32(s0, 0x1B);  /* FEBA */
    s1 = _mm_shuffle_epi32(s1, 0xB1); /* DCHG */
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xF0)); /* DCBA */
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));    /* HGFE */
}

/* CPUID: leaf 7 EBX bit 29 is SHA; the code also needs SSSE3 and SSE4.1
 * (leaf 1 ECX bits 9 and 19). */
static int have_shani(void)
{
    unsigned a, b, c, d;

    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 29) & 1;
}
#endif

static blocks_fn *blocks = blocks_portable;
static bool hw_present;
static pthread_once_t pick_once = PTHREAD_ONCE_INIT;

static void pick(void)
{
#ifdef CFP_SHA_NI
    hw_present = have_shani();
    if (hw_present)
        blocks = blocks_shani;
#endif
}

bool cfp_sha256_use_hw(bool on)
{
    pthread_once(&pick_once, pick);
#ifdef CFP_SHA_NI
    blocks = on && hw_present ? blocks_shani : blocks_portable;
#else
    (void)on;
#endif
    return on && hw_present;
}

void cfp_sha256_init(struct cfp_sha256 *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

    pthread_once(&pick_once, pick);
    memcpy(c->h, iv, sizeof(iv));
    c->len = 0;
    c->fill = 0;
}

void cfp_sha256_update(struct cfp_sha256 *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t take;

    c->len += len;
    if (c->fill > 0) { /* complete the held partial block first */
        take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->buf + c->fill, p, take);
        c->fill += take, p += take, len -= take;
        if (c->fill < 64)
            return;
        blocks(c->h, c->buf, 1);
        c->fill = 0;
    }
    if (len >= 64) { /* whole blocks straight from the caller's memory */
        blocks(c->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(c->buf, p, len);
    c->fill = len;
}

void cfp_sha256_final_hex(struct cfp_sha256 *c, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t bits = c->len * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
    int i;

    for (i = 0; i < 8; i++)
        pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    cfp_sha256_update(c, pad, padlen + 8);
    for (i = 0; i < 32; i++) {
        unsigned char byte = (unsigned char)(c->h[i / 4] >> (24 - 8 * (i % 4)));
        hex[2 * i] = digits[byte >> 4];
        hex[2 * i + 1] = digits[byte & 15];
    }
    hex[64] = '\0';
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
    cfp_sha256_init(&c);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        cfp_sha256_update(&c, buf, n);
    bad = ferror(f);
    fclose(f);
    if (bad)
        return cfp_status_set(st, CFP_ERR_IO, "read %s: I/O error", path);
    cfp_sha256_final_hex(&c, hex);
    return CFP_ERR_OK;
}
