/*
 * test_run.c - apply's failure semantics on hand-built cases (run.c): which
 * operation depends on which, that a failure stops only those, what the
 * restore plan brings back and what pt_stranded() names.
 *
 * The dom0 of handbuilt.h: 00:1c.0 -> 01:00.0 PCIe-to-PCI (buses 2-3) ->
 * 02:01.0 PCI NIC and legacy bridge 02:02.0 (bus 3) -> 03:00.0; 00:1c.1 ->
 * 04:00.0.  The plan re-registers 01:00.0 with its subtree and 04:00.0.
 */
#include "config.h"

#include <errno.h>

#include "handbuilt.h"
#include "tap.h"

#define BR   S0(1, 0, 0)
#define NIC  S0(2, 1, 0)
#define LEG  S0(2, 2, 0)
#define DEV3 S0(3, 0, 0)
#define EP4  S0(4, 0, 0)

struct fx {
    struct pt_topo t;
    struct pt_xview v;
    struct pt_plan p;
};

static void add_op(struct pt_plan *p, enum pt_op_kind k, pt_sbdf_t sbdf)
{
    p->ops = realloc(p->ops, (p->n + 1) * sizeof(*p->ops));
    p->ops[p->n++] = (struct pt_op){ .op = k, .sbdf = sbdf, .pxm = -1 };
    p->cap = p->n;
}

/* rm 03:00.0, rm 02:02.0, rm 02:01.0, rm 01:00.0, rm 04:00.0, add 01:00.0, add 02:01.0,
 * add 02:02.0, add 03:00.0, add 04:00.0 (ops 0..9) */
static void setup(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    hb_base_topo(&f->t);
    pt_topo_finish(&f->t);
    hb_view_from(&f->v, &f->t);
    add_op(&f->p, PT_OP_REMOVE, DEV3);
    add_op(&f->p, PT_OP_REMOVE, LEG);
    add_op(&f->p, PT_OP_REMOVE, NIC);
    add_op(&f->p, PT_OP_REMOVE, BR);
    add_op(&f->p, PT_OP_REMOVE, EP4);
    add_op(&f->p, PT_OP_ADD, BR);
    add_op(&f->p, PT_OP_ADD, NIC);
    add_op(&f->p, PT_OP_ADD, LEG);
    add_op(&f->p, PT_OP_ADD, DEV3);
    add_op(&f->p, PT_OP_ADD, EP4);
}

static void teardown(struct fx *f)
{
    pt_plan_free(&f->p);
    pt_topo_free(&f->t);
    pt_xview_free(&f->v);
}

/* Every op done, except those listed with a state. */
static void outcomes(struct pt_op_outcome *out, size_t n, const enum pt_op_state *st)
{
    for ( size_t i = 0; i < n; i++ )
        out[i] = (struct pt_op_outcome){ .state = st[i] ? st[i] : PT_OPST_DONE };
}

#define P PT_OPST_PENDING
#define D PT_OPST_DONE
#define F PT_OPST_FAILED
#define K PT_OPST_SKIPPED

static void test_failed_remove(void)
{
    struct fx f;
    struct pt_op_outcome out[10];
    /* rm 03:00.0 failed */
    enum pt_op_state st[10] = { F, K, D, K, D, K, D, K, P, P };

    setup(&f);
    outcomes(out, 10, st);
    /* the bridges above it (Xen's range and dom0's hierarchy) stay */
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 1), 0);
    CHECK(pt_op_dependency(&f.p, &f.t, &f.v, out, 3) >= 0);
    /* a sibling's remove does not depend on it */
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 2), -1);
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 4), -1);
    /* the re-add of a device whose remove did not happen: skipped (still registered) */
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 5), 3);
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 8), 0);
    /* the NIC was removed, its bridge never was: it comes back */
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 6), -1);
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 9), -1);
    teardown(&f);
}

/*
 * A bridge Xen recorded over its own bus (2..3 at 02:02.0): the bus above
 * it is still behind it (a stale entry there keeps it), its own bus is not.
 */
static void test_self_range(void)
{
    struct fx f;
    struct pt_op_outcome out[10];
    enum pt_op_state st[10] = { F, P, P, P, P, P, P, P, P, P };

    setup(&f);
    pt_xview_find(&f.v, LEG)->sec_bus = 2;
    hb_x(&f.v, S0(3, 5, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);   /* Xen's only */
    hb_x(&f.v, S0(2, 5, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);
    outcomes(out, 10, st);
    f.p.ops[0].sbdf = S0(3, 5, 0);
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 1), 0);
    f.p.ops[0].sbdf = S0(2, 5, 0);
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 1), -1);
    /* but 01:00.0 (2..3) has both behind it */
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 3), 0);
    teardown(&f);
}

static void test_failed_add(void)
{
    struct fx f;
    struct pt_op_outcome out[10];
    /* every remove done, the bridge's add failed */
    enum pt_op_state st[10] = { D, D, D, D, D, F, P, P, P, P };

    setup(&f);
    outcomes(out, 10, st);
    /* never a device before its bridge, transitively */
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 6), 5);
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 7), 5);
    out[7].state = PT_OPST_SKIPPED;
    out[7].cause = 5;
    CHECK(pt_op_dependency(&f.p, &f.t, &f.v, out, 8) >= 0);
    /* elsewhere in the topology: goes on (the host of issue 12 lost these) */
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 9), -1);
    teardown(&f);
}

static void test_quarantine_follows_add(void)
{
    struct fx f;
    struct pt_op_outcome out[11];
    enum pt_op_state st[11] = { D, D, D, D, D, D, D, D, D, F, P };

    setup(&f);
    add_op(&f.p, PT_OP_QUARANTINE, EP4);
    outcomes(out, 11, st);
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 10), 9);
    out[9].state = PT_OPST_DONE;
    CHECK_EQ_INT(pt_op_dependency(&f.p, &f.t, &f.v, out, 10), -1);
    teardown(&f);
}

struct fake {
    size_t fail_at, calls;
    pt_sbdf_t issued[16];
};

static int fake_exec(void *ctx, const struct pt_op *op, struct pt_errlog *log)
{
    struct fake *x = ctx;

    x->issued[x->calls] = op->sbdf;
    return x->calls++ == x->fail_at ? -ENODEV : 0;
}

static bool was_issued(const struct fake *x, pt_sbdf_t sbdf, size_t from)
{
    for ( size_t i = from; i < x->calls; i++ )
        if ( x->issued[i] == sbdf )
            return true;
    return false;
}

/* The host of issue 12: an add fails with -ENODEV; what does not depend on it is still issued. */
static void test_run_goes_on(void)
{
    struct fx f;
    struct fake x = { .fail_at = 5 };
    struct pt_run run;
    struct pt_errlog log = { 0 };

    setup(&f);
    CHECK_EQ_INT(pt_run_plan(&f.p, &f.t, &f.v, fake_exec, &x, SIZE_MAX, &run, &log), -ENODEV);
    CHECK_EQ_INT(run.failed, 1);
    CHECK_EQ_INT(run.first_failed, 5);
    CHECK_EQ_INT(run.skipped, 3);
    CHECK_EQ_INT(run.done, 6);
    CHECK(was_issued(&x, EP4, 6));          /* after the failure, elsewhere */
    CHECK(!was_issued(&x, NIC, 6) && !was_issued(&x, DEV3, 6));
    CHECK_EQ_INT(run.out[8].state, PT_OPST_SKIPPED);
    CHECK_EQ_INT(log.nerrors, 1);
    CHECK(log.n >= 4 && strstr(log.msgs[log.n - 1].text, "not issued: it depends on operation"));
    pt_run_free(&run);

    /* stop_after: a killed process issues nothing more */
    x = (struct fake){ .fail_at = 99 };
    CHECK_EQ_INT(pt_run_plan(&f.p, &f.t, &f.v, fake_exec, &x, 3, &run, &log), 0);
    CHECK_EQ_INT(x.calls, 3);
    CHECK_EQ_INT(run.out[3].state, PT_OPST_PENDING);
    pt_run_free(&run);
    pt_errlog_free(&log);
    teardown(&f);
}

static void test_restore(void)
{
    struct fx f;
    struct pt_xview now = { 0 };
    struct pt_plan r = { 0 };
    struct pt_errlog log = { 0 };

    setup(&f);
    /* after a failed bridge add: 01:00.0 and everything behind it are gone, 04:00.0 too */
    CHECK_EQ_INT(pt_xview_copy(&f.v, &now), 0);
    pt_xview_remove(&now, BR);
    pt_xview_remove(&now, NIC);
    pt_xview_remove(&now, LEG);
    pt_xview_remove(&now, DEV3);
    pt_xview_remove(&now, EP4);
    pt_xview_find(&f.v, EP4)->owner = PT_DOMID_IO;
    CHECK_EQ_INT(pt_stranded(&f.t, &f.v, &now, &log), 5);
    CHECK_EQ_INT(log.nerrors, 5);
    CHECK(strstr(log.msgs[4].text, "0000:04:00.0 (0000:00:1c.1/00.0) was registered with Xen before") != NULL);
    CHECK_EQ_INT(pt_plan_restore(&f.t, &f.v, &now, &r), 0);
    /* shallowest first: the bridges before what is behind them; DomIO quarantined again */
    CHECK_EQ_INT(r.n, 6);
    if ( r.n == 6 )
    {
        CHECK(r.ops[0].op == PT_OP_ADD && r.ops[0].sbdf == BR);
        CHECK(r.ops[1].sbdf == EP4 && r.ops[2].sbdf == NIC && r.ops[3].sbdf == LEG);
        CHECK(r.ops[4].op == PT_OP_ADD && r.ops[4].sbdf == DEV3);
        CHECK(r.ops[5].op == PT_OP_QUARANTINE && r.ops[5].sbdf == EP4);
    }
    pt_plan_free(&r);

    /* a bridge Xen did not have before, above a device it had: added back first */
    pt_xview_remove(&f.v, BR);
    CHECK_EQ_INT(pt_plan_restore(&f.t, &f.v, &now, &r), 0);
    CHECK(r.n >= 1 && r.ops[0].sbdf == BR && strstr(r.ops[0].why, "a bridge above"));
    pt_plan_free(&r);

    /* nothing stranded: nothing to do, nothing named */
    pt_errlog_free(&log);
    CHECK_EQ_INT(pt_stranded(&f.t, &f.v, &f.v, &log), 0);
    CHECK_EQ_INT(pt_plan_restore(&f.t, &f.v, &f.v, &r), 0);
    CHECK_EQ_INT(r.n, 0);
    CHECK_EQ_INT(log.n, 0);
    pt_plan_free(&r);
    pt_xview_free(&now);
    pt_errlog_free(&log);
    teardown(&f);
}

int main(void)
{
    test_failed_remove();
    test_self_range();
    test_failed_add();
    test_quarantine_follows_add();
    test_run_goes_on();
    test_restore();
    return tap_done();
}
