/*
 * fixture.h - the test fixture generator: an in-memory PCI tree that can be
 * renumbered like Linux (pci=assign-busses) or firmware (SeaBIOS) would, read
 * as "hardware" by the simulator (fx_hw_probe), turned into the topology the
 * scanner would report (fx_topo), and written out as a tree that mirrors real
 * Linux sysfs (fx_write_sysfs) for the scanner, the CLI and the benchmark.
 *
 * Model
 * -----
 * A tree has root buses (struct fx_dev of kind FX_ROOT_BUS, one per
 * segment:bus, created by fx_root()).  Every device sits on a bus: either a
 * root bus or the secondary bus of a bridge (its `parent`).  A device's BDF
 * is always computed from the *current* registers: bus = parent's secondary
 * bus register (a root bus: its number), devfn = slot.func.  So renumbering
 * (fx_number_busses, fx_set_bridge_regs) moves every device below.
 *
 * VFs are not children of a bridge: they hang off their PF (pf->vfs[]), are
 * created/removed by fx_set_numvfs(), and sit at the PF's routing ID +
 * offset + i * stride (possibly on a bus above the PF's, with no bridge).
 *
 * Physical path (DESIGN §4.1): "SSSS:BB:DD.F" of the device on the root bus,
 * then "/DD.F" per level.  A VF's element is its dev.fn under the PF's
 * parent (it is the PF's sibling in sysfs, as in Linux); a VF that sits N
 * buses above its PF's bus gets the element "+N:DD.F" so that it cannot
 * collide with a real device (the scanner derives the same).
 *
 * Text description (fx_parse; used by tests/mktree and the benchmark)
 * ----------------------------------------------------------------------
 * One device per line; '#' starts a comment; blank lines are ignored.
 * Indentation (spaces; a tab counts as 8) nests a device under the nearest
 * less-indented bridge line above it.
 *
 *     root SSSS:BB                  start a root bus (at indentation 0);
 *                                   without one, lines go to root 0000:00
 *     DD.F KIND [OPTION...]         a device on the enclosing bus
 *
 * KIND is one of (fx_kind_parse):
 *     host        host bridge (class 0x060000, conventional)
 *     rootport    PCIe root port               (PCIe port type 4)
 *     upstream    PCIe switch upstream port    (type 5)
 *     downstream  PCIe switch downstream port  (type 6)
 *     pcie2pci    PCIe-to-PCI bridge           (type 7)
 *     legacy      PCI-to-PCI bridge, no PCIe capability
 *     pci2pcie    PCI-to-PCIe bridge           (type 8)
 *     ep          PCIe endpoint                (type 0)
 *     pciep       conventional PCI endpoint
 *     pf          PCIe endpoint with an SR-IOV capability
 * OPTIONs (NAME=VALUE, numbers in C syntax: 0x.. hex, else decimal):
 *     vendor= device= class=    IDs (class is the 24-bit code)
 *     driver=NAME               bound driver (a "driver" link)
 *     numa=N                    numa_node (default -1)
 *     ari                       the device has an ARI capability
 *     arifwd                    bridge: ARI forwarding enabled (DEVCTL2 bit 5)
 *     phantom=N                 DEVCAP phantom-functions field (0..3)
 *     mf                        force the multifunction header bit
 *     reserve=N                 bridge: firmware bus reservation (QEMU bus-reserve)
 *     pri= sec= sub=            bridge: raw bus registers (applied by fx_parse
 *                               and again by fx_apply_explicit after numbering)
 *     totalvfs= offset= stride= vfdev=   pf: SR-IOV capability
 *     numvfs=N                  pf: create N VFs (VF Enable set when N > 0)
 *
 * Example:
 *     root 0000:00
 *       00.0 host
 *       1c.0 rootport reserve=3
 *         00.0 ep vendor=0x8086 device=0x10d3 driver=e1000e
 *       1c.1 rootport
 *         00.0 pcie2pci
 *           01.0 pciep driver=e1000
 *       02.0 pf totalvfs=4 numvfs=2 driver=igb
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PT_FIXTURE_H
#define PT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pcitopo.h"

enum fx_kind {
    FX_ROOT_BUS = 0,        /* not a device: a root bus (fx_root) */
    FX_HOST_BRIDGE,
    FX_ROOT_PORT,
    FX_SWITCH_UP,
    FX_SWITCH_DOWN,
    FX_PCIE2PCI,
    FX_LEGACY_BRIDGE,
    FX_PCI2PCIE,
    FX_PCIE_EP,
    FX_PCI_EP,
    FX_SRIOV_PF,
    FX_VF,                  /* only through fx_set_numvfs() */
    FX_KIND__COUNT
};

struct fx_tree;

/* One node.  Fields may be read freely; change them only where noted. */
struct fx_dev {
    struct fx_tree *tree;
    enum fx_kind kind;
    struct fx_dev *parent;      /* bus owner: a bridge or a root bus; a VF: its PF's parent */
    struct fx_dev **kids;       /* devices on this node's (secondary) bus, in insertion order */
    size_t nkids, capkids;

    uint16_t seg;               /* every node: its segment */
    uint8_t slot, func;         /* devices */

    /* Writable before writing/probing: */
    uint16_t vendor, device;    /* defaults per kind (a VF's config still reads 0xffff) */
    uint32_t class;             /* 24-bit class code, default per kind */
    bool multifunction;         /* header bit 0x80 forced; set anyway when a sibling fn exists */
    bool ari_cap;               /* ARI extended capability */
    bool ari_fwd;               /* bridge: DEVCTL2 ARI forwarding enable */
    uint8_t phantom;            /* DEVCAP phantom-functions field, 0..3 */
    int numa_node;              /* -1 unknown */
    char *driver;               /* malloc'ed, NULL: unbound (use fx_set_driver) */

    /* Bridges (and FX_ROOT_BUS: sec = the root bus number, never renumbered). */
    uint8_t pri, sec, sub;      /* raw bus-number registers; change via fx_set_bridge_regs */
    unsigned bus_reserve;       /* firmware mode: minimum sub - sec */
    bool regs_explicit;         /* fx_parse saw pri=/sec=/sub= */
    uint8_t x_pri, x_sec, x_sub;/* those values */

    /* SR-IOV PF. */
    uint16_t totalvfs, vf_offset, vf_stride, vf_device;
    uint16_t numvfs;            /* read-only: use fx_set_numvfs */
    bool vf_enable;             /* VF Enable bit (set by fx_set_numvfs when n > 0) */
    struct fx_dev **vfs;        /* numvfs VFs */

    /* VF. */
    struct fx_dev *pf;
    unsigned vf_index;

    unsigned id;                /* unique, stable identity (for tests) */
};

/* How fx_number_busses assigns bus numbers. */
enum fx_number_mode {
    FX_NUMBER_LINUX,        /* pci=assign-busses: depth-first, SR-IOV VF buses reserved, no slack */
    FX_NUMBER_FIRMWARE,     /* SeaBIOS: depth-first, sub >= sec + bus_reserve, no SR-IOV reserve */
};

/* A new empty tree (no root bus yet); NULL on ENOMEM. */
struct fx_tree *fx_new(void);
/* Frees the tree and every node. */
void fx_free(struct fx_tree *t);
/* Returns the root bus seg:bus, creating it; NULL on ENOMEM. */
struct fx_dev *fx_root(struct fx_tree *t, uint16_t seg, uint8_t bus);
/*
 * Adds a device of kind (not FX_ROOT_BUS/FX_VF) at slot.func on parent's bus
 * (parent: a root bus or a bridge).  Defaults: IDs per kind, numa -1, for
 * FX_SRIOV_PF totalvfs 8, offset 1, stride 1.  NULL on ENOMEM or misuse.
 */
struct fx_dev *fx_add(struct fx_tree *t, struct fx_dev *parent, unsigned slot,
                      unsigned func, enum fx_kind kind);
/* Removes a device and everything below it, its VFs included (not a VF: use fx_set_numvfs). */
void fx_remove(struct fx_dev *d);
/* Sets the bus-number registers of a bridge (moves everything below it). */
void fx_set_bridge_regs(struct fx_dev *bridge, uint8_t pri, uint8_t sec, uint8_t sub);
/* Creates/removes VFs so that the PF has n (<= totalvfs), VF Enable = n > 0; -EINVAL/-ENOMEM. */
int fx_set_numvfs(struct fx_dev *pf, unsigned n);
/* Sets (or with NULL clears) the bound driver name; -ENOMEM. */
int fx_set_driver(struct fx_dev *d, const char *name);
/* Assigns bus numbers to every bridge, depth-first per root bus, as mode says. */
void fx_number_busses(struct fx_tree *t, enum fx_number_mode mode);
/* Re-applies the explicit pri=/sec=/sub= registers of a parsed description. */
void fx_apply_explicit(struct fx_tree *t);

/* True for the kinds with a type-1 header. */
bool fx_kind_is_bridge(enum fx_kind k);
/* The description name of a kind ("rootport", ...). */
const char *fx_kind_name(enum fx_kind k);
/* Parses a description kind name; -EINVAL if unknown. */
int fx_kind_parse(const char *s, enum fx_kind *out);

/* The device's SBDF now (from the current registers). */
pt_sbdf_t fx_sbdf(const struct fx_dev *d);
/* Writes the §4.1 physical path into buf (size bytes); returns buf. */
char *fx_path(const struct fx_dev *d, char *buf, size_t size);
/* Every device (not root buses), depth-first, PFs followed by their VFs; *out malloc'ed. */
int fx_devices(const struct fx_tree *t, struct fx_dev ***out, size_t *n);
/* Number of devices (VFs included). */
size_t fx_count(const struct fx_tree *t);
/* The device that answers at sbdf now (config routing through the bridges); NULL if none. */
struct fx_dev *fx_find(const struct fx_tree *t, pt_sbdf_t sbdf);
/* A device by its id; NULL if gone. */
struct fx_dev *fx_by_id(const struct fx_tree *t, unsigned id);

/* Builds the config space of d as the writer writes it; *len = 4096 (PCIe) or 256. */
void fx_config(const struct fx_dev *d, uint8_t cfg[PT_CFG_EXT_LEN], size_t *len);
/* struct pt_hw probe over an fx_tree (ctx): config of whatever answers at sbdf now; -ENODEV if none. */
int fx_hw_probe(void *tree, pt_sbdf_t sbdf, struct pt_cfg_info *info);
/*
 * The topology pt_scan_sysfs() would report for fx_write_sysfs() of this
 * tree now (a device whose SBDF an earlier one in fx_devices() order holds
 * is left out, as in the written tree; a VF's cfg parsed from 256 bytes,
 * as the scanner reads it).
 */
int fx_topo(const struct fx_tree *t, struct pt_topo *out);

/*
 * Writes the tree as a sysfs root into dir (created if needed; any previous
 * dir/devices and dir/bus are removed first): devices/pciSSSS:BB/... nested
 * under the bridges, bus/pci/devices/ relative symlinks, drivers, per-device
 * config/class/vendor/device/numa_node/ari_enabled/..., physfn/virtfnN.
 * Returns 0 or -errno.
 */
int fx_write_sysfs(const struct fx_tree *t, const char *dir);

/*
 * Parses a text description (format above) into a new tree; bus numbers
 * are Linux's (fx_number_busses FX_NUMBER_LINUX) followed by the explicit
 * registers.  -EINVAL with a message "line N: ..." in errbuf.
 */
int fx_parse(const char *text, struct fx_tree **out, char *errbuf, size_t errlen);
/* Reads a description file and parses it; -errno on I/O. */
int fx_parse_file(const char *file, struct fx_tree **out, char *errbuf, size_t errlen);
/*
 * A synthetic tree of about ndev devices (deterministic for a seed): root
 * ports with endpoints, switches, PCIe-to-PCI and legacy bridges with
 * conventional devices, SR-IOV PFs with many VFs, a second segment when
 * large.  Bus numbers assigned Linux-style.  NULL on ENOMEM.
 */
struct fx_tree *fx_gen(size_t ndev, unsigned seed);
/* A small random tree for property tests (every kind may appear), Linux-numbered. */
struct fx_tree *fx_random(unsigned seed, size_t maxdev);

/* Fault injection on a written tree (dir = the sysfs root).  0 or -errno. */
/* Truncates a device's config file to len bytes. */
int fx_fault_truncate_config(const char *dir, pt_sbdf_t sbdf, size_t len);
/* Overwrites a device's config with garbage (vendor 0, header layout 0x7f). */
int fx_fault_garbage_config(const char *dir, pt_sbdf_t sbdf);
/* Makes the capability list of a device's config loop (0x40 -> 0x40). */
int fx_fault_cap_loop(const char *dir, pt_sbdf_t sbdf);
/* Adds bus/pci/devices/NAME pointing to a directory that does not exist. */
int fx_fault_dangling_link(const char *dir, const char *name);
/* Deletes a device's directory (and below), leaving its bus/pci/devices link. */
int fx_fault_remove_dir(const char *dir, pt_sbdf_t sbdf);
/* Deletes one attribute file (or link) of a device ("numa_node", "driver", ...). */
int fx_fault_remove_file(const char *dir, pt_sbdf_t sbdf, const char *file);
/* Recursively removes a directory tree (for test clean-up); 0 or -errno. */
int fx_rmtree(const char *dir);

/*
 * ACPI DMAR tables (tests/fx_dmar.c), for the VT-d scope model (dmar.h).
 * A builder writes the bytes exactly as firmware would (lengths and the
 * checksum fixed by fx_dmar_finish); a spec string is the short form mktree
 * takes with --dmar:
 *     DRHD[;DRHD...]      DRHD = BASE[@SEG][,all][,SCOPE...]
 *     SCOPE = KIND:BB:DD.F[/DD.F...]   KIND = endpoint|bridge|ioapic|hpet|namespace
 * e.g. "fed90000,bridge:00:10.0,bridge:00:11.0;fed91000,all,ioapic:00:1f.0"
 * (BASE hex, SEG and BB hex; the path starts at bus BB).
 */
struct fx_dmar {
    uint8_t buf[8192];
    size_t len;
    size_t drhd;                /* offset of the open DRHD, 0 when none */
    bool overflow;
};

/* Starts a table: header with the given signature ("DMAR"/"RMAD"), host address width - 1, flags. */
void fx_dmar_init(struct fx_dmar *b, const char *sig, uint8_t width, uint8_t flags);
/* Opens a DRHD (closing the previous one). */
void fx_dmar_drhd(struct fx_dmar *b, uint16_t seg, uint64_t base, bool include_all);
/* Appends a device scope to the open DRHD; path: npath (device, function) pairs. */
void fx_dmar_scope(struct fx_dmar *b, uint8_t type, uint8_t enum_id, uint8_t start_bus,
                   const uint8_t (*path)[2], unsigned npath);
/* Appends another remapping structure of type and total length len (zero-filled body). */
void fx_dmar_other(struct fx_dmar *b, uint16_t type, uint16_t len);
/* Closes the open DRHD, sets the table length and checksum; returns the length (0 on overflow). */
size_t fx_dmar_finish(struct fx_dmar *b);
/* Builds a table from a spec (above) into b; -EINVAL with a message in err. */
int fx_dmar_from_spec(struct fx_dmar *b, const char *spec, char *err, size_t errlen);
/* Writes table as DIR/firmware/acpi/tables/NAME (NAME "DMAR" or "RMAD"). 0 or -errno. */
int fx_write_dmar(const char *dir, const char *name, const uint8_t *table, size_t len);
/* Gives topo a copy of table as if the scanner had read it from file. -ENOMEM. */
int fx_topo_set_dmar(struct pt_topo *topo, const uint8_t *table, size_t len, const char *file);

#endif /* PT_FIXTURE_H */
