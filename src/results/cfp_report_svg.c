/* cfp_report_svg.c - the report's chart: wall time and speedup per mode,
 * one panel of bars per workload, each with its own labelled time axis, as
 * a self-contained SVG. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "results/cfp_report_internal.h"

#define SVG_W     760
#define BAR_H     22
#define LABEL_W   150
#define PLOT_W    440
#define HEAD_H    18 /* a panel's title line */
#define AXIS_H    34 /* a panel's time axis: line, ticks, tick labels */
#define PANEL_GAP 20
#define TOP_H     62 /* the chart's title and legend lines */

static const char *const bar_color[CFP_REPORT_MODES] = {"#8c8c8c", "#3b7dd8", "#d8843b", "#3bb273"};

static double slowest(const struct cfp_report_workload *w)
{
    double m = 0;
    for (int i = 0; i < CFP_REPORT_MODES; i++)
        if (w->by_mode[i] && w->by_mode[i]->info.wall_s > m)
            m = w->by_mode[i]->info.wall_s;
    return m > 0 ? m : 1;
}

static int modes_of(const struct cfp_report_workload *w)
{
    int n = 0;
    for (int i = 0; i < CFP_REPORT_MODES; i++)
        n += w->by_mode[i] != NULL;
    return n;
}

/* Height of a workload's panel: only the modes it has get a bar, so the
 * chart has no empty bands. */
static int panel_h(const struct cfp_report_workload *w)
{
    return HEAD_H + BAR_H * modes_of(w) + AXIS_H + PANEL_GAP;
}

/* A round tick step (1, 2 or 5 x 10^k seconds) giving at most 6 ticks
 * over max: a loop instead of log10, so the module needs no libm. */
static double tick_step(double max)
{
    static const double mult[3] = {1, 2, 5};
    double mag = 1e-3;

    for (int i = 0; i < 60; i++, mag *= 10)
        for (int k = 0; k < 3; k++)
            if (max / (mult[k] * mag) <= 6)
                return mult[k] * mag;
    return max;
}

/* Writes s as XML character data: a workload name is a user's --label. */
static void svg_escape(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if ((unsigned char)*s >= 0x20 && *s != 0x7f)
            fputc(*s, f);
    }
}

/* Draws the time axis of a panel at y: its own scale and unit, because
 * workloads differ by orders of magnitude (io ~10 s, cpu ~1 s). */
static void svg_axis(FILE *f, double axis_max, double step, int top, int y)
{
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n", LABEL_W, y,
            LABEL_W + PLOT_W, y);
    for (int i = 0; i * step <= axis_max * (1 + 1e-9); i++) {
        double x = LABEL_W + PLOT_W * (i * step) / axis_max;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, top,
                x, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>\n", x, y, x,
                y + 4);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">%g</text>\n",
                x, y + 16, i * step);
    }
    fprintf(f,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\">wall time, "
            "seconds (shorter is better)</text>\n",
            LABEL_W + PLOT_W / 2, y + 30);
}

/* Draws one workload's panel starting at *y; advances *y. Labels are the
 * text report's (cfp_report_mode_label), so chart and table agree. */
static void svg_group(FILE *f, const struct cfp_report_workload *w, int *y)
{
    const struct cfp_report_run *seq = w->by_mode[0];
    double step = tick_step(slowest(w)), max;
    int top;

    max = step * (double)(long)(slowest(w) / step + 0.999999);
    fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">workload '", *y + 12);
    svg_escape(f, w->name);
    fprintf(f, "'</text>\n");
    *y += HEAD_H;
    top = *y;
    /* Axis and grid first, so the bars are drawn over the grid lines. */
    svg_axis(f, max, step, top, top + BAR_H * modes_of(w) + 2);
    for (int m = 0; m < CFP_REPORT_MODES; m++) {
        const struct cfp_report_run *s = w->by_mode[m];
        double len;
        if (!s)
            continue;
        len = PLOT_W * s->info.wall_s / max;
        len = len < 1 ? 1 : len;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", LABEL_W - 8, *y + 15,
                cfp_report_mode_label(m));
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", LABEL_W,
                *y + 2, len, BAR_H - 4, bar_color[m]);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\">%.2f s", LABEL_W + len + 6, *y + 15, s->info.wall_s);
        if (seq)
            fprintf(f, "  (%.2fx)", cfp_report_wall(seq) / cfp_report_wall(s));
        fprintf(f, "</text>\n");
        *y += BAR_H;
    }
    *y += AXIS_H + PANEL_GAP;
}

cfp_err cfp_report_write_svg(const struct cfp_report_state *rep, const char *path,
                             struct cfp_status *st)
{
    char tmp[CFP_PATH_MAX + 32];
    int height = TOP_H, y = TOP_H;
    FILE *f;

    for (int i = 0; i < rep->nwl; i++)
        if (modes_of(&rep->wl[i]))
            height += panel_h(&rep->wl[i]);
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f)
        return cfp_status_set(st, CFP_ERR_IO, "create %s: %s", tmp, strerror(errno));
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"13\">\n",
            SVG_W, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"10\" y=\"24\" font-size=\"16\" font-weight=\"bold\">cfp: wall time per "
               "mode, shorter is better</text>\n");
    fprintf(f,
            "<text x=\"10\" y=\"44\" font-size=\"12\">(speedup vs sequential in brackets; "
            "each workload has its own time axis; %ld CPUs available)</text>\n",
            rep->cores);
    for (int i = 0; i < rep->nwl; i++)
        if (modes_of(&rep->wl[i]))
            svg_group(f, &rep->wl[i], &y);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        cfp_status_set(st, CFP_ERR_IO, "write %s: %s", path, strerror(errno));
        (void)unlink(tmp);
        return CFP_ERR_IO;
    }
    return CFP_ERR_OK;
}
