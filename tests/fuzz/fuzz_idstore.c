/*
 * fuzz_idstore.c - libFuzzer harness: pt_idstore_parse() (the drift
 * guard's BDF identity store).  A store that parses is written back and
 * must parse again into the same JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopo.h"
#include "affects.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_errlog log = { 0 };
    struct pt_idstore s, t;
    char *j1 = NULL, *j2 = NULL;
    size_t l1 = 0, l2 = 0;

    if ( pt_idstore_parse((const char *)data, size, &s, &log) == 0 )
    {
        if ( pt_idstore_to_json(&s, &j1, &l1) || pt_idstore_parse(j1, l1, &t, &log) )
            abort();
        if ( pt_idstore_to_json(&t, &j2, &l2) || l1 != l2 || memcmp(j1, j2, l1) )
            abort();
        pt_idstore_free(&t);
        pt_idstore_free(&s);
        free(j1);
        free(j2);
    }
    else if ( !log.nerrors )
        abort();
    pt_errlog_free(&log);
    return 0;
}
