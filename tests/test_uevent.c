/*
 * test_uevent.c - kernel uevent messages as the netlink socket delivers
 * them: the events a renumbering produces (add, remove, bind, unbind,
 * change; pci and pci_bus), messages to ignore (udev's, other subsystems)
 * and malformed ones.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "tap.h"

/* Builds "hdr\0f1\0f2\0..." from a list of fields; returns its length. */
static size_t msg(char *buf, size_t cap, const char *hdr, const char *const *fields)
{
    size_t n = 0;

    n += snprintf(buf + n, cap - n, "%s", hdr) + 1;
    for ( ; *fields; fields++ )
        n += snprintf(buf + n, cap - n, "%s", *fields) + 1;
    return n;
}

static void test_pci_add(void)
{
    char buf[1024];
    struct pt_uevent ev;
    static const char *const f[] = {
        "ACTION=add", "DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:01:00.0",
        "SUBSYSTEM=pci", "PCI_CLASS=20000", "PCI_ID=8086:100E", "PCI_SUBSYS_ID=1AF4:1100",
        "PCI_SLOT_NAME=0000:01:00.0", "MODALIAS=pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00",
        "SEQNUM=1734", NULL };
    size_t n = msg(buf, sizeof(buf), "add@/devices/pci0000:00/0000:00:1c.0/0000:01:00.0", f);

    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK_EQ_STR(ev.action, "add");
    CHECK_EQ_STR(ev.devpath, "/devices/pci0000:00/0000:00:1c.0/0000:01:00.0");
    CHECK_EQ_STR(ev.subsystem, "pci");
    CHECK_EQ_STR(ev.slot_name, "0000:01:00.0");
    CHECK(ev.driver == NULL);
    CHECK_EQ_INT(ev.seqnum, 1734);
    CHECK(pt_uevent_relevant(&ev));
}

static void test_actions(void)
{
    char buf[1024];
    struct pt_uevent ev;
    static const char *const bind[] = {
        "ACTION=bind", "DEVPATH=/devices/pci0000:00/0000:00:02.0", "SUBSYSTEM=pci",
        "DRIVER=nvme", "PCI_SLOT_NAME=0000:00:02.0", "SEQNUM=9", NULL };
    static const char *const unbind[] = {
        "ACTION=unbind", "DEVPATH=/devices/pci0000:00/0000:00:02.0", "SUBSYSTEM=pci",
        "PCI_SLOT_NAME=0000:00:02.0", "SEQNUM=10", NULL };
    static const char *const change[] = {
        "ACTION=change", "DEVPATH=/devices/pci0000:00/0000:00:02.1", "SUBSYSTEM=pci",
        "PCI_SLOT_NAME=0000:00:02.1", "SEQNUM=11", NULL };
    static const char *const bus_remove[] = {
        "ACTION=remove", "DEVPATH=/devices/pci0000:00/0000:00:1c.0/pci_bus/0000:03",
        "SUBSYSTEM=pci_bus", "SEQNUM=12", NULL };
    size_t n;

    n = msg(buf, sizeof(buf), "bind@/devices/pci0000:00/0000:00:02.0", bind);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK_EQ_STR(ev.action, "bind");
    CHECK_EQ_STR(ev.driver, "nvme");
    CHECK(pt_uevent_relevant(&ev));

    n = msg(buf, sizeof(buf), "unbind@/devices/pci0000:00/0000:00:02.0", unbind);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK_EQ_STR(ev.action, "unbind");
    CHECK(ev.driver == NULL);

    n = msg(buf, sizeof(buf), "change@/devices/pci0000:00/0000:00:02.1", change);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK_EQ_STR(ev.action, "change");
    CHECK_EQ_STR(ev.slot_name, "0000:00:02.1");
    CHECK(pt_uevent_relevant(&ev));

    n = msg(buf, sizeof(buf), "remove@/devices/pci0000:00/0000:00:1c.0/pci_bus/0000:03", bus_remove);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK_EQ_STR(ev.subsystem, "pci_bus");
    CHECK(ev.slot_name == NULL);
    CHECK(pt_uevent_relevant(&ev));
}

static void test_irrelevant(void)
{
    char buf[1024];
    struct pt_uevent ev;
    static const char *const usb[] = {
        "ACTION=add", "DEVPATH=/devices/pci0000:00/0000:00:1d.0/usb1", "SUBSYSTEM=usb",
        "SEQNUM=3", NULL };
    static const char *const nosub[] = {
        "ACTION=add", "DEVPATH=/devices/virtual/foo", "SEQNUM=4", NULL };
    size_t n;

    n = msg(buf, sizeof(buf), "add@/devices/pci0000:00/0000:00:1d.0/usb1", usb);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK(!pt_uevent_relevant(&ev));
    n = msg(buf, sizeof(buf), "add@/devices/virtual/foo", nosub);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK(ev.subsystem == NULL);
    CHECK(!pt_uevent_relevant(&ev));
    /* "pci_express" (port services) is not "pci". */
    static const char *const pcie[] = {
        "ACTION=add", "DEVPATH=/devices/x", "SUBSYSTEM=pci_express", NULL };
    n = msg(buf, sizeof(buf), "add@/devices/x", pcie);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK(!pt_uevent_relevant(&ev));
}

static void test_malformed(void)
{
    char buf[1024];
    struct pt_uevent ev;
    static const char *const good[] = {
        "ACTION=add", "DEVPATH=/devices/a", "SUBSYSTEM=pci", "SEQNUM=5", NULL };
    static const char *const other_action[] = {
        "ACTION=remove", "DEVPATH=/devices/a", "SUBSYSTEM=pci", NULL };
    static const char *const other_path[] = {
        "ACTION=add", "DEVPATH=/devices/b", "SUBSYSTEM=pci", NULL };
    static const char *const no_action[] = { "DEVPATH=/devices/a", "SUBSYSTEM=pci", NULL };
    static const char *const no_eq[] = { "ACTION=add", "DEVPATH=/devices/a", "garbage", NULL };
    static const char *const bad_seq[] = { "ACTION=add", "DEVPATH=/devices/a", "SEQNUM=12x", NULL };
    static const char *const none[] = { NULL };
    size_t n;

    n = msg(buf, sizeof(buf), "add@/devices/a", good);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), 0);
    CHECK_EQ_INT(pt_uevent_parse(buf, n - 1, &ev), -EINVAL);       /* truncated: no final NUL */
    CHECK_EQ_INT(pt_uevent_parse(buf, 10, &ev), -EINVAL);          /* cut inside the header */
    CHECK_EQ_INT(pt_uevent_parse(buf, 0, &ev), -EPROTO);
    n = msg(buf, sizeof(buf), "add@/devices/a", other_action);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EINVAL);
    n = msg(buf, sizeof(buf), "add@/devices/a", other_path);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EINVAL);
    n = msg(buf, sizeof(buf), "add@/devices/a", no_action);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EINVAL);
    n = msg(buf, sizeof(buf), "add@/devices/a", no_eq);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EINVAL);
    n = msg(buf, sizeof(buf), "add@/devices/a", bad_seq);
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EINVAL);
    n = msg(buf, sizeof(buf), "add/devices/a", good);               /* no '@' */
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EPROTO);
    n = msg(buf, sizeof(buf), "@/devices/a", good);                 /* no action */
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EPROTO);
    n = msg(buf, sizeof(buf), "add@devices/a", good);               /* not a devpath */
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EPROTO);
    n = msg(buf, sizeof(buf), "add@/devices/a", none);              /* header only */
    CHECK_EQ_INT(pt_uevent_parse(buf, n, &ev), -EINVAL);

    /* udevd's re-broadcast: "libudev\0" and a binary header. */
    memcpy(buf, "libudev\0\xfe\xed\xca\xfe", 12);
    CHECK_EQ_INT(pt_uevent_parse(buf, 12, &ev), -EPROTO);
}

/* Sends len bytes through a filtered datagram socketpair: did they arrive? */
static bool passes(int sv[2], const char *buf, size_t len)
{
    char got[1024];

    if ( send(sv[0], buf, len, 0) != (ssize_t)len )
        return false;
    return recv(sv[1], got, sizeof(got), MSG_DONTWAIT) == (ssize_t)len && !memcmp(got, buf, len);
}

/* The kernel runs the same program on a socketpair as on the netlink socket. */
static void test_filter(void)
{
    char buf[1024];
    int sv[2];
    size_t n;
    static const char *const pci[] = {
        "ACTION=add", "DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:01:00.0", "SUBSYSTEM=pci",
        "SEQNUM=1", NULL };
    static const char *const none[] = { NULL };
    static const struct { const char *hdr; bool pass; } headers[] = {
        /* Every action's length, below a PCI host bridge: pass. */
        { "add@/devices/pci0000:00/0000:00:1c.0/0000:01:00.0", true },
        { "bind@/devices/pci0000:00/0000:00:02.0", true },
        { "remove@/devices/pci0000:00/0000:00:1c.0/pci_bus/0000:03", true },
        { "offline@/devices/pci0001:40/0001:40:00.0", true },
        { "change@/devices/pci0000:00/0000:00:03.0/0000:02:00.0/net/eth0", true },
        /* Elsewhere: dropped in the kernel. */
        { "add@/devices/vif-3-0/net/vif3.0", false },
        { "remove@/devices/virtual/block/loop0", false },
        { "change@/devices/platform/serial8250/tty/ttyS1", false },
        { "add@/devices/pc", false },                   /* too short to be one */
        { "add@/module/pciehp", false },
    };

    if ( socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0 )
    {
        CHECK(!"socketpair");
        return;
    }
    CHECK_EQ_INT(pt_uevent_filter_attach(sv[1]), 0);

    for ( size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++ )
    {
        n = msg(buf, sizeof(buf), headers[i].hdr, headers[i].pass ? pci : none);
        CHECKF(passes(sv, buf, n) == headers[i].pass, "%s: %s", headers[i].hdr,
               headers[i].pass ? "dropped" : "passed");
    }

    /* No '@' where an action ends: the parser decides. */
    memcpy(buf, "libudev\0\xfe\xed\xca\xfe\0\0\0\0\0\0\0\0", 20);
    CHECK(passes(sv, buf, 20));
    n = msg(buf, sizeof(buf), "averyveryverylongaction@/devices/virtual/x", none);
    CHECK(passes(sv, buf, n));

    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    test_pci_add();
    test_actions();
    test_irrelevant();
    test_malformed();
    test_filter();
    return tap_done();
}
