/* cfp_err.c - error texts and status helpers. */
#include "base/cfp_err.h"

#include <stdio.h>
#include <string.h>

#define CFP_TEXT_(name, text) text,
static const char *const err_text[] = {CFP_ERR_MAP(CFP_TEXT_)};
#undef CFP_TEXT_
#define CFP_NAME_(name, text) #name,
static const char *const err_name[] = {CFP_ERR_MAP(CFP_NAME_)};
#undef CFP_NAME_

const char *cfp_strerror(cfp_err e)
{
    if ((unsigned)e >= CFP_ERR_COUNT_)
        return "unknown error";
    return err_text[e];
}

const char *cfp_errname(cfp_err e)
{
    if ((unsigned)e >= CFP_ERR_COUNT_)
        return "UNKNOWN";
    return err_name[e];
}

void cfp_status_clear(struct cfp_status *st)
{
    if (!st)
        return;
    st->code = CFP_ERR_OK;
    st->msg[0] = '\0';
}

cfp_err cfp_status_set(struct cfp_status *st, cfp_err code, const char *fmt, ...)
{
    va_list ap;

    if (!st || st->code != CFP_ERR_OK || code == CFP_ERR_OK)
        return code;
    st->code = code;
    va_start(ap, fmt);
    /* Truncation is acceptable: the message is bounded by design. */
    (void)vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
    va_end(ap);
    if (st->msg[0] == '\0')
        (void)snprintf(st->msg, sizeof(st->msg), "%s", cfp_strerror(code));
    return code;
}

void cfp_status_prefix(struct cfp_status *st, const char *fmt, ...)
{
    char prefix[CFP_MSG_MAX];
    char old[CFP_MSG_MAX];
    va_list ap;

    if (!st)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, st->msg, sizeof(old));
    if (old[0] == '\0')
        (void)snprintf(old, sizeof(old), "%s", cfp_strerror(st->code));
    /* Truncation keeps the start of both parts; the message is bounded by design. */
    if (snprintf(st->msg, sizeof(st->msg), "%s: %s", prefix, old) < 0)
        st->msg[0] = '\0';
}
