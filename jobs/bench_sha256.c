/* bench_sha256.c - cfp's SHA-256 (src/base/cfp_sha256.c, OpenSSL EVP) against
 * the hand-written SHA-NI code it replaced, on the outputs of a cfp run.
 * Built and run by jobs/bench_sha256.sh, which compiles the hand-written
 * code from git with its symbols renamed hand_sha256_*.
 *
 *   bench_sha256 OUTDIR TRACE [ROUNDS]
 *
 * OUTDIR: the outputs (every regular file, by name). TRACE: the sizes cfp
 * passed to cfp_sha256_update while writing them ("I" per cfp_sha256_init,
 * "W N" per cfp_out_write; recorded with gdb by the script). Three patterns:
 * "cold" (one update per file, from a buffer far larger than the caches),
 * "stream" (the trace replayed over the same bytes, each chunk in cache
 * when hashed, as in cfp), and "cached" (the first MiB 160 times: the block code alone,
 * input in cache). Per round and pattern both run, in alternating order; the
 * medians of ROUNDS (default 9) are printed as MB/s and seconds. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cfp_sha256.h"

/* The hand-written code's API, as it was (renamed by the script). */
struct hand_sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t fill;
};
void hand_sha256_init(struct hand_sha256 *c);
void hand_sha256_update(struct hand_sha256 *c, const void *data, size_t len);
void hand_sha256_final_hex(struct hand_sha256 *c, char hex[65]);
_Bool hand_sha256_use_hw(_Bool on);

static unsigned char *data; /* every output, concatenated */
static size_t ndata, nfiles, *file_len;
static size_t *chunks, nchunks; /* the trace: SIZE_MAX marks an init */

static void die(const char *what)
{
    perror(what);
    exit(3);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_outputs(const char *dir)
{
    char **names = NULL, path[4096];
    size_t n = 0, i;
    struct dirent *e;
    DIR *d = opendir(dir);
    FILE *f;
    long len;

    if (!d)
        die(dir);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!(names = realloc(names, (n + 1) * sizeof(*names))) || !(names[n++] = strdup(e->d_name)))
            die("realloc");
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    if (!(file_len = calloc(n ? n : 1, sizeof(*file_len))))
        die("calloc");
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (!(f = fopen(path, "rb")) || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
            die(path);
        rewind(f);
        if (!(data = realloc(data, ndata + (size_t)len + 1)) ||
            fread(data + ndata, 1, (size_t)len, f) != (size_t)len)
            die(path);
        fclose(f);
        file_len[nfiles++] = (size_t)len;
        ndata += (size_t)len;
        free(names[i]);
    }
    free(names);
}

static void load_trace(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[64];
    size_t cap = 0;
    unsigned long long v;

    if (!f)
        die(path);
    while (fgets(line, sizeof(line), f)) {
        if (nchunks == cap && !(chunks = realloc(chunks, (cap = cap ? 2 * cap : 4096) * sizeof(*chunks))))
            die("realloc");
        if (line[0] == 'I')
            chunks[nchunks++] = SIZE_MAX;
        else if (sscanf(line, "W %llu", &v) == 1)
            chunks[nchunks++] = (size_t)v;
    }
    fclose(f);
}

/* One implementation behind the same three calls. */
struct impl {
    const char *name;
    void (*init)(void *c);
    void (*update)(void *c, const void *p, size_t n);
    void (*final)(void *c, char hex[65]);
};

static void o_init(void *c)
{
    if (cfp_sha256_init(c) != CFP_ERR_OK)
        die("cfp_sha256_init");
}
static void o_update(void *c, const void *p, size_t n) { cfp_sha256_update(c, p, n); }
static void o_final(void *c, char hex[65])
{
    if (cfp_sha256_final_hex(c, hex) != CFP_ERR_OK)
        die("cfp_sha256_final_hex");
}
static void h_init(void *c) { hand_sha256_init(c); }
static void h_update(void *c, const void *p, size_t n) { hand_sha256_update(c, p, n); }
static void h_final(void *c, char hex[65]) { hand_sha256_final_hex(c, hex); }

static const struct impl impls[2] = {{"hand-written", h_init, h_update, h_final},
                                     {"openssl", o_init, o_update, o_final}};

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Seconds to hash every file whole; the digests go to sums. */
static double run_whole(const struct impl *m, char (*sums)[65])
{
    union { struct hand_sha256 h; struct cfp_sha256 o; } c;
    size_t i, at = 0;
    double t0 = now();

    for (i = 0; i < nfiles; at += file_len[i++]) {
        m->init(&c);
        m->update(&c, data + at, file_len[i]);
        m->final(&c, sums[i]);
    }
    return now() - t0;
}

/* Seconds to replay the trace over the data (wrapping around at its end)
 * as cfp does: each chunk is copied to a small buffer first, untimed, so
 * that it is in cache when hashed, as the bytes a processor has just
 * produced are. Only the digest calls are timed. */
static double run_stream(const struct impl *m)
{
    union { struct hand_sha256 h; struct cfp_sha256 o; } c;
    static unsigned char hot[1 << 20];
    size_t i, at = 0, n;
    bool open = false;
    char hex[65];
    double t0, sum = 0;

    for (i = 0; i < nchunks; i++) {
        if (chunks[i] == SIZE_MAX) {
            t0 = now();
            if (open)
                m->final(&c, hex);
            m->init(&c);
            sum += now() - t0;
            open = true;
            continue;
        }
        n = chunks[i] < sizeof(hot) ? chunks[i] : sizeof(hot);
        if (at + n > ndata)
            at = 0;
        memcpy(hot, data + at, n);
        t0 = now();
        m->update(&c, hot, n);
        sum += now() - t0;
        at += n;
    }
    t0 = now();
    if (open)
        m->final(&c, hex);
    return sum + now() - t0;
}

/* Seconds to hash the first MiB of the data 160 times in one digest: the
 * block code alone, its input in cache. */
static double run_cached(const struct impl *m)
{
    union { struct hand_sha256 h; struct cfp_sha256 o; } c;
    size_t n = ndata < (1u << 20) ? ndata : (1u << 20);
    char hex[65];
    int i;
    double t0 = now();

    m->init(&c);
    for (i = 0; i < 160; i++)
        m->update(&c, data, n);
    m->final(&c, hex);
    return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 3 ? atoi(argv[3]) : 9, r, k, p;
    double t[3][2][64], med[3][2], mb[3] = {0, 0, 0};
    static const char *pattern[3] = {"cold", "stream", "cached"};
    char (*a)[65], (*b)[65];
    size_t i;

    if (argc < 3 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "usage: bench_sha256 OUTDIR TRACE [ROUNDS<=64]\n");
        return 2;
    }
    load_outputs(argv[1]);
    load_trace(argv[2]);
    for (i = 0; i < nchunks; i++)
        mb[1] += chunks[i] == SIZE_MAX ? 0 : (double)chunks[i];
    mb[0] = (double)ndata / 1e6, mb[1] /= 1e6;
    mb[2] = 160.0 * (double)(ndata < (1u << 20) ? ndata : (1u << 20)) / 1e6;
    if (!(a = calloc(nfiles + 1, 65)) || !(b = calloc(nfiles + 1, 65)))
        die("calloc");
    /* CFP_BENCH_NO_SHANI: both without SHA-NI (the script masks it from
     * OpenSSL with OPENSSL_ia32cap), as on a CPU without it. */
    printf("hand-written code uses %s\n",
           hand_sha256_use_hw(!getenv("CFP_BENCH_NO_SHANI")) ? "SHA-NI" : "its portable C");
    printf("%zu files, %.1f MB; trace: %zu updates, %.1f MB\n", nfiles, mb[0], nchunks, mb[1]);
    run_whole(&impls[0], a); /* warm-up, and the two must agree */
    run_whole(&impls[1], b);
    for (i = 0; i < nfiles; i++)
        if (strcmp(a[i], b[i]) != 0) {
            fprintf(stderr, "digest of file %zu differs: %s %s\n", i, a[i], b[i]);
            return 1;
        }
    for (r = 0; r < rounds; r++)
        for (p = 0; p < 3; p++)
            for (k = 0; k < 2; k++) { /* order alternates per round */
                int m = (r + k) % 2;
                t[p][m][r] = p == 0   ? run_whole(&impls[m], a)
                             : p == 1 ? run_stream(&impls[m])
                                      : run_cached(&impls[m]);
            }
    for (p = 0; p < 3; p++)
        for (k = 0; k < 2; k++) {
            qsort(t[p][k], (size_t)rounds, sizeof(double), cmp_double);
            med[p][k] = t[p][k][rounds / 2];
        }
    printf("pattern  implementation  median s   MB/s   (%d rounds, interleaved)\n", rounds);
    for (p = 0; p < 3; p++) {
        for (k = 0; k < 2; k++)
            printf("%-8s %-14s %9.4f %7.0f\n", pattern[p], impls[k].name, med[p][k],
                   mb[p] / med[p][k]);
        printf("%-8s openssl/hand-written time ratio %.3f\n", pattern[p], med[p][1] / med[p][0]);
    }
    return 0;
}
