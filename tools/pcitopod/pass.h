/*
 * pass.h - the daemon's adapters: one pass (pass.c, shared with
 * `pcitopod apply`), the uevent watch (sysfs_watch.c), logging to the
 * journal or stderr (journal.c) and the loop (daemon.c).
 */
#ifndef PCITOPOD_PASS_H
#define PCITOPOD_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "pcitopod.h"
#include "daemon.h"

/* ------------------------------------------------------------------ */
/* One pass                                                            */
/* ------------------------------------------------------------------ */

struct pt_pass_opts {
    const char *sysfs_root;     /* "/sys" */
    const char *xen_sim;        /* simulator state file, NULL: the hypervisor */
    bool dry_run;               /* plan only, never apply */
    bool lock;                  /* hold RUNSTATEDIR/pcitopod/lock exclusively for the pass */
    bool stock_report_only;     /* stock_mode = report: never apply when the view source is stock */
    struct pt_policy policy;
    const char *lock_file;      /* NULL: RUNSTATEDIR/pcitopod/lock */
    int lock_timeout_ms;        /* how long to wait for the lock; 0: try once */
    unsigned long fail_op;      /* test seam (--sim-fail-op): this operation fails ... */
    int fail_errno;             /* ... with this errno */
    unsigned max_lost_pct;      /* the view guard's limit (pt_view_judge) */
    bool force;                 /* apply on a view the guard finds implausible */
    const char *override_hint;  /* how to override the guard, for its message */
};

/* What one pass saw and did.  Zero it (or let pt_pass_run do it) before use. */
struct pt_pass {
    struct pt_errlog log;       /* the core's and the backend's messages, in order */
    bool have_view;             /* Xen's view was read: source and hv are valid */
    enum pt_view_source source;
    enum pt_hv_model hv;
    bool scan_incomplete;       /* some device could not be read: never applied */
    bool implausible;           /* the view guard refused the scan (not forced): never applied */
    bool have_before;
    struct pt_report before;    /* the diff before applying */
    bool have_plan;
    struct pt_plan plan;
    const char *held_back;      /* why a non-empty plan was not applied, NULL if applied */
    bool applied;               /* the plan was issued (maybe partly) */
    size_t done;                /* operations that succeeded */
    struct pt_run run;          /* what became of each operation of the plan */
    size_t restored;            /* devices re-added after a failure left them out */
    size_t stranded;            /* devices Xen had before, dom0 has, Xen lacks after: the invariant broken */
    bool unsaved;               /* the backend's commit failed (the simulator's state file): the after view is a model nobody saved */
    bool lock_busy;             /* the lock was held by someone else for the whole wait */
    int err;                    /* the first error, negative errno; 0 if none */
    char *error;                /* that error for people (the first PT_SEV_ERROR message) */
    bool have_after;
    struct pt_report after;     /* the diff after applying, read back from Xen */
    enum pt_pass_result_kind result;
    bool failed;                /* worth a retry: an error, or still inconsistent after applying */
    unsigned xen_reads;         /* reads of Xen's registry (stock: each a 'Q' dump on its console) */
    bool have_dom0;             /* dom0 was scanned: dom0_fingerprint is valid */
    unsigned long long dom0_fingerprint; /* pt_topo_fingerprint() of that scan */
};

/*
 * A hash of what the diff reads of dom0's topology (devices, paths, types,
 * IDs, bridge ranges, VF and extended-function links, drivers, unreadable
 * devices): equal fingerprints, the same topology.
 */
unsigned long long pt_topo_fingerprint(const struct pt_topo *t);

/*
 * The "see" step every command shares: scans sysfs_root into topo, opens
 * the backend (the simulator with its state in xen_sim, else the
 * hypervisor) into *b and reads Xen's view into view.  *incomplete: some
 * device could not be read.  -errno with the reason logged; the caller
 * frees what was filled (pt_topo_free, pt_backend_close, pt_xview_free).
 */
int pt_views_read(const char *sysfs_root, const char *xen_sim, struct pt_topo *topo,
                  struct pt_backend **b, struct pt_xview *view, bool *incomplete,
                  struct pt_errlog *log);

/*
 * The view guard on what pt_views_read() read (pt_view_judge): true when
 * anything may be removed on it.  Else false, with an error saying why and
 * how to override (override, e.g. "rerun with --force"); with force, true
 * and a warning instead.
 */
bool pt_views_plausible(const char *sysfs_root, const struct pt_topo *topo,
                        const struct pt_xview *view, unsigned max_lost_pct, bool force,
                        const char *override, struct pt_errlog *log);

/*
 * Runs one full pass: lock (waiting at most lock_timeout_ms), scan sysfs,
 * read Xen's view, diff, plan, apply (unless dry-run, stock report-only, an
 * incomplete scan or one the view guard refuses; a failed operation stops
 * only what depends on it), after a failure add back what Xen had and
 * lacks now (pt_plan_restore() on a fresh scan), commit, read Xen's view
 * again, diff and name any device left unregistered (pt_stranded()),
 * unlock.  Always fills *p (free it with pt_pass_free); returns p->err.
 */
int pt_pass_run(const struct pt_pass_opts *o, struct pt_pass *p);
/* The report that describes Xen now: the one after applying, else the one before; NULL if none. */
const struct pt_report *pt_pass_report(const struct pt_pass *p);
/* Frees everything the pass owns. */
void pt_pass_free(struct pt_pass *p);

/* ------------------------------------------------------------------ */
/* Logging: the journal under systemd, stderr otherwise (journal.c)    */
/* ------------------------------------------------------------------ */

/* Picks the journal when stderr is the journal stream (JOURNAL_STREAM), else stderr; min: least severe level logged. */
void pt_jlog_init(enum pt_severity min);
/* True when messages go to the journal. */
bool pt_jlog_journal(void);
/* Logs at a syslog priority (LOG_ERR...); msgid, sbdf (NULL: none), path and kind are optional fields. */
void pt_jlog(int prio, const char *msgid, const pt_sbdf_t *sbdf, const char *path,
             const char *kind, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Forwards the core's messages at their severities. */
void pt_jlog_errlog(const struct pt_errlog *log);
/*
 * Logs a finished pass: findings (quietly when repeat: the same findings as
 * the previous pass), each operation done, and the outcome.  A consistent
 * pass that did nothing logs at debug only.
 */
void pt_jlog_pass(const struct pt_pass *p, unsigned long n, enum pt_trigger why, bool repeat,
                  double retry_s);

/* ------------------------------------------------------------------ */
/* The uevent watch (sysfs_watch.c) and the daemon (daemon.c)          */
/* ------------------------------------------------------------------ */

#ifdef HAVE_SYSTEMD
#include <systemd/sd-event.h>

struct pt_watch;
/* Called for each relevant uevent; ev == NULL when events were lost (ENOBUFS). */
typedef void (*pt_watch_fn)(void *userdata, const struct pt_uevent *ev);
/* Opens the kernel uevent socket and adds it to e. */
int pt_watch_open(sd_event *e, pt_watch_fn fn, void *userdata, struct pt_watch **out,
                  struct pt_errlog *log);
/* Removes the source and closes the socket; NULL is fine. */
void pt_watch_close(struct pt_watch *w);
#endif

#endif
