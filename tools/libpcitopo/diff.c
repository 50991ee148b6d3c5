/*
 * diff.c - compares dom0's topology with Xen's registry (DESIGN §4.4).
 *
 * Every finding names the SBDF, the physical path where dom0 knows it, and
 * says in words what differs.  Nothing here decides what to do about it:
 * that is plan.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

/*
 * A recorded range that can name a bridge upstream of a bus: sec > own bus
 * (a bridge cannot sit behind itself), sec <= sub, sec != 0.  The patched
 * hypervisor's derived bus2bridge ignores every other range, and so does
 * the expected table; the planner uses the same test for Xen's subtrees.
 */
static bool range_is_valid(unsigned own_bus, int sec, int sub)
{
    return sec > 0 && sec <= sub && sub <= 255 && (unsigned)sec > own_bus;
}

/* Innermost wins: smaller span; tie: deeper bus, then larger devfn. */
static bool range_beats(int sec, int sub, pt_sbdf_t sbdf,
                        int osec, int osub, pt_sbdf_t osbdf)
{
    if ( sub - sec != osub - osec )
        return sub - sec < osub - osec;
    if ( PT_BUS(sbdf) != PT_BUS(osbdf) )
        return PT_BUS(sbdf) > PT_BUS(osbdf);
    return PT_DEVFN(sbdf) > PT_DEVFN(osbdf);
}

void pt_expected_b2b(const struct pt_topo *dom0, uint16_t seg, struct pt_b2b_entry b2b[256])
{
    int span[256];
    pt_sbdf_t owner[256];

    memset(b2b, 0, 256 * sizeof(*b2b));
    for ( size_t i = 0; i < dom0->n; i++ )
    {
        const struct pt_dev *d = &dom0->devs[i];

        if ( PT_SEG(d->sbdf) != seg || !pt_type_feeds_bus2bridge(d->type) ||
             !range_is_valid(PT_BUS(d->sbdf), d->sec_bus, d->sub_bus) )
            continue;
        for ( unsigned b = d->sec_bus; b <= d->sub_bus; b++ )
        {
            if ( b2b[b].map &&
                 !range_beats(d->sec_bus, d->sub_bus, d->sbdf, 0, span[b], owner[b]) )
                continue;
            b2b[b].map = true;
            b2b[b].bus = PT_BUS(d->sbdf);
            b2b[b].devfn = PT_DEVFN(d->sbdf);
            span[b] = d->sub_bus - d->sec_bus;
            owner[b] = d->sbdf;
        }
    }
}

const char *pt_finding_kind_name(enum pt_finding_kind k)
{
    static const char *const names[PT_FIND__COUNT] = {
        [PT_FIND_MISSING] = "missing", [PT_FIND_STALE] = "stale",
        [PT_FIND_MISMATCH] = "mismatch", [PT_FIND_BUS2BRIDGE] = "bus2bridge",
        [PT_FIND_CYCLE] = "cycle", [PT_FIND_BLOCKED] = "blocked",
    };

    return (unsigned)k < PT_FIND__COUNT ? names[k] : "unknown";
}

/* "d0", "domain 4", "DomIO (quarantine)", "DomXEN (hidden)", "no owner". */
static const char *owner_str(int owner, char *buf, size_t len)
{
    if ( owner == PT_OWNER_NONE )
        return "no owner (failed add)";
    if ( owner == PT_DOMID_IO )
        return "DomIO (quarantined)";
    if ( owner == PT_DOMID_XEN )
        return "DomXEN (hidden by Xen)";
    snprintf(buf, len, "d%d", owner);
    return buf;
}

static int add_finding(struct pt_report *r, enum pt_finding_kind kind, pt_sbdf_t sbdf,
                       const char *path, int bus, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int add_finding(struct pt_report *r, enum pt_finding_kind kind, pt_sbdf_t sbdf,
                       const char *path, int bus, const char *fmt, ...)
{
    struct pt_finding *f;
    va_list ap;

    if ( r->n == r->cap )
    {
        size_t ncap = r->cap ? r->cap * 2 : 32;
        struct pt_finding *nf = realloc(r->f, ncap * sizeof(*nf));

        if ( !nf )
            return -ENOMEM;
        r->f = nf;
        r->cap = ncap;
    }
    f = &r->f[r->n];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->sbdf = sbdf;
    f->bus = bus;
    f->cause = kind;
    f->owner = 0;
    if ( path && !(f->path = strdup(path)) )
        return -ENOMEM;
    va_start(ap, fmt);
    if ( vasprintf(&f->detail, fmt, ap) < 0 )
        f->detail = NULL;
    va_end(ap);
    if ( !f->detail )
    {
        free(f->path);
        return -ENOMEM;
    }
    r->n++;
    return 0;
}

/* True when Xen lets pcitopod touch an entry with this owner (under pol). */
static bool owner_is_touchable(int owner, const struct pt_policy *pol)
{
    return owner == 0 || owner == PT_OWNER_NONE ||
           (owner == PT_DOMID_IO && pol && pol->requarantine);
}


/* Turns the last finding into "blocked" for a reason other than its owner. */
static void block_last_why(struct pt_report *r, int owner, const char *why)
{
    struct pt_finding *f = &r->f[r->n - 1];
    char *nd = NULL;

    f->cause = f->kind;
    f->kind = PT_FIND_BLOCKED;
    f->owner = owner;
    if ( asprintf(&nd, "%s; %s", f->detail, why) >= 0 )
    {
        free(f->detail);
        f->detail = nd;
    }
}

/* Turns the last finding into "blocked" because its entry belongs to owner. */
static void block_last(struct pt_report *r, int owner)
{
    char ob[32], why[96];

    snprintf(why, sizeof(why), "owned by %s, so pcitopod will not touch it",
             owner_str(owner, ob, sizeof(ob)));
    block_last_why(r, owner, why);
}

static const char *range_str(int sec, int sub, char *buf, size_t len)
{
    if ( sec == PT_NO_RANGE || sub == PT_NO_RANGE )
        return "no recorded buses";
    snprintf(buf, len, "buses %02x-%02x", (unsigned)sec, (unsigned)sub);
    return buf;
}

/* What Xen should record as is_extfn: Linux's flag, or for a VF its PF's (pci_add_device). */
static bool expected_extfn(const struct pt_topo *dom0, const struct pt_dev *d)
{
    if ( d->is_virtfn )
    {
        const struct pt_dev *pf = pt_topo_find(dom0, d->physfn);

        return pf && pf->is_extfn;
    }
    return d->is_extfn;
}

/* Compares one device present on both sides; returns PT_MIS_* bits. */
static unsigned compare_dev(const struct pt_topo *dom0, const struct pt_dev *d,
                            const struct pt_xdev *x, bool typed)
{
    unsigned what = 0;

    if ( x->owner == PT_OWNER_NONE )
        what |= PT_MIS_NO_OWNER;
    if ( !typed )
        return what;            /* stock Xen: nothing else is visible */
    if ( x->type != d->type )
        what |= PT_MIS_TYPE;
    else if ( pt_type_is_bridge(d->type) )
    {
        bool known = x->sec_bus != PT_NO_RANGE && x->sub_bus != PT_NO_RANGE;

        /* Ranges that feed bus2bridge must be recorded; others compared when known. */
        if ( known ? (x->sec_bus != d->sec_bus || x->sub_bus != d->sub_bus)
                   : pt_type_feeds_bus2bridge(d->type) )
            what |= PT_MIS_RANGE;
    }
    if ( x->virtfn != d->is_virtfn )
        what |= PT_MIS_VIRTFN;
    else if ( d->is_virtfn && (!x->has_physfn || x->physfn != d->physfn) )
        what |= PT_MIS_PHYSFN;
    if ( x->extfn != expected_extfn(dom0, d) )
        what |= PT_MIS_EXTFN;
    if ( x->phantom_stride != d->cfg.phantom_stride )
        what |= PT_MIS_PHANTOM;
    return what;
}

static int describe_mismatch(struct pt_report *r, const struct pt_topo *dom0,
                             const struct pt_dev *d, const struct pt_xdev *x, unsigned what)
{
    char sb[PT_SBDF_STRLEN], pf[PT_SBDF_STRLEN], r1[32], r2[32];
    char text[512];
    size_t o = 0;

#define APPEND(...) do { \
        int n_ = snprintf(text + o, sizeof(text) - o, __VA_ARGS__); \
        if ( n_ > 0 ) o = o + (size_t)n_ < sizeof(text) ? o + (size_t)n_ : sizeof(text) - 1; \
    } while ( 0 )

    text[0] = '\0';
    if ( what & PT_MIS_TYPE )
        APPEND("; Xen recorded a %s, dom0 has a %s", pt_type_name(x->type), pt_type_name(d->type));
    if ( what & PT_MIS_RANGE )
        APPEND("; Xen recorded the %s with %s, dom0 has %s", pt_type_name(d->type),
               range_str(x->sec_bus, x->sub_bus, r1, sizeof(r1)),
               range_str(d->sec_bus, d->sub_bus, r2, sizeof(r2)));
    if ( what & PT_MIS_VIRTFN )
        APPEND("; Xen has it %s a virtual function, dom0 %s", x->virtfn ? "as" : "not as",
               d->is_virtfn ? "has a VF" : "does not");
    if ( what & PT_MIS_PHYSFN )
        APPEND("; Xen links the VF to PF %s, dom0 to %s",
               x->has_physfn ? pt_sbdf_fmt(x->physfn, pf) : "(none)", pt_sbdf_fmt(d->physfn, r1));
    if ( what & PT_MIS_EXTFN )
        APPEND("; extended-function flag is %d in Xen, should be %d", x->extfn,
               expected_extfn(dom0, d));
    if ( what & PT_MIS_PHANTOM )
        APPEND("; phantom stride is %u in Xen, %u in dom0", x->phantom_stride,
               d->cfg.phantom_stride);
    if ( what & PT_MIS_NO_OWNER )
        APPEND("; Xen's add failed (no owner: no IOMMU context, passthrough and MSI may fail)");
#undef APPEND
    return add_finding(r, PT_FIND_MISMATCH, d->sbdf, d->path, -1, "%s (path %s)%s",
                       pt_sbdf_fmt(d->sbdf, sb), d->path ? d->path : "?", text);
}

/* Walks bus2bridge from bus like find_upstream_bridge(): true when it loops. */
static bool b2b_walk_loops(const struct pt_b2b_entry b2b[256], unsigned bus)
{
    unsigned cnt = 0;

    while ( b2b[bus].map )
    {
        bus = b2b[bus].bus;
        if ( cnt++ >= 256 )
            return true;
    }
    return false;
}

bool pt_b2b_bus_wrong(const struct pt_topo *dom0, const struct pt_xview *xen, uint16_t seg,
                      uint8_t bus)
{
    const struct pt_xseg *xs = pt_xview_seg((struct pt_xview *)xen, seg, false);
    struct pt_b2b_entry want[256];

    if ( !xs || !xs->b2b_known )
        return false;
    pt_expected_b2b(dom0, seg, want);
    if ( xs->b2b[bus].map != want[bus].map ||
         (want[bus].map && (xs->b2b[bus].bus != want[bus].bus ||
                            xs->b2b[bus].devfn != want[bus].devfn)) )
        return true;
    return bus && b2b_walk_loops(xs->b2b, bus);
}

bool pt_noowner_readd_may_succeed(const struct pt_topo *dom0, const struct pt_xview *xen,
                                  const struct pt_dev *d, const struct pt_xdev *x)
{
    if ( x->type == PT_TYPE_PCI_ENDPOINT &&
         pt_b2b_bus_wrong(dom0, xen, PT_SEG(d->sbdf), PT_BUS(d->sbdf)) )
        return true;
    if ( xen->hv != PT_HV_PATCHED )
        return false;
    while ( d->parent != PT_NO_PARENT )
    {
        const struct pt_dev *br = &dom0->devs[d->parent];
        const struct pt_xdev *xb = pt_xview_find(xen, br->sbdf);

        if ( !xb || xb->type != br->type ||
             xb->sec_bus != br->sec_bus || xb->sub_bus != br->sub_bus )
            return true;
        d = br;
    }
    return false;
}

static int diff_bus2bridge(const struct pt_topo *dom0, const struct pt_xseg *xs,
                           struct pt_report *r)
{
    struct pt_b2b_entry want[256];
    char sa[PT_SBDF_STRLEN], sw[PT_SBDF_STRLEN];
    int rc;

    pt_expected_b2b(dom0, xs->seg, want);
    for ( unsigned b = 0; b < 256; b++ )
    {
        const struct pt_b2b_entry *h = &xs->b2b[b];
        pt_sbdf_t hs = PT_SBDF(xs->seg, h->bus, h->devfn);
        pt_sbdf_t ws = PT_SBDF(xs->seg, want[b].bus, want[b].devfn);
        const struct pt_dev *wd = want[b].map ? pt_topo_find(dom0, ws) : NULL;

        if ( h->map == want[b].map && (!h->map || (h->bus == want[b].bus &&
                                                   h->devfn == want[b].devfn)) )
            continue;
        if ( !h->map )
            rc = add_finding(r, PT_FIND_BUS2BRIDGE, ws, wd ? wd->path : NULL, b,
                             "bus %04x:%02x has no upstream bridge in Xen; dom0 has it behind %s (path %s)",
                             xs->seg, b, pt_sbdf_fmt(ws, sw), wd && wd->path ? wd->path : "?");
        else if ( !want[b].map )
            rc = add_finding(r, PT_FIND_BUS2BRIDGE, hs, NULL, b,
                             "bus %04x:%02x maps to bridge %s in Xen; in dom0 no PCIe-to-PCI or legacy bridge is upstream of it",
                             xs->seg, b, pt_sbdf_fmt(hs, sa));
        else
            rc = add_finding(r, PT_FIND_BUS2BRIDGE, ws, wd ? wd->path : NULL, b,
                             "bus %04x:%02x maps to bridge %s in Xen; dom0 has it behind %s (path %s)",
                             xs->seg, b, pt_sbdf_fmt(hs, sa), pt_sbdf_fmt(ws, sw),
                             wd && wd->path ? wd->path : "?");
        if ( rc )
            return rc;
    }
    for ( unsigned b = 1; b < 256; b++ )
        if ( xs->b2b[b].map && b2b_walk_loops(xs->b2b, b) )
        {
            pt_sbdf_t hs = PT_SBDF(xs->seg, xs->b2b[b].bus, xs->b2b[b].devfn);

            rc = add_finding(r, PT_FIND_CYCLE, hs, NULL, b,
                             "bus %04x:%02x: Xen's bus2bridge chain from it loops (first hop %s); find_upstream_bridge() fails and passthrough of a PCI device there gets -ENXIO",
                             xs->seg, b, pt_sbdf_fmt(hs, sa));
            if ( rc )
                return rc;
        }
    return 0;
}

static int cmp_finding(const void *a, const void *b)
{
    const struct pt_finding *x = a, *y = b;

    if ( x->kind != y->kind )
        return x->kind < y->kind ? -1 : 1;
    if ( x->sbdf != y->sbdf )
        return x->sbdf < y->sbdf ? -1 : 1;
    return x->bus < y->bus ? -1 : x->bus > y->bus;
}

static int add_unverified(struct pt_report *r, const char *what)
{
    char **nu;

    for ( size_t i = 0; i < r->nunverified; i++ )
        if ( !strcmp(r->unverified[i], what) )
            return 0;
    nu = realloc(r->unverified, (r->nunverified + 1) * sizeof(*nu));
    if ( !nu )
        return -ENOMEM;
    r->unverified = nu;
    if ( !(nu[r->nunverified] = strdup(what)) )
        return -ENOMEM;
    r->nunverified++;
    return 0;
}

int pt_diff(const struct pt_topo *dom0, const struct pt_xview *xen,
            const struct pt_policy *pol, struct pt_report *out)
{
    bool typed = xen->source != PT_SOURCE_STOCK;
    char sb[PT_SBDF_STRLEN], ob[32];
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if ( !typed )
    {
        static const char *const hidden[] = {
            "device types", "bridge ranges", "VF and extended-function flags", "phantom strides",
        };

        for ( size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]) && !rc; i++ )
            rc = add_unverified(out, hidden[i]);
    }

    /* dom0's devices: missing or mismatched in Xen. */
    for ( size_t i = 0; i < dom0->n && !rc; i++ )
    {
        const struct pt_dev *d = &dom0->devs[i];
        const struct pt_xdev *x = pt_xview_find(xen, d->sbdf);
        unsigned what;

        if ( !x )
        {
            rc = add_finding(out, PT_FIND_MISSING, d->sbdf, d->path, -1,
                             "%s (path %s, %s%s) is in dom0 but not registered with Xen",
                             pt_sbdf_fmt(d->sbdf, sb), d->path ? d->path : "?",
                             pt_type_name(d->type), d->is_virtfn ? ", VF" : "");
            continue;
        }
        what = compare_dev(dom0, d, x, typed);
        if ( !what )
            continue;
        rc = describe_mismatch(out, dom0, d, x, what);
        if ( rc )
            break;
        out->f[out->n - 1].what = what;
        if ( !owner_is_touchable(x->owner, pol) )
            block_last(out, x->owner);
        else if ( what == PT_MIS_NO_OWNER &&
                  !pt_noowner_readd_may_succeed(dom0, xen, d, x) )
            /*
             * Xen's add failed on what a repair does not change: not on a
             * wrong bus2bridge entry (only a conventional PCI device's VT-d
             * set-up walks it: domain_context_mapping(), -ENXIO), and - on
             * stock Xen, or with no bridge above it re-registered - not on
             * a DRHD bridge scope the patched hypervisor would move with
             * the bridge.  Typically no DMAR unit's boot-time scope covers
             * its bus (-ENODEV, seen on the testbed): it fails again.
             */
            block_last_why(out, x->owner,
                           "retrying from dom0 cannot help: its IOMMU set-up does not use bus2bridge (typically no IOMMU unit's boot-time scope covers its bus); boot without renumbering, or reserve bus numbers in the firmware");
        else if ( what == PT_MIS_RANGE && !pt_type_feeds_bus2bridge(d->type) &&
                  (d->cfg.msi_enabled || d->cfg.msix_enabled) )
            /*
             * Only a PCIe port's recorded range differs, which Xen never
             * uses (bus2bridge comes from PCIe-to-PCI and legacy bridges
             * alone), and re-registering it would free the MSIs its dom0
             * driver uses (pci_cleanup_msi): leave it, say so.
             */
            block_last_why(out, x->owner,
                           "harmless (Xen uses no PCIe port's range) and not repaired: re-registering it would free the MSI/MSI-X interrupts its dom0 driver uses");
    }

    /* Xen's entries that dom0 does not have. */
    for ( size_t s = 0; s < xen->nsegs && !rc; s++ )
    {
        const struct pt_xseg *xs = &xen->segs[s];

        for ( size_t i = 0; i < xs->n && !rc; i++ )
        {
            const struct pt_xdev *x = &xs->devs[i];

            if ( pt_topo_find(dom0, x->sbdf) || pt_topo_is_unreadable(dom0, x->sbdf) )
                continue;
            rc = add_finding(out, PT_FIND_STALE, x->sbdf, NULL, -1,
                             "Xen has %s (%s, owner %s) but dom0 has no device there",
                             pt_sbdf_fmt(x->sbdf, sb), pt_type_name(x->type),
                             owner_str(x->owner, ob, sizeof(ob)));
            if ( !rc && !owner_is_touchable(x->owner, pol) )
                block_last(out, x->owner);
        }
        if ( rc )
            break;
        if ( xs->b2b_known )
            rc = diff_bus2bridge(dom0, xs, out);
        else
        {
            char what[48];

            snprintf(what, sizeof(what), "bus2bridge of segment %04x", xs->seg);
            rc = add_unverified(out, what);
        }
    }
    if ( rc )
    {
        pt_report_free(out);
        return rc;
    }
    if ( out->n > 1 )
        qsort(out->f, out->n, sizeof(*out->f), cmp_finding);
    return 0;
}

size_t pt_report_inconsistent(const struct pt_report *r)
{
    size_t n = 0;

    for ( size_t i = 0; i < r->n; i++ )
        if ( r->f[i].kind != PT_FIND_BLOCKED )
            n++;
    return n;
}

int pt_report_mark_blocked(struct pt_report *r, const struct pt_plan *p)
{
    bool changed = false;

    for ( size_t i = 0; i < r->n; i++ )
    {
        struct pt_finding *f = &r->f[i];

        if ( f->kind == PT_FIND_BLOCKED )
            continue;
        for ( size_t k = 0; k < p->nblocked; k++ )
        {
            char *nd = NULL;

            if ( p->blocked[k].sbdf != f->sbdf )
                continue;
            if ( asprintf(&nd, "%s; not repaired: %s", f->detail, p->blocked[k].reason) < 0 )
                return -ENOMEM;
            free(f->detail);
            f->detail = nd;
            f->cause = f->kind;
            f->kind = PT_FIND_BLOCKED;
            f->owner = p->blocked[k].owner;
            changed = true;
            break;
        }
    }
    if ( changed && r->n > 1 )
        qsort(r->f, r->n, sizeof(*r->f), cmp_finding);
    return 0;
}
