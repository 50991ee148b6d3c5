/*
 * pcitopo.h - the pcitopod core: the map of every structure and prototype.
 *
 * Pure C + yajl: no Xen and no systemd header may be included by anything in
 * tools/libpcitopo/.  Functions return 0 or a negative errno unless their
 * one-line contract says otherwise; messages for people go into a
 * struct pt_errlog (never to stderr directly, never exit()).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PCITOPO_H
#define PCITOPO_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ */
/* SBDF                                                                */
/* ------------------------------------------------------------------ */

/* A packed segment:bus:device.function, seg << 16 | bus << 8 | devfn. */
typedef uint32_t pt_sbdf_t;

#define PT_SBDF(seg, bus, devfn) \
    ((pt_sbdf_t)(((uint32_t)(seg) << 16) | ((uint32_t)(bus) << 8) | (devfn)))
#define PT_SEG(s)    ((uint16_t)((s) >> 16))
#define PT_BUS(s)    ((uint8_t)((s) >> 8))
#define PT_DEVFN(s)  ((uint8_t)(s))
#define PT_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PT_FUNC(devfn) ((devfn) & 0x07)
#define PT_DEVFN_OF(slot, func) ((uint8_t)(((slot) << 3) | (func)))

#define PT_SBDF_STRLEN 13              /* "ssss:bb:dd.f" + NUL */
#define PT_BDF_STRLEN  8               /* "bb:dd.f" + NUL */

/* Formats "ssss:bb:dd.f" into buf (PT_SBDF_STRLEN bytes); returns buf. */
char *pt_sbdf_fmt(pt_sbdf_t sbdf, char *buf);
/* Formats "bb:dd.f" into buf (PT_BDF_STRLEN bytes); returns buf. */
char *pt_bdf_fmt(pt_sbdf_t sbdf, char *buf);
/* Parses "ssss:bb:dd.f" (or "bb:dd.f" with segment default_seg); -EINVAL if malformed. */
int pt_sbdf_parse(const char *s, uint16_t default_seg, pt_sbdf_t *out);
/* Parses a plain decimal (digits only) in [min, max] into *out; false when it is not one. */
bool pt_parse_uint(const char *v, unsigned min, unsigned max, unsigned *out);

/* ------------------------------------------------------------------ */
/* Messages                                                            */
/* ------------------------------------------------------------------ */

enum pt_severity { PT_SEV_DEBUG, PT_SEV_INFO, PT_SEV_WARN, PT_SEV_ERROR };

struct pt_msg {
    enum pt_severity sev;
    char *text;                         /* names the device, the operation, the cause */
};

/* An append-only list of messages collected by the core. */
struct pt_errlog {
    struct pt_msg *msgs;
    size_t n, cap;
    size_t nerrors;                     /* count of PT_SEV_ERROR entries */
};

/* Appends a printf-formatted message; never fails (drops it on ENOMEM). */
void pt_log(struct pt_errlog *log, enum pt_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Frees every message. */
void pt_errlog_free(struct pt_errlog *log);
/* Writes the messages at or above min severity to f, one per line, prefixed. */
void pt_errlog_print(const struct pt_errlog *log, FILE *f, enum pt_severity min);

/* ------------------------------------------------------------------ */
/* Xen's device classes (enum pdev_type, xen/include/xen/pci.h)        */
/* ------------------------------------------------------------------ */

enum pt_dev_type {
    PT_TYPE_UNKNOWN = 0,        /* "unknown"          DEV_TYPE_PCI_UNKNOWN */
    PT_TYPE_HOST_BRIDGE,        /* "host-bridge"      DEV_TYPE_PCI_HOST_BRIDGE */
    PT_TYPE_PCIE_PORT,          /* "pcie-port"        DEV_TYPE_PCIe_BRIDGE */
    PT_TYPE_PCIE2PCI_BRIDGE,    /* "pcie2pci-bridge"  DEV_TYPE_PCIe2PCI_BRIDGE */
    PT_TYPE_LEGACY_BRIDGE,      /* "legacy-bridge"    DEV_TYPE_LEGACY_PCI_BRIDGE */
    PT_TYPE_PCI2PCIE_BRIDGE,    /* "pci2pcie-bridge"  DEV_TYPE_PCI2PCIe_BRIDGE */
    PT_TYPE_PCIE_ENDPOINT,      /* "pcie-endpoint"    DEV_TYPE_PCIe_ENDPOINT */
    PT_TYPE_PCI_ENDPOINT,       /* "pci-endpoint"     DEV_TYPE_PCI */
    PT_TYPE__COUNT
};

/* The JSON name of a type ("pcie-port", ...). */
const char *pt_type_name(enum pt_dev_type t);
/* Parses a JSON type name; -EINVAL if unknown. */
int pt_type_parse(const char *s, enum pt_dev_type *out);
/* True for every type of PCI-to-PCI bridge (header type 1): port, pcie2pci, legacy, pci2pcie. */
bool pt_type_is_bridge(enum pt_dev_type t);
/* True for the types whose range Xen 4.17 writes into bus2bridge (pcie2pci, legacy). */
bool pt_type_feeds_bus2bridge(enum pt_dev_type t);

/* ------------------------------------------------------------------ */
/* Config space: one parser, used by the scanner and the simulator     */
/* ------------------------------------------------------------------ */

#define PT_CFG_HDR_LEN   64
#define PT_CFG_FULL_LEN  256
#define PT_CFG_EXT_LEN   4096

/* What Xen and Linux read from a function's config space. */
struct pt_cfg_info {
    size_t len;                 /* bytes that were readable */
    uint16_t vendor, device;    /* raw; 0xffff/0xffff on a VF (SR-IOV rule) */
    uint32_t class;             /* 24-bit class code (base, sub, prog-if) */
    uint8_t header_type;        /* byte 0x0e, multifunction bit included */
    uint8_t reg_pri, reg_sec, reg_sub; /* raw bytes 0x18/0x19/0x1a (whatever the header) */
    bool caps_known;            /* capability list could be walked completely */
    uint8_t pcie_pos;           /* offset of the PCIe capability, 0 if none */
    uint8_t pcie_type;          /* PCIe flags port type (PCI_EXP_TYPE_*) */
    uint32_t devcap;            /* PCIe DEVCAP */
    uint16_t devctl2;           /* PCIe DEVCTL2 (bit 5: ARI forwarding) */
    uint16_t sriov_pos;         /* offset of the SR-IOV ext capability, 0 if none */
    uint16_t sriov_ctrl;        /* SR-IOV control (bit 0 VF Enable, bit 3 VF MSE) */
    uint16_t sriov_numvfs, sriov_totalvfs, sriov_offset, sriov_stride, sriov_vf_device;
    uint16_t ari_pos;           /* offset of the ARI ext capability, 0 if none */
    enum pt_dev_type xen_type;  /* pdev_type() as Xen computes it */
    uint8_t phantom_stride;     /* as alloc_pdev() computes it (endpoints) */
    bool msi_enabled;           /* MSI capability's Enable bit: a driver uses MSI now */
    bool msix_enabled;          /* MSI-X capability's Enable bit */
};

/*
 * Parses config space bytes of the function at devfn.  -EINVAL (with a
 * message in *why, a static string) when fewer than 64 bytes, when the
 * header is garbage (vendor 0x0000, header layout > 2) or when the
 * capability list is malformed (loops, points outside the header).  A
 * 64-byte config parses with caps_known = false.
 */
int pt_cfg_parse(const uint8_t *cfg, size_t len, uint8_t devfn,
                 struct pt_cfg_info *out, const char **why);

/* ------------------------------------------------------------------ */
/* dom0's topology (from sysfs)                                        */
/* ------------------------------------------------------------------ */

#define PT_NO_PARENT ((size_t)-1)

struct pt_dev {
    pt_sbdf_t sbdf;
    char *path;                 /* §4.1 physical path, "0000:00:1c.0/00.0" */
    struct pt_cfg_info cfg;     /* parsed config (the authority) */
    uint8_t hdr[PT_CFG_HDR_LEN];/* first 64 raw config bytes */
    enum pt_dev_type type;      /* == cfg.xen_type */
    uint16_t vendor, device;    /* from config; from the vendor/device files for a VF */
    bool is_bridge;             /* header layout 1 */
    uint8_t sec_bus, sub_bus;   /* live range (bridges) */
    bool is_virtfn;             /* has a physfn link */
    pt_sbdf_t physfn;           /* PF, when is_virtfn */
    bool is_extfn;              /* what Linux reports: ARI on its bus, slot != 0, not a VF */
    bool vfs_enabled;           /* PF: SR-IOV VF Enable set */
    int numa_node;              /* -1 when unknown */
    char *driver;               /* bound driver name, NULL when none */
    size_t parent;              /* index of the upstream bridge in pt_topo.devs, or PT_NO_PARENT */
    unsigned depth;             /* number of bridges above it (a VF: its PF's depth + 1) */
};

struct pt_topo {
    /* The ACPI DMAR table dom0 sees (dmar.h; pt_dmar_read_sysfs()), NULL when none. */
    uint8_t *dmar;
    size_t dmar_len;
    char *dmar_file;            /* where it was read */
    int dmar_errno;             /* why it could not be read (ENOENT: absent) */
    struct pt_dev *devs;        /* sorted by sbdf */
    size_t n, cap;
    pt_sbdf_t *unreadable;      /* devices present but not readable (sorted); diff skips them */
    size_t nunreadable, capunreadable;
    size_t nrefused;            /* directory entries that are not canonical SBDFs: the scan is incomplete */
};

/*
 * Scans sysfs_root (normally "/sys"): bus/pci/devices/ entries and what they link
 * to.  Devices that vanish mid-scan are skipped (PT_SEV_INFO); unreadable
 * or garbage ones (an attribute that is not a regular file included) are
 * recorded in topo->unreadable with a PT_SEV_ERROR message, names that are
 * not canonical SBDFs counted in topo->nrefused with one; the scan goes on.
 * Returns 0, or a negative errno (with a PT_SEV_ERROR message naming the
 * path) when the list itself cannot be had whole: no bus/pci/devices,
 * readdir() failing part-way (never a shorter list), a device listed twice
 * (-EEXIST).
 */
int pt_scan_sysfs(const char *sysfs_root, struct pt_topo *topo, struct pt_errlog *log);
/* The scanner's readdir(); a test may point it at a reader that fails or repeats. */
typedef struct dirent *(*pt_readdir_fn)(DIR *dir);
extern pt_readdir_fn pt_scan_readdir;
/* Reads and parses the config file of one device in the tree at this moment.
 * -ENODEV when no such device is present now. */
int pt_sysfs_read_cfg(const char *sysfs_root, pt_sbdf_t sbdf,
                      struct pt_cfg_info *out, struct pt_errlog *log);
/* Finds a device by SBDF (binary search); NULL when absent. */
const struct pt_dev *pt_topo_find(const struct pt_topo *topo, pt_sbdf_t sbdf);
/* True when sbdf was present but unreadable. */
bool pt_topo_is_unreadable(const struct pt_topo *topo, pt_sbdf_t sbdf);
/* Appends a device (takes ownership of path and driver). */
int pt_topo_add(struct pt_topo *topo, const struct pt_dev *dev);
/* Sorts devs by sbdf and recomputes parent/depth from sbdf ranges: call after pt_topo_add()s. */
int pt_topo_finish(struct pt_topo *topo);
/* Frees everything the topology owns. */
void pt_topo_free(struct pt_topo *topo);
/* Reads the DMAR table dom0 sees into topo->dmar (pt_dmar_read_sysfs()); absent or unreadable: NULL, logged. */
void pt_topo_read_dmar(const char *sysfs_root, struct pt_topo *topo, struct pt_errlog *log);

/* ------------------------------------------------------------------ */
/* Xen's view (pcitopod-xen-view/1, DESIGN §4.3)                       */
/* ------------------------------------------------------------------ */

#define PT_DOMID_IO   32753
#define PT_DOMID_XEN  32754
#define PT_OWNER_NONE (-1)      /* JSON null: the add failed in the IOMMU code */
#define PT_NO_RANGE   (-1)

enum pt_view_source { PT_SOURCE_SYSCTL, PT_SOURCE_STOCK, PT_SOURCE_SIM };
/* Which hypervisor's rules apply (for the simulator and the planner). */
enum pt_hv_model { PT_HV_PATCHED, PT_HV_STOCK };

struct pt_xdev {
    pt_sbdf_t sbdf;
    enum pt_dev_type type;
    int sec_bus, sub_bus;       /* recorded range, PT_NO_RANGE when none */
    int owner;                  /* domid, PT_DOMID_IO, PT_DOMID_XEN or PT_OWNER_NONE */
    bool virtfn;
    bool has_physfn;
    pt_sbdf_t physfn;
    bool extfn;
    uint8_t phantom_stride;
};

struct pt_b2b_entry {
    bool map;
    uint8_t bus, devfn;         /* the bridge */
};

struct pt_xseg {
    uint16_t seg;
    bool b2b_known;
    struct pt_b2b_entry b2b[256];
    struct pt_xdev *devs;       /* sorted by sbdf after pt_xview_sort() */
    size_t n, cap;
};

struct pt_xview {
    enum pt_view_source source;
    enum pt_hv_model hv;        /* JSON "hypervisor": "patched"|"stock"; default by source */
    struct pt_xseg *segs;       /* sorted by seg */
    size_t nsegs, capsegs;
};

const char *pt_source_name(enum pt_view_source s);
const char *pt_hv_name(enum pt_hv_model hv);

/* Parses a pcitopod-xen-view/1 document; -EINVAL with a message naming the field. */
int pt_xview_parse(const char *json, size_t len, struct pt_xview *out, struct pt_errlog *log);
/* Loads a view from a file; -errno on I/O, -EINVAL on content (message names file and field). */
int pt_xview_load(const char *file, struct pt_xview *out, struct pt_errlog *log);
/* Serialises a view (pretty when pretty); *out is malloc'ed and NUL-terminated. */
int pt_xview_to_json(const struct pt_xview *v, bool pretty, char **out, size_t *outlen);
/* Writes the view to file atomically (temp file + rename). */
int pt_xview_save(const struct pt_xview *v, const char *file, struct pt_errlog *log);
/* Returns the segment, creating it (b2b_known = true, empty) when create. NULL on ENOMEM/absent. */
struct pt_xseg *pt_xview_seg(struct pt_xview *v, uint16_t seg, bool create);
/* Finds an entry; NULL when absent. */
struct pt_xdev *pt_xview_find(const struct pt_xview *v, pt_sbdf_t sbdf);
/* Adds an entry (sbdf must be new); returns it or NULL on ENOMEM. */
struct pt_xdev *pt_xview_add(struct pt_xview *v, const struct pt_xdev *d);
/* Removes an entry; -ENODEV when absent. */
int pt_xview_remove(struct pt_xview *v, pt_sbdf_t sbdf);
/* Sorts segments and devices. */
void pt_xview_sort(struct pt_xview *v);
/* Deep copy. */
int pt_xview_copy(const struct pt_xview *src, struct pt_xview *dst);
/* Frees everything the view owns. */
void pt_xview_free(struct pt_xview *v);

/* ------------------------------------------------------------------ */
/* The view guard: may anything be removed on dom0's scan?            */
/* ------------------------------------------------------------------ */

/* The share (percent) of Xen's dom0-owned entries a scan may lack by default. */
#define PT_MAX_LOST_PCT_DEFAULT 50

struct pt_view_judgement {
    bool plausible;             /* removals may be based on this scan */
    size_t scanned;             /* devices dom0's scan found, readable or not */
    size_t xen_dom0;            /* entries Xen has in dom0's ownership (owner 0) */
    size_t lost;                /* of those, the ones dom0's scan lacks */
    unsigned lost_pct;          /* lost as a share of xen_dom0, percent rounded up */
    unsigned max_lost_pct;      /* the limit judged against */
    char why[192];              /* when not plausible: the reason, for people */
};

/*
 * Judges whether dom0's scan is plausible enough to remove anything on: not
 * when it found no PCI device at all, nor when it lacks more than
 * max_lost_pct percent of the entries Xen has in dom0's ownership.  Pure.
 */
void pt_view_judge(const struct pt_topo *dom0, const struct pt_xview *xen, unsigned max_lost_pct,
                   struct pt_view_judgement *out);

/* ------------------------------------------------------------------ */
/* The diff (pcitopod-report/1, DESIGN §4.4)                           */
/* ------------------------------------------------------------------ */

enum pt_finding_kind {
    PT_FIND_MISSING,            /* dom0 has it, Xen not */
    PT_FIND_STALE,              /* Xen has it, dom0 not */
    PT_FIND_MISMATCH,           /* same SBDF, different device/type/range/flags/owner-less */
    PT_FIND_BUS2BRIDGE,         /* a bus maps to the wrong bridge or to none */
    PT_FIND_CYCLE,              /* a bus2bridge chain that loops */
    PT_FIND_BLOCKED,            /* inconsistent but owned by a guest: not touched */
    PT_FIND__COUNT
};

/* Bits of pt_finding.what for a mismatch (and the cause of a blocked finding). */
#define PT_MIS_TYPE      0x01
#define PT_MIS_RANGE     0x02
#define PT_MIS_VIRTFN    0x04
#define PT_MIS_PHYSFN    0x08
#define PT_MIS_EXTFN     0x10
#define PT_MIS_PHANTOM   0x20
#define PT_MIS_NO_OWNER  0x40   /* Xen's add failed (owner NULL) */

struct pt_finding {
    enum pt_finding_kind kind;
    pt_sbdf_t sbdf;             /* the device; bus2bridge/cycle: the bridge the bus should map to (else the wrong one) */
    char *path;                 /* physical path where known, else NULL */
    int bus;                    /* bus2bridge/cycle: the bus; else -1 */
    unsigned what;              /* PT_MIS_* bits (mismatch, blocked) */
    enum pt_finding_kind cause; /* blocked: the underlying kind */
    int owner;                  /* blocked: the owner */
    char *detail;               /* for people */
};

struct pt_report {
    struct pt_finding *f;
    size_t n, cap;
    /* What could not be checked (stock Xen): a list of short names, e.g. "bus2bridge". */
    char **unverified;
    size_t nunverified;
    char *iommu_note;           /* pt_check(): the plan's "IOMMU scopes ..." line, else NULL */
};

/* Options of the diff/planner. */
struct pt_policy {
    bool requarantine;          /* repair quarantined (DomIO) devices and quarantine them again */
};

/* Compares dom0 with Xen.  Findings sorted by (kind, sbdf, bus). */
int pt_diff(const struct pt_topo *dom0, const struct pt_xview *xen,
            const struct pt_policy *pol, struct pt_report *out);
/* Number of findings other than blocked. */
size_t pt_report_inconsistent(const struct pt_report *r);
const char *pt_finding_kind_name(enum pt_finding_kind k);
/* pcitopod-report/1 JSON; *out malloc'ed. */
int pt_report_to_json(const struct pt_report *r, bool pretty, char **out, size_t *outlen);
/* A table for people. */
void pt_report_print(const struct pt_report *r, FILE *f);
void pt_report_free(struct pt_report *r);

/*
 * The bus2bridge table Xen should have for dom0's topology: for every bus,
 * the innermost pcie2pci/legacy bridge whose range contains it.
 */
void pt_expected_b2b(const struct pt_topo *dom0, uint16_t seg, struct pt_b2b_entry b2b[256]);
/*
 * True when Xen's bus2bridge entry for seg:bus differs from the expected one
 * or its chain loops (find_upstream_bridge() would fail or name the wrong
 * bridge); false when it is right or Xen does not show the table.
 */
bool pt_b2b_bus_wrong(const struct pt_topo *dom0, const struct pt_xview *xen, uint16_t seg,
                      uint8_t bus);

/*
 * Whether a repair can make the add of an owner-less entry (Xen's add of
 * the device failed) succeed: a conventional PCI device's VT-d set-up
 * walks bus2bridge, so a wrong entry for its bus is repairable; and on
 * the patched hypervisor a DRHD bridge scope follows a bridge that is
 * re-registered (patch 0006), so an entry below a bridge Xen lacks or
 * records with another type or range is.  d is dom0's device at x's BDF.
 */
bool pt_noowner_readd_may_succeed(const struct pt_topo *dom0, const struct pt_xview *xen,
                                  const struct pt_dev *d, const struct pt_xdev *x);

/* ------------------------------------------------------------------ */
/* The plan (pcitopod-plan/1, DESIGN §4.4/§4.5)                        */
/* ------------------------------------------------------------------ */

enum pt_op_kind { PT_OP_REMOVE, PT_OP_ADD, PT_OP_QUARANTINE };

struct pt_op {
    enum pt_op_kind op;
    pt_sbdf_t sbdf;
    enum pt_finding_kind reason; /* why (missing/stale/mismatch/bus2bridge/cycle) */
    const char *why;            /* short reason text ("stale", "missing", "subtree of 0000:05:00.0" ...) - static or owned by the plan's strings */
    bool virtfn;                /* add: XEN_PCI_DEV_VIRTFN with physfn */
    pt_sbdf_t physfn;
    bool extfn;                 /* add: XEN_PCI_DEV_EXTFN */
    int pxm;                    /* add: -1 when unknown (JSON null) */
};

struct pt_blocked {
    pt_sbdf_t sbdf;
    int owner;                  /* PT_OWNER_NONE for an owner-less entry */
    char *reason;
};

struct pt_unrepairable {
    uint16_t seg;
    uint8_t bus;
    char *reason;
};

struct pt_plan {
    struct pt_op *ops;
    size_t n, cap;
    struct pt_blocked *blocked;
    size_t nblocked, capblocked;
    struct pt_unrepairable *unrep; /* stock model: bus2bridge entries no plan can fix */
    size_t nunrep, capunrep;
    char **strings;             /* owned strings referenced by ops[].why */
    size_t nstrings, capstrings;
    char *iommu_note;           /* "IOMMU scopes ..." (dmar.h): known from which table, or why unknown */
};

/* Builds the minimal, safely ordered plan (DESIGN §4.5) for the view's hypervisor model. */
int pt_plan_build(const struct pt_topo *dom0, const struct pt_xview *xen,
                  const struct pt_policy *pol, struct pt_plan *out, struct pt_errlog *log);
/*
 * Turns every finding whose device (or, for bus2bridge/cycle, whose bridge)
 * the plan leaves alone into "blocked", with the plan's reason: what a
 * repair cannot touch is reported as such, not as a failure to repair.
 */
int pt_report_mark_blocked(struct pt_report *r, const struct pt_plan *p);
/* pt_diff(), then pt_report_mark_blocked() with the plan pt_plan_build() would make. */
int pt_check(const struct pt_topo *dom0, const struct pt_xview *xen,
             const struct pt_policy *pol, struct pt_report *out, struct pt_errlog *log);
/* pcitopod-plan/1 JSON; *out malloc'ed. */
int pt_plan_to_json(const struct pt_plan *p, bool pretty, char **out, size_t *outlen);
/* A table for people. */
void pt_plan_print(const struct pt_plan *p, FILE *f);
void pt_plan_free(struct pt_plan *p);

/* ------------------------------------------------------------------ */
/* Applying a plan when operations fail (run.c, pcitopod(8) FAILURES)  */
/* ------------------------------------------------------------------ */

enum pt_op_state { PT_OPST_PENDING, PT_OPST_DONE, PT_OPST_FAILED, PT_OPST_SKIPPED };

/* What became of one operation of a plan. */
struct pt_op_outcome {
    enum pt_op_state state;
    int err;                    /* failed: the negative errno */
    size_t cause;               /* skipped: the index of the failed/skipped op it depends on */
};

struct pt_run {
    struct pt_op_outcome *out;  /* parallel to the plan's ops */
    size_t n, done, failed, skipped;
    size_t first_failed;        /* index of the first failed op, (size_t)-1 when none */
};

/* Issues one operation to Xen: 0 or -errno, the message naming device and cause in log. */
typedef int (*pt_op_exec_fn)(void *ctx, const struct pt_op *op, struct pt_errlog *log);

/*
 * Index of a failed or skipped operation before op j that op j depends on
 * (a remove of a bridge or PF above a device still registered; the re-add
 * of a device whose remove did not happen; an add behind a bridge or PF
 * that is not registered now; a quarantine of a device not re-added), or -1.
 */
ssize_t pt_op_dependency(const struct pt_plan *plan, const struct pt_topo *dom0,
                         const struct pt_xview *before, const struct pt_op_outcome *out,
                         size_t j);
/*
 * Issues ops [0, stop_after) of plan (built on dom0 and before) through
 * exec, skipping those that depend on a failed one and going on with every
 * other; fills *run (free with pt_run_free).  Returns 0, or the errno of
 * the first failed op.
 */
int pt_run_plan(const struct pt_plan *plan, const struct pt_topo *dom0,
                const struct pt_xview *before, pt_op_exec_fn exec, void *ctx,
                size_t stop_after, struct pt_run *run, struct pt_errlog *log);
void pt_run_free(struct pt_run *run);
/*
 * The adds (and re-quarantines) that bring back every device Xen had in
 * before, that dom0 has and that Xen lacks in now, with every bridge or PF
 * above one that Xen lacks now: shallowest first, a VF after its PF, with
 * the flags dom0 reports.  Empty when nothing is stranded.
 */
int pt_plan_restore(const struct pt_topo *dom0, const struct pt_xview *before,
                    const struct pt_xview *now, struct pt_plan *out);
/* Number of devices Xen had in before, dom0 has and Xen lacks in now; each named in log (error). */
size_t pt_stranded(const struct pt_topo *dom0, const struct pt_xview *before,
                   const struct pt_xview *now, struct pt_errlog *log);

/* ------------------------------------------------------------------ */
/* The Xen-registry simulator (xen/drivers/passthrough/pci.c, 4.17)    */
/* ------------------------------------------------------------------ */

/*
 * Config space as the simulated hypervisor sees it at the moment of a call.
 * probe() fills *info for the function at sbdf now; returns -ENODEV when
 * nothing responds (Xen then reads all ones).
 */
struct pt_dmar;                 /* dmar.h */

struct pt_hw {
    int (*probe)(void *ctx, pt_sbdf_t sbdf, struct pt_cfg_info *info);
    void *ctx;
};

/* Hardware backed by a sysfs tree, read at each call. ctx = the sysfs root (const char *). */
int pt_hw_sysfs_probe(void *sysfs_root, pt_sbdf_t sbdf, struct pt_cfg_info *info);
/* Hardware backed by a scanned topology snapshot. ctx = const struct pt_topo *. */
int pt_hw_topo_probe(void *topo, pt_sbdf_t sbdf, struct pt_cfg_info *info);

/* What PHYSDEVOP_pci_device_add carries. */
struct pt_add_info {
    bool extfn;
    bool virtfn;
    pt_sbdf_t physfn;
    int pxm;                    /* -1: no XEN_PCI_DEV_PXM */
};

struct pt_sim {
    enum pt_hv_model hv;
    struct pt_xview state;      /* the registry, exactly as the sysctl would report it */
    struct pt_hw hw;
    bool crashed;               /* stock: pci_remove_device of an owner-less entry panics */
    unsigned long nops;         /* hypercalls served */
    struct pt_dmar *dmar;       /* VT-d scopes (owned; pt_sim_set_dmar), NULL: every add is covered */
    bool dmar_scopes_follow_bridges; /* bridge scopes follow the recorded range (patch 0006); default off */
};

/* Starts a simulator on a copy of view (its hv field picks the model unless hv_override >= 0). */
int pt_sim_init(struct pt_sim *sim, const struct pt_xview *view, int hv_override, struct pt_hw hw);
/* Xen's boot scan (_scan_pci_devices over buses 0..255 of segment seg), then setup_hwdom_pci_devices. */
int pt_sim_boot_scan(struct pt_sim *sim, uint16_t seg);
/* Gives the simulator a copy of a resolved DMAR table (dmar.h); NULL drops it. -ENOMEM. */
int pt_sim_set_dmar(struct pt_sim *sim, const struct pt_dmar *dmar);
/* PHYSDEVOP_pci_device_add: pci_add_device() semantics, incl. auto-add of a VF's unknown PF. */
int pt_sim_add(struct pt_sim *sim, pt_sbdf_t sbdf, const struct pt_add_info *info);
/* PHYSDEVOP_pci_device_remove: pci_remove_device(); -ENODEV if unknown; stock + owner NULL => crashed, -EFAULT. */
int pt_sim_remove(struct pt_sim *sim, pt_sbdf_t sbdf);
/* XEN_DOMCTL_assign_device to domid (PT_DOMID_IO for quarantine). */
int pt_sim_assign(struct pt_sim *sim, pt_sbdf_t sbdf, int domid);
/* Marks an entry's IOMMU add as failed (owner NULL), as for a device outside the DMAR scope. */
int pt_sim_fail_owner(struct pt_sim *sim, pt_sbdf_t sbdf);
/* find_upstream_bridge(): 0 none, 1 found (*bridge set), -1 cycle or unknown segment. */
int pt_sim_find_upstream_bridge(const struct pt_sim *sim, pt_sbdf_t sbdf, pt_sbdf_t *bridge);
/* Applies a plan in order; stops at the first failing op (returns its error, *done = ops done). */
int pt_sim_apply(struct pt_sim *sim, const struct pt_plan *plan, size_t *done, struct pt_errlog *log);
void pt_sim_free(struct pt_sim *sim);

/* ------------------------------------------------------------------ */
/* JSON helpers shared by the documents                                */
/* ------------------------------------------------------------------ */

/* The largest file (and JSON document) pcitopod reads: 16 MiB. */
#define PT_DOC_MAX       (16 * 1024 * 1024)
#define PT_DOC_MAX_TEXT  "16 MiB"
/* The deepest nesting of arrays and objects a JSON document may have. */
#define PT_JSON_MAX_DEPTH 64
/* pt_read_file()'s error for a path that is not a regular file (a device, a FIFO, a directory). */
#define PT_ENOTREG       EMEDIUMTYPE

/*
 * Reads a whole file of at most PT_DOC_MAX bytes into a NUL-terminated
 * buffer (a device such as /dev/null may be read; /dev/zero ends at the
 * cap); -PT_ENOTREG for a directory, -EFBIG past the cap, else -errno.
 */
int pt_read_file(const char *file, char **out, size_t *outlen);
/* pt_read_file() for a document (JSON): -PT_ENOTREG for anything but a regular file. */
int pt_read_doc(const char *file, char **out, size_t *outlen);
/* The words for an error of pt_read_file() ("not a regular file", "larger than 16 MiB, ...", strerror). */
const char *pt_read_file_strerror(int r);
/*
 * Writes a buffer to file atomically (a temp file beside it, fsync, rename,
 * fsync of the directory).  A symlink is followed and its target replaced;
 * an existing file keeps its permissions, a new one gets 0644.
 */
int pt_write_file_atomic(const char *file, const char *buf, size_t len);

#endif /* PCITOPO_H */
