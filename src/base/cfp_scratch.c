/* cfp_scratch.c - the large-buffer pool (see the header).
 *
 * Each buffer carries its capacity in a header in front of the caller's
 * bytes, so give() needs only the pointer. The idle list is a small array:
 * at most CFP_SCRATCH_KEEP entries, scanned under the lock. */
#include "base/cfp_scratch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "base/cfp_mem.h"

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
/* idle_bytes: idle buffers of a huge page and up; mid_bytes: the smaller
 * ones (POOL_MIN up to a huge page), kept within CFP_SCRATCH_MID apart. */
static size_t nidle, idle_bytes, mid_bytes;
/* Bytes of pool-sized buffers (POOL_MIN and up) taken and not given back:
 * idle buffers are kept only while busy + idle stays within
 * CFP_SCRATCH_BYTES (the header says why). */
static size_t busy_bytes;

/* Below this, malloc serves from its heap without fresh pages (main.c's
 * mmap threshold), so such buffers are neither pooled nor served from the
 * pool: a row buffer must not take a whole image's buffer. */
#define POOL_MIN ((size_t)256 << 10)

/* Buffers of at least a huge page (x86-64 and arm64 with 4 KiB pages: 2 MiB)
 * start on a huge-page boundary, span whole huge pages, and ask the kernel
 * for transparent huge pages (MADV_HUGEPAGE; its default "madvise" mode
 * grants them only to ranges that ask). On the benchmark VM a 4 KiB fault
 * costs ~15 us: a 64 MiB buffer took 250 ms to touch in 4 KiB pages and
 * 24 ms in 2 MiB ones. Spanning whole huge pages costs at most 2 MiB of
 * RSS per buffer in use; a tail left in small pages cost 6,000 faults in an
 * async run of the peer dataset. Where THP is off or the call fails, the
 * buffer is the same memory in small pages: the hint is only a hint.
 * posix_memalign rather than mmap, so ASan and valgrind check these buffers
 * like any other. */
#define HUGE_PAGE ((size_t)2 << 20)

/* Bytes to allocate for a caller's n: huge-page multiples from one huge
 * page up, whole MiB from 1 MiB (so images of nearly the same size share
 * buffers), else n and the header. 0 when that overflows. */
static size_t alloc_size(size_t n)
{
    const size_t mib = (size_t)1 << 20;
    size_t bytes, unit;

    if (n > SIZE_MAX - sizeof(union hdr) - HUGE_PAGE)
        return 0;
    bytes = n + sizeof(union hdr);
    unit = bytes >= HUGE_PAGE ? HUGE_PAGE : mib;
    return bytes <= mib ? bytes : (bytes + unit - 1) & ~(unit - 1);
}

static union hdr *alloc_buf(size_t bytes)
{
    union hdr *h;

    if (bytes < HUGE_PAGE)
        return cfp_malloc(bytes);
    h = cfp_aligned_alloc(HUGE_PAGE, bytes);
#ifdef MADV_HUGEPAGE
    if (h)
        (void)madvise(h, bytes, MADV_HUGEPAGE);
#endif
    return h;
}

/* A buffer under a huge page: an output image or row buffers, faulted in
 * 4 KiB pages (cfp_scratch.h: kept apart from the large ones). */
static bool is_mid(const union hdr *h)
{
    return h->cap + sizeof(*h) < HUGE_PAGE;
}

static void unpark(size_t i)
{
    if (is_mid(idle[i]))
        mid_bytes -= idle[i]->cap;
    else
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
    if (h) {
        unpark(best);
        busy_bytes += h->cap;
    }
    pthread_mutex_unlock(&pool_lock);
    if (!h) {
        size_t bytes = alloc_size(n);

        h = bytes ? alloc_buf(bytes) : NULL;
        if (!h)
            return NULL;
        h->cap = bytes - sizeof(*h);
        if (h->cap >= POOL_MIN) {
            pthread_mutex_lock(&pool_lock);
            busy_bytes += h->cap;
            pthread_mutex_unlock(&pool_lock);
        }
    }
    return h + 1;
}

/* Idle bytes the pool may keep now: what the buffers in use leave of
 * CFP_SCRATCH_BYTES. */
static size_t room(void)
{
    return busy_bytes < CFP_SCRATCH_BYTES ? CFP_SCRATCH_BYTES - busy_bytes : 0;
}

/* Whether h fits once every idle buffer smaller than it is dropped: the
 * pool keeps its largest buffers, which serve any request. */
static bool can_fit(const union hdr *h)
{
    size_t keep_n = 0, keep_bytes = 0;

    for (size_t i = 0; i < nidle; i++)
        if (!is_mid(idle[i]) && idle[i]->cap >= h->cap) {
            keep_n++;
            keep_bytes += idle[i]->cap;
        }
    return keep_n < CFP_SCRATCH_KEEP && keep_bytes <= room() && h->cap <= room() - keep_bytes;
}

void cfp_scratch_give(void *p)
{
    union hdr *h = p ? (union hdr *)p - 1 : NULL, *evict[CFP_SCRATCH_KEEP];
    size_t nevict = 0;

    if (!h)
        return;
    pthread_mutex_lock(&pool_lock);
    if (h->cap >= POOL_MIN)
        busy_bytes -= h->cap;
    if (h->cap >= POOL_MIN && is_mid(h)) {
        if (nidle < CFP_SCRATCH_KEEP && mid_bytes + h->cap <= CFP_SCRATCH_MID) {
            idle[nidle++] = h;
            mid_bytes += h->cap;
            h = NULL;
        }
    } else if (h->cap >= POOL_MIN && can_fit(h)) {
        /* Drop the smallest idle buffers until h fits (can_fit: all of
         * them are smaller than h). */
        while (nidle == CFP_SCRATCH_KEEP || idle_bytes + h->cap > room()) {
            /* For a slot, the smallest of all; for bytes, the smallest
             * large one (small ones are not counted in idle_bytes). */
            bool any = nidle == CFP_SCRATCH_KEEP;
            size_t s = nidle;

            for (size_t i = 0; i < nidle; i++)
                if ((any || !is_mid(idle[i])) && (s == nidle || idle[i]->cap < idle[s]->cap))
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
    mid_bytes = 0;
    pthread_mutex_unlock(&pool_lock);
    for (size_t i = 0; i < n; i++)
        cfp_free(all[i]);
}
