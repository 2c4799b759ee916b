/* cfp_log.h - leveled logging to stderr. stdout is for results only.
 * The macro tests the level before formatting (Redis serverLog), so a
 * disabled DEBUG line costs one comparison. */
#ifndef CFP_LOG_H
#define CFP_LOG_H

enum cfp_log_level { CFP_LOG_ERROR, CFP_LOG_WARN, CFP_LOG_INFO, CFP_LOG_DEBUG };

/* Current threshold; written once by the CLI before any thread starts. */
extern enum cfp_log_level cfp_log_threshold;

/* Sets the threshold and, for MPI runs, the rank shown on each line (-1: none).
 * Call before starting threads. */
void cfp_log_setup(enum cfp_log_level level, int rank);

void cfp_log_emit(enum cfp_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define cfp_log(level, ...)                                                            \
    do {                                                                               \
        if ((level) <= cfp_log_threshold)                                              \
            cfp_log_emit((level), __FILE__, __LINE__, __VA_ARGS__);                    \
    } while (0)

#endif
