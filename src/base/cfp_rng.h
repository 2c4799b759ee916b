/* cfp_rng.h - a small seeded pseudo-random generator (xoshiro256**, seeded
 * through splitmix64), used where cfp needs reproducible "random" data: the
 * dataset generator must write the same bytes for the same seed on every
 * machine, so rand() (libc-specific) and time-based seeds are out.
 *
 * Only integer arithmetic: results are identical on every platform and with
 * every compiler. Not for cryptography.
 */
#ifndef CFP_RNG_H
#define CFP_RNG_H

#include <stdbool.h>
#include <stdint.h>

/* Generator state. Held by value (on the stack, inside other structs) so that
 * drawing numbers never allocates; treat the fields as private and go through
 * the functions below. Not thread-safe: one generator per thread. */
struct cfp_rng {
    uint64_t s[4];
};

/* Advances *state by one splitmix64 step and returns its output. Exposed
 * because it is also a good way to turn one 64-bit seed into many. */
uint64_t cfp_rng_splitmix64(uint64_t *state);

/* The splitmix64 finaliser as a stateless hash: a bijection on 64-bit values
 * that spreads every input bit over the whole output (used for per-pixel
 * noise that must not depend on the order pixels are computed in). */
uint64_t cfp_rng_mix(uint64_t x);

/* Seeds r from seed: the four state words are four successive splitmix64
 * outputs, as the xoshiro authors recommend (never all zero). */
void cfp_rng_seed(struct cfp_rng *r, uint64_t seed);

/* Seeds r for the index-th member of stream `stream` under `seed`, so that
 * e.g. file 7 gets the same numbers whether 8 or 800 files are made. */
void cfp_rng_seed_stream(struct cfp_rng *r, uint64_t seed, uint64_t stream, uint64_t index);

/* Next 64 random bits (xoshiro256**). */
uint64_t cfp_rng_next(struct cfp_rng *r);

/* Uniform in [0, n) without modulo bias (rejection sampling); 0 when n == 0. */
uint64_t cfp_rng_below(struct cfp_rng *r, uint64_t n);

/* Uniform in [lo, hi] (inclusive); lo when hi <= lo. */
int64_t cfp_rng_range(struct cfp_rng *r, int64_t lo, int64_t hi);

/* True with probability num/den (false when den == 0). */
bool cfp_rng_chance(struct cfp_rng *r, uint64_t num, uint64_t den);

#endif
