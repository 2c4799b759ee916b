/* cfp_cli_version.c - `cfp --version`: cfp's version and those of the
 * libraries it runs with, as `curl -V` lists them, so that a bug report or
 * a batch log says what the binary was built from. */
#include "cli/cfp_cli_internal.h"

#include <curl/curl.h>
#include <hdf5.h>
#include <libdeflate.h>
#include <microhttpd.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* "name RUNTIME", and the version compiled against when the library loaded
 * at run time is another one (a shared library upgraded under the binary). */
static void lib_line(const char *name, const char *runtime, const char *built)
{
    printf("%s %s", name, runtime);
    if (built && strcmp(runtime, built) != 0)
        printf(" (built with %s)", built);
    putchar('\n');
}

/* libcurl: its version, TLS backend, protocols and features. */
static void curl_lines(void)
{
    const curl_version_info_data *ci = curl_version_info(CURLVERSION_NOW);

    printf("libcurl %s, TLS %s", ci->version, ci->ssl_version ? ci->ssl_version : "none");
    if (strcmp(ci->version, LIBCURL_VERSION) != 0)
        printf(" (built with %s)", LIBCURL_VERSION);
    fputs("\n  protocols:", stdout);
    for (const char *const *p = ci->protocols; p && *p; p++)
        printf(" %s", *p);
    putchar('\n');
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87.0: feature_names */
    if (ci->age >= CURLVERSION_ELEVENTH && ci->feature_names) {
        fputs("  features:", stdout);
        for (const char *const *f = ci->feature_names; *f; f++)
            printf(" %s", *f);
        putchar('\n');
    }
#endif
}

/* The libraries of the processors, the results and the server. */
static void other_lines(void)
{
    unsigned maj = 0, min = 0, rel = 0;
    char h5[48], h5_built[48];

    lib_line("libpng", png_get_libpng_ver(NULL), PNG_LIBPNG_VER_STRING);
    lib_line("zlib", zlibVersion(), ZLIB_VERSION);
    lib_line("libdeflate", LIBDEFLATE_VERSION_STRING, NULL); /* no run-time query */
    if (H5get_libversion(&maj, &min, &rel) < 0)
        (void)snprintf(h5, sizeof(h5), "unknown");
    else
        (void)snprintf(h5, sizeof(h5), "%u.%u.%u", maj, min, rel);
    (void)snprintf(h5_built, sizeof(h5_built), "%d.%d.%d", H5_VERS_MAJOR, H5_VERS_MINOR,
                   H5_VERS_RELEASE);
    lib_line("HDF5", h5, h5_built);
    printf("libmicrohttpd %s%s\n", MHD_get_version(),
           MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES ? " (TLS)" : " (no TLS)");
}

int cfp_cli_version(cfp_cli_mpi_version_fn *mpi_version)
{
    /* The first line stays "cfp X.Y.Z": scripts read the version there. */
    puts("cfp " CFP_VERSION);
    curl_lines();
    other_lines();
    if (mpi_version)
        printf("MPI: %s\n", mpi_version());
    else
        puts("MPI: not built (configured with -DCFP_WITH_MPI=OFF)");
    printf("Modes: sequential threading async%s\n", mpi_version ? " mpi multiprocessing" : "");
    return CFP_EXIT_OK;
}
