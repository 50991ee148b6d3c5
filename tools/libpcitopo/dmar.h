/*
 * dmar.h - the ACPI DMAR table (Intel VT-d) and the IOMMU-scope model built
 * from it: which PCI devices Xen 4.17's VT-d code will accept, as
 * xen/drivers/passthrough/vtd/dmar.c decides it.
 *
 * Pure C: no Xen header.  Parsing (pt_dmar_parse) is separate from
 * resolution (pt_dmar_resolve): a device scope is a path of (device,
 * function) pairs below a start bus, and turning it into a BDF needs the
 * secondary bus numbers of the bridges on the path *as the firmware had
 * them when Xen parsed the table at boot*, which dom0 cannot read any more
 * once it has renumbered.  The caller gives those through a callback
 * (pt_dmar_range_xen: the range Xen recorded; pt_dmar_range_dom0: the live
 * range, right only when nothing was renumbered).
 *
 * AMD's IVRS is not modelled.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PCITOPO_DMAR_H
#define PCITOPO_DMAR_H

#include "pcitopo.h"

#define PT_DMAR_HDR_LEN        48      /* ACPI header (36) + width, flags, 10 reserved */
#define PT_DMAR_DRHD_LEN       16      /* type, length, flags, size, segment, base */
#define PT_DMAR_SCOPE_MIN_LEN  8       /* Xen's MIN_SCOPE_LEN: header + one path element */
#define PT_DMAR_MAX_PATH       124     /* (255 - 6) / 2 */

/* Remapping structure types. */
#define PT_DMAR_TYPE_DRHD  0
#define PT_DMAR_TYPE_RMRR  1
#define PT_DMAR_TYPE_ATSR  2
#define PT_DMAR_TYPE_RHSA  3
#define PT_DMAR_TYPE_ANDD  4
#define PT_DMAR_TYPE_SATC  5

#define PT_DMAR_INCLUDE_PCI_ALL 0x01   /* DRHD flags bit 0 */

/* Device scope entry types. */
enum pt_dmar_scope_type {
    PT_DMAR_SCOPE_ENDPOINT = 1,
    PT_DMAR_SCOPE_BRIDGE = 2,
    PT_DMAR_SCOPE_IOAPIC = 3,
    PT_DMAR_SCOPE_HPET = 4,
    PT_DMAR_SCOPE_NAMESPACE = 5,
};

struct pt_dmar_scope {
    uint8_t type;                       /* enum pt_dmar_scope_type (other values kept, ignored) */
    uint8_t enum_id;
    uint8_t start_bus;
    uint8_t npath;                      /* >= 1 */
    uint8_t path[PT_DMAR_MAX_PATH];     /* devfn of each element */
    /* Filled by pt_dmar_resolve(): */
    bool resolved;                      /* false: a bridge on the path is unknown */
    pt_sbdf_t bdf;                      /* the device the path leads to */
    int sec, sub;                       /* bridge scope: its range at boot; else -1 */
    char src;                           /* 'x' Xen's recorded range, 'd' dom0's live range */
};

struct pt_dmar_drhd {
    uint64_t base;                      /* register base: names the unit */
    uint16_t seg;
    bool include_all;
    struct pt_dmar_scope *scopes;
    size_t nscopes;
    /* Filled by pt_dmar_resolve(): */
    uint8_t buses[32];                  /* bitmap of bridge-scope buses (dmar_scope_add_buses) */
};

struct pt_dmar {
    uint8_t width;                      /* host address width - 1, as in the table */
    uint8_t flags;
    struct pt_dmar_drhd *units;         /* table order */
    size_t n;
    bool resolved;                      /* pt_dmar_resolve() ran */
    bool complete;                      /* every scope resolved */
    bool follow_bridges;                /* bridge scopes follow the recorded range (patch 0006); off: Xen 4.17 */
};

/*
 * Gives the bus range of the bridge at sbdf: 0 with *sec and *sub set, or
 * -ENOENT when the source does not know the bridge.
 */
typedef int (*pt_dmar_range_fn)(void *ctx, pt_sbdf_t bridge, uint8_t *sec, uint8_t *sub);

/*
 * Parses a DMAR table (signature "DMAR", or "RMAD" as Xen leaves it for
 * dom0); -EINVAL with a message in err naming the offset and the field
 * when anything is truncated, out of bounds or malformed; -ENOMEM.
 */
int pt_dmar_parse(const uint8_t *buf, size_t len, struct pt_dmar *out, char *err, size_t errlen);
/*
 * Resolves every scope's path as Xen's acpi_parse_dev_scope() does at boot
 * (range first, each fallback after it when it returns -ENOENT) and fills
 * each unit's bus bitmap; 0 (d->complete says whether every scope was
 * resolved) or -EINVAL when d was not parsed.
 */
int pt_dmar_resolve(struct pt_dmar *d, pt_dmar_range_fn range, void *ctx,
                    pt_dmar_range_fn fallback, void *fctx);
/* pt_dmar_range_fn over a Xen view (ctx: const struct pt_xview *): the range Xen recorded. */
int pt_dmar_range_xen(void *xview, pt_sbdf_t bridge, uint8_t *sec, uint8_t *sub);
/* pt_dmar_range_fn over dom0's topology (ctx: const struct pt_topo *): the live range. */
int pt_dmar_range_dom0(void *topo, pt_sbdf_t bridge, uint8_t *sec, uint8_t *sub);
/* Deep copy of a parsed (and possibly resolved) table. */
int pt_dmar_copy(const struct pt_dmar *src, struct pt_dmar *dst);
/* Frees everything the table owns. */
void pt_dmar_free(struct pt_dmar *d);
/* The scope type's name ("endpoint", "bridge", ...). */
const char *pt_dmar_scope_name(uint8_t type);

/*
 * Reads the DMAR table dom0 sees: ROOT/firmware/acpi/tables/DMAR, else the
 * RMAD file beside it (Xen zaps the signature, acpi_dmar_zap()).  0 with *buf
 * malloc'ed and *file naming it; -ENOENT when neither exists; -errno.
 */
int pt_dmar_read_sysfs(const char *sysfs_root, uint8_t **buf, size_t *len, char **file);

/* ---------------------------------------------------------------- the rule */

/*
 * The (bus, devfn) acpi_find_matched_drhd_unit() looks up for a device:
 * a VF's PF (devfn 0 when the PF is an extfn), an extfn's bus with devfn 0.
 */
void pt_dmar_lookup_bdf(pt_sbdf_t sbdf, bool virtfn, pt_sbdf_t physfn, bool pf_extfn,
                        bool extfn, uint8_t *bus, uint8_t *devfn);
/*
 * acpi_find_matched_drhd_unit(): the unit covering seg:bus:devfn (an
 * endpoint/bridge/IOAPIC/HPET scope BDF, a bridge-scope bus, else an
 * INCLUDE_PCI_ALL unit of the segment), or NULL.  With d->follow_bridges,
 * a bridge scope's buses come from range(ctx) (the registry now) instead
 * of the boot bitmap, falling back to it.
 */
const struct pt_dmar_drhd *pt_dmar_match(const struct pt_dmar *d, uint16_t seg, uint8_t bus,
                                         uint8_t devfn, pt_dmar_range_fn range, void *ctx);
/* True for the types whose VT-d set-up needs a unit (domain_context_mapping(): endpoints). */
bool pt_dmar_type_needs_unit(enum pt_dev_type t);
/*
 * Writes the reason no unit covers seg:bus into buf, "no DMAR unit covers
 * bus 09 (DRHD fed90000: bridge scope 00:11.0 covers buses 03-07 as at
 * boot)"; returns buf.
 */
char *pt_dmar_why_uncovered(const struct pt_dmar *d, uint16_t seg, uint8_t bus,
                            char *buf, size_t len);

#endif /* PCITOPO_DMAR_H */
