/*
 * journal.c - the daemon's one way to report (OpenBSD's log.c habit):
 * structured entries in the journal when running under systemd, plain
 * lines on stderr otherwise.
 *
 * "Under systemd" means: stderr is the journal stream systemd gave us.
 * systemd sets JOURNAL_STREAM=DEV:INODE for a service whose stderr is
 * connected to journald; if stderr's device and inode match, the entries
 * go to sd_journal_sendv() with fields (MESSAGE_ID, PCITOPOD_SBDF,
 * PCITOPOD_PATH, PCITOPOD_KIND), else to stderr (a terminal, the testbed's
 * initramfs console, a redirection).
 *
 * Every MESSAGE_ID below is listed in pcitopod.conf(5); they never change.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "pass.h"

/* One per finding kind, in enum pt_finding_kind order. */
static const char *const finding_ids[PT_FIND__COUNT] = {
    [PT_FIND_MISSING]    = "b160381f243246e0ae4fc8e81a0ba1b6",
    [PT_FIND_STALE]      = "61fac9169b8143ee8a4b5d1b95a5d3d4",
    [PT_FIND_MISMATCH]   = "aee0dbc63a4543cba16c6e8ce96cfab0",
    [PT_FIND_BUS2BRIDGE] = "0be44c14e7984dc993d2a2d6fe43e350",
    [PT_FIND_CYCLE]      = "e1fcf489322d43869509467b6fd41723",
    [PT_FIND_BLOCKED]    = "b804b03cad5048f1bcf9808505241d0f",
};
#define MSGID_REPAIR      "f2b2a1a2a3654278a313709342f5b843"
#define MSGID_PASS_FAILED "18b39279865e4371837e6ce881e158c5"
#define MSGID_PASS_DONE   "09cf556141754bbb8cf2b7ae4e27beab"

static bool to_journal;
static int max_prio = LOG_INFO;

static int sev_prio(enum pt_severity s)
{
    switch ( s )
    {
    case PT_SEV_DEBUG: return LOG_DEBUG;
    case PT_SEV_INFO:  return LOG_INFO;
    case PT_SEV_WARN:  return LOG_WARNING;
    default:           return LOG_ERR;
    }
}

/* True when JOURNAL_STREAM names our stderr (systemd.exec(5)). */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if ( !js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 )
        return false;
    if ( fstat(STDERR_FILENO, &st) < 0 )
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pt_jlog_init(enum pt_severity min)
{
    to_journal = stderr_is_journal();
    max_prio = sev_prio(min);
}

bool pt_jlog_journal(void)
{
    return to_journal;
}

static const char *prio_name(int prio)
{
    switch ( prio )
    {
    case LOG_DEBUG:   return "debug";
    case LOG_INFO:    return "info";
    case LOG_NOTICE:  return "notice";
    case LOG_WARNING: return "warning";
    default:          return "error";
    }
}

static void vlog(int prio, const char *msgid, const pt_sbdf_t *sbdf, const char *path,
                 const char *kind, const char *fmt, va_list ap)
{
    char *msg = NULL;

    if ( prio > max_prio )
        return;
    if ( vasprintf(&msg, fmt, ap) < 0 )
        return;
    if ( to_journal )
    {
        char *f[7] = { NULL };
        struct iovec iov[7];
        char sb[PT_SBDF_STRLEN];
        int n = 0, ok = 1;

        ok &= asprintf(&f[n++], "MESSAGE=%s", msg) >= 0;
        ok &= asprintf(&f[n++], "PRIORITY=%d", prio) >= 0;
        ok &= asprintf(&f[n++], "SYSLOG_IDENTIFIER=pcitopod") >= 0;
        if ( msgid )
            ok &= asprintf(&f[n++], "MESSAGE_ID=%s", msgid) >= 0;
        if ( sbdf )
            ok &= asprintf(&f[n++], "PCITOPOD_SBDF=%s", pt_sbdf_fmt(*sbdf, sb)) >= 0;
        if ( path )
            ok &= asprintf(&f[n++], "PCITOPOD_PATH=%s", path) >= 0;
        if ( kind )
            ok &= asprintf(&f[n++], "PCITOPOD_KIND=%s", kind) >= 0;
        for ( int i = 0; i < n; i++ )
            iov[i] = (struct iovec){ .iov_base = f[i], .iov_len = f[i] ? strlen(f[i]) : 0 };
        /* If journald is gone, say it on stderr rather than lose it. */
        if ( !ok || sd_journal_sendv(iov, n) < 0 )
            fprintf(stderr, "pcitopod: %s: %s\n", prio_name(prio), msg);
        for ( int i = 0; i < n; i++ )
            free(f[i]);
    }
    else
        fprintf(stderr, "pcitopod: %s: %s\n", prio_name(prio), msg);
    free(msg);
}

void pt_jlog(int prio, const char *msgid, const pt_sbdf_t *sbdf, const char *path,
             const char *kind, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(prio, msgid, sbdf, path, kind, fmt, ap);
    va_end(ap);
}

void pt_jlog_errlog(const struct pt_errlog *log)
{
    for ( size_t i = 0; i < log->n; i++ )
        pt_jlog(sev_prio(log->msgs[i].sev), NULL, NULL, NULL, NULL, "%s", log->msgs[i].text);
}

/* Warnings of the previous pass (hashes), to say a standing condition only once. */
#define SEEN_MAX 64
static unsigned long long seen[SEEN_MAX];
static size_t nseen;

static unsigned long long text_hash(const char *t)
{
    unsigned long long h = 1469598103934665603ULL;

    for ( ; *t; t++ )
        h = (h ^ (unsigned char)*t) * 1099511628211ULL;
    return h;
}

/*
 * Like pt_jlog_errlog, but an info or warning message that the previous
 * pass logged too ("stock Xen: ... reported as unverified" on every pass)
 * goes out at debug level.  Errors are always logged.
 */
static void errlog_quiet_repeats(const struct pt_errlog *log)
{
    unsigned long long now[SEEN_MAX];
    size_t nnow = 0;

    for ( size_t i = 0; i < log->n; i++ )
    {
        const struct pt_msg *m = &log->msgs[i];
        int prio = sev_prio(m->sev);

        if ( m->sev == PT_SEV_INFO || m->sev == PT_SEV_WARN )
        {
            unsigned long long h = text_hash(m->text);

            for ( size_t j = 0; j < nseen; j++ )
                if ( seen[j] == h )
                {
                    prio = LOG_DEBUG;
                    break;
                }
            if ( nnow < SEEN_MAX )
                now[nnow++] = h;
        }
        pt_jlog(prio, NULL, NULL, NULL, NULL, "%s", m->text);
    }
    memcpy(seen, now, nnow * sizeof(now[0]));
    nseen = nnow;
}

static const char *op_verb(enum pt_op_kind k)
{
    return k == PT_OP_REMOVE ? "removed" : k == PT_OP_ADD ? "added" : "quarantined";
}

void pt_jlog_pass(const struct pt_pass *p, unsigned long n, enum pt_trigger why, bool repeat,
                  double retry_s)
{
    const struct pt_report *now = pt_pass_report(p);
    size_t nfind = p->have_before ? pt_report_inconsistent(&p->before) : 0;
    size_t left = now ? pt_report_inconsistent(now) : 0;
    bool quiet = p->result == PT_RESULT_CONSISTENT && !nfind && !p->done;

    errlog_quiet_repeats(&p->log);
    /* Findings: warnings the first time they are seen, debug while they persist unchanged. */
    for ( size_t i = 0; p->have_before && i < p->before.n; i++ )
    {
        const struct pt_finding *f = &p->before.f[i];

        pt_jlog(repeat ? LOG_DEBUG : LOG_WARNING, finding_ids[f->kind], &f->sbdf, f->path,
                pt_finding_kind_name(f->kind), "%s: %s", pt_finding_kind_name(f->kind), f->detail);
    }
    for ( size_t i = 0; i < p->run.n; i++ )
    {
        const struct pt_op *op = &p->plan.ops[i];

        if ( p->run.out[i].state != PT_OPST_DONE )
            continue;
        char sb[PT_SBDF_STRLEN];

        pt_jlog(LOG_NOTICE, MSGID_REPAIR, &op->sbdf, NULL, pt_finding_kind_name(op->reason),
                "repair: %s %s %s Xen's PCI registry (%s)", op_verb(op->op),
                pt_sbdf_fmt(op->sbdf, sb), op->op == PT_OP_REMOVE ? "from" : "to",
                op->why ? op->why : pt_finding_kind_name(op->reason));
    }
    if ( p->result == PT_RESULT_DRY_RUN )
        for ( size_t i = 0; i < p->plan.n; i++ )
        {
            char sb[PT_SBDF_STRLEN];

            pt_jlog(repeat ? LOG_DEBUG : LOG_INFO, NULL, &p->plan.ops[i].sbdf, NULL, NULL,
                    "dry run: would %s %s (%s)",
                    p->plan.ops[i].op == PT_OP_REMOVE ? "remove" : p->plan.ops[i].op == PT_OP_ADD ? "add" : "quarantine",
                    pt_sbdf_fmt(p->plan.ops[i].sbdf, sb),
                    p->plan.ops[i].why ? p->plan.ops[i].why : "");
        }

    if ( p->result == PT_RESULT_ERROR )
    {
        pt_jlog(LOG_ERR, MSGID_PASS_FAILED, NULL, NULL, NULL,
                "pass %lu (%s) failed: %s; %zu of %zu operations applied; retrying in %.0f s",
                n, pt_trigger_name(why), p->error ? p->error : "unknown error", p->done,
                p->have_plan ? p->plan.n : 0, retry_s);
        return;
    }
    pt_jlog(quiet || (repeat && !p->done) ? LOG_DEBUG : LOG_INFO, MSGID_PASS_DONE, NULL, NULL, NULL,
            "pass %lu (%s): %s; %zu finding%s, %zu of %zu operation%s applied%s%s, %zu left%s",
            n, pt_trigger_name(why), pt_result_name(p->result), nfind, nfind == 1 ? "" : "s",
            p->done, p->have_plan ? p->plan.n : 0, p->have_plan && p->plan.n == 1 ? "" : "s",
            p->held_back ? ", held back: " : "", p->held_back ? p->held_back : "", left,
            p->failed ? "; retrying" : "");
}
