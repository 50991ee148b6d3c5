/*
 * sched.c - when the daemon's next pass is due, and why.
 *
 * A pure state machine with an explicit clock: every entry point takes the
 * caller's CLOCK_MONOTONIC time in microseconds and nothing here reads a
 * clock, so tests drive it with a fake one.  The daemon arms one timer at
 * pt_sched_next() and runs a pass when pt_sched_due() says so.
 *
 * Coalescing: uevents come in bursts (a bridge hot-plug is a dozen add/bind
 * events, enabling 64 VFs several hundred), and every pass is a full scan,
 * so a batch of events becomes one pass: due when the batch has been quiet
 * for settle_usec, or max_delay_usec after its first event if it never
 * goes quiet.  Events that arrive while a pass runs start a new batch, so
 * the topology they announce is looked at by a later pass.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include "daemon.h"

static const char *const trigger_names[PT_TRIG__COUNT] = {
    [PT_TRIG_STARTUP] = "startup",
    [PT_TRIG_UEVENT] = "uevent",
    [PT_TRIG_SIGHUP] = "sighup",
    [PT_TRIG_RESYNC] = "resync",
    [PT_TRIG_RETRY] = "retry",
    [PT_TRIG_OVERFLOW] = "overflow",
};

const char *pt_trigger_name(enum pt_trigger t)
{
    return (unsigned)t < PT_TRIG__COUNT ? trigger_names[t] : "unknown";
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX - 1 : a + b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

void pt_sched_init(struct pt_sched *s, const struct pt_sched_conf *conf, uint64_t now)
{
    *s = (struct pt_sched){ .conf = *conf };
    if ( !s->conf.retry_min_usec )
        s->conf.retry_min_usec = PT_USEC_PER_SEC;
    if ( s->conf.retry_max_usec < s->conf.retry_min_usec )
        s->conf.retry_max_usec = s->conf.retry_min_usec;
    if ( !s->conf.lock_retry_usec )
        s->conf.lock_retry_usec = 500 * PT_USEC_PER_MSEC;
    if ( s->conf.max_delay_usec < s->conf.settle_usec )
        s->conf.max_delay_usec = s->conf.settle_usec;
    s->startup = true;
    s->resync_at = PT_SCHED_IDLE;
    (void)now;
}

void pt_sched_event(struct pt_sched *s, uint64_t now)
{
    if ( !s->batch )
    {
        s->batch = true;
        s->first_event = now;
        s->batch_events = 0;
    }
    s->last_event = now;
    s->batch_events++;
}

void pt_sched_overflow(struct pt_sched *s, uint64_t now)
{
    /* Lost events say nothing about what changed: a full pass once the storm settles. */
    pt_sched_event(s, now);
    s->overflow = true;
}

void pt_sched_sighup(struct pt_sched *s, uint64_t now)
{
    (void)now;
    s->sighup = true;
}

/* When the pending batch is due, or PT_SCHED_IDLE. */
static uint64_t batch_due(const struct pt_sched *s)
{
    if ( !s->batch )
        return PT_SCHED_IDLE;
    return min_u64(add_sat(s->last_event, s->conf.settle_usec),
                   add_sat(s->first_event, s->conf.max_delay_usec));
}

uint64_t pt_sched_next(const struct pt_sched *s)
{
    uint64_t t = PT_SCHED_IDLE;

    if ( s->running )
        return PT_SCHED_IDLE;
    if ( s->startup || s->sighup )
        return 0;
    t = min_u64(t, batch_due(s));
    if ( s->lock_wait )
        t = min_u64(t, s->lock_retry_at);
    if ( s->retry )
        t = min_u64(t, s->retry_at);
    return min_u64(t, s->resync_at);
}

/* The highest-priority trigger due at now; false when none is. */
static bool due_trigger(const struct pt_sched *s, uint64_t now, enum pt_trigger *why)
{
    enum pt_trigger t;

    if ( s->running )
        return false;
    if ( s->startup )
        t = PT_TRIG_STARTUP;
    else if ( s->sighup )
        t = PT_TRIG_SIGHUP;
    else if ( s->lock_wait && s->lock_retry_at <= now )
        t = s->lock_trigger;
    else if ( batch_due(s) <= now )
        t = s->overflow ? PT_TRIG_OVERFLOW : PT_TRIG_UEVENT;
    else if ( s->retry && s->retry_at <= now )
        t = PT_TRIG_RETRY;
    else if ( s->resync_at <= now )
        t = PT_TRIG_RESYNC;
    else
        return false;
    if ( why )
        *why = t;
    return true;
}

bool pt_sched_due(const struct pt_sched *s, uint64_t now, enum pt_trigger *why)
{
    return due_trigger(s, now, why);
}

enum pt_trigger pt_sched_pass_begin(struct pt_sched *s, uint64_t now)
{
    enum pt_trigger why;

    if ( !due_trigger(s, now, &why) )
    {
        /* Forced early: name what was pending, or call it a resync. */
        why = s->lock_wait ? s->lock_trigger
            : s->batch ? (s->overflow ? PT_TRIG_OVERFLOW : PT_TRIG_UEVENT)
            : s->retry ? PT_TRIG_RETRY : PT_TRIG_RESYNC;
    }
    /* Every pass is a full scan: it answers everything pending. */
    s->startup = s->sighup = false;
    s->batch = s->overflow = false;
    s->batch_events = 0;
    s->retry = false;
    s->resync_at = PT_SCHED_IDLE;
    s->lock_wait = false;
    s->running = true;
    return why;
}

void pt_sched_pass_end(struct pt_sched *s, uint64_t now, bool failed)
{
    s->running = false;
    s->lock_wait_since = 0;
    if ( failed )
    {
        s->backoff = s->backoff ? min_u64(s->backoff * 2, s->conf.retry_max_usec)
                                : s->conf.retry_min_usec;
        s->retry = true;
        s->retry_at = add_sat(now, s->backoff);
        s->failures++;
    }
    else
    {
        s->backoff = 0;
        s->failures = 0;
        s->retry = false;
    }
    s->resync_at = s->conf.resync_usec ? add_sat(now, s->conf.resync_usec) : PT_SCHED_IDLE;
}

void pt_sched_resync_skipped(struct pt_sched *s, uint64_t now)
{
    s->resync_at = s->conf.resync_usec ? add_sat(now, s->conf.resync_usec) : PT_SCHED_IDLE;
}

bool pt_sched_pass_postponed(struct pt_sched *s, uint64_t now, enum pt_trigger why)
{
    bool first = s->lock_wait_since == 0;

    s->running = false;
    s->lock_wait = true;
    s->lock_trigger = why;
    s->lock_retry_at = add_sat(now, s->conf.lock_retry_usec);
    if ( first )
        s->lock_wait_since = now ? now : 1;
    return first;
}
