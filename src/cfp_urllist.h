/* cfp_urllist.h - the URL list as a task source.
 *
 * Format: one URL per line; surrounding whitespace is trimmed; blank lines
 * and lines whose first non-blank character is '#' are ignored (a '#' later
 * in a line is part of the URL, e.g. a fragment). The list is read line by
 * line, so memory does not depend on its length. */
#ifndef CFP_URLLIST_H
#define CFP_URLLIST_H

#include <stdio.h>

#include "cfp_engine.h"

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
