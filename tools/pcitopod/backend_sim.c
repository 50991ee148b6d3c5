/*
 * backend_sim.c - the simulator as a backend: the registry's state lives in
 * a pcitopod-xen-view/1 file; config space is read from the sysfs tree at
 * the moment of each hypercall, as the real hypervisor reads hardware.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "iommu_scope.h"

struct sim_backend {
    struct pt_backend b;
    struct pt_sim sim;
    char *file;
    char *sysfs_root;
    bool stock_reads;           /* seeded from a stock hypervisor's view: read like one */
};

static struct sim_backend *sb_of(struct pt_backend *b)
{
    return (struct sim_backend *)b;
}

/*
 * What the stock backend would read of the simulated registry: Xen 4.17
 * without XEN_SYSCTL_pci_topology shows each entry's SBDF and owner ('Q'
 * dump), nothing of its class, range, flags or of bus2bridge
 * (backend_xen.c, read_view_stock_once()).  So the planner works from the
 * same facts on the simulator as on the hypervisor it stands in for.
 */
static int stock_view(const struct pt_xview *state, struct pt_xview *out)
{
    int rc = pt_xview_copy(state, out);

    if ( rc )
        return rc;
    out->source = PT_SOURCE_STOCK;
    out->hv = PT_HV_STOCK;
    for ( size_t s = 0; s < out->nsegs; s++ )
    {
        struct pt_xseg *xs = &out->segs[s];

        xs->b2b_known = false;
        memset(xs->b2b, 0, sizeof(xs->b2b));
        for ( size_t i = 0; i < xs->n; i++ )
        {
            struct pt_xdev *x = &xs->devs[i];
            struct pt_xdev q = { .sbdf = x->sbdf, .type = PT_TYPE_UNKNOWN,
                                 .sec_bus = PT_NO_RANGE, .sub_bus = PT_NO_RANGE,
                                 .owner = x->owner };

            *x = q;
        }
    }
    return 0;
}

static int sim_read_view(struct pt_backend *b, const struct pt_topo *dom0,
                         struct pt_xview *out, struct pt_errlog *log)
{
    /* As the hypervisor's backend says each 'Q' dump (a test counts them). */
    if ( sb_of(b)->sim.state.hv == PT_HV_STOCK )
        pt_log(log, PT_SEV_DEBUG, "stock Xen (simulated): debug key 'Q' sent: every PCI device "
               "dumped on Xen's console");
    if ( sb_of(b)->stock_reads )
        return stock_view(&sb_of(b)->sim.state, out);
    return pt_xview_copy(&sb_of(b)->sim.state, out);
}

static int sim_failed(int rc, const char *op, pt_sbdf_t sbdf, struct pt_errlog *log)
{
    char s[PT_SBDF_STRLEN];

    if ( rc )
        pt_log(log, PT_SEV_ERROR, "%s %s: %s (simulated hypervisor)", op, pt_sbdf_fmt(sbdf, s),
               strerror(-rc));
    return rc;
}

static int sim_add(struct pt_backend *b, const struct pt_op *op, struct pt_errlog *log)
{
    struct pt_add_info info = { .extfn = op->extfn, .virtfn = op->virtfn,
                                .physfn = op->physfn, .pxm = op->pxm };

    return sim_failed(pt_sim_add(&sb_of(b)->sim, op->sbdf, &info), "PHYSDEVOP_pci_device_add",
                      op->sbdf, log);
}

static int sim_remove(struct pt_backend *b, pt_sbdf_t sbdf, struct pt_errlog *log)
{
    int rc = pt_sim_remove(&sb_of(b)->sim, sbdf);

    if ( sb_of(b)->sim.crashed )
        pt_log(log, PT_SEV_ERROR,
               "the simulated stock hypervisor crashed: removing an owner-less entry panics Xen 4.17 in vpci_remove_device()");
    return sim_failed(rc, "PHYSDEVOP_pci_device_remove", sbdf, log);
}

static int sim_quarantine(struct pt_backend *b, pt_sbdf_t sbdf, struct pt_errlog *log)
{
    return sim_failed(pt_sim_assign(&sb_of(b)->sim, sbdf, PT_DOMID_IO),
                      "XEN_DOMCTL_assign_device to DomIO", sbdf, log);
}

static int sim_commit(struct pt_backend *b, struct pt_errlog *log)
{
    struct sim_backend *s = sb_of(b);

    if ( s->sim.crashed )
    {
        pt_log(log, PT_SEV_ERROR, "%s: not saved: the simulated hypervisor crashed", s->file);
        return -EFAULT;
    }
    return pt_xview_save(&s->sim.state, s->file, log);
}

static void sim_close(struct pt_backend *b)
{
    struct sim_backend *s = sb_of(b);

    pt_sim_free(&s->sim);
    free(s->file);
    free(s->sysfs_root);
    free(s);
}

static const struct pt_backend_ops sim_ops = {
    .name = "simulator",
    .read_view = sim_read_view,
    .add = sim_add,
    .remove = sim_remove,
    .quarantine = sim_quarantine,
    .commit = sim_commit,
    .close = sim_close,
};

int pt_backend_sim_open(const char *file, const char *sysfs_root,
                        struct pt_backend **out, struct pt_errlog *log)
{
    struct sim_backend *s = calloc(1, sizeof(*s));
    struct pt_xview view = { 0 };
    struct pt_hw hw;
    int rc;

    *out = NULL;
    if ( !s || !(s->file = strdup(file)) || !(s->sysfs_root = strdup(sysfs_root)) )
    {
        rc = -ENOMEM;
        goto fail;
    }
    rc = pt_xview_load(file, &view, log);
    if ( rc )
        goto fail;
    hw.probe = pt_hw_sysfs_probe;
    hw.ctx = s->sysfs_root;
    /*
     * A stock hypervisor's view (what `pcitopod xen-view --json` wrote on
     * it) seeds a stock model that is read back the way the stock backend
     * reads Xen; the bridge entries it carries a range for give the DMAR's
     * bridge scopes their boot buses.  Once saved, the file is the
     * simulator's and reads in full.
     */
    s->stock_reads = view.source == PT_SOURCE_STOCK;
    rc = pt_sim_init(&s->sim, &view, -1, hw);
    pt_xview_free(&view);
    if ( !rc )
        rc = pt_sim_load_dmar(&s->sim, s->sysfs_root, log);    /* VT-d scopes (issue 12) */
    if ( rc )
    {
        pt_log(log, PT_SEV_ERROR, "%s: cannot start the simulator: %s", file, strerror(-rc));
        goto fail;
    }
    /* The state file stays a simulator's whatever it was written as. */
    s->sim.state.source = PT_SOURCE_SIM;
    s->b.ops = &sim_ops;
    *out = &s->b;
    return 0;
 fail:
    if ( s )
    {
        free(s->file);
        free(s->sysfs_root);
        free(s);
    }
    return rc;
}
