/*
 * lock_shared.c - the checker's side of the coordination with the daemon (DESIGN
 * §4.7): take /run/pcitopod/lock shared, never in the middle of a repair
 * (the daemon holds it exclusively while it applies a plan), and give a
 * pending pass (pcitopod-status/1 "pending": true) the time to run first.
 * Used by libxl's check; pure C + yajl, tested in tests/test_libxl_logic.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "pcitopo.h"
#include "affects.h"
#include "json_out.h"

#define POLL_US 50000

static yajl_val field(yajl_val root, const char *key, yajl_type t)
{
    const char *path[] = { key, NULL };

    return yajl_tree_get(root, path, t);
}

static void copy_str(yajl_val v, char *dst, size_t len)
{
    const char *s = v ? YAJL_GET_STRING(v) : NULL;

    snprintf(dst, len, "%s", s ? s : "");
}

int pt_daemon_status_read(const char *file, struct pt_daemon_status *st)
{
    char *buf = NULL, err[128];
    size_t len = 0;
    yajl_val root, v;
    int r;

    memset(st, 0, sizeof(*st));
    r = pt_read_file(file, &buf, &len);
    if ( r )
        return r;
    root = pt_json_parse_n(buf, len, err, sizeof(err));
    free(buf);
    if ( !root || !YAJL_IS_OBJECT(root) )
    {
        if ( root )
            yajl_tree_free(root);
        return -EINVAL;
    }
    if ( (v = field(root, "pid", yajl_t_number)) && YAJL_IS_INTEGER(v) )
        st->pid = YAJL_GET_INTEGER(v);
    /* kill(pid, 0): EPERM still means the process exists. */
    st->alive = st->pid > 0 && st->pid <= 0x7fffffff &&
                (kill((pid_t)st->pid, 0) == 0 || errno == EPERM);
    v = field(root, "pending", yajl_t_any);
    st->pending = v && YAJL_IS_TRUE(v);
    if ( (v = field(root, "time", yajl_t_number)) && YAJL_IS_INTEGER(v) )
        st->time = YAJL_GET_INTEGER(v);
    if ( (v = field(root, "pass", yajl_t_number)) && YAJL_IS_INTEGER(v) )
        st->pass = YAJL_GET_INTEGER(v);
    copy_str(field(root, "trigger", yajl_t_string), st->trigger, sizeof(st->trigger));
    copy_str(field(root, "result", yajl_t_string), st->result, sizeof(st->result));
    copy_str(field(root, "error", yajl_t_string), st->error, sizeof(st->error));
    yajl_tree_free(root);
    return 0;
}

void pt_daemon_status_line(const struct pt_daemon_status *st, int rc, const char *file,
                           char *buf, size_t len)
{
    char when[32] = "?", who[64];
    time_t t = (time_t)st->time;
    struct tm tm;

    if ( rc == -ENOENT )
    {
        snprintf(buf, len, "pcitopod: no %s (the daemon has not run since boot)", file);
        return;
    }
    if ( rc )
    {
        snprintf(buf, len, "pcitopod: %s is unreadable: %s", file,
                 rc == -EINVAL ? "not a JSON object" : strerror(-rc));
        return;
    }
    if ( st->time && localtime_r(&t, &tm) )
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    if ( st->pid <= 0 )
        snprintf(who, sizeof(who), "pid unknown");
    else if ( st->alive )
        snprintf(who, sizeof(who), "running as pid %lld", st->pid);
    else
        snprintf(who, sizeof(who), "not running (pid %lld is gone)", st->pid);
    snprintf(buf, len, "pcitopod: %s; last pass #%lld at %s (%s): %s%s%s%s", who, st->pass,
             when, st->trigger[0] ? st->trigger : "?", st->result[0] ? st->result : "?",
             st->error[0] ? ", error: " : "", st->error,
             st->pending && st->alive ? "; a pass is pending" : "");
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A live daemon says it has a pass due. */
static bool pass_pending(const char *status_file)
{
    struct pt_daemon_status st;

    return status_file && !pt_daemon_status_read(status_file, &st) && st.pending && st.alive;
}

int pt_lock_shared_wait(const char *lock_file, const char *status_file, int timeout_ms,
                        bool no_wait, int *fd_out, bool *pending_left)
{
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int fd, r;

    *fd_out = -1;
    *pending_left = false;
    fd = open(lock_file, O_RDONLY | O_CLOEXEC);
    if ( fd < 0 )
        return errno == ENOENT ? 0 : -errno;

    for ( ;; )
    {
        r = flock(fd, LOCK_SH | LOCK_NB);
        if ( r && errno != EWOULDBLOCK && errno != EINTR )
        {
            r = -errno;
            close(fd);
            return r;
        }
        if ( !r )
        {
            if ( no_wait || !pass_pending(status_file) )
                break;
            if ( now_ms() >= deadline )
            {
                *pending_left = true;
                break;
            }
            /* Let the daemon take it exclusively for its pass. */
            flock(fd, LOCK_UN);
        }
        else if ( now_ms() >= deadline )
        {
            close(fd);
            return -ETIMEDOUT;
        }
        usleep(POLL_US);
    }
    *fd_out = fd;
    return 0;
}
