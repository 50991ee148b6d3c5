/*
 * affects.c - the per-device verdict behind libxl's check (issue #6): which
 * findings of the diff make a device unsafe to hand to a guest, what Xen's
 * find_upstream_bridge() would give its DMA compared with dom0's topology,
 * and whether its BDF still names the physical device it named when it was
 * made assignable (the drift guard).
 *
 * A device is inconsistent when Xen lacks it, Xen's entry at its SBDF is
 * another device or class, any bridge on its upstream path (dom0's parent
 * chain) is missing or recorded differently, its bus maps to the wrong
 * upstream bridge (or loops), or a stale entry aliases its requester ID.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yajl/yajl_tree.h>

#include "pcitopo.h"
#include "json_out.h"
#include "affects.h"

#define REPAIR_HINT "run `pcitopod apply` or start pcitopod.service"
#define IDSTORE_FORMAT "pcitopod-bdf-identity/1"
#define MAX_DEPTH 64            /* bridges above a device; a deeper chain is a broken topology */

const char *pt_why_name(enum pt_why w)
{
    static const char *const names[PT_WHY__COUNT] = {
        [PT_WHY_ABSENT] = "absent", [PT_WHY_MISSING] = "missing",
        [PT_WHY_MISMATCH] = "mismatch", [PT_WHY_UPSTREAM] = "upstream",
        [PT_WHY_BUS2BRIDGE] = "bus2bridge", [PT_WHY_CYCLE] = "cycle",
        [PT_WHY_ALIAS] = "alias", [PT_WHY_DRIFT] = "drift",
        [PT_WHY_UNVERIFIED] = "unverified",
    };

    return (unsigned)w < PT_WHY__COUNT ? names[w] : "unknown";
}

const char *pt_verdict_name(enum pt_verdict v)
{
    switch ( v )
    {
    case PT_VERDICT_OK:         return "consistent";
    case PT_VERDICT_UNVERIFIED: return "unverified";
    default:                    return "inconsistent";
    }
}

/* Names of Xen's classes for sentences ("the PCIe-to-PCI bridge above ..."). */
static const char *type_words(enum pt_dev_type t)
{
    switch ( t )
    {
    case PT_TYPE_HOST_BRIDGE:     return "host bridge";
    case PT_TYPE_PCIE_PORT:       return "PCIe port";
    case PT_TYPE_PCIE2PCI_BRIDGE: return "PCIe-to-PCI bridge";
    case PT_TYPE_LEGACY_BRIDGE:   return "PCI-to-PCI bridge";
    case PT_TYPE_PCI2PCIE_BRIDGE: return "PCI-to-PCIe bridge";
    case PT_TYPE_PCIE_ENDPOINT:   return "PCIe device";
    case PT_TYPE_PCI_ENDPOINT:    return "PCI device";
    default:                      return "device of unknown class";
    }
}

static const char *range_words(int sec, int sub, char *buf, size_t len)
{
    if ( sec == PT_NO_RANGE || sub == PT_NO_RANGE )
        return "no recorded buses";
    snprintf(buf, len, "buses %02x-%02x", (unsigned)sec & 0xff, (unsigned)sub & 0xff);
    return buf;
}

/* ------------------------------------------------------------------ */
/* dom0's upstream path                                                */
/* ------------------------------------------------------------------ */

/* dom0's bridges above d, nearest first; returns how many (at most max). */
static size_t ancestors(const struct pt_topo *dom0, const struct pt_dev *d,
                        const struct pt_dev **out, size_t max)
{
    size_t n = 0, p = d->parent;

    /* A VF hangs off its PF's bus: its parent chain is the PF's. */
    if ( d->is_virtfn )
    {
        const struct pt_dev *pf = pt_topo_find(dom0, d->physfn);

        if ( pf && p == PT_NO_PARENT )
            p = pf->parent;
    }
    while ( p != PT_NO_PARENT && p < dom0->n && n < max )
    {
        out[n++] = &dom0->devs[p];
        p = dom0->devs[p].parent;
    }
    return n;
}

static bool is_ancestor(const struct pt_dev *const *anc, size_t nanc, pt_sbdf_t sbdf)
{
    for ( size_t i = 0; i < nanc; i++ )
        if ( anc[i]->sbdf == sbdf )
            return true;
    return false;
}

/* The buses find_upstream_bridge() walks for d: its own and each ancestor's. */
static bool bus_on_path(const struct pt_dev *d, const struct pt_dev *const *anc,
                        size_t nanc, unsigned bus)
{
    if ( PT_BUS(d->sbdf) == bus )
        return true;
    for ( size_t i = 0; i < nanc; i++ )
        if ( PT_BUS(anc[i]->sbdf) == bus )
            return true;
    return false;
}

/*
 * find_upstream_bridge() (drivers/passthrough/pci.c) on a table: 0 when
 * the bus has no recorded bridge, 1 with the top-most bridge and the
 * secondary bus below it, -1 when the chain loops (257 steps).
 */
static int upstream_walk(const struct pt_b2b_entry b2b[256], uint16_t seg, unsigned bus,
                         pt_sbdf_t *bridge, unsigned *secbus)
{
    unsigned cnt = 0;

    if ( bus == 0 || !b2b[bus].map )
        return 0;
    while ( b2b[bus].map )
    {
        *secbus = bus;
        *bridge = PT_SBDF(seg, b2b[bus].bus, b2b[bus].devfn);
        bus = b2b[bus].bus;
        if ( cnt++ >= 256 )
            return -1;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* the decision for one finding                                        */
/* ------------------------------------------------------------------ */

/* A stale Xen entry that shares d's requester ID or claims a bus on its path. */
static bool stale_aliases(const struct pt_topo *dom0, const struct pt_xview *xen,
                          const struct pt_finding *f, const struct pt_dev *d,
                          const struct pt_dev *const *anc, size_t nanc)
{
    const struct pt_xdev *x = pt_xview_find(xen, f->sbdf);
    struct pt_b2b_entry want[256];
    pt_sbdf_t bridge = 0;
    unsigned secbus = 0;

    if ( PT_SEG(f->sbdf) != PT_SEG(d->sbdf) )
        return false;

    /* A stale bridge whose recorded range covers a bus on d's path. */
    if ( x && pt_type_is_bridge(x->type) && x->sec_bus != PT_NO_RANGE &&
         x->sub_bus != PT_NO_RANGE )
    {
        for ( int b = x->sec_bus; b <= x->sub_bus && b <= 255; b++ )
            if ( bus_on_path(d, anc, nanc, (unsigned)b) )
                return true;
    }

    /* A phantom function of d (same slot, devfn + k * stride). */
    if ( d->cfg.phantom_stride &&
         PT_BUS(f->sbdf) == PT_BUS(d->sbdf) &&
         PT_SLOT(PT_DEVFN(f->sbdf)) == PT_SLOT(PT_DEVFN(d->sbdf)) &&
         PT_DEVFN(f->sbdf) > PT_DEVFN(d->sbdf) &&
         (PT_DEVFN(f->sbdf) - PT_DEVFN(d->sbdf)) % d->cfg.phantom_stride == 0 )
        return true;

    /*
     * Behind a PCIe-to-PCI bridge, VT-d also maps (secbus, 00.0) for d
     * (domain_context_mapping): a stale entry there shares the RID.
     */
    pt_expected_b2b(dom0, PT_SEG(d->sbdf), want);
    if ( upstream_walk(want, PT_SEG(d->sbdf), PT_BUS(d->sbdf), &bridge, &secbus) == 1 &&
         f->sbdf == PT_SBDF(PT_SEG(d->sbdf), secbus, 0) && f->sbdf != d->sbdf )
        return true;
    return false;
}

bool pt_finding_affects(const struct pt_topo *dom0, const struct pt_xview *xen,
                        const struct pt_finding *f, const struct pt_dev *d, enum pt_why *why)
{
    const struct pt_dev *anc[MAX_DEPTH];
    size_t nanc = ancestors(dom0, d, anc, MAX_DEPTH);
    enum pt_finding_kind k = f->kind == PT_FIND_BLOCKED ? f->cause : f->kind;

    switch ( k )
    {
    case PT_FIND_MISSING:
    case PT_FIND_MISMATCH:
        if ( f->sbdf == d->sbdf )
        {
            *why = k == PT_FIND_MISSING ? PT_WHY_MISSING : PT_WHY_MISMATCH;
            return true;
        }
        if ( is_ancestor(anc, nanc, f->sbdf) )
        {
            *why = PT_WHY_UPSTREAM;
            return true;
        }
        /* A VF's PF that Xen lacks or misrecords breaks the VF (physfn, vf_rlen). */
        if ( d->is_virtfn && f->sbdf == d->physfn )
        {
            *why = PT_WHY_UPSTREAM;
            return true;
        }
        return false;
    case PT_FIND_STALE:
        if ( stale_aliases(dom0, xen, f, d, anc, nanc) )
        {
            *why = PT_WHY_ALIAS;
            return true;
        }
        return false;
    case PT_FIND_BUS2BRIDGE:
    case PT_FIND_CYCLE:
        if ( f->bus >= 0 && PT_SEG(f->sbdf) == PT_SEG(d->sbdf) &&
             bus_on_path(d, anc, nanc, (unsigned)f->bus) )
        {
            *why = k == PT_FIND_CYCLE ? PT_WHY_CYCLE : PT_WHY_BUS2BRIDGE;
            return true;
        }
        return false;
    default:
        return false;
    }
}

/* ------------------------------------------------------------------ */
/* reasons                                                             */
/* ------------------------------------------------------------------ */

static int add_reason(struct pt_affect *a, enum pt_why why, pt_sbdf_t sbdf,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int add_reason(struct pt_affect *a, enum pt_why why, pt_sbdf_t sbdf,
                      const char *fmt, ...)
{
    struct pt_reason *r;
    va_list ap;
    int n;

    /* One reason per (kind, entry): a bridge that is missing and misrouted is said once. */
    for ( size_t i = 0; i < a->n; i++ )
        if ( a->r[i].why == why && a->r[i].sbdf == sbdf )
            return 0;
    if ( a->n == a->cap )
    {
        size_t nc = a->cap ? 2 * a->cap : 8;
        struct pt_reason *nr = realloc(a->r, nc * sizeof(*nr));

        if ( !nr )
            return -ENOMEM;
        a->r = nr;
        a->cap = nc;
    }
    r = &a->r[a->n];
    r->why = why;
    r->sbdf = sbdf;
    va_start(ap, fmt);
    n = vasprintf(&r->text, fmt, ap);
    va_end(ap);
    if ( n < 0 )
        return -ENOMEM;
    a->n++;
    return 0;
}

static bool has_reason(const struct pt_affect *a, enum pt_why why)
{
    for ( size_t i = 0; i < a->n; i++ )
        if ( a->r[i].why == why )
            return true;
    return false;
}

/* " (owned by domain 3: pcitopod leaves it alone until it is detached)" for a blocked finding. */
static const char *blocked_words(const struct pt_finding *f, char *buf, size_t len)
{
    buf[0] = '\0';
    if ( f->kind != PT_FIND_BLOCKED )
        return buf;
    if ( f->owner == PT_DOMID_IO )
        snprintf(buf, len, " (it is quarantined: pcitopod repairs it only with --requarantine)");
    else if ( f->owner == PT_DOMID_XEN )
        snprintf(buf, len, " (Xen hides it: pcitopod does not touch it)");
    else
        snprintf(buf, len, " (it is assigned to domain %d: detach it, then repair)", f->owner);
    return buf;
}

/*
 * Xen's counterpart of a dom0 bridge it does not know at that SBDF: what
 * Xen's bus2bridge maps the bridge's secondary bus to, else a stale Xen
 * bridge of the same class whose recorded range overlaps dom0's.
 */
static const struct pt_xdev *xen_counterpart(const struct pt_topo *dom0, const struct pt_xview *xen,
                                             const struct pt_dev *a)
{
    const struct pt_xseg *xs = pt_xview_seg((struct pt_xview *)xen, PT_SEG(a->sbdf), false);

    if ( !xs )
        return NULL;
    if ( xs->b2b_known && a->sec_bus && xs->b2b[a->sec_bus].map )
    {
        pt_sbdf_t y = PT_SBDF(xs->seg, xs->b2b[a->sec_bus].bus, xs->b2b[a->sec_bus].devfn);
        const struct pt_xdev *xy = pt_xview_find(xen, y);

        if ( y != a->sbdf && xy && !pt_topo_find(dom0, y) )
            return xy;
    }
    for ( size_t i = 0; i < xs->n; i++ )
    {
        const struct pt_xdev *x = &xs->devs[i];

        if ( x->sbdf == a->sbdf || x->type != a->type || pt_topo_find(dom0, x->sbdf) ||
             x->sec_bus == PT_NO_RANGE || x->sub_bus == PT_NO_RANGE )
            continue;
        if ( x->sec_bus <= a->sub_bus && a->sec_bus <= x->sub_bus )
            return x;
    }
    return NULL;
}

/* The sentence for a bridge above d that Xen lacks or records differently. */
static int reason_upstream(struct pt_affect *a, const struct pt_topo *dom0,
                           const struct pt_xview *xen, const struct pt_dev *d,
                           const struct pt_finding *f)
{
    const struct pt_dev *br = pt_topo_find(dom0, f->sbdf);
    const struct pt_xdev *xa = pt_xview_find(xen, f->sbdf);
    char sd[PT_SBDF_STRLEN], sb[PT_SBDF_STRLEN], sy[PT_SBDF_STRLEN];
    char r1[32], r2[32], bw[96];
    const char *rel = br && br->is_bridge ? "above" : "that is the PF of";

    if ( !br )
        return add_reason(a, PT_WHY_UPSTREAM, f->sbdf, "%s - " REPAIR_HINT, f->detail);
    pt_sbdf_fmt(d->sbdf, sd);
    pt_sbdf_fmt(br->sbdf, sb);
    blocked_words(f, bw, sizeof(bw));

    if ( !xa || xa->type != br->type )
    {
        const struct pt_xdev *xy = br->is_bridge ? xen_counterpart(dom0, xen, br) : NULL;

        if ( xy )
            return add_reason(a, PT_WHY_UPSTREAM, br->sbdf,
                              "the %s above %s is recorded by Xen at %s with %s; dom0 has it at %s with %s (path %s)%s - " REPAIR_HINT,
                              type_words(br->type), sd, pt_sbdf_fmt(xy->sbdf, sy),
                              range_words(xy->sec_bus, xy->sub_bus, r1, sizeof(r1)), sb,
                              range_words(br->sec_bus, br->sub_bus, r2, sizeof(r2)),
                              br->path ? br->path : "?", bw);
        if ( !xa )
            return add_reason(a, PT_WHY_UPSTREAM, br->sbdf,
                              "the %s %s %s (%s, %s, path %s) is not registered with Xen%s - " REPAIR_HINT,
                              type_words(br->type), rel, sd, sb,
                              range_words(br->sec_bus, br->sub_bus, r2, sizeof(r2)),
                              br->path ? br->path : "?", bw);
        return add_reason(a, PT_WHY_UPSTREAM, br->sbdf,
                          "Xen has a %s at %s where dom0 has the %s %s %s (%s, path %s)%s - " REPAIR_HINT,
                          type_words(xa->type), sb, type_words(br->type), rel, sd,
                          range_words(br->sec_bus, br->sub_bus, r2, sizeof(r2)),
                          br->path ? br->path : "?", bw);
    }
    if ( f->what & PT_MIS_RANGE )
        return add_reason(a, PT_WHY_UPSTREAM, br->sbdf,
                          "the %s above %s is recorded by Xen at %s with %s; dom0 has it at %s with %s (path %s)%s - " REPAIR_HINT,
                          type_words(br->type), sd, sb,
                          range_words(xa->sec_bus, xa->sub_bus, r1, sizeof(r1)), sb,
                          range_words(br->sec_bus, br->sub_bus, r2, sizeof(r2)),
                          br->path ? br->path : "?", bw);
    if ( f->what & PT_MIS_NO_OWNER )
        return add_reason(a, PT_WHY_UPSTREAM, br->sbdf,
                          "the %s %s %s (%s, path %s) is registered with Xen but its IOMMU set-up failed (no owner)%s - " REPAIR_HINT,
                          type_words(br->type), rel, sd, sb, br->path ? br->path : "?", bw);
    return add_reason(a, PT_WHY_UPSTREAM, br->sbdf, "the %s %s %s is recorded differently by Xen: %s - " REPAIR_HINT,
                      type_words(br->type), rel, sd, f->detail);
}

static int reason_for(struct pt_affect *a, const struct pt_topo *dom0, const struct pt_xview *xen,
                      const struct pt_dev *d, const struct pt_finding *f, enum pt_why why)
{
    const struct pt_xdev *x;
    char sd[PT_SBDF_STRLEN], sx[PT_SBDF_STRLEN], r1[32], bw[96];

    pt_sbdf_fmt(d->sbdf, sd);
    blocked_words(f, bw, sizeof(bw));
    switch ( why )
    {
    case PT_WHY_MISSING:
        return add_reason(a, why, d->sbdf, "%s (path %s) is not registered with Xen, so Xen cannot set up its IOMMU context - " REPAIR_HINT,
                          sd, d->path ? d->path : "?");
    case PT_WHY_MISMATCH:
        return add_reason(a, why, d->sbdf, "Xen's entry at %s does not match the device there: %s%s - " REPAIR_HINT,
                          sd, f->detail, bw);
    case PT_WHY_UPSTREAM:
        return reason_upstream(a, dom0, xen, d, f);
    case PT_WHY_ALIAS:
        x = pt_xview_find(xen, f->sbdf);
        return add_reason(a, why, f->sbdf,
                          "Xen still has a stale %s at %s (%s) that dom0 no longer has; it aliases the requester ID or buses of %s%s - " REPAIR_HINT,
                          x ? type_words(x->type) : "entry", pt_sbdf_fmt(f->sbdf, sx),
                          x ? range_words(x->sec_bus, x->sub_bus, r1, sizeof(r1)) : "?", sd, bw);
    case PT_WHY_BUS2BRIDGE:
    case PT_WHY_CYCLE:
        return add_reason(a, why, PT_SBDF(PT_SEG(f->sbdf), f->bus, 0),
                          "DMA of %s is routed through Xen's bus2bridge table, which is wrong: %s - " REPAIR_HINT,
                          sd, f->detail);
    default:
        return 0;
    }
}

/* Xen's find_upstream_bridge() for d against dom0's expectation. */
static int check_walk(struct pt_affect *a, const struct pt_topo *dom0, const struct pt_xview *xen,
                      const struct pt_dev *d)
{
    const struct pt_xseg *xs = pt_xview_seg((struct pt_xview *)xen, PT_SEG(d->sbdf), false);
    struct pt_b2b_entry want[256];
    pt_sbdf_t wb = 0, hb = 0;
    unsigned wsec = 0, hsec = 0;
    int wr, hr;
    char sd[PT_SBDF_STRLEN], s1[PT_SBDF_STRLEN], s2[PT_SBDF_STRLEN];

    pt_sbdf_fmt(d->sbdf, sd);
    pt_expected_b2b(dom0, PT_SEG(d->sbdf), want);
    wr = upstream_walk(want, PT_SEG(d->sbdf), PT_BUS(d->sbdf), &wb, &wsec);

    if ( xen->source == PT_SOURCE_STOCK || !xs || !xs->b2b_known )
    {
        if ( xen->source != PT_SOURCE_STOCK && xs == NULL )
            return 0;           /* Xen knows nothing of the segment: MISSING says it */
        return add_reason(a, PT_WHY_UNVERIFIED, d->sbdf,
                          "%s: this hypervisor does not show its device classes, bridge ranges or bus2bridge table (no XEN_SYSCTL_pci_topology)%s",
                          sd, wr == 1 ? ", and DMA of this device depends on them" : "");
    }

    hr = upstream_walk(xs->b2b, PT_SEG(d->sbdf), PT_BUS(d->sbdf), &hb, &hsec);
    if ( hr == -1 )
        return has_reason(a, PT_WHY_CYCLE) ? 0 :
            add_reason(a, PT_WHY_CYCLE, PT_SBDF(PT_SEG(d->sbdf), PT_BUS(d->sbdf), 0),
                       "Xen's bus2bridge walk from bus %02x of %s loops, so find_upstream_bridge() fails and assigning it gets -ENXIO - " REPAIR_HINT,
                       PT_BUS(d->sbdf), sd);
    if ( hr == wr && (hr == 0 || (hb == wb && hsec == wsec)) )
        return 0;
    if ( has_reason(a, PT_WHY_BUS2BRIDGE) || has_reason(a, PT_WHY_CYCLE) )
        return 0;
    if ( hr == 0 )
        return add_reason(a, PT_WHY_BUS2BRIDGE, wb,
                          "Xen records no bridge upstream of bus %02x, so DMA of %s would be expected from %s itself; dom0 has it behind %s, whose requester ID it carries - " REPAIR_HINT,
                          PT_BUS(d->sbdf), sd, sd, pt_sbdf_fmt(wb, s1));
    if ( wr == 0 )
        return add_reason(a, PT_WHY_BUS2BRIDGE, hb,
                          "Xen maps bus %02x of %s to the bridge %s, so its IOMMU context would use that requester ID; in dom0 no PCIe-to-PCI or PCI bridge is upstream of it - " REPAIR_HINT,
                          PT_BUS(d->sbdf), sd, pt_sbdf_fmt(hb, s1));
    return add_reason(a, PT_WHY_BUS2BRIDGE, hb,
                      "Xen maps bus %02x of %s to the bridge %s (secondary bus %02x); dom0 has it behind %s (secondary bus %02x) - " REPAIR_HINT,
                      PT_BUS(d->sbdf), sd, pt_sbdf_fmt(hb, s1), hsec, pt_sbdf_fmt(wb, s2), wsec);
}

int pt_device_affected(const struct pt_topo *dom0, const struct pt_xview *xen,
                       const struct pt_report *rep, const struct pt_idstore *ids,
                       pt_sbdf_t sbdf, struct pt_affect *out)
{
    const struct pt_dev *d = pt_topo_find(dom0, sbdf);
    char sd[PT_SBDF_STRLEN];
    bool bad = false, unverified = false;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->sbdf = sbdf;
    pt_sbdf_fmt(sbdf, sd);

    if ( !d )
    {
        if ( pt_topo_is_unreadable(dom0, sbdf) )
            rc = add_reason(out, PT_WHY_UNVERIFIED, sbdf,
                            "%s is present in dom0 but its config space could not be read, so it cannot be checked", sd);
        else
            rc = add_reason(out, PT_WHY_ABSENT, sbdf, "dom0 has no PCI device at %s", sd);
        goto out;
    }
    if ( d->path && !(out->path = strdup(d->path)) )
    {
        rc = -ENOMEM;
        goto out;
    }

    for ( size_t i = 0; rep && i < rep->n && !rc; i++ )
    {
        enum pt_why why;

        if ( pt_finding_affects(dom0, xen, &rep->f[i], d, &why) )
            rc = reason_for(out, dom0, xen, d, &rep->f[i], why);
    }
    if ( !rc )
        rc = check_walk(out, dom0, xen, d);

    if ( !rc && ids )
    {
        const struct pt_identity *id = pt_idstore_find(ids, sbdf);
        char *why = NULL;
        int r = id ? pt_identity_check(id, dom0, &why) : 0;

        if ( r < 0 )
            rc = r;
        else if ( r == 1 )
        {
            rc = add_reason(out, PT_WHY_DRIFT, sbdf, "%s", why);
            free(why);
        }
    }

 out:
    for ( size_t i = 0; i < out->n; i++ )
    {
        if ( out->r[i].why == PT_WHY_UNVERIFIED )
            unverified = true;
        else
            bad = true;
    }
    out->verdict = bad ? PT_VERDICT_BAD : unverified ? PT_VERDICT_UNVERIFIED : PT_VERDICT_OK;
    if ( rc )
        pt_affect_free(out);
    return rc;
}

void pt_affect_free(struct pt_affect *a)
{
    for ( size_t i = 0; i < a->n; i++ )
        free(a->r[i].text);
    free(a->r);
    free(a->path);
    a->r = NULL;
    a->path = NULL;
    a->n = a->cap = 0;
}

int pt_affect_text(const struct pt_affect *a, char **out)
{
    size_t len = 1;
    char *s, *p;

    for ( size_t i = 0; i < a->n; i++ )
        len += strlen(a->r[i].text) + 5;
    s = malloc(len);
    if ( !s )
        return -ENOMEM;
    p = s;
    *p = '\0';
    for ( size_t i = 0; i < a->n; i++ )
        p += sprintf(p, "  - %s\n", a->r[i].text);
    *out = s;
    return 0;
}

/* ------------------------------------------------------------------ */
/* the identity store                                                  */
/* ------------------------------------------------------------------ */

static int cmp_identity(const void *a, const void *b)
{
    const struct pt_identity *x = a, *y = b;

    return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

const struct pt_identity *pt_idstore_find(const struct pt_idstore *s, pt_sbdf_t sbdf)
{
    struct pt_identity key = { .sbdf = sbdf };

    if ( !s || !s->n )
        return NULL;
    return bsearch(&key, s->ids, s->n, sizeof(*s->ids), cmp_identity);
}

static int idstore_put(struct pt_idstore *s, pt_sbdf_t sbdf, const char *path, uint16_t vendor,
                       uint16_t device, uint32_t class, const char *why, long long when)
{
    struct pt_identity *id = (struct pt_identity *)pt_idstore_find(s, sbdf);
    char *np = path ? strdup(path) : NULL, *nw = strdup(why ? why : "");

    if ( (path && !np) || !nw )
    {
        free(np);
        free(nw);
        return -ENOMEM;
    }
    if ( !id )
    {
        if ( s->n == s->cap )
        {
            size_t nc = s->cap ? 2 * s->cap : 16;
            struct pt_identity *ni = realloc(s->ids, nc * sizeof(*ni));

            if ( !ni )
            {
                free(np);
                free(nw);
                return -ENOMEM;
            }
            s->ids = ni;
            s->cap = nc;
        }
        id = &s->ids[s->n++];
        memset(id, 0, sizeof(*id));
        id->sbdf = sbdf;
    }
    free(id->path);
    free(id->why);
    id->path = np;
    id->why = nw;
    id->vendor = vendor;
    id->device = device;
    id->class = class;
    id->when = when;
    qsort(s->ids, s->n, sizeof(*s->ids), cmp_identity);
    return 0;
}

int pt_idstore_record(struct pt_idstore *s, const struct pt_dev *d, const char *why, long long when)
{
    return idstore_put(s, d->sbdf, d->path, d->vendor, d->device, d->cfg.class, why, when);
}

int pt_idstore_forget(struct pt_idstore *s, pt_sbdf_t sbdf)
{
    struct pt_identity *id = (struct pt_identity *)pt_idstore_find(s, sbdf);
    size_t i;

    if ( !id )
        return -ENOENT;
    i = id - s->ids;
    free(id->path);
    free(id->why);
    memmove(&s->ids[i], &s->ids[i + 1], (s->n - i - 1) * sizeof(*s->ids));
    s->n--;
    return 0;
}

void pt_idstore_free(struct pt_idstore *s)
{
    for ( size_t i = 0; i < s->n; i++ )
    {
        free(s->ids[i].path);
        free(s->ids[i].why);
    }
    free(s->ids);
    memset(s, 0, sizeof(*s));
}

int pt_identity_check(const struct pt_identity *id, const struct pt_topo *dom0, char **why)
{
    const struct pt_dev *d = pt_topo_find(dom0, id->sbdf);
    const struct pt_dev *moved = NULL;
    char sd[PT_SBDF_STRLEN], sm[PT_SBDF_STRLEN];
    char where[96] = "";
    int n;

    *why = NULL;
    if ( d && d->vendor == id->vendor && d->device == id->device &&
         (!id->path || (d->path && !strcmp(d->path, id->path))) )
        return 0;
    if ( !d && pt_topo_is_unreadable(dom0, id->sbdf) )
        return 0;               /* cannot tell; the verdict says unverified elsewhere */

    /* Where did the recorded device go? Same path (and IDs) under another BDF. */
    for ( size_t i = 0; id->path && i < dom0->n; i++ )
        if ( dom0->devs[i].path && !strcmp(dom0->devs[i].path, id->path) )
        {
            moved = &dom0->devs[i];
            break;
        }
    if ( moved )
        snprintf(where, sizeof(where), "; that device is now at %s", pt_sbdf_fmt(moved->sbdf, sm));

    pt_sbdf_fmt(id->sbdf, sd);
    if ( d )
        n = asprintf(why,
                     "%s was recorded (%s) as path %s, %04x:%04x; it now names another device: path %s, %04x:%04x%s - the BDF drifted after a renumbering: use the device's new BDF, and `xl pci-assignable-remove %s` to drop the old record",
                     sd, id->why ? id->why : "?", id->path ? id->path : "?", id->vendor, id->device,
                     d->path ? d->path : "?", d->vendor, d->device, where, sd);
    else
        n = asprintf(why,
                     "%s was recorded (%s) as path %s, %04x:%04x; dom0 has no device there now%s - the BDF drifted after a renumbering: use the device's new BDF, and `xl pci-assignable-remove %s` to drop the old record",
                     sd, id->why ? id->why : "?", id->path ? id->path : "?", id->vendor, id->device,
                     where, sd);
    return n < 0 ? -ENOMEM : 1;
}

/* ---- JSON ---- */

int pt_idstore_to_json(const struct pt_idstore *s, char **out, size_t *outlen)
{
    struct pt_jw w;
    char hex[16];
    int rc = pt_jw_doc_open(&w, true, IDSTORE_FORMAT);

    if ( rc )
        return rc;
    pt_jw_key(&w, "devices");
    pt_jw_arr_open(&w);
    for ( size_t i = 0; i < s->n; i++ )
    {
        const struct pt_identity *id = &s->ids[i];

        pt_jw_obj_open(&w);
        pt_jw_key(&w, "sbdf");
        pt_jw_sbdf(&w, id->sbdf);
        pt_jw_key(&w, "path");
        pt_jw_str(&w, id->path);
        pt_jw_key(&w, "vendor");
        snprintf(hex, sizeof(hex), "0x%04x", id->vendor);
        pt_jw_str(&w, hex);
        pt_jw_key(&w, "device");
        snprintf(hex, sizeof(hex), "0x%04x", id->device);
        pt_jw_str(&w, hex);
        pt_jw_key(&w, "class");
        snprintf(hex, sizeof(hex), "0x%06x", id->class);
        pt_jw_str(&w, hex);
        pt_jw_key(&w, "why");
        pt_jw_str(&w, id->why);
        pt_jw_key(&w, "recorded");
        pt_jw_int(&w, id->when);
        pt_jw_obj_close(&w);
    }
    pt_jw_arr_close(&w);
    pt_jw_obj_close(&w);
    return pt_jw_finish(&w, out, outlen);
}

static yajl_val obj_get(yajl_val obj, const char *key)
{
    for ( size_t i = 0; i < obj->u.object.len; i++ )
        if ( !strcmp(obj->u.object.keys[i], key) )
            return obj->u.object.values[i];
    return NULL;
}

/* A "0x..." string of at most max; -EINVAL otherwise. */
static int hex_field(yajl_val v, unsigned long max, unsigned long *out)
{
    const char *s = v ? YAJL_GET_STRING(v) : NULL;
    char *end;

    if ( !s )
        return -EINVAL;
    errno = 0;
    *out = strtoul(s, &end, 16);
    if ( errno || *end || end == s || *out > max )
        return -EINVAL;
    return 0;
}

int pt_idstore_parse(const char *json, size_t len, struct pt_idstore *s, struct pt_errlog *log)
{
    char errbuf[256] = "";
    yajl_val root, fmt, devs;
    const char *fs;
    struct pt_idstore st = { 0 };
    int rc = 0;

    memset(s, 0, sizeof(*s));
    root = pt_json_parse_n(json, len, errbuf, sizeof(errbuf));
    if ( !root )
    {
        char *nl = strchr(errbuf, '\n');

        if ( nl )
            *nl = '\0';
        pt_log(log, PT_SEV_ERROR, "BDF identity store: not valid JSON: %s", errbuf);
        return -EINVAL;
    }
    fmt = YAJL_IS_OBJECT(root) ? obj_get(root, "format") : NULL;
    fs = fmt ? YAJL_GET_STRING(fmt) : NULL;
    if ( !fs || strcmp(fs, IDSTORE_FORMAT) )
    {
        pt_log(log, PT_SEV_ERROR, "BDF identity store: \"format\" must be \"" IDSTORE_FORMAT "\"");
        rc = -EINVAL;
        goto out;
    }
    devs = obj_get(root, "devices");
    if ( !devs || !YAJL_IS_ARRAY(devs) )
    {
        pt_log(log, PT_SEV_ERROR, "BDF identity store: \"devices\" must be an array");
        rc = -EINVAL;
        goto out;
    }
    for ( size_t i = 0; i < devs->u.array.len && !rc; i++ )
    {
        yajl_val e = devs->u.array.values[i], v;
        pt_sbdf_t sbdf;
        unsigned long ven, dev, cls = 0;
        const char *path = NULL, *why = NULL;
        long long when = 0;

        if ( !YAJL_IS_OBJECT(e) || !(v = obj_get(e, "sbdf")) || !YAJL_IS_STRING(v) ||
             pt_sbdf_parse(YAJL_GET_STRING(v), 0, &sbdf) ||
             hex_field(obj_get(e, "vendor"), 0xffff, &ven) ||
             hex_field(obj_get(e, "device"), 0xffff, &dev) )
        {
            pt_log(log, PT_SEV_ERROR,
                   "BDF identity store: devices[%zu] needs \"sbdf\" (ssss:bb:dd.f), \"vendor\" and \"device\" (\"0x....\")", i);
            rc = -EINVAL;
            break;
        }
        if ( (v = obj_get(e, "class")) && hex_field(v, 0xffffff, &cls) )
        {
            pt_log(log, PT_SEV_ERROR, "BDF identity store: devices[%zu].class must be \"0x......\"", i);
            rc = -EINVAL;
            break;
        }
        if ( (v = obj_get(e, "path")) && YAJL_IS_STRING(v) )
            path = YAJL_GET_STRING(v);
        if ( (v = obj_get(e, "why")) && YAJL_IS_STRING(v) )
            why = YAJL_GET_STRING(v);
        if ( (v = obj_get(e, "recorded")) && YAJL_IS_INTEGER(v) )
            when = YAJL_GET_INTEGER(v);
        rc = idstore_put(&st, sbdf, path, ven, dev, cls, why, when);
    }

 out:
    yajl_tree_free(root);
    if ( rc )
        pt_idstore_free(&st);
    else
        *s = st;
    return rc;
}

int pt_idstore_load(const char *file, struct pt_idstore *s, struct pt_errlog *log)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(s, 0, sizeof(*s));
    rc = pt_read_doc(file, &buf, &len);
    if ( rc == -ENOENT )
        return 0;
    if ( rc )
    {
        pt_log(log, PT_SEV_ERROR, "BDF identity store %s: cannot read it: %s", file, pt_read_file_strerror(rc));
        return rc;
    }
    rc = pt_idstore_parse(buf, len, s, log);
    if ( rc )
        pt_log(log, PT_SEV_ERROR, "BDF identity store %s is unusable (see above); remove it to start afresh", file);
    free(buf);
    return rc;
}

/* mkdir -p of file's directory. */
static int make_parent_dirs(const char *file)
{
    char *dir = strdup(file), *p;

    if ( !dir )
        return -ENOMEM;
    for ( p = dir + 1; (p = strchr(p, '/')); p++ )
    {
        *p = '\0';
        if ( mkdir(dir, 0755) < 0 && errno != EEXIST )
        {
            int e = errno;

            free(dir);
            return -e;
        }
        *p = '/';
    }
    free(dir);
    return 0;
}

int pt_idstore_save(const struct pt_idstore *s, const char *file, struct pt_errlog *log)
{
    char *json = NULL;
    size_t len = 0;
    int rc = pt_idstore_to_json(s, &json, &len);

    if ( !rc )
        rc = make_parent_dirs(file);
    if ( !rc )
        rc = pt_write_file_atomic(file, json, len);
    if ( rc )
        pt_log(log, PT_SEV_ERROR, "BDF identity store %s: cannot write it: %s", file, strerror(-rc));
    free(json);
    return rc;
}
