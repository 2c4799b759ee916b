/* cfp_gen_scene.c - renders the synthetic images behind the generated PNGs.
 *
 * Everything is integer arithmetic on 16-bit channels (the one sqrt is fixed
 * up to the exact integer square root), so a scene renders to the same
 * pixels with any compiler on any machine. Sides go up to 2^31 - 1
 * (cfp_gen_big.c): geometry is 64-bit, and the products that can pass 2^63
 * there (distances to a line, ellipse spans) are computed in 128 bits, which
 * gives the same exact values as the 64-bit code did on the small images.
 * Memory is O(w): nothing grows with h. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "lab/cfp_gen_internal.h"
#include "base/cfp_mem.h"

#define SHAPES_MAX 24

/* Exact products of two 64-bit values. gcc and clang have them on every
 * 64-bit target; __extension__ keeps -Wpedantic quiet. */
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

enum shape_kind { SH_RECT, SH_CIRCLE, SH_RING, SH_ELLIPSE, SH_LINE, SH_CHECKER, SH_KINDS_ };

/* Geometry by kind: RECT/CHECKER use the box (x0,y0)-(x1,y1); CIRCLE,
 * ELLIPSE and RING are centred on (x0,y0) with radii rx, ry (RING: inner
 * radius `inner`); LINE runs from (x0,y0) to (x1,y1) with half-width `half`. */
struct shape {
    enum shape_kind kind;
    int64_t x0, y0, x1, y1; /* up to w + w/8: past INT32_MAX for the largest images */
    int64_t rx, ry, inner, half, period;
    bool gradient; /* colour goes from rgb to rgb2 left to right */
    uint32_t rgb[3], rgb2[3];
    uint32_t opacity;    /* 0..65536: how much the shape covers what is below */
    uint32_t alpha;      /* alpha-channel value inside the shape */
    int64_t left, width; /* horizontal extent, for the gradient */
};

struct cfp_gen_scene {
    uint32_t w, h;
    uint64_t noise_seed;
    int32_t noise_amp;
    uint32_t corner[4][3]; /* background: top-left, top-right, bottom-left, bottom-right */
    uint32_t alpha_top, alpha_bottom;
    /* Value-noise texture: a grid of gw x gh random values every `cell`
     * pixels, interpolated bilinearly, added to every channel times
     * tint/256. The values are drawn row after row from grid_rng, a copy of
     * the scene's generator taken where the grid starts, and only the two
     * grid rows around the current pixel row are kept (g0 = grid row k0,
     * g1 = row k0 + 1): O(w) memory whatever h. gen is grid_rng advanced to
     * grid row `next`. */
    uint32_t cell, gw, gh;
    int32_t amp;
    struct cfp_rng grid_rng, gen;
    uint32_t k0, next;
    bool held; /* g0 and g1 hold rows k0 and k0 + 1 */
    int32_t *g0, *g1;
    int64_t *colval; /* scratch: the grid interpolated to the current row */
    int32_t tint[3];
    unsigned nshapes;
    struct shape shapes[SHAPES_MAX];
};

static uint32_t clamp16(int64_t v)
{
    return v < 0 ? 0 : v > 65535 ? 65535 : (uint32_t)v;
}

/* floor(sqrt(n)) exactly: the double result can be one off for large n,
 * the integer fix-up makes it exact (and thus platform-independent). */
static int64_t isqrt(int64_t n)
{
    int64_t s;

    if (n <= 0)
        return 0;
    s = (int64_t)sqrt((double)n);
    while (s * s > n)
        s--;
    while ((s + 1) * (s + 1) <= n)
        s++;
    return s;
}

static void random_colour(struct cfp_rng *r, uint32_t c[3])
{
    for (int i = 0; i < 3; i++)
        c[i] = (uint32_t)cfp_rng_below(r, 65536);
}

static void make_geometry(struct shape *sh, struct cfp_rng *r, int64_t w, int64_t h)
{
    int64_t m = w < h ? w : h;

    sh->x0 = cfp_rng_range(r, -w / 8, w + w / 8);
    sh->y0 = cfp_rng_range(r, -h / 8, h + h / 8);
    sh->rx = cfp_rng_range(r, m / 20 + 1, m / 3 + 1);
    sh->ry = sh->kind == SH_ELLIPSE ? cfp_rng_range(r, m / 20 + 1, m / 2 + 1) : sh->rx;
    sh->inner = cfp_rng_range(r, sh->rx / 3, sh->rx - sh->rx / 8 - 1);
    sh->half = cfp_rng_range(r, 1, m / 60 + 2);
    sh->period = cfp_rng_range(r, 2, 32);
    if (sh->kind == SH_LINE) {
        sh->x1 = cfp_rng_range(r, -w / 8, w + w / 8);
        sh->y1 = cfp_rng_range(r, -h / 8, h + h / 8);
    } else {
        sh->x1 = sh->x0 + cfp_rng_range(r, 1, w / 2 + 1);
        sh->y1 = sh->y0 + cfp_rng_range(r, 1, h / 2 + 1);
    }
    if (sh->kind == SH_RECT || sh->kind == SH_CHECKER) {
        sh->left = sh->x0;
        sh->width = sh->x1 - sh->x0 + 1;
    } else if (sh->kind == SH_LINE) {
        sh->left = sh->x0 < sh->x1 ? sh->x0 : sh->x1;
        sh->width = (sh->x0 < sh->x1 ? sh->x1 - sh->x0 : sh->x0 - sh->x1) + 1;
    } else {
        sh->left = sh->x0 - sh->rx;
        sh->width = 2 * sh->rx + 1;
    }
}

static void make_shape(struct shape *sh, struct cfp_rng *r, int64_t w, int64_t h)
{
    sh->kind = (enum shape_kind)cfp_rng_below(r, SH_KINDS_);
    make_geometry(sh, r, w, h);
    sh->gradient = cfp_rng_chance(r, 1, 2);
    random_colour(r, sh->rgb);
    random_colour(r, sh->rgb2);
    sh->opacity = (uint32_t)cfp_rng_range(r, 26000, 65536);
    sh->alpha = cfp_rng_chance(r, 1, 3) ? 65535 : (uint32_t)cfp_rng_below(r, 65536);
}

/* Draws everything that does not allocate: background, texture, shapes. */
static void make_params(struct cfp_gen_scene *s, struct cfp_rng *r, unsigned noise_amp)
{
    for (int i = 0; i < 4; i++)
        random_colour(r, s->corner[i]);
    s->alpha_top = (uint32_t)cfp_rng_below(r, 65536);
    s->alpha_bottom = (uint32_t)cfp_rng_below(r, 65536);
    s->noise_seed = cfp_rng_next(r);
    s->noise_amp = (int32_t)noise_amp;
    s->cell = (uint32_t)cfp_rng_range(r, 24, 160);
    s->gw = s->w / s->cell + 2;
    s->gh = s->h / s->cell + 2;
    for (int i = 0; i < 3; i++)
        s->tint[i] = (int32_t)cfp_rng_range(r, 128, 256);
    s->nshapes = (unsigned)cfp_rng_range(r, 4, SHAPES_MAX);
    for (unsigned i = 0; i < s->nshapes; i++)
        make_shape(&s->shapes[i], r, s->w, s->h);
}

cfp_err cfp_gen_scene_new(struct cfp_gen_scene **out, struct cfp_rng *r, uint32_t w, uint32_t h,
                          unsigned noise_amp)
{
    struct cfp_gen_scene *s;

    if (w == 0 || h == 0 || w > INT32_MAX || h > INT32_MAX)
        return CFP_ERR_TOO_BIG;
    s = cfp_calloc(1, sizeof(*s));
    if (!s)
        return CFP_ERR_NOMEM;
    s->w = w;
    s->h = h;
    make_params(s, r, noise_amp);
    s->g0 = cfp_malloc((size_t)s->gw * sizeof(*s->g0));
    s->g1 = cfp_malloc((size_t)s->gw * sizeof(*s->g1));
    s->colval = cfp_malloc((size_t)s->gw * sizeof(*s->colval));
    if (!s->g0 || !s->g1 || !s->colval) {
        cfp_gen_scene_free(&s);
        return CFP_ERR_NOMEM;
    }
    /* About 6..35 levels of an 8-bit channel: visible, but smooth. */
    s->amp = (int32_t)cfp_rng_range(r, 1500, 9000);
    /* The grid's values are the next gw * gh numbers of r, row by row (the
     * order the whole grid used to be drawn in, so small images keep their
     * pixels); they are drawn when rendering needs them, from this copy. */
    s->grid_rng = *r;
    *out = s;
    return CFP_ERR_OK;
}

void cfp_gen_scene_free(struct cfp_gen_scene **ps)
{
    if (!ps || !*ps)
        return;
    cfp_free((*ps)->g0);
    cfp_free((*ps)->g1);
    cfp_free((*ps)->colval);
    cfp_free(*ps);
    *ps = NULL;
}

/* Draws the next grid row of s->gen into row (NULL: drawn and dropped). */
static void draw_grid_row(struct cfp_gen_scene *s, int32_t *row)
{
    for (uint32_t i = 0; i < s->gw; i++) {
        int32_t v = (int32_t)cfp_rng_range(&s->gen, -s->amp, s->amp);
        if (row)
            row[i] = v;
    }
    s->next++;
}

/* Makes g0 and g1 grid rows k and k + 1 (k + 1 < gh always: gh is
 * h / cell + 2). Moving down one grid row draws one row; going back
 * (a new Adam7 pass) draws again from the grid's start: rows are
 * rendered top to bottom within a pass, so that happens once a pass. */
static void grid_rows(struct cfp_gen_scene *s, uint32_t k)
{
    int32_t *t;

    if (s->held && k == s->k0)
        return;
    if (s->held && k == s->k0 + 1) {
        t = s->g0;
        s->g0 = s->g1;
        s->g1 = t;
        draw_grid_row(s, s->g1);
        s->k0 = k;
        return;
    }
    if (!s->held || k < s->k0) {
        s->gen = s->grid_rng;
        s->next = 0;
    }
    while (s->next < k)
        draw_grid_row(s, NULL);
    draw_grid_row(s, s->g0);
    draw_grid_row(s, s->g1);
    s->k0 = k;
    s->held = true;
}

/* Linear interpolation a + (b - a) * num / den, den > 0. */
static uint32_t lerp(uint32_t a, uint32_t b, int64_t num, int64_t den)
{
    return (uint32_t)((int64_t)a + ((int64_t)b - (int64_t)a) * num / den);
}

static void background(const struct cfp_gen_scene *s, uint32_t y, uint16_t *px)
{
    int64_t hd = s->h > 1 ? s->h - 1 : 1, wd = s->w > 1 ? s->w - 1 : 1;
    uint32_t left[3], right[3];
    uint32_t a = lerp(s->alpha_top, s->alpha_bottom, y, hd);

    for (int c = 0; c < 3; c++) {
        left[c] = lerp(s->corner[0][c], s->corner[2][c], y, hd);
        right[c] = lerp(s->corner[1][c], s->corner[3][c], y, hd);
    }
    for (uint32_t x = 0; x < s->w; x++, px += 4) {
        for (int c = 0; c < 3; c++)
            px[c] = (uint16_t)lerp(left[c], right[c], x, wd);
        px[3] = (uint16_t)a;
    }
}

/* Blends the shape's colour at x over pixel px. */
static void blend(const struct shape *sh, int64_t x, int64_t y, uint16_t *px)
{
    uint32_t op = sh->opacity, keep = 65536 - sh->opacity;
    bool second =
        sh->kind == SH_CHECKER && (((x - sh->x0) / sh->period + (y - sh->y0) / sh->period) & 1);

    for (int c = 0; c < 3; c++) {
        uint32_t v = second ? sh->rgb2[c] : sh->rgb[c];
        /* A thick line reaches past its extent: clamp the extrapolation. */
        if (sh->gradient && !second)
            v = clamp16((int64_t)sh->rgb[c] +
                        ((int64_t)sh->rgb2[c] - (int64_t)sh->rgb[c]) * (x - sh->left) / sh->width);
        /* Both terms are < 2^16 * 2^16 together: fits in 32 bits. */
        px[c] = (uint16_t)((v * op + px[c] * keep) >> 16);
    }
    px[3] = (uint16_t)((sh->alpha * op + px[3] * keep) >> 16);
}

static void fill_span(const struct cfp_gen_scene *s, const struct shape *sh, int64_t a, int64_t b,
                      uint32_t y, uint16_t *row)
{
    if (a < 0)
        a = 0;
    if (b > (int64_t)s->w - 1)
        b = (int64_t)s->w - 1;
    for (int64_t x = a; x <= b; x++)
        blend(sh, x, y, row + 4 * x);
}

/* Half-width of the ellipse (rx, ry) at vertical offset dy, or -1 outside.
 * rx^2 * ry^2 passes 2^63 for sides over ~2^15: 128-bit, exact. */
static int64_t ellipse_half(int64_t rx, int64_t ry, int64_t dy)
{
    u128 num;

    if (dy < -ry || dy > ry || ry <= 0)
        return -1;
    num = (u128)(rx * rx) * (u128)(ry * ry - dy * dy);
    return isqrt((int64_t)(num / (u128)(ry * ry)));
}

/* Whether (x, y) is within sh->half of the segment: compares squared
 * distances exactly. Coordinates reach ~1.25 * 2^31, so the products need
 * 128 bits (squares of the cross product stay under 2^127). */
static bool on_line(const struct shape *sh, int64_t x, int64_t y)
{
    i128 dx = sh->x1 - sh->x0, dy = sh->y1 - sh->y0, px = x - sh->x0, py = y - sh->y0;
    i128 len2 = dx * dx + dy * dy, t = px * dx + py * dy, h2 = (i128)sh->half * sh->half;
    i128 cross = px * dy - py * dx;
    u128 c2 = (u128)(cross < 0 ? -cross : cross);

    if (t <= 0 || len2 == 0)
        return px * px + py * py <= h2;
    if (t >= len2)
        return (px - dx) * (px - dx) + (py - dy) * (py - dy) <= h2;
    return c2 * c2 <= (u128)(h2 * len2);
}

/* floor(n / d) and ceil(n / d) for d > 0 (C division truncates). */
static i128 floor_div(i128 n, i128 d)
{
    return n / d - (n % d != 0 && n < 0);
}

static i128 ceil_div(i128 n, i128 d)
{
    return n / d + (n % d != 0 && n > 0);
}

/* Narrows [*a, *b] to the columns of row y that can be on the line. The
 * thick segment lies inside the strip of half-width `half` around its
 * infinite line: |(x - x0) dy - (y - y0) dx| <= half * L, L the segment's
 * length; with L rounded up to an integer the strip only widens, so the
 * bounds are exact integer arithmetic and never cut a pixel; on_line()
 * still decides each pixel. Without this a long line in a huge image
 * scanned its whole bounding box, row after row. */
static void line_strip(const struct shape *sh, int64_t y, int64_t *a, int64_t *b)
{
    i128 dx = sh->x1 - sh->x0, dy = sh->y1 - sh->y0, c = (y - sh->y0) * dx, lo, hi;
    i128 r; /* half * L rounded up: sqrt's error on a double near L is far below 1 */

    if (dy == 0)
        return; /* horizontal (or a point): every column of the extent */
    r = (i128)sh->half * ((i128)sqrt((double)(dx * dx + dy * dy)) + 2);
    if (dy < 0) {
        dy = -dy;
        c = -c;
    }
    lo = floor_div(c - r, dy) + sh->x0;
    hi = ceil_div(c + r, dy) + sh->x0;
    if (lo > *a)
        *a = lo > *b ? *b + 1 : (int64_t)lo;
    if (hi < *b)
        *b = hi < *a ? *a - 1 : (int64_t)hi;
}

static void line_row(const struct cfp_gen_scene *s, const struct shape *sh, uint32_t y,
                     uint16_t *row)
{
    int64_t lo = (sh->y0 < sh->y1 ? sh->y0 : sh->y1) - sh->half;
    int64_t hi = (sh->y0 < sh->y1 ? sh->y1 : sh->y0) + sh->half;
    int64_t a = sh->left - sh->half, b = sh->left + sh->width + sh->half;

    if ((int64_t)y < lo || (int64_t)y > hi)
        return;
    if (a < 0)
        a = 0;
    if (b > (int64_t)s->w - 1)
        b = (int64_t)s->w - 1;
    line_strip(sh, y, &a, &b);
    for (int64_t x = a; x <= b; x++)
        if (on_line(sh, x, y))
            blend(sh, x, y, row + 4 * x);
}

static void shape_row(const struct cfp_gen_scene *s, const struct shape *sh, uint32_t y,
                      uint16_t *row)
{
    int64_t dy = (int64_t)y - sh->y0, ho, hi;

    switch (sh->kind) {
    case SH_RECT:
    case SH_CHECKER:
        if ((int64_t)y >= sh->y0 && (int64_t)y <= sh->y1)
            fill_span(s, sh, sh->x0, sh->x1, y, row);
        break;
    case SH_LINE:
        line_row(s, sh, y, row);
        break;
    case SH_RING:
        ho = ellipse_half(sh->rx, sh->rx, dy);
        hi = ellipse_half(sh->inner, sh->inner, dy);
        if (ho < 0)
            break;
        if (hi < 0) {
            fill_span(s, sh, sh->x0 - ho, sh->x0 + ho, y, row);
        } else {
            fill_span(s, sh, sh->x0 - ho, sh->x0 - hi - 1, y, row);
            fill_span(s, sh, sh->x0 + hi + 1, sh->x0 + ho, y, row);
        }
        break;
    default: /* circle, ellipse */
        ho = ellipse_half(sh->rx, sh->ry, dy);
        if (ho >= 0)
            fill_span(s, sh, sh->x0 - ho, sh->x0 + ho, y, row);
        break;
    }
}

/* Adds the bilinearly interpolated texture and the hashed fine noise. */
static void texture_row(struct cfp_gen_scene *s, uint32_t y, uint16_t *px)
{
    int64_t c = s->cell, fy = y % s->cell, fx = 0;
    uint32_t gx = 0, span = 2 * (uint32_t)s->noise_amp + 1;

    grid_rows(s, y / s->cell);
    for (uint32_t j = 0; j < s->gw; j++)
        s->colval[j] = s->g0[j] * (c - fy) + s->g1[j] * fy;
    for (uint32_t x = 0; x < s->w; x++, px += 4) {
        int64_t t = (s->colval[gx] * (c - fx) + s->colval[gx + 1] * fx) / (c * c);
        uint64_t h = cfp_rng_mix(s->noise_seed + (uint64_t)y * s->w + x);

        for (int k = 0; k < 4; k++) {
            /* 16 hash bits scaled to [-amp, amp]: one hash feeds 4 channels. */
            int64_t n = (int64_t)((((h >> (16 * k)) & 0xffff) * span) >> 16) - s->noise_amp;
            int64_t v = px[k] + n + (k < 3 ? t * s->tint[k] / 256 : 0);
            px[k] = (uint16_t)clamp16(v);
        }
        if (++fx == c) {
            fx = 0;
            gx++;
        }
    }
}

void cfp_gen_scene_row(struct cfp_gen_scene *s, uint32_t y, uint16_t *rgba)
{
    background(s, y, rgba);
    for (unsigned i = 0; i < s->nshapes; i++)
        shape_row(s, &s->shapes[i], y, rgba);
    texture_row(s, y, rgba);
}
