/* cfp_cli_report.c - `cfp report`: the text report and chart of a results
 * file, regenerated. */
#include "cli/cfp_cli_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "results/cfp_report.h"

int cfp_cli_report(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out = NULL;
    char buf[CFP_PATH_MAX];
    struct cfp_status st;
    int c;

    cfp_status_clear(&st);
    opterr = 0; /* cfp_cli_bad_option() says it, on one line */
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 'h')
            return cfp_cli_cmd_help("report");
        else
            return cfp_cli_bad_option("report", argv, "o:h", longopts);
    }
    if (optind != argc - 1)
        return cfp_cli_cmd_usage_error("report", "give exactly one RESULTS.h5");
    if (!out && !(out = cfp_cli_report_beside(argv[optind], buf, sizeof(buf))))
        return cfp_cli_cmd_usage_error("report", "path too long");
    if (cfp_report_write(argv[optind], out, NULL, &st)) {
        fprintf(stderr, "cfp: report: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    if (strcmp(out, "-") != 0)
        fprintf(stderr, "cfp: report written to %s\n", out);
    return CFP_EXIT_OK;
}
