/*
 * apply.c - executes a plan through a backend, and the lock that keeps
 * libxl from checking in the middle of it (DESIGN §4.7).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcitopod.h"

int pt_apply_plan(struct pt_backend *b, const struct pt_plan *plan, size_t *done,
                  struct pt_errlog *log)
{
    *done = 0;
    for ( size_t i = 0; i < plan->n; i++ )
    {
        const struct pt_op *op = &plan->ops[i];
        int rc;

        switch ( op->op )
        {
        case PT_OP_REMOVE:
            rc = b->ops->remove(b, op->sbdf, log);
            break;
        case PT_OP_ADD:
            rc = b->ops->add(b, op, log);
            break;
        case PT_OP_QUARANTINE:
            rc = b->ops->quarantine(b, op->sbdf, log);
            break;
        default:
            rc = -EINVAL;
        }
        if ( rc )
        {
            char s[PT_SBDF_STRLEN];

            pt_log(log, PT_SEV_ERROR, "stopped at operation %zu of %zu (%s %s); later ones not issued",
                   i + 1, plan->n, op->op == PT_OP_REMOVE ? "remove" : op->op == PT_OP_ADD ? "add" : "quarantine",
                   pt_sbdf_fmt(op->sbdf, s));
            return rc;
        }
        (*done)++;
    }
    return 0;
}

int pt_lock_exclusive(struct pt_errlog *log)
{
    const char *dir = RUNSTATEDIR "/pcitopod";
    const char *file = RUNSTATEDIR "/pcitopod/lock";
    int fd;

    if ( mkdir(dir, 0755) < 0 && errno != EEXIST )
    {
        pt_log(log, PT_SEV_ERROR, "cannot create %s: %s", dir, strerror(errno));
        return -errno;
    }
    fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if ( fd < 0 )
    {
        pt_log(log, PT_SEV_ERROR, "cannot open %s: %s", file, strerror(errno));
        return -errno;
    }
    while ( flock(fd, LOCK_EX) < 0 )
        if ( errno != EINTR )
        {
            int e = errno;

            pt_log(log, PT_SEV_ERROR, "cannot lock %s: %s", file, strerror(e));
            close(fd);
            return -e;
        }
    return fd;
}

void pt_unlock(int fd)
{
    if ( fd >= 0 )
        close(fd);
}
