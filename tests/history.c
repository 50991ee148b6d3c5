/*
 * history.c - random renumbering histories (see history.h).
 *
 * dom0 Linux is modelled by the functions prefixed lx_: which devices it
 * knows (it has reported them to Xen), how it enumerates a bus
 * (pci_scan_child_bus_extend(), pci_scan_bridge_extend()), hot-adds a
 * bridge (pci_hp_add_bridge()), and removes a subtree
 * (pci_stop_and_remove_bus_device()).  Xen is the simulator; its "hardware"
 * is the fixture tree, read at the moment of each hypercall.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "history.h"
#include "pcitopo.h"

struct lx {
    struct hist *h;
    unsigned rng;
    bool assign;                /* pci=assign-busses */
    unsigned hp;                /* pci=hpbussize */
    unsigned char *known;       /* by fx id: dom0 has reported the device */
    size_t nknown;
    FILE *trace;
};

/* One device Linux removes, remembered before the tree changes. */
struct rm_item {
    pt_sbdf_t sbdf;
    unsigned id;
};

struct rm_list {
    struct rm_item *v;
    size_t n, cap;
};

static const char *const event_names[HIST_EV__COUNT] = {
    [HIST_EV_RESCAN] = "rescan", [HIST_EV_HOTPLUG] = "hotplug",
    [HIST_EV_UNPLUG] = "unplug", [HIST_EV_SRIOV_ON] = "sriov-on",
    [HIST_EV_SRIOV_OFF] = "sriov-off", [HIST_EV_ASSIGN] = "assign",
    [HIST_EV_FAIL_OWNER] = "fail-owner",
};

/* The name of an event. */
const char *hist_event_name(enum hist_event e)
{
    return (unsigned)e < HIST_EV__COUNT ? event_names[e] : "?";
}

/* xorshift32: deterministic per seed, never 0. */
static unsigned rnd(struct lx *lx)
{
    unsigned x = lx->rng;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    lx->rng = x;
    return x;
}

static unsigned rnd_below(struct lx *lx, unsigned n)
{
    return n ? rnd(lx) % n : 0;
}

static void trace(struct lx *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct lx *lx, const char *fmt, ...)
{
    va_list ap;

    if ( !lx->trace )
        return;
    va_start(ap, fmt);
    vfprintf(lx->trace, fmt, ap);
    va_end(ap);
    fputc('\n', lx->trace);
}

/* ------------------------------------------------------------------ */
/* What dom0 knows                                                      */
/* ------------------------------------------------------------------ */

static bool is_known(const struct lx *lx, const struct fx_dev *d)
{
    return d->id < lx->nknown && lx->known[d->id];
}

static int set_known(struct lx *lx, const struct fx_dev *d, bool k)
{
    if ( d->id >= lx->nknown )
    {
        size_t n = (d->id + 1) * 2;
        unsigned char *nk = realloc(lx->known, n);

        if ( !nk )
            return -ENOMEM;
        memset(nk + lx->nknown, 0, n - lx->nknown);
        lx->known = nk;
        lx->nknown = n;
    }
    lx->known[d->id] = k;
    return 0;
}

static bool is_hotplug_port(const struct fx_dev *d)
{
    return d->kind == FX_ROOT_PORT || d->kind == FX_SWITCH_DOWN;
}

/* The end of the bus range a node's secondary bus may use (busn_res.end). */
static unsigned bus_end(const struct fx_dev *node)
{
    return node->kind == FX_ROOT_BUS ? 0xff : node->sub;
}

static int cmp_devfn(const void *a, const void *b)
{
    const struct fx_dev *x = *(struct fx_dev *const *)a, *y = *(struct fx_dev *const *)b;
    unsigned dx = PT_DEVFN_OF(x->slot, x->func), dy = PT_DEVFN_OF(y->slot, y->func);

    return dx < dy ? -1 : dx > dy;
}

/* The node's devices in pci_scan_slot() order; NULL on ENOMEM (or none). */
static struct fx_dev **sorted_kids(const struct fx_dev *node)
{
    struct fx_dev **v;

    if ( !node->nkids )
        return NULL;
    v = malloc(node->nkids * sizeof(*v));
    if ( !v )
        return NULL;
    memcpy(v, node->kids, node->nkids * sizeof(*v));
    qsort(v, node->nkids, sizeof(*v), cmp_devfn);
    return v;
}

/* pci_iov_bus_range(): buses the VFs of PFs on this bus could need beyond it. */
static unsigned iov_bus_range(const struct fx_dev *node, unsigned busnr)
{
    unsigned max = busnr;

    for ( size_t i = 0; i < node->nkids; i++ )
    {
        const struct fx_dev *d = node->kids[i];

        if ( d->kind == FX_SRIOV_PF && d->totalvfs )
        {
            unsigned rid = busnr << 8 | PT_DEVFN_OF(d->slot, d->func);
            unsigned last = (rid + d->vf_offset + (d->totalvfs - 1u) * d->vf_stride) >> 8;

            if ( last > max )
                max = last;
        }
    }
    return max - busnr;
}

/* ------------------------------------------------------------------ */
/* Hypercalls dom0 issues                                               */
/* ------------------------------------------------------------------ */

/* xen_add_device(): PHYSDEVOP_pci_device_add with what Linux knows now. */
static int lx_report_add(struct lx *lx, struct fx_dev *d)
{
    struct hist *h = lx->h;
    struct pt_add_info ai = { .pxm = -1 };
    pt_sbdf_t sbdf = fx_sbdf(d);
    bool existed = pt_xview_find(&h->sim.state, sbdf) != NULL;
    const struct pt_xdev *x;
    char sb[PT_SBDF_STRLEN];
    int r;

    if ( d->kind == FX_VF )
    {
        ai.virtfn = true;
        ai.physfn = fx_sbdf(d->pf);
    }
    else
        /* pci_ari_enabled(bus) && slot != 0 */
        ai.extfn = d->parent->kind != FX_ROOT_BUS && d->parent->ari_fwd && d->slot != 0;

    r = pt_sim_add(&h->sim, sbdf, &ai);
    h->st.adds++;
    if ( r )
        h->st.add_errors++;
    x = pt_xview_find(&h->sim.state, sbdf);
    if ( !existed && x && pt_type_feeds_bus2bridge(x->type) && x->sec_bus != PT_NO_RANGE &&
         x->sec_bus <= PT_BUS(sbdf) && PT_BUS(sbdf) <= x->sub_bus )
        h->st.self_range++;
    trace(lx, "  add %s %s%s%s -> %d%s", pt_sbdf_fmt(sbdf, sb), fx_kind_name(d->kind),
          ai.virtfn ? " virtfn" : "", ai.extfn ? " extfn" : "", r,
          x && pt_type_is_bridge(x->type) && !existed ? " (recorded range)" : "");
    if ( x && !existed && pt_type_is_bridge(x->type) )
        trace(lx, "    recorded %d..%d", x->sec_bus, x->sub_bus);
    return set_known(lx, d, true);
}

/* xen_remove_device(). */
static void lx_report_remove(struct lx *lx, pt_sbdf_t sbdf)
{
    struct hist *h = lx->h;
    char sb[PT_SBDF_STRLEN];
    int r = pt_sim_remove(&h->sim, sbdf);

    h->st.removes++;
    if ( r )
        h->st.remove_errors++;
    trace(lx, "  remove %s -> %d", pt_sbdf_fmt(sbdf, sb), r);
}

/* ------------------------------------------------------------------ */
/* Enumeration                                                          */
/* ------------------------------------------------------------------ */

/* pci_scan_bridge_extend()'s "broken" test. */
static bool bridge_broken(const struct fx_dev *b, unsigned busnr)
{
    return b->pri != busnr || b->sec <= busnr || b->sec > b->sub;
}

/* The last bus pass 1 gives the subtree below node when its bus is busnr (no writes). */
static unsigned lx_span(const struct lx *lx, const struct fx_dev *node, unsigned busnr,
                        unsigned end)
{
    unsigned max = busnr + iov_bus_range(node, busnr);
    struct fx_dev **kids = sorted_kids(node);

    for ( size_t i = 0; kids && i < node->nkids; i++ )
        if ( fx_kind_is_bridge(kids[i]->kind) )
            max = lx_span(lx, kids[i], max + 1, end);
    free(kids);
    if ( is_hotplug_port(node) && lx->hp > 1 && max - busnr < lx->hp - 1 )
        max = busnr + lx->hp - 1 < end ? busnr + lx->hp - 1 : end;
    return max;
}

/*
 * pci_scan_child_bus_extend() of node's secondary bus busnr (range end):
 * report the devices dom0 does not know yet, reserve the SR-IOV bus range,
 * pass 0 (keep firmware numbers, or clear), pass 1 (number from max + 1,
 * recurse, write the real subordinate).  Returns max.
 */
static unsigned lx_scan_bus(struct lx *lx, struct fx_dev *node, unsigned busnr, unsigned end)
{
    struct fx_dev **kids = sorted_kids(node);
    bool *assign = NULL, *fresh = NULL;
    unsigned max = busnr;
    size_t n = node->nkids;

    if ( !kids )
        return busnr;
    assign = calloc(n, sizeof(*assign));
    fresh = calloc(n, sizeof(*fresh));
    if ( !assign || !fresh )
        goto out;

    /* pci_scan_slot(): each new device is reported before anything is programmed */
    for ( size_t i = 0; i < n; i++ )
        if ( !is_known(lx, kids[i]) )
        {
            fresh[i] = true;
            lx_report_add(lx, kids[i]);
        }
    max = busnr + iov_bus_range(node, busnr);

    /* pass 0 */
    for ( size_t i = 0; i < n; i++ )
    {
        struct fx_dev *b = kids[i];

        if ( !fx_kind_is_bridge(b->kind) )
            continue;
        if ( !fresh[i] )
        {
            /* a live bridge keeps its numbers (see history.h) */
            if ( b->sub > max && b->sec > busnr )
                max = b->sub;
            continue;
        }
        if ( (b->sec || b->sub) && !lx->assign && !bridge_broken(b, busnr) )
        {
            /* configured by firmware: scan the child bus in pass 0, keep the numbers */
            lx_scan_bus(lx, b, b->sec, b->sub);
            if ( b->sub > max )
                max = b->sub;
        }
        else
        {
            /* forwarding off: PRIMARY dword with its low 24 bits cleared */
            fx_set_bridge_regs(b, 0, 0, 0);
            assign[i] = true;
        }
    }

    /* pass 1 */
    for ( size_t i = 0; i < n; i++ )
    {
        struct fx_dev *b = kids[i];
        unsigned next;

        if ( !assign[i] )
            continue;
        next = max + 1;
        if ( next > end )
        {
            trace(lx, "  no bus number for bridge %s", fx_kind_name(b->kind));
            continue;
        }
        fx_set_bridge_regs(b, (uint8_t)busnr, (uint8_t)next, (uint8_t)end);
        max = lx_scan_bus(lx, b, next, end);
        if ( max > end )
            max = end;
        fx_set_bridge_regs(b, (uint8_t)busnr, (uint8_t)next, (uint8_t)max);
    }
    if ( is_hotplug_port(node) && lx->hp > 1 && max - busnr < lx->hp - 1 )
        max = busnr + lx->hp - 1 < end ? busnr + lx->hp - 1 : end;
 out:
    free(kids);
    free(assign);
    free(fresh);
    return max;
}

/*
 * Buses a new subtree on node's bus may use: not node's own bus, not in a
 * live bridge's range or in the SR-IOV reserve of node's bus, not beyond
 * node's end.  used[] gets true for every unusable bus number.
 */
static void lx_used_buses(const struct lx *lx, const struct fx_dev *node, bool used[256])
{
    unsigned busnr = node->sec, res = iov_bus_range(node, busnr);

    memset(used, 0, 256 * sizeof(*used));
    for ( unsigned b = 0; b <= busnr + res && b < 256; b++ )
        used[b] = true;
    for ( unsigned b = bus_end(node) + 1; b < 256; b++ )
        used[b] = true;
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        const struct fx_dev *k = node->kids[i];

        if ( !is_known(lx, k) )
            continue;
        if ( fx_kind_is_bridge(k->kind) && k->sec > busnr && k->sec <= k->sub )
            for ( unsigned b = k->sec; b <= k->sub; b++ )
                used[b] = true;
        for ( size_t v = 0; v < k->numvfs; v++ )
            used[PT_BUS(fx_sbdf(k->vfs[v]))] = true;
    }
}

/* The first bus pci_hp_add_bridge() would give d (on node's bus); -ENOSPC if the subtree cannot fit. */
static int lx_hp_first_bus(const struct lx *lx, const struct fx_dev *node, const struct fx_dev *d)
{
    bool used[256];

    lx_used_buses(lx, node, used);
    for ( unsigned first = node->sec + 1; first <= bus_end(node); first++ )
    {
        unsigned last;

        if ( used[first] )
            continue;
        last = lx_span(lx, d, first, bus_end(node));
        for ( unsigned b = first; b <= last; b++ )
            if ( used[b] )
                return -ENOSPC;
        return (int)first;
    }
    return -ENOSPC;
}

/* A subtree needs no new bus numbers when Linux keeps what its bridges hold. */
static bool lx_keeps_numbers(const struct lx *lx, const struct fx_dev *d)
{
    return !lx->assign && (d->sec || d->sub) && !bridge_broken(d, d->parent->sec);
}

/*
 * A device dom0 did not know appears on its parent's bus (rescan, hot-plug):
 * reported as it reads now; a bridge then numbered as pci_hp_add_bridge()
 * does.  -ENOSPC when there is no room (nothing is done then).
 */
static int lx_hot_add(struct lx *lx, struct fx_dev *d)
{
    struct fx_dev *node = d->parent;
    unsigned busnr = node->sec, end = bus_end(node), max;
    int first = 0;

    if ( fx_kind_is_bridge(d->kind) && !lx_keeps_numbers(lx, d) )
    {
        first = lx_hp_first_bus(lx, node, d);
        if ( first < 0 )
            return first;
    }
    lx_report_add(lx, d);
    if ( d->kind == FX_SRIOV_PF && d->numvfs )
        fx_set_numvfs(d, 0);
    if ( !fx_kind_is_bridge(d->kind) )
        return 0;
    if ( !first )
    {
        lx_scan_bus(lx, d, d->sec, d->sub);
        return 0;
    }
    fx_set_bridge_regs(d, 0, 0, 0);                              /* pass 0 */
    fx_set_bridge_regs(d, (uint8_t)busnr, (uint8_t)first, (uint8_t)end);
    max = lx_scan_bus(lx, d, (unsigned)first, end);
    fx_set_bridge_regs(d, (uint8_t)busnr, (uint8_t)first, (uint8_t)(max > end ? end : max));
    return 0;
}

/* ------------------------------------------------------------------ */
/* Removal                                                              */
/* ------------------------------------------------------------------ */

static int rm_push(struct rm_list *l, const struct fx_dev *d)
{
    if ( l->n == l->cap )
    {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct rm_item *v = realloc(l->v, ncap * sizeof(*v));

        if ( !v )
            return -ENOMEM;
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n].sbdf = fx_sbdf(d);
    l->v[l->n].id = d->id;
    l->n++;
    return 0;
}

/* Stop phase: drivers unbind children in reverse order; a PF's driver disables SR-IOV (VFs ascending). */
static void rm_stop_phase(struct lx *lx, const struct fx_dev *d, struct rm_list *l)
{
    for ( size_t i = d->nkids; i-- > 0; )
        rm_stop_phase(lx, d->kids[i], l);
    for ( size_t v = 0; v < d->numvfs; v++ )
        if ( is_known(lx, d->vfs[v]) )
            rm_push(l, d->vfs[v]);
}

/* Remove phase: children depth-first (in list order), then the bridge. */
static void rm_remove_phase(struct lx *lx, const struct fx_dev *d, struct rm_list *l)
{
    for ( size_t i = 0; i < d->nkids; i++ )
        rm_remove_phase(lx, d->kids[i], l);
    if ( is_known(lx, d) )
        rm_push(l, d);
}

/* The removes Linux issues for pci_stop_and_remove_bus_device(d), in order. */
static void lx_removals(struct lx *lx, const struct fx_dev *d, struct rm_list *l)
{
    rm_stop_phase(lx, d, l);
    rm_remove_phase(lx, d, l);
}

/* Stock: would one of these removes hit an owner-less entry (and panic Xen)? */
static bool rm_would_crash(const struct lx *lx, const struct rm_list *l)
{
    if ( lx->h->sim.hv != PT_HV_STOCK )
        return false;
    for ( size_t i = 0; i < l->n; i++ )
    {
        const struct pt_xdev *x = pt_xview_find(&lx->h->sim.state, l->v[i].sbdf);

        if ( x && x->owner == PT_OWNER_NONE )
            return true;
    }
    return false;
}

static void forget(struct lx *lx, unsigned id)
{
    if ( id < lx->nknown )
        lx->known[id] = 0;
}

/* Disables SR-IOV of every PF in the subtree (the drivers' remove()). */
static void vfs_off(struct fx_dev *d)
{
    for ( size_t i = 0; i < d->nkids; i++ )
        vfs_off(d->kids[i]);
    if ( d->kind == FX_SRIOV_PF && d->numvfs )
        fx_set_numvfs(d, 0);
}

/* ------------------------------------------------------------------ */
/* Topology                                                             */
/* ------------------------------------------------------------------ */

/* A PF: VFs in its own slot (fn 1..7), on the next bus, or (ARI) beyond fn 7. */
static void make_pf(struct lx *lx, struct fx_dev *pf, bool ari_bus)
{
    unsigned devfn = PT_DEVFN_OF(pf->slot, pf->func);

    pf->vf_stride = 1;
    if ( ari_bus )
    {
        pf->ari_cap = true;
        pf->vf_offset = 1;
        pf->totalvfs = 8 + rnd_below(lx, 8);
    }
    else if ( rnd_below(lx, 2) )
    {
        /* VFs on the next bus, where no bridge leads (pci_iov_bus_range()) */
        pf->vf_offset = 0x100 - devfn;
        pf->totalvfs = 2 + rnd_below(lx, 5);
    }
    else
    {
        pf->vf_offset = 1;
        pf->totalvfs = 2 + rnd_below(lx, 6);
    }
}

/* Conventional devices (and maybe a nested legacy bridge) behind a PCI bridge. */
static void fill_pci_bus(struct lx *lx, struct fx_tree *t, struct fx_dev *br, unsigned depth,
                         int *budget)
{
    unsigned n = 1 + rnd_below(lx, 3);

    for ( unsigned i = 0; i < n && *budget > 0; i++ )
    {
        unsigned slot = 1 + i * 2;

        if ( depth < 3 && rnd_below(lx, 3) == 0 )
        {
            struct fx_dev *lb = fx_add(t, br, slot, 0, FX_LEGACY_BRIDGE);

            (*budget)--;
            if ( lb )
            {
                lb->bus_reserve = rnd_below(lx, 3) == 0 ? 1 : 0;
                fill_pci_bus(lx, t, lb, depth + 1, budget);
            }
        }
        else
        {
            fx_add(t, br, slot, 0, FX_PCI_EP);
            (*budget)--;
        }
    }
}

/* What sits behind a root port or a switch downstream port (maybe nothing: a hot-plug slot). */
static void fill_port(struct lx *lx, struct fx_tree *t, struct fx_dev *port, unsigned depth,
                      int *budget)
{
    unsigned c = rnd_below(lx, 100);
    struct fx_dev *d;

    if ( *budget <= 0 || c < 12 )
        return;                                         /* empty slot */
    (*budget)--;
    if ( c < 35 )
    {
        d = fx_add(t, port, 0, 0, FX_PCIE_EP);
        if ( d && rnd_below(lx, 8) == 0 )
            d->phantom = 1;
    }
    else if ( c < 52 )
    {
        bool ari = rnd_below(lx, 3) == 0;

        d = fx_add(t, port, 0, 0, FX_SRIOV_PF);
        if ( d )
        {
            port->ari_fwd = ari;
            make_pf(lx, d, ari);
        }
    }
    else if ( c < 70 )
    {
        d = fx_add(t, port, 0, 0, FX_PCIE2PCI);
        if ( d )
            fill_pci_bus(lx, t, d, depth + 1, budget);
    }
    else if ( c < 86 && depth < 3 )
    {
        struct fx_dev *up = fx_add(t, port, 0, 0, FX_SWITCH_UP);
        unsigned n = 1 + rnd_below(lx, 3);

        for ( unsigned i = 0; up && i < n && *budget > 0; i++ )
        {
            struct fx_dev *dn = fx_add(t, up, i, 0, FX_SWITCH_DOWN);

            (*budget)--;
            if ( dn )
                fill_port(lx, t, dn, depth + 2, budget);
        }
    }
    else
    {
        /* an ARI multi-function device: functions 8.. are extended functions */
        unsigned nfn = 2 + rnd_below(lx, 3);

        port->ari_fwd = true;
        for ( unsigned f = 0; f < nfn; f++ )
        {
            unsigned devfn = f < 2 ? f : 8 + (f - 2);

            d = fx_add(t, port, PT_SLOT(devfn), PT_FUNC(devfn), FX_PCIE_EP);
            if ( d )
                d->ari_cap = true;
        }
    }
}

/* A random topology of about maxdev devices. */
static int build_topology(struct lx *lx, struct fx_tree *t, unsigned maxdev)
{
    unsigned nsegs = rnd_below(lx, 4) == 0 ? 2 : 1;

    lx->h->st.nsegs = nsegs;
    for ( unsigned s = 0; s < nsegs; s++ )
    {
        struct fx_dev *root = fx_root(t, (uint16_t)s, 0);
        int budget = (int)(maxdev / nsegs);
        unsigned slot = 1;

        if ( !root || !fx_add(t, root, 0, 0, FX_HOST_BRIDGE) )
            return -ENOMEM;
        while ( budget > 0 && slot < 31 )
        {
            unsigned c = rnd_below(lx, 100);
            struct fx_dev *d;

            budget--;
            if ( c < 45 )
            {
                d = fx_add(t, root, slot, 0, FX_ROOT_PORT);
                if ( d )
                {
                    if ( rnd_below(lx, 3) == 0 )
                        d->bus_reserve = 1 + rnd_below(lx, 3);    /* QEMU bus-reserve */
                    fill_port(lx, t, d, 1, &budget);
                }
            }
            else if ( c < 58 )
                fx_add(t, root, slot, 0, rnd_below(lx, 2) ? FX_PCIE_EP : FX_PCI_EP);
            else if ( c < 72 )
            {
                d = fx_add(t, root, slot, 0, FX_SRIOV_PF);
                if ( d )
                    make_pf(lx, d, false);
            }
            else if ( c < 85 )
            {
                d = fx_add(t, root, slot, 0, FX_LEGACY_BRIDGE);
                if ( d )
                    fill_pci_bus(lx, t, d, 1, &budget);
            }
            else if ( c < 92 )
            {
                d = fx_add(t, root, slot, 0, FX_PCIE2PCI);
                if ( d )
                    fill_pci_bus(lx, t, d, 1, &budget);
            }
            else
            {
                /* a multi-function integrated device */
                fx_add(t, root, slot, 0, FX_PCIE_EP);
                fx_add(t, root, slot, 1, FX_PCIE_EP);
                budget--;
            }
            slot++;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Events                                                               */
/* ------------------------------------------------------------------ */

/* Every device of the tree, depth-first; *n set. */
static struct fx_dev **all_devices(const struct fx_tree *t, size_t *n)
{
    struct fx_dev **v = NULL;

    if ( fx_devices(t, &v, n) )
    {
        *n = 0;
        return NULL;
    }
    return v;
}

/* Picks a random device matching pred; NULL when none. */
static struct fx_dev *pick(struct lx *lx, bool (*pred)(const struct lx *, const struct fx_dev *))
{
    size_t n, cnt = 0;
    struct fx_dev **v = all_devices(lx->h->tree, &n), *d = NULL;

    for ( size_t i = 0; i < n; i++ )
        if ( pred(lx, v[i]) )
            cnt++;
    if ( cnt )
    {
        size_t k = rnd_below(lx, (unsigned)cnt);

        for ( size_t i = 0; i < n; i++ )
            if ( pred(lx, v[i]) && k-- == 0 )
            {
                d = v[i];
                break;
            }
    }
    free(v);
    return d;
}

static bool p_rescan(const struct lx *lx, const struct fx_dev *d)
{
    return is_known(lx, d) && d->kind != FX_VF && d->kind != FX_HOST_BRIDGE;
}

static bool p_unplug(const struct lx *lx, const struct fx_dev *d)
{
    return p_rescan(lx, d) && (d->parent->kind == FX_ROOT_BUS || is_hotplug_port(d->parent));
}

static bool p_empty_port(const struct lx *lx, const struct fx_dev *d)
{
    return is_known(lx, d) && is_hotplug_port(d) && !d->nkids && d->sec > d->parent->sec &&
           d->sec <= d->sub;
}

static bool p_pf_off(const struct lx *lx, const struct fx_dev *d)
{
    return is_known(lx, d) && d->kind == FX_SRIOV_PF && !d->numvfs;
}

static bool p_pf_on(const struct lx *lx, const struct fx_dev *d)
{
    return is_known(lx, d) && d->kind == FX_SRIOV_PF && d->numvfs;
}

/* Applies Linux's removes of a collected list; marks them unknown. */
static void do_removals(struct lx *lx, const struct rm_list *l)
{
    for ( size_t i = 0; i < l->n; i++ )
    {
        lx_report_remove(lx, l->v[i].sbdf);
        forget(lx, l->v[i].id);
    }
}

static int ev_rescan(struct lx *lx)
{
    struct fx_dev *d = pick(lx, p_rescan);
    struct rm_list l = { 0 };
    char sb[PT_SBDF_STRLEN];
    int r;

    if ( !d )
        return -ENOENT;
    lx_removals(lx, d, &l);
    if ( rm_would_crash(lx, &l) )
    {
        free(l.v);
        return -EBUSY;
    }
    trace(lx, "event rescan %s (%s)", pt_sbdf_fmt(fx_sbdf(d), sb), fx_kind_name(d->kind));
    do_removals(lx, &l);
    free(l.v);
    vfs_off(d);
    /* pci_rescan_bus(parent): the hardware kept its registers */
    r = lx_hot_add(lx, d);
    if ( r == -ENOSPC )
    {
        /* no room: dom0 rediscovers it with the numbers it holds */
        bool saved = lx->assign;

        lx->assign = false;
        r = lx_hot_add(lx, d);
        lx->assign = saved;
    }
    return r;
}

/* A new subtree for a hot-plug slot (bridges arrive with 0/0 registers). */
static struct fx_dev *make_plug(struct lx *lx, struct fx_dev *parent, unsigned slot)
{
    struct fx_tree *t = lx->h->tree;
    unsigned c = rnd_below(lx, 100);
    int budget = 3;
    struct fx_dev *d;

    if ( c < 30 )
        return fx_add(t, parent, slot, 0, FX_PCIE_EP);
    if ( c < 45 )
    {
        d = fx_add(t, parent, slot, 0, FX_SRIOV_PF);
        if ( d )
            make_pf(lx, d, false);
        return d;
    }
    if ( c < 80 )
    {
        d = fx_add(t, parent, slot, 0, FX_PCIE2PCI);
        if ( d )
            fill_pci_bus(lx, t, d, 1, &budget);
        return d;
    }
    d = fx_add(t, parent, slot, 0, FX_SWITCH_UP);
    if ( d )
    {
        struct fx_dev *dn = fx_add(t, d, 0, 0, FX_SWITCH_DOWN);

        if ( dn )
            fx_add(t, dn, 0, 0, FX_PCIE_EP);
        fx_add(t, d, 1, 0, FX_SWITCH_DOWN);
    }
    return d;
}

static int ev_hotplug(struct lx *lx)
{
    struct fx_dev *parent = NULL, *d;
    unsigned slot = 0;
    char sb[PT_SBDF_STRLEN];
    int r;

    if ( rnd_below(lx, 3) )
        parent = pick(lx, p_empty_port);
    if ( !parent )
    {
        /* ACPI hot-plug into a free slot of a root bus */
        struct fx_tree *t = lx->h->tree;
        struct fx_dev *root = fx_root(t, 0, 0);
        bool used[32] = { false };

        if ( !root )
            return -ENOMEM;
        for ( size_t i = 0; i < root->nkids; i++ )
            used[root->kids[i]->slot] = true;
        for ( slot = 1; slot < 32 && used[slot]; slot++ )
            ;
        if ( slot == 32 )
            return -ENOSPC;
        parent = root;
    }
    d = make_plug(lx, parent, slot);
    if ( !d )
        return -ENOMEM;
    trace(lx, "event hotplug %s (%s)", pt_sbdf_fmt(fx_sbdf(d), sb), fx_kind_name(d->kind));
    r = lx_hot_add(lx, d);
    if ( r == -ENOSPC )
    {
        /* no bus numbers: plug a plain endpoint instead */
        trace(lx, "  no room; an endpoint instead");
        fx_remove(d);
        d = fx_add(lx->h->tree, parent, slot, 0, FX_PCIE_EP);
        if ( !d )
            return -ENOMEM;
        r = lx_hot_add(lx, d);
    }
    return r;
}

static int ev_unplug(struct lx *lx)
{
    struct fx_dev *d = pick(lx, p_unplug);
    struct rm_list l = { 0 };
    bool surprise = rnd_below(lx, 2);
    char sb[PT_SBDF_STRLEN];

    if ( !d )
        return -ENOENT;
    lx_removals(lx, d, &l);
    if ( rm_would_crash(lx, &l) )
    {
        free(l.v);
        return -EBUSY;
    }
    trace(lx, "event unplug %s (%s)%s", pt_sbdf_fmt(fx_sbdf(d), sb), fx_kind_name(d->kind),
          surprise ? " surprise" : "");
    if ( surprise )
        fx_remove(d);                       /* gone: config reads all ones */
    do_removals(lx, &l);
    if ( !surprise )
        fx_remove(d);
    free(l.v);
    return 0;
}

/* Can VFs 0..n-1 of pf appear without colliding with anything? */
static bool vfs_fit(const struct lx *lx, struct fx_dev *pf, unsigned n)
{
    const struct fx_dev *node = pf->parent;
    unsigned rid = (unsigned)node->sec << 8 | PT_DEVFN_OF(pf->slot, pf->func);

    for ( unsigned i = 0; i < n; i++ )
    {
        unsigned v = rid + pf->vf_offset + i * pf->vf_stride;
        unsigned bus = v >> 8;

        if ( bus > bus_end(node) || bus > 0xff )
            return false;
        if ( fx_find(lx->h->tree, PT_SBDF(pf->seg, bus, v & 0xff)) )
            return false;
        if ( bus != node->sec )
            for ( size_t k = 0; k < node->nkids; k++ )
            {
                const struct fx_dev *b = node->kids[k];

                if ( fx_kind_is_bridge(b->kind) && b->sec <= bus && bus <= b->sub )
                    return false;
            }
    }
    return true;
}

static int ev_sriov_on(struct lx *lx)
{
    struct fx_dev *pf = pick(lx, p_pf_off);
    unsigned n;
    char sb[PT_SBDF_STRLEN];
    int r;

    if ( !pf )
        return -ENOENT;
    n = 1 + rnd_below(lx, pf->totalvfs);
    if ( !vfs_fit(lx, pf, n) )
        return -ENOSPC;
    trace(lx, "event sriov-on %s numvfs=%u", pt_sbdf_fmt(fx_sbdf(pf), sb), n);
    r = fx_set_numvfs(pf, n);
    if ( r )
        return r;
    /* sriov_enable(): pci_iov_add_virtfn() per VF, ascending */
    for ( unsigned i = 0; i < pf->numvfs; i++ )
        lx_report_add(lx, pf->vfs[i]);
    return 0;
}

static int ev_sriov_off(struct lx *lx)
{
    struct fx_dev *pf = pick(lx, p_pf_on);
    struct rm_list l = { 0 };
    char sb[PT_SBDF_STRLEN];

    if ( !pf )
        return -ENOENT;
    for ( unsigned i = 0; i < pf->numvfs; i++ )
        rm_push(&l, pf->vfs[i]);
    if ( rm_would_crash(lx, &l) )
    {
        free(l.v);
        return -EBUSY;
    }
    trace(lx, "event sriov-off %s", pt_sbdf_fmt(fx_sbdf(pf), sb));
    do_removals(lx, &l);        /* sriov_del_vfs(): VF 0 first */
    free(l.v);
    return fx_set_numvfs(pf, 0);
}

/* A random dom0-owned non-bridge entry that dom0 also has; 0 when none. */
static pt_sbdf_t pick_entry(struct lx *lx)
{
    const struct pt_xview *v = &lx->h->sim.state;
    size_t cnt = 0, k = 0;

    for ( int pass = 0; pass < 2; pass++ )
    {
        if ( pass == 1 )
        {
            if ( !cnt )
                return 0;
            k = rnd_below(lx, (unsigned)cnt);
        }
        for ( size_t s = 0; s < v->nsegs; s++ )
            for ( size_t i = 0; i < v->segs[s].n; i++ )
            {
                const struct pt_xdev *x = &v->segs[s].devs[i];

                if ( x->owner != 0 || pt_type_is_bridge(x->type) ||
                     x->type == PT_TYPE_HOST_BRIDGE || !fx_find(lx->h->tree, x->sbdf) )
                    continue;
                if ( pass == 0 )
                    cnt++;
                else if ( k-- == 0 )
                    return x->sbdf;
            }
    }
    return 0;
}

static int ev_assign(struct lx *lx)
{
    pt_sbdf_t s = pick_entry(lx);
    int domid = rnd_below(lx, 3) == 0 ? PT_DOMID_IO : 1 + (int)rnd_below(lx, 4);
    char sb[PT_SBDF_STRLEN];

    if ( !s )
        return -ENOENT;
    trace(lx, "event assign %s to %d", pt_sbdf_fmt(s, sb), domid);
    return pt_sim_assign(&lx->h->sim, s, domid);
}

static int ev_fail_owner(struct lx *lx)
{
    pt_sbdf_t s = pick_entry(lx);
    char sb[PT_SBDF_STRLEN];

    if ( !s )
        return -ENOENT;
    trace(lx, "event fail-owner %s", pt_sbdf_fmt(s, sb));
    return pt_sim_fail_owner(&lx->h->sim, s);
}

static enum hist_event choose_event(struct lx *lx)
{
    static const unsigned weight[HIST_EV__COUNT] = {
        [HIST_EV_RESCAN] = 30, [HIST_EV_HOTPLUG] = 20, [HIST_EV_UNPLUG] = 14,
        [HIST_EV_SRIOV_ON] = 16, [HIST_EV_SRIOV_OFF] = 8, [HIST_EV_ASSIGN] = 7,
        [HIST_EV_FAIL_OWNER] = 5,
    };
    unsigned total = 0, c;

    for ( unsigned e = 0; e < HIST_EV__COUNT; e++ )
        total += weight[e];
    c = rnd_below(lx, total);
    for ( unsigned e = 0; e < HIST_EV__COUNT; e++ )
    {
        if ( c < weight[e] )
            return (enum hist_event)e;
        c -= weight[e];
    }
    return HIST_EV_RESCAN;
}

/* ------------------------------------------------------------------ */
/* Runs                                                                 */
/* ------------------------------------------------------------------ */

/* Traces Xen's bus2bridge table. */
static void trace_b2b(struct lx *lx)
{
    const struct pt_xview *v = &lx->h->sim.state;

    for ( size_t s = 0; lx->trace && s < v->nsegs; s++ )
    {
        fprintf(lx->trace, "  bus2bridge %04x:", v->segs[s].seg);
        for ( unsigned b = 0; b < 256; b++ )
            if ( v->segs[s].b2b[b].map )
                fprintf(lx->trace, " %02x->%02x:%02x.%u", b, v->segs[s].b2b[b].bus,
                        PT_SLOT(v->segs[s].b2b[b].devfn), PT_FUNC(v->segs[s].b2b[b].devfn));
        fputc('\n', lx->trace);
    }
}

/* Firmware numbering, Xen's boot scan, then dom0's enumeration of every root bus. */
static int boot(struct lx *lx, enum pt_hv_model hv)
{
    struct hist *h = lx->h;
    struct pt_hw hw = { .probe = fx_hw_probe, .ctx = h->tree };
    struct fx_dev **v;
    size_t n;
    int r;

    fx_number_busses(h->tree, FX_NUMBER_FIRMWARE);
    r = pt_sim_init(&h->sim, NULL, (int)hv, hw);
    if ( r )
        return r;
    for ( unsigned s = 0; s < h->st.nsegs; s++ )
    {
        r = pt_sim_boot_scan(&h->sim, (uint16_t)s);
        if ( r )
            return r;
    }
    for ( size_t s = 0; lx->trace && s < h->sim.state.nsegs; s++ )
        for ( size_t i = 0; i < h->sim.state.segs[s].n; i++ )
        {
            const struct pt_xdev *x = &h->sim.state.segs[s].devs[i];
            char sb[PT_SBDF_STRLEN];

            trace(lx, "  boot scan: %s %s %d..%d", pt_sbdf_fmt(x->sbdf, sb),
                  pt_type_name(x->type), x->sec_bus, x->sub_bus);
        }
    trace(lx, "boot: %s, hpbussize=%u", lx->assign ? "pci=assign-busses" : "firmware numbers",
          lx->hp);
    /* the root buses, in segment order */
    v = all_devices(h->tree, &n);
    for ( size_t i = 0; i < n; i++ )
        if ( v[i]->parent->kind == FX_ROOT_BUS )
        {
            struct fx_dev *root = v[i]->parent;
            bool first = true;

            for ( size_t j = 0; j < i; j++ )
                if ( v[j]->parent == root )
                    first = false;
            if ( first )
                lx_scan_bus(lx, root, root->sec, 0xff);
        }
    free(v);
    trace_b2b(lx);
    return 0;
}

/* Devices dom0 would not show as they are: unknown to it, or not answering at their BDF. */
static unsigned lx_incoherent(struct lx *lx)
{
    size_t n;
    struct fx_dev **v = all_devices(lx->h->tree, &n);
    unsigned bad = 0;
    char sb[PT_SBDF_STRLEN];

    for ( size_t i = 0; i < n; i++ )
        if ( !is_known(lx, v[i]) || fx_find(lx->h->tree, fx_sbdf(v[i])) != v[i] )
        {
            trace(lx, "incoherent: %s %s (known %d)", pt_sbdf_fmt(fx_sbdf(v[i]), sb),
                  fx_kind_name(v[i]->kind), is_known(lx, v[i]));
            bad++;
        }
    free(v);
    return bad;
}

static void lx_init(struct lx *lx, struct hist *h, unsigned seed, FILE *tr)
{
    memset(lx, 0, sizeof(*lx));
    lx->h = h;
    lx->rng = seed * 2654435761u + 0x9e3779b9u;
    if ( !lx->rng )
        lx->rng = 1;
    for ( int i = 0; i < 4; i++ )
        rnd(lx);
    lx->trace = tr;
}

/* Runs the random history of seed. */
int hist_run(unsigned seed, enum pt_hv_model hv, const struct hist_opts *o, struct hist *h)
{
    struct lx lx;
    unsigned maxdev = o && o->maxdev ? o->maxdev : 18, nev;
    int r;

    memset(h, 0, sizeof(*h));
    lx_init(&lx, h, seed, o ? o->trace : NULL);
    h->tree = fx_new();
    if ( !h->tree )
        return -ENOMEM;
    r = build_topology(&lx, h->tree, maxdev);
    if ( r )
        goto out;
    lx.assign = rnd_below(&lx, 5) != 0;
    lx.hp = (unsigned[]){ 1, 1, 2, 3 }[rnd_below(&lx, 4)];
    h->st.assign_busses = lx.assign;
    h->st.hpbussize = lx.hp;
    trace(&lx, "history %u (%s)", seed, pt_hv_name(hv));
    r = boot(&lx, hv);
    if ( r )
        goto out;
    nev = o && o->nevents ? o->nevents : 2 + rnd_below(&lx, 8);
    for ( unsigned i = 0; i < nev && !h->sim.crashed; i++ )
    {
        enum hist_event e = choose_event(&lx);
        int er;

        switch ( e )
        {
        case HIST_EV_RESCAN:     er = ev_rescan(&lx); break;
        case HIST_EV_HOTPLUG:    er = ev_hotplug(&lx); break;
        case HIST_EV_UNPLUG:     er = ev_unplug(&lx); break;
        case HIST_EV_SRIOV_ON:   er = ev_sriov_on(&lx); break;
        case HIST_EV_SRIOV_OFF:  er = ev_sriov_off(&lx); break;
        case HIST_EV_ASSIGN:     er = ev_assign(&lx); break;
        case HIST_EV_FAIL_OWNER: er = ev_fail_owner(&lx); break;
        default:                 er = -EINVAL; break;
        }
        trace_b2b(&lx);
        if ( er == -ENOMEM )
        {
            r = er;
            goto out;
        }
        if ( er )
            h->st.skipped++;
        else
            h->st.events[e]++;
    }
    h->st.incoherent = lx_incoherent(&lx);
    if ( h->sim.crashed )
        r = -EFAULT;            /* a history must never crash the stock model */
 out:
    free(lx.known);
    return r;
}

/* The seed thread's case (see history.h). */
int hist_seed_case(enum pt_hv_model hv, FILE *tr, struct hist *h)
{
    struct lx lx;
    struct fx_dev *root, *pf, *rp, *br;
    int r;

    memset(h, 0, sizeof(*h));
    lx_init(&lx, h, 1, tr);
    h->tree = fx_new();
    if ( !h->tree )
        return -ENOMEM;
    root = fx_root(h->tree, 0, 0);
    if ( !root || !fx_add(h->tree, root, 0, 0, FX_HOST_BRIDGE) )
        return -ENOMEM;
    pf = fx_add(h->tree, root, 1, 0, FX_SRIOV_PF);
    rp = fx_add(h->tree, root, 2, 0, FX_ROOT_PORT);
    br = rp ? fx_add(h->tree, rp, 0, 0, FX_PCIE2PCI) : NULL;
    if ( !pf || !br || !fx_add(h->tree, br, 1, 0, FX_PCI_EP) )
        return -ENOMEM;
    pf->totalvfs = 4;
    pf->vf_offset = 0x100 - PT_DEVFN_OF(1, 0);  /* VF 0 at 01:00.0 */
    pf->vf_stride = 1;
    h->st.nsegs = 1;
    h->st.assign_busses = lx.assign = true;
    h->st.hpbussize = lx.hp = 1;
    r = boot(&lx, hv);
    free(lx.known);
    return r;
}

/* Frees a history. */
void hist_free(struct hist *h)
{
    pt_sim_free(&h->sim);
    fx_free(h->tree);
    memset(h, 0, sizeof(*h));
}
