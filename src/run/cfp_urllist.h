/* cfp_urllist.h - the URL list as a task source.
 *
 * Format: one URL per line; surrounding whitespace (space, tab, CR, LF, VT,
 * FF) is trimmed; blank lines and lines whose first non-blank character is
 * '#' are ignored (a '#' later in a line is part of the URL, e.g. a
 * fragment). Every other line is a task, numbered in order from 0.
 *
 * A bare local path, a line starting with "/", "./" or "../", is read as
 * the file:// URL of that file (relative: from the current directory), its
 * bytes that mean something in a URL percent-encoded (doc/usage.md).
 *
 * A URL line longer than CFP_URL_MAX - 1 bytes (prefix included) is a task
 * that fails with "URL too long". Otherwise, a line holding an ASCII control
 * byte (0x00-0x1F or 0x7F) after trimming, such as a NUL, or a tab inside the
 * URL, is a task that fails with "malformed URL: control byte 0xNN at column
 * C" (C: 1-based byte column in the line as read): it is never fetched as
 * some other URL, and later lines keep their indexes. The list is read line
 * by line, at most CFP_URL_MAX + 1 bytes of a line kept, so memory depends
 * neither on its length nor on its longest line. */
#ifndef CFP_URLLIST_H
#define CFP_URLLIST_H

#include <stdio.h>

#include "engine/cfp_engine_seam.h"

struct cfp_urllist;

/* Opens path ("-" = stdin). prefix, when not NULL, is prepended to every
 * line (used to serve a dataset's manifest of relative names over HTTP).
 * Caller frees with cfp_urllist_close(). */
cfp_err cfp_urllist_open(const char *path, const char *prefix, struct cfp_urllist **out,
                         struct cfp_status *st);

/* Same over an already open stream, which the list does not close. */
cfp_err cfp_urllist_from_stream(FILE *f, const char *prefix, struct cfp_urllist **out,
                                struct cfp_status *st);

/* A source view of the list, valid until cfp_urllist_close(). */
struct cfp_source cfp_urllist_source(struct cfp_urllist *ul);

/* Reads the next task; see struct cfp_source. */
cfp_err cfp_urllist_next(struct cfp_urllist *ul, struct cfp_task *t, bool *done,
                         struct cfp_status *st);

void cfp_urllist_close(struct cfp_urllist **pul);

#endif
