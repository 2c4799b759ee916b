/* cfp_mem.c - allocation wrappers with failure injection for tests. */
#include "base/cfp_mem.h"

#include <stdlib.h>
#include <string.h>

/* Written only by single-threaded tests before any worker starts; 0 (off) in
 * production, so the read in should_fail() is race-free there. */
static long fail_countdown;

static int should_fail(void)
{
    if (fail_countdown <= 0)
        return 0;
    return --fail_countdown == 0;
}

void cfp_mem_fail_after(long n)
{
    fail_countdown = n;
}

void *cfp_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *cfp_calloc(size_t nmemb, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *cfp_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *cfp_aligned_alloc(size_t align, size_t n)
{
    void *p;

    if (should_fail() || posix_memalign(&p, align, n ? n : 1) != 0)
        return NULL;
    return p;
}

void cfp_free(void *p)
{
    free(p);
}

char *cfp_strdup(const char *s)
{
    size_t n;
    char *d;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    d = cfp_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
