/*
 * view_guard.c - is dom0's scan a view anything may be removed on?
 *
 * A stale finding says "Xen has an entry dom0 does not", and the plan
 * removes it.  When the scan itself is short (an empty or wrong
 * bus/pci/devices, a sysfs that is not this dom0's), every healthy entry
 * looks stale and a repair would remove the devices dom0 is using.  The
 * guard compares the scan with the entries Xen has in dom0's ownership
 * (owner 0) before anything is applied: a scan that found no device at
 * all, or that lacks more than a given share of those entries, is not
 * plausible.  The default limit is generous because a renumbering loses
 * entries legitimately: Xen keeps the boot scan's numbers of devices that
 * dom0 moved and then unplugged or rescanned: of 600 random histories
 * (tests/test_view_guard.c), the true scan lacked more than 25% of them in
 * 102 and more than 50% in one.  pcitopod(8) says how to override it.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <string.h>

#include "pcitopo.h"

/* True when dom0's scan has the device at sbdf, readable or not. */
static bool scanned(const struct pt_topo *dom0, pt_sbdf_t sbdf)
{
    return pt_topo_find(dom0, sbdf) || pt_topo_is_unreadable(dom0, sbdf);
}

/* Judges dom0's scan against Xen's dom0-owned entries (pure). */
void pt_view_judge(const struct pt_topo *dom0, const struct pt_xview *xen, unsigned max_lost_pct,
                   struct pt_view_judgement *out)
{
    memset(out, 0, sizeof(*out));
    out->max_lost_pct = max_lost_pct;
    out->scanned = dom0->n + dom0->nunreadable;
    for ( size_t s = 0; s < xen->nsegs; s++ )
        for ( size_t i = 0; i < xen->segs[s].n; i++ )
        {
            const struct pt_xdev *x = &xen->segs[s].devs[i];

            if ( x->owner != 0 )
                continue;
            out->xen_dom0++;
            out->lost += !scanned(dom0, x->sbdf);
        }
    /* Rounded up: 25.1% shows as 26%, more than 25. */
    out->lost_pct = out->xen_dom0 ? (unsigned)((out->lost * 100 + out->xen_dom0 - 1) / out->xen_dom0)
                                  : 0;
    out->plausible = true;
    if ( !out->scanned )
    {
        out->plausible = false;
        snprintf(out->why, sizeof(out->why), "dom0's scan found no PCI device at all%s",
                 out->xen_dom0 ? "" : " (and Xen has none for dom0)");
    }
    else if ( out->lost * 100 > (size_t)max_lost_pct * out->xen_dom0 )
    {
        out->plausible = false;
        snprintf(out->why, sizeof(out->why),
                 "dom0's scan lacks %zu of the %zu devices Xen has for dom0 (%u%%, more than the "
                 "%u%% allowed)", out->lost, out->xen_dom0, out->lost_pct, max_lost_pct);
    }
}
