/*
 * topo.c - dom0's topology container.
 *
 * Parents: a VF's parent is its PF.  Any other device with a physical path
 * (the scanner always sets one) gets the device whose path is its own minus
 * the last element: that is the chain Linux itself built (the sysfs device
 * hierarchy), and it stays right even when bridge registers are broken.
 * Devices without a path (topologies built by hand in tests), or whose
 * path parent is absent (unreadable, vanished), fall back to the bridge
 * ranges: the innermost bridge of the segment whose secondary..subordinate
 * range holds the device's bus.  A chain that would loop (broken ranges)
 * is cut: the device then has no parent.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

/* Appends a device; the topology takes over its path and driver strings. */
int pt_topo_add(struct pt_topo *topo, const struct pt_dev *dev)
{
    if ( topo->n == topo->cap )
    {
        size_t ncap = topo->cap ? topo->cap * 2 : 64;
        struct pt_dev *d = realloc(topo->devs, ncap * sizeof(*d));

        if ( !d )
            return -ENOMEM;
        topo->devs = d;
        topo->cap = ncap;
    }
    topo->devs[topo->n++] = *dev;
    return 0;
}

static int cmp_dev(const void *a, const void *b)
{
    const struct pt_dev *x = a, *y = b;

    return x->sbdf < y->sbdf ? -1 : x->sbdf > y->sbdf;
}

static int cmp_sbdf(const void *a, const void *b)
{
    pt_sbdf_t x = *(const pt_sbdf_t *)a, y = *(const pt_sbdf_t *)b;

    return x < y ? -1 : x > y;
}

struct path_ent {
    const char *path;
    size_t len;
    size_t idx;
};

static int cmp_path(const void *a, const void *b)
{
    const struct path_ent *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->path, y->path, n);

    if ( c )
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static size_t find_index(const struct pt_topo *topo, pt_sbdf_t sbdf)
{
    size_t lo = 0, hi = topo->n;

    while ( lo < hi )
    {
        size_t mid = lo + (hi - lo) / 2;

        if ( topo->devs[mid].sbdf == sbdf )
            return mid;
        if ( topo->devs[mid].sbdf < sbdf )
            lo = mid + 1;
        else
            hi = mid;
    }
    return PT_NO_PARENT;
}

/* Per segment (devs sorted, so a segment is a contiguous run): bus -> innermost bridge. */
static void range_parents(struct pt_topo *topo, size_t first, size_t end, bool *need)
{
    size_t owner[256];

    for ( unsigned b = 0; b < 256; b++ )
        owner[b] = PT_NO_PARENT;
    for ( size_t i = first; i < end; i++ )
    {
        const struct pt_dev *br = &topo->devs[i];

        if ( !br->is_bridge || br->sec_bus > br->sub_bus )
            continue;
        for ( unsigned b = br->sec_bus; b <= br->sub_bus; b++ )
        {
            const struct pt_dev *o;

            if ( owner[b] == PT_NO_PARENT )
            {
                owner[b] = i;
                continue;
            }
            o = &topo->devs[owner[b]];
            /* Innermost: the narrower range; on a tie the deeper bridge (higher bus). */
            if ( br->sub_bus - br->sec_bus < o->sub_bus - o->sec_bus ||
                 (br->sub_bus - br->sec_bus == o->sub_bus - o->sec_bus &&
                  PT_BUS(br->sbdf) > PT_BUS(o->sbdf)) )
                owner[b] = i;
        }
    }
    for ( size_t i = first; i < end; i++ )
    {
        size_t p;

        if ( !need[i] )
            continue;
        p = owner[PT_BUS(topo->devs[i].sbdf)];
        topo->devs[i].parent = p == i ? PT_NO_PARENT : p;
    }
}

static void compute_depths(struct pt_topo *topo)
{
    /* 0: not yet, 1: in progress, 2: done */
    unsigned char *state = calloc(topo->n ? topo->n : 1, 1);
    size_t *stack = malloc((topo->n ? topo->n : 1) * sizeof(*stack));

    if ( !state || !stack )
    {
        /* Degraded but safe: no depths. */
        for ( size_t i = 0; i < topo->n; i++ )
            topo->devs[i].depth = 0;
        free(state);
        free(stack);
        return;
    }
    for ( size_t i = 0; i < topo->n; i++ )
    {
        size_t sp = 0, j = i;

        /* Walk up until a device with a known depth, a root or a loop. */
        while ( state[j] == 0 )
        {
            state[j] = 1;
            stack[sp++] = j;
            if ( topo->devs[j].parent == PT_NO_PARENT )
                break;
            j = topo->devs[j].parent;
        }
        if ( state[j] == 1 && topo->devs[j].parent != PT_NO_PARENT )
        {
            /* j closes a loop: cut it there. */
            topo->devs[j].parent = PT_NO_PARENT;
        }
        while ( sp )
        {
            size_t k = stack[--sp];
            size_t p = topo->devs[k].parent;

            topo->devs[k].depth = p == PT_NO_PARENT ? 0 : topo->devs[p].depth + 1;
            state[k] = 2;
        }
    }
    free(state);
    free(stack);
}

/* Sorts by SBDF, dedups unreadable, computes parent (path, else ranges) and depth. */
int pt_topo_finish(struct pt_topo *topo)
{
    struct path_ent *paths = NULL;
    size_t npaths = 0;
    bool *need = NULL;

    if ( topo->n )
        qsort(topo->devs, topo->n, sizeof(*topo->devs), cmp_dev);
    if ( topo->nunreadable )
    {
        size_t w = 0;

        qsort(topo->unreadable, topo->nunreadable, sizeof(*topo->unreadable), cmp_sbdf);
        for ( size_t i = 0; i < topo->nunreadable; i++ )
            if ( !w || topo->unreadable[w - 1] != topo->unreadable[i] )
                topo->unreadable[w++] = topo->unreadable[i];
        topo->nunreadable = w;
    }
    if ( !topo->n )
        return 0;

    need = calloc(topo->n, sizeof(*need));
    paths = malloc(topo->n * sizeof(*paths));
    if ( !need || !paths )
    {
        free(need);
        free(paths);
        return -ENOMEM;
    }
    for ( size_t i = 0; i < topo->n; i++ )
    {
        if ( topo->devs[i].path )
        {
            paths[npaths].path = topo->devs[i].path;
            paths[npaths].len = strlen(topo->devs[i].path);
            paths[npaths].idx = i;
            npaths++;
        }
    }
    if ( npaths )
        qsort(paths, npaths, sizeof(*paths), cmp_path);

    for ( size_t i = 0; i < topo->n; i++ )
    {
        struct pt_dev *d = &topo->devs[i];
        const char *slash;

        d->parent = PT_NO_PARENT;
        if ( d->is_virtfn )
        {
            size_t p = find_index(topo, d->physfn);

            d->parent = p == i ? PT_NO_PARENT : p;
            if ( p != PT_NO_PARENT )
                continue;
        }
        if ( d->path && (slash = strrchr(d->path, '/')) )
        {
            struct path_ent key = { d->path, (size_t)(slash - d->path), 0 };
            struct path_ent *hit = bsearch(&key, paths, npaths, sizeof(*paths), cmp_path);

            if ( hit && hit->idx != i )
            {
                d->parent = hit->idx;
                continue;
            }
        }
        else if ( d->path && !d->is_virtfn )
            continue;           /* on a root bus: no parent */
        need[i] = true;
    }
    for ( size_t first = 0; first < topo->n; )
    {
        size_t end = first;

        while ( end < topo->n && PT_SEG(topo->devs[end].sbdf) == PT_SEG(topo->devs[first].sbdf) )
            end++;
        range_parents(topo, first, end, need);
        first = end;
    }
    compute_depths(topo);
    free(need);
    free(paths);
    return 0;
}

/* Binary search by SBDF (after pt_topo_finish); NULL when absent. */
const struct pt_dev *pt_topo_find(const struct pt_topo *topo, pt_sbdf_t sbdf)
{
    size_t i = find_index(topo, sbdf);

    return i == PT_NO_PARENT ? NULL : &topo->devs[i];
}

/* True when the scan saw sbdf but could not read it. */
bool pt_topo_is_unreadable(const struct pt_topo *topo, pt_sbdf_t sbdf)
{
    return topo->nunreadable &&
           bsearch(&sbdf, topo->unreadable, topo->nunreadable,
                   sizeof(*topo->unreadable), cmp_sbdf) != NULL;
}

/* Frees every device string and array; leaves an empty topology. */
void pt_topo_free(struct pt_topo *topo)
{
    for ( size_t i = 0; i < topo->n; i++ )
    {
        free(topo->devs[i].path);
        free(topo->devs[i].driver);
    }
    free(topo->devs);
    free(topo->unreadable);
    free(topo->dmar);
    free(topo->dmar_file);
    memset(topo, 0, sizeof(*topo));
}
