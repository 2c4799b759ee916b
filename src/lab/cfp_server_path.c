/* cfp_server_path.c - the server's request path: percent-decoding, segment
 * checks, resolution under the served root (no escape by "..", symlinks or
 * encoded slashes) and the Content-Type by extension. Split from
 * cfp_server.c; declared in cfp_server_internal.h (resolution, for the tests
 * and the fuzz target) and cfp_server.h (the content type). */
#include "lab/cfp_server_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Returns 0 when every segment of path ("/a/b") is non-empty and not "." or
 * ".."; "/" alone is allowed (it names the root, answered 403). Else 400. */
static unsigned check_segments(const char *path)
{
    const char *seg = path + 1;
    const char *end;
    size_t len;

    if (*seg == '\0')
        return 0;
    for (;;) {
        end = strchr(seg, '/');
        len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || (len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return 400;
        if (!end)
            return 0;
        seg = end + 1;
    }
}

/* Percent-decodes the raw request path url into out (cap bytes) exactly
 * once and checks it is a plain absolute path. Returns 0 or 400: bad escape,
 * NUL or other control byte, backslash, not starting with '/' (absolute-form
 * "http://..." targets included), too long, or a bad segment. */
static unsigned decode_path(const char *url, char *out, size_t cap)
{
    const char *p;
    size_t n = 0;
    int ch, hi, lo;

    if (url[0] != '/')
        return 400;
    for (p = url; *p; p++) {
        ch = (unsigned char)*p;
        if (ch == '%') {
            /* p[2] is read only when p[1] is a hex digit, hence not the NUL. */
            if ((hi = hexval(p[1])) < 0 || (lo = hexval(p[2])) < 0)
                return 400;
            ch = hi * 16 + lo;
            p += 2;
        }
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return 400;
        if (n + 1 >= cap)
            return 400;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return check_segments(out);
}

static unsigned errno_status(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return 404;
    case EACCES:
    case EPERM:
    case ELOOP:
        return 403;
    case ENAMETOOLONG:
        return 400;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
        return 503;
    default:
        return 500;
    }
}

/* True when the resolved path real is the root (root_len bytes) or below it.
 * The '/' check keeps "/srv/root2" from passing as inside "/srv/root". */
static bool under_root(const char *root, size_t root_len, const char *real)
{
    if (root_len == 1)
        return real[0] == '/';
    return strncmp(real, root, root_len) == 0 && (real[root_len] == '/' || real[root_len] == '\0');
}

/* Opens the regular file named by the decoded path rel under root.
 * Returns 200 with *fd (caller closes) and *size set, or an HTTP status.
 * Anything resolving outside the root is 404, as if it did not exist.
 * stat() before open() keeps us from opening devices or FIFOs at all;
 * O_NOFOLLOW and the fstat() identity check catch the file swapped for a
 * symlink or another file in between (the realpath has no symlink left, so
 * any symlink is a swap). */
static unsigned open_file(const char *root, const char *rel, int *fd, uint64_t *size)
{
    char full[PATH_MAX], real[PATH_MAX];
    size_t root_len = strlen(root);
    struct stat sb, fsb;
    int n, f;

    n = snprintf(full, sizeof(full), "%s%s", root_len == 1 ? "" : root, rel);
    if (n < 0 || (size_t)n >= sizeof(full))
        return 400;
    if (!realpath(full, real))
        return errno_status(errno);
    if (!under_root(root, root_len, real))
        return 404;
    if (stat(real, &sb) != 0)
        return errno_status(errno);
    if (!S_ISREG(sb.st_mode))
        return 403;
    f = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (f < 0)
        return errno_status(errno);
    if (fstat(f, &fsb) != 0 || !S_ISREG(fsb.st_mode) || fsb.st_size < 0 ||
        fsb.st_dev != sb.st_dev || fsb.st_ino != sb.st_ino) {
        close(f);
        return 403;
    }
    *fd = f;
    *size = (uint64_t)fsb.st_size;
    return 200;
}

unsigned cfp_server_resolve(const char *root, const char *url, char *rel, int *fd, uint64_t *size)
{
    unsigned code = decode_path(url, rel, CFP_SERVER_PATH_MAX + 1);

    return code != 0 ? code : open_file(root, rel, fd, size);
}

const char *cfp_server_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".png", "image/png"},
        {".txt", "text/plain; charset=utf-8"},
        {".csv", "text/csv"},
        {".json", "application/json"},
    };
    const char *dot = name ? strrchr(name, '.') : NULL;
    size_t i;

    if (dot && !strchr(dot, '/')) {
        for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    }
    return "application/octet-stream";
}

