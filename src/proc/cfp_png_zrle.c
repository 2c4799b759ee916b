/* cfp_png_zrle.c - zlib's deflate with Z_RLE, reimplemented to give zlib's
 * exact bytes, faster (see cfp_png_internal.h for the contract).
 *
 * The encoder's zlib was most of its time (doc/png.md, Speed): deflate_rle
 * tallies one symbol per call, and its trees and bit writer work 16 bits at
 * a time. The output must stay byte for byte what libpng + zlib 1.2.13 wrote
 * (level 4, Z_RLE, windowBits 15, memLevel 8), so this follows zlib's
 * algorithm exactly, written again with wider steps:
 *  - the same 64 KiB window, filled and slid at the same moments as zlib's
 *    fill_window() (input arrives in the same pieces: one call per filtered
 *    row, as libpng calls deflate()), so a block may be stored exactly when
 *    zlib's may: while its bytes are still in the window;
 *  - the same tokens: at position p > 0 a run of the byte before p of 3 or
 *    more (at most 258, at most what is left at the end) is a match of
 *    distance 1, anything else a literal; tokens are only taken while more
 *    than 258 bytes are ahead, except at the end;
 *  - a block ends after 16383 symbols (zlib's sym_end with memLevel 8) and
 *    at the end; each block is stored, fixed or dynamic by zlib's rule, with
 *    zlib's Huffman construction (heap order, depth tie-break, the length
 *    overflow repair of gen_bitlen), its bit-length tree and its run-length
 *    coding of the code lengths;
 *  - bits are written 64 at a time, symbols through a per-block table.
 * test_png compares the output with zlib's on streams built to reach every
 * path (stored blocks, runs longer than a block, windows slid mid-block,
 * code lengths over 15 bits, an empty last block), fed in pieces of several
 * sizes, and with libpng + zlib's on every image it writes both ways. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/cfp_mem.h"
#include "proc/cfp_png_internal.h"

#define WSIZE         32768u /* windowBits 15 */
#define WINDOW        (2u * WSIZE)
#define MIN_MATCH     3u
#define MAX_MATCH     258u
#define MIN_LOOKAHEAD (MAX_MATCH + MIN_MATCH + 1u)
#define MAX_DIST      (WSIZE - MIN_LOOKAHEAD)
#define SYM_MAX       16383u /* (1 << (memLevel 8 + 6)) - 1 symbols per block */

#define L_CODES   286
#define D_CODES   30
#define BL_CODES  19
#define HEAP_SIZE (2 * L_CODES + 1)
#define MAX_BITS  15
#define END_BLOCK 256

/* Output kept before a full IDAT is handed on: an IDAT's worth plus the
 * largest block (16383 symbols of at most 15 + 5 + 5 bits, or a stored
 * block, which is chosen only below ~53 KB, plus its trees) plus slack
 * for the 8-byte bit writer. */
#define OUT_CAP (CFP_ZRLE_CHUNK + 65536u + 1024u)

/* A Huffman tree being built, zlib's ct_data split into arrays (zlib
 * overlays freq with code and dad with len; nothing reads a field after its
 * partner overwrote it, so separate arrays give the same results). */
struct tree {
    uint16_t freq[HEAP_SIZE];
    uint16_t dad[HEAP_SIZE];
    uint16_t len[HEAP_SIZE];
    uint16_t code[HEAP_SIZE];
    int max_code;
};

/* What zlib's static_tree_desc says of a tree. */
struct tree_kind {
    const uint8_t *static_len; /* NULL for the bit-length tree */
    const uint8_t *extra;      /* extra bits of code extra_base + i */
    int extra_base;
    int elems;
    int max_length;
};

struct cfp_zrle {
    unsigned char window[WINDOW + 8]; /* + 8: word reads at the end */
    uint32_t strstart, lookahead;
    long block_start;
    const unsigned char *in; /* the piece being fed */
    size_t avail_in;
    uint32_t nsym;
    uint16_t sym[SYM_MAX + 16]; /* a literal byte, or 256 + match length - 3;
                                 * + 16: literals() stores 16 at a time */
    uint32_t lfreq[L_CODES];
    uint32_t matches;
    struct tree lt, dt, bt;
    int heap[HEAP_SIZE], heap_len, heap_max;
    uint8_t depth[HEAP_SIZE];
    uint16_t bl_count[MAX_BITS + 1];
    uint64_t opt_len, static_len; /* zlib's ulg arithmetic, modulo 2^64 */
    uint64_t bits;                /* bits not yet written, LSB first */
    unsigned nbits;
    size_t out_len;
    cfp_err (*sink)(void *ctx, const unsigned char *p, size_t n);
    void *sink_ctx;
    cfp_err err; /* the sink's first error; everything after is skipped */
    bool started;
    unsigned char out[OUT_CAP];
};

static const uint8_t extra_lbits[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                        2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint8_t extra_dbits[D_CODES] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                             6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
static const uint8_t extra_blbits[BL_CODES] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                               0, 0, 0, 0, 0, 0, 2, 3, 7};
static const uint8_t bl_order[BL_CODES] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                           11, 4,  12, 3, 13, 2, 14, 1, 15};
/* First length - 3 of each length code; 258 (code 28) has no extra bits. */
static const uint16_t base_length[29] = {0,  1,  2,  3,   4,   5,   6,   7,   8,  10,
                                         12, 14, 16, 20,  24,  28,  32,  40,  48, 56,
                                         64, 80, 96, 112, 128, 160, 192, 224, 255};

/* The fixed trees' code lengths (RFC 1951 3.2.6); codes 286 and 287 only
 * complete the canonical code. */
static uint8_t static_llen[L_CODES + 2];
static uint8_t static_dlen[D_CODES];

static const struct tree_kind lkind = {static_llen, extra_lbits, 257, L_CODES, MAX_BITS};
static const struct tree_kind dkind = {static_dlen, extra_dbits, 0, D_CODES, MAX_BITS};
static const struct tree_kind bkind = {NULL, extra_blbits, 0, BL_CODES, 7};

/* Length code (0..28) of a match length - 3 (0..255); 258 is code 28
 * (285), not 27 + 31 extra. */
static uint8_t length_code[256];
static uint16_t static_lcode[L_CODES + 2], static_dcode[D_CODES];

static unsigned reverse_bits(unsigned code, int len)
{
    unsigned r = 0;

    for (int i = 0; i < len; i++, code >>= 1)
        r = (r << 1) | (code & 1u);
    return r;
}

/* Canonical codes for lengths len[0..max_code], bl_count[b] codes of b bits;
 * stored bit-reversed, as they are sent LSB first (zlib's gen_codes). */
static void gen_codes(const uint16_t *len, uint16_t *code, int max_code, const uint16_t *bl_count)
{
    uint16_t next[MAX_BITS + 1];
    unsigned c = 0;

    next[0] = 0;
    for (int b = 1; b <= MAX_BITS; b++) {
        c = (c + bl_count[b - 1]) << 1;
        next[b] = (uint16_t)c;
    }
    for (int n = 0; n <= max_code; n++)
        if (len[n])
            code[n] = (uint16_t)reverse_bits(next[len[n]]++, len[n]);
}

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
    uint16_t len[L_CODES + 2], count[MAX_BITS + 1] = {0};
    int n = 0;

    for (int code = 0; code < 28; code++)
        for (int i = 0; i < 1 << extra_lbits[code]; i++)
            length_code[n++] = (uint8_t)code;
    length_code[255] = 28;
    for (n = 0; n < L_CODES + 2; n++) {
        len[n] = n <= 143 ? 8 : n <= 255 ? 9 : n <= 279 ? 7 : 8;
        static_llen[n] = (uint8_t)len[n];
        count[len[n]]++;
    }
    gen_codes(len, static_lcode, L_CODES + 1, count);
    for (n = 0; n < D_CODES; n++) {
        static_dlen[n] = 5;
        static_dcode[n] = (uint16_t)reverse_bits((unsigned)n, 5);
    }
}

/* ---------------------------------------------------------------- bits */

static inline void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Adds n <= 32 bits; at most 7 are left over after each call, and out has
 * 8 bytes of room past out_len (OUT_CAP's slack). */
static inline void send_bits(struct cfp_zrle *z, uint64_t v, unsigned n)
{
    z->bits |= v << z->nbits;
    z->nbits += n;
    put_le64(z->out + z->out_len, z->bits);
    z->out_len += z->nbits >> 3;
    z->bits >>= z->nbits & ~7u; /* nbits <= 7 + 32 */
    z->nbits &= 7u;
}

/* Pads to a byte boundary (zlib's bi_windup). */
static void byte_align(struct cfp_zrle *z)
{
    if (z->nbits)
        z->out[z->out_len++] = (unsigned char)z->bits;
    z->bits = 0;
    z->nbits = 0;
}

/* Hands whole CFP_ZRLE_CHUNK pieces to the sink (all of it when last).
 * Once the sink failed, output is dropped: out must not grow past one
 * block beyond a chunk (OUT_CAP) while the rest of a row is compressed. */
static void drain(struct cfp_zrle *z, bool last)
{
    size_t done = 0;

    while (!z->err && (z->out_len - done >= CFP_ZRLE_CHUNK || (last && z->out_len > done))) {
        size_t n = z->out_len - done < CFP_ZRLE_CHUNK ? z->out_len - done : CFP_ZRLE_CHUNK;

        z->err = z->sink(z->sink_ctx, z->out + done, n);
        done += n;
    }
    if (z->err)
        done = z->out_len;
    memmove(z->out, z->out + done, z->out_len - done);
    z->out_len -= done;
}

/* ---------------------------------------------------------------- trees */

/* zlib's smaller(): by frequency, then by depth. */
static inline bool smaller(const struct cfp_zrle *z, const struct tree *t, int n, int m)
{
    return t->freq[n] < t->freq[m] || (t->freq[n] == t->freq[m] && z->depth[n] <= z->depth[m]);
}

static void pqdownheap(struct cfp_zrle *z, const struct tree *t, int k)
{
    int v = z->heap[k], j = k << 1;

    while (j <= z->heap_len) {
        if (j < z->heap_len && smaller(z, t, z->heap[j + 1], z->heap[j]))
            j++;
        if (smaller(z, t, v, z->heap[j]))
            break;
        z->heap[k] = z->heap[j];
        k = j;
        j <<= 1;
    }
    z->heap[k] = v;
}

/* Code lengths from the tree in heap[heap_max..], limited to max_length
 * the way zlib's gen_bitlen does; adds the block's cost to opt_len and
 * static_len. */
static void gen_bitlen(struct cfp_zrle *z, struct tree *t, const struct tree_kind *k)
{
    int h, overflow = 0;

    memset(z->bl_count, 0, sizeof(z->bl_count));
    t->len[z->heap[z->heap_max]] = 0;
    for (h = z->heap_max + 1; h < HEAP_SIZE; h++) {
        int n = z->heap[h], bits = t->len[t->dad[n]] + 1, xbits = 0;

        if (bits > k->max_length) {
            bits = k->max_length;
            overflow++;
        }
        t->len[n] = (uint16_t)bits;
        if (n > t->max_code)
            continue; /* not a leaf */
        z->bl_count[bits]++;
        if (n >= k->extra_base)
            xbits = k->extra[n - k->extra_base];
        z->opt_len += (uint64_t)t->freq[n] * (unsigned)(bits + xbits);
        if (k->static_len)
            z->static_len += (uint64_t)t->freq[n] * (unsigned)(k->static_len[n] + xbits);
    }
    if (overflow == 0)
        return;
    do { /* move a leaf down from the deepest level below max with any */
        int bits = k->max_length - 1;

        while (z->bl_count[bits] == 0)
            bits--;
        z->bl_count[bits]--;
        z->bl_count[bits + 1] += 2;
        z->bl_count[k->max_length]--;
        overflow -= 2;
    } while (overflow > 0);
    h = HEAP_SIZE; /* lengths again, in increasing frequency */
    for (int bits = k->max_length; bits != 0; bits--)
        for (int n = z->bl_count[bits]; n != 0;) {
            int m = z->heap[--h];

            if (m > t->max_code)
                continue;
            if (t->len[m] != (unsigned)bits) {
                z->opt_len += ((uint64_t)bits - t->len[m]) * t->freq[m];
                t->len[m] = (uint16_t)bits;
            }
            n--;
        }
}

/* zlib's build_tree: a Huffman tree for t->freq with at least two codes. */
static void build_tree(struct cfp_zrle *z, struct tree *t, const struct tree_kind *k)
{
    int n, m, node, max_code = -1;

    z->heap_len = 0;
    z->heap_max = HEAP_SIZE;
    for (n = 0; n < k->elems; n++) {
        if (t->freq[n] != 0) {
            z->heap[++z->heap_len] = max_code = n;
            z->depth[n] = 0;
        } else {
            t->len[n] = 0;
        }
    }
    while (z->heap_len < 2) {
        node = z->heap[++z->heap_len] = max_code < 2 ? ++max_code : 0;
        t->freq[node] = 1;
        z->depth[node] = 0;
        z->opt_len--;
        if (k->static_len)
            z->static_len -= k->static_len[node];
    }
    t->max_code = max_code;
    for (n = z->heap_len / 2; n >= 1; n--)
        pqdownheap(z, t, n);
    node = k->elems;
    do {
        n = z->heap[1];
        z->heap[1] = z->heap[z->heap_len--];
        pqdownheap(z, t, 1);
        m = z->heap[1];
        z->heap[--z->heap_max] = n;
        z->heap[--z->heap_max] = m;
        t->freq[node] = (uint16_t)(t->freq[n] + t->freq[m]);
        z->depth[node] = (uint8_t)((z->depth[n] >= z->depth[m] ? z->depth[n] : z->depth[m]) + 1);
        t->dad[n] = t->dad[m] = (uint16_t)node;
        z->heap[1] = node++;
        pqdownheap(z, t, 1);
    } while (z->heap_len >= 2);
    z->heap[--z->heap_max] = z->heap[1];
    gen_bitlen(z, t, k);
    gen_codes(t->len, t->code, max_code, z->bl_count);
}

/* Code-length statistics of t for the bit-length tree (zlib's scan_tree),
 * or, with send, the code lengths themselves (send_tree). */
static void walk_lengths(struct cfp_zrle *z, struct tree *t, bool send)
{
    int prevlen = -1, nextlen = t->len[0], count = 0, max_count = 7, min_count = 4;
    struct tree *b = &z->bt;

    if (nextlen == 0) {
        max_count = 138;
        min_count = 3;
    }
    if (!send)
        t->len[t->max_code + 1] = 0xffff; /* guard */
    for (int n = 0; n <= t->max_code; n++) {
        int curlen = nextlen;

        nextlen = t->len[n + 1];
        if (++count < max_count && curlen == nextlen)
            continue;
        if (count < min_count) {
            if (!send)
                b->freq[curlen] = (uint16_t)(b->freq[curlen] + count);
            else
                do
                    send_bits(z, b->code[curlen], b->len[curlen]);
                while (--count != 0);
        } else if (curlen != 0) {
            if (curlen != prevlen) {
                if (!send)
                    b->freq[curlen]++;
                else
                    send_bits(z, b->code[curlen], b->len[curlen]);
                count--;
            }
            if (!send)
                b->freq[16]++;
            else
                send_bits(z, b->code[16] | (uint64_t)(count - 3) << b->len[16], b->len[16] + 2u);
        } else if (count <= 10) {
            if (!send)
                b->freq[17]++;
            else
                send_bits(z, b->code[17] | (uint64_t)(count - 3) << b->len[17], b->len[17] + 3u);
        } else {
            if (!send)
                b->freq[18]++;
            else
                send_bits(z, b->code[18] | (uint64_t)(count - 11) << b->len[18], b->len[18] + 7u);
        }
        count = 0;
        prevlen = curlen;
        if (nextlen == 0) {
            max_count = 138;
            min_count = 3;
        } else if (curlen == nextlen) {
            max_count = 6;
            min_count = 3;
        } else {
            max_count = 7;
            min_count = 4;
        }
    }
}

/* The block's symbols through code tables (literal, length and distance
 * codes); a match is one table entry: its length code, extra bits and
 * distance code 0 (distance 1). Two symbols (at most 25 bits each) go into
 * the bit buffer per store; the writer's state stays in locals, as stores
 * through the output's char pointer would otherwise make the compiler
 * reload it from z for every symbol. */
static void send_symbols(struct cfp_zrle *z, const uint16_t *lcode, const uint16_t *llen,
                         const uint16_t *dcode, const uint16_t *dlen)
{
    uint64_t tab[512], bits = z->bits;
    uint8_t nb[512];
    unsigned n = z->nbits;
    unsigned char *o = z->out + z->out_len;
    const uint16_t *sym = z->sym;
    uint32_t i = 0, ns = z->nsym;

    for (int s = 0; s < 256; s++) {
        tab[s] = lcode[s];
        nb[s] = (uint8_t)llen[s];
    }
    for (int s = 0; s < 256; s++) {
        int c = length_code[s], l = llen[257 + c], e = extra_lbits[c];

        if (l == 0 || l > MAX_BITS) { /* unused (maybe scan's guard): never sent */
            tab[256 + s] = 0;
            nb[256 + s] = 0;
            continue;
        }
        tab[256 + s] =
            lcode[257 + c] | (uint64_t)(s - base_length[c]) << l | (uint64_t)dcode[0] << (l + e);
        nb[256 + s] = (uint8_t)(l + e + dlen[0]);
    }
    for (; i + 2 <= ns; i += 2) { /* n <= 7, + 2 x 25 bits */
        bits |= tab[sym[i]] << n;
        n += nb[sym[i]];
        bits |= tab[sym[i + 1]] << n;
        n += nb[sym[i + 1]];
        put_le64(o, bits);
        o += n >> 3;
        bits >>= n & ~7u;
        n &= 7u;
    }
    z->bits = bits;
    z->nbits = n;
    z->out_len = (size_t)(o - z->out);
    if (i < ns)
        send_bits(z, tab[sym[i]], nb[sym[i]]);
    send_bits(z, lcode[END_BLOCK], llen[END_BLOCK]);
}

static void init_block(struct cfp_zrle *z)
{
    memset(z->lfreq, 0, sizeof(z->lfreq));
    z->lfreq[END_BLOCK] = 1;
    z->matches = 0;
    z->nsym = 0;
}

/* zlib's _tr_flush_block for the symbols since block_start: stored when
 * that is no larger and the bytes are still in the window, else fixed or
 * dynamic codes, whichever zlib's size estimate prefers. */
static void flush_block(struct cfp_zrle *z, bool last)
{
    uint64_t stored_len = (uint64_t)((long)z->strstart - z->block_start), opt_lenb, static_lenb;
    int max_blindex;

    for (int n = 0; n < L_CODES; n++)
        z->lt.freq[n] = (uint16_t)z->lfreq[n];
    memset(z->dt.freq, 0, sizeof(z->dt.freq));
    memset(z->bt.freq, 0, sizeof(z->bt.freq));
    z->dt.freq[0] = (uint16_t)z->matches;
    z->opt_len = z->static_len = 0;
    build_tree(z, &z->lt, &lkind);
    build_tree(z, &z->dt, &dkind);
    walk_lengths(z, &z->lt, false);
    walk_lengths(z, &z->dt, false);
    build_tree(z, &z->bt, &bkind);
    for (max_blindex = BL_CODES - 1; max_blindex >= 3; max_blindex--)
        if (z->bt.len[bl_order[max_blindex]] != 0)
            break;
    z->opt_len += 3 * ((uint64_t)max_blindex + 1) + 5 + 5 + 4;
    opt_lenb = (z->opt_len + 3 + 7) >> 3;
    static_lenb = (z->static_len + 3 + 7) >> 3;
    if (static_lenb <= opt_lenb)
        opt_lenb = static_lenb;
    if (stored_len + 4 <= opt_lenb && z->block_start >= 0) {
        send_bits(z, (uint64_t)last, 3); /* type 0 */
        byte_align(z);
        z->out[z->out_len++] = (unsigned char)stored_len;
        z->out[z->out_len++] = (unsigned char)(stored_len >> 8);
        z->out[z->out_len++] = (unsigned char)~stored_len;
        z->out[z->out_len++] = (unsigned char)(~stored_len >> 8);
        memcpy(z->out + z->out_len, z->window + z->block_start, (size_t)stored_len);
        z->out_len += (size_t)stored_len;
    } else if (static_lenb == opt_lenb) {
        uint16_t llen[L_CODES + 2], dlen[D_CODES];

        for (int n = 0; n < L_CODES + 2; n++)
            llen[n] = static_llen[n];
        for (int n = 0; n < D_CODES; n++)
            dlen[n] = static_dlen[n];
        send_bits(z, 2u + last, 3);
        send_symbols(z, static_lcode, llen, static_dcode, dlen);
    } else {
        int lcodes = z->lt.max_code + 1, dcodes = z->dt.max_code + 1;

        send_bits(z, 4u + last, 3);
        send_bits(z,
                  (uint64_t)(lcodes - 257) | (uint64_t)(dcodes - 1) << 5 |
                      (uint64_t)(max_blindex + 1 - 4) << 10,
                  14);
        for (int r = 0; r <= max_blindex; r++)
            send_bits(z, z->bt.len[bl_order[r]], 3);
        walk_lengths(z, &z->lt, true);
        walk_lengths(z, &z->dt, true);
        send_symbols(z, z->lt.code, z->lt.len, z->dt.code, z->dt.len);
    }
    init_block(z);
    if (last)
        byte_align(z);
    z->block_start = z->strstart;
    drain(z, false);
}

/* ---------------------------------------------------------------- input */

/* zlib's fill_window: slides the upper half down when strstart is near the
 * top, then copies in what fits of the piece being fed. */
static void fill_window(struct cfp_zrle *z)
{
    do {
        uint32_t more = WINDOW - z->lookahead - z->strstart, n;

        if (z->strstart >= WSIZE + MAX_DIST) {
            memcpy(z->window, z->window + WSIZE, WSIZE - more);
            z->strstart -= WSIZE;
            z->block_start -= (long)WSIZE;
            more += WSIZE;
        }
        if (z->avail_in == 0)
            break;
        n = z->avail_in < more ? (uint32_t)z->avail_in : more;
        memcpy(z->window + z->strstart + z->lookahead, z->in, n);
        z->in += n;
        z->avail_in -= n;
        z->lookahead += n;
    } while (z->lookahead < MIN_LOOKAHEAD && z->avail_in != 0);
}

/* Length of the run of byte b at w[0..), at most max. */
static inline uint32_t run_length(const unsigned char *w, unsigned char b, uint32_t max)
{
    uint64_t pat = 0x0101010101010101u * b;
    uint32_t n = 0;

    while (n + 8 <= max) {
        uint64_t v;

        memcpy(&v, w + n, 8);
        v ^= pat;
        if (v) { /* some byte of the 8 differs: find the first */
            uint32_t i = 0;

            while (w[n + i] == b)
                i++;
            return n + i;
        }
        n += 8;
    }
    while (n < max && w[n] == b)
        n++;
    return n;
}

/* The token at p (zlib's deflate_rle step): a match of distance 1 when the
 * byte before p repeats at least 3 times from p (p > 0, 3 bytes left), of
 * at most 258 and at most what is left; else the literal at p. Tallies it
 * and returns its length. */
static inline uint32_t token(struct cfp_zrle *z, uint32_t p, uint32_t left)
{
    const unsigned char *w = z->window;
    uint32_t len;

    if (p > 0 && left >= MIN_MATCH && w[p] == w[p - 1] && w[p + 1] == w[p - 1] &&
        w[p + 2] == w[p - 1]) {
        len = 3 + run_length(w + p + 3, w[p - 1], (left < MAX_MATCH ? left : MAX_MATCH) - 3);
        z->sym[z->nsym++] = (uint16_t)(256 + len - 3);
        z->lfreq[257 + length_code[len - 3]]++;
        z->matches++;
        return len;
    }
    z->sym[z->nsym++] = w[p];
    z->lfreq[w[p]]++;
    return 1;
}

#ifdef __SSE2__
/* Literals from p while no match can start among the next 14 positions:
 * 16 bytes compared with their left neighbours at once (a match starts
 * where three in a row equal theirs). Stops before stop - 16 bytes, or
 * at the first position that may start a match; returns the new p. Each
 * literal is one symbol, so stop (at most SYM_MAX - nsym bytes ahead)
 * also bounds the symbols. */
static uint32_t literals(struct cfp_zrle *z, uint32_t p, uint32_t stop)
{
    const unsigned char *w = z->window;
    uint16_t *sym = z->sym + z->nsym;
    uint32_t *lf = z->lfreq, p0 = p;

    while (p + 16 <= stop) {
        __m128i cur = _mm_loadu_si128((const __m128i *)(const void *)(w + p));
        __m128i left = _mm_loadu_si128((const __m128i *)(const void *)(w + p - 1));
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(cur, left));
        unsigned cand = eq & (eq >> 1) & (eq >> 2) & 0x3fffu;
        uint32_t n = cand ? (uint32_t)__builtin_ctz(cand) : 14;

        _mm_storeu_si128((__m128i *)(void *)sym, _mm_unpacklo_epi8(cur, _mm_setzero_si128()));
        _mm_storeu_si128((__m128i *)(void *)(sym + 8), _mm_unpackhi_epi8(cur, _mm_setzero_si128()));
        for (uint32_t i = 0; i < n; i++)
            lf[w[p + i]]++;
        sym += n;
        p += n;
        if (cand)
            break;
    }
    z->nsym += p - p0;
    return p;
}
#endif

/* Takes tokens from strstart while more than `keep` bytes are ahead
 * (zlib's deflate_rle loop between two fill_window calls), flushing full
 * blocks. keep is 258, or 0 at the end: then one token, as zlib calls
 * fill_window before each (which may slide the window). */
static void tokens(struct cfp_zrle *z, uint32_t keep)
{
    uint32_t p = z->strstart, end = z->strstart + z->lookahead;
    uint32_t lim = end - keep;

    while (p < lim) {
#ifdef __SSE2__
        if (keep && p > 0) { /* a run of literals: left > 258 */
            uint32_t room = SYM_MAX - z->nsym;

            p = literals(z, p, lim - p < room ? lim : p + room);
        }
        if (p < lim && z->nsym < SYM_MAX)
#endif
            p += token(z, p, end - p);
        if (z->nsym == SYM_MAX) {
            z->lookahead = end - p;
            z->strstart = p;
            flush_block(z, false);
        }
        if (keep == 0)
            break;
    }
    z->lookahead = end - p;
    z->strstart = p;
}

cfp_err cfp_zrle_new(cfp_err (*sink)(void *ctx, const unsigned char *p, size_t n), void *ctx,
                     struct cfp_zrle **out)
{
    struct cfp_zrle *z = cfp_malloc(sizeof(*z));

    if (!z)
        return CFP_ERR_NOMEM;
    pthread_once(&tables_once, init_tables);
    memset(z->window, 0, sizeof(z->window)); /* never read unwritten, but cheap */
    z->strstart = z->lookahead = 0;
    z->block_start = 0;
    z->in = NULL;
    z->avail_in = 0;
    z->bits = 0;
    z->nbits = 0;
    z->out_len = 0;
    z->sink = sink;
    z->sink_ctx = ctx;
    z->err = CFP_ERR_OK;
    z->started = false;
    init_block(z);
    *out = z;
    return CFP_ERR_OK;
}

/* zlib's header, written by its first deflate() call: CM 8, a 32 KiB
 * window, level flags 0 (zlib gives Z_RLE no level), no dictionary. */
static void start(struct cfp_zrle *z)
{
    if (z->started)
        return;
    z->out[z->out_len++] = 0x78;
    z->out[z->out_len++] = 0x01;
    z->started = true;
}

cfp_err cfp_zrle_feed(struct cfp_zrle *z, const unsigned char *in, size_t n)
{
    if (z->err)
        return z->err;
    start(z);
    z->in = in;
    z->avail_in = n;
    while (!z->err) {
        if (z->lookahead <= MAX_MATCH) {
            fill_window(z);
            if (z->lookahead <= MAX_MATCH)
                break; /* zlib's need_more: the rest waits for the next row */
        }
        tokens(z, MAX_MATCH);
    }
    return z->err;
}

cfp_err cfp_zrle_finish(struct cfp_zrle *z, uint32_t adler)
{
    if (z->err)
        return z->err;
    start(z);
    for (;;) {
        if (z->lookahead <= MAX_MATCH)
            fill_window(z); /* nothing more to read, but it may slide */
        if (z->lookahead == 0)
            break;
        tokens(z, z->lookahead <= MAX_MATCH ? 0 : MAX_MATCH);
    }
    flush_block(z, true);
    for (int i = 3; i >= 0; i--)
        z->out[z->out_len++] = (unsigned char)(adler >> (8 * i));
    drain(z, true);
    return z->err;
}

void cfp_zrle_free(struct cfp_zrle **zp)
{
    if (!zp)
        return;
    cfp_free(*zp);
    *zp = NULL;
}
