/* cfp_mem.h - allocation wrappers. All of cfp allocates through these so that
 * tests can inject a failure and check that every cleanup path is reached.
 * A NULL return is CFP_ERR_NOMEM for the caller's task, never abort(). */
#ifndef CFP_MEM_H
#define CFP_MEM_H

#include <stddef.h>

void *cfp_malloc(size_t n);
void *cfp_calloc(size_t nmemb, size_t size);
void *cfp_realloc(void *p, size_t n);
/* n bytes at an address that is a multiple of align (a power of two, a
 * multiple of sizeof(void *)); freed with cfp_free. */
void *cfp_aligned_alloc(size_t align, size_t n);
void cfp_free(void *p);
/* Duplicates s (NULL if s is NULL or on failure); caller frees with cfp_free. */
char *cfp_strdup(const char *s);

/* Test hook: make the n-th allocation from now fail (1 = the next one);
 * 0 disables. Process-wide, not thread-safe: single-threaded tests only. */
void cfp_mem_fail_after(long n);

#endif
