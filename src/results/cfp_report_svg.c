/* cfp_report_svg.c - the report's chart: wall time and speedup per mode,
 * one group of bars per workload, as a self-contained SVG. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "results/cfp_report_internal.h"

#define SVG_W     760
#define BAR_H     22
#define LABEL_W   150
#define PLOT_W    440
#define GROUP_GAP 46

static const char *const bar_color[CFP_REPORT_MODES] = {"#8c8c8c", "#3b7dd8", "#d8843b", "#3bb273"};

static double slowest(const struct cfp_report_workload *w)
{
    double m = 0;
    for (int i = 0; i < CFP_REPORT_MODES; i++)
        if (w->by_mode[i] && w->by_mode[i]->info.wall_s > m)
            m = w->by_mode[i]->info.wall_s;
    return m > 0 ? m : 1;
}

/* Draws one workload's bars starting at *y; advances *y. */
static void svg_group(FILE *f, const struct cfp_report_workload *w, int *y)
{
    const struct cfp_report_run *seq = w->by_mode[0];
    double max = slowest(w);

    fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">workload '%s'</text>\n", *y, w->name);
    *y += 12;
    for (int m = 0; m < CFP_REPORT_MODES; m++) {
        const struct cfp_report_run *s = w->by_mode[m];
        double len;
        if (!s)
            continue;
        len = PLOT_W * s->info.wall_s / max;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", LABEL_W - 8,
                *y + 15, cfp_report_mode_label(m));
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", LABEL_W,
                *y, len < 1 ? 1 : len, BAR_H - 4, bar_color[m]);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\">%.2f s", LABEL_W + (len < 1 ? 1 : len) + 6, *y + 15,
                s->info.wall_s);
        if (seq)
            fprintf(f, "  (%.2fx)", cfp_report_wall(seq) / cfp_report_wall(s));
        fprintf(f, "</text>\n");
        *y += BAR_H;
    }
    *y += GROUP_GAP - BAR_H;
}

cfp_err cfp_report_write_svg(const struct cfp_report_state *rep, const char *path, struct cfp_status *st)
{
    char tmp[CFP_PATH_MAX + 32];
    int height = 60, y = 50;
    FILE *f;

    for (int i = 0; i < rep->nwl; i++)
        height += GROUP_GAP + 12 + BAR_H * CFP_REPORT_MODES;
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f)
        return cfp_status_set(st, CFP_ERR_IO, "create %s: %s", tmp, strerror(errno));
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"13\">\n",
            SVG_W, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">cfp: wall time per "
               "mode (speedup vs sequential), %ld CPUs available</text>\n",
            rep->cores);
    for (int i = 0; i < rep->nwl; i++)
        svg_group(f, &rep->wl[i], &y);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        cfp_status_set(st, CFP_ERR_IO, "write %s: %s", path, strerror(errno));
        (void)unlink(tmp);
        return CFP_ERR_IO;
    }
    return CFP_ERR_OK;
}
