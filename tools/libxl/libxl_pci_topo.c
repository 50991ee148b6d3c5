/*
 * libxl_pci_topo.c - libxl's PCI topology check (pcitopod, issue #6).
 *
 * No device is handed to a guest while Xen's view of it is wrong: this
 * compares dom0's PCI topology (sysfs) with the hypervisor's PCI registry
 * (XEN_SYSCTL_pci_topology; stock Xen: XEN_SYSCTL_pcitopoinfo) using
 * pcitopod's core library, which decides per device whether it is
 * affected (pcitopo/affects.c).  libxl_pci.c calls
 * libxl__pci_topology_enforce() before binding a device to pciback and
 * before assigning it to a guest.
 *
 * Coordination with the daemon (pcitopod DESIGN §4.7): the check holds
 * /run/pcitopod/lock shared, so it never looks at the registry in the
 * middle of a repair, and waits (bounded) while /run/pcitopod/status.json
 * says a pass is pending.
 *
 * The core's sources are copied into pcitopo/ by pcitopod's
 * scripts/xen-src-build (patches/xen-4.17/0007-*).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */

#include "libxl_osdeps.h" /* must come before any other headers */

#include <sys/file.h>
#include <syslog.h>

#include "libxl_internal.h"

#include "pcitopo/pcitopo.h"
#include "pcitopo/affects.h"
#include "pcitopo/pt_xen_sysctl.h"

#define PCITOPOD_LOCK        "/run/pcitopod/lock"
#define PCITOPOD_STATUS      "/run/pcitopod/status.json"
#define PCITOPO_SYSFS        "/sys"
#define PCITOPO_IDSTORE_LOCK "/var/lib/pcitopod/bdf-identity.lock"
#define TOPO_TIMEOUT_ENV     "LIBXL_PCI_TOPOLOGY_TIMEOUT"
#define TOPO_OVERRIDE_ENV    "LIBXL_PCI_TOPOLOGY_OVERRIDE"
#define TOPO_TIMEOUT_DEFAULT 30 /* seconds */

/* Everything one check reads. */
typedef struct {
    struct pt_topo topo;
    struct pt_xview view;
    struct pt_report rep;
    struct pt_idstore ids;
    bool have_view, have_rep;
} topo_state;

static void topo_state_dispose(topo_state *st)
{
    pt_topo_free(&st->topo);
    if (st->have_view) pt_xview_free(&st->view);
    if (st->have_rep) pt_report_free(&st->rep);
    pt_idstore_free(&st->ids);
}

/* Hands the core's messages to libxl's logger. */
static void forward_log(libxl__gc *gc, const struct pt_errlog *log)
{
    size_t i;

    for (i = 0; i < log->n; i++) {
        switch (log->msgs[i].sev) {
        case PT_SEV_ERROR: LOG(ERROR, "%s", log->msgs[i].text); break;
        case PT_SEV_WARN:  LOG(WARN, "%s", log->msgs[i].text); break;
        case PT_SEV_INFO:  LOG(DEBUG, "%s", log->msgs[i].text); break;
        default:           LOG(DEBUG, "%s", log->msgs[i].text); break;
        }
    }
}

static int topo_timeout(libxl__gc *gc)
{
    const char *s = getenv(TOPO_TIMEOUT_ENV);
    char *end;
    long v;

    if (!s || !*s) return TOPO_TIMEOUT_DEFAULT;
    v = strtol(s, &end, 10);
    if (*end || v < 0 || v > 3600) {
        LOG(WARN, "%s=%s is not a number of seconds (0-3600); using %d",
            TOPO_TIMEOUT_ENV, s, TOPO_TIMEOUT_DEFAULT);
        return TOPO_TIMEOUT_DEFAULT;
    }
    return v;
}

/* pcitopod's last pass, for people (gc). */
static char *daemon_line(libxl__gc *gc)
{
    struct pt_daemon_status st;
    char line[512];
    int r = pt_daemon_status_read(PCITOPOD_STATUS, &st);

    pt_daemon_status_line(&st, r, PCITOPOD_STATUS, line, sizeof(line));
    return GCSPRINTF("%s", line);
}

/*
 * Takes pcitopod's lock shared (fd in *lockfd, -1 when no daemon ever
 * created it), waiting at most the timeout for a repair in progress and,
 * unless no_wait, for a pass the daemon has pending.
 */
static int topo_lock(libxl__gc *gc, bool no_wait, int *lockfd)
{
    int timeout = topo_timeout(gc);
    bool pending_left;
    int r;

    r = pt_lock_shared_wait(PCITOPOD_LOCK, PCITOPOD_STATUS, timeout * 1000,
                            no_wait, lockfd, &pending_left);
    if (r == -ETIMEDOUT) {
        LOG(ERROR, "timed out after %d s waiting for %s: pcitopod is "
            "repairing Xen's PCI registry; try again when it is done "
            "(`pcitopod status`), or raise %s", timeout, PCITOPOD_LOCK,
            TOPO_TIMEOUT_ENV);
        return ERROR_LOCK_FAIL;
    }
    if (r) {
        LOGEV(ERROR, -r, "cannot take pcitopod's lock %s shared", PCITOPOD_LOCK);
        return ERROR_LOCK_FAIL;
    }
    if (*lockfd < 0)
        LOG(DEBUG, "no %s: pcitopod is not running, nothing to wait for",
            PCITOPOD_LOCK);
    if (pending_left)
        LOG(WARN, "pcitopod still has a pass pending after %d s (%s); "
            "checking Xen's view as it is", timeout, daemon_line(gc));
    return 0;
}

static void topo_unlock(int lockfd)
{
    if (lockfd >= 0) close(lockfd);   /* drops the flock */
}

/* Scans dom0, reads Xen's view, diffs, loads the identity store. */
static int topo_read(libxl__gc *gc, topo_state *st)
{
    struct pt_errlog log = { 0 };
    int r, rc;

    r = pt_scan_sysfs(PCITOPO_SYSFS, &st->topo, &log);
    if (r) {
        LOG(ERROR, "cannot scan dom0's PCI devices in %s/bus/pci/devices: %s",
            PCITOPO_SYSFS, strerror(-r));
        rc = ERROR_FAIL;
        goto out;
    }
    r = pt_xen_read_view_sysctl(CTX->xch, &st->topo, &st->view, &log);
    if (r == -ENOSYS) {
        LOG(DEBUG, "the hypervisor has no XEN_SYSCTL_pci_topology: using "
            "XEN_SYSCTL_pcitopoinfo, which shows only which devices Xen knows");
        r = pt_xen_read_view_pcitopoinfo(CTX->xch, &st->topo, &st->view, &log);
    }
    if (r) {
        LOG(ERROR, "cannot read the hypervisor's PCI registry: %s", strerror(-r));
        rc = ERROR_FAIL;
        goto out;
    }
    st->have_view = true;
    r = pt_diff(&st->topo, &st->view, NULL, &st->rep);
    if (r) {
        LOG(ERROR, "comparing dom0's PCI topology with Xen's failed: %s", strerror(-r));
        rc = ERROR_FAIL;
        goto out;
    }
    st->have_rep = true;
    r = pt_idstore_load(PT_IDSTORE_FILE, &st->ids, &log);
    if (r)
        LOG(WARN, "the BDF drift guard is off for this check: %s unusable",
            PT_IDSTORE_FILE);
    rc = 0;

 out:
    forward_log(gc, &log);
    pt_errlog_free(&log);
    return rc;
}

/* Read-modify-write of the identity store under its own lock. */
static int idstore_update(libxl__gc *gc, const struct pt_dev *d, pt_sbdf_t sbdf,
                          const char *why, bool replace)
{
    struct pt_idstore ids = { 0 };
    struct pt_errlog log = { 0 };
    char s[PT_SBDF_STRLEN];
    int fd = -1, r, rc;

    mkdir("/var/lib/pcitopod", 0755);
    fd = open(PCITOPO_IDSTORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX)) {
        LOGE(WARN, "BDF drift guard: cannot lock %s; %s not recorded",
             PCITOPO_IDSTORE_LOCK, pt_sbdf_fmt(sbdf, s));
        rc = ERROR_FAIL;
        goto out;
    }
    r = pt_idstore_load(PT_IDSTORE_FILE, &ids, &log);
    if (r) { rc = ERROR_FAIL; goto out; }
    if (d) {
        if (!replace && pt_idstore_find(&ids, sbdf)) { rc = 0; goto out; }
        r = pt_idstore_record(&ids, d, why, (long long)time(NULL));
    } else {
        r = pt_idstore_forget(&ids, sbdf);
        if (r == -ENOENT) { rc = 0; goto out; }
    }
    if (!r) r = pt_idstore_save(&ids, PT_IDSTORE_FILE, &log);
    if (r) { rc = ERROR_FAIL; goto out; }
    LOG(DEBUG, "BDF drift guard: %s %s (%s)", d ? "recorded" : "forgot",
        pt_sbdf_fmt(sbdf, s), d ? why : "no longer assignable");
    rc = 0;

 out:
    forward_log(gc, &log);
    pt_errlog_free(&log);
    pt_idstore_free(&ids);
    if (fd >= 0) close(fd);
    return rc;
}

/* True when every reason is BDF drift (Xen's view itself is fine). */
static bool only_drift(const struct pt_affect *a)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        if (a->r[i].why != PT_WHY_DRIFT) return false;
    return a->n > 0;
}

static const char *topo_override(libxl__gc *gc)
{
    const char *env = getenv(TOPO_OVERRIDE_ENV);

    if (CTX->pci_topology_override[0]) return CTX->pci_topology_override;
    if (env && *env) return GCSPRINTF("%s=%s", TOPO_OVERRIDE_ENV, env);
    return NULL;
}

int libxl__pci_topology_enforce(libxl__gc *gc, const libxl_device_pci *pci,
                                uint32_t domid, const char *what,
                                const char *record_why, bool record_replace,
                                int *lockfd)
{
    topo_state st;
    struct pt_affect aff;
    pt_sbdf_t sbdf = PT_SBDF(pci->domain, pci->bus, PT_DEVFN_OF(pci->dev, pci->func));
    const char *override = topo_override(gc);
    const struct pt_dev *d;
    char s[PT_SBDF_STRLEN], *text = NULL;
    int r, rc;

    memset(&st, 0, sizeof(st));
    memset(&aff, 0, sizeof(aff));
    *lockfd = -1;
    pt_sbdf_fmt(sbdf, s);

    rc = topo_lock(gc, false, lockfd);
    if (rc) goto out;
    rc = topo_read(gc, &st);
    if (rc) {
        if (override) {
            LOGD(WARN, domid, "PCI topology check of %s could not run; going on "
                 "because of the administrator's override (%s)", s, override);
            rc = 0;
        } else {
            LOGD(ERROR, domid, "cannot %s %s: the PCI topology check could not "
                 "run (see above); set %s=<reason> to go on without it",
                 what, s, TOPO_OVERRIDE_ENV);
        }
        goto out;
    }
    r = pt_device_affected(&st.topo, &st.view, &st.rep, &st.ids, sbdf, &aff);
    if (!r) r = pt_affect_text(&aff, &text);
    if (r) { rc = ERROR_NOMEM; goto out; }

    switch (aff.verdict) {
    case PT_VERDICT_OK:
        LOGD(DEBUG, domid, "PCI topology of %s (path %s) is consistent with Xen's",
             s, aff.path ? aff.path : "?");
        break;
    case PT_VERDICT_UNVERIFIED:
        LOGD(WARN, domid, "PCI topology of %s can only partly be checked:\n%s",
             s, text);
        break;
    default:
        if (override) {
            LOGD(WARN, domid, "PCI topology check OVERRIDDEN (%s): going on to "
                 "%s %s although Xen's view of it is inconsistent:\n%s",
                 override, what, s, text);
            syslog(LOG_WARNING, "libxl: PCI topology check overridden (%s): "
                   "%s %s although Xen's view of it is inconsistent",
                   override, what, s);
            break;
        }
        LOGD(ERROR, domid, "refusing to %s %s: %s:\n%s(to go on anyway: "
             "`xl pci-assignable-add --ignore-topology=REASON`, or "
             "%s=<reason> for xl create / pci-attach)", what, s,
             only_drift(&aff) ? "the BDF names another device than when it "
             "was recorded" : "Xen's view of it is inconsistent with dom0's",
             text, TOPO_OVERRIDE_ENV);
        rc = ERROR_FAIL;
        goto out;
    }

    /* The drift guard remembers what the BDF names now. */
    d = pt_topo_find(&st.topo, sbdf);
    if (record_why && d)
        idstore_update(gc, d, sbdf, record_why, record_replace);
    rc = 0;

 out:
    if (rc) {
        topo_unlock(*lockfd);
        *lockfd = -1;
    }
    free(text);
    pt_affect_free(&aff);
    topo_state_dispose(&st);
    return rc;
}

void libxl__pci_topology_unlock(libxl__gc *gc, int lockfd)
{
    topo_unlock(lockfd);
}

void libxl__pci_topology_forget(libxl__gc *gc, const libxl_device_pci *pci)
{
    idstore_update(gc, NULL, PT_SBDF(pci->domain, pci->bus,
                                     PT_DEVFN_OF(pci->dev, pci->func)),
                   NULL, true);
}

int libxl_pci_topology_override(libxl_ctx *ctx, const char *reason)
{
    GC_INIT(ctx);
    int rc;

    if (!reason) {
        CTX->pci_topology_override[0] = '\0';
        rc = 0;
        goto out;
    }
    if (!*reason) {
        LOG(ERROR, "a PCI topology override needs a reason, for the log");
        rc = ERROR_INVAL;
        goto out;
    }
    snprintf(CTX->pci_topology_override, sizeof(CTX->pci_topology_override),
             "%s", reason);
    LOG(WARN, "PCI topology check overridden by the administrator: %s", reason);
    syslog(LOG_WARNING, "libxl: PCI topology check overridden by the administrator: %s",
           reason);
    rc = 0;

 out:
    GC_FREE;
    return rc;
}

/* ------------------------------------------------------------------ */
/* libxl_pci_topology_check                                            */
/* ------------------------------------------------------------------ */

static libxl_pci_topology_finding_kind finding_kind(enum pt_finding_kind k)
{
    switch (k) {
    case PT_FIND_MISSING:    return LIBXL_PCI_TOPOLOGY_FINDING_KIND_MISSING;
    case PT_FIND_STALE:      return LIBXL_PCI_TOPOLOGY_FINDING_KIND_STALE;
    case PT_FIND_MISMATCH:   return LIBXL_PCI_TOPOLOGY_FINDING_KIND_MISMATCH;
    case PT_FIND_BUS2BRIDGE: return LIBXL_PCI_TOPOLOGY_FINDING_KIND_BUS2BRIDGE;
    case PT_FIND_CYCLE:      return LIBXL_PCI_TOPOLOGY_FINDING_KIND_CYCLE;
    default:                 return LIBXL_PCI_TOPOLOGY_FINDING_KIND_BLOCKED;
    }
}

static libxl_pci_topology_verdict verdict_of(enum pt_verdict v)
{
    switch (v) {
    case PT_VERDICT_OK:         return LIBXL_PCI_TOPOLOGY_VERDICT_CONSISTENT;
    case PT_VERDICT_UNVERIFIED: return LIBXL_PCI_TOPOLOGY_VERDICT_UNVERIFIED;
    default:                    return LIBXL_PCI_TOPOLOGY_VERDICT_INCONSISTENT;
    }
}

static char *sbdf_str(libxl__gc *gc, pt_sbdf_t sbdf)
{
    char s[PT_SBDF_STRLEN];

    return libxl__strdup(NOGC, pt_sbdf_fmt(sbdf, s));
}

static void report_device(libxl__gc *gc, const struct pt_affect *a,
                          libxl_pci_topology_device *out)
{
    size_t i;

    out->sbdf = sbdf_str(gc, a->sbdf);
    out->path = a->path ? libxl__strdup(NOGC, a->path) : NULL;
    out->verdict = verdict_of(a->verdict);
    out->reasons = libxl__calloc(NOGC, a->n + 1, sizeof(char *));
    for (i = 0; i < a->n; i++)
        out->reasons[i] = libxl__strdup(NOGC, a->r[i].text);
}

int libxl_pci_topology_check(libxl_ctx *ctx, const libxl_device_pci *pcis,
                             int num_pcis, unsigned int flags,
                             libxl_pci_topology_report *report)
{
    GC_INIT(ctx);
    topo_state st;
    struct pt_affect aff;
    int lockfd = -1, ndrift = 0, r, rc;
    size_t j, n;
    libxl_pci_topology_verdict worst = LIBXL_PCI_TOPOLOGY_VERDICT_CONSISTENT;

    memset(&st, 0, sizeof(st));
    memset(&aff, 0, sizeof(aff));
    if (num_pcis < 0 || (num_pcis && !pcis)) { rc = ERROR_INVAL; goto out; }

    rc = topo_lock(gc, flags & LIBXL_PCI_TOPOLOGY_CHECK_NO_WAIT, &lockfd);
    if (rc) goto out;
    rc = topo_read(gc, &st);
    if (rc) goto out;

    report->source = libxl__strdup(NOGC, pt_source_name(st.view.source));
    report->daemon = libxl__strdup(NOGC, daemon_line(gc));

    /* Every finding of the diff (the same list as `pcitopod check`)... */
    n = st.rep.n;
    for (j = 0; j < st.ids.n; j++) {
        char *why = NULL;

        r = pt_identity_check(&st.ids.ids[j], &st.topo, &why);
        if (r == 1) ndrift++;
        free(why);
    }
    report->findings = libxl__calloc(NOGC, n + ndrift + 1, sizeof(*report->findings));
    report->num_findings = 0;
    for (j = 0; j < n; j++) {
        const struct pt_finding *f = &st.rep.f[j];
        libxl_pci_topology_finding *o = &report->findings[report->num_findings++];

        libxl_pci_topology_finding_init(o);
        o->kind = finding_kind(f->kind);
        o->sbdf = sbdf_str(gc, f->sbdf);
        o->path = f->path ? libxl__strdup(NOGC, f->path) : NULL;
        o->bus = f->bus;
        o->detail = libxl__strdup(NOGC, f->detail);
    }
    /* ... and every recorded BDF that now names another device. */
    for (j = 0; j < st.ids.n; j++) {
        char *why = NULL;
        libxl_pci_topology_finding *o;

        r = pt_identity_check(&st.ids.ids[j], &st.topo, &why);
        if (r != 1) { free(why); continue; }
        o = &report->findings[report->num_findings++];
        libxl_pci_topology_finding_init(o);
        o->kind = LIBXL_PCI_TOPOLOGY_FINDING_KIND_DRIFT;
        o->sbdf = sbdf_str(gc, st.ids.ids[j].sbdf);
        o->path = st.ids.ids[j].path ? libxl__strdup(NOGC, st.ids.ids[j].path) : NULL;
        o->bus = -1;
        o->detail = libxl__strdup(NOGC, why);
        free(why);
    }

    report->unverified = libxl__calloc(NOGC, st.rep.nunverified + 2, sizeof(char *));
    for (j = 0; j < st.rep.nunverified; j++)
        report->unverified[j] = libxl__strdup(NOGC, st.rep.unverified[j]);
    if (st.view.source == PT_SOURCE_STOCK)
        report->unverified[j] = libxl__strdup(NOGC, "Xen entries dom0 does not have (stale)");

    /* Per device: the ones asked for, or every device that is not consistent. */
    n = num_pcis ? (size_t)num_pcis : st.topo.n;
    report->devices = libxl__calloc(NOGC, n + 1, sizeof(*report->devices));
    report->num_devices = 0;
    for (j = 0; j < n; j++) {
        pt_sbdf_t sbdf = num_pcis ?
            PT_SBDF(pcis[j].domain, pcis[j].bus, PT_DEVFN_OF(pcis[j].dev, pcis[j].func)) :
            st.topo.devs[j].sbdf;
        libxl_pci_topology_device *o;

        r = pt_device_affected(&st.topo, &st.view, &st.rep, &st.ids, sbdf, &aff);
        if (r) { rc = ERROR_NOMEM; goto out; }
        if (num_pcis || aff.verdict != PT_VERDICT_OK) {
            o = &report->devices[report->num_devices++];
            libxl_pci_topology_device_init(o);
            report_device(gc, &aff, o);
            if (o->verdict > worst) worst = o->verdict;
        }
        pt_affect_free(&aff);
    }

    if (!num_pcis) {
        if (pt_report_inconsistent(&st.rep) || ndrift)
            worst = LIBXL_PCI_TOPOLOGY_VERDICT_INCONSISTENT;
        else if (st.rep.nunverified && worst < LIBXL_PCI_TOPOLOGY_VERDICT_UNVERIFIED)
            worst = LIBXL_PCI_TOPOLOGY_VERDICT_UNVERIFIED;
    }
    report->verdict = worst;
    rc = 0;

 out:
    topo_unlock(lockfd);
    pt_affect_free(&aff);
    topo_state_dispose(&st);
    GC_FREE;
    return rc;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
