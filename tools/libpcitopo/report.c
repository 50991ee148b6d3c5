/*
 * report.c - the report for people, and its memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

void pt_report_print(const struct pt_report *r, FILE *f)
{
    size_t bad = pt_report_inconsistent(r);
    if ( r->n == 0 )
        fprintf(f, "consistent: Xen's PCI registry matches dom0's topology\n");
    else
        fprintf(f, "%zu finding%s (%zu inconsistent, %zu blocked):\n", r->n, r->n == 1 ? "" : "s",
                bad, r->n - bad);
    for ( size_t i = 0; i < r->n; i++ )
    {
        const struct pt_finding *x = &r->f[i];
        char where[24];

        if ( x->kind == PT_FIND_BUS2BRIDGE || x->kind == PT_FIND_CYCLE )
            snprintf(where, sizeof(where), "bus %04x:%02x", PT_SEG(x->sbdf), (unsigned)x->bus);
        else
            pt_sbdf_fmt(x->sbdf, where);
        fprintf(f, "  %-10s %-13s %s\n", pt_finding_kind_name(x->kind), where, x->detail);
    }
    if ( r->nunverified )
    {
        fprintf(f, "not verified (this hypervisor does not report them; needs the pci_topology sysctl):");
        for ( size_t i = 0; i < r->nunverified; i++ )
            fprintf(f, "%s %s", i ? "," : "", r->unverified[i]);
        fputc('\n', f);
    }
    if ( r->iommu_note )
        fprintf(f, "%s\n", r->iommu_note);
}

void pt_report_free(struct pt_report *r)
{
    for ( size_t i = 0; i < r->n; i++ )
    {
        free(r->f[i].path);
        free(r->f[i].detail);
    }
    free(r->f);
    for ( size_t i = 0; i < r->nunverified; i++ )
        free(r->unverified[i]);
    free(r->unverified);
    free(r->iommu_note);
    memset(r, 0, sizeof(*r));
}
