/* cfp_test.h - tiny assertion macros for the module tests. Each macro prints
 * both values and the location, then exits non-zero (libuv ASSERT_EQ style). */
#ifndef CFP_TEST_H
#define CFP_TEST_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cfp_err.h"

#define CFP_FAILF(...)                                                                 \
    do {                                                                               \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                \
        fprintf(stderr, __VA_ARGS__);                                                  \
        fputc('\n', stderr);                                                           \
        exit(1);                                                                       \
    } while (0)

#define ASSERT(c)                                                                      \
    do {                                                                               \
        if (!(c))                                                                      \
            CFP_FAILF("assertion failed: %s", #c);                                     \
    } while (0)

#define ASSERT_EQ(a, b)                                                                \
    do {                                                                               \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                               \
        if (a_ != b_)                                                                  \
            CFP_FAILF("%s == %s: %jd != %jd", #a, #b, a_, b_);                         \
    } while (0)

#define ASSERT_STREQ(a, b)                                                             \
    do {                                                                               \
        const char *a_ = (a), *b_ = (b);                                               \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                         \
            CFP_FAILF("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",        \
                      b_ ? b_ : "(null)");                                             \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                                   \
    do {                                                                               \
        const char *h_ = (hay), *n_ = (needle);                                        \
        if (!h_ || !strstr(h_, n_))                                                    \
            CFP_FAILF("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);        \
    } while (0)

/* Says that part of a test did not run: prints "SKIP TEST: WHAT: WHY" and
 * appends the line "TEST: WHAT: WHY" to $CFP_SKIP_LOG, else to
 * cfp-skipped.log beside $CFP_BIN (the top of the build dir; nowhere when
 * neither is set). A passing test's output is hidden by ctest
 * --output-on-failure, so tests/run.sh prints that file at the end (same
 * format as skip_part() in tests/e2e/e2e_common.py). WHY is a printf format. */
static inline void cfp_skip_part(const char *test, const char *what, const char *why, ...)
    __attribute__((format(printf, 3, 4)));
static inline void cfp_skip_part(const char *test, const char *what, const char *why, ...)
{
    char line[1024], path[4096];
    const char *log = getenv("CFP_SKIP_LOG"), *bin = getenv("CFP_BIN"), *slash;
    va_list ap;
    int n;
    FILE *f;

    n = snprintf(line, sizeof(line), "%s: %s: ", test, what);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1; /* truncated: no room for WHY */
    va_start(ap, why);
    vsnprintf(line + n, sizeof(line) - (size_t)n, why, ap);
    va_end(ap);
    for (char *c = line; *c; c++)
        if (*c == '\n')
            *c = ' ';
    printf("SKIP %s\n", line);
    fflush(stdout);
    if (!log || !*log) {
        if (!bin || !(slash = strrchr(bin, '/')))
            return;
        n = snprintf(path, sizeof(path), "%.*s/cfp-skipped.log", (int)(slash - bin), bin);
        if (n < 0 || (size_t)n >= sizeof(path))
            return;
        log = path;
    }
    /* One short line, written by one fclose: whole lines under ctest -j. */
    f = fopen(log, "a");
    n = f ? fprintf(f, "%s\n", line) : -1;
    if (!f || fclose(f) != 0 || n < 0)
        printf("SKIP log %s not written\n", log);
}

/* A growable in-memory cfp_write_fn target on plain realloc, so injected
 * cfp_malloc failures only hit the code under test. fail_at > 0 makes the
 * fail_at-th call fail with CFP_ERR_IO. */
struct sink {
    char *p;
    size_t n, cap;
    int calls, fail_at;
};

static inline cfp_err sink_write(void *ctx, const void *data, size_t len)
{
    struct sink *s = ctx;

    if (++s->calls == s->fail_at)
        return CFP_ERR_IO;
    if (s->n + len + 1 > s->cap) {
        s->cap = (s->n + len + 1) * 2;
        s->p = realloc(s->p, s->cap);
        ASSERT(s->p != NULL);
    }
    memcpy(s->p + s->n, data, len);
    s->n += len;
    s->p[s->n] = '\0';
    return CFP_ERR_OK;
}

/* Reads a whole file into a malloc'd, NUL-terminated buffer (caller frees);
 * fails the test when it cannot. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long sz;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        CFP_FAILF("cannot read %s", path);
    buf = malloc((size_t)sz + 1);
    ASSERT(buf && fread(buf, 1, (size_t)sz, f) == (size_t)sz);
    buf[sz] = '\0';
    fclose(f);
    *len = (size_t)sz;
    return buf;
}

/* Seconds on the monotonic clock, for the bench modes of the tests. */
static inline double mono_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fixed-seed xorshift64 for test inputs: the same sequence every run. */
static inline uint32_t rnd(void)
{
    static uint64_t state = 88172645463325252ull;

    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 16);
}

#endif
