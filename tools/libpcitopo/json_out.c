/*
 * json_out.c - the yajl_gen writer shared by the documents, and the
 * pcitopod-report/1 and pcitopod-plan/1 documents (DESIGN §4.4).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"
#include "json_out.h"

/* ------------------------------------------------------------------ */
/* The writer                                                          */
/* ------------------------------------------------------------------ */

static void jw_status(struct pt_jw *w, yajl_gen_status st)
{
    if ( st == yajl_gen_status_ok || w->err )
        return;
    /* yajl_gen only fails on a misuse of its state machine or bad UTF-8. */
    w->err = -EINVAL;
}

/* Starts a document (two-space indent when pretty); -ENOMEM. */
int pt_jw_init(struct pt_jw *w, bool pretty)
{
    w->err = 0;
    w->g = yajl_gen_alloc(NULL);
    if ( !w->g )
        return -ENOMEM;
    if ( pretty )
    {
        yajl_gen_config(w->g, yajl_gen_beautify, 1);
        yajl_gen_config(w->g, yajl_gen_indent_string, "  ");
    }
    return 0;
}

int pt_jw_doc_open(struct pt_jw *w, bool pretty, const char *format)
{
    int rc = pt_jw_init(w, pretty);

    if ( rc )
        return rc;
    pt_jw_obj_open(w);
    pt_jw_key(w, "format");
    pt_jw_str(w, format);
    return 0;
}

/* Copies the document into *out and frees the generator; returns the first error. */
int pt_jw_finish(struct pt_jw *w, char **out, size_t *outlen)
{
    const unsigned char *buf;
    size_t len;
    char *copy;
    int r = w->err;

    if ( !r && yajl_gen_get_buf(w->g, &buf, &len) != yajl_gen_status_ok )
        r = -EINVAL;
    if ( !r )
    {
        copy = malloc(len + 1);
        if ( !copy )
            r = -ENOMEM;
        else
        {
            memcpy(copy, buf, len);
            copy[len] = '\0';
            *out = copy;
            if ( outlen )
                *outlen = len;
        }
    }
    pt_jw_abort(w);
    return r;
}

/* Frees the generator without producing a document. */
void pt_jw_abort(struct pt_jw *w)
{
    if ( w->g )
        yajl_gen_free(w->g);
    w->g = NULL;
}

/* Opens an object. */
void pt_jw_obj_open(struct pt_jw *w)
{
    jw_status(w, yajl_gen_map_open(w->g));
}

/* Closes an object. */
void pt_jw_obj_close(struct pt_jw *w)
{
    jw_status(w, yajl_gen_map_close(w->g));
}

/* Opens an array. */
void pt_jw_arr_open(struct pt_jw *w)
{
    jw_status(w, yajl_gen_array_open(w->g));
}

/* Closes an array. */
void pt_jw_arr_close(struct pt_jw *w)
{
    jw_status(w, yajl_gen_array_close(w->g));
}

/* Writes an object key. */
void pt_jw_key(struct pt_jw *w, const char *key)
{
    jw_status(w, yajl_gen_string(w->g, (const unsigned char *)key, strlen(key)));
}

/* Writes a string, or null when s is NULL. */
void pt_jw_str(struct pt_jw *w, const char *s)
{
    if ( !s )
        pt_jw_null(w);
    else
        jw_status(w, yajl_gen_string(w->g, (const unsigned char *)s, strlen(s)));
}

/* Writes an integer. */
void pt_jw_int(struct pt_jw *w, long long v)
{
    jw_status(w, yajl_gen_integer(w->g, v));
}

/* Writes an integer, or null when v is negative. */
void pt_jw_int_or_null(struct pt_jw *w, long long v)
{
    if ( v < 0 )
        pt_jw_null(w);
    else
        pt_jw_int(w, v);
}

/* Writes true or false. */
void pt_jw_bool(struct pt_jw *w, bool b)
{
    jw_status(w, yajl_gen_bool(w->g, b));
}

/* Writes null. */
void pt_jw_null(struct pt_jw *w)
{
    jw_status(w, yajl_gen_null(w->g));
}

/* Writes an SBDF as "ssss:bb:dd.f". */
void pt_jw_sbdf(struct pt_jw *w, pt_sbdf_t sbdf)
{
    char buf[PT_SBDF_STRLEN];

    pt_jw_str(w, pt_sbdf_fmt(sbdf, buf));
}

/* ------------------------------------------------------------------ */
/* pcitopod-report/1                                                   */
/* ------------------------------------------------------------------ */

static void finding_to_json(struct pt_jw *w, const struct pt_finding *f)
{
    pt_jw_obj_open(w);
    pt_jw_key(w, "kind");
    pt_jw_str(w, pt_finding_kind_name(f->kind));
    pt_jw_key(w, "sbdf");
    pt_jw_sbdf(w, f->sbdf);
    pt_jw_key(w, "path");
    pt_jw_str(w, f->path);
    if ( f->kind == PT_FIND_BUS2BRIDGE || f->kind == PT_FIND_CYCLE )
    {
        pt_jw_key(w, "bus");
        pt_jw_int_or_null(w, f->bus);
    }
    if ( f->kind == PT_FIND_BLOCKED )
    {
        pt_jw_key(w, "owner");
        pt_jw_int_or_null(w, f->owner);
        pt_jw_key(w, "cause");
        pt_jw_str(w, pt_finding_kind_name(f->cause));
    }
    pt_jw_key(w, "detail");
    pt_jw_str(w, f->detail);
    pt_jw_obj_close(w);
}

/* "iommu_scopes": the VT-d scope model's line (dmar.h), when there is one. */
static void iommu_note_to_json(struct pt_jw *w, const char *note)
{
    if ( !note )
        return;
    pt_jw_key(w, "iommu_scopes");
    pt_jw_str(w, note);
}

/* pcitopod-report/1: consistent, findings in the report's order, unverified. */
int pt_report_to_json(const struct pt_report *r, bool pretty, char **out, size_t *outlen)
{
    struct pt_jw w;
    int rc = pt_jw_doc_open(&w, pretty, "pcitopod-report/1");

    if ( rc )
        return rc;
    pt_jw_key(&w, "consistent");
    pt_jw_bool(&w, pt_report_inconsistent(r) == 0);
    pt_jw_key(&w, "findings");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; i < r->n; i++ )
        finding_to_json(&w, &r->f[i]);
    pt_jw_arr_close(&w);
    pt_jw_key(&w, "unverified");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; i < r->nunverified; i++ )
        pt_jw_str(&w, r->unverified[i]);
    pt_jw_arr_close(&w);
    iommu_note_to_json(&w, r->iommu_note);
    pt_jw_obj_close(&w);
    return pt_jw_finish(&w, out, outlen);
}

/* ------------------------------------------------------------------ */
/* pcitopod-plan/1                                                     */
/* ------------------------------------------------------------------ */

static const char *op_name(enum pt_op_kind k)
{
    switch ( k )
    {
    case PT_OP_REMOVE:     return "remove";
    case PT_OP_ADD:        return "add";
    case PT_OP_QUARANTINE: return "quarantine";
    }
    return "unknown";
}

static void op_to_json(struct pt_jw *w, const struct pt_op *op)
{
    pt_jw_obj_open(w);
    pt_jw_key(w, "op");
    pt_jw_str(w, op_name(op->op));
    pt_jw_key(w, "sbdf");
    pt_jw_sbdf(w, op->sbdf);
    pt_jw_key(w, "reason");
    pt_jw_str(w, op->why ? op->why : pt_finding_kind_name(op->reason));
    if ( op->op == PT_OP_ADD )
    {
        /* What PHYSDEVOP_pci_device_add will carry (XEN_PCI_DEV_* flags). */
        pt_jw_key(w, "virtfn");
        pt_jw_bool(w, op->virtfn);
        pt_jw_key(w, "physfn");
        if ( op->virtfn )
            pt_jw_sbdf(w, op->physfn);
        else
            pt_jw_null(w);
        pt_jw_key(w, "extfn");
        pt_jw_bool(w, op->extfn);
        pt_jw_key(w, "pxm");
        pt_jw_int_or_null(w, op->pxm);
    }
    pt_jw_obj_close(w);
}

/* pcitopod-plan/1: ops in plan order, blocked, unrepairable. */
int pt_plan_to_json(const struct pt_plan *p, bool pretty, char **out, size_t *outlen)
{
    struct pt_jw w;
    int rc = pt_jw_doc_open(&w, pretty, "pcitopod-plan/1");

    if ( rc )
        return rc;
    pt_jw_key(&w, "ops");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; i < p->n; i++ )
        op_to_json(&w, &p->ops[i]);
    pt_jw_arr_close(&w);
    pt_jw_key(&w, "blocked");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; i < p->nblocked; i++ )
    {
        pt_jw_obj_open(&w);
        pt_jw_key(&w, "sbdf");
        pt_jw_sbdf(&w, p->blocked[i].sbdf);
        pt_jw_key(&w, "owner");
        pt_jw_int_or_null(&w, p->blocked[i].owner);
        pt_jw_key(&w, "reason");
        pt_jw_str(&w, p->blocked[i].reason);
        pt_jw_obj_close(&w);
    }
    pt_jw_arr_close(&w);
    pt_jw_key(&w, "unrepairable");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; i < p->nunrep; i++ )
    {
        pt_jw_obj_open(&w);
        pt_jw_key(&w, "segment");
        pt_jw_int(&w, p->unrep[i].seg);
        pt_jw_key(&w, "bus");
        pt_jw_int(&w, p->unrep[i].bus);
        pt_jw_key(&w, "reason");
        pt_jw_str(&w, p->unrep[i].reason);
        pt_jw_obj_close(&w);
    }
    pt_jw_arr_close(&w);
    iommu_note_to_json(&w, p->iommu_note);
    pt_jw_obj_close(&w);
    return pt_jw_finish(&w, out, outlen);
}

/*
 * The checks yajl does not make, on the raw text: nesting deeper than
 * PT_JSON_MAX_DEPTH (yajl_tree_free() recurses once per level) and a
 * \u0000 escape (it would cut the decoded C string short).  Strings and
 * their escapes are skipped, so brackets inside them do not count, and so
 * are the comments yajl_tree_parse() allows (a quote in a comment must not
 * make the scan take what follows for a string).
 * Returns NULL when the text passes, else the reason.
 */
static const char *prescan(const char *json, size_t len)
{
    unsigned depth = 0;
    bool in_str = false;

    for ( size_t i = 0; i < len; i++ )
    {
        char c = json[i];

        if ( in_str )
        {
            if ( c == '"' )
                in_str = false;
            else if ( c == '\\' && i + 1 < len )
            {
                i++;
                if ( json[i] == 'u' && i + 4 < len && !memcmp(json + i + 1, "0000", 4) )
                    return "a string contains \\u0000 (a NUL character)";
            }
            continue;
        }
        if ( c == '/' && i + 1 < len && (json[i + 1] == '*' || json[i + 1] == '/') )
        {
            const char *e = json[i + 1] == '*' ? memmem(json + i + 2, len - i - 2, "*/", 2)
                                                : memchr(json + i + 2, '\n', len - i - 2);

            /* An unterminated comment is yajl's error to report. */
            if ( !e )
                break;
            i = (size_t)(e - json) + (json[i + 1] == '*' ? 1 : 0);
            continue;
        }
        switch ( c )
        {
        case '"':
            in_str = true;
            break;
        case '[':
        case '{':
            if ( ++depth > PT_JSON_MAX_DEPTH )
                return "nested deeper than 64 levels";
            break;
        case ']':
        case '}':
            if ( depth )
                depth--;
            break;
        case '\0':
            return "contains a NUL byte, not JSON text";
        }
    }
    return NULL;
}

yajl_val pt_json_parse_n(const char *json, size_t len, char *err, size_t errlen)
{
    const char *why = len > PT_DOC_MAX ? "larger than " PT_DOC_MAX_TEXT : prescan(json, len);
    char *text;
    yajl_val root;

    if ( why )
    {
        if ( err && errlen )
            snprintf(err, errlen, "%s", why);
        return NULL;
    }
    text = malloc(len + 1);
    if ( !text )
    {
        if ( err && errlen )
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(text, json, len);
    text[len] = '\0';
    root = yajl_tree_parse(text, err, errlen);
    free(text);
    return root;
}
