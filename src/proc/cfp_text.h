/* cfp_text.h - streaming text statistics: line, word, character and byte
 * counts plus the ten most frequent tokens, written as one JSON document.
 *
 * Input arrives in chunks of any size; a chunk boundary may fall anywhere
 * (inside a UTF-8 sequence, a token, between \r and \n) and the result is
 * the same as for one whole-buffer feed. Memory grows only with the word
 * table (distinct tokens) and the current token, never with the file size.
 * Invalid UTF-8, NUL bytes and empty input are not errors.
 *
 * Exact rules (doc/text-csv.md has the reasoning):
 * - bytes: input size; lines: number of '\n' bytes;
 * - words: maximal runs of bytes other than ASCII whitespace (space \t \n
 *   \v \f \r), as Python's len(data.split());
 * - chars: code points of the strict UTF-8 decoding, each byte that is not
 *   part of a valid sequence counting as one, as Python's
 *   len(data.decode("utf-8", "surrogateescape"));
 * - top_words: tokens match [A-Za-z0-9\x80-\xff]+(?:'[A-Za-z0-9\x80-\xff]+)*
 *   on bytes, ASCII-lowercased; the 10 most frequent, by count descending,
 *   ties by byte-wise ascending token.
 *
 * Output (one line, Python json.dumps(..., ensure_ascii=False) + "\n"):
 *   {"lines": 2, "words": 9, "chars": 41, "bytes": 41,
 *    "top_words": [["the", 3], ["cat", 1]]}
 * with invalid UTF-8 bytes inside a token written as U+FFFD each. */
#ifndef CFP_TEXT_H
#define CFP_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/cfp_err.h"
#include "base/cfp_io.h"

/* How many tokens top_words lists at most. */
#define CFP_TEXT_TOP 10
/* Tokens longer than this (bytes) are not ranked in top_words: a 50 MB
 * run of letters is no word anyone looks for, and holding it would make
 * memory grow with the longest line. They still count in words. */
#define CFP_TEXT_TOKEN_MAX 256

struct cfp_text;

struct cfp_text_stats {
    int64_t lines, words, chars, bytes;
};

/* Creates an empty processor in *out. Caller frees with cfp_text_free().
 * On failure (CFP_ERR_NOMEM) *out is untouched. */
cfp_err cfp_text_new(struct cfp_text **out);

/* Processes len bytes of data (not kept after the call). Returns
 * CFP_ERR_NOMEM or CFP_ERR_TOO_BIG (a size would overflow); after an error,
 * or after cfp_text_finish(), every later call fails with an error too
 * (CFP_ERR_USAGE after finish). */
cfp_err cfp_text_feed(struct cfp_text *t, const void *data, size_t len);

/* Ends the input, writes the JSON document through wr (several calls) and
 * fills *stats (may be NULL). *stats is set only on success. st (may be
 * NULL) receives a message on failure; wr's error is returned unchanged.
 * Call once; t must still be freed. */
cfp_err cfp_text_finish(struct cfp_text *t, cfp_write_fn wr, void *ctx,
                        struct cfp_text_stats *stats, struct cfp_status *st);

/* Frees *pt and sets it to NULL. pt and *pt may be NULL. */
void cfp_text_free(struct cfp_text **pt);

#endif
