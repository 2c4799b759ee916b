/* cfp_cli_serve.c - `cfp serve`: the embedded HTTP(S) server, standalone,
 * until SIGINT/SIGTERM. */
#include "cli/cfp_cli_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "base/cfp_stop.h"
#include "lab/cfp_server.h"

enum { OPT_ROOT = 256, OPT_PORT, OPT_LATENCY, OPT_BIND, OPT_TLS_CERT, OPT_TLS_KEY };

/* Parses serve's command line into *so; CFP_CLI_PARSED or an exit status. */
static int serve_opts(int argc, char **argv, struct cfp_server_opts *so)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"port", required_argument, NULL, OPT_PORT},
        {"latency-ms", required_argument, NULL, OPT_LATENCY},
        {"bind", required_argument, NULL, OPT_BIND},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    uint64_t v;
    int c;

    opterr = 0; /* cfp_cli_bad_option() says it, on one line */
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ROOT: so->root = optarg; break;
        case OPT_BIND: so->bind_addr = optarg; break;
        case OPT_TLS_CERT: so->tls_cert_pem = optarg; break;
        case OPT_TLS_KEY: so->tls_key_pem = optarg; break;
        case OPT_PORT:
            if (!cfp_cli_u64("--port", optarg, 0, 65535, false, &v))
                return CFP_EXIT_USAGE;
            so->port = (uint16_t)v;
            break;
        case OPT_LATENCY:
            if (!cfp_cli_u64("--latency-ms", optarg, 0, 600000, false, &v))
                return CFP_EXIT_USAGE;
            so->latency_ms = (unsigned)v;
            break;
        case 'h': return cfp_cli_cmd_help("serve");
        default: return cfp_cli_bad_option("serve", argv, "h", longopts);
        }
    }
    if (!so->root || optind < argc)
        return cfp_cli_cmd_usage_error("serve", "--root DIR is required (and nothing else)");
    return CFP_CLI_PARSED;
}

int cfp_cli_serve(int argc, char **argv)
{
    struct cfp_server_opts so = {0};
    struct cfp_server *srv = NULL;
    struct cfp_status st;
    int rc;

    cfp_status_clear(&st);
    if ((rc = serve_opts(argc, argv, &so)) != CFP_CLI_PARSED)
        return rc;
    cfp_stop_install(0); /* before the port is announced: a SIGTERM then is a clean stop */
    if (cfp_server_start(&so, &srv, &st)) {
        fprintf(stderr, "cfp: serve: %s\n", st.msg);
        return CFP_EXIT_FATAL;
    }
    printf("serving %s on %s://%s:%u/ (latency %u ms)\n", so.root,
           so.tls_cert_pem ? "https" : "http", so.bind_addr ? so.bind_addr : "127.0.0.1",
           cfp_server_port(srv), so.latency_ms);
    fflush(stdout);
    while (!cfp_stop_requested())
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL); /* no race, unlike pause() */
    cfp_server_stop(&srv);
    return CFP_EXIT_OK;
}
