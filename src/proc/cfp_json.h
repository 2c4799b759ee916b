/* cfp_json.h - JSON string literals from arbitrary bytes, and the strict
 * UTF-8 rules shared by the text and CSV processors.
 *
 * Strings are written exactly as Python's json.dumps(s, ensure_ascii=False)
 * writes them (\" \\ \b \f \n \r \t, \u00xx with lowercase hex for the other
 * C0 controls, everything else raw UTF-8), so tests can compare bytes with a
 * Python reference. Input bytes that are not valid UTF-8 become U+FFFD, one
 * per byte, so the output is always valid JSON. */
#ifndef CFP_JSON_H
#define CFP_JSON_H

#include <stddef.h>

#include "base/cfp_err.h"
#include "base/cfp_io.h"

/* cfp_utf8_check() result: s holds a proper prefix of a valid sequence but
 * ends before the sequence does (more input could complete it). */
#define CFP_UTF8_SHORT (-1)

/* Strict UTF-8 (Unicode table 3-7: no overlongs, no surrogates, nothing
 * above U+10FFFF). Returns the length (1..4) of the valid sequence starting
 * at s[0], 0 if s[0] starts no valid sequence, or CFP_UTF8_SHORT if the n
 * bytes (n may be 0) are a valid but incomplete start. Streaming decoders
 * use the SHORT case to hold the bytes until the next chunk. */
int cfp_utf8_check(const unsigned char *s, size_t n);

/* Length (1..4) of the valid UTF-8 sequence starting at s, or 0 if s[0]
 * starts no valid sequence within the n bytes (incomplete counts as
 * invalid). */
size_t cfp_utf8_seq_len(const unsigned char *s, size_t n);

/* Length of the leading run of ASCII bytes (< 0x80) of s[0..n), found eight
 * bytes at a time: the fast path of UTF-8 checks. */
size_t cfp_utf8_ascii_prefix(const unsigned char *s, size_t n);

/* Room cfp_json_escape() may need for len input bytes: 6 per byte (\u00xx)
 * plus the quotes. len must not exceed SIZE_MAX / 6 - 1. */
#define CFP_JSON_STRING_MAX(len) (6 * (len) + 2)

/* Writes s[0..len) as a JSON string literal, quotes included, into dst,
 * which has room for CFP_JSON_STRING_MAX(len) bytes; returns the end of
 * what it wrote. Same output as cfp_json_write_string(). */
unsigned char *cfp_json_escape(unsigned char *dst, const unsigned char *s, size_t len);

/* Writes s[0..len) as a JSON string literal, quotes included, through wr
 * (one call per 1 KiB of output: it is staged in a stack buffer).
 * Returns wr's error unchanged, else CFP_ERR_OK. */
cfp_err cfp_json_write_string(cfp_write_fn wr, void *ctx, const unsigned char *s, size_t len);

#endif
