/*
 * xen_view.c - the in-memory model of Xen's PCI registry (DESIGN §4.3).
 *
 * Segments are kept sorted by number and each segment's devices sorted by
 * SBDF at all times (pt_xview_add() inserts in order), so pt_xview_find()
 * is two binary searches.  Views with 20k entries are routine (SR-IOV), so
 * nothing here is quadratic for the usual ascending-order adds: an add at
 * the end is an append.
 *
 * Pointers returned by pt_xview_seg()/pt_xview_add()/pt_xview_find() are
 * valid only until the next call that adds or removes a segment or entry.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

/* Index of the first segment with number >= seg. */
static size_t seg_lower_bound(const struct pt_xview *v, uint16_t seg)
{
    size_t lo = 0, hi = v->nsegs;

    while ( lo < hi )
    {
        size_t mid = lo + (hi - lo) / 2;

        if ( v->segs[mid].seg < seg )
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first device with sbdf >= sbdf. */
static size_t dev_lower_bound(const struct pt_xseg *s, pt_sbdf_t sbdf)
{
    size_t lo = 0, hi = s->n;

    /* Fast path for the common ascending insert. */
    if ( s->n == 0 || s->devs[s->n - 1].sbdf < sbdf )
        return s->n;
    while ( lo < hi )
    {
        size_t mid = lo + (hi - lo) / 2;

        if ( s->devs[mid].sbdf < sbdf )
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct pt_xseg *seg_lookup(const struct pt_xview *v, uint16_t seg)
{
    size_t i = seg_lower_bound(v, seg);

    if ( i < v->nsegs && v->segs[i].seg == seg )
        return &v->segs[i];
    return NULL;
}

/* Returns the segment, creating it (b2b_known, empty, in sorted place) when create. */
struct pt_xseg *pt_xview_seg(struct pt_xview *v, uint16_t seg, bool create)
{
    struct pt_xseg *s = seg_lookup(v, seg);
    size_t i;

    if ( s || !create )
        return s;
    if ( v->nsegs == v->capsegs )
    {
        size_t ncap = v->capsegs ? v->capsegs * 2 : 2;
        struct pt_xseg *ns = realloc(v->segs, ncap * sizeof(*ns));

        if ( !ns )
            return NULL;
        v->segs = ns;
        v->capsegs = ncap;
    }
    i = seg_lower_bound(v, seg);
    memmove(&v->segs[i + 1], &v->segs[i], (v->nsegs - i) * sizeof(v->segs[0]));
    v->nsegs++;
    s = &v->segs[i];
    memset(s, 0, sizeof(*s));
    s->seg = seg;
    s->b2b_known = true;
    return s;
}

/* Binary search in the entry's segment; NULL when absent. */
struct pt_xdev *pt_xview_find(const struct pt_xview *v, pt_sbdf_t sbdf)
{
    struct pt_xseg *s = seg_lookup(v, PT_SEG(sbdf));
    size_t i;

    if ( !s )
        return NULL;
    i = dev_lower_bound(s, sbdf);
    if ( i < s->n && s->devs[i].sbdf == sbdf )
        return &s->devs[i];
    return NULL;
}

/* Inserts in sbdf order; NULL with errno ENOMEM, or EEXIST when the sbdf is known. */
struct pt_xdev *pt_xview_add(struct pt_xview *v, const struct pt_xdev *d)
{
    struct pt_xseg *s = pt_xview_seg(v, PT_SEG(d->sbdf), true);
    size_t i;

    if ( !s )
    {
        errno = ENOMEM;
        return NULL;
    }
    i = dev_lower_bound(s, d->sbdf);
    if ( i < s->n && s->devs[i].sbdf == d->sbdf )
    {
        errno = EEXIST;
        return NULL;
    }
    if ( s->n == s->cap )
    {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        struct pt_xdev *nd = realloc(s->devs, ncap * sizeof(*nd));

        if ( !nd )
        {
            errno = ENOMEM;
            return NULL;
        }
        s->devs = nd;
        s->cap = ncap;
    }
    memmove(&s->devs[i + 1], &s->devs[i], (s->n - i) * sizeof(s->devs[0]));
    s->devs[i] = *d;
    s->n++;
    return &s->devs[i];
}

/* Removes an entry keeping the order; -ENODEV when absent. */
int pt_xview_remove(struct pt_xview *v, pt_sbdf_t sbdf)
{
    struct pt_xseg *s = seg_lookup(v, PT_SEG(sbdf));
    size_t i;

    if ( !s )
        return -ENODEV;
    i = dev_lower_bound(s, sbdf);
    if ( i >= s->n || s->devs[i].sbdf != sbdf )
        return -ENODEV;
    memmove(&s->devs[i], &s->devs[i + 1], (s->n - i - 1) * sizeof(s->devs[0]));
    s->n--;
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct pt_xseg *x = a, *y = b;

    return (x->seg > y->seg) - (x->seg < y->seg);
}

static int cmp_xdev(const void *a, const void *b)
{
    const struct pt_xdev *x = a, *y = b;

    return (x->sbdf > y->sbdf) - (x->sbdf < y->sbdf);
}

/* Re-sorts segments and devices (for views filled by hand). */
void pt_xview_sort(struct pt_xview *v)
{
    if ( v->nsegs > 1 )
        qsort(v->segs, v->nsegs, sizeof(v->segs[0]), cmp_seg);
    for ( size_t i = 0; i < v->nsegs; i++ )
        if ( v->segs[i].n > 1 )
            qsort(v->segs[i].devs, v->segs[i].n, sizeof(v->segs[i].devs[0]), cmp_xdev);
}

/* Deep copy into dst (overwritten); -ENOMEM leaves dst empty. */
int pt_xview_copy(const struct pt_xview *src, struct pt_xview *dst)
{
    struct pt_xview v = { .source = src->source, .hv = src->hv };

    if ( src->nsegs )
    {
        v.segs = calloc(src->nsegs, sizeof(v.segs[0]));
        if ( !v.segs )
            goto nomem;
        v.capsegs = src->nsegs;
    }
    for ( size_t i = 0; i < src->nsegs; i++ )
    {
        const struct pt_xseg *s = &src->segs[i];
        struct pt_xseg *d = &v.segs[i];

        *d = *s;
        d->devs = NULL;
        d->n = d->cap = 0;
        v.nsegs++;
        if ( s->n )
        {
            d->devs = malloc(s->n * sizeof(d->devs[0]));
            if ( !d->devs )
                goto nomem;
            memcpy(d->devs, s->devs, s->n * sizeof(d->devs[0]));
            d->n = d->cap = s->n;
        }
    }
    *dst = v;
    return 0;

 nomem:
    pt_xview_free(&v);
    memset(dst, 0, sizeof(*dst));
    return -ENOMEM;
}

/* Frees everything the view owns and leaves it empty. */
void pt_xview_free(struct pt_xview *v)
{
    for ( size_t i = 0; i < v->nsegs; i++ )
        free(v->segs[i].devs);
    free(v->segs);
    memset(v, 0, sizeof(*v));
}
