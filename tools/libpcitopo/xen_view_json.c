/*
 * xen_view_json.c - the pcitopod-xen-view/1 document (DESIGN §4.3): parse
 * (yajl tree API), validate, serialise (yajl_gen), load and save.
 *
 * Every rejection names the offending field JSON-pointer-like
 * ("segments[0].devices[3].sbdf: ...") and the value found, because the
 * document is written by hand in tests and fixtures as often as by code.
 * The parser stops at the first error.  Unknown keys are ignored so that
 * later versions of the backend may add fields.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "pcitopo.h"
#include "json_out.h"

#define XVIEW_FORMAT "pcitopod-xen-view/1"
#define OWNER_MAX    PT_DOMID_XEN

/* Field flags for the getters. */
#define F_REQUIRED   0x1        /* missing is an error */
#define F_NULLABLE   0x2        /* null is allowed (and reported as absent) */

struct vparse {
    struct pt_errlog *log;
    const char *origin;         /* file name, or a generic document name */
};

/* Field context: "segments[0].devices[3]" (or "" at the top level). */
struct where {
    char s[64];
};

static void where_fmt(struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void where_fmt(struct where *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(w->s, sizeof(w->s), fmt, ap);
    va_end(ap);
}

static int perr(const struct vparse *p, const char *where, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Logs "origin: where.field: <message>" and returns -EINVAL. */
static int perr(const struct vparse *p, const char *where, const char *field,
                const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;

    va_start(ap, fmt);
    if ( vasprintf(&msg, fmt, ap) < 0 )
        msg = NULL;
    va_end(ap);
    pt_log(p->log, PT_SEV_ERROR, "%s: %s%s%s: %s", p->origin, where,
           (*where && field) ? "." : "", field ? field : "",
           msg ? msg : "invalid value");
    free(msg);
    return -EINVAL;
}

/* A short rendering of a value for messages: "0000:05:00", 300, true, an object. */
static const char *describe(yajl_val v, char *buf, size_t len)
{
    if ( !v )
        return "nothing";
    switch ( v->type )
    {
    case yajl_t_string:
    {
        size_t sl = strlen(v->u.string);

        if ( sl > 40 )
            snprintf(buf, len, "\"%.40s...\"", v->u.string);
        else
            snprintf(buf, len, "\"%s\"", v->u.string);
        return buf;
    }
    case yajl_t_number:
        snprintf(buf, len, "%.40s", v->u.number.r);
        return buf;
    case yajl_t_object: return "an object";
    case yajl_t_array:  return "an array";
    case yajl_t_true:   return "true";
    case yajl_t_false:  return "false";
    case yajl_t_null:   return "null";
    default:            return "a value of unknown type";
    }
}

#define DESCR(v) describe((v), (char[64]){ 0 }, 64)

/*
 * Looks up key in obj.  *out = NULL when absent.  A key given twice is an
 * error: yajl_tree keeps both and we would silently pick one.
 */
static int field(const struct vparse *p, yajl_val obj, const char *where,
                 const char *key, yajl_val *out)
{
    size_t n = obj->u.object.len;

    *out = NULL;
    for ( size_t i = 0; i < n; i++ )
    {
        if ( strcmp(obj->u.object.keys[i], key) )
            continue;
        if ( *out )
            return perr(p, where, key, "given more than once");
        *out = obj->u.object.values[i];
    }
    return 0;
}

/* Fetches key; returns 1 when absent (or null with F_NULLABLE), 0 when set. */
static int field_get(const struct vparse *p, yajl_val obj, const char *where,
                     const char *key, unsigned flags, yajl_val *out)
{
    int r = field(p, obj, where, key, out);

    if ( r )
        return r;
    if ( !*out )
        return (flags & F_REQUIRED) ? perr(p, where, key, "missing") : 1;
    if ( YAJL_IS_NULL(*out) )
        return (flags & F_NULLABLE) ? 1 : perr(p, where, key, "must not be null");
    return 0;
}

/* An integer in [min, max]; 1 when absent/null (as flags allow). */
static int field_int(const struct vparse *p, yajl_val obj, const char *where,
                     const char *key, long long min, long long max,
                     unsigned flags, long long *out)
{
    yajl_val v;
    int r = field_get(p, obj, where, key, flags, &v);

    if ( r )
        return r;
    if ( !YAJL_IS_INTEGER(v) )
    {
        if ( YAJL_IS_NUMBER(v) )
        {
            const char *t = v->u.number.r;

            /* An integer that did not fit in a long long is out of range. */
            if ( !strpbrk(t, ".eE") )
                return perr(p, where, key, "%s is out of range %lld..%lld",
                            DESCR(v), min, max);
        }
        return perr(p, where, key, "expected an integer %lld..%lld%s, got %s", min, max,
                    (flags & F_NULLABLE) ? " or null" : "", DESCR(v));
    }
    if ( YAJL_GET_INTEGER(v) < min || YAJL_GET_INTEGER(v) > max )
        return perr(p, where, key, "%s is out of range %lld..%lld", DESCR(v), min, max);
    *out = YAJL_GET_INTEGER(v);
    return 0;
}

/* A boolean; 1 when absent (only without F_REQUIRED). */
static int field_bool(const struct vparse *p, yajl_val obj, const char *where,
                      const char *key, unsigned flags, bool *out)
{
    yajl_val v;
    int r = field_get(p, obj, where, key, flags, &v);

    if ( r )
        return r;
    if ( !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v) )
        return perr(p, where, key, "expected true or false, got %s", DESCR(v));
    *out = YAJL_IS_TRUE(v);
    return 0;
}

/* A string; 1 when absent/null (as flags allow). */
static int field_str(const struct vparse *p, yajl_val obj, const char *where,
                     const char *key, unsigned flags, const char **out)
{
    yajl_val v;
    int r = field_get(p, obj, where, key, flags, &v);

    if ( r )
        return r;
    if ( !YAJL_IS_STRING(v) )
        return perr(p, where, key, "expected a string, got %s", DESCR(v));
    *out = v->u.string;
    return 0;
}

/* An array; 1 when absent/null (as flags allow). */
static int field_array(const struct vparse *p, yajl_val obj, const char *where,
                       const char *key, unsigned flags, yajl_val *out)
{
    int r = field_get(p, obj, where, key, flags, out);

    if ( r )
        return r;
    if ( !YAJL_IS_ARRAY(*out) )
        return perr(p, where, key, "expected an array, got %s", DESCR(*out));
    return 0;
}

/* A full "ssss:bb:dd.f" SBDF (the short "bb:dd.f" form is not accepted here). */
static int field_sbdf(const struct vparse *p, yajl_val obj, const char *where,
                      const char *key, unsigned flags, pt_sbdf_t *out)
{
    const char *s;
    int r = field_str(p, obj, where, key, flags, &s);

    if ( r )
        return r;
    if ( strlen(s) != PT_SBDF_STRLEN - 1 || pt_sbdf_parse(s, 0, out) )
        return perr(p, where, key, "\"%.40s\" is not an SBDF ssss:bb:dd.f", s);
    return 0;
}

static int parse_b2b(const struct vparse *p, yajl_val arr, const char *segwhere,
                     struct pt_xseg *s)
{
    for ( size_t i = 0; i < arr->u.array.len; i++ )
    {
        yajl_val e = arr->u.array.values[i];
        struct where w;
        long long bus;
        const char *bridge;
        pt_sbdf_t b;
        int r;

        where_fmt(&w, "%s.bus2bridge[%zu]", segwhere, i);
        if ( !YAJL_IS_OBJECT(e) )
            return perr(p, w.s, NULL, "expected an object, got %s", DESCR(e));
        r = field_int(p, e, w.s, "bus", 0, 255, F_REQUIRED, &bus);
        if ( r )
            return r;
        r = field_str(p, e, w.s, "bridge", F_REQUIRED, &bridge);
        if ( r )
            return r;
        /* Exactly "bb:dd.f": a 7-character "s:b:d.f" would name another segment's bridge. */
        if ( strlen(bridge) != PT_BDF_STRLEN - 1 || bridge[2] != ':' || bridge[5] != '.' ||
             pt_sbdf_parse(bridge, s->seg, &b) || PT_SEG(b) != s->seg )
            return perr(p, w.s, "bridge", "\"%.40s\" is not a bridge bb:dd.f of segment %04x",
                        bridge, s->seg);
        if ( s->b2b[bus].map )
            return perr(p, w.s, "bus", "bus %lld is mapped twice", bus);
        s->b2b[bus].map = true;
        s->b2b[bus].bus = PT_BUS(b);
        s->b2b[bus].devfn = PT_DEVFN(b);
    }
    return 0;
}

static int parse_dev(const struct vparse *p, yajl_val o, const char *w, uint16_t seg,
                     struct pt_xdev *d)
{
    const char *type;
    long long n;
    int r;

    memset(d, 0, sizeof(*d));
    if ( !YAJL_IS_OBJECT(o) )
        return perr(p, w, NULL, "expected an object, got %s", DESCR(o));

    if ( (r = field_sbdf(p, o, w, "sbdf", F_REQUIRED, &d->sbdf)) )
        return r;
    if ( PT_SEG(d->sbdf) != seg )
        return perr(p, w, "sbdf", "%s is not in segment %04x, the device list's",
                    pt_sbdf_fmt(d->sbdf, (char[PT_SBDF_STRLEN]){ 0 }), seg);

    if ( (r = field_str(p, o, w, "type", F_REQUIRED, &type)) )
        return r;
    if ( pt_type_parse(type, &d->type) )
        return perr(p, w, "type", "unknown device type \"%.40s\"", type);

    d->sec_bus = d->sub_bus = PT_NO_RANGE;
    r = field_int(p, o, w, "sec_bus", 0, 255, F_NULLABLE, &n);
    if ( r < 0 )
        return r;
    if ( r == 0 )
        d->sec_bus = n;
    r = field_int(p, o, w, "sub_bus", 0, 255, F_NULLABLE, &n);
    if ( r < 0 )
        return r;
    if ( r == 0 )
        d->sub_bus = n;
    if ( !pt_type_is_bridge(d->type) )
    {
        if ( d->sec_bus != PT_NO_RANGE )
            return perr(p, w, "sec_bus", "set on a %s, which is not a bridge",
                        pt_type_name(d->type));
        if ( d->sub_bus != PT_NO_RANGE )
            return perr(p, w, "sub_bus", "set on a %s, which is not a bridge",
                        pt_type_name(d->type));
    }
    else if ( (d->sec_bus == PT_NO_RANGE) != (d->sub_bus == PT_NO_RANGE) )
        return perr(p, w, d->sec_bus == PT_NO_RANGE ? "sec_bus" : "sub_bus",
                    "missing or null while %s is set: a recorded range has both ends",
                    d->sec_bus == PT_NO_RANGE ? "sub_bus" : "sec_bus");
    /*
     * A range holding the bridge's own bus is kept: Xen records the bus
     * numbers as it reads them when dom0 reports the bridge, and dom0
     * reports bridges before it has programmed them (seen on the testbed:
     * 0000:0b:00.0 recorded 0b-0c under pci=assign-busses).  The model
     * copes (xrange_behind(), pt_expected_b2b(), bounded bus2bridge
     * walks); refusing it would refuse a view `xen-view --json` wrote.
     */

    /* null: pci_add_device()'s IOMMU step failed and left pdev->domain NULL. */
    d->owner = PT_OWNER_NONE;
    r = field_int(p, o, w, "owner", 0, OWNER_MAX, F_REQUIRED | F_NULLABLE, &n);
    if ( r < 0 )
        return r;
    if ( r == 0 )
        d->owner = n;

    if ( (r = field_bool(p, o, w, "virtfn", 0, &d->virtfn)) < 0 )
        return r;
    r = field_sbdf(p, o, w, "physfn", F_NULLABLE, &d->physfn);
    if ( r < 0 )
        return r;
    d->has_physfn = r == 0;
    if ( d->has_physfn && PT_SEG(d->physfn) != seg )
        return perr(p, w, "physfn", "%s is not in segment %04x, the VF's",
                    pt_sbdf_fmt(d->physfn, (char[PT_SBDF_STRLEN]){ 0 }), seg);
    if ( (r = field_bool(p, o, w, "extfn", 0, &d->extfn)) < 0 )
        return r;

    /* alloc_pdev(): 8 >> DEVCAP phantom bits, or pci-phantom= doubled. */
    r = field_int(p, o, w, "phantom_stride", 0, 8, 0, &n);
    if ( r < 0 )
        return r;
    if ( r == 0 )
    {
        if ( n & (n - 1) )
            return perr(p, w, "phantom_stride", "%lld is not 0, 1, 2, 4 or 8", n);
        d->phantom_stride = n;
    }
    return 0;
}

static int cmp_xdev_sbdf(const void *a, const void *b)
{
    const struct pt_xdev *x = a, *y = b;

    return (x->sbdf > y->sbdf) - (x->sbdf < y->sbdf);
}

/* Names the two array positions of a duplicated SBDF (rare: a linear scan). */
static int dup_error(const struct vparse *p, yajl_val devs, const char *segwhere,
                     pt_sbdf_t sbdf)
{
    size_t first = (size_t)-1;
    char buf[PT_SBDF_STRLEN];

    pt_sbdf_fmt(sbdf, buf);
    for ( size_t i = 0; i < devs->u.array.len; i++ )
    {
        yajl_val v;
        const char *s;
        pt_sbdf_t x;
        struct where w;

        if ( field(p, devs->u.array.values[i], "", "sbdf", &v) || !YAJL_IS_STRING(v) )
            continue;
        s = v->u.string;
        if ( pt_sbdf_parse(s, 0, &x) || x != sbdf )
            continue;
        if ( first == (size_t)-1 )
        {
            first = i;
            continue;
        }
        where_fmt(&w, "%s.devices[%zu]", segwhere, i);
        return perr(p, w.s, "sbdf", "duplicate device %s (also at devices[%zu])",
                    buf, first);
    }
    return perr(p, segwhere, "devices", "duplicate device %s", buf);
}

static int parse_seg(const struct vparse *p, yajl_val o, const char *w, struct pt_xview *v)
{
    long long segno;
    bool known;
    yajl_val b2b, devs;
    struct pt_xseg *s;
    int r;

    if ( !YAJL_IS_OBJECT(o) )
        return perr(p, w, NULL, "expected an object, got %s", DESCR(o));
    if ( (r = field_int(p, o, w, "segment", 0, 0xffff, F_REQUIRED, &segno)) )
        return r;
    if ( pt_xview_seg(v, segno, false) )
        return perr(p, w, "segment", "segment %lld is given more than once", segno);
    if ( (r = field_bool(p, o, w, "bus2bridge_known", F_REQUIRED, &known)) )
        return r;
    r = field_array(p, o, w, "bus2bridge", F_NULLABLE, &b2b);
    if ( r < 0 )
        return r;
    if ( r == 0 && !known )
        return perr(p, w, "bus2bridge", "present while bus2bridge_known is false");
    if ( r == 1 )
        b2b = NULL;
    if ( (r = field_array(p, o, w, "devices", F_REQUIRED, &devs)) )
        return r;

    s = pt_xview_seg(v, segno, true);
    if ( !s )
        return -ENOMEM;
    s->b2b_known = known;
    if ( b2b && (r = parse_b2b(p, b2b, w, s)) )
        return r;

    /* Append, then sort once: inserting 20k entries one by one in document
     * order would be quadratic for a document that is not sorted. */
    if ( devs->u.array.len )
    {
        s->devs = calloc(devs->u.array.len, sizeof(s->devs[0]));
        if ( !s->devs )
            return -ENOMEM;
        s->cap = devs->u.array.len;
    }
    for ( size_t i = 0; i < devs->u.array.len; i++ )
    {
        struct where dw;

        where_fmt(&dw, "%s.devices[%zu]", w, i);
        if ( (r = parse_dev(p, devs->u.array.values[i], dw.s, s->seg, &s->devs[s->n])) )
            return r;
        s->n++;
    }
    if ( s->n > 1 )
        qsort(s->devs, s->n, sizeof(s->devs[0]), cmp_xdev_sbdf);
    for ( size_t i = 1; i < s->n; i++ )
        if ( s->devs[i].sbdf == s->devs[i - 1].sbdf )
            return dup_error(p, devs, w, s->devs[i].sbdf);
    return 0;
}

static int parse_doc(const struct vparse *p, yajl_val root, struct pt_xview *v)
{
    const char *fmt, *src, *hv;
    yajl_val segs;
    int r;

    if ( !YAJL_IS_OBJECT(root) )
        return perr(p, "", "(document)", "expected an object, got %s", DESCR(root));
    if ( (r = field_str(p, root, "", "format", F_REQUIRED, &fmt)) )
        return r;
    if ( strcmp(fmt, XVIEW_FORMAT) )
        return perr(p, "", "format", "\"%.40s\" is not \"" XVIEW_FORMAT "\"", fmt);
    if ( (r = field_str(p, root, "", "source", F_REQUIRED, &src)) )
        return r;
    if ( !strcmp(src, "sysctl") )
        v->source = PT_SOURCE_SYSCTL;
    else if ( !strcmp(src, "stock") )
        v->source = PT_SOURCE_STOCK;
    else if ( !strcmp(src, "sim") )
        v->source = PT_SOURCE_SIM;
    else
        return perr(p, "", "source", "\"%.40s\" is not sysctl, stock or sim", src);

    v->hv = v->source == PT_SOURCE_STOCK ? PT_HV_STOCK : PT_HV_PATCHED;
    r = field_str(p, root, "", "hypervisor", 0, &hv);
    if ( r < 0 )
        return r;
    if ( r == 0 )
    {
        if ( !strcmp(hv, "patched") )
            v->hv = PT_HV_PATCHED;
        else if ( !strcmp(hv, "stock") )
            v->hv = PT_HV_STOCK;
        else
            return perr(p, "", "hypervisor", "\"%.40s\" is not patched or stock", hv);
    }

    if ( (r = field_array(p, root, "", "segments", F_REQUIRED, &segs)) )
        return r;
    for ( size_t i = 0; i < segs->u.array.len; i++ )
    {
        struct where w;

        where_fmt(&w, "segments[%zu]", i);
        if ( (r = parse_seg(p, segs->u.array.values[i], w.s, v)) )
            return r;
    }
    return 0;
}

/* Copies yajl's first error line ("parse error: premature EOF"). */
static void first_line(char *s)
{
    char *nl = strchr(s, '\n');

    if ( nl )
        *nl = '\0';
    for ( size_t n = strlen(s); n && (s[n - 1] == ' ' || s[n - 1] == '\t'); n-- )
        s[n - 1] = '\0';
}

static int xview_parse(const char *json, size_t len, const char *origin,
                       struct pt_xview *out, struct pt_errlog *log)
{
    struct vparse p = { .log = log, .origin = origin };
    struct pt_xview v = { 0 };
    char errbuf[256] = "";
    yajl_val root;
    size_t i;
    int r;

    memset(out, 0, sizeof(*out));
    for ( i = 0; i < len; i++ )
        if ( json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r' )
            break;
    if ( i == len )
        return perr(&p, "", "(document)", "empty, expected a " XVIEW_FORMAT " object");
    if ( memchr(json, '\0', len) )
        return perr(&p, "", "(document)", "contains a NUL byte, not JSON text");

    root = pt_json_parse_n(json, len, errbuf, sizeof(errbuf));
    if ( !root )
    {
        first_line(errbuf);
        return perr(&p, "", "(document)", "not valid JSON: %s",
                    *errbuf ? errbuf : "out of memory");
    }

    r = parse_doc(&p, root, &v);
    yajl_tree_free(root);
    if ( r )
    {
        pt_xview_free(&v);
        return r;
    }
    *out = v;
    return 0;
}

/* Parses a pcitopod-xen-view/1 document into *out (overwritten; empty on error). */
int pt_xview_parse(const char *json, size_t len, struct pt_xview *out, struct pt_errlog *log)
{
    return xview_parse(json, len, "xen view", out, log);
}

/* Loads a view from file; errors name the file (and the field). */
int pt_xview_load(const char *file, struct pt_xview *out, struct pt_errlog *log)
{
    char *buf = NULL;
    size_t len = 0;
    int r;

    memset(out, 0, sizeof(*out));
    r = pt_read_doc(file, &buf, &len);
    if ( r )
    {
        pt_log(log, PT_SEV_ERROR, "%s: cannot read the xen view: %s", file, pt_read_file_strerror(r));
        return r;
    }
    r = xview_parse(buf, len, file, out, log);
    free(buf);
    return r;
}

static void dev_to_json(struct pt_jw *w, const struct pt_xdev *d)
{
    pt_jw_obj_open(w);
    pt_jw_key(w, "sbdf");
    pt_jw_sbdf(w, d->sbdf);
    pt_jw_key(w, "type");
    pt_jw_str(w, pt_type_name(d->type));
    /* Bridges only: the parser rejects a range on anything else. */
    if ( pt_type_is_bridge(d->type) )
    {
        pt_jw_key(w, "sec_bus");
        pt_jw_int_or_null(w, d->sec_bus);
        pt_jw_key(w, "sub_bus");
        pt_jw_int_or_null(w, d->sub_bus);
    }
    pt_jw_key(w, "owner");
    pt_jw_int_or_null(w, d->owner);
    pt_jw_key(w, "virtfn");
    pt_jw_bool(w, d->virtfn);
    pt_jw_key(w, "physfn");
    if ( d->has_physfn )
        pt_jw_sbdf(w, d->physfn);
    else
        pt_jw_null(w);
    pt_jw_key(w, "extfn");
    pt_jw_bool(w, d->extfn);
    pt_jw_key(w, "phantom_stride");
    pt_jw_int(w, d->phantom_stride);
    pt_jw_obj_close(w);
}

static void seg_to_json(struct pt_jw *w, const struct pt_xseg *s)
{
    char bdf[PT_BDF_STRLEN];

    pt_jw_obj_open(w);
    pt_jw_key(w, "segment");
    pt_jw_int(w, s->seg);
    pt_jw_key(w, "bus2bridge_known");
    pt_jw_bool(w, s->b2b_known);
    if ( s->b2b_known )
    {
        pt_jw_key(w, "bus2bridge");
        pt_jw_arr_open(w);
        for ( unsigned bus = 0; bus < 256; bus++ )
        {
            if ( !s->b2b[bus].map )
                continue;
            pt_jw_obj_open(w);
            pt_jw_key(w, "bus");
            pt_jw_int(w, bus);
            pt_jw_key(w, "bridge");
            pt_jw_str(w, pt_bdf_fmt(PT_SBDF(s->seg, s->b2b[bus].bus, s->b2b[bus].devfn), bdf));
            pt_jw_obj_close(w);
        }
        pt_jw_arr_close(w);
    }
    pt_jw_key(w, "devices");
    pt_jw_arr_open(w);
    for ( size_t i = 0; i < s->n; i++ )
        dev_to_json(w, &s->devs[i]);
    pt_jw_arr_close(w);
    pt_jw_obj_close(w);
}

static bool xview_sorted(const struct pt_xview *v)
{
    for ( size_t i = 0; i < v->nsegs; i++ )
    {
        if ( i && v->segs[i - 1].seg >= v->segs[i].seg )
            return false;
        for ( size_t j = 1; j < v->segs[i].n; j++ )
            if ( v->segs[i].devs[j - 1].sbdf >= v->segs[i].devs[j].sbdf )
                return false;
    }
    return true;
}

/* Serialises a view, segments and devices in sorted order. */
int pt_xview_to_json(const struct pt_xview *v, bool pretty, char **out, size_t *outlen)
{
    struct pt_xview sorted = { 0 };
    struct pt_jw w;
    int r;

    /* A view filled by hand may be out of order: write a sorted copy. */
    if ( !xview_sorted(v) )
    {
        r = pt_xview_copy(v, &sorted);
        if ( r )
            return r;
        pt_xview_sort(&sorted);
        v = &sorted;
    }
    r = pt_jw_doc_open(&w, pretty, XVIEW_FORMAT);
    if ( r )
        goto out;
    pt_jw_key(&w, "source");
    pt_jw_str(&w, pt_source_name(v->source));
    pt_jw_key(&w, "hypervisor");
    pt_jw_str(&w, pt_hv_name(v->hv));
    pt_jw_key(&w, "segments");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; i < v->nsegs; i++ )
        seg_to_json(&w, &v->segs[i]);
    pt_jw_arr_close(&w);
    pt_jw_obj_close(&w);
    r = pt_jw_finish(&w, out, outlen);
 out:
    pt_xview_free(&sorted);
    return r;
}

/* Writes the view (pretty) to file atomically. */
int pt_xview_save(const struct pt_xview *v, const char *file, struct pt_errlog *log)
{
    char *buf = NULL;
    size_t len = 0;
    int r = pt_xview_to_json(v, true, &buf, &len);

    if ( r )
    {
        pt_log(log, PT_SEV_ERROR, "%s: cannot serialise the xen view: %s", file, strerror(-r));
        return r;
    }
    r = pt_write_file_atomic(file, buf, len);
    if ( r )
        pt_log(log, PT_SEV_ERROR, "%s: cannot write the xen view: %s", file, strerror(-r));
    free(buf);
    return r;
}
