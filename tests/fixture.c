/*
 * fixture.c - the test fixture generator (see fixture.h for the model and
 * the text description format).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

struct fx_tree {
    struct fx_dev **roots;      /* sorted by seg, bus */
    size_t nroots, caproots;
    unsigned next_id;
};

/* ------------------------------------------------------------------ */
/* Kinds                                                               */
/* ------------------------------------------------------------------ */

struct kind_info {
    const char *name;
    uint16_t vendor, device;
    uint32_t class;
    int pcie_type;              /* PCIe port type, -1: conventional (no PCIe cap) */
    bool bridge;
};

static const struct kind_info kinds[FX_KIND__COUNT] = {
    [FX_ROOT_BUS]      = { "root",       0,      0,      0,        -1, true },
    [FX_HOST_BRIDGE]   = { "host",       0x8086, 0x29c0, 0x060000, -1, false },
    [FX_ROOT_PORT]     = { "rootport",   0x1b36, 0x000c, 0x060400,  4, true },
    [FX_SWITCH_UP]     = { "upstream",   0x104c, 0x8232, 0x060400,  5, true },
    [FX_SWITCH_DOWN]   = { "downstream", 0x104c, 0x8233, 0x060400,  6, true },
    [FX_PCIE2PCI]      = { "pcie2pci",   0x1b36, 0x000e, 0x060400,  7, true },
    [FX_LEGACY_BRIDGE] = { "legacy",     0x1b36, 0x0001, 0x060400, -1, true },
    [FX_PCI2PCIE]      = { "pci2pcie",   0x12d8, 0xe111, 0x060400,  8, true },
    [FX_PCIE_EP]       = { "ep",         0x8086, 0x10d3, 0x020000,  0, false },
    [FX_PCI_EP]        = { "pciep",      0x8086, 0x100e, 0x020000, -1, false },
    [FX_SRIOV_PF]      = { "pf",         0x8086, 0x10c9, 0x020000,  0, false },
    [FX_VF]            = { "vf",         0x8086, 0x10ca, 0x020000,  0, false },
};

/* True for the kinds with a type-1 header. */
bool fx_kind_is_bridge(enum fx_kind k)
{
    return k > FX_ROOT_BUS && k < FX_KIND__COUNT && kinds[k].bridge;
}

/* The description name of a kind. */
const char *fx_kind_name(enum fx_kind k)
{
    return k < FX_KIND__COUNT ? kinds[k].name : "?";
}

/* Parses a description kind name; -EINVAL if unknown. */
int fx_kind_parse(const char *s, enum fx_kind *out)
{
    for ( unsigned k = FX_HOST_BRIDGE; k < FX_VF; k++ )
        if ( !strcmp(s, kinds[k].name) )
        {
            *out = (enum fx_kind)k;
            return 0;
        }
    return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Tree                                                                */
/* ------------------------------------------------------------------ */

/* A new empty tree; NULL on ENOMEM. */
struct fx_tree *fx_new(void)
{
    return calloc(1, sizeof(struct fx_tree));
}

static void free_node(struct fx_dev *d)
{
    for ( size_t i = 0; i < d->nkids; i++ )
        free_node(d->kids[i]);
    for ( size_t i = 0; i < d->numvfs; i++ )
        free_node(d->vfs[i]);
    free(d->kids);
    free(d->vfs);
    free(d->driver);
    free(d);
}

/* Frees the tree and every node. */
void fx_free(struct fx_tree *t)
{
    if ( !t )
        return;
    for ( size_t i = 0; i < t->nroots; i++ )
        free_node(t->roots[i]);
    free(t->roots);
    free(t);
}

/* The root bus seg:bus, created on first use; NULL on ENOMEM. */
struct fx_dev *fx_root(struct fx_tree *t, uint16_t seg, uint8_t bus)
{
    struct fx_dev *r;
    size_t at = 0;

    for ( ; at < t->nroots; at++ )
    {
        r = t->roots[at];
        if ( r->seg == seg && r->sec == bus )
            return r;
        if ( r->seg > seg || (r->seg == seg && r->sec > bus) )
            break;
    }
    if ( t->nroots == t->caproots )
    {
        size_t ncap = t->caproots ? t->caproots * 2 : 4;
        struct fx_dev **n = realloc(t->roots, ncap * sizeof(*n));

        if ( !n )
            return NULL;
        t->roots = n;
        t->caproots = ncap;
    }
    r = calloc(1, sizeof(*r));
    if ( !r )
        return NULL;
    r->tree = t;
    r->kind = FX_ROOT_BUS;
    r->seg = seg;
    r->pri = r->sec = bus;
    r->sub = 0xff;
    r->numa_node = -1;
    r->id = t->next_id++;
    memmove(&t->roots[at + 1], &t->roots[at], (t->nroots - at) * sizeof(*t->roots));
    t->roots[at] = r;
    t->nroots++;
    return r;
}

static struct fx_dev *new_node(struct fx_tree *t, struct fx_dev *parent, enum fx_kind kind,
                               unsigned slot, unsigned func)
{
    struct fx_dev *d = calloc(1, sizeof(*d));

    if ( !d )
        return NULL;
    d->tree = t;
    d->kind = kind;
    d->parent = parent;
    d->seg = parent->seg;
    d->slot = (uint8_t)slot;
    d->func = (uint8_t)func;
    d->vendor = kinds[kind].vendor;
    d->device = kinds[kind].device;
    d->class = kinds[kind].class;
    d->numa_node = -1;
    d->id = t->next_id++;
    return d;
}

/* Adds a device of a kind at slot.func on parent's bus; NULL on ENOMEM or misuse. */
struct fx_dev *fx_add(struct fx_tree *t, struct fx_dev *parent, unsigned slot,
                      unsigned func, enum fx_kind kind)
{
    struct fx_dev *d;

    if ( !t || !parent || slot > 31 || func > 7 || kind == FX_ROOT_BUS || kind >= FX_VF ||
         (parent->kind != FX_ROOT_BUS && !fx_kind_is_bridge(parent->kind)) )
        return NULL;
    if ( parent->nkids == parent->capkids )
    {
        size_t ncap = parent->capkids ? parent->capkids * 2 : 4;
        struct fx_dev **k = realloc(parent->kids, ncap * sizeof(*k));

        if ( !k )
            return NULL;
        parent->kids = k;
        parent->capkids = ncap;
    }
    d = new_node(t, parent, kind, slot, func);
    if ( !d )
        return NULL;
    if ( kind == FX_SRIOV_PF )
    {
        d->totalvfs = 8;
        d->vf_offset = 1;
        d->vf_stride = 1;
        d->vf_device = kinds[FX_VF].device;
    }
    parent->kids[parent->nkids++] = d;
    return d;
}

/* Removes a device with its subtree and VFs. */
void fx_remove(struct fx_dev *d)
{
    struct fx_dev *p;

    if ( !d || d->kind == FX_ROOT_BUS || d->kind == FX_VF )
        return;
    p = d->parent;
    for ( size_t i = 0; i < p->nkids; i++ )
        if ( p->kids[i] == d )
        {
            memmove(&p->kids[i], &p->kids[i + 1], (p->nkids - i - 1) * sizeof(*p->kids));
            p->nkids--;
            break;
        }
    free_node(d);
}

/* Sets a bridge's bus-number registers. */
void fx_set_bridge_regs(struct fx_dev *bridge, uint8_t pri, uint8_t sec, uint8_t sub)
{
    if ( !bridge || !fx_kind_is_bridge(bridge->kind) )
        return;
    bridge->pri = pri;
    bridge->sec = sec;
    bridge->sub = sub;
}

/* Creates/removes VFs to have n; VF Enable = n > 0. */
int fx_set_numvfs(struct fx_dev *pf, unsigned n)
{
    if ( !pf || pf->kind != FX_SRIOV_PF || n > pf->totalvfs )
        return -EINVAL;
    while ( pf->numvfs > n )
        free_node(pf->vfs[--pf->numvfs]);
    if ( n > pf->numvfs )
    {
        struct fx_dev **v = realloc(pf->vfs, n * sizeof(*v));

        if ( !v )
            return -ENOMEM;
        pf->vfs = v;
        while ( pf->numvfs < n )
        {
            struct fx_dev *vf = new_node(pf->tree, pf->parent, FX_VF, 0, 0);

            if ( !vf )
                return -ENOMEM;
            vf->pf = pf;
            vf->vf_index = pf->numvfs;
            vf->vendor = pf->vendor;
            vf->device = pf->vf_device;
            vf->class = pf->class;
            vf->numa_node = pf->numa_node;
            vf->ari_cap = pf->ari_cap;
            pf->vfs[pf->numvfs++] = vf;
        }
    }
    pf->vf_enable = n > 0;
    return 0;
}

/* Sets or clears the bound driver name. */
int fx_set_driver(struct fx_dev *d, const char *name)
{
    char *n = NULL;

    if ( name && !(n = strdup(name)) )
        return -ENOMEM;
    free(d->driver);
    d->driver = n;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Identity                                                            */
/* ------------------------------------------------------------------ */

/* Routing ID of VF i: the PF's + offset + i * stride (SR-IOV §3.3.10/11). */
static unsigned vf_rid(const struct fx_dev *pf, unsigned i)
{
    unsigned rid = (unsigned)pf->parent->sec << 8 | PT_DEVFN_OF(pf->slot, pf->func);

    return (rid + pf->vf_offset + i * pf->vf_stride) & 0xffff;
}

/* The device's SBDF from the current registers. */
pt_sbdf_t fx_sbdf(const struct fx_dev *d)
{
    if ( d->kind == FX_VF )
        return PT_SBDF(d->seg, 0, 0) | vf_rid(d->pf, d->vf_index);
    if ( d->kind == FX_ROOT_BUS )
        return PT_SBDF(d->seg, d->sec, 0);
    return PT_SBDF(d->seg, d->parent->sec, PT_DEVFN_OF(d->slot, d->func));
}

/* The DESIGN 4.1 physical path of a device. */
char *fx_path(const struct fx_dev *d, char *buf, size_t size)
{
    const struct fx_dev *chain[64];
    size_t n = 0, off = 0;
    char sbdf[PT_SBDF_STRLEN];

    if ( !size )
        return buf;
    buf[0] = '\0';
    for ( const struct fx_dev *x = d; x && x->kind != FX_ROOT_BUS && n < 64;
          x = x->parent )
        chain[n++] = x;
    while ( n-- )
    {
        const struct fx_dev *x = chain[n];
        pt_sbdf_t s = fx_sbdf(x);
        int w;

        if ( !off )
            w = snprintf(buf, size, "%s", pt_sbdf_fmt(s, sbdf));
        else if ( x->kind == FX_VF && PT_BUS(s) != PT_BUS(fx_sbdf(x->pf)) )
            w = snprintf(buf + off, size - off, "/+%u:%02x.%u",
                         (unsigned)(PT_BUS(s) - PT_BUS(fx_sbdf(x->pf))) & 0xff,
                         PT_SLOT(PT_DEVFN(s)), PT_FUNC(PT_DEVFN(s)));
        else
            w = snprintf(buf + off, size - off, "/%02x.%u",
                         PT_SLOT(PT_DEVFN(s)), PT_FUNC(PT_DEVFN(s)));
        if ( w < 0 || (size_t)w >= size - off )
            break;
        off += (size_t)w;
    }
    return buf;
}

struct devlist {
    struct fx_dev **v;
    size_t n, cap;
    int err;
};

static void push_dev(struct devlist *l, struct fx_dev *d)
{
    if ( l->err )
        return;
    if ( l->n == l->cap )
    {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        struct fx_dev **v = realloc(l->v, ncap * sizeof(*v));

        if ( !v )
        {
            l->err = -ENOMEM;
            return;
        }
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = d;
}

static void collect(struct devlist *l, struct fx_dev *node)
{
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        struct fx_dev *d = node->kids[i];

        push_dev(l, d);
        for ( size_t v = 0; v < d->numvfs; v++ )
            push_dev(l, d->vfs[v]);
        collect(l, d);
    }
}

/* Every device, depth-first, each PF followed by its VFs. */
int fx_devices(const struct fx_tree *t, struct fx_dev ***out, size_t *n)
{
    struct devlist l = { 0 };

    for ( size_t i = 0; i < t->nroots; i++ )
        collect(&l, t->roots[i]);
    if ( l.err )
    {
        free(l.v);
        return l.err;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

static size_t count_node(const struct fx_dev *node)
{
    size_t n = 0;

    for ( size_t i = 0; i < node->nkids; i++ )
        n += 1 + node->kids[i]->numvfs + count_node(node->kids[i]);
    return n;
}

/* Number of devices, VFs included. */
size_t fx_count(const struct fx_tree *t)
{
    size_t n = 0;

    for ( size_t i = 0; i < t->nroots; i++ )
        n += count_node(t->roots[i]);
    return n;
}

static struct fx_dev *by_id(struct fx_dev *node, unsigned id)
{
    if ( node->id == id )
        return node;
    for ( size_t i = 0; i < node->numvfs; i++ )
        if ( node->vfs[i]->id == id )
            return node->vfs[i];
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        struct fx_dev *d = by_id(node->kids[i], id);

        if ( d )
            return d;
    }
    return NULL;
}

/* A device by its stable id; NULL if gone. */
struct fx_dev *fx_by_id(const struct fx_tree *t, unsigned id)
{
    for ( size_t i = 0; i < t->nroots; i++ )
    {
        struct fx_dev *d = by_id(t->roots[i], id);

        if ( d )
            return d;
    }
    return NULL;
}

/*
 * Config routing: node's secondary bus is node->sec; a request for bus is
 * answered by a device on it, or forwarded by the first bridge whose range
 * holds it, or (SR-IOV) caught by a VF of a PF on this bus.
 */
static struct fx_dev *route(const struct fx_dev *node, unsigned bus, unsigned devfn, unsigned ttl)
{
    pt_sbdf_t want = PT_SBDF(node->seg, bus, devfn);

    if ( !ttl )
        return NULL;
    /* In fx_devices() order (a device, then its VFs), as the sysfs writer resolves clashes. */
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        struct fx_dev *d = node->kids[i];

        if ( bus == node->sec && PT_DEVFN_OF(d->slot, d->func) == devfn )
            return d;
        for ( size_t v = 0; v < d->numvfs; v++ )
            if ( fx_sbdf(d->vfs[v]) == want )
                return d->vfs[v];
    }
    if ( bus == node->sec )
        return NULL;
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        struct fx_dev *d = node->kids[i];

        if ( fx_kind_is_bridge(d->kind) && d->sec <= bus && bus <= d->sub && d->sec > node->sec )
            return route(d, bus, devfn, ttl - 1);
    }
    return NULL;
}

/* The device that answers config requests at sbdf now. */
struct fx_dev *fx_find(const struct fx_tree *t, pt_sbdf_t sbdf)
{
    const struct fx_dev *root = NULL;

    /* The root bus that decodes this bus: the highest one at or below it. */
    for ( size_t i = 0; i < t->nroots; i++ )
        if ( t->roots[i]->seg == PT_SEG(sbdf) && t->roots[i]->sec <= PT_BUS(sbdf) )
            root = t->roots[i];
    return root ? route(root, PT_BUS(sbdf), PT_DEVFN(sbdf), 64) : NULL;
}

/* ------------------------------------------------------------------ */
/* Bus numbering                                                       */
/* ------------------------------------------------------------------ */

static int cmp_devfn(const void *a, const void *b)
{
    const struct fx_dev *x = *(struct fx_dev *const *)a, *y = *(struct fx_dev *const *)b;
    unsigned dx = PT_DEVFN_OF(x->slot, x->func), dy = PT_DEVFN_OF(y->slot, y->func);

    return dx < dy ? -1 : dx > dy;
}

/* pci_scan_child_bus_extend() with assign-all; SeaBIOS pci_bios_init_bus_rec(). */
static unsigned number_bus(struct fx_dev *node, unsigned busnr, enum fx_number_mode mode)
{
    unsigned max = busnr;
    struct fx_dev **order;

    if ( !node->nkids )
        return max;
    if ( mode == FX_NUMBER_LINUX )
    {
        /* pci_iov_bus_range(): buses for the most VFs each PF could have. */
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
    }
    order = malloc(node->nkids * sizeof(*order));
    if ( !order )
        return max;
    memcpy(order, node->kids, node->nkids * sizeof(*order));
    qsort(order, node->nkids, sizeof(*order), cmp_devfn);
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        struct fx_dev *d = order[i];
        unsigned sec;

        if ( !fx_kind_is_bridge(d->kind) )
            continue;
        sec = max < 0xff ? max + 1 : 0xff;
        d->pri = (uint8_t)busnr;
        d->sec = (uint8_t)sec;
        d->sub = 0xff;
        max = number_bus(d, sec, mode);
        if ( mode == FX_NUMBER_FIRMWARE && max < sec + d->bus_reserve )
            max = sec + d->bus_reserve;
        if ( max > 0xff )
            max = 0xff;
        d->sub = (uint8_t)max;
    }
    free(order);
    return max;
}

/* Renumbers every bridge as Linux assign-busses or SeaBIOS would. */
void fx_number_busses(struct fx_tree *t, enum fx_number_mode mode)
{
    for ( size_t i = 0; i < t->nroots; i++ )
        number_bus(t->roots[i], t->roots[i]->sec, mode);
}

static void apply_explicit(struct fx_dev *node)
{
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        struct fx_dev *d = node->kids[i];

        if ( d->regs_explicit )
            fx_set_bridge_regs(d, d->x_pri, d->x_sec, d->x_sub);
        apply_explicit(d);
    }
}

/* Re-applies the pri=/sec=/sub= registers of a parsed description. */
void fx_apply_explicit(struct fx_tree *t)
{
    for ( size_t i = 0; i < t->nroots; i++ )
        apply_explicit(t->roots[i]);
}

/* ------------------------------------------------------------------ */
/* Config space                                                        */
/* ------------------------------------------------------------------ */

static void wr16(uint8_t *c, size_t off, uint16_t v)
{
    c[off] = (uint8_t)v;
    c[off + 1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *c, size_t off, uint32_t v)
{
    wr16(c, off, (uint16_t)v);
    wr16(c, off + 2, (uint16_t)(v >> 16));
}

static bool has_sibling_fn(const struct fx_dev *d)
{
    const struct fx_dev *p = d->parent;

    for ( size_t i = 0; i < p->nkids; i++ )
        if ( p->kids[i] != d && p->kids[i]->slot == d->slot )
            return true;
    return false;
}

/* pci_bridge_child_ext_cfg_accessible(): no extended config behind a conventional bus. */
static bool ext_cfg_reachable(const struct fx_dev *d)
{
    for ( const struct fx_dev *p = d->parent; p && p->kind != FX_ROOT_BUS; p = p->parent )
        if ( p->kind == FX_PCIE2PCI || p->kind == FX_LEGACY_BRIDGE || p->kind == FX_PCI2PCIE )
            return false;
    return true;
}

#define CAP_PM   0x40
#define CAP_EXP  0x60
#define CAP_MSI  0xa0
#define EXT_AER  0x100
#define EXT_ARI  0x148
#define EXT_SRIOV 0x160

/* The config space bytes of a device as hardware would present them now. */
void fx_config(const struct fx_dev *d, uint8_t cfg[PT_CFG_EXT_LEN], size_t *len)
{
    const struct fx_dev *pf = d->kind == FX_VF ? d->pf : NULL;
    enum fx_kind k = d->kind;
    int ptype = kinds[k].pcie_type;
    bool bridge = fx_kind_is_bridge(k);
    bool ext;

    memset(cfg, 0, PT_CFG_EXT_LEN);
    ext = ptype >= 0 && ext_cfg_reachable(d);
    *len = ext ? PT_CFG_EXT_LEN : PT_CFG_FULL_LEN;

    /* The SR-IOV rule: a VF's vendor and device ID read all ones. */
    wr16(cfg, 0x00, pf ? 0xffff : d->vendor);
    wr16(cfg, 0x02, pf ? 0xffff : d->device);
    wr16(cfg, 0x04, 0x0007);
    wr32(cfg, 0x08, d->class << 8 | 0x01);
    cfg[0x0e] = (uint8_t)((bridge ? 1 : 0) |
                          (!pf && (d->multifunction || has_sibling_fn(d)) ? 0x80 : 0));
    if ( bridge )
    {
        cfg[0x18] = d->pri;
        cfg[0x19] = d->sec;
        cfg[0x1a] = d->sub;
    }
    if ( k == FX_HOST_BRIDGE )
        return;                 /* no capabilities at all */

    wr16(cfg, 0x06, 0x0010);    /* status: capability list */
    cfg[0x34] = CAP_PM;
    cfg[CAP_PM] = 0x01;
    wr16(cfg, CAP_PM + 2, 0x0003);
    if ( ptype < 0 )
    {
        cfg[CAP_PM + 1] = CAP_MSI;
    }
    else
    {
        uint16_t flags = (uint16_t)(0x0002 | ptype << 4);
        uint32_t devcap = (uint32_t)(d->phantom & 3) << 3 | 0x1;

        if ( k == FX_ROOT_PORT || k == FX_SWITCH_DOWN )
            flags |= 0x0100;    /* slot implemented */
        cfg[CAP_PM + 1] = CAP_EXP;
        cfg[CAP_EXP] = 0x10;
        cfg[CAP_EXP + 1] = CAP_MSI;
        wr16(cfg, CAP_EXP + 0x02, flags);
        wr32(cfg, CAP_EXP + 0x04, devcap);
        if ( bridge )
            wr32(cfg, CAP_EXP + 0x24, 0x0020);      /* DEVCAP2: ARI forwarding supported */
        wr16(cfg, CAP_EXP + 0x28, d->ari_fwd ? 0x0020 : 0);
    }
    cfg[CAP_MSI] = 0x05;
    cfg[CAP_MSI + 1] = 0x00;

    if ( ext )
    {
        /* AER, then ARI, then SR-IOV: {id, version, offset}, chained in order. */
        uint16_t ids[3], offs[3];
        uint8_t vers[3];
        unsigned n = 0;

        ids[n] = 0x0001, vers[n] = 2, offs[n++] = EXT_AER;
        if ( d->ari_cap )
            ids[n] = 0x000e, vers[n] = 1, offs[n++] = EXT_ARI;
        if ( k == FX_SRIOV_PF )
            ids[n] = 0x0010, vers[n] = 1, offs[n++] = EXT_SRIOV;
        for ( unsigned i = 0; i < n; i++ )
            wr32(cfg, offs[i], ids[i] | (uint32_t)vers[i] << 16 |
                               (uint32_t)(i + 1 < n ? offs[i + 1] : 0) << 20);
        if ( k == FX_SRIOV_PF )
        {
            uint16_t ctrl = (uint16_t)((d->vf_enable ? 0x0009 : 0) | (d->ari_cap ? 0x0010 : 0));

            wr16(cfg, EXT_SRIOV + 0x08, ctrl);
            wr16(cfg, EXT_SRIOV + 0x0c, d->totalvfs);
            wr16(cfg, EXT_SRIOV + 0x0e, d->totalvfs);
            wr16(cfg, EXT_SRIOV + 0x10, d->numvfs);
            wr16(cfg, EXT_SRIOV + 0x14, d->vf_offset);
            wr16(cfg, EXT_SRIOV + 0x16, d->vf_stride);
            wr16(cfg, EXT_SRIOV + 0x1a, d->vf_device);
            wr32(cfg, EXT_SRIOV + 0x1c, 0x553);
            wr32(cfg, EXT_SRIOV + 0x20, 0x1);
        }
    }
}

/* struct pt_hw probe over the in-memory tree (ctx: struct fx_tree *). */
int fx_hw_probe(void *tree, pt_sbdf_t sbdf, struct pt_cfg_info *info)
{
    uint8_t cfg[PT_CFG_EXT_LEN];
    const struct fx_dev *d = fx_find((const struct fx_tree *)tree, sbdf);
    size_t len;

    if ( !d )
        return -ENODEV;
    fx_config(d, cfg, &len);
    return pt_cfg_parse(cfg, len, PT_DEVFN(sbdf), info, NULL);
}

/* ARI forwarding on the bus a device sits on (Linux's ari_enabled). */
static bool bus_ari(const struct fx_dev *d)
{
    const struct fx_dev *p = d->parent;

    return p && p->kind != FX_ROOT_BUS && p->ari_fwd;
}

/* Devices in DFS order without the ones whose SBDF an earlier one already took. */
static int unique_devices(const struct fx_tree *t, struct fx_dev ***out, size_t *n)
{
    struct fx_dev **v;
    size_t nv, w = 0;
    uint8_t *seen;
    int r = fx_devices(t, &v, &nv);

    if ( r < 0 )
        return r;
    /* 2^24 bits per segment would be big: hash SBDFs into a bitmap and confirm collisions. */
    seen = calloc(1u << 20, 1);
    if ( !seen )
    {
        free(v);
        return -ENOMEM;
    }
    for ( size_t i = 0; i < nv; i++ )
    {
        pt_sbdf_t s = fx_sbdf(v[i]);
        unsigned h = (s * 2654435761u) >> 9;
        bool dup = false;

        if ( seen[h >> 3] & (1u << (h & 7)) )
            for ( size_t j = 0; j < w && !dup; j++ )
                dup = fx_sbdf(v[j]) == s;
        seen[h >> 3] |= (uint8_t)(1u << (h & 7));
        if ( !dup )
            v[w++] = v[i];
    }
    free(seen);
    *out = v;
    *n = w;
    return 0;
}

/* The topology the scanner would report for the written tree. */
int fx_topo(const struct fx_tree *t, struct pt_topo *out)
{
    struct fx_dev **v;
    size_t n;
    int r;

    memset(out, 0, sizeof(*out));
    r = unique_devices(t, &v, &n);
    if ( r < 0 )
        return r;
    for ( size_t i = 0; i < n && !r; i++ )
    {
        const struct fx_dev *d = v[i];
        uint8_t cfg[PT_CFG_EXT_LEN];
        char path[512];
        struct pt_dev pd;
        size_t len;

        memset(&pd, 0, sizeof(pd));
        fx_config(d, cfg, &len);
        /* The scanner reads only the first 256 bytes of a VF's config. */
        if ( d->kind == FX_VF )
            len = len > PT_CFG_FULL_LEN ? PT_CFG_FULL_LEN : len;
        pd.sbdf = fx_sbdf(d);
        if ( pt_cfg_parse(cfg, len, PT_DEVFN(pd.sbdf), &pd.cfg, NULL) < 0 )
        {
            r = -EINVAL;
            break;
        }
        memcpy(pd.hdr, cfg, PT_CFG_HDR_LEN);
        pd.path = strdup(fx_path(d, path, sizeof(path)));
        pd.driver = d->driver ? strdup(d->driver) : NULL;
        if ( !pd.path || (d->driver && !pd.driver) )
        {
            free(pd.path);
            free(pd.driver);
            r = -ENOMEM;
            break;
        }
        pd.type = pd.cfg.xen_type;
        pd.vendor = d->vendor;
        pd.device = d->device;
        pd.is_bridge = fx_kind_is_bridge(d->kind);
        if ( pd.is_bridge )
        {
            pd.sec_bus = d->sec;
            pd.sub_bus = d->sub;
        }
        pd.is_virtfn = d->kind == FX_VF;
        if ( pd.is_virtfn )
            pd.physfn = fx_sbdf(d->pf);
        pd.is_extfn = !pd.is_virtfn && bus_ari(d) && d->slot != 0;
        /* As the scanner sees it: no SR-IOV capability without extended config space. */
        pd.vfs_enabled = pd.cfg.sriov_pos && (pd.cfg.sriov_ctrl & 1);
        pd.numa_node = d->numa_node;
        pd.parent = PT_NO_PARENT;
        r = pt_topo_add(out, &pd);
        if ( r < 0 )
        {
            free(pd.path);
            free(pd.driver);
        }
    }
    free(v);
    if ( !r )
        r = pt_topo_finish(out);
    if ( r < 0 )
        pt_topo_free(out);
    return r;
}

/* ------------------------------------------------------------------ */
/* sysfs writer                                                        */
/* ------------------------------------------------------------------ */

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ( flag == FTW_DP )
        return rmdir(path) < 0 ? -1 : 0;
    return unlink(path) < 0 ? -1 : 0;
}

/* rm -rf for test clean-up. */
int fx_rmtree(const char *dir)
{
    struct stat st;

    if ( lstat(dir, &st) < 0 )
        return errno == ENOENT ? 0 : -errno;
    if ( nftw(dir, rm_cb, 32, FTW_DEPTH | FTW_PHYS) < 0 )
        return -errno;
    return 0;
}

static int put_at(int dfd, const char *name, const void *buf, size_t len)
{
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ssize_t w;

    if ( fd < 0 )
        return -errno;
    w = write(fd, buf, len);
    if ( w < 0 || (size_t)w != len )
    {
        int r = w < 0 ? -errno : -EIO;

        close(fd);
        return r;
    }
    return close(fd) < 0 ? -errno : 0;
}

static int putf_at(int dfd, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int putf_at(int dfd, const char *name, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return put_at(dfd, name, buf, (size_t)n);
}

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    size_t len = strlen(dir);

    if ( len >= sizeof(tmp) )
        return -ENAMETOOLONG;
    memcpy(tmp, dir, len + 1);
    for ( char *p = tmp + 1; *p; p++ )
        if ( *p == '/' )
        {
            *p = '\0';
            if ( mkdir(tmp, 0755) < 0 && errno != EEXIST )
                return -errno;
            *p = '/';
        }
    if ( mkdir(tmp, 0755) < 0 && errno != EEXIST )
        return -errno;
    return 0;
}

struct writer {
    int rootfd;                 /* the sysfs root */
    int devsfd;                 /* bus/pci/devices */
    int drvfd;                  /* bus/pci/drivers */
    struct fx_dev **uniq;       /* sorted by pointer: devices to write */
    size_t nuniq;
};

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

    return x < y ? -1 : x > y;
}

static bool to_write(const struct writer *w, const struct fx_dev *d)
{
    return bsearch(&d, w->uniq, w->nuniq, sizeof(*w->uniq), cmp_ptr) != NULL;
}

/* Writes one device directory (under pfd, whose path from the root is rel). */
static int write_dev(struct writer *w, int pfd, const char *rel, const struct fx_dev *d)
{
    char name[PT_SBDF_STRLEN], myrel[PATH_MAX], link[PATH_MAX + 64];
    uint8_t cfg[PT_CFG_EXT_LEN];
    pt_sbdf_t s = fx_sbdf(d);
    size_t len;
    int dfd, r;

    pt_sbdf_fmt(s, name);
    snprintf(myrel, sizeof(myrel), "%s/%s", rel, name);
    if ( mkdirat(pfd, name, 0755) < 0 && errno != EEXIST )
        return -errno;
    dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if ( dfd < 0 )
        return -errno;

    fx_config(d, cfg, &len);
    r = put_at(dfd, "config", cfg, len);
    if ( !r )
        r = putf_at(dfd, "vendor", "0x%04x\n", d->vendor);
    if ( !r )
        r = putf_at(dfd, "device", "0x%04x\n", d->device);
    if ( !r )
        r = putf_at(dfd, "class", "0x%06x\n", d->class);
    if ( !r )
        r = putf_at(dfd, "revision", "0x01\n");
    if ( !r )
        r = putf_at(dfd, "subsystem_vendor", "0x%04x\n", d->vendor);
    if ( !r )
        r = putf_at(dfd, "subsystem_device", "0x0000\n");
    if ( !r )
        r = putf_at(dfd, "numa_node", "%d\n", d->numa_node);
    if ( !r )
        r = putf_at(dfd, "ari_enabled", "%d\n", bus_ari(d) ? 1 : 0);
    if ( !r )
        r = putf_at(dfd, "irq", "0\n");
    if ( !r && fx_kind_is_bridge(d->kind) )
    {
        char bus[16];

        r = putf_at(dfd, "secondary_bus_number", "%u\n", d->sec);
        if ( !r )
            r = putf_at(dfd, "subordinate_bus_number", "%u\n", d->sub);
        if ( !r && mkdirat(dfd, "pci_bus", 0755) < 0 && errno != EEXIST )
            r = -errno;
        snprintf(bus, sizeof(bus), "pci_bus/%04x:%02x", d->seg, d->sec);
        if ( !r && mkdirat(dfd, bus, 0755) < 0 && errno != EEXIST )
            r = -errno;
    }
    if ( !r && d->kind == FX_SRIOV_PF )
    {
        r = putf_at(dfd, "sriov_totalvfs", "%u\n", d->totalvfs);
        if ( !r )
            r = putf_at(dfd, "sriov_numvfs", "%u\n", d->numvfs);
        if ( !r )
            r = putf_at(dfd, "sriov_offset", "%u\n", d->vf_offset);
        if ( !r )
            r = putf_at(dfd, "sriov_stride", "%u\n", d->vf_stride);
        if ( !r )
            r = putf_at(dfd, "sriov_vf_device", "%x\n", d->vf_device);
        for ( size_t i = 0; !r && i < d->numvfs; i++ )
        {
            char vn[32], vfname[PT_SBDF_STRLEN], tgt[32];

            if ( !to_write(w, d->vfs[i]) )
                continue;
            snprintf(vn, sizeof(vn), "virtfn%zu", i);
            snprintf(tgt, sizeof(tgt), "../%s", pt_sbdf_fmt(fx_sbdf(d->vfs[i]), vfname));
            if ( symlinkat(tgt, dfd, vn) < 0 )
                r = -errno;
        }
    }
    if ( !r && d->kind == FX_VF )
    {
        char pfname[PT_SBDF_STRLEN], tgt[32];

        snprintf(tgt, sizeof(tgt), "../%s", pt_sbdf_fmt(fx_sbdf(d->pf), pfname));
        if ( symlinkat(tgt, dfd, "physfn") < 0 )
            r = -errno;
    }
    if ( !r && d->driver )
    {
        /* rel is "devices/...": the device dir is depth(myrel) below the root. */
        char up[PATH_MAX] = "";
        size_t depth = 1;

        for ( const char *p = myrel; *p; p++ )
            depth += *p == '/';
        for ( size_t i = 0; i < depth; i++ )
            strcat(up, "../");
        if ( mkdirat(w->drvfd, d->driver, 0755) < 0 && errno != EEXIST )
            r = -errno;
        snprintf(link, sizeof(link), "%sbus/pci/drivers/%s", up, d->driver);
        if ( !r && symlinkat(link, dfd, "driver") < 0 )
            r = -errno;
        if ( !r )
        {
            char dl[PATH_MAX];

            snprintf(dl, sizeof(dl), "%s/%s", d->driver, name);
            snprintf(link, sizeof(link), "../../../../%s", myrel);
            if ( symlinkat(link, w->drvfd, dl) < 0 )
                r = -errno;
        }
    }
    if ( !r )
    {
        snprintf(link, sizeof(link), "../../../%s", myrel);
        if ( symlinkat(link, w->devsfd, name) < 0 )
            r = -errno;
    }
    /* VFs are the PF's siblings (their parent device is the PF's parent). */
    for ( size_t i = 0; !r && i < d->numvfs; i++ )
        if ( to_write(w, d->vfs[i]) )
            r = write_dev(w, pfd, rel, d->vfs[i]);
    for ( size_t i = 0; !r && i < d->nkids; i++ )
        if ( to_write(w, d->kids[i]) )
            r = write_dev(w, dfd, myrel, d->kids[i]);
    close(dfd);
    return r;
}

/* Writes the tree as a Linux-like sysfs root into dir. */
int fx_write_sysfs(const struct fx_tree *t, const char *dir)
{
    struct writer w = { .rootfd = -1, .devsfd = -1, .drvfd = -1 };
    int r;

    r = mkdir_p(dir);
    if ( r < 0 )
        return r;
    {
        /* It deletes dir/devices and dir/bus first: never on the real thing. */
        char real[PATH_MAX];

        if ( !realpath(dir, real) )
            return -errno;
        if ( !strcmp(real, "/") || !strcmp(real, "/sys") )
            return -EPERM;
    }
    w.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if ( w.rootfd < 0 )
        return -errno;
    {
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/devices", dir);
        r = fx_rmtree(p);
        snprintf(p, sizeof(p), "%s/bus", dir);
        if ( !r )
            r = fx_rmtree(p);
        if ( r < 0 )
            goto out;
    }
    if ( mkdirat(w.rootfd, "devices", 0755) < 0 || mkdirat(w.rootfd, "bus", 0755) < 0 ||
         mkdirat(w.rootfd, "bus/pci", 0755) < 0 ||
         mkdirat(w.rootfd, "bus/pci/devices", 0755) < 0 ||
         mkdirat(w.rootfd, "bus/pci/drivers", 0755) < 0 )
    {
        r = -errno;
        goto out;
    }
    w.devsfd = openat(w.rootfd, "bus/pci/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    w.drvfd = openat(w.rootfd, "bus/pci/drivers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if ( w.devsfd < 0 || w.drvfd < 0 )
    {
        r = -errno;
        goto out;
    }
    r = unique_devices(t, &w.uniq, &w.nuniq);
    if ( r < 0 )
        goto out;
    qsort(w.uniq, w.nuniq, sizeof(*w.uniq), cmp_ptr);
    for ( size_t i = 0; !r && i < t->nroots; i++ )
    {
        const struct fx_dev *root = t->roots[i];
        char rel[64];
        int rfd;

        snprintf(rel, sizeof(rel), "devices/pci%04x:%02x", root->seg, root->sec);
        if ( mkdirat(w.rootfd, rel, 0755) < 0 )
        {
            r = -errno;
            break;
        }
        rfd = openat(w.rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if ( rfd < 0 )
        {
            r = -errno;
            break;
        }
        for ( size_t k = 0; !r && k < root->nkids; k++ )
            if ( to_write(&w, root->kids[k]) )
                r = write_dev(&w, rfd, rel, root->kids[k]);
        close(rfd);
    }

 out:
    free(w.uniq);
    if ( w.devsfd >= 0 )
        close(w.devsfd);
    if ( w.drvfd >= 0 )
        close(w.drvfd);
    close(w.rootfd);
    return r;
}

/* ------------------------------------------------------------------ */
/* Text descriptions                                                   */
/* ------------------------------------------------------------------ */

static int perr(char *errbuf, size_t errlen, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int perr(char *errbuf, size_t errlen, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if ( errbuf && errlen )
    {
        n = snprintf(errbuf, errlen, "line %u: ", line);
        va_start(ap, fmt);
        if ( n >= 0 && (size_t)n < errlen )
            vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool parse_ul(const char *s, unsigned long max, unsigned long *out)
{
    char *end;

    if ( !*s )
        return false;
    errno = 0;
    *out = strtoul(s, &end, 0);
    return !*end && !errno && *out <= max;
}

/* One "NAME[=VALUE]" option for device d. */
static int apply_option(struct fx_dev *d, char *opt, unsigned *numvfs, char *errbuf,
                        size_t errlen, unsigned line)
{
    char *eq = strchr(opt, '=');
    const char *val = eq ? eq + 1 : "";
    unsigned long v = 0;
    bool bridge = fx_kind_is_bridge(d->kind), pf = d->kind == FX_SRIOV_PF;

    if ( eq )
        *eq = '\0';
#define NUM(max) do { if ( !parse_ul(val, (max), &v) ) \
        return perr(errbuf, errlen, line, "option %s: bad value '%s'", opt, val); } while ( 0 )
#define ONLY(cond, what) do { if ( !(cond) ) \
        return perr(errbuf, errlen, line, "option %s: only for %s", opt, what); } while ( 0 )
    if ( !strcmp(opt, "vendor") ) { NUM(0xffff); d->vendor = (uint16_t)v; }
    else if ( !strcmp(opt, "device") ) { NUM(0xffff); d->device = (uint16_t)v; }
    else if ( !strcmp(opt, "class") ) { NUM(0xffffff); d->class = (uint32_t)v; }
    else if ( !strcmp(opt, "driver") )
    {
        if ( !*val || strchr(val, '/') )
            return perr(errbuf, errlen, line, "option driver: bad name '%s'", val);
        if ( fx_set_driver(d, val) < 0 )
            return -ENOMEM;
    }
    else if ( !strcmp(opt, "numa") )
    {
        char *end;
        long n = strtol(val, &end, 0);

        if ( !*val || *end || n < -1 || n > 1024 )
            return perr(errbuf, errlen, line, "option numa: bad value '%s'", val);
        d->numa_node = (int)n;
    }
    else if ( !strcmp(opt, "ari") ) d->ari_cap = true;
    else if ( !strcmp(opt, "arifwd") ) { ONLY(bridge, "bridges"); d->ari_fwd = true; }
    else if ( !strcmp(opt, "phantom") ) { NUM(3); d->phantom = (uint8_t)v; }
    else if ( !strcmp(opt, "mf") ) d->multifunction = true;
    else if ( !strcmp(opt, "reserve") ) { ONLY(bridge, "bridges"); NUM(255); d->bus_reserve = (unsigned)v; }
    else if ( !strcmp(opt, "pri") ) { ONLY(bridge, "bridges"); NUM(255); d->x_pri = (uint8_t)v; d->regs_explicit = true; }
    else if ( !strcmp(opt, "sec") ) { ONLY(bridge, "bridges"); NUM(255); d->x_sec = (uint8_t)v; d->regs_explicit = true; }
    else if ( !strcmp(opt, "sub") ) { ONLY(bridge, "bridges"); NUM(255); d->x_sub = (uint8_t)v; d->regs_explicit = true; }
    else if ( !strcmp(opt, "totalvfs") ) { ONLY(pf, "pf"); NUM(0xffff); d->totalvfs = (uint16_t)v; }
    else if ( !strcmp(opt, "offset") ) { ONLY(pf, "pf"); NUM(0xffff); d->vf_offset = (uint16_t)v; }
    else if ( !strcmp(opt, "stride") ) { ONLY(pf, "pf"); NUM(0xffff); d->vf_stride = (uint16_t)v; }
    else if ( !strcmp(opt, "vfdev") ) { ONLY(pf, "pf"); NUM(0xffff); d->vf_device = (uint16_t)v; }
    else if ( !strcmp(opt, "numvfs") ) { ONLY(pf, "pf"); NUM(0xffff); *numvfs = (unsigned)v; }
    else
        return perr(errbuf, errlen, line, "unknown option '%s'", opt);
#undef NUM
#undef ONLY
    return 0;
}

struct level {
    int indent;
    struct fx_dev *node;
};

/* Parses a text description into a new Linux-numbered tree. */
int fx_parse(const char *text, struct fx_tree **out, char *errbuf, size_t errlen)
{
    struct fx_tree *t = fx_new();
    struct level stack[64];
    size_t depth = 0;
    unsigned lineno = 0;
    const char *p = text;
    int r = 0;

    if ( errbuf && errlen )
        errbuf[0] = '\0';
    if ( !t )
        return -ENOMEM;
    while ( *p && !r )
    {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024], *tok, *save = NULL, *hash;
        int indent = 0;

        lineno++;
        if ( len >= sizeof(line) )
        {
            r = perr(errbuf, errlen, lineno, "line too long");
            break;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (eol ? 1 : 0);
        if ( (hash = strchr(line, '#')) )
            *hash = '\0';
        for ( const char *c = line; *c == ' ' || *c == '\t'; c++ )
            indent += *c == '\t' ? 8 - indent % 8 : 1;
        tok = strtok_r(line, " \t\r", &save);
        if ( !tok )
            continue;

        if ( !strcmp(tok, "root") )
        {
            char *a = strtok_r(NULL, " \t\r", &save);
            pt_sbdf_t s;
            char buf[32];
            struct fx_dev *root;

            if ( !a || strlen(a) > 7 || strtok_r(NULL, " \t\r", &save) )
            {
                r = perr(errbuf, errlen, lineno, "expected 'root SSSS:BB'");
                break;
            }
            snprintf(buf, sizeof(buf), "%s:00.0", a);
            if ( pt_sbdf_parse(buf, 0, &s) < 0 )
            {
                r = perr(errbuf, errlen, lineno, "bad root bus '%s' (want SSSS:BB)", a);
                break;
            }
            root = fx_root(t, PT_SEG(s), PT_BUS(s));
            if ( !root )
            {
                r = -ENOMEM;
                break;
            }
            stack[0].indent = indent;
            stack[0].node = root;
            depth = 1;
            continue;
        }
        else
        {
            unsigned long slot, func;
            char *dot = strchr(tok, '.'), *end;
            enum fx_kind kind;
            struct fx_dev *parent, *d;
            unsigned numvfs = 0;
            char *kname;

            if ( !dot )
            {
                r = perr(errbuf, errlen, lineno, "expected 'DD.F KIND' or 'root SSSS:BB', got '%s'", tok);
                break;
            }
            *dot = '\0';
            slot = strtoul(tok, &end, 16);
            if ( !*tok || *end || slot > 31 || !parse_ul(dot + 1, 7, &func) )
            {
                r = perr(errbuf, errlen, lineno, "bad device.function '%s.%s'", tok, dot + 1);
                break;
            }
            kname = strtok_r(NULL, " \t\r", &save);
            if ( !kname || fx_kind_parse(kname, &kind) < 0 )
            {
                r = perr(errbuf, errlen, lineno, "unknown kind '%s'", kname ? kname : "");
                break;
            }
            while ( depth && stack[depth - 1].indent >= indent )
                depth--;
            if ( !depth )
            {
                stack[0].node = fx_root(t, 0, 0);
                stack[0].indent = -1;
                if ( !stack[0].node )
                {
                    r = -ENOMEM;
                    break;
                }
                depth = 1;
            }
            parent = stack[depth - 1].node;
            if ( parent->kind != FX_ROOT_BUS && !fx_kind_is_bridge(parent->kind) )
            {
                r = perr(errbuf, errlen, lineno, "nested under a %s, which is not a bridge",
                         fx_kind_name(parent->kind));
                break;
            }
            for ( size_t i = 0; i < parent->nkids; i++ )
                if ( parent->kids[i]->slot == slot && parent->kids[i]->func == func )
                {
                    r = perr(errbuf, errlen, lineno, "%02lx.%lu is already on this bus", slot, func);
                    break;
                }
            if ( r )
                break;
            d = fx_add(t, parent, (unsigned)slot, (unsigned)func, kind);
            if ( !d )
            {
                r = -ENOMEM;
                break;
            }
            while ( !r && (tok = strtok_r(NULL, " \t\r", &save)) )
                r = apply_option(d, tok, &numvfs, errbuf, errlen, lineno);
            if ( !r && numvfs )
            {
                if ( fx_set_numvfs(d, numvfs) < 0 )
                    r = perr(errbuf, errlen, lineno, "numvfs=%u exceeds totalvfs=%u",
                             numvfs, d->totalvfs);
            }
            if ( !r && depth < 64 )
            {
                stack[depth].indent = indent;
                stack[depth].node = d;
                depth++;
            }
        }
    }
    if ( r )
    {
        fx_free(t);
        return r;
    }
    fx_number_busses(t, FX_NUMBER_LINUX);
    fx_apply_explicit(t);
    *out = t;
    return 0;
}

/* Reads and parses a description file. */
int fx_parse_file(const char *file, struct fx_tree **out, char *errbuf, size_t errlen)
{
    char *text;
    size_t len;
    int r = pt_read_file(file, &text, &len);

    if ( r < 0 )
    {
        if ( errbuf && errlen )
            snprintf(errbuf, errlen, "%s: %s", file, strerror(-r));
        return r;
    }
    r = fx_parse(text, out, errbuf, errlen);
    free(text);
    return r;
}

/* ------------------------------------------------------------------ */
/* Generators                                                          */
/* ------------------------------------------------------------------ */

static unsigned rnd(unsigned *state)
{
    unsigned x = *state ? *state : 0x9e3779b9u;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* The next free root-port function on a root bus (slot 1..31, fn 0..7). */
static bool next_port(unsigned *slot, unsigned *func)
{
    if ( ++*func > 7 )
    {
        *func = 0;
        ++*slot;
    }
    return *slot <= 31;
}

/* A deterministic synthetic tree of about ndev devices. */
struct fx_tree *fx_gen(size_t ndev, unsigned seed)
{
    struct fx_tree *t = fx_new();
    unsigned st = seed ? seed : 1, seg = 0, slot = 1, func = (unsigned)-1, busses = 0;
    struct fx_dev *root;
    size_t n = 0;

    if ( !t || !(root = fx_root(t, 0, 0)) || !fx_add(t, root, 0, 0, FX_HOST_BRIDGE) )
        goto fail;
    n = 1;
    while ( n < ndev )
    {
        unsigned kind = rnd(&st) % 100;
        struct fx_dev *rp, *d;

        if ( !next_port(&slot, &func) || busses > 200 )
        {
            /* A new segment: a fresh root bus with its own host bridge. */
            if ( ++seg > 0xffff || !(root = fx_root(t, (uint16_t)seg, 0)) ||
                 !fx_add(t, root, 0, 0, FX_HOST_BRIDGE) )
                goto fail;
            n++;
            slot = 1;
            func = 0;
            busses = 0;
        }
        if ( !(rp = fx_add(t, root, slot, func, FX_ROOT_PORT)) )
            goto fail;
        n++;
        busses++;
        if ( kind < 30 )
        {
            /* A plain PCIe endpoint, sometimes multi-function. */
            unsigned nf = rnd(&st) % 4 == 0 ? 2 + rnd(&st) % 3 : 1;

            for ( unsigned f = 0; f < nf; f++ )
            {
                if ( !(d = fx_add(t, rp, 0, f, FX_PCIE_EP)) || fx_set_driver(d, "e1000e") < 0 )
                    goto fail;
                n++;
            }
        }
        else if ( kind < 55 )
        {
            /* A switch with 2..8 downstream ports, an endpoint on each. */
            unsigned nd = 2 + rnd(&st) % 7;
            struct fx_dev *up = fx_add(t, rp, 0, 0, FX_SWITCH_UP);

            if ( !up )
                goto fail;
            n++;
            busses++;
            for ( unsigned i = 0; i < nd; i++ )
            {
                struct fx_dev *dp = fx_add(t, up, i, 0, FX_SWITCH_DOWN);

                if ( !dp || !(d = fx_add(t, dp, 0, 0, FX_PCIE_EP)) )
                    goto fail;
                d->numa_node = (int)(seg % 2);
                n += 2;
                busses++;
            }
        }
        else if ( kind < 75 )
        {
            /* A PCIe-to-PCI bridge with conventional devices and a legacy bridge. */
            unsigned np = 2 + rnd(&st) % 6;
            struct fx_dev *br = fx_add(t, rp, 0, 0, FX_PCIE2PCI), *lb;

            if ( !br )
                goto fail;
            n++;
            busses++;
            for ( unsigned i = 0; i < np; i++ )
            {
                if ( !(d = fx_add(t, br, 1 + i, 0, FX_PCI_EP)) || fx_set_driver(d, "e1000") < 0 )
                    goto fail;
                n++;
            }
            if ( !(lb = fx_add(t, br, 0x10, 0, FX_LEGACY_BRIDGE)) ||
                 !fx_add(t, lb, 1, 0, FX_PCI_EP) || !fx_add(t, lb, 2, 0, FX_PCI_EP) )
                goto fail;
            n += 3;
            busses++;
        }
        else
        {
            /* An SR-IOV PF behind an ARI-forwarding port, with many VFs. */
            unsigned nvf = 32 + rnd(&st) % 97;

            rp->ari_fwd = true;
            if ( !(d = fx_add(t, rp, 0, 0, FX_SRIOV_PF)) )
                goto fail;
            d->ari_cap = true;
            d->totalvfs = (uint16_t)nvf;
            d->vf_offset = 1;
            d->vf_stride = 1;
            if ( fx_set_driver(d, "igb") < 0 || fx_set_numvfs(d, nvf) < 0 )
                goto fail;
            n += 1 + nvf;
        }
    }
    fx_number_busses(t, FX_NUMBER_LINUX);
    return t;

 fail:
    fx_free(t);
    return NULL;
}

static int random_subtree(struct fx_tree *t, struct fx_dev *parent, unsigned *st, unsigned level,
                          size_t *budget, bool conventional)
{
    unsigned nkids = 1 + rnd(st) % 3;

    for ( unsigned i = 0; i < nkids && *budget; i++ )
    {
        static const enum fx_kind pcie_kinds[] = {
            FX_ROOT_PORT, FX_PCIE2PCI, FX_PCIE_EP, FX_SRIOV_PF, FX_SWITCH_UP, FX_PCIE_EP,
        };
        static const enum fx_kind pci_kinds[] = {
            FX_PCI_EP, FX_LEGACY_BRIDGE, FX_PCI_EP, FX_PCI2PCIE,
        };
        enum fx_kind k;
        struct fx_dev *d;
        unsigned slot = parent->kind == FX_SWITCH_UP ? i : (parent->kind == FX_ROOT_BUS ? 1 + i : 0);
        unsigned func = parent->kind == FX_ROOT_BUS || parent->kind == FX_SWITCH_UP ||
                        conventional ? 0 : i;

        if ( conventional )
        {
            k = pci_kinds[rnd(st) % 4];
            slot = 1 + i;
        }
        else if ( parent->kind == FX_SWITCH_UP )
            k = FX_SWITCH_DOWN;
        else
            k = pcie_kinds[rnd(st) % 6];
        if ( level >= 3 && fx_kind_is_bridge(k) )
            k = conventional ? FX_PCI_EP : FX_PCIE_EP;
        d = fx_add(t, parent, slot, func, k);
        if ( !d )
            return -ENOMEM;
        --*budget;
        if ( k == FX_PCIE_EP && rnd(st) % 5 == 0 )
            d->phantom = 1 + rnd(st) % 3;
        if ( rnd(st) % 4 == 0 && fx_set_driver(d, "drv") < 0 )
            return -ENOMEM;
        if ( k == FX_SRIOV_PF )
        {
            unsigned n = rnd(st) % 4;

            d->totalvfs = 4;
            if ( n > *budget )
                n = (unsigned)*budget;
            if ( fx_set_numvfs(d, n) < 0 )
                return -ENOMEM;
            *budget -= n;
        }
        if ( (k == FX_ROOT_PORT || k == FX_SWITCH_DOWN) && rnd(st) % 3 == 0 )
            d->ari_fwd = true;
        if ( fx_kind_is_bridge(k) )
        {
            int r = random_subtree(t, d, st, level + 1, budget,
                                   k == FX_PCIE2PCI || k == FX_LEGACY_BRIDGE);

            if ( r < 0 )
                return r;
        }
    }
    return 0;
}

/* A small random tree for property tests. */
struct fx_tree *fx_random(unsigned seed, size_t maxdev)
{
    struct fx_tree *t = fx_new();
    unsigned st = seed * 2654435761u + 1;
    size_t budget = maxdev;
    struct fx_dev *root;

    if ( !t || !(root = fx_root(t, 0, 0)) )
        goto fail;
    if ( budget && fx_add(t, root, 0, 0, FX_HOST_BRIDGE) )
        budget--;
    if ( random_subtree(t, root, &st, 0, &budget, false) < 0 )
        goto fail;
    fx_number_busses(t, FX_NUMBER_LINUX);
    return t;

 fail:
    fx_free(t);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Fault injection                                                     */
/* ------------------------------------------------------------------ */

static int dev_file(const char *dir, pt_sbdf_t sbdf, const char *file, char *out, size_t size)
{
    char name[PT_SBDF_STRLEN];
    int n = snprintf(out, size, "%s/bus/pci/devices/%s%s%s", dir, pt_sbdf_fmt(sbdf, name),
                     file ? "/" : "", file ? file : "");

    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Fault: truncates a device's config file. */
int fx_fault_truncate_config(const char *dir, pt_sbdf_t sbdf, size_t len)
{
    char p[PATH_MAX];
    int r = dev_file(dir, sbdf, "config", p, sizeof(p));

    if ( r < 0 )
        return r;
    return truncate(p, (off_t)len) < 0 ? -errno : 0;
}

static int patch_config(const char *dir, pt_sbdf_t sbdf, size_t off, const uint8_t *bytes,
                        size_t n)
{
    char p[PATH_MAX];
    int fd, r = dev_file(dir, sbdf, "config", p, sizeof(p));

    if ( r < 0 )
        return r;
    fd = open(p, O_WRONLY | O_CLOEXEC);
    if ( fd < 0 )
        return -errno;
    if ( pwrite(fd, bytes, n, (off_t)off) != (ssize_t)n )
        r = -EIO;
    close(fd);
    return r;
}

/* Fault: overwrites a device's config header with garbage. */
int fx_fault_garbage_config(const char *dir, pt_sbdf_t sbdf)
{
    static const uint8_t garbage[16] = {
        0x00, 0x00, 0x5a, 0xa5, 0xde, 0xad, 0xbe, 0xef,
        0x13, 0x37, 0x42, 0x99, 0x00, 0x00, 0x7f, 0x00,
    };

    return patch_config(dir, sbdf, 0, garbage, sizeof(garbage));
}

/* Fault: makes a device's capability list loop. */
int fx_fault_cap_loop(const char *dir, pt_sbdf_t sbdf)
{
    static const uint8_t status[2] = { 0x10, 0x00 };
    static const uint8_t ptr[1] = { 0x40 };
    static const uint8_t cap[2] = { 0x01, 0x40 };
    int r = patch_config(dir, sbdf, 0x06, status, sizeof(status));

    if ( !r )
        r = patch_config(dir, sbdf, 0x34, ptr, sizeof(ptr));
    if ( !r )
        r = patch_config(dir, sbdf, 0x40, cap, sizeof(cap));
    return r;
}

/* Fault: adds a dangling bus/pci/devices link. */
int fx_fault_dangling_link(const char *dir, const char *name)
{
    char p[PATH_MAX];

    if ( snprintf(p, sizeof(p), "%s/bus/pci/devices/%s", dir, name) >= (int)sizeof(p) )
        return -ENAMETOOLONG;
    return symlink("../../../devices/pci0000:00/no-such-device", p) < 0 ? -errno : 0;
}

/* Fault: deletes a device directory (the device vanished). */
int fx_fault_remove_dir(const char *dir, pt_sbdf_t sbdf)
{
    char p[PATH_MAX], real[PATH_MAX];
    int r = dev_file(dir, sbdf, NULL, p, sizeof(p));

    if ( r < 0 )
        return r;
    if ( !realpath(p, real) )
        return -errno;
    return fx_rmtree(real);
}

/* Fault: deletes one attribute of a device. */
int fx_fault_remove_file(const char *dir, pt_sbdf_t sbdf, const char *file)
{
    char p[PATH_MAX];
    int r = dev_file(dir, sbdf, file, p, sizeof(p));

    if ( r < 0 )
        return r;
    return unlink(p) < 0 ? -errno : 0;
}
