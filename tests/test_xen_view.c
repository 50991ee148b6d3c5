/*
 * test_xen_view.c - the Xen view model (xen_view.c), the
 * pcitopod-xen-view/1 document (xen_view_json.c) and the report and plan
 * documents (json_out.c).
 *
 * Documents are written with single quotes for readability; q() turns them
 * into JSON.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "pcitopo.h"
#include "json_out.h"
#include "tap.h"

#define SB(seg, bus, slot, fn) PT_SBDF(seg, bus, PT_DEVFN_OF(slot, fn))

/* Single quotes to double quotes; a static ring of buffers. */
static const char *q(const char *s)
{
    static char bufs[4][8192];
    static unsigned k;
    char *b = bufs[k++ % 4];
    size_t i;

    for ( i = 0; s[i] && i < sizeof(bufs[0]) - 1; i++ )
        b[i] = s[i] == '\'' ? '"' : s[i];
    b[i] = '\0';
    return b;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* True when some message of log contains every one of the NULL-terminated strings. */
static bool log_has(const struct pt_errlog *log, ...)
{
    for ( size_t i = 0; i < log->n; i++ )
    {
        va_list ap;
        const char *want;
        bool all = true;

        va_start(ap, log);
        while ( (want = va_arg(ap, const char *)) )
            if ( !strstr(log->msgs[i].text, want) )
                all = false;
        va_end(ap);
        if ( all )
            return true;
    }
    return false;
}

static void log_dump(const struct pt_errlog *log)
{
    for ( size_t i = 0; i < log->n; i++ )
        fprintf(stderr, "  log: %s\n", log->msgs[i].text);
}

static bool xdev_equal(const struct pt_xdev *a, const struct pt_xdev *b)
{
    return a->sbdf == b->sbdf && a->type == b->type && a->sec_bus == b->sec_bus &&
           a->sub_bus == b->sub_bus && a->owner == b->owner && a->virtfn == b->virtfn &&
           a->has_physfn == b->has_physfn && (!a->has_physfn || a->physfn == b->physfn) &&
           a->extfn == b->extfn && a->phantom_stride == b->phantom_stride;
}

static bool xview_equal(const struct pt_xview *a, const struct pt_xview *b)
{
    if ( a->source != b->source || a->hv != b->hv || a->nsegs != b->nsegs )
        return false;
    for ( size_t i = 0; i < a->nsegs; i++ )
    {
        const struct pt_xseg *x = &a->segs[i], *y = &b->segs[i];

        if ( x->seg != y->seg || x->b2b_known != y->b2b_known || x->n != y->n )
            return false;
        for ( unsigned bus = 0; bus < 256; bus++ )
            if ( x->b2b[bus].map != y->b2b[bus].map ||
                 (x->b2b[bus].map && (x->b2b[bus].bus != y->b2b[bus].bus ||
                                      x->b2b[bus].devfn != y->b2b[bus].devfn)) )
                return false;
        for ( size_t j = 0; j < x->n; j++ )
            if ( !xdev_equal(&x->devs[j], &y->devs[j]) )
                return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* The model                                                           */
/* ------------------------------------------------------------------ */

static struct pt_xdev mkdev(pt_sbdf_t sbdf, enum pt_dev_type t)
{
    struct pt_xdev d = {
        .sbdf = sbdf, .type = t, .sec_bus = PT_NO_RANGE, .sub_bus = PT_NO_RANGE,
        .owner = 0,
    };

    return d;
}

static void test_model(void)
{
    struct pt_xview v = { 0 }, c;
    struct pt_xdev d;
    struct pt_xseg *s;
    /* Out of order on purpose, across three segments. */
    static const pt_sbdf_t order[] = {
        SB(0, 5, 0, 0), SB(1, 0, 0, 0), SB(0, 0, 0x1c, 0), SB(0, 0, 0, 0),
        SB(0, 6, 1, 0), SB(2, 3, 0, 1), SB(0, 5, 0, 1), SB(1, 0, 2, 0),
    };

    CHECK(pt_xview_seg(&v, 0, false) == NULL);
    CHECK(pt_xview_find(&v, SB(0, 0, 0, 0)) == NULL);
    CHECK_EQ_INT(pt_xview_remove(&v, SB(0, 0, 0, 0)), -ENODEV);

    for ( size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++ )
    {
        d = mkdev(order[i], PT_TYPE_PCIE_ENDPOINT);
        d.owner = (int)i;
        CHECK(pt_xview_add(&v, &d) != NULL);
    }
    d = mkdev(SB(0, 5, 0, 0), PT_TYPE_PCI_ENDPOINT);
    errno = 0;
    CHECK(pt_xview_add(&v, &d) == NULL);
    CHECK_EQ_INT(errno, EEXIST);

    CHECK_EQ_INT(v.nsegs, 3);
    CHECK_EQ_INT(v.segs[0].seg, 0);
    CHECK_EQ_INT(v.segs[1].seg, 1);
    CHECK_EQ_INT(v.segs[2].seg, 2);
    CHECK_EQ_INT(v.segs[0].n, 5);
    CHECK(v.segs[0].b2b_known);
    for ( size_t i = 0; i < v.nsegs; i++ )
        for ( size_t j = 1; j < v.segs[i].n; j++ )
            CHECK(v.segs[i].devs[j - 1].sbdf < v.segs[i].devs[j].sbdf);
    for ( size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++ )
    {
        struct pt_xdev *f = pt_xview_find(&v, order[i]);

        CHECK(f && f->sbdf == order[i] && f->owner == (int)i);
    }
    CHECK(pt_xview_find(&v, SB(0, 5, 0, 2)) == NULL);
    CHECK(pt_xview_find(&v, SB(3, 0, 0, 0)) == NULL);

    /* Deep copy: independent of the original. */
    CHECK_EQ_INT(pt_xview_copy(&v, &c), 0);
    CHECK(xview_equal(&v, &c));
    CHECK(c.segs != v.segs && c.segs[0].devs != v.segs[0].devs);

    CHECK_EQ_INT(pt_xview_remove(&v, SB(0, 5, 0, 0)), 0);
    CHECK_EQ_INT(pt_xview_remove(&v, SB(0, 5, 0, 0)), -ENODEV);
    CHECK(pt_xview_find(&v, SB(0, 5, 0, 0)) == NULL);
    CHECK(pt_xview_find(&v, SB(0, 5, 0, 1)) != NULL);
    CHECK_EQ_INT(v.segs[0].n, 4);
    CHECK(pt_xview_find(&c, SB(0, 5, 0, 0)) != NULL);

    /* Segment creation keeps order and defaults. */
    s = pt_xview_seg(&v, 0x10, true);
    CHECK(s && s->seg == 0x10 && s->b2b_known && s->n == 0);
    s = pt_xview_seg(&v, 0x8, true);
    CHECK(s && s->seg == 0x8);
    CHECK_EQ_INT(v.nsegs, 5);
    CHECK_EQ_INT(v.segs[3].seg, 0x8);
    CHECK_EQ_INT(v.segs[4].seg, 0x10);
    CHECK(pt_xview_seg(&v, 0x8, true) == &v.segs[3]);

    /* Sort repairs a view filled by hand. */
    {
        struct pt_xseg *z = pt_xview_seg(&c, 0, false);
        struct pt_xdev tmp = z->devs[0];

        z->devs[0] = z->devs[z->n - 1];
        z->devs[z->n - 1] = tmp;
        pt_xview_sort(&c);
        for ( size_t j = 1; j < z->n; j++ )
            CHECK(z->devs[j - 1].sbdf < z->devs[j].sbdf);
        CHECK(pt_xview_find(&c, SB(0, 0, 0, 0)) != NULL);
    }

    pt_xview_free(&c);
    pt_xview_free(&v);
    CHECK(v.segs == NULL && v.nsegs == 0);
}

/* 20k adds in random order and 20k finds stay fast. */
static void test_model_scale(void)
{
    enum { N = 20000 };
    struct pt_xview v = { 0 };
    pt_sbdf_t *sb = malloc(N * sizeof(*sb));
    double t0 = now(), dt;
    bool ok = true;

    for ( unsigned i = 0; i < N; i++ )
        sb[i] = PT_SBDF(i / 8192, (i / 32) % 256, i % 32 * 8 % 256 | i % 8);
    /* Fisher-Yates with a fixed LCG: reproducible. */
    for ( unsigned i = N - 1, x = 12345; i > 0; i-- )
    {
        unsigned j;
        pt_sbdf_t t;

        x = x * 1103515245u + 12345u;
        j = (x >> 8) % (i + 1);
        t = sb[i];
        sb[i] = sb[j];
        sb[j] = t;
    }
    for ( unsigned i = 0; i < N; i++ )
    {
        struct pt_xdev d = mkdev(sb[i], PT_TYPE_PCIE_ENDPOINT);

        if ( !pt_xview_add(&v, &d) )
            ok = false;
    }
    for ( unsigned i = 0; i < N; i++ )
        if ( !pt_xview_find(&v, sb[i]) )
            ok = false;
    dt = now() - t0;
    CHECK(ok);
    /* Speed is the benchmark's business (bench/); here only for the log. */
    fprintf(stderr, "# 20k random adds + finds: %.3fs\n", dt);
    pt_xview_free(&v);
    free(sb);
}

/* ------------------------------------------------------------------ */
/* Good documents                                                      */
/* ------------------------------------------------------------------ */

static const char good_doc[] =
    "{ 'format': 'pcitopod-xen-view/1', 'source': 'sysctl', 'extra': [1, {}],"
    "  'segments': ["
    "  { 'segment': 1, 'bus2bridge_known': true, 'bus2bridge': [],"
    "    'devices': ["
    "    { 'sbdf': '0001:00:00.0', 'type': 'host-bridge', 'owner': 0 } ] },"
    "  { 'segment': 0, 'bus2bridge_known': true,"
    "    'bus2bridge': [ { 'bus': 6, 'bridge': '05:00.0' }, { 'bus': 8, 'bridge': '06:01.0' },"
    "                    { 'bus': 7, 'bridge': '05:00.0' } ],"
    "    'devices': ["
    "    { 'sbdf': '0000:05:00.0', 'type': 'pcie2pci-bridge', 'sec_bus': 6, 'sub_bus': 8,"
    "      'owner': 0, 'virtfn': false, 'physfn': null, 'extfn': false, 'phantom_stride': 0 },"
    "    { 'sbdf': '0000:00:00.0', 'type': 'host-bridge', 'owner': 0 },"
    "    { 'sbdf': '0000:00:1c.0', 'type': 'pcie-port', 'sec_bus': 1, 'sub_bus': 8, 'owner': 0 },"
    "    { 'sbdf': '0000:06:01.0', 'type': 'legacy-bridge', 'sec_bus': 8, 'sub_bus': 8,"
    "      'owner': 32754 },"
    "    { 'sbdf': '0000:01:00.0', 'type': 'pci2pcie-bridge', 'sec_bus': null, 'sub_bus': null,"
    "      'owner': 0 },"
    "    { 'sbdf': '0000:02:00.0', 'type': 'pcie-endpoint', 'owner': 32753, 'phantom_stride': 2,"
    "      'sec_bus': null },"
    "    { 'sbdf': '0000:02:00.1', 'type': 'pcie-endpoint', 'owner': 0, 'extfn': true },"
    "    { 'sbdf': '0000:02:10.0', 'type': 'pcie-endpoint', 'owner': 4, 'virtfn': true,"
    "      'physfn': '0000:02:00.0' },"
    "    { 'sbdf': '0000:08:00.0', 'type': 'pci-endpoint', 'owner': null },"
    "    { 'sbdf': '0000:09:00.0', 'type': 'unknown', 'owner': 0 } ] } ] }";

static void test_good_doc(void)
{
    struct pt_errlog log = { 0 };
    struct pt_xview v;
    struct pt_xdev *d;
    const char *doc = q(good_doc);
    int r = pt_xview_parse(doc, strlen(doc), &v, &log);

    CHECK_EQ_INT(r, 0);
    if ( r )
    {
        log_dump(&log);
        pt_errlog_free(&log);
        return;
    }
    CHECK_EQ_INT(log.nerrors, 0);
    CHECK_EQ_INT(v.source, PT_SOURCE_SYSCTL);
    CHECK_EQ_INT(v.hv, PT_HV_PATCHED);
    CHECK_EQ_INT(v.nsegs, 2);
    CHECK_EQ_INT(v.segs[0].seg, 0);      /* sorted */
    CHECK_EQ_INT(v.segs[1].seg, 1);
    CHECK_EQ_INT(v.segs[0].n, 10);
    for ( size_t j = 1; j < v.segs[0].n; j++ )
        CHECK(v.segs[0].devs[j - 1].sbdf < v.segs[0].devs[j].sbdf);

    CHECK(v.segs[0].b2b_known);
    CHECK(v.segs[0].b2b[6].map && v.segs[0].b2b[6].bus == 5 && v.segs[0].b2b[6].devfn == 0);
    CHECK(v.segs[0].b2b[7].map && v.segs[0].b2b[7].bus == 5);
    CHECK(v.segs[0].b2b[8].map && v.segs[0].b2b[8].bus == 6 &&
          v.segs[0].b2b[8].devfn == PT_DEVFN_OF(1, 0));
    CHECK(!v.segs[0].b2b[5].map && !v.segs[0].b2b[0].map);

    d = pt_xview_find(&v, SB(0, 5, 0, 0));
    CHECK(d && d->type == PT_TYPE_PCIE2PCI_BRIDGE && d->sec_bus == 6 && d->sub_bus == 8 &&
          d->owner == 0 && !d->virtfn && !d->has_physfn && !d->extfn && d->phantom_stride == 0);
    d = pt_xview_find(&v, SB(0, 0, 0, 0));
    CHECK(d && d->type == PT_TYPE_HOST_BRIDGE && d->sec_bus == PT_NO_RANGE);
    d = pt_xview_find(&v, SB(0, 0, 0x1c, 0));
    CHECK(d && d->type == PT_TYPE_PCIE_PORT && d->sec_bus == 1 && d->sub_bus == 8);
    d = pt_xview_find(&v, SB(0, 6, 1, 0));
    CHECK(d && d->type == PT_TYPE_LEGACY_BRIDGE && d->owner == PT_DOMID_XEN);
    d = pt_xview_find(&v, SB(0, 1, 0, 0));
    CHECK(d && d->type == PT_TYPE_PCI2PCIE_BRIDGE && d->sec_bus == PT_NO_RANGE &&
          d->sub_bus == PT_NO_RANGE);
    d = pt_xview_find(&v, SB(0, 2, 0, 0));
    CHECK(d && d->type == PT_TYPE_PCIE_ENDPOINT && d->owner == PT_DOMID_IO &&
          d->phantom_stride == 2 && d->sec_bus == PT_NO_RANGE);
    d = pt_xview_find(&v, SB(0, 2, 0, 1));
    CHECK(d && d->extfn && !d->virtfn);
    d = pt_xview_find(&v, SB(0, 2, 0x10, 0));
    CHECK(d && d->virtfn && d->has_physfn && d->physfn == SB(0, 2, 0, 0) && d->owner == 4);
    d = pt_xview_find(&v, SB(0, 8, 0, 0));
    CHECK(d && d->type == PT_TYPE_PCI_ENDPOINT && d->owner == PT_OWNER_NONE);
    d = pt_xview_find(&v, SB(0, 9, 0, 0));
    CHECK(d && d->type == PT_TYPE_UNKNOWN);
    d = pt_xview_find(&v, SB(1, 0, 0, 0));
    CHECK(d && d->type == PT_TYPE_HOST_BRIDGE);

    pt_xview_free(&v);
    pt_errlog_free(&log);
}

/* A stock view: no bus2bridge, hypervisor defaults to stock; explicit override. */
static void test_stock_and_hv(void)
{
    struct pt_errlog log = { 0 };
    struct pt_xview v;
    const char *doc;
    char *js = NULL;

    doc = q("{'format':'pcitopod-xen-view/1','source':'stock','segments':[{'segment':0,"
            "'bus2bridge_known':false,'devices':[{'sbdf':'0000:00:00.0','type':'host-bridge',"
            "'owner':0}]}]}");
    CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc), &v, &log), 0);
    CHECK_EQ_INT(v.source, PT_SOURCE_STOCK);
    CHECK_EQ_INT(v.hv, PT_HV_STOCK);
    CHECK(v.nsegs == 1 && !v.segs[0].b2b_known);
    CHECK_EQ_INT(pt_xview_to_json(&v, false, &js, NULL), 0);
    CHECK(js && !strstr(js, "\"bus2bridge\":"));
    CHECK(js && strstr(js, "\"bus2bridge_known\":false"));
    CHECK(js && strstr(js, "\"hypervisor\":\"stock\""));
    free(js);
    pt_xview_free(&v);

    /* bus2bridge: null counts as absent. */
    doc = q("{'format':'pcitopod-xen-view/1','source':'stock','segments':[{'segment':0,"
            "'bus2bridge_known':false,'bus2bridge':null,'devices':[]}]}");
    CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc), &v, &log), 0);
    pt_xview_free(&v);

    doc = q("{'format':'pcitopod-xen-view/1','source':'sim','segments':[]}");
    CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc), &v, &log), 0);
    CHECK_EQ_INT(v.source, PT_SOURCE_SIM);
    CHECK_EQ_INT(v.hv, PT_HV_PATCHED);
    CHECK_EQ_INT(v.nsegs, 0);
    pt_xview_free(&v);

    doc = q("{'format':'pcitopod-xen-view/1','source':'sim','hypervisor':'stock','segments':[]}");
    CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc), &v, &log), 0);
    CHECK_EQ_INT(v.source, PT_SOURCE_SIM);
    CHECK_EQ_INT(v.hv, PT_HV_STOCK);
    pt_xview_free(&v);

    doc = q("{'format':'pcitopod-xen-view/1','source':'stock','hypervisor':'patched',"
            "'segments':[]}");
    CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc), &v, &log), 0);
    CHECK_EQ_INT(v.hv, PT_HV_PATCHED);
    pt_xview_free(&v);

    /* Not NUL-terminated: only len bytes are read. */
    doc = q("{'format':'pcitopod-xen-view/1','source':'sim','segments':[]}garbage");
    CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc) - strlen("garbage"), &v, &log), 0);
    pt_xview_free(&v);

    CHECK_EQ_INT(log.nerrors, 0);
    pt_errlog_free(&log);
}

/* parse -> to_json -> parse is the identity; to_json is deterministic. */
static void test_round_trip(void)
{
    struct pt_errlog log = { 0 };
    struct pt_xview a, b, c;
    const char *doc = q(good_doc);
    char *j1 = NULL, *j2 = NULL, *j3 = NULL;
    size_t l1 = 0, l2 = 0, l3 = 0;

    CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc), &a, &log), 0);
    CHECK_EQ_INT(pt_xview_to_json(&a, false, &j1, &l1), 0);
    CHECK(j1 && strlen(j1) == l1);
    CHECK_EQ_INT(pt_xview_parse(j1, l1, &b, &log), 0);
    CHECK(xview_equal(&a, &b));
    CHECK_EQ_INT(pt_xview_to_json(&b, false, &j2, &l2), 0);
    CHECK_EQ_STR(j1, j2);

    /* Pretty output parses to the same view. */
    CHECK_EQ_INT(pt_xview_to_json(&a, true, &j3, &l3), 0);
    CHECK(j3 && strchr(j3, '\n'));
    CHECK_EQ_INT(pt_xview_parse(j3, l3, &c, &log), 0);
    CHECK(xview_equal(&a, &c));

    /* Fields as the document promises. */
    CHECK(strstr(j1, "\"format\":\"pcitopod-xen-view/1\""));
    CHECK(strstr(j1, "\"source\":\"sysctl\""));
    CHECK(strstr(j1, "\"hypervisor\":\"patched\""));
    CHECK(strstr(j1, "\"bus2bridge\":[{\"bus\":6,\"bridge\":\"05:00.0\"},"
                     "{\"bus\":7,\"bridge\":\"05:00.0\"},{\"bus\":8,\"bridge\":\"06:01.0\"}]"));
    CHECK(strstr(j1, "{\"sbdf\":\"0000:08:00.0\",\"type\":\"pci-endpoint\",\"owner\":null,"
                     "\"virtfn\":false,\"physfn\":null,\"extfn\":false,\"phantom_stride\":0}"));
    CHECK(strstr(j1, "\"physfn\":\"0000:02:00.0\""));
    CHECK(strstr(j1, "\"sec_bus\":null,\"sub_bus\":null"));
    CHECK(strstr(j1, "\"owner\":32753"));
    CHECK(!strstr(j1, "extra"));
    /* Segments sorted: 0 before 1. */
    CHECK(strstr(j1, "\"segment\":0") < strstr(j1, "\"segment\":1"));

    /* A model filled out of order is written sorted. */
    {
        struct pt_xseg *s = pt_xview_seg(&c, 0, false);
        struct pt_xdev t = s->devs[0];
        char *j4 = NULL;

        s->devs[0] = s->devs[1];
        s->devs[1] = t;
        CHECK_EQ_INT(pt_xview_to_json(&c, true, &j4, NULL), 0);
        CHECK_EQ_STR(j4, j3);
        free(j4);
    }

    CHECK_EQ_INT(log.nerrors, 0);
    free(j1);
    free(j2);
    free(j3);
    pt_xview_free(&a);
    pt_xview_free(&b);
    pt_xview_free(&c);
    pt_errlog_free(&log);
}

/*
 * A bridge Xen recorded over its own bus (reported by dom0 before it was
 * programmed; the testbed's deep-assign-busses has 0b:00.0 recorded 0b-0c)
 * is a view Xen can have: it is read, kept and written back unchanged.
 */
static void test_self_range_kept(void)
{
    static const char *const devs[] = {
        "{'sbdf':'0000:0b:00.0','type':'pcie2pci-bridge','sec_bus':11,'sub_bus':12,'owner':0}",
        "{'sbdf':'0000:05:00.0','type':'pcie2pci-bridge','sec_bus':3,'sub_bus':9,'owner':0}",
        "{'sbdf':'0000:00:1c.0','type':'pcie-port','sec_bus':0,'sub_bus':255,'owner':0}",
    };

    for ( size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++ )
    {
        struct pt_errlog log = { 0 };
        struct pt_xview v = { 0 }, w = { 0 };
        char doc[512], *j = NULL;
        size_t len = 0;
        const struct pt_xdev *x;

        snprintf(doc, sizeof(doc), "%s%s%s",
                 q("{'format':'pcitopod-xen-view/1','source':'sim','segments':["
                   "{'segment':0,'bus2bridge_known':true,'devices':["), q(devs[i]), "]}]}");
        CHECKF(pt_xview_parse(doc, strlen(doc), &v, &log) == 0, "case %zu: %s", i, doc);
        x = v.nsegs ? &v.segs[0].devs[0] : NULL;
        CHECK(x && pt_type_is_bridge(x->type));
        CHECK_EQ_INT(pt_xview_to_json(&v, false, &j, &len), 0);
        CHECK(j && pt_xview_parse(j, len, &w, &log) == 0);
        CHECK(x && w.nsegs == 1 && w.segs[0].n == 1 &&
              w.segs[0].devs[0].sec_bus == x->sec_bus && w.segs[0].devs[0].sub_bus == x->sub_bus);
        free(j);
        pt_xview_free(&v);
        pt_xview_free(&w);
        pt_errlog_free(&log);
    }
}

/* ------------------------------------------------------------------ */
/* Bad documents                                                       */
/* ------------------------------------------------------------------ */

#define HDR "{'format':'pcitopod-xen-view/1','source':'sim','segments':["
#define SEG0(devs) HDR "{'segment':0,'bus2bridge_known':true,'devices':[" devs "]}]}"
#define SEGB(b2b) HDR "{'segment':0,'bus2bridge_known':true,'bus2bridge':[" b2b "]," \
    "'devices':[]}]}"
#define EP "{'sbdf':'0000:02:00.0','type':'pcie-endpoint','owner':0"

static const struct bad_case {
    const char *doc;
    const char *field;          /* must appear in the message */
    const char *also;           /* and this (the value or the cause), or NULL */
} bad_cases[] = {
    { "[]", "(document)", "array" },
    { "{'source':'sim','segments':[]}", "format", "missing" },
    { "{'format':'pcitopod-xen-view/2','source':'sim','segments':[]}", "format",
      "pcitopod-xen-view/2" },
    { "{'format':7,'source':'sim','segments':[]}", "format", "string" },
    { "{'format':'pcitopod-xen-view/1','segments':[]}", "source", "missing" },
    { "{'format':'pcitopod-xen-view/1','source':'xenstore','segments':[]}", "source",
      "xenstore" },
    { "{'format':'pcitopod-xen-view/1','source':'sim','hypervisor':'qemu','segments':[]}",
      "hypervisor", "qemu" },
    { "{'format':'pcitopod-xen-view/1','source':'sim'}", "segments", "missing" },
    { "{'format':'pcitopod-xen-view/1','source':'sim','segments':{}}", "segments", "array" },
    { "{'format':'pcitopod-xen-view/1','format':'pcitopod-xen-view/1','source':'sim',"
      "'segments':[]}", "format", "more than once" },
    { HDR "7]}", "segments[0]", "object" },
    { HDR "{'bus2bridge_known':true,'devices':[]}]}", "segments[0].segment", "missing" },
    { HDR "{'segment':65536,'bus2bridge_known':true,'devices':[]}]}", "segments[0].segment",
      "65536" },
    { HDR "{'segment':-1,'bus2bridge_known':true,'devices':[]}]}", "segments[0].segment",
      "-1" },
    { HDR "{'segment':'0','bus2bridge_known':true,'devices':[]}]}", "segments[0].segment",
      "integer" },
    { HDR "{'segment':0.5,'bus2bridge_known':true,'devices':[]}]}", "segments[0].segment",
      "0.5" },
    { HDR "{'segment':99999999999999999999,'bus2bridge_known':true,'devices':[]}]}",
      "segments[0].segment", "out of range" },
    { HDR "{'segment':0,'bus2bridge_known':true,'devices':[]},"
      "{'segment':0,'bus2bridge_known':true,'devices':[]}]}", "segments[1].segment",
      "more than once" },
    { HDR "{'segment':0,'devices':[]}]}", "segments[0].bus2bridge_known", "missing" },
    { HDR "{'segment':0,'bus2bridge_known':1,'devices':[]}]}", "segments[0].bus2bridge_known",
      "true or false" },
    { HDR "{'segment':0,'bus2bridge_known':true}]}", "segments[0].devices", "missing" },
    { HDR "{'segment':0,'bus2bridge_known':false,'bus2bridge':[],'devices':[]}]}",
      "segments[0].bus2bridge", "bus2bridge_known is false" },
    { SEGB("{'bus':256,'bridge':'05:00.0'}"), "segments[0].bus2bridge[0].bus", "256" },
    { SEGB("{'bridge':'05:00.0'}"), "segments[0].bus2bridge[0].bus", "missing" },
    { SEGB("{'bus':6,'bridge':'05:00.0'},{'bus':6,'bridge':'05:00.0'}"),
      "segments[0].bus2bridge[1].bus", "twice" },
    { SEGB("{'bus':6,'bridge':'0000:05:00.0'}"), "segments[0].bus2bridge[0].bridge",
      "0000:05:00.0" },
    { SEGB("{'bus':6,'bridge':'05:20.0'}"), "segments[0].bus2bridge[0].bridge", "05:20.0" },
    { SEGB("{'bus':6}"), "segments[0].bus2bridge[0].bridge", "missing" },
    { SEGB("6"), "segments[0].bus2bridge[0]", "object" },
    { SEG0("{'type':'pcie-endpoint','owner':0}"), "segments[0].devices[0].sbdf", "missing" },
    { SEG0(EP "},{'sbdf':'0000:05:00','type':'pci-endpoint','owner':0}"),
      "segments[0].devices[1].sbdf", "\"0000:05:00\" is not an SBDF ssss:bb:dd.f" },
    { SEG0("{'sbdf':'05:00.0','type':'pci-endpoint','owner':0}"),
      "segments[0].devices[0].sbdf", "05:00.0" },
    { SEG0("{'sbdf':'0000:05:00.8','type':'pci-endpoint','owner':0}"),
      "segments[0].devices[0].sbdf", "0000:05:00.8" },
    { SEG0("{'sbdf':'0001:05:00.0','type':'pci-endpoint','owner':0}"),
      "segments[0].devices[0].sbdf", "segment" },
    { SEG0(EP "}," EP "}"), "segments[0].devices[1].sbdf", "duplicate" },
    { SEG0("{'sbdf':'0000:02:00.0','owner':0}"), "segments[0].devices[0].type", "missing" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-switch','owner':0}"),
      "segments[0].devices[0].type", "pcie-switch" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-endpoint'}"), "segments[0].devices[0].owner",
      "missing" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-endpoint','owner':32755}"),
      "segments[0].devices[0].owner", "32755" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-endpoint','owner':-1}"),
      "segments[0].devices[0].owner", "-1" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-endpoint','owner':'dom0'}"),
      "segments[0].devices[0].owner", "dom0" },
    { SEG0(EP ",'sec_bus':1,'sub_bus':1}"), "segments[0].devices[0].sec_bus", "not a bridge" },
    { SEG0(EP ",'sub_bus':1}"), "segments[0].devices[0].sub_bus", "not a bridge" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-port','owner':0,'sec_bus':256,'sub_bus':3}"),
      "segments[0].devices[0].sec_bus", "256" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-port','owner':0,'sec_bus':3,'sub_bus':-2}"),
      "segments[0].devices[0].sub_bus", "-2" },
    { SEG0("{'sbdf':'0000:02:00.0','type':'pcie-port','owner':0,'sec_bus':3}"),
      "segments[0].devices[0].sub_bus", "null" },
    { SEG0(EP ",'virtfn':'yes'}"), "segments[0].devices[0].virtfn", "yes" },
    { SEG0(EP ",'extfn':null}"), "segments[0].devices[0].extfn", "null" },
    { SEG0(EP ",'virtfn':true,'physfn':'02:00.0'}"), "segments[0].devices[0].physfn",
      "02:00.0" },
    { SEG0(EP ",'virtfn':true,'physfn':'0001:02:00.0'}"), "segments[0].devices[0].physfn",
      "segment" },
    { SEG0(EP ",'phantom_stride':3}"), "segments[0].devices[0].phantom_stride", "3" },
    { SEG0(EP ",'phantom_stride':16}"), "segments[0].devices[0].phantom_stride", "16" },
    { SEG0("'0000:02:00.0'"), "segments[0].devices[0]", "object" },
    { SEG0(EP ",'owner':0}"), "segments[0].devices[0].owner", "more than once" },
    /* Hostile input (issue 11). */
    { SEGB("{'bus':3,'bridge':'1:5:0.0'}"), "segments[0].bus2bridge[0].bridge", "segment 0000" },
    { SEGB("{'bus':3,'bridge':'0:5:0.0'}"), "segments[0].bus2bridge[0].bridge", "bb:dd.f" },
    { SEG0("{'sbdf':'0000:02:00.0\\u0000junk','type':'pcie-endpoint','owner':0}"),
      "(document)", "\\u0000" },
};

/* '[' x depth, then ']' x depth, in a malloc'ed string of *len bytes. */
static char *nested(size_t depth, size_t *len)
{
    char *s = malloc(2 * depth + 1);

    if ( !s )
        return NULL;
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    *len = 2 * depth;
    return s;
}

/* Writes text to dir/name; returns the path (static). */
static const char *put(const char *dir, const char *name, const char *text, size_t len)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    if ( f )
    {
        fwrite(text, 1, len, f);
        fclose(f);
    }
    return path;
}

/*
 * Input that used to crash or exhaust pcitopod: nesting that overflowed the
 * stack in yajl_tree_free(), a device or FIFO read until memory ran out, a
 * file past the size cap.  Each is refused with the file and the cause named.
 */
static void test_hostile(void)
{
    char dir[] = "/tmp/test_xen_view.XXXXXX", err[128];
    struct pt_errlog log = { 0 };
    struct pt_xview v;
    const char *path;
    size_t len;
    char *deep = nested(1000000, &len), *s;
    yajl_val root;
    int fd;

    CHECK(deep != NULL && mkdtemp(dir) != NULL);
    if ( !deep )
        return;
    CHECK_EQ_INT(pt_xview_parse(deep, len, &v, &log), -EINVAL);
    CHECK(log_has(&log, "(document)", "nested deeper than 64", NULL));
    pt_errlog_free(&log);
    path = put(dir, "deep.json", deep, len);
    CHECK_EQ_INT(pt_xview_load(path, &v, &log), -EINVAL);
    CHECK(log_has(&log, path, "nested deeper than 64", NULL));
    pt_errlog_free(&log);
    free(deep);

    /* 64 levels are JSON; 65 are not; brackets inside strings do not count. */
    deep = nested(64, &len);
    root = pt_json_parse_n(deep, len, err, sizeof(err));
    CHECK(root != NULL);
    yajl_tree_free(root);
    free(deep);
    deep = nested(65, &len);
    CHECK(pt_json_parse_n(deep, len, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "nested deeper") != NULL);
    free(deep);
    s = "[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{\"]";
    root = pt_json_parse_n(s, strlen(s), err, sizeof(err));
    CHECK(root != NULL);
    yajl_tree_free(root);
    /* A quote inside a comment (yajl allows them) does not hide what follows. */
    s = "/* \" */ [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[";
    CHECK(pt_json_parse_n(s, strlen(s), err, sizeof(err)) == NULL);
    CHECK(strstr(err, "nested deeper") != NULL);
    s = "// \"\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[";
    CHECK(pt_json_parse_n(s, strlen(s), err, sizeof(err)) == NULL);
    CHECK(strstr(err, "nested deeper") != NULL);
    s = "/* [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ */ [1] // [[[[\n";
    root = pt_json_parse_n(s, strlen(s), err, sizeof(err));
    CHECK(root != NULL);
    yajl_tree_free(root);
    s = "[\"a\\u0000b\"]";
    CHECK(pt_json_parse_n(s, strlen(s), err, sizeof(err)) == NULL);
    CHECK(strstr(err, "\\u0000") != NULL);
    s = "[\"a\\\\u0000b\"]";           /* an escaped backslash, then text */
    root = pt_json_parse_n(s, strlen(s), err, sizeof(err));
    CHECK(root != NULL);
    yajl_tree_free(root);

    /* Not regular files: refused at once, not read until memory runs out. */
    CHECK_EQ_INT(pt_xview_load("/dev/zero", &v, &log), -PT_ENOTREG);
    CHECK(log_has(&log, "/dev/zero", "not a regular file", NULL));
    CHECK_EQ_INT(pt_xview_load(dir, &v, &log), -PT_ENOTREG);
    pt_errlog_free(&log);
    snprintf(err, sizeof(err), "%s/fifo", dir);
    CHECK(mkfifo(err, 0600) == 0);
    CHECK_EQ_INT(pt_xview_load(err, &v, &log), -PT_ENOTREG);   /* and it does not block */
    unlink(err);
    pt_errlog_free(&log);

    /* Past the cap: refused by its size, before a byte is read. */
    path = put(dir, "big.json", "{", 1);
    fd = open(path, O_WRONLY);
    CHECK(fd >= 0 && ftruncate(fd, PT_DOC_MAX + 1) == 0);
    if ( fd >= 0 )
        close(fd);
    CHECK_EQ_INT(pt_xview_load(path, &v, &log), -EFBIG);
    CHECK(log_has(&log, path, "larger than 16 MiB", NULL));
    unlink(path);
    pt_errlog_free(&log);
    CHECK(pt_json_parse_n("[]", (size_t)PT_DOC_MAX + 1, err, sizeof(err)) == NULL);

    unlink(put(dir, "deep.json", "", 0));
    rmdir(dir);
}

static void test_bad_docs(void)
{
    for ( size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++ )
    {
        const struct bad_case *c = &bad_cases[i];
        struct pt_errlog log = { 0 };
        struct pt_xview v;
        const char *doc = q(c->doc);
        int r;

        memset(&v, 0xa5, sizeof(v));
        r = pt_xview_parse(doc, strlen(doc), &v, &log);
        CHECKF(r == -EINVAL, "case %zu (%s): returned %d", i, c->field, r);
        CHECKF(log_has(&log, c->field, c->also, NULL),
               "case %zu: no message naming '%s' and '%s'", i, c->field,
               c->also ? c->also : "");
        if ( !log_has(&log, c->field, c->also, NULL) )
            log_dump(&log);
        CHECKF(v.segs == NULL && v.nsegs == 0, "case %zu: view not left empty", i);
        if ( r == 0 )
            pt_xview_free(&v);
        pt_errlog_free(&log);
    }
}

/* Text that is not a document at all, and files. */
static void test_malformed(void)
{
    static const char *const texts[] = {
        "{'format':'pcitopod-xen-view/1','source':'sim','segm",   /* truncated */
        "not json at all",
        "{'format':'pcitopod-xen-view/1','source':'sim','segments':[]} trailing",
        "",
        "   \n",
    };
    char dir[] = "/tmp/test_xen_view.XXXXXX";
    char file[128], missing[160];
    struct pt_errlog log = { 0 };
    struct pt_xview v, w;
    FILE *f;
    int r;

    for ( size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++ )
    {
        const char *doc = q(texts[i]);

        r = pt_xview_parse(doc, strlen(doc), &v, &log);
        CHECKF(r == -EINVAL, "text %zu: returned %d", i, r);
        CHECKF(log.nerrors == i + 1, "text %zu: %zu errors logged", i, log.nerrors);
        CHECK(log.n && strstr(log.msgs[log.n - 1].text, "(document)"));
        CHECK(v.nsegs == 0 && v.segs == NULL);
    }
    CHECK(log_has(&log, "(document)", "not valid JSON", NULL));
    CHECK(log_has(&log, "(document)", "empty", NULL));
    /* yajl's multi-line error is cut to its first line. */
    for ( size_t i = 0; i < log.n; i++ )
        CHECK(!strchr(log.msgs[i].text, '\n'));
    CHECK_EQ_INT(pt_xview_parse("{\"a\":1}\0", 9, &v, &log), -EINVAL);
    CHECK(log_has(&log, "NUL", NULL));
    pt_errlog_free(&log);

    CHECK(mkdtemp(dir) != NULL);

    /* Nonexistent file: -ENOENT with the file named. */
    snprintf(missing, sizeof(missing), "%s/no-such-view.json", dir);
    CHECK_EQ_INT(pt_xview_load(missing, &v, &log), -ENOENT);
    CHECK(log_has(&log, missing, NULL));
    CHECK(v.nsegs == 0);
    pt_errlog_free(&log);

    /* Empty file. */
    snprintf(file, sizeof(file), "%s/view.json", dir);
    f = fopen(file, "w");
    CHECK(f != NULL);
    if ( f )
        fclose(f);
    CHECK_EQ_INT(pt_xview_load(file, &v, &log), -EINVAL);
    CHECK(log_has(&log, file, "empty", NULL));
    pt_errlog_free(&log);

    /* A bad field in a file: both the file and the field are named. */
    f = fopen(file, "w");
    if ( f )
    {
        fputs(q(SEG0("{'sbdf':'0000:02:00.0','type':'bogus','owner':0}")), f);
        fclose(f);
    }
    CHECK_EQ_INT(pt_xview_load(file, &v, &log), -EINVAL);
    CHECK(log_has(&log, file, "segments[0].devices[0].type", "bogus", NULL));
    pt_errlog_free(&log);

    /* Save then load is the identity; save replaces the file atomically. */
    {
        const char *doc = q(good_doc);

        CHECK_EQ_INT(pt_xview_parse(doc, strlen(doc), &v, &log), 0);
        CHECK_EQ_INT(pt_xview_save(&v, file, &log), 0);
        CHECK_EQ_INT(pt_xview_load(file, &w, &log), 0);
        CHECK(xview_equal(&v, &w));
        CHECK_EQ_INT(log.nerrors, 0);
        pt_xview_free(&w);
        /* Saving into a directory that does not exist fails and says where. */
        CHECK(pt_xview_save(&v, "/nonexistent-dir/x/view.json", &log) < 0);
        CHECK(log_has(&log, "/nonexistent-dir/x/view.json", NULL));
        pt_xview_free(&v);
        pt_errlog_free(&log);
    }

    unlink(file);
    rmdir(dir);
}

/*
 * A 20k-device document parses (and is written) in well under a second.
 * Under ASan the bound says nothing about production: yajl_tree grows each
 * array by one element per value and ASan's realloc always copies, which
 * makes the tree build quadratic there (~4s for 20k), so the sanitizer
 * build checks a quarter of the size against a looser bound.
 */
#ifdef __SANITIZE_ADDRESS__
#define BIG_N     5000
#else
#define BIG_N     20000
#endif

static void test_big_doc(void)
{
    enum { N = BIG_N };
    size_t cap = N * 200 + 1024, len = 0;
    char *doc = malloc(cap), *out = NULL;
    struct pt_errlog log = { 0 };
    struct pt_xview v;
    double t0, dt;
    size_t outlen = 0;

    len += snprintf(doc + len, cap - len,
                    "{\"format\":\"pcitopod-xen-view/1\",\"source\":\"sysctl\",\"segments\":["
                    "{\"segment\":0,\"bus2bridge_known\":true,\"bus2bridge\":[],\"devices\":[");
    /* Descending order: the parser must not be quadratic on unsorted input. */
    for ( int i = N - 1; i >= 0; i-- )
    {
        unsigned bus = i / 256, devfn = i % 256;

        len += snprintf(doc + len, cap - len,
                        "%s{\"sbdf\":\"0000:%02x:%02x.%u\",\"type\":\"pcie-endpoint\","
                        "\"owner\":0,\"virtfn\":%s,\"physfn\":%s,\"extfn\":false,"
                        "\"phantom_stride\":0}",
                        i == N - 1 ? "" : ",", bus, devfn >> 3, devfn & 7,
                        devfn ? "true" : "false",
                        devfn ? "\"0000:00:00.0\"" : "null");
    }
    len += snprintf(doc + len, cap - len, "]}]}");

    t0 = now();
    CHECK_EQ_INT(pt_xview_parse(doc, len, &v, &log), 0);
    dt = now() - t0;
    fprintf(stderr, "# %d-device parse: %.3fs\n", N, dt);
    CHECK(v.nsegs == 1 && v.segs[0].n == N);
    CHECK(pt_xview_find(&v, SB(0, (N - 1) / 256, ((N - 1) % 256) >> 3, (N - 1) & 7)) != NULL);
    t0 = now();
    CHECK_EQ_INT(pt_xview_to_json(&v, false, &out, &outlen), 0);
    dt = now() - t0;
    fprintf(stderr, "# %d-device to_json: %.3fs\n", N, dt);
    CHECK(outlen > (size_t)N * 100);
    free(out);
    pt_xview_free(&v);
    pt_errlog_free(&log);
    free(doc);
}

/* ------------------------------------------------------------------ */
/* Report and plan documents                                           */
/* ------------------------------------------------------------------ */

static yajl_val get(yajl_val o, const char *key)
{
    const char *path[] = { key, NULL };

    return yajl_tree_get(o, path, yajl_t_any);
}

static bool is_str_val(yajl_val v, const char *want)
{
    return YAJL_IS_STRING(v) && !strcmp(v->u.string, want);
}

static bool is_str(yajl_val o, const char *key, const char *want)
{
    yajl_val v = get(o, key);

    return YAJL_IS_STRING(v) && !strcmp(v->u.string, want);
}

static bool is_int(yajl_val o, const char *key, long long want)
{
    yajl_val v = get(o, key);

    return YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == want;
}

static bool is_null(yajl_val o, const char *key)
{
    return YAJL_IS_NULL(get(o, key));
}

static void test_report_json(void)
{
    struct pt_finding f[] = {
        { .kind = PT_FIND_MISSING, .sbdf = SB(0, 7, 0, 0), .path = "0000:00:1c.0/00.0",
          .bus = -1, .detail = "path 0000:00:1c.0/00.0 at 07:00.0 is not in Xen's registry" },
        { .kind = PT_FIND_STALE, .sbdf = SB(0, 6, 1, 0), .path = NULL, .bus = -1,
          .detail = "stale \"quoted\"\tentry" },
        { .kind = PT_FIND_BUS2BRIDGE, .sbdf = SB(0, 6, 0, 0), .bus = 6,
          .detail = "bus 06 maps to 06:00.0" },
        { .kind = PT_FIND_CYCLE, .sbdf = SB(0, 9, 0, 0), .bus = 9, .detail = "loop" },
        { .kind = PT_FIND_BLOCKED, .sbdf = SB(0, 3, 0, 0), .path = "0000:00:01.0/00.0",
          .bus = -1, .what = PT_MIS_RANGE, .cause = PT_FIND_MISMATCH, .owner = 4,
          .detail = "assigned to domain 4" },
        { .kind = PT_FIND_BLOCKED, .sbdf = SB(0, 4, 0, 0), .bus = -1,
          .cause = PT_FIND_STALE, .owner = PT_OWNER_NONE, .detail = "owner-less" },
    };
    char *unv[] = { "bus2bridge", "types" };
    struct pt_report r = { .f = f, .n = 6, .unverified = unv, .nunverified = 2 };
    struct pt_report only_blocked = { .f = &f[4], .n = 1 };
    char *js = NULL, err[256];
    size_t len = 0;
    yajl_val root, arr, x;

    CHECK_EQ_INT(pt_report_to_json(&r, true, &js, &len), 0);
    root = js ? yajl_tree_parse(js, err, sizeof(err)) : NULL;
    CHECKF(root != NULL, "report JSON does not parse: %s", err);
    if ( root )
    {
        CHECK(is_str(root, "format", "pcitopod-report/1"));
        CHECK(YAJL_IS_FALSE(get(root, "consistent")));
        arr = get(root, "findings");
        CHECK(YAJL_IS_ARRAY(arr) && arr->u.array.len == 6);
        if ( YAJL_IS_ARRAY(arr) && arr->u.array.len == 6 )
        {
            x = arr->u.array.values[0];
            CHECK(is_str(x, "kind", "missing"));
            CHECK(is_str(x, "sbdf", "0000:07:00.0"));
            CHECK(is_str(x, "path", "0000:00:1c.0/00.0"));
            CHECK(is_str(x, "detail", f[0].detail));
            CHECK(get(x, "bus") == NULL && get(x, "owner") == NULL && get(x, "cause") == NULL);
            x = arr->u.array.values[1];
            CHECK(is_str(x, "kind", "stale"));
            CHECK(is_null(x, "path"));
            CHECK(is_str(x, "detail", f[1].detail));
            x = arr->u.array.values[2];
            CHECK(is_str(x, "kind", "bus2bridge") && is_int(x, "bus", 6));
            CHECK(is_str(x, "sbdf", "0000:06:00.0"));
            x = arr->u.array.values[3];
            CHECK(is_str(x, "kind", "cycle") && is_int(x, "bus", 9));
            x = arr->u.array.values[4];
            CHECK(is_str(x, "kind", "blocked") && is_int(x, "owner", 4));
            CHECK(is_str(x, "cause", "mismatch"));
            CHECK(get(x, "bus") == NULL);
            x = arr->u.array.values[5];
            CHECK(is_null(x, "owner") && is_str(x, "cause", "stale"));
        }
        arr = get(root, "unverified");
        CHECK(YAJL_IS_ARRAY(arr) && arr->u.array.len == 2 &&
              is_str_val(arr->u.array.values[1], "types"));
        yajl_tree_free(root);
    }
    free(js);
    js = NULL;

    /* Only blocked findings: consistent.  Empty report: consistent, empty lists. */
    CHECK_EQ_INT(pt_report_to_json(&only_blocked, false, &js, &len), 0);
    CHECK(js && strstr(js, "\"consistent\":true"));
    free(js);
    js = NULL;
    r = (struct pt_report){ 0 };
    CHECK_EQ_INT(pt_report_to_json(&r, false, &js, &len), 0);
    CHECK_EQ_STR(js, "{\"format\":\"pcitopod-report/1\",\"consistent\":true,"
                     "\"findings\":[],\"unverified\":[]}");
    CHECK(js && len == strlen(js));
    free(js);
}

static void test_plan_json(void)
{
    struct pt_op ops[] = {
        { .op = PT_OP_REMOVE, .sbdf = SB(0, 6, 1, 0), .reason = PT_FIND_STALE },
        { .op = PT_OP_REMOVE, .sbdf = SB(0, 5, 0, 0), .reason = PT_FIND_MISMATCH,
          .why = "subtree of 0000:05:00.0" },
        { .op = PT_OP_ADD, .sbdf = SB(0, 7, 0, 0), .reason = PT_FIND_MISSING, .pxm = -1 },
        { .op = PT_OP_ADD, .sbdf = SB(0, 7, 0x10, 1), .reason = PT_FIND_MISSING,
          .virtfn = true, .physfn = SB(0, 7, 0, 0), .pxm = 1 },
        { .op = PT_OP_ADD, .sbdf = SB(0, 7, 0, 2), .reason = PT_FIND_BUS2BRIDGE,
          .extfn = true, .pxm = 0 },
        { .op = PT_OP_QUARANTINE, .sbdf = SB(0, 7, 0, 0), .reason = PT_FIND_MISSING,
          .why = "requarantine" },
    };
    struct pt_blocked blk[] = {
        { .sbdf = SB(0, 3, 0, 0), .owner = 4, .reason = "assigned to domain 4" },
        { .sbdf = SB(0, 8, 0, 0), .owner = PT_OWNER_NONE, .reason = "owner-less on stock Xen" },
    };
    struct pt_unrepairable un[] = {
        { .seg = 0, .bus = 6, .reason = "bus 06 maps to a bridge on itself" },
    };
    struct pt_plan p = { .ops = ops, .n = 6, .blocked = blk, .nblocked = 2,
                         .unrep = un, .nunrep = 1 };
    char *js = NULL, err[256];
    size_t len = 0;
    yajl_val root, arr, x;

    CHECK_EQ_INT(pt_plan_to_json(&p, false, &js, &len), 0);
    root = js ? yajl_tree_parse(js, err, sizeof(err)) : NULL;
    CHECKF(root != NULL, "plan JSON does not parse: %s", err);
    if ( root )
    {
        CHECK(is_str(root, "format", "pcitopod-plan/1"));
        arr = get(root, "ops");
        CHECK(YAJL_IS_ARRAY(arr) && arr->u.array.len == 6);
        if ( YAJL_IS_ARRAY(arr) && arr->u.array.len == 6 )
        {
            x = arr->u.array.values[0];
            CHECK(is_str(x, "op", "remove") && is_str(x, "sbdf", "0000:06:01.0"));
            CHECK(is_str(x, "reason", "stale"));
            CHECK(x->u.object.len == 3);
            x = arr->u.array.values[1];
            CHECK(is_str(x, "reason", "subtree of 0000:05:00.0"));
            x = arr->u.array.values[2];
            CHECK(is_str(x, "op", "add") && is_str(x, "reason", "missing"));
            CHECK(YAJL_IS_FALSE(get(x, "virtfn")) && is_null(x, "physfn"));
            CHECK(YAJL_IS_FALSE(get(x, "extfn")) && is_null(x, "pxm"));
            x = arr->u.array.values[3];
            CHECK(YAJL_IS_TRUE(get(x, "virtfn")) && is_str(x, "physfn", "0000:07:00.0"));
            CHECK(is_str(x, "sbdf", "0000:07:10.1") && is_int(x, "pxm", 1));
            x = arr->u.array.values[4];
            CHECK(YAJL_IS_TRUE(get(x, "extfn")) && is_int(x, "pxm", 0));
            CHECK(is_str(x, "reason", "bus2bridge"));
            x = arr->u.array.values[5];
            CHECK(is_str(x, "op", "quarantine") && is_str(x, "reason", "requarantine"));
            CHECK(x->u.object.len == 3);
        }
        arr = get(root, "blocked");
        CHECK(YAJL_IS_ARRAY(arr) && arr->u.array.len == 2);
        if ( YAJL_IS_ARRAY(arr) && arr->u.array.len == 2 )
        {
            x = arr->u.array.values[0];
            CHECK(is_str(x, "sbdf", "0000:03:00.0") && is_int(x, "owner", 4));
            CHECK(is_str(x, "reason", "assigned to domain 4"));
            CHECK(is_null(arr->u.array.values[1], "owner"));
        }
        arr = get(root, "unrepairable");
        CHECK(YAJL_IS_ARRAY(arr) && arr->u.array.len == 1);
        if ( YAJL_IS_ARRAY(arr) && arr->u.array.len == 1 )
        {
            x = arr->u.array.values[0];
            CHECK(is_int(x, "segment", 0) && is_int(x, "bus", 6));
            CHECK(is_str(x, "reason", un[0].reason));
        }
        yajl_tree_free(root);
    }
    free(js);
    js = NULL;

    p = (struct pt_plan){ 0 };
    CHECK_EQ_INT(pt_plan_to_json(&p, true, &js, &len), 0);
    root = js ? yajl_tree_parse(js, err, sizeof(err)) : NULL;
    CHECK(root && YAJL_IS_ARRAY(get(root, "ops")) && get(root, "ops")->u.array.len == 0);
    CHECK(root && YAJL_IS_ARRAY(get(root, "blocked")) && YAJL_IS_ARRAY(get(root, "unrepairable")));
    if ( root )
        yajl_tree_free(root);
    free(js);
}

int main(void)
{
    test_self_range_kept();
    test_model();
    test_model_scale();
    test_good_doc();
    test_stock_and_hv();
    test_round_trip();
    test_bad_docs();
    test_malformed();
    test_big_doc();
    test_hostile();
    test_report_json();
    test_plan_json();
    return tap_done();
}
