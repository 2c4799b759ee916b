/* cfp_merge.h - `cfp merge`: the runs of a job array's shards made into one.
 *
 * Each input's last run (one shard of the same URL list, see --shard) is
 * copied row by row, in input order, into one new run of the output file;
 * its attributes are combined: counts and bytes summed over the final
 * views, wall time the longest shard's (they ran side by side), CPU time
 * summed, peak RSS the largest, complete only if every shard was. */
#ifndef CFP_MERGE_H
#define CFP_MERGE_H

#include "engine/cfp_engine_seam.h"
#include "base/cfp_err.h"

/* Merges the last runs of in[0..n-1] into a new run of out (created or
 * appended to; it must not be one of the inputs) and fills *stats with the
 * merged counts. Fails before writing anything when an input has no run, when
 * the inputs were made from different URL lists, or when two of them hold
 * the same task. */
cfp_err cfp_merge(const char *out, const char *const *in, int n, struct cfp_engine_stats *stats,
                  struct cfp_status *st);

#endif
