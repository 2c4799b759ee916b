/* cfp_scratch.c - the large-buffer pool (see the header).
 *
 * Each buffer carries its capacity in a header in front of the caller's
 * bytes, so give() needs only the pointer. The idle list is a small array:
 * at most CFP_SCRATCH_KEEP entries, scanned under the lock. */
#include "cfp_scratch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfp_mem.h"

/* max_align_t-sized, so the caller's bytes keep malloc's alignment. */
union hdr {
    size_t cap;
    max_align_t align;
};

/* pool_lock protects idle[], nidle and idle_bytes; take, give and drain
 * hold it only to pick or park a buffer, never while allocating or
 * freeing. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static union hdr *idle[CFP_SCRATCH_KEEP];
static size_t nidle, idle_bytes;

/* Sizes over 1 MiB are rounded up to a whole MiB, so images of nearly the
 * same size share buffers. */
static size_t round_cap(size_t n)
{
    const size_t mib = (size_t)1 << 20;

    if (n <= mib || n > SIZE_MAX - mib)
        return n;
    return (n + mib - 1) & ~(mib - 1);
}

/* Below this, malloc serves from its heap without fresh pages (main.c's
 * mmap threshold), so such buffers are neither pooled nor served from the
 * pool: a row buffer must not take a whole image's buffer. */
#define POOL_MIN ((size_t)256 << 10)

static void unpark(size_t i)
{
    idle_bytes -= idle[i]->cap;
    idle[i] = idle[--nidle];
}

void *cfp_scratch_take(size_t n)
{
    union hdr *h = NULL;
    size_t best = 0;

    /* The smallest idle buffer that fits. A larger one costs nothing
     * extra: only the pages a task touches are ever faulted in. */
    pthread_mutex_lock(&pool_lock);
    for (size_t i = 0; n >= POOL_MIN && i < nidle; i++)
        if (idle[i]->cap >= n && (!h || idle[i]->cap < h->cap)) {
            h = idle[i];
            best = i;
        }
    if (h)
        unpark(best);
    pthread_mutex_unlock(&pool_lock);
    if (!h) {
        size_t cap = round_cap(n);

        if (cap > SIZE_MAX - sizeof(*h))
            return NULL;
        h = cfp_malloc(sizeof(*h) + cap);
        if (!h)
            return NULL;
        h->cap = cap;
    }
    return h + 1;
}

/* Whether h fits once every idle buffer smaller than it is dropped: the
 * pool keeps its largest buffers, which serve any request. */
static bool can_fit(const union hdr *h)
{
    size_t keep_n = 0, keep_bytes = 0;

    for (size_t i = 0; i < nidle; i++)
        if (idle[i]->cap >= h->cap) {
            keep_n++;
            keep_bytes += idle[i]->cap;
        }
    return keep_n < CFP_SCRATCH_KEEP && h->cap <= CFP_SCRATCH_BYTES - keep_bytes;
}

void cfp_scratch_give(void *p)
{
    union hdr *h = p ? (union hdr *)p - 1 : NULL, *evict[CFP_SCRATCH_KEEP];
    size_t nevict = 0;

    if (!h)
        return;
    pthread_mutex_lock(&pool_lock);
    if (h->cap >= POOL_MIN && can_fit(h)) {
        /* Drop the smallest idle buffers until h fits (can_fit: all of
         * them are smaller than h). */
        while (nidle == CFP_SCRATCH_KEEP || idle_bytes + h->cap > CFP_SCRATCH_BYTES) {
            size_t s = 0;

            for (size_t i = 1; i < nidle; i++)
                if (idle[i]->cap < idle[s]->cap)
                    s = i;
            evict[nevict++] = idle[s];
            unpark(s);
        }
        idle[nidle++] = h;
        idle_bytes += h->cap;
        h = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    for (size_t i = 0; i < nevict; i++)
        cfp_free(evict[i]);
    cfp_free(h);
}

void cfp_scratch_drain(void)
{
    union hdr *all[CFP_SCRATCH_KEEP];
    size_t n;

    pthread_mutex_lock(&pool_lock);
    n = nidle;
    for (size_t i = 0; i < n; i++)
        all[i] = idle[i];
    nidle = 0;
    idle_bytes = 0;
    pthread_mutex_unlock(&pool_lock);
    for (size_t i = 0; i < n; i++)
        cfp_free(all[i]);
}
