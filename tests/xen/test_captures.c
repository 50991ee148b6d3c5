/*
 * test_captures.c - the core's sysfs scanner on trees the kernel wrote.
 *
 * tests/fixtures/sysfs-<scenario>-<when>/ are captures of a testbed dom0
 * (scripts/testbed/run-scenario NAME --capture): bus/pci/devices links and,
 * per device, config, class, vendor, device, numa_node, the bridges'
 * secondary/subordinate_bus_number, physfn/virtfn and driver links.  The
 * kernel's own attribute files are the reference the scanner's model of
 * each device (mostly parsed from config space) must agree with.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcitopo.h"
#include "tap.h"

/* Room for a fixture root, and for a root plus a sysfs path below it. */
#define ROOTBUF (PATH_MAX + 512)
#define PATHBUF (ROOTBUF + PATH_MAX)

/* Reads a small attribute file; -1 when absent (base 0: "0x8086" or "3"). */
static long read_num(const char *dir, const char *name)
{
    char p[PATHBUF], buf[64];
    FILE *f;
    long v = -1;

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    f = fopen(p, "r");
    if ( !f )
        return -1;
    if ( fgets(buf, sizeof(buf), f) )
        v = strtol(buf, NULL, 0);
    fclose(f);
    return v;
}

/* The basename of a symlink's target, or "" when there is no such link. */
static void link_base(const char *dir, const char *name, char *out, size_t len)
{
    char p[PATHBUF], t[PATH_MAX];
    ssize_t n;
    const char *b;

    out[0] = '\0';
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    n = readlink(p, t, sizeof(t) - 1);
    if ( n < 0 )
        return;
    t[n] = '\0';
    b = strrchr(t, '/');
    snprintf(out, len, "%s", b ? b + 1 : t);
}

/*
 * The DESIGN §4.1 path from a device's sysfs directory:
 * ".../devices/pci0000:00/0000:00:1c.0/0000:03:00.0" -> "0000:00:1c.0/00.0".
 * Also returns the parent directory's name (a bridge's SBDF or "pci0000:00").
 */
static int expected_path(const char *real, char *path, size_t len, char *parent, size_t plen)
{
    const char *p = strstr(real, "/devices/pci"), *e;
    char comp[PATH_MAX];
    size_t used = 0;
    int ncomp = 0;

    if ( !p )
        return -EINVAL;
    p += strlen("/devices/");
    e = strchr(p, '/');                             /* p: "pciSSSS:BB/..." */
    if ( !e )
        return -EINVAL;
    snprintf(parent, plen, "%.*s", (int)(e - p), p);
    path[0] = '\0';
    for ( p = e; p && *p == '/'; p = e )
    {
        size_t l;

        e = strchr(p + 1, '/');
        l = e ? (size_t)(e - p - 1) : strlen(p + 1);
        snprintf(comp, sizeof(comp), "%.*s", (int)l, p + 1);
        if ( strlen(comp) != 12 )
            return -EINVAL;
        /* The first component is the full SBDF, the others "dd.f". */
        used += snprintf(path + used, len - used, ncomp ? "/%s" : "%s", ncomp ? comp + 8 : comp);
        if ( used >= len )
            return -ENAMETOOLONG;
        if ( e )
            snprintf(parent, plen, "%s", comp);
        ncomp++;
    }
    return ncomp ? 0 : -EINVAL;
}

static void check_device(const char *root, const struct pt_topo *topo, const char *name)
{
    char link[PATHBUF], real[PATH_MAX], path[PATH_MAX], parent[PATH_MAX], buf[PATH_MAX];
    const struct pt_dev *d;
    pt_sbdf_t sbdf;
    long v;

    if ( pt_sbdf_parse(name, 0, &sbdf) )
    {
        CHECKF(0, "%s: bad device link name %s", root, name);
        return;
    }
    d = pt_topo_find(topo, sbdf);
    CHECKF(d != NULL, "%s: %s is in bus/pci/devices but not in the scan", root, name);
    if ( !d )
        return;
    snprintf(link, sizeof(link), "%s/bus/pci/devices/%s", root, name);
    CHECKF(realpath(link, real) != NULL, "%s: cannot resolve %s", root, link);

    CHECKF(d->vendor == read_num(real, "vendor"), "%s %s: vendor %04x, file says %04lx",
           root, name, d->vendor, read_num(real, "vendor"));
    CHECKF(d->device == read_num(real, "device"), "%s %s: device %04x, file says %04lx",
           root, name, d->device, read_num(real, "device"));
    v = read_num(real, "class");
    if ( !d->is_virtfn )
        CHECKF((long)d->cfg.class == v, "%s %s: class %06x, file says %06lx",
               root, name, d->cfg.class, v);
    v = read_num(real, "numa_node");
    if ( v != -1 || d->numa_node != -1 )
        CHECKF(d->numa_node == v, "%s %s: numa_node %d, file says %ld", root, name, d->numa_node, v);

    /* Bridges: the live range parsed from config == what the kernel says. */
    v = read_num(real, "secondary_bus_number");
    CHECKF(d->is_bridge == (v >= 0), "%s %s: is_bridge %d, secondary_bus_number %s",
           root, name, d->is_bridge, v >= 0 ? "present" : "absent");
    if ( d->is_bridge && v >= 0 )
    {
        CHECKF(d->sec_bus == v, "%s %s: secondary bus %u, kernel says %ld", root, name, d->sec_bus, v);
        v = read_num(real, "subordinate_bus_number");
        CHECKF(d->sub_bus == v, "%s %s: subordinate bus %u, kernel says %ld", root, name, d->sub_bus, v);
    }

    /* VFs: known by their physfn link. */
    link_base(real, "physfn", buf, sizeof(buf));
    CHECKF(d->is_virtfn == (buf[0] != '\0'), "%s %s: is_virtfn %d but physfn link %s",
           root, name, d->is_virtfn, buf[0] ? buf : "absent");
    if ( d->is_virtfn && buf[0] )
    {
        char pf[PT_SBDF_STRLEN];

        CHECKF(!strcmp(pt_sbdf_fmt(d->physfn, pf), buf), "%s %s: physfn %s, link says %s",
               root, name, pf, buf);
    }

    /* The bound driver. */
    link_base(real, "driver", buf, sizeof(buf));
    CHECKF(!strcmp(d->driver ? d->driver : "", buf), "%s %s: driver \"%s\", link says \"%s\"",
           root, name, d->driver ? d->driver : "", buf);

    /* The physical path and the parent, from the directory nesting. */
    if ( expected_path(real, path, sizeof(path), parent, sizeof(parent)) == 0 )
    {
        CHECKF(d->path && !strcmp(d->path, path), "%s %s: path %s, sysfs nesting says %s",
               root, name, d->path ? d->path : "(null)", path);
        if ( !d->is_virtfn )
        {
            if ( !strncmp(parent, "pci", 3) )
                CHECKF(d->parent == PT_NO_PARENT, "%s %s: has a parent, but sits on a root bus",
                       root, name);
            else
            {
                char ps[PT_SBDF_STRLEN];

                CHECKF(d->parent != PT_NO_PARENT, "%s %s: no parent, sysfs nests it below %s",
                       root, name, parent);
                if ( d->parent != PT_NO_PARENT )
                    CHECKF(!strcmp(pt_sbdf_fmt(topo->devs[d->parent].sbdf, ps), parent),
                           "%s %s: parent %s, sysfs nests it below %s", root, name, ps, parent);
            }
        }
    }
    else
        CHECKF(0, "%s %s: %s is not below /devices/pci*", root, name, real);
}

static void check_capture(const char *root)
{
    char dir[PATHBUF];
    struct pt_topo topo = { 0 };
    struct pt_errlog log = { 0 };
    struct dirent *de;
    size_t nlinks = 0;
    DIR *d;
    int r;

    r = pt_scan_sysfs(root, &topo, &log);
    CHECKF(r == 0, "%s: pt_scan_sysfs: %s", root, strerror(-r));
    if ( r )
        goto out;
    CHECKF(log.nerrors == 0, "%s: %zu scan errors", root, log.nerrors);
    if ( log.nerrors )
        pt_errlog_print(&log, stderr, PT_SEV_WARN);
    CHECKF(topo.nunreadable == 0, "%s: %zu devices unreadable (captures hold full config)",
           root, topo.nunreadable);

    snprintf(dir, sizeof(dir), "%s/bus/pci/devices", root);
    d = opendir(dir);
    CHECKF(d != NULL, "%s: cannot open %s", root, dir);
    if ( !d )
        goto out;
    while ( (de = readdir(d)) )
    {
        if ( de->d_name[0] == '.' )
            continue;
        nlinks++;
        check_device(root, &topo, de->d_name);
    }
    closedir(d);
    CHECKF(nlinks == topo.n + topo.nunreadable, "%s: %zu links in bus/pci/devices, scan has %zu",
           root, nlinks, topo.n + topo.nunreadable);
    printf("# %s: %zu devices\n", strrchr(root, '/') + 1, topo.n);
out:
    pt_topo_free(&topo);
    pt_errlog_free(&log);
}

int main(void)
{
    char fixtures[PATH_MAX];
    struct dirent *de;
    int ncaptures = 0;
    DIR *d;

    snprintf(fixtures, sizeof(fixtures), "%s/tests/fixtures", SRCDIR);
    d = opendir(fixtures);
    if ( !d && errno == ENOENT )
    {
        /* A release tarball without the captures (automake's v7 tar format
         * cannot hold sysfs path lengths): nothing to check, say so. */
        printf("# SKIP: no %s\n", fixtures);
        return 77;
    }
    CHECKF(d != NULL, "cannot open %s: %s", fixtures, strerror(errno));
    if ( d )
    {
        while ( (de = readdir(d)) )
        {
            char root[ROOTBUF];

            if ( strncmp(de->d_name, "sysfs-", 6) )
                continue;
            snprintf(root, sizeof(root), "%s/%s", fixtures, de->d_name);
            check_capture(root);
            ncaptures++;
        }
        closedir(d);
    }
    /* The captures are committed: none found means the fixtures went missing. */
    CHECKF(ncaptures > 0, "no tests/fixtures/sysfs-* capture found in %s", fixtures);
    return tap_done();
}
