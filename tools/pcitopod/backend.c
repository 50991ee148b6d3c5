/*
 * backend.c - what every backend shares.
 */
#include "config.h"

#include <errno.h>

#include "backend.h"

void pt_backend_close(struct pt_backend *b)
{
    if ( b && b->ops && b->ops->close )
        b->ops->close(b);
}

#ifndef HAVE_XEN
int pt_backend_xen_probe(struct pt_errlog *log)
{
    pt_log(log, PT_SEV_ERROR,
           "this pcitopod was built without libxenctrl/libxencall: only --xen-sim FILE works");
    return -ENOTSUP;
}

int pt_backend_xen_open(struct pt_backend **out, struct pt_errlog *log)
{
    *out = NULL;
    pt_log(log, PT_SEV_ERROR,
           "this pcitopod was built without libxenctrl/libxencall: only --xen-sim FILE works");
    return -ENOTSUP;
}
#endif
