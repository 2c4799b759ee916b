/* cfp_engine_seam.c - the counts of a run (cfp_engine_seam.h). */
#include "engine/cfp_engine_seam.h"

void cfp_engine_stats_add(struct cfp_engine_stats *s, const struct cfp_record *r)
{
    s->stuck += r->stuck;
    if (r->code == CFP_ERR_STOPPED) {
        s->abandoned++;
        return;
    }
    s->tasks++;
    if (r->code == CFP_ERR_OK)
        s->ok++;
    else
        s->failed++;
    s->bytes_in += r->bytes_in;
    s->bytes_out += r->bytes_out;
}
