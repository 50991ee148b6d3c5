/*
 * pt_xen_sysctl.h - reading Xen's PCI registry into a pcitopod-xen-view/1
 * model (struct pt_xview) through an xc_interface: the new
 * XEN_SYSCTL_pci_topology (patched hypervisor), or stock 4.17's
 * XEN_SYSCTL_pcitopoinfo (presence only).  Shared by libxl's check
 * (libxl_pci_topo.c) and buildable by the daemon's Xen backend, so that the
 * two read the registry the same way.  Transport only: every decision is in
 * libpcitopo.
 *
 * Include after <xenctrl.h>.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PT_XEN_SYSCTL_H
#define PT_XEN_SYSCTL_H

#include <stdbool.h>

#include "pcitopo.h"

/*
 * Reads segment 0 and every segment dom0 has devices on through
 * XEN_SYSCTL_pci_topology (re-reading when the registry changes while
 * paging).  out is taken as empty.  -ENOSYS, without a message, when the
 * hypervisor lacks the sysctl; other -errno with a message.
 */
int pt_xen_read_view_sysctl(xc_interface *xch, const struct pt_topo *dom0,
                            struct pt_xview *out, struct pt_errlog *log);

/* Asks the sysctl for nothing but its flags: 0 when the hypervisor has it, else -errno. */
int pt_xen_sysctl_probe(xc_interface *xch);
/* True for the errno of a hypervisor without XEN_SYSCTL_pci_topology (incl. flask's EPERM). */
bool pt_xen_sysctl_unknown(int e);

/*
 * Stock 4.17: which of dom0's devices Xen knows (XEN_SYSCTL_pcitopoinfo).
 * The view has source "stock", classes unknown, owners dom0, and no
 * bus2bridge table; Xen's other entries (stale ones) cannot be seen.
 */
int pt_xen_read_view_pcitopoinfo(xc_interface *xch, const struct pt_topo *dom0,
                                 struct pt_xview *out, struct pt_errlog *log);

#endif /* PT_XEN_SYSCTL_H */
