/*
 * sysfs_scan.c - dom0's PCI topology from sysfs (DESIGN §4.2).
 *
 * For every bus/pci/devices/<SBDF> link: the link text gives the physical
 * path (no realpath), then per device one O_PATH openat() of its directory
 * and one read per attribute relative to it; no stdio.  config is the
 * authority (a VF's only up to 256 bytes, see read_config()); physfn/driver
 * are links, numa_node/ari_enabled (the
 * latter only where it matters: slot != 0, not a VF) small text files, a
 * VF's IDs see vf_ids().
 *
 * Anything that disappears (ENOENT anywhere: a device removed mid-scan, a
 * dangling link) is skipped with PT_SEV_INFO.  A device that is present but
 * unreadable (short config without CAP_SYS_ADMIN, I/O errors, garbage, an
 * attribute that is not a regular file) is recorded in topo->unreadable
 * with a PT_SEV_ERROR and the scan goes on.  A directory entry whose name
 * is not a canonical SBDF is refused (topo->nrefused, PT_SEV_ERROR).  What
 * makes the list itself untrustworthy - readdir() failing, the same device
 * listed twice - fails the whole scan: a shorter list would make healthy
 * entries of Xen's look stale.
 *
 * Every attribute is opened O_NONBLOCK | O_NOFOLLOW and must be a regular
 * file (fstat): a FIFO, socket, device node or directory put in a tree in
 * place of one is refused, never waited on.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcitopo.h"

#define DEVICES_DIR     "bus/pci/devices"
#define ARI_FWD_BIT     0x0020          /* PCI_EXP_DEVCTL2_ARI */
#define SRIOV_CTRL_VFE  0x0001
/* Unreadable devices named one by one before a summary (non-root: all are). */
#define MAX_SHORT_MSGS  16

/* An attribute that is not a regular file (pt_read_file()'s code for the same). */
#define E_NOTREG        EMEDIUMTYPE

pt_readdir_fn pt_scan_readdir = readdir;

struct scan {
    const char *root;                   /* the sysfs root, for messages */
    struct pt_topo *topo;
    struct pt_errlog *log;
    unsigned nshort;                    /* devices with a short config */
    pt_sbdf_t *ari_fallback;            /* no ari_enabled file: decide from the parent */
    size_t nari, capari;
    pt_sbdf_t *seen;                    /* every device name listed, to find one listed twice */
    size_t nseen, capseen;
};

/* Appends v to a growing array of SBDFs; -ENOMEM. */
static int push_sbdf(pt_sbdf_t **a, size_t *n, size_t *cap, pt_sbdf_t v)
{
    if ( *n == *cap )
    {
        size_t ncap = *cap ? *cap * 2 : 64;
        pt_sbdf_t *na = realloc(*a, ncap * sizeof(*na));

        if ( !na )
            return -ENOMEM;
        *a = na;
        *cap = ncap;
    }
    (*a)[(*n)++] = v;
    return 0;
}

/*
 * Opens an attribute relative to dfd: never waits (O_NONBLOCK: a FIFO
 * would block the open or the read), never follows a link in its place,
 * and refuses anything but a regular file.  fd, or -errno (-E_NOTREG).
 */
static int open_attr(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    struct stat st;

    /* ELOOP: a symbolic link (O_NOFOLLOW); ENXIO: a socket, or a device node without a device. */
    if ( fd < 0 )
        return errno == ELOOP || errno == ENXIO ? -E_NOTREG : -errno;
    if ( fstat(fd, &st) < 0 )
    {
        int r = -errno;

        close(fd);
        return r;
    }
    if ( !S_ISREG(st.st_mode) )
    {
        close(fd);
        return -E_NOTREG;
    }
    return fd;
}

/* What is at name instead of a regular file, for a message ("a FIFO"). */
static const char *what_is(int dfd, const char *name)
{
    struct stat st;

    if ( fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 )
        return "something else";
    if ( S_ISFIFO(st.st_mode) )
        return "a FIFO";
    if ( S_ISSOCK(st.st_mode) )
        return "a socket";
    if ( S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) )
        return "a device node";
    if ( S_ISDIR(st.st_mode) )
        return "a directory";
    if ( S_ISLNK(st.st_mode) )
        return "a symbolic link";
    if ( S_ISREG(st.st_mode) )
        return "a regular file";
    return "something else";
}

/*
 * Reads a file relative to dfd with one read() (sysfs attributes and the
 * config file return everything asked for at once); bytes or -errno.
 */
static ssize_t read_at(int dfd, const char *name, void *buf, size_t size)
{
    int fd = open_attr(dfd, name);
    ssize_t r;

    if ( fd < 0 )
        return fd;
    do
        r = read(fd, buf, size);
    while ( r < 0 && errno == EINTR );
    if ( r < 0 )
        r = -errno;
    close(fd);
    return r;
}

/*
 * Reads config as Linux's own tools do, not all 4096 bytes: on a real host
 * every config dword is a device access (and in a PV dom0 possibly a trap),
 * measured at ~28 ms for a whole PCIe function against ~0.5 ms for what
 * follows.  The first 256 bytes in one read; then, unless it is a VF, the
 * extended capability list header by header from 0x100 (pread of 4 bytes;
 * a conventional function's file ends at 256 and the first pread returns
 * 0), and the body of the capabilities the parser uses (SR-IOV, ARI).
 * What is not read stays zero, so pt_cfg_parse() walks the same list.
 * Bytes of config space covered (256, or 4096 with the extended list) or
 * -errno.
 */
#define EXT_CAP_ID_ARI    0x0e
#define EXT_CAP_ID_SRIOV  0x10

static ssize_t pread_full(int fd, void *buf, size_t size, off_t off)
{
    ssize_t r;

    do
        r = pread(fd, buf, size, off);
    while ( r < 0 && errno == EINTR );
    return r < 0 ? -errno : r;
}

static ssize_t read_config(int dfd, uint8_t *cfg, bool virtfn)
{
    int fd = open_attr(dfd, "config");
    ssize_t len, r;
    unsigned pos = 0x100, hops = 0;

    if ( fd < 0 )
        return fd;
    memset(cfg, 0, PT_CFG_EXT_LEN);
    len = pread_full(fd, cfg, PT_CFG_FULL_LEN, 0);
    if ( len < PT_CFG_FULL_LEN || virtfn )
        goto out;
    /* Same bounds as the parser's walk: 4-byte aligned, inside, no loop. */
    while ( pos >= 0x100 && pos <= PT_CFG_EXT_LEN - 4 && hops++ < (PT_CFG_EXT_LEN - 0x100) / 4 )
    {
        uint32_t hdr;
        size_t body = 0;

        r = pread_full(fd, cfg + pos, 4, pos);
        if ( r < 4 )
        {
            /* 0 at 0x100: a conventional function's file ends at 256. */
            if ( r < 0 )
                len = r;
            break;
        }
        len = PT_CFG_EXT_LEN;
        memcpy(&hdr, cfg + pos, 4);
        if ( hdr == 0 || hdr == 0xffffffff )
            break;
        if ( (hdr & 0xffff) == EXT_CAP_ID_SRIOV )
            body = 0x40;
        else if ( (hdr & 0xffff) == EXT_CAP_ID_ARI )
            body = 8;
        if ( body && pos + body <= PT_CFG_EXT_LEN )
        {
            r = pread_full(fd, cfg + pos + 4, body - 4, pos + 4);
            if ( r < 0 )
            {
                len = r;
                break;
            }
        }
        pos = (hdr >> 20) & 0xffc;
    }
 out:
    close(fd);
    return len;
}

/* Reads a small text attribute as a NUL-terminated string; -errno. */
static int read_text_at(int dfd, const char *name, char *buf, size_t size)
{
    ssize_t r = read_at(dfd, name, buf, size - 1);

    if ( r < 0 )
        return (int)r;
    buf[r] = '\0';
    while ( r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' ') )
        buf[--r] = '\0';
    return 0;
}

/* Reads "0x%04x" or a decimal number; -EINVAL when malformed. */
static int read_num_at(int dfd, const char *name, long *out)
{
    char buf[32], *end;
    int r = read_text_at(dfd, name, buf, sizeof(buf));

    if ( r < 0 )
        return r;
    errno = 0;
    *out = strtol(buf, &end, 0);
    if ( end == buf || *end || errno )
        return -EINVAL;
    return 0;
}

/* The last component of a link target ("../../../bus/pci/drivers/e1000e" -> "e1000e"). */
static const char *basename_of(const char *s)
{
    const char *slash = strrchr(s, '/');

    return slash ? slash + 1 : s;
}

/* Parses a name as Linux writes it ("%04x:%02x:%02x.%d"): "0000:00:1F.0" is not one. */
static bool parse_name(const char *s, size_t len, pt_sbdf_t *out)
{
    char buf[PT_SBDF_STRLEN], canon[PT_SBDF_STRLEN];

    if ( len != PT_SBDF_STRLEN - 1 )
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return pt_sbdf_parse(buf, 0, out) == 0 && !strcmp(pt_sbdf_fmt(*out, canon), buf);
}

/*
 * Builds the §4.1 path from the link text: the SBDF-named components after
 * the last "pciSSSS:BB" component, the first in full, then "/dd.f" each.
 * A VF more than zero buses above its PF's bus gets "+N:dd.f" (see
 * tests/fixture.h).  NULL on ENOMEM or when the link has no such chain.
 */
static char *build_path(const char *link, bool virtfn, pt_sbdf_t physfn)
{
    const char *comp[64];
    size_t clen[64];
    size_t ncomp = 0;
    const char *p = link;
    char *out, *w;

    while ( *p )
    {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        pt_sbdf_t dummy;

        if ( len >= 3 && !memcmp(p, "pci", 3) && !parse_name(p, len, &dummy) )
            ncomp = 0;                  /* a root bus object: the chain starts here */
        else if ( parse_name(p, len, &dummy) && ncomp < 64 )
        {
            comp[ncomp] = p;
            clen[ncomp] = len;
            ncomp++;
        }
        p += len;
        if ( *p == '/' )
            p++;
    }
    if ( !ncomp )
        return NULL;
    out = malloc(PT_SBDF_STRLEN + ncomp * 10 + 8);
    if ( !out )
        return NULL;
    memcpy(out, comp[0], clen[0]);
    w = out + clen[0];
    for ( size_t i = 1; i < ncomp; i++ )
    {
        *w++ = '/';
        if ( i == ncomp - 1 && virtfn )
        {
            pt_sbdf_t me;

            if ( parse_name(comp[i], clen[i], &me) && PT_BUS(me) != PT_BUS(physfn) )
                w += sprintf(w, "+%u:", (unsigned)(PT_BUS(me) - PT_BUS(physfn)) & 0xff);
        }
        memcpy(w, comp[i] + 8, 4);      /* "ssss:bb:" is 8 characters */
        w += 4;
    }
    *w = '\0';
    return out;
}

static int add_unreadable(struct pt_topo *topo, pt_sbdf_t sbdf)
{
    if ( topo->nunreadable == topo->capunreadable )
    {
        size_t ncap = topo->capunreadable ? topo->capunreadable * 2 : 16;
        pt_sbdf_t *u = realloc(topo->unreadable, ncap * sizeof(*u));

        if ( !u )
            return -ENOMEM;
        topo->unreadable = u;
        topo->capunreadable = ncap;
    }
    topo->unreadable[topo->nunreadable++] = sbdf;
    return 0;
}

static void vanished(struct scan *s, const char *name, const char *what)
{
    pt_log(s->log, PT_SEV_INFO, "%s: %s vanished during the scan; skipped", name, what);
}

/*
 * A device's attribute (or link) attr could not be read (r: -errno): an
 * error naming its path; the device is recorded unreadable.  0 or -ENOMEM.
 */
static int attr_error(struct scan *s, int dfd, const char *name, pt_sbdf_t sbdf, const char *attr,
                      int r)
{
    if ( r == -E_NOTREG )
        pt_log(s->log, PT_SEV_ERROR, "%s: %s/" DEVICES_DIR "/%s/%s is %s, not what sysfs "
               "has there; the device is not scanned", name, s->root, name, attr,
               what_is(dfd, attr));
    else
        pt_log(s->log, PT_SEV_ERROR, "%s: reading %s/" DEVICES_DIR "/%s/%s: %s", name, s->root,
               name, attr, strerror(-r));
    return add_unreadable(s->topo, sbdf);
}

/* Scans one device; returns 0 (whatever happened to it) or -ENOMEM. */
static int scan_one(struct scan *s, int devsfd, const char *name)
{
    uint8_t cfg[PT_CFG_EXT_LEN];
    char link[PATH_MAX], target[PATH_MAX];
    struct pt_dev dev;
    const char *why = NULL;
    pt_sbdf_t sbdf;
    ssize_t len, cfglen;
    int dfd, r;
    long v;

    if ( !parse_name(name, strlen(name), &sbdf) )
    {
        s->topo->nrefused++;
        pt_log(s->log, PT_SEV_ERROR, "%s/" DEVICES_DIR "/%s: not a PCI device name as Linux "
               "writes it (ssss:bb:dd.f, lower-case hex); refused, the scan is incomplete",
               s->root, name);
        return 0;
    }
    if ( push_sbdf(&s->seen, &s->nseen, &s->capseen, sbdf) < 0 )
        return -ENOMEM;
    memset(&dev, 0, sizeof(dev));
    dev.sbdf = sbdf;
    dev.numa_node = -1;
    dev.parent = PT_NO_PARENT;

    len = readlinkat(devsfd, name, link, sizeof(link) - 1);
    if ( len < 0 )
    {
        if ( errno == ENOENT )
        {
            vanished(s, name, "device link");
            return 0;
        }
        if ( errno != EINVAL )          /* EINVAL: a directory, not a link (odd but usable) */
        {
            pt_log(s->log, PT_SEV_ERROR, "%s: reading link %s/%s: %s", name, DEVICES_DIR, name,
                   strerror(errno));
            return add_unreadable(s->topo, sbdf);
        }
        len = 0;
    }
    link[len] = '\0';

    /* An O_PATH handle on the device directory: each attribute is then one lookup. */
    dfd = openat(devsfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if ( dfd < 0 )
    {
        if ( errno == ENOENT )
        {
            vanished(s, name, "device directory");
            return 0;
        }
        pt_log(s->log, PT_SEV_ERROR, "%s: opening device directory %s/%s: %s", name,
               DEVICES_DIR, name, strerror(errno));
        return add_unreadable(s->topo, sbdf);
    }

    /* physfn first: a VF's config is read with that knowledge. */
    len = readlinkat(dfd, "physfn", target, sizeof(target) - 1);
    if ( len < 0 && errno != ENOENT )
    {
        r = attr_error(s, dfd, name, sbdf, "physfn", errno == EINVAL ? -E_NOTREG : -errno);
        goto out;
    }
    if ( len >= 0 )
    {
        const char *pf;

        target[len] = '\0';
        pf = basename_of(target);
        if ( !parse_name(pf, strlen(pf), &dev.physfn) )
        {
            pt_log(s->log, PT_SEV_ERROR, "%s: physfn link points to '%s', not a PCI device",
                   name, target);
            r = add_unreadable(s->topo, sbdf);
            goto out;
        }
        dev.is_virtfn = true;
    }

    dev.path = link[0] ? build_path(link, dev.is_virtfn, dev.physfn) : NULL;
    if ( !dev.path )
    {
        /* Not linked into devices/pci*: still a device; fall back to its name. */
        dev.path = strdup(name);
        if ( !dev.path )
        {
            r = -ENOMEM;
            goto out;
        }
    }

    cfglen = read_config(dfd, cfg, dev.is_virtfn);
    if ( cfglen < 0 )
    {
        if ( cfglen == -ENOENT )
        {
            vanished(s, name, "config");
            r = 0;
            goto out;
        }
        r = attr_error(s, dfd, name, sbdf, "config", (int)cfglen);
        goto out;
    }
    if ( cfglen < PT_CFG_FULL_LEN )
    {
        if ( cfglen == PT_CFG_HDR_LEN )
        {
            if ( s->nshort++ < MAX_SHORT_MSGS )
                pt_log(s->log, PT_SEV_ERROR,
                       "%s (path %s): reading config: only 64 bytes readable "
                       "(run as root: the full config space needs CAP_SYS_ADMIN)",
                       name, dev.path);
        }
        else
            pt_log(s->log, PT_SEV_ERROR,
                   "%s (path %s): reading config: truncated to %zd bytes", name, dev.path,
                   cfglen);
        r = add_unreadable(s->topo, sbdf);
        goto out;
    }
    if ( pt_cfg_parse(cfg, (size_t)cfglen, PT_DEVFN(sbdf), &dev.cfg, &why) < 0 )
    {
        pt_log(s->log, PT_SEV_ERROR, "%s (path %s): parsing config: %s", name, dev.path, why);
        r = add_unreadable(s->topo, sbdf);
        goto out;
    }
    if ( !dev.is_virtfn && dev.cfg.vendor == 0xffff )
    {
        /*
         * Linux creates a VF's physfn link after announcing the VF
         * (pci_iov_add_virtfn): if Linux knows a real vendor for it, it is
         * a VF caught half-way; otherwise the config is garbage.
         */
        if ( read_num_at(dfd, "vendor", &v) == 0 && v != 0xffff && v != 0 )
            pt_log(s->log, PT_SEV_WARN,
                   "%s (path %s): config reads vendor ID 0xffff and there is no physfn link "
                   "yet (a VF being created?); skipped in this pass", name, dev.path);
        else
            pt_log(s->log, PT_SEV_ERROR,
                   "%s (path %s): parsing config: vendor ID 0xffff on a function without a "
                   "physfn link (not a VF: garbage)", name, dev.path);
        r = add_unreadable(s->topo, sbdf);
        goto out;
    }
    memcpy(dev.hdr, cfg, PT_CFG_HDR_LEN);
    dev.type = dev.cfg.xen_type;
    dev.vendor = dev.cfg.vendor;
    dev.device = dev.cfg.device;
    dev.is_bridge = (dev.cfg.header_type & 0x7f) == 1;
    if ( dev.is_bridge )
    {
        dev.sec_bus = dev.cfg.reg_sec;
        dev.sub_bus = dev.cfg.reg_sub;
    }
    dev.vfs_enabled = dev.cfg.sriov_pos && (dev.cfg.sriov_ctrl & SRIOV_CTRL_VFE);

    /* A VF's node is its PF's (see vf_ids()). */
    if ( !dev.is_virtfn )
    {
        r = read_num_at(dfd, "numa_node", &v);
        if ( r < 0 && r != -ENOENT )
        {
            r = attr_error(s, dfd, name, sbdf, "numa_node", r);
            goto out;
        }
        if ( r == 0 && v >= -1 && v < INT_MAX )
            dev.numa_node = (int)v;
    }

    len = readlinkat(dfd, "driver", target, sizeof(target) - 1);
    if ( len < 0 && errno != ENOENT )
    {
        /* EINVAL: not a link; a file or a directory named driver. */
        r = attr_error(s, dfd, name, sbdf, "driver", errno == EINVAL ? -E_NOTREG : -errno);
        goto out;
    }
    if ( len > 0 )
    {
        target[len] = '\0';
        dev.driver = strdup(basename_of(target));
        if ( !dev.driver )
        {
            r = -ENOMEM;
            goto out;
        }
    }

    /* xen_add_device(): EXTFN = pci_ari_enabled(bus) && slot != 0, never for a VF. */
    if ( !dev.is_virtfn && PT_SLOT(PT_DEVFN(sbdf)) != 0 )
    {
        r = read_num_at(dfd, "ari_enabled", &v);
        if ( r == 0 )
            dev.is_extfn = v != 0;
        else if ( r != -ENOENT )
        {
            r = attr_error(s, dfd, name, sbdf, "ari_enabled", r);
            goto out;
        }
        else if ( (r = push_sbdf(&s->ari_fallback, &s->nari, &s->capari, sbdf)) < 0 )
            goto out;
    }

    r = pt_topo_add(s->topo, &dev);
    if ( r == 0 )
    {
        close(dfd);
        return 0;
    }

 out:
    free(dev.path);
    free(dev.driver);
    close(dfd);
    return r;
}

/*
 * A VF's config reads 0xffff/0xffff (the SR-IOV rule), so its IDs are what
 * Linux shows in its vendor/device files.  pci_iov_add_virtfn() sets those
 * to the PF's vendor ID and the PF's SR-IOV "VF Device ID", and puts the VF
 * on the PF's node, so when the PF was read all three are taken from it
 * (saving three file reads per VF, which dominate a scan of an SR-IOV-heavy
 * host); otherwise the VF's own files are read.
 */
/* A VF's own attribute could not be read: a warning when absent, else an error. */
static void vf_id_error(struct scan *s, const struct pt_dev *d, const char *name,
                        const char *attr, int r)
{
    if ( r == -ENOENT )
        pt_log(s->log, PT_SEV_WARN, "%s (path %s): VF of an unreadable PF without a usable "
               "%s file: %s", name, d->path, attr, strerror(-r));
    else
        pt_log(s->log, PT_SEV_ERROR, "%s (path %s): VF of an unreadable PF: reading "
               "%s/" DEVICES_DIR "/%s/%s: %s", name, d->path, s->root, name, attr,
               r == -E_NOTREG ? "not a regular file" : strerror(-r));
}

static void vf_ids(struct scan *s, int devsfd)
{
    for ( size_t i = 0; i < s->topo->n; i++ )
    {
        struct pt_dev *d = &s->topo->devs[i];
        const struct pt_dev *pf;
        char attrs[PT_SBDF_STRLEN + 16], name[PT_SBDF_STRLEN];
        char *attr = attrs + PT_SBDF_STRLEN - 1;
        long v;
        int r;

        if ( !d->is_virtfn )
            continue;
        pf = d->parent != PT_NO_PARENT ? &s->topo->devs[d->parent] : NULL;
        if ( pf && pf->sbdf == d->physfn && pf->cfg.sriov_pos )
        {
            d->vendor = pf->vendor;
            d->device = pf->cfg.sriov_vf_device;
            d->numa_node = pf->numa_node;
            continue;
        }
        pt_sbdf_fmt(d->sbdf, name);
        memcpy(attrs, name, PT_SBDF_STRLEN);
        strcpy(attr, "/vendor");
        r = read_num_at(devsfd, attrs, &v);
        if ( r == 0 )
            d->vendor = (uint16_t)v;
        else
            vf_id_error(s, d, name, "vendor", r);
        strcpy(attr, "/device");
        r = read_num_at(devsfd, attrs, &v);
        if ( r == 0 )
            d->device = (uint16_t)v;
        else
            vf_id_error(s, d, name, "device", r);
        strcpy(attr, "/numa_node");
        r = read_num_at(devsfd, attrs, &v);
        if ( r == 0 && v >= -1 && v < INT_MAX )
            d->numa_node = (int)v;
        else if ( r < 0 && r != -ENOENT )
            vf_id_error(s, d, name, "numa_node", r);
    }
}

static int cmp_sbdf(const void *a, const void *b)
{
    pt_sbdf_t x = *(const pt_sbdf_t *)a, y = *(const pt_sbdf_t *)b;

    return x < y ? -1 : x > y;
}

/* The first SBDF the directory listed twice (sorts s->seen), or false. */
static bool find_duplicate(struct scan *s, pt_sbdf_t *dup)
{
    if ( s->nseen < 2 )
        return false;                   /* (and qsort() must not see seen == NULL) */
    qsort(s->seen, s->nseen, sizeof(*s->seen), cmp_sbdf);
    for ( size_t i = 1; i < s->nseen; i++ )
        if ( s->seen[i] == s->seen[i - 1] )
        {
            *dup = s->seen[i];
            return true;
        }
    return false;
}

/* Scans <root>/bus/pci/devices into topo; a list that cannot be read whole is an error. */
int pt_scan_sysfs(const char *sysfs_root, struct pt_topo *topo, struct pt_errlog *log)
{
    struct scan s = { .topo = topo, .log = log };
    pt_sbdf_t dup;
    char sb[PT_SBDF_STRLEN];
    struct dirent *de;
    DIR *dir;
    int rootfd, devsfd, r = 0;

    memset(topo, 0, sizeof(*topo));
    if ( !sysfs_root )
        sysfs_root = "/sys";
    s.root = sysfs_root;
    rootfd = open(sysfs_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if ( rootfd < 0 )
    {
        r = -errno;
        pt_log(log, PT_SEV_ERROR, "scanning sysfs: opening %s: %s", sysfs_root, strerror(errno));
        return r;
    }
    devsfd = openat(rootfd, DEVICES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    r = -errno;
    close(rootfd);
    if ( devsfd < 0 )
    {
        pt_log(log, PT_SEV_ERROR, "scanning sysfs: opening %s/%s: %s (no PCI bus in this tree?)",
               sysfs_root, DEVICES_DIR, strerror(-r));
        return r;
    }
    dir = fdopendir(devsfd);
    if ( !dir )
    {
        r = -errno;
        close(devsfd);
        pt_log(log, PT_SEV_ERROR, "scanning sysfs: reading %s/%s: %s", sysfs_root, DEVICES_DIR,
               strerror(-r));
        return r;
    }
    r = 0;
    for ( ;; )
    {
        /* NULL is the end only when errno stays 0: else the list is cut short. */
        errno = 0;
        de = pt_scan_readdir(dir);
        if ( !de )
        {
            if ( errno )
            {
                r = -errno;
                pt_log(log, PT_SEV_ERROR, "scanning sysfs: reading the directory %s/%s: %s "
                       "(after %zu entries; a partial list is not used)", sysfs_root,
                       DEVICES_DIR, strerror(-r), topo->n + topo->nunreadable + topo->nrefused);
                goto fail;
            }
            break;
        }
        if ( de->d_name[0] == '.' )
            continue;
        r = scan_one(&s, devsfd, de->d_name);
        if ( r < 0 )
            break;
    }
    if ( r < 0 )
    {
        pt_log(log, PT_SEV_ERROR, "scanning sysfs %s: %s", sysfs_root, strerror(-r));
        goto fail;
    }
    if ( s.nshort > MAX_SHORT_MSGS )
        pt_log(log, PT_SEV_ERROR,
               "%u more devices with only 64 bytes of config readable (run as root)",
               s.nshort - MAX_SHORT_MSGS);

    if ( find_duplicate(&s, &dup) )
    {
        r = -EEXIST;
        pt_log(log, PT_SEV_ERROR, "scanning sysfs: %s/%s lists %s twice (a directory changing "
               "under the scan, or not Linux's); the list is not used", sysfs_root, DEVICES_DIR,
               pt_sbdf_fmt(dup, sb));
        goto fail;
    }
    r = pt_topo_finish(topo);
    if ( r < 0 )
        goto fail;
    vf_ids(&s, devsfd);

    /* No ari_enabled file: the upstream bridge's DEVCTL2 ARI forwarding bit decides. */
    for ( size_t i = 0; i < s.nari; i++ )
    {
        size_t idx = (size_t)(pt_topo_find(topo, s.ari_fallback[i]) - topo->devs);
        struct pt_dev *d = &topo->devs[idx];
        const struct pt_dev *p = d->parent == PT_NO_PARENT ? NULL : &topo->devs[d->parent];

        d->is_extfn = p && p->is_bridge && PT_BUS(d->sbdf) == p->sec_bus &&
                      (p->cfg.devctl2 & ARI_FWD_BIT);
    }
    free(s.ari_fallback);
    free(s.seen);
    closedir(dir);
    pt_topo_read_dmar(sysfs_root, topo, log);
    return 0;

 fail:
    free(s.ari_fallback);
    free(s.seen);
    closedir(dir);
    pt_topo_free(topo);
    return r;
}

/* Reads and parses one device's full config now; -ENODEV when it is not there. */
int pt_sysfs_read_cfg(const char *sysfs_root, pt_sbdf_t sbdf,
                      struct pt_cfg_info *out, struct pt_errlog *log)
{
    char path[PATH_MAX], name[PT_SBDF_STRLEN];
    uint8_t cfg[PT_CFG_EXT_LEN];
    const char *why = NULL;
    ssize_t len;
    int r, dfd;

    if ( !sysfs_root )
        sysfs_root = "/sys";
    pt_sbdf_fmt(sbdf, name);
    if ( snprintf(path, sizeof(path), "%s/" DEVICES_DIR "/%s", sysfs_root, name) >=
         (int)sizeof(path) )
        return -ENAMETOOLONG;
    dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if ( dfd < 0 )
        len = -errno;
    else
    {
        len = read_config(dfd, cfg, false);
        close(dfd);
    }
    if ( len < 0 )
    {
        if ( len == -ENOENT || len == -ENOTDIR )
            return -ENODEV;
        pt_log(log, PT_SEV_ERROR, "%s: reading config %s: %s", name, path,
               len == -E_NOTREG ? "not a regular file" : strerror((int)-len));
        return (int)len;
    }
    r = pt_cfg_parse(cfg, (size_t)len, PT_DEVFN(sbdf), out, &why);
    if ( r < 0 )
        pt_log(log, PT_SEV_ERROR, "%s: parsing config %s: %s", name, path, why);
    return r;
}
