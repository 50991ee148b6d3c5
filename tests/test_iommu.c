/*
 * test_iommu.c - Xen 4.17's VT-d rule in the simulator (an endpoint no DRHD
 * unit covers: -ENODEV, the entry stays with owner NULL), its switch for
 * bridge scopes that follow the bridge (patch 0006), and the planner's
 * prediction of those refusals on a renumbered tree: blocked with the
 * reason, nothing removed that cannot be put back, the rest repaired.
 */
#include "config.h"

#include <errno.h>

#include "dmar.h"
#include "fixture.h"
#include "handbuilt.h"
#include "iommu_scope.h"
#include "tap.h"

#define DEVFN(s, f) PT_DEVFN_OF(s, f)
#define RP10   PT_SBDF(0, 0, DEVFN(0x10, 0))
#define RP11   PT_SBDF(0, 0, DEVFN(0x11, 0))
#define EP01   PT_SBDF(0, 1, DEVFN(0, 0))
#define EP03   PT_SBDF(0, 3, DEVFN(0, 0))
#define DP31   PT_SBDF(0, 3, DEVFN(1, 0))
#define EP05   PT_SBDF(0, 5, DEVFN(0, 0))
#define EP09   PT_SBDF(0, 9, DEVFN(0, 0))

/* The issue's DMAR: DRHD fed90000 with bridge scopes 00:10.0 and 00:11.0. */
static void issue_table(struct fx_dmar *b, bool include_all_unit)
{
    char err[128];

    CHECK_EQ_INT(fx_dmar_from_spec(b, include_all_unit
                                   ? "fed90000,bridge:00:10.0,bridge:00:11.0;fed91000,all"
                                   : "fed90000,bridge:00:10.0,bridge:00:11.0", err, sizeof(err)), 0);
}

/* Parses and resolves b against view (Xen's boot record), dom0 as fallback. */
static void model_of(const struct fx_dmar *b, const struct pt_xview *v, const struct pt_topo *t,
                     struct pt_dmar *d)
{
    CHECK_EQ_INT(pt_dmar_parse(b->buf, b->len, d, NULL, 0), 0);
    CHECK_EQ_INT(pt_dmar_resolve(d, pt_dmar_range_xen, (void *)v, pt_dmar_range_dom0, (void *)t), 0);
    CHECK(d->complete);
}

/*
 * dom0 after the renumbering: 00:11.0 spans 03-09 (Xen recorded 03-07 at
 * boot), its downstream port 03:01.0 moved its bus from 05 to 09.
 */
static void dom0_tree(struct pt_topo *t)
{
    memset(t, 0, sizeof(*t));
    hb_dev(t, PT_SBDF(0, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hb_dev(t, RP10, PT_TYPE_PCIE_PORT, 1, 2);
    hb_dev(t, EP01, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hb_dev(t, RP11, PT_TYPE_PCIE_PORT, 3, 9);
    hb_dev(t, EP03, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hb_dev(t, DP31, PT_TYPE_PCIE_PORT, 9, 9);
    hb_dev(t, EP09, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    pt_topo_finish(t);
}

/* Xen's registry as its boot scan left it (firmware numbering), dom0 owning everything. */
static void boot_view(struct pt_xview *v, enum pt_hv_model hv)
{
    memset(v, 0, sizeof(*v));
    v->source = PT_SOURCE_SIM;
    v->hv = hv;
    hb_x(v, PT_SBDF(0, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hb_x(v, RP10, PT_TYPE_PCIE_PORT, 1, 2);
    hb_x(v, EP01, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hb_x(v, RP11, PT_TYPE_PCIE_PORT, 3, 7);
    hb_x(v, EP03, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hb_x(v, DP31, PT_TYPE_PCIE_PORT, 5, 5);
    hb_x(v, EP05, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    pt_xview_seg(v, 0, true)->b2b_known = true;
    pt_xview_sort(v);
}

static int pos(const struct pt_plan *p, enum pt_op_kind op, pt_sbdf_t sbdf)
{
    for ( size_t i = 0; i < p->n; i++ )
        if ( p->ops[i].op == op && p->ops[i].sbdf == sbdf )
            return (int)i;
    return -1;
}

static const char *blocked_why(const struct pt_plan *p, pt_sbdf_t sbdf)
{
    for ( size_t i = 0; i < p->nblocked; i++ )
        if ( p->blocked[i].sbdf == sbdf )
            return p->blocked[i].reason;
    return NULL;
}

/* ---------------------------------------------------------------- the simulator */

static void test_sim_rule(void)
{
    struct pt_topo t;
    struct pt_xview v;
    struct pt_sim sim;
    struct pt_dmar d;
    struct fx_dmar b;
    struct pt_hw hw = { pt_hw_topo_probe, NULL };
    const struct pt_xdev *x;

    dom0_tree(&t);
    hw.ctx = &t;
    boot_view(&v, PT_HV_STOCK);
    issue_table(&b, false);
    model_of(&b, &v, &t, &d);

    CHECK_EQ_INT(pt_sim_init(&sim, &v, -1, hw), 0);
    CHECK(!sim.dmar_scopes_follow_bridges);          /* the default: Xen 4.17's rule */
    CHECK_EQ_INT(pt_sim_set_dmar(&sim, &d), 0);
    /* 09:00.0: bus 09 is in no scope (00:11.0 had 03-07 at boot) */
    CHECK_EQ_INT(pt_sim_add(&sim, EP09, NULL), -ENODEV);
    x = pt_xview_find(&sim.state, EP09);
    CHECKF(x && x->owner == PT_OWNER_NONE, "the refused add leaves an owner-less entry");
    /* a bridge needs no unit (domain_context_mapping(): DEV_TYPE_PCIe_BRIDGE: break) */
    CHECK_EQ_INT(pt_sim_remove(&sim, DP31), 0);
    CHECK_EQ_INT(pt_sim_add(&sim, DP31, NULL), 0);
    /* an endpoint on a covered bus */
    CHECK_EQ_INT(pt_sim_remove(&sim, EP03), 0);
    CHECK_EQ_INT(pt_sim_add(&sim, EP03, NULL), 0);
    CHECK_EQ_INT(pt_xview_find(&sim.state, EP03)->owner, 0);
    /* re-registering 00:11.0 with 03-09 changes nothing in Xen 4.17's DRHD */
    CHECK_EQ_INT(pt_sim_remove(&sim, RP11), 0);
    CHECK_EQ_INT(pt_sim_add(&sim, RP11, NULL), 0);
    CHECK_EQ_INT(pt_xview_find(&sim.state, RP11)->sub_bus, 9);
    CHECK_EQ_INT(pt_sim_add(&sim, EP09, NULL), -ENODEV);
    /* the switch: bridge scopes follow the recorded range (patch 0006); the retry succeeds */
    sim.dmar_scopes_follow_bridges = true;
    CHECK_EQ_INT(pt_sim_add(&sim, EP09, NULL), 0);
    CHECK_EQ_INT(pt_xview_find(&sim.state, EP09)->owner, 0);
    pt_sim_free(&sim);

    /* No table: every add is covered (the behaviour before issue 12). */
    CHECK_EQ_INT(pt_sim_init(&sim, &v, -1, hw), 0);
    CHECK_EQ_INT(pt_sim_add(&sim, EP09, NULL), 0);
    pt_sim_free(&sim);

    /* An INCLUDE_PCI_ALL unit covers the rest of its segment. */
    pt_dmar_free(&d);
    issue_table(&b, true);
    model_of(&b, &v, &t, &d);
    CHECK_EQ_INT(pt_sim_init(&sim, &v, -1, hw), 0);
    CHECK_EQ_INT(pt_sim_set_dmar(&sim, &d), 0);
    CHECK_EQ_INT(pt_sim_add(&sim, EP09, NULL), 0);
    pt_sim_free(&sim);

    pt_dmar_free(&d);
    pt_topo_free(&t);
    pt_xview_free(&v);
}

/* A VF is looked up at its PF (devfn 0 for an extfn PF); an extfn at devfn 0 of its bus. */
static void test_sim_vf_extfn(void)
{
    struct pt_topo t = { 0 };
    struct pt_xview v = { 0 };
    struct pt_sim sim;
    struct pt_dmar d;
    struct fx_dmar b;
    struct pt_hw hw = { pt_hw_topo_probe, NULL };
    char err[128];
    pt_sbdf_t pf = PT_SBDF(0, 2, DEVFN(0, 0)), vf = PT_SBDF(0, 4, DEVFN(0, 1));
    pt_sbdf_t xf = PT_SBDF(0, 6, DEVFN(0, 3));
    struct pt_add_info vinfo = { .virtfn = true, .physfn = pf, .pxm = -1 };
    struct pt_add_info xinfo = { .extfn = true, .pxm = -1 };

    hb_dev(&t, pf, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hb_vf(&t, vf, pf);
    hb_dev(&t, xf, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    pt_topo_finish(&t);
    hw.ctx = &t;
    v.hv = PT_HV_STOCK;
    pt_xview_seg(&v, 0, true);
    /* endpoint scopes: the PF 02:00.0, and 06:00.0 (function 0 of the extfn's bus) */
    CHECK_EQ_INT(fx_dmar_from_spec(&b, "fed90000,endpoint:02:00.0,endpoint:06:00.0", err, sizeof(err)), 0);
    model_of(&b, &v, &t, &d);
    CHECK_EQ_INT(pt_sim_init(&sim, &v, -1, hw), 0);
    CHECK_EQ_INT(pt_sim_set_dmar(&sim, &d), 0);
    CHECK_EQ_INT(pt_sim_add(&sim, pf, NULL), 0);
    CHECK_EQ_INT(pt_sim_add(&sim, vf, &vinfo), 0);            /* bus 04, looked up as 02:00.0 */
    CHECK_EQ_INT(pt_sim_add(&sim, xf, NULL), -ENODEV);        /* 06:00.3 is in no scope */
    CHECK_EQ_INT(pt_sim_add(&sim, xf, &xinfo), 0);            /* as an extfn: 06:00.0 */
    pt_sim_free(&sim);
    pt_dmar_free(&d);
    pt_topo_free(&t);
    pt_xview_free(&v);
}

/* ---------------------------------------------------------------- the planner */

struct pfx {
    struct pt_topo t;
    struct pt_xview v;
    struct pt_plan p;
    struct pt_errlog log;
    struct fx_dmar b;
};

static void pfx_setup(struct pfx *f, enum pt_hv_model hv, bool with_table)
{
    memset(f, 0, sizeof(*f));
    dom0_tree(&f->t);
    boot_view(&f->v, hv);
    issue_table(&f->b, false);
    if ( with_table )
        CHECK_EQ_INT(fx_topo_set_dmar(&f->t, f->b.buf, f->b.len, "/sys/firmware/acpi/tables/RMAD"), 0);
}

static void pfx_teardown(struct pfx *f)
{
    pt_plan_free(&f->p);
    pt_topo_free(&f->t);
    pt_xview_free(&f->v);
    pt_errlog_free(&f->log);
}

/*
 * Applies f->p on a simulator that knows the DMAR (resolved against the
 * boot view, as Xen did) with the given switch; returns the first error.
 */
static int apply_on_dmar_sim(struct pfx *f, bool follow, struct pt_xview *after)
{
    struct pt_sim sim;
    struct pt_dmar d;
    struct pt_hw hw = { pt_hw_topo_probe, &f->t };
    size_t done = 0;
    int rc;

    model_of(&f->b, &f->v, &f->t, &d);
    CHECK_EQ_INT(pt_sim_init(&sim, &f->v, -1, hw), 0);
    CHECK_EQ_INT(pt_sim_set_dmar(&sim, &d), 0);
    sim.dmar_scopes_follow_bridges = follow;
    rc = pt_sim_apply(&sim, &f->p, &done, &f->log);
    if ( after )
        CHECK_EQ_INT(pt_xview_copy(&sim.state, after), 0);
    pt_sim_free(&sim);
    pt_dmar_free(&d);
    return rc;
}

/* No owner-less entry anywhere in the view. */
static bool no_ownerless(const struct pt_xview *v)
{
    for ( size_t s = 0; s < v->nsegs; s++ )
        for ( size_t i = 0; i < v->segs[s].n; i++ )
            if ( v->segs[s].devs[i].owner == PT_OWNER_NONE )
                return false;
    return true;
}

/* Issue 12 on stock Xen: the add of 09:00.0 is blocked with the reason, the rest repaired. */
static void test_plan_stock_blocks_uncovered(void)
{
    struct pfx f;
    struct pt_xview after = { 0 };
    struct pt_report r;
    const char *why;

    /* Without a table the planner adds 09:00.0, and Xen's IOMMU refuses it: issue 12. */
    pfx_setup(&f, PT_HV_STOCK, false);
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    CHECK(pos(&f.p, PT_OP_ADD, EP09) >= 0);
    CHECK(f.p.iommu_note && strstr(f.p.iommu_note, "IOMMU scopes unknown"));
    CHECK_EQ_INT(apply_on_dmar_sim(&f, false, NULL), -ENODEV);
    pfx_teardown(&f);

    pfx_setup(&f, PT_HV_STOCK, true);
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    pt_errlog_print(&f.log, stderr, PT_SEV_WARN);
    CHECK(f.p.iommu_note && strstr(f.p.iommu_note, "IOMMU scopes from /sys/firmware/acpi/tables/RMAD"));
    CHECK(pos(&f.p, PT_OP_ADD, EP09) < 0);
    why = blocked_why(&f.p, EP09);
    CHECK_EQ_STR(why, "0000:09:00.0: no DMAR unit covers bus 09 (DRHD fed90000: bridge scope 00:10.0 "
                      "covers buses 01-02 as at boot, bridge scope 00:11.0 covers buses 03-07 as at boot)");
    /* 00:11.0's record of 03-07 is kept: re-registering it would forget the scope's boot buses */
    CHECK(pos(&f.p, PT_OP_REMOVE, RP11) < 0);
    why = blocked_why(&f.p, RP11);
    CHECKF(why && strstr(why, "DRHD fed90000") && strstr(why, "03-07"), "%s", why ? why : "(not blocked)");
    /* the rest is repaired: the stale 05:00.0 leaves, 03:01.0 is re-registered with 09-09 */
    CHECK(pos(&f.p, PT_OP_REMOVE, EP05) >= 0);
    CHECK(pos(&f.p, PT_OP_REMOVE, DP31) >= 0);
    CHECK(pos(&f.p, PT_OP_ADD, DP31) >= 0);
    /* Xen accepts every operation, and nothing is left owner-less */
    CHECK_EQ_INT(apply_on_dmar_sim(&f, false, &after), 0);
    CHECK(no_ownerless(&after));
    CHECK(pt_xview_find(&after, EP09) == NULL);
    CHECK_EQ_INT(pt_xview_find(&after, DP31)->sec_bus, 9);
    CHECK_EQ_INT(pt_xview_find(&after, RP11)->sub_bus, 7);
    /* check reports both as blocked, with the planner's reason */
    CHECK_EQ_INT(pt_check(&f.t, &f.v, NULL, &r, &f.log), 0);
    {
        bool ep09 = false;

        for ( size_t i = 0; i < r.n; i++ )
            if ( r.f[i].sbdf == EP09 && r.f[i].kind == PT_FIND_BLOCKED )
                ep09 = r.f[i].detail && strstr(r.f[i].detail, "no DMAR unit covers bus 09");
        CHECK(ep09);
    }
    pt_report_free(&r);
    pt_xview_free(&after);
    pfx_teardown(&f);
}

/* Never remove what cannot be put back: 09:00.0 registered (boot scan), behind a bridge to repair. */
static void test_plan_no_remove_of_unrestorable(void)
{
    struct pfx f;
    struct pt_xview after = { 0 };
    const char *why;

    pfx_setup(&f, PT_HV_STOCK, true);
    /* Xen has 09:00.0 with an owner (setup_hwdom_pci_devices() keeps dom0 as owner even when
     * the IOMMU set-up fails), and 03:01.0 recorded 05-05 wants re-registering with 09-09. */
    pt_xview_remove(&f.v, EP05);
    hb_x(&f.v, EP09, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    pt_xview_sort(&f.v);
    /* 03:01.0 is a PCIe port: Xen uses its range for no lookup (no bus2bridge, and
     * on Xen 4.17 no DRHD scope follows it), so it is re-registered alone and
     * 09:00.0, which Xen would refuse back, is not touched. */
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    CHECK(pos(&f.p, PT_OP_REMOVE, EP09) < 0);
    CHECK(pos(&f.p, PT_OP_ADD, EP09) < 0);
    CHECK(pos(&f.p, PT_OP_REMOVE, DP31) >= 0);
    CHECK(pos(&f.p, PT_OP_ADD, DP31) > pos(&f.p, PT_OP_REMOVE, DP31));
    CHECK(blocked_why(&f.p, DP31) == NULL);
    CHECK_EQ_INT(apply_on_dmar_sim(&f, false, &after), 0);
    CHECK_EQ_INT(pt_xview_find(&after, EP09)->owner, 0);
    CHECK_EQ_INT(pt_xview_find(&after, DP31)->sec_bus, 9);
    pt_xview_free(&after);
    pfx_teardown(&f);

    /* The same without a table: nothing else changes (the table only matters to a
     * port when scopes follow bridges). */
    pfx_setup(&f, PT_HV_STOCK, false);
    pt_xview_remove(&f.v, EP05);
    hb_x(&f.v, EP09, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    pt_xview_sort(&f.v);
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    CHECK(pos(&f.p, PT_OP_REMOVE, EP09) < 0);
    CHECK(pos(&f.p, PT_OP_REMOVE, DP31) >= 0);
    CHECK_EQ_INT(apply_on_dmar_sim(&f, false, NULL), 0);
    pfx_teardown(&f);
}

/* Patched Xen (0006): scopes follow the re-registered bridge, so everything is repaired. */
static void test_plan_patched_follows(void)
{
    struct pfx f;
    struct pt_xview after = { 0 };
    struct pt_report r;

    CHECK(pt_iommu_scopes_follow(PT_HV_PATCHED));
    CHECK(!pt_iommu_scopes_follow(PT_HV_STOCK));
    pfx_setup(&f, PT_HV_PATCHED, true);
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    CHECK_EQ_INT(f.p.nblocked, 0);
    CHECK(pos(&f.p, PT_OP_REMOVE, RP11) >= 0);
    CHECK(pos(&f.p, PT_OP_ADD, RP11) >= 0 && pos(&f.p, PT_OP_ADD, RP11) < pos(&f.p, PT_OP_ADD, EP09));
    CHECK_EQ_INT(apply_on_dmar_sim(&f, true, &after), 0);
    CHECK(no_ownerless(&after));
    CHECK_EQ_INT(pt_diff(&f.t, &after, NULL, &r), 0);
    CHECK_EQ_INT(pt_report_inconsistent(&r), 0);
    pt_report_free(&r);
    /* the same plan on Xen 4.17's rule fails: the switch is what makes the difference */
    CHECK_EQ_INT(apply_on_dmar_sim(&f, false, NULL), -ENODEV);
    pt_xview_free(&after);
    pfx_teardown(&f);
}

/* A PF nobody covers: its VFs are not attempted either. */
static void test_plan_vfs_of_uncovered_pf(void)
{
    struct pfx f;
    pt_sbdf_t pf = PT_SBDF(0, 9, DEVFN(0, 1)), vf1 = PT_SBDF(0, 9, DEVFN(0, 2)), vf2 = PT_SBDF(0, 9, DEVFN(0, 3));
    const char *why;

    pfx_setup(&f, PT_HV_STOCK, true);
    hb_dev(&f.t, pf, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hb_vf(&f.t, vf1, pf);
    hb_vf(&f.t, vf2, pf);
    pt_topo_finish(&f.t);
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    CHECK(pos(&f.p, PT_OP_ADD, pf) < 0);
    CHECK(pos(&f.p, PT_OP_ADD, vf1) < 0);
    CHECK(pos(&f.p, PT_OP_ADD, vf2) < 0);
    why = blocked_why(&f.p, vf2);
    CHECKF(why && strstr(why, "a VF is looked up by its PF 0000:09:00.1") &&
           strstr(why, "no DMAR unit covers bus 09"), "%s", why ? why : "(not blocked)");
    CHECK_EQ_INT(apply_on_dmar_sim(&f, false, NULL), 0);
    pfx_teardown(&f);
}

/* A malformed table: a clear warning, the model unknown, the plan as without a table. */
static void test_plan_malformed_table(void)
{
    struct pfx f;
    struct pt_plan plain;
    bool warned = false;

    pfx_setup(&f, PT_HV_STOCK, false);
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &plain, &f.log), 0);
    f.b.buf[20] ^= 1;                       /* checksum broken */
    CHECK_EQ_INT(fx_topo_set_dmar(&f.t, f.b.buf, f.b.len, "/sys/firmware/acpi/tables/RMAD"), 0);
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    CHECK_EQ_INT(f.p.n, plain.n);
    CHECK_EQ_INT(f.p.nblocked, plain.nblocked);
    CHECK(f.p.iommu_note && strstr(f.p.iommu_note, "IOMMU scopes unknown") &&
          strstr(f.p.iommu_note, "checksum"));
    for ( size_t i = 0; i < f.log.n; i++ )
        if ( f.log.msgs[i].sev == PT_SEV_WARN && strstr(f.log.msgs[i].text, "malformed DMAR table") )
            warned = true;
    CHECK(warned);
    pt_plan_free(&plain);
    pfx_teardown(&f);
}

/* A stock Xen without the sysctl reports no recorded ranges: bridge scopes cannot be resolved. */
static void test_plan_stock_source_unknown(void)
{
    struct pfx f;

    pfx_setup(&f, PT_HV_STOCK, true);
    f.v.source = PT_SOURCE_STOCK;
    for ( size_t i = 0; i < f.v.segs[0].n; i++ )
        f.v.segs[0].devs[i].sec_bus = f.v.segs[0].devs[i].sub_bus = PT_NO_RANGE;
    CHECK_EQ_INT(pt_plan_build(&f.t, &f.v, NULL, &f.p, &f.log), 0);
    CHECKF(f.p.iommu_note && strstr(f.p.iommu_note, "IOMMU scopes unknown") &&
           strstr(f.p.iommu_note, "does not report"), "%s", f.p.iommu_note ? f.p.iommu_note : "(none)");
    CHECK(blocked_why(&f.p, EP09) == NULL);
    pfx_teardown(&f);
}

int main(void)
{
    test_sim_rule();
    test_sim_vf_extfn();
    test_plan_stock_blocks_uncovered();
    test_plan_no_remove_of_unrestorable();
    test_plan_patched_follows();
    test_plan_vfs_of_uncovered_pf();
    test_plan_malformed_table();
    test_plan_stock_source_unknown();
    return tap_done();
}
