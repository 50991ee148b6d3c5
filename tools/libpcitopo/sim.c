/*
 * sim.c - a model of Xen 4.17's PCI registry (xen/drivers/passthrough/pci.c)
 * that the tests and `pcitopod --xen-sim` drive instead of the hypervisor.
 *
 * What is modelled, and where it comes from:
 *   alloc_pdev()        an existing pdev is returned untouched (no config
 *                       read); a new one gets its type from pdev_type() and,
 *                       for PCIe-to-PCI and legacy bridges, writes sec..sub
 *                       of the registers read *now* into bus2bridge (stock).
 *   free_pdev()         stock: re-reads sec/sub at removal time (0xff/0xff
 *                       when nothing responds) and copies bus2bridge[own bus]
 *                       over that range.
 *   pci_add_device()    auto-adds a VF's unknown PF (info NULL), overwrites
 *                       info on every add that carries it, and retries the
 *                       IOMMU set-up of an owner-less pdev.
 *   pci_remove_device() no ownership check; stock 4.17.7 panics in
 *                       vpci_remove_device() for an owner-less pdev.
 *   find_upstream_bridge() with its 256-step bound.
 *   acpi_find_matched_drhd_unit() (vtd/dmar.c), with a DMAR table
 *                       (pt_sim_set_dmar): an endpoint no DRHD unit covers
 *                       gets -ENODEV from domain_context_mapping() and its
 *                       entry stays registered with owner NULL.  The unit's
 *                       bridge-scope buses are those of the boot-time parse
 *                       unless sim->dmar_scopes_follow_bridges (patch 0006).
 *   _scan_pci_devices() + setup_hwdom_pci_devices().
 *
 * Every config read goes through sim->hw.probe at the moment of the call, as
 * on hardware.  The registry is sim->state, a pt_xview, so that it can be
 * saved and diffed exactly like what the sysctl reports.
 *
 * The patched hypervisor (DESIGN §5) differs in bus2bridge only: it is
 * derived state, recomputed from the registered bridges' recorded ranges
 * (b2b_recompute() below), and free_pdev() reads no config.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"
#include "dmar.h"

/* MAX_BUSES in pci.c: find_upstream_bridge() gives up after this many steps. */
#define SIM_MAX_BUSES 256

static const char *op_name(enum pt_op_kind k)
{
    switch ( k )
    {
    case PT_OP_REMOVE:     return "remove";
    case PT_OP_ADD:        return "add";
    case PT_OP_QUARANTINE: return "quarantine";
    }
    return "?";
}

/*
 * The patched hypervisor's bus2bridge (DESIGN §5), recomputed for one
 * segment from the registered pcie2pci/legacy bridges and the ranges
 * recorded when each was added:
 *   - a range is ignored when sec > sub, sec == 0, or sec <= the bridge's own
 *     bus (a bridge cannot be upstream of its own bus);
 *   - for every bus, the innermost recorded range containing it wins: the
 *     smallest sub - sec; on a tie the bridge with the larger bus, then the
 *     larger devfn;
 *   - a bus that no range contains is unmapped.
 * pt_expected_b2b() (diff.c) applies the same rule to dom0's live ranges.
 */
static void b2b_recompute(struct pt_xseg *s)
{
    int width[256];

    memset(s->b2b, 0, sizeof(s->b2b));
    for ( unsigned b = 0; b < 256; b++ )
        width[b] = -1;

    for ( size_t i = 0; i < s->n; i++ )
    {
        const struct pt_xdev *d = &s->devs[i];
        uint8_t bus = PT_BUS(d->sbdf), devfn = PT_DEVFN(d->sbdf);

        if ( !pt_type_feeds_bus2bridge(d->type) )
            continue;
        if ( d->sec_bus < 0 || d->sub_bus < 0 || d->sec_bus > 255 || d->sub_bus > 255 )
            continue;
        if ( d->sec_bus > d->sub_bus || d->sec_bus == 0 || d->sec_bus <= bus )
            continue;
        for ( int b = d->sec_bus; b <= d->sub_bus; b++ )
        {
            int w = d->sub_bus - d->sec_bus;
            struct pt_b2b_entry *e = &s->b2b[b];
            bool better;

            if ( width[b] < 0 || w < width[b] )
                better = true;
            else if ( w > width[b] )
                better = false;
            else if ( bus != e->bus )
                better = bus > e->bus;
            else
                better = devfn > e->devfn;
            if ( better )
            {
                width[b] = w;
                e->map = true;
                e->bus = bus;
                e->devfn = devfn;
            }
        }
    }
}

/* Reads the function now; -ENODEV when nothing responds (Xen reads all ones). */
static int hw_read(const struct pt_sim *sim, pt_sbdf_t sbdf, struct pt_cfg_info *info)
{
    int r;

    memset(info, 0, sizeof(*info));
    if ( !sim->hw.probe )
        r = -ENODEV;
    else
        r = sim->hw.probe(sim->hw.ctx, sbdf, info);
    if ( r < 0 )
    {
        /* a master abort: every register reads all ones, pdev_type() says unknown */
        memset(info, 0, sizeof(*info));
        info->vendor = info->device = 0xffff;
        info->class = 0xffffff;
        info->header_type = 0xff;
        info->reg_pri = info->reg_sec = info->reg_sub = 0xff;
        info->xen_type = PT_TYPE_UNKNOWN;
        return -ENODEV;
    }
    return 0;
}

/* alloc_pdev(): returns the existing entry untouched, or creates one from config read now. */
static struct pt_xdev *sim_alloc_pdev(struct pt_sim *sim, pt_sbdf_t sbdf)
{
    struct pt_xdev *d = pt_xview_find(&sim->state, sbdf);
    struct pt_xdev nd;
    struct pt_cfg_info ci;
    struct pt_xseg *s;

    if ( d )
        return d;
    s = pt_xview_seg(&sim->state, PT_SEG(sbdf), true);   /* alloc_pseg() */
    if ( !s )
        return NULL;
    s->b2b_known = true;

    hw_read(sim, sbdf, &ci);
    memset(&nd, 0, sizeof(nd));
    nd.sbdf = sbdf;
    nd.type = ci.xen_type;                  /* pdev_type(), cached for good */
    nd.owner = PT_OWNER_NONE;               /* pdev->domain = NULL */
    nd.sec_bus = PT_NO_RANGE;
    nd.sub_bus = PT_NO_RANGE;
    if ( pt_type_is_bridge(nd.type) )
    {
        /* The range the registers hold at this instant (what the sysctl reports). */
        nd.sec_bus = ci.reg_sec;
        nd.sub_bus = ci.reg_sub;
    }
    if ( nd.type == PT_TYPE_PCIE_ENDPOINT )
        nd.phantom_stride = ci.phantom_stride;

    if ( !pt_xview_add(&sim->state, &nd) )  /* kept sorted: alldevs order is not modelled */
        return NULL;

    if ( pt_type_feeds_bus2bridge(nd.type) )
    {
        s = pt_xview_seg(&sim->state, PT_SEG(sbdf), false);
        if ( sim->hv == PT_HV_PATCHED )
            b2b_recompute(s);
        else
        {
            /* alloc_pdev(): sec..sub := this bridge; unsigned loop, 0/0 writes entry 0. */
            for ( unsigned int b = ci.reg_sec; b <= ci.reg_sub; b++ )
            {
                s->b2b[b].map = true;
                s->b2b[b].bus = PT_BUS(sbdf);
                s->b2b[b].devfn = PT_DEVFN(sbdf);
            }
        }
    }
    return pt_xview_find(&sim->state, sbdf);
}

/* free_pdev() and the list removal. */
static int sim_free_pdev(struct pt_sim *sim, pt_sbdf_t sbdf, enum pt_dev_type type)
{
    struct pt_xseg *s;
    int r;

    if ( pt_type_feeds_bus2bridge(type) && sim->hv == PT_HV_STOCK )
    {
        struct pt_cfg_info ci;
        uint8_t own = PT_BUS(sbdf);

        /* free_pdev() reads sec/sub at removal time, not the recorded range. */
        hw_read(sim, sbdf, &ci);
        s = pt_xview_seg(&sim->state, PT_SEG(sbdf), false);
        for ( unsigned int b = ci.reg_sec; s && b <= ci.reg_sub; b++ )
            s->b2b[b] = s->b2b[own];
    }
    r = pt_xview_remove(&sim->state, sbdf);
    if ( r )
        return r;
    if ( pt_type_feeds_bus2bridge(type) && sim->hv == PT_HV_PATCHED )
    {
        s = pt_xview_seg(&sim->state, PT_SEG(sbdf), false);
        if ( s )
            b2b_recompute(s);
    }
    return 0;
}

/* find_upstream_bridge() on the simulated table, from a starting bus. */
static int sim_upstream(const struct pt_xview *v, uint16_t seg, uint8_t bus,
                        pt_sbdf_t *bridge)
{
    const struct pt_xseg *s = NULL;
    unsigned int cnt = 0;
    uint8_t devfn = 0;

    if ( bus == 0 )
        return 0;
    for ( size_t i = 0; i < v->nsegs; i++ )
        if ( v->segs[i].seg == seg )
            s = &v->segs[i];
    if ( !s )
        return -1;
    if ( !s->b2b[bus].map )
        return 0;
    while ( s->b2b[bus].map )
    {
        devfn = s->b2b[bus].devfn;
        bus = s->b2b[bus].bus;
        if ( cnt++ >= SIM_MAX_BUSES )
            return -1;
    }
    if ( bridge )
        *bridge = PT_SBDF(seg, bus, devfn);
    return 1;
}

/*
 * acpi_find_matched_drhd_unit() for domain_context_mapping(): an endpoint
 * (PCIe or conventional) needs a DRHD unit, looked up at its (bus, devfn)
 * with the VF/extfn substitutions; bridges and host bridges do not.  The
 * unit's bridge-scope buses are those of the table's parse at boot, or,
 * with sim->dmar_scopes_follow_bridges (patch 0006), the ranges the
 * registry records now.  No table: every device is covered.
 */
static bool sim_drhd_covers(struct pt_sim *sim, const struct pt_xdev *d)
{
    uint8_t bus, devfn;

    if ( !sim->dmar || !pt_dmar_type_needs_unit(d->type) )
        return true;
    /* a VF's info.is_extfn is its PF's (pci_add_device() copies it) */
    pt_dmar_lookup_bdf(d->sbdf, d->virtfn && d->has_physfn, d->physfn, d->extfn,
                       d->extfn, &bus, &devfn);
    sim->dmar->follow_bridges = sim->dmar_scopes_follow_bridges;
    return pt_dmar_match(sim->dmar, PT_SEG(d->sbdf), bus, devfn, pt_dmar_range_xen,
                         &sim->state) != NULL;
}

/*
 * iommu_add_device() for an owner-less pdev (VT-d domain_context_mapping()),
 * with the project's rules: an unknown type fails with -EINVAL; a
 * conventional endpoint or a legacy bridge whose find_upstream_bridge()
 * fails (-1) gets -ENXIO.  The entry then keeps owner NULL.
 */
static int sim_iommu_add(struct pt_sim *sim, struct pt_xdev *d)
{
    if ( d->type == PT_TYPE_UNKNOWN )
        return -EINVAL;
    if ( !sim_drhd_covers(sim, d) )
        return -ENODEV;
    if ( d->type == PT_TYPE_PCI_ENDPOINT || d->type == PT_TYPE_LEGACY_BRIDGE )
    {
        if ( sim_upstream(&sim->state, PT_SEG(d->sbdf), PT_BUS(d->sbdf), NULL) < 0 )
            return -ENXIO;
    }
    d->owner = 0;
    return 0;
}

/* pci_add_device(); the recursion for a VF's unknown PF passes info NULL. */
static int sim_add_device(struct pt_sim *sim, pt_sbdf_t sbdf, const struct pt_add_info *info)
{
    struct pt_xdev *d;
    bool pf_is_extfn = false;

    if ( info && info->virtfn )
    {
        pt_sbdf_t pf = PT_SBDF(PT_SEG(sbdf), PT_BUS(info->physfn), PT_DEVFN(info->physfn));
        struct pt_xdev *p = pt_xview_find(&sim->state, pf);

        if ( p )
            pf_is_extfn = p->extfn;
        else
            (void)sim_add_device(sim, pf, NULL);   /* return value ignored, as in Xen */
    }

    d = sim_alloc_pdev(sim, sbdf);
    if ( !d )
        return -ENOMEM;

    if ( info )
    {
        /* pdev->info = *info, also on an existing pdev. */
        d->virtfn = info->virtfn;
        d->has_physfn = info->virtfn;
        d->physfn = info->virtfn
            ? PT_SBDF(PT_SEG(sbdf), PT_BUS(info->physfn), PT_DEVFN(info->physfn)) : 0;
        d->extfn = info->virtfn ? pf_is_extfn : info->extfn;
    }

    if ( d->owner != PT_OWNER_NONE )
        return 0;                           /* iommu_enable_device() only */
    return sim_iommu_add(sim, d);
}

/* Refuses everything once the stock hypervisor has panicked. */
static int sim_usable(const struct pt_sim *sim)
{
    return sim->crashed ? -EFAULT : 0;
}

/* Starts a simulator on a copy of view (NULL: an empty registry). */
int pt_sim_init(struct pt_sim *sim, const struct pt_xview *view, int hv_override, struct pt_hw hw)
{
    int r;

    memset(sim, 0, sizeof(*sim));
    if ( view )
    {
        r = pt_xview_copy(view, &sim->state);
        if ( r )
            return r;
    }
    sim->hv = hv_override >= 0 ? (enum pt_hv_model)hv_override
                               : view ? view->hv : PT_HV_PATCHED;
    sim->state.source = PT_SOURCE_SIM;
    sim->state.hv = sim->hv;
    sim->hw = hw;
    for ( size_t i = 0; i < sim->state.nsegs; i++ )
    {
        struct pt_xseg *s = &sim->state.segs[i];

        /* A stock view carries no table; the model always has one. */
        if ( !s->b2b_known )
            memset(s->b2b, 0, sizeof(s->b2b));
        s->b2b_known = true;
        if ( sim->hv == PT_HV_PATCHED )
            b2b_recompute(s);
    }
    return 0;
}

/* _scan_pci_devices() over one segment, then setup_hwdom_pci_devices() for it. */
int pt_sim_boot_scan(struct pt_sim *sim, uint16_t seg)
{
    struct pt_xseg *s;
    int r = sim_usable(sim);

    if ( r )
        return r;
    if ( !pt_xview_seg(&sim->state, seg, true) )
        return -ENOMEM;

    for ( unsigned bus = 0; bus < 256; bus++ )
        for ( unsigned slot = 0; slot < 32; slot++ )
            for ( unsigned fn = 0; fn < 8; fn++ )
            {
                pt_sbdf_t sbdf = PT_SBDF(seg, bus, PT_DEVFN_OF(slot, fn));
                struct pt_cfg_info ci;

                /* pci_device_detect(): vendor 0 or ~0 means empty (so VFs are never found). */
                if ( hw_read(sim, sbdf, &ci) < 0 || ci.vendor == 0x0000 || ci.vendor == 0xffff )
                {
                    if ( fn == 0 )
                        break;
                    continue;
                }
                if ( !sim_alloc_pdev(sim, sbdf) )
                    return -ENOMEM;
                if ( fn == 0 && !(ci.header_type & 0x80) )
                    break;
            }

    /* setup_hwdom_pci_devices(): every owner-less pdev goes to dom0. */
    s = pt_xview_seg(&sim->state, seg, false);
    for ( size_t i = 0; s && i < s->n; i++ )
        if ( s->devs[i].owner == PT_OWNER_NONE )
            s->devs[i].owner = 0;
    return 0;
}

/* PHYSDEVOP_pci_device_add. */
int pt_sim_add(struct pt_sim *sim, pt_sbdf_t sbdf, const struct pt_add_info *info)
{
    int r = sim_usable(sim);

    if ( r )
        return r;
    sim->nops++;
    return sim_add_device(sim, sbdf, info);
}

/* PHYSDEVOP_pci_device_remove. */
int pt_sim_remove(struct pt_sim *sim, pt_sbdf_t sbdf)
{
    struct pt_xdev *d;
    enum pt_dev_type type;
    int r = sim_usable(sim);

    if ( r )
        return r;
    sim->nops++;
    d = pt_xview_find(&sim->state, sbdf);
    if ( !d )
        return -ENODEV;
    if ( d->owner == PT_OWNER_NONE && sim->hv == PT_HV_STOCK )
    {
        /* Xen 4.17.7: vpci_remove_device() dereferences pdev->domain == NULL. */
        sim->crashed = true;
        return -EFAULT;
    }
    /*
     * No ownership check (pci_remove_device()).  The patched hypervisor
     * skips the vPCI/IOMMU teardown of an owner-less pdev and frees it.
     */
    type = d->type;
    return sim_free_pdev(sim, sbdf, type);
}

/* XEN_DOMCTL_assign_device (device_assigned()/assign_device() checks). */
int pt_sim_assign(struct pt_sim *sim, pt_sbdf_t sbdf, int domid)
{
    struct pt_xdev *d;
    int r = sim_usable(sim);

    if ( r )
        return r;
    sim->nops++;
    d = pt_xview_find(&sim->state, sbdf);
    if ( !d )
        return -ENODEV;
    if ( domid < 0 )
        return -EINVAL;
    if ( domid == 0 )
    {
        /* deassign back to the hardware domain */
        if ( d->owner == PT_OWNER_NONE || d->owner == PT_DOMID_XEN )
            return -EBUSY;
        d->owner = 0;
        return 0;
    }
    if ( d->owner != 0 && d->owner != PT_DOMID_IO )
        return -EBUSY;
    d->owner = domid;
    return 0;
}

/* Forces owner NULL on an entry (its IOMMU set-up failed). */
int pt_sim_fail_owner(struct pt_sim *sim, pt_sbdf_t sbdf)
{
    struct pt_xdev *d;
    int r = sim_usable(sim);

    if ( r )
        return r;
    d = pt_xview_find(&sim->state, sbdf);
    if ( !d )
        return -ENODEV;
    d->owner = PT_OWNER_NONE;
    return 0;
}

/* find_upstream_bridge() from the device's bus. */
int pt_sim_find_upstream_bridge(const struct pt_sim *sim, pt_sbdf_t sbdf, pt_sbdf_t *bridge)
{
    return sim_upstream(&sim->state, PT_SEG(sbdf), PT_BUS(sbdf), bridge);
}

/* Executes a plan's ops in order, stopping at the first failure. */
int pt_sim_apply(struct pt_sim *sim, const struct pt_plan *plan, size_t *done, struct pt_errlog *log)
{
    size_t i;
    int r = 0;

    for ( i = 0; i < plan->n; i++ )
    {
        const struct pt_op *op = &plan->ops[i];
        char sb[PT_SBDF_STRLEN];

        switch ( op->op )
        {
        case PT_OP_REMOVE:
            r = pt_sim_remove(sim, op->sbdf);
            break;
        case PT_OP_ADD:
        {
            struct pt_add_info ai = {
                .extfn = op->extfn, .virtfn = op->virtfn,
                .physfn = op->physfn, .pxm = op->pxm,
            };

            r = pt_sim_add(sim, op->sbdf, &ai);
            break;
        }
        case PT_OP_QUARANTINE:
            r = pt_sim_assign(sim, op->sbdf, PT_DOMID_IO);
            break;
        default:
            r = -EINVAL;
            break;
        }
        if ( r )
        {
            pt_log(log, PT_SEV_ERROR, "sim: op %zu: %s %s failed: %s (%d)%s", i + 1,
                   op_name(op->op), pt_sbdf_fmt(op->sbdf, sb), strerror(-r), r,
                   sim->crashed ? "; the hypervisor crashed" : "");
            break;
        }
    }
    if ( done )
        *done = i;
    return r;
}

/* Replaces the simulator's DMAR table by a copy of dmar (NULL: none). */
int pt_sim_set_dmar(struct pt_sim *sim, const struct pt_dmar *dmar)
{
    struct pt_dmar *copy = NULL;

    if ( dmar )
    {
        copy = calloc(1, sizeof(*copy));
        if ( !copy || pt_dmar_copy(dmar, copy) )
        {
            free(copy);
            return -ENOMEM;
        }
    }
    if ( sim->dmar )
        pt_dmar_free(sim->dmar);
    free(sim->dmar);
    sim->dmar = copy;
    return 0;
}

/* Frees the simulated registry. */
void pt_sim_free(struct pt_sim *sim)
{
    pt_sim_set_dmar(sim, NULL);
    pt_xview_free(&sim->state);
    memset(sim, 0, sizeof(*sim));
}
