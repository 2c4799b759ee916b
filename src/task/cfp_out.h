/* cfp_out.h - output naming and crash-safe output files.
 *
 * Names: "<index, zero-padded to 6>_<stem>.<ext>", where stem is the last
 * path segment of the URL (query and fragment dropped, extension dropped),
 * with every byte outside [A-Za-z0-9._-] replaced by '_', leading dots
 * removed, cut to 80 bytes, "file" when nothing is left. The index makes
 * names unique; nothing in a URL can make a name with '/', "..", NUL or a
 * leading dot, so every output stays inside the output directory.
 *
 * Files: written to ".<name>.tmp-<pid>-<n>" in the same directory and renamed
 * into place on commit, so a failure never leaves a partial file under a
 * final name. A SHA-256 of the bytes is kept as they are written. */
#ifndef CFP_OUT_H
#define CFP_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "task/cfp_record.h"

/* The last path segment of url (after scheme and authority, before any
 * query or fragment); *len is its length, 0 when the URL has no path. The
 * result points into url. */
const char *cfp_out_url_segment(const char *url, size_t *len);

/* Writes the output file name for task index and url into name[size].
 * ext is without the dot ("png", "json"). Never fails: too small a buffer
 * truncates the stem, never the index or extension (size >= 32 required). */
void cfp_out_name(int64_t index, const char *url, const char *ext, char *name, size_t size);

/* mkdir -p: creates dir and its missing parents (mode 0777 less the umask).
 * An existing component that is not a directory fails with ENOTDIR, so a
 * regular file where the output directory should be is caught here rather
 * than at the first output. */
cfp_err cfp_mkdirs(const char *dir, struct cfp_status *st);

/* Checks that files can be created in dir by creating and removing one
 * (root ignores permission bits, so access() cannot tell; a read-only mount
 * or a full disk can). CFP_ERR_IO with the reason otherwise. */
cfp_err cfp_out_check_writable(const char *dir, struct cfp_status *st);

struct cfp_out;

/* Creates the temporary file for final path dir/name. Caller ends it with
 * cfp_out_commit() or cfp_out_abort(). */
/* Removes the temporary files a killed cfp left in dir (".<name>.tmp-<pid>-<n>"
 * whose pid is no longer running); returns how many. Called when a run
 * resumes: after kill -9 they are the only trace of the tasks cut short. */
int cfp_out_sweep(const char *dir);

cfp_err cfp_out_open(const char *dir, const char *name, struct cfp_out **out,
                     struct cfp_status *st);

/* Appends bytes (a cfp_write_fn: ctx is the struct cfp_out *). */
cfp_err cfp_out_write(void *ctx, const void *data, size_t len);

/* When a write to o failed, replaces st with that failure's own message
 * ("write out/000003_a.json: No space left on device") and returns its
 * code; otherwise CFP_ERR_OK and st untouched. NULL-safe. */
cfp_err cfp_out_cause(const struct cfp_out *o, struct cfp_status *st);

/* Flushes, closes and renames into place; fills path, digest, size. Frees o
 * and sets *po = NULL whether or not it succeeds (on failure the temporary
 * file is removed). */
cfp_err cfp_out_commit(struct cfp_out **po, char path[CFP_PATH_MAX], char digest[CFP_DIGEST_HEX],
                       int64_t *size, struct cfp_status *st);

/* Removes the temporary file and frees o. NULL-safe; sets *po = NULL. */
void cfp_out_abort(struct cfp_out **po);

/* Seconds spent in write and commit so far (for the write phase timing). */
double cfp_out_seconds(const struct cfp_out *o);

#endif
