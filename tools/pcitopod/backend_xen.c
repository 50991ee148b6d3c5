/*
 * backend_xen.c - the real hypervisor: Xen's registry through
 * XEN_SYSCTL_pci_topology (patched Xen) or stock 4.17's fallbacks
 * (XEN_SYSCTL_pcitopoinfo probing + the debug-key 'Q' dump), and the
 * physdev operations that change it.  Transport only: every decision
 * (what differs, what to do, in what order) is in libpcitopo.
 *
 * Facts relied on: docs/xen-pci-facts.md §2 (ABIs), §3 ('Q' dump).
 */
#include "config.h"

/* xenctrl.h first: it defines __XEN_TOOLS__, without which xen/xen.h maps
 * __HYPERVISOR_physdev_op to the compat op and xen/sysctl.h refuses. */
#include <xenctrl.h>
#include <xencall.h>
#include <xen/physdev.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "pt_xen_sysctl.h"

#define PRIVCMD_PATH      "/dev/xen/privcmd"
#define CAPABILITIES_PATH "/proc/xen/capabilities"
#define READ_RETRIES      3             /* registry changed under us: re-read */
#define CONRING_CHUNK     65536

struct xen_priv {
    xc_interface *xch;
    xencall_handle *xcall;              /* owned by xch */
    bool patched;                       /* XEN_SYSCTL_pci_topology answered */
    /* Stock only: the owner-less entries of the last view read. */
    pt_sbdf_t *noowner;
    size_t nnoowner;
    bool have_view;
};

/* ------------------------------------------------------------------ */
/* errors                                                              */
/* ------------------------------------------------------------------ */

/* "ENODEV: No such device" for messages; e is a positive errno. */
static const char *errno_text(int e, char *buf, size_t len)
{
    const char *name = strerrorname_np(e);

    snprintf(buf, len, "%s (%s)", strerror(e), name ? name : "?");
    return buf;
}

/* Logs "OP SBDF: failed: CAUSE" and returns -e. */
static int op_error(struct pt_errlog *log, const char *op, pt_sbdf_t sbdf,
                    const char *what, int e)
{
    char s[PT_SBDF_STRLEN], eb[128];

    pt_log(log, PT_SEV_ERROR, "%s %s%s failed: %s", op, pt_sbdf_fmt(sbdf, s),
           what ? what : "", errno_text(e, eb, sizeof(eb)));
    return -e;
}

/* ------------------------------------------------------------------ */
/* Stock 4.17: XEN_SYSCTL_pcitopoinfo and the 'Q' dump                 */
/* ------------------------------------------------------------------ */

struct qdev {
    pt_sbdf_t sbdf;
    int owner;
};

struct qdump {
    struct qdev *devs;
    size_t n, cap;
    bool complete;              /* saw the header and the ring did not overflow */
};

/* Appends the console ring from *idx on to buf; *idx = the new end. */
static int conring_read_from(xc_interface *xch, uint32_t *idx, char **buf, size_t *len,
                             bool *lost)
{
    uint32_t start = *idx;
    size_t got = 0;
    char *chunk = malloc(CONRING_CHUNK);

    if ( !chunk )
        return -ENOMEM;
    for ( ;; )
    {
        unsigned int count = CONRING_CHUNK;
        uint32_t index = *idx;

        /* count must be reset before every call (libxl's reader forgets). */
        if ( xc_readconsolering(xch, chunk, &count, 0, 1, &index) )
        {
            int e = errno ? errno : EIO;

            free(chunk);
            return -e;
        }
        /*
         * read_console_ring() returns the position it reached even when
         * there was nothing to read (an empty ring, e.g. after 'xl dmesg
         * -c'): that is the end index the next read must start from.
         */
        *idx = index;
        if ( count == 0 )
            break;
        if ( buf )
        {
            char *nb = realloc(*buf, *len + count + 1);

            if ( !nb )
            {
                free(chunk);
                return -ENOMEM;
            }
            memcpy(nb + *len, chunk, count);
            *len += count;
            nb[*len] = '\0';
            *buf = nb;
        }
        got += count;
        *idx = index;
    }
    free(chunk);
    /* Fewer bytes than the index advanced: the ring wrapped over our start. */
    if ( lost )
        *lost = (uint32_t)(*idx - start) > got;
    return 0;
}

/* Parses an owner token of the 'Q' dump: d0, dN, d[XEN], d[IO], DomIO:N, NULL. */
static int parse_owner(const char *s, int *owner)
{
    char *end;
    unsigned long v;

    if ( !strncmp(s, "NULL", 4) )
        *owner = PT_OWNER_NONE;
    else if ( !strncmp(s, "d[XEN]", 6) )
        *owner = PT_DOMID_XEN;
    else if ( !strncmp(s, "d[IO]", 5) || !strncmp(s, "DomIO:", 6) )
        *owner = PT_DOMID_IO;
    else if ( s[0] == 'd' && isdigit((unsigned char)s[1]) )
    {
        v = strtoul(s + 1, &end, 10);
        if ( v > 0x7fef || (*end && !isspace((unsigned char)*end)) )
            return -EINVAL;
        *owner = (int)v;
    }
    else
        return -EINVAL;
    return 0;
}

/*
 * Parses the 'Q' dump (dump_pci_devices(), drivers/passthrough/pci.c):
 *   (XEN) ==== PCI devices ====
 *   (XEN) ==== segment 0000 ====
 *   (XEN) 0000:02:01.0 - d0 - node -1  - MSIs < 28 >
 * Lines of other CPUs may be interleaved; what does not parse is skipped.
 */
static int parse_qdump(const char *text, struct qdump *q)
{
    const char *line = text, *hdr = NULL;

    /* Use the last header in the text: our dump. */
    for ( const char *h = strstr(text, "==== PCI devices ===="); h;
          h = strstr(h + 1, "==== PCI devices ====") )
        hdr = h;
    if ( !hdr )
        return -ENOENT;
    line = hdr;

    while ( (line = strchr(line, '\n')) )
    {
        unsigned int seg, bus, dev, fn;
        const char *l = ++line, *o;
        int owner, n = 0;

        /* "(XEN) " and an optional "[timestamp] " */
        if ( !strncmp(l, "(XEN) ", 6) )
            l += 6;
        if ( *l == '[' && (o = strchr(l, ']')) && o[1] == ' ' )
            l = o + 2;
        if ( sscanf(l, "%4x:%2x:%2x.%1u - %n", &seg, &bus, &dev, &fn, &n) != 4 || !n )
            continue;
        if ( bus > 0xff || dev > 0x1f || fn > 7 || parse_owner(l + n, &owner) )
            continue;
        if ( q->n == q->cap )
        {
            size_t nc = q->cap ? 2 * q->cap : 64;
            struct qdev *nd = realloc(q->devs, nc * sizeof(*nd));

            if ( !nd )
                return -ENOMEM;
            q->devs = nd;
            q->cap = nc;
        }
        q->devs[q->n].sbdf = PT_SBDF(seg, bus, PT_DEVFN_OF(dev, fn));
        q->devs[q->n].owner = owner;
        q->n++;
    }
    return 0;
}

/* Triggers 'Q' and collects its output.  Never clears the ring. */
static int read_qdump(struct xen_priv *p, struct qdump *q, struct pt_errlog *log)
{
    uint32_t idx = 0;
    char *text = NULL, eb[128];
    size_t len = 0;
    bool lost = false;
    int rc;

    /* Learn where the ring ends now (read and discard everything). */
    rc = conring_read_from(p->xch, &idx, NULL, NULL, NULL);
    if ( !rc && xc_send_debug_keys(p->xch, "Q") )
    {
        rc = -(errno ? errno : EIO);
        pt_log(log, PT_SEV_ERROR, "stock Xen: sending debug key 'Q' (XEN_SYSCTL_debug_keys) failed: %s",
               errno_text(-rc, eb, sizeof(eb)));
        return rc;
    }
    pt_log(log, PT_SEV_DEBUG, "stock Xen: debug key 'Q' sent: every PCI device dumped on Xen's console");
    /* The dump runs synchronously inside that hypercall: it is in the ring now. */
    if ( !rc )
        rc = conring_read_from(p->xch, &idx, &text, &len, &lost);
    if ( rc )
    {
        pt_log(log, PT_SEV_ERROR, "stock Xen: reading the console ring (XEN_SYSCTL_readconsole) failed: %s",
               errno_text(-rc, eb, sizeof(eb)));
        free(text);
        return rc;
    }
    rc = text ? parse_qdump(text, q) : -ENOENT;
    free(text);
    if ( rc == -ENOENT )
    {
        pt_log(log, PT_SEV_ERROR,
               "stock Xen: the 'Q' dump did not appear in the console ring (no \"==== PCI devices ====\" after debug key 'Q')");
        return -EIO;
    }
    if ( rc )
        return rc;
    q->complete = !lost;
    if ( lost )
    {
        pt_log(log, PT_SEV_ERROR,
               "stock Xen: the console ring overflowed while reading the 'Q' dump, so entries may be missing; boot Xen with a larger conring_size=");
        return -EIO;
    }
    return 0;
}

static int probe_pcitopoinfo(struct xen_priv *p, const struct pt_topo *dom0,
                             uint32_t **nodes_out, struct pt_errlog *log)
{
    physdev_pci_device_t *devs;
    uint32_t *nodes;
    char eb[128];

    *nodes_out = NULL;
    if ( !dom0 || !dom0->n )
        return 0;
    devs = calloc(dom0->n, sizeof(*devs));
    nodes = calloc(dom0->n, sizeof(*nodes));
    if ( !devs || !nodes )
    {
        free(devs);
        free(nodes);
        return -ENOMEM;
    }
    for ( size_t i = 0; i < dom0->n; i++ )
    {
        devs[i].seg = PT_SEG(dom0->devs[i].sbdf);
        devs[i].bus = PT_BUS(dom0->devs[i].sbdf);
        devs[i].devfn = PT_DEVFN(dom0->devs[i].sbdf);
    }
    if ( xc_pcitopoinfo(p->xch, dom0->n, devs, nodes) )
    {
        int e = errno ? errno : EIO;

        pt_log(log, PT_SEV_ERROR, "stock Xen: XEN_SYSCTL_pcitopoinfo over dom0's %zu devices failed: %s",
               dom0->n, errno_text(e, eb, sizeof(eb)));
        free(devs);
        free(nodes);
        return -e;
    }
    free(devs);
    *nodes_out = nodes;
    return 0;
}

static bool qdump_has(const struct qdump *q, pt_sbdf_t sbdf)
{
    for ( size_t i = 0; i < q->n; i++ )
        if ( q->devs[i].sbdf == sbdf )
            return true;
    return false;
}

/* One attempt; -EAGAIN when 'Q' and pcitopoinfo disagree (registry changed). */
static int read_view_stock_once(struct xen_priv *p, const struct pt_topo *dom0,
                                struct pt_xview *out, struct pt_errlog *log)
{
    struct qdump q = { 0 };
    uint32_t *nodes = NULL;
    int rc;

    rc = read_qdump(p, &q, log);
    if ( !rc )
        rc = probe_pcitopoinfo(p, dom0, &nodes, log);
    if ( rc )
        goto out;

    /* Presence must agree between the two sources. */
    for ( size_t i = 0; dom0 && i < dom0->n; i++ )
    {
        bool known = nodes[i] != XEN_INVALID_DEV;

        if ( known != qdump_has(&q, dom0->devs[i].sbdf) )
        {
            rc = -EAGAIN;
            goto out;
        }
    }

    out->source = PT_SOURCE_STOCK;
    out->hv = PT_HV_STOCK;
    for ( size_t i = 0; i < q.n; i++ )
    {
        struct pt_xdev d = {
            .sbdf = q.devs[i].sbdf,
            .type = PT_TYPE_UNKNOWN,
            .sec_bus = PT_NO_RANGE,
            .sub_bus = PT_NO_RANGE,
            .owner = q.devs[i].owner,
        };
        struct pt_xseg *xs = pt_xview_seg(out, PT_SEG(d.sbdf), true);

        if ( !xs )
        {
            rc = -ENOMEM;
            goto out;
        }
        xs->b2b_known = false;
        if ( pt_xview_find(out, d.sbdf) )
            continue;           /* interleaved duplicate line */
        if ( !pt_xview_add(out, &d) )
        {
            rc = -ENOMEM;
            goto out;
        }
    }
    /* Segments dom0 has but Xen shows nothing on: known to be empty, b2b unknown. */
    for ( size_t i = 0; dom0 && i < dom0->n; i++ )
    {
        struct pt_xseg *xs = pt_xview_seg(out, PT_SEG(dom0->devs[i].sbdf), false);

        if ( !xs )
        {
            xs = pt_xview_seg(out, PT_SEG(dom0->devs[i].sbdf), true);
            if ( !xs )
            {
                rc = -ENOMEM;
                goto out;
            }
            xs->b2b_known = false;
        }
    }
    pt_xview_sort(out);

 out:
    free(q.devs);
    free(nodes);
    return rc;
}

/* Remembers the owner-less entries (stock: never remove them, it panics Xen). */
static int remember_noowner(struct xen_priv *p, const struct pt_xview *v)
{
    size_t n = 0;

    free(p->noowner);
    p->noowner = NULL;
    p->nnoowner = 0;
    p->have_view = false;
    for ( size_t s = 0; s < v->nsegs; s++ )
        for ( size_t i = 0; i < v->segs[s].n; i++ )
            n += v->segs[s].devs[i].owner == PT_OWNER_NONE;
    if ( n && !(p->noowner = calloc(n, sizeof(*p->noowner))) )
        return -ENOMEM;
    for ( size_t s = 0; s < v->nsegs; s++ )
        for ( size_t i = 0; i < v->segs[s].n; i++ )
            if ( v->segs[s].devs[i].owner == PT_OWNER_NONE )
                p->noowner[p->nnoowner++] = v->segs[s].devs[i].sbdf;
    p->have_view = true;
    return 0;
}

static int read_view_stock(struct xen_priv *p, const struct pt_topo *dom0,
                           struct pt_xview *out, struct pt_errlog *log)
{
    struct pt_xview v = { 0 };
    int rc = -EAGAIN;

    for ( unsigned attempt = 0; attempt < READ_RETRIES && rc == -EAGAIN; attempt++ )
    {
        pt_xview_free(&v);
        memset(&v, 0, sizeof(v));
        rc = read_view_stock_once(p, dom0, &v, log);
    }
    if ( rc == -EAGAIN )
        pt_log(log, PT_SEV_ERROR,
               "stock Xen: the 'Q' dump and XEN_SYSCTL_pcitopoinfo disagreed in %u attempts (the registry is changing); try again when it has settled",
               READ_RETRIES);
    if ( !rc )
        rc = remember_noowner(p, &v);
    if ( rc )
    {
        pt_xview_free(&v);
        return rc;
    }
    *out = v;           /* like pt_xview_copy(): out is taken as empty */
    return 0;
}

static int xen_read_view(struct pt_backend *b, const struct pt_topo *dom0,
                         struct pt_xview *out, struct pt_errlog *log)
{
    struct xen_priv *p = b->priv;

    return p->patched ? pt_xen_read_view_sysctl(p->xch, dom0, out, log)
                      : read_view_stock(p, dom0, out, log);
}

/* ------------------------------------------------------------------ */
/* physdev operations                                                  */
/* ------------------------------------------------------------------ */

static int xen_add(struct pt_backend *b, const struct pt_op *op, struct pt_errlog *log)
{
    struct xen_priv *p = b->priv;
    struct physdev_pci_device_add *a;
    char what[80] = "", pf[PT_SBDF_STRLEN];
    int r, e = 0;

    /* Room for optarr[0] (the PXM): Xen reads it as u32 element 3. */
    a = xencall_alloc_buffer(p->xcall, sizeof(*a) + sizeof(uint32_t));
    if ( !a )
        return op_error(log, "PHYSDEVOP_pci_device_add", op->sbdf,
                        " (allocating the hypercall buffer)", ENOMEM);
    memset(a, 0, sizeof(*a) + sizeof(uint32_t));
    a->seg = PT_SEG(op->sbdf);
    a->bus = PT_BUS(op->sbdf);
    a->devfn = PT_DEVFN(op->sbdf);
    if ( op->virtfn )
    {
        a->flags |= XEN_PCI_DEV_VIRTFN;
        a->physfn.bus = PT_BUS(op->physfn);
        a->physfn.devfn = PT_DEVFN(op->physfn);
        snprintf(what, sizeof(what), " (virtual function of %s)", pt_sbdf_fmt(op->physfn, pf));
    }
    if ( op->extfn )
    {
        a->flags |= XEN_PCI_DEV_EXTFN;
        snprintf(what + strlen(what), sizeof(what) - strlen(what), " (extended function)");
    }
    if ( op->pxm >= 0 )
    {
        a->flags |= XEN_PCI_DEV_PXM;
        a->optarr[0] = op->pxm;
        snprintf(what + strlen(what), sizeof(what) - strlen(what), " (PXM %d)", op->pxm);
    }
    r = xencall2(p->xcall, __HYPERVISOR_physdev_op, PHYSDEVOP_pci_device_add,
                 (uint64_t)(uintptr_t)a);
    if ( r < 0 )
        e = errno ? errno : EIO;
    xencall_free_buffer(p->xcall, a);
    if ( e )
    {
        strncat(what, ":", sizeof(what) - strlen(what) - 1);
        return op_error(log, "PHYSDEVOP_pci_device_add", op->sbdf, what, e);
    }
    return 0;
}

static bool stock_noowner(const struct xen_priv *p, pt_sbdf_t sbdf)
{
    for ( size_t i = 0; i < p->nnoowner; i++ )
        if ( p->noowner[i] == sbdf )
            return true;
    return false;
}

static int xen_remove(struct pt_backend *b, pt_sbdf_t sbdf, struct pt_errlog *log)
{
    struct xen_priv *p = b->priv;
    struct physdev_pci_device *d;
    char s[PT_SBDF_STRLEN];
    int r, e = 0;

    /*
     * Not a decision but an interlock: stock 4.17 page-faults in
     * vpci_remove_device() on an owner-less entry and panics (TESTBED.md
     * §3).  The planner never asks for it; refuse if it ever does.
     */
    if ( !p->patched )
    {
        if ( !p->have_view )
        {
            struct pt_xview v = { 0 };
            int rc = read_view_stock(p, NULL, &v, log);

            pt_xview_free(&v);
            if ( rc )
            {
                pt_log(log, PT_SEV_ERROR,
                       "PHYSDEVOP_pci_device_remove %s not issued: cannot see whether Xen has an owner for it",
                       pt_sbdf_fmt(sbdf, s));
                return rc;
            }
        }
        if ( stock_noowner(p, sbdf) )
        {
            pt_log(log, PT_SEV_ERROR,
                   "PHYSDEVOP_pci_device_remove %s refused: Xen has no owner for it (its add failed), and this "
                   "hypervisor (no pcitopod patches) panics in vpci_remove_device() on such a remove",
                   pt_sbdf_fmt(sbdf, s));
            return -EPERM;
        }
    }

    d = xencall_alloc_buffer(p->xcall, sizeof(*d));
    if ( !d )
        return op_error(log, "PHYSDEVOP_pci_device_remove", sbdf,
                        " (allocating the hypercall buffer)", ENOMEM);
    memset(d, 0, sizeof(*d));
    d->seg = PT_SEG(sbdf);
    d->bus = PT_BUS(sbdf);
    d->devfn = PT_DEVFN(sbdf);
    r = xencall2(p->xcall, __HYPERVISOR_physdev_op, PHYSDEVOP_pci_device_remove,
                 (uint64_t)(uintptr_t)d);
    if ( r < 0 )
        e = errno ? errno : EIO;
    xencall_free_buffer(p->xcall, d);
    if ( e == EBUSY )
        /* Patch 0004: the device's MSI/MSI-X interrupts are still set up. */
        return op_error(log, "PHYSDEVOP_pci_device_remove", sbdf,
                        " (Xen refuses while the device's MSI/MSI-X interrupts are set up: unbind its driver first):",
                        e);
    if ( e )
        return op_error(log, "PHYSDEVOP_pci_device_remove", sbdf, ":", e);
    return 0;
}

static int xen_quarantine(struct pt_backend *b, pt_sbdf_t sbdf, struct pt_errlog *log)
{
    struct xen_priv *p = b->priv;

    /* What libxl's pci-assignable-add does (libxl__device_pci_assignable_add()). */
    if ( xc_assign_device(p->xch, DOMID_IO, sbdf, XEN_DOMCTL_DEV_RDM_RELAXED) )
        return op_error(log, "XEN_DOMCTL_assign_device", sbdf,
                        " to DOMID_IO (quarantine):", errno ? errno : EIO);
    return 0;
}

static void xen_close(struct pt_backend *b)
{
    struct xen_priv *p = b->priv;

    if ( p )
    {
        if ( p->xch )
            xc_interface_close(p->xch);
        free(p->noowner);
        free(p);
    }
    free(b);
}

static const struct pt_backend_ops xen_ops = {
    .name = "xen",
    .read_view = xen_read_view,
    .add = xen_add,
    .remove = xen_remove,
    .quarantine = xen_quarantine,
    .commit = NULL,
    .close = xen_close,
};

/* ------------------------------------------------------------------ */
/* open                                                                */
/* ------------------------------------------------------------------ */

/* True when /proc/xen/capabilities exists and does not say control_d. */
static bool known_not_dom0(void)
{
    char buf[256] = "";
    FILE *f = fopen(CAPABILITIES_PATH, "r");
    size_t n;

    if ( !f )
        return false;   /* xenfs not mounted: decide by the hypercall */
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return !strstr(buf, "control_d");
}

int pt_backend_xen_probe(struct pt_errlog *log)
{
    char eb[128];
    int e;

    if ( geteuid() != 0 )
    {
        pt_log(log, PT_SEV_ERROR,
               "the Xen backend needs root (it opens %s and issues sysctl/physdev hypercalls); use --xen-sim FILE otherwise",
               PRIVCMD_PATH);
        return -EPERM;
    }
    if ( access(PRIVCMD_PATH, R_OK | W_OK) )
    {
        e = errno;
        pt_log(log, PT_SEV_ERROR,
               "cannot use %s: %s; not running on Xen, or the xen-privcmd module is not loaded",
               PRIVCMD_PATH, errno_text(e, eb, sizeof(eb)));
        return e == ENOENT ? -ENODEV : -e;
    }
    if ( known_not_dom0() )
    {
        pt_log(log, PT_SEV_ERROR,
               "not running in dom0: %s has no control_d, and only the control domain may read or change Xen's PCI registry",
               CAPABILITIES_PATH);
        return -EPERM;
    }
    return 0;
}

/* Opens the real hypervisor: root, privcmd, dom0, a matching sysctl interface. */
int pt_backend_xen_open(struct pt_backend **out, struct pt_errlog *log)
{
    struct pt_backend *b = NULL;
    struct xen_priv *p = NULL;
    xc_physinfo_t info;
    char eb[128];
    int rc, e;

    *out = NULL;
    rc = pt_backend_xen_probe(log);
    if ( rc )
        return rc;

    b = calloc(1, sizeof(*b));
    p = calloc(1, sizeof(*p));
    if ( !b || !p )
    {
        rc = -ENOMEM;
        goto fail;
    }
    b->ops = &xen_ops;
    b->priv = p;

    p->xch = xc_interface_open(NULL, NULL, 0);
    if ( !p->xch )
    {
        e = errno ? errno : EIO;
        pt_log(log, PT_SEV_ERROR, "xc_interface_open (%s) failed: %s",
               PRIVCMD_PATH, errno_text(e, eb, sizeof(eb)));
        rc = -e;
        goto fail;
    }
    p->xcall = xc_interface_xcall_handle(p->xch);

    /* A sysctl every Xen has: tells dom0 and the interface version apart. */
    if ( xc_physinfo(p->xch, &info) )
    {
        e = errno ? errno : EIO;
        if ( e == EACCES )
            pt_log(log, PT_SEV_ERROR,
                   "XEN_SYSCTL_physinfo refused with EACCES: the hypervisor speaks a different sysctl interface "
                   "version than this libxenctrl (0x%08x); install the tools that match the running Xen",
                   XEN_SYSCTL_INTERFACE_VERSION);
        else if ( e == EPERM )
            pt_log(log, PT_SEV_ERROR,
                   "XEN_SYSCTL_physinfo refused with EPERM: not running in dom0 (the control domain), or XSM denies it");
        else
            pt_log(log, PT_SEV_ERROR, "XEN_SYSCTL_physinfo failed: %s", errno_text(e, eb, sizeof(eb)));
        rc = -e;
        goto fail;
    }

    /* Is the pcitopod sysctl there? */
    rc = pt_xen_sysctl_probe(p->xch);
    if ( !rc )
        p->patched = true;
    else if ( pt_xen_sysctl_unknown(-rc) )
    {
        p->patched = false;
        pt_log(log, PT_SEV_WARN,
               "stock Xen: the hypervisor has no XEN_SYSCTL_pci_topology (%s), so its registry is read "
               "from the 'Q' debug-key dump and XEN_SYSCTL_pcitopoinfo; Xen's device classes, recorded "
               "bridge ranges, VF/physfn and extended-function flags, phantom strides and the bus2bridge "
               "table cannot be seen and are reported as unverified",
               errno_text(-rc, eb, sizeof(eb)));
        rc = 0;
    }
    else
    {
        if ( rc == -EACCES )
            pt_log(log, PT_SEV_ERROR,
                   "XEN_SYSCTL_pci_topology refused with EACCES: the XSM/flask policy denies it to this domain "
                   "(grant it: allow dom0_t xen_t:xen2 pci_topology)");
        else
            pt_log(log, PT_SEV_ERROR, "XEN_SYSCTL_pci_topology failed: %s",
                   errno_text(-rc, eb, sizeof(eb)));
        goto fail;
    }

    *out = b;
    return 0;

 fail:
    if ( b )
        xen_close(b);
    else
        free(p);
    return rc;
}
