/* cfp_scratch.h - a small pool of large buffers, reused from task to task.
 *
 * main.c maps every allocation over 256 KB on its own and unmaps it when
 * freed, which keeps RSS flat over long runs (no arena fragmentation). For
 * an image decode's multi-megabyte buffers that means a fresh page fault
 * per 4 KiB on every image: 142,000 faults and 0.93 s of system time, 29 %
 * of a sequential run over the peer dataset's 60 photos on a virtual
 * machine. Buffers taken from the pool and given back are kept mapped and
 * handed out again, so their pages are faulted in once per run.
 *
 * Requests under 256 KiB bypass the pool (malloc's heap serves them without
 * fresh pages). The pool holds at most CFP_SCRATCH_KEEP idle buffers, and
 * keeps one only while the pool-sized buffers in use and the idle ones
 * together stay within CFP_SCRATCH_BYTES (the largest buffers are kept):
 * a cache beside what is in use, not on top of it, so a run decoding on
 * several cores keeps less idle than a sequential one (issue #17: the
 * concurrent engines' peak RSS). Buffers in use are bounded by the memory
 * budget (task/cfp_budget.h).
 * Buffers under a huge page (an image's 512-px output, row and window
 * buffers) are kept apart, up to CFP_SCRATCH_MID bytes whatever is in use:
 * they fault in 4 KiB pages, and when bodies filled the 64 MiB an async run
 * mapped a fresh output image for every photo (issue #18: 12,800 faults,
 * 13 % more CPU than threading's).
 * Buffers of 2 MiB or more are sized in whole 2 MiB pages and asked to be
 * backed by transparent huge pages (cfp_scratch.c says why).
 * Thread-safe: one mutex, taken once per take or give. */
#ifndef CFP_SCRATCH_H
#define CFP_SCRATCH_H

#include <stddef.h>

#define CFP_SCRATCH_KEEP 64
#define CFP_SCRATCH_BYTES ((size_t)64 << 20)
#define CFP_SCRATCH_MID ((size_t)8 << 20)

/* A buffer of at least n bytes (n > 0), contents undefined, owned by the
 * caller until given back with cfp_scratch_give (never cfp_free). Reuses
 * the smallest idle buffer that is large enough, else allocates through
 * cfp_malloc. NULL when that fails. Aligned as malloc aligns. */
void *cfp_scratch_take(size_t n);

/* Gives p (from cfp_scratch_take, or NULL) back: kept idle while the
 * limits allow, else freed (or a smaller idle buffer is freed for it). */
void cfp_scratch_give(void *p);

/* Frees every idle buffer. The run calls it when its engine is done, so no
 * memory stays mapped after a run; tests call it to make every take
 * allocate again. */
void cfp_scratch_drain(void);

#endif
