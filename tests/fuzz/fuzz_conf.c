/*
 * fuzz_conf.c - libFuzzer harness: pt_conf_parse() (/etc/pcitopod.conf)
 * and pt_conf_check().
 */
#include <stdint.h>
#include <stdlib.h>

#include "daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_errlog log = { 0 };
    struct pt_daemon_conf c;

    pt_conf_defaults(&c);
    if ( pt_conf_parse((const char *)data, size, "fuzz.conf", &c, &log) == 0 )
        (void)pt_conf_check(&c, "fuzz.conf", &log);
    else if ( !log.nerrors )
        abort();
    pt_errlog_free(&log);
    return 0;
}
