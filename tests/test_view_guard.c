/*
 * test_view_guard.c - pt_view_judge(): may anything be removed on dom0's
 * scan?  Hand-built cases (the tester's scan cut after 4 of 9, an empty
 * scan, the limit itself, what counts as dom0's, unreadable devices), then
 * the default against random renumbering histories (tests/history.c):
 * their true scans must pass (all but a few), every scan cut to a quarter
 * must not.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"
#include "history.h"
#include "tap.h"

static pt_sbdf_t S(const char *s)
{
    pt_sbdf_t v = 0;

    if ( pt_sbdf_parse(s, 0, &v) < 0 )
    {
        fprintf(stderr, "bad SBDF in test: %s\n", s);
        abort();
    }
    return v;
}

static const char *const nine[] = {
    "0000:00:00.0", "0000:00:02.0", "0000:00:02.1", "0000:00:02.2", "0000:00:1c.0",
    "0000:00:1c.1", "0000:01:00.0", "0000:02:00.0", "0000:03:01.0",
};

/* Xen's view: the nine, owned by owner. */
static void xen_nine(struct pt_xview *v, int owner)
{
    memset(v, 0, sizeof(*v));
    for ( size_t i = 0; i < 9; i++ )
    {
        struct pt_xdev x = { .sbdf = S(nine[i]), .owner = owner, .sec_bus = PT_NO_RANGE,
                             .sub_bus = PT_NO_RANGE };

        CHECK(pt_xview_add(v, &x) != NULL);
    }
    pt_xview_sort(v);
}

/* dom0's scan: the first n of the nine. */
static void dom0_first(struct pt_topo *t, size_t n)
{
    memset(t, 0, sizeof(*t));
    for ( size_t i = 0; i < n; i++ )
    {
        struct pt_dev d = { .sbdf = S(nine[i]), .parent = PT_NO_PARENT, .numa_node = -1 };

        CHECK_EQ_INT(pt_topo_add(t, &d), 0);
    }
    CHECK_EQ_INT(pt_topo_finish(t), 0);
}

/* The tester's case: the scan cut after 4 of 9; and the limit itself. */
static void test_share(void)
{
    struct pt_xview x;
    struct pt_topo t;
    struct pt_view_judgement j;

    xen_nine(&x, 0);
    dom0_first(&t, 4);
    pt_view_judge(&t, &x, PT_MAX_LOST_PCT_DEFAULT, &j);
    CHECK(!j.plausible);
    CHECK_EQ_INT(j.scanned, 4);
    CHECK_EQ_INT(j.xen_dom0, 9);
    CHECK_EQ_INT(j.lost, 5);
    CHECK_EQ_INT(j.lost_pct, 56);               /* 55.6, rounded up */
    CHECKF(strstr(j.why, "lacks 5 of the 9 devices Xen has for dom0 (56%, more than the 50% allowed)") != NULL,
           "%s", j.why);
    pt_view_judge(&t, &x, 56, &j);              /* 5/9 is not more than 56% */
    CHECK(j.plausible);
    CHECK_EQ_INT(j.why[0], '\0');
    pt_view_judge(&t, &x, 55, &j);              /* but more than 55% */
    CHECK(!j.plausible);
    pt_topo_free(&t);

    /* 1 of 9 lost: 11.1% -> 12%; refused at 11, not at 12; 0 refuses any loss. */
    dom0_first(&t, 8);
    pt_view_judge(&t, &x, 11, &j);
    CHECK(!j.plausible);
    CHECK_EQ_INT(j.lost_pct, 12);
    pt_view_judge(&t, &x, 12, &j);
    CHECK(j.plausible);
    pt_view_judge(&t, &x, 0, &j);
    CHECK(!j.plausible);
    pt_topo_free(&t);

    /* Nothing lost: plausible even at 0; 100 allows every loss but the total one. */
    dom0_first(&t, 9);
    pt_view_judge(&t, &x, 0, &j);
    CHECK(j.plausible);
    CHECK_EQ_INT(j.lost, 0);
    pt_topo_free(&t);
    dom0_first(&t, 1);
    pt_view_judge(&t, &x, 100, &j);
    CHECK(j.plausible);
    CHECK_EQ_INT(j.lost_pct, 89);
    pt_topo_free(&t);
    pt_xview_free(&x);
}

/* An empty scan is never plausible, whatever the limit and whatever Xen has. */
static void test_empty(void)
{
    struct pt_xview x;
    struct pt_topo t = { 0 };
    struct pt_view_judgement j;

    xen_nine(&x, 0);
    pt_view_judge(&t, &x, 100, &j);
    CHECK(!j.plausible);
    CHECKF(strstr(j.why, "found no PCI device at all") != NULL, "%s", j.why);
    CHECK_EQ_INT(j.lost, 9);
    pt_xview_free(&x);
    memset(&x, 0, sizeof(x));
    pt_view_judge(&t, &x, 100, &j);
    CHECK(!j.plausible);
    CHECKF(strstr(j.why, "Xen has none for dom0") != NULL, "%s", j.why);
}

/* Only dom0's entries count; a device present but unreadable is not lost. */
static void test_what_counts(void)
{
    static const int owners[] = { 1, PT_DOMID_IO, PT_DOMID_XEN, PT_OWNER_NONE };
    struct pt_xview x;
    struct pt_topo t;
    struct pt_view_judgement j;

    for ( size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++ )
    {
        xen_nine(&x, owners[i]);
        dom0_first(&t, 1);
        pt_view_judge(&t, &x, 0, &j);
        CHECKF(j.plausible && j.xen_dom0 == 0 && j.lost == 0, "owner %d counted", owners[i]);
        pt_topo_free(&t);
        pt_xview_free(&x);
    }

    xen_nine(&x, 0);
    dom0_first(&t, 4);
    for ( size_t i = 4; i < 9; i++ )
    {
        t.unreadable = realloc(t.unreadable, (t.nunreadable + 1) * sizeof(*t.unreadable));
        if ( !t.unreadable )
            abort();
        t.unreadable[t.nunreadable++] = S(nine[i]);
    }
    pt_view_judge(&t, &x, 0, &j);
    CHECK(j.plausible);
    CHECK_EQ_INT(j.scanned, 9);
    CHECK_EQ_INT(j.lost, 0);
    pt_topo_free(&t);
    pt_xview_free(&x);
}

/* Keeps one device in `keep` of topo (the others as if the scan never reached them). */
static void cut(struct pt_topo *t, size_t keep)
{
    size_t w = 0;

    for ( size_t i = 0; i < t->n; i++ )
    {
        if ( i % keep == 0 )
        {
            t->devs[w++] = t->devs[i];
            continue;
        }
        free(t->devs[i].path);
        free(t->devs[i].driver);
    }
    t->n = w;
    for ( size_t i = 0; i < t->n; i++ )
        t->devs[i].parent = PT_NO_PARENT;
}

/*
 * The default against random histories: Xen keeps the boot scan's ghosts of
 * devices dom0 renumbered, so the true scan lacks some of Xen's entries; it
 * must pass nearly always.  A scan cut to one device in four must never.
 */
static void test_histories(void)
{
    unsigned total = 0, refused = 0, over25 = 0, cuts = 0;

    for ( unsigned seed = 1; seed <= 300; seed++ )
        for ( int m = 0; m < 2; m++ )
        {
            struct hist h;
            struct hist_opts o = { 0 };
            struct pt_topo t;
            struct pt_view_judgement j;
            int r = hist_run(seed, m ? PT_HV_STOCK : PT_HV_PATCHED, &o, &h);

            CHECKF(r == 0, "seed %u: hist_run: %d", seed, r);
            if ( r )
                continue;
            CHECK_EQ_INT(fx_topo(h.tree, &t), 0);
            pt_view_judge(&t, &h.sim.state, PT_MAX_LOST_PCT_DEFAULT, &j);
            total++;
            refused += !j.plausible;
            over25 += j.lost * 100 > 25 * j.xen_dom0;
            if ( t.n >= 4 )
            {
                cut(&t, 4);
                pt_view_judge(&t, &h.sim.state, PT_MAX_LOST_PCT_DEFAULT, &j);
                cuts++;
                CHECKF(!j.plausible, "seed %u (%s): a scan of 1 device in 4 passes: %zu of %zu lost",
                       seed, pt_hv_name(h.sim.hv), j.lost, j.xen_dom0);
            }
            pt_topo_free(&t);
            hist_free(&h);
        }
    printf("# %u histories: %u true scans lack more than 25%% of Xen's dom0 entries, %u are "
           "refused at the default %u%%; %u scans cut to a quarter, all refused\n", total, over25, refused,
           PT_MAX_LOST_PCT_DEFAULT, cuts);
    CHECKF(refused * 100 < total * 2, "the default refuses %u of %u true scans", refused, total);
    CHECK(cuts > total / 2);
}

int main(void)
{
    test_share();
    test_empty();
    test_what_counts();
    test_histories();
    return tap_done();
}
