/* cfp_cli_compare.c - --compare on this process: every local mode on the
 * same work, outputs checked identical, report and chart. The MPI commands
 * (cfp_cli_mpi.c) add the multiprocessing row or the ranks x rank-engine
 * matrix to the same configuration. */
#include "cli/cfp_cli_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/cfp_stop.h"
#include "task/cfp_fetch.h"

void cfp_cli_compare_cfg(struct cfp_cli_opts *o, struct cfp_compare_cfg *cc)
{
    const char *slash = strrchr(o->results, '/');

    memset(cc, 0, sizeof(*cc));
    /* The results file's directory: outputs go beside it. */
    (void)snprintf(o->processed, sizeof(o->processed), "%.*s",
                   slash ? (int)(slash - o->results) : 1, slash ? o->results : ".");
    cc->base = o->run_cfg;
    cc->workloads_dir = o->workloads_dir;
    cc->processed_dir = o->processed;
    cc->set = o->workload_set;
    cc->generate = o->generate;
    cc->seed = o->gen.seed;
    cc->io_latency_ms = o->latency_given ? o->run_cfg.latency_ms : CFP_COMPARE_IO_LATENCY_MS;
    cc->workers = o->workers;
    cc->concurrency = o->concurrency;
}

int cfp_cli_compare_run(const struct cfp_cli_opts *o, const struct cfp_compare_cfg *cc)
{
    struct cfp_status st;
    bool failed, identical;

    cfp_status_clear(&st);
    if (cfp_fetch_global_init(&st) || cfp_compare_run(cc, &failed, &identical, &st)) {
        fprintf(stderr, "cfp: compare: %s\n", st.msg);
        cfp_fetch_global_cleanup();
        return CFP_EXIT_FATAL;
    }
    cfp_fetch_global_cleanup();
    fprintf(stderr,
            "cfp: compare: outputs %s across modes; report %s, chart beside it, results %s\n",
            identical ? "identical" : "DIFFER", o->report, o->results);
    if (cfp_stop_requested())
        return CFP_EXIT_STOPPED;
    if (!identical)
        return CFP_EXIT_DIFFER;
    return failed ? CFP_EXIT_FAILED : CFP_EXIT_OK;
}
