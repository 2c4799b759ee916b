/* test_gen.c - the dataset generator, the huge-image generator
 * (cfp_gen_big_png) and their PRNG.
 *
 * Without arguments: unit tests (determinism, seed sensitivity, counts,
 * directory errors, allocation failures, PRNG contracts; for the huge-image
 * generator the same plus its PNG read back by libpng).
 * `test_gen --generate DIR [IMAGES TEXTS CSV SEED]`: generates a dataset into
 * DIR and exits; tests/unit/gen_check.py uses it to check the content with PIL and
 * Python's csv module.
 * `test_gen --rng SEED N`: prints N outputs of cfp_rng_next() after
 * cfp_rng_seed(SEED), for gen_check.py's independent reference.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_err.h"
#include "lab/cfp_gen.h"
#include "base/cfp_mem.h"
#include "base/cfp_rng.h"
#include "cfp_test.h"

static char tmp_root[256];

/* Reads a whole file; caller frees. Fails the test if it cannot. */
static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    if (!f)
        CFP_FAILF("open %s: %s", path, strerror(errno));
    ASSERT(fseek(f, 0, SEEK_END) == 0);
    n = ftell(f);
    ASSERT(n >= 0);
    ASSERT(fseek(f, 0, SEEK_SET) == 0);
    buf = malloc((size_t)n + 1);
    ASSERT(buf != NULL);
    ASSERT_EQ(fread(buf, 1, (size_t)n, f), n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Counts the entries of dir (without . and ..) and, separately, those whose
 * name starts with prefix. */
static unsigned count_entries(const char *dir, const char *prefix, unsigned *with_prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    if (!d)
        CFP_FAILF("opendir %s: %s", dir, strerror(errno));
    *with_prefix = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            (*with_prefix)++;
    }
    closedir(d);
    return n;
}

static void remove_tree(const char *dir)
{
    char cmd[600];

    ASSERT(snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd));
    ASSERT_EQ(system(cmd), 0);
}

static void path_of(char *out, size_t n, const char *dir, const char *prefix, unsigned i,
                    const char *ext)
{
    ASSERT(snprintf(out, n, "%s/%s%04u%s", dir, prefix, i, ext) < (int)n);
}

struct progress_log {
    unsigned calls, last_done, total;
    bool ordered;
};

static void on_progress(void *ctx, unsigned done, unsigned total)
{
    struct progress_log *p = ctx;

    p->ordered = p->ordered && done == p->last_done + 1;
    p->calls++;
    p->last_done = done;
    p->total = total;
}

static cfp_err gen(const char *dir, unsigned ni, unsigned nt, unsigned nc, uint64_t seed,
                   struct cfp_status *st)
{
    struct cfp_gen_opts o = {
        .dir = dir, .num_images = ni, .num_texts = nt, .num_csv = nc, .seed = seed};

    cfp_status_clear(st);
    return cfp_gen_dataset(&o, NULL, NULL, st);
}

static const struct {
    const char *prefix, *ext;
} kinds[3] = {{"image_", ".png"}, {"text_", ".txt"}, {"data_", ".csv"}};

/* Compares file i of each kind between dirs a and b; returns how many of
 * the compared files are byte-identical. */
static unsigned compare_dirs(const char *a, const char *b, const unsigned counts[3])
{
    unsigned same = 0;

    for (int k = 0; k < 3; k++) {
        for (unsigned i = 0; i < counts[k]; i++) {
            char pa[512], pb[512];
            size_t la, lb;
            unsigned char *da, *db;

            path_of(pa, sizeof(pa), a, kinds[k].prefix, i, kinds[k].ext);
            path_of(pb, sizeof(pb), b, kinds[k].prefix, i, kinds[k].ext);
            da = read_all(pa, &la);
            db = read_all(pb, &lb);
            ASSERT(la > 0);
            same += la == lb && memcmp(da, db, la) == 0;
            free(da);
            free(db);
        }
    }
    return same;
}

/* Same seed twice: identical bytes; another seed: every file differs; the
 * directory holds exactly the requested files (no temporary left). */
static void test_deterministic(void)
{
    /* 10 images cover every format slot; texts and CSVs of strata 0..2. */
    const unsigned counts[3] = {10, 3, 3}, fewer[3] = {4, 3, 3};
    char a[300], b[300], c[300];
    struct cfp_status st;
    struct progress_log log = {.ordered = true};
    struct cfp_gen_opts o = {
        .num_images = counts[0], .num_texts = counts[1], .num_csv = counts[2], .seed = 42};
    unsigned n, pre;

    snprintf(a, sizeof(a), "%s/a/nested", tmp_root);
    snprintf(b, sizeof(b), "%s/b", tmp_root);
    snprintf(c, sizeof(c), "%s/c", tmp_root);
    o.dir = a;
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_gen_dataset(&o, on_progress, &log, &st), CFP_ERR_OK);
    ASSERT_EQ(log.calls, 16);
    ASSERT_EQ(log.total, 16);
    ASSERT(log.ordered);
    ASSERT_EQ(gen(b, counts[0], counts[1], counts[2], 42, &st), CFP_ERR_OK);
    ASSERT_EQ(compare_dirs(a, b, counts), 16);
    for (int k = 0; k < 3; k++) {
        n = count_entries(a, kinds[k].prefix, &pre);
        ASSERT_EQ(n, 16);
        ASSERT_EQ(pre, counts[k]);
    }
    ASSERT_EQ(count_entries(a, ".", &pre), 16);
    ASSERT_EQ(pre, 0);
    /* Fewer images here only to keep the test fast under valgrind. */
    ASSERT_EQ(gen(c, fewer[0], fewer[1], fewer[2], 43, &st), CFP_ERR_OK);
    ASSERT_EQ(compare_dirs(a, c, fewer), 0);
}

/* File i depends only on (seed, kind, i): fewer files are a prefix, also
 * when written over an existing dataset of another seed. */
static void test_prefix_stable(void)
{
    const unsigned counts[3] = {3, 2, 1};
    char a[300], c[300];
    struct cfp_status st;
    unsigned pre;

    snprintf(a, sizeof(a), "%s/a/nested", tmp_root);
    snprintf(c, sizeof(c), "%s/c", tmp_root);
    ASSERT_EQ(gen(c, counts[0], counts[1], counts[2], 42, &st), CFP_ERR_OK);
    ASSERT_EQ(compare_dirs(a, c, counts), 6);
    ASSERT_EQ(count_entries(c, ".", &pre), 10);
    ASSERT_EQ(pre, 0);
    ASSERT_EQ(gen(c, 0, 0, 0, 42, &st), CFP_ERR_OK); /* nothing to do is fine */
}

static void test_bad_dir(void)
{
    char file[300], under[400];
    struct cfp_status st;
    FILE *f;

    snprintf(file, sizeof(file), "%s/regular", tmp_root);
    f = fopen(file, "w");
    ASSERT(f != NULL);
    fclose(f);
    snprintf(under, sizeof(under), "%s/sub/dir", file);
    ASSERT_EQ(gen(under, 1, 0, 0, 1, &st), CFP_ERR_IO);
    ASSERT_EQ(st.code, CFP_ERR_IO);
    ASSERT_CONTAINS(st.msg, "mkdir");
    ASSERT_CONTAINS(st.msg, file);
    ASSERT_CONTAINS(st.msg, strerror(ENOTDIR));
    ASSERT_EQ(gen(file, 0, 1, 0, 1, &st), CFP_ERR_IO);
    ASSERT_CONTAINS(st.msg, file);
    ASSERT_CONTAINS(st.msg, strerror(ENOTDIR));
    ASSERT_EQ(gen("", 1, 0, 0, 1, &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "empty");
    ASSERT_EQ(gen(NULL, 1, 0, 0, 1, &st), CFP_ERR_USAGE);
    cfp_status_clear(&st);
    ASSERT_EQ(cfp_gen_dataset(NULL, NULL, NULL, &st), CFP_ERR_USAGE);
    ASSERT_EQ(cfp_gen_dataset(NULL, NULL, NULL, NULL), CFP_ERR_USAGE);
    /* Over the limit: refused before anything is created. */
    snprintf(under, sizeof(under), "%s/never", tmp_root);
    ASSERT_EQ(gen(under, 0, CFP_GEN_MAX_COUNT + 1, 0, 1, &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "over the limit");
    ASSERT(access(under, F_OK) != 0);
}

/* Fails the n-th allocation for n = 1, 2, ... until generation succeeds:
 * every failure must be NOMEM with a message and leave no temporary file. */
static void test_alloc_failures(void)
{
    char dir[300];
    struct cfp_status st;
    cfp_err err;
    unsigned n, pre, failures = 0;

    snprintf(dir, sizeof(dir), "%s/nomem", tmp_root);
    ASSERT_EQ(mkdir(dir, 0777), 0);
    for (long k = 1; k < 1000; k++) {
        cfp_mem_fail_after(k);
        err = gen(dir, 1, 1, 1, 7, &st);
        cfp_mem_fail_after(0);
        n = count_entries(dir, ".cfp-gen-", &pre);
        ASSERT_EQ(pre, 0);
        if (err == CFP_ERR_OK) {
            ASSERT_EQ(n, 3);
            break;
        }
        ASSERT_EQ(err, CFP_ERR_NOMEM);
        ASSERT(st.msg[0] != '\0');
        ASSERT_CONTAINS(st.msg, "out of memory");
        failures++;
    }
    ASSERT_EQ(err, CFP_ERR_OK);
    /* Scene, buffers, libpng/zlib, vocabularies: several allocation sites. */
    ASSERT(failures >= 8);
}

/* Published reference outputs: SplitMix64 from state 1234567 (Rosetta Code,
 * "Pseudo-random numbers/Splitmix64") and xoshiro256** from the state
 * {1, 2, 3, 4} (outputs of Vigna's xoshiro256starstar.c). */
static void test_rng_known_answers(void)
{
    static const uint64_t sm[5] = {UINT64_C(6457827717110365317), UINT64_C(3203168211198807973),
                                   UINT64_C(9817491932198370423), UINT64_C(4593380528125082431),
                                   UINT64_C(16408922859458223821)};
    static const uint64_t xo[10] = {UINT64_C(11520),
                                    UINT64_C(0),
                                    UINT64_C(1509978240),
                                    UINT64_C(1215971899390074240),
                                    UINT64_C(1216172134540287360),
                                    UINT64_C(607988272756665600),
                                    UINT64_C(16172922978634559625),
                                    UINT64_C(8476171486693032832),
                                    UINT64_C(10595114339597558777),
                                    UINT64_C(2904607092377533576)};
    uint64_t state = 1234567;
    struct cfp_rng r = {{1, 2, 3, 4}};

    for (int i = 0; i < 5; i++)
        ASSERT(cfp_rng_splitmix64(&state) == sm[i]);
    for (int i = 0; i < 10; i++)
        ASSERT(cfp_rng_next(&r) == xo[i]);
}

static void test_rng_contracts(void)
{
    struct cfp_rng r, r2;
    unsigned buckets[10] = {0};
    uint64_t first;

    cfp_rng_seed(&r, 1);
    cfp_rng_seed(&r2, 1);
    first = cfp_rng_next(&r);
    ASSERT(first == cfp_rng_next(&r2));
    cfp_rng_seed(&r2, 2);
    ASSERT(first != cfp_rng_next(&r2));
    ASSERT_EQ(cfp_rng_below(&r, 0), 0);
    ASSERT_EQ(cfp_rng_below(&r, 1), 0);
    ASSERT_EQ(cfp_rng_range(&r, 5, 5), 5);
    ASSERT_EQ(cfp_rng_range(&r, 5, 3), 5);
    ASSERT(!cfp_rng_chance(&r, 0, 10));
    ASSERT(cfp_rng_chance(&r, 10, 10));
    ASSERT(!cfp_rng_chance(&r, 1, 0));
    for (int i = 0; i < 100000; i++) {
        int64_t v = cfp_rng_range(&r, -3, 6);
        ASSERT(v >= -3 && v <= 6);
        buckets[v + 3]++;
    }
    /* Expected 10,000 each; 5 sigma is about 470. */
    for (int i = 0; i < 10; i++)
        ASSERT(buckets[i] > 9500 && buckets[i] < 10500);
    /* Extreme ranges do not overflow. */
    (void)cfp_rng_range(&r, INT64_MIN, INT64_MAX);
    ASSERT(cfp_rng_range(&r, INT64_MAX - 1, INT64_MAX) >= INT64_MAX - 1);
    /* Streams: distinct indices and streams give distinct sequences. */
    cfp_rng_seed_stream(&r, 42, 1, 0);
    cfp_rng_seed_stream(&r2, 42, 1, 1);
    ASSERT(cfp_rng_next(&r) != cfp_rng_next(&r2));
    cfp_rng_seed_stream(&r, 42, 1, 0);
    cfp_rng_seed_stream(&r2, 42, 2, 0);
    ASSERT(cfp_rng_next(&r) != cfp_rng_next(&r2));
}

/* generate-image's generator: o with path dir/name, st cleared. */
static cfp_err gen_big(struct cfp_gen_big_opts *o, const char *dir, const char *name, char *path,
                       size_t size, struct cfp_status *st)
{
    ASSERT(snprintf(path, size, "%s/%s", dir, name) < (int)size);
    o->path = path;
    cfp_status_clear(st);
    return cfp_gen_big_png(o, NULL, NULL, st);
}

/* The IHDR of a PNG file as written (independent of libpng's reader):
 * width, height, bit depth, colour type, interlace method. */
static void check_ihdr(const unsigned char *d, size_t n, uint32_t w, uint32_t h, int type,
                       int interlace)
{
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};

    ASSERT(n > 33);
    ASSERT(memcmp(d, sig, 8) == 0 && memcmp(d + 12, "IHDR", 4) == 0);
    ASSERT_EQ((uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19], w);
    ASSERT_EQ((uint32_t)d[20] << 24 | (uint32_t)d[21] << 16 | (uint32_t)d[22] << 8 | d[23], h);
    ASSERT_EQ(d[24], 8);
    ASSERT_EQ(d[25], type);
    ASSERT_EQ(d[28], interlace);
}

/* Decodes path with libpng's simplified API to 8-bit RGBA; caller frees. */
static unsigned char *decode_rgba(const char *path, uint32_t w, uint32_t h)
{
    png_image img;
    unsigned char *px;

    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        CFP_FAILF("libpng: %s: %s", path, img.message);
    ASSERT_EQ(img.width, w);
    ASSERT_EQ(img.height, h);
    img.format = PNG_FORMAT_RGBA;
    px = malloc(PNG_IMAGE_SIZE(img));
    ASSERT(px != NULL);
    if (!png_image_finish_read(&img, NULL, px, 0, NULL))
        CFP_FAILF("libpng: %s: %s", path, img.message);
    return px;
}

/* Same options twice: the same bytes; another seed: other bytes. The PNG
 * says what was asked (read from its IHDR), libpng decodes it, Adam7 holds
 * the same pixels, every colour type is the picture's, and no noise
 * compresses far better than the default. */
static void test_big_deterministic(void)
{
    static const int types[4] = {0, 4, 2, 6}; /* PNG colour types of gray .. rgba */
    struct cfp_gen_big_opts o = {.width = 97,
                                 .height = 61,
                                 .seed = 7,
                                 .color = CFP_GEN_RGB,
                                 .noise = CFP_GEN_BIG_DEFAULT_NOISE,
                                 .zlevel = 1};
    char a[400], b[400];
    struct cfp_status st;
    unsigned char *da, *db, *pa, *pb;
    size_t la, lb;

    ASSERT_EQ(gen_big(&o, tmp_root, "big_a.png", a, sizeof(a), &st), CFP_ERR_OK);
    ASSERT_EQ(gen_big(&o, tmp_root, "big_b.png", b, sizeof(b), &st), CFP_ERR_OK);
    da = read_all(a, &la);
    db = read_all(b, &lb);
    ASSERT(la == lb && memcmp(da, db, la) == 0);
    check_ihdr(da, la, 97, 61, 2, 0);
    free(db);
    o.seed = 8;
    ASSERT_EQ(gen_big(&o, tmp_root, "big_b.png", b, sizeof(b), &st), CFP_ERR_OK);
    db = read_all(b, &lb);
    ASSERT(la != lb || memcmp(da, db, la) != 0);
    free(db);
    o.seed = 7;
    o.interlace = true;
    ASSERT_EQ(gen_big(&o, tmp_root, "big_b.png", b, sizeof(b), &st), CFP_ERR_OK);
    db = read_all(b, &lb);
    check_ihdr(db, lb, 97, 61, 2, 1);
    free(db);
    pa = decode_rgba(a, 97, 61);
    pb = decode_rgba(b, 97, 61);
    ASSERT(memcmp(pa, pb, (size_t)97 * 61 * 4) == 0);
    free(pb);
    for (int c = CFP_GEN_GRAY; c <= CFP_GEN_RGBA; c++) {
        o.color = (enum cfp_gen_color)c;
        o.interlace = c % 2 == 1;
        ASSERT_EQ(gen_big(&o, tmp_root, "big_b.png", b, sizeof(b), &st), CFP_ERR_OK);
        db = read_all(b, &lb);
        check_ihdr(db, lb, 97, 61, types[c], o.interlace);
        free(db);
        pb = decode_rgba(b, 97, 61);
        /* RGB (c >= 2) is the RGB picture exactly; gray is its luma. */
        for (size_t i = 0; c >= CFP_GEN_RGB && i < (size_t)97 * 61 * 4; i += 4)
            ASSERT(memcmp(pa + i, pb + i, 3) == 0);
        free(pb);
    }
    free(pa);
    free(da);
    o.color = CFP_GEN_RGB;
    o.interlace = false;
    o.width = o.height = 400;
    ASSERT_EQ(gen_big(&o, tmp_root, "big_a.png", a, sizeof(a), &st), CFP_ERR_OK);
    o.noise = 0;
    ASSERT_EQ(gen_big(&o, tmp_root, "big_b.png", b, sizeof(b), &st), CFP_ERR_OK);
    da = read_all(a, &la);
    db = read_all(b, &lb);
    ASSERT(lb * 2 < la); /* measured: 3.2x smaller (5.3x at 2000x2000) */
    free(da);
    free(db);
}

/* Options out of range are usage errors; a missing directory is an I/O
 * error naming the path; the n-th allocation failing is NOMEM with a
 * message; none of them leaves a file. The number of allocations does not
 * grow with the height (nothing is allocated per row or per image). */
static long big_alloc_failures(uint32_t h)
{
    struct cfp_gen_big_opts o = {
        .width = 33, .height = h, .color = CFP_GEN_RGBA, .interlace = true};
    char p[400];
    struct cfp_status st;
    unsigned pre;
    cfp_err err = CFP_ERR_NOMEM;
    long k;

    for (k = 1; k < 1000 && err; k++) {
        cfp_mem_fail_after(k);
        err = gen_big(&o, tmp_root, "big_nomem.png", p, sizeof(p), &st);
        cfp_mem_fail_after(0);
        count_entries(tmp_root, ".cfp-gen-", &pre);
        ASSERT_EQ(pre, 0);
        if (err) {
            ASSERT_EQ(err, CFP_ERR_NOMEM);
            ASSERT_CONTAINS(st.msg, "out of memory");
            ASSERT_CONTAINS(st.msg, p);
        }
    }
    ASSERT_EQ(err, CFP_ERR_OK);
    return k;
}

static void test_big_errors(void)
{
    struct cfp_gen_big_opts ok = {.width = 4, .height = 4, .zlevel = 1}, o;
    char p[400];
    struct cfp_status st;
    unsigned pre;

    o = ok;
    o.width = 0;
    ASSERT_EQ(gen_big(&o, tmp_root, "x.png", p, sizeof(p), &st), CFP_ERR_USAGE);
    ASSERT_CONTAINS(st.msg, "size 0x4");
    o = ok;
    o.noise = CFP_GEN_BIG_NOISE_MAX + 1;
    ASSERT_EQ(gen_big(&o, tmp_root, "x.png", p, sizeof(p), &st), CFP_ERR_USAGE);
    o = ok;
    o.zlevel = 10;
    ASSERT_EQ(gen_big(&o, tmp_root, "x.png", p, sizeof(p), &st), CFP_ERR_USAGE);
    o = ok;
    o.color = (enum cfp_gen_color)9;
    ASSERT_EQ(gen_big(&o, tmp_root, "x.png", p, sizeof(p), &st), CFP_ERR_USAGE);
    ASSERT_EQ(cfp_gen_big_png(NULL, NULL, NULL, NULL), CFP_ERR_USAGE);
    o = ok;
    ASSERT_EQ(gen_big(&o, tmp_root, "no/such/dir/x.png", p, sizeof(p), &st), CFP_ERR_IO);
    ASSERT_CONTAINS(st.msg, "no/such/dir");
    ASSERT_CONTAINS(st.msg, strerror(ENOENT));
    ASSERT(access(p, F_OK) != 0);
    snprintf(p, sizeof(p), "%s/x.png", tmp_root);
    ASSERT(access(p, F_OK) != 0);
    count_entries(tmp_root, ".cfp-gen-", &pre);
    ASSERT_EQ(pre, 0);
    ASSERT_EQ(big_alloc_failures(5), big_alloc_failures(3000));
}

static int tool_mode(int argc, char **argv)
{
    struct cfp_status st;
    struct cfp_gen_opts o = {.num_images = CFP_GEN_DEFAULT_IMAGES,
                             .num_texts = CFP_GEN_DEFAULT_TEXTS,
                             .num_csv = CFP_GEN_DEFAULT_CSV,
                             .seed = CFP_GEN_DEFAULT_SEED};
    cfp_err err;

    if (strcmp(argv[1], "--rng") == 0 && argc == 4) {
        struct cfp_rng r;
        unsigned long long n = strtoull(argv[3], NULL, 10);
        cfp_rng_seed(&r, strtoull(argv[2], NULL, 0));
        for (unsigned long long i = 0; i < n; i++)
            printf("%" PRIu64 "\n", cfp_rng_next(&r));
        return 0;
    }
    if (strcmp(argv[1], "--generate") != 0 || (argc != 3 && argc != 7)) {
        fprintf(stderr,
                "usage: test_gen [--generate DIR [IMAGES TEXTS CSV SEED] | --rng SEED N]\n");
        return 2;
    }
    o.dir = argv[2];
    if (argc == 7) {
        o.num_images = (unsigned)strtoul(argv[3], NULL, 10);
        o.num_texts = (unsigned)strtoul(argv[4], NULL, 10);
        o.num_csv = (unsigned)strtoul(argv[5], NULL, 10);
        o.seed = strtoull(argv[6], NULL, 0);
    }
    cfp_status_clear(&st);
    err = cfp_gen_dataset(&o, NULL, NULL, &st);
    if (err) {
        fprintf(stderr, "test_gen: %s: %s\n", cfp_errname(err), st.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR");

    if (argc > 1)
        return tool_mode(argc, argv);
    snprintf(tmp_root, sizeof(tmp_root), "%s/cfp-test-gen-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp_root))
        CFP_FAILF("mkdtemp %s: %s", tmp_root, strerror(errno));
    test_rng_known_answers();
    test_rng_contracts();
    test_bad_dir();
    test_deterministic();
    test_prefix_stable();
    test_alloc_failures();
    test_big_deterministic();
    test_big_errors();
    remove_tree(tmp_root);
    puts("test_gen: ok");
    return 0;
}
