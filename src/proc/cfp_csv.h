/* cfp_csv.h - streaming CSV (RFC 4180) to JSON conversion.
 *
 * Input arrives in chunks of any size; the output is the same as for one
 * whole-buffer feed. The first record is the header; every later record
 * becomes one JSON object keyed by the header names in column order, written
 * through the caller's sink as soon as the record is complete:
 *
 *   [\n{"id": 1, "name": "Ann"},\n{"id": 2, "name": null}\n]\n
 *
 * and "[]\n" when there is no data record. Memory is bounded by the longest
 * record (max_record) plus the header, never by the file.
 *
 * Dialect (doc/text-csv.md has the full rules): comma separator, '"'
 * quoting with "" as an escaped quote; records end at LF, CRLF or a lone CR
 * outside quotes; quoted fields may hold any of them; a leading UTF-8 BOM is
 * skipped; empty lines are skipped. Like Python's csv module (default
 * dialect), a quote inside an unquoted field and text after a closing quote
 * are literal: a"b -> a"b, "ab"cd -> abcd.
 *
 * Values: an unquoted field matching the JSON number grammar exactly
 * (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) is written verbatim as a
 * number; every other field, all quoted ones included, is a string. Missing
 * trailing fields are null.
 *
 * Errors (CFP_ERR_CSV, message "CSV record R (line L): ...", R 1-based with
 * the header as record 1, L the line where the record starts): more fields
 * than the header, an empty or duplicate header name, an unterminated quoted
 * field, invalid UTF-8. A record longer than max_record bytes is
 * CFP_ERR_TOO_BIG. Output already written stays written: a caller discards
 * it on failure. */
#ifndef CFP_CSV_H
#define CFP_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "base/cfp_io.h"

/* max_record used when cfp_csv_new() is given 0. */
#define CFP_CSV_MAX_RECORD_DEFAULT ((size_t)1 << 20)

struct cfp_csv;

/* Creates a converter writing JSON through wr(ctx, ...), called on the
 * feeding thread from cfp_csv_feed() and cfp_csv_finish(). max_record
 * bounds one record's raw bytes (quotes and commas included, the line end
 * not); 0 selects CFP_CSV_MAX_RECORD_DEFAULT. Caller frees with
 * cfp_csv_free(). On failure (CFP_ERR_NOMEM) *out is untouched. */
cfp_err cfp_csv_new(cfp_write_fn wr, void *ctx, size_t max_record, struct cfp_csv **out);

/* Parses len bytes of data (not kept after the call). On failure returns
 * CFP_ERR_CSV, CFP_ERR_TOO_BIG, CFP_ERR_NOMEM or wr's error, with a message
 * in st (may be NULL); every later call then fails with the same code. */
cfp_err cfp_csv_feed(struct cfp_csv *c, const void *data, size_t len, struct cfp_status *st);

/* Ends the input: completes the last record, closes the JSON array and
 * sets *rows (data records) and *cols (header fields, 0 for empty input);
 * rows and cols may be NULL and are set only on success. Call once. */
cfp_err cfp_csv_finish(struct cfp_csv *c, int64_t *rows, int64_t *cols, struct cfp_status *st);

/* Frees *pc and sets it to NULL. pc and *pc may be NULL. */
void cfp_csv_free(struct cfp_csv **pc);

#endif
