/*
 * test_stock.c - stock Xen courtesy (pt_stock_decide()): on a hypervisor
 * whose registry is read through debug key 'Q', the daemon reads it at
 * start-up, on request and after a change, at most once per interval, and
 * a periodic pass with dom0 unchanged reads nothing.
 */
#include "config.h"

#include "daemon.h"
#include "tap.h"

#define S(x)  ((uint64_t)(x) * PT_USEC_PER_SEC)
#define T0    S(1000)

static enum pt_stock_verdict decide(const struct pt_stock_state *s, enum pt_trigger why,
                                    uint64_t now, bool changed, uint64_t *until)
{
    return pt_stock_decide(s, why, now, changed, until);
}

int main(void)
{
    struct pt_stock_state patched = { .stock = false, .have_dump = true, .last_dump = T0,
                                      .min_interval_usec = S(60) };
    struct pt_stock_state stock = { .stock = true, .have_dump = true, .last_dump = T0,
                                    .min_interval_usec = S(60) };
    struct pt_stock_state fresh = { .stock = true, .have_dump = false, .min_interval_usec = S(60) };
    uint64_t until;

    /* The sysctl costs the console nothing: every pass reads. */
    for ( enum pt_trigger t = 0; t < PT_TRIG__COUNT; t++ )
        CHECK_EQ_INT(decide(&patched, t, T0 + S(1), false, &until), PT_STOCK_READ);

    /* Nothing read yet: read (the start-up pass). */
    CHECK_EQ_INT(decide(&fresh, PT_TRIG_STARTUP, T0, false, &until), PT_STOCK_READ);
    CHECK_EQ_INT(decide(&fresh, PT_TRIG_RESYNC, T0, false, &until), PT_STOCK_READ);

    /* On request: at once, however recent the last dump. */
    CHECK_EQ_INT(decide(&stock, PT_TRIG_SIGHUP, T0 + S(1), false, &until), PT_STOCK_READ);
    CHECK_EQ_INT(decide(&stock, PT_TRIG_STARTUP, T0 + S(1), false, &until), PT_STOCK_READ);

    /* A change: read, but not within the interval of the last dump. */
    CHECK_EQ_INT(decide(&stock, PT_TRIG_UEVENT, T0 + S(10), false, &until), PT_STOCK_WAIT);
    CHECK_EQ_INT(until, T0 + S(60));
    CHECK_EQ_INT(decide(&stock, PT_TRIG_OVERFLOW, T0 + S(59), false, &until), PT_STOCK_WAIT);
    CHECK_EQ_INT(decide(&stock, PT_TRIG_RETRY, T0 + S(1), false, &until), PT_STOCK_WAIT);
    CHECK_EQ_INT(decide(&stock, PT_TRIG_UEVENT, T0 + S(60), false, &until), PT_STOCK_READ);
    CHECK_EQ_INT(decide(&stock, PT_TRIG_UEVENT, T0 + S(600), false, &until), PT_STOCK_READ);

    /* Periodic: nothing read while dom0 is unchanged, however long ago the last dump. */
    CHECK_EQ_INT(decide(&stock, PT_TRIG_RESYNC, T0 + S(600), false, &until), PT_STOCK_SKIP);
    CHECK_EQ_INT(decide(&stock, PT_TRIG_RESYNC, T0 + S(86400), false, &until), PT_STOCK_SKIP);
    /* dom0 changed without a uevent: a change like any other. */
    CHECK_EQ_INT(decide(&stock, PT_TRIG_RESYNC, T0 + S(600), true, &until), PT_STOCK_READ);
    CHECK_EQ_INT(decide(&stock, PT_TRIG_RESYNC, T0 + S(30), true, &until), PT_STOCK_WAIT);
    CHECK_EQ_INT(until, T0 + S(60));

    /* Interval 0: no rate limit, still no periodic dump. */
    stock.min_interval_usec = 0;
    CHECK_EQ_INT(decide(&stock, PT_TRIG_UEVENT, T0, false, &until), PT_STOCK_READ);
    CHECK_EQ_INT(decide(&stock, PT_TRIG_RESYNC, T0 + S(600), false, &until), PT_STOCK_SKIP);
    return tap_done();
}
