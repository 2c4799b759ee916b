/* cfp_test_tree.h - fake /proc and /sys trees under a temporary directory,
 * for the tests of the modules that read them (test_cpus, test_memlimit).
 * Included once by a test after it defines `static char base[]` (a mkdtemp
 * template it fills in main) and `static int tree_no`. */
#ifndef CFP_TEST_TREE_H
#define CFP_TEST_TREE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cfp_test.h"

/* mkdir -p of root/rel. */
static void mkdirs(const char *root, const char *rel)
{
    char path[4096];

    (void)snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                CFP_FAILF("mkdir %s: %s", path, strerror(errno));
            *p = '/';
        }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        CFP_FAILF("mkdir %s: %s", path, strerror(errno));
}

/* Writes text to root/rel, making its directories. */
static void put(const char *root, const char *rel, const char *text)
{
    char path[4096], dir[4096];
    FILE *f;

    (void)snprintf(dir, sizeof(dir), "%s", rel);
    if (strrchr(dir, '/')) {
        *strrchr(dir, '/') = '\0';
        mkdirs(root, dir);
    }
    (void)snprintf(path, sizeof(path), "%s/%s", root, rel);
    f = fopen(path, "w");
    if (!f)
        CFP_FAILF("create %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* A fresh, empty root for one case. */
static const char *new_root(char *buf, size_t size)
{
    (void)snprintf(buf, size, "%s/t%d", base, tree_no++);
    mkdirs(base, buf + strlen(base) + 1);
    return buf;
}

#endif
