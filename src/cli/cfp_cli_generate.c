/* cfp_cli_generate.c - --generate-dataset: the deterministic test dataset
 * and its manifest. */
#include "cli/cfp_cli_internal.h"

#include <stdio.h>
#include <unistd.h>

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
