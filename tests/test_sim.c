/*
 * test_sim.c - unit tests of the Xen-registry simulator (sim.c), one case
 * per modelled behaviour of xen/drivers/passthrough/pci.c (4.17).
 *
 * The "hardware" is a small table of struct pt_cfg_info that each case
 * edits between hypercalls, so that what Xen reads at which moment is
 * explicit and independent of the fixture generator.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pcitopo.h"
#include "tap.h"

/* ------------------------------------------------------------------ */
/* Fake hardware                                                        */
/* ------------------------------------------------------------------ */

#define HW_MAX 32

struct fake_fn {
    bool present;
    pt_sbdf_t sbdf;
    struct pt_cfg_info ci;
};

struct fake_hw {
    struct fake_fn fn[HW_MAX];
    unsigned nprobes;
};

static int fake_probe(void *ctx, pt_sbdf_t sbdf, struct pt_cfg_info *info)
{
    struct fake_hw *hw = ctx;

    hw->nprobes++;
    for ( unsigned i = 0; i < HW_MAX; i++ )
        if ( hw->fn[i].present && hw->fn[i].sbdf == sbdf )
        {
            *info = hw->fn[i].ci;
            return 0;
        }
    return -ENODEV;
}

static struct fake_fn *hw_slot(struct fake_hw *hw, pt_sbdf_t sbdf)
{
    for ( unsigned i = 0; i < HW_MAX; i++ )
        if ( hw->fn[i].present && hw->fn[i].sbdf == sbdf )
            return &hw->fn[i];
    for ( unsigned i = 0; i < HW_MAX; i++ )
        if ( !hw->fn[i].present )
        {
            memset(&hw->fn[i], 0, sizeof(hw->fn[i]));
            hw->fn[i].present = true;
            hw->fn[i].sbdf = sbdf;
            return &hw->fn[i];
        }
    return NULL;
}

/* Puts a function of Xen type t at sbdf; bridges get sec/sub. */
static struct fake_fn *hw_put(struct fake_hw *hw, pt_sbdf_t sbdf, enum pt_dev_type t,
                              uint8_t sec, uint8_t sub)
{
    struct fake_fn *f = hw_slot(hw, sbdf);

    f->ci.len = PT_CFG_FULL_LEN;
    f->ci.vendor = 0x8086;
    f->ci.device = 0x1234;
    f->ci.xen_type = t;
    f->ci.caps_known = true;
    if ( pt_type_is_bridge(t) )
    {
        f->ci.header_type = 1;
        f->ci.class = 0x060400;
        f->ci.reg_pri = PT_BUS(sbdf);
        f->ci.reg_sec = sec;
        f->ci.reg_sub = sub;
    }
    else
        f->ci.class = t == PT_TYPE_HOST_BRIDGE ? 0x060000 : 0x020000;
    return f;
}

static void hw_set_range(struct fake_hw *hw, pt_sbdf_t sbdf, uint8_t sec, uint8_t sub)
{
    struct fake_fn *f = hw_slot(hw, sbdf);

    f->ci.reg_sec = sec;
    f->ci.reg_sub = sub;
}

static void hw_unplug(struct fake_hw *hw, pt_sbdf_t sbdf)
{
    for ( unsigned i = 0; i < HW_MAX; i++ )
        if ( hw->fn[i].present && hw->fn[i].sbdf == sbdf )
            hw->fn[i].present = false;
}

#define SB(bus, slot, fn) PT_SBDF(0, (bus), PT_DEVFN_OF((slot), (fn)))

static void start(struct pt_sim *sim, struct fake_hw *hw, enum pt_hv_model hv)
{
    struct pt_hw h = { .probe = fake_probe, .ctx = hw };

    CHECK_EQ_INT(pt_sim_init(sim, NULL, hv, h), 0);
    CHECK_EQ_INT(sim->hv, hv);
}

static const struct pt_b2b_entry *b2b(const struct pt_sim *sim, uint8_t bus)
{
    static const struct pt_b2b_entry none;
    struct pt_xseg *s = pt_xview_seg((struct pt_xview *)&sim->state, 0, false);

    return s ? &s->b2b[bus] : &none;
}

/* True when bus maps to the bridge at sbdf. */
static bool maps_to(const struct pt_sim *sim, uint8_t bus, pt_sbdf_t bridge)
{
    const struct pt_b2b_entry *e = b2b(sim, bus);

    return e->map && e->bus == PT_BUS(bridge) && e->devfn == PT_DEVFN(bridge);
}

static int add_plain(struct pt_sim *sim, pt_sbdf_t sbdf)
{
    struct pt_add_info ai = { .pxm = -1 };

    return pt_sim_add(sim, sbdf, &ai);
}

static const struct pt_xdev *xd(const struct pt_sim *sim, pt_sbdf_t sbdf)
{
    return pt_xview_find(&sim->state, sbdf);
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

/* pdev_type() classes, the recorded ranges, and who feeds bus2bridge. */
static void test_types_and_ranges(void)
{
    static const struct { enum pt_dev_type t; bool bridge, feeds; } cases[] = {
        { PT_TYPE_HOST_BRIDGE, false, false },
        { PT_TYPE_PCIE_PORT, true, false },
        { PT_TYPE_PCIE2PCI_BRIDGE, true, true },
        { PT_TYPE_LEGACY_BRIDGE, true, true },
        { PT_TYPE_PCI2PCIE_BRIDGE, true, false },
        { PT_TYPE_PCIE_ENDPOINT, false, false },
        { PT_TYPE_PCI_ENDPOINT, false, false },
    };

    for ( unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++ )
    {
        struct fake_hw hw = { 0 };
        struct pt_sim sim;
        pt_sbdf_t s = SB(0, 1, 0);
        const struct pt_xdev *d;
        bool any = false;

        start(&sim, &hw, PT_HV_STOCK);
        hw_put(&hw, s, cases[i].t, 3, 5);
        CHECK_EQ_INT(add_plain(&sim, s), 0);
        d = xd(&sim, s);
        CHECK(d != NULL);
        if ( !d )
            continue;
        CHECKF(d->type == cases[i].t, "case %u: type %s", i, pt_type_name(d->type));
        CHECK_EQ_INT(d->owner, 0);
        CHECK_EQ_INT(d->sec_bus, cases[i].bridge ? 3 : PT_NO_RANGE);
        CHECK_EQ_INT(d->sub_bus, cases[i].bridge ? 5 : PT_NO_RANGE);
        for ( unsigned b = 0; b < 256; b++ )
            any |= b2b(&sim, b)->map;
        CHECKF(any == cases[i].feeds, "case %s: bus2bridge written %d",
               pt_type_name(cases[i].t), any);
        if ( cases[i].feeds )
            CHECK(maps_to(&sim, 3, s) && maps_to(&sim, 4, s) && maps_to(&sim, 5, s) &&
                  !b2b(&sim, 2)->map && !b2b(&sim, 6)->map);
        CHECK_EQ_INT(sim.nops, 1);
        CHECK_EQ_INT(sim.state.source, PT_SOURCE_SIM);
        pt_sim_free(&sim);
    }
}

/* alloc_pdev() edge cases: 0/0 writes entry 0, sec > sub writes nothing, phantom stride. */
static void test_alloc_edges(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    struct fake_fn *f;

    start(&sim, &hw, PT_HV_STOCK);
    hw_put(&hw, SB(0, 1, 0), PT_TYPE_PCIE2PCI_BRIDGE, 0, 0);
    CHECK_EQ_INT(add_plain(&sim, SB(0, 1, 0)), 0);
    CHECK(maps_to(&sim, 0, SB(0, 1, 0)));
    CHECK_EQ_INT(xd(&sim, SB(0, 1, 0))->sec_bus, 0);

    hw_put(&hw, SB(0, 2, 0), PT_TYPE_LEGACY_BRIDGE, 9, 8);
    CHECK_EQ_INT(add_plain(&sim, SB(0, 2, 0)), 0);
    CHECK(!b2b(&sim, 8)->map && !b2b(&sim, 9)->map);
    CHECK_EQ_INT(xd(&sim, SB(0, 2, 0))->sec_bus, 9);

    f = hw_put(&hw, SB(0, 3, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    f->ci.phantom_stride = 4;
    CHECK_EQ_INT(add_plain(&sim, SB(0, 3, 0)), 0);
    CHECK_EQ_INT(xd(&sim, SB(0, 3, 0))->phantom_stride, 4);
    pt_sim_free(&sim);
}

/* free_pdev() on stock reads the registers at removal time: the old range stays. */
static void test_stock_free_residue(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t up = SB(0, 1, 0), br = SB(2, 0, 0);

    start(&sim, &hw, PT_HV_STOCK);
    hw_put(&hw, up, PT_TYPE_LEGACY_BRIDGE, 2, 9);
    hw_put(&hw, br, PT_TYPE_PCIE2PCI_BRIDGE, 3, 4);
    CHECK_EQ_INT(add_plain(&sim, up), 0);
    CHECK_EQ_INT(add_plain(&sim, br), 0);
    CHECK(maps_to(&sim, 3, br) && maps_to(&sim, 4, br) && maps_to(&sim, 5, up));

    /* dom0 renumbers the bridge to 5..5 behind Xen's back, then removes it. */
    hw_set_range(&hw, br, 5, 5);
    CHECK_EQ_INT(pt_sim_remove(&sim, br), 0);
    CHECK(xd(&sim, br) == NULL);
    CHECK(maps_to(&sim, 3, br) && maps_to(&sim, 4, br));   /* residue: freed bridge */
    CHECK(maps_to(&sim, 5, up));                           /* := bus2bridge[2] */

    /* A surprise-removed bridge reads 0xff/0xff: only entry 255 is touched. */
    hw_put(&hw, SB(0, 4, 0), PT_TYPE_PCIE2PCI_BRIDGE, 10, 11);
    CHECK_EQ_INT(add_plain(&sim, SB(0, 4, 0)), 0);
    hw_unplug(&hw, SB(0, 4, 0));
    CHECK_EQ_INT(pt_sim_remove(&sim, SB(0, 4, 0)), 0);
    CHECK(maps_to(&sim, 10, SB(0, 4, 0)) && maps_to(&sim, 11, SB(0, 4, 0)));
    CHECK(!b2b(&sim, 255)->map);                           /* := bus2bridge[0] */

    /* Same history on the patched model: nothing survives, no config read. */
    pt_sim_free(&sim);
    start(&sim, &hw, PT_HV_PATCHED);
    hw_set_range(&hw, br, 3, 4);
    CHECK_EQ_INT(add_plain(&sim, up), 0);
    CHECK_EQ_INT(add_plain(&sim, br), 0);
    hw_set_range(&hw, br, 5, 5);
    hw.nprobes = 0;
    CHECK_EQ_INT(pt_sim_remove(&sim, br), 0);
    CHECK_EQ_INT(hw.nprobes, 0);
    CHECK(maps_to(&sim, 3, up) && maps_to(&sim, 4, up) && maps_to(&sim, 5, up));
    pt_sim_free(&sim);
}

/* The seed: a bridge added at 06:00.0 while it still reads 6..6. */
static void test_seed_cycle(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t br = SB(6, 0, 0), ep = SB(6, 1, 0), bridge = 0;

    start(&sim, &hw, PT_HV_STOCK);
    hw_put(&hw, br, PT_TYPE_PCIE2PCI_BRIDGE, 6, 6);
    hw_put(&hw, ep, PT_TYPE_PCI_ENDPOINT, 0, 0);
    CHECK_EQ_INT(add_plain(&sim, br), 0);
    CHECK(maps_to(&sim, 6, br));
    CHECK_EQ_INT(pt_sim_find_upstream_bridge(&sim, ep, &bridge), -1);
    /* domain_context_mapping(): find_upstream_bridge() < 0 => -ENXIO, owner NULL */
    CHECK_EQ_INT(add_plain(&sim, ep), -ENXIO);
    CHECK(xd(&sim, ep) && xd(&sim, ep)->owner == PT_OWNER_NONE);
    /* a PCIe endpoint on the same bus does not consult bus2bridge */
    hw_put(&hw, SB(6, 2, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(add_plain(&sim, SB(6, 2, 0)), 0);
    /* bus 0 is never walked */
    CHECK_EQ_INT(pt_sim_find_upstream_bridge(&sim, SB(0, 1, 0), &bridge), 0);
    /* unknown segment */
    CHECK_EQ_INT(pt_sim_find_upstream_bridge(&sim, PT_SBDF(7, 6, 0), &bridge), -1);
    pt_sim_free(&sim);

    /* Patched: a range containing the bridge's own bus is ignored. */
    start(&sim, &hw, PT_HV_PATCHED);
    CHECK_EQ_INT(add_plain(&sim, br), 0);
    CHECK_EQ_INT(xd(&sim, br)->sec_bus, 6);     /* still recorded as read */
    CHECK(!b2b(&sim, 6)->map);
    CHECK_EQ_INT(pt_sim_find_upstream_bridge(&sim, ep, &bridge), 0);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);
    pt_sim_free(&sim);
}

/* A two-bridge loop and the 256-step bound; the top-most bridge is returned. */
static void test_upstream_walk(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t a = SB(5, 0, 0), b = SB(6, 0, 0), outer = SB(1, 2, 0), inner = SB(2, 0, 0);
    pt_sbdf_t got = 0;

    start(&sim, &hw, PT_HV_STOCK);
    hw_put(&hw, a, PT_TYPE_LEGACY_BRIDGE, 6, 6);
    hw_put(&hw, b, PT_TYPE_LEGACY_BRIDGE, 5, 5);
    CHECK_EQ_INT(add_plain(&sim, a), 0);
    CHECK_EQ_INT(add_plain(&sim, b), -ENXIO);   /* legacy bridge on a looping bus */
    CHECK_EQ_INT(pt_sim_find_upstream_bridge(&sim, SB(5, 3, 0), &got), -1);

    hw_put(&hw, outer, PT_TYPE_PCIE2PCI_BRIDGE, 2, 4);
    hw_put(&hw, inner, PT_TYPE_LEGACY_BRIDGE, 3, 4);
    CHECK_EQ_INT(add_plain(&sim, outer), 0);
    CHECK_EQ_INT(add_plain(&sim, inner), 0);
    CHECK_EQ_INT(pt_sim_find_upstream_bridge(&sim, SB(4, 0, 0), &got), 1);
    CHECK_EQ_INT(got, outer);                   /* the walk goes 4 -> 02:00.0 -> 01:02.0 */
    CHECK_EQ_INT(pt_sim_find_upstream_bridge(&sim, SB(2, 1, 0), &got), 1);
    CHECK_EQ_INT(got, outer);
    pt_sim_free(&sim);
}

/* A VF add auto-adds its unknown PF with info NULL; the VF's extfn is the PF's. */
static void test_vf_auto_adds_pf(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t pf = SB(3, 0, 0), vf = SB(3, 0, 1), pf2 = SB(3, 1, 0), vf2 = SB(3, 2, 0);
    struct pt_add_info vi = { .virtfn = true, .physfn = pf, .extfn = true, .pxm = -1 };
    struct pt_add_info ei = { .extfn = true, .pxm = -1 };
    const struct pt_xdev *d;

    start(&sim, &hw, PT_HV_PATCHED);
    hw_put(&hw, pf, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hw_put(&hw, vf, PT_TYPE_PCIE_ENDPOINT, 0, 0)->ci.vendor = 0xffff;
    CHECK_EQ_INT(pt_sim_add(&sim, vf, &vi), 0);
    d = xd(&sim, pf);
    CHECK(d && !d->virtfn && !d->extfn && d->owner == 0);
    d = xd(&sim, vf);
    CHECK(d && d->virtfn && d->has_physfn && d->physfn == pf);
    CHECK(d && !d->extfn);                      /* PF's extfn, not the caller's */
    CHECK_EQ_INT(sim.nops, 1);

    /* a known extended-function PF passes its extfn on */
    hw_put(&hw, pf2, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hw_put(&hw, vf2, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(pt_sim_add(&sim, pf2, &ei), 0);
    vi.physfn = pf2;
    vi.extfn = false;
    CHECK_EQ_INT(pt_sim_add(&sim, vf2, &vi), 0);
    CHECK(xd(&sim, vf2) && xd(&sim, vf2)->extfn);

    /* 4.17 keeps no PF/VF links: a PF goes while its VFs stay */
    CHECK_EQ_INT(pt_sim_remove(&sim, pf), 0);
    CHECK(xd(&sim, pf) == NULL && xd(&sim, vf) && xd(&sim, vf)->physfn == pf);
    pt_sim_free(&sim);
}

/* Re-adding a known BDF: no config read, but info is overwritten when given. */
static void test_readd(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t br = SB(0, 1, 0), ep = SB(1, 0, 0), pf = SB(1, 0, 4);
    struct pt_add_info ei = { .extfn = true, .pxm = -1 };
    struct pt_add_info vi = { .virtfn = true, .physfn = pf, .pxm = -1 };

    start(&sim, &hw, PT_HV_STOCK);
    hw_put(&hw, br, PT_TYPE_PCIE2PCI_BRIDGE, 1, 2);
    CHECK_EQ_INT(add_plain(&sim, br), 0);
    hw_put(&hw, br, PT_TYPE_PCIE_PORT, 5, 6);   /* a different device now */
    hw.nprobes = 0;
    CHECK_EQ_INT(add_plain(&sim, br), 0);
    CHECK_EQ_INT(hw.nprobes, 0);
    CHECK_EQ_INT(xd(&sim, br)->type, PT_TYPE_PCIE2PCI_BRIDGE);
    CHECK_EQ_INT(xd(&sim, br)->sec_bus, 1);
    CHECK(maps_to(&sim, 1, br) && maps_to(&sim, 2, br) && !b2b(&sim, 5)->map);

    hw_put(&hw, ep, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hw_put(&hw, pf, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(pt_sim_add(&sim, ep, &ei), 0);
    CHECK(xd(&sim, ep)->extfn);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);        /* info given: overwritten */
    CHECK(!xd(&sim, ep)->extfn);
    CHECK_EQ_INT(pt_sim_add(&sim, ep, &vi), 0);  /* now a VF of 01:00.4 (auto-added) */
    CHECK(xd(&sim, ep)->virtfn && xd(&sim, ep)->physfn == pf && xd(&sim, pf));
    CHECK_EQ_INT(pt_sim_add(&sim, ep, NULL), 0); /* legacy add: info untouched */
    CHECK(xd(&sim, ep)->virtfn);
    pt_sim_free(&sim);
}

/* When an add leaves owner NULL, and the retry on re-add. */
static void test_owner_null(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t ghost = SB(9, 0, 0), ep = SB(4, 0, 0);

    start(&sim, &hw, PT_HV_PATCHED);
    /* nothing responds: PCI_UNKNOWN, VT-d -EINVAL; the type is cached for good */
    CHECK_EQ_INT(add_plain(&sim, ghost), -EINVAL);
    CHECK(xd(&sim, ghost) && xd(&sim, ghost)->type == PT_TYPE_UNKNOWN &&
          xd(&sim, ghost)->owner == PT_OWNER_NONE && xd(&sim, ghost)->sec_bus == PT_NO_RANGE);
    hw_put(&hw, ghost, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(add_plain(&sim, ghost), -EINVAL);

    /* a device outside the DMAR scope; the retry on re-add succeeds */
    hw_put(&hw, ep, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);
    CHECK_EQ_INT(pt_sim_fail_owner(&sim, ep), 0);
    CHECK_EQ_INT(xd(&sim, ep)->owner, PT_OWNER_NONE);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);
    CHECK_EQ_INT(xd(&sim, ep)->owner, 0);
    CHECK_EQ_INT(pt_sim_fail_owner(&sim, SB(4, 0, 1)), -ENODEV);

    /* an owner is never reset by a re-add */
    CHECK_EQ_INT(pt_sim_assign(&sim, ep, 3), 0);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);
    CHECK_EQ_INT(xd(&sim, ep)->owner, 3);
    pt_sim_free(&sim);
}

/* Stock 4.17.7 panics when an owner-less entry is removed; patched frees it. */
static void test_owner_null_remove(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t ep = SB(4, 0, 0), other = SB(4, 1, 0);

    start(&sim, &hw, PT_HV_STOCK);
    hw_put(&hw, ep, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hw_put(&hw, other, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);
    CHECK_EQ_INT(add_plain(&sim, other), 0);
    CHECK_EQ_INT(pt_sim_fail_owner(&sim, ep), 0);
    CHECK(!sim.crashed);
    CHECK_EQ_INT(pt_sim_remove(&sim, ep), -EFAULT);
    CHECK(sim.crashed);
    /* a crashed hypervisor serves nothing */
    CHECK_EQ_INT(pt_sim_remove(&sim, other), -EFAULT);
    CHECK_EQ_INT(add_plain(&sim, SB(4, 2, 0)), -EFAULT);
    CHECK_EQ_INT(pt_sim_assign(&sim, other, 1), -EFAULT);
    CHECK_EQ_INT(pt_sim_boot_scan(&sim, 0), -EFAULT);
    CHECK(xd(&sim, other) != NULL);
    pt_sim_free(&sim);

    start(&sim, &hw, PT_HV_PATCHED);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);
    CHECK_EQ_INT(pt_sim_fail_owner(&sim, ep), 0);
    CHECK_EQ_INT(pt_sim_remove(&sim, ep), 0);
    CHECK(!sim.crashed && xd(&sim, ep) == NULL);
    CHECK_EQ_INT(pt_sim_remove(&sim, ep), -ENODEV);
    pt_sim_free(&sim);
}

/* Patched: bus2bridge is derived (innermost recorded range wins, tie-breaks). */
static void test_patched_derived(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t outer = SB(1, 0, 0), inner = SB(2, 0, 0), port = SB(0, 1, 0);
    pt_sbdf_t t1 = SB(0, 2, 0), t2 = SB(0, 3, 0), t3 = SB(0x10, 1, 0);

    start(&sim, &hw, PT_HV_PATCHED);
    hw_put(&hw, port, PT_TYPE_PCIE_PORT, 1, 5);
    hw_put(&hw, outer, PT_TYPE_PCIE2PCI_BRIDGE, 2, 5);
    hw_put(&hw, inner, PT_TYPE_LEGACY_BRIDGE, 3, 4);
    /* add the inner bridge first: the order must not matter */
    CHECK_EQ_INT(add_plain(&sim, inner), 0);
    CHECK_EQ_INT(add_plain(&sim, port), 0);
    CHECK_EQ_INT(add_plain(&sim, outer), 0);
    CHECK(!b2b(&sim, 1)->map);                  /* root ports never appear */
    CHECK(maps_to(&sim, 2, outer) && maps_to(&sim, 3, inner) && maps_to(&sim, 4, inner) &&
          maps_to(&sim, 5, outer) && !b2b(&sim, 6)->map);

    /* removal restores the recorded ranges, whatever the hardware reads now */
    hw_unplug(&hw, inner);
    CHECK_EQ_INT(pt_sim_remove(&sim, inner), 0);
    CHECK(maps_to(&sim, 3, outer) && maps_to(&sim, 4, outer));
    CHECK_EQ_INT(pt_sim_remove(&sim, outer), 0);
    for ( unsigned b = 0; b < 256; b++ )
        CHECKF(!b2b(&sim, b)->map, "bus %u still mapped", b);

    /* equal widths: the larger bridge bus wins, then the larger devfn */
    hw_put(&hw, t1, PT_TYPE_LEGACY_BRIDGE, 0x20, 0x21);
    hw_put(&hw, t2, PT_TYPE_LEGACY_BRIDGE, 0x20, 0x21);
    CHECK_EQ_INT(add_plain(&sim, t2), 0);
    CHECK_EQ_INT(add_plain(&sim, t1), 0);
    CHECK(maps_to(&sim, 0x20, t2) && maps_to(&sim, 0x21, t2));
    hw_put(&hw, t3, PT_TYPE_LEGACY_BRIDGE, 0x20, 0x21);
    CHECK_EQ_INT(add_plain(&sim, t3), 0);
    CHECK(maps_to(&sim, 0x20, t3));
    /* ignored ranges: sec > sub, sec == 0, 0/0 */
    hw_put(&hw, SB(0, 4, 0), PT_TYPE_LEGACY_BRIDGE, 0, 0);
    hw_put(&hw, SB(0, 5, 0), PT_TYPE_LEGACY_BRIDGE, 0x31, 0x30);
    CHECK_EQ_INT(add_plain(&sim, SB(0, 4, 0)), 0);
    CHECK_EQ_INT(add_plain(&sim, SB(0, 5, 0)), 0);
    CHECK(!b2b(&sim, 0)->map && !b2b(&sim, 0x30)->map && !b2b(&sim, 0x31)->map);
    pt_sim_free(&sim);
}

/* _scan_pci_devices(): VFs and functions of single-function slots are not found. */
static void test_boot_scan(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    struct fake_fn *f;

    start(&sim, &hw, PT_HV_STOCK);
    hw_put(&hw, SB(0, 0, 0), PT_TYPE_HOST_BRIDGE, 0, 0);
    hw_put(&hw, SB(0, 0, 3), PT_TYPE_PCIE_ENDPOINT, 0, 0);      /* fn0 not multifunction */
    f = hw_put(&hw, SB(0, 2, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    f->ci.header_type = 0x80;
    hw_put(&hw, SB(0, 2, 5), PT_TYPE_PCIE_ENDPOINT, 0, 0);      /* found */
    hw_put(&hw, SB(0, 3, 1), PT_TYPE_PCIE_ENDPOINT, 0, 0);      /* fn0 absent: slot skipped */
    hw_put(&hw, SB(0, 1, 0), PT_TYPE_PCIE2PCI_BRIDGE, 4, 4);
    f = hw_put(&hw, SB(4, 0, 0), PT_TYPE_PCI_ENDPOINT, 0, 0);
    f->ci.header_type = 0x80;
    f = hw_put(&hw, SB(4, 0, 1), PT_TYPE_PCIE_ENDPOINT, 0, 0);  /* a VF: vendor 0xffff */
    f->ci.vendor = 0xffff;
    f = hw_put(&hw, SB(4, 1, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);  /* vendor 0: empty */
    f->ci.vendor = 0;
    hw_put(&hw, PT_SBDF(1, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0); /* other segment */

    CHECK_EQ_INT(pt_sim_boot_scan(&sim, 0), 0);
    CHECK(xd(&sim, SB(0, 0, 0)) && xd(&sim, SB(0, 2, 0)) && xd(&sim, SB(0, 2, 5)) &&
          xd(&sim, SB(0, 1, 0)) && xd(&sim, SB(4, 0, 0)));
    CHECK(!xd(&sim, SB(0, 0, 3)) && !xd(&sim, SB(0, 3, 1)) && !xd(&sim, SB(4, 0, 1)) &&
          !xd(&sim, SB(4, 1, 0)) && !xd(&sim, PT_SBDF(1, 0, 0)));
    CHECK_EQ_INT(pt_xview_seg(&sim.state, 0, false)->n, 5);
    for ( size_t i = 0; i < sim.state.segs[0].n; i++ )
        CHECK_EQ_INT(sim.state.segs[0].devs[i].owner, 0);   /* setup_hwdom_pci_devices() */
    CHECK(maps_to(&sim, 4, SB(0, 1, 0)));
    CHECK_EQ_INT(pt_sim_boot_scan(&sim, 1), 0);
    CHECK(xd(&sim, PT_SBDF(1, 0, 0)) != NULL);
    pt_sim_free(&sim);
}

/* Assignment and quarantine ownership rules. */
static void test_assign(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    pt_sbdf_t ep = SB(5, 0, 0);

    start(&sim, &hw, PT_HV_PATCHED);
    hw_put(&hw, ep, PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(pt_sim_assign(&sim, ep, PT_DOMID_IO), -ENODEV);
    CHECK_EQ_INT(add_plain(&sim, ep), 0);
    CHECK_EQ_INT(pt_sim_assign(&sim, ep, PT_DOMID_IO), 0);
    CHECK_EQ_INT(xd(&sim, ep)->owner, PT_DOMID_IO);
    CHECK_EQ_INT(pt_sim_assign(&sim, ep, 4), 0);    /* from quarantine to a guest */
    CHECK_EQ_INT(pt_sim_assign(&sim, ep, 5), -EBUSY);
    CHECK_EQ_INT(xd(&sim, ep)->owner, 4);
    CHECK_EQ_INT(pt_sim_assign(&sim, ep, 0), 0);
    CHECK_EQ_INT(xd(&sim, ep)->owner, 0);
    pt_sim_free(&sim);
}

/* pt_sim_apply(): in order, stops at the first error and says which. */
static void test_apply(void)
{
    struct fake_hw hw = { 0 };
    struct pt_sim sim;
    struct pt_op ops[4] = {
        { .op = PT_OP_ADD, .sbdf = SB(1, 0, 0), .pxm = -1 },
        { .op = PT_OP_QUARANTINE, .sbdf = SB(1, 0, 0) },
        { .op = PT_OP_REMOVE, .sbdf = SB(2, 0, 0) },          /* unknown: -ENODEV */
        { .op = PT_OP_ADD, .sbdf = SB(3, 0, 0), .pxm = -1 },
    };
    struct pt_plan plan = { .ops = ops, .n = 4 };
    struct pt_errlog log = { 0 };
    size_t done = 99;

    start(&sim, &hw, PT_HV_PATCHED);
    hw_put(&hw, SB(1, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    hw_put(&hw, SB(3, 0, 0), PT_TYPE_PCIE_ENDPOINT, 0, 0);
    CHECK_EQ_INT(pt_sim_apply(&sim, &plan, &done, &log), -ENODEV);
    CHECK_EQ_INT(done, 2);
    CHECK(xd(&sim, SB(1, 0, 0)) && xd(&sim, SB(1, 0, 0))->owner == PT_DOMID_IO);
    CHECK(xd(&sim, SB(3, 0, 0)) == NULL);
    CHECK_EQ_INT(log.nerrors, 1);
    CHECK(log.n == 1 && strstr(log.msgs[0].text, "0000:02:00.0") &&
          strstr(log.msgs[0].text, "remove"));

    plan.ops = &ops[3];
    plan.n = 1;
    CHECK_EQ_INT(pt_sim_apply(&sim, &plan, &done, &log), 0);
    CHECK_EQ_INT(done, 1);
    CHECK(xd(&sim, SB(3, 0, 0)) != NULL);
    pt_errlog_free(&log);
    pt_sim_free(&sim);
}

/* pt_sim_init() copies a loaded view: a stock view without a table gets an empty one. */
static void test_init_from_view(void)
{
    struct pt_xview v = { .source = PT_SOURCE_STOCK, .hv = PT_HV_STOCK };
    struct pt_xdev d = { .sbdf = SB(0, 1, 0), .type = PT_TYPE_LEGACY_BRIDGE,
                         .sec_bus = 2, .sub_bus = 3, .owner = 0 };
    struct pt_xseg *s;
    struct pt_sim sim;
    struct pt_hw h = { 0 };

    s = pt_xview_seg(&v, 0, true);
    CHECK(s != NULL);
    if ( !s )
        return;
    s->b2b_known = false;
    s->b2b[7].map = true;
    CHECK(pt_xview_add(&v, &d) != NULL);

    CHECK_EQ_INT(pt_sim_init(&sim, &v, -1, h), 0);
    CHECK_EQ_INT(sim.hv, PT_HV_STOCK);
    CHECK(sim.state.segs[0].b2b_known && !b2b(&sim, 7)->map);
    pt_sim_free(&sim);

    /* the patched model derives the table from the recorded ranges at once */
    CHECK_EQ_INT(pt_sim_init(&sim, &v, PT_HV_PATCHED, h), 0);
    CHECK(maps_to(&sim, 2, SB(0, 1, 0)) && maps_to(&sim, 3, SB(0, 1, 0)));
    CHECK(pt_xview_find(&v, SB(0, 1, 0)) != NULL);  /* the source is untouched */
    pt_sim_free(&sim);
    pt_xview_free(&v);
}

int main(void)
{
    test_types_and_ranges();
    test_alloc_edges();
    test_stock_free_residue();
    test_seed_cycle();
    test_upstream_walk();
    test_vf_auto_adds_pf();
    test_readd();
    test_owner_null();
    test_owner_null_remove();
    test_patched_derived();
    test_boot_scan();
    test_assign();
    test_apply();
    test_init_from_view();
    return tap_done();
}
