/* cfp_cli_process.c - `cfp [OPTIONS]`, the seed lab's command: generate the
 * dataset, process URLs in one mode, or compare the modes. */
#include "cli/cfp_cli_internal.h"

#include <stdio.h>

#include "base/cfp_log.h"
#include "base/cfp_stop.h"
#include "task/cfp_fetch.h"

/* Generates the dataset if asked, then runs the one local mode asked for. */
static int process_local(struct cfp_cli_opts *o)
{
    struct cfp_status st;
    struct cfp_engine_stats stats;
    int rc;

    cfp_status_clear(&st);
    if (o->generate && (rc = cfp_cli_generate(o, &st)) != CFP_EXIT_OK)
        return rc;
    if (!o->run)
        return CFP_EXIT_OK;
    if (cfp_fetch_global_init(&st) || cfp_run_job(&o->run_cfg, &stats, &st)) {
        fprintf(stderr, "cfp: %s\n", st.msg);
        cfp_fetch_global_cleanup();
        return CFP_EXIT_FATAL;
    }
    cfp_fetch_global_cleanup();
    return cfp_cli_run_end(o, &stats);
}

/* --compare without MPI: the local modes only. */
static int process_compare(struct cfp_cli_opts *o)
{
    struct cfp_compare_cfg cc;

    cfp_cli_compare_cfg(o, &cc);
    return cfp_cli_compare_run(o, &cc);
}

int cfp_cli_process(int argc, char **argv, cfp_cli_mpi_fn *mpi,
                    cfp_cli_mpi_version_fn *mpi_version)
{
    struct cfp_cli_opts o;
    bool mpi_mode;
    int rc;

    if ((rc = cfp_cli_opts_parse(&o, argc, argv, mpi_version)) != CFP_CLI_PARSED)
        return rc;
    cfp_log_setup(o.verbose >= 2 ? CFP_LOG_DEBUG : o.verbose ? CFP_LOG_INFO : CFP_LOG_WARN, -1);
    cfp_stop_install(o.grace_s);
    mpi_mode = o.run && o.run_cfg.mode == CFP_MODE_MPI;
    if (mpi && (o.compare || mpi_mode))
        return mpi(&o, argc, argv);
    if (o.compare)
        return process_compare(&o);
    if (mpi_mode)
        return cfp_cli_usage_error("--mode mpi/multiprocessing: MPI is not built in this cfp "
                                   "(configured with -DCFP_WITH_MPI=OFF); sequential, threading "
                                   "and async are available");
    return process_local(&o);
}
