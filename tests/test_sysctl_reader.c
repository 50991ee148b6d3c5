/*
 * test_sysctl_reader.c - the XEN_SYSCTL_pci_topology reader
 * (tools/libxl/pt_xen_sysctl.c) against a fake transport (fake_xc.c): every
 * segment dom0 has is read, however many there are, page by page.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_xc.h"
#include "pcitopo.h"
#include "pt_xen_sysctl.h"
#include "handbuilt.h"
#include "tap.h"

/* The fake registry: one endpoint 00:00.0 on each of the first reg_nsegs segments. */
static unsigned reg_nsegs;
static unsigned page_max = 256;

static int fake_registry(struct xen_sysctl_pci_topology *op,
                         struct xen_sysctl_pci_topology_dev *devs,
                         struct xen_sysctl_pci_topology_b2b *b2b)
{
    if ( b2b )
        memset(b2b, 0, 256 * sizeof(*b2b));
    op->flags = 0;
    op->num_devs = 0;
    op->cursor = XEN_SYSCTL_PCI_TOPOLOGY_DONE;
    if ( op->segment >= reg_nsegs )
        return 0;
    op->flags = XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN;
    if ( devs && op->max_devs > 0 )
    {
        memset(&devs[0], 0, sizeof(devs[0]));
        devs[0].sbdf = PT_SBDF(op->segment, 0, 0);
        devs[0].type = XEN_PCI_TOPO_TYPE_PCIe_ENDPOINT;
        devs[0].sec_bus = devs[0].sub_bus = XEN_PCI_TOPO_NO_BUS;
        op->num_devs = 1;
    }
    return 0;
}

/* Paging: 32 devices (00:00.0 .. 00:1f.0) on segment 0, pages of page_max. */
static int fake_paged(struct xen_sysctl_pci_topology *op,
                      struct xen_sysctl_pci_topology_dev *devs,
                      struct xen_sysctl_pci_topology_b2b *b2b)
{
    uint32_t cursor = op->cursor;

    if ( b2b )
        memset(b2b, 0, 256 * sizeof(*b2b));
    op->flags = XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN;
    op->num_devs = 0;
    if ( op->segment != 0 )
    {
        op->flags = 0;
        op->cursor = XEN_SYSCTL_PCI_TOPOLOGY_DONE;
        return 0;
    }
    for ( uint32_t slot = 0; slot < 32; slot++ )
    {
        uint32_t bdf = PT_DEVFN_OF(slot, 0);

        if ( bdf < cursor )
            continue;
        if ( op->num_devs == page_max || op->num_devs == op->max_devs )
        {
            op->cursor = bdf;
            return 0;
        }
        memset(&devs[op->num_devs], 0, sizeof(devs[0]));
        devs[op->num_devs].sbdf = bdf;
        devs[op->num_devs].type = XEN_PCI_TOPO_TYPE_PCIe_ENDPOINT;
        devs[op->num_devs].sec_bus = devs[op->num_devs].sub_bus = XEN_PCI_TOPO_NO_BUS;
        op->num_devs++;
    }
    op->cursor = XEN_SYSCTL_PCI_TOPOLOGY_DONE;
    return 0;
}

/* A host with 70 segments: all 70 are read (a fixed 64 left 6 "missing"). */
static void test_many_segments(void)
{
    struct pt_topo dom0 = { 0 };
    struct pt_xview v;
    struct pt_errlog log = { 0 };
    struct pt_report r = { 0 };
    struct pt_policy pol = { 0 };

    reg_nsegs = 70;
    for ( unsigned s = 0; s < reg_nsegs; s++ )
        hb_dev(&dom0, PT_SBDF(s, 0, 0), PT_TYPE_PCIE_ENDPOINT, -1, -1);
    CHECK_EQ_INT(pt_topo_finish(&dom0), 0);
    fake_xc_topology = fake_registry;
    CHECK_EQ_INT(pt_xen_read_view_sysctl(NULL, &dom0, &v, &log), 0);
    CHECK_EQ_INT(v.nsegs, 70);
    for ( unsigned s = 0; s < reg_nsegs; s++ )
        CHECKF(pt_xview_find(&v, PT_SBDF(s, 0, 0)) != NULL, "segment %04x not read", s);
    CHECK_EQ_INT(pt_diff(&dom0, &v, &pol, &r), 0);
    CHECKF(pt_report_inconsistent(&r) == 0, "%zu findings", pt_report_inconsistent(&r));
    pt_report_free(&r);
    pt_xview_free(&v);
    pt_errlog_free(&log);
    pt_topo_free(&dom0);
}

/* Pages of 5 records: all 32 devices, in order, none twice. */
static void test_paging(void)
{
    struct pt_xview v;
    struct pt_errlog log = { 0 };
    unsigned long calls = fake_xc_calls;

    page_max = 5;
    fake_xc_topology = fake_paged;
    CHECK_EQ_INT(pt_xen_read_view_sysctl(NULL, NULL, &v, &log), 0);
    CHECK_EQ_INT(v.nsegs, 1);
    CHECK_EQ_INT(v.nsegs ? v.segs[0].n : 0, 32);
    CHECK_EQ_INT(fake_xc_calls - calls, 7);
    pt_xview_free(&v);
    pt_errlog_free(&log);
}

int main(void)
{
    test_many_segments();
    test_paging();
    return tap_done();
}
