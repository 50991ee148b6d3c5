/*
 * stock_courtesy.c - when the daemon may read a stock hypervisor's registry
 * (each read is a debug-key 'Q' dump on Xen's console): daemon.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include "daemon.h"

enum pt_stock_verdict pt_stock_decide(const struct pt_stock_state *s, enum pt_trigger why,
                                      uint64_t now, bool dom0_changed, uint64_t *until)
{
    *until = now;
    /* The sysctl (or nothing read yet): reading costs nothing on the console. */
    if ( !s->stock || !s->have_dump )
        return PT_STOCK_READ;
    switch ( why )
    {
    case PT_TRIG_STARTUP:
    case PT_TRIG_SIGHUP:
        return PT_STOCK_READ;   /* start-up, on request */
    case PT_TRIG_RESYNC:
        if ( !dom0_changed )
            return PT_STOCK_SKIP;
        break;                  /* a change the uevents missed */
    default:
        break;                  /* uevent, overflow, retry: a change */
    }
    if ( now - s->last_dump < s->min_interval_usec )
    {
        *until = s->last_dump + s->min_interval_usec;
        return PT_STOCK_WAIT;
    }
    return PT_STOCK_READ;
}
