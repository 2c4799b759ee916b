/* cfp_h5_ranks.c - the per-rank table of an MPI run (/runs/<id>/ranks: rank,
 * tasks, busy seconds, host), written once by rank 0 at the end of the run.
 * Split from cfp_h5_write.c; the layout is in doc/hdf5-schema.md. */
#include "results/cfp_h5.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "results/cfp_h5_schema.h"
#include "base/cfp_mem.h"

struct rank_row {
    int32_t rank;
    int64_t tasks;
    double busy_s;
    char host[CFP_HOST_MAX]; /* fixed-size: a rank's host even when none of its records were saved */
};

static hid_t rank_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct rank_row));
    hid_t str = H5Tcopy(H5T_C_S1);

    if (str < 0 || H5Tset_size(str, CFP_HOST_MAX) < 0 || H5Tset_strpad(str, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(str, H5T_CSET_UTF8) < 0 ||
        (t >= 0 &&
         (H5Tinsert(t, "rank", offsetof(struct rank_row, rank), H5T_NATIVE_INT32) < 0 ||
          H5Tinsert(t, "tasks", offsetof(struct rank_row, tasks), H5T_NATIVE_INT64) < 0 ||
          H5Tinsert(t, "busy_s", offsetof(struct rank_row, busy_s), H5T_NATIVE_DOUBLE) < 0 ||
          H5Tinsert(t, "host", offsetof(struct rank_row, host), str) < 0))) {
        H5Tclose(t);
        t = H5I_INVALID_HID;
    }
    if (str >= 0)
        H5Tclose(str);
    return t;
}

/* Creates run/ranks (contiguous, n rows) and writes rows into it. */
static cfp_err put_ranks(struct cfp_h5 *h, const struct rank_row *rows, hsize_t n,
                         struct cfp_status *st)
{
    hid_t mtype = rank_type(), ftype = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hid_t ds = H5I_INVALID_HID;
    cfp_err err = CFP_ERR_OK;

    if (mtype >= 0)
        ftype = H5Tcopy(mtype);
    if (ftype >= 0 && H5Tpack(ftype) >= 0)
        space = H5Screate_simple(1, &n, NULL);
    if (space >= 0)
        ds = H5Dcreate2(h->run, "ranks", ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || (n > 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) ||
        H5Fflush(h->file, H5F_SCOPE_LOCAL) < 0)
        err = cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: run %s: write ranks", h->path,
                           h->run_id);
    if (ds >= 0)
        H5Dclose(ds);
    if (space >= 0)
        H5Sclose(space);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (mtype >= 0)
        H5Tclose(mtype);
    return err;
}

cfp_err cfp_h5_write_ranks(struct cfp_h5 *h, const int32_t *rank, const int64_t *tasks,
                           const double *busy_s, const char (*host)[CFP_HOST_MAX], size_t n,
                           struct cfp_status *st)
{
    struct rank_row *rows;
    cfp_err err;
    size_t i;

    cfp_h5__quiet();
    if (!h || (n > 0 && (!rank || !tasks || !busy_s)))
        return cfp_status_set(st, CFP_ERR_USAGE, "cfp_h5_write_ranks: NULL argument");
    if (h->run < 0 || h->ranks_written)
        return cfp_status_set(st, CFP_ERR_USAGE, "results file %s: %s", h->path,
                              h->run < 0 ? "ranks without a run" : "ranks already written");
    if (n > SIZE_MAX / sizeof(*rows))
        return cfp_status_set(st, CFP_ERR_TOO_BIG, "results file %s: %zu ranks", h->path, n);
    rows = cfp_calloc(n, sizeof(*rows));
    if (!rows)
        return cfp_status_set(st, CFP_ERR_NOMEM, "results file %s: ranks: out of memory", h->path);
    for (i = 0; i < n; i++) {
        rows[i].rank = rank[i];
        rows[i].tasks = tasks[i];
        rows[i].busy_s = busy_s[i];
        if (host) {
            memcpy(rows[i].host, host[i], CFP_HOST_MAX);
            rows[i].host[CFP_HOST_MAX - 1] = '\0';
            cfp_h5__utf8_sanitize(rows[i].host);
        }
    }
    err = put_ranks(h, rows, (hsize_t)n, st);
    cfp_free(rows);
    if (!err)
        h->ranks_written = true;
    return err;
}

