/* cfp_cli_merge.c - `cfp merge`: one run from the runs of the shards of a
 * job array, and its report. */
#include "cli/cfp_cli_internal.h"

#include <getopt.h>
#include <stdio.h>

#include "engine/cfp_engine.h"
#include "results/cfp_report.h"
#include "run/cfp_merge.h"

int cfp_cli_merge(int argc, char **argv)
{
    static const struct option longopts[] = {{"report", required_argument, NULL, 'o'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *report = NULL;
    char buf[CFP_PATH_MAX];
    struct cfp_engine_stats stats;
    struct cfp_status st;
    bool quiet = false;
    int c;

    cfp_status_clear(&st);
    opterr = 0; /* cfp_cli_bad_option() says it, on one line */
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        if (c == 'o')
            report = optarg;
        else if (c == 'q')
            quiet = true;
        else if (c == 'h')
            return cfp_cli_cmd_help("merge");
        else
            return cfp_cli_bad_option("merge", argv, "o:qh", longopts);
    }
    if (argc - optind < 2)
        return cfp_cli_cmd_usage_error("merge", "give OUT.h5 and at least one IN.h5");
    if (!report && !(report = cfp_cli_report_beside(argv[optind], buf, sizeof(buf))))
        return cfp_cli_cmd_usage_error("merge", "path too long");
    if (cfp_merge(argv[optind], (const char *const *)argv + optind + 1, argc - optind - 1, &stats,
                  &st) ||
        cfp_report_write(argv[optind], report, NULL, &st)) {
        fprintf(stderr, "cfp: merge: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    return cfp_cli_run_exit(&stats, argv[optind], report, quiet);
}
