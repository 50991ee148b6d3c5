/*
 * iommu_scope.h - the planner's view of Xen's VT-d device scopes
 * (iommu_scope.c): which adds the IOMMU will refuse, and which entries
 * carry the only record of a scope's boot-time buses.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef PCITOPO_IOMMU_SCOPE_H
#define PCITOPO_IOMMU_SCOPE_H

#include "pcitopo.h"
#include "dmar.h"

/* Whether the hypervisor model's bridge scopes follow the bridges' recorded ranges (patch 0006). */
bool pt_iommu_scopes_follow(enum pt_hv_model hv);
/*
 * Builds the model from dom0's DMAR table, resolved against Xen's recorded
 * ranges (dom0's live ones as fallback): 1 known, 0 unknown (no table, a
 * malformed one, a path through an unknown bridge), -ENOMEM.  note gets a
 * line for people either way ("IOMMU scopes unknown: ...").
 */
int pt_iommu_model(const struct pt_topo *dom0, const struct pt_xview *xen, struct pt_dmar *out,
                   char *note, size_t len);
/* 1 when Xen's VT-d would refuse to add dom0's device d (-ENODEV), with the reason in why; else 0. */
int pt_iommu_add_refused(const struct pt_dmar *m, const struct pt_topo *dom0,
                         const struct pt_dev *d, char *why, size_t len);
/*
 * 1 when Xen's entry at sbdf is a bridge on (or at the end of) a bridge
 * scope's path whose recorded range is the only record of the scope's boot
 * buses and a re-registration would change it (scopes not following the
 * bridges), with the reason in why; else 0.
 */
int pt_iommu_scope_record(const struct pt_dmar *m, const struct pt_topo *dom0,
                          const struct pt_xview *xen, pt_sbdf_t sbdf, char *why, size_t len);

/*
 * Gives the simulator the DMAR table of the sysfs tree, resolved against
 * its registry (the tree's live ranges as fallback), with the bridge scopes
 * following the bridges on the patched model; no table or a malformed one
 * (warned): none.  0 or -ENOMEM.
 */
int pt_sim_load_dmar(struct pt_sim *sim, const char *sysfs_root, struct pt_errlog *log);

#endif /* PCITOPO_IOMMU_SCOPE_H */
