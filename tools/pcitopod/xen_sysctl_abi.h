/*
 * xen_sysctl_abi.h - the public ABI of XEN_SYSCTL_pci_topology, copied from
 * xen/include/public/sysctl.h as patched by
 * patches/xen-4.17/0003-sysctl-add-XEN_SYSCTL_pci_topology-*.patch, so that
 * the daemon builds against stock libxen-dev headers.  Keep it identical to
 * the patch (the layout checks below catch size drift).
 *
 * Include after <xenctrl.h> (which defines __XEN_TOOLS__ and pulls in
 * xen/sysctl.h).  When the installed headers already carry the command
 * (tools built from the patched source), theirs are used.
 */
#ifndef PCITOPOD_XEN_SYSCTL_ABI_H
#define PCITOPOD_XEN_SYSCTL_ABI_H

#include <xen/sysctl.h>

#ifndef XEN_SYSCTL_pci_topology

/* Far from upstream's sequence: an out-of-tree addition. */
#define XEN_SYSCTL_pci_topology                0x40

/*
 * XEN_SYSCTL_pci_topology
 *
 * Reads the hypervisor's PCI device registry of one segment: every device
 * Xen knows (from its boot scan and from PHYSDEVOP_pci_device_add), with the
 * class Xen assigned to it, the bus range recorded for a bridge, its owner
 * and VF/extended-function information, plus the segment's bus2bridge
 * table (the upstream PCIe-to-PCI/legacy bridge of each bus, as used by
 * the IOMMU code to find requester IDs).
 *
 * Devices are reported in ascending (bus, devfn) order, starting at
 * 'cursor'.  A call reports at most 'max_devs' devices and may stop
 * earlier when preemption is needed (at least one device is reported per
 * call while any remain); it then returns 0 with 'num_devs' set and
 * 'cursor' set to the (bus << 8 | devfn) to pass in the next call, or to
 * XEN_SYSCTL_PCI_TOPOLOGY_DONE when no devices remain.  Start with cursor
 * 0 and call until DONE.  Each call holds the PCI devices lock while it
 * reads, so a call is self-consistent; the registry may change between
 * calls.
 *
 * An unknown segment is not an error: it reports 0 devices, DONE, an
 * all-unmapped bus2bridge table and no XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN.
 *
 * Errors: -EINVAL for a cursor above 0xffff (other than DONE) or for a
 * NULL 'devs' handle with a non-zero 'max_devs'; -EFAULT on a bad buffer
 * (the OUT fields are then not written back).  A cursor of DONE reports
 * no devices, only the flags and bus2bridge.
 *
 * Access: the control domain (dummy XSM); flask: xen2:pci_topology.
 */
#define XEN_SYSCTL_PCI_TOPOLOGY_DONE      0xffffffffU

/* Device record (fixed layout, 24 bytes). */
struct xen_sysctl_pci_topology_dev {
    uint32_t sbdf;          /* segment << 16 | bus << 8 | devfn */
    /*
     * Xen's device class (enum pdev_type, computed once when Xen first
     * sees the device, never refreshed).
     */
#define XEN_PCI_TOPO_TYPE_UNKNOWN         0 /* nothing answered / unknown */
#define XEN_PCI_TOPO_TYPE_PCIe_ENDPOINT   1
#define XEN_PCI_TOPO_TYPE_PCIe_BRIDGE     2 /* PCIe root or switch port */
#define XEN_PCI_TOPO_TYPE_PCIe2PCI_BRIDGE 3
#define XEN_PCI_TOPO_TYPE_PCI2PCIe_BRIDGE 4
#define XEN_PCI_TOPO_TYPE_LEGACY_BRIDGE   5 /* PCI-to-PCI without PCIe cap */
#define XEN_PCI_TOPO_TYPE_HOST_BRIDGE     6
#define XEN_PCI_TOPO_TYPE_PCI             7 /* conventional PCI device */
    uint8_t type;
    uint8_t phantom_stride; /* 0: no phantom functions */
    uint16_t flags;
#define _XEN_PCI_TOPO_F_VIRTFN      0
#define XEN_PCI_TOPO_F_VIRTFN       (1U << _XEN_PCI_TOPO_F_VIRTFN)
    /* Extended function; on a VF: its PF is one (as Xen records it). */
#define _XEN_PCI_TOPO_F_EXTFN       1
#define XEN_PCI_TOPO_F_EXTFN        (1U << _XEN_PCI_TOPO_F_EXTFN)
    /* physfn_bus/physfn_devfn are valid (as reported with the VF's add). */
#define _XEN_PCI_TOPO_F_PHYSFN      2
#define XEN_PCI_TOPO_F_PHYSFN       (1U << _XEN_PCI_TOPO_F_PHYSFN)
#define _XEN_PCI_TOPO_F_QUARANTINE  3
#define XEN_PCI_TOPO_F_QUARANTINE   (1U << _XEN_PCI_TOPO_F_QUARANTINE)
#define _XEN_PCI_TOPO_F_BROKEN      4
#define XEN_PCI_TOPO_F_BROKEN       (1U << _XEN_PCI_TOPO_F_BROKEN)
    /*
     * Secondary/subordinate bus of a PCI-to-PCI bridge (types PCIe_BRIDGE,
     * PCIe2PCI_BRIDGE, PCI2PCIe_BRIDGE, LEGACY_BRIDGE) as read from the
     * bridge when Xen first saw it; XEN_PCI_TOPO_NO_BUS for other devices.
     */
#define XEN_PCI_TOPO_NO_BUS         0xffff
    uint16_t sec_bus;
    uint16_t sub_bus;
    /*
     * Owning domain: a domid, DOMID_IO (quarantined), DOMID_XEN (hidden by
     * Xen), or XEN_PCI_TOPO_OWNER_NONE (no owner: the device's IOMMU set-up
     * failed when it was added).
     */
#define XEN_PCI_TOPO_OWNER_NONE     DOMID_INVALID
    uint16_t owner;
    uint8_t physfn_bus;
    uint8_t physfn_devfn;
    uint32_t node;          /* NUMA node, XEN_INVALID_NODE_ID if unknown */
    uint32_t pad;           /* zero */
};
typedef struct xen_sysctl_pci_topology_dev xen_sysctl_pci_topology_dev_t;
DEFINE_XEN_GUEST_HANDLE(xen_sysctl_pci_topology_dev_t);

/* bus2bridge entry (4 bytes); the array has 256 entries, indexed by bus. */
struct xen_sysctl_pci_topology_b2b {
    uint8_t map;            /* 1: the bus has a recorded upstream bridge */
    uint8_t bus;            /* the bridge's bus ... */
    uint8_t devfn;          /* ... and devfn (valid when map) */
    uint8_t pad;
};
typedef struct xen_sysctl_pci_topology_b2b xen_sysctl_pci_topology_b2b_t;
DEFINE_XEN_GUEST_HANDLE(xen_sysctl_pci_topology_b2b_t);

struct xen_sysctl_pci_topology {
    uint16_t segment;       /* IN */
#define _XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN 0
#define XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN \
    (1U << _XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN)
    uint16_t flags;         /* OUT: XEN_SYSCTL_PCI_TOPOLOGY_* */
    uint32_t cursor;        /* IN: first bus << 8 | devfn; OUT: next or DONE */
    uint32_t max_devs;      /* IN: number of elements of 'devs' */
    uint32_t num_devs;      /* OUT: number of elements written */
    XEN_GUEST_HANDLE_64(xen_sysctl_pci_topology_dev_t) devs;  /* OUT */
    /*
     * OUT: 256 entries, written on every call (the table as it is during
     * the call); a NULL handle skips it.
     */
    XEN_GUEST_HANDLE_64(xen_sysctl_pci_topology_b2b_t) bus2bridge;
};

#endif /* XEN_SYSCTL_pci_topology */

_Static_assert(sizeof(struct xen_sysctl_pci_topology_dev) == 24,
               "XEN_SYSCTL_pci_topology device record is 24 bytes");
_Static_assert(sizeof(struct xen_sysctl_pci_topology_b2b) == 4,
               "XEN_SYSCTL_pci_topology bus2bridge entry is 4 bytes");
_Static_assert(sizeof(struct xen_sysctl_pci_topology) == 32,
               "struct xen_sysctl_pci_topology is 32 bytes");
_Static_assert(sizeof(struct xen_sysctl_pci_topology) <= 128,
               "struct xen_sysctl_pci_topology fits xen_sysctl's union");

#endif /* PCITOPOD_XEN_SYSCTL_ABI_H */
