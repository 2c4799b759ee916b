/* cfp_out.c - safe output names and atomic output files. */
#include "task/cfp_out.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_mem.h"
#include "task/cfp_record.h"
#include "base/cfp_sha256.h"
#include "task/cfp_watch.h"

#define OUT_STEM_MAX 80
#define OUT_BUF_SIZE 65536

struct cfp_out {
    int fd;
    char tmp[CFP_PATH_MAX];
    char final[CFP_PATH_MAX];
    struct cfp_sha256 sha;
    int64_t size;
    double seconds;
    size_t fill;
    cfp_err err; /* first write error, reported at commit */
    char errmsg[CFP_MSG_MAX];
    unsigned char buf[OUT_BUF_SIZE];
};

/* Distinguishes temporary names of outputs written concurrently by threads of
 * one process; the pid distinguishes processes (MPI ranks). */
static atomic_uint out_seq;

static bool safe_byte(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

const char *cfp_out_url_segment(const char *url, size_t *len)
{
    const char *p = strstr(url, "://");
    const char *end, *seg;

    p = p ? p + 3 : url;
    end = p + strcspn(p, "?#");
    seg = p;
    for (const char *q = p; q < end; q++)
        if (*q == '/')
            seg = q + 1;
    if (seg == p && strstr(url, "://"))
        seg = end; /* only an authority: no name */
    *len = (size_t)(end - seg);
    return seg;
}

void cfp_out_name(int64_t index, const char *url, const char *ext, char *name, size_t size)
{
    char stem[OUT_STEM_MAX + 1];
    size_t len, n = 0, i, fixed;
    const char *seg = cfp_out_url_segment(url, &len);
    const char *dot = NULL;
    int head = snprintf(NULL, 0, "%06lld_", (long long)index);

    for (i = 0; i < len; i++)
        if (seg[i] == '.')
            dot = seg + i;
    if (dot && dot > seg)
        len = (size_t)(dot - seg);
    for (i = 0; i < len && n < OUT_STEM_MAX; i++) {
        unsigned char c = (unsigned char)seg[i];
        if (n == 0 && c == '.')
            continue;
        stem[n++] = safe_byte(c) ? (char)c : '_';
    }
    stem[n] = '\0';
    if (n == 0)
        memcpy(stem, "file", 5);
    /* Cut the stem to what the index, '.', ext and NUL leave, so that a
     * small buffer never loses the extension (at size 32 a fixed 32-byte
     * reserve left no stem, and snprintf then cut the extension). */
    fixed = (head > 0 ? (size_t)head : 0) + strlen(ext) + 2;
    if (size > fixed && strlen(stem) > size - fixed)
        stem[size - fixed] = '\0';
    (void)snprintf(name, size, "%06lld_%s.%s", (long long)index, stem, ext);
}

static bool is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

cfp_err cfp_mkdirs(const char *dir, struct cfp_status *st)
{
    char buf[CFP_PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(buf))
        return cfp_status_set(st, CFP_ERR_IO, "mkdir '%s': empty or longer than %d bytes", dir,
                              CFP_PATH_MAX - 1);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0) {
            int e = errno;
            /* An existing non-directory is reported as ENOTDIR, the same
             * message as for a path running through a regular file. */
            if (e != EEXIST || !is_dir(buf))
                return cfp_status_set(st, CFP_ERR_IO, "mkdir %s: %s", buf,
                                      strerror(e == EEXIST ? ENOTDIR : e));
        }
        buf[i] = i < n ? '/' : '\0';
    }
    return CFP_ERR_OK;
}

cfp_err cfp_out_open(const char *dir, const char *name, struct cfp_out **out,
                     struct cfp_status *st)
{
    struct cfp_out *o = cfp_malloc(sizeof(*o));
    int n1, n2;

    if (!o)
        return cfp_status_set(st, CFP_ERR_NOMEM, "output %s: out of memory", name);
    n1 = snprintf(o->final, sizeof(o->final), "%s/%s", dir, name);
    /* The host name lets cfp_out_sweep() tell its own host's leftovers from
     * files other nodes are writing into a shared output dir. */
    n2 = snprintf(o->tmp, sizeof(o->tmp), "%s/.%s.tmp-%ld-%u@%s", dir, name, (long)getpid(),
                  atomic_fetch_add(&out_seq, 1), cfp_host_name());
    if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(o->final) || (size_t)n2 >= sizeof(o->tmp)) {
        cfp_free(o);
        return cfp_status_set(st, CFP_ERR_IO, "output %s/%s: path too long", dir, name);
    }
    o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    cfp_watch_checkpoint(); /* a hung output dir: parks if the task was given up */
    if (o->fd < 0) {
        cfp_status_set(st, CFP_ERR_IO, "create %s: %s", o->tmp, strerror(errno));
        cfp_free(o);
        return CFP_ERR_IO;
    }
    if (cfp_sha256_init(&o->sha) != CFP_ERR_OK) {
        close(o->fd);
        (void)unlink(o->tmp);
        cfp_free(o);
        return cfp_status_set(st, CFP_ERR_NOMEM, "output %s: SHA-256: out of memory", name);
    }
    o->size = 0;
    o->seconds = 0;
    o->fill = 0;
    o->err = CFP_ERR_OK;
    o->errmsg[0] = '\0';
    *out = o;
    return CFP_ERR_OK;
}

/* Records the first I/O failure of o ("write /out/x.png: No space left"). */
static cfp_err out_fail(struct cfp_out *o, const char *what, const char *path, int errnum)
{
    /* Truncation keeps the start of a long path; the message is bounded. */
    if (snprintf(o->errmsg, sizeof(o->errmsg), "%s %s: %s", what, path, strerror(errnum)) < 0)
        o->errmsg[0] = '\0';
    o->err = CFP_ERR_IO;
    return o->err;
}

static cfp_err drain(struct cfp_out *o)
{
    size_t off = 0;

    while (off < o->fill) {
        ssize_t w = write(o->fd, o->buf + off, o->fill - off);
        cfp_watch_checkpoint();
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return out_fail(o, "write", o->final, errno); /* the name users know */
        off += (size_t)w;
    }
    o->fill = 0;
    return CFP_ERR_OK;
}

cfp_err cfp_out_cause(const struct cfp_out *o, struct cfp_status *st)
{
    if (!o || !o->err)
        return CFP_ERR_OK;
    /* The processor that called cfp_out_write() said only "writing output:
     * I/O error"; the root cause (ENOSPC, EFBIG...) is here. */
    cfp_status_clear(st);
    return cfp_status_set(st, o->err, "%s", o->errmsg[0] ? o->errmsg : cfp_strerror(o->err));
}

cfp_err cfp_out_write(void *ctx, const void *data, size_t len)
{
    struct cfp_out *o = ctx;
    const unsigned char *p = data;
    double t0 = cfp_now();

    if (o->err)
        return o->err;
    cfp_sha256_update(&o->sha, data, len);
    o->size += (int64_t)len;
    while (len > 0) {
        size_t take = OUT_BUF_SIZE - o->fill;
        if (take > len)
            take = len;
        memcpy(o->buf + o->fill, p, take);
        o->fill += take, p += take, len -= take;
        if (o->fill == OUT_BUF_SIZE && drain(o))
            break;
    }
    o->seconds += cfp_now() - t0;
    return o->err;
}

cfp_err cfp_out_commit(struct cfp_out **po, char path[CFP_PATH_MAX], char digest[CFP_DIGEST_HEX],
                       int64_t *size, struct cfp_status *st)
{
    struct cfp_out *o = *po;
    double t0 = cfp_now();
    char hex[CFP_DIGEST_HEX];
    cfp_err err;

    cfp_watch_stage("writing the output");
    err = o->err ? o->err : drain(o);
    if (err)
        goto out_abort;
    if (close(o->fd) != 0) {
        o->fd = -1;
        err = out_fail(o, "close", o->tmp, errno);
        goto out_abort;
    }
    o->fd = -1;
    if (cfp_sha256_final_hex(&o->sha, hex) != CFP_ERR_OK) {
        (void)snprintf(o->errmsg, sizeof(o->errmsg), "SHA-256 of %.400s: libcrypto failed", o->final);
        err = CFP_ERR_INTERNAL;
        goto out_abort;
    }
    /* Last chance before the output becomes visible under its name: a task
     * given up as stuck meanwhile has its record already, and no output. */
    cfp_watch_checkpoint();
    if (rename(o->tmp, o->final) != 0) {
        err = out_fail(o, "rename", o->final, errno);
        goto out_abort;
    }
    o->seconds += cfp_now() - t0;
    memcpy(path, o->final, CFP_PATH_MAX);
    memcpy(digest, hex, CFP_DIGEST_HEX);
    *size = o->size;
    cfp_free(o);
    *po = NULL;
    return CFP_ERR_OK;

out_abort:
    cfp_status_set(st, err, "%s", o->errmsg);
    cfp_out_abort(po);
    return err;
}

void cfp_out_abort(struct cfp_out **po)
{
    struct cfp_out *o = po ? *po : NULL;

    if (!o)
        return;
    if (o->fd >= 0)
        close(o->fd);
    (void)unlink(o->tmp);
    cfp_sha256_free(&o->sha);
    cfp_free(o);
    *po = NULL;
}

double cfp_out_seconds(const struct cfp_out *o)
{
    return o ? o->seconds : 0.0;
}

int cfp_out_sweep(const char *dir)
{
    char path[CFP_PATH_MAX * 2];
    struct dirent *e;
    DIR *d = opendir(dir);
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        const char *t = e->d_name[0] == '.' ? strstr(e->d_name, ".tmp-") : NULL;
        const char *at = t ? strchr(t, '@') : NULL;
        char *end;
        long pid;

        if (!at || strcmp(at + 1, cfp_host_name()) != 0)
            continue; /* not a temporary file, or another host's */
        pid = strtol(t + 5, &end, 10);
        if (end == t + 5 || *end != '-' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno == EPERM)
            continue; /* its writer may still be running */
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        n += unlink(path) == 0;
    }
    closedir(d);
    return n;
}

cfp_err cfp_out_check_writable(const char *dir, struct cfp_status *st)
{
    struct cfp_out *o = NULL;
    char name[64];
    cfp_err err;

    (void)snprintf(name, sizeof(name), "write-check-%ld", (long)getpid());
    err = cfp_out_open(dir, name, &o, st);
    if (!err && cfp_out_write(o, "x", 1) != CFP_ERR_OK)
        err = cfp_status_set(st, CFP_ERR_IO, "output directory %s: cannot write: %s", dir,
                             strerror(errno));
    cfp_out_abort(&o);
    return err;
}
