/*
 * fuzz_xen_view.c - libFuzzer harness: pt_xview_parse() (the --xen-sim
 * state and any pcitopod-xen-view/1 document).  A document that parses is
 * written back and must parse again into the same JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_errlog log = { 0 };
    struct pt_xview v, w;
    char *j1 = NULL, *j2 = NULL;
    size_t l1 = 0, l2 = 0;

    if ( pt_xview_parse((const char *)data, size, &v, &log) == 0 )
    {
        if ( pt_xview_to_json(&v, false, &j1, &l1) )
            abort();
        if ( pt_xview_parse(j1, l1, &w, &log) )
            abort();
        if ( pt_xview_to_json(&w, false, &j2, &l2) || l1 != l2 || memcmp(j1, j2, l1) )
            abort();
        pt_xview_free(&w);
        pt_xview_free(&v);
        free(j1);
        free(j2);
    }
    else if ( !log.nerrors )
        abort();                /* every refusal says why */
    pt_errlog_free(&log);
    return 0;
}
