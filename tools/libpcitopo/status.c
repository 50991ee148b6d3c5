/*
 * status.c - the daemon's pcitopod-status/1 document: what the last pass
 * saw and did (DESIGN §4.7).  Written atomically after every pass, read by
 * `pcitopod status` and `xl pci-topology-check`.
 *
 *   { "format": "pcitopod-status/1", "time": 1700000000, "pid": 123,
 *     "pass": 4, "trigger": "uevent", "result": "consistent",
 *     "source": "sysctl", "hypervisor": "patched",
 *     "ops_planned": 5, "ops_done": 5, "error": null,
 *     "blocked": [ { "sbdf": "0000:03:00.0", "owner": 4, "reason": ".." } ],
 *     "report": { pcitopod-report/1 after the pass } }
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "daemon.h"
#include "json_out.h"

#define STATUS_FORMAT "pcitopod-status/1"

static const char *const result_names[] = {
    [PT_RESULT_CONSISTENT] = "consistent",
    [PT_RESULT_INCONSISTENT] = "inconsistent",
    [PT_RESULT_ERROR] = "error",
    [PT_RESULT_DRY_RUN] = "dry-run",
};

const char *pt_result_name(enum pt_pass_result_kind r)
{
    return (unsigned)r <= PT_RESULT_DRY_RUN ? result_names[r] : "unknown";
}

/* Writes a parsed JSON value into w (to nest the core's report document). */
static void emit_value(struct pt_jw *w, const yajl_val v)
{
    if ( !v || YAJL_IS_NULL(v) )
        pt_jw_null(w);
    else if ( YAJL_IS_STRING(v) )
        pt_jw_str(w, YAJL_GET_STRING(v));
    else if ( YAJL_IS_INTEGER(v) )
        pt_jw_int(w, YAJL_GET_INTEGER(v));
    else if ( YAJL_IS_NUMBER(v) )
        pt_jw_int(w, (long long)YAJL_GET_DOUBLE(v)); /* the report has integers only */
    else if ( YAJL_IS_TRUE(v) )
        pt_jw_bool(w, true);
    else if ( YAJL_IS_FALSE(v) )
        pt_jw_bool(w, false);
    else if ( YAJL_IS_ARRAY(v) )
    {
        pt_jw_arr_open(w);
        for ( size_t i = 0; i < v->u.array.len; i++ )
            emit_value(w, v->u.array.values[i]);
        pt_jw_arr_close(w);
    }
    else if ( YAJL_IS_OBJECT(v) )
    {
        pt_jw_obj_open(w);
        for ( size_t i = 0; i < v->u.object.len; i++ )
        {
            pt_jw_key(w, v->u.object.keys[i]);
            emit_value(w, v->u.object.values[i]);
        }
        pt_jw_obj_close(w);
    }
}

/* Nests r's pcitopod-report/1 into w. */
static int emit_report(struct pt_jw *w, const struct pt_report *r)
{
    char *buf = NULL;
    yajl_val v;
    int rc = pt_report_to_json(r, false, &buf, NULL);

    if ( rc )
        return rc;
    v = yajl_tree_parse(buf, NULL, 0);
    free(buf);
    if ( !v )
        return -ENOMEM;         /* our own document always parses */
    emit_value(w, v);
    yajl_tree_free(v);
    return 0;
}

int pt_status_to_json(const struct pt_status *st, bool pretty, char **out, size_t *outlen)
{
    struct pt_jw w;
    int rc = pt_jw_doc_open(&w, pretty, STATUS_FORMAT);

    if ( rc )
        return rc;
    pt_jw_key(&w, "time");
    pt_jw_int(&w, st->time);
    pt_jw_key(&w, "pid");
    pt_jw_int(&w, st->pid);
    pt_jw_key(&w, "pass");
    pt_jw_int(&w, (long long)st->pass);
    pt_jw_key(&w, "pending");
    pt_jw_bool(&w, st->pending);
    pt_jw_key(&w, "trigger");
    pt_jw_str(&w, pt_trigger_name(st->trigger));
    pt_jw_key(&w, "result");
    pt_jw_str(&w, pt_result_name(st->result));
    pt_jw_key(&w, "source");
    pt_jw_str(&w, st->have_view ? pt_source_name(st->source) : NULL);
    pt_jw_key(&w, "hypervisor");
    pt_jw_str(&w, st->have_view ? pt_hv_name(st->hv) : NULL);
    pt_jw_key(&w, "ops_planned");
    pt_jw_int(&w, (long long)st->ops_planned);
    pt_jw_key(&w, "ops_done");
    pt_jw_int(&w, (long long)st->ops_done);
    pt_jw_key(&w, "error");
    pt_jw_str(&w, st->error);
    pt_jw_key(&w, "blocked");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; st->plan && i < st->plan->nblocked; i++ )
    {
        const struct pt_blocked *b = &st->plan->blocked[i];

        pt_jw_obj_open(&w);
        pt_jw_key(&w, "sbdf");
        pt_jw_sbdf(&w, b->sbdf);
        pt_jw_key(&w, "owner");
        pt_jw_int_or_null(&w, b->owner);
        pt_jw_key(&w, "reason");
        pt_jw_str(&w, b->reason);
        pt_jw_obj_close(&w);
    }
    pt_jw_arr_close(&w);
    pt_jw_key(&w, "report");
    if ( st->report )
    {
        rc = emit_report(&w, st->report);
        if ( rc )
        {
            pt_jw_abort(&w);
            return rc;
        }
    }
    else
        pt_jw_null(&w);
    pt_jw_obj_close(&w);
    return pt_jw_finish(&w, out, outlen);
}

int pt_status_write(const char *file, const struct pt_status *st)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = pt_status_to_json(st, true, &buf, &len);

    if ( rc )
        return rc;
    rc = pt_write_file_atomic(file, buf, len);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ */
/* For people                                                          */
/* ------------------------------------------------------------------ */

static yajl_val get(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };

    return yajl_tree_get(obj, path, yajl_t_any);
}

static const char *get_str(yajl_val obj, const char *key, const char *dflt)
{
    yajl_val v = get(obj, key);

    return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : dflt;
}

static long long get_int(yajl_val obj, const char *key, long long dflt)
{
    yajl_val v = get(obj, key);

    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : dflt;
}

int pt_status_print(const char *json, size_t len, FILE *f, struct pt_errlog *log)
{
    char err[256];
    yajl_val doc, v;
    char when[64] = "?";
    time_t t;
    struct tm tm;

    doc = pt_json_parse_n(json, len, err, sizeof(err));
    if ( !doc )
    {
        char *nl = strchr(err, '\n');

        if ( nl )
            *nl = '\0';
        pt_log(log, PT_SEV_ERROR, "the status file is not JSON: %s", err);
        return -EINVAL;
    }
    if ( !YAJL_IS_OBJECT(doc) || strcmp(get_str(doc, "format", ""), STATUS_FORMAT) )
    {
        pt_log(log, PT_SEV_ERROR, "the status file is not a %s document", STATUS_FORMAT);
        yajl_tree_free(doc);
        return -EINVAL;
    }
    if ( !f )
    {
        /* Only validated. */
        yajl_tree_free(doc);
        return 0;
    }
    t = (time_t)get_int(doc, "time", 0);
    if ( localtime_r(&t, &tm) )
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
    fprintf(f, "last pass:   #%lld at %s (pid %lld), trigger %s\n",
            get_int(doc, "pass", 0), when, get_int(doc, "pid", 0),
            get_str(doc, "trigger", "?"));
    fprintf(f, "result:      %s\n", get_str(doc, "result", "?"));
    fprintf(f, "hypervisor:  %s (view source: %s)\n", get_str(doc, "hypervisor", "unknown"),
            get_str(doc, "source", "unknown"));
    fprintf(f, "operations:  %lld of %lld applied\n", get_int(doc, "ops_done", 0),
            get_int(doc, "ops_planned", 0));
    if ( get_str(doc, "error", NULL) )
        fprintf(f, "error:       %s\n", get_str(doc, "error", NULL));
    v = get(doc, "blocked");
    if ( v && YAJL_IS_ARRAY(v) )
        for ( size_t i = 0; i < v->u.array.len; i++ )
            fprintf(f, "blocked:     %s: %s\n", get_str(v->u.array.values[i], "sbdf", "?"),
                    get_str(v->u.array.values[i], "reason", "?"));
    v = get(doc, "report");
    if ( v && YAJL_IS_OBJECT(v) )
    {
        yajl_val fs = get(v, "findings"), un = get(v, "unverified");

        if ( fs && YAJL_IS_ARRAY(fs) )
        {
            fprintf(f, "findings:    %zu\n", fs->u.array.len);
            for ( size_t i = 0; i < fs->u.array.len; i++ )
            {
                yajl_val x = fs->u.array.values[i];

                fprintf(f, "  %-10s %-13s %s\n", get_str(x, "kind", "?"), get_str(x, "sbdf", "?"),
                        get_str(x, "detail", ""));
            }
        }
        if ( un && YAJL_IS_ARRAY(un) && un->u.array.len )
        {
            fprintf(f, "unverified: ");
            for ( size_t i = 0; i < un->u.array.len; i++ )
                if ( YAJL_IS_STRING(un->u.array.values[i]) )
                    fprintf(f, " %s", YAJL_GET_STRING(un->u.array.values[i]));
            fprintf(f, " (this hypervisor does not report them)\n");
        }
    }
    yajl_tree_free(doc);
    return 0;
}
