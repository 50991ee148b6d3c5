/*
 * hw.c - "hardware" for the simulator: config space read at each call,
 * from a live sysfs tree or from a scanned snapshot.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>

#include "pcitopo.h"

/* struct pt_hw probe over a live sysfs tree (ctx: its root path). */
int pt_hw_sysfs_probe(void *sysfs_root, pt_sbdf_t sbdf, struct pt_cfg_info *info)
{
    /* No log: the simulator treats any failure as "nothing responds". */
    int r = pt_sysfs_read_cfg((const char *)sysfs_root, sbdf, info, NULL);

    return r < 0 ? -ENODEV : 0;
}

/* struct pt_hw probe over a scanned snapshot (ctx: const struct pt_topo *). */
int pt_hw_topo_probe(void *topo, pt_sbdf_t sbdf, struct pt_cfg_info *info)
{
    const struct pt_dev *d = pt_topo_find((const struct pt_topo *)topo, sbdf);

    if ( !d )
        return -ENODEV;
    *info = d->cfg;
    return 0;
}
