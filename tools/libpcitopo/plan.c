/*
 * plan.c - the minimal, safely ordered list of PHYSDEVOP_pci_device_remove
 * and _add calls that makes Xen's registry match dom0 (DESIGN §4.5).
 *
 * Why each rule exists (xen/drivers/passthrough/pci.c, 4.17):
 *  - alloc_pdev() returns a known BDF unchanged, so a wrong type, range or
 *    phantom stride is only fixed by remove + add; flags (VF, physfn,
 *    extfn) and a failed owner are refreshed by a plain add
 *    (pci_add_device() overwrites info and retries the IOMMU set-up).
 *  - a PCIe-to-PCI or PCI-to-PCI bridge's add writes its whole range into
 *    bus2bridge and its remove resets it, and the IOMMU contexts of
 *    devices behind a PCIe-to-PCI bridge use the bridge's requester ID; a
 *    DRHD bridge scope follows its bridge's recorded range (patched): so
 *    such a bridge is re-registered with its whole subtree, removed
 *    deepest first, added shallowest first.  A PCIe port's range feeds
 *    neither: it is re-registered alone (range_feeds_lookups()).
 *  - pci_remove_device() has no ownership check: whatever a guest, DomIO
 *    or Xen owns is never removed here; stock 4.17 panics removing an
 *    owner-less entry (vpci_remove_device).
 *  - a PF's VF BARs are sized only when it is added with VFs disabled.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"
#include "dmar.h"
#include "iommu_scope.h"

/*
 * What simulating an earlier attempt taught: a device Xen would refuse
 * (left alone), or a bridge whose re-registration for bus2bridge's sake
 * repairs nothing on stock Xen (futile: not re-registered for that).
 */
struct pin {
    pt_sbdf_t sbdf;
    bool futile;
    char reason[512];
};

/* A bridge re-registered because a bus below it maps wrongly (stock only). */
struct b2b_root {
    pt_sbdf_t bridge;
    uint16_t seg;
    uint8_t bus;
};

/* Per Xen entry and per dom0 device state while planning. */
struct xent {
    const struct pt_xdev *x;
    enum pt_finding_kind why;
    bool rm;                    /* needs removal */
    bool root;                  /* a bridge re-registered with its subtree */
    bool pinned;                /* never touched (blocked) */
    unsigned depth;             /* in Xen's recorded hierarchy */
};

struct dent {
    enum pt_finding_kind why;
    bool add;
    bool pinned;
};

struct planner {
    const struct pt_topo *dom0;
    const struct pt_xview *xen;
    const struct pt_policy *pol;
    struct pt_plan *plan;
    struct pt_errlog *log;
    struct xent *xe;            /* sorted by sbdf (segments are sorted) */
    size_t nx;
    struct dent *de;            /* parallel to dom0->devs */
    struct pin *pins;           /* learnt from simulated attempts */
    size_t npins, cappins;
    struct b2b_root *b2b_roots; /* this attempt's bus2bridge-driven roots */
    size_t nb2b, capb2b;
    struct pt_dmar *iommu;      /* VT-d scopes (iommu_scope.c), NULL when unknown */
    struct pin *quiet;          /* this attempt's IOMMU pins of entries nothing needed yet */
    char iommu_note[320];       /* "IOMMU scopes ...": for the plan's readers */
    size_t nquiet, capquiet;
};

static bool is_futile(const struct planner *p, pt_sbdf_t sbdf)
{
    for ( size_t k = 0; k < p->npins; k++ )
        if ( p->pins[k].futile && p->pins[k].sbdf == sbdf )
            return true;
    return false;
}

static int add_pin(struct planner *p, pt_sbdf_t sbdf, bool futile, const char *reason)
{
    if ( p->npins == p->cappins )
    {
        size_t ncap = p->cappins ? p->cappins * 2 : 8;
        struct pin *np = realloc(p->pins, ncap * sizeof(*np));

        if ( !np )
            return -ENOMEM;
        p->pins = np;
        p->cappins = ncap;
    }
    p->pins[p->npins].sbdf = sbdf;
    p->pins[p->npins].futile = futile;
    snprintf(p->pins[p->npins].reason, sizeof(p->pins[p->npins].reason), "%s", reason);
    p->npins++;
    return 0;
}

static ssize_t xindex(const struct planner *p, pt_sbdf_t sbdf)
{
    size_t lo = 0, hi = p->nx;

    while ( lo < hi )
    {
        size_t mid = (lo + hi) / 2;

        if ( p->xe[mid].x->sbdf < sbdf )
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->nx && p->xe[lo].x->sbdf == sbdf ? (ssize_t)lo : -1;
}

/* First Xen entry with sbdf >= key. */
static size_t xlower(const struct planner *p, pt_sbdf_t key)
{
    size_t lo = 0, hi = p->nx;

    while ( lo < hi )
    {
        size_t mid = (lo + hi) / 2;

        if ( p->xe[mid].x->sbdf < key )
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static ssize_t dindex(const struct planner *p, pt_sbdf_t sbdf)
{
    const struct pt_dev *d = pt_topo_find(p->dom0, sbdf);

    return d ? d - p->dom0->devs : -1;
}

/*
 * The buses Xen's record puts behind a bridge: its recorded range, clipped
 * to the buses above its own.  A bridge reported before dom0 programmed it
 * can be recorded over its own bus (the seed's 6 -> 06:00.0); the buses
 * above it are still behind it as far as Xen knows, so its subtree leaves
 * first.  (bus2bridge itself ignores such a range: diff.c, the patch.)
 */
static bool xrange_behind(const struct pt_xdev *x, unsigned *lo, unsigned *hi)
{
    if ( !pt_type_is_bridge(x->type) || x->sec_bus == PT_NO_RANGE || x->sub_bus == PT_NO_RANGE ||
         x->sub_bus > 255 )
        return false;
    *lo = (unsigned)x->sec_bus > PT_BUS(x->sbdf) ? (unsigned)x->sec_bus : PT_BUS(x->sbdf) + 1u;
    *hi = x->sub_bus;
    return *lo <= *hi;
}

/*
 * True when dom0 has live interrupts through Xen's entry at this SBDF:
 * pci_remove_device() calls pci_cleanup_msi(), which frees the MSI IRQs
 * dom0 still has bound as pirqs, and Xen later BUG()s in
 * __pirq_guest_unbind() when dom0 lets them go (seen on the testbed: a
 * root port re-registered under the pcieport driver, then dom0 shutdown).
 * A re-add does not bring the MSI state back.
 */
static bool dom0_msi_live(const struct planner *p, pt_sbdf_t sbdf)
{
    ssize_t j = dindex(p, sbdf);

    return j >= 0 && (p->dom0->devs[j].cfg.msi_enabled || p->dom0->devs[j].cfg.msix_enabled);
}

static const char msi_reason[] =
    "its dom0 driver has MSI/MSI-X enabled, and Xen 4.17 frees a device's MSI state when it is "
    "removed (pci_cleanup_msi) and later BUG()s when dom0 releases the interrupt; unbind the "
    "driver, run pcitopod again, then rebind it";

static bool owner_removable(const struct planner *p, int owner)
{
    if ( owner == 0 )
        return true;
    if ( owner == PT_OWNER_NONE )
        return p->xen->hv == PT_HV_PATCHED;
    return owner == PT_DOMID_IO && p->pol->requarantine;
}

/*
 * Whether this entry may leave Xen.  Besides its owner: an owner-less entry
 * (a failed add) that dom0 still has must be added back, and that add fails
 * the way the first one did unless the repair removes the cause
 * (pt_noowner_readd_may_succeed(), the diff's own test: a wrong bus2bridge
 * entry, or on the patched hypervisor a DRHD bridge scope that follows a
 * re-registered bridge).  Otherwise (typically no DMAR unit covers a bus
 * above what Xen scanned at boot: -ENODEV, seen on the testbed) the re-add
 * would fail again.  A ghost with no owner may go (on the patched
 * hypervisor).
 */
static bool entry_removable(const struct planner *p, const struct pt_xdev *x)
{
    const struct pt_dev *d = pt_topo_find(p->dom0, x->sbdf);

    if ( x->owner == PT_OWNER_NONE && d &&
         !pt_noowner_readd_may_succeed(p->dom0, p->xen, d, x) )
        return false;
    return owner_removable(p, x->owner);
}

static int add_blocked(struct pt_plan *plan, pt_sbdf_t sbdf, int owner, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add_blocked(struct pt_plan *plan, pt_sbdf_t sbdf, int owner, const char *fmt, ...)
{
    va_list ap;
    char *reason = NULL;

    for ( size_t i = 0; i < plan->nblocked; i++ )
        if ( plan->blocked[i].sbdf == sbdf )
            return 0;
    if ( plan->nblocked == plan->capblocked )
    {
        size_t ncap = plan->capblocked ? plan->capblocked * 2 : 8;
        struct pt_blocked *nb = realloc(plan->blocked, ncap * sizeof(*nb));

        if ( !nb )
            return -ENOMEM;
        plan->blocked = nb;
        plan->capblocked = ncap;
    }
    va_start(ap, fmt);
    if ( vasprintf(&reason, fmt, ap) < 0 )
        reason = NULL;
    va_end(ap);
    if ( !reason )
        return -ENOMEM;
    plan->blocked[plan->nblocked].sbdf = sbdf;
    plan->blocked[plan->nblocked].owner = owner;
    plan->blocked[plan->nblocked].reason = reason;
    plan->nblocked++;
    return 0;
}

static const char noowner_readd_reason[] =
    "Xen's add of it failed (no owner: no IOMMU context) and would fail again (its IOMMU set-up "
    "does not use bus2bridge; typically no IOMMU unit covers its bus), so it is left as it is";

static const char *owner_reason(int owner, char *buf, size_t len)
{
    if ( owner == PT_DOMID_IO )
        return "quarantined (DomIO); --requarantine repairs and quarantines it again";
    if ( owner == PT_DOMID_XEN )
        return "hidden by Xen (DomXEN)";
    if ( owner == PT_OWNER_NONE )
        return "Xen's add failed (no owner); removing it panics stock Xen 4.17 in vpci_remove_device()";
    snprintf(buf, len, "assigned to domain %d", owner);
    return buf;
}

/* False for an entry that may not leave Xen as part of a bridge's subtree. */
static bool subtree_member_ok(const struct planner *p, size_t i)
{
    ssize_t j = dindex(p, p->xe[i].x->sbdf);

    if ( p->xe[i].pinned || !entry_removable(p, p->xe[i].x) ||
         dom0_msi_live(p, p->xe[i].x->sbdf) )
        return false;
    return j < 0 || !p->dom0->devs[j].vfs_enabled;
}

/*
 * Whether anything Xen looks up for other devices depends on the range of
 * Xen's entry i (and of dom0's device at its SBDF), so that re-registering
 * it must take what sits behind it along.  Xen 4.17 uses a bridge's range
 * in two places only:
 *  - bus2bridge, written and cleared by alloc_pdev()/free_pdev() for
 *    PCIe-to-PCI and legacy PCI-to-PCI bridges alone, and read by
 *    find_upstream_bridge() for the VT-d context and interrupt source-id
 *    of a conventional device (vtd/iommu.c domain_context_mapping(),
 *    domain_context_unmap(), vtd/intremap.c);
 *  - a DRHD bridge scope, whose buses follow the bridge's recorded range
 *    on the patched hypervisor (0006; Xen 4.17 keeps the buses it had at
 *    boot, whatever is registered since).
 * A PCIe port (DEV_TYPE_PCIe_BRIDGE) or a PCI-to-PCIe bridge takes no part
 * in either: alloc_pdev() and free_pdev() leave bus2bridge alone for it,
 * and domain_context_mapping()/_unmap() return at once for bridges, so
 * what sits behind one keeps its context and its lookups when the port is
 * removed and added again.  Unknown counts as used: a stock view has no
 * classes (the entry may be recorded as a PCIe-to-PCI bridge), and a DMAR
 * table whose scopes could not be resolved may name any bridge.
 */
static bool range_feeds_lookups(const struct planner *p, size_t i)
{
    const struct pt_xdev *x = p->xe[i].x;
    const struct pt_dev *d = pt_topo_find(p->dom0, x->sbdf);

    if ( x->type == PT_TYPE_UNKNOWN || pt_type_feeds_bus2bridge(x->type) ||
         (d && pt_type_feeds_bus2bridge(d->type)) )
        return true;
    if ( p->iommu ? !p->iommu->follow_bridges : !pt_iommu_scopes_follow(p->xen->hv) )
        return false;           /* Xen 4.17: a bridge scope keeps its boot buses */
    if ( p->dom0->dmar && !p->iommu )
        return true;
    for ( size_t u = 0; p->iommu && u < p->iommu->n; u++ )
        for ( size_t k = 0; k < p->iommu->units[u].nscopes; k++ )
        {
            const struct pt_dmar_scope *sc = &p->iommu->units[u].scopes[k];

            if ( sc->type == PT_DMAR_SCOPE_BRIDGE && (!sc->resolved || sc->bdf == x->sbdf) )
                return true;
        }
    return false;
}

/* How a member of a subtree was reached from the one that took it along. */
enum via { VIA_ROOT, VIA_XEN_RANGE, VIA_VF, VIA_DOM0_TREE };

struct subtree {
    bool *mark;
    size_t *from;               /* the member that took it along */
    unsigned char *via;         /* enum via */
};

/*
 * Marks everything that must leave Xen before entry root can: what Xen
 * recorded behind it, the VFs of a PF, and the entries at the BDFs dom0
 * has behind it - for a bridge whose range Xen's lookups use
 * (range_feeds_lookups()), transitively through such bridges.  Returns
 * the first member that may not be removed, or -1; -2 on ENOMEM.
 */
static ssize_t collect_subtree(struct planner *p, size_t root, struct subtree *st)
{
    size_t *stack, sp = 0;
    ssize_t bad = -1;

    stack = malloc((p->nx + 1) * sizeof(*stack));
    if ( !stack )
        return -2;
    memset(st->mark, 0, (p->nx + 1) * sizeof(*st->mark));
    st->mark[root] = true;
    st->from[root] = root;
    st->via[root] = VIA_ROOT;
    stack[sp++] = root;
    while ( sp )
    {
        size_t i = stack[--sp];
        const struct pt_xdev *x = p->xe[i].x;
        bool used = range_feeds_lookups(p, i);
        unsigned lo, hi;
        ssize_t dj;

#define TAKE(k, how) do { st->mark[k] = true; st->from[k] = i; st->via[k] = (how); \
                          stack[sp++] = (k); } while ( 0 )
        if ( i != root && bad < 0 && !subtree_member_ok(p, i) )
            bad = i;
        if ( used && xrange_behind(x, &lo, &hi) )
        {
            uint16_t seg = PT_SEG(x->sbdf);
            size_t k = xlower(p, PT_SBDF(seg, lo, 0));

            for ( ; k < p->nx && p->xe[k].x->sbdf <= PT_SBDF(seg, hi, 0xff); k++ )
                if ( !st->mark[k] )
                    TAKE(k, VIA_XEN_RANGE);
        }
        /* VFs of a PF go first. */
        for ( size_t k = 0; k < p->nx; k++ )
            if ( !st->mark[k] && p->xe[k].x->virtfn && p->xe[k].x->has_physfn &&
                 p->xe[k].x->physfn == x->sbdf )
                TAKE(k, VIA_VF);
        /* dom0's subtree of the same device. */
        dj = dindex(p, x->sbdf);
        if ( dj >= 0 && ((p->dom0->devs[dj].is_bridge && used) || p->dom0->devs[dj].cfg.sriov_pos) )
            for ( size_t m = 0; m < p->dom0->n; m++ )
            {
                size_t up = p->dom0->devs[m].parent;
                ssize_t k;

                while ( up != PT_NO_PARENT && up != (size_t)dj )
                    up = p->dom0->devs[up].parent;
                if ( up == PT_NO_PARENT )
                    continue;
                k = xindex(p, p->dom0->devs[m].sbdf);
                if ( k >= 0 && !st->mark[k] )
                    TAKE((size_t)k, VIA_DOM0_TREE);
            }
#undef TAKE
    }
    free(stack);
    return bad;
}

/*
 * The chain from root down to member, for a reason: "0000:05:00.0 sits
 * behind it in dom0's tree", or, through other bridges, "0000:06:01.0
 * sits behind it: 0000:00:11.0 -> 0000:04:00.0 (in Xen's registry) ->
 * 0000:06:01.0 (in dom0's tree)".
 */
static void chain_words(const struct planner *p, const struct subtree *st, size_t root,
                        size_t member, char *buf, size_t len)
{
    static const char *const how[] = {
        [VIA_ROOT] = "", [VIA_XEN_RANGE] = "in Xen's registry",
        [VIA_VF] = "a VF in Xen's registry", [VIA_DOM0_TREE] = "in dom0's tree",
    };
    size_t hops[64], n = 0, at;
    char sb[PT_SBDF_STRLEN], sr[PT_SBDF_STRLEN];
    int w;

    for ( at = member; at != root && n < 64; at = st->from[at] )
        hops[n++] = at;
    pt_sbdf_fmt(p->xe[member].x->sbdf, sb);
    if ( n == 1 )
    {
        snprintf(buf, len, st->via[member] == VIA_VF ? "%s is its VF in Xen's registry"
                 : "%s sits behind it %s", sb, how[st->via[member]]);
        return;
    }
    w = snprintf(buf, len, "%s sits behind it: %s", sb, pt_sbdf_fmt(p->xe[root].x->sbdf, sr));
    while ( n-- && w > 0 && (size_t)w < len )
        w += snprintf(buf + w, len - (size_t)w, " -> %s (%s)",
                      pt_sbdf_fmt(p->xe[hops[n]].x->sbdf, sb), how[st->via[hops[n]]]);
}

/* dom0 devices behind dom0 device j (parent chain). */
static void mark_dom0_subtree(struct planner *p, size_t j, enum pt_finding_kind why)
{
    for ( size_t m = 0; m < p->dom0->n; m++ )
    {
        size_t up = p->dom0->devs[m].parent;

        while ( up != PT_NO_PARENT && up != j )
            up = p->dom0->devs[up].parent;
        if ( up == j && !p->de[m].pinned && !p->de[m].add )
        {
            p->de[m].add = true;
            p->de[m].why = why;
        }
    }
}

static void mark_root(struct planner *p, pt_sbdf_t sbdf, enum pt_finding_kind why)
{
    ssize_t i = xindex(p, sbdf), j = dindex(p, sbdf);

    if ( i >= 0 && !p->xe[i].pinned )
    {
        p->xe[i].root = true;
        if ( !p->xe[i].rm )
            p->xe[i].why = why;
        p->xe[i].rm = true;
    }
    if ( j >= 0 && !p->de[j].pinned && !p->de[j].add )
    {
        p->de[j].add = true;
        p->de[j].why = why;
    }
}

/* Seeds the per-entry needs from the findings. */
static int seed_from_report(struct planner *p, const struct pt_report *r)
{
    char ob[48];
    int rc;

    for ( size_t f = 0; f < r->n; f++ )
    {
        const struct pt_finding *fi = &r->f[f];
        ssize_t i = xindex(p, fi->sbdf), j = dindex(p, fi->sbdf);

        switch ( fi->kind )
        {
        case PT_FIND_MISSING:
            p->de[j].add = true;
            p->de[j].why = PT_FIND_MISSING;
            break;
        case PT_FIND_STALE:
        {
            unsigned lo, hi;

            p->xe[i].rm = true;
            p->xe[i].why = PT_FIND_STALE;
            if ( xrange_behind(p->xe[i].x, &lo, &hi) )
                p->xe[i].root = true;
            break;
        }
        case PT_FIND_MISMATCH:
            if ( fi->what & (PT_MIS_TYPE | PT_MIS_RANGE | PT_MIS_PHANTOM) )
            {
                p->xe[i].rm = true;
                p->xe[i].why = PT_FIND_MISMATCH;
                /* A bridge takes its subtree along, a PF its VFs. */
                if ( pt_type_is_bridge(p->xe[i].x->type) || p->dom0->devs[j].is_bridge ||
                     p->dom0->devs[j].cfg.sriov_pos )
                    p->xe[i].root = true;
            }
            p->de[j].add = true;
            p->de[j].why = PT_FIND_MISMATCH;
            break;
        case PT_FIND_BUS2BRIDGE:
        {
            /* Stock Xen rewrites bus2bridge only when a bridge is added or
             * removed: re-register the bridge dom0 has upstream of the bus.
             * (A cycle needs nothing of its own: a loop always passes a bus
             * that maps wrongly, and that bus has its own finding.) */
            struct pt_b2b_entry want[256];

            pt_sbdf_t y;

            if ( p->xen->hv != PT_HV_STOCK )
                break;
            pt_expected_b2b(p->dom0, PT_SEG(fi->sbdf), want);
            if ( !want[fi->bus].map )
                break;
            y = PT_SBDF(PT_SEG(fi->sbdf), want[fi->bus].bus, want[fi->bus].devfn);
            if ( is_futile(p, y) )
                break;
            if ( p->nb2b == p->capb2b )
            {
                size_t ncap = p->capb2b ? p->capb2b * 2 : 8;
                struct b2b_root *nr = realloc(p->b2b_roots, ncap * sizeof(*nr));

                if ( !nr )
                    return -ENOMEM;
                p->b2b_roots = nr;
                p->capb2b = ncap;
            }
            p->b2b_roots[p->nb2b].bridge = y;
            p->b2b_roots[p->nb2b].seg = PT_SEG(fi->sbdf);
            p->b2b_roots[p->nb2b].bus = fi->bus;
            p->nb2b++;
            mark_root(p, y, fi->kind);
            break;
        }
        case PT_FIND_BLOCKED:
            if ( i >= 0 )
                p->xe[i].pinned = true;
            if ( j >= 0 )
                p->de[j].pinned = true;
            rc = add_blocked(p->plan, fi->sbdf, fi->owner, "%s",
                             fi->owner == 0 && dom0_msi_live(p, fi->sbdf) ? msi_reason
                             : fi->owner == PT_OWNER_NONE && j >= 0 ? noowner_readd_reason
                             : owner_reason(fi->owner, ob, sizeof(ob)));
            if ( rc )
                return rc;
            break;
        default:
            break;
        }
    }
    return 0;
}

static int pin(struct planner *p, ssize_t i, ssize_t j, pt_sbdf_t sbdf, int owner,
               const char *reason);
static int iommu_explain(struct planner *p, size_t i);

/* Pins what an earlier simulated attempt showed would fail. */
static int apply_pins(struct planner *p)
{
    int rc = 0;

    for ( size_t k = 0; k < p->npins && !rc; k++ )
    {
        ssize_t i = xindex(p, p->pins[k].sbdf), j = dindex(p, p->pins[k].sbdf);

        if ( p->pins[k].futile )
            continue;
        rc = pin(p, i, j, p->pins[k].sbdf, i >= 0 ? p->xe[i].x->owner : 0, p->pins[k].reason);
    }
    return rc;
}

/* Drops every need of one entry/device and records why. */
static int pin(struct planner *p, ssize_t i, ssize_t j, pt_sbdf_t sbdf, int owner,
               const char *reason)
{
    if ( i >= 0 )
    {
        p->xe[i].rm = p->xe[i].root = false;
        p->xe[i].pinned = true;
    }
    if ( j >= 0 )
    {
        p->de[j].add = false;
        p->de[j].pinned = true;
    }
    return add_blocked(p->plan, sbdf, owner, "%s", reason);
}

/*
 * Applies the safety rules until nothing changes: a removal that is not
 * allowed pins the entry; a root whose subtree holds a pinned entry is
 * pinned; a PF with VFs enabled is not re-added.  Then expands the
 * surviving roots' subtrees into removals and re-additions.
 */
static int resolve(struct planner *p)
{
    struct subtree st = { calloc(p->nx + 1, sizeof(bool)), calloc(p->nx + 1, sizeof(size_t)),
                          calloc(p->nx + 1, 1) };
    bool changed = true;
    char ob[48], msg[512], chain[320];
    int rc = 0;

    if ( !st.mark || !st.from || !st.via )
    {
        rc = -ENOMEM;
        goto out;
    }
    while ( changed && !rc )
    {
        changed = false;
        for ( size_t i = 0; i < p->nx && !rc; i++ )
        {
            struct xent *e = &p->xe[i];
            ssize_t j = dindex(p, e->x->sbdf);
            ssize_t bad;

            if ( !e->rm )
                continue;
            if ( !entry_removable(p, e->x) )
            {
                rc = pin(p, i, j, e->x->sbdf, e->x->owner,
                         owner_removable(p, e->x->owner) ? noowner_readd_reason
                         : owner_reason(e->x->owner, ob, sizeof(ob)));
                changed = true;
                continue;
            }
            if ( dom0_msi_live(p, e->x->sbdf) )
            {
                rc = pin(p, i, j, e->x->sbdf, e->x->owner, msi_reason);
                changed = true;
                continue;
            }
            if ( j >= 0 && p->dom0->devs[j].vfs_enabled && p->de[j].add )
            {
                rc = pin(p, i, j, e->x->sbdf, e->x->owner,
                         "a PF is re-registered only while its VFs are disabled (Xen sizes VF BARs when the PF is added); disable SR-IOV first");
                changed = true;
                continue;
            }
            if ( !e->root )
                continue;
            bad = collect_subtree(p, i, &st);
            if ( bad == -2 )
                rc = -ENOMEM;
            else if ( bad >= 0 )
            {
                const struct pt_xdev *bx = p->xe[bad].x;

                if ( (rc = iommu_explain(p, (size_t)bad)) )
                    break;

                chain_words(p, &st, i, (size_t)bad, chain, sizeof(chain));
                snprintf(msg, sizeof(msg), "%s, and %s%s", chain,
                         owner_removable(p, bx->owner) ? "" : "is ",
                         !owner_removable(p, bx->owner) ? owner_reason(bx->owner, ob, sizeof(ob))
                         : !entry_removable(p, bx) ? "is an entry whose add failed in Xen and would fail again (see its own entry)"
                         : p->xe[bad].pinned ? "must be left alone (see its own entry)"
                         : dom0_msi_live(p, bx->sbdf) ? "has MSI/MSI-X enabled by its dom0 driver (Xen would free its interrupts; unbind the driver first)"
                         : "is a PF with VFs enabled (re-registered only with SR-IOV disabled)");
                rc = pin(p, i, j, e->x->sbdf, e->x->owner, msg);
                changed = true;
            }
        }
    }
    /* Expand the roots that survived. */
    for ( size_t i = 0; i < p->nx && !rc; i++ )
    {
        ssize_t j;

        if ( !p->xe[i].root || !p->xe[i].rm )
            continue;
        if ( collect_subtree(p, i, &st) == -2 )
        {
            rc = -ENOMEM;
            break;
        }
        for ( size_t k = 0; k < p->nx; k++ )
            if ( st.mark[k] && !p->xe[k].rm )
            {
                p->xe[k].rm = true;
                p->xe[k].why = p->xe[i].why;
            }
        /* dom0's devices behind a bridge whose range Xen's lookups use come back after it. */
        j = dindex(p, p->xe[i].x->sbdf);
        if ( j >= 0 && (!p->dom0->devs[j].is_bridge || range_feeds_lookups(p, i)) )
            mark_dom0_subtree(p, j, p->xe[i].why);
    }
    /* Whatever leaves Xen and exists in dom0 comes back. */
    for ( size_t i = 0; i < p->nx; i++ )
    {
        ssize_t j;

        if ( !p->xe[i].rm )
            continue;
        j = dindex(p, p->xe[i].x->sbdf);
        if ( j >= 0 && !p->de[j].add )
        {
            p->de[j].add = true;
            p->de[j].why = p->xe[i].why;
        }
    }
 out:
    free(st.mark);
    free(st.from);
    free(st.via);
    return rc;
}

/*
 * Depth in Xen's recorded hierarchy, for the removal order: an entry must
 * rank below every bridge whose recorded buses hold it (xrange_behind) and
 * a VF below its PF.  Both at once: Xen caches a pdev's type at its first
 * add but overwrites its VF flags at every add, so one entry can be a
 * bridge with devices behind it and a VF at the same time.
 *
 * A pass in bus order settles the bridge relation exactly (a bridge's
 * recorded buses lie above its own), the VF pass then lifts VFs; repeat
 * until nothing moves.  Garbage can make the two relations loop (a PF
 * behind its own VF); the bound then keeps the order it has.
 */
static void compute_xdepth(struct planner *p)
{
    unsigned cover[256];

    for ( size_t i = 0; i < p->nx; i++ )
        p->xe[i].depth = 0;
    for ( unsigned round = 0; round < 64; round++ )
    {
        bool changed = false;
        uint16_t seg = 0;
        bool first = true;

        for ( size_t i = 0; i < p->nx; i++ )
        {
            const struct pt_xdev *x = p->xe[i].x;
            unsigned lo, hi;

            if ( first || PT_SEG(x->sbdf) != seg )
            {
                memset(cover, 0, sizeof(cover));
                seg = PT_SEG(x->sbdf);
                first = false;
            }
            if ( p->xe[i].depth < cover[PT_BUS(x->sbdf)] )
            {
                p->xe[i].depth = cover[PT_BUS(x->sbdf)];
                changed = true;
            }
            if ( xrange_behind(x, &lo, &hi) )
                for ( unsigned b = lo; b <= hi; b++ )
                    if ( cover[b] < p->xe[i].depth + 1 )
                        cover[b] = p->xe[i].depth + 1;
        }
        for ( size_t i = 0; i < p->nx; i++ )
        {
            const struct pt_xdev *x = p->xe[i].x;
            ssize_t pf = x->virtfn && x->has_physfn ? xindex(p, x->physfn) : -1;

            if ( pf >= 0 && pf != (ssize_t)i && p->xe[i].depth <= p->xe[pf].depth )
            {
                p->xe[i].depth = p->xe[pf].depth + 1;
                changed = true;
            }
        }
        if ( !changed )
            break;
    }
}

static int push_op(struct pt_plan *plan, const struct pt_op *op)
{
    if ( plan->n == plan->cap )
    {
        size_t ncap = plan->cap ? plan->cap * 2 : 32;
        struct pt_op *no = realloc(plan->ops, ncap * sizeof(*no));

        if ( !no )
            return -ENOMEM;
        plan->ops = no;
        plan->cap = ncap;
    }
    plan->ops[plan->n++] = *op;
    return 0;
}

/* Removal order: deepest first in Xen's hierarchy, VFs before others, then high SBDF first. */
static int cmp_remove(const void *a, const void *b, void *arg)
{
    const struct planner *p = arg;
    const struct xent *x = &p->xe[*(const size_t *)a], *y = &p->xe[*(const size_t *)b];

    if ( x->depth != y->depth )
        return x->depth > y->depth ? -1 : 1;
    if ( x->x->virtfn != y->x->virtfn )
        return x->x->virtfn ? -1 : 1;
    return x->x->sbdf > y->x->sbdf ? -1 : x->x->sbdf < y->x->sbdf;
}

/* Addition order: shallowest first in dom0's hierarchy (a VF below its PF), then low SBDF first. */
static int cmp_add(const void *a, const void *b, void *arg)
{
    const struct planner *p = arg;
    const struct pt_dev *x = &p->dom0->devs[*(const size_t *)a];
    const struct pt_dev *y = &p->dom0->devs[*(const size_t *)b];

    if ( x->depth != y->depth )
        return x->depth < y->depth ? -1 : 1;
    if ( x->is_virtfn != y->is_virtfn )
        return x->is_virtfn ? 1 : -1;
    return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

/* True when dom0 device j sits at a phantom function of a lower function of its slot. */
static bool is_phantom_of_sibling(const struct planner *p, size_t j)
{
    const struct pt_dev *d = &p->dom0->devs[j];
    unsigned fn = PT_FUNC(PT_DEVFN(d->sbdf));

    for ( unsigned f0 = 0; f0 < fn; f0++ )
    {
        const struct pt_dev *o = pt_topo_find(p->dom0, (d->sbdf & ~7u) | f0);

        if ( o && o->cfg.phantom_stride && (fn - f0) % o->cfg.phantom_stride == 0 )
            return true;
    }
    return false;
}

static int emit_ops(struct planner *p)
{
    size_t *idx = malloc((p->nx + p->dom0->n + 1) * sizeof(*idx));
    size_t n = 0;
    char sb[PT_SBDF_STRLEN];
    int rc = 0;

    if ( !idx )
        return -ENOMEM;

    for ( size_t i = 0; i < p->nx; i++ )
        if ( p->xe[i].rm )
            idx[n++] = i;
    if ( n > 1 )
        qsort_r(idx, n, sizeof(*idx), cmp_remove, p);
    for ( size_t k = 0; k < n && !rc; k++ )
    {
        struct pt_op op = { .op = PT_OP_REMOVE, .sbdf = p->xe[idx[k]].x->sbdf,
                            .reason = p->xe[idx[k]].why, .pxm = -1 };

        rc = push_op(p->plan, &op);
    }

    n = 0;
    for ( size_t j = 0; j < p->dom0->n && !rc; j++ )
    {
        const struct pt_dev *d = &p->dom0->devs[j];

        if ( !p->de[j].add )
            continue;
        if ( is_phantom_of_sibling(p, j) )
        {
            rc = add_blocked(p->plan, d->sbdf, 0,
                             "a phantom function of a lower function of its slot; Xen registers phantoms with their owner");
            p->de[j].add = false;
            continue;
        }
        if ( d->is_virtfn )
        {
            ssize_t pf = dindex(p, d->physfn), xi = xindex(p, d->physfn);
            bool pf_there = (xi >= 0 && !p->xe[xi].rm) || (pf >= 0 && p->de[pf].add);

            if ( !pf_there )
            {
                rc = add_blocked(p->plan, d->sbdf, 0,
                                 "its PF %s is not registered with Xen and cannot be now",
                                 pt_sbdf_fmt(d->physfn, sb));
                p->de[j].add = false;
                continue;
            }
        }
        idx[n++] = j;
    }
    if ( n > 1 )
        qsort_r(idx, n, sizeof(*idx), cmp_add, p);
    /*
     * A plain retry of an owner-less entry (nothing removed) goes last:
     * if Xen refuses it again, apply stops there and nothing else is lost.
     * Nothing depends on it: the entry stays registered either way.
     */
    {
        size_t m = 0, r = 0;
        size_t *retry = malloc((n + 1) * sizeof(*retry));

        if ( !retry )
            rc = -ENOMEM;
        for ( size_t k = 0; k < n && !rc; k++ )
        {
            ssize_t xi = xindex(p, p->dom0->devs[idx[k]].sbdf);

            if ( xi >= 0 && !p->xe[xi].rm && p->xe[xi].x->owner == PT_OWNER_NONE )
                retry[r++] = idx[k];
            else
                idx[m++] = idx[k];
        }
        if ( retry )
            memcpy(idx + m, retry, r * sizeof(*retry));
        free(retry);
    }
    for ( size_t k = 0; k < n && !rc; k++ )
    {
        const struct pt_dev *d = &p->dom0->devs[idx[k]];
        struct pt_op op = { .op = PT_OP_ADD, .sbdf = d->sbdf, .reason = p->de[idx[k]].why,
                            .virtfn = d->is_virtfn, .physfn = d->is_virtfn ? d->physfn : 0,
                            .extfn = !d->is_virtfn && d->is_extfn, .pxm = -1 };

        rc = push_op(p->plan, &op);
    }

    /* Quarantined before, quarantined after (--requarantine). */
    for ( size_t i = 0; i < p->nx && !rc; i++ )
    {
        ssize_t j = dindex(p, p->xe[i].x->sbdf);

        if ( p->xe[i].rm && p->xe[i].x->owner == PT_DOMID_IO && j >= 0 && p->de[j].add )
        {
            struct pt_op op = { .op = PT_OP_QUARANTINE, .sbdf = p->xe[i].x->sbdf,
                                .reason = p->xe[i].why, .pxm = -1 };

            rc = push_op(p->plan, &op);
        }
    }
    free(idx);
    return rc;
}

static int add_unrep(struct pt_plan *plan, uint16_t seg, uint8_t bus, const char *reason)
{
    for ( size_t i = 0; i < plan->nunrep; i++ )
        if ( plan->unrep[i].seg == seg && plan->unrep[i].bus == bus )
            return 0;
    if ( plan->nunrep == plan->capunrep )
    {
        size_t ncap = plan->capunrep ? plan->capunrep * 2 : 8;
        struct pt_unrepairable *nu = realloc(plan->unrep, ncap * sizeof(*nu));

        if ( !nu )
            return -ENOMEM;
        plan->unrep = nu;
        plan->capunrep = ncap;
    }
    if ( !(plan->unrep[plan->nunrep].reason = strdup(reason)) )
        return -ENOMEM;
    plan->unrep[plan->nunrep].seg = seg;
    plan->unrep[plan->nunrep].bus = bus;
    plan->nunrep++;
    return 0;
}

/* True when the report still finds bus seg:bus wrong. */
static bool bus_still_wrong(const struct pt_report *r, uint16_t seg, uint8_t bus)
{
    for ( size_t f = 0; f < r->n; f++ )
        if ( (r->f[f].kind == PT_FIND_BUS2BRIDGE || r->f[f].kind == PT_FIND_CYCLE) &&
             PT_SEG(r->f[f].sbdf) == seg && r->f[f].bus == bus )
            return true;
    return false;
}

/*
 * Stock Xen: a bridge re-registered only because a bus below it maps
 * wrongly, when the simulated plan leaves every such bus wrong (the chain
 * runs into residue dom0 cannot clear), is churn: learn it as futile.
 * Returns 1 when something was learnt (plan again), 0, or -errno.
 */
static int drop_futile_roots(struct planner *p, const struct pt_report *after)
{
    bool learnt = false;

    for ( size_t k = 0; k < p->nb2b; k++ )
    {
        pt_sbdf_t y = p->b2b_roots[k].bridge;
        bool helped = false;
        char why[160], sb[PT_SBDF_STRLEN];
        int rc;

        if ( is_futile(p, y) )
            continue;
        for ( size_t m = 0; m < p->nb2b && !helped; m++ )
            if ( p->b2b_roots[m].bridge == y &&
                 !bus_still_wrong(after, p->b2b_roots[m].seg, p->b2b_roots[m].bus) )
                helped = true;
        if ( helped )
            continue;
        snprintf(why, sizeof(why), "re-registering %s cannot repair the buses below it on stock Xen",
                 pt_sbdf_fmt(y, sb));
        rc = add_pin(p, y, true, why);
        if ( rc )
            return rc;
        learnt = true;
    }
    return learnt;
}

/*
 * Runs the plan on a simulated copy of the registry (config reads from
 * dom0's topology) and lists the bus2bridge entries it leaves wrong: on
 * stock Xen, free_pdev() cleans the range a bridge has now, not the one it
 * was recorded with, so an old range's residue cannot be cleared from dom0.
 */
static int predict_residue(struct planner *p)
{
    struct pt_sim sim;
    struct pt_hw hw = { pt_hw_topo_probe, (void *)p->dom0 };
    struct pt_report after;
    struct pt_errlog quiet = { 0 };
    size_t done = 0;
    int rc;

    for ( size_t s = 0; s < p->xen->nsegs; s++ )
        if ( !p->xen->segs[s].b2b_known )
            return 0;           /* nothing to predict from */
    rc = pt_sim_init(&sim, p->xen, -1, hw);
    if ( rc )
        return rc;
    if ( p->iommu )
    {
        sim.dmar_scopes_follow_bridges = p->iommu->follow_bridges;
        rc = pt_sim_set_dmar(&sim, p->iommu);
        if ( rc )
        {
            pt_sim_free(&sim);
            return rc;
        }
    }
    rc = pt_sim_apply(&sim, p->plan, &done, &quiet);
    pt_errlog_free(&quiet);
    if ( rc )
    {
        /* Xen would refuse this operation (e.g. an add behind a looping
         * bus2bridge chain gets -ENXIO): the caller plans again without it. */
        char why[160];

        snprintf(why, sizeof(why),
                 "Xen would refuse to %s it (%s in the simulated hypervisor), so it is left as it is",
                 done < p->plan->n && p->plan->ops[done].op == PT_OP_REMOVE ? "remove" : "register",
                 strerror(-rc));
        pt_sim_free(&sim);
        rc = add_pin(p, done < p->plan->n ? p->plan->ops[done].sbdf : 0, false, why);
        return rc ? rc : 1;
    }
    rc = pt_diff(p->dom0, &sim.state, p->pol, &after);
    pt_sim_free(&sim);
    if ( rc )
        return rc;
    rc = drop_futile_roots(p, &after);
    if ( rc )
    {
        pt_report_free(&after);
        return rc;
    }
    if ( rc > 0 )
    {
        pt_report_free(&after);
        return 1;
    }
    for ( size_t f = 0; f < after.n && !rc; f++ )
    {
        const struct pt_finding *fi = &after.f[f];

        if ( fi->kind == PT_FIND_BUS2BRIDGE || fi->kind == PT_FIND_CYCLE )
        {
            if ( p->xen->hv == PT_HV_STOCK )
                rc = add_unrep(p->plan, PT_SEG(fi->sbdf), fi->bus,
                               "stock Xen 4.17 cleans a bridge's bus2bridge range as programmed at removal, not as recorded; this entry needs the patched hypervisor (or a reboot)");
            else
                /* With something blocked, a residue is what the blocked devices
                 * hold (reported with their reasons), not the planner's failure. */
                pt_log(p->log, p->plan->nblocked ? PT_SEV_WARN : PT_SEV_ERROR,
                       "planner: bus %04x:%02x would stay wrong after the plan: %s",
                       PT_SEG(fi->sbdf), (unsigned)fi->bus, fi->detail);
        }
    }
    pt_report_free(&after);
    return rc;
}

/* ---------------------------------------------------------------- IOMMU scopes (issue 12) */

/* Builds the VT-d scope model from dom0's DMAR table (iommu_scope.c); unknown: p->iommu NULL. */
static int iommu_init(struct planner *p)
{
    int rc;

    p->iommu = calloc(1, sizeof(*p->iommu));
    if ( !p->iommu )
        return -ENOMEM;
    rc = pt_iommu_model(p->dom0, p->xen, p->iommu, p->iommu_note, sizeof(p->iommu_note));
    if ( rc == 0 && p->dom0->dmar )
        pt_log(p->log, PT_SEV_WARN, "%s", p->iommu_note);
    if ( rc <= 0 )
    {
        free(p->iommu);
        p->iommu = NULL;
    }
    return rc < 0 ? rc : 0;
}

static void iommu_fini(struct planner *p)
{
    if ( p->iommu )
        pt_dmar_free(p->iommu);
    free(p->iommu);
    free(p->quiet);
}

/* Like pin(), but the reason replaces an earlier one (an owner-less entry's generic reason). */
static int iommu_pin(struct planner *p, ssize_t i, ssize_t j, pt_sbdf_t sbdf, int owner,
                     const char *reason)
{
    for ( size_t k = 0; k < p->plan->nblocked; k++ )
        if ( p->plan->blocked[k].sbdf == sbdf )
        {
            char *r = strdup(reason);

            if ( !r )
                return -ENOMEM;
            free(p->plan->blocked[k].reason);
            p->plan->blocked[k].reason = r;
        }
    return pin(p, i, j, sbdf, owner, reason);
}

/* Blocks (needed now) or quietly pins (not needed yet) one entry/device for iommu_pins(). */
static int iommu_quiet_or_pin(struct planner *p, ssize_t i, ssize_t j, pt_sbdf_t sbdf,
                              const char *why)
{
    int owner = i >= 0 ? p->xe[i].x->owner : 0;

    if ( (i >= 0 && p->xe[i].rm) || (j >= 0 && p->de[j].add) ||
         (i >= 0 && p->xe[i].pinned && owner == PT_OWNER_NONE) )
        return iommu_pin(p, i, j, sbdf, owner, why);
    if ( p->nquiet == p->capquiet )
    {
        size_t ncap = p->capquiet ? p->capquiet * 2 : 8;
        struct pin *nq = realloc(p->quiet, ncap * sizeof(*nq));

        if ( !nq )
            return -ENOMEM;
        p->quiet = nq;
        p->capquiet = ncap;
    }
    p->quiet[p->nquiet].sbdf = sbdf;
    p->quiet[p->nquiet].futile = false;
    snprintf(p->quiet[p->nquiet].reason, sizeof(p->quiet[p->nquiet].reason), "%s", why);
    p->nquiet++;
    if ( i >= 0 )
        p->xe[i].pinned = true;
    if ( j >= 0 )
        p->de[j].pinned = true;
    return 0;
}

/*
 * Leaves alone what Xen's VT-d would refuse to take back: a dom0 device
 * no DRHD unit covers (the add would fail with -ENODEV and leave an
 * owner-less entry), and a bridge entry whose recorded range is the only
 * record of a scope's boot buses.  A device the plan needs now is blocked
 * with the reason; one it does not need yet is pinned quietly and
 * explained (iommu_explain()) if a bridge's repair would take it along.
 * Runs before resolve(), so that such a bridge is left alone as well.
 */
static int iommu_pins(struct planner *p)
{
    char why[512];
    int rc = 0;

    p->nquiet = 0;
    if ( !p->plan->iommu_note && p->iommu_note[0] &&
         !(p->plan->iommu_note = strdup(p->iommu_note)) )
        return -ENOMEM;
    if ( !p->iommu )
        return 0;
    for ( size_t j = 0; j < p->dom0->n && !rc; j++ )
    {
        const struct pt_dev *d = &p->dom0->devs[j];
        ssize_t i = xindex(p, d->sbdf);

        if ( !pt_iommu_add_refused(p->iommu, p->dom0, d, why, sizeof(why)) )
            continue;
        rc = iommu_quiet_or_pin(p, i, (ssize_t)j, d->sbdf, why);
    }
    for ( size_t i = 0; i < p->nx && !rc; i++ )
    {
        pt_sbdf_t sbdf = p->xe[i].x->sbdf;

        if ( pt_iommu_scope_record(p->iommu, p->dom0, p->xen, sbdf, why, sizeof(why)) )
            rc = iommu_quiet_or_pin(p, (ssize_t)i, dindex(p, sbdf), sbdf, why);
    }
    return rc;
}

/* A quietly pinned entry now holds a bridge back: it gets its own blocked entry. */
static int iommu_explain(struct planner *p, size_t i)
{
    for ( size_t k = 0; k < p->nquiet; k++ )
        if ( p->quiet[k].sbdf == p->xe[i].x->sbdf )
            return add_blocked(p->plan, p->quiet[k].sbdf, p->xe[i].x->owner, "%s", p->quiet[k].reason);
    return 0;
}

/* One attempt: the plan from the findings, the safety rules and the pins. */
static int plan_once(struct planner *p, const struct pt_report *r)
{
    int rc;

    p->nb2b = 0;
    memset(p->xe, 0, p->nx * sizeof(*p->xe));
    memset(p->de, 0, p->dom0->n * sizeof(*p->de));
    for ( size_t s = 0, k = 0; s < p->xen->nsegs; s++ )
        for ( size_t i = 0; i < p->xen->segs[s].n; i++ )
            p->xe[k++].x = &p->xen->segs[s].devs[i];
    compute_xdepth(p);
    rc = seed_from_report(p, r);
    if ( !rc )
        rc = apply_pins(p);
    if ( !rc )
        rc = iommu_pins(p);
    if ( !rc )
        rc = resolve(p);
    if ( !rc )
        rc = emit_ops(p);
    if ( !rc && p->xen->source != PT_SOURCE_STOCK )
        rc = predict_residue(p);
    return rc;
}

/* How many times a plan is rebuilt around operations Xen would refuse. */
#define PLAN_ATTEMPTS 16

int pt_plan_build(const struct pt_topo *dom0, const struct pt_xview *xen,
                  const struct pt_policy *pol, struct pt_plan *out, struct pt_errlog *log)
{
    static const struct pt_policy defaults;
    struct planner p = { .dom0 = dom0, .xen = xen, .pol = pol ? pol : &defaults,
                         .plan = out, .log = log };
    struct pt_report r;
    unsigned attempt = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = pt_diff(dom0, xen, p.pol, &r);
    if ( rc )
        return rc;
    for ( size_t s = 0; s < xen->nsegs; s++ )
        p.nx += xen->segs[s].n;
    p.xe = calloc(p.nx + 1, sizeof(*p.xe));
    p.de = calloc(dom0->n + 1, sizeof(*p.de));
    if ( !p.xe || !p.de )
    {
        rc = -ENOMEM;
        goto out;
    }
    rc = iommu_init(&p);
    if ( rc )
        goto out;
    /*
     * A plan that Xen would stop half-way through is worse than none: it
     * can leave a bridge's subtree unregistered.  So each plan is first run
     * on a simulated copy of the registry; an operation that fails there
     * pins its device (and with it any bridge whose repair needs it), and
     * the plan is built again.
     */
    for ( ;; )
    {
        rc = plan_once(&p, &r);
        if ( rc <= 0 )
            break;
        pt_plan_free(out);
        if ( ++attempt == PLAN_ATTEMPTS )
        {
            pt_log(log, PT_SEV_ERROR, "no safe plan after %d attempts: not repairing", PLAN_ATTEMPTS);
            rc = -EDEADLK;
            break;
        }
    }
 out:
    free(p.xe);
    free(p.de);
    free(p.pins);
    free(p.b2b_roots);
    iommu_fini(&p);
    pt_report_free(&r);
    if ( rc )
        pt_plan_free(out);
    return rc;
}

int pt_check(const struct pt_topo *dom0, const struct pt_xview *xen,
             const struct pt_policy *pol, struct pt_report *out, struct pt_errlog *log)
{
    struct pt_plan plan;
    int rc = pt_diff(dom0, xen, pol, out);

    if ( rc )
        return rc;
    rc = pt_plan_build(dom0, xen, pol, &plan, log);
    if ( !rc )
    {
        rc = pt_report_mark_blocked(out, &plan);
        out->iommu_note = plan.iommu_note;      /* "IOMMU scopes ..." */
        plan.iommu_note = NULL;
        pt_plan_free(&plan);
    }
    if ( rc )
        pt_report_free(out);
    return rc;
}

void pt_plan_print(const struct pt_plan *p, FILE *f)
{
    char sb[PT_SBDF_STRLEN], pf[PT_SBDF_STRLEN];

    if ( !p->n && (p->nblocked || p->nunrep) )
        fprintf(f, "no operation; Xen still differs where pcitopod leaves it alone:\n");
    else if ( !p->n )
        fprintf(f, "nothing to do\n");
    else
        fprintf(f, "%zu operation%s:\n", p->n, p->n == 1 ? "" : "s");
    for ( size_t i = 0; i < p->n; i++ )
    {
        const struct pt_op *o = &p->ops[i];
        const char *verb = o->op == PT_OP_REMOVE ? "remove" : o->op == PT_OP_ADD ? "add" : "quarantine";

        fprintf(f, "  %3zu  %-10s %s  (%s)", i + 1, verb, pt_sbdf_fmt(o->sbdf, sb),
                o->why ? o->why : pt_finding_kind_name(o->reason));
        if ( o->op == PT_OP_ADD && o->virtfn )
            fprintf(f, " virtfn of %s", pt_sbdf_fmt(o->physfn, pf));
        if ( o->op == PT_OP_ADD && o->extfn )
            fprintf(f, " extfn");
        fputc('\n', f);
    }
    for ( size_t i = 0; i < p->nblocked; i++ )
        fprintf(f, "  blocked    %s  %s\n", pt_sbdf_fmt(p->blocked[i].sbdf, sb), p->blocked[i].reason);
    for ( size_t i = 0; i < p->nunrep; i++ )
        fprintf(f, "  cannot repair bus %04x:%02x: %s\n", p->unrep[i].seg, p->unrep[i].bus,
                p->unrep[i].reason);
    if ( p->iommu_note )
        fprintf(f, "%s\n", p->iommu_note);
}

void pt_plan_free(struct pt_plan *p)
{
    for ( size_t i = 0; i < p->nblocked; i++ )
        free(p->blocked[i].reason);
    for ( size_t i = 0; i < p->nunrep; i++ )
        free(p->unrep[i].reason);
    for ( size_t i = 0; i < p->nstrings; i++ )
        free(p->strings[i]);
    free(p->ops);
    free(p->blocked);
    free(p->unrep);
    free(p->strings);
    free(p->iommu_note);
    memset(p, 0, sizeof(*p));
}
