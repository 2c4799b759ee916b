/* cfp_h5_read.c - reading results files back (cfp report, tests). Files are
 * opened read-only; rows are read in fixed blocks so memory does not grow
 * with the size of a run. The file may come from elsewhere, so every string
 * is copied bounded and every missing piece is an error with a message, not
 * a crash. */
#include "results/cfp_h5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/cfp_h5_schema.h"
#include "base/cfp_mem.h"

/* More run groups than this in one file is not a cfp results file. */
#define MAX_RUNS 1000000

struct run_name {
    uint64_t seq;
    bool numbered; /* name is "<digits>-..." */
    char *name;
};

struct run_list {
    struct run_name *v;
    size_t n, cap;
    cfp_err err; /* why collect() stopped */
};

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    struct run_list *l = data;
    struct run_name *r;
    char *end;

    (void)g;
    (void)info;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        if (l->cap >= MAX_RUNS) {
            l->err = CFP_ERR_TOO_BIG;
            return -1;
        }
        r = cfp_realloc(l->v, cap * sizeof(*r));
        if (!r) {
            l->err = CFP_ERR_NOMEM;
            return -1;
        }
        l->v = r;
        l->cap = cap;
    }
    r = &l->v[l->n];
    r->name = cfp_strdup(name);
    if (!r->name) {
        l->err = CFP_ERR_NOMEM;
        return -1;
    }
    errno = 0;
    r->seq = strtoull(name, &end, 10);
    r->numbered = name[0] >= '0' && name[0] <= '9' && errno == 0 && *end == '-';
    l->n++;
    return 0;
}

/* Run order: by sequence number (so 10000-x follows 9999-x), then name. */
static int run_cmp(const void *pa, const void *pb)
{
    const struct run_name *a = pa, *b = pb;

    if (a->numbered != b->numbered)
        return a->numbered ? -1 : 1;
    if (a->numbered && a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void run_list_free(struct run_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        cfp_free(l->v[i].name);
    cfp_free(l->v);
}

static cfp_err list_runs(hid_t runs, const char *path, struct run_list *l, struct cfp_status *st)
{
    memset(l, 0, sizeof(*l));
    if (H5Literate(runs, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, l) < 0) {
        if (l->err == CFP_ERR_NOMEM)
            cfp_status_set(st, l->err, "results file %s: list runs: out of memory", path);
        else if (l->err)
            cfp_status_set(st, l->err, "results file %s: more than %d runs", path, MAX_RUNS);
        else
            l->err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: list /runs", path);
        run_list_free(l);
        return l->err;
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), run_cmp);
    return CFP_ERR_OK;
}

/* Copies the variable-length string attribute attr into dst (size bytes,
 * truncating). */
static cfp_err read_str_attr(hid_t attr, char *dst, size_t size)
{
    hid_t ftype = H5Aget_type(attr), mtype = H5I_INVALID_HID;
    char *s = NULL;
    cfp_err err = CFP_ERR_HDF5;

    if (ftype >= 0 && H5Tget_class(ftype) == H5T_STRING && H5Tis_variable_str(ftype) > 0)
        mtype = cfp_h5__str_type();
    if (mtype >= 0 && H5Aread(attr, mtype, &s) >= 0) {
        if (snprintf(dst, size, "%s", s ? s : "") < 0)
            dst[0] = '\0';
        H5free_memory(s);
        err = CFP_ERR_OK;
    }
    if (mtype >= 0)
        H5Tclose(mtype);
    if (ftype >= 0)
        H5Tclose(ftype);
    return err;
}

/* Fills *info from the attributes of run group g; absent ones stay 0/"". */
static cfp_err read_run_attrs(hid_t g, struct cfp_run_info *info, const char *where,
                              struct cfp_status *st)
{
    size_t i;

    memset(info, 0, sizeof(*info));
    for (i = 0; i < cfp_h5__run_attr_count; i++) {
        const struct cfp_h5_attr *a = &cfp_h5__run_attrs[i];
        char *field = (char *)info + a->off;
        htri_t has = H5Aexists(g, a->name);
        hid_t attr = has > 0 ? H5Aopen(g, a->name, H5P_DEFAULT) : H5I_INVALID_HID;
        hid_t mtype = a->kind == CFP_H5_I32   ? H5T_NATIVE_INT32
                      : a->kind == CFP_H5_I64 ? H5T_NATIVE_INT64
                                              : H5T_NATIVE_DOUBLE;
        herr_t rc = -1;

        if (has == 0)
            continue;
        if (attr >= 0 && a->kind == CFP_H5_STR)
            rc = read_str_attr(attr, field, a->size) == CFP_ERR_OK ? 0 : -1;
        else if (attr >= 0)
            rc = H5Aread(attr, mtype, field);
        if (rc < 0)
            cfp_h5__fail(st, CFP_ERR_HDF5, "%s: attribute %s", where, a->name);
        if (attr >= 0)
            H5Aclose(attr);
        if (rc < 0)
            return CFP_ERR_HDF5;
    }
    return CFP_ERR_OK;
}

static cfp_err visit_runs(hid_t runs, const struct run_list *l, const char *path,
                          int (*fn)(void *, const char *, const struct cfp_run_info *), void *ctx,
                          struct cfp_status *st)
{
    struct cfp_run_info info;
    char where[CFP_MSG_MAX];
    size_t i;

    for (i = 0; i < l->n; i++) {
        hid_t g = H5Gopen2(runs, l->v[i].name, H5P_DEFAULT);
        cfp_err err;

        if (snprintf(where, sizeof(where), "results file %s: run %s", path, l->v[i].name) < 0)
            where[0] = '\0';
        if (g < 0)
            return cfp_h5__fail(st, CFP_ERR_HDF5, "%s", where);
        err = read_run_attrs(g, &info, where, st);
        H5Gclose(g);
        if (err)
            return err;
        if (fn(ctx, l->v[i].name, &info) != 0)
            break;
    }
    return CFP_ERR_OK;
}

cfp_err cfp_h5_read_runs(const char *path,
                         int (*fn)(void *ctx, const char *run_id, const struct cfp_run_info *info),
                         void *ctx, struct cfp_status *st)
{
    struct run_list l;
    hid_t file, runs;
    htri_t has;
    cfp_err err;

    cfp_h5__quiet();
    if (!path || !fn)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_read_runs: NULL argument");
    err = cfp_h5__open_file(path, H5F_ACC_RDONLY, &file, st);
    if (err)
        return err;
    has = H5Lexists(file, "runs", H5P_DEFAULT);
    if (has == 0)
        goto out_close_file; /* a file with no run yet */
    runs = has > 0 ? H5Gopen2(file, "runs", H5P_DEFAULT) : H5I_INVALID_HID;
    if (runs < 0) {
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: open /runs", path);
        goto out_close_file;
    }
    err = list_runs(runs, path, &l, st);
    if (!err) {
        err = visit_runs(runs, &l, path, fn, ctx, st);
        run_list_free(&l);
    }
    H5Gclose(runs);
out_close_file:
    H5Fclose(file);
    return err;
}

/* Bounded copy; a NULL string (possible in files from other writers) is "". */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

static cfp_err code_from_row(const struct cfp_h5_row *row)
{
    int e;

    if (row->status && strcmp(row->status, "ok") == 0)
        return CFP_ERR_OK;
    for (e = 1; e < CFP_ERR_COUNT_; e++)
        if (row->error_code && strcmp(row->error_code, cfp_errname((cfp_err)e)) == 0)
            return (cfp_err)e;
    return CFP_ERR_INTERNAL; /* failed, but with a code this cfp does not know */
}

static void record_from_row(struct cfp_record *r, const struct cfp_h5_row *row)
{
    memset(r, 0, sizeof(*r));
    r->index = row->index;
    copy_str(r->url, sizeof(r->url), row->url);
    copy_str(r->kind, sizeof(r->kind), row->kind);
    r->code = code_from_row(row);
    copy_str(r->error, sizeof(r->error), row->error);
    r->http_status = row->http_status;
    r->attempts = row->attempts;
    r->bytes_in = row->bytes_in;
    r->bytes_out = row->bytes_out;
    copy_str(r->output, sizeof(r->output), row->output);
    copy_str(r->digest, sizeof(r->digest), row->digest);
    copy_str(r->host, sizeof(r->host), row->host); /* "" in files from before the column */
    r->rank = row->rank;
    r->worker = row->worker;
    r->t_start = row->t_start;
    r->t_fetch = row->t_fetch;
    r->t_process = row->t_process;
    r->t_write = row->t_write;
    r->width_in = row->width_in;
    r->height_in = row->height_in;
    r->width_out = row->width_out;
    r->height_out = row->height_out;
    r->lines = row->lines;
    r->words = row->words;
    r->chars = row->chars;
    r->rows = row->rows;
    r->cols = row->cols;
}

/* State of one read_tasks call. */
struct reader {
    hid_t ds, fspace, rowtype;
    struct cfp_h5_row *rows; /* CFP_H5_READ_ROWS */
    struct cfp_record *rec;
    const char *where;
    int (*fn)(void *ctx, const struct cfp_record *r);
    void *ctx;
    bool brief; /* url, error and output not read */
};

/* Reads rows [off, off + cnt) and hands them to fn; *stop is set when fn
 * asks to stop. The strings HDF5 allocated are freed before returning. */
static cfp_err read_block(struct reader *rd, hsize_t off, hsize_t cnt, int *stop,
                          struct cfp_status *st)
{
    hid_t mspace = H5Screate_simple(1, &cnt, NULL), dxpl = cfp_h5__dxpl();
    cfp_err err = CFP_ERR_OK;
    hsize_t i;

    if (mspace < 0 || dxpl < 0) {
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "%s: read rows", rd->where);
        goto out;
    }
    /* Zeroed so that a failed or partial read leaves only NULLs or HDF5's
     * own allocations for the reclaim below. */
    memset(rd->rows, 0, (size_t)cnt * sizeof(*rd->rows));
    if (H5Sselect_hyperslab(rd->fspace, H5S_SELECT_SET, &off, NULL, &cnt, NULL) < 0 ||
        H5Dread(rd->ds, rd->rowtype, mspace, rd->fspace, dxpl, rd->rows) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "%s: read rows %llu..%llu", rd->where,
                           (unsigned long long)off, (unsigned long long)(off + cnt - 1));
    for (i = 0; !err && !*stop && i < cnt; i++) {
        record_from_row(rd->rec, &rd->rows[i]);
        *stop = rd->fn(rd->ctx, rd->rec);
    }
    (void)CFP_H5_RECLAIM(rd->rowtype, mspace, H5P_DEFAULT, rd->rows);
out:
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (mspace >= 0)
        H5Sclose(mspace);
    return err;
}

static cfp_err read_all(struct reader *rd, struct cfp_status *st)
{
    hsize_t n = 0, off;
    cfp_err err = CFP_ERR_OK;
    int stop = 0;

    rd->fspace = H5Dget_space(rd->ds);
    if (rd->fspace < 0 || H5Sget_simple_extent_ndims(rd->fspace) != 1 ||
        H5Sget_simple_extent_dims(rd->fspace, &n, NULL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "%s: tasks is not a 1-D dataset", rd->where);
    rd->rowtype = err ? H5I_INVALID_HID : cfp_h5__row_type(rd->brief);
    if (!err && rd->rowtype < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "%s: row type", rd->where);
    if (!err) {
        rd->rows = cfp_calloc(CFP_H5_READ_ROWS, sizeof(*rd->rows));
        rd->rec = cfp_malloc(sizeof(*rd->rec));
        if (!rd->rows || !rd->rec)
            err = cfp_status_set(st, CFP_ERR_NOMEM, "%s: out of memory", rd->where);
    }
    for (off = 0; !err && !stop && off < n; off += CFP_H5_READ_ROWS)
        err =
            read_block(rd, off, n - off < CFP_H5_READ_ROWS ? n - off : CFP_H5_READ_ROWS, &stop, st);
    cfp_free(rd->rec);
    cfp_free(rd->rows);
    if (rd->rowtype >= 0)
        H5Tclose(rd->rowtype);
    if (rd->fspace >= 0)
        H5Sclose(rd->fspace);
    return err;
}

/* Opens runs/<run_id>/tasks; a missing run is the caller's mistake (USAGE). */
static cfp_err open_tasks(hid_t file, const char *run_id, const char *where, hid_t *ds,
                          struct cfp_status *st)
{
    char p[CFP_H5_RUN_ID_MAX + 16];
    htri_t has = H5Lexists(file, "runs", H5P_DEFAULT);

    if (snprintf(p, sizeof(p), "runs/%s", run_id) < 0)
        return cfp_status_set(st, CFP_ERR_INTERNAL, "%s: run path", where);
    if (has > 0)
        has = H5Lexists(file, p, H5P_DEFAULT);
    if (has == 0)
        return cfp_status_set(st, CFP_ERR_USAGE, "%s: no such run", where);
    if (has > 0 && snprintf(p, sizeof(p), "runs/%s/tasks", run_id) > 0)
        has = H5Lexists(file, p, H5P_DEFAULT);
    if (has == 0)
        return cfp_status_set(st, CFP_ERR_HDF5, "%s: run has no tasks dataset", where);
    *ds = has > 0 ? H5Dopen2(file, p, H5P_DEFAULT) : H5I_INVALID_HID;
    if (*ds < 0)
        return cfp_h5__fail(st, CFP_ERR_HDF5, "%s: open tasks", where);
    return CFP_ERR_OK;
}

static cfp_err read_tasks(const char *path, const char *run_id, bool brief,
                          int (*fn)(void *ctx, const struct cfp_record *r), void *ctx,
                          struct cfp_status *st)
{
    struct reader rd;
    char where[CFP_MSG_MAX];
    hid_t file;
    cfp_err err;

    cfp_h5__quiet();
    if (!path || !run_id || !fn)
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_read_tasks: NULL argument");
    if (!cfp_h5__valid_name(run_id, CFP_H5_RUN_ID_MAX - 1))
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: invalid run id '%.64s'", path,
                              run_id);
    if (snprintf(where, sizeof(where), "results file %s: run %s", path, run_id) < 0)
        where[0] = '\0';
    err = cfp_h5__open_file(path, H5F_ACC_RDONLY, &file, st);
    if (err)
        return err;
    memset(&rd, 0, sizeof(rd));
    rd.where = where;
    rd.fn = fn;
    rd.ctx = ctx;
    rd.brief = brief;
    err = open_tasks(file, run_id, where, &rd.ds, st);
    if (!err) {
        err = read_all(&rd, st);
        H5Dclose(rd.ds);
    }
    H5Fclose(file);
    return err;
}

cfp_err cfp_h5_read_tasks(const char *path, const char *run_id,
                          int (*fn)(void *ctx, const struct cfp_record *r), void *ctx,
                          struct cfp_status *st)
{
    return read_tasks(path, run_id, false, fn, ctx, st);
}

cfp_err cfp_h5_read_tasks_brief(const char *path, const char *run_id,
                                int (*fn)(void *ctx, const struct cfp_record *r), void *ctx,
                                struct cfp_status *st)
{
    return read_tasks(path, run_id, true, fn, ctx, st);
}
