/*
 * test_faults.c - apply's failure semantics (run.c, pcitopod(8) FAILURES)
 * under a fault at every step of every plan of the property tests'
 * histories (history.h: the same seeds, models and policies as
 * test_property.c).
 *
 * For every history (the seed case and seeds 1..300, both models), every
 * operation k of its plan and every fault kind:
 *   fail-ENODEV, fail-EBUSY, fail-EIO  operation k fails once with that errno;
 *   refuse    operation k fails, and the hypervisor refuses every later
 *             operation on that device (the re-add included);
 *   vanish    the device of operation k (with what is behind it and its
 *             VFs) leaves dom0 just before it: the operation gets -ENODEV
 *             and the hardware no longer answers there;
 *   kill      the process dies right after operation k: nothing more is
 *             issued, and a fresh pass starts from the registry as it is
 *             (a restart);
 * the plan is run through pt_run_plan() on a simulated copy of the
 * registry, then the restore plan (pt_plan_restore()) as pcitopod apply
 * does, and these must hold:
 *   - the invariant: every device Xen had before that dom0 still has is
 *     registered, except where the hypervisor refused the re-add itself
 *     (refuse; or the simulated stock Xen refusing an add, -ENXIO, in a
 *     state the interrupted plan left) - then that device and what is
 *     behind it; and pt_stranded() names exactly those left out;
 *   - no add is issued while a bridge above the device (or its PF) is not
 *     registered;
 *   - no operation touches an entry another domain owns (a guest, DomXEN,
 *     DomIO without --requarantine; on stock, no remove of an owner-less one);
 *   - convergence: fault-free passes (at most 3) reach a plan with nothing
 *     to do, and then nothing but what the plan leaves alone is reported
 *     (patched).
 * The sweep's size and result are printed as a TAP comment ("# fault
 * sweep: ..."); PT_PROPERTY_SEEDS=N as in test_property.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "history.h"
#include "pcitopo.h"
#include "tap.h"

#define SEED_FIRST 1
#define SEED_COUNT 300
#define MAX_RETRY_PASSES 3

/* PT_FAULT_TRACE=TEXT: the plans and messages of every run whose name contains TEXT. */
static const char *trace;

enum fkind { F_ENODEV, F_EBUSY, F_EIO, F_REFUSE, F_VANISH, F_KILL, F__COUNT };

static const char *const fkind_name[F__COUNT] = {
    "fail-ENODEV", "fail-EBUSY", "fail-EIO", "refuse", "vanish", "kill",
};

struct totals {
    unsigned long histories, plans, ops, runs, violations;
    unsigned long failed, skipped, restored, refused_left, sim_refused_left, kills, retry_passes;
    unsigned long by_kind[F__COUNT];
};

/* What the hardware and the hypervisor do under a fault, and what the checks saw. */
struct ctx {
    const char *who;
    struct pt_sim *sim;
    struct fx_tree *tree;
    const struct pt_topo *dom0;     /* the topology the plan was built on */
    enum pt_hv_model hv;
    const struct pt_policy *pol;
    enum fkind kind;
    size_t k;                       /* the faulty operation (index in the plan) */
    bool armed;                     /* the main run: one-shot faults apply */
    size_t issued;
    pt_sbdf_t refused;              /* refuse: the device Xen refuses */
    bool refusing;
    pt_sbdf_t *gone;                /* vanish: what dom0 lost */
    size_t ngone;
    bool restoring;                 /* issuing the restore plan */
    pt_sbdf_t refusals[64];         /* adds the hypervisor refused while restoring */
    size_t nrefusals;
    unsigned bad;
};

static bool is_gone(const struct ctx *c, pt_sbdf_t sbdf)
{
    for ( size_t i = 0; i < c->ngone; i++ )
        if ( c->gone[i] == sbdf )
            return true;
    return false;
}

/* The hardware: the history's tree, minus what vanished. */
static int probe(void *vc, pt_sbdf_t sbdf, struct pt_cfg_info *info)
{
    struct ctx *c = vc;

    if ( is_gone(c, sbdf) )
        return -ENODEV;
    return fx_hw_probe(c->tree, sbdf, info);
}

/* Is y behind x in dom0 (a bridge above it, its PF, its PF's bridges)? */
static bool behind(const struct pt_topo *t, pt_sbdf_t y, pt_sbdf_t x)
{
    const struct pt_dev *d = pt_topo_find(t, y);

    for ( unsigned g = 0; d && g < 300; g++ )
    {
        const struct pt_dev *up = d->is_virtfn ? pt_topo_find(t, d->physfn)
                                : d->parent != PT_NO_PARENT ? &t->devs[d->parent] : NULL;

        if ( up && up->sbdf == x )
            return true;
        d = up;
    }
    return false;
}

/* vanish: sbdf, everything behind it and its VFs leave dom0. */
static void vanish(struct ctx *c, pt_sbdf_t sbdf)
{
    c->gone = realloc(c->gone, (c->dom0->n + 1) * sizeof(*c->gone));
    if ( !c->gone )
        abort();
    c->ngone = 0;
    c->gone[c->ngone++] = sbdf;
    for ( size_t i = 0; i < c->dom0->n; i++ )
        if ( behind(c->dom0, c->dom0->devs[i].sbdf, sbdf) )
            c->gone[c->ngone++] = c->dom0->devs[i].sbdf;
}

#define VIOLATION(c, ...) do { (c)->bad++; CHECKF(0, __VA_ARGS__); } while ( 0 )

/* The executor: checks each operation as it is issued, then injects the fault or calls the simulator. */
static int exec_op(void *vc, const struct pt_op *op, struct pt_errlog *log)
{
    struct ctx *c = vc;
    const struct pt_xdev *x = pt_xview_find(&c->sim->state, op->sbdf);
    size_t at = c->issued++;
    char a[PT_SBDF_STRLEN], b[PT_SBDF_STRLEN];

    pt_sbdf_fmt(op->sbdf, a);
    /* never another domain's device */
    if ( x )
    {
        int o = x->owner;
        bool ok = o == 0 || (o == PT_OWNER_NONE && (op->op == PT_OP_ADD || c->hv == PT_HV_PATCHED)) ||
                  (o == PT_DOMID_IO && c->pol->requarantine);

        if ( !ok )
            VIOLATION(c, "%s: %s %s owned by %d", c->who,
                      op->op == PT_OP_REMOVE ? "remove" : op->op == PT_OP_ADD ? "add" : "quarantine",
                      a, o);
    }
    /* never an add before its bridge (or PF) is registered */
    if ( op->op == PT_OP_ADD )
    {
        const struct pt_dev *d = pt_topo_find(c->dom0, op->sbdf);

        for ( unsigned g = 0; d && g < 300; g++ )
        {
            const struct pt_dev *up = d->is_virtfn ? pt_topo_find(c->dom0, d->physfn)
                                    : d->parent != PT_NO_PARENT ? &c->dom0->devs[d->parent] : NULL;

            if ( up && !pt_xview_find(&c->sim->state, up->sbdf) )
                VIOLATION(c, "%s: add %s while %s above it is not registered", c->who, a,
                          pt_sbdf_fmt(up->sbdf, b));
            d = up;
        }
    }
    if ( c->armed && at == c->k )
    {
        switch ( c->kind )
        {
        case F_ENODEV: return -ENODEV;
        case F_EBUSY:  return -EBUSY;
        case F_EIO:    return -EIO;
        case F_REFUSE:
            c->refusing = true;
            c->refused = op->sbdf;
            break;
        case F_VANISH:
            vanish(c, op->sbdf);
            return -ENODEV;
        default:
            break;
        }
    }
    if ( c->refusing && op->sbdf == c->refused )
        return -EIO;
    switch ( op->op )
    {
    case PT_OP_REMOVE:
        return pt_sim_remove(c->sim, op->sbdf);
    case PT_OP_ADD:
    {
        struct pt_add_info ai = { .extfn = op->extfn, .virtfn = op->virtfn,
                                  .physfn = op->physfn, .pxm = op->pxm };

        return pt_sim_add(c->sim, op->sbdf, &ai);
    }
    case PT_OP_QUARANTINE:
        return pt_sim_assign(c->sim, op->sbdf, PT_DOMID_IO);
    }
    (void)log;
    return -EINVAL;
}

/* dom0 after the fault: the topology without what vanished. */
static int topo_now(const struct ctx *c, struct pt_topo *out)
{
    memset(out, 0, sizeof(*out));
    for ( size_t i = 0; i < c->dom0->n; i++ )
    {
        struct pt_dev d = c->dom0->devs[i];
        int rc;

        if ( is_gone(c, d.sbdf) )
            continue;
        d.path = d.path ? strdup(d.path) : NULL;
        d.driver = d.driver ? strdup(d.driver) : NULL;
        rc = pt_topo_add(out, &d);
        if ( rc )
            return rc;
    }
    return pt_topo_finish(out);
}

/* One apply as pcitopod does it: the plan (up to stop_after), then the restore plan. */
static void apply_like_pcitopod(struct ctx *c, const struct pt_plan *plan, const struct pt_topo *dom0,
                                const struct pt_xview *before, size_t stop_after, bool killed,
                                struct totals *tot)
{
    struct pt_errlog log = { 0 };
    struct pt_run run, rr = { 0 };
    struct pt_plan rp = { 0 };
    struct pt_topo now = { 0 };

    pt_run_plan(plan, dom0, before, exec_op, c, stop_after, &run, &log);
    tot->failed += run.failed;
    tot->skipped += run.skipped;
    c->armed = false;
    if ( !killed && (run.failed || run.skipped) )
    {
        CHECK_EQ_INT(topo_now(c, &now), 0);
        CHECK_EQ_INT(pt_plan_restore(&now, before, &c->sim->state, &rp), 0);
        c->restoring = true;
        pt_run_plan(&rp, &now, &c->sim->state, exec_op, c, SIZE_MAX, &rr, &log);
        c->restoring = false;
        tot->restored += rr.done;
        for ( size_t i = 0; i < rp.n; i++ )
            if ( rr.out[i].state == PT_OPST_FAILED && c->nrefusals < 64 )
                c->refusals[c->nrefusals++] = rp.ops[i].sbdf;
    }
    if ( trace && strstr(c->who, trace) )
    {
        fprintf(stderr, "--- %s: plan\n", c->who);
        pt_plan_print(plan, stderr);
        fprintf(stderr, "--- restore plan\n");
        pt_plan_print(&rp, stderr);
        pt_errlog_print(&log, stderr, PT_SEV_DEBUG);
    }
    pt_run_free(&rr);
    pt_run_free(&run);
    pt_plan_free(&rp);
    pt_topo_free(&now);
    pt_errlog_free(&log);
}

/* Did the hypervisor refuse sbdf's re-add, or that of a bridge or PF above it? */
static bool refused_readd(const struct ctx *c, const struct pt_topo *now, pt_sbdf_t sbdf)
{
    if ( c->refusing && (sbdf == c->refused || behind(now, sbdf, c->refused)) )
        return true;
    for ( size_t i = 0; i < c->nrefusals; i++ )
        if ( sbdf == c->refusals[i] || behind(now, sbdf, c->refusals[i]) )
            return true;
    return false;
}

/*
 * The invariant against the registry before the first plan: a device left
 * out must be one whose re-add the hypervisor refused (or behind one), and
 * pt_stranded() must name exactly those.  Returns the devices left out.
 */
static unsigned check_invariant(struct ctx *c, const struct pt_xview *pre, const struct pt_topo *now,
                                struct totals *tot)
{
    unsigned left = 0, allowed = 0, by_sim = 0;
    struct pt_errlog log = { 0 };
    char a[PT_SBDF_STRLEN];

    for ( size_t s = 0; s < pre->nsegs; s++ )
        for ( size_t i = 0; i < pre->segs[s].n; i++ )
        {
            pt_sbdf_t sbdf = pre->segs[s].devs[i].sbdf;

            if ( !pt_topo_find(now, sbdf) || pt_xview_find(&c->sim->state, sbdf) )
                continue;
            left++;
            if ( refused_readd(c, now, sbdf) )
            {
                allowed++;
                by_sim += !(c->refusing && (sbdf == c->refused || behind(now, sbdf, c->refused)));
                continue;
            }
            VIOLATION(c, "%s: %s was registered before, dom0 has it, Xen has it no more",
                      c->who, pt_sbdf_fmt(sbdf, a));
        }
    /* what apply reports must be exactly that */
    CHECKF(pt_stranded(now, pre, &c->sim->state, &log) == left,
           "%s: pt_stranded() names %zu, %u are left out", c->who, log.n, left);
    pt_errlog_free(&log);
    tot->refused_left += allowed - by_sim;
    tot->sim_refused_left += by_sim;
    return left;
}

/* A bridge's recorded or live range holds sbdf's bus (as test_property's checker). */
static bool in_range(pt_sbdf_t self, int sec, int sub, pt_sbdf_t e)
{
    return e != self && PT_SEG(e) == PT_SEG(self) && sec != PT_NO_RANGE && sub != PT_NO_RANGE &&
           sec > PT_BUS(self) && sec <= sub && PT_BUS(e) >= sec && PT_BUS(e) <= sub;
}

/*
 * A finding the final plan accounts for: blocked, about a device it blocks,
 * a bus inside the range of a bridge it blocks, or (stock) a bus2bridge
 * entry it lists as unrepairable.
 */
static bool accounted(const struct pt_finding *f, const struct pt_plan *p,
                      const struct pt_xview *v, const struct pt_topo *t)
{
    if ( f->kind == PT_FIND_BLOCKED )
        return true;
    for ( size_t i = 0; i < p->nblocked; i++ )
    {
        const struct pt_xdev *x = pt_xview_find(v, p->blocked[i].sbdf);
        const struct pt_dev *d = pt_topo_find(t, p->blocked[i].sbdf);
        pt_sbdf_t at = PT_SBDF(PT_SEG(f->sbdf), f->bus, 0);

        if ( f->kind != PT_FIND_BUS2BRIDGE && f->kind != PT_FIND_CYCLE )
        {
            if ( p->blocked[i].sbdf == f->sbdf )
                return true;
            continue;
        }
        if ( (x && in_range(x->sbdf, x->sec_bus, x->sub_bus, at)) ||
             (d && d->is_bridge && in_range(d->sbdf, d->sec_bus, d->sub_bus, at)) )
            return true;
    }
    for ( size_t k = 0; k < p->nunrep; k++ )
        if ( (f->kind == PT_FIND_BUS2BRIDGE || f->kind == PT_FIND_CYCLE) &&
             p->unrep[k].seg == PT_SEG(f->sbdf) && p->unrep[k].bus == f->bus )
            return true;
    return false;
}

/*
 * Fault-free passes until the plan is empty (at most MAX_RETRY_PASSES);
 * then every finding left is one the plan accounts for.
 */
static void check_converges(struct ctx *c, const struct pt_topo *now, struct totals *tot)
{
    struct pt_errlog log = { 0 };
    unsigned pass;

    c->refusing = false;
    c->nrefusals = 0;
    for ( pass = 0; pass <= MAX_RETRY_PASSES; pass++ )
    {
        struct pt_plan p = { 0 };
        struct pt_xview before = { 0 };
        int rc = pt_plan_build(now, &c->sim->state, c->pol, &p, &log);

        CHECKF(rc == 0, "%s: retry plan: %d", c->who, rc);
        if ( rc || p.n == 0 )
        {
            struct pt_report r = { 0 };

            CHECK_EQ_INT(pt_diff(now, &c->sim->state, c->pol, &r), 0);
            for ( size_t i = 0; !rc && i < r.n; i++ )
                if ( !accounted(&r.f[i], &p, &c->sim->state, now) )
                    VIOLATION(c, "%s: after %u retry passes: %s %s", c->who, pass,
                              pt_finding_kind_name(r.f[i].kind), r.f[i].detail);
            pt_report_free(&r);
            pt_plan_free(&p);
            break;
        }
        tot->retry_passes++;
        CHECK_EQ_INT(pt_xview_copy(&c->sim->state, &before), 0);
        apply_like_pcitopod(c, &p, now, &before, SIZE_MAX, false, tot);
        pt_xview_free(&before);
        pt_plan_free(&p);
    }
    if ( pass > MAX_RETRY_PASSES )
        VIOLATION(c, "%s: no empty plan after %d fault-free passes", c->who, MAX_RETRY_PASSES);
    pt_errlog_free(&log);
}

/* One fault at operation k of the plan. */
static void sweep_one(struct hist *h, const struct pt_topo *dom0, const struct pt_xview *pre,
                      const struct pt_plan *plan, const struct pt_policy *pol, size_t k,
                      enum fkind kind, const char *hwho, struct totals *tot)
{
    struct pt_sim sim;
    struct ctx c = { .tree = h->tree, .dom0 = dom0, .hv = h->sim.hv, .pol = pol,
                     .kind = kind, .k = k, .armed = true };
    struct pt_hw hw = { probe, &c };
    struct pt_topo now = { 0 };
    char who[160];

    snprintf(who, sizeof(who), "%s, %s at op %zu of %zu", hwho, fkind_name[kind], k + 1, plan->n);
    c.who = who;
    c.sim = &sim;
    if ( pt_sim_init(&sim, pre, (int)h->sim.hv, hw) )
    {
        CHECKF(0, "%s: pt_sim_init", who);
        return;
    }
    if ( kind == F_KILL )
    {
        struct pt_plan again = { 0 };
        struct pt_xview mid = { 0 };
        struct pt_errlog log = { 0 };

        /* ops [0, k] issued, then the process is gone; a fresh pass on what Xen has now */
        c.armed = false;
        apply_like_pcitopod(&c, plan, dom0, pre, k + 1, true, tot);
        tot->kills++;
        CHECK_EQ_INT(pt_xview_copy(&sim.state, &mid), 0);
        CHECK_EQ_INT(pt_plan_build(dom0, &sim.state, pol, &again, &log), 0);
        apply_like_pcitopod(&c, &again, dom0, &mid, SIZE_MAX, false, tot);
        pt_plan_free(&again);
        pt_xview_free(&mid);
        pt_errlog_free(&log);
    }
    else
        apply_like_pcitopod(&c, plan, dom0, pre, SIZE_MAX, false, tot);
    CHECKF(!sim.crashed, "%s: the hypervisor crashed", who);
    CHECK_EQ_INT(topo_now(&c, &now), 0);
    check_invariant(&c, pre, &now, tot);
    check_converges(&c, &now, tot);
    tot->runs++;
    tot->by_kind[kind]++;
    tot->violations += c.bad;
    pt_topo_free(&now);
    free(c.gone);
    pt_sim_free(&sim);
}

/* Every fault at every operation of this history's plan. */
static void sweep_history(struct hist *h, const struct pt_policy *pol, const char *hwho,
                          struct totals *tot)
{
    struct pt_topo topo = { 0 };
    struct pt_plan plan = { 0 };
    struct pt_errlog log = { 0 };
    struct pt_xview pre = { 0 };

    CHECK_EQ_INT(fx_topo(h->tree, &topo), 0);
    CHECK_EQ_INT(pt_xview_copy(&h->sim.state, &pre), 0);
    CHECKF(pt_plan_build(&topo, &pre, pol, &plan, &log) == 0, "%s: plan", hwho);
    tot->histories++;
    if ( plan.n )
        tot->plans++;
    tot->ops += plan.n;
    for ( size_t k = 0; k < plan.n; k++ )
        for ( int kind = 0; kind < F__COUNT; kind++ )
            sweep_one(h, &topo, &pre, &plan, pol, k, (enum fkind)kind, hwho, tot);
    pt_plan_free(&plan);
    pt_xview_free(&pre);
    pt_topo_free(&topo);
    pt_errlog_free(&log);
}

/* The sweep must be able to fail: the old semantics (stop at the first failure) strands devices. */
static void test_stop_at_first_failure_is_caught(void)
{
    struct hist h;
    struct pt_topo topo = { 0 };
    struct pt_plan plan = { 0 };
    struct pt_errlog log = { 0 };
    unsigned caught = 0, tried = 0;

    CHECK_EQ_INT(hist_seed_case(PT_HV_PATCHED, NULL, &h), 0);
    CHECK_EQ_INT(fx_topo(h.tree, &topo), 0);
    CHECK_EQ_INT(pt_plan_build(&topo, &h.sim.state, NULL, &plan, &log), 0);
    for ( size_t k = 0; k < plan.n; k++ )
    {
        struct pt_sim sim;
        struct ctx c = { .tree = h.tree, .dom0 = &topo, .hv = PT_HV_PATCHED,
                         .pol = &(struct pt_policy){ 0 }, .kind = F_EIO, .k = k, .armed = true,
                         .who = "stop-at-first-failure" };
        struct pt_hw hw = { probe, &c };
        unsigned before = tap_failed;

        if ( plan.ops[k].op != PT_OP_ADD || pt_sim_init(&sim, &h.sim.state, -1, hw) )
            continue;
        c.sim = &sim;
        /* the old apply: ops until the first failure, nothing after it */
        for ( size_t i = 0; i < plan.n; i++ )
            if ( exec_op(&c, &plan.ops[i], &log) )
                break;
        tried++;
        for ( size_t s = 0; s < h.sim.state.nsegs; s++ )
            for ( size_t i = 0; i < h.sim.state.segs[s].n; i++ )
            {
                pt_sbdf_t x = h.sim.state.segs[s].devs[i].sbdf;

                if ( pt_topo_find(&topo, x) && !pt_xview_find(&sim.state, x) )
                {
                    caught++;
                    break;
                }
            }
        tap_failed = before;
        pt_sim_free(&sim);
    }
    CHECKF(tried > 0 && caught > 0, "stopping at the first failure stranded nothing (%u of %u)", caught, tried);
    pt_plan_free(&plan);
    pt_topo_free(&topo);
    pt_errlog_free(&log);
    hist_free(&h);
}

int main(void)
{
    const char *nseeds = getenv("PT_PROPERTY_SEEDS");
    unsigned count = nseeds && atoi(nseeds) > 0 ? (unsigned)atoi(nseeds) : SEED_COUNT;
    struct totals tot = { 0 };

    trace = getenv("PT_FAULT_TRACE");
    test_stop_at_first_failure_is_caught();
    /* the property tests' seed case, then their random histories */
    for ( int m = 0; m < 2; m++ )
    {
        enum pt_hv_model hv = m ? PT_HV_STOCK : PT_HV_PATCHED;
        struct pt_policy pol = { 0 };
        struct hist h;

        if ( hist_seed_case(hv, NULL, &h) )
        {
            CHECKF(0, "hist_seed_case");
            continue;
        }
        sweep_history(&h, &pol, hv == PT_HV_STOCK ? "seed case (stock)" : "seed case (patched)", &tot);
        hist_free(&h);
    }
    for ( unsigned seed = SEED_FIRST; seed < SEED_FIRST + count; seed++ )
        for ( int m = 0; m < 2; m++ )
        {
            enum pt_hv_model hv = m ? PT_HV_STOCK : PT_HV_PATCHED;
            struct pt_policy pol = { .requarantine = seed % 4 == 0 };
            struct hist h;
            char who[64];

            snprintf(who, sizeof(who), "seed %u (%s)", seed, hv == PT_HV_STOCK ? "stock" : "patched");
            if ( hist_run(seed, hv, NULL, &h) )
            {
                CHECKF(0, "%s: hist_run", who);
                continue;
            }
            sweep_history(&h, &pol, who, &tot);
            hist_free(&h);
        }
    CHECKF(tot.runs > 0 && tot.failed > 0 && tot.skipped > 0 && tot.restored > 0 && tot.kills > 0,
           "the sweep exercised nothing: %lu runs, %lu failed, %lu skipped, %lu restored",
           tot.runs, tot.failed, tot.skipped, tot.restored);
    printf("# fault sweep: %lu plans (of %lu histories), %lu operations in all, x %d fault kinds "
           "(fail-ENODEV, fail-EBUSY, fail-EIO, refuse, vanish, kill) = %lu faulty applies "
           "(fail-ENODEV %lu, fail-EBUSY %lu, fail-EIO %lu, refuse %lu, vanish %lu, kill %lu); "
           "%lu violations\n",
           tot.plans, tot.histories, tot.ops, F__COUNT, tot.runs, tot.by_kind[F_ENODEV],
           tot.by_kind[F_EBUSY], tot.by_kind[F_EIO], tot.by_kind[F_REFUSE], tot.by_kind[F_VANISH],
           tot.by_kind[F_KILL], tot.violations);
    printf("# fault sweep: %lu operations failed, %lu not issued (dependent), %lu re-added by the "
           "restore plan; left out, named, because the hypervisor refused their re-add or their "
           "bridge's: %lu (refuse) + %lu (the simulated stock Xen, -ENXIO, in the state an "
           "interrupted plan left); %lu restarts, %lu fault-free retry passes\n",
           tot.failed, tot.skipped, tot.restored, tot.refused_left, tot.sim_refused_left, tot.kills,
           tot.retry_passes);
    return tap_done();
}
