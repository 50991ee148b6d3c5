/*
 * test_diff.c - every finding kind of pt_diff(), on hand-built views.
 */
#include "config.h"

#include "handbuilt.h"
#include "tap.h"

struct fx {
    struct pt_topo t;
    struct pt_xview v;
    struct pt_report r;
    struct pt_policy pol;
};


static void setup(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    hb_base_topo(&f->t);
    pt_topo_finish(&f->t);
    hb_view_from(&f->v, &f->t);
}

static void run(struct fx *f)
{
    pt_report_free(&f->r);
    CHECK_EQ_INT(pt_diff(&f->t, &f->v, &f->pol, &f->r), 0);
}

static void teardown(struct fx *f)
{
    pt_report_free(&f->r);
    pt_topo_free(&f->t);
    pt_xview_free(&f->v);
}

static const struct pt_finding *find(const struct pt_report *r, enum pt_finding_kind k,
                                     pt_sbdf_t sbdf, int bus)
{
    for ( size_t i = 0; i < r->n; i++ )
        if ( r->f[i].kind == k && r->f[i].sbdf == sbdf && (bus < 0 || r->f[i].bus == bus) )
            return &r->f[i];
    return NULL;
}

static void test_consistent(void)
{
    struct fx f;

    setup(&f);
    run(&f);
    CHECK_EQ_INT(f.r.n, 0);
    CHECK_EQ_INT(f.r.nunverified, 0);
    /* The expected table: bus 2 and 3 behind their innermost bridges. */
    CHECK(f.v.segs[0].b2b[2].map && f.v.segs[0].b2b[2].bus == 1);
    CHECK(f.v.segs[0].b2b[3].map && f.v.segs[0].b2b[3].bus == 2 &&
          f.v.segs[0].b2b[3].devfn == PT_DEVFN_OF(2, 0));
    CHECK(!f.v.segs[0].b2b[4].map);     /* PCIe ports never feed bus2bridge */
    teardown(&f);
}

static void test_missing_and_stale(void)
{
    struct fx f;
    const struct pt_finding *x;

    setup(&f);
    pt_xview_remove(&f.v, S0(4, 0, 0));
    hb_x(&f.v, S0(5, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    run(&f);
    CHECK_EQ_INT(f.r.n, 2);
    x = find(&f.r, PT_FIND_MISSING, S0(4, 0, 0), -1);
    CHECK(x && x->path && !strcmp(x->path, "0000:00:1c.1/00.0"));
    CHECK(x && strstr(x->detail, "0000:04:00.0"));
    x = find(&f.r, PT_FIND_STALE, S0(5, 0, 0), -1);
    CHECK(x && !x->path && strstr(x->detail, "no device"));
    CHECK_EQ_INT(pt_report_inconsistent(&f.r), 2);
    teardown(&f);
}

static void test_mismatch_type_and_range(void)
{
    struct fx f;
    const struct pt_finding *x;

    setup(&f);
    pt_xview_find(&f.v, S0(4, 0, 0))->type = PT_TYPE_PCIE2PCI_BRIDGE;
    pt_xview_find(&f.v, S0(1, 0, 0))->sec_bus = 6;
    pt_xview_find(&f.v, S0(1, 0, 0))->sub_bus = 8;
    run(&f);
    x = find(&f.r, PT_FIND_MISMATCH, S0(4, 0, 0), -1);
    CHECK(x && (x->what & PT_MIS_TYPE));
    x = find(&f.r, PT_FIND_MISMATCH, S0(1, 0, 0), -1);
    CHECK(x && x->what == PT_MIS_RANGE);
    CHECK(x && strstr(x->detail, "buses 06-08") && strstr(x->detail, "buses 02-03"));
    teardown(&f);
}

static void test_port_range_unknown_is_not_a_mismatch(void)
{
    struct fx f;

    setup(&f);
    /* A PCIe port's range is compared only when Xen recorded one ... */
    pt_xview_find(&f.v, S0(0, 0x1c, 0))->sec_bus = PT_NO_RANGE;
    pt_xview_find(&f.v, S0(0, 0x1c, 0))->sub_bus = PT_NO_RANGE;
    run(&f);
    CHECK_EQ_INT(f.r.n, 0);
    /* ... but a PCIe-to-PCI bridge without one is wrong: it feeds bus2bridge. */
    pt_xview_find(&f.v, S0(1, 0, 0))->sec_bus = PT_NO_RANGE;
    pt_xview_find(&f.v, S0(1, 0, 0))->sub_bus = PT_NO_RANGE;
    run(&f);
    CHECK(find(&f.r, PT_FIND_MISMATCH, S0(1, 0, 0), -1) != NULL);
    teardown(&f);
}

static void test_vf_extfn_phantom_owner(void)
{
    struct fx f;
    const struct pt_finding *x;
    struct pt_dev *d;

    memset(&f, 0, sizeof(f));
    hb_base_topo(&f.t);
    d = hb_dev(&f.t, S0(5, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    d->cfg.sriov_pos = 0x160;
    hb_vf(&f.t, S0(5, 0, 1), S0(5, 0, 0));
    hb_vf(&f.t, S0(5, 0, 2), S0(5, 0, 0));
    d = hb_dev(&f.t, S0(6, 0, 1), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    d->is_extfn = false;
    d = hb_dev(&f.t, S0(6, 1, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    d->is_extfn = true;
    d = hb_dev(&f.t, S0(7, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    d->cfg.phantom_stride = 4;
    pt_topo_finish(&f.t);
    hb_view_from(&f.v, &f.t);
    run(&f);
    CHECK_EQ_INT(f.r.n, 0);

    pt_xview_find(&f.v, S0(5, 0, 1))->virtfn = false;
    pt_xview_find(&f.v, S0(5, 0, 2))->physfn = S0(9, 0, 0);
    pt_xview_find(&f.v, S0(6, 1, 0))->extfn = false;
    pt_xview_find(&f.v, S0(7, 0, 0))->phantom_stride = 0;
    pt_xview_find(&f.v, S0(4, 0, 0))->owner = PT_OWNER_NONE;
    run(&f);
    x = find(&f.r, PT_FIND_MISMATCH, S0(5, 0, 1), -1);
    CHECK(x && x->what == PT_MIS_VIRTFN);
    x = find(&f.r, PT_FIND_MISMATCH, S0(5, 0, 2), -1);
    CHECK(x && x->what == PT_MIS_PHYSFN && strstr(x->detail, "0000:09:00.0"));
    x = find(&f.r, PT_FIND_MISMATCH, S0(6, 1, 0), -1);
    CHECK(x && x->what == PT_MIS_EXTFN);
    x = find(&f.r, PT_FIND_MISMATCH, S0(7, 0, 0), -1);
    CHECK(x && x->what == PT_MIS_PHANTOM);
    /* A PCIe endpoint's failed add did not depend on bus2bridge: not repairable. */
    x = find(&f.r, PT_FIND_BLOCKED, S0(4, 0, 0), -1);
    CHECK(x && x->what == PT_MIS_NO_OWNER && x->owner == PT_OWNER_NONE &&
          x->cause == PT_FIND_MISMATCH && strstr(x->detail, "no owner"));
    /* A conventional PCI device's, while its bus's bus2bridge entry is right: the
     * add failed on something else (no DMAR scope): blocked too. */
    pt_xview_find(&f.v, S0(2, 1, 0))->owner = PT_OWNER_NONE;
    run(&f);
    x = find(&f.r, PT_FIND_BLOCKED, S0(2, 1, 0), -1);
    CHECK(x && x->what == PT_MIS_NO_OWNER);
    /* ... and while its bus maps wrongly the add may have failed on that (VT-d
     * walks bus2bridge for it): a mismatch, repairable. */
    pt_xview_seg(&f.v, 0, false)->b2b[2].map = false;
    run(&f);
    x = find(&f.r, PT_FIND_MISMATCH, S0(2, 1, 0), -1);
    CHECK(x && x->what == PT_MIS_NO_OWNER);
    CHECK(find(&f.r, PT_FIND_BUS2BRIDGE, S0(1, 0, 0), 2) != NULL);
    CHECK_EQ_INT(f.r.n, 7);
    CHECK_EQ_INT(pt_report_inconsistent(&f.r), 6);
    teardown(&f);
}

static void test_bus2bridge_and_cycle(void)
{
    struct fx f;
    const struct pt_finding *x;
    struct pt_xseg *s;

    setup(&f);
    s = pt_xview_seg(&f.v, 0, false);
    s->b2b[3].devfn = PT_DEVFN_OF(1, 0);                /* wrong bridge */
    s->b2b[2].map = false;                              /* none */
    hb_b2b(&f.v, 0, 9, S0(8, 0, 0));                    /* bridge of nothing in dom0 */
    hb_b2b(&f.v, 0, 6, S0(6, 0, 0));                    /* the seed: bus 6 -> 06:00.0 */
    run(&f);
    x = find(&f.r, PT_FIND_BUS2BRIDGE, S0(2, 2, 0), 3);
    CHECK(x && strstr(x->detail, "02:01.0") && strstr(x->detail, "0000:02:02.0"));
    x = find(&f.r, PT_FIND_BUS2BRIDGE, S0(1, 0, 0), 2);
    CHECK(x && strstr(x->detail, "no upstream bridge"));
    x = find(&f.r, PT_FIND_BUS2BRIDGE, S0(8, 0, 0), 9);
    CHECK(x && strstr(x->detail, "no PCIe-to-PCI"));
    x = find(&f.r, PT_FIND_CYCLE, S0(6, 0, 0), 6);
    CHECK(x && strstr(x->detail, "loops"));
    CHECK(find(&f.r, PT_FIND_BUS2BRIDGE, S0(6, 0, 0), 6) != NULL);
    CHECK_EQ_INT(f.r.n, 5);
    /* Sorted by kind. */
    for ( size_t i = 1; i < f.r.n; i++ )
        CHECK(f.r.f[i - 1].kind <= f.r.f[i].kind);
    teardown(&f);
}

static void test_expected_b2b_innermost(void)
{
    struct pt_topo t = { 0 };
    struct pt_b2b_entry b[256];

    hb_dev(&t, S0(0, 1, 0), PT_TYPE_LEGACY_BRIDGE, 1, 9);
    hb_dev(&t, S0(1, 1, 0), PT_TYPE_LEGACY_BRIDGE, 2, 5);
    hb_dev(&t, S0(2, 1, 0), PT_TYPE_LEGACY_BRIDGE, 3, 3);
    hb_dev(&t, S0(1, 2, 0), PT_TYPE_PCIE_PORT, 6, 6);         /* ignored */
    hb_dev(&t, S0(7, 0, 0), PT_TYPE_PCIE2PCI_BRIDGE, 7, 7);   /* own bus: ignored */
    pt_topo_finish(&t);
    pt_expected_b2b(&t, 0, b);
    CHECK(b[1].map && b[1].bus == 0);
    CHECK(b[2].map && b[2].bus == 1);
    CHECK(b[3].map && b[3].bus == 2);
    CHECK(b[4].map && b[4].bus == 1);
    CHECK(b[6].map && b[6].bus == 0);
    CHECK(b[7].map && b[7].bus == 0);
    CHECK(!b[10].map && !b[0].map);
    pt_topo_free(&t);
}

static void test_blocked(void)
{
    struct fx f;
    const struct pt_finding *x;
    struct pt_xdev *e;

    setup(&f);
    e = hb_x(&f.v, S0(9, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    e->owner = 4;
    pt_xview_find(&f.v, S0(4, 0, 0))->owner = PT_DOMID_IO;
    pt_xview_find(&f.v, S0(4, 0, 0))->type = PT_TYPE_PCI_ENDPOINT;
    e = hb_x(&f.v, S0(0, 0x1e, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);
    e->owner = PT_DOMID_XEN;
    run(&f);
    x = find(&f.r, PT_FIND_BLOCKED, S0(9, 0, 0), -1);
    CHECK(x && x->cause == PT_FIND_STALE && x->owner == 4 && strstr(x->detail, "d4"));
    x = find(&f.r, PT_FIND_BLOCKED, S0(4, 0, 0), -1);
    CHECK(x && x->cause == PT_FIND_MISMATCH && x->owner == PT_DOMID_IO && (x->what & PT_MIS_TYPE));
    x = find(&f.r, PT_FIND_BLOCKED, S0(0, 0x1e, 0), -1);
    CHECK(x && x->owner == PT_DOMID_XEN);
    CHECK_EQ_INT(pt_report_inconsistent(&f.r), 0);
    /* --requarantine: the quarantined device is an ordinary mismatch. */
    f.pol.requarantine = true;
    run(&f);
    CHECK(find(&f.r, PT_FIND_MISMATCH, S0(4, 0, 0), -1) != NULL);
    CHECK(find(&f.r, PT_FIND_BLOCKED, S0(9, 0, 0), -1) != NULL);
    teardown(&f);
}

static void test_stock_view_unverified(void)
{
    struct fx f;
    bool b2b = false;

    setup(&f);
    f.v.source = PT_SOURCE_STOCK;
    f.v.segs[0].b2b_known = false;
    /* Types are unknown in a stock view: not a mismatch, but stale/missing still count. */
    for ( size_t i = 0; i < f.v.segs[0].n; i++ )
        f.v.segs[0].devs[i].type = PT_TYPE_UNKNOWN;
    run(&f);
    CHECK_EQ_INT(f.r.n, 0);
    CHECK(f.r.nunverified >= 2);
    for ( size_t i = 0; i < f.r.nunverified; i++ )
        b2b |= strstr(f.r.unverified[i], "bus2bridge") != NULL;
    CHECK(b2b);
    hb_x(&f.v, S0(5, 0, 0), PT_TYPE_UNKNOWN, 0, 0);
    run(&f);
    CHECK(find(&f.r, PT_FIND_STALE, S0(5, 0, 0), -1) != NULL);
    teardown(&f);
}

static void test_unreadable_is_not_stale(void)
{
    struct fx f;
    pt_sbdf_t u = S0(4, 0, 0);

    memset(&f, 0, sizeof(f));
    hb_base_topo(&f.t);
    pt_topo_finish(&f.t);
    hb_view_from(&f.v, &f.t);
    /* dom0 could not read 04:00.0: Xen's entry there is neither stale nor fine. */
    for ( size_t i = 0; i < f.t.n; i++ )
        if ( f.t.devs[i].sbdf == u )
        {
            free(f.t.devs[i].path);
            memmove(&f.t.devs[i], &f.t.devs[i + 1], (f.t.n - i - 1) * sizeof(f.t.devs[0]));
            f.t.n--;
            break;
        }
    f.t.unreadable = malloc(sizeof(pt_sbdf_t));
    f.t.unreadable[0] = u;
    f.t.nunreadable = f.t.capunreadable = 1;
    pt_topo_finish(&f.t);
    run(&f);
    CHECK_EQ_INT(f.r.n, 0);
    teardown(&f);
}

static void test_two_segments(void)
{
    struct fx f;

    setup(&f);
    hb_dev(&f.t, PT_SBDF(1, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hb_dev(&f.t, PT_SBDF(1, 0, PT_DEVFN_OF(1, 0)), PT_TYPE_PCIE2PCI_BRIDGE, 1, 1);
    pt_topo_finish(&f.t);
    hb_x(&f.v, PT_SBDF(1, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    run(&f);
    CHECK(find(&f.r, PT_FIND_MISSING, PT_SBDF(1, 0, PT_DEVFN_OF(1, 0)), -1) != NULL);
    /* Segment 1's bus 1 should map to 0001:00:01.0; it maps nowhere yet. */
    CHECK(find(&f.r, PT_FIND_BUS2BRIDGE, PT_SBDF(1, 0, PT_DEVFN_OF(1, 0)), 1) != NULL);
    CHECK_EQ_INT(f.r.n, 2);
    teardown(&f);
}

static void test_port_range_with_live_msi_is_blocked(void)
{
    struct fx f;
    const struct pt_finding *x;

    setup(&f);
    pt_xview_find(&f.v, S0(0, 0x1c, 1))->sub_bus = 7;
    ((struct pt_dev *)pt_topo_find(&f.t, S0(0, 0x1c, 1)))->cfg.msi_enabled = true;
    run(&f);
    x = find(&f.r, PT_FIND_BLOCKED, S0(0, 0x1c, 1), -1);
    CHECK(x && x->cause == PT_FIND_MISMATCH && x->what == PT_MIS_RANGE && x->owner == 0);
    CHECK(x && strstr(x->detail, "MSI"));
    CHECK_EQ_INT(pt_report_inconsistent(&f.r), 0);
    /* A PCIe-to-PCI bridge's range feeds bus2bridge: that stays a mismatch. */
    pt_xview_find(&f.v, S0(1, 0, 0))->sub_bus = 7;
    ((struct pt_dev *)pt_topo_find(&f.t, S0(1, 0, 0)))->cfg.msi_enabled = true;
    run(&f);
    CHECK(find(&f.r, PT_FIND_MISMATCH, S0(1, 0, 0), -1) != NULL);
    teardown(&f);
}

int main(void)
{
    test_consistent();
    test_missing_and_stale();
    test_mismatch_type_and_range();
    test_port_range_unknown_is_not_a_mismatch();
    test_vf_extfn_phantom_owner();
    test_bus2bridge_and_cycle();
    test_expected_b2b_innermost();
    test_blocked();
    test_stock_view_unverified();
    test_unreadable_is_not_stale();
    test_two_segments();
    test_port_range_with_live_msi_is_blocked();
    return tap_done();
}
