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
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/*
 * The filter: for each offset k where an action could end (the kernel's
 * actions are 3 to 7 characters: kobject_actions[] in lib/kobject_uevent.c;
 * up to 15 allows for new ones), "if byte k is '@', accept exactly when the
 * 12 bytes after it are "/devices/pci"".  Classic BPF has no loops: one
 * block of FILTER_BLOCK instructions per offset, then three returns.  Loads
 * are big-endian words; a load past the end of a message rejects it.
 */
#define FILTER_FIRST_AT   3
#define FILTER_LAST_AT    15
#define FILTER_BLOCKS     (FILTER_LAST_AT - FILTER_FIRST_AT + 1)
#define FILTER_BLOCK      8
#define FILTER_LEN        (FILTER_BLOCKS * FILTER_BLOCK + 3)

int pt_uevent_filter_attach(int fd)
{
    /* "/devices/pci" as three big-endian words. */
    static const uint32_t word[3] = { 0x2f646576, 0x69636573, 0x2f706369 };
    const unsigned no_at = FILTER_BLOCKS * FILTER_BLOCK, reject = no_at + 1, accept = no_at + 2;
    struct sock_filter prog[FILTER_LEN];
    struct sock_fprog fprog = { .len = FILTER_LEN, .filter = prog };
    unsigned i = 0, k, w;

    for ( k = FILTER_FIRST_AT; k <= FILTER_LAST_AT; k++ )
    {
        prog[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, k);
        i++;
        /* Not '@': on to the next block. */
        prog[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, '@', 0, FILTER_BLOCK - 2);
        i++;
        for ( w = 0; w < 3; w++ )
        {
            unsigned jt = w < 2 ? 0 : accept - (i + 2), jf = reject - (i + 2);

            prog[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, k + 1 + 4 * w);
            i++;
            prog[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word[w], jt, jf);
            i++;
        }
    }
    prog[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);     /* no_at */
    prog[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);              /* reject */
    prog[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffff);     /* accept */
    if ( setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0 )
        return -errno;
    return 0;
}
