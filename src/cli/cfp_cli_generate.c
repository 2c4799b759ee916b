/* cfp_cli_generate.c - --generate-dataset: the deterministic test dataset
 * and its manifest; `cfp generate-image`: one huge PNG. */
#include "cli/cfp_cli_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfp_clock.h"
#include "base/cfp_stop.h"

/* Progress callback of the generator (ctx: a bool *quiet): a line redrawn
 * on a terminal, only the last one otherwise. */
static void gen_progress(void *ctx, unsigned done, unsigned total)
{
    const bool *quiet = ctx;

    if (!*quiet && (done == total || isatty(STDERR_FILENO)))
        fprintf(stderr, "%sgenerating dataset: %u/%u files%s", isatty(STDERR_FILENO) ? "\r" : "",
                done, total, done == total ? "\n" : "");
}

int cfp_cli_generate(struct cfp_cli_opts *o, struct cfp_status *st)
{
    if (cfp_gen_dataset(&o->gen, gen_progress, &o->quiet, st) ||
        cfp_run_write_manifest(o->gen.dir, st)) {
        fprintf(stderr, "cfp: generate dataset: %s\n", st->msg);
        return CFP_EXIT_FATAL;
    }
    return CFP_EXIT_OK;
}

/* `cfp generate-image`: one huge photo-like PNG, streamed (cfp_gen_big.c). */

enum { OPT_SIZE = 256, OPT_SEED, OPT_COLOR, OPT_INTERLACE, OPT_NOISE, OPT_ZLEVEL };

static const char *const color_names[] = {"gray", "gray-alpha", "rgb", "rgba", NULL};

/* "WxH" (or "WXH"), each side 1..CFP_GEN_BIG_SIDE_MAX, digits only. */
static bool parse_size(const char *s, struct cfp_gen_big_opts *o)
{
    const char *x = strpbrk(s, "xX");
    char w[16];
    uint64_t vw, vh;
    size_t n = x ? (size_t)(x - s) : 0;

    if (!x || n == 0 || n >= sizeof(w) || strspn(s, "0123456789") != n ||
        strspn(x + 1, "0123456789") != strlen(x + 1) || !x[1]) {
        fprintf(stderr, "cfp: generate-image: --size: '%s' is not WIDTHxHEIGHT (e.g. 12500x8000)\n",
                s);
        return false;
    }
    memcpy(w, s, n);
    w[n] = '\0';
    if (!cfp_cli_u64("--size (width)", w, 1, CFP_GEN_BIG_SIDE_MAX, false, &vw) ||
        !cfp_cli_u64("--size (height)", x + 1, 1, CFP_GEN_BIG_SIDE_MAX, false, &vh))
        return false;
    o->width = (uint32_t)vw;
    o->height = (uint32_t)vh;
    return true;
}

static bool parse_color(const char *s, struct cfp_gen_big_opts *o)
{
    for (int i = 0; color_names[i]; i++) {
        if (strcmp(s, color_names[i]) == 0) {
            o->color = (enum cfp_gen_color)i;
            return true;
        }
    }
    cfp_cli_cmd_usage_error("generate-image", "--color: '%s' is not gray, gray-alpha, rgb or rgba",
                            s);
    return false;
}

/* One option of the table below (c its val) into *o; false after printing a
 * usage error. */
static bool image_opt(int c, const char *arg, struct cfp_gen_big_opts *o, bool *quiet)
{
    uint64_t v;

    switch (c) {
    case OPT_SIZE: return parse_size(arg, o);
    case OPT_COLOR: return parse_color(arg, o);
    case OPT_INTERLACE: o->interlace = true; return true;
    case 'o': o->path = arg; return true;
    case 'q': *quiet = true; return true;
    case OPT_SEED: return cfp_cli_u64("--seed", arg, 0, UINT64_MAX, false, &o->seed);
    case OPT_NOISE:
        if (!cfp_cli_u64("--noise", arg, 0, CFP_GEN_BIG_NOISE_MAX, false, &v))
            return false;
        o->noise = (unsigned)v;
        return true;
    default: /* OPT_ZLEVEL */
        if (!cfp_cli_u64("--zlib-level", arg, 0, 9, false, &v))
            return false;
        o->zlevel = (int)v;
        return true;
    }
}

/* Parses generate-image's command line into *o; CFP_CLI_PARSED or an exit
 * status. */
static int image_opts(int argc, char **argv, struct cfp_gen_big_opts *o, bool *quiet)
{
    static const struct option longopts[] = {{"size", required_argument, NULL, OPT_SIZE},
                                             {"seed", required_argument, NULL, OPT_SEED},
                                             {"color", required_argument, NULL, OPT_COLOR},
                                             {"interlace", no_argument, NULL, OPT_INTERLACE},
                                             {"noise", required_argument, NULL, OPT_NOISE},
                                             {"zlib-level", required_argument, NULL, OPT_ZLEVEL},
                                             {"output", required_argument, NULL, 'o'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;

    opterr = 0; /* cfp_cli_bad_option() says it, on one line */
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        if (c == 'h')
            return cfp_cli_cmd_help("generate-image");
        if (c == '?' || c == ':')
            return cfp_cli_bad_option("generate-image", argv, "o:qh", longopts);
        if (!image_opt(c, optarg, o, quiet))
            return CFP_EXIT_USAGE;
    }
    if (optind < argc)
        return cfp_cli_cmd_usage_error("generate-image", "unexpected argument '%s'", argv[optind]);
    if (!o->width || !o->path)
        return cfp_cli_cmd_usage_error("generate-image", "--size WxH and -o FILE are required");
    return CFP_CLI_PARSED;
}

/* The progress line: shown on a terminal only, without -q. */
struct image_progress {
    bool show;
    int pct; /* last shown, -1 at first */
};

/* Progress of the image: the line redrawn at each whole percent. */
static void image_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct image_progress *p = ctx;
    int pct = (int)(done * 100 / total);

    if (!p->show || pct == p->pct)
        return;
    p->pct = pct;
    fprintf(stderr, "\rgenerating image: %3d%%%s", pct, done == total ? "\n" : "");
}

int cfp_cli_generate_image(int argc, char **argv)
{
    struct cfp_gen_big_opts o = {.seed = CFP_GEN_DEFAULT_SEED,
                                 .color = CFP_GEN_RGB,
                                 .noise = CFP_GEN_BIG_DEFAULT_NOISE,
                                 .zlevel = CFP_GEN_BIG_DEFAULT_LEVEL};
    struct cfp_status st;
    struct stat sb;
    struct image_progress prog = {.pct = -1};
    bool quiet = false;
    double t0;
    int rc = image_opts(argc, argv, &o, &quiet);

    if (rc != CFP_CLI_PARSED)
        return rc;
    cfp_status_clear(&st);
    /* Ctrl-C or SIGTERM ends it between two rows, leaving no temporary file. */
    cfp_stop_install(0);
    prog.show = !quiet && isatty(STDERR_FILENO);
    t0 = cfp_now();
    if (cfp_gen_big_png(&o, image_progress, &prog, &st)) {
        if (prog.pct >= 0 && prog.pct < 100)
            fputc('\n', stderr);
        fprintf(stderr, "cfp: generate-image: %s\n", st.msg);
        return st.code == CFP_ERR_STOPPED ? CFP_EXIT_STOPPED
               : st.code == CFP_ERR_USAGE ? CFP_EXIT_USAGE
                                          : CFP_EXIT_FATAL;
    }
    if (!quiet && stat(o.path, &sb) == 0)
        fprintf(stderr, "cfp: %s: %ux%u %s%s, %.1f MB in %.1f s\n", o.path, o.width, o.height,
                color_names[o.color], o.interlace ? " Adam7" : "", (double)sb.st_size / 1e6,
                cfp_now() - t0);
    return CFP_EXIT_OK;
}
