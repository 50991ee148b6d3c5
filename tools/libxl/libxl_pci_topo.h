/*
 * libxl_pci_topo.h - libxl's PCI topology check (pcitopod, issue #6).
 * Included by libxl.h; do not include it directly.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_PCI_TOPO_H
#define LIBXL_PCI_TOPO_H

/*
 * LIBXL_HAVE_PCI_TOPOLOGY_CHECK
 *
 * If this is defined, then:
 *  - libxl_pci_topology_check() compares dom0's PCI topology with the
 *    hypervisor's PCI registry (XEN_SYSCTL_pci_topology, or the stock
 *    XEN_SYSCTL_pcitopoinfo) and fills a libxl_pci_topology_report;
 *  - libxl_device_pci_assignable_add(), libxl_device_pci_add() and domain
 *    creation refuse (ERROR_FAIL) a device whose topology Xen has wrong
 *    (missing, misrecorded, a bridge on its upstream path missing or
 *    misrecorded, its bus routed to the wrong upstream bridge, a stale
 *    entry aliasing its requester ID), or whose BDF now names another
 *    physical device than when it was made assignable (the BDF drift
 *    guard, /var/lib/pcitopod/bdf-identity.json);
 *  - libxl_pci_topology_override() lets an administrator bypass that
 *    refusal for one libxl_ctx; the environment variable
 *    LIBXL_PCI_TOPOLOGY_OVERRIDE=<reason> does the same for any caller
 *    (xl create, xl pci-attach).  Every override is logged.
 * The check holds pcitopod's lock (/run/pcitopod/lock) shared, waiting at
 * most LIBXL_PCI_TOPOLOGY_TIMEOUT seconds (default 30) for a repair in
 * progress or a pass the daemon has pending.
 */
#define LIBXL_HAVE_PCI_TOPOLOGY_CHECK 1

/* Flags of libxl_pci_topology_check(). */
#define LIBXL_PCI_TOPOLOGY_CHECK_NO_WAIT (1U << 0) /* do not wait for pcitopod's pending pass */

/*
 * Checks the devices in pcis (num_pcis of them), or the whole host when
 * num_pcis is 0.  Returns 0 when the check ran (report->verdict says the
 * outcome), or a libxl error code when it could not run.  report must be
 * initialised with libxl_pci_topology_report_init(); free it with
 * libxl_pci_topology_report_dispose().
 */
int libxl_pci_topology_check(libxl_ctx *ctx, const libxl_device_pci *pcis,
                             int num_pcis, unsigned int flags,
                             libxl_pci_topology_report *report)
                             LIBXL_EXTERNAL_CALLERS_ONLY;

/*
 * Makes this ctx's PCI assignments skip the refusal of the topology check
 * (the check still runs and its findings are logged as warnings, with
 * reason).  reason NULL turns the override off.
 */
int libxl_pci_topology_override(libxl_ctx *ctx, const char *reason)
                                LIBXL_EXTERNAL_CALLERS_ONLY;

#endif /* LIBXL_PCI_TOPO_H */
