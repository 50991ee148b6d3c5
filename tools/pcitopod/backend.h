/*
 * backend.h - the one interface through which pcitopod sees and changes
 * Xen's registry (pciutils' access-method shape): the real hypervisor
 * (backend_xen.c: the new sysctl, or stock 4.17's fallbacks) and the
 * simulator (backend_sim.c).  Backends are transport only: every decision
 * is in the core.
 */
#ifndef PCITOPOD_BACKEND_H
#define PCITOPOD_BACKEND_H

#include "pcitopo.h"

struct pt_backend;

struct pt_backend_ops {
    const char *name;
    /* Reads Xen's view now.  dom0 is what the stock fallback probes for. */
    int (*read_view)(struct pt_backend *b, const struct pt_topo *dom0,
                     struct pt_xview *out, struct pt_errlog *log);
    /* PHYSDEVOP_pci_device_add with the op's flags. */
    int (*add)(struct pt_backend *b, const struct pt_op *op, struct pt_errlog *log);
    /* PHYSDEVOP_pci_device_remove. */
    int (*remove)(struct pt_backend *b, pt_sbdf_t sbdf, struct pt_errlog *log);
    /* XEN_DOMCTL_assign_device to DOMID_IO. */
    int (*quarantine)(struct pt_backend *b, pt_sbdf_t sbdf, struct pt_errlog *log);
    /* Makes the changes durable (the simulator saves its state file); may be NULL. */
    int (*commit)(struct pt_backend *b, struct pt_errlog *log);
    void (*close)(struct pt_backend *b);
};

struct pt_backend {
    const struct pt_backend_ops *ops;
    void *priv;
    /* Test seam (--sim-fail-op, tests): operation fail_op (from 1) of this
     * backend fails with -fail_errno before reaching Xen; 0: never. */
    unsigned long fail_op;
    int fail_errno;
    unsigned long issued;       /* operations issued so far */
};

/* The simulator, loading and saving its state in file; config reads from sysfs_root. */
int pt_backend_sim_open(const char *file, const char *sysfs_root,
                        struct pt_backend **out, struct pt_errlog *log);
/*
 * Whether the real hypervisor can be used at all, without opening it: root,
 * /dev/xen/privcmd, dom0 (/proc/xen/capabilities).  0, or -errno with the
 * one message that matters (-ENOTSUP when built without Xen).
 */
int pt_backend_xen_probe(struct pt_errlog *log);
/* The real hypervisor (needs root, privcmd, dom0). -ENOTSUP when built without Xen. */
int pt_backend_xen_open(struct pt_backend **out, struct pt_errlog *log);
/* Closes and frees; NULL is fine. */
void pt_backend_close(struct pt_backend *b);

#endif
