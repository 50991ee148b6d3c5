/*
 * status_cmd.c - `pcitopod status`: the daemon's last pass, and whether the
 * daemon that wrote it is still there.  A status file survives the daemon
 * (a stop, a crash, a kill -9): its pid is checked against /proc, so a dead
 * daemon's last pass is never shown as current.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "pcitopod.h"
#include "daemon.h"
#include "json_out.h"

#define DEFAULT_STATUS_FILE RUNSTATEDIR "/pcitopod/status.json"

/* Reads /proc/PID/NAME into buf (NUL-terminated, truncated); its length or -1. */
static ssize_t read_proc(long pid, const char *name, char *buf, size_t len)
{
    char path[64];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/%s", pid, name);
    f = fopen(path, "re");
    if ( !f )
        return -1;
    n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* file made absolute against dir (no symlink resolution: both sides alike). */
static void absolute(const char *dir, const char *file, char *out, size_t len)
{
    if ( file[0] == '/' || !dir )
        snprintf(out, len, "%s", file);
    else
        snprintf(out, len, "%s/%s", dir, file);
}

/*
 * True when process pid is `pcitopod run` writing the status file want
 * (absolute).  *comm gets its command name ("" when it is gone).
 */
static bool is_daemon(long pid, const char *want, char *comm, size_t commlen)
{
    char args[8192], cwd[PATH_MAX], link[64], mine[PATH_MAX + 512];
    const char *file = DEFAULT_STATUS_FILE;
    bool run = false;
    ssize_t n, m;

    comm[0] = '\0';
    if ( read_proc(pid, "comm", comm, commlen) < 0 )
        return false;
    comm[strcspn(comm, "\n")] = '\0';
    if ( strcmp(comm, "pcitopod") )
        return false;
    n = read_proc(pid, "cmdline", args, sizeof(args));
    if ( n <= 0 )
        return false;
    /* argv: the command "run" and its --status-file (as the daemon parses them). */
    for ( const char *a = args + strlen(args) + 1; a < args + n; a += strlen(a) + 1 )
    {
        if ( !strcmp(a, "run") )
            run = true;
        else if ( !strncmp(a, "--status-file=", 14) )
            file = a + 14;
        else if ( !strcmp(a, "--status-file") && a + strlen(a) + 1 < args + n )
            file = a + strlen(a) + 1;
    }
    if ( !run )
        return false;
    snprintf(link, sizeof(link), "/proc/%ld/cwd", pid);
    m = readlink(link, cwd, sizeof(cwd) - 1);
    if ( m >= 0 )
        cwd[m] = '\0';
    absolute(m >= 0 ? cwd : NULL, file, mine, sizeof(mine));
    return !strcmp(mine, want);
}

/* A running `pcitopod run` writing want, found in /proc; 0 when none. */
static long find_daemon(const char *want)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    long found = 0;
    char comm[32];

    if ( !d )
        return 0;
    while ( !found && (e = readdir(d)) )
    {
        char *end;
        long pid = strtol(e->d_name, &end, 10);

        if ( isdigit((unsigned char)e->d_name[0]) && !*end && pid != (long)getpid() &&
             is_daemon(pid, want, comm, sizeof(comm)) )
            found = pid;
    }
    closedir(d);
    return found;
}

static yajl_val field(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };

    return obj && YAJL_IS_OBJECT(obj) ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

/*
 * The exit status the last pass deserves: 0 it left Xen consistent, 1 it
 * left differences (a dry run that found some too), 2 it failed.
 */
static int pass_status(const char *json, size_t len, long *pid)
{
    char err[128];
    yajl_val doc = pt_json_parse_n(json, len, err, sizeof(err));
    yajl_val v = field(doc, "pid"), result = field(doc, "result");
    yajl_val cons = field(field(doc, "report"), "consistent");
    const char *r = result && YAJL_IS_STRING(result) ? YAJL_GET_STRING(result) : "";
    int st;

    *pid = v && YAJL_IS_INTEGER(v) ? (long)YAJL_GET_INTEGER(v) : 0;
    if ( !strcmp(r, "consistent") )
        st = PT_STATUS_OK;
    else if ( !strcmp(r, "inconsistent") || (!strcmp(r, "dry-run") && !(cons && YAJL_IS_TRUE(cons))) )
        st = PT_STATUS_INCONSISTENT;
    else if ( !strcmp(r, "dry-run") )
        st = PT_STATUS_OK;
    else
        st = PT_STATUS_FAILED;
    if ( doc )
        yajl_tree_free(doc);
    return st;
}

int pt_cmd_status(const struct pt_options *o)
{
    const char *file = o->status_file ? o->status_file : DEFAULT_STATUS_FILE;
    char cwd[PATH_MAX], want[PATH_MAX + 512], comm[32];
    struct pt_errlog log = { 0 };
    char *buf = NULL;
    size_t len = 0;
    long pid, running;
    int rc, st;

    absolute(getcwd(cwd, sizeof(cwd)), file, want, sizeof(want));
    rc = pt_read_doc(file, &buf, &len);
    if ( rc == -ENOENT )
    {
        running = find_daemon(want);
        if ( running )
        {
            if ( !o->quiet )
                printf("pcitopod: running (pid %ld), no pass has finished yet (%s does not exist yet)\n",
                       running, file);
            return PT_STATUS_STARTING;
        }
        if ( !o->quiet )
            printf("pcitopod: not running, and it has not run since boot (no %s); "
                   "'systemctl status pcitopod'\n", file);
        return PT_STATUS_NEVER_RAN;
    }
    if ( rc )
    {
        fprintf(stderr, "pcitopod status: cannot read %s: %s\n", file, pt_read_file_strerror(rc));
        return PT_EXIT_ERROR;
    }
    /* Validates the document (with the message) before anything is trusted from it. */
    rc = pt_status_print(buf, len, NULL, &log);
    if ( rc )
    {
        fprintf(stderr, "pcitopod status: %s: %s\n", file, log.n ? log.msgs[0].text : strerror(-rc));
        pt_errlog_free(&log);
        free(buf);
        return PT_EXIT_ERROR;
    }
    st = pass_status(buf, len, &pid);
    running = pid > 0 && is_daemon(pid, want, comm, sizeof(comm)) ? pid : 0;
    if ( !running )
    {
        /* The daemon may have been restarted since: its new pid has not written yet. */
        long other = find_daemon(want);

        st = other ? PT_STATUS_STARTING : PT_STATUS_STALE;
        /* The one line that matters comes first (on stderr beside --json). */
        if ( !o->quiet )
        {
            FILE *f = o->json ? stderr : stdout;

            if ( other )
                fprintf(f, "daemon:      running (pid %ld), no pass finished yet; the last pass "
                           "below is its predecessor's (pid %ld)\n", other, pid);
            else if ( comm[0] )
                fprintf(f, "daemon:      NOT RUNNING: pid %ld is now another program (%s); the last "
                           "pass below is history (stale %s)\n", pid, comm, file);
            else
                fprintf(f, "daemon:      NOT RUNNING: pid %ld is gone; the last pass below is "
                           "history (stale %s)\n", pid, file);
        }
    }
    else if ( !o->quiet && !o->json )
        printf("daemon:      running (pid %ld)\n", pid);
    if ( o->quiet )
        ;
    else if ( o->json )
    {
        fputs(buf, stdout);
        if ( len && buf[len - 1] != '\n' )
            fputc('\n', stdout);
    }
    else
    {
        if ( o->verbose )
            printf("status file: %s\n", want);
        pt_status_print(buf, len, stdout, &log);
    }
    pt_errlog_free(&log);
    free(buf);
    return st;
}
