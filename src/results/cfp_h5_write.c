/* cfp_h5_write.c - the results writer: file creation, run groups, batched
 * task rows. See cfp_h5.h for the contract and doc/hdf5-schema.md for the
 * layout. */
#include "results/cfp_h5.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "results/cfp_h5_schema.h"
#include "base/cfp_log.h"
#include "base/cfp_mem.h"

#ifndef CFP_VERSION
#error "CFP_VERSION must be defined (CMake does; direct compiles: -DCFP_VERSION=\"0.1.0\")"
#endif

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes (creating if needed) the scalar attribute name of loc. val points
 * to an int32_t, int64_t or double, or is the NUL-terminated UTF-8 string. */
static cfp_err put_attr(hid_t loc, const char *name, enum cfp_h5_kind kind, const void *val,
                        struct cfp_status *st)
{
    hid_t mtype = H5T_NATIVE_INT32, ftype = H5T_STD_I32LE, str = H5I_INVALID_HID;
    hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    const void *buf = val;
    cfp_err err = CFP_ERR_OK;
    htri_t exists;

    if (kind == CFP_H5_I64) {
        mtype = H5T_NATIVE_INT64;
        ftype = H5T_STD_I64LE;
    } else if (kind == CFP_H5_F64) {
        mtype = H5T_NATIVE_DOUBLE;
        ftype = H5T_IEEE_F64LE;
    } else if (kind == CFP_H5_STR) {
        mtype = ftype = str = cfp_h5__str_type();
        buf = &val; /* a variable-length string is passed as its char * */
    }
    exists = H5Aexists(loc, name);
    if (exists > 0) {
        attr = H5Aopen(loc, name, H5P_DEFAULT);
    } else if (exists == 0 && mtype >= 0) {
        space = H5Screate(H5S_SCALAR);
        attr = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    }
    if (mtype < 0 || attr < 0 || H5Awrite(attr, mtype, buf) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "write attribute %s", name);
    if (attr >= 0)
        H5Aclose(attr);
    if (space >= 0)
        H5Sclose(space);
    if (str >= 0)
        H5Tclose(str);
    return err;
}

/* Writes every run attribute from info, with complete as given. Strings are
 * copied so they can be made valid UTF-8 without touching the caller's. */
static cfp_err put_run_attrs(hid_t run, const struct cfp_run_info *info, int32_t complete,
                             struct cfp_status *st)
{
    char tmp[CFP_PATH_MAX];
    size_t i;
    cfp_err err = CFP_ERR_OK;

    for (i = 0; !err && i < cfp_h5__run_attr_count; i++) {
        const struct cfp_h5_attr *a = &cfp_h5__run_attrs[i];
        const char *field = (const char *)info + a->off;

        if (a->kind != CFP_H5_STR) {
            err = put_attr(run, a->name, a->kind,
                           strcmp(a->name, "complete") == 0 ? (const void *)&complete : field, st);
            continue;
        }
        if (a->size > sizeof(tmp) || !memchr(field, '\0', a->size))
            return cfp_status_set(st, CFP_ERR_USAGE, "run attribute %s: not NUL-terminated",
                                  a->name);
        memcpy(tmp, field, a->size);
        cfp_h5__utf8_sanitize(tmp);
        err = put_attr(run, a->name, CFP_H5_STR, tmp, st);
    }
    return err;
}

/* Allocates a handle with its row buffers and row type; no file yet. */
static cfp_err handle_new(const char *path, struct cfp_h5 **out, struct cfp_status *st)
{
    struct cfp_h5 *h = cfp_calloc(1, sizeof(*h));
    cfp_err err;

    if (!h)
        return cfp_status_set(st, CFP_ERR_NOMEM, "results file %s: out of memory", path);
    h->file = h->runs = h->run = h->tasks = H5I_INVALID_HID;
    h->path = cfp_strdup(path);
    h->buf = cfp_calloc(CFP_H5_BATCH, sizeof(*h->buf));
    h->rows = cfp_calloc(CFP_H5_BATCH, sizeof(*h->rows));
    if (!h->path || !h->buf || !h->rows) {
        err = cfp_status_set(st, CFP_ERR_NOMEM, "results file %s: out of memory", path);
        goto out_free_handle;
    }
    h->rowtype = cfp_h5__row_type(false);
    if (h->rowtype < 0) {
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: row type", path);
        goto out_free_handle;
    }
    *out = h;
    return CFP_ERR_OK;

out_free_handle:
    cfp_free(h->rows);
    cfp_free(h->buf);
    cfp_free(h->path);
    cfp_free(h);
    return err;
}

/* Closes the current run's objects (its attributes stay as last written). */
static void end_run(struct cfp_h5 *h)
{
    if (h->tasks >= 0)
        H5Dclose(h->tasks);
    if (h->run >= 0)
        H5Gclose(h->run);
    h->tasks = h->run = H5I_INVALID_HID;
    h->run_id[0] = '\0';
    h->nbuf = 0;
    h->nfile = 0;
    h->ranks_written = false;
}

/* Closes everything h still holds and frees it. */
static void handle_free(struct cfp_h5 *h)
{
    end_run(h);
    if (h->runs >= 0)
        H5Gclose(h->runs);
    if (h->file >= 0)
        H5Fclose(h->file);
    H5Tclose(h->rowtype);
    cfp_free(h->rows);
    cfp_free(h->buf);
    cfp_free(h->path);
    cfp_free(h);
}

/* HDF5 reports a missing directory as a flag dump; check it ourselves. */
static cfp_err check_parent(const char *path, struct cfp_status *st)
{
    char *dir = cfp_strdup(path);
    char *slash;
    struct stat sb;
    cfp_err err = CFP_ERR_OK;

    if (!dir)
        return cfp_status_set(st, CFP_ERR_NOMEM, "results file %s: out of memory", path);
    slash = strrchr(dir, '/');
    if (!slash)
        memcpy(dir, ".", 2); /* dir holds at least path's 1 char + NUL */
    else
        slash[slash == dir] = '\0'; /* keep "/" for a file in the root */
    if (stat(dir, &sb) != 0)
        err = cfp_status_set(st, CFP_ERR_IO, "results file %s: directory %s: %s", path, dir,
                             strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        err = cfp_status_set(st, CFP_ERR_IO, "results file %s: %s is not a directory", path, dir);
    cfp_free(dir);
    return err;
}

/* Creates a new results file with its root attributes and /runs; replace
 * is for an existing empty file. On error the half-made file is removed (or
 * made empty again). */
static cfp_err open_existing(struct cfp_h5 *h, struct cfp_status *st);

/* Creates the results file under a temporary name and moves it into place
 * once it holds its root attributes and /runs, so that a kill -9 at any
 * moment leaves either no file or a complete empty one (never a torn one
 * that --resume could not open). replace: path is an empty file to take
 * over. Then opens it like an existing file. */
static cfp_err create_file(struct cfp_h5 *h, bool replace, struct cfp_status *st)
{
    const int32_t version = CFP_H5_SCHEMA_VERSION;
    char tmp[CFP_PATH_MAX + 32];
    hid_t fapl, file, runs = H5I_INVALID_HID;
    cfp_err err = check_parent(h->path, st);

    if (err)
        return err;
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", h->path, (long)getpid());
    fapl = cfp_h5__fapl();
    if (fapl < 0)
        return cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: file access list", h->path);
    file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (file < 0)
        return cfp_h5__fail(st, CFP_ERR_HDF5, "create results file %s", h->path);
    err = put_attr(file, "schema_version", CFP_H5_I32, &version, st);
    if (!err)
        err = put_attr(file, "cfp_version", CFP_H5_STR, CFP_VERSION, st);
    if (!err) {
        runs = H5Gcreate2(file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (runs < 0)
            err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: create /runs", h->path);
    }
    if (runs >= 0)
        H5Gclose(runs);
    if (H5Fclose(file) < 0 && !err)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: close", h->path);
    /* link() fails if another process created path meanwhile (no clobber);
     * an empty file we were asked to take over is replaced by rename(). */
    if (!err && (replace ? rename(tmp, h->path) : link(tmp, h->path)) != 0)
        err = cfp_status_set(st, CFP_ERR_IO, "create results file %s: %s", h->path,
                             strerror(errno));
    (void)unlink(tmp); /* after link() (or a failure); gone after rename() */
    return err ? err : open_existing(h, st);
}

static cfp_err open_existing(struct cfp_h5 *h, struct cfp_status *st)
{
    cfp_err err = cfp_h5__open_file(h->path, H5F_ACC_RDWR, &h->file, st);
    htri_t has;

    if (err)
        return err;
    has = H5Lexists(h->file, "runs", H5P_DEFAULT);
    if (has > 0)
        h->runs = H5Gopen2(h->file, "runs", H5P_DEFAULT);
    else if (has == 0)
        h->runs = H5Gcreate2(h->file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (h->runs < 0) {
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: open /runs", h->path);
        H5Fclose(h->file);
        h->file = H5I_INVALID_HID;
    }
    return err;
}

cfp_err cfp_h5_open(const char *path, struct cfp_h5 **out, struct cfp_status *st)
{
    struct cfp_h5 *h = NULL;
    struct stat sb;
    cfp_err err;

    cfp_h5__quiet();
    if (!path || !path[0] || !out)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_open: no path");
    err = handle_new(path, &h, st);
    if (err)
        return err;
    /* An empty file holds nothing to lose (mktemp, touch): make it ours.
     * HDF5 would otherwise turn it into an empty HDF5 file on open. */
    if (stat(path, &sb) != 0) {
        int e = errno;
        err = e == ENOENT
                  ? create_file(h, false, st)
                  : cfp_status_set(st, CFP_ERR_IO, "results file %s: %s", path, strerror(e));
    } else if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
        err = create_file(h, true, st);
    } else {
        err = open_existing(h, st);
    }
    if (err) {
        handle_free(h);
        return err;
    }
    *out = h;
    return CFP_ERR_OK;
}

/* Keeps the highest NNNN of the "<NNNN>-<mode>" names seen. */
static herr_t max_seq(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    uint64_t *max = data;
    unsigned long long v;
    char *end;

    (void)g;
    (void)info;
    if (name[0] < '0' || name[0] > '9')
        return 0;
    errno = 0;
    v = strtoull(name, &end, 10);
    if (errno == 0 && *end == '-' && v > *max)
        *max = v;
    return 0;
}

/* The run's sequence number: one above the highest in the file, so an
 * earlier run is never overwritten even if some were deleted. */
static cfp_err next_seq(struct cfp_h5 *h, uint64_t *seq, struct cfp_status *st)
{
    uint64_t max = 0;

    if (H5Literate(h->runs, H5_INDEX_NAME, H5_ITER_INC, NULL, max_seq, &max) < 0)
        return cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: list /runs", h->path);
    if (max >= INT64_MAX)
        return cfp_status_set(st, CFP_ERR_TOO_BIG, "results file %s: run numbers exhausted",
                              h->path);
    *seq = max + 1;
    return CFP_ERR_OK;
}

/* Creates run/tasks: empty, extensible, chunked (a chunked layout is what
 * lets the dataset grow), with a packed copy of the row type on disk. */
static cfp_err create_tasks(struct cfp_h5 *h, hid_t run, hid_t *out, struct cfp_status *st)
{
    hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = CFP_H5_CHUNK_ROWS;
    hid_t ftype, space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, ds = H5I_INVALID_HID;

    ftype = H5Tcopy(h->rowtype);
    if (ftype >= 0 && H5Tpack(ftype) >= 0) {
        space = H5Screate_simple(1, &dims, &maxdims);
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
    }
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0)
        ds = H5Dcreate2(run, "tasks", ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) {
        cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: create tasks dataset", h->path);
    } else if (cfp_h5__doc_tasks(ds) < 0) {
        cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: document tasks dataset", h->path);
        H5Dclose(ds);
        ds = H5I_INVALID_HID;
    }
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (ds < 0)
        return CFP_ERR_HDF5;
    *out = ds;
    return CFP_ERR_OK;
}

cfp_err cfp_h5_run_begin(struct cfp_h5 *h, const struct cfp_run_info *info, char *run_id,
                         size_t run_id_size, struct cfp_status *st)
{
    char id[CFP_H5_RUN_ID_MAX];
    hid_t run, ds = H5I_INVALID_HID;
    uint64_t seq = 0;
    cfp_err err;
    int n;

    cfp_h5__quiet();
    if (!h || !info || !run_id)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_run_begin: NULL argument");
    if (h->run >= 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: run %s is still open", h->path,
                              h->run_id);
    if (!cfp_h5__valid_name(info->mode, sizeof(info->mode) - 1))
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: invalid run mode '%.31s'",
                              h->path, info->mode);
    err = next_seq(h, &seq, st);
    if (err)
        return err;
    n = snprintf(id, sizeof(id), "%04" PRIu64 "-%s", seq, info->mode);
    if (n < 0 || (size_t)n >= sizeof(id) || (size_t)n >= run_id_size)
        return cfp_status_set(st, CFP_ERR_USAGE, "run id %s: buffer of %zu bytes too small", id,
                              run_id_size);
    run = H5Gcreate2(h->runs, id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (run < 0)
        return cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: create run %s", h->path, id);
    err = put_run_attrs(run, info, 0, st);
    if (!err)
        err = create_tasks(h, run, &ds, st);
    if (!err && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: flush", h->path);
    if (err)
        goto out_delete_run;
    h->run = run;
    h->tasks = ds;
    memcpy(h->run_id, id, (size_t)n + 1);
    h->nbuf = 0;
    h->nfile = 0;
    h->last_write = now_s();
    memcpy(run_id, id, (size_t)n + 1);
    return CFP_ERR_OK;

out_delete_run:
    if (ds >= 0)
        H5Dclose(ds);
    H5Gclose(run);
    (void)H5Ldelete(h->runs, id, H5P_DEFAULT);
    return err;
}

cfp_err cfp_h5_run_reopen(struct cfp_h5 *h, const char *run_id, struct cfp_status *st)
{
    static const int32_t zero = 0;
    hid_t run, ds = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hsize_t n = 0;
    cfp_err err = CFP_ERR_OK;

    cfp_h5__quiet();
    if (!h || !run_id)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_run_reopen: NULL argument");
    if (h->run >= 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: run %s is still open", h->path,
                              h->run_id);
    if (strlen(run_id) >= sizeof(h->run_id) || H5Lexists(h->runs, run_id, H5P_DEFAULT) <= 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: no run %s", h->path, run_id);
    run = H5Gopen2(h->runs, run_id, H5P_DEFAULT);
    if (run >= 0)
        ds = H5Dopen2(run, "tasks", H5P_DEFAULT);
    if (ds >= 0)
        space = H5Dget_space(ds);
    if (space < 0 || H5Sget_simple_extent_dims(space, &n, NULL) != 1)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: reopen run %s", h->path, run_id);
    if (!err)
        err = put_attr(run, "complete", CFP_H5_I32, &zero, st);
    if (!err && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: flush", h->path);
    if (space >= 0)
        H5Sclose(space);
    if (err) {
        if (ds >= 0)
            H5Dclose(ds);
        if (run >= 0)
            H5Gclose(run);
        return err;
    }
    h->run = run;
    h->tasks = ds;
    memcpy(h->run_id, run_id, strlen(run_id) + 1);
    h->nbuf = 0;
    h->nfile = n;
    h->ranks_written = H5Lexists(run, "ranks", H5P_DEFAULT) > 0;
    h->last_write = now_s();
    return CFP_ERR_OK;
}

/* Points row at rec's strings; rec must outlive the write. */
static void row_from_record(struct cfp_h5_row *row, const struct cfp_record *rec)
{
    row->index = rec->index;
    row->url = rec->url;
    row->kind = rec->kind;
    row->status = cfp_record_status(rec);
    row->error_code = cfp_errname(rec->code);
    row->error = rec->error;
    row->http_status = rec->http_status;
    row->attempts = rec->attempts;
    row->bytes_in = rec->bytes_in;
    row->bytes_out = rec->bytes_out;
    row->output = rec->output;
    row->digest = rec->digest;
    row->host = rec->host;
    row->rank = rec->rank;
    row->worker = rec->worker;
    row->t_start = rec->t_start;
    row->t_fetch = rec->t_fetch;
    row->t_process = rec->t_process;
    row->t_write = rec->t_write;
    row->width_in = rec->width_in;
    row->height_in = rec->height_in;
    row->width_out = rec->width_out;
    row->height_out = rec->height_out;
    row->lines = rec->lines;
    row->words = rec->words;
    row->chars = rec->chars;
    row->rows = rec->rows;
    row->cols = rec->cols;
}

/* Appends the buffered rows at the end of the tasks dataset and flushes the
 * file. The rows go to a fixed position (nfile..), so after a failure the
 * retry overwrites rather than duplicates them. */
static cfp_err write_batch(struct cfp_h5 *h, struct cfp_status *st)
{
    hsize_t start = h->nfile, count = h->nbuf, size = h->nfile + h->nbuf;
    hid_t fspace, mspace = H5I_INVALID_HID, dxpl;
    cfp_err err = CFP_ERR_OK;
    size_t i;

    if (h->nbuf == 0)
        return CFP_ERR_OK;
    dxpl = cfp_h5__dxpl();
    for (i = 0; i < h->nbuf; i++)
        row_from_record(&h->rows[i], &h->buf[i]);
    fspace = H5Dset_extent(h->tasks, &size) < 0 ? H5I_INVALID_HID : H5Dget_space(h->tasks);
    if (fspace >= 0)
        mspace = H5Screate_simple(1, &count, NULL);
    if (mspace < 0 || dxpl < 0 ||
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
        H5Dwrite(h->tasks, h->rowtype, mspace, fspace, dxpl, h->rows) < 0 ||
        H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: run %s: write %zu task rows",
                           h->path, h->run_id, h->nbuf);
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (err)
        return err;
    h->nfile = size;
    h->nbuf = 0;
    h->last_write = now_s();
    return CFP_ERR_OK;
}

/* Copies r into the buffer, bounding and cleaning its strings: the record
 * may come from another rank as raw bytes. */
static void buffer_record(struct cfp_h5 *h, const struct cfp_record *r)
{
    struct cfp_record *b = &h->buf[h->nbuf++];
    char *s[] = {b->url, b->kind, b->error, b->output, b->digest, b->host};
    size_t n[] = {sizeof(b->url), sizeof(b->kind), sizeof(b->error), sizeof(b->output),
                  sizeof(b->digest), sizeof(b->host)};
    size_t i;

    memcpy(b, r, sizeof(*b));
    for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        s[i][n[i] - 1] = '\0';
        cfp_h5__utf8_sanitize(s[i]);
    }
}

cfp_err cfp_h5_append(struct cfp_h5 *h, const struct cfp_record *r, struct cfp_status *st)
{
    cfp_err err;

    cfp_h5__quiet();
    if (!h || !r)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_append: NULL argument");
    if (h->run < 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: append without a run", h->path);
    if (h->nbuf == CFP_H5_BATCH) {
        err = write_batch(h, st); /* a previous write failed: retry first */
        if (err)
            return err;
    }
    buffer_record(h, r);
    if (h->nbuf == CFP_H5_BATCH || now_s() - h->last_write > CFP_H5_FLUSH_S)
        return write_batch(h, st);
    return CFP_ERR_OK;
}

cfp_err cfp_h5_flush(struct cfp_h5 *h, struct cfp_status *st)
{
    cfp_err err = CFP_ERR_OK;

    cfp_h5__quiet();
    if (!h)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_flush: NULL handle");
    if (h->run >= 0)
        err = write_batch(h, st);
    if (!err && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: flush", h->path);
    return err;
}

cfp_err cfp_h5_run_update(struct cfp_h5 *h, const struct cfp_run_info *info, struct cfp_status *st)
{
    cfp_err err;

    cfp_h5__quiet();
    if (!h || !info || h->run < 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_run_update: no run");
    err = write_batch(h, st);
    if (!err)
        err = put_run_attrs(h->run, info, 0, st);
    if (!err && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: flush", h->path);
    return err;
}

cfp_err cfp_h5_run_end(struct cfp_h5 *h, const struct cfp_run_info *info, struct cfp_status *st)
{
    cfp_err err;

    cfp_h5__quiet();
    if (!h || !info)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_run_end: NULL argument");
    if (h->run < 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: run_end without a run", h->path);
    err = write_batch(h, st);
    if (!err)
        err = put_run_attrs(h->run, info, info->complete, st);
    if (!err && H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: flush", h->path);
    if (!err)
        end_run(h);
    return err;
}

void cfp_h5_close(struct cfp_h5 **ph)
{
    struct cfp_status st;
    struct cfp_h5 *h = NULL;

    if (!ph || !*ph)
        return;
    h = *ph;
    *ph = NULL;
    cfp_h5__quiet();
    cfp_status_clear(&st);
    /* A run still open was interrupted: keep its rows, leave complete=0. */
    if (h->run >= 0 && write_batch(h, &st) != CFP_ERR_OK)
        cfp_log(CFP_LOG_WARN, "%s", st.msg);
    end_run(h);
    H5Gclose(h->runs);
    h->runs = H5I_INVALID_HID;
    if (H5Fclose(h->file) < 0) {
        cfp_status_clear(&st);
        cfp_h5__fail(&st, CFP_ERR_HDF5, "close results file %s", h->path);
        cfp_log(CFP_LOG_WARN, "%s", st.msg);
    }
    h->file = H5I_INVALID_HID;
    handle_free(h);
}
