/*
 * conf.c - /etc/pcitopod.conf: "key = value" lines, '#' comments.
 *
 * Pure: text in, struct out.  Every error names FILE:LINE and the problem,
 * and the first bad line stops the parse: a daemon that repairs the
 * hypervisor's registry should not start on a configuration it half
 * understood.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"

enum key_type { K_UINT, K_BOOL, K_STOCK, K_LEVEL };

struct key {
    const char *name;
    enum key_type type;
    size_t off;                 /* into struct pt_daemon_conf */
    unsigned max;               /* K_UINT: largest value accepted */
    unsigned min;               /* K_UINT: smallest value accepted */
};

#define OFF(f) offsetof(struct pt_daemon_conf, f)

static const struct key keys[] = {
    { "settle_ms",      K_UINT,  OFF(settle_ms),      600000, 0 },
    { "max_delay_ms",   K_UINT,  OFF(max_delay_ms),   3600000, 0 },
    { "resync_minutes", K_UINT,  OFF(resync_minutes), 10080, 0 },
    { "retry_max_s",    K_UINT,  OFF(retry_max_s),    86400, 1 },
    { "dry_run",        K_BOOL,  OFF(dry_run),        0, 0 },
    { "requarantine",   K_BOOL,  OFF(requarantine),   0, 0 },
    { "stock_mode",     K_STOCK, OFF(stock_mode),     0, 0 },
    { "log_level",      K_LEVEL, OFF(log_level),      0, 0 },
    { "max_lost_percent", K_UINT, OFF(max_lost_percent), 100, 0 },
    { "stock_dump_min_interval_s", K_UINT, OFF(stock_dump_min_interval_s), 86400, 0 },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const severity_names[] = {
    [PT_SEV_DEBUG] = "debug",
    [PT_SEV_INFO] = "info",
    [PT_SEV_WARN] = "warning",
    [PT_SEV_ERROR] = "error",
};

void pt_conf_defaults(struct pt_daemon_conf *c)
{
    *c = (struct pt_daemon_conf){
        .settle_ms = 500,
        .max_delay_ms = 5000,
        .resync_minutes = 10,
        .retry_max_s = 300,
        .dry_run = false,
        .requarantine = false,
        .stock_mode = PT_STOCK_REPAIR,
        .log_level = PT_SEV_INFO,
        .max_lost_percent = PT_MAX_LOST_PCT_DEFAULT,
        .stock_dump_min_interval_s = PT_STOCK_DUMP_MIN_INTERVAL_DEFAULT,
    };
}

const char *pt_stock_mode_name(enum pt_stock_mode m)
{
    return m == PT_STOCK_REPORT ? "report" : "repair";
}

const char *pt_severity_name(enum pt_severity s)
{
    return (unsigned)s <= PT_SEV_ERROR ? severity_names[s] : "unknown";
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };

    for ( size_t i = 0; i < 4; i++ )
    {
        if ( !strcasecmp(v, yes[i]) )
        {
            *out = true;
            return true;
        }
        if ( !strcasecmp(v, no[i]) )
        {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Sets one key from its value; false (with *expect describing valid values) when bad. */
static bool set_key(const struct key *k, const char *v, struct pt_daemon_conf *c,
                    char *expect, size_t expectlen)
{
    char *field = (char *)c + k->off;

    switch ( k->type )
    {
    case K_UINT:
        snprintf(expect, expectlen, "a whole number from %u to %u", k->min, k->max);
        return pt_parse_uint(v, k->min, k->max, (unsigned *)field);
    case K_BOOL:
        snprintf(expect, expectlen, "yes or no");
        return parse_bool(v, (bool *)field);
    case K_STOCK:
        snprintf(expect, expectlen, "repair or report");
        if ( !strcmp(v, "repair") )
            *(enum pt_stock_mode *)field = PT_STOCK_REPAIR;
        else if ( !strcmp(v, "report") )
            *(enum pt_stock_mode *)field = PT_STOCK_REPORT;
        else
            return false;
        return true;
    case K_LEVEL:
        snprintf(expect, expectlen, "debug, info, warning or error");
        for ( unsigned s = PT_SEV_DEBUG; s <= PT_SEV_ERROR; s++ )
            if ( !strcmp(v, severity_names[s]) )
            {
                *(enum pt_severity *)field = s;
                return true;
            }
        return false;
    }
    return false;
}

/* Trims spaces on both ends of [*b, *e). */
static void trim(const char **b, const char **e)
{
    while ( *b < *e && isspace((unsigned char)**b) )
        (*b)++;
    while ( *e > *b && isspace((unsigned char)(*e)[-1]) )
        (*e)--;
}

int pt_conf_parse(const char *text, size_t len, const char *file,
                  struct pt_daemon_conf *c, struct pt_errlog *log)
{
    unsigned seen_line[NKEYS] = { 0 };
    const char *p = text, *end = text + len;
    unsigned line = 0;

    while ( p < end )
    {
        const char *eol = memchr(p, '\n', end - p), *hash, *eq, *kb, *ke, *vb, *ve;
        char key[64], val[256], expect[64];
        const struct key *k = NULL;
        size_t ki;

        if ( !eol )
            eol = end;
        line++;
        if ( memchr(p, '\0', eol - p) )
        {
            pt_log(log, PT_SEV_ERROR, "%s:%u: NUL byte in the line (is this a text file?)", file, line);
            return -EINVAL;
        }
        /* A comment runs from '#' to the end of the line; no value contains '#'. */
        hash = memchr(p, '#', eol - p);
        kb = p;
        ke = hash ? hash : eol;
        p = eol + 1;
        trim(&kb, &ke);
        if ( kb == ke )
            continue;
        eq = memchr(kb, '=', ke - kb);
        if ( !eq )
        {
            pt_log(log, PT_SEV_ERROR, "%s:%u: expected 'key = value', found '%.*s' (no '=')",
                   file, line, (int)(ke - kb), kb);
            return -EINVAL;
        }
        vb = eq + 1;
        ve = ke;
        ke = eq;
        trim(&kb, &ke);
        trim(&vb, &ve);
        if ( kb == ke )
        {
            pt_log(log, PT_SEV_ERROR, "%s:%u: a value without a key", file, line);
            return -EINVAL;
        }
        if ( (size_t)(ke - kb) >= sizeof(key) || (size_t)(ve - vb) >= sizeof(val) )
        {
            pt_log(log, PT_SEV_ERROR, "%s:%u: line too long", file, line);
            return -EINVAL;
        }
        memcpy(key, kb, ke - kb);
        key[ke - kb] = '\0';
        memcpy(val, vb, ve - vb);
        val[ve - vb] = '\0';
        for ( ki = 0; ki < NKEYS; ki++ )
            if ( !strcmp(keys[ki].name, key) )
            {
                k = &keys[ki];
                break;
            }
        if ( !k )
        {
            pt_log(log, PT_SEV_ERROR, "%s:%u: unknown key '%s' (known: settle_ms, max_delay_ms, "
                   "resync_minutes, retry_max_s, dry_run, requarantine, stock_mode, log_level, "
                   "max_lost_percent, stock_dump_min_interval_s)",
                   file, line, key);
            return -EINVAL;
        }
        if ( seen_line[ki] )
        {
            pt_log(log, PT_SEV_ERROR, "%s:%u: '%s' is set again (first on line %u)",
                   file, line, key, seen_line[ki]);
            return -EINVAL;
        }
        seen_line[ki] = line;
        if ( !val[0] )
        {
            set_key(k, "", c, expect, sizeof(expect));
            pt_log(log, PT_SEV_ERROR, "%s:%u: '%s' has no value (expected %s)",
                   file, line, key, expect);
            return -EINVAL;
        }
        if ( !set_key(k, val, c, expect, sizeof(expect)) )
        {
            pt_log(log, PT_SEV_ERROR, "%s:%u: bad value '%s' for '%s' (expected %s)",
                   file, line, val, key, expect);
            return -EINVAL;
        }
    }
    return pt_conf_check(c, file, log);
}

int pt_conf_load(const char *file, bool must_exist, struct pt_daemon_conf *c,
                 struct pt_errlog *log)
{
    char *text = NULL;
    size_t len = 0;
    int rc = pt_read_file(file, &text, &len);

    if ( rc == -ENOENT && !must_exist )
    {
        pt_log(log, PT_SEV_DEBUG, "%s does not exist: using the built-in defaults", file);
        return 0;
    }
    if ( rc )
    {
        pt_log(log, PT_SEV_ERROR, "cannot read the configuration file %s: %s", file, pt_read_file_strerror(rc));
        return rc;
    }
    rc = pt_conf_parse(text, len, file, c, log);
    free(text);
    return rc;
}

int pt_conf_check(const struct pt_daemon_conf *c, const char *origin, struct pt_errlog *log)
{
    if ( c->max_delay_ms < c->settle_ms )
    {
        pt_log(log, PT_SEV_ERROR,
               "%s: max_delay_ms (%u) is shorter than settle_ms (%u): a storm would never wait for the settle window",
               origin, c->max_delay_ms, c->settle_ms);
        return -EINVAL;
    }
    return 0;
}

void pt_conf_sched(const struct pt_daemon_conf *c, struct pt_sched_conf *out)
{
    out->settle_usec = (uint64_t)c->settle_ms * PT_USEC_PER_MSEC;
    out->max_delay_usec = (uint64_t)c->max_delay_ms * PT_USEC_PER_MSEC;
    out->resync_usec = (uint64_t)c->resync_minutes * 60 * PT_USEC_PER_SEC;
    out->retry_min_usec = PT_USEC_PER_SEC;
    out->retry_max_usec = (uint64_t)c->retry_max_s * PT_USEC_PER_SEC;
}
