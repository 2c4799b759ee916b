/* cfp_h5_schema.c - what the results file looks like (row type, run
 * attributes) and the helpers writer and reader share: error messages from
 * the HDF5 error stack, opening with the schema check, name and UTF-8
 * checks. */
#include "results/cfp_h5_schema.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* clang-format off */
#define ATTR(field, kind)                                                              \
    {                                                                                  \
        #field, kind, offsetof(struct cfp_run_info, field),                            \
            sizeof(((struct cfp_run_info *)0)->field)                                  \
    }
/* clang-format on */

/* Run attributes in the order they are created (h5dump lists them by name).
 * Attributes added later go at the end; a file written before them reads
 * them as 0 / "" (cfp_h5_read.c skips absent ones), so older files stay
 * readable with no schema_version change. */
const struct cfp_h5_attr cfp_h5__run_attrs[] = {
    ATTR(mode, CFP_H5_STR),        ATTR(engine, CFP_H5_STR),     ATTR(workload, CFP_H5_STR),
    ATTR(started, CFP_H5_STR),     ATTR(input, CFP_H5_STR),      ATTR(output_dir, CFP_H5_STR),
    ATTR(ranks, CFP_H5_I32),       ATTR(workers, CFP_H5_I32),    ATTR(concurrency, CFP_H5_I32),
    ATTR(latency_ms, CFP_H5_I32),  ATTR(max_side, CFP_H5_I32),   ATTR(complete, CFP_H5_I32),
    ATTR(wall_s, CFP_H5_F64),      ATTR(cpu_user_s, CFP_H5_F64), ATTR(cpu_sys_s, CFP_H5_F64),
    ATTR(peak_rss_kb, CFP_H5_I64), ATTR(tasks, CFP_H5_I64),      ATTR(ok, CFP_H5_I64),
    ATTR(failed, CFP_H5_I64),      ATTR(bytes_in, CFP_H5_I64),   ATTR(bytes_out, CFP_H5_I64),
    ATTR(input_sha256, CFP_H5_STR), ATTR(shard, CFP_H5_STR),     ATTR(sessions, CFP_H5_I32),
    ATTR(cpus, CFP_H5_I32),        ATTR(cpus_source, CFP_H5_STR),
    ATTR(memory_budget, CFP_H5_I64), ATTR(memory_peak, CFP_H5_I64),
    ATTR(memory_source, CFP_H5_STR), ATTR(mpi_startup_s, CFP_H5_F64),
};
const size_t cfp_h5__run_attr_count = sizeof(cfp_h5__run_attrs) / sizeof(cfp_h5__run_attrs[0]);

/* clang-format off */
#define FIELD(name, kind, doc)                                                         \
    {                                                                                  \
        #name, offsetof(struct cfp_h5_row, name), kind, false, doc                     \
    }
#define TEXT(name, doc)                                                                \
    {                                                                                  \
        #name, offsetof(struct cfp_h5_row, name), CFP_H5_STR, true, doc                \
    }
#define NA "; -1 = not applicable"
/* clang-format on */

/* The tasks dataset's members, in file order, with the text of the
 * dataset's attribute of the same name ("<unit>: <meaning>", written by
 * cfp_h5__doc_tasks), so a file explains its columns to h5py users. One
 * table: a column and its documentation cannot drift apart. brief_skip
 * marks the long free-text strings a brief read (cfp_h5_read_tasks_brief)
 * leaves out. */
static const struct {
    const char *name;
    size_t off;
    enum cfp_h5_kind kind;
    bool brief_skip;
    const char *doc;
} row_fields[] = {
    FIELD(index, CFP_H5_I64, "count: 0-based position of the URL among the list's URL lines"),
    TEXT(url, "text: the URL"),
    FIELD(kind, CFP_H5_STR, "text: image, text, csv or unknown"),
    FIELD(status, CFP_H5_STR, "text: ok or failed"),
    FIELD(error_code, CFP_H5_STR, "text: stable error name, OK when ok (HTTP, TIMEOUT, ...)"),
    TEXT(error, "text: error message; empty when ok"),
    FIELD(http_status, CFP_H5_I32, "code: last HTTP status; 0 when there was none"),
    FIELD(attempts, CFP_H5_I32, "count: fetch attempts made (retries + 1)"),
    FIELD(bytes_in, CFP_H5_I64, "bytes: body bytes received"),
    FIELD(bytes_out, CFP_H5_I64, "bytes: size of the output file"),
    TEXT(output, "text: output file path; empty when failed"),
    FIELD(digest, CFP_H5_STR, "text: SHA-256 of the output file (hex); empty when failed"),
    FIELD(rank, CFP_H5_I32, "id: MPI rank that ran the task (0 for local runs)"),
    FIELD(worker, CFP_H5_I32, "id: worker thread within the rank"),
    FIELD(t_start, CFP_H5_F64, "seconds: start of the task since the run (rank) started"),
    FIELD(t_fetch, CFP_H5_F64, "seconds: duration of the download"),
    FIELD(t_process, CFP_H5_F64, "seconds: duration of the processing"),
    FIELD(t_write, CFP_H5_F64, "seconds: duration of writing the output"),
    FIELD(width_in, CFP_H5_I32, "pixels: image input width" NA),
    FIELD(height_in, CFP_H5_I32, "pixels: image input height" NA),
    FIELD(width_out, CFP_H5_I32, "pixels: image output width" NA),
    FIELD(height_out, CFP_H5_I32, "pixels: image output height" NA),
    FIELD(lines, CFP_H5_I64, "count: text lines" NA),
    FIELD(words, CFP_H5_I64, "count: text words" NA),
    FIELD(chars, CFP_H5_I64, "count: text characters (UTF-8 code points)" NA),
    FIELD(rows, CFP_H5_I64, "count: csv data rows" NA),
    FIELD(cols, CFP_H5_I64, "count: csv columns" NA),
    FIELD(host, CFP_H5_STR, "text: host name of the process that ran the task"),
};

int cfp_h5__doc_tasks(hid_t ds)
{
    hid_t str = cfp_h5__str_type(), space = H5Screate(H5S_SCALAR);
    size_t i;
    int rc = str >= 0 && space >= 0 ? 0 : -1;

    for (i = 0; rc == 0 && i < sizeof(row_fields) / sizeof(row_fields[0]); i++) {
        hid_t a = H5Acreate2(ds, row_fields[i].name, str, space, H5P_DEFAULT, H5P_DEFAULT);

        /* A variable-length string is written as a pointer to it. */
        if (a < 0 || H5Awrite(a, str, &row_fields[i].doc) < 0)
            rc = -1;
        if (a >= 0)
            H5Aclose(a);
    }
    if (space >= 0)
        H5Sclose(space);
    if (str >= 0)
        H5Tclose(str);
    return rc;
}

/* HDF5 recycles its internal blocks through free lists, by default at most
 * 64 KiB per list of fixed-size objects and 1 MiB per list of blocks of one
 * size (H5FL.c). The metadata cache it callocs on every file open (~0.5 MB)
 * and the global-heap collections that hold the strings are larger, so
 * each open got them in fresh pages from main.c's mmap threshold: ~130
 * page faults for the cache alone, 2-3 ms on the benchmark VM, and the
 * report opens the file once per run it reads. 2 MiB per object list (4
 * in all, HDF5: 1) and 4 MiB per block list (within HDF5's 16 in all), so
 * what is kept stays bounded: cfp report on a results file of 36 runs
 * 109 -> 91 ms. */
static void free_list_limits(void)
{
    (void)H5set_free_list_limits(4 << 20, 2 << 20, 4 << 20, 256 << 10, 16 << 20, 4 << 20);
}

void cfp_h5__quiet(void)
{
    (void)H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* What the HDF5 error stack says: the API call's message (top), the root
 * cause (deep) and the two causes users can act on. */
struct why {
    char top[192];
    char deep[320];
    unsigned depth;
    bool not_hdf5, locked;
};

static herr_t why_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    struct why *w = data;

    /* Truncated texts are still useful; the return values are checked
     * only to tell the compiler so. */
    if (n == 0 && snprintf(w->top, sizeof(w->top), "%s(): %s", e->func_name, e->desc) < 0)
        w->top[0] = '\0';
    if (snprintf(w->deep, sizeof(w->deep), "%s", e->desc) < 0)
        w->deep[0] = '\0';
    if (e->min_num == H5E_NOTHDF5)
        w->not_hdf5 = true;
#ifdef H5E_CANTLOCKFILE
    if (e->min_num == H5E_CANTLOCKFILE)
        w->locked = true;
#endif
    w->depth = n + 1;
    return 0;
}

cfp_err cfp_h5__fail(struct cfp_status *st, cfp_err code, const char *fmt, ...)
{
    char what[CFP_MSG_MAX];
    struct why w;
    va_list ap;

    memset(&w, 0, sizeof(w));
    (void)H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, why_walk, &w);
    va_start(ap, fmt);
    if (vsnprintf(what, sizeof(what), fmt, ap) < 0)
        what[0] = '\0';
    va_end(ap);
    if (w.not_hdf5)
        return cfp_status_set(st, code, "%s: not an HDF5 file", what);
    if (w.locked)
        return cfp_status_set(st, code,
                              "%s: file is locked, another process may be writing it (%s); "
                              "on filesystems without working locks set "
                              "HDF5_USE_FILE_LOCKING=FALSE",
                              what, w.deep);
    if (w.depth == 0)
        return cfp_status_set(st, code, "%s: HDF5 call failed", what);
    if (w.depth == 1)
        return cfp_status_set(st, code, "%s: %s", what, w.top);
    return cfp_status_set(st, code, "%s: %s: %s", what, w.top, w.deep);
}

hid_t cfp_h5__str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);

    if (t < 0)
        return H5I_INVALID_HID;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

hid_t cfp_h5__row_type(bool brief)
{
    hid_t row, str = cfp_h5__str_type();
    size_t i;

    if (str < 0)
        return H5I_INVALID_HID;
    row = H5Tcreate(H5T_COMPOUND, sizeof(struct cfp_h5_row));
    for (i = 0; row >= 0 && i < sizeof(row_fields) / sizeof(row_fields[0]); i++) {
        hid_t t;

        /* A member the memory type lacks is not read at all: HDF5 matches
         * members by name. */
        if (brief && row_fields[i].brief_skip)
            continue;
        t = row_fields[i].kind == CFP_H5_I32   ? H5T_NATIVE_INT32
            : row_fields[i].kind == CFP_H5_I64 ? H5T_NATIVE_INT64
            : row_fields[i].kind == CFP_H5_F64 ? H5T_NATIVE_DOUBLE
                                               : str;
        if (H5Tinsert(row, row_fields[i].name, row_fields[i].off, t) < 0) {
            H5Tclose(row);
            row = H5I_INVALID_HID;
        }
    }
    H5Tclose(str);
    return row;
}

hid_t cfp_h5__dxpl(void)
{
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);

    /* HDF5 converts rows through a 1 MiB buffer it callocs on every read
     * and write; over main.c's 256 KB mmap threshold each is a fresh
     * mapping, faulted in page by page (half a run's page faults over 60
     * images). 64 KiB holds 200 rows and comes from the heap. */
    if (dxpl >= 0 && H5Pset_buffer(dxpl, (size_t)64 << 10, NULL, NULL) < 0) {
        H5Pclose(dxpl);
        return H5I_INVALID_HID;
    }
    return dxpl;
}

hid_t cfp_h5__fapl(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    hid_t fapl;

    /* Every open and create starts here: the library-wide setting for
     * what an open allocates, once per process. */
    (void)pthread_once(&once, free_list_limits);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return H5I_INVALID_HID;
#if H5_VERSION_GE(1, 10, 7)
    /* Lock, but go on where the filesystem has no locks (NFS, Lustre):
     * HDF5 1.10 otherwise refuses to open files there. The variable
     * HDF5_USE_FILE_LOCKING still overrides this. */
    if (H5Pset_file_locking(fapl, 1, 1) < 0) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
#endif
    return fapl;
}

/* Checks the root's schema_version: the file must be ours and of a version
 * this code understands, or we would misread (or damage) it. */
static cfp_err check_schema(hid_t file, const char *path, struct cfp_status *st)
{
    int32_t v = 0;
    htri_t has = H5Aexists(file, "schema_version");
    hid_t a;

    if (has < 0)
        return cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: schema_version", path);
    if (has == 0)
        return cfp_status_set(st, CFP_ERR_HDF5,
                              "results file %s: not a cfp results file "
                              "(no schema_version attribute on /)",
                              path);
    a = H5Aopen(file, "schema_version", H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_INT32, &v) < 0) {
        cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: read schema_version", path);
        if (a >= 0)
            H5Aclose(a);
        return CFP_ERR_HDF5;
    }
    H5Aclose(a);
    if (v != CFP_H5_SCHEMA_VERSION)
        return cfp_status_set(st, CFP_ERR_HDF5,
                              "results file %s: schema_version %d is not supported "
                              "(this cfp reads and writes version %d)",
                              path, (int)v, CFP_H5_SCHEMA_VERSION);
    return CFP_ERR_OK;
}

cfp_err cfp_h5__open_file(const char *path, unsigned flags, hid_t *file, struct cfp_status *st)
{
    struct stat sb;
    hid_t fapl, f;
    cfp_err err;

    /* HDF5's message for these is a wall of flags; say it plainly. */
    if (stat(path, &sb) != 0)
        return cfp_status_set(st, CFP_ERR_IO, "results file %s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return cfp_status_set(st, CFP_ERR_IO, "results file %s: not a regular file", path);
    /* HDF5 would make an empty file opened read-write into an HDF5 file. */
    if (sb.st_size == 0)
        return cfp_status_set(st, CFP_ERR_HDF5, "results file %s: empty, not an HDF5 file", path);
    fapl = cfp_h5__fapl();
    if (fapl < 0)
        return cfp_h5__fail(st, CFP_ERR_HDF5, "results file %s: file access list", path);
    f = H5Fopen(path, flags, fapl);
    if (f < 0) {
        cfp_h5__fail(st, CFP_ERR_HDF5, "open results file %s", path);
        H5Pclose(fapl);
        return CFP_ERR_HDF5;
    }
    H5Pclose(fapl);
    err = check_schema(f, path, st);
    if (err) {
        H5Fclose(f);
        return err;
    }
    *file = f;
    return CFP_ERR_OK;
}

bool cfp_h5__valid_name(const char *s, size_t max)
{
    size_t n;

    for (n = 0; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok || n >= max)
            return false;
    }
    return n > 0;
}

/* Length of the valid UTF-8 sequence at p, 0 if invalid (Unicode 15, table
 * 3-7: no overlong forms, no surrogates, nothing above U+10FFFF). The NUL
 * terminator is never a continuation byte, so this never reads past it. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

void cfp_h5__utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;

    /* The strings are declared UTF-8 in the file; h5py and others decode
     * them and would fail on a Latin-1 URL or a truncated sequence. */
    while (*p != '\0') {
        size_t n = utf8_len(p);
        if (n == 0)
            *p++ = '?';
        else
            p += n;
    }
}
