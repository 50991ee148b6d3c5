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
 * scripts/xen-src-build (patches/xen-4.17/0010-*).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */

#include "libxl_osdeps.h" /* must come before any other headers */

#include <sys/file.h>
#include <syslog.h>

#include <yajl/yajl_tree.h>

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
#define TOPO_POLL_US         100000

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

static uint64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * pcitopod's status file (pcitopod-status/1, written after every pass):
 * *pending when the daemon, still alive ("pid"), says it has a pass due
 * that it has not made yet ("pending": true).  *summary (gc) describes
 * the daemon's last pass for people.
 */
static void read_daemon_status(libxl__gc *gc, bool *pending, char **summary)
{
    char *buf = NULL, err[256], when[64] = "?";
    size_t len = 0;
    yajl_val root = NULL, v;
    static const char *pending_path[] = { "pending", NULL };
    static const char *pid_path[] = { "pid", NULL };
    static const char *time_path[] = { "time", NULL };
    static const char *pass_path[] = { "pass", NULL };
    static const char *trigger_path[] = { "trigger", NULL };
    static const char *result_path[] = { "result", NULL };
    static const char *error_path[] = { "error", NULL };
    const char *trigger = "?", *result = "?", *error = NULL;
    long long pid = 0, pass = 0;
    bool alive;
    time_t t;
    struct tm tm;
    int r;

    *pending = false;
    *summary = NULL;
    r = pt_read_file(PCITOPOD_STATUS, &buf, &len);
    if (r == -ENOENT) {
        *summary = GCSPRINTF("pcitopod: no %s (the daemon has not run since boot)",
                             PCITOPOD_STATUS);
        goto out;
    }
    if (r) {
        *summary = GCSPRINTF("pcitopod: cannot read %s: %s", PCITOPOD_STATUS,
                             strerror(-r));
        goto out;
    }
    root = yajl_tree_parse(buf, err, sizeof(err));
    if (!root || !YAJL_IS_OBJECT(root)) {
        *summary = GCSPRINTF("pcitopod: %s is not a JSON object", PCITOPOD_STATUS);
        goto out;
    }
    v = yajl_tree_get(root, pid_path, yajl_t_number);
    if (v && YAJL_IS_INTEGER(v)) pid = YAJL_GET_INTEGER(v);
    alive = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
    v = yajl_tree_get(root, pending_path, yajl_t_any);
    *pending = v && YAJL_IS_TRUE(v) && alive;
    v = yajl_tree_get(root, time_path, yajl_t_number);
    if (v && YAJL_IS_INTEGER(v)) {
        t = (time_t)YAJL_GET_INTEGER(v);
        if (localtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    }
    v = yajl_tree_get(root, pass_path, yajl_t_number);
    if (v && YAJL_IS_INTEGER(v)) pass = YAJL_GET_INTEGER(v);
    v = yajl_tree_get(root, trigger_path, yajl_t_string);
    if (v) trigger = GCSPRINTF("%s", YAJL_GET_STRING(v));
    v = yajl_tree_get(root, result_path, yajl_t_string);
    if (v) result = GCSPRINTF("%s", YAJL_GET_STRING(v));
    v = yajl_tree_get(root, error_path, yajl_t_string);
    if (v) error = GCSPRINTF("%s", YAJL_GET_STRING(v));
    *summary = GCSPRINTF("pcitopod: %s; last pass #%lld at %s (%s): %s%s%s%s",
                         pid <= 0 ? "pid unknown" :
                         alive ? GCSPRINTF("running as pid %lld", pid) :
                         GCSPRINTF("not running (pid %lld is gone)", pid),
                         pass, when, trigger, result,
                         error ? ", error: " : "", error ? error : "",
                         *pending ? "; a pass is pending" : "");
 out:
    if (root) yajl_tree_free(root);
    free(buf);
}

/*
 * Takes pcitopod's lock shared (fd in *lockfd, -1 when no daemon ever
 * created it), waiting at most the timeout for a repair in progress and,
 * unless no_wait, for a pass the daemon has pending.
 */
static int topo_lock(libxl__gc *gc, bool no_wait, int *lockfd)
{
    int timeout = topo_timeout(gc);
    uint64_t deadline = now_us() + (uint64_t)timeout * 1000000;
    bool pending, warned = false;
    char *summary;
    int fd = -1, r, rc;

    *lockfd = -1;
    fd = open(PCITOPOD_LOCK, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            LOG(DEBUG, "no %s: pcitopod is not running, nothing to wait for",
                PCITOPOD_LOCK);
            rc = 0;
            goto out;
        }
        LOGE(ERROR, "cannot open pcitopod's lock %s", PCITOPOD_LOCK);
        rc = ERROR_LOCK_FAIL;
        goto out;
    }

    for (;;) {
        r = flock(fd, LOCK_SH | LOCK_NB);
        if (r && errno != EWOULDBLOCK && errno != EINTR) {
            LOGE(ERROR, "cannot take pcitopod's lock %s shared", PCITOPOD_LOCK);
            rc = ERROR_LOCK_FAIL;
            goto out;
        }
        if (!r) {
            read_daemon_status(gc, &pending, &summary);
            if (!pending || no_wait) break;
            /* Let the daemon take it exclusively for its pass. */
            flock(fd, LOCK_UN);
            if (now_us() >= deadline) {
                LOG(WARN, "pcitopod still has a pass pending after %d s (%s); "
                    "checking Xen's view as it is", timeout, summary);
                r = flock(fd, LOCK_SH);
                if (r) {
                    LOGE(ERROR, "cannot take pcitopod's lock %s shared", PCITOPOD_LOCK);
                    rc = ERROR_LOCK_FAIL;
                    goto out;
                }
                break;
            }
            if (!warned) {
                LOG(INFO, "waiting up to %d s for pcitopod's pending pass", timeout);
                warned = true;
            }
        } else if (now_us() >= deadline) {
            LOG(ERROR, "timed out after %d s waiting for %s: pcitopod is "
                "repairing Xen's PCI registry; try again when it is done "
                "(`pcitopod status`), or raise %s", timeout, PCITOPOD_LOCK,
                TOPO_TIMEOUT_ENV);
            rc = ERROR_LOCK_FAIL;
            goto out;
        }
        usleep(TOPO_POLL_US);
    }
    *lockfd = fd;
    fd = -1;
    rc = 0;

 out:
    if (fd >= 0) close(fd);
    return rc;
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
    bool pending;
    char *summary;
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
    read_daemon_status(gc, &pending, &summary);
    report->daemon = libxl__strdup(NOGC, summary);

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
