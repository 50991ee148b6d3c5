/*
 * history.h - random bus-renumbering histories: what Xen's registry looks
 * like after a boot and a series of dom0 topology changes, replayed on the
 * simulator (sim.c) over an in-memory tree (fixture.h).
 *
 * A history (facts §1.15, §4.3-4.5):
 *   1. a random topology (root ports, switches, PCIe-to-PCI and nested
 *      legacy bridges, conventional and PCIe endpoints, SR-IOV PFs whose
 *      VFs may sit on an extra bus, ARI, sometimes a second segment);
 *   2. firmware numbering (bus reservations honoured, no SR-IOV reserve)
 *      and Xen's boot scan of every segment;
 *   3. dom0 enumeration, usually under pci=assign-busses: every device of a
 *      bus is reported (PHYSDEVOP_pci_device_add with the flags Linux sends)
 *      before the bridges on that bus are programmed (pass 0 clears, pass 1
 *      numbers depth-first from max + 1, SR-IOV bus ranges reserved);
 *   4. random events: sysfs remove of a subtree + rescan, hot-plug of a
 *      device or a bridge with devices behind it (arriving with 0/0 bus
 *      registers), hot-unplug (surprise or orderly), SR-IOV enable/disable,
 *      assignment to a guest or quarantine, an owner-less entry.
 *
 * Simplification: when dom0 rediscovers a subtree (rescan, hot-plug) only
 * the new bridges are (re)numbered, from the first bus number no live bus
 * uses in the parent's range (pci_hp_add_bridge()); live siblings keep their
 * numbers.  Real Linux reprograms live siblings on a rescan under
 * assign-busses, which the testbed shows confusing dom0 itself.
 *
 * On the stock model an event whose removals would include an owner-less
 * entry is skipped: Linux would issue the remove and Xen 4.17.7 panics.
 */
#ifndef PT_HISTORY_H
#define PT_HISTORY_H

#include <stdbool.h>
#include <stdio.h>

#include "fixture.h"
#include "pcitopo.h"

enum hist_event {
    HIST_EV_RESCAN,         /* sysfs remove of a subtree, then rescan of its bus */
    HIST_EV_HOTPLUG,        /* a device or a bridge with devices arrives in a slot */
    HIST_EV_UNPLUG,         /* a device in a slot goes away (surprise or orderly) */
    HIST_EV_SRIOV_ON,       /* sriov_numvfs = n */
    HIST_EV_SRIOV_OFF,      /* sriov_numvfs = 0 */
    HIST_EV_ASSIGN,         /* assigned to a guest or quarantined (DomIO) */
    HIST_EV_FAIL_OWNER,     /* an entry whose IOMMU set-up failed (owner NULL) */
    HIST_EV__COUNT
};

struct hist_opts {
    unsigned maxdev;        /* about this many devices (0: 18) */
    unsigned nevents;       /* random events after boot (0: 2..9 from the seed) */
    FILE *trace;            /* one line per step when set */
};

struct hist_stats {
    bool assign_busses;     /* dom0 booted with pci=assign-busses */
    unsigned hpbussize;     /* pci=hpbussize= (1: Linux's default) */
    unsigned nsegs;
    unsigned adds, add_errors;          /* PHYSDEVOP_pci_device_add issued / failed */
    unsigned removes, remove_errors;
    unsigned events[HIST_EV__COUNT];    /* events that happened */
    unsigned skipped;       /* events that were not possible (no room, owner-less on stock) */
    unsigned self_range;    /* bridges recorded with a range holding their own bus (the seed) */
    unsigned incoherent;    /* devices of the final tree dom0 does not know or cannot reach: 0 */
};

struct hist {
    struct fx_tree *tree;   /* dom0's truth at the end (owned) */
    struct pt_sim sim;      /* Xen's registry at the end; sim.hw reads tree (fx_hw_probe) */
    struct hist_stats st;
};

/* Runs the random history of seed on a simulator of model hv; 0 or -errno. */
int hist_run(unsigned seed, enum pt_hv_model hv, const struct hist_opts *o, struct hist *h);
/*
 * The seed thread's case, deterministic: a PF whose VFs sit on bus 1, then
 * a root port with a PCIe-to-PCI bridge and a conventional device.  The
 * firmware numbers the bridge 01:00.0 with 2..2; under assign-busses Linux
 * reserves bus 1 for the VFs, so the bridge is reported as 02:00.0 while it
 * still reads 2..2 (bus2bridge[2] = 02:00.0 on stock).
 */
int hist_seed_case(enum pt_hv_model hv, FILE *trace, struct hist *h);
/* Frees the tree and the simulator. */
void hist_free(struct hist *h);
/* A short name of an event ("rescan", ...). */
const char *hist_event_name(enum hist_event e);

#endif /* PT_HISTORY_H */
