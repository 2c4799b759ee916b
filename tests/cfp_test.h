/* cfp_test.h - tiny assertion macros for the module tests. Each macro prints
 * both values and the location, then exits non-zero (libuv ASSERT_EQ style). */
#ifndef CFP_TEST_H
#define CFP_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
