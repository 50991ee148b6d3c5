/* backend_xen.c - (being written; placeholder so the tree links) */
#include "config.h"

#include <errno.h>

#include "backend.h"

int pt_backend_xen_open(struct pt_backend **out, struct pt_errlog *log)
{
    *out = NULL;
    pt_log(log, PT_SEV_ERROR, "the real Xen backend is not built yet: use --xen-sim FILE");
    return -ENOTSUP;
}
