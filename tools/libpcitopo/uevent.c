/*
 * uevent.c - one kernel uevent as the NETLINK_KOBJECT_UEVENT socket
 * delivers it: "ACTION@DEVPATH\0ACTION=..\0DEVPATH=..\0SUBSYSTEM=..\0..."
 * (lib/kobject_uevent.c: alloc_uevent_skb() writes the header, then the
 * environment of add_uevent_var()).  Pure: no socket here.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/* The value of KEY= in a field, or NULL when the field is another key. */
static const char *field_value(const char *field, const char *key)
{
    size_t n = strlen(key);

    return !strncmp(field, key, n) && field[n] == '=' ? field + n + 1 : NULL;
}

int pt_uevent_parse(const char *buf, size_t len, struct pt_uevent *ev)
{
    const char *p, *end = buf + len, *at, *v;
    size_t hlen;

    memset(ev, 0, sizeof(*ev));
    if ( len < 3 )
        return -EPROTO;
    /* udevd re-broadcasts as "libudev\0" + a binary header on group 2; we bind group 1 only. */
    if ( len >= 8 && !memcmp(buf, "libudev", 8) )
        return -EPROTO;
    hlen = strnlen(buf, len);
    if ( hlen == len )
        return -EINVAL;             /* the header is not NUL-terminated */
    at = memchr(buf, '@', hlen);
    if ( !at || at == buf || at[1] != '/' )
        return -EPROTO;
    if ( end[-1] != '\0' )
        return -EINVAL;             /* a truncated message */

    for ( p = buf + hlen + 1; p < end; p += strlen(p) + 1 )
    {
        if ( !*p )
            continue;
        if ( !strchr(p, '=') )
            return -EINVAL;
        if ( (v = field_value(p, "ACTION")) )
            ev->action = v;
        else if ( (v = field_value(p, "DEVPATH")) )
            ev->devpath = v;
        else if ( (v = field_value(p, "SUBSYSTEM")) )
            ev->subsystem = v;
        else if ( (v = field_value(p, "PCI_SLOT_NAME")) )
            ev->slot_name = v;
        else if ( (v = field_value(p, "DRIVER")) )
            ev->driver = v;
        else if ( (v = field_value(p, "SEQNUM")) )
        {
            char *e;

            ev->seqnum = strtoull(v, &e, 10);
            if ( *e || !*v )
                return -EINVAL;
        }
    }
    /* The header and the environment must agree; the environment is authoritative. */
    if ( !ev->action || !ev->devpath )
        return -EINVAL;
    if ( strlen(ev->action) != (size_t)(at - buf) || strncmp(ev->action, buf, at - buf) ||
         strcmp(ev->devpath, at + 1) )
        return -EINVAL;
    return 0;
}

bool pt_uevent_relevant(const struct pt_uevent *ev)
{
    /* pci: devices come and go, bind, VF links appear (change); pci_bus: buses renumbered. */
    return ev->subsystem && (!strcmp(ev->subsystem, "pci") || !strcmp(ev->subsystem, "pci_bus"));
}
