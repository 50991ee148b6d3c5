/*
 * daemon.c - `pcitopod run`: one sd-event loop with four kinds of source
 * (the uevent socket, SIGTERM/SIGINT, SIGHUP, one CLOCK_MONOTONIC timer),
 * all deciding through the pure scheduler (sched.c).  A pass runs to
 * completion inside a single dispatch, so SIGTERM is handled only between
 * passes: never between removing a bridge from Xen and adding it back.
 *
 * sd_notify: READY=1 once the start-up pass has finished without error
 * (so units ordered after this one - xendomains - start on a repaired
 * registry), or, if start-up passes keep failing, after START_GRACE_USEC
 * (they go on being retried); STATUS= after every pass; the watchdog through
 * sd_event_set_watchdog().  Without a notify socket (the testbed's
 * initramfs) sd_notify() is a no-op.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "pass.h"

#define DEFAULT_CONFIG      SYSCONFDIR "/pcitopod.conf"
#define DEFAULT_STATUS_FILE RUNSTATEDIR "/pcitopod/status.json"
#define TIMER_ACCURACY_USEC (10 * PT_USEC_PER_MSEC)
/* Below systemd's default TimeoutStartSec (90 s); see run_pass(). */
#define START_GRACE_USEC    (60 * PT_USEC_PER_SEC)

struct daemon {
    const struct pt_options *o;
    struct pt_daemon_conf conf;
    struct pt_pass_opts popts;
    const char *status_file;
    sd_event *e;
    sd_event_source *timer;
    struct pt_watch *watch;
    struct pt_sched sched;
    unsigned long passes;
    uint64_t started;           /* CLOCK_MONOTONIC usec at start-up */
    bool ready;
    unsigned long long last_findings_hash; /* of the last pass's findings, to stay quiet on repeats */
    bool have_last_findings;
    struct pt_pass last;        /* the last pass, kept until the next: the status refers to it */
    struct pt_status last_st;   /* valid when passes > 0 */
    struct pt_stock_state stock;/* when a stock registry may be read again */
    uint64_t stock_wait_until;  /* a due pass waits for the stock dump interval until then (0: none) */
    unsigned long dumps;        /* stock registry reads ('Q' dumps) since start */
};

/* True when events arrived that no pass has looked at yet. */
static bool pass_pending(const struct daemon *d)
{
    return d->sched.batch || d->sched.sighup || d->sched.overflow || d->sched.lock_wait;
}

/* (Re)writes the status file for the last pass, saying whether another is due. */
static void write_status(struct daemon *d)
{
    int rc;

    if ( !d->passes )
        return;
    d->last_st.pending = pass_pending(d);
    rc = pt_status_write(d->status_file, &d->last_st);
    if ( rc )
        pt_jlog(LOG_ERR, NULL, NULL, NULL, NULL, "cannot write the status file %s: %s",
                d->status_file, strerror(-rc));
}

static uint64_t now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * PT_USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* FNV-1a over the report's findings (as JSON): "the same findings as last time". */
static unsigned long long findings_hash(const struct pt_report *r)
{
    unsigned long long h = 1469598103934665603ULL;
    char *buf = NULL;

    if ( !r || pt_report_to_json(r, false, &buf, NULL) )
        return 0;
    for ( const char *c = buf; *c; c++ )
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    free(buf);
    return h;
}

static void rearm(struct daemon *d)
{
    uint64_t next = pt_sched_next(&d->sched);
    int rc;

    /* A pass waiting for the stock dump interval (a SIGHUP does not wait). */
    if ( next != PT_SCHED_IDLE && d->stock_wait_until && !d->sched.sighup &&
         next < d->stock_wait_until )
        next = d->stock_wait_until;

    if ( next == PT_SCHED_IDLE )
    {
        /* Idle: no timer at all, only the watchdog wakes us. */
        sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        return;
    }
    rc = sd_event_source_set_time(d->timer, next ? next : 1);
    if ( rc >= 0 )
        rc = sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
    if ( rc < 0 )
        pt_jlog(LOG_ERR, NULL, NULL, NULL, NULL, "cannot arm the pass timer: %s", strerror(-rc));
}

static void status_line(const struct pt_pass *p, char *buf, size_t len)
{
    const struct pt_report *r = pt_pass_report(p);
    size_t left = r ? pt_report_inconsistent(r) : 0;
    size_t found = p->have_before ? pt_report_inconsistent(&p->before) : 0;

    switch ( p->result )
    {
    case PT_RESULT_ERROR:
        snprintf(buf, len, "error: %s", p->error ? p->error : "unknown");
        break;
    case PT_RESULT_DRY_RUN:
        snprintf(buf, len, "dry run: %zu finding%s, %zu op%s planned", left, left == 1 ? "" : "s",
                 p->plan.n, p->plan.n == 1 ? "" : "s");
        break;
    case PT_RESULT_CONSISTENT:
        if ( p->done )
            snprintf(buf, len, "consistent: %zu finding%s, %zu op%s applied", found,
                     found == 1 ? "" : "s", p->done, p->done == 1 ? "" : "s");
        else
            snprintf(buf, len, "consistent");
        break;
    default:
        snprintf(buf, len, "inconsistent: %zu finding%s, %zu op%s applied%s%s", left,
                 left == 1 ? "" : "s", p->done, p->done == 1 ? "" : "s",
                 p->held_back ? ", held back: " : "", p->held_back ? p->held_back : "");
    }
}

static void run_pass(struct daemon *d, uint64_t start)
{
    enum pt_trigger why = pt_sched_pass_begin(&d->sched, start);
    struct pt_pass *pp = &d->last, attempt;
    uint64_t waited = d->sched.lock_wait_since;
    unsigned long long h;
    bool repeat;
    char line[512];

    pt_jlog(LOG_DEBUG, NULL, NULL, NULL, NULL, "pass %lu (%s) starts", d->passes + 1, pt_trigger_name(why));
    /* The lock is only tried (popts.lock_timeout_ms = 0): a held lock never stalls the loop. */
    pt_pass_run(&d->popts, &attempt);
    if ( attempt.lock_busy )
    {
        const char *who = attempt.log.n ? attempt.log.msgs[attempt.log.n - 1].text : "the lock is held";

        if ( pt_sched_pass_postponed(&d->sched, now_usec(), why) )
        {
            pt_jlog(LOG_WARNING, NULL, NULL, NULL, NULL,
                    "pass (%s) postponed: %s; trying again every %.1f s (logged once per wait)",
                    pt_trigger_name(why), who, (double)d->sched.conf.lock_retry_usec / PT_USEC_PER_SEC);
            write_status(d);
        }
        pt_pass_free(&attempt);
        return;
    }
    if ( waited )
        pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL, "the lock is free after %.1f s: pass (%s) runs",
                (double)(now_usec() - waited) / PT_USEC_PER_SEC, pt_trigger_name(why));
    d->passes++;
    pt_pass_free(pp);
    *pp = attempt;
    pt_sched_pass_end(&d->sched, now_usec(), pp->failed);
    if ( pp->have_view || pp->xen_reads )
    {
        /* The sim's "stock" model counts as stock: the tests see the same rules. */
        d->stock.stock = pp->have_view ? pp->hv == PT_HV_STOCK : d->stock.stock;
        if ( d->stock.stock )
        {
            d->stock.have_dump = true;
            d->stock.last_dump = now_usec();
            d->dumps += pp->xen_reads;
            pt_jlog(LOG_DEBUG, NULL, NULL, NULL, NULL,
                    "stock Xen: this pass read its registry %u time%s ('Q' dumps), %lu since start",
                    pp->xen_reads, pp->xen_reads == 1 ? "" : "s", d->dumps);
        }
    }

    h = pp->have_before ? findings_hash(&pp->before) : 0;
    repeat = d->have_last_findings && h == d->last_findings_hash && pp->have_before;
    d->last_findings_hash = h;
    d->have_last_findings = pp->have_before;
    pt_jlog_pass(pp, d->passes, why, repeat,
                 d->sched.retry ? (double)d->sched.backoff / PT_USEC_PER_SEC : 0);

    d->last_st = (struct pt_status){
        .time = (long long)time(NULL), .pid = (long)getpid(), .pass = d->passes, .trigger = why,
        .result = pp->result, .have_view = pp->have_view, .source = pp->source, .hv = pp->hv,
        .ops_planned = pp->have_plan ? pp->plan.n : 0, .ops_done = pp->done, .error = pp->error,
        .plan = pp->have_plan ? &pp->plan : NULL, .report = pt_pass_report(pp),
    };
    write_status(d);

    status_line(pp, line, sizeof(line));
    if ( !d->ready && pp->result != PT_RESULT_ERROR )
    {
        d->ready = true;
        sd_notifyf(false, "READY=1\nSTATUS=%s", line);
        pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL, "ready after the start-up pass: %s", line);
    }
    else if ( !d->ready && now_usec() - d->started >= START_GRACE_USEC )
    {
        /*
         * Still failing: say READY before systemd's start timeout kills us
         * into a restart loop that helps nobody; the retries go on, and the
         * journal, STATUS= and the status file say what is wrong.
         */
        d->ready = true;
        sd_notifyf(false, "READY=1\nSTATUS=start-up passes keep failing, retrying: %s", line);
        pt_jlog(LOG_ERR, NULL, NULL, NULL, NULL,
                "ready without a successful pass: start-up passes have failed for %llu s (%s)",
                (unsigned long long)(START_GRACE_USEC / PT_USEC_PER_SEC), line);
    }
    else
        sd_notifyf(false, "STATUS=%s%s", d->ready ? "" : "not ready, start-up pass failed: ", line);
    /* d->last stays: the status file refers to it until the next pass. */
}

/* A fresh scan of dom0 differs from the last pass's (or cannot be compared). */
static bool dom0_changed(struct daemon *d)
{
    struct pt_topo t = { 0 };
    struct pt_errlog log = { 0 };
    bool changed = true;

    if ( d->last.have_dom0 && !pt_scan_sysfs(d->popts.sysfs_root, &t, &log) )
        changed = pt_topo_fingerprint(&t) != d->last.dom0_fingerprint;
    pt_topo_free(&t);
    pt_errlog_free(&log);
    return changed;
}

/*
 * Stock Xen courtesy (pt_stock_decide()): false when the due pass must not
 * read the registry now - it waits for the dump interval, or, a periodic
 * pass with dom0 unchanged, is skipped (and said so).
 */
static bool stock_allows(struct daemon *d, uint64_t now)
{
    enum pt_trigger why;
    uint64_t until;
    bool changed = true;

    if ( !pt_sched_due(&d->sched, now, &why) )
        return true;
    if ( d->sched.sighup )
        why = PT_TRIG_SIGHUP;   /* a request among other reasons: it goes first */
    if ( why == PT_TRIG_RESYNC && d->stock.stock )
        changed = dom0_changed(d);
    switch ( pt_stock_decide(&d->stock, why, now, changed, &until) )
    {
    case PT_STOCK_READ:
        d->stock_wait_until = 0;
        return true;
    case PT_STOCK_WAIT:
        if ( d->stock_wait_until != until )
            pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL,
                    "pass (%s) waits %.1f s: on stock Xen each read of its registry dumps every "
                    "PCI device on its console (debug key 'Q'), at most once per "
                    "stock_dump_min_interval_s = %u s", pt_trigger_name(why),
                    (double)(until - now) / PT_USEC_PER_SEC, d->conf.stock_dump_min_interval_s);
        d->stock_wait_until = until;
        return false;
    case PT_STOCK_SKIP:
        pt_sched_resync_skipped(&d->sched, now);
        pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL,
                "periodic pass skipped: dom0's PCI topology is unchanged since pass %lu, and on "
                "stock Xen reading its registry dumps every PCI device on its console (debug "
                "key 'Q'); SIGHUP (systemctl reload pcitopod) reads it now", d->passes);
        return false;
    }
    return true;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct daemon *d = userdata;
    uint64_t now = now_usec();

    if ( pt_sched_due(&d->sched, now, NULL) && stock_allows(d, now) )
        run_pass(d, now);
    rearm(d);
    return 0;
}

static void on_uevent(void *userdata, const struct pt_uevent *ev)
{
    struct daemon *d = userdata;
    bool was_pending = pass_pending(d);

    if ( ev )
        pt_sched_event(&d->sched, now_usec());
    else
        pt_sched_overflow(&d->sched, now_usec());
    /* Tell libxl a pass is coming (it waits for it, bounded): once per batch. */
    if ( !was_pending && !d->sched.running )
        write_status(d);
    rearm(d);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct daemon *d = userdata;

    pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL, "SIGHUP: a full pass now");
    pt_sched_sighup(&d->sched, now_usec());
    write_status(d);
    rearm(d);
    return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct daemon *d = userdata;

    /* Only ever dispatched between passes: a pass never yields to the loop. */
    pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL, "%s: stopping", strsignal((int)si->ssi_signo));
    sd_notify(false, "STOPPING=1");
    return sd_event_exit(d->e, 0);
}

/* Parses a numeric option of the command line into *out; -EINVAL with a message. */
static int opt_uint(const char *name, const char *val, unsigned min, unsigned max, unsigned *out)
{
    if ( !val || pt_parse_uint(val, min, max, out) )
        return 0;
    fprintf(stderr, "pcitopod run: --%s '%s': expected a whole number from %u to %u\n",
            name, val, min, max);
    return -EINVAL;
}

/* The configuration: defaults, then the file, then the command line. */
static int load_conf(struct daemon *d)
{
    const struct pt_options *o = d->o;
    struct pt_errlog log = { 0 };
    int rc;

    pt_conf_defaults(&d->conf);
    rc = pt_conf_load(o->config ? o->config : DEFAULT_CONFIG, o->config != NULL, &d->conf, &log);
    if ( !rc )
        rc = opt_uint("settle-ms", o->settle_ms, 0, 600000, &d->conf.settle_ms);
    if ( !rc )
        rc = opt_uint("max-delay-ms", o->max_delay_ms, 0, 3600000, &d->conf.max_delay_ms);
    if ( !rc )
        rc = opt_uint("resync-minutes", o->resync_minutes, 0, 10080, &d->conf.resync_minutes);
    if ( !rc && o->max_lost_given )
        d->conf.max_lost_percent = o->max_lost_pct;
    if ( !rc )
    {
        if ( o->dry_run )
            d->conf.dry_run = true;
        if ( o->policy.requarantine )
            d->conf.requarantine = true;
        if ( o->verbose )
            d->conf.log_level = PT_SEV_DEBUG;
        else if ( o->quiet )
            d->conf.log_level = PT_SEV_WARN;
        rc = pt_conf_check(&d->conf, "the configuration and command line", &log);
    }
    pt_errlog_print(&log, stderr, PT_SEV_WARN);
    pt_errlog_free(&log);
    return rc;
}

int pt_cmd_run(const struct pt_options *o)
{
    struct daemon d = { .o = o };
    struct pt_sched_conf sc = { 0 };   /* lock_retry_usec: the scheduler's default */
    struct pt_errlog log = { 0 };
    sigset_t mask;
    int rc;

    if ( load_conf(&d) )
        return PT_EXIT_ERROR;
    pt_jlog_init(d.conf.log_level);
    d.status_file = o->status_file ? o->status_file : DEFAULT_STATUS_FILE;
    d.popts = (struct pt_pass_opts){
        .sysfs_root = o->sysfs_root, .xen_sim = o->xen_sim, .dry_run = d.conf.dry_run,
        /* The simulator has its own state file; the hypervisor is what libxl guards. */
        .lock = (!o->xen_sim || o->lock_file) && !d.conf.dry_run,
        .lock_file = o->lock_file, .lock_timeout_ms = 0,
        .stock_report_only = d.conf.stock_mode == PT_STOCK_REPORT,
        .policy = { .requarantine = d.conf.requarantine },
        .max_lost_pct = d.conf.max_lost_percent,
        .override_hint = "raise max_lost_percent in pcitopod.conf (the daemon never forces); "
                         "the pass is retried",
    };
    /*
     * No hypervisor to keep consistent (a domU, no privcmd, not root): a
     * retry cannot change that, so say so once and stop, instead of failing
     * every pass forever.
     */
    if ( !o->xen_sim )
    {
        struct pt_backend *b = NULL;

        rc = pt_backend_xen_open(&b, &log);
        pt_backend_close(b);
        if ( rc )
        {
            for ( size_t i = 0; i < log.n; i++ )
                if ( log.msgs[i].sev == PT_SEV_ERROR )
                    pt_jlog(LOG_ERR, NULL, NULL, NULL, NULL, "cannot start: %s", log.msgs[i].text);
            pt_errlog_free(&log);
            return PT_EXIT_ERROR;
        }
        pt_errlog_free(&log);
    }
    if ( !o->status_file && mkdir(RUNSTATEDIR "/pcitopod", 0755) < 0 && errno != EEXIST )
        pt_jlog(LOG_WARNING, NULL, NULL, NULL, NULL, "cannot create %s: %s (the status file will fail)",
                RUNSTATEDIR "/pcitopod", strerror(errno));

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    rc = sd_event_default(&d.e);
    if ( rc >= 0 )
        rc = sd_event_add_signal(d.e, NULL, SIGTERM, on_exit_signal, &d);
    if ( rc >= 0 )
        rc = sd_event_add_signal(d.e, NULL, SIGINT, on_exit_signal, &d);
    if ( rc >= 0 )
        rc = sd_event_add_signal(d.e, NULL, SIGHUP, on_sighup, &d);
    if ( rc >= 0 )
        rc = sd_event_add_time(d.e, &d.timer, CLOCK_MONOTONIC, UINT64_MAX, TIMER_ACCURACY_USEC,
                               on_timer, &d);
    if ( rc >= 0 )
        rc = sd_event_set_watchdog(d.e, true);
    if ( rc < 0 )
    {
        pt_jlog(LOG_ERR, NULL, NULL, NULL, NULL, "cannot set up the event loop: %s", strerror(-rc));
        goto out;
    }
    sd_event_source_set_description(d.timer, "pass-timer");

    /* Watch before the start-up pass, so that nothing it misses is lost. */
    rc = pt_watch_open(d.e, on_uevent, &d, &d.watch, &log);
    pt_jlog_errlog(&log);
    pt_errlog_free(&log);
    if ( rc < 0 )
        goto out;

    pt_conf_sched(&d.conf, &sc);
    d.stock.min_interval_usec = (uint64_t)d.conf.stock_dump_min_interval_s * PT_USEC_PER_SEC;
    d.started = now_usec();
    pt_sched_init(&d.sched, &sc, d.started);
    {
        char resync[32] = "off";

        if ( d.conf.resync_minutes )
            snprintf(resync, sizeof(resync), "every %u min", d.conf.resync_minutes);
        pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL,
                "started: settle %u ms, max delay %u ms, resync %s, retry back-off up to %u s, "
                "%s%s, stock mode %s, stock dumps at most every %u s, max lost %u%%",
                d.conf.settle_ms, d.conf.max_delay_ms, resync, d.conf.retry_max_s,
                o->xen_sim ? "simulator " : "the hypervisor", o->xen_sim ? o->xen_sim : "",
                pt_stock_mode_name(d.conf.stock_mode), d.conf.stock_dump_min_interval_s,
                d.conf.max_lost_percent);
    }
    if ( d.conf.dry_run )
        pt_jlog(LOG_INFO, NULL, NULL, NULL, NULL, "dry run: reporting only, nothing is applied");
    rearm(&d);

    rc = sd_event_loop(d.e);
    if ( rc < 0 )
        pt_jlog(LOG_ERR, NULL, NULL, NULL, NULL, "the event loop failed: %s", strerror(-rc));
 out:
    pt_watch_close(d.watch);
    sd_event_source_disable_unref(d.timer);
    pt_pass_free(&d.last);
    sd_event_unref(d.e);
    return rc < 0 ? PT_EXIT_ERROR : 0;
}
