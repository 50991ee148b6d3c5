/*
 * pt_xen_sysctl.c - Xen's PCI registry as a struct pt_xview, through
 * XEN_SYSCTL_pci_topology (patched hypervisor) or XEN_SYSCTL_pcitopoinfo
 * (stock 4.17, presence only).  The paging loop is the one of the daemon's
 * backend (tools/pcitopod/backend_xen.c), moved here with the interface
 * handle as a parameter so that libxl and the daemon share it.
 *
 * Facts relied on: docs/xen-pci-facts.md §2.3-2.5.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <xenctrl.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"
#include "xen_sysctl_abi.h"
#include "pt_xen_sysctl.h"

#define TOPO_CHUNK   256        /* device records per sysctl call */
#define READ_RETRIES 3          /* the registry changed while paging: read again */

static enum pt_dev_type type_from_xen(uint8_t t)
{
    switch ( t )
    {
    case XEN_PCI_TOPO_TYPE_PCIe_ENDPOINT:   return PT_TYPE_PCIE_ENDPOINT;
    case XEN_PCI_TOPO_TYPE_PCIe_BRIDGE:     return PT_TYPE_PCIE_PORT;
    case XEN_PCI_TOPO_TYPE_PCIe2PCI_BRIDGE: return PT_TYPE_PCIE2PCI_BRIDGE;
    case XEN_PCI_TOPO_TYPE_PCI2PCIe_BRIDGE: return PT_TYPE_PCI2PCIE_BRIDGE;
    case XEN_PCI_TOPO_TYPE_LEGACY_BRIDGE:   return PT_TYPE_LEGACY_BRIDGE;
    case XEN_PCI_TOPO_TYPE_HOST_BRIDGE:     return PT_TYPE_HOST_BRIDGE;
    case XEN_PCI_TOPO_TYPE_PCI:             return PT_TYPE_PCI_ENDPOINT;
    default:                                return PT_TYPE_UNKNOWN;
    }
}

static void xdev_from_record(uint16_t seg, const struct xen_sysctl_pci_topology_dev *r,
                             struct pt_xdev *d)
{
    memset(d, 0, sizeof(*d));
    d->sbdf = r->sbdf;
    d->type = type_from_xen(r->type);
    d->sec_bus = r->sec_bus == XEN_PCI_TOPO_NO_BUS ? PT_NO_RANGE : r->sec_bus;
    d->sub_bus = r->sub_bus == XEN_PCI_TOPO_NO_BUS ? PT_NO_RANGE : r->sub_bus;
    /* DOMID_IO/DOMID_XEN are PT_DOMID_IO/PT_DOMID_XEN. */
    d->owner = r->owner == XEN_PCI_TOPO_OWNER_NONE ? PT_OWNER_NONE : r->owner;
    d->virtfn = r->flags & XEN_PCI_TOPO_F_VIRTFN;
    d->has_physfn = r->flags & XEN_PCI_TOPO_F_PHYSFN;
    if ( d->has_physfn )
        d->physfn = PT_SBDF(seg, r->physfn_bus, r->physfn_devfn);
    d->extfn = r->flags & XEN_PCI_TOPO_F_EXTFN;
    d->phantom_stride = r->phantom_stride;
}

/* One call; 0 or -errno of the hypercall, *op holding the OUT fields. */
static int topo_call(xc_interface *xch, struct xen_sysctl_pci_topology *op,
                     void *devs, void *b2b)
{
    struct xen_sysctl sysctl;
    struct xen_sysctl_pci_topology t = *op;

    /* Through pad: stock headers' union has no pci_topology member. */
    set_xen_guest_handle_raw(t.devs, devs);
    set_xen_guest_handle_raw(t.bus2bridge, b2b);
    memset(&sysctl, 0, sizeof(sysctl));
    sysctl.cmd = XEN_SYSCTL_pci_topology;
    memcpy(sysctl.u.pad, &t, sizeof(t));
    if ( xc_sysctl(xch, &sysctl) )
        return -(errno ? errno : EIO);
    memcpy(op, sysctl.u.pad, sizeof(*op));
    return 0;
}

/*
 * True when the errno says "this hypervisor has no such sysctl":
 * arch_do_sysctl()'s default is -ENOSYS; under flask, flask_sysctl()
 * denies a command it does not know with -EPERM (avc_unknown_permission())
 * before that.  A flask denial of the known command is -EACCES
 * (avc_has_perm()).
 */
bool pt_xen_sysctl_unknown(int e)
{
    return e == ENOSYS || e == EOPNOTSUPP || e == EINVAL || e == EPERM;
}

int pt_xen_sysctl_probe(xc_interface *xch)
{
    struct xen_sysctl_pci_topology op;

    memset(&op, 0, sizeof(op));
    return topo_call(xch, &op, NULL, NULL);
}

static int read_segment(xc_interface *xch, uint16_t seg, bool first_call, struct pt_xview *v,
                        struct pt_errlog *log)
{
    DECLARE_HYPERCALL_BUFFER(struct xen_sysctl_pci_topology_dev, devs);
    DECLARE_HYPERCALL_BUFFER(struct xen_sysctl_pci_topology_b2b, b2b);
    struct xen_sysctl_pci_topology_b2b first[256];
    struct xen_sysctl_pci_topology op;
    struct pt_xseg *xs = NULL;
    uint32_t cursor = 0, i;
    bool have_first = false;
    char s[PT_SBDF_STRLEN];
    int rc = 0;

    devs = xc_hypercall_buffer_alloc(xch, devs, TOPO_CHUNK * sizeof(*devs));
    b2b = xc_hypercall_buffer_alloc(xch, b2b, 256 * sizeof(*b2b));
    if ( !devs || !b2b )
    {
        pt_log(log, PT_SEV_ERROR,
               "XEN_SYSCTL_pci_topology segment %04x: cannot allocate hypercall buffers", seg);
        rc = -ENOMEM;
        goto out;
    }

    for ( ;; )
    {
        memset(&op, 0, sizeof(op));
        op.segment = seg;
        op.cursor = cursor;
        op.max_devs = TOPO_CHUNK;
        rc = topo_call(xch, &op, devs, b2b);
        if ( rc )
        {
            if ( first_call && cursor == 0 && pt_xen_sysctl_unknown(-rc) )
            {
                rc = -ENOSYS;   /* stock hypervisor: the caller falls back */
                goto out;
            }
            pt_log(log, PT_SEV_ERROR,
                   "XEN_SYSCTL_pci_topology segment %04x from %02x:%02x.%u failed: %s",
                   seg, (cursor >> 8) & 0xff, PT_SLOT(cursor & 0xff), PT_FUNC(cursor & 0xff),
                   strerror(-rc));
            goto out;
        }
        if ( !(op.flags & XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN) )
            break;              /* Xen never saw this segment */
        if ( !have_first )
        {
            memcpy(first, b2b, sizeof(first));
            have_first = true;
        }
        else if ( memcmp(first, b2b, sizeof(first)) )
        {
            rc = -EAGAIN;       /* a bridge came or went between two pages */
            goto out;
        }
        if ( !xs && !(xs = pt_xview_seg(v, seg, true)) )
        {
            rc = -ENOMEM;
            goto out;
        }
        xs->b2b_known = true;
        for ( i = 0; i < 256; i++ )
        {
            xs->b2b[i].map = b2b[i].map;
            xs->b2b[i].bus = b2b[i].bus;
            xs->b2b[i].devfn = b2b[i].devfn;
        }
        if ( op.num_devs > TOPO_CHUNK )
        {
            pt_log(log, PT_SEV_ERROR,
                   "XEN_SYSCTL_pci_topology segment %04x: the hypervisor wrote %u records into a buffer of %u",
                   seg, op.num_devs, TOPO_CHUNK);
            rc = -EPROTO;
            goto out;
        }
        for ( i = 0; i < op.num_devs; i++ )
        {
            struct pt_xdev d;

            if ( PT_SEG(devs[i].sbdf) != seg || (devs[i].sbdf & 0xffff) < cursor )
            {
                pt_log(log, PT_SEV_ERROR,
                       "XEN_SYSCTL_pci_topology segment %04x: record %s out of order (cursor %04x)",
                       seg, pt_sbdf_fmt(devs[i].sbdf, s), cursor);
                rc = -EPROTO;
                goto out;
            }
            xdev_from_record(seg, &devs[i], &d);
            if ( pt_xview_find(v, d.sbdf) )
            {
                rc = -EAGAIN;   /* seen twice: the registry changed while paging */
                goto out;
            }
            if ( !pt_xview_add(v, &d) )
            {
                rc = -ENOMEM;
                goto out;
            }
            xs = pt_xview_seg(v, seg, false);   /* pt_xview_add() may move segments */
        }
        if ( op.cursor == XEN_SYSCTL_PCI_TOPOLOGY_DONE )
            break;
        if ( op.cursor <= cursor || op.cursor > 0xffff )
        {
            pt_log(log, PT_SEV_ERROR,
                   "XEN_SYSCTL_pci_topology segment %04x: cursor did not advance (%04x -> %08x)",
                   seg, cursor, op.cursor);
            rc = -EPROTO;
            goto out;
        }
        cursor = op.cursor;
    }

 out:
    xc_hypercall_buffer_free(xch, devs);
    xc_hypercall_buffer_free(xch, b2b);
    return rc;
}

/*
 * Segment 0 and every segment dom0 has devices on, as many as there are
 * (up to 65536), in a malloc'ed *segs; -ENOMEM.
 */
static int segments_of(const struct pt_topo *dom0, uint16_t **segs, size_t *nsegs)
{
    uint8_t *seen = calloc(65536 / 8, 1);
    uint16_t *out = malloc(sizeof(*out) * (1 + (dom0 ? dom0->n : 0)));
    size_t n = 0, i;

    if ( !seen || !out )
    {
        free(seen);
        free(out);
        return -ENOMEM;
    }
    out[n++] = 0;
    seen[0] = 1;
    for ( i = 0; dom0 && i < dom0->n; i++ )
    {
        uint16_t sg = PT_SEG(dom0->devs[i].sbdf);

        if ( !(seen[sg / 8] & (1u << (sg % 8))) )
        {
            seen[sg / 8] |= 1u << (sg % 8);
            out[n++] = sg;
        }
    }
    free(seen);
    *segs = out;
    *nsegs = n;
    return 0;
}

int pt_xen_read_view_sysctl(xc_interface *xch, const struct pt_topo *dom0,
                            struct pt_xview *out, struct pt_errlog *log)
{
    uint16_t *segs = NULL;
    size_t nsegs = 0, i;
    struct pt_xview v;
    unsigned attempt;
    int rc = segments_of(dom0, &segs, &nsegs);

    memset(&v, 0, sizeof(v));
    if ( rc )
        return rc;
    rc = -EAGAIN;
    for ( attempt = 0; attempt < READ_RETRIES && rc == -EAGAIN; attempt++ )
    {
        pt_xview_free(&v);
        memset(&v, 0, sizeof(v));
        v.source = PT_SOURCE_SYSCTL;
        v.hv = PT_HV_PATCHED;
        rc = 0;
        for ( i = 0; i < nsegs && !rc; i++ )
            rc = read_segment(xch, segs[i], attempt == 0 && i == 0, &v, log);
    }
    if ( rc == -EAGAIN )
        pt_log(log, PT_SEV_ERROR,
               "XEN_SYSCTL_pci_topology: Xen's PCI registry kept changing during %u reads; try again when it has settled",
               READ_RETRIES);
    free(segs);
    if ( rc )
    {
        pt_xview_free(&v);
        return rc;
    }
    pt_xview_sort(&v);
    *out = v;
    return 0;
}

int pt_xen_read_view_pcitopoinfo(xc_interface *xch, const struct pt_topo *dom0,
                                 struct pt_xview *out, struct pt_errlog *log)
{
    physdev_pci_device_t *devs = NULL;
    uint32_t *nodes = NULL;
    struct pt_xview v;
    size_t i;
    int rc = 0;

    memset(&v, 0, sizeof(v));
    v.source = PT_SOURCE_STOCK;
    v.hv = PT_HV_STOCK;
    if ( dom0->n )
    {
        devs = calloc(dom0->n, sizeof(*devs));
        nodes = calloc(dom0->n, sizeof(*nodes));
        if ( !devs || !nodes )
        {
            rc = -ENOMEM;
            goto out;
        }
    }
    for ( i = 0; i < dom0->n; i++ )
    {
        devs[i].seg = PT_SEG(dom0->devs[i].sbdf);
        devs[i].bus = PT_BUS(dom0->devs[i].sbdf);
        devs[i].devfn = PT_DEVFN(dom0->devs[i].sbdf);
    }
    if ( dom0->n && xc_pcitopoinfo(xch, dom0->n, devs, nodes) )
    {
        rc = -(errno ? errno : EIO);
        pt_log(log, PT_SEV_ERROR, "XEN_SYSCTL_pcitopoinfo for %zu devices failed: %s",
               dom0->n, strerror(-rc));
        goto out;
    }
    for ( i = 0; i < dom0->n; i++ )
    {
        struct pt_xseg *xs = pt_xview_seg(&v, PT_SEG(dom0->devs[i].sbdf), true);
        struct pt_xdev d;

        if ( !xs )
        {
            rc = -ENOMEM;
            goto out;
        }
        xs->b2b_known = false;
        if ( nodes[i] == XEN_INVALID_DEV )
            continue;           /* Xen does not know it */
        memset(&d, 0, sizeof(d));
        d.sbdf = dom0->devs[i].sbdf;
        d.type = PT_TYPE_UNKNOWN;
        d.sec_bus = d.sub_bus = PT_NO_RANGE;
        d.owner = 0;            /* not visible through pcitopoinfo */
        if ( !pt_xview_add(&v, &d) )
        {
            rc = -ENOMEM;
            goto out;
        }
    }
    pt_xview_sort(&v);

 out:
    free(devs);
    free(nodes);
    if ( rc )
        pt_xview_free(&v);
    else
        *out = v;
    return rc;
}
