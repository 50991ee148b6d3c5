/*
 * dmar_fuzz_body.c - the body of a libFuzzer harness for the DMAR parser
 * (issue 12), kept outside tests/fuzz/ until that framework is merged:
 * tests/fuzz/fuzz_dmar.c is then
 *
 *     #include "../dmar_fuzz_body.c"
 *     int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 *     int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
 *     { return pt_fuzz_dmar_one(data, size); }
 *
 * with "dmar" in FUZZ_HARNESSES and "dmar iommu_scope" in FUZZ_CORE.
 * test_dmar runs it over every truncation and byte flip of its tables.
 *
 * Parses any bytes (copied to a buffer of exactly their length so that
 * ASan sees a read past it); a success must hold what the parser
 * promises, a failure must say why; then resolution (bridge ranges made up
 * from the input), the match rule and the reason text are exercised.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmar.h"

int pt_fuzz_dmar_one(const uint8_t *data, size_t size);

/* Made-up boot ranges: every bridge whose devfn is odd is unknown. */
static int fuzz_range(void *ctx, pt_sbdf_t bridge, uint8_t *sec, uint8_t *sub)
{
    (void)ctx;
    if ( PT_DEVFN(bridge) & 1 )
        return -ENOENT;
    *sec = (uint8_t)(PT_BUS(bridge) + 1 + (PT_DEVFN(bridge) >> 3));
    *sub = (uint8_t)(*sec + (PT_DEVFN(bridge) & 6));
    return 0;
}

int pt_fuzz_dmar_one(const uint8_t *data, size_t size)
{
    struct pt_dmar d;
    char err[256], why[96];
    uint8_t *buf = malloc(size ? size : 1);
    int rc;

    if ( !buf )
        return 0;
    memcpy(buf, data, size);
    err[0] = '\0';
    rc = pt_dmar_parse(buf, size, &d, err, sizeof(err));
    if ( rc == 0 )
    {
        if ( size < PT_DMAR_HDR_LEN || (d.n && !d.units) )
            abort();
        for ( size_t i = 0; i < d.n; i++ )
            for ( size_t k = 0; k < d.units[i].nscopes; k++ )
                if ( d.units[i].scopes[k].npath < 1 || d.units[i].scopes[k].npath > PT_DMAR_MAX_PATH )
                    abort();
        pt_dmar_resolve(&d, fuzz_range, NULL, NULL, NULL);
        for ( unsigned bus = 0; bus < 256; bus += 17 )
        {
            uint16_t seg = d.n ? d.units[bus % d.n].seg : 0;

            (void)pt_dmar_match(&d, seg, (uint8_t)bus, (uint8_t)bus, NULL, NULL);
            d.follow_bridges = true;
            (void)pt_dmar_match(&d, seg, (uint8_t)bus, (uint8_t)bus, fuzz_range, NULL);
            d.follow_bridges = false;
            pt_dmar_why_uncovered(&d, seg, (uint8_t)bus, why, sizeof(why));
            if ( strnlen(why, sizeof(why)) >= sizeof(why) )
                abort();
        }
        pt_dmar_free(&d);
    }
    else if ( rc != -EINVAL || !err[0] || d.units || d.n )
        abort();
    free(buf);
    return 0;
}
