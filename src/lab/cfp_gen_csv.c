/* cfp_gen_csv.c - CSV files (RFC 4180): a header and rows of integers,
 * decimals, dates, names and free text, where the free text needs quoting
 * (commas, doubled quotes, embedded newlines) and some fields are empty. */
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "lab/cfp_gen_internal.h"
#include "base/cfp_mem.h"

#define FIELD_MAX 2048
#define COLS_MAX  12
/* Row counts are log-uniform from 10 to ~50,000: 10 * 2^12 * (1 + 226/1024). */
#define CSV_MIN_ROWS 10
#define CSV_SPAN_Q10 12514

enum col_type {
    COL_ID,
    COL_INT,
    COL_DEC,
    COL_SCI,
    COL_NAME,
    COL_DATE,
    COL_TIME,
    COL_BOOL,
    COL_TEXT,
    COL_CODE,
    COL_TYPES_
};

static const char *const col_names[COL_TYPES_] = {
    "id", "count", "amount", "ratio", "name", "date", "timestamp", "active", "comment", "code",
};

struct col {
    enum col_type type;
    unsigned empty_per_100; /* chance that a field is empty */
    unsigned param;         /* INT: magnitude class; DEC: decimals; BOOL: style */
};

struct csv_gen {
    FILE *f;
    struct cfp_rng r;
    const struct cfp_gen_vocab *v;
    struct col cols[COLS_MAX];
    unsigned ncols;
    unsigned text_col; /* the one column that surely has free text */
    bool quote_all;    /* quote every non-numeric field, as some exporters do */
    const char *eol;
};

/* A bounded field buffer (see cfp_gen_append). */
struct field {
    char s[FIELD_MAX];
    size_t n;
};

static void fadd(struct field *fl, const char *s, size_t len)
{
    cfp_gen_append(fl->s, sizeof(fl->s), &fl->n, s, len);
}

/* printf into the field; output beyond the buffer is dropped. */
static void faddf(struct field *fl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void faddf(struct field *fl, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        fadd(fl, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void add_word(struct csv_gen *g, struct field *fl, bool capital)
{
    size_t len, start = fl->n;
    const char *w = cfp_gen_vocab_pick(g->v, &g->r, &len);

    if (cfp_rng_chance(&g->r, 1, 15)) {
        w = cfp_gen_multibyte_word(&g->r);
        len = strlen(w);
        capital = false;
    }
    fadd(fl, w, len);
    if (capital && fl->n > start && fl->s[start] >= 'a' && fl->s[start] <= 'z')
        fl->s[start] = (char)(fl->s[start] - 'a' + 'A');
}

static void gen_name(struct csv_gen *g, struct field *fl)
{
    unsigned n = (unsigned)cfp_rng_range(&g->r, 1, 3);

    /* "Last, First" forces quoting in an otherwise plain column. */
    if (n >= 2 && cfp_rng_chance(&g->r, 1, 8)) {
        add_word(g, fl, true);
        fadd(fl, ", ", 2);
        add_word(g, fl, true);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        if (i)
            fadd(fl, " ", 1);
        add_word(g, fl, true);
    }
}

/* Free text; with force, it surely holds a comma, a quoted phrase and a line
 * break, so every file exercises all three quoting cases. */
static void gen_text(struct csv_gen *g, struct field *fl, bool force)
{
    unsigned n = (unsigned)cfp_rng_range(&g->r, 1, 15);
    unsigned quote_at =
        force || cfp_rng_chance(&g->r, 1, 6) ? (unsigned)cfp_rng_below(&g->r, n) : n;
    unsigned nl_at = force || cfp_rng_chance(&g->r, 1, 8) ? (unsigned)cfp_rng_below(&g->r, n) : n;
    unsigned comma_at = force ? (unsigned)cfp_rng_below(&g->r, n) : n;

    for (unsigned i = 0; i < n; i++) {
        if (i)
            fadd(fl, i == nl_at ? "\n" : " ", 1);
        if (i == quote_at)
            fadd(fl, "\"", 1);
        add_word(g, fl, i == 0);
        if (i == quote_at)
            fadd(fl, "\"", 1);
        if (i + 1 < n && (i == comma_at || cfp_rng_chance(&g->r, 1, 5)))
            fadd(fl, ",", 1);
    }
    if (n == 1 && force)
        fadd(fl, ",\nend", 5);
    if (cfp_rng_chance(&g->r, 1, 3))
        fadd(fl, cfp_rng_chance(&g->r, 1, 5) ? "!" : ".", 1);
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : d[m - 1];
}

static void gen_date(struct csv_gen *g, struct field *fl, bool with_time)
{
    int y = (int)cfp_rng_range(&g->r, 1970, 2030), m = (int)cfp_rng_range(&g->r, 1, 12);
    int d = (int)cfp_rng_range(&g->r, 1, days_in_month(y, m));
    int hh, mm, ss;

    faddf(fl, "%04d-%02d-%02d", y, m, d);
    if (!with_time)
        return;
    /* One draw per statement: argument evaluation order is unspecified. */
    hh = (int)cfp_rng_below(&g->r, 24);
    mm = (int)cfp_rng_below(&g->r, 60);
    ss = (int)cfp_rng_below(&g->r, 60);
    faddf(fl, "T%02d:%02d:%02dZ", hh, mm, ss);
}

/* Fixed-point decimal: integer arithmetic only, so the digits are the same
 * everywhere (no printf("%f") rounding questions). decimals is 1..4. */
static void gen_decimal(struct csv_gen *g, struct field *fl, unsigned decimals)
{
    static const long long pow10[] = {1, 10, 100, 1000, 10000};
    long long v = cfp_rng_range(&g->r, -100000000, 100000000), p = pow10[decimals];
    long long a = v < 0 ? -v : v;

    faddf(fl, "%s%lld.%0*lld", v < 0 ? "-" : "", a / p, (int)decimals, a % p);
}

static void gen_int(struct csv_gen *g, struct field *fl, unsigned magnitude)
{
    static const long long lim[] = {1000, 1000000, 4000000000LL, 9000000000000000000LL};
    long long v = magnitude == 0 ? cfp_rng_range(&g->r, 0, lim[0])
                                 : cfp_rng_range(&g->r, -lim[magnitude], lim[magnitude]);

    faddf(fl, "%lld", v);
}

/* One draw per statement: argument evaluation order is unspecified. */
static void gen_sci(struct csv_gen *g, struct field *fl)
{
    int mant = (int)cfp_rng_range(&g->r, -9, 9);
    int frac = (int)cfp_rng_below(&g->r, 1000);
    int exp = (int)cfp_rng_range(&g->r, -12, 12);

    faddf(fl, "%d.%03de%+d", mant, frac, exp);
}

static void gen_code(struct csv_gen *g, struct field *fl)
{
    char c[2];

    /* Not an initialiser list: the order of its evaluations is unspecified. */
    c[0] = (char)('A' + cfp_rng_below(&g->r, 26));
    c[1] = (char)('A' + cfp_rng_below(&g->r, 26));
    fadd(fl, c, 2);
    faddf(fl, "-%04d", (int)cfp_rng_below(&g->r, 10000));
}

static void gen_bool(struct csv_gen *g, struct field *fl, unsigned style)
{
    static const char *const t[3][2] = {{"false", "true"}, {"0", "1"}, {"FALSE", "TRUE"}};
    const char *s = t[style % 3][cfp_rng_below(&g->r, 2)];

    fadd(fl, s, strlen(s));
}

/* Fills fl with the value of column c in data row row (1-based). */
static void gen_field(struct csv_gen *g, const struct col *c, uint64_t row, struct field *fl)
{
    switch (c->type) {
    case COL_ID:
        faddf(fl, "%llu", (unsigned long long)row);
        break;
    case COL_INT:
        gen_int(g, fl, c->param);
        break;
    case COL_DEC:
        gen_decimal(g, fl, c->param);
        break;
    case COL_SCI:
        gen_sci(g, fl);
        break;
    case COL_NAME:
        gen_name(g, fl);
        break;
    case COL_DATE:
    case COL_TIME:
        gen_date(g, fl, c->type == COL_TIME);
        break;
    case COL_BOOL:
        gen_bool(g, fl, c->param);
        break;
    case COL_TEXT:
        gen_text(g, fl, row == 1);
        break;
    default:
        gen_code(g, fl);
        break;
    }
}

static bool is_numeric(enum col_type t)
{
    return t == COL_ID || t == COL_INT || t == COL_DEC || t == COL_SCI;
}

/* Writes one field, quoted when its bytes require it (or quote_all asks),
 * with inner quotes doubled (RFC 4180). */
static void put_field(struct csv_gen *g, const char *s, size_t n, bool numeric)
{
    bool q = (g->quote_all && !numeric) || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));

    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) {
        cfp_gen_put(g->f, s, n);
        return;
    }
    putc('"', g->f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putc('"', g->f);
        putc(s[i], g->f);
    }
    putc('"', g->f);
}

static void choose_columns(struct csv_gen *g)
{
    g->ncols = (unsigned)cfp_rng_range(&g->r, 4, COLS_MAX);
    g->text_col = (unsigned)cfp_rng_range(&g->r, 1, g->ncols - 1);
    for (unsigned i = 0; i < g->ncols; i++) {
        struct col *c = &g->cols[i];
        uint64_t e = cfp_rng_below(&g->r, 10);

        c->type = i == 0             ? COL_ID
                  : i == g->text_col ? COL_TEXT
                                     : (enum col_type)cfp_rng_range(&g->r, COL_INT, COL_CODE);
        c->empty_per_100 = i == 0 ? 0 : e < 5 ? 0 : e < 8 ? 5 : 25;
        c->param = c->type == COL_INT   ? (unsigned)cfp_rng_below(&g->r, 4)
                   : c->type == COL_DEC ? (unsigned)cfp_rng_range(&g->r, 1, 4)
                                        : (unsigned)cfp_rng_below(&g->r, 3);
    }
}

static void header(struct csv_gen *g)
{
    /* Some headers need quoting too. */
    bool odd = cfp_rng_chance(&g->r, 1, 3);

    for (unsigned i = 0; i < g->ncols; i++) {
        struct field fl = {.n = 0};
        const char *name = col_names[g->cols[i].type];

        if (i)
            putc(',', g->f);
        if (odd && i == g->text_col)
            name = "comment, \"free\" text";
        fadd(&fl, name, strlen(name));
        /* Unique names: suffix the column number to all but id and the
         * main text column. */
        if (i != 0 && i != g->text_col)
            faddf(&fl, "_%u", i);
        put_field(g, fl.s, fl.n, false);
    }
    cfp_gen_put(g->f, g->eol, strlen(g->eol));
}

static void row(struct csv_gen *g, uint64_t n, bool last_eol)
{
    for (unsigned i = 0; i < g->ncols; i++) {
        const struct col *c = &g->cols[i];
        struct field fl = {.n = 0};

        if (i)
            putc(',', g->f);
        if (c->empty_per_100 && cfp_rng_below(&g->r, 100) < c->empty_per_100)
            continue;
        gen_field(g, c, n, &fl);
        put_field(g, fl.s, fl.n, is_numeric(c->type));
    }
    if (last_eol)
        cfp_gen_put(g->f, g->eol, strlen(g->eol));
}

cfp_err cfp_gen_csv_file(FILE *f, uint64_t seed, unsigned index, enum cfp_gen_profile profile,
                         struct cfp_status *st)
{
    struct cfp_gen_vocab *v = NULL;
    struct csv_gen g = {.f = f};
    uint64_t rows;
    bool final_eol;

    if (cfp_gen_vocab_new(&v))
        return cfp_status_set(st, CFP_ERR_NOMEM, "CSV vocabulary: out of memory");
    g.v = v;
    cfp_rng_seed_stream(&g.r, seed, CFP_GEN_STREAM_CSV, index);
    if (profile == CFP_GEN_SMALL) /* 10 .. ~160 rows */
        rows = cfp_gen_log_spread(&g.r, cfp_gen_stratum(index), CSV_MIN_ROWS, 4 * 1024);
    else
        rows = cfp_gen_log_spread(&g.r, cfp_gen_stratum(index), CSV_MIN_ROWS, CSV_SPAN_Q10);
    g.quote_all = cfp_rng_chance(&g.r, 1, 4);
    g.eol = cfp_rng_chance(&g.r, 1, 3) ? "\r\n" : "\n";
    /* A missing final line break is legal and a classic parser trap. */
    final_eol = !cfp_rng_chance(&g.r, 1, 8);
    choose_columns(&g);
    header(&g);
    for (uint64_t i = 1; i <= rows && !ferror(f); i++)
        row(&g, i, i < rows || final_eol);
    cfp_gen_vocab_free(&v);
    return CFP_ERR_OK;
}
