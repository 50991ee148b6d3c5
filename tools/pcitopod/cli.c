/*
 * cli.c - the subcommands: read both views, call the core, print.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pass.h"
#include "pcitopod.h"
#include "daemon.h"

struct session {
    struct pt_topo topo;
    struct pt_xview view;
    struct pt_backend *b;
    struct pt_errlog log;
    bool scan_incomplete;       /* some device could not be read */
    bool implausible;           /* the view guard refused the scan */
};

/* How to override the view guard, for its message. */
#define CLI_OVERRIDE "rerun with --force (or a higher --max-lost-percent)"

/* The scanner's message for a device whose config space is closed to non-root. */
#define SHORT_CONFIG_MSG "only 64 bytes"

/*
 * Prints the messages at the severity -q/-v ask for.  Not root, the one
 * message that matters comes first, once: the kernel shows other users
 * only the first 64 bytes of config space (the scanner names each device:
 * those lines follow with -v only).
 */
static void flush_log(const struct pt_options *o, struct pt_errlog *log)
{
    enum pt_severity min = o->quiet ? PT_SEV_ERROR : o->verbose >= 2 ? PT_SEV_DEBUG
                         : o->verbose ? PT_SEV_INFO : PT_SEV_WARN;
    size_t nshort = 0;

    for ( size_t i = 0; i < log->n; i++ )
        nshort += log->msgs[i].sev == PT_SEV_ERROR && strstr(log->msgs[i].text, SHORT_CONFIG_MSG);
    if ( nshort && geteuid() != 0 )
        fprintf(stderr, "pcitopod: error: not root: the kernel shows other users only the first 64 "
                        "bytes of a device's config space, so dom0's topology cannot be read in "
                        "full; run as root%s\n", o->verbose ? "" : " (-v names each device)");
    for ( size_t i = 0; i < log->n; i++ )
    {
        const struct pt_msg *m = &log->msgs[i];
        struct pt_errlog one = { .msgs = (struct pt_msg *)m, .n = 1 };

        if ( nshort && geteuid() != 0 && !o->verbose && m->sev == PT_SEV_ERROR &&
             (strstr(m->text, SHORT_CONFIG_MSG) || strstr(m->text, "of config readable")) )
            continue;
        pt_errlog_print(&one, stderr, min);
    }
    pt_errlog_free(log);
}

/* -v: what was read, from where. */
static void log_views(const char *sysfs_root, const struct pt_topo *t, const struct pt_xview *v,
                      struct pt_errlog *log)
{
    size_t n = 0;

    for ( size_t i = 0; i < v->nsegs; i++ )
        n += v->segs[i].n;
    pt_log(log, PT_SEV_INFO, "dom0: %zu device%s under %s; Xen: %zu entr%s on %zu segment%s, "
           "read from %s (hypervisor model %s)", t->n, t->n == 1 ? "" : "s", sysfs_root, n,
           n == 1 ? "y" : "ies", v->nsegs, v->nsegs == 1 ? "" : "s", pt_source_name(v->source),
           pt_hv_name(v->hv));
}

static void session_close(const struct pt_options *o, struct session *s)
{
    flush_log(o, &s->log);
    pt_backend_close(s->b);
    pt_topo_free(&s->topo);
    pt_xview_free(&s->view);
}

/* Scans sysfs, opens the backend, reads Xen's view.  -errno with the reason logged. */
static int session_open(const struct pt_options *o, struct session *s)
{
    int rc;

    memset(s, 0, sizeof(*s));
    rc = pt_views_read(o->sysfs_root, o->xen_sim, &s->topo, &s->b, &s->view,
                       &s->scan_incomplete, &s->log);
    if ( !rc )
        log_views(o->sysfs_root, &s->topo, &s->view, &s->log);
    if ( !rc )
        s->implausible = !pt_views_plausible(o->sysfs_root, &s->topo, &s->view, o->max_lost_pct,
                                             o->force, CLI_OVERRIDE, &s->log);
    return rc;
}

/* Prints a JSON document produced by one of the core's *_to_json (rc is its result). */
static int print_json(int rc, char *buf)
{
    if ( rc )
    {
        fprintf(stderr, "pcitopod: cannot produce JSON: %s\n", strerror(-rc));
        return PT_EXIT_ERROR;
    }
    fputs(buf, stdout);
    if ( buf[0] && buf[strlen(buf) - 1] != '\n' )
        fputc('\n', stdout);
    free(buf);
    return 0;
}

/*
 * apply's exit status for the report read back; error: the views were not
 * fully read.  Blocked findings are what apply must leave alone: they do
 * not make an apply fail.
 */
static int report_status(bool error, const struct pt_report *r)
{
    if ( error )
        return PT_EXIT_ERROR;
    if ( pt_report_inconsistent(r) )
        return PT_EXIT_INCONSISTENT;
    return r->nunverified ? PT_EXIT_UNVERIFIED : PT_EXIT_CONSISTENT;
}

/*
 * check's exit status: as apply's, except that a blocked finding (a stale
 * BDF a guest owns, a quarantined device, an MSI user...) is a difference
 * all the same, so monitoring never reads it as OK: PT_EXIT_BLOCKED when
 * nothing else is wrong.
 */
static int check_status(bool error, const struct pt_report *r)
{
    int st = report_status(error, r);

    if ( (st == PT_EXIT_CONSISTENT || st == PT_EXIT_UNVERIFIED) && r->n )
        return PT_EXIT_BLOCKED;
    return st;
}

static int output_report(const struct pt_options *o, const struct pt_report *r)
{
    char *buf = NULL;

    if ( o->quiet )
        return 0;               /* -q: the exit status says it */
    if ( o->json )
    {
        int rc = pt_report_to_json(r, true, &buf, NULL);

        return print_json(rc, buf);
    }
    pt_report_print(r, stdout);
    return 0;
}

static int output_plan(const struct pt_options *o, const struct pt_plan *p)
{
    char *buf = NULL;

    if ( o->quiet )
        return 0;
    if ( o->json )
    {
        int rc = pt_plan_to_json(p, true, &buf, NULL);

        return print_json(rc, buf);
    }
    pt_plan_print(p, stdout);
    return 0;
}

int pt_cmd_check(const struct pt_options *o)
{
    struct session s;
    struct pt_report r = { 0 };
    int rc, status;

    rc = session_open(o, &s);
    if ( !rc )
        rc = pt_check(&s.topo, &s.view, &o->policy, &r, &s.log);
    if ( rc )
    {
        session_close(o, &s);
        return PT_EXIT_ERROR;
    }
    status = output_report(o, &r) ? PT_EXIT_ERROR
             : check_status(s.scan_incomplete || s.implausible, &r);
    pt_report_free(&r);
    session_close(o, &s);
    return status;
}

/*
 * plan's exit status: 1 when there are operations to issue, 4 when there
 * are none but Xen still differs where pcitopod leaves it alone; error:
 * dom0's topology was not fully read.
 */
static int plan_status(bool error, const struct pt_plan *p)
{
    if ( error )
        return PT_EXIT_ERROR;
    if ( p->n )
        return PT_EXIT_INCONSISTENT;
    return p->nblocked || p->nunrep ? PT_EXIT_BLOCKED : PT_EXIT_CONSISTENT;
}

int pt_cmd_plan(const struct pt_options *o)
{
    struct session s;
    struct pt_plan p = { 0 };
    int rc, status;

    rc = session_open(o, &s);
    if ( !rc )
        rc = pt_plan_build(&s.topo, &s.view, &o->policy, &p, &s.log);
    if ( rc )
    {
        session_close(o, &s);
        return PT_EXIT_ERROR;
    }
    status = output_plan(o, &p) ? PT_EXIT_ERROR
             : plan_status(s.scan_incomplete || s.implausible, &p);
    pt_plan_free(&p);
    session_close(o, &s);
    return status;
}

/*
 * {"format":"pcitopod-apply/1","plan":..,"done":N,"failed":N,"skipped":N,
 *  "restored":N,"stranded":N,"error":..,"after":..}
 */
static int output_apply_json(const struct pt_pass *p, const struct pt_report *after)
{
    char *pj = NULL, *rj = NULL;
    int rc = pt_plan_to_json(&p->plan, false, &pj, NULL);
    int err = p->run.failed ? p->run.out[p->run.first_failed].err : p->err;

    if ( !rc && after )
        rc = pt_report_to_json(after, false, &rj, NULL);
    if ( rc )
    {
        free(pj);
        fprintf(stderr, "pcitopod: cannot produce JSON: %s\n", strerror(-rc));
        return PT_EXIT_ERROR;
    }
    printf("{\"format\":\"pcitopod-apply/1\",\"plan\":%s,\"done\":%zu,\"failed\":%zu,"
           "\"skipped\":%zu,\"restored\":%zu,\"stranded\":%zu,\"error\":",
           pj, p->done, p->run.failed, p->run.skipped, p->restored, p->stranded);
    if ( err && p->run.failed )
        printf("{\"op\":%zu,\"errno\":%d,\"message\":\"%s\"}", p->run.first_failed + 1, -err,
               strerror(-err));
    else if ( err )
        /* Not an operation's failure: no op number beyond the plan. */
        printf("{\"op\":null,\"stage\":\"%s\",\"errno\":%d,\"message\":\"%s\"}",
               p->unsaved ? "save" : p->stranded ? "restore" : "read-back", -err, strerror(-err));
    else
        printf("null");
    printf(",\"after\":%s}\n", rj ? rj : "null");
    free(pj);
    free(rj);
    return 0;
}

/* --lock-timeout SECS: whole seconds, 0..86400, into milliseconds. */
static int parse_lock_timeout(const char *val, int *ms)
{
    unsigned x;

    *ms = 30 * 1000;
    if ( !val )
        return 0;
    if ( !pt_parse_uint(val, 0, 86400, &x) )
    {
        fprintf(stderr, "pcitopod: --lock-timeout '%s': expected whole seconds from 0 to 86400\n", val);
        return -EINVAL;
    }
    *ms = (int)x * 1000;
    return 0;
}

/* --sim-fail-op K:ERRNO, ERRNO a name (ENODEV) or a number. */
static int parse_fail_op(const char *val, unsigned long *k, int *e)
{
    char *end;
    const char *colon = val ? strchr(val, ':') : NULL;

    *k = 0;
    *e = 0;
    if ( !val )
        return 0;
    errno = 0;
    *k = strtoul(val, &end, 10);
    if ( !colon || errno || end != colon || val[0] == '-' || *k == 0 )
        goto bad;
    for ( int n = 1; n < 4096 && !*e; n++ )
    {
        const char *name = strerrorname_np(n);

        if ( name && !strcmp(name, colon + 1) )
            *e = n;
    }
    if ( !*e )
    {
        unsigned long n = strtoul(colon + 1, &end, 10);

        if ( !colon[1] || *end || n == 0 || n >= 4096 )
            goto bad;
        *e = (int)n;
    }
    return 0;
 bad:
    fprintf(stderr, "pcitopod: --sim-fail-op '%s': expected K:ERRNO, K the operation from 1, ERRNO a name (ENODEV) or number\n",
            val);
    return -EINVAL;
}

int pt_cmd_apply(const struct pt_options *o)
{
    struct pt_pass_opts po = {
        .sysfs_root = o->sysfs_root, .xen_sim = o->xen_sim, .dry_run = o->dry_run,
        /* The simulator's state file is the caller's; the lock guards the hypervisor. */
        .lock = (!o->xen_sim || o->lock_file) && !o->dry_run, .policy = o->policy,
        .lock_file = o->lock_file,
        .max_lost_pct = o->max_lost_pct, .force = o->force, .override_hint = CLI_OVERRIDE,
    };
    struct pt_pass p;
    const struct pt_report *now;
    bool unsaved;
    int status;

    if ( parse_lock_timeout(o->lock_timeout, &po.lock_timeout_ms) ||
         parse_fail_op(o->sim_fail_op, &po.fail_op, &po.fail_errno) )
        return PT_EXIT_ERROR;
    pt_pass_run(&po, &p);
    if ( p.have_view )
        pt_log(&p.log, PT_SEV_INFO, "Xen's registry read from %s (hypervisor model %s); %zu "
               "operation%s planned, %zu done", pt_source_name(p.source), pt_hv_name(p.hv),
               p.have_plan ? p.plan.n : 0, p.have_plan && p.plan.n == 1 ? "" : "s", p.done);
    flush_log(o, &p.log);
    now = pt_pass_report(&p);
    /*
     * The backend's commit failed (the simulator's state file could not be
     * written): the registry that pt_pass_run() read back is the unsaved
     * model, so it is not shown.
     */
    unsaved = p.unsaved;
    if ( unsaved )
        now = NULL;
    if ( !p.have_plan )
        status = PT_EXIT_ERROR;
    else if ( o->dry_run )
        status = output_plan(o, &p.plan) ? PT_EXIT_ERROR
                 : plan_status(p.scan_incomplete || p.implausible, &p.plan);
    else
    {
        if ( o->json )
            status = output_apply_json(&p, now);
        else if ( o->quiet )
            status = 0;
        else
        {
            status = 0;
            if ( p.held_back )
                printf("not applied: %s\n", p.held_back);
            else if ( unsaved )
                printf("not applied: %zu of %zu operation%s went through, but saving the result failed (see the errors); nothing was saved\n",
                       p.done, p.plan.n, p.plan.n == 1 ? "" : "s");
            else
            {
                printf("applied %zu of %zu operation%s", p.done, p.plan.n, p.plan.n == 1 ? "" : "s");
                if ( p.run.failed || p.run.skipped )
                    printf(": %zu failed, %zu not issued (they depend on a failed one), %zu device%s "
                           "re-added after the failure, %zu left unregistered (see the errors)",
                           p.run.failed, p.run.skipped, p.restored, p.restored == 1 ? "" : "s",
                           p.stranded);
                putchar('\n');
            }
            if ( p.plan.n )
                pt_plan_print(&p.plan, stdout);
            if ( now )
            {
                printf("Xen's registry %s:\n", p.have_after ? "now" : "(unchanged)");
                pt_report_print(now, stdout);
            }
        }
        if ( !status )
            status = now && !p.err ? report_status(p.result == PT_RESULT_ERROR, now) : PT_EXIT_ERROR;
    }
    pt_pass_free(&p);
    return status;
}

static void print_view(const struct pt_xview *v)
{
    char sb[PT_SBDF_STRLEN], pf[PT_SBDF_STRLEN];

    printf("Xen's PCI registry (source: %s, hypervisor model: %s)\n", pt_source_name(v->source),
           pt_hv_name(v->hv));
    for ( size_t s = 0; s < v->nsegs; s++ )
    {
        const struct pt_xseg *xs = &v->segs[s];
        bool any = false;

        printf("segment %04x: %zu device%s\n", xs->seg, xs->n, xs->n == 1 ? "" : "s");
        printf("  %-13s %-16s %-6s %-8s %s\n", "SBDF", "TYPE", "BUSES", "OWNER", "FLAGS");
        for ( size_t i = 0; i < xs->n; i++ )
        {
            const struct pt_xdev *x = &xs->devs[i];
            char buses[12] = "-", owner[16];

            if ( x->sec_bus != PT_NO_RANGE )
                snprintf(buses, sizeof(buses), "%02x-%02x", (unsigned)x->sec_bus,
                         (unsigned)x->sub_bus);
            if ( x->owner == PT_OWNER_NONE )
                snprintf(owner, sizeof(owner), "NULL");
            else if ( x->owner == PT_DOMID_IO )
                snprintf(owner, sizeof(owner), "DomIO");
            else if ( x->owner == PT_DOMID_XEN )
                snprintf(owner, sizeof(owner), "DomXEN");
            else
                snprintf(owner, sizeof(owner), "d%d", x->owner);
            printf("  %-13s %-16s %-6s %-8s", pt_sbdf_fmt(x->sbdf, sb), pt_type_name(x->type),
                   buses, owner);
            if ( x->virtfn )
                printf(" virtfn(pf %s)", x->has_physfn ? pt_sbdf_fmt(x->physfn, pf) : "?");
            if ( x->extfn )
                printf(" extfn");
            if ( x->phantom_stride )
                printf(" phantom-stride=%u", x->phantom_stride);
            putchar('\n');
        }
        if ( !xs->b2b_known )
        {
            printf("  bus2bridge: unknown (this hypervisor does not report it)\n");
            continue;
        }
        printf("  bus2bridge:");
        for ( unsigned b = 0; b < 256; b++ )
            if ( xs->b2b[b].map )
            {
                printf(" %02x->%02x:%02x.%u", b, xs->b2b[b].bus, PT_SLOT(xs->b2b[b].devfn),
                       PT_FUNC(xs->b2b[b].devfn));
                any = true;
            }
        printf("%s\n", any ? "" : " (empty)");
    }
}

int pt_cmd_xen_view(const struct pt_options *o)
{
    struct session s;
    int rc, status = 0;

    memset(&s, 0, sizeof(s));
    rc = o->xen_sim ? pt_backend_sim_open(o->xen_sim, o->sysfs_root, &s.b, &s.log)
                    : pt_backend_xen_open(&s.b, &s.log);
    if ( !rc )
    {
        /* The stock fallback probes dom0's BDFs; the sysctl and the simulator need no scan. */
        int sr = pt_scan_sysfs(o->sysfs_root, &s.topo, &s.log);

        if ( sr )
            pt_log(&s.log, PT_SEV_WARN, "cannot scan %s (%s): the stock fallback sees less",
                   o->sysfs_root, strerror(-sr));
        rc = s.b->ops->read_view(s.b, &s.topo, &s.view, &s.log);
    }
    if ( !rc )
        log_views(o->sysfs_root, &s.topo, &s.view, &s.log);
    if ( rc )
        status = PT_EXIT_ERROR;
    else if ( o->quiet )
        status = 0;
    else if ( o->json )
    {
        char *buf = NULL;

        rc = pt_xview_to_json(&s.view, true, &buf, NULL);
        status = print_json(rc, buf) ? PT_EXIT_ERROR : 0;
    }
    else
        print_view(&s.view);
    session_close(o, &s);
    return status;
}
