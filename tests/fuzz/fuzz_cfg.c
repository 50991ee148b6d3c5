/*
 * fuzz_cfg.c - libFuzzer harness: pt_cfg_parse() on any bytes.  The first
 * byte is the devfn; the rest is config space, copied to a buffer of
 * exactly its length so that ASan sees any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_cfg_info ci;
    const char *why = NULL;
    uint8_t *cfg;

    if ( size < 1 || size > PT_CFG_EXT_LEN + 1 )
        return 0;
    cfg = malloc(size - 1 ? size - 1 : 1);
    if ( !cfg )
        return 0;
    memcpy(cfg, data + 1, size - 1);
    if ( pt_cfg_parse(cfg, size - 1, data[0], &ci, &why) == 0 )
    {
        /* What the parser promises of a success. */
        if ( ci.len != size - 1 || ci.xen_type >= PT_TYPE__COUNT ||
             (ci.pcie_pos && ci.pcie_pos >= size - 1) ||
             (ci.sriov_pos && ci.sriov_pos >= size - 1) )
            abort();
    }
    else if ( !why )
        abort();
    free(cfg);
    return 0;
}
