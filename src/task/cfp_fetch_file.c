/* cfp_fetch_file.c - file:// URLs, read by cfp's own code.
 *
 * libcurl's file:// reader opens whatever the path names, blocking: a FIFO
 * with no writer held open() (and with it a thread, or the async engine's
 * whole event loop) for ever, past --task-timeout and past SIGTERM; a
 * directory or /dev/zero came back as a body with no type. Here the path is
 * opened with O_NONBLOCK (a FIFO's open returns at once), fstat() refuses
 * anything but a regular file before a byte is read (symlinks to regular
 * files are followed), --max-bytes is checked against the size fstat gives,
 * and the file is read in the chunks the HTTP path delivers, with the
 * task's deadline and a stop's grace checked between them. What no check
 * can bound (a read on a hung mount) is the watchdog's job (cfp_watch.h):
 * after every blocking call the thread passes a checkpoint. */
#include "task/cfp_fetch_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_mem.h"
#include "base/cfp_stop.h"
#include "task/cfp_watch.h"

/* Test hook: a file:// URL naming exactly this path is opened without
 * O_NONBLOCK and not type-checked, so a FIFO there blocks open() in the
 * kernel as a hung mount would (tests/e2e/e2e_stuck.py). */
#define HANG_ENV "CFP_TEST_HANG_OPEN"

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "directory" : S_ISFIFO(m) ? "FIFO" : S_ISCHR(m) ? "character device"
           : S_ISBLK(m) ? "block device" : S_ISSOCK(m) ? "socket" : "special file";
}

/* The local path of a file:// URL (percent-decoded), into *path (caller
 * frees with curl_free). libcurl's parser takes only local files (no host,
 * or "localhost"): cfp_fetch_check_url() has refused the others. */
static cfp_err file_path(const char *url, char **path, struct cfp_status *st)
{
    CURLU *u = curl_url();
    CURLUcode uc;

    *path = NULL;
    if (!u)
        return cfp_status_set(st, CFP_ERR_NOMEM, "GET %s: URL parser: out of memory", url);
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_PATH, path, CURLU_URLDECODE);
    curl_url_cleanup(u);
    if (uc != CURLUE_OK)
        return cfp_status_set(st, CFP_ERR_URL, "malformed URL '%s': %s", url,
                              curl_url_strerror(uc));
    return CFP_ERR_OK; /* libcurl refuses a %00, which would cut the path short */
}

/* Opens path for reading and checks it is a regular file within the limit;
 * *size is its size. */
static cfp_err file_open(const char *url, const char *path, const struct cfp_fetch_cfg *cfg,
                         int *fd, int64_t *size, struct cfp_status *st)
{
    const char *hang = getenv(HANG_ENV);
    bool hook = hang && strcmp(hang, path) == 0;
    struct stat sb;

    cfp_watch_stage("opening the file");
    do
        *fd = open(path, O_RDONLY | O_CLOEXEC | (hook ? 0 : O_NONBLOCK));
    while (*fd < 0 && errno == EINTR);
    cfp_watch_checkpoint();
    if (*fd < 0) {
        int e = errno;
        /* A socket cannot be opened at all (ENXIO): say what it is. */
        if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
            return cfp_status_set(st, CFP_ERR_NOT_FILE, "GET %s: not a regular file (%s)", url,
                                  file_kind(sb.st_mode));
        return cfp_status_set(st, CFP_ERR_IO, "GET %s: open %s: %s", url, path, strerror(e));
    }
    if (fstat(*fd, &sb) != 0) {
        cfp_err err = cfp_status_set(st, CFP_ERR_IO, "GET %s: fstat %s: %s", url, path,
                                     strerror(errno));
        close(*fd);
        return err;
    }
    if (!S_ISREG(sb.st_mode) && !hook) {
        close(*fd);
        return cfp_status_set(st, CFP_ERR_NOT_FILE, "GET %s: not a regular file (%s)", url,
                              file_kind(sb.st_mode));
    }
    if ((uint64_t)sb.st_size > cfg->max_bytes) {
        close(*fd);
        return cfp_status_set(st, CFP_ERR_TOO_BIG, "GET %s: body over --max-bytes %llu (file is "
                              "%lld bytes)", url, (unsigned long long)cfg->max_bytes,
                              (long long)sb.st_size);
    }
    *size = (int64_t)sb.st_size;
    return CFP_ERR_OK;
}

/* Reads fd to its end into sink, CFP_FETCH_CHUNK bytes at a time. */
static cfp_err file_read(const char *url, int fd, const struct cfp_fetch_cfg *cfg,
                         const struct cfp_fetch_sink *sink, double deadline, int64_t *bytes,
                         struct cfp_status *st)
{
    unsigned char *chunk = cfp_malloc(CFP_FETCH_CHUNK);
    cfp_err err = CFP_ERR_OK;

    if (!chunk)
        return cfp_status_set(st, CFP_ERR_NOMEM, "GET %s: read buffer: out of memory", url);
    cfp_watch_stage("reading the file");
    for (;;) {
        ssize_t n = read(fd, chunk, CFP_FETCH_CHUNK);
        cfp_watch_checkpoint();
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = cfp_status_set(st, CFP_ERR_IO, "GET %s: read: %s", url, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if ((uint64_t)*bytes + (uint64_t)n > cfg->max_bytes) { /* it grew while read */
            err = cfp_status_set(st, CFP_ERR_TOO_BIG, "GET %s: body over --max-bytes %llu", url,
                                 (unsigned long long)cfg->max_bytes);
            break;
        }
        *bytes += n;
        err = sink->data(sink->ctx, chunk, (size_t)n);
        if (err)
            break; /* the sink wrote its own message */
        if (deadline > 0 && cfp_now() >= deadline) {
            err = cfp_status_set(st, CFP_ERR_TIMEOUT, "GET %s: over --task-timeout %g s", url,
                                 cfg->task_timeout_s);
            break;
        }
        if (cfp_stop_abandon()) {
            err = cfp_status_set(st, CFP_ERR_STOPPED, "GET %s: abandoned: the run was stopped",
                                 url);
            break;
        }
    }
    cfp_free(chunk);
    return err;
}

cfp_err cfp_fetch_file(const char *url, const struct cfp_fetch_cfg *cfg,
                       const struct cfp_fetch_sink *sink, double deadline,
                       struct cfp_fetch_result *res, struct cfp_status *st)
{
    char *path = NULL;
    int64_t size = 0;
    int fd = -1;
    cfp_err err;

    memset(res, 0, sizeof(*res));
    res->attempts = 1;
    err = file_path(url, &path, st);
    if (err)
        return err;
    err = file_open(url, path, cfg, &fd, &size, st);
    if (err)
        goto out_free_path;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    err = sink->begin(sink->ctx, NULL, size);
    if (!err)
        err = file_read(url, fd, cfg, sink, deadline, &res->bytes, st);
    close(fd);
out_free_path:
    curl_free(path);
    return err;
}
