/*
 * dmar.c - the ACPI DMAR table: a bounded parser, the resolution of device
 * scopes as Xen 4.17 does it at boot, and reading the table dom0 sees.
 *
 * Mirrors xen/drivers/passthrough/vtd/dmar.c:
 *   acpi_parse_dmar()       header, host address width (0 is refused),
 *                           remapping structures walked by their length;
 *                           RMRR, ATSR, RHSA, ANDD, SATC and unknown types
 *                           skipped here (they do not decide coverage).
 *   acpi_parse_one_drhd()   length >= 16, register base neither 0 nor ~0,
 *                           INCLUDE_PCI_ALL = flags bit 0.
 *   scope_device_count()    a scope shorter than MIN_SCOPE_LEN (8) is an
 *                           error; here also one running past its DRHD or
 *                           with an odd path length.
 *   acpi_parse_dev_scope()  bus = start bus; for each path element but the
 *                           last, bus = the element's SECONDARY_BUS *as read
 *                           at boot*; bridge scope: its sec..sub at boot
 *                           into the unit's bus bitmap
 *                           (dmar_scope_add_buses(): sub &= 0xff, nothing
 *                           when sec > sub); endpoint, bridge, IOAPIC and
 *                           HPET scopes put their BDF into the unit's
 *                           device list; ACPI-namespace and unknown scope
 *                           types are skipped.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmar.h"

/* A DMAR table larger than this is not a DMAR table. */
#define DMAR_MAX_FILE (1u << 20)

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if ( err && errlen )
    {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

const char *pt_dmar_scope_name(uint8_t type)
{
    switch ( type )
    {
    case PT_DMAR_SCOPE_ENDPOINT:  return "endpoint";
    case PT_DMAR_SCOPE_BRIDGE:    return "bridge";
    case PT_DMAR_SCOPE_IOAPIC:    return "IOAPIC";
    case PT_DMAR_SCOPE_HPET:      return "HPET";
    case PT_DMAR_SCOPE_NAMESPACE: return "ACPI namespace";
    }
    return "unknown";
}

/* Parses the device scopes in buf[off, end) of the DRHD at drhd_off into u. */
static int parse_scopes(const uint8_t *buf, size_t off, size_t end, size_t drhd_off,
                        struct pt_dmar_drhd *u, char *err, size_t errlen)
{
    size_t cap = 0;

    while ( off < end )
    {
        struct pt_dmar_scope *sc;
        unsigned slen;

        if ( end - off < 2 )
            return fail(err, errlen, "DRHD at offset %zu: device scope at offset %zu is truncated "
                        "(%zu byte(s) left, a scope header needs 6)", drhd_off, off, end - off);
        slen = buf[off + 1];
        if ( slen < PT_DMAR_SCOPE_MIN_LEN )
            return fail(err, errlen, "DRHD at offset %zu: device scope at offset %zu has length %u "
                        "(at least %u: a header and one path element)",
                        drhd_off, off, slen, PT_DMAR_SCOPE_MIN_LEN);
        if ( slen > end - off )
            return fail(err, errlen, "DRHD at offset %zu: device scope at offset %zu has length %u "
                        "but its DRHD has only %zu byte(s) left", drhd_off, off, slen, end - off);
        if ( (slen - 6) % 2 )
            return fail(err, errlen, "DRHD at offset %zu: device scope at offset %zu has length %u: "
                        "its path is not a whole number of (device, function) pairs",
                        drhd_off, off, slen);
        if ( u->nscopes == cap )
        {
            size_t ncap = cap ? cap * 2 : 4;
            struct pt_dmar_scope *ns = realloc(u->scopes, ncap * sizeof(*ns));

            if ( !ns )
                return -ENOMEM;
            u->scopes = ns;
            cap = ncap;
        }
        sc = &u->scopes[u->nscopes];
        memset(sc, 0, sizeof(*sc));
        sc->type = buf[off];
        sc->enum_id = buf[off + 4];
        sc->start_bus = buf[off + 5];
        sc->npath = (uint8_t)((slen - 6) / 2);
        for ( unsigned k = 0; k < sc->npath; k++ )
        {
            uint8_t dev = buf[off + 6 + 2 * k], fn = buf[off + 7 + 2 * k];

            if ( dev > 31 || fn > 7 )
                return fail(err, errlen, "DRHD at offset %zu: device scope at offset %zu: path element "
                            "%u is device %u function %u (at most 31 and 7)",
                            drhd_off, off, k + 1, dev, fn);
            sc->path[k] = PT_DEVFN_OF(dev, fn);
        }
        sc->sec = sc->sub = -1;
        u->nscopes++;
        off += slen;
    }
    return 0;
}

int pt_dmar_parse(const uint8_t *buf, size_t len, struct pt_dmar *out, char *err, size_t errlen)
{
    size_t tlen, off, cap = 0;
    uint8_t sum = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if ( err && errlen )
        err[0] = '\0';
    if ( !buf || len < PT_DMAR_HDR_LEN )
        return fail(err, errlen, "the table is %zu byte(s) long: a DMAR header alone is %u",
                    buf ? len : 0, PT_DMAR_HDR_LEN);
    if ( memcmp(buf, "DMAR", 4) && memcmp(buf, "RMAD", 4) )
        return fail(err, errlen, "signature is \"%c%c%c%c\", not \"DMAR\" (or \"RMAD\", as Xen leaves it)",
                    buf[0] >= 0x20 && buf[0] < 0x7f ? buf[0] : '?',
                    buf[1] >= 0x20 && buf[1] < 0x7f ? buf[1] : '?',
                    buf[2] >= 0x20 && buf[2] < 0x7f ? buf[2] : '?',
                    buf[3] >= 0x20 && buf[3] < 0x7f ? buf[3] : '?');
    tlen = le32(buf + 4);
    if ( tlen < PT_DMAR_HDR_LEN )
        return fail(err, errlen, "header length field is %zu: less than the %u-byte header",
                    tlen, PT_DMAR_HDR_LEN);
    if ( tlen > len )
        return fail(err, errlen, "header length field is %zu but only %zu byte(s) were read: truncated",
                    tlen, len);
    for ( size_t i = 0; i < tlen; i++ )
        sum = (uint8_t)(sum + buf[i]);
    if ( sum )
        return fail(err, errlen, "checksum over %zu bytes is 0x%02x, not 0", tlen, sum);
    if ( !buf[36] )
        return fail(err, errlen, "host address width is 0 (Xen refuses the table: \"Invalid DMAR width\")");
    out->width = buf[36];
    out->flags = buf[37];

    for ( off = PT_DMAR_HDR_LEN; off < tlen; )
    {
        unsigned type, slen;

        if ( tlen - off < 4 )
        {
            rc = fail(err, errlen, "remapping structure at offset %zu is truncated (%zu byte(s) left, "
                      "a structure header needs 4)", off, tlen - off);
            goto bad;
        }
        type = le16(buf + off);
        slen = le16(buf + off + 2);
        if ( slen < 4 )
        {
            rc = fail(err, errlen, "remapping structure at offset %zu (type %u) has length %u", off, type, slen);
            goto bad;
        }
        if ( slen > tlen - off )
        {
            rc = fail(err, errlen, "remapping structure at offset %zu (type %u) has length %u but the "
                      "table has only %zu byte(s) left", off, type, slen, tlen - off);
            goto bad;
        }
        if ( type == PT_DMAR_TYPE_DRHD )
        {
            struct pt_dmar_drhd *u;

            if ( slen < PT_DMAR_DRHD_LEN )
            {
                rc = fail(err, errlen, "DRHD at offset %zu has length %u (at least %u)", off, slen,
                          PT_DMAR_DRHD_LEN);
                goto bad;
            }
            if ( out->n == cap )
            {
                size_t ncap = cap ? cap * 2 : 4;
                struct pt_dmar_drhd *nu = realloc(out->units, ncap * sizeof(*nu));

                if ( !nu )
                {
                    rc = -ENOMEM;
                    goto bad;
                }
                out->units = nu;
                cap = ncap;
            }
            u = &out->units[out->n++];
            memset(u, 0, sizeof(*u));
            u->include_all = buf[off + 4] & PT_DMAR_INCLUDE_PCI_ALL;
            u->seg = le16(buf + off + 6);
            u->base = le64(buf + off + 8);
            if ( !u->base || u->base == UINT64_MAX )
            {
                rc = fail(err, errlen, "DRHD at offset %zu has register base 0x%llx (Xen refuses it)",
                          off, (unsigned long long)u->base);
                goto bad;
            }
            rc = parse_scopes(buf, off + PT_DMAR_DRHD_LEN, off + slen, off, u, err, errlen);
            if ( rc )
                goto bad;
        }
        /* RMRR, ATSR, RHSA, ANDD, SATC and anything newer: skipped by length. */
        off += slen;
    }
    return 0;
 bad:
    pt_dmar_free(out);
    return rc;
}

void pt_dmar_free(struct pt_dmar *d)
{
    for ( size_t i = 0; i < d->n; i++ )
        free(d->units[i].scopes);
    free(d->units);
    memset(d, 0, sizeof(*d));
}

int pt_dmar_copy(const struct pt_dmar *src, struct pt_dmar *dst)
{
    *dst = *src;
    dst->units = NULL;
    dst->n = 0;
    if ( !src->n )
        return 0;
    dst->units = calloc(src->n, sizeof(*dst->units));
    if ( !dst->units )
        return -ENOMEM;
    for ( size_t i = 0; i < src->n; i++ )
    {
        dst->units[i] = src->units[i];
        dst->units[i].scopes = NULL;
        dst->n = i + 1;
        if ( src->units[i].nscopes )
        {
            dst->units[i].scopes = malloc(src->units[i].nscopes * sizeof(*src->units[i].scopes));
            if ( !dst->units[i].scopes )
            {
                dst->units[i].nscopes = 0;
                pt_dmar_free(dst);
                return -ENOMEM;
            }
            memcpy(dst->units[i].scopes, src->units[i].scopes,
                   src->units[i].nscopes * sizeof(*src->units[i].scopes));
        }
    }
    return 0;
}

/* The range of seg:bus:devfn from range, else fallback; the source's letter or 0. */
static char range_of(pt_dmar_range_fn range, void *ctx, pt_dmar_range_fn fallback, void *fctx,
                     pt_sbdf_t sbdf, uint8_t *sec, uint8_t *sub)
{
    if ( range && range(ctx, sbdf, sec, sub) == 0 )
        return range == pt_dmar_range_dom0 ? 'd' : 'x';
    if ( fallback && fallback(fctx, sbdf, sec, sub) == 0 )
        return fallback == pt_dmar_range_xen ? 'x' : 'd';
    return 0;
}

int pt_dmar_resolve(struct pt_dmar *d, pt_dmar_range_fn range, void *ctx,
                    pt_dmar_range_fn fallback, void *fctx)
{
    d->complete = true;
    for ( size_t i = 0; i < d->n; i++ )
    {
        struct pt_dmar_drhd *u = &d->units[i];

        memset(u->buses, 0, sizeof(u->buses));
        for ( size_t k = 0; k < u->nscopes; k++ )
        {
            struct pt_dmar_scope *sc = &u->scopes[k];
            uint8_t bus = sc->start_bus, sec, sub;
            char src = 'x';

            sc->resolved = false;
            sc->sec = sc->sub = -1;
            sc->src = 0;
            /* while ( --depth > 0 ) bus = SECONDARY_BUS of the element */
            for ( unsigned e = 0; e + 1 < sc->npath; e++ )
            {
                src = range_of(range, ctx, fallback, fctx, PT_SBDF(u->seg, bus, sc->path[e]),
                               &sec, &sub);
                if ( !src )
                    break;
                bus = sec;
            }
            if ( !src )
            {
                if ( sc->type >= PT_DMAR_SCOPE_ENDPOINT && sc->type <= PT_DMAR_SCOPE_HPET )
                    d->complete = false;
                continue;
            }
            sc->bdf = PT_SBDF(u->seg, bus, sc->path[sc->npath - 1]);
            sc->src = src;
            if ( sc->type == PT_DMAR_SCOPE_BRIDGE )
            {
                src = range_of(range, ctx, fallback, fctx, sc->bdf, &sec, &sub);
                if ( !src )
                {
                    d->complete = false;
                    continue;
                }
                sc->src = src;
                sc->sec = sec;
                sc->sub = sub;
                /* dmar_scope_add_buses() */
                for ( unsigned b = sec; b <= sub; b++ )
                    u->buses[b / 8] |= (uint8_t)(1u << (b % 8));
            }
            sc->resolved = true;
        }
    }
    d->resolved = true;
    return 0;
}

int pt_dmar_range_xen(void *xview, pt_sbdf_t bridge, uint8_t *sec, uint8_t *sub)
{
    const struct pt_xdev *x = pt_xview_find(xview, bridge);

    if ( !x || !pt_type_is_bridge(x->type) || x->sec_bus < 0 || x->sub_bus < 0 ||
         x->sec_bus > 255 || x->sub_bus > 255 )
        return -ENOENT;
    *sec = (uint8_t)x->sec_bus;
    *sub = (uint8_t)x->sub_bus;
    return 0;
}

int pt_dmar_range_dom0(void *topo, pt_sbdf_t bridge, uint8_t *sec, uint8_t *sub)
{
    const struct pt_dev *d = pt_topo_find(topo, bridge);

    if ( !d || !d->is_bridge )
        return -ENOENT;
    *sec = d->sec_bus;
    *sub = d->sub_bus;
    return 0;
}

int pt_dmar_read_sysfs(const char *sysfs_root, uint8_t **buf, size_t *len, char **file)
{
    static const char *const names[] = { "DMAR", "RMAD" };
    int rc = -ENOENT;

    *buf = NULL;
    *len = 0;
    *file = NULL;
    for ( size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++ )
    {
        char *path = NULL, *b = NULL;
        size_t got = 0;
        int fd;

        if ( asprintf(&path, "%s/firmware/acpi/tables/%s", sysfs_root, names[n]) < 0 )
            return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if ( fd < 0 )
        {
            rc = errno == ENOENT ? -ENOENT : -errno;
            free(path);
            if ( rc != -ENOENT )
                return rc;
            continue;
        }
        b = malloc(DMAR_MAX_FILE);
        rc = b ? 0 : -ENOMEM;
        while ( !rc && got < DMAR_MAX_FILE )
        {
            ssize_t r = read(fd, b + got, DMAR_MAX_FILE - got);

            if ( r < 0 && errno == EINTR )
                continue;
            if ( r < 0 )
                rc = -errno;
            else if ( r == 0 )
                break;
            else
                got += (size_t)r;
        }
        close(fd);
        if ( rc )
        {
            free(b);
            free(path);
            return rc;
        }
        *buf = (uint8_t *)b;
        *len = got;
        *file = path;
        return 0;
    }
    return rc;
}

/* ---------------------------------------------------------------- the rule */

void pt_dmar_lookup_bdf(pt_sbdf_t sbdf, bool virtfn, pt_sbdf_t physfn, bool pf_extfn,
                        bool extfn, uint8_t *bus, uint8_t *devfn)
{
    if ( virtfn )
    {
        /* pdev->info.is_extfn of a VF is its PF's (pci_add_device()). */
        *bus = PT_BUS(physfn);
        *devfn = !pf_extfn ? PT_DEVFN(physfn) : 0;
    }
    else if ( extfn )
    {
        *bus = PT_BUS(sbdf);
        *devfn = 0;
    }
    else
    {
        *bus = PT_BUS(sbdf);
        *devfn = PT_DEVFN(sbdf);
    }
}

/* Whether unit u's scopes (devices, then buses) cover bus:devfn. */
static bool unit_covers(const struct pt_dmar *d, const struct pt_dmar_drhd *u, uint8_t bus,
                        uint8_t devfn, pt_dmar_range_fn range, void *ctx)
{
    for ( size_t k = 0; k < u->nscopes; k++ )
    {
        const struct pt_dmar_scope *sc = &u->scopes[k];

        if ( sc->resolved && sc->type >= PT_DMAR_SCOPE_ENDPOINT && sc->type <= PT_DMAR_SCOPE_HPET &&
             PT_BUS(sc->bdf) == bus && PT_DEVFN(sc->bdf) == devfn )
            return true;
    }
    if ( !d->follow_bridges )
        return u->buses[bus / 8] & (1u << (bus % 8));
    for ( size_t k = 0; k < u->nscopes; k++ )
    {
        const struct pt_dmar_scope *sc = &u->scopes[k];
        uint8_t sec, sub;

        if ( !sc->resolved || sc->type != PT_DMAR_SCOPE_BRIDGE )
            continue;
        if ( !range || range(ctx, sc->bdf, &sec, &sub) )
        {
            sec = (uint8_t)sc->sec;             /* a bridge Xen does not have: its boot range */
            sub = (uint8_t)sc->sub;
        }
        if ( bus >= sec && bus <= sub )
            return true;
    }
    return false;
}

const struct pt_dmar_drhd *pt_dmar_match(const struct pt_dmar *d, uint16_t seg, uint8_t bus,
                                         uint8_t devfn, pt_dmar_range_fn range, void *ctx)
{
    const struct pt_dmar_drhd *include_all = NULL;

    /*
     * acpi_register_drhd_unit() puts INCLUDE_ALL units at the tail and the
     * others at the head (reverse table order); the scan returns the first
     * unit that lists the device or the bus, else the last INCLUDE_ALL one
     * of the segment.
     */
    for ( size_t i = d->n; i-- > 0; )
    {
        const struct pt_dmar_drhd *u = &d->units[i];

        if ( u->seg != seg || u->include_all )
            continue;
        if ( unit_covers(d, u, bus, devfn, range, ctx) )
            return u;
    }
    for ( size_t i = 0; i < d->n; i++ )
    {
        const struct pt_dmar_drhd *u = &d->units[i];

        if ( u->seg != seg || !u->include_all )
            continue;
        if ( unit_covers(d, u, bus, devfn, range, ctx) )
            return u;
        include_all = u;
    }
    return include_all;
}

bool pt_dmar_type_needs_unit(enum pt_dev_type t)
{
    return t == PT_TYPE_PCIE_ENDPOINT || t == PT_TYPE_PCI_ENDPOINT;
}

char *pt_dmar_why_uncovered(const struct pt_dmar *d, uint16_t seg, uint8_t bus,
                            char *buf, size_t len)
{
    size_t off;
    bool any = false;

    off = (size_t)snprintf(buf, len, "no DMAR unit covers bus %02x", bus);
    for ( size_t i = 0; i < d->n && off < len; i++ )
    {
        const struct pt_dmar_drhd *u = &d->units[i];
        bool first = true;

        if ( u->seg != seg )
            continue;
        off += (size_t)snprintf(buf + off, len - off, "%sDRHD %llx:", any ? "; " : " (",
                                (unsigned long long)u->base);
        any = true;
        for ( size_t k = 0; k < u->nscopes && off < len; k++ )
        {
            const struct pt_dmar_scope *sc = &u->scopes[k];
            char b[PT_BDF_STRLEN];

            if ( sc->type < PT_DMAR_SCOPE_ENDPOINT || sc->type > PT_DMAR_SCOPE_HPET || !sc->resolved )
                continue;
            if ( sc->type == PT_DMAR_SCOPE_BRIDGE )
                off += (size_t)snprintf(buf + off, len - off, "%s bridge scope %s covers buses %02x-%02x%s",
                                        first ? "" : ",", pt_bdf_fmt(sc->bdf, b), sc->sec, sc->sub,
                                        d->follow_bridges ? " at boot" : " as at boot");
            else
                off += (size_t)snprintf(buf + off, len - off, "%s %s scope %s", first ? "" : ",",
                                        pt_dmar_scope_name(sc->type), pt_bdf_fmt(sc->bdf, b));
            first = false;
        }
        if ( first && off < len )
            off += (size_t)snprintf(buf + off, len - off, " no device scope");
    }
    if ( off < len )
        snprintf(buf + off, len - off, "%s", any ? ")" : " (no DRHD of this segment)");
    return buf;
}

void pt_topo_read_dmar(const char *sysfs_root, struct pt_topo *topo, struct pt_errlog *log)
{
    int rc;

    free(topo->dmar);
    free(topo->dmar_file);
    topo->dmar = NULL;
    topo->dmar_file = NULL;
    rc = pt_dmar_read_sysfs(sysfs_root, &topo->dmar, &topo->dmar_len, &topo->dmar_file);
    topo->dmar_errno = rc < 0 ? -rc : 0;
    if ( rc && rc != -ENOENT )
        pt_log(log, PT_SEV_WARN, "%s/firmware/acpi/tables/DMAR (or RMAD): %s: IOMMU scopes unknown",
               sysfs_root, strerror(-rc));
}
