/* cfp_h5_schema.h - private to cfp_h5_*.c: the in-memory row and attribute
 * tables that define the schema, and helpers shared by writer and reader.
 * Functions here are prefixed cfp_h5__ (double underscore: not public). */
#ifndef CFP_H5_SCHEMA_H
#define CFP_H5_SCHEMA_H

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "results/cfp_h5.h"

#if !H5_VERSION_GE(1, 10, 0)
#error "cfp needs HDF5 >= 1.10"
#endif

/* H5Treclaim replaced H5Dvlen_reclaim (deprecated) in 1.12; 1.10.8 declares
 * H5Treclaim in its header but does not export it. */
#if H5_VERSION_GE(1, 12, 0)
#define CFP_H5_RECLAIM H5Treclaim
#else
#define CFP_H5_RECLAIM H5Dvlen_reclaim
#endif

/* Rows per chunk of the tasks dataset (~70 KiB of fixed-size data per chunk;
 * the strings live in the global heap) and rows per read in read_tasks. */
#define CFP_H5_CHUNK_ROWS 256
#define CFP_H5_READ_ROWS  256

/* A tasks-dataset row as it is in memory; member names and order are the
 * schema (cfp_h5__row_type). Strings are UTF-8, never NULL when written; on
 * read HDF5 allocates them and CFP_H5_RECLAIM frees them. */
struct cfp_h5_row {
    int64_t index;
    const char *url, *kind, *status, *error_code, *error;
    int32_t http_status, attempts;
    int64_t bytes_in, bytes_out;
    const char *output, *digest;
    int32_t rank, worker;
    double t_start, t_fetch, t_process, t_write;
    int32_t width_in, height_in, width_out, height_out;
    int64_t lines, words, chars, rows, cols;
    const char *host;
};

enum cfp_h5_kind { CFP_H5_I32, CFP_H5_I64, CFP_H5_F64, CFP_H5_STR };

/* One run attribute: its name, type and place in struct cfp_run_info. */
struct cfp_h5_attr {
    const char *name;
    enum cfp_h5_kind kind;
    size_t off;  /* offsetof(struct cfp_run_info, <field>) */
    size_t size; /* sizeof the field (bounds CFP_H5_STR copies) */
};

extern const struct cfp_h5_attr cfp_h5__run_attrs[];
extern const size_t cfp_h5__run_attr_count;

/* Turns off HDF5's automatic error printing for the calling thread (the
 * setting is per thread in thread-safe builds): errors go into st instead. */
void cfp_h5__quiet(void);

/* Records code in st with "<fmt...>: <reason>", the reason taken from the
 * HDF5 error stack of the failed call (so call it before any other HDF5
 * call). Names the common causes: not an HDF5 file, file locked. */
cfp_err cfp_h5__fail(struct cfp_status *st, cfp_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* New variable-length UTF-8 string type; caller closes with H5Tclose.
 * H5I_INVALID_HID on failure. */
hid_t cfp_h5__str_type(void);

/* New memory compound type of struct cfp_h5_row; caller closes it. brief
 * leaves out url, error and output (their row pointers stay as they were). */
hid_t cfp_h5__row_type(bool brief);

/* Writes one scalar UTF-8 string attribute per column on the tasks dataset
 * ds, named after the column: "<unit>: <meaning>" (units seconds, bytes,
 * pixels, count, ...; "-1 = not applicable" where it applies). Readers
 * never require them (older files lack them). 0 on success, -1 on an HDF5
 * failure (the error stack says why). */
int cfp_h5__doc_tasks(hid_t ds);

/* New dataset-transfer property list for row reads and writes (a small
 * conversion buffer); caller closes. H5I_INVALID_HID on failure. */
hid_t cfp_h5__dxpl(void);

/* New file-access property list with best-effort file locking; caller
 * closes. Every open and create takes one; the first call also sets HDF5's
 * free-list limits (cfp_h5_schema.c says why). */
hid_t cfp_h5__fapl(void);

/* Opens an existing results file (flags H5F_ACC_RDONLY or H5F_ACC_RDWR) and
 * checks schema_version. On success *file is open; the caller closes it. */
cfp_err cfp_h5__open_file(const char *path, unsigned flags, hid_t *file, struct cfp_status *st);

/* True if s is 1..max chars of [A-Za-z0-9_-] (modes and run ids): such a
 * name is one HDF5 link name, never a path. */
bool cfp_h5__valid_name(const char *s, size_t max);

/* Replaces bytes of s that are not part of valid UTF-8 with '?', in place. */
void cfp_h5__utf8_sanitize(char *s);

/* An open results file (the writer's handle, cfp_h5.h): shared by the
 * writer files, cfp_h5_write.c and cfp_h5_ranks.c. */
struct cfp_h5 {
    hid_t file, runs; /* open for the handle's life */
    hid_t run, tasks; /* the current run; H5I_INVALID_HID between runs */
    hid_t rowtype;    /* memory type of struct cfp_h5_row */
    char *path;       /* for messages */
    char run_id[CFP_H5_RUN_ID_MAX];
    bool ranks_written; /* /runs/<id>/ranks exists */
    /* Rows not yet in the file: a fixed batch, so memory never grows with
     * the number of tasks. */
    struct cfp_record *buf;
    size_t nbuf;
    struct cfp_h5_row *rows; /* scratch: buf as HDF5 rows, built per write */
    hsize_t nfile;           /* rows of the current run already in the file */
    double last_write;       /* monotonic seconds of the last batch write */
};

#endif
