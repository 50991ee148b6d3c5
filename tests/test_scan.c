/*
 * test_scan.c - the sysfs scanner on trees written by the fixture generator
 * (paths, parents, VFs, extfn, drivers, two segments, nested legacy
 * bridges), every kind of bad input, the topology container, the hardware
 * probes, bus numbering, and any real captures in tests/fixtures/sysfs-*.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pcitopo.h"
#include "fixture.h"
#include "tap.h"

static char tmpdir[64];

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

static bool log_has(const struct pt_errlog *log, enum pt_severity sev, const char *a,
                    const char *b)
{
    for ( size_t i = 0; i < log->n; i++ )
        if ( log->msgs[i].sev == sev && strstr(log->msgs[i].text, a) &&
             (!b || strstr(log->msgs[i].text, b)) )
            return true;
    return false;
}

static char *subdir(const char *name)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
    return buf;
}

/* Everything the scanner reports equals what the fixture says it should. */
static void compare_topo(const char *what, const struct pt_topo *got, const struct pt_topo *want)
{
    CHECKF(got->n == want->n, "%s: %zu devices, want %zu", what, got->n, want->n);
    if ( got->n != want->n )
        return;
    for ( size_t i = 0; i < got->n; i++ )
    {
        const struct pt_dev *g = &got->devs[i], *w = &want->devs[i];
        char sb[PT_SBDF_STRLEN];
        const char *bad = NULL;

#define FIELD(cond, name) if ( !bad && !(cond) ) bad = name
        FIELD(g->sbdf == w->sbdf, "sbdf");
        FIELD(g->path && w->path && !strcmp(g->path, w->path), "path");
        FIELD(g->type == w->type, "type");
        FIELD(g->vendor == w->vendor && g->device == w->device, "vendor/device");
        FIELD(g->is_bridge == w->is_bridge, "is_bridge");
        FIELD(g->sec_bus == w->sec_bus && g->sub_bus == w->sub_bus, "range");
        FIELD(g->is_virtfn == w->is_virtfn && g->physfn == w->physfn, "virtfn/physfn");
        FIELD(g->is_extfn == w->is_extfn, "extfn");
        FIELD(g->vfs_enabled == w->vfs_enabled, "vfs_enabled");
        FIELD(g->numa_node == w->numa_node, "numa_node");
        FIELD(g->parent == w->parent, "parent");
        FIELD(g->depth == w->depth, "depth");
        FIELD(!memcmp(g->hdr, w->hdr, sizeof(g->hdr)), "hdr");
        FIELD(!memcmp(&g->cfg, &w->cfg, sizeof(g->cfg)), "cfg");
        FIELD(g->driver ? w->driver && !strcmp(g->driver, w->driver) : !w->driver, "driver");
#undef FIELD
        bool same = !bad;

        CHECKF(same, "%s: device %zu (%s, path %s): %s differs", what, i,
               pt_sbdf_fmt(g->sbdf, sb), g->path ? g->path : "-", bad);
        if ( !same )
            return;
    }
}

static const char *desc_main =
    "# two segments, nested legacy bridges, a switch, SR-IOV with ARI\n"
    "root 0000:00\n"
    "  00.0 host\n"
    "  1c.0 rootport\n"
    "    00.0 ep vendor=0x8086 device=0x10d3 driver=e1000e numa=0\n"
    "  1c.1 rootport\n"
    "    00.0 pcie2pci\n"
    "      01.0 pciep driver=e1000\n"
    "      02.0 legacy\n"
    "        03.0 legacy\n"
    "          04.0 pciep\n"
    "        05.0 pciep\n"
    "  1d.0 rootport arifwd\n"
    "    00.0 pf ari totalvfs=8 offset=8 stride=1 numvfs=3 vfdev=0x10ca driver=igb\n"
    "    00.1 ep ari\n"
    "    01.0 ep ari    # an extended function: ARI on its bus, slot != 0\n"
    "  1e.0 rootport\n"
    "    00.0 upstream\n"
    "      00.0 downstream\n"
    "        00.0 ep phantom=1\n"
    "      01.0 downstream\n"
    "\n"
    "root 0001:40\n"
    "  00.0 host\n"
    "  02.0 rootport\n"
    "\t00.0 pci2pcie\n"
    "\t  00.0 ep\n";

static void test_scan_main(void)
{
    struct fx_tree *t = NULL;
    struct pt_topo got, want;
    struct pt_errlog log = { 0 };
    char err[128];
    const struct pt_dev *d, *p;
    int r;

    CHECK_EQ_INT(fx_parse(desc_main, &t, err, sizeof(err)), 0);
    if ( !t )
    {
        fprintf(stderr, "parse: %s\n", err);
        return;
    }
    CHECK_EQ_INT(fx_write_sysfs(t, subdir("main")), 0);
    r = pt_scan_sysfs(subdir("main"), &got, &log);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT(log.nerrors, 0);
    CHECK_EQ_INT(fx_topo(t, &want), 0);
    compare_topo("main", &got, &want);
    CHECK_EQ_INT(got.n, fx_count(t) - 1);      /* the VF at 06:01.0 shadows the ep there */
    CHECK_EQ_INT(got.nunreadable, 0);

    /* Spot checks against Linux numbering by hand. */
    d = pt_topo_find(&got, S("0000:01:00.0"));
    CHECK(d && d->path && !strcmp(d->path, "0000:00:1c.0/00.0"));
    CHECK(d && d->driver && !strcmp(d->driver, "e1000e"));
    CHECK(d && d->numa_node == 0);
    CHECK(d && d->depth == 1);
    CHECK(d && d->parent != PT_NO_PARENT && got.devs[d->parent].sbdf == S("0000:00:1c.0"));
    d = pt_topo_find(&got, S("0000:00:1c.1"));
    CHECK(d && d->type == PT_TYPE_PCIE_PORT && d->sec_bus == 2 && d->sub_bus == 5);
    d = pt_topo_find(&got, S("0000:02:00.0"));
    CHECK(d && d->type == PT_TYPE_PCIE2PCI_BRIDGE && d->sec_bus == 3 && d->sub_bus == 5);
    d = pt_topo_find(&got, S("0000:03:02.0"));
    CHECK(d && d->type == PT_TYPE_LEGACY_BRIDGE && d->sec_bus == 4 && d->sub_bus == 5);
    d = pt_topo_find(&got, S("0000:05:04.0"));
    CHECK(d && d->type == PT_TYPE_PCI_ENDPOINT && d->depth == 4);
    CHECK(d && d->path && !strcmp(d->path, "0000:00:1c.1/00.0/02.0/03.0/04.0"));
    p = d && d->parent != PT_NO_PARENT ? &got.devs[d->parent] : NULL;
    CHECK(p && p->sbdf == S("0000:04:03.0"));
    CHECK(d && d->driver == NULL);
    CHECK(d && d->numa_node == -1);
    d = pt_topo_find(&got, S("0000:04:05.0"));
    CHECK(d && d->path && !strcmp(d->path, "0000:00:1c.1/00.0/02.0/05.0"));
    d = pt_topo_find(&got, S("0000:03:01.0"));
    CHECK(d && d->driver && !strcmp(d->driver, "e1000"));

    /* SR-IOV: PF 06:00.0, VFs at offset 8: 06:01.0 .. 06:01.2; ARI on bus 6. */
    d = pt_topo_find(&got, S("0000:06:00.0"));
    CHECK(d && d->vfs_enabled && !d->is_virtfn && !d->is_extfn);
    CHECK(d && d->cfg.sriov_numvfs == 3);
    CHECK(d && d->driver && !strcmp(d->driver, "igb"));
    for ( unsigned i = 0; i < 3; i++ )
    {
        const struct pt_dev *vf = pt_topo_find(&got, PT_SBDF(0, 6, PT_DEVFN_OF(1, i)));

        CHECK(vf && vf->is_virtfn && vf->physfn == S("0000:06:00.0"));
        CHECK(vf && vf->vendor == 0x8086 && vf->device == 0x10ca);
        CHECK(vf && vf->cfg.vendor == 0xffff);
        CHECK(vf && !vf->is_extfn);             /* never for a VF */
        CHECK(vf && vf->parent != PT_NO_PARENT && got.devs[vf->parent].sbdf == S("0000:06:00.0"));
        CHECK(vf && vf->depth == 2);
    }
    d = pt_topo_find(&got, S("0000:06:00.1"));
    CHECK(d && !d->is_extfn);                   /* slot 0 */
    d = pt_topo_find(&got, S("0000:06:01.0"));
    CHECK(d && d->is_virtfn);                   /* the VF won the BDF... */
    /* ...and the ep at 01.0 is shadowed by it (as on real hardware). */

    /* The switch: 07 -> 08 -> 09/0a; phantom. */
    d = pt_topo_find(&got, S("0000:09:00.0"));
    CHECK(d && d->cfg.phantom_stride == 4 && d->depth == 3);
    CHECK(d && d->path && !strcmp(d->path, "0000:00:1e.0/00.0/00.0/00.0"));

    /* Segment 1, root bus 0x40. */
    d = pt_topo_find(&got, S("0001:40:02.0"));
    CHECK(d && d->sec_bus == 0x41 && d->depth == 0);
    d = pt_topo_find(&got, S("0001:42:00.0"));
    CHECK(d && d->type == PT_TYPE_PCIE_ENDPOINT && d->depth == 2);
    CHECK(d && d->path && !strcmp(d->path, "0001:40:02.0/00.0/00.0"));
    CHECK(d && d->cfg.len == 256);          /* behind a PCI-to-PCIe bridge on a PCIe port: fine */
    d = pt_topo_find(&got, S("0001:41:00.0"));
    CHECK(d && d->type == PT_TYPE_PCI2PCIE_BRIDGE);

    pt_topo_free(&got);
    pt_topo_free(&want);
    pt_errlog_free(&log);
    fx_free(t);
}

/* The extended function: an ep at slot 1 on an ARI bus without a VF in the way. */
static void test_extfn(void)
{
    static const char *desc =
        "1c.0 rootport arifwd\n"
        "  00.0 ep ari\n"
        "  02.0 ep ari\n"
        "  00.1 ep ari\n"
        "1c.1 rootport\n"
        "  01.0 ep\n";
    struct fx_tree *t = NULL;
    struct pt_topo got;
    struct pt_errlog log = { 0 };
    const struct pt_dev *d;

    CHECK_EQ_INT(fx_parse(desc, &t, NULL, 0), 0);
    CHECK_EQ_INT(fx_write_sysfs(t, subdir("extfn")), 0);
    CHECK_EQ_INT(pt_scan_sysfs(subdir("extfn"), &got, &log), 0);
    d = pt_topo_find(&got, S("0000:01:02.0"));
    CHECK(d && d->is_extfn);
    d = pt_topo_find(&got, S("0000:01:00.1"));
    CHECK(d && !d->is_extfn);
    d = pt_topo_find(&got, S("0000:02:01.0"));
    CHECK(d && !d->is_extfn);                   /* no ARI forwarding there */
    pt_topo_free(&got);

    /* Without ari_enabled files the upstream bridge's DEVCTL2 decides. */
    CHECK_EQ_INT(fx_fault_remove_file(subdir("extfn"), S("0000:01:02.0"), "ari_enabled"), 0);
    CHECK_EQ_INT(fx_fault_remove_file(subdir("extfn"), S("0000:02:01.0"), "ari_enabled"), 0);
    CHECK_EQ_INT(pt_scan_sysfs(subdir("extfn"), &got, &log), 0);
    d = pt_topo_find(&got, S("0000:01:02.0"));
    CHECK(d && d->is_extfn);
    d = pt_topo_find(&got, S("0000:02:01.0"));
    CHECK(d && !d->is_extfn);
    CHECK_EQ_INT(log.nerrors, 0);
    pt_topo_free(&got);
    pt_errlog_free(&log);
    fx_free(t);
}

static void test_random_trees(void)
{
    for ( unsigned seed = 1; seed <= 25; seed++ )
    {
        struct fx_tree *t = fx_random(seed, 40);
        struct pt_topo got, want;
        struct pt_errlog log = { 0 };
        char what[32];

        snprintf(what, sizeof(what), "random seed %u", seed);
        CHECK(t != NULL);
        if ( !t )
            continue;
        CHECK_EQ_INT(fx_write_sysfs(t, subdir("random")), 0);
        CHECK_EQ_INT(pt_scan_sysfs(subdir("random"), &got, &log), 0);
        CHECK_EQ_INT(log.nerrors, 0);
        CHECK_EQ_INT(fx_topo(t, &want), 0);
        compare_topo(what, &got, &want);
        /* Every parent chain ends and every depth is its parent's + 1. */
        for ( size_t i = 0; i < got.n; i++ )
        {
            const struct pt_dev *d = &got.devs[i];

            if ( d->parent == PT_NO_PARENT )
                CHECK_EQ_INT(d->depth, 0);
            else
                CHECK_EQ_INT(d->depth, got.devs[d->parent].depth + 1);
        }
        pt_topo_free(&got);
        pt_topo_free(&want);
        pt_errlog_free(&log);
        fx_free(t);
    }
}

static void test_gen(void)
{
    struct fx_tree *t = fx_gen(3000, 7);
    struct pt_topo got, want;
    struct pt_errlog log = { 0 };
    struct timespec a, b;
    size_t vfs = 0, bridges = 0, legacy = 0, segs = 0;
    uint16_t lastseg = 0xffff;

    CHECK(t != NULL);
    if ( !t )
        return;
    CHECK(fx_count(t) >= 3000 && fx_count(t) < 3300);
    CHECK_EQ_INT(fx_write_sysfs(t, subdir("gen")), 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_EQ_INT(pt_scan_sysfs(subdir("gen"), &got, &log), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("# scanned %zu devices in %.1f ms\n", got.n,
           (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6);
    CHECK_EQ_INT(log.n, 0);
    CHECK_EQ_INT(fx_topo(t, &want), 0);
    compare_topo("gen", &got, &want);
    for ( size_t i = 0; i < got.n; i++ )
    {
        vfs += got.devs[i].is_virtfn;
        bridges += got.devs[i].is_bridge;
        legacy += got.devs[i].type == PT_TYPE_LEGACY_BRIDGE;
        if ( PT_SEG(got.devs[i].sbdf) != lastseg )
            segs++;
        lastseg = PT_SEG(got.devs[i].sbdf);
    }
    CHECK(vfs > 500);
    CHECK(bridges > 50);
    CHECK(legacy > 0);
    CHECK(segs >= 1);
    pt_topo_free(&got);
    pt_topo_free(&want);
    pt_errlog_free(&log);
    fx_free(t);
}

static void test_faults(void)
{
    struct fx_tree *t = NULL;
    struct pt_topo got;
    struct pt_errlog log = { 0 };
    const char *dir = subdir("faults");
    const struct pt_dev *d;
    size_t total;

    CHECK_EQ_INT(fx_parse(desc_main, &t, NULL, 0), 0);
    if ( !t )
        return;
    total = fx_count(t);
    CHECK_EQ_INT(fx_write_sysfs(t, dir), 0);
    /* 64 bytes (non-root), truncated, garbage, a loop, vanished, dangling, missing files. */
    CHECK_EQ_INT(fx_fault_truncate_config(dir, S("0000:01:00.0"), 64), 0);
    CHECK_EQ_INT(fx_fault_truncate_config(dir, S("0000:03:01.0"), 10), 0);
    CHECK_EQ_INT(fx_fault_garbage_config(dir, S("0000:04:05.0")), 0);
    CHECK_EQ_INT(fx_fault_cap_loop(dir, S("0000:09:00.0")), 0);
    CHECK_EQ_INT(fx_fault_remove_dir(dir, S("0001:42:00.0")), 0);
    CHECK_EQ_INT(fx_fault_dangling_link(dir, "0000:77:00.0"), 0);
    CHECK_EQ_INT(fx_fault_dangling_link(dir, "not-a-device"), 0);
    CHECK_EQ_INT(fx_fault_remove_file(dir, S("0000:00:1c.0"), "numa_node"), 0);
    CHECK_EQ_INT(fx_fault_remove_file(dir, S("0000:03:01.0"), "driver"), 0);
    CHECK_EQ_INT(fx_fault_remove_file(dir, S("0000:06:01.1"), "vendor"), 0);
    CHECK_EQ_INT(fx_fault_remove_file(dir, S("0000:06:00.0"), "driver"), 0);

    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), 0);
    /* Unreadable: 64-byte, truncated, garbage, loop. */
    CHECK_EQ_INT(got.nunreadable, 4);
    CHECK(pt_topo_is_unreadable(&got, S("0000:01:00.0")));
    CHECK(pt_topo_is_unreadable(&got, S("0000:03:01.0")));
    CHECK(pt_topo_is_unreadable(&got, S("0000:04:05.0")));
    CHECK(pt_topo_is_unreadable(&got, S("0000:09:00.0")));
    CHECK(!pt_topo_is_unreadable(&got, S("0000:00:1c.0")));
    CHECK(!pt_topo_find(&got, S("0000:01:00.0")));
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:01:00.0", "run as root"));
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:01:00.0", "0000:00:1c.0/00.0"));
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:03:01.0", "truncated"));
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:04:05.0", "garbage"));
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:09:00.0", "loop"));
    CHECK(log_has(&log, PT_SEV_INFO, "0001:42:00.0", "vanished"));
    CHECK(log_has(&log, PT_SEV_INFO, "0000:77:00.0", "vanished"));
    CHECK(log_has(&log, PT_SEV_ERROR, "not-a-device", "refused"));
    CHECK_EQ_INT(got.nrefused, 1);
    CHECK_EQ_INT(log.nerrors, 5);
    /* The rest is there: total - 1 shadowed - 4 unreadable - 1 vanished. */
    CHECK_EQ_INT(got.n, total - 6);
    d = pt_topo_find(&got, S("0000:00:1c.0"));
    CHECK(d && d->numa_node == -1);
    d = pt_topo_find(&got, S("0000:06:00.0"));
    CHECK(d && d->driver == NULL && d->vfs_enabled);
    d = pt_topo_find(&got, S("0000:06:01.1"));
    CHECK(d && d->is_virtfn && d->vendor == 0x8086 && d->device == 0x10ca);   /* from the PF */
    /* A child of an unreadable bridge still finds its parent chain. */
    d = pt_topo_find(&got, S("0000:05:04.0"));
    CHECK(d && d->depth == 4);
    pt_topo_free(&got);
    pt_errlog_free(&log);

    /* An unreadable PF: its VFs' IDs come from their vendor/device files. */
    CHECK_EQ_INT(fx_fault_truncate_config(dir, S("0000:06:00.0"), 64), 0);
    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), 0);
    d = pt_topo_find(&got, S("0000:06:01.1"));
    CHECK(d && d->is_virtfn && d->vendor == 0xffff && d->device == 0x10ca);
    CHECK(d && d->parent != PT_NO_PARENT && got.devs[d->parent].sbdf == S("0000:00:1d.0"));
    CHECK(log_has(&log, PT_SEV_WARN, "0000:06:01.1", "vendor"));
    d = pt_topo_find(&got, S("0000:06:01.0"));
    CHECK(d && d->is_virtfn && d->vendor == 0x8086 && d->device == 0x10ca);
    pt_topo_free(&got);
    pt_errlog_free(&log);

    /* Non-VF reading 0xffff (a VF whose physfn link is gone): garbage, not a crash. */
    CHECK_EQ_INT(fx_fault_remove_file(dir, S("0000:06:01.0"), "physfn"), 0);
    CHECK_EQ_INT(fx_fault_remove_file(dir, S("0000:06:01.2"), "physfn"), 0);
    CHECK_EQ_INT(fx_fault_remove_file(dir, S("0000:06:01.2"), "vendor"), 0);
    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), 0);
    /* 06:01.0 has a vendor file: a VF caught before Linux linked it (a warning). */
    CHECK(pt_topo_is_unreadable(&got, S("0000:06:01.0")));
    CHECK(log_has(&log, PT_SEV_WARN, "0000:06:01.0", "no physfn link yet"));
    /* 06:01.2 has nothing to say it is a VF: garbage (an error). */
    CHECK(pt_topo_is_unreadable(&got, S("0000:06:01.2")));
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:06:01.2", "0xffff"));
    CHECK(!log_has(&log, PT_SEV_ERROR, "0000:06:01.0", NULL));
    pt_topo_free(&got);
    pt_errlog_free(&log);

    /* Many 64-byte configs: named one by one, then a summary. */
    {
        struct fx_tree *g = fx_gen(60, 3);
        struct fx_dev **v;
        size_t n;

        CHECK(g && fx_write_sysfs(g, dir) == 0);
        CHECK(g && fx_devices(g, &v, &n) == 0);
        for ( size_t i = 0; g && i < n; i++ )
            fx_fault_truncate_config(dir, fx_sbdf(v[i]), 64);
        CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), 0);
        CHECK_EQ_INT(got.n, 0);
        CHECK_EQ_INT(got.nunreadable, n);
        CHECK_EQ_INT(log.nerrors, 17);
        CHECK(log_has(&log, PT_SEV_ERROR, "more devices", "run as root"));
        pt_topo_free(&got);
        pt_errlog_free(&log);
        free(v);
        fx_free(g);
    }

    /* The writer refuses to clobber the real sysfs. */
    CHECK_EQ_INT(fx_write_sysfs(t, "/sys"), -EPERM);
    CHECK_EQ_INT(fx_write_sysfs(t, "/sys/../sys"), -EPERM);

    /* No tree at all. */
    CHECK_EQ_INT(pt_scan_sysfs(subdir("no-such-dir"), &got, &log), -ENOENT);
    CHECK(log_has(&log, PT_SEV_ERROR, "no-such-dir", NULL));
    CHECK_EQ_INT(got.n, 0);
    pt_errlog_free(&log);
    /* A root without bus/pci/devices. */
    mkdir(subdir("empty"), 0755);
    CHECK_EQ_INT(pt_scan_sysfs(subdir("empty"), &got, &log), -ENOENT);
    CHECK(log_has(&log, PT_SEV_ERROR, "bus/pci/devices", NULL));
    pt_errlog_free(&log);
    fx_free(t);
}

static void test_read_cfg_and_probes(void)
{
    struct fx_tree *t = NULL;
    struct pt_cfg_info ci;
    struct pt_topo topo;
    struct pt_errlog log = { 0 };
    const char *dir = subdir("probe");
    struct fx_dev *rp, *br;

    CHECK_EQ_INT(fx_parse(desc_main, &t, NULL, 0), 0);
    if ( !t )
        return;
    CHECK_EQ_INT(fx_write_sysfs(t, dir), 0);
    CHECK_EQ_INT(pt_sysfs_read_cfg(dir, S("0000:02:00.0"), &ci, &log), 0);
    CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCIE2PCI_BRIDGE);
    CHECK_EQ_INT(ci.reg_sec, 3);
    CHECK_EQ_INT(pt_sysfs_read_cfg(dir, S("0000:55:00.0"), &ci, &log), -ENODEV);
    CHECK_EQ_INT(pt_hw_sysfs_probe((void *)dir, S("0000:02:00.0"), &ci), 0);
    CHECK_EQ_INT(ci.reg_sub, 5);
    CHECK_EQ_INT(pt_hw_sysfs_probe((void *)dir, S("0000:55:00.0"), &ci), -ENODEV);
    CHECK_EQ_INT(fx_fault_garbage_config(dir, S("0000:03:01.0")), 0);
    CHECK_EQ_INT(pt_sysfs_read_cfg(dir, S("0000:03:01.0"), &ci, &log), -EINVAL);
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:03:01.0", "garbage"));

    CHECK_EQ_INT(fx_topo(t, &topo), 0);
    CHECK_EQ_INT(pt_hw_topo_probe(&topo, S("0000:02:00.0"), &ci), 0);
    CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCIE2PCI_BRIDGE);
    CHECK_EQ_INT(pt_hw_topo_probe(&topo, S("0000:55:00.0"), &ci), -ENODEV);
    pt_topo_free(&topo);

    /* fx_hw_probe follows the registers now: move the 1c.1 subtree by 0x10. */
    CHECK_EQ_INT(fx_hw_probe(t, S("0000:02:00.0"), &ci), 0);
    CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCIE2PCI_BRIDGE);
    rp = fx_find(t, S("0000:00:1c.1"));
    br = fx_find(t, S("0000:02:00.0"));
    CHECK(rp && br && br->parent == rp);
    if ( rp && br )
    {
        fx_set_bridge_regs(rp, 0, 0x12, 0x15);
        CHECK_EQ_INT(fx_hw_probe(t, S("0000:02:00.0"), &ci), -ENODEV);
        CHECK_EQ_INT(fx_hw_probe(t, S("0000:12:00.0"), &ci), 0);
        CHECK_EQ_INT(ci.reg_sec, 3);            /* the bridge still says 3..5 ... */
        CHECK_EQ_INT(fx_hw_probe(t, S("0000:03:01.0"), &ci), -ENODEV);  /* ... outside 12..15 */
        fx_set_bridge_regs(br, 0x12, 0x13, 0x15);
        CHECK_EQ_INT(fx_hw_probe(t, S("0000:13:01.0"), &ci), 0);
        CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCI_ENDPOINT);
        CHECK(fx_find(t, S("0000:13:01.0")) != NULL);
        CHECK_EQ_INT(fx_sbdf(fx_find(t, S("0000:13:01.0"))), S("0000:13:01.0"));
        /* Unprogrammed bridge: nothing behind it answers. */
        fx_set_bridge_regs(br, 0, 0, 0);
        CHECK_EQ_INT(fx_hw_probe(t, S("0000:13:01.0"), &ci), -ENODEV);
        CHECK_EQ_INT(fx_hw_probe(t, S("0000:12:00.0"), &ci), 0);
        CHECK_EQ_INT(ci.reg_sec, 0);
    }
    /* VFs answer at their routing IDs; removed VFs do not. */
    CHECK_EQ_INT(fx_hw_probe(t, S("0000:06:01.2"), &ci), 0);
    CHECK_EQ_INT(ci.vendor, 0xffff);
    {
        struct fx_dev *pf = fx_find(t, S("0000:06:00.0"));

        CHECK(pf && pf->kind == FX_SRIOV_PF);
        if ( pf )
            CHECK_EQ_INT(fx_set_numvfs(pf, 1), 0);
        CHECK_EQ_INT(fx_hw_probe(t, S("0000:06:01.2"), &ci), -ENODEV);
        CHECK(fx_find(t, S("0000:06:01.0")) && fx_find(t, S("0000:06:01.0"))->kind == FX_VF);
    }
    /* A removed subtree is gone. */
    fx_remove(fx_find(t, S("0000:00:1e.0")));
    CHECK_EQ_INT(fx_hw_probe(t, S("0000:00:1e.0"), &ci), -ENODEV);
    CHECK(fx_find(t, S("0000:09:00.0")) == NULL);
    pt_errlog_free(&log);
    fx_free(t);
}

/* The TESTBED §3 case: firmware honours bus-reserve, Linux does not. */
static void test_numbering(void)
{
    static const char *desc =
        "00.0 host\n"
        "01.0 rootport reserve=3\n"
        "  00.0 ep\n"
        "02.0 rootport\n"
        "  00.0 pcie2pci\n"
        "    01.0 pciep\n";
    struct fx_tree *t = NULL;
    char path[128];

    CHECK_EQ_INT(fx_parse(desc, &t, NULL, 0), 0);
    if ( !t )
        return;
    CHECK(fx_find(t, S("0000:02:00.0")) && fx_find(t, S("0000:02:00.0"))->kind == FX_PCIE2PCI);
    CHECK(fx_find(t, S("0000:03:01.0")) != NULL);
    fx_number_busses(t, FX_NUMBER_FIRMWARE);
    CHECK(fx_find(t, S("0000:05:00.0")) && fx_find(t, S("0000:05:00.0"))->kind == FX_PCIE2PCI);
    CHECK(fx_find(t, S("0000:06:01.0")) && fx_find(t, S("0000:06:01.0"))->kind == FX_PCI_EP);
    CHECK(fx_find(t, S("0000:01:00.0")) != NULL);
    CHECK_EQ_INT(fx_find(t, S("0000:00:01.0"))->sub, 4);
    CHECK_EQ_STR(fx_path(fx_find(t, S("0000:06:01.0")), path, sizeof(path)),
                 "0000:00:02.0/00.0/01.0");
    fx_number_busses(t, FX_NUMBER_LINUX);
    CHECK(fx_find(t, S("0000:03:01.0")) != NULL);
    CHECK_EQ_STR(fx_path(fx_find(t, S("0000:03:01.0")), path, sizeof(path)),
                 "0000:00:02.0/00.0/01.0");
    fx_free(t);

    /* Linux reserves the buses a PF's VFs may need before numbering bridges. */
    {
        static const char *d2 =
            "01.0 rootport\n"
            "  00.0 pf totalvfs=300 offset=1 stride=1 numvfs=300\n"
            "  01.0 rootport\n"      /* (a port under a port: only for the numbering) */
            "    00.0 ep\n";
        struct pt_topo got;
        struct pt_errlog log = { 0 };
        const struct pt_dev *d;

        CHECK_EQ_INT(fx_parse(d2, &t, NULL, 0), 0);
        if ( !t )
            return;
        /* VFs reach 01:00.0 + 1 + 299 = 02:05.4, so the port gets bus 3; 02:04.0 is VF 287. */
        CHECK(fx_find(t, S("0000:03:00.0")) && fx_find(t, S("0000:03:00.0"))->kind == FX_PCIE_EP);
        CHECK(fx_find(t, S("0000:02:04.0")) && fx_find(t, S("0000:02:04.0"))->kind == FX_VF);
        CHECK_EQ_INT(fx_write_sysfs(t, subdir("vfbus")), 0);
        CHECK_EQ_INT(pt_scan_sysfs(subdir("vfbus"), &got, &log), 0);
        d = pt_topo_find(&got, S("0000:02:04.0"));
        CHECK(d && d->is_virtfn && d->path && !strcmp(d->path, "0000:00:01.0/+1:04.0"));
        CHECK(d && d->parent != PT_NO_PARENT && got.devs[d->parent].sbdf == S("0000:01:00.0"));
        fx_number_busses(t, FX_NUMBER_FIRMWARE);
        /* SeaBIOS: no VF buses (01:01.0 itself is shadowed by VF 7 now). */
        CHECK_EQ_INT(fx_root(t, 0, 0)->kids[0]->kids[1]->sec, 2);
        pt_topo_free(&got);
        pt_errlog_free(&log);
        fx_free(t);
    }
}

static void test_parse_errors(void)
{
    static const struct { const char *text; const char *msg; } bad[] = {
        { "00.0 frobnicator\n", "line 1: unknown kind" },
        { "00.0 host\n00.0 ep\n", "line 2: 00.0 is already" },
        { "00.0 ep\n  00.0 ep\n", "line 2: nested under a ep" },
        { "zz.0 ep\n", "line 1: bad device" },
        { "00.9 ep\n", "line 1: bad device" },
        { "00.0 ep wibble=3\n", "line 1: unknown option" },
        { "00.0 ep sec=3\n", "line 1: option sec: only for bridges" },
        { "00.0 pf totalvfs=2 numvfs=3\n", "line 1: numvfs=3 exceeds" },
        { "\n\nroot 12345:00\n", "line 3: " },
        { "00.0 ep vendor=0x10000\n", "line 1: option vendor: bad value" },
        { "hello\n", "line 1: expected" },
    };
    char err[128];

    for ( size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++ )
    {
        struct fx_tree *t = NULL;

        CHECK_EQ_INT(fx_parse(bad[i].text, &t, err, sizeof(err)), -EINVAL);
        CHECKF(!strncmp(err, bad[i].msg, strlen(bad[i].msg)), "'%s' for case %zu", err, i);
        CHECK(t == NULL);
    }
    /* Explicit registers survive numbering. */
    {
        struct fx_tree *t = NULL;

        CHECK_EQ_INT(fx_parse("01.0 rootport pri=0 sec=6 sub=6\n  00.0 ep\n", &t, err,
                              sizeof(err)), 0);
        CHECK(t && fx_find(t, S("0000:06:00.0")) != NULL);
        fx_free(t);
    }
}

/* Hand-built topologies: parents from ranges, loops cut. */
static void test_topo_by_hand(void)
{
    struct pt_topo topo = { 0 };
    struct pt_dev d;
    const struct pt_dev *x;

#define ADD(sbdf_, bridge_, sec_, sub_, vf_, pf_) do { \
        memset(&d, 0, sizeof(d)); \
        d.sbdf = S(sbdf_); d.is_bridge = bridge_; d.sec_bus = sec_; d.sub_bus = sub_; \
        d.is_virtfn = vf_; d.physfn = vf_ ? S(pf_) : 0; \
        CHECK_EQ_INT(pt_topo_add(&topo, &d), 0); \
    } while ( 0 )
    ADD("0000:05:00.1", false, 0, 0, true, "0000:05:00.0");
    ADD("0000:06:01.0", false, 0, 0, false, NULL);
    ADD("0000:00:1c.0", true, 1, 8, false, NULL);
    ADD("0000:01:00.0", true, 2, 8, false, NULL);
    ADD("0000:02:01.0", true, 5, 5, false, NULL);
    ADD("0000:02:02.0", true, 6, 8, false, NULL);
    ADD("0000:05:00.0", false, 0, 0, false, NULL);
    ADD("0001:00:02.0", true, 1, 1, false, NULL);
    ADD("0001:01:00.0", false, 0, 0, false, NULL);
    ADD("0000:09:00.0", true, 9, 9, false, NULL);     /* a bridge on its own range: a loop */
    ADD("0000:09:01.0", false, 0, 0, false, NULL);
    CHECK_EQ_INT(pt_topo_finish(&topo), 0);
    for ( size_t i = 1; i < topo.n; i++ )
        CHECK(topo.devs[i - 1].sbdf < topo.devs[i].sbdf);
    x = pt_topo_find(&topo, S("0000:06:01.0"));
    CHECK(x && x->parent != PT_NO_PARENT && topo.devs[x->parent].sbdf == S("0000:02:02.0"));
    CHECK(x && x->depth == 3);
    x = pt_topo_find(&topo, S("0000:05:00.0"));
    CHECK(x && x->parent != PT_NO_PARENT && topo.devs[x->parent].sbdf == S("0000:02:01.0"));
    x = pt_topo_find(&topo, S("0000:05:00.1"));
    CHECK(x && x->parent != PT_NO_PARENT && topo.devs[x->parent].sbdf == S("0000:05:00.0"));
    CHECK(x && x->depth == 4);
    x = pt_topo_find(&topo, S("0000:00:1c.0"));
    CHECK(x && x->parent == PT_NO_PARENT && x->depth == 0);
    x = pt_topo_find(&topo, S("0001:01:00.0"));
    CHECK(x && x->parent != PT_NO_PARENT && topo.devs[x->parent].sbdf == S("0001:00:02.0"));
    x = pt_topo_find(&topo, S("0000:09:01.0"));
    CHECK(x && x->parent != PT_NO_PARENT && topo.devs[x->parent].sbdf == S("0000:09:00.0"));
    x = pt_topo_find(&topo, S("0000:09:00.0"));
    CHECK(x && x->parent == PT_NO_PARENT);
    CHECK(pt_topo_find(&topo, S("0000:07:00.0")) == NULL);
    CHECK(!pt_topo_is_unreadable(&topo, S("0000:07:00.0")));
    pt_topo_free(&topo);
    CHECK_EQ_INT(topo.n, 0);
    CHECK_EQ_INT(pt_topo_finish(&topo), 0);        /* empty is fine */
#undef ADD
}

/* ------------------------------------------------------------------ */
/* Hostile input: the directory read, names, what stands in for a file  */
/* ------------------------------------------------------------------ */

/* The test readers of bus/pci/devices (pt_scan_readdir): fail or repeat after `after` entries. */
static unsigned rd_after, rd_count;
static int rd_errno;
static struct dirent rd_last;
static char rd_dup[sizeof(rd_last.d_name)];

static struct dirent *readdir_failing(DIR *dir)
{
    if ( rd_count++ == rd_after )
    {
        errno = rd_errno;
        return NULL;
    }
    return readdir(dir);
}

static struct dirent *readdir_repeating(DIR *dir)
{
    struct dirent *de;

    if ( rd_count++ == rd_after && rd_last.d_name[0] )
    {
        strcpy(rd_dup, rd_last.d_name);
        return &rd_last;
    }
    de = readdir(dir);
    if ( de && de->d_name[0] != '.' )
        rd_last = *de;
    return de;
}

/* The tester's case: readdir() fails part-way (EIO); a shorter list must not come back. */
static void test_readdir_error(void)
{
    struct fx_tree *t = NULL;
    struct pt_topo got;
    struct pt_errlog log = { 0 };
    const char *dir = subdir("readdir");

    CHECK_EQ_INT(fx_parse(desc_main, &t, NULL, 0), 0);
    if ( !t )
        return;
    CHECK_EQ_INT(fx_write_sysfs(t, dir), 0);
    for ( unsigned after = 0; after <= 6; after += 3 )
    {
        rd_after = after;
        rd_count = 0;
        rd_errno = EIO;
        pt_scan_readdir = readdir_failing;
        CHECKF(pt_scan_sysfs(dir, &got, &log) == -EIO, "readdir EIO after %u entries", after);
        pt_scan_readdir = readdir;
        CHECK_EQ_INT(got.n, 0);
        CHECK(log_has(&log, PT_SEV_ERROR, "bus/pci/devices", "Input/output error"));
        CHECK(log_has(&log, PT_SEV_ERROR, dir, "partial list is not used"));
        pt_errlog_free(&log);
    }
    /* The same tree read whole is fine. */
    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), 0);
    CHECK_EQ_INT(got.n, fx_count(t) - 1);
    pt_topo_free(&got);
    pt_errlog_free(&log);
    fx_free(t);
}

/* The same device listed twice (a directory changing under the scan): an error. */
static void test_duplicate(void)
{
    struct fx_tree *t = NULL;
    struct pt_topo got;
    struct pt_errlog log = { 0 };
    const char *dir = subdir("dup");

    CHECK_EQ_INT(fx_parse(desc_main, &t, NULL, 0), 0);
    if ( !t )
        return;
    CHECK_EQ_INT(fx_write_sysfs(t, dir), 0);
    rd_after = 8;
    rd_count = 0;
    memset(&rd_last, 0, sizeof(rd_last));
    rd_dup[0] = '\0';
    pt_scan_readdir = readdir_repeating;
    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), -EEXIST);
    pt_scan_readdir = readdir;
    CHECK_EQ_INT(got.n, 0);
    CHECK(rd_dup[0] != '\0');
    CHECKF(log_has(&log, PT_SEV_ERROR, rd_dup, "twice"), "no 'twice' for %s", rd_dup);
    pt_errlog_free(&log);
    /* ... also when it is one the scan cannot read (recorded unreadable, deduplicated). */
    CHECK_EQ_INT(fx_fault_truncate_config(dir, S("0000:01:00.0"), 10), 0);
    rd_after = 50;
    rd_count = 0;
    pt_scan_readdir = readdir_repeating;
    {
        /* Repeat exactly 0000:01:00.0: read until it passes, then repeat it. */
        DIR *d;
        struct dirent *de;
        char p[300];

        snprintf(p, sizeof(p), "%s/bus/pci/devices", dir);
        d = opendir(p);
        rd_after = 0;
        while ( d && (de = readdir(d)) )
        {
            rd_after++;
            if ( !strcmp(de->d_name, "0000:01:00.0") )
                break;
        }
        if ( d )
            closedir(d);
    }
    memset(&rd_last, 0, sizeof(rd_last));
    rd_dup[0] = '\0';
    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), -EEXIST);
    pt_scan_readdir = readdir;
    CHECKF(!strcmp(rd_dup, "0000:01:00.0"), "repeated %s", rd_dup);
    CHECK(log_has(&log, PT_SEV_ERROR, "0000:01:00.0", "twice"));
    pt_errlog_free(&log);
    fx_free(t);
}

/* Names Linux never writes: "0000:00:1F.0" next to "0000:00:1f.0", short forms. */
static void test_names(void)
{
    static const char *const bad[] = { "0000:00:1C.0", "0000:0:1c.0", "000:00:1c.0",
                                       "0000:00:1c.00", "0000:00:1c.8", "0000:00:20.0" };
    struct fx_tree *t = NULL;
    struct pt_topo got;
    struct pt_errlog log = { 0 };
    const char *dir = subdir("names");
    char link[600], target[600];
    ssize_t len;

    CHECK_EQ_INT(fx_parse(desc_main, &t, NULL, 0), 0);
    if ( !t )
        return;
    CHECK_EQ_INT(fx_write_sysfs(t, dir), 0);
    snprintf(link, sizeof(link), "%s/bus/pci/devices/0000:00:1c.0", dir);
    len = readlink(link, target, sizeof(target) - 1);
    CHECK(len > 0);
    target[len > 0 ? len : 0] = '\0';
    for ( size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++ )
    {
        snprintf(link, sizeof(link), "%s/bus/pci/devices/%s", dir, bad[i]);
        CHECK_EQ_INT(symlink(target, link), 0);
    }
    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), 0);
    CHECK_EQ_INT(got.nrefused, sizeof(bad) / sizeof(bad[0]));
    for ( size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++ )
        CHECKF(log_has(&log, PT_SEV_ERROR, bad[i], "refused"), "%s not refused", bad[i]);
    CHECK_EQ_INT(log.nerrors, sizeof(bad) / sizeof(bad[0]));
    /* Nothing is added twice: the canonical name is the only one scanned. */
    CHECK_EQ_INT(got.n, fx_count(t) - 1);
    CHECK(pt_topo_find(&got, S("0000:00:1c.0")) != NULL);
    pt_topo_free(&got);
    pt_errlog_free(&log);
    fx_free(t);
}

/* Replaces dir/bus/pci/devices/SBDF/ATTR by a FIFO, a directory, a socket or a link. */
static int replace_attr(const char *dir, const char *sbdf, const char *attr, mode_t what)
{
    char p[600];

    snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/%s", dir, sbdf, attr);
    if ( unlink(p) < 0 && errno != ENOENT )
        return -errno;
    if ( S_ISFIFO(what) )
        return mkfifo(p, 0644) < 0 ? -errno : 0;
    if ( S_ISDIR(what) )
        return mkdir(p, 0755) < 0 ? -errno : 0;
    if ( S_ISLNK(what) )
        return symlink("vendor", p) < 0 ? -errno : 0;
    if ( S_ISREG(what) )
    {
        FILE *f = fopen(p, "w");

        return f && fclose(f) == 0 ? 0 : -EIO;
    }
    {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0), r = 0;

        if ( fd < 0 || strlen(p) >= sizeof(sa.sun_path) )
            r = -ENAMETOOLONG;
        else
        {
            strcpy(sa.sun_path, p);
            r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
        }
        if ( fd >= 0 )
            close(fd);
        return r;
    }
}

static void on_alarm(int sig)
{
    static const char msg[] = "not ok - the scan hangs on a FIFO\n";

    (void)sig;
    (void)!write(1, msg, sizeof(msg) - 1);
    _exit(1);
}

/* A FIFO (or socket, directory, link) where an attribute should be: an error, never a hang. */
static void test_not_regular(void)
{
    static const struct { const char *sbdf, *attr; mode_t what; const char *says; } cases[] = {
        { "0000:01:00.0", "config", S_IFIFO, "a FIFO" },
        { "0000:00:1c.0", "numa_node", S_IFIFO, "a FIFO" },
        { "0000:06:01.0", "physfn", S_IFIFO, "a FIFO" },        /* a link expected */
        { "0000:03:01.0", "config", S_IFDIR, "a directory" },
        { "0000:04:05.0", "config", S_IFLNK, "a symbolic link" },
        { "0000:06:00.1", "driver", S_IFREG, "a regular file" },    /* a link expected */
        { "0000:06:01.0", "ari_enabled", S_IFIFO, NULL },          /* a VF: never read */
        { "0000:07:00.0", "config", S_IFSOCK, "a socket" },
    };
    struct fx_tree *t = NULL;
    struct pt_topo got;
    struct pt_errlog log = { 0 };
    struct pt_cfg_info ci;
    const char *dir = subdir("notreg");
    size_t nerr = 0;

    CHECK_EQ_INT(fx_parse(desc_main, &t, NULL, 0), 0);
    if ( !t )
        return;
    CHECK_EQ_INT(fx_write_sysfs(t, dir), 0);
    for ( size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++ )
    {
        int r = replace_attr(dir, cases[i].sbdf, cases[i].attr, cases[i].what);

        CHECKF(r == 0 || (S_ISSOCK(cases[i].what) && r == -ENAMETOOLONG), "%s/%s: %s",
               cases[i].sbdf, cases[i].attr, strerror(-r));
    }
    signal(SIGALRM, on_alarm);
    alarm(20);
    CHECK_EQ_INT(pt_scan_sysfs(dir, &got, &log), 0);
    CHECK_EQ_INT(pt_sysfs_read_cfg(dir, S("0000:01:00.0"), &ci, &log), -EMEDIUMTYPE);
    alarm(0);
    CHECK(log_has(&log, PT_SEV_ERROR, "reading config", "not a regular file"));
    for ( size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++ )
    {
        char path[600];

        if ( !cases[i].says )
            continue;
        if ( S_ISSOCK(cases[i].what) && !pt_topo_is_unreadable(&got, S(cases[i].sbdf)) &&
             pt_topo_find(&got, S(cases[i].sbdf)) )
            continue;                   /* the socket's path was too long to bind */
        snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/%s", dir, cases[i].sbdf,
                 cases[i].attr);
        CHECKF(pt_topo_is_unreadable(&got, S(cases[i].sbdf)), "%s: not unreadable", path);
        CHECKF(log_has(&log, PT_SEV_ERROR, path, cases[i].says), "no error '%s' for %s",
               cases[i].says, path);
        nerr++;
    }
    CHECK(pt_topo_find(&got, S("0000:06:01.0")) == NULL);   /* its physfn is a FIFO */
    CHECK_EQ_INT(got.nunreadable, nerr);
    pt_topo_free(&got);
    pt_errlog_free(&log);
    fx_free(t);
}

/* Real captures from a dom0, when present: tests/fixtures/sysfs-*. */
static void test_captures(void)
{
    char dirname[1024];
    struct dirent *de;
    DIR *dir;

    snprintf(dirname, sizeof(dirname), "%s/tests/fixtures", SRCDIR);
    dir = opendir(dirname);
    if ( !dir )
        return;
    while ( (de = readdir(dir)) )
    {
        char root[2048];
        struct pt_topo got;
        struct pt_errlog log = { 0 };
        int r;

        if ( strncmp(de->d_name, "sysfs-", 6) )
            continue;
        snprintf(root, sizeof(root), "%s/%s", dirname, de->d_name);
        r = pt_scan_sysfs(root, &got, &log);
        CHECKF(r == 0, "capture %s: %s", de->d_name, strerror(-r));
        if ( r )
        {
            pt_errlog_print(&log, stderr, PT_SEV_WARN);
            pt_errlog_free(&log);
            continue;
        }
        printf("# capture %s: %zu devices, %zu unreadable, %zu errors\n", de->d_name, got.n,
               got.nunreadable, log.nerrors);
        CHECKF(got.n + got.nunreadable > 0, "capture %s: no devices", de->d_name);
        for ( size_t i = 0; i < got.n; i++ )
        {
            const struct pt_dev *d = &got.devs[i];

            CHECK(d->path != NULL);
            if ( d->parent != PT_NO_PARENT )
                CHECK_EQ_INT(d->depth, got.devs[d->parent].depth + 1);
            if ( d->is_virtfn )
                CHECK(d->parent != PT_NO_PARENT);
        }
        pt_topo_free(&got);
        pt_errlog_free(&log);
    }
    closedir(dir);
}

int main(void)
{
    struct stat st;

    /* tmpfs when there is one: the trees are many small files. */
    snprintf(tmpdir, sizeof(tmpdir), "%s/pt-test-scan.XXXXXX",
             stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
             ? "/dev/shm" : "/tmp");
    if ( !mkdtemp(tmpdir) )
    {
        perror("mkdtemp");
        return 1;
    }
    test_scan_main();
    test_extfn();
    test_random_trees();
    test_gen();
    test_faults();
    test_read_cfg_and_probes();
    test_numbering();
    test_parse_errors();
    test_topo_by_hand();
    test_readdir_error();
    test_duplicate();
    test_names();
    test_not_regular();
    test_captures();
    fx_rmtree(tmpdir);
    return tap_done();
}
