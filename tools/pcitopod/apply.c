/*
 * apply.c - executes a plan through a backend, and the lock that keeps
 * libxl from checking in the middle of it (DESIGN §4.7).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "pcitopod.h"

/* One operation through the backend, unless the test seam fails it first. */
static int backend_exec(void *ctx, const struct pt_op *op, struct pt_errlog *log)
{
    struct pt_backend *b = ctx;
    char s[PT_SBDF_STRLEN];

    if ( b->fail_op && ++b->issued == b->fail_op )
    {
        pt_log(log, PT_SEV_ERROR, "%s %s: %s (fault injected at operation %lu)",
               op->op == PT_OP_REMOVE ? "remove" : op->op == PT_OP_ADD ? "add" : "quarantine",
               pt_sbdf_fmt(op->sbdf, s), strerror(b->fail_errno), b->fail_op);
        return -b->fail_errno;
    }
    switch ( op->op )
    {
    case PT_OP_REMOVE:
        return b->ops->remove(b, op->sbdf, log);
    case PT_OP_ADD:
        return b->ops->add(b, op, log);
    case PT_OP_QUARANTINE:
        return b->ops->quarantine(b, op->sbdf, log);
    }
    return -EINVAL;
}

int pt_apply_plan(struct pt_backend *b, const struct pt_plan *plan, const struct pt_topo *dom0,
                  const struct pt_xview *before, struct pt_run *run, struct pt_errlog *log)
{
    return pt_run_plan(plan, dom0, before, backend_exec, b, SIZE_MAX, run, log);
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Who holds the lock on fd's file, from /proc/locks ("1: FLOCK ADVISORY
 * WRITE 1234 08:01:5678 0 EOF"): "pid 1234 (flock)", or "" when unknown.
 */
static void lock_holder(int fd, char *buf, size_t len)
{
    struct stat st;
    char line[256], want[64], comm[64] = "";
    FILE *f;
    long pid = -1;

    buf[0] = '\0';
    if ( fstat(fd, &st) || !(f = fopen("/proc/locks", "re")) )
        return;
    snprintf(want, sizeof(want), "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
             (unsigned long long)st.st_ino);
    while ( pid < 0 && fgets(line, sizeof(line), f) )
    {
        char kind[16], mode[16], rw[16], id[64];
        long p;

        /* "->" lines are waiters (blocked requests), not holders. */
        if ( strstr(line, "->") ||
             sscanf(line, "%*s %15s %15s %15s %ld %63s", kind, mode, rw, &p, id) != 5 )
            continue;
        if ( !strcmp(id, want) )
            pid = p;
    }
    fclose(f);
    if ( pid <= 0 )
        return;
    snprintf(line, sizeof(line), "/proc/%ld/comm", pid);
    if ( (f = fopen(line, "re")) )
    {
        if ( fgets(comm, sizeof(comm), f) )
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
    }
    if ( comm[0] )
        snprintf(buf, len, "held by pid %ld (%s)", pid, comm);
    else
        snprintf(buf, len, "held by a process that inherited it from pid %ld", pid);
}

int pt_lock_exclusive(const char *file, int timeout_ms, bool *busy, struct pt_errlog *log)
{
    const char *dir = RUNSTATEDIR "/pcitopod";
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int fd;

    *busy = false;
    if ( !file )
    {
        file = RUNSTATEDIR "/pcitopod/lock";
        if ( mkdir(dir, 0755) < 0 && errno != EEXIST )
        {
            pt_log(log, PT_SEV_ERROR, "cannot create %s: %s", dir, strerror(errno));
            return -errno;
        }
    }
    fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if ( fd < 0 )
    {
        pt_log(log, PT_SEV_ERROR, "cannot open %s: %s", file, strerror(errno));
        return -errno;
    }
    /* Never an unbounded wait: a stuck holder must not stall us (nor the daemon's loop). */
    while ( flock(fd, LOCK_EX | LOCK_NB) < 0 )
    {
        int e = errno;
        char who[128];

        if ( e == EINTR )
            continue;
        if ( e != EWOULDBLOCK )
        {
            pt_log(log, PT_SEV_ERROR, "cannot lock %s: %s", file, strerror(e));
            close(fd);
            return -e;
        }
        if ( now_ms() >= deadline )
        {
            lock_holder(fd, who, sizeof(who));
            if ( timeout_ms > 0 )
                pt_log(log, PT_SEV_ERROR,
                       "%s is still locked after %d.%03d s%s%s (libxl checks a device, or another pcitopod "
                       "applies): nothing done; try again, or wait longer with --lock-timeout SECS",
                       file, timeout_ms / 1000, timeout_ms % 1000, who[0] ? ", " : "", who);
            else
                pt_log(log, PT_SEV_INFO, "%s is locked%s%s", file, who[0] ? ", " : "", who);
            close(fd);
            *busy = true;
            return -EWOULDBLOCK;
        }
        usleep(50000);
    }
    return fd;
}

void pt_unlock(int fd)
{
    if ( fd >= 0 )
        close(fd);
}
