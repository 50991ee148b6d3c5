/*
 * pcitopod.h - the daemon and CLI: options, the command table, and the
 * adapters' prototypes.  Everything that decides lives in libpcitopo.
 */
#ifndef PCITOPOD_H
#define PCITOPOD_H

#include <stdbool.h>

#include "backend.h"

/* Exit statuses shared by check, plan, apply (and xl pci-topology-check). */
#define PT_EXIT_CONSISTENT   0
#define PT_EXIT_INCONSISTENT 1
#define PT_EXIT_ERROR        2
#define PT_EXIT_UNVERIFIED   3  /* nothing wrong seen, but stock Xen hides part of its view */
/* check, plan: Xen differs only where pcitopod leaves it alone (blocked, cannot repair) */
#define PT_EXIT_BLOCKED      4

/* `pcitopod status` (like `systemctl is-active`: 0 only when all is well). */
#define PT_STATUS_OK           0  /* running; its last pass left Xen consistent */
#define PT_STATUS_INCONSISTENT 1  /* running; its last pass left differences */
#define PT_STATUS_FAILED       2  /* running; its last pass failed (also: status itself failed) */
#define PT_STATUS_STALE        3  /* not running: the status file's daemon is gone */
#define PT_STATUS_NEVER_RAN    4  /* not running, no status file: not run since boot */
#define PT_STATUS_STARTING     5  /* running, no pass finished yet */

struct pt_options {
    const char *sysfs_root;     /* --sysfs-root, default "/sys" */
    const char *xen_sim;        /* --xen-sim FILE, NULL: the real hypervisor */
    bool json;                  /* --json */
    bool dry_run;               /* --dry-run */
    bool quiet;                 /* -q */
    int verbose;                /* -v (repeatable) */
    struct pt_policy policy;    /* --requarantine */
    bool force;                 /* --force: act on a scan the view guard refuses */
    unsigned max_lost_pct;      /* --max-lost-percent N, default PT_MAX_LOST_PCT_DEFAULT */
    bool max_lost_given;        /* --max-lost-percent was given (run: over the config file) */
    /* run (and status): the daemon's options; NULL when not given (the config file decides). */
    const char *config;         /* --config FILE (must exist); NULL: SYSCONFDIR/pcitopod.conf if present */
    const char *status_file;    /* --status-file FILE, NULL: RUNSTATEDIR/pcitopod/status.json */
    const char *settle_ms;      /* --settle-ms N (validated by pt_cmd_run) */
    const char *max_delay_ms;   /* --max-delay-ms N */
    const char *resync_minutes; /* --resync-minutes N (0: off) */
    const char *lock_file;      /* --lock-file FILE, NULL: RUNSTATEDIR/pcitopod/lock */
    const char *lock_timeout;   /* --lock-timeout SECS (apply), NULL: 30 */
    const char *sim_fail_op;    /* --sim-fail-op K:ERRNO (testing, with --xen-sim) */
};

/* The options a command takes (struct pt_command's opts); -h is always taken. */
enum {
    PT_OPT_SYSFS = 1u << 0, PT_OPT_SIM = 1u << 1, PT_OPT_JSON = 1u << 2,
    PT_OPT_DRY = 1u << 3, PT_OPT_REQ = 1u << 4, PT_OPT_CONFIG = 1u << 5,
    PT_OPT_STATUS_FILE = 1u << 6, PT_OPT_SETTLE = 1u << 7, PT_OPT_MAX_DELAY = 1u << 8,
    PT_OPT_RESYNC = 1u << 9, PT_OPT_LOCK_FILE = 1u << 10, PT_OPT_LOCK_TIMEOUT = 1u << 11,
    PT_OPT_SIM_FAIL = 1u << 12, PT_OPT_FORCE = 1u << 13, PT_OPT_MAX_LOST = 1u << 14,
    PT_OPT_QUIET = 1u << 15, PT_OPT_VERBOSE = 1u << 16,
};

struct pt_command {
    const char *name;
    int (*run)(const struct pt_options *o);
    unsigned opts;              /* PT_OPT_*: every option it takes (others are refused) */
    const char *summary;        /* one line for `pcitopod help` */
    const char *help;           /* paragraphs ('\n' between them), the exit statuses last */
};

extern const struct pt_command pt_commands[];

/* Subcommands (cli.c). */
int pt_cmd_check(const struct pt_options *o);
int pt_cmd_plan(const struct pt_options *o);
int pt_cmd_apply(const struct pt_options *o);
int pt_cmd_xen_view(const struct pt_options *o);
/* `pcitopod status` (status_cmd.c). */
int pt_cmd_status(const struct pt_options *o);
/* `pcitopod run`: the daemon (daemon.c; pass.c has a stub when built without libsystemd). */
int pt_cmd_run(const struct pt_options *o);

/*
 * Executes a plan through a backend: a failed operation stops only the
 * operations that depend on it (pt_run_plan()).  Returns 0 or the first
 * failure's negative errno (every message, naming device and op, in log).
 */
int pt_apply_plan(struct pt_backend *b, const struct pt_plan *plan, const struct pt_topo *dom0,
                  const struct pt_xview *before, struct pt_run *run, struct pt_errlog *log);

/*
 * The lock of DESIGN §4.7 (file NULL: RUNSTATEDIR/pcitopod/lock): its fd held
 * exclusively, or -errno.  Waits at most timeout_ms (0: one try); when it
 * is still held then, *busy is set and -EWOULDBLOCK returned, the message
 * naming the file and, from /proc/locks, the holder.
 */
int pt_lock_exclusive(const char *file, int timeout_ms, bool *busy, struct pt_errlog *log);
void pt_unlock(int fd);

#endif
