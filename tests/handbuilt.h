/*
 * handbuilt.h - topologies and Xen views written out device by device, for
 * the diff and planner tests: every field is visible in the test itself.
 */
#ifndef PT_HANDBUILT_H
#define PT_HANDBUILT_H

#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

static inline uint32_t hb_class_of(enum pt_dev_type t)
{
    switch ( t )
    {
    case PT_TYPE_HOST_BRIDGE: return 0x060000;
    case PT_TYPE_PCIE_PORT: case PT_TYPE_PCIE2PCI_BRIDGE:
    case PT_TYPE_LEGACY_BRIDGE: case PT_TYPE_PCI2PCIE_BRIDGE: return 0x060400;
    default: return 0x020000;
    }
}

/* Adds a dom0 device; sec/sub only for bridges. Returns it (valid until the next add). */
static inline struct pt_dev *hb_dev(struct pt_topo *t, pt_sbdf_t sbdf, enum pt_dev_type type,
                                    int sec, int sub)
{
    struct pt_dev d;

    memset(&d, 0, sizeof(d));
    d.sbdf = sbdf;
    d.type = type;
    d.numa_node = -1;
    d.is_bridge = pt_type_is_bridge(type);
    d.vendor = 0x8086;
    d.device = 0x1234;
    if ( d.is_bridge )
    {
        d.sec_bus = sec;
        d.sub_bus = sub;
    }
    d.cfg.len = 4096;
    d.cfg.vendor = 0x8086;
    d.cfg.device = 0x1234;
    d.cfg.class = hb_class_of(type);
    d.cfg.header_type = d.is_bridge ? 1 : 0;
    d.cfg.reg_sec = d.sec_bus;
    d.cfg.reg_sub = d.sub_bus;
    d.cfg.caps_known = true;
    d.cfg.xen_type = type;
    /* No path: pt_topo_finish() then derives parents from the bridge ranges. */
    pt_topo_add(t, &d);
    return &t->devs[t->n - 1];
}

/* Adds a dom0 VF of pf. */
static inline struct pt_dev *hb_vf(struct pt_topo *t, pt_sbdf_t sbdf, pt_sbdf_t pf)
{
    struct pt_dev *d = hb_dev(t, sbdf, PT_TYPE_PCIE_ENDPOINT, 0, 0);

    d->is_virtfn = true;
    d->physfn = pf;
    d->cfg.vendor = d->cfg.device = 0xffff;
    return d;
}

/* Adds a Xen entry owned by dom0; sec/sub PT_NO_RANGE for non-bridges. */
static inline struct pt_xdev *hb_x(struct pt_xview *v, pt_sbdf_t sbdf, enum pt_dev_type type,
                                   int sec, int sub)
{
    struct pt_xdev x;

    memset(&x, 0, sizeof(x));
    x.sbdf = sbdf;
    x.type = type;
    x.sec_bus = pt_type_is_bridge(type) ? sec : PT_NO_RANGE;
    x.sub_bus = pt_type_is_bridge(type) ? sub : PT_NO_RANGE;
    pt_xview_seg(v, PT_SEG(sbdf), true);
    return pt_xview_add(v, &x);
}

static inline void hb_b2b(struct pt_xview *v, uint16_t seg, unsigned bus, pt_sbdf_t bridge)
{
    struct pt_xseg *s = pt_xview_seg(v, seg, true);

    s->b2b[bus].map = true;
    s->b2b[bus].bus = PT_BUS(bridge);
    s->b2b[bus].devfn = PT_DEVFN(bridge);
}

/* A view whose entries and bus2bridge are exactly what dom0 would have registered. */
static inline void hb_view_from(struct pt_xview *v, const struct pt_topo *t)
{
    for ( size_t i = 0; i < t->n; i++ )
    {
        const struct pt_dev *d = &t->devs[i];
        struct pt_xdev *x = hb_x(v, d->sbdf, d->type, d->sec_bus, d->sub_bus);

        x->virtfn = d->is_virtfn;
        x->has_physfn = d->is_virtfn;
        x->physfn = d->physfn;
        x->extfn = d->is_extfn;
        x->phantom_stride = d->cfg.phantom_stride;
    }
    for ( size_t s = 0; s < v->nsegs; s++ )
        pt_expected_b2b(t, v->segs[s].seg, v->segs[s].b2b);
}

#define S0(bus, slot, fn) PT_SBDF(0, bus, PT_DEVFN_OF(slot, fn))

/*
 * The tests' small dom0: host bridge; root port 1c.0 -> 01:00.0 PCIe-to-PCI
 * (buses 2-3) -> 02:01.0 PCI NIC and nested legacy bridge 02:02.0 (bus 3)
 * -> 03:00.0; root port 1c.1 -> 04:00.0 endpoint (with a physical path).
 */
static inline void hb_base_topo(struct pt_topo *t)
{
    hb_dev(t, S0(0, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hb_dev(t, S0(0, 0x1c, 0), PT_TYPE_PCIE_PORT, 1, 3);
    hb_dev(t, S0(1, 0, 0), PT_TYPE_PCIE2PCI_BRIDGE, 2, 3);
    hb_dev(t, S0(2, 1, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);
    hb_dev(t, S0(2, 2, 0), PT_TYPE_LEGACY_BRIDGE, 3, 3);
    hb_dev(t, S0(3, 0, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);
    hb_dev(t, S0(0, 0x1c, 1), PT_TYPE_PCIE_PORT, 4, 4);
    hb_dev(t, S0(4, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0)->path = strdup("0000:00:1c.1/00.0");
}

#endif
