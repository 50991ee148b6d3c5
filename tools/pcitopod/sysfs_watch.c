/*
 * sysfs_watch.c - the kernel's PCI uevents, for the daemon's scheduler.
 *
 * Why a raw NETLINK_KOBJECT_UEVENT socket and not sd-device's monitor:
 *  - sd_device_monitor_new() in libsystemd 252 listens to udev's multicast
 *    group (2); the kernel group (1) is reachable only through an internal
 *    constructor.  The testbed's initramfs dom0 runs no udevd, and even
 *    with udevd we want the kernel's event, not udev's processed copy
 *    delivered after rules ran (facts §4.2: at `add` time Linux has already
 *    reported the device to Xen; waiting for udev adds nothing).
 *  - sd-device swallows ENOBUFS (device_monitor_receive_device() logs it
 *    and returns), and a lost event is exactly what must trigger a full
 *    pass here.
 * So: a socket bound to group 1, a receive buffer forced to 128 MiB like
 * udevd's (SO_RCVBUFFORCE needs CAP_NET_ADMIN; fall back to SO_RCVBUF),
 * non-blocking, a socket filter that keeps the events of devices outside
 * /devices/pci* in the kernel (pt_uevent_filter_attach(): a dom0 sees a
 * vif and a vbd come and go with every guest), one sd_event_add_io()
 * source that drains every pending message per wake-up.  Subsystems pci
 * and pci_bus, every action (add, remove, bind, unbind, change).  Every pass is a full scan, so an event
 * is only a hint that something may have changed; ENOBUFS says the same
 * about events we will never see.
 */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pass.h"

#define UEVENT_GROUP_KERNEL 1
#define RCVBUF_SIZE (128 * 1024 * 1024)

struct pt_watch {
    int fd;
    sd_event_source *src;
    pt_watch_fn fn;
    void *userdata;
};

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct pt_watch *w = userdata;
    char buf[8192 + 1];

    for ( ;; )
    {
        struct sockaddr_nl snl;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr mh = { .msg_name = &snl, .msg_namelen = sizeof(snl),
                             .msg_iov = &iov, .msg_iovlen = 1 };
        struct pt_uevent ev;
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

        if ( n < 0 )
        {
            if ( errno == EINTR )
                continue;
            if ( errno == EAGAIN || errno == EWOULDBLOCK )
                break;
            if ( errno == ENOBUFS )
            {
                /* The kernel dropped events: we do not know what changed. */
                pt_jlog(LOG_WARNING, NULL, NULL, NULL, NULL,
                        "uevent socket overflowed (ENOBUFS): events were lost, a full pass follows");
                w->fn(w->userdata, NULL);
                continue;
            }
            pt_jlog(LOG_ERR, NULL, NULL, NULL, NULL, "reading the uevent socket failed: %s",
                    strerror(errno));
            /* Treat it like lost events: a pass will look at everything. */
            w->fn(w->userdata, NULL);
            break;
        }
        /* Only the kernel (port 0) speaks on group 1; ignore anything else. */
        if ( mh.msg_namelen != sizeof(snl) || snl.nl_pid != 0 )
            continue;
        if ( mh.msg_flags & MSG_TRUNC )
        {
            pt_jlog(LOG_WARNING, NULL, NULL, NULL, NULL,
                    "a uevent larger than %zu bytes was truncated: treating it as lost events",
                    sizeof(buf) - 1);
            w->fn(w->userdata, NULL);
            continue;
        }
        buf[n] = '\0';
        if ( pt_uevent_parse(buf, (size_t)n, &ev) < 0 )
        {
            pt_jlog(LOG_DEBUG, NULL, NULL, NULL, NULL, "ignoring an unparsable uevent of %zd bytes", n);
            continue;
        }
        if ( !pt_uevent_relevant(&ev) )
            continue;
        pt_jlog(LOG_DEBUG, NULL, NULL, NULL, NULL, "uevent %llu: %s %s (%s%s%s)", ev.seqnum,
                ev.action, ev.devpath, ev.subsystem, ev.slot_name ? " " : "",
                ev.slot_name ? ev.slot_name : "");
        w->fn(w->userdata, &ev);
    }
    return 0;
}

int pt_watch_open(sd_event *e, pt_watch_fn fn, void *userdata, struct pt_watch **out,
                  struct pt_errlog *log)
{
    struct sockaddr_nl snl = { .nl_family = AF_NETLINK, .nl_groups = UEVENT_GROUP_KERNEL };
    struct pt_watch *w;
    int size = RCVBUF_SIZE, rc;

    *out = NULL;
    w = calloc(1, sizeof(*w));
    if ( !w )
        return -ENOMEM;
    w->fn = fn;
    w->userdata = userdata;
    w->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    if ( w->fd < 0 )
    {
        rc = -errno;
        pt_log(log, PT_SEV_ERROR, "cannot open the kernel uevent socket (NETLINK_KOBJECT_UEVENT): %s",
               strerror(errno));
        free(w);
        return rc;
    }
    /* Like udevd: a storm of VF events must not overflow before we drain it. */
    if ( setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
         setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0 )
        pt_log(log, PT_SEV_WARN, "cannot enlarge the uevent socket's receive buffer: %s",
               strerror(errno));
    /* Before bind: events of devices outside /devices/pci* never queue up. */
    rc = pt_uevent_filter_attach(w->fd);
    if ( rc < 0 )
        pt_log(log, PT_SEV_WARN,
               "cannot attach the uevent socket filter: %s (every device's events will wake the daemon)",
               strerror(-rc));
    if ( bind(w->fd, (struct sockaddr *)&snl, sizeof(snl)) < 0 )
    {
        rc = -errno;
        pt_log(log, PT_SEV_ERROR, "cannot bind the uevent socket to the kernel group: %s",
               strerror(errno));
        close(w->fd);
        free(w);
        return rc;
    }
    rc = sd_event_add_io(e, &w->src, w->fd, EPOLLIN, on_readable, w);
    if ( rc < 0 )
    {
        pt_log(log, PT_SEV_ERROR, "cannot watch the uevent socket: %s", strerror(-rc));
        close(w->fd);
        free(w);
        return rc;
    }
    sd_event_source_set_description(w->src, "uevent");
    *out = w;
    return 0;
}

void pt_watch_close(struct pt_watch *w)
{
    if ( !w )
        return;
    sd_event_source_disable_unref(w->src);
    close(w->fd);
    free(w);
}
