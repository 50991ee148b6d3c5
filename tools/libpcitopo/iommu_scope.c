/*
 * iommu_scope.c - what Xen 4.17's VT-d code will refuse, for the planner:
 * the DMAR table dom0 sees, resolved against the bus numbers the firmware
 * had at boot, and the rule of domain_context_mapping() (an endpoint whose
 * acpi_find_matched_drhd_unit() is NULL gets -ENODEV, and pci_add_device()
 * leaves its entry registered with no owner).
 *
 * The boot-time range of a bridge on a scope's path is the range Xen
 * recorded for it (its boot scan read the registers the table parse read),
 * else dom0's live range (right when nothing was renumbered).  Once an entry
 * that carries such a boot range is re-registered, that knowledge is gone;
 * on Xen whose scopes do not follow the bridges (stock 4.17), the planner
 * therefore keeps those entries (pt_iommu_scope_record()).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmar.h"
#include "iommu_scope.h"

bool pt_iommu_scopes_follow(enum pt_hv_model hv)
{
    /* Patch 0006 (patches/xen-4.17): bridge scopes follow the recorded range. */
    return hv == PT_HV_PATCHED;
}

int pt_iommu_model(const struct pt_topo *dom0, const struct pt_xview *xen, struct pt_dmar *out,
                   char *note, size_t len)
{
    char err[192];
    int rc;

    memset(out, 0, sizeof(*out));
    if ( !dom0->dmar )
    {
        snprintf(note, len, "IOMMU scopes unknown: %s",
                 dom0->dmar_errno && dom0->dmar_errno != ENOENT
                 ? strerror(dom0->dmar_errno) : "no DMAR table (firmware/acpi/tables/DMAR or RMAD)");
        return 0;
    }
    rc = pt_dmar_parse(dom0->dmar, dom0->dmar_len, out, err, sizeof(err));
    if ( rc == -ENOMEM )
        return rc;
    if ( rc )
    {
        snprintf(note, len, "IOMMU scopes unknown: %s: malformed DMAR table: %s",
                 dom0->dmar_file ? dom0->dmar_file : "DMAR", err);
        return 0;
    }
    /*
     * A Xen without the pci_topology sysctl reports no recorded ranges, and
     * dom0's live ones are not the boot ones after a renumbering: no
     * fallback there (a table of endpoint scopes and INCLUDE_ALL units
     * still resolves).
     */
    pt_dmar_resolve(out, pt_dmar_range_xen, (void *)xen,
                    xen->source == PT_SOURCE_STOCK ? NULL : pt_dmar_range_dom0, (void *)dom0);
    out->follow_bridges = pt_iommu_scopes_follow(xen->hv);
    if ( !out->complete )
    {
        snprintf(note, len, "IOMMU scopes unknown: %s: %s", dom0->dmar_file ? dom0->dmar_file : "DMAR",
                 xen->source == PT_SOURCE_STOCK
                 ? "a bridge scope's boot-time buses need the ranges Xen recorded at boot, which this "
                   "hypervisor does not report (no pci_topology sysctl)"
                 : "a bridge on a device scope's path is known neither to Xen nor to dom0");
        pt_dmar_free(out);
        return 0;
    }
    snprintf(note, len, "IOMMU scopes from %s: %zu DRHD unit(s)%s",
             dom0->dmar_file ? dom0->dmar_file : "DMAR", out->n,
             out->follow_bridges ? ", bridge scopes follow the bridges (patch 0006)"
                                 : ", bridge scopes as at boot");
    return 1;
}

int pt_iommu_add_refused(const struct pt_dmar *m, const struct pt_topo *dom0,
                         const struct pt_dev *d, char *why, size_t len)
{
    const struct pt_dev *pf = d->is_virtfn ? pt_topo_find(dom0, d->physfn) : NULL;
    uint8_t bus, devfn;
    char sb[PT_SBDF_STRLEN], pb[PT_SBDF_STRLEN], w[384];

    if ( !m || !m->resolved || !pt_dmar_type_needs_unit(d->type) )
        return 0;
    pt_dmar_lookup_bdf(d->sbdf, d->is_virtfn, d->physfn, pf && pf->is_extfn,
                       !d->is_virtfn && d->is_extfn, &bus, &devfn);
    if ( pt_dmar_match(m, PT_SEG(d->sbdf), bus, devfn, pt_dmar_range_dom0, (void *)dom0) )
        return 0;
    pt_dmar_why_uncovered(m, PT_SEG(d->sbdf), bus, w, sizeof(w));
    if ( d->is_virtfn )
        snprintf(why, len, "%s: a VF is looked up by its PF %s: %s", pt_sbdf_fmt(d->sbdf, sb),
                 pt_sbdf_fmt(d->physfn, pb), w);
    else
        snprintf(why, len, "%s: %s", pt_sbdf_fmt(d->sbdf, sb), w);
    return 1;
}

int pt_iommu_scope_record(const struct pt_dmar *m, const struct pt_topo *dom0,
                          const struct pt_xview *xen, pt_sbdf_t sbdf, char *why, size_t len)
{
    const struct pt_xdev *x;
    const struct pt_dev *d;

    if ( !m || !m->resolved || m->follow_bridges )
        return 0;
    x = pt_xview_find(xen, sbdf);
    if ( !x || !pt_type_is_bridge(x->type) || x->sec_bus < 0 || x->sub_bus < 0 )
        return 0;
    d = pt_topo_find(dom0, sbdf);
    if ( d && d->is_bridge && d->sec_bus == x->sec_bus && d->sub_bus == x->sub_bus )
        return 0;                           /* re-registering it records the same range */
    for ( size_t i = 0; i < m->n; i++ )
    {
        const struct pt_dmar_drhd *u = &m->units[i];

        for ( size_t k = 0; k < u->nscopes; k++ )
        {
            const struct pt_dmar_scope *sc = &u->scopes[k];
            uint8_t bus = sc->start_bus, sec, sub;
            bool on_path = false;
            char b[PT_BDF_STRLEN];

            if ( !sc->resolved || PT_SEG(sbdf) != u->seg )
                continue;
            /* the bridges whose secondary bus the path walk read */
            for ( unsigned e = 0; e + 1 < sc->npath && !on_path; e++ )
            {
                if ( PT_SBDF(u->seg, bus, sc->path[e]) == sbdf )
                    on_path = true;
                else if ( pt_dmar_range_xen((void *)xen, PT_SBDF(u->seg, bus, sc->path[e]), &sec, &sub) &&
                          pt_dmar_range_dom0((void *)dom0, PT_SBDF(u->seg, bus, sc->path[e]), &sec, &sub) )
                    break;
                else
                    bus = sec;
            }
            if ( !on_path && !(sc->type == PT_DMAR_SCOPE_BRIDGE && sc->bdf == sbdf) )
                continue;
            snprintf(why, len,
                     "Xen's VT-d (DRHD %llx) keeps the buses its %s scope %s had at boot, and this "
                     "entry's recorded range %02x-%02x is pcitopod's only record of them; "
                     "re-registering it would lose that on a hypervisor whose bridge scopes do not "
                     "follow the bridge (stock Xen 4.17; patch 0006 changes that)",
                     (unsigned long long)u->base, pt_dmar_scope_name(sc->type),
                     pt_bdf_fmt(sc->bdf, b), x->sec_bus, x->sub_bus);
            return 1;
        }
    }
    return 0;
}

/* pt_dmar_range_fn over a sysfs tree read now (ctx: the root). */
static int range_sysfs(void *root, pt_sbdf_t bridge, uint8_t *sec, uint8_t *sub)
{
    struct pt_cfg_info ci;
    struct pt_errlog quiet = { 0 };
    int rc = pt_sysfs_read_cfg(root, bridge, &ci, &quiet);

    pt_errlog_free(&quiet);
    if ( rc || !pt_type_is_bridge(ci.xen_type) )
        return -ENOENT;
    *sec = ci.reg_sec;
    *sub = ci.reg_sub;
    return 0;
}

int pt_sim_load_dmar(struct pt_sim *sim, const char *sysfs_root, struct pt_errlog *log)
{
    struct pt_dmar d;
    uint8_t *buf;
    size_t len;
    char *file, err[192];
    int rc = pt_dmar_read_sysfs(sysfs_root, &buf, &len, &file);

    if ( rc == -ENOENT )
        return 0;
    if ( rc )
    {
        pt_log(log, PT_SEV_WARN, "simulator: %s/firmware/acpi/tables/DMAR: %s: IOMMU scopes unknown",
               sysfs_root, strerror(-rc));
        return 0;
    }
    rc = pt_dmar_parse(buf, len, &d, err, sizeof(err));
    free(buf);
    if ( rc == -EINVAL )
        pt_log(log, PT_SEV_WARN, "simulator: %s: malformed DMAR table: %s: IOMMU scopes unknown",
               file, err);
    free(file);
    if ( rc )
        return rc == -EINVAL ? 0 : rc;
    pt_dmar_resolve(&d, pt_dmar_range_xen, &sim->state, range_sysfs, (void *)sysfs_root);
    sim->dmar_scopes_follow_bridges = pt_iommu_scopes_follow(sim->hv);
    rc = pt_sim_set_dmar(sim, &d);
    pt_dmar_free(&d);
    return rc;
}
