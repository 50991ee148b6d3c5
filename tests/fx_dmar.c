/*
 * fx_dmar.c - hand-built ACPI DMAR tables for the tests and mktree
 * (fixture.h documents the builder and the spec format).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

static void put(struct fx_dmar *b, size_t off, const void *p, size_t n)
{
    if ( off + n > sizeof(b->buf) )
    {
        b->overflow = true;
        return;
    }
    memcpy(b->buf + off, p, n);
}

static void put16(struct fx_dmar *b, size_t off, uint16_t v)
{
    uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

    put(b, off, x, 2);
}

static void put32(struct fx_dmar *b, size_t off, uint32_t v)
{
    put16(b, off, (uint16_t)v);
    put16(b, off + 2, (uint16_t)(v >> 16));
}

static void put64(struct fx_dmar *b, size_t off, uint64_t v)
{
    put32(b, off, (uint32_t)v);
    put32(b, off + 4, (uint32_t)(v >> 32));
}

void fx_dmar_init(struct fx_dmar *b, const char *sig, uint8_t width, uint8_t flags)
{
    memset(b, 0, sizeof(*b));
    put(b, 0, sig, 4);
    b->buf[8] = 1;                          /* revision */
    memcpy(b->buf + 10, "PCITOP", 6);       /* OEM ID */
    memcpy(b->buf + 16, "FXDMAR  ", 8);     /* OEM table ID */
    b->buf[36] = width;
    b->buf[37] = flags;
    b->len = 48;
}

static void close_drhd(struct fx_dmar *b)
{
    if ( b->drhd )
        put16(b, b->drhd + 2, (uint16_t)(b->len - b->drhd));
    b->drhd = 0;
}

void fx_dmar_drhd(struct fx_dmar *b, uint16_t seg, uint64_t base, bool include_all)
{
    close_drhd(b);
    b->drhd = b->len;
    put16(b, b->len, 0);                    /* type DRHD */
    put16(b, b->len + 2, 16);
    put(b, b->len + 4, &(uint8_t){ include_all ? 1 : 0 }, 1);
    put16(b, b->len + 6, seg);
    put64(b, b->len + 8, base);
    b->len += 16;
}

void fx_dmar_scope(struct fx_dmar *b, uint8_t type, uint8_t enum_id, uint8_t start_bus,
                   const uint8_t (*path)[2], unsigned npath)
{
    uint8_t h[6] = { type, (uint8_t)(6 + 2 * npath), 0, 0, enum_id, start_bus };

    put(b, b->len, h, 6);
    for ( unsigned k = 0; k < npath; k++ )
        put(b, b->len + 6 + 2 * k, path[k], 2);
    b->len += 6 + 2 * npath;
}

void fx_dmar_other(struct fx_dmar *b, uint16_t type, uint16_t len)
{
    close_drhd(b);
    put16(b, b->len, type);
    put16(b, b->len + 2, len);
    b->len += len;
}

size_t fx_dmar_finish(struct fx_dmar *b)
{
    uint8_t sum = 0;

    close_drhd(b);
    if ( b->overflow || b->len > sizeof(b->buf) )
        return 0;
    put32(b, 4, (uint32_t)b->len);
    b->buf[9] = 0;
    for ( size_t i = 0; i < b->len; i++ )
        sum = (uint8_t)(sum + b->buf[i]);
    b->buf[9] = (uint8_t)(0x100 - sum);
    return b->len;
}

static int spec_fail(char *err, size_t errlen, const char *what, const char *at)
{
    snprintf(err, errlen, "DMAR spec: %s at \"%.40s\"", what, at);
    return -EINVAL;
}

/* KIND:BB:DD.F[/DD.F...] */
static int spec_scope(struct fx_dmar *b, const char *s, char *err, size_t errlen)
{
    static const char *const kinds[] = { NULL, "endpoint", "bridge", "ioapic", "hpet", "namespace" };
    uint8_t path[32][2];
    unsigned type = 0, bus, dev, fn, n = 0, id = 0;
    const char *c = strchr(s, ':');
    int used;

    for ( unsigned k = 1; c && k < 6; k++ )
        if ( (size_t)(c - s) == strlen(kinds[k]) && !strncmp(s, kinds[k], (size_t)(c - s)) )
            type = k;
    if ( !type )
        return spec_fail(err, errlen, "unknown scope kind (endpoint, bridge, ioapic, hpet, namespace)", s);
    if ( sscanf(c + 1, "%2x:%2x.%1u%n", &bus, &dev, &fn, &used) != 3 || dev > 31 || fn > 7 )
        return spec_fail(err, errlen, "expected BB:DD.F", c + 1);
    path[n][0] = (uint8_t)dev;
    path[n++][1] = (uint8_t)fn;
    c += 1 + used;
    while ( *c == '/' )
    {
        if ( n == 32 || sscanf(c + 1, "%2x.%1u%n", &dev, &fn, &used) != 2 || dev > 31 || fn > 7 )
            return spec_fail(err, errlen, "expected /DD.F", c);
        path[n][0] = (uint8_t)dev;
        path[n++][1] = (uint8_t)fn;
        c += 1 + used;
    }
    if ( *c && *c != ',' && *c != ';' )
        return spec_fail(err, errlen, "junk after the path", c);
    if ( type == 3 || type == 4 )
        id = 1;
    fx_dmar_scope(b, (uint8_t)type, (uint8_t)id, (uint8_t)bus, (const uint8_t (*)[2])path, n);
    return 0;
}

int fx_dmar_from_spec(struct fx_dmar *b, const char *spec, char *err, size_t errlen)
{
    const char *s = spec;

    fx_dmar_init(b, "DMAR", 38, 1);
    while ( *s )
    {
        char *end;
        unsigned long long base = strtoull(s, &end, 16);
        unsigned long seg = 0;
        bool all = false;
        size_t at;
        int r;

        if ( end == s || !base )
            return spec_fail(err, errlen, "expected a DRHD register base (hex)", s);
        s = end;
        if ( *s == '@' )
        {
            seg = strtoul(s + 1, &end, 16);
            if ( end == s + 1 || seg > 0xffff )
                return spec_fail(err, errlen, "expected a segment (hex)", s);
            s = end;
        }
        at = b->len;
        fx_dmar_drhd(b, (uint16_t)seg, base, false);
        while ( *s == ',' )
        {
            s++;
            if ( !strncmp(s, "all", 3) && (!s[3] || s[3] == ',' || s[3] == ';') )
            {
                all = true;
                s += 3;
                continue;
            }
            r = spec_scope(b, s, err, errlen);
            if ( r )
                return r;
            s += strcspn(s, ",;");
        }
        b->buf[at + 4] = all ? 1 : 0;
        if ( *s == ';' )
            s++;
        else if ( *s )
            return spec_fail(err, errlen, "expected ',' or ';'", s);
    }
    if ( !fx_dmar_finish(b) )
        return spec_fail(err, errlen, "table too large", spec);
    return 0;
}

int fx_write_dmar(const char *dir, const char *name, const uint8_t *table, size_t len)
{
    char path[4096];
    int fd, r = 0;
    static const char *const parts[] = { "/firmware", "/firmware/acpi", "/firmware/acpi/tables" };

    for ( size_t k = 0; k < 3; k++ )
    {
        snprintf(path, sizeof(path), "%s%s", dir, parts[k]);
        if ( mkdir(path, 0755) < 0 && errno != EEXIST )
            return -errno;
    }
    snprintf(path, sizeof(path), "%s/firmware/acpi/tables/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0444);
    if ( fd < 0 )
        return -errno;
    if ( write(fd, table, len) != (ssize_t)len )
        r = -EIO;
    if ( close(fd) < 0 && !r )
        r = -errno;
    return r;
}

int fx_topo_set_dmar(struct pt_topo *topo, const uint8_t *table, size_t len, const char *file)
{
    free(topo->dmar);
    free(topo->dmar_file);
    topo->dmar = NULL;
    topo->dmar_file = NULL;
    topo->dmar_len = 0;
    if ( !table )
        return 0;
    topo->dmar = malloc(len ? len : 1);
    topo->dmar_file = strdup(file ? file : "DMAR");
    if ( !topo->dmar || !topo->dmar_file )
        return -ENOMEM;
    memcpy(topo->dmar, table, len);
    topo->dmar_len = len;
    return 0;
}
