/* cfp_rng.c - xoshiro256** seeded by splitmix64.
 *
 * Both algorithms are by Sebastiano Vigna (and David Blackman for xoshiro),
 * public domain reference code at https://prng.di.unimi.it/; this is a
 * re-implementation from the published algorithm. */
#include "base/cfp_rng.h"

uint64_t cfp_rng_mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

uint64_t cfp_rng_splitmix64(uint64_t *state)
{
    *state += UINT64_C(0x9e3779b97f4a7c15);
    return cfp_rng_mix(*state);
}

void cfp_rng_seed(struct cfp_rng *r, uint64_t seed)
{
    uint64_t sm = seed;

    for (int i = 0; i < 4; i++)
        r->s[i] = cfp_rng_splitmix64(&sm);
}

void cfp_rng_seed_stream(struct cfp_rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    /* Hash each component separately so that nearby (stream, index) pairs do
     * not give related seeds; the mix is a bijection, so distinct indices of
     * one stream always give distinct seeds. */
    uint64_t h = cfp_rng_mix(seed ^ UINT64_C(0x5851f42d4c957f2d));

    h = cfp_rng_mix(h ^ cfp_rng_mix(stream + UINT64_C(0x14057b7ef767814f)));
    h = cfp_rng_mix(h + index);
    cfp_rng_seed(r, h);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t cfp_rng_next(struct cfp_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t cfp_rng_below(struct cfp_rng *r, uint64_t n)
{
    uint64_t threshold, x;

    if (n == 0)
        return 0;
    /* 2^64 mod n values at the bottom are over-represented by x % n; skip
     * them. (0 - n) % n is 2^64 mod n computed in 64-bit arithmetic. */
    threshold = (0 - n) % n;
    do {
        x = cfp_rng_next(r);
    } while (x < threshold);
    return x % n;
}

int64_t cfp_rng_range(struct cfp_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span;

    if (hi <= lo)
        return lo;
    /* Unsigned arithmetic: hi - lo can exceed INT64_MAX. */
    span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX)
        return (int64_t)cfp_rng_next(r);
    return (int64_t)((uint64_t)lo + cfp_rng_below(r, span + 1));
}

bool cfp_rng_chance(struct cfp_rng *r, uint64_t num, uint64_t den)
{
    if (den == 0)
        return false;
    return cfp_rng_below(r, den) < num;
}
