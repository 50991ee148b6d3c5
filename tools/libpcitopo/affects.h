/*
 * affects.h - the per-device verdict of the libxl check: is this device
 * affected by what the diff found, and why (in words a person can act on);
 * plus the BDF identity store of the drift guard (a BDF made assignable, or
 * named in a guest's configuration, must still name the same physical
 * device).  Pure core: no Xen header, tested in tests/test_libxl_logic.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PT_AFFECTS_H
#define PT_AFFECTS_H

#include <stdbool.h>
#include <stddef.h>

#include "pcitopo.h"

/* Why a device is (or may be) inconsistent. */
enum pt_why {
    PT_WHY_ABSENT,          /* no device at that SBDF in dom0 */
    PT_WHY_MISSING,         /* Xen lacks the device */
    PT_WHY_MISMATCH,        /* Xen's entry at its SBDF is another class, range, VF link, or owner-less */
    PT_WHY_UPSTREAM,        /* a bridge on its upstream path is missing or recorded differently */
    PT_WHY_BUS2BRIDGE,      /* its bus (or one on its path) maps to the wrong upstream bridge */
    PT_WHY_CYCLE,           /* the bus2bridge walk from its bus loops */
    PT_WHY_ALIAS,           /* a stale Xen entry aliases its requester ID or claims its buses */
    PT_WHY_DRIFT,           /* the BDF names another physical device than when it was recorded */
    PT_WHY_UNVERIFIED,      /* stock Xen: part of what its DMA depends on cannot be seen */
    PT_WHY__COUNT
};

enum pt_verdict {
    PT_VERDICT_OK,          /* consistent */
    PT_VERDICT_UNVERIFIED,  /* nothing wrong seen, but part of it could not be checked */
    PT_VERDICT_BAD,         /* inconsistent: do not hand it to a guest */
};

struct pt_reason {
    enum pt_why why;
    pt_sbdf_t sbdf;         /* the entry concerned (the device, a bridge, a stale entry) */
    char *text;             /* for people: device, what Xen has, what dom0 has */
};

struct pt_affect {
    pt_sbdf_t sbdf;
    char *path;             /* dom0's physical path, NULL when absent */
    enum pt_verdict verdict;
    struct pt_reason *r;
    size_t n, cap;
};

/* The short name of a reason ("missing", "upstream", "drift" ...). */
const char *pt_why_name(enum pt_why w);
/* "consistent", "unverified", "inconsistent". */
const char *pt_verdict_name(enum pt_verdict v);

/*
 * The decision for one finding: true when finding f (of pt_diff(dom0, xen))
 * makes the dom0 device d inconsistent, with *why the reason kind.
 */
bool pt_finding_affects(const struct pt_topo *dom0, const struct pt_xview *xen,
                        const struct pt_finding *f, const struct pt_dev *d, enum pt_why *why);

/* Forward: the identity store, below. */
struct pt_idstore;

/*
 * The verdict for the device at sbdf: the findings of rep that affect it,
 * its upstream walk in Xen's bus2bridge against dom0's, and (when ids is
 * not NULL) the drift guard.  out is taken as empty; free with
 * pt_affect_free().  -ENOMEM only.
 */
int pt_device_affected(const struct pt_topo *dom0, const struct pt_xview *xen,
                       const struct pt_report *rep, const struct pt_idstore *ids,
                       pt_sbdf_t sbdf, struct pt_affect *out);
/* Frees the reasons and path. */
void pt_affect_free(struct pt_affect *a);
/* Every reason on one line each, "  - TEXT\n", into *out (malloc'ed). */
int pt_affect_text(const struct pt_affect *a, char **out);

/* ------------------------------------------------------------------ */
/* The drift guard's identity store (pcitopod-bdf-identity/1)          */
/* ------------------------------------------------------------------ */

/* Where libxl and pcitopod keep it. */
#define PT_IDSTORE_FILE "/var/lib/pcitopod/bdf-identity.json"

struct pt_identity {
    pt_sbdf_t sbdf;
    char *path;             /* physical path when recorded */
    uint16_t vendor, device;
    uint32_t class;
    char *why;              /* "assignable", "domain 3" ... */
    long long when;         /* seconds since the epoch */
};

struct pt_idstore {
    struct pt_identity *ids;  /* sorted by sbdf */
    size_t n, cap;
};

/* Loads the store; a file that does not exist is an empty store. -EINVAL (message names file and field). */
int pt_idstore_load(const char *file, struct pt_idstore *s, struct pt_errlog *log);
/* Parses a pcitopod-bdf-identity/1 document. */
int pt_idstore_parse(const char *json, size_t len, struct pt_idstore *s, struct pt_errlog *log);
/* Serialises the store; *out malloc'ed. */
int pt_idstore_to_json(const struct pt_idstore *s, char **out, size_t *outlen);
/* Writes the store atomically, creating the directory. */
int pt_idstore_save(const struct pt_idstore *s, const char *file, struct pt_errlog *log);
/* Records (or replaces) what dom0 device d is, as named by its SBDF now. */
int pt_idstore_record(struct pt_idstore *s, const struct pt_dev *d, const char *why, long long when);
/* Forgets an SBDF; -ENOENT when it was not recorded. */
int pt_idstore_forget(struct pt_idstore *s, pt_sbdf_t sbdf);
/* The record of an SBDF, NULL when none. */
const struct pt_identity *pt_idstore_find(const struct pt_idstore *s, pt_sbdf_t sbdf);
/*
 * Compares a record with what its SBDF names in dom0 now: 0 when the same
 * device (path and IDs) is there, 1 when it drifted (*why: malloc'ed text
 * naming both), -ENOMEM.
 */
int pt_identity_check(const struct pt_identity *id, const struct pt_topo *dom0, char **why);
void pt_idstore_free(struct pt_idstore *s);

/* ------------------------------------------------------------------ */
/* Coordination with the daemon (DESIGN §4.7): lock_shared.c                 */
/* ------------------------------------------------------------------ */

/* What a checker needs from the daemon's pcitopod-status/1 document. */
struct pt_daemon_status {
    long long pid;              /* 0 when not given */
    bool alive;                 /* pid names a running process */
    bool pending;               /* "pending": true, the daemon has a pass due */
    long long time;             /* of the last pass, unix seconds; 0 unknown */
    long long pass;             /* its number; 0 unknown */
    char trigger[32], result[32];
    char error[160];            /* "" when none */
};

/* Reads the status file: 0; -ENOENT when absent; -EINVAL when it is not a JSON object. */
int pt_daemon_status_read(const char *file, struct pt_daemon_status *st);
/* One line for people about the daemon, from the result (rc) of pt_daemon_status_read(). */
void pt_daemon_status_line(const struct pt_daemon_status *st, int rc, const char *file,
                           char *buf, size_t len);

/*
 * Takes lock_file shared for a checker.  Waits (polling) at most
 * timeout_ms while the daemon holds it exclusively (a repair): then
 * -ETIMEDOUT.  Unless no_wait, also waits while status_file says a live
 * daemon has a pass pending; when that outlasts the timeout it takes the
 * lock anyway and sets *pending_left.  *fd: the held descriptor (close it
 * to unlock), -1 when lock_file does not exist (no daemon ever ran).
 * Other errors: -errno of open/flock.
 */
int pt_lock_shared_wait(const char *lock_file, const char *status_file, int timeout_ms,
                        bool no_wait, int *fd, bool *pending_left);

#endif /* PT_AFFECTS_H */
