/*
 * test_sched.c - the daemon's pass scheduler on a fake clock: start-up,
 * bursts and continuous storms of uevents, quiet periods, lost events
 * (ENOBUFS), SIGHUP, retry with back-off, periodic resync on and off, and
 * events that arrive while a pass runs.
 */
#include "config.h"

#include "daemon.h"
#include "tap.h"

#define MS(x) ((uint64_t)(x) * PT_USEC_PER_MSEC)
#define S(x)  ((uint64_t)(x) * PT_USEC_PER_SEC)
#define T0    S(1000)               /* the monotonic clock does not start at 0 */

static const struct pt_sched_conf defaults = {
    .settle_usec = MS(500), .max_delay_usec = MS(5000), .resync_usec = S(600),
    .retry_min_usec = S(1), .retry_max_usec = S(300),
};

/* Runs the start-up pass at T0 (successfully, taking no time). */
static void started(struct pt_sched *s, const struct pt_sched_conf *c)
{
    pt_sched_init(s, c, T0);
    pt_sched_pass_begin(s, T0);
    pt_sched_pass_end(s, T0, false);
}

/*
 * A simulated event loop: events at the given times (sorted), every pass
 * takes pass_usec and fails when fail is set; runs until `until`.
 * Records the start times and triggers of passes.
 */
struct sim {
    uint64_t at[256];
    enum pt_trigger why[256];
    size_t n;
};

static void run_loop(struct pt_sched *s, const uint64_t *ev, size_t nev, uint64_t pass_usec,
                     bool fail, uint64_t now, uint64_t until, struct sim *out)
{
    size_t i = 0;

    while ( now <= until )
    {
        uint64_t next = pt_sched_next(s), t;

        if ( next < now )
            next = now;
        t = i < nev && ev[i] < next ? ev[i] : next;
        if ( t == PT_SCHED_IDLE || t > until )
            break;
        now = t;
        if ( i < nev && ev[i] == now )
        {
            pt_sched_event(s, now);
            i++;
            continue;
        }
        if ( pt_sched_due(s, now, NULL) )
        {
            enum pt_trigger why = pt_sched_pass_begin(s, now);
            uint64_t end = now + pass_usec;

            if ( out->n < 256 )
            {
                out->at[out->n] = now;
                out->why[out->n] = why;
            }
            out->n++;
            /* Events during the pass: the socket holds them; the loop reads them after. */
            while ( i < nev && ev[i] < end )
                pt_sched_event(s, ev[i++]);
            pt_sched_pass_end(s, end, fail);
            now = end;
        }
    }
}

static void test_startup(void)
{
    struct pt_sched s;
    enum pt_trigger why = PT_TRIG_RESYNC;

    pt_sched_init(&s, &defaults, T0);
    CHECK(pt_sched_next(&s) <= T0);
    CHECK(pt_sched_due(&s, T0, &why));
    CHECK_EQ_INT(why, PT_TRIG_STARTUP);
    /* Events before the start-up pass are answered by it. */
    pt_sched_event(&s, T0);
    CHECK_EQ_INT(pt_sched_pass_begin(&s, T0), PT_TRIG_STARTUP);
    CHECK_EQ_INT(pt_sched_next(&s), PT_SCHED_IDLE);      /* nothing while running */
    CHECK(!pt_sched_due(&s, T0 + S(100), NULL));
    pt_sched_pass_end(&s, T0 + MS(300), false);
    CHECK_EQ_INT(pt_sched_next(&s), T0 + MS(300) + S(600));   /* only the resync */
    CHECK_EQ_STR(pt_trigger_name(PT_TRIG_STARTUP), "startup");
    CHECK_EQ_STR(pt_trigger_name(PT_TRIG_OVERFLOW), "overflow");
    CHECK_EQ_STR(pt_trigger_name(PT_TRIG__COUNT), "unknown");
}

static void test_burst(void)
{
    struct pt_sched s;
    struct sim sim = { .n = 0 };
    uint64_t ev[200];

    started(&s, &defaults);
    /* 200 VFs' add/change/bind events within 400 ms: one pass, settle after the last. */
    for ( size_t i = 0; i < 200; i++ )
        ev[i] = T0 + S(10) + i * MS(2);
    run_loop(&s, ev, 200, MS(200), false, T0, T0 + S(60), &sim);
    CHECK_EQ_INT(sim.n, 1);
    CHECK_EQ_INT(sim.at[0], ev[199] + MS(500));
    CHECK_EQ_INT(sim.why[0], PT_TRIG_UEVENT);

    /* The batch is not due before the settle window has passed since the last event. */
    started(&s, &defaults);
    pt_sched_event(&s, T0 + S(1));
    pt_sched_event(&s, T0 + S(1) + MS(400));
    CHECK(!pt_sched_due(&s, T0 + S(1) + MS(899), NULL));
    CHECK(pt_sched_due(&s, T0 + S(1) + MS(900), NULL));
    CHECK_EQ_INT(pt_sched_next(&s), T0 + S(1) + MS(900));
}

static void test_storm(void)
{
    struct pt_sched s;
    struct sim sim = { .n = 0 };
    uint64_t ev[200];

    started(&s, &defaults);
    /* An event every 100 ms for 20 s never settles: a pass per max_delay (5 s + the pass). */
    for ( size_t i = 0; i < 200; i++ )
        ev[i] = T0 + S(10) + i * MS(100);
    run_loop(&s, ev, 200, MS(50), false, T0, T0 + S(60), &sim);
    CHECK_EQ_INT(sim.n, 4);
    CHECK_EQ_INT(sim.at[0], T0 + S(15));               /* first event + max_delay */
    for ( size_t i = 1; i < 4 && i < sim.n; i++ )
    {
        CHECKF(sim.at[i] - sim.at[i - 1] >= MS(5000) && sim.at[i] - sim.at[i - 1] <= MS(5200),
               "pass %zu came %llu ms after the previous one", i,
               (unsigned long long)((sim.at[i] - sim.at[i - 1]) / 1000));
        CHECK_EQ_INT(sim.why[i], PT_TRIG_UEVENT);
    }
    /* Passes at 15.0, 20.1, 25.2, 30.3 s: the last batch (25.3 to 29.9 s) still ends by max_delay. */
    CHECK_EQ_INT(sim.at[3], T0 + S(30) + MS(300));

    /* A storm shorter than max_delay: one pass. */
    started(&s, &defaults);
    sim.n = 0;
    for ( size_t i = 0; i < 40; i++ )
        ev[i] = T0 + S(10) + i * MS(100);
    run_loop(&s, ev, 40, MS(50), false, T0, T0 + S(60), &sim);
    CHECK_EQ_INT(sim.n, 1);
}

static void test_quiet(void)
{
    struct pt_sched s;
    struct pt_sched_conf c = defaults;
    struct sim sim = { .n = 0 };

    /* Resync off: idle means no wake-up at all. */
    c.resync_usec = 0;
    started(&s, &c);
    CHECK_EQ_INT(pt_sched_next(&s), PT_SCHED_IDLE);
    CHECK(!pt_sched_due(&s, T0 + S(86400), NULL));
    run_loop(&s, NULL, 0, MS(50), false, T0, T0 + S(86400), &sim);
    CHECK_EQ_INT(sim.n, 0);

    /* Resync every 10 minutes: one pass per interval after the previous pass. */
    started(&s, &defaults);
    sim.n = 0;
    run_loop(&s, NULL, 0, MS(100), false, T0, T0 + S(3600), &sim);
    CHECK_EQ_INT(sim.n, 5);     /* 600.0, 1200.1, 1800.2, 2400.3, 3000.4 */
    CHECK_EQ_INT(sim.at[0], T0 + S(600));
    CHECK_EQ_INT(sim.why[0], PT_TRIG_RESYNC);
    CHECK_EQ_INT(sim.at[1], T0 + S(1200) + MS(100));

    /* Any pass restarts the resync interval. */
    started(&s, &defaults);
    pt_sched_event(&s, T0 + S(300));
    CHECK_EQ_INT(pt_sched_next(&s), T0 + S(300) + MS(500));
    pt_sched_pass_begin(&s, T0 + S(300) + MS(500));
    pt_sched_pass_end(&s, T0 + S(301), false);
    CHECK_EQ_INT(pt_sched_next(&s), T0 + S(901));
}

static void test_overflow(void)
{
    struct pt_sched s;
    enum pt_trigger why;

    started(&s, &defaults);
    pt_sched_overflow(&s, T0 + S(5));
    CHECK(!pt_sched_due(&s, T0 + S(5), NULL));          /* the storm is still on: settle first */
    CHECK_EQ_INT(pt_sched_next(&s), T0 + S(5) + MS(500));
    CHECK(pt_sched_due(&s, T0 + S(5) + MS(500), &why));
    CHECK_EQ_INT(why, PT_TRIG_OVERFLOW);
    CHECK_EQ_INT(pt_sched_pass_begin(&s, T0 + S(5) + MS(500)), PT_TRIG_OVERFLOW);
    pt_sched_pass_end(&s, T0 + S(6), false);
    /* The flag is consumed: the next batch is an ordinary one. */
    pt_sched_event(&s, T0 + S(7));
    CHECK_EQ_INT(pt_sched_pass_begin(&s, T0 + S(8)), PT_TRIG_UEVENT);
    pt_sched_pass_end(&s, T0 + S(8), false);

    /* Overflow in the middle of a batch: the batch's pass is the full one, and still bounded by max_delay. */
    pt_sched_event(&s, T0 + S(10));
    for ( unsigned i = 1; i < 100; i++ )
        i % 10 ? pt_sched_event(&s, T0 + S(10) + i * MS(100)) : pt_sched_overflow(&s, T0 + S(10) + i * MS(100));
    CHECK(pt_sched_due(&s, T0 + S(15), &why));
    CHECK_EQ_INT(why, PT_TRIG_OVERFLOW);
}

static void test_sighup(void)
{
    struct pt_sched s;
    enum pt_trigger why;

    started(&s, &defaults);
    pt_sched_event(&s, T0 + S(1));
    pt_sched_sighup(&s, T0 + S(1) + MS(10));
    CHECK(pt_sched_next(&s) <= T0 + S(1) + MS(10));
    CHECK(pt_sched_due(&s, T0 + S(1) + MS(10), &why));
    CHECK_EQ_INT(why, PT_TRIG_SIGHUP);
    CHECK_EQ_INT(pt_sched_pass_begin(&s, T0 + S(1) + MS(10)), PT_TRIG_SIGHUP);
    pt_sched_pass_end(&s, T0 + S(2), false);
    /* The pending batch was answered by the SIGHUP pass. */
    CHECK_EQ_INT(pt_sched_next(&s), T0 + S(602));

    /* SIGHUP during a pass: another pass right after it. */
    pt_sched_pass_begin(&s, T0 + S(3));
    pt_sched_sighup(&s, T0 + S(3) + MS(1));
    CHECK(!pt_sched_due(&s, T0 + S(3) + MS(2), NULL));
    pt_sched_pass_end(&s, T0 + S(4), false);
    CHECK(pt_sched_due(&s, T0 + S(4), &why));
    CHECK_EQ_INT(why, PT_TRIG_SIGHUP);
}

static void test_retry(void)
{
    struct pt_sched s;
    struct pt_sched_conf c = defaults;
    uint64_t now = T0, expect[] = { S(1), S(2), S(4), S(8), S(16), S(32), S(64), S(128),
                                    S(256), S(300), S(300) };
    enum pt_trigger why;

    c.resync_usec = 0;
    pt_sched_init(&s, &c, now);
    pt_sched_pass_begin(&s, now);
    pt_sched_pass_end(&s, now, true);
    for ( size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++ )
    {
        CHECKF(pt_sched_next(&s) == now + expect[i], "retry %zu after %llu us, wanted %llu", i,
               (unsigned long long)(pt_sched_next(&s) - now), (unsigned long long)expect[i]);
        CHECK(!pt_sched_due(&s, now + expect[i] - 1, NULL));
        now += expect[i];
        CHECK(pt_sched_due(&s, now, &why));
        CHECK_EQ_INT(why, PT_TRIG_RETRY);
        pt_sched_pass_begin(&s, now);
        pt_sched_pass_end(&s, now, true);
    }
    CHECK_EQ_INT(s.failures, 12);
    /* Success resets the back-off and stops retrying. */
    now += S(300);
    pt_sched_pass_begin(&s, now);
    pt_sched_pass_end(&s, now, false);
    CHECK_EQ_INT(pt_sched_next(&s), PT_SCHED_IDLE);
    CHECK_EQ_INT(s.failures, 0);
    pt_sched_pass_begin(&s, now);
    pt_sched_pass_end(&s, now, true);
    CHECK_EQ_INT(pt_sched_next(&s), now + S(1));

    /* An event batch before the retry is due: its pass answers the retry too. */
    pt_sched_event(&s, now + MS(100));
    CHECK_EQ_INT(pt_sched_next(&s), now + MS(600));
    CHECK_EQ_INT(pt_sched_pass_begin(&s, now + MS(600)), PT_TRIG_UEVENT);
    pt_sched_pass_end(&s, now + MS(700), true);           /* fails again: back-off keeps growing */
    CHECK_EQ_INT(pt_sched_next(&s), now + MS(700) + S(2));

    /* A configured ceiling below the first step is raised to it. */
    c.retry_max_usec = MS(10);
    pt_sched_init(&s, &c, T0);
    pt_sched_pass_begin(&s, T0);
    pt_sched_pass_end(&s, T0, true);
    CHECK_EQ_INT(pt_sched_next(&s), T0 + S(1));
}

static void test_events_during_pass(void)
{
    struct pt_sched s;
    struct sim sim = { .n = 0 };
    uint64_t ev[] = { T0 + S(10), T0 + S(10) + MS(600), T0 + S(10) + MS(700) };

    started(&s, &defaults);
    /* A pass of 1 s starts at 10.5 s; two events arrive during it: another pass after it. */
    run_loop(&s, ev, 3, S(1), false, T0, T0 + S(60), &sim);
    CHECK_EQ_INT(sim.n, 2);
    CHECK_EQ_INT(sim.at[0], T0 + S(10) + MS(500));
    CHECK_EQ_INT(sim.at[1], T0 + S(11) + MS(500));     /* end of the first pass: max(700+500, end) */
    CHECK_EQ_INT(sim.why[1], PT_TRIG_UEVENT);

    /* A long pass: the batch that arrived during it is overdue at its end: due at once. */
    started(&s, &defaults);
    pt_sched_pass_begin(&s, T0 + S(20));
    pt_sched_event(&s, T0 + S(20) + MS(1));
    pt_sched_pass_end(&s, T0 + S(30), false);
    CHECK(pt_sched_due(&s, T0 + S(30), NULL));
}

static void test_clamp(void)
{
    struct pt_sched s;
    struct pt_sched_conf c = defaults;

    /* max_delay shorter than settle behaves as settle (conf.c rejects it; be safe anyway). */
    c.max_delay_usec = MS(100);
    started(&s, &c);
    pt_sched_event(&s, T0 + S(1));
    CHECK_EQ_INT(pt_sched_next(&s), T0 + S(1) + MS(500));
    /* settle 0: due at the event itself. */
    c = defaults;
    c.settle_usec = 0;
    started(&s, &c);
    pt_sched_event(&s, T0 + S(1));
    CHECK(pt_sched_due(&s, T0 + S(1), NULL));
}

/*
 * The lock is held elsewhere: the daemon only tries it, so a pass that
 * cannot start is postponed on the timer, never waited for in the loop;
 * what made it due stays due; SIGHUP is handled (tries at once); the wait
 * is reported once; after the release the pass runs and the wait ends.
 */
static void test_lock_held(void)
{
    struct pt_sched s;
    enum pt_trigger why;
    uint64_t now = T0;

    pt_sched_init(&s, &defaults, T0);
    why = pt_sched_pass_begin(&s, now);
    CHECK_EQ_INT(why, PT_TRIG_STARTUP);
    CHECK(pt_sched_pass_postponed(&s, now, why));          /* first: log it */
    CHECK(!s.running);
    /* not due at once (no busy loop), due after the lock retry delay, still "startup" */
    CHECK(!pt_sched_due(&s, now + MS(100), NULL));
    CHECK_EQ_INT(pt_sched_next(&s), now + MS(500));
    CHECK(pt_sched_due(&s, now + MS(500), &why));
    CHECK_EQ_INT(why, PT_TRIG_STARTUP);
    now += MS(500);
    why = pt_sched_pass_begin(&s, now);
    CHECK(!pt_sched_pass_postponed(&s, now, why));         /* the same wait: not logged again */
    /* events and SIGHUP while waiting: the loop stays responsive */
    pt_sched_event(&s, now + MS(10));
    pt_sched_sighup(&s, now + MS(20));
    CHECK(pt_sched_due(&s, now + MS(20), &why));
    CHECK_EQ_INT(why, PT_TRIG_SIGHUP);
    now += MS(20);
    why = pt_sched_pass_begin(&s, now);
    CHECK(!s.lock_wait && !s.batch);                       /* one pass answers everything */
    CHECK(!pt_sched_pass_postponed(&s, now, why));
    CHECK(s.lock_wait);
    /* released: the pass runs, the wait is over, the next one is logged again */
    now += MS(500);
    CHECK(pt_sched_due(&s, now, NULL));
    pt_sched_pass_begin(&s, now);
    pt_sched_pass_end(&s, now, false);
    CHECK(!s.lock_wait && s.lock_wait_since == 0 && !s.retry);
    CHECK_EQ_INT(pt_sched_next(&s), now + S(600));
    why = pt_sched_pass_begin(&s, now + S(600));
    CHECK(pt_sched_pass_postponed(&s, now + S(600), why));
    CHECK_EQ_INT(why, PT_TRIG_RESYNC);
}

int main(void)
{
    test_lock_held();
    test_startup();
    test_burst();
    test_storm();
    test_quiet();
    test_overflow();
    test_sighup();
    test_retry();
    test_events_during_pass();
    test_clamp();
    return tap_done();
}
