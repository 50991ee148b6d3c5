/*
 * fake_xc.h - a fake libxenctrl transport for the XEN_SYSCTL_pci_topology
 * reader (tools/libxl/pt_xen_sysctl.c): a program linked with fake_xc.c
 * instead of -lxenctrl answers each sysctl through fake_xc_topology.
 */
#ifndef PT_FAKE_XC_H
#define PT_FAKE_XC_H

#include <xenctrl.h>

#include "xen_sysctl_abi.h"

/*
 * Answers one XEN_SYSCTL_pci_topology call: op holds the IN fields and
 * takes the OUT ones; devs has op->max_devs records, b2b 256 entries (each
 * may be NULL).  Returns 0 or an errno value (the call fails with it).
 */
extern int (*fake_xc_topology)(struct xen_sysctl_pci_topology *op,
                               struct xen_sysctl_pci_topology_dev *devs,
                               struct xen_sysctl_pci_topology_b2b *b2b);
/* Number of sysctl calls answered so far. */
extern unsigned long fake_xc_calls;

#endif /* PT_FAKE_XC_H */
