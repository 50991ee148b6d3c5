/*
 * run.c - applying a plan when operations fail: what depends on what, and
 * what brings back the devices a failure left unregistered.
 *
 * The invariant (pcitopod(8), FAILURES): after apply, every device dom0
 * has that Xen had registered before is still registered, unless the
 * hypervisor refuses its re-add itself (it is then named, with the devices
 * behind it).  A stop at the first failure broke it: a plan that had
 * removed a subtree and failed one add left the adds after it unissued (a
 * host lost a bridge, an endpoint and the NVMe dom0 ran from).  So a
 * failure stops only what depends on it:
 *  - a remove that did not happen keeps every bridge above the device
 *    (Xen's recorded range or dom0's hierarchy) and its PF registered: their
 *    removes are skipped, and so is the device's own re-add (it is still
 *    there);
 *  - an add that did not happen skips the adds behind the device in dom0's
 *    hierarchy (and its VFs) when the device is not registered now: a
 *    device is never added before its bridge;
 *  - a quarantine follows its device's add.
 * Everything else is issued.  Then pt_plan_restore() lists what Xen had,
 * dom0 has and Xen lacks now, shallowest first, to add back.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

/* Is y behind x in dom0's hierarchy (a bridge above it, or x its PF, or the PF's bridge)? */
static bool dom0_behind(const struct pt_topo *dom0, pt_sbdf_t y, pt_sbdf_t x)
{
    const struct pt_dev *d = pt_topo_find(dom0, y);
    unsigned guard = 0;

    while ( d && guard++ < 512 )
    {
        if ( d->is_virtfn )
        {
            if ( d->physfn == x )
                return true;
            d = pt_topo_find(dom0, d->physfn);
            continue;
        }
        if ( d->parent == PT_NO_PARENT )
            return false;
        d = &dom0->devs[d->parent];
        if ( d->sbdf == x )
            return true;
    }
    return false;
}

/*
 * Is y behind x in Xen's record: x is y's PF, or x's recorded range holds
 * y's bus (clipped to the buses above x's own, as the planner does: a
 * bridge recorded over its own bus still has the buses above it behind it).
 */
static bool xen_behind(const struct pt_xview *v, pt_sbdf_t y, pt_sbdf_t x)
{
    const struct pt_xdev *xd = pt_xview_find(v, x), *yd = pt_xview_find(v, y);
    int lo;

    if ( yd && yd->virtfn && yd->has_physfn && yd->physfn == x )
        return true;
    if ( !xd || !pt_type_is_bridge(xd->type) || xd->sec_bus == PT_NO_RANGE ||
         xd->sub_bus == PT_NO_RANGE || PT_SEG(x) != PT_SEG(y) || x == y )
        return false;
    lo = xd->sec_bus > PT_BUS(x) ? xd->sec_bus : PT_BUS(x) + 1;
    return PT_BUS(y) >= lo && PT_BUS(y) <= xd->sub_bus;
}

/* Is x registered with Xen after ops [0, j) as far as their outcomes tell? */
static bool registered_at(const struct pt_plan *plan, const struct pt_xview *before,
                          const struct pt_op_outcome *out, size_t j, pt_sbdf_t x)
{
    bool reg = pt_xview_find(before, x) != NULL;

    for ( size_t i = 0; i < j; i++ )
    {
        if ( plan->ops[i].sbdf != x )
            continue;
        if ( plan->ops[i].op == PT_OP_REMOVE && out[i].state == PT_OPST_DONE )
            reg = false;
        else if ( plan->ops[i].op == PT_OP_ADD && out[i].state == PT_OPST_DONE )
            reg = true;
        else if ( plan->ops[i].op == PT_OP_ADD && out[i].state == PT_OPST_FAILED )
            reg = false;    /* whatever Xen kept of it is not a bridge to build on */
    }
    return reg;
}

ssize_t pt_op_dependency(const struct pt_plan *plan, const struct pt_topo *dom0,
                         const struct pt_xview *before, const struct pt_op_outcome *out,
                         size_t j)
{
    const struct pt_op *oj = &plan->ops[j];

    for ( size_t i = 0; i < j; i++ )
    {
        const struct pt_op *oi = &plan->ops[i];

        if ( out[i].state != PT_OPST_FAILED && out[i].state != PT_OPST_SKIPPED )
            continue;
        switch ( oj->op )
        {
        case PT_OP_REMOVE:
            /* never remove a bridge (or PF) over something left registered */
            if ( oi->op == PT_OP_REMOVE &&
                 (xen_behind(before, oi->sbdf, oj->sbdf) || dom0_behind(dom0, oi->sbdf, oj->sbdf)) )
                return (ssize_t)i;
            break;
        case PT_OP_ADD:
            /* still registered: its re-add would only refresh the stale entry */
            if ( oi->op == PT_OP_REMOVE && oi->sbdf == oj->sbdf )
                return (ssize_t)i;
            /* never add a device before its bridge (or a VF before its PF) */
            if ( oi->op == PT_OP_ADD && dom0_behind(dom0, oj->sbdf, oi->sbdf) &&
                 !registered_at(plan, before, out, j, oi->sbdf) )
                return (ssize_t)i;
            break;
        case PT_OP_QUARANTINE:
            if ( oi->sbdf == oj->sbdf )
                return (ssize_t)i;
            break;
        }
    }
    return -1;
}

static const char *verb(enum pt_op_kind k)
{
    return k == PT_OP_REMOVE ? "remove" : k == PT_OP_ADD ? "add" : "quarantine";
}

int pt_run_plan(const struct pt_plan *plan, const struct pt_topo *dom0,
                const struct pt_xview *before, pt_op_exec_fn exec, void *ctx,
                size_t stop_after, struct pt_run *run, struct pt_errlog *log)
{
    int first = 0;

    memset(run, 0, sizeof(*run));
    run->first_failed = (size_t)-1;
    run->out = calloc(plan->n + 1, sizeof(*run->out));
    if ( !run->out )
        return -ENOMEM;
    run->n = plan->n;
    for ( size_t j = 0; j < plan->n && j < stop_after; j++ )
    {
        const struct pt_op *op = &plan->ops[j];
        ssize_t dep = pt_op_dependency(plan, dom0, before, run->out, j);
        char a[PT_SBDF_STRLEN], b[PT_SBDF_STRLEN];
        int rc;

        if ( dep >= 0 )
        {
            run->out[j].state = PT_OPST_SKIPPED;
            run->out[j].cause = (size_t)dep;
            run->skipped++;
            pt_log(log, PT_SEV_WARN, "operation %zu of %zu (%s %s) not issued: it depends on operation %zu (%s %s), which %s",
                   j + 1, plan->n, verb(op->op), pt_sbdf_fmt(op->sbdf, a), (size_t)dep + 1,
                   verb(plan->ops[dep].op), pt_sbdf_fmt(plan->ops[dep].sbdf, b),
                   run->out[dep].state == PT_OPST_FAILED ? "failed" : "was not issued either");
            continue;
        }
        rc = exec(ctx, op, log);
        if ( rc )
        {
            run->out[j].state = PT_OPST_FAILED;
            run->out[j].err = rc;
            run->failed++;
            if ( !first )
            {
                first = rc;
                run->first_failed = j;
            }
            pt_log(log, PT_SEV_ERROR, "operation %zu of %zu (%s %s) failed: %s; the operations that do not depend on it go on",
                   j + 1, plan->n, verb(op->op), pt_sbdf_fmt(op->sbdf, a), strerror(-rc));
        }
        else
        {
            run->out[j].state = PT_OPST_DONE;
            run->done++;
        }
    }
    return first;
}

void pt_run_free(struct pt_run *run)
{
    free(run->out);
    memset(run, 0, sizeof(*run));
}

/* Restore order: shallowest first in dom0's hierarchy, a VF after its PF, then by SBDF. */
static int cmp_restore(const void *a, const void *b, void *arg)
{
    const struct pt_topo *t = arg;
    const struct pt_dev *x = &t->devs[*(const size_t *)a], *y = &t->devs[*(const size_t *)b];

    if ( x->depth != y->depth )
        return x->depth < y->depth ? -1 : 1;
    if ( x->is_virtfn != y->is_virtfn )
        return x->is_virtfn ? 1 : -1;
    return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

/* Is this entry one the invariant covers: registered before and dom0 has it now, Xen not? */
static bool is_stranded(const struct pt_topo *dom0, const struct pt_xview *now, pt_sbdf_t sbdf)
{
    return pt_topo_find(dom0, sbdf) && !pt_xview_find(now, sbdf);
}

int pt_plan_restore(const struct pt_topo *dom0, const struct pt_xview *before,
                    const struct pt_xview *now, struct pt_plan *out)
{
    size_t *idx = malloc((dom0->n + 1) * sizeof(*idx)), n = 0, nq = 0;
    bool *want = calloc(dom0->n + 1, sizeof(*want));
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if ( !idx || !want )
    {
        free(idx);
        free(want);
        return -ENOMEM;
    }
    /*
     * Every stranded device, and every bridge or PF above it that Xen lacks
     * now (one whose add failed, maybe new at this SBDF): a device is never
     * added before its bridge, so those come back first.
     */
    for ( size_t j = 0; j < dom0->n; j++ )
    {
        const struct pt_dev *d = &dom0->devs[j];
        unsigned guard = 0;

        if ( !pt_xview_find(before, d->sbdf) || !is_stranded(dom0, now, d->sbdf) )
            continue;
        want[j] = true;
        while ( guard++ < 512 )
        {
            const struct pt_dev *up = d->is_virtfn ? pt_topo_find(dom0, d->physfn)
                                    : d->parent != PT_NO_PARENT ? &dom0->devs[d->parent] : NULL;

            if ( !up )
                break;
            if ( !pt_xview_find(now, up->sbdf) )
                want[up - dom0->devs] = true;
            d = up;
        }
    }
    for ( size_t j = 0; j < dom0->n; j++ )
        if ( want[j] )
            idx[n++] = j;
    free(want);
    if ( n > 1 )
        qsort_r(idx, n, sizeof(*idx), cmp_restore, (void *)dom0);
    for ( size_t k = 0; k < n; k++ )
    {
        const struct pt_xdev *x = pt_xview_find(before, dom0->devs[idx[k]].sbdf);

        nq += x && x->owner == PT_DOMID_IO;
    }
    out->cap = n + nq + 1;
    out->ops = calloc(out->cap, sizeof(*out->ops));
    if ( !out->ops )
        rc = -ENOMEM;
    for ( size_t k = 0; k < n && !rc; k++ )
    {
        const struct pt_dev *d = &dom0->devs[idx[k]];

        out->ops[out->n++] = (struct pt_op){
            .op = PT_OP_ADD, .sbdf = d->sbdf, .reason = PT_FIND_MISSING,
            .why = pt_xview_find(before, d->sbdf) ? "re-added: registered before this apply, left out by a failure"
                   : "added: a bridge above a device a failure left out",
            .virtfn = d->is_virtfn, .physfn = d->is_virtfn ? d->physfn : 0,
            .extfn = !d->is_virtfn && d->is_extfn, .pxm = -1 };
    }
    /* Quarantined before, quarantined after. */
    for ( size_t k = 0; k < n && !rc; k++ )
    {
        const struct pt_xdev *x = pt_xview_find(before, dom0->devs[idx[k]].sbdf);

        if ( x && x->owner == PT_DOMID_IO )
            out->ops[out->n++] = (struct pt_op){
                .op = PT_OP_QUARANTINE, .sbdf = x->sbdf, .reason = PT_FIND_MISSING,
                .why = "quarantined again after its re-add", .pxm = -1 };
    }
    free(idx);
    if ( rc )
        pt_plan_free(out);
    return rc;
}

size_t pt_stranded(const struct pt_topo *dom0, const struct pt_xview *before,
                   const struct pt_xview *now, struct pt_errlog *log)
{
    size_t n = 0;
    char sb[PT_SBDF_STRLEN];

    for ( size_t s = 0; s < before->nsegs; s++ )
        for ( size_t i = 0; i < before->segs[s].n; i++ )
        {
            const struct pt_xdev *x = &before->segs[s].devs[i];
            const struct pt_dev *d = pt_topo_find(dom0, x->sbdf);

            if ( !is_stranded(dom0, now, x->sbdf) )
                continue;
            n++;
            pt_log(log, PT_SEV_ERROR,
                   "%s%s%s%s was registered with Xen before this apply and is not now: the hypervisor refused "
                   "its re-add (or that of a bridge above it); dom0 still has it, so its DMA has no "
                   "IOMMU context until it is added back (pcitopod apply again, or re-plug it)",
                   pt_sbdf_fmt(x->sbdf, sb), d && d->path ? " (" : "", d && d->path ? d->path : "",
                   d && d->path ? ")" : "");
        }
    return n;
}
