/*
 * mktree - writes a sysfs tree that mirrors real Linux sysfs, from a text
 * description (tests/fixture.h documents the format) or synthetic.
 *
 *   mktree DESC-FILE OUTDIR [--assign-busses|--firmware] [--dmar SPEC [--rmad]]
 *   mktree --gen N OUTDIR [--seed S] [--dmar SPEC [--rmad]]
 *
 * Bus numbers: a description is numbered as Linux pci=assign-busses would
 * (--assign-busses, the default) or as SeaBIOS would, honouring each
 * bridge's reserve= (--firmware); explicit pri=/sec=/sub= win either way.
 *
 * --dmar SPEC writes an ACPI DMAR table (the spec format is in
 * tests/fixture.h) as OUTDIR/firmware/acpi/tables/DMAR, or with --rmad as
 * .../RMAD, the name dom0 sees it under on Xen.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mktree DESC-FILE OUTDIR [--assign-busses|--firmware] [--dmar SPEC [--rmad]]\n"
               "       mktree --gen N OUTDIR [--seed S] [--dmar SPEC [--rmad]]\n");
}

int main(int argc, char **argv)
{
    struct fx_tree *t = NULL;
    const char *out, *dmar_spec = NULL, *dmar_name = "DMAR";
    static struct fx_dmar dmar;
    char err[256];
    int r;

    /* --dmar SPEC and --rmad come last; take them off before the rest. */
    for ( int k = 1; k < argc; k++ )
    {
        if ( !strcmp(argv[k], "--rmad") )
            dmar_name = "RMAD";
        else if ( !strcmp(argv[k], "--dmar") && k + 1 < argc )
            dmar_spec = argv[++k];
        else
            continue;
        if ( dmar_spec == argv[k] )
        {
            memmove(argv + k - 1, argv + k + 1, (size_t)(argc - k - 1) * sizeof(*argv));
            argc -= 2;
            k -= 2;
        }
        else
        {
            memmove(argv + k, argv + k + 1, (size_t)(argc - k - 1) * sizeof(*argv));
            argc -= 1;
            k -= 1;
        }
    }
    if ( dmar_spec && fx_dmar_from_spec(&dmar, dmar_spec, err, sizeof(err)) < 0 )
    {
        fprintf(stderr, "mktree: --dmar: %s\n", err);
        return 2;
    }

    if ( argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) )
    {
        usage(stdout);
        return 0;
    }
    if ( argc >= 4 && !strcmp(argv[1], "--gen") )
    {
        char *end;
        unsigned long n = strtoul(argv[2], &end, 0), seed = 1;

        if ( *end || !n || n > 1000000 )
        {
            fprintf(stderr, "mktree: --gen: bad device count '%s'\n", argv[2]);
            return 2;
        }
        if ( argc == 6 && !strcmp(argv[4], "--seed") )
            seed = strtoul(argv[5], NULL, 0);
        else if ( argc != 4 )
        {
            usage(stderr);
            return 2;
        }
        t = fx_gen(n, (unsigned)seed);
        if ( !t )
        {
            fprintf(stderr, "mktree: generating %lu devices: out of memory\n", n);
            return 1;
        }
        out = argv[3];
    }
    else if ( argc == 3 || argc == 4 )
    {
        r = fx_parse_file(argv[1], &t, err, sizeof(err));
        if ( r < 0 )
        {
            fprintf(stderr, "mktree: %s: %s\n", argv[1], err[0] ? err : strerror(-r));
            return r == -EINVAL ? 2 : 1;
        }
        if ( argc == 4 )
        {
            if ( !strcmp(argv[3], "--assign-busses") )
                fx_number_busses(t, FX_NUMBER_LINUX);
            else if ( !strcmp(argv[3], "--firmware") )
                fx_number_busses(t, FX_NUMBER_FIRMWARE);
            else
            {
                usage(stderr);
                fx_free(t);
                return 2;
            }
            fx_apply_explicit(t);
        }
        out = argv[2];
    }
    else
    {
        usage(stderr);
        return 2;
    }

    r = fx_write_sysfs(t, out);
    if ( r < 0 )
        fprintf(stderr, "mktree: writing the sysfs tree into %s: %s\n", out, strerror(-r));
    else if ( dmar_spec && (r = fx_write_dmar(out, dmar_name, dmar.buf, dmar.len)) < 0 )
        fprintf(stderr, "mktree: writing %s/firmware/acpi/tables/%s: %s\n", out, dmar_name,
                strerror(-r));
    else
        printf("%zu devices written to %s\n", fx_count(t), out);
    fx_free(t);
    return r < 0 ? 1 : 0;
}
