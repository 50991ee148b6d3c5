/*
 * daemon.h - the pure pieces of `pcitopod run`: the pass scheduler
 * (coalescing, resync, retry with back-off), the configuration file, the
 * kernel uevent parser and the status document.  Like the rest of
 * libpcitopo: no systemd, no Xen, no clock reads, no exit().
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PCITOPO_DAEMON_H
#define PCITOPO_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcitopo.h"

/* ------------------------------------------------------------------ */
/* The scheduler: when is the next pass due, and why                   */
/* ------------------------------------------------------------------ */

#define PT_USEC_PER_MSEC 1000ULL
#define PT_USEC_PER_SEC  1000000ULL
#define PT_SCHED_IDLE    UINT64_MAX     /* pt_sched_next(): nothing is due */

/* What made a pass due (the status document's "trigger"). */
enum pt_trigger {
    PT_TRIG_STARTUP,
    PT_TRIG_UEVENT,
    PT_TRIG_SIGHUP,
    PT_TRIG_RESYNC,
    PT_TRIG_RETRY,
    PT_TRIG_OVERFLOW,
    PT_TRIG__COUNT
};

struct pt_sched_conf {
    uint64_t settle_usec;       /* quiet time after the last event of a batch */
    uint64_t max_delay_usec;    /* longest wait after the first event of a batch */
    uint64_t resync_usec;       /* periodic pass after the last one; 0 = off */
    uint64_t retry_min_usec;    /* first back-off after a failed pass */
    uint64_t retry_max_usec;    /* back-off ceiling */
    uint64_t lock_retry_usec;   /* a pass postponed by a held lock is tried again after this (0: 500 ms) */
};

/* All times are CLOCK_MONOTONIC microseconds passed in by the caller. */
struct pt_sched {
    struct pt_sched_conf conf;
    bool running;               /* between pass_begin and pass_end */
    bool startup;               /* the start-up pass is pending */
    bool sighup;                /* a SIGHUP is pending */
    bool batch;                 /* events are pending */
    bool overflow;              /* the pending batch includes lost events */
    uint64_t first_event, last_event;   /* of the pending batch */
    unsigned long batch_events; /* events in the pending batch */
    bool retry;                 /* a retry is pending at retry_at */
    uint64_t retry_at;
    uint64_t backoff;           /* the next retry's delay; 0 after a success */
    unsigned failures;          /* consecutive failed passes */
    uint64_t resync_at;         /* next periodic pass; PT_SCHED_IDLE when off */
    bool lock_wait;             /* a pass was postponed: the lock is held elsewhere */
    enum pt_trigger lock_trigger;   /* what made the postponed pass due */
    uint64_t lock_retry_at;     /* when to try the lock again */
    uint64_t lock_wait_since;   /* the first postponement of this wait */
};

/* The name of a trigger ("startup", "uevent", ...). */
const char *pt_trigger_name(enum pt_trigger t);
/* Starts the scheduler at now with the start-up pass due at once. */
void pt_sched_init(struct pt_sched *s, const struct pt_sched_conf *conf, uint64_t now);
/* A relevant uevent arrived at now: starts or extends the pending batch. */
void pt_sched_event(struct pt_sched *s, uint64_t now);
/* Events were lost (ENOBUFS) at now: a full pass after the settle window, trigger overflow. */
void pt_sched_overflow(struct pt_sched *s, uint64_t now);
/* SIGHUP at now: a pass is due at once. */
void pt_sched_sighup(struct pt_sched *s, uint64_t now);
/* The periodic pass due at now is not run (nothing to look at): the next one after resync_usec. */
void pt_sched_resync_skipped(struct pt_sched *s, uint64_t now);
/* The time the next pass is due (may be <= now), or PT_SCHED_IDLE; PT_SCHED_IDLE while a pass runs. */
uint64_t pt_sched_next(const struct pt_sched *s);
/* True when a pass is due at now (and none is running); *why = its trigger (may be NULL). */
bool pt_sched_due(const struct pt_sched *s, uint64_t now, enum pt_trigger *why);
/* A pass starts at now: consumes every pending trigger; returns the one that made it due. */
enum pt_trigger pt_sched_pass_begin(struct pt_sched *s, uint64_t now);
/* The pass ended at now; failed arms a retry with exponential back-off, success resets it. */
void pt_sched_pass_end(struct pt_sched *s, uint64_t now, bool failed);
/*
 * The pass begun at now could not start because the lock is held elsewhere:
 * nothing of it ran, so what made it due (why) stays due, tried again at
 * now + lock_retry_usec, or at once on a SIGHUP; the loop never blocks on
 * the lock.  Returns true for the first postponement of a wait (log it once).
 */
bool pt_sched_pass_postponed(struct pt_sched *s, uint64_t now, enum pt_trigger why);

/* ------------------------------------------------------------------ */
/* /etc/pcitopod.conf                                                  */
/* ------------------------------------------------------------------ */

/* What to do on a hypervisor without XEN_SYSCTL_pci_topology. */
enum pt_stock_mode {
    PT_STOCK_REPAIR,            /* apply what stock Xen allows */
    PT_STOCK_REPORT,            /* never apply there: report only */
};

struct pt_daemon_conf {
    unsigned settle_ms;         /* settle_ms, default 500 */
    unsigned max_delay_ms;      /* max_delay_ms, default 5000 */
    unsigned resync_minutes;    /* resync_minutes, default 10, 0 = off */
    unsigned retry_max_s;       /* retry_max_s, default 300 */
    bool dry_run;               /* dry_run, default no */
    bool requarantine;          /* requarantine, default no */
    enum pt_stock_mode stock_mode; /* stock_mode, default repair */
    enum pt_severity log_level; /* log_level, default info */
    unsigned max_lost_percent;  /* max_lost_percent, default PT_MAX_LOST_PCT_DEFAULT (the view guard) */
    unsigned stock_dump_min_interval_s; /* stock_dump_min_interval_s, default PT_STOCK_DUMP_MIN_INTERVAL_DEFAULT */
};

/* Seconds between two passes that read a stock Xen's registry (each a 'Q' dump). */
#define PT_STOCK_DUMP_MIN_INTERVAL_DEFAULT 60

/* Fills the built-in defaults. */
void pt_conf_defaults(struct pt_daemon_conf *c);
/*
 * Parses the text of a configuration file over *c (keys not set keep their
 * value).  file names the source in messages ("FILE:LINE: problem").
 * -EINVAL at the first bad line (unknown key, bad value, missing '=',
 * repeated key), with the message in log; *c may be partly updated then.
 */
int pt_conf_parse(const char *text, size_t len, const char *file,
                  struct pt_daemon_conf *c, struct pt_errlog *log);
/* Reads and parses file; a missing file is -ENOENT, or 0 (defaults kept) when !must_exist. */
int pt_conf_load(const char *file, bool must_exist, struct pt_daemon_conf *c,
                 struct pt_errlog *log);
/* Checks the values together (max_delay_ms >= settle_ms, ...); -EINVAL with a message naming origin. */
int pt_conf_check(const struct pt_daemon_conf *c, const char *origin, struct pt_errlog *log);
/* The scheduler's settings for a configuration. */
void pt_conf_sched(const struct pt_daemon_conf *c, struct pt_sched_conf *out);
/* "repair" or "report". */
const char *pt_stock_mode_name(enum pt_stock_mode m);
/* "debug", "info", "warning", "error". */
const char *pt_severity_name(enum pt_severity s);

/* ------------------------------------------------------------------ */
/* Kernel uevents (NETLINK_KOBJECT_UEVENT, group 1)                    */
/* ------------------------------------------------------------------ */

/* One message; the pointers point into the caller's buffer. */
struct pt_uevent {
    const char *action;         /* "add", "remove", "bind", "unbind", "change", ... */
    const char *devpath;        /* "/devices/pci0000:00/0000:00:1c.0" */
    const char *subsystem;      /* "pci", "pci_bus", ...; NULL when absent */
    const char *slot_name;      /* PCI_SLOT_NAME, NULL when absent */
    const char *driver;         /* DRIVER, NULL when absent */
    unsigned long long seqnum;  /* SEQNUM, 0 when absent */
};

/*
 * Parses a kernel uevent "ACTION@DEVPATH\0KEY=VALUE\0..." of len bytes.
 * -EPROTO for a udev (libudev) message or anything that is not a kernel
 * uevent header; -EINVAL for a malformed one (no NUL at the end, ACTION/
 * DEVPATH keys that disagree with the header, a field without '=').
 */
int pt_uevent_parse(const char *buf, size_t len, struct pt_uevent *ev);
/* True for the subsystems whose events can change the PCI topology (pci, pci_bus). */
bool pt_uevent_relevant(const struct pt_uevent *ev);
/*
 * Attaches a socket filter (classic BPF, SO_ATTACH_FILTER) to fd that drops,
 * in the kernel, every uevent whose header is "ACTION@DEVPATH" with a
 * DEVPATH outside /devices/pci* (guests' vifs and vbds, block, net, tty...),
 * so that those never wake the daemon.  A message without an '@' among its
 * first bytes passes (the parser decides).  0 or -errno.
 */
int pt_uevent_filter_attach(int fd);

/* ------------------------------------------------------------------ */
/* Stock Xen courtesy: when a pass may read the registry               */
/* ------------------------------------------------------------------ */

/*
 * On a hypervisor without XEN_SYSCTL_pci_topology every read of its
 * registry sends debug key 'Q': Xen prints every PCI device on its console,
 * which can push real messages out of the console ring.  So the daemon
 * reads it only when needed - the start-up pass, a change in dom0 (a uevent
 * batch, lost events, a retry after a failed pass), a request (SIGHUP) - at
 * most once per min_interval_usec between passes (the start-up pass and a
 * request excepted; a pass's own read-back after applying is part of it);
 * and a periodic pass reads nothing when dom0's PCI topology has not
 * changed since the last pass.
 */
enum pt_stock_verdict {
    PT_STOCK_READ,              /* run the pass */
    PT_STOCK_WAIT,              /* run it at *until: the last dump is too recent */
    PT_STOCK_SKIP,              /* a periodic pass with nothing changed: read nothing */
};

struct pt_stock_state {
    bool stock;                 /* the last pass read a stock registry */
    bool have_dump;             /* a pass has read it */
    uint64_t last_dump;         /* when that pass ended (CLOCK_MONOTONIC usec) */
    uint64_t min_interval_usec; /* stock_dump_min_interval_s */
};

/*
 * The verdict for a pass due at now for why; dom0_changed: a fresh scan of
 * dom0 differs from the last pass's (only looked at for PT_TRIG_RESYNC).
 */
enum pt_stock_verdict pt_stock_decide(const struct pt_stock_state *s, enum pt_trigger why,
                                      uint64_t now, bool dom0_changed, uint64_t *until);

/* ------------------------------------------------------------------ */
/* The status document (pcitopod-status/1)                             */
/* ------------------------------------------------------------------ */

enum pt_pass_result_kind {
    PT_RESULT_CONSISTENT,
    PT_RESULT_INCONSISTENT,
    PT_RESULT_ERROR,
    PT_RESULT_DRY_RUN,
};

/* One pass, as the daemon publishes it (nothing owned). */
struct pt_status {
    long long time;             /* unix seconds */
    long pid;
    unsigned long pass;         /* passes since start, this one included */
    enum pt_trigger trigger;
    enum pt_pass_result_kind result;
    bool have_view;             /* source/hypervisor known */
    enum pt_view_source source;
    enum pt_hv_model hv;
    size_t ops_planned, ops_done;
    const char *error;          /* NULL when none */
    const struct pt_plan *plan; /* blocked devices; may be NULL */
    const struct pt_report *report; /* after the pass; may be NULL */
    bool pending;               /* events arrived since: another pass is due (libxl waits for it) */
};

/* "consistent", "inconsistent", "error", "dry-run". */
const char *pt_result_name(enum pt_pass_result_kind r);
/* The pcitopod-status/1 document; *out malloc'ed, NUL-terminated. */
int pt_status_to_json(const struct pt_status *st, bool pretty, char **out, size_t *outlen);
/* Writes the document to file atomically (pt_write_file_atomic). */
int pt_status_write(const char *file, const struct pt_status *st);
/* Prints a status document for people (f NULL: only validates); -EINVAL with a message in log when it is not one. */
int pt_status_print(const char *json, size_t len, FILE *f, struct pt_errlog *log);

#endif /* PCITOPO_DAEMON_H */
