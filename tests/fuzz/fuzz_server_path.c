/* fuzz_server_path.c - libFuzzer target for the server's request path
 * handling: cfp_server_resolve() (src/lab/cfp_server_internal.h), which turns
 * the raw request target into an open file under the served root.
 *
 * Standalone build and run (tests/fuzz/fuzz_server.sh SECONDS does this):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -DCFP_VERSION='"0.1.0"' -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc \
 *     tests/fuzz/fuzz_server_path.c src/lab/cfp_server.c src/base/cfp_mem.c src/base/cfp_err.c \
 *     -lmicrohttpd -lpthread -o /tmp/fuzz_server_path
 *   /tmp/fuzz_server_path -dict=tests/fuzz/fuzz_server_path.dict CORPUS_COPY/
 *
 * The input is the request target as it comes off the wire, up to its first
 * NUL (MHD hands the handler a C string). The fixture, made once per
 * process under $TMPDIR, is a root with a file, a subdirectory with a file,
 * symlinks inside (to a file, to the subdirectory) and pointing out (to a
 * secret next to the root, to a sibling directory whose name has the root's
 * as prefix, to "..", to /etc/passwd, to itself), and a FIFO.
 *
 * Checks (abort, so libFuzzer keeps the input): the status is one the
 * contract allows; a refusal leaves the outputs untouched; an accepted path
 * is a regular file whose path as the kernel sees it (/proc/self/fd) is
 * under the root, is not one of the outside files, has the size reported,
 * and its decoded name is a plain "/a/b" path. Leaked descriptors surface
 * as 503 once the process runs out of them. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/cfp_server_internal.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Longest target tried: a few times CFP_SERVER_PATH_MAX, so the length
 * limit is crossed in plain and escaped form. */
#define URL_MAX (4 * CFP_SERVER_PATH_MAX)

static char base[PATH_MAX]; /* the fixture's temp directory */
static char root[PATH_MAX]; /* realpath of base/root, the served root */
static size_t root_len;
static struct stat outside[3]; /* base/secret.txt, base/root2/secret.txt, /etc/passwd */
static size_t n_outside;

static void put(const char *rel, const char *data)
{
    char p[PATH_MAX];
    FILE *f;

    CHECK(snprintf(p, sizeof(p), "%s/%s", base, rel) < (int)sizeof(p), "path");
    f = fopen(p, "wb");
    CHECK(f && fputs(data, f) >= 0 && fclose(f) == 0, "write %s: %s", p, strerror(errno));
}

static void link_at(const char *target, const char *rel)
{
    char p[PATH_MAX];

    CHECK(snprintf(p, sizeof(p), "%s/%s", base, rel) < (int)sizeof(p), "path");
    CHECK(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
}

static void remember_outside(const char *path)
{
    if (stat(path, &outside[n_outside]) == 0)
        n_outside++;
}

/* Removes the fixture at exit (libFuzzer exits normally at -max_total_time;
 * after a crash the directory is left for inspection). */
static void remove_fixture(void)
{
    static const char *const rels[] = {
        "root/a.txt",    "root/sub/b.png",   "root/sub",     "root/link_in.txt", "root/link_dir",
        "root/link_out", "root/link_sib",    "root/link_up", "root/passwd",      "root/loop",
        "root/fifo",     "root2/secret.txt", "root2",        "secret.txt",       "root",
    };
    char p[PATH_MAX];
    size_t i;

    for (i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", base, rels[i]);
        if (unlink(p) != 0)
            (void)rmdir(p);
    }
    (void)rmdir(base);
}

static void make_fixture(void)
{
    const char *tmp = getenv("TMPDIR");
    char p[PATH_MAX];

    snprintf(base, sizeof(base), "%s/cfp_fuzz_server_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(base) != NULL, "mkdtemp %s: %s", base, strerror(errno));
    atexit(remove_fixture);
    snprintf(p, sizeof(p), "%s/root", base);
    CHECK(mkdir(p, 0755) == 0, "mkdir");
    snprintf(p, sizeof(p), "%s/root/sub", base);
    CHECK(mkdir(p, 0755) == 0, "mkdir");
    snprintf(p, sizeof(p), "%s/root2", base);
    CHECK(mkdir(p, 0755) == 0, "mkdir");
    put("root/a.txt", "inside\n");
    put("root/sub/b.png", "inside too\n");
    put("secret.txt", "SECRET\n");
    put("root2/secret.txt", "SECRET 2\n");
    link_at("a.txt", "root/link_in.txt");
    link_at("sub", "root/link_dir");
    link_at("../secret.txt", "root/link_out");
    link_at("../root2", "root/link_sib");
    link_at("..", "root/link_up");
    link_at("/etc/passwd", "root/passwd");
    link_at("loop", "root/loop");
    snprintf(p, sizeof(p), "%s/root/fifo", base);
    CHECK(mkfifo(p, 0644) == 0, "mkfifo");

    snprintf(p, sizeof(p), "%s/root", base);
    CHECK(realpath(p, root) != NULL, "realpath %s", p);
    root_len = strlen(root);
    snprintf(p, sizeof(p), "%s/secret.txt", base);
    remember_outside(p);
    snprintf(p, sizeof(p), "%s/root2/secret.txt", base);
    remember_outside(p);
    remember_outside("/etc/passwd");
}

/* True when the decoded path is "/" or "/seg/seg" with no empty, "." or
 * ".." segment and no backslash or control byte: what the server promises
 * to accept at most. */
static bool plain_path(const char *rel)
{
    const char *seg = rel + 1, *end;
    size_t len;

    if (rel[0] != '/')
        return false;
    for (const char *c = rel; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
            return false;
    if (*seg == '\0')
        return true;
    for (;;) {
        end = strchr(seg, '/');
        len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        if (!end)
            return true;
        seg = end + 1;
    }
}

/* The checks on an accepted path: fd is a regular file inside the root. */
static void check_accepted(const char *url, const char *rel, int fd, uint64_t size)
{
    char link[64], real[PATH_MAX];
    struct stat sb;
    ssize_t n;
    size_t i;

    CHECK(fd >= 0, "\"%s\": 200 without a descriptor", url);
    CHECK(plain_path(rel), "\"%s\": accepted decoded path \"%s\"", url, rel);
    CHECK(strlen(rel) <= CFP_SERVER_PATH_MAX, "\"%s\": decoded path over the limit", url);
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, real, sizeof(real) - 1);
    CHECK(n > 0, "readlink %s: %s", link, strerror(errno));
    real[n] = '\0';
    CHECK((size_t)n > root_len && strncmp(real, root, root_len) == 0 && real[root_len] == '/',
          "\"%s\": served %s, outside the root %s", url, real, root);
    CHECK(fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode), "\"%s\": %s is not a regular file", url,
          real);
    CHECK((uint64_t)sb.st_size == size, "\"%s\": size %llu, file has %lld", url,
          (unsigned long long)size, (long long)sb.st_size);
    for (i = 0; i < n_outside; i++)
        CHECK(sb.st_dev != outside[i].st_dev || sb.st_ino != outside[i].st_ino,
              "\"%s\": served an outside file (%s)", url, real);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char url[URL_MAX + 1];
    char rel[CFP_SERVER_PATH_MAX + 1];
    uint64_t fsize = UINT64_MAX;
    unsigned code;
    int fd = -1;

    if (!root[0])
        make_fixture();
    if (size > URL_MAX)
        size = URL_MAX;
    memcpy(url, data, size);
    url[size] = '\0';
    code = cfp_server_resolve(root, url, rel, &fd, &fsize);
    if (code == 200) {
        check_accepted(url, rel, fd, fsize);
        close(fd);
        return 0;
    }
    CHECK(code == 400 || code == 403 || code == 404, "\"%s\": status %u", url, code);
    CHECK(fd == -1 && fsize == UINT64_MAX, "\"%s\": status %u but outputs set", url, code);
    return 0;
}
