/*
 * fake_xc.c - the libxenctrl calls pt_xen_sysctl.c makes, without Xen:
 * hypercall buffers are plain heap memory and xc_sysctl() hands the
 * XEN_SYSCTL_pci_topology request to fake_xc_topology.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_xc.h"

int (*fake_xc_topology)(struct xen_sysctl_pci_topology *op,
                        struct xen_sysctl_pci_topology_dev *devs,
                        struct xen_sysctl_pci_topology_b2b *b2b);
unsigned long fake_xc_calls;

void *xc__hypercall_buffer_alloc(xc_interface *xch, xc_hypercall_buffer_t *b, size_t size)
{
    (void)xch;
    b->hbuf = calloc(1, size ? size : 1);
    return b->hbuf;
}

void xc__hypercall_buffer_free(xc_interface *xch, xc_hypercall_buffer_t *b)
{
    (void)xch;
    free(b->hbuf);
    b->hbuf = NULL;
}

/* XEN_SYSCTL_pcitopoinfo (stock Xen): not modelled. */
int xc_pcitopoinfo(xc_interface *xch, unsigned num_devs, physdev_pci_device_t *devs,
                   uint32_t *nodes)
{
    (void)xch;
    (void)num_devs;
    (void)devs;
    (void)nodes;
    errno = ENOSYS;
    return -1;
}

int xc_sysctl(xc_interface *xch, struct xen_sysctl *sysctl)
{
    struct xen_sysctl_pci_topology op;
    int e;

    (void)xch;
    fake_xc_calls++;
    if ( sysctl->cmd != XEN_SYSCTL_pci_topology || !fake_xc_topology )
    {
        errno = ENOSYS;
        return -1;
    }
    memcpy(&op, sysctl->u.pad, sizeof(op));
    e = fake_xc_topology(&op, (struct xen_sysctl_pci_topology_dev *)(uintptr_t)op.devs.p,
                         (struct xen_sysctl_pci_topology_b2b *)(uintptr_t)op.bus2bridge.p);
    if ( e )
    {
        errno = e;
        return -1;
    }
    memcpy(sysctl->u.pad, &op, sizeof(op));
    return 0;
}
