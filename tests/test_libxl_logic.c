/*
 * test_libxl_logic.c - the libxl check's decisions without Xen: which
 * findings make a device inconsistent (pt_finding_affects,
 * pt_device_affected), the words a person reads, and the BDF drift guard's
 * identity store.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handbuilt.h"
#include "tap.h"
#include "affects.h"

struct fx {
    struct pt_topo t;
    struct pt_xview v;
    struct pt_report r;
    struct pt_policy pol;
    struct pt_affect a;
};

/*
 * dom0 after a renumbering:
 *   00:00.0 host bridge
 *   00:1c.0 PCIe port, buses 06-09
 *     06:00.0 PCIe-to-PCI bridge, buses 07-09
 *       07:00.0 PCI NIC
 *       07:01.0 PCI NIC
 *   00:1c.1 PCIe port, buses 0a-0a
 *     0a:00.0 PCIe endpoint
 */
static void topo_after(struct pt_topo *t)
{
    hb_dev(t, S0(0, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hb_dev(t, S0(0, 0x1c, 0), PT_TYPE_PCIE_PORT, 6, 9)->path = strdup("0000:00:1c.0");
    hb_dev(t, S0(6, 0, 0), PT_TYPE_PCIE2PCI_BRIDGE, 7, 9)->path = strdup("0000:00:1c.0/00.0");
    hb_dev(t, S0(7, 0, 0), PT_TYPE_PCI_ENDPOINT, 0, 0)->path = strdup("0000:00:1c.0/00.0/00.0");
    hb_dev(t, S0(7, 1, 0), PT_TYPE_PCI_ENDPOINT, 0, 0)->path = strdup("0000:00:1c.0/00.0/01.0");
    hb_dev(t, S0(0, 0x1c, 1), PT_TYPE_PCIE_PORT, 0xa, 0xa)->path = strdup("0000:00:1c.1");
    hb_dev(t, S0(0xa, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0)->path = strdup("0000:00:1c.1/00.0");
}

static void setup(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    topo_after(&f->t);
    CHECK_EQ_INT(pt_topo_finish(&f->t), 0);
    hb_view_from(&f->v, &f->t);
    f->v.source = PT_SOURCE_SYSCTL;
}

static void diff(struct fx *f)
{
    pt_report_free(&f->r);
    CHECK_EQ_INT(pt_diff(&f->t, &f->v, &f->pol, &f->r), 0);
}

static enum pt_verdict verdict(struct fx *f, pt_sbdf_t sbdf, const struct pt_idstore *ids)
{
    pt_affect_free(&f->a);
    CHECK_EQ_INT(pt_device_affected(&f->t, &f->v, &f->r, ids, sbdf, &f->a), 0);
    return f->a.verdict;
}

static const struct pt_reason *reason(const struct pt_affect *a, enum pt_why why)
{
    for ( size_t i = 0; i < a->n; i++ )
        if ( a->r[i].why == why )
            return &a->r[i];
    return NULL;
}

static bool text_has(const struct pt_reason *r, const char *s)
{
    bool ok = r && strstr(r->text, s);

    if ( !ok )
        fprintf(stderr, "  expected \"%s\" in \"%s\"\n", s, r ? r->text : "(no reason)");
    return ok;
}

static void teardown(struct fx *f)
{
    pt_affect_free(&f->a);
    pt_report_free(&f->r);
    pt_topo_free(&f->t);
    pt_xview_free(&f->v);
}

static void test_consistent(void)
{
    struct fx f;

    setup(&f);
    diff(&f);
    CHECK_EQ_INT(f.r.n, 0);
    for ( size_t i = 0; i < f.t.n; i++ )
    {
        CHECK_EQ_INT(verdict(&f, f.t.devs[i].sbdf, NULL), PT_VERDICT_OK);
        CHECK_EQ_INT(f.a.n, 0);
    }
    CHECK_EQ_STR(f.a.path, "0000:00:1c.1/00.0");
    CHECK_EQ_STR(pt_verdict_name(PT_VERDICT_OK), "consistent");
    CHECK_EQ_STR(pt_why_name(PT_WHY_UPSTREAM), "upstream");
    CHECK_EQ_STR(pt_why_name(PT_WHY__COUNT), "unknown");
    teardown(&f);
}

static void test_missing_device(void)
{
    struct fx f;

    setup(&f);
    pt_xview_remove(&f.v, S0(7, 1, 0));
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(7, 1, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_MISSING), "0000:07:01.0 (path 0000:00:1c.0/00.0/01.0) is not registered with Xen"));
    CHECK(text_has(reason(&f.a, PT_WHY_MISSING), "pcitopod apply"));
    /* Its sibling is not affected by a missing leaf. */
    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), NULL), PT_VERDICT_OK);
    teardown(&f);
}

/* The example: the PCIe-to-PCI bridge moved from 05:00.0 (6-8) to 06:00.0 (7-9). */
static void test_renumbered_bridge(void)
{
    struct fx f;
    struct pt_xdev *x;

    setup(&f);
    pt_xview_remove(&f.v, S0(6, 0, 0));
    hb_x(&f.v, S0(5, 0, 0), PT_TYPE_PCIE2PCI_BRIDGE, 6, 8);
    x = pt_xview_find(&f.v, S0(0, 0x1c, 0));
    x->sec_bus = 5;
    x->sub_bus = 8;
    memset(f.v.segs[0].b2b, 0, sizeof(f.v.segs[0].b2b));
    for ( unsigned b = 6; b <= 8; b++ )
        hb_b2b(&f.v, 0, b, S0(5, 0, 0));
    pt_xview_sort(&f.v);
    diff(&f);

    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_UPSTREAM),
                   "the PCIe-to-PCI bridge above 0000:07:00.0 is recorded by Xen at 0000:05:00.0 with buses 06-08; "
                   "dom0 has it at 0000:06:00.0 with buses 07-09"));
    CHECK(text_has(reason(&f.a, PT_WHY_UPSTREAM), "run `pcitopod apply` or start pcitopod.service"));
    /* The port above it is recorded with the old range too. */
    CHECK(text_has(reason(&f.a, PT_WHY_UPSTREAM), "0000:00:1c.0"));
    CHECK(reason(&f.a, PT_WHY_BUS2BRIDGE) != NULL);
    CHECK(text_has(reason(&f.a, PT_WHY_ALIAS), "stale PCIe-to-PCI bridge at 0000:05:00.0 (buses 06-08)"));
    CHECK(reason(&f.a, PT_WHY_MISSING) == NULL);
    CHECK_EQ_STR(f.a.path, "0000:00:1c.0/00.0/00.0");

    /* The sibling behind the same bridge, and the bridge itself. */
    CHECK_EQ_INT(verdict(&f, S0(7, 1, 0), NULL), PT_VERDICT_BAD);
    CHECK_EQ_INT(verdict(&f, S0(6, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(reason(&f.a, PT_WHY_MISSING) != NULL);

    /* The other root port's device is untouched by all of it. */
    CHECK_EQ_INT(verdict(&f, S0(0xa, 0, 0), NULL), PT_VERDICT_OK);
    CHECK_EQ_INT(f.a.n, 0);

    /* The text helper lists every reason on its own line. */
    verdict(&f, S0(7, 0, 0), NULL);
    {
        char *txt = NULL;
        size_t lines = 0;

        CHECK_EQ_INT(pt_affect_text(&f.a, &txt), 0);
        for ( char *p = txt; p && *p; p++ )
            lines += *p == '\n';
        CHECK_EQ_INT(lines, f.a.n);
        CHECK(txt && !strncmp(txt, "  - ", 4));
        free(txt);
    }
    teardown(&f);
}

static void test_bridge_range_same_sbdf(void)
{
    struct fx f;
    struct pt_xdev *x;

    setup(&f);
    x = pt_xview_find(&f.v, S0(6, 0, 0));
    x->sec_bus = 6;
    x->sub_bus = 8;
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_UPSTREAM),
                   "is recorded by Xen at 0000:06:00.0 with buses 06-08; dom0 has it at 0000:06:00.0 with buses 07-09"));
    teardown(&f);
}

static void test_bridge_wrong_class(void)
{
    struct fx f;

    setup(&f);
    pt_xview_find(&f.v, S0(6, 0, 0))->type = PT_TYPE_PCIE_ENDPOINT;
    pt_xview_find(&f.v, S0(6, 0, 0))->sec_bus = PT_NO_RANGE;
    pt_xview_find(&f.v, S0(6, 0, 0))->sub_bus = PT_NO_RANGE;
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(7, 1, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_UPSTREAM),
                   "Xen has a PCIe device at 0000:06:00.0 where dom0 has the PCIe-to-PCI bridge above 0000:07:01.0"));
    teardown(&f);
}

/* The device's own entry is of another class. */
static void test_own_mismatch(void)
{
    struct fx f;

    setup(&f);
    pt_xview_find(&f.v, S0(0xa, 0, 0))->type = PT_TYPE_PCI_ENDPOINT;
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(0xa, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_MISMATCH), "Xen's entry at 0000:0a:00.0 does not match"));
    CHECK(text_has(reason(&f.a, PT_WHY_MISMATCH), "Xen recorded a pci-endpoint, dom0 has a pcie-endpoint"));
    /* The whole sentence: the finding's detail, then the remedy, nothing else. */
    CHECK_EQ_STR(reason(&f.a, PT_WHY_MISMATCH)->text,
                 "Xen's entry at 0000:0a:00.0 does not match the device there: 0000:0a:00.0 "
                 "(path 0000:00:1c.1/00.0); Xen recorded a pci-endpoint, dom0 has a pcie-endpoint"
                 " - run `pcitopod apply` or start pcitopod.service");
    /* Nothing below it: the devices behind 1c.0 stay fine. */
    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), NULL), PT_VERDICT_OK);
    teardown(&f);
}

/* Owned by a guest: still inconsistent (libxl refuses), and the text says who owns it. */
static void test_blocked(void)
{
    struct fx f;
    struct pt_xdev *x;

    setup(&f);
    x = pt_xview_find(&f.v, S0(0xa, 0, 0));
    x->type = PT_TYPE_PCI_ENDPOINT;
    x->owner = 3;
    diff(&f);
    CHECK_EQ_INT(f.r.n, 1);
    CHECK_EQ_INT(f.r.f[0].kind, PT_FIND_BLOCKED);
    CHECK_EQ_INT(verdict(&f, S0(0xa, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_MISMATCH), "assigned to domain 3"));
    teardown(&f);
}

/* The seed: bus 7 mapped to a bridge on itself, the walk loops. */
static void test_cycle(void)
{
    struct fx f;

    setup(&f);
    hb_b2b(&f.v, 0, 7, S0(7, 1, 0));
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(reason(&f.a, PT_WHY_CYCLE) != NULL);
    CHECK_EQ_INT(verdict(&f, S0(0xa, 0, 0), NULL), PT_VERDICT_OK);
    teardown(&f);
}

/* Without a report, the walk alone catches a misrouted bus. */
static void test_walk_without_findings(void)
{
    struct fx f;

    setup(&f);
    hb_b2b(&f.v, 0, 0xa, S0(6, 0, 0));
    CHECK_EQ_INT(pt_device_affected(&f.t, &f.v, NULL, NULL, S0(0xa, 0, 0), &f.a), 0);
    CHECK_EQ_INT(f.a.verdict, PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_BUS2BRIDGE),
                   "Xen maps bus 0a of 0000:0a:00.0 to the bridge 0000:06:00.0"));
    pt_affect_free(&f.a);

    f.v.segs[0].b2b[0xa].map = false;
    f.v.segs[0].b2b[7].map = false;     /* 07:xx now lacks its bridge */
    CHECK_EQ_INT(pt_device_affected(&f.t, &f.v, NULL, NULL, S0(7, 0, 0), &f.a), 0);
    CHECK_EQ_INT(f.a.verdict, PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_BUS2BRIDGE), "Xen records no bridge upstream of bus 07"));
    teardown(&f);
}

static void test_stale_alias_and_unrelated(void)
{
    struct fx f;

    setup(&f);
    /* A stale endpoint far away: nobody's business. */
    hb_x(&f.v, S0(0x20, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    /* A stale entry at (secbus 07, 00.0)'s neighbour RID: 07:00.0 exists, so use a phantom. */
    pt_xview_sort(&f.v);
    diff(&f);
    CHECK_EQ_INT(pt_report_inconsistent(&f.r), 1);
    for ( size_t i = 0; i < f.t.n; i++ )
        CHECK_EQ_INT(verdict(&f, f.t.devs[i].sbdf, NULL), PT_VERDICT_OK);
    teardown(&f);

    /* A phantom function of 0a:00.0 (stride 1) left behind in Xen. */
    setup(&f);
    ((struct pt_dev *)pt_topo_find(&f.t, S0(0xa, 0, 0)))->cfg.phantom_stride = 1;
    pt_xview_find(&f.v, S0(0xa, 0, 0))->phantom_stride = 1;
    hb_x(&f.v, S0(0xa, 0, 2), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    pt_xview_sort(&f.v);
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(0xa, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_ALIAS), "stale PCIe device at 0000:0a:00.2"));
    teardown(&f);

    /* A stale (secbus, 00.0) behind the PCIe-to-PCI bridge: VT-d maps that RID for 07:01.0. */
    memset(&f, 0, sizeof(f));
    hb_dev(&f.t, S0(0, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hb_dev(&f.t, S0(0, 0x1c, 0), PT_TYPE_PCIE_PORT, 6, 9);
    hb_dev(&f.t, S0(6, 0, 0), PT_TYPE_PCIE2PCI_BRIDGE, 7, 9);
    hb_dev(&f.t, S0(7, 1, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);
    pt_topo_finish(&f.t);
    hb_view_from(&f.v, &f.t);
    hb_x(&f.v, S0(7, 0, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);
    pt_xview_sort(&f.v);
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(7, 1, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_ALIAS), "0000:07:00.0"));
    teardown(&f);
}

/* A VF whose PF Xen does not know. */
static void test_vf_pf(void)
{
    struct fx f;

    memset(&f, 0, sizeof(f));
    hb_dev(&f.t, S0(0, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hb_dev(&f.t, S0(0, 2, 0), PT_TYPE_PCIE_PORT, 1, 1);
    hb_dev(&f.t, S0(1, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hb_vf(&f.t, S0(1, 0, 1), S0(1, 0, 0));
    pt_topo_finish(&f.t);
    hb_view_from(&f.v, &f.t);
    pt_xview_remove(&f.v, S0(1, 0, 0));
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(1, 0, 1), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_UPSTREAM), "0000:01:00.0"));
    teardown(&f);
}

static void test_absent_and_stock(void)
{
    struct fx f;

    setup(&f);
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(0x30, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(text_has(reason(&f.a, PT_WHY_ABSENT), "dom0 has no PCI device at 0000:30:00.0"));
    teardown(&f);

    /* Stock Xen: presence is all it shows. */
    setup(&f);
    f.v.source = PT_SOURCE_STOCK;
    f.v.hv = PT_HV_STOCK;
    f.v.segs[0].b2b_known = false;
    pt_xview_remove(&f.v, S0(0xa, 0, 0));
    diff(&f);
    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), NULL), PT_VERDICT_UNVERIFIED);
    CHECK(text_has(reason(&f.a, PT_WHY_UNVERIFIED), "DMA of this device depends on them"));
    CHECK_EQ_INT(verdict(&f, S0(0xa, 0, 0), NULL), PT_VERDICT_BAD);
    CHECK(reason(&f.a, PT_WHY_MISSING) != NULL);
    teardown(&f);
}

/* The decision primitive on its own. */
static void test_finding_affects(void)
{
    struct fx f;
    struct pt_finding fd = { .kind = PT_FIND_BUS2BRIDGE, .sbdf = S0(6, 0, 0), .bus = 8 };
    const struct pt_dev *d;
    enum pt_why why = PT_WHY__COUNT;

    setup(&f);
    d = pt_topo_find(&f.t, S0(7, 0, 0));
    CHECK(!pt_finding_affects(&f.t, &f.v, &fd, d, &why));     /* bus 8 is not on 07:00.0's path */
    fd.bus = 7;
    CHECK(pt_finding_affects(&f.t, &f.v, &fd, d, &why));
    CHECK_EQ_INT(why, PT_WHY_BUS2BRIDGE);
    fd.bus = 6;                                                 /* the bridge's own bus */
    CHECK(pt_finding_affects(&f.t, &f.v, &fd, d, &why));
    fd.kind = PT_FIND_MISSING;
    fd.sbdf = S0(0, 0x1c, 0);
    CHECK(pt_finding_affects(&f.t, &f.v, &fd, d, &why));
    CHECK_EQ_INT(why, PT_WHY_UPSTREAM);
    fd.sbdf = S0(0, 0x1c, 1);
    CHECK(!pt_finding_affects(&f.t, &f.v, &fd, d, &why));
    fd.kind = PT_FIND_BLOCKED;
    fd.cause = PT_FIND_MISMATCH;
    fd.sbdf = S0(7, 0, 0);
    CHECK(pt_finding_affects(&f.t, &f.v, &fd, d, &why));
    CHECK_EQ_INT(why, PT_WHY_MISMATCH);
    teardown(&f);
}

/* ------------------------------------------------------------------ */
/* the drift guard                                                      */
/* ------------------------------------------------------------------ */

static void test_drift(void)
{
    struct fx f;
    struct pt_idstore ids = { 0 };
    struct pt_dev *nic;
    char *why = NULL;

    setup(&f);
    diff(&f);
    nic = (struct pt_dev *)pt_topo_find(&f.t, S0(7, 0, 0));
    nic->vendor = 0x8086;
    nic->device = 0x100e;
    CHECK_EQ_INT(pt_idstore_record(&ids, nic, "assignable", 1000), 0);
    CHECK_EQ_INT(ids.n, 1);
    CHECK_EQ_INT(pt_identity_check(&ids.ids[0], &f.t, &why), 0);
    CHECK(why == NULL);
    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), &ids), PT_VERDICT_OK);

    /* After a renumbering 07:00.0 names the other NIC, the recorded one is at 07:01.0. */
    free(nic->path);
    nic->path = strdup("0000:00:1c.0/00.0/01.0");
    nic = (struct pt_dev *)pt_topo_find(&f.t, S0(7, 1, 0));
    free(nic->path);
    nic->path = strdup("0000:00:1c.0/00.0/00.0");
    CHECK_EQ_INT(pt_identity_check(&ids.ids[0], &f.t, &why), 1);
    CHECK(why && strstr(why, "0000:07:00.0 was recorded (assignable) as path 0000:00:1c.0/00.0/00.0"));
    CHECK(why && strstr(why, "it now names another device: path 0000:00:1c.0/00.0/01.0"));
    CHECK(why && strstr(why, "that device is now at 0000:07:01.0"));
    free(why);
    CHECK_EQ_INT(verdict(&f, S0(7, 0, 0), &ids), PT_VERDICT_BAD);
    CHECK(reason(&f.a, PT_WHY_DRIFT) != NULL);
    /* Only the recorded BDF is guarded. */
    CHECK_EQ_INT(verdict(&f, S0(7, 1, 0), &ids), PT_VERDICT_OK);

    /* Same path, other IDs (a card swapped in the slot) is drift too. */
    CHECK_EQ_INT(pt_idstore_record(&ids, pt_topo_find(&f.t, S0(0xa, 0, 0)), "domain 2", 1001), 0);
    ((struct pt_dev *)pt_topo_find(&f.t, S0(0xa, 0, 0)))->device = 0x4321;
    CHECK_EQ_INT(pt_identity_check(pt_idstore_find(&ids, S0(0xa, 0, 0)), &f.t, &why), 1);
    CHECK(why && strstr(why, "(domain 2)"));
    free(why);

    /* A recorded BDF with nothing there now. */
    CHECK_EQ_INT(pt_idstore_record(&ids, pt_topo_find(&f.t, S0(6, 0, 0)), "assignable", 1002), 0);
    {
        struct pt_identity gone = *pt_idstore_find(&ids, S0(6, 0, 0));

        gone.sbdf = S0(0x40, 0, 0);
        CHECK_EQ_INT(pt_identity_check(&gone, &f.t, &why), 1);
        CHECK(why && strstr(why, "dom0 has no device there now; that device is now at 0000:06:00.0"));
        free(why);
    }

    CHECK_EQ_INT(pt_idstore_forget(&ids, S0(6, 0, 0)), 0);
    CHECK_EQ_INT(pt_idstore_forget(&ids, S0(6, 0, 0)), -ENOENT);
    CHECK_EQ_INT(ids.n, 2);
    pt_idstore_free(&ids);
    teardown(&f);
}

static void test_idstore_json(void)
{
    struct pt_idstore a = { 0 }, b = { 0 };
    struct pt_errlog log = { 0 };
    struct pt_dev d;
    char *json = NULL, dir[] = "/tmp/test_libxl_logic.XXXXXX", file[128];
    size_t len = 0;

    memset(&d, 0, sizeof(d));
    d.sbdf = S0(5, 0, 0);
    d.path = "0000:00:1c.0/00.0";
    d.vendor = 0x8086;
    d.device = 0x100e;
    d.cfg.class = 0x020000;
    CHECK_EQ_INT(pt_idstore_record(&a, &d, "assignable", 1700000000LL), 0);
    d.sbdf = S0(2, 0, 0);
    d.path = NULL;
    CHECK_EQ_INT(pt_idstore_record(&a, &d, NULL, 5), 0);
    CHECK_EQ_INT(a.ids[0].sbdf, S0(2, 0, 0));           /* kept sorted */
    CHECK_EQ_INT(pt_idstore_to_json(&a, &json, &len), 0);
    CHECK(json && strstr(json, "\"format\": \"pcitopod-bdf-identity/1\""));
    CHECK(json && strstr(json, "\"vendor\": \"0x8086\""));
    CHECK_EQ_INT(pt_idstore_parse(json, len, &b, &log), 0);
    CHECK_EQ_INT(b.n, 2);
    CHECK_EQ_INT(b.ids[1].sbdf, S0(5, 0, 0));
    CHECK_EQ_STR(b.ids[1].path, "0000:00:1c.0/00.0");
    CHECK_EQ_STR(b.ids[1].why, "assignable");
    CHECK_EQ_INT(b.ids[1].device, 0x100e);
    CHECK_EQ_INT(b.ids[1].class, 0x020000);
    CHECK_EQ_INT(b.ids[1].when, 1700000000LL);
    CHECK(b.ids[0].path == NULL);
    pt_idstore_free(&b);
    free(json);

    /* Bad documents name what is wrong. */
    CHECK_EQ_INT(pt_idstore_parse("{", 1, &b, &log), -EINVAL);
    CHECK_EQ_INT(pt_idstore_parse("{\"format\":\"x\"}", 14, &b, &log), -EINVAL);
    {
        const char *bad = "{\"format\":\"pcitopod-bdf-identity/1\",\"devices\":[{\"sbdf\":\"zz\",\"vendor\":\"0x1\",\"device\":\"0x2\"}]}";
        const char *big = "{\"format\":\"pcitopod-bdf-identity/1\",\"devices\":[{\"sbdf\":\"0000:01:00.0\",\"vendor\":\"0x12345\",\"device\":\"0x2\"}]}";

        CHECK_EQ_INT(pt_idstore_parse(bad, strlen(bad), &b, &log), -EINVAL);
        CHECK_EQ_INT(pt_idstore_parse(big, strlen(big), &b, &log), -EINVAL);
        CHECK(b.n == 0 && b.ids == NULL);
    }
    CHECK(log.nerrors >= 4);
    CHECK(log.n && strstr(log.msgs[log.n - 1].text, "devices[0]"));
    /* Nesting that overflowed the stack in yajl_tree_free(), a \u0000 that cut an SBDF short. */
    {
        size_t depth = 1000000;
        char *deep = malloc(2 * depth);
        const char *nul = "{\"format\":\"pcitopod-bdf-identity/1\",\"devices\":[{\"sbdf\":\"0000:01:00.0\\u0000x\",\"vendor\":\"0x1\",\"device\":\"0x2\"}]}";

        CHECK(deep != NULL);
        if ( deep )
        {
            memset(deep, '[', depth);
            memset(deep + depth, ']', depth);
            CHECK_EQ_INT(pt_idstore_parse(deep, 2 * depth, &b, &log), -EINVAL);
            CHECK(log.n && strstr(log.msgs[log.n - 1].text, "nested deeper than 64"));
            free(deep);
        }
        CHECK_EQ_INT(pt_idstore_parse(nul, strlen(nul), &b, &log), -EINVAL);
        CHECK(log.n && strstr(log.msgs[log.n - 1].text, "\\u0000"));
        CHECK(b.n == 0 && b.ids == NULL);
    }

    /* Files: absent is empty; save creates the directory; load round-trips. */
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof(file), "%s/sub/dir/ids.json", dir);
    CHECK_EQ_INT(pt_idstore_load(file, &b, &log), 0);
    CHECK_EQ_INT(b.n, 0);
    CHECK_EQ_INT(pt_idstore_save(&a, file, &log), 0);
    CHECK_EQ_INT(pt_idstore_load(file, &b, &log), 0);
    CHECK_EQ_INT(b.n, 2);
    pt_idstore_free(&b);
    {
        FILE *fp = fopen(file, "w");

        if ( fp )
        {
            fputs("not json", fp);
            fclose(fp);
        }
        CHECK_EQ_INT(pt_idstore_load(file, &b, &log), -EINVAL);
        CHECK(strstr(log.msgs[log.n - 1].text, file) != NULL);
    }
    unlink(file);
    snprintf(file, sizeof(file), "%s/sub/dir", dir);
    rmdir(file);
    snprintf(file, sizeof(file), "%s/sub", dir);
    rmdir(file);
    rmdir(dir);
    pt_idstore_free(&a);
    pt_errlog_free(&log);
}

/* ------------------------------------------------------------------ */
/* coordination with the daemon                                         */
/* ------------------------------------------------------------------ */

static long long ms_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_text(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");

    if ( f )
    {
        fputs(text, f);
        fclose(f);
    }
}

static void test_daemon_status(void)
{
    struct pt_daemon_status st;
    char dir[] = "/tmp/test_libxl_status.XXXXXX", file[128], doc[512], line[512];

    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof(file), "%s/status.json", dir);
    CHECK_EQ_INT(pt_daemon_status_read(file, &st), -ENOENT);
    pt_daemon_status_line(&st, -ENOENT, file, line, sizeof(line));
    CHECK(strstr(line, "the daemon has not run since boot") != NULL);

    snprintf(doc, sizeof(doc),
             "{ \"format\": \"pcitopod-status/1\", \"time\": 1700000000, \"pid\": %d, "
             "\"pass\": 4, \"trigger\": \"uevent\", \"result\": \"inconsistent\", "
             "\"error\": null, \"pending\": true, \"report\": { \"findings\": [] } }",
             (int)getpid());
    write_text(file, doc);
    CHECK_EQ_INT(pt_daemon_status_read(file, &st), 0);
    CHECK(st.alive && st.pending);
    CHECK_EQ_INT(st.pass, 4);
    CHECK_EQ_STR(st.trigger, "uevent");
    CHECK_EQ_STR(st.result, "inconsistent");
    CHECK_EQ_STR(st.error, "");
    pt_daemon_status_line(&st, 0, file, line, sizeof(line));
    CHECK(strstr(line, "running as pid") && strstr(line, "last pass #4") &&
          strstr(line, "(uevent): inconsistent") && strstr(line, "a pass is pending"));

    /* A dead daemon's "pending" means nothing. */
    write_text(file, "{ \"pid\": 2147483000, \"pending\": true, \"error\": \"EIO\" }");
    CHECK_EQ_INT(pt_daemon_status_read(file, &st), 0);
    CHECK(!st.alive);
    pt_daemon_status_line(&st, 0, file, line, sizeof(line));
    CHECK(strstr(line, "not running (pid 2147483000 is gone)") && strstr(line, ", error: EIO") &&
          !strstr(line, "pending"));

    write_text(file, "[1, 2]");
    CHECK_EQ_INT(pt_daemon_status_read(file, &st), -EINVAL);
    unlink(file);
    rmdir(dir);
}

static void test_lock_shared(void)
{
    char dir[] = "/tmp/test_libxl_lock.XXXXXX", lock[128], status[128], doc[256];
    int fd = -2, holder;
    bool left = true;
    long long t0;
    pid_t child;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(lock, sizeof(lock), "%s/lock", dir);
    snprintf(status, sizeof(status), "%s/status.json", dir);

    /* No lock file: no daemon ever ran, nothing to wait for. */
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 1000, false, &fd, &left), 0);
    CHECK_EQ_INT(fd, -1);
    CHECK(!left);

    /* Free: taken at once. */
    write_text(lock, "");
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 1000, false, &fd, &left), 0);
    CHECK(fd >= 0);
    /* Shared indeed: the daemon could not take it exclusively now. */
    holder = open(lock, O_RDONLY);
    CHECK(flock(holder, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK);
    close(fd);

    /* A repair in progress (exclusive holder): time-out, clearly. */
    CHECK_EQ_INT(flock(holder, LOCK_EX | LOCK_NB), 0);
    t0 = ms_now();
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 300, false, &fd, &left), -ETIMEDOUT);
    CHECK(ms_now() - t0 >= 290 && ms_now() - t0 < 3000);
    CHECK_EQ_INT(fd, -1);

    /* The repair ends while we wait: we get it. */
    child = fork();
    if ( child == 0 )
    {
        usleep(200000);
        flock(holder, LOCK_UN);
        _exit(0);
    }
    close(holder);              /* the child's copy of the description still holds it */
    t0 = ms_now();
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 5000, false, &fd, &left), 0);
    CHECK(ms_now() - t0 >= 150 && ms_now() - t0 < 4000);
    CHECK(fd >= 0);
    close(fd);
    waitpid(child, NULL, 0);

    /* A live daemon with a pass pending: waited for, up to the timeout. */
    snprintf(doc, sizeof(doc), "{ \"pid\": %d, \"pending\": true }", (int)getpid());
    write_text(status, doc);
    t0 = ms_now();
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 300, false, &fd, &left), 0);
    CHECK(left);
    CHECK(ms_now() - t0 >= 290);
    CHECK(fd >= 0);
    close(fd);
    /* ... not with no_wait ... */
    t0 = ms_now();
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 3000, true, &fd, &left), 0);
    CHECK(!left && ms_now() - t0 < 1000);
    close(fd);
    /* ... and only until the daemon says the pass is done. */
    child = fork();
    if ( child == 0 )
    {
        usleep(200000);
        snprintf(doc, sizeof(doc), "{ \"pid\": %d, \"pending\": false }", (int)getppid());
        write_text(status, doc);
        _exit(0);
    }
    t0 = ms_now();
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 5000, false, &fd, &left), 0);
    CHECK(!left && ms_now() - t0 >= 150 && ms_now() - t0 < 4000);
    close(fd);
    waitpid(child, NULL, 0);

    /* A dead daemon's pending pass is not waited for. */
    write_text(status, "{ \"pid\": 2147483000, \"pending\": true }");
    t0 = ms_now();
    CHECK_EQ_INT(pt_lock_shared_wait(lock, status, 3000, false, &fd, &left), 0);
    CHECK(!left && ms_now() - t0 < 1000);
    close(fd);

    unlink(status);
    unlink(lock);
    rmdir(dir);
}

int main(void)
{
    test_consistent();
    test_missing_device();
    test_renumbered_bridge();
    test_bridge_range_same_sbdf();
    test_bridge_wrong_class();
    test_own_mismatch();
    test_blocked();
    test_cycle();
    test_walk_without_findings();
    test_stale_alias_and_unrelated();
    test_vf_pf();
    test_absent_and_stock();
    test_finding_affects();
    test_drift();
    test_idstore_json();
    test_daemon_status();
    test_lock_shared();
    return tap_done();
}
