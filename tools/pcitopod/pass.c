/*
 * pass.c - one full pass: the whole of "see, decide, act, check" under the
 * lock, shared by the daemon and `pcitopod apply`.  It never reports a
 * success it did not observe: after applying it reads Xen's view again and
 * diffs, and that is the result.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pass.h"

/* The first error message logged so far, copied; NULL when none. */
static char *first_error(const struct pt_errlog *log)
{
    for ( size_t i = 0; i < log->n; i++ )
        if ( log->msgs[i].sev == PT_SEV_ERROR )
            return strdup(log->msgs[i].text);
    return NULL;
}

static void set_error(struct pt_pass *p, int err)
{
    if ( !p->err )
        p->err = err;
}

int pt_views_read(const char *sysfs_root, const char *xen_sim, struct pt_topo *topo,
                  struct pt_backend **b, struct pt_xview *view, bool *incomplete,
                  struct pt_errlog *log)
{
    int rc;

    *incomplete = false;
    /* The hypervisor first: without it (not root, a domU) that is the one message. */
    rc = xen_sim ? pt_backend_sim_open(xen_sim, sysfs_root, b, log)
                 : pt_backend_xen_open(b, log);
    if ( rc )
        return rc;
    rc = pt_scan_sysfs(sysfs_root, topo, log);
    if ( rc )
    {
        pt_log(log, PT_SEV_ERROR, "cannot scan dom0's PCI topology under %s: %s",
               sysfs_root, strerror(-rc));
        return rc;
    }
    *incomplete = log->nerrors > 0 || topo->nunreadable > 0 || topo->nrefused > 0;
    rc = (*b)->ops->read_view(*b, topo, view, log);
    if ( rc )
        pt_log(log, PT_SEV_ERROR, "cannot read Xen's PCI registry (%s): %s",
               (*b)->ops->name, strerror(-rc));
    return rc;
}

static unsigned long long fnv(unsigned long long h, const void *data, size_t len)
{
    const unsigned char *c = data;

    for ( size_t i = 0; i < len; i++ )
        h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

unsigned long long pt_topo_fingerprint(const struct pt_topo *t)
{
    unsigned long long h = 1469598103934665603ULL;

    for ( size_t i = 0; i < t->n; i++ )
    {
        const struct pt_dev *d = &t->devs[i];
        const struct {
            pt_sbdf_t sbdf, physfn;
            int type;
            uint16_t vendor, device;
            uint8_t sec, sub;
            bool bridge, virtfn, extfn, vfs;
        } k = { d->sbdf, d->is_virtfn ? d->physfn : 0, d->type, d->vendor, d->device,
                d->sec_bus, d->sub_bus, d->is_bridge, d->is_virtfn, d->is_extfn,
                d->vfs_enabled };
        /* Field by field: no padding bytes in the hash. */
        h = fnv(h, &k.sbdf, sizeof(k.sbdf));
        h = fnv(h, &k.physfn, sizeof(k.physfn));
        h = fnv(h, &k.type, sizeof(k.type));
        h = fnv(h, &k.vendor, sizeof(k.vendor));
        h = fnv(h, &k.device, sizeof(k.device));
        h = fnv(h, &k.sec, 1);
        h = fnv(h, &k.sub, 1);
        h = fnv(h, &k.bridge, 1);
        h = fnv(h, &k.virtfn, 1);
        h = fnv(h, &k.extfn, 1);
        h = fnv(h, &k.vfs, 1);
        h = fnv(h, d->path ? d->path : "", d->path ? strlen(d->path) + 1 : 1);
        h = fnv(h, d->driver ? d->driver : "", d->driver ? strlen(d->driver) + 1 : 1);
    }
    h = fnv(h, t->unreadable, t->nunreadable * sizeof(*t->unreadable));
    h = fnv(h, &t->nrefused, sizeof(t->nrefused));
    return h;
}

/* One operation through the backend, for the restore plan (no injected fault). */
static int restore_exec(void *ctx, const struct pt_op *op, struct pt_errlog *log)
{
    struct pt_backend *b = ctx;

    return op->op == PT_OP_ADD ? b->ops->add(b, op, log) : b->ops->quarantine(b, op->sbdf, log);
}

/*
 * After a failure: read Xen again and add back, once, whatever it had
 * before the plan, dom0 still has (a fresh scan: a device may have gone
 * meanwhile) and it lacks now.  topo becomes the fresh scan when it reads.
 */
static void restore(const struct pt_pass_opts *o, struct pt_backend *b, struct pt_topo *topo,
                    const struct pt_xview *before, struct pt_pass *p)
{
    struct pt_topo fresh = { 0 };
    struct pt_errlog scanlog = { 0 };
    struct pt_xview mid = { 0 };
    struct pt_plan rp = { 0 };
    struct pt_run rr = { 0 };
    int rc;

    if ( !pt_scan_sysfs(o->sysfs_root, &fresh, &scanlog) && !scanlog.nerrors && !fresh.nunreadable )
    {
        pt_topo_free(topo);
        *topo = fresh;
    }
    else
        pt_topo_free(&fresh);
    pt_errlog_free(&scanlog);
    rc = b->ops->read_view(b, topo, &mid, &p->log);
    p->xen_reads++;
    if ( !rc )
        rc = pt_plan_restore(topo, before, &mid, &rp);
    if ( rc )
        pt_log(&p->log, PT_SEV_ERROR, "cannot see what the failure left unregistered: %s", strerror(-rc));
    else if ( rp.n )
    {
        pt_log(&p->log, PT_SEV_WARN, "re-adding %zu device%s that Xen had before this apply and the failure left out",
               rp.n, rp.n == 1 ? "" : "s");
        pt_run_plan(&rp, topo, &mid, restore_exec, b, SIZE_MAX, &rr, &p->log);
        for ( size_t i = 0; i < rp.n; i++ )
            p->restored += rr.out && rr.out[i].state == PT_OPST_DONE && rp.ops[i].op == PT_OP_ADD;
    }
    pt_run_free(&rr);
    pt_plan_free(&rp);
    pt_xview_free(&mid);
}

bool pt_views_plausible(const char *sysfs_root, const struct pt_topo *topo,
                        const struct pt_xview *view, unsigned max_lost_pct, bool force,
                        const char *override, struct pt_errlog *log)
{
    struct pt_view_judgement j;

    pt_view_judge(topo, view, max_lost_pct, &j);
    if ( j.plausible )
        return true;
    if ( force )
    {
        pt_log(log, PT_SEV_WARN, "going ahead as forced, although %s (under %s)", j.why,
               sysfs_root);
        return true;
    }
    pt_log(log, PT_SEV_ERROR, "not removing anything: %s; is %s this dom0's sysfs? If the "
           "devices are really gone, %s", j.why, sysfs_root, override);
    return false;
}

int pt_pass_run(const struct pt_pass_opts *o, struct pt_pass *p)
{
    struct pt_topo topo = { 0 };
    struct pt_xview view = { 0 }, now = { 0 };
    struct pt_backend *b = NULL;
    int lock = -1, rc;
    const struct pt_report *final;

    memset(p, 0, sizeof(*p));
    /* No hypervisor to guard: say so, and leave no lock file behind. */
    if ( !o->xen_sim && (rc = pt_backend_xen_probe(&p->log)) )
    {
        set_error(p, rc);
        goto out;
    }
    if ( o->lock )
    {
        lock = pt_lock_exclusive(o->lock_file, o->lock_timeout_ms, &p->lock_busy, &p->log);
        if ( lock < 0 )
        {
            set_error(p, lock);
            goto out;
        }
    }

    rc = pt_views_read(o->sysfs_root, o->xen_sim, &topo, &b, &view, &p->scan_incomplete,
                       &p->log);
    if ( b && topo.n + topo.nunreadable )
        p->xen_reads++;         /* read, or tried after the scan */
    if ( topo.n || topo.nunreadable )
    {
        p->have_dom0 = true;
        p->dom0_fingerprint = pt_topo_fingerprint(&topo);
    }
    if ( rc )
    {
        set_error(p, rc);
        goto out;
    }
    p->have_view = true;
    p->source = view.source;
    p->hv = view.hv;
    p->implausible = !pt_views_plausible(o->sysfs_root, &topo, &view, o->max_lost_pct, o->force,
                                         o->override_hint, &p->log);

    rc = pt_diff(&topo, &view, &o->policy, &p->before);
    if ( !rc )
    {
        p->have_before = true;
        rc = pt_plan_build(&topo, &view, &o->policy, &p->plan, &p->log);
        if ( !rc )
            rc = pt_report_mark_blocked(&p->before, &p->plan);
    }
    if ( rc )
    {
        pt_log(&p->log, PT_SEV_ERROR, "cannot compare or plan: %s", strerror(-rc));
        set_error(p, rc);
        goto out;
    }
    p->have_plan = true;

    if ( !p->plan.n )
        goto judge;
    if ( p->implausible )
    {
        p->held_back = "the view guard does not believe dom0's scan (see the error), nothing is removed on it";
        goto judge;
    }
    if ( p->scan_incomplete )
    {
        p->held_back = "part of dom0's topology could not be read, a plan on it could remove devices that exist";
        pt_log(&p->log, PT_SEV_ERROR, "not applying %zu operation%s: %s", p->plan.n,
               p->plan.n == 1 ? "" : "s", p->held_back);
        goto judge;
    }
    if ( o->dry_run )
    {
        p->held_back = "dry run";
        goto judge;
    }
    if ( o->stock_report_only && view.source == PT_SOURCE_STOCK )
    {
        p->held_back = "stock_mode = report and this hypervisor has no XEN_SYSCTL_pci_topology";
        goto judge;
    }

    p->applied = true;
    b->fail_op = o->fail_op;
    b->fail_errno = o->fail_errno;
    rc = pt_apply_plan(b, &p->plan, &topo, &view, &p->run, &p->log);
    p->done = p->run.done;
    if ( rc )
        set_error(p, rc);
    if ( p->run.failed || p->run.skipped )
        restore(o, b, &topo, &view, p);
    if ( b->ops->commit )
    {
        rc = b->ops->commit(b, &p->log);
        if ( rc )
        {
            p->unsaved = true;
            set_error(p, rc);
        }
    }
    /* Never report success we did not observe: read Xen again. */
    rc = b->ops->read_view(b, &topo, &now, &p->log);
    p->xen_reads++;
    if ( !rc )
        rc = pt_check(&topo, &now, &o->policy, &p->after, &p->log);
    if ( rc )
    {
        pt_log(&p->log, PT_SEV_ERROR, "cannot read Xen's registry after applying: %s", strerror(-rc));
        set_error(p, rc);
    }
    else
    {
        p->have_after = true;
        /* The invariant (pcitopod(8), FAILURES): named when broken, never silent. */
        p->stranded = pt_stranded(&topo, &view, &now, &p->log);
        if ( p->stranded )
            set_error(p, -ENODEV);
    }

 judge:
    final = pt_pass_report(p);
    if ( p->err || p->scan_incomplete || p->implausible )
        p->result = PT_RESULT_ERROR;
    else if ( final && pt_report_inconsistent(final) )
        p->result = o->dry_run && p->held_back ? PT_RESULT_DRY_RUN : PT_RESULT_INCONSISTENT;
    else
        p->result = PT_RESULT_CONSISTENT;
    /* Linux may have raced the repair (facts §7): re-plan on a fresh view. */
    p->failed = p->result == PT_RESULT_ERROR ||
                (p->applied && p->result == PT_RESULT_INCONSISTENT);
 out:
    if ( p->err && p->result != PT_RESULT_ERROR )
    {
        p->result = PT_RESULT_ERROR;
        p->failed = true;
    }
    if ( p->result == PT_RESULT_ERROR && !p->error )
    {
        p->error = first_error(&p->log);
        if ( !p->error && p->err )
            p->error = strdup(strerror(-p->err));
        if ( !p->error && p->scan_incomplete )
            p->error = strdup("part of dom0's topology could not be read");
    }
    pt_backend_close(b);
    pt_unlock(lock);
    pt_xview_free(&now);
    pt_xview_free(&view);
    pt_topo_free(&topo);
    return p->err;
}

const struct pt_report *pt_pass_report(const struct pt_pass *p)
{
    return p->have_after ? &p->after : p->have_before ? &p->before : NULL;
}

void pt_pass_free(struct pt_pass *p)
{
    pt_report_free(&p->before);
    pt_report_free(&p->after);
    pt_plan_free(&p->plan);
    pt_run_free(&p->run);
    pt_errlog_free(&p->log);
    free(p->error);
    memset(p, 0, sizeof(*p));
}

#ifndef HAVE_SYSTEMD
int pt_cmd_run(const struct pt_options *o)
{
    (void)o;
    fprintf(stderr, "pcitopod run: this pcitopod was built without libsystemd, so the daemon is "
                    "left out; use 'pcitopod apply' (e.g. from a timer), or rebuild with libsystemd-dev\n");
    return PT_EXIT_ERROR;
}
#endif
