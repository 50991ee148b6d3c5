/*
 * fuzz_status.c - libFuzzer harness: pt_status_print() (`pcitopod status`
 * on the daemon's status file).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_errlog log = { 0 };

    if ( !sink && !(sink = fopen("/dev/null", "w")) )
        abort();
    if ( pt_status_print((const char *)data, size, sink, &log) && !log.nerrors )
        abort();
    pt_errlog_free(&log);
    return 0;
}
