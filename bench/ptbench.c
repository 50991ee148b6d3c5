/*
 * ptbench - the benchmark behind `make bench`.
 *
 * Part 1, speed: synthetic sysfs trees of about 1k, 4k and 16k devices
 * (fx_gen: root ports, switches, PCIe-to-PCI and legacy bridges, SR-IOV PFs
 * with many VFs) are written to disk; for each, a Xen view that matches it
 * is produced through the simulator (boot scan + plan + apply, then checked
 * to diff clean), and `pcitopod check --sysfs-root T --xen-sim V` is timed
 * against `lspci -A linux-sysfs -O sysfs.path=T/bus/pci` on the same tree:
 * median wall time of N runs (clock_gettime around fork/exec/wait4) and
 * peak RSS (wait4's ru_maxrss).  The measurement is refused (exit 1) when
 * lspci does not list exactly the tree's devices or when check does not
 * report the tree consistent (exit 0).
 *
 * Part 2, plan size: renumbering scenarios built with the fixture API:
 * firmware numbering with bus reservations, Xen's boot scan, then Linux
 * pci=assign-busses enumeration reporting each device to the simulated
 * registry the way drivers/xen/pci.c does (a device before its bridge's
 * numbers are programmed), then the driver enabling SR-IOV.  For each,
 * the ops of pt_plan_build() are compared with the minimal edit set and
 * with the naive remove-all/add-all, for the patched and the stock model;
 * tests/history.h random histories are scored the same way.
 *
 * Also: median CPU time (wait4's rusage), a row for this machine's own /sys
 * (real config-space reads), and an in-process breakdown of check's work.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "history.h"
#include "pcitopo.h"

#define MAX_SIZES 8
#define WORK_MAX  1024          /* the work directory's name */
#define PATH_BUF  (WORK_MAX + 64)
#define MAX_RUNS  64

struct options {
    size_t sizes[MAX_SIZES];
    size_t nsizes;
    unsigned runs;
    unsigned seeds;             /* renumbering scenarios per configuration */
    unsigned histories;         /* tests/history.h random histories per model */
    const char *pcitopod;
    const char *lspci;
    const char *workdir;        /* NULL: a fresh directory under $TMPDIR */
    bool keep;
    bool no_speed, no_plans, no_sys;
};

/* One measured command. */
struct run {
    double wall;                /* seconds */
    double cpu;                 /* user + system seconds (wait4) */
    long maxrss;                /* KiB */
    int status;                 /* exit code, or 128 + signal */
    size_t lines;               /* stdout lines when counted */
};

struct size_result {
    size_t ndev;                /* devices in the tree */
    size_t nlspci;              /* lines lspci printed */
    double pt_med, ls_med;      /* median wall time, s */
    double pt_cpu, ls_cpu;      /* median user + system time, s */
    long pt_rss, ls_rss;        /* peak RSS, KiB (max over the runs) */
    double scan_s, load_s, diff_s; /* in-process breakdown of check's work */
    bool real;                  /* this machine's /sys, not a synthetic tree */
    bool valid;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* Running a command                                                   */
/* ------------------------------------------------------------------ */

/*
 * Runs argv, stdout counted (count) or discarded, stderr shown (verbose)
 * or discarded; fills *out.  -errno when it cannot be started.
 */
static int run_cmd(char *const argv[], bool count, bool verbose, struct run *out)
{
    struct rusage ru;
    int pfd[2] = { -1, -1 }, st;
    double t0;
    pid_t pid;

    memset(out, 0, sizeof(*out));
    if ( count && pipe(pfd) < 0 )
        return -errno;
    t0 = now();
    pid = fork();
    if ( pid < 0 )
    {
        int e = errno;

        if ( count )
        {
            close(pfd[0]);
            close(pfd[1]);
        }
        return -e;
    }
    if ( pid == 0 )
    {
        int null = open("/dev/null", O_WRONLY);

        signal(SIGPIPE, SIG_DFL);

        if ( count )
        {
            dup2(pfd[1], STDOUT_FILENO);
            close(pfd[0]);
            close(pfd[1]);
        }
        else
            dup2(null, STDOUT_FILENO);
        if ( !verbose )
            dup2(null, STDERR_FILENO);
        execvp(argv[0], argv);
        fprintf(stderr, "ptbench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if ( count )
    {
        char buf[65536];
        ssize_t n;

        close(pfd[1]);
        while ( (n = read(pfd[0], buf, sizeof(buf))) != 0 )
        {
            if ( n < 0 )
            {
                if ( errno == EINTR )
                    continue;
                break;
            }
            for ( ssize_t i = 0; i < n; i++ )
                out->lines += buf[i] == '\n';
        }
        close(pfd[0]);
    }
    while ( wait4(pid, &st, 0, &ru) < 0 )
        if ( errno != EINTR )
            return -errno;
    out->wall = now() - t0;
    out->maxrss = ru.ru_maxrss;
    out->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    out->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

/*
 * The launcher: a child forked at the start, while ptbench is still small,
 * that runs every measured command.  ru_maxrss counts the forked copy's
 * resident set before exec (dup_mm() starts hiwater_rss at the parent's
 * RSS), so forking from ptbench itself, after it built a 16k-device tree,
 * would charge that to lspci and pcitopod alike.
 */
struct launcher {
    pid_t pid;
    int req, resp;              /* requests to it, results from it */
};

static struct launcher launcher = { -1, -1, -1 };

static int full_io(int fd, void *buf, size_t len, bool wr)
{
    char *p = buf;

    while ( len )
    {
        ssize_t n = wr ? write(fd, p, len) : read(fd, p, len);

        if ( n < 0 && errno == EINTR )
            continue;
        if ( n <= 0 )
            return n < 0 ? -errno : -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Serves requests (flags, argc, then each argument's length and bytes) until EOF. */
static int launcher_serve(int req, int resp)
{
    for ( ;; )
    {
        uint32_t hdr[2], len;
        char *argv[64] = { NULL };
        struct run r;
        int rc = 0;

        if ( full_io(req, hdr, sizeof(hdr), false) )
            return 0;
        if ( hdr[1] >= 64 )
            return 2;
        for ( uint32_t i = 0; i < hdr[1] && !rc; i++ )
        {
            rc = full_io(req, &len, sizeof(len), false);
            if ( !rc && (len > 65536 || !(argv[i] = calloc(1, len + 1))) )
                rc = -ENOMEM;
            if ( !rc )
                rc = full_io(req, argv[i], len, false);
        }
        if ( !rc )
            rc = run_cmd(argv, hdr[0] & 1, hdr[0] & 2, &r);
        for ( uint32_t i = 0; i < hdr[1]; i++ )
            free(argv[i]);
        if ( full_io(resp, &rc, sizeof(rc), true) || full_io(resp, &r, sizeof(r), true) )
            return 2;
    }
}

/* Forks the launcher; returns 1 in the launcher itself, 0 in ptbench, -errno. */
static int launcher_start(int *req_fd, int *resp_fd)
{
    int a[2], b[2];
    pid_t pid;

    if ( pipe(a) < 0 )
        return -errno;
    if ( pipe(b) < 0 )
    {
        close(a[0]);
        close(a[1]);
        return -errno;
    }
    pid = fork();
    if ( pid < 0 )
        return -errno;
    if ( pid == 0 )
    {
        close(a[1]);
        close(b[0]);
        *req_fd = a[0];
        *resp_fd = b[1];
        return 1;
    }
    close(a[0]);
    close(b[1]);
    launcher.pid = pid;
    launcher.req = a[1];
    launcher.resp = b[0];
    return 0;
}

static void launcher_stop(void)
{
    int st;

    if ( launcher.pid < 0 )
        return;
    close(launcher.req);
    close(launcher.resp);
    while ( waitpid(launcher.pid, &st, 0) < 0 && errno == EINTR )
        ;
    launcher.pid = -1;
}

/* run_cmd() through the launcher. */
static int launch(char *const argv[], bool count, bool verbose, struct run *out)
{
    uint32_t hdr[2] = { (count ? 1u : 0u) | (verbose ? 2u : 0u), 0 };
    int rc;

    while ( argv[hdr[1]] )
        hdr[1]++;
    fflush(stdout);
    rc = full_io(launcher.req, hdr, sizeof(hdr), true);
    for ( uint32_t i = 0; i < hdr[1] && !rc; i++ )
    {
        uint32_t len = (uint32_t)strlen(argv[i]);

        rc = full_io(launcher.req, &len, sizeof(len), true);
        if ( !rc )
            rc = full_io(launcher.req, argv[i], len, true);
    }
    if ( !rc )
    {
        int res = 0;

        rc = full_io(launcher.resp, &res, sizeof(res), false);
        if ( !rc )
            rc = full_io(launcher.resp, out, sizeof(*out), false);
        if ( !rc )
            rc = res;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Part 1: speed                                                       */
/* ------------------------------------------------------------------ */

/* Entries of DIR/bus/pci/devices: what any sysfs reader must find. */
static long count_sysfs_devices(const char *root)
{
    char path[PATH_BUF + 32];
    struct dirent *de;
    long n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "%s/bus/pci/devices", root);
    d = opendir(path);
    if ( !d )
        return -errno;
    while ( (de = readdir(d)) )
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The segments the tree uses, into segs (at most max); returns the count. */
static size_t tree_segments(const struct fx_tree *t, uint16_t *segs, size_t max)
{
    struct fx_dev **devs = NULL;
    size_t n = 0, k = 0;

    if ( fx_devices(t, &devs, &n) < 0 )
        return 0;
    for ( size_t i = 0; i < n; i++ )
    {
        size_t j;

        for ( j = 0; j < k && segs[j] != devs[i]->seg; j++ )
            ;
        if ( j == k && k < max )
            segs[k++] = devs[i]->seg;
    }
    free(devs);
    return k;
}

/*
 * Writes to file a pcitopod-xen-view/1 (patched model) that matches the
 * sysfs tree at root: Xen's boot scan of a snapshot of it, then pcitopod's
 * own plan applied on the simulator, then a diff that must find nothing.
 * Sets res->ndev.
 */
static int build_view(const char *root, const char *file, struct size_result *res)
{
    struct pt_errlog log = { 0 };
    struct pt_topo topo = { 0 };
    struct pt_xview loaded = { 0 };
    struct pt_report rep = { 0 };
    struct pt_plan plan = { 0 };
    struct pt_hw hw = { pt_hw_topo_probe, &topo };
    struct pt_sim sim;
    size_t done = 0;
    int rc;

    rc = pt_scan_sysfs(root, &topo, &log);
    if ( rc || log.nerrors || topo.nunreadable )
    {
        fprintf(stderr, "ptbench: scanning %s: %s, %zu errors, %zu unreadable devices\n",
                root, rc ? strerror(-rc) : "ok", log.nerrors, topo.nunreadable);
        pt_errlog_print(&log, stderr, PT_SEV_ERROR);
        pt_topo_free(&topo);
        pt_errlog_free(&log);
        return rc ? rc : -EIO;
    }
    res->ndev = topo.n;

    rc = pt_sim_init(&sim, NULL, PT_HV_PATCHED, hw);
    if ( rc )
        goto out_topo;
    for ( size_t i = 0; i < topo.n && !rc; i++ )
        if ( !i || PT_SEG(topo.devs[i].sbdf) != PT_SEG(topo.devs[i - 1].sbdf) )
            rc = pt_sim_boot_scan(&sim, PT_SEG(topo.devs[i].sbdf));
    if ( rc )
    {
        fprintf(stderr, "ptbench: simulated boot scan of %s: %s\n", root, strerror(-rc));
        goto out;
    }
    rc = pt_plan_build(&topo, &sim.state, NULL, &plan, &log);
    if ( !rc )
        rc = pt_sim_apply(&sim, &plan, &done, &log);
    if ( rc )
    {
        fprintf(stderr, "ptbench: making the simulated registry match %s (op %zu of %zu): %s\n",
                root, done + 1, plan.n, strerror(-rc));
        pt_errlog_print(&log, stderr, PT_SEV_WARN);
        goto out;
    }
    rc = pt_xview_save(&sim.state, file, &log);
    if ( rc )
    {
        pt_errlog_print(&log, stderr, PT_SEV_WARN);
        goto out;
    }

    /* Read back as check will read it, then diffed. */
    rc = pt_xview_load(file, &loaded, &log);
    if ( rc )
    {
        pt_errlog_print(&log, stderr, PT_SEV_WARN);
        goto out;
    }
    rc = pt_diff(&topo, &loaded, NULL, &rep);
    if ( !rc && pt_report_inconsistent(&rep) )
    {
        fprintf(stderr, "ptbench: the view built for %s still differs from it (%zu findings):\n",
                root, pt_report_inconsistent(&rep));
        pt_report_print(&rep, stderr);
        rc = -EPROTO;
    }

 out:
    pt_report_free(&rep);
    pt_plan_free(&plan);
    pt_xview_free(&loaded);
    pt_sim_free(&sim);
 out_topo:
    pt_topo_free(&topo);
    pt_errlog_free(&log);
    return rc;
}

/*
 * Where check's time goes, measured in this process on a warm tree: the
 * scan, loading the view document, the diff (best of three each).
 */
static int breakdown(const char *dir, const char *view, struct size_result *res)
{
    res->scan_s = res->load_s = res->diff_s = 1e9;
    for ( unsigned k = 0; k < 3; k++ )
    {
        struct pt_errlog log = { 0 };
        struct pt_topo topo = { 0 };
        struct pt_xview xv = { 0 };
        struct pt_report rep = { 0 };
        double t0 = now(), t1, t2, t3;
        int rc = pt_scan_sysfs(dir, &topo, &log);

        t1 = now();
        if ( !rc )
            rc = pt_xview_load(view, &xv, &log);
        t2 = now();
        if ( !rc )
            rc = pt_diff(&topo, &xv, NULL, &rep);
        t3 = now();
        pt_report_free(&rep);
        pt_xview_free(&xv);
        pt_topo_free(&topo);
        pt_errlog_free(&log);
        if ( rc )
            return rc;
        res->scan_s = t1 - t0 < res->scan_s ? t1 - t0 : res->scan_s;
        res->load_s = t2 - t1 < res->load_s ? t2 - t1 : res->load_s;
        res->diff_s = t3 - t2 < res->diff_s ? t3 - t2 : res->diff_s;
    }
    return 0;
}

/*
 * Times check against lspci on the sysfs tree at dir (view: its matching
 * Xen view); res->ndev must be set.  res->valid says whether the figures
 * may be used.
 */
static int measure(const struct options *o, const char *dir, const char *view,
                   struct size_result *res)
{
    char pcipath[PATH_BUF + 32];
    double pt_t[MAX_RUNS], ls_t[MAX_RUNS], pt_c[MAX_RUNS], ls_c[MAX_RUNS];
    struct run r;
    long nsys;
    int rc;

    snprintf(pcipath, sizeof(pcipath), "sysfs.path=%s/bus/pci", dir);
    nsys = count_sysfs_devices(dir);
    if ( nsys != (long)res->ndev )
    {
        fprintf(stderr, "ptbench: %s/bus/pci/devices has %ld entries, the scan found %zu devices\n",
                dir, nsys, res->ndev);
        return -EPROTO;
    }

    {
        char *pt_argv[] = { (char *)o->pcitopod, "check", "--sysfs-root", (char *)dir,
                            "--xen-sim", (char *)view, NULL };
        char *ls_argv[] = { (char *)o->lspci, "-A", "linux-sysfs", "-O", pcipath, NULL };

        /* Validation (and warm-up): both must really do the job. */
        rc = launch(ls_argv, true, true, &r);
        if ( rc || r.status )
        {
            fprintf(stderr, "ptbench: %s -A linux-sysfs -O %s: %s\n", o->lspci, pcipath,
                    rc ? strerror(-rc) : "failed");
            return rc ? rc : -EPROTO;
        }
        res->nlspci = r.lines;
        if ( r.lines != res->ndev )
        {
            fprintf(stderr, "ptbench: lspci listed %zu devices of the %zu in %s: it does not read the tree\n",
                    r.lines, res->ndev, dir);
            return -EPROTO;
        }
        rc = launch(pt_argv, true, true, &r);
        if ( rc || r.status )
        {
            fprintf(stderr, "ptbench: %s check --sysfs-root %s --xen-sim %s: %s\n",
                    o->pcitopod, dir, view,
                    rc ? strerror(-rc) : r.status == 1 ? "reports the tree inconsistent (exit 1)"
                    : r.status == 3 ? "could not verify everything (exit 3)"
                    : "failed (see its messages above)");
            return rc ? rc : -EPROTO;
        }

        /* Interleaved, so that drift hits both alike. */
        for ( unsigned i = 0; i < o->runs; i++ )
        {
            rc = launch(pt_argv, false, false, &r);
            if ( rc || r.status )
            {
                fprintf(stderr, "ptbench: pcitopod check run %u: exit %d\n", i + 1, r.status);
                return rc ? rc : -EPROTO;
            }
            pt_t[i] = r.wall;
            pt_c[i] = r.cpu;
            if ( r.maxrss > res->pt_rss )
                res->pt_rss = r.maxrss;
            rc = launch(ls_argv, false, false, &r);
            if ( rc || r.status )
            {
                fprintf(stderr, "ptbench: lspci run %u: exit %d\n", i + 1, r.status);
                return rc ? rc : -EPROTO;
            }
            ls_t[i] = r.wall;
            ls_c[i] = r.cpu;
            if ( r.maxrss > res->ls_rss )
                res->ls_rss = r.maxrss;
        }
    }
    res->pt_med = median(pt_t, o->runs);
    res->ls_med = median(ls_t, o->runs);
    res->pt_cpu = median(pt_c, o->runs);
    res->ls_cpu = median(ls_c, o->runs);
    res->valid = true;
    if ( breakdown(dir, view, res) )
        res->scan_s = res->load_s = res->diff_s = 0;
    printf("  %5zu devices: check %.3f s (cpu %.3f) %ld KiB, lspci %.3f s (cpu %.3f) %ld KiB;"
           " in-process (warm, best of 3): scan %.3f s, load view %.3f s, diff %.3f s\n",
           res->ndev, res->pt_med, res->pt_cpu, res->pt_rss, res->ls_med, res->ls_cpu,
           res->ls_rss, res->scan_s, res->load_s, res->diff_s);
    fflush(stdout);
    return 0;
}

/* Times one synthetic tree size. */
static int bench_size(const struct options *o, size_t n, const char *work,
                      struct size_result *res)
{
    char dir[PATH_BUF], view[PATH_BUF];
    struct fx_tree *t;
    size_t ngen;
    double t0;
    int rc;

    memset(res, 0, sizeof(*res));
    snprintf(dir, sizeof(dir), "%s/tree-%zu", work, n);
    snprintf(view, sizeof(view), "%s/view-%zu.json", work, n);

    t0 = now();
    t = fx_gen(n, 1);
    if ( !t )
    {
        fprintf(stderr, "ptbench: generating a %zu-device tree: out of memory\n", n);
        return -ENOMEM;
    }
    ngen = fx_count(t);
    rc = fx_write_sysfs(t, dir);
    fx_free(t);
    if ( rc )
    {
        fprintf(stderr, "ptbench: writing the %zu-device tree into %s: %s\n", n, dir,
                strerror(-rc));
        return rc;
    }
    rc = build_view(dir, view, res);
    if ( !rc && res->ndev != ngen )
    {
        fprintf(stderr, "ptbench: the scan of %s found %zu devices, the generator wrote %zu\n",
                dir, res->ndev, ngen);
        rc = -EPROTO;
    }
    if ( !rc )
    {
        printf("  %5zu devices: tree + matching view in %.1f s (%s)\n", res->ndev, now() - t0,
               dir);
        rc = measure(o, dir, view, res);
    }
    if ( !o->keep )
    {
        fx_rmtree(dir);
        unlink(view);
    }
    return rc;
}

/* Times this machine's own /sys (real config-space reads), when it has PCI devices. */
static int bench_real(const struct options *o, const char *work, struct size_result *res)
{
    char view[PATH_BUF];
    int rc;

    memset(res, 0, sizeof(*res));
    snprintf(view, sizeof(view), "%s/view-sys.json", work);
    res->real = true;
    rc = build_view("/sys", view, res);
    if ( !rc )
    {
        printf("  %5zu devices: this machine's /sys\n", res->ndev);
        rc = measure(o, "/sys", view, res);
    }
    if ( !o->keep )
        unlink(view);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Part 2: renumbering scenarios                                       */
/* ------------------------------------------------------------------ */

enum reserve_cfg {
    RES_NONE,                   /* firmware and Linux differ only by SR-IOV bus reservation */
    RES_HOTPLUG,                /* root/downstream ports reserve 1..4 buses (QEMU bus-reserve) */
    RES_RANDOM,                 /* every bridge reserves 0..3 buses */
    RES__COUNT
};
#define NFAMILIES (RES__COUNT + 1) /* + tests/history.h random histories */

static const char *const reserve_name[NFAMILIES] = {
    "no reservation", "hot-plug ports reserve 1-4", "every bridge reserves 0-3",
    "random histories",
};

/* Linux and the simulated hypervisors of one scenario. */
struct scen {
    struct fx_tree *t;
    struct pt_sim sim[2];       /* [0] patched, [1] stock */
    unsigned long nreports;
    int err;
};

/* Per-model totals over the scenarios of one configuration. */
struct plan_tot {
    unsigned long nscen;
    unsigned long plan, minimal, naive;
    unsigned long stale, missing, refresh, rereg, b2b;
    unsigned long rule_min;     /* minimal + what DESIGN 4.5 makes re-register along */
    unsigned long residue;      /* inconsistent findings after applying the plan */
    unsigned long unexpected;   /* residue of plans that claimed to fix everything */
    unsigned long unrep, blocked, failed, partial;
    double worst;               /* largest plan/minimal of one scenario */
};

static unsigned rnd(unsigned *st)
{
    *st = *st * 1103515245u + 12345u;
    return (*st >> 16) & 0x7fff;
}

/* Sets each bridge's firmware reservation as cfg says. */
static void set_reserves(struct fx_tree *t, enum reserve_cfg cfg, unsigned *st)
{
    struct fx_dev **devs = NULL;
    size_t n = 0;

    if ( fx_devices(t, &devs, &n) < 0 )
        return;
    for ( size_t i = 0; i < n; i++ )
    {
        struct fx_dev *d = devs[i];

        if ( !fx_kind_is_bridge(d->kind) )
            continue;
        d->bus_reserve = 0;
        if ( cfg == RES_HOTPLUG && (d->kind == FX_ROOT_PORT || d->kind == FX_SWITCH_DOWN) )
            d->bus_reserve = 1 + rnd(st) % 4;
        else if ( cfg == RES_RANDOM )
            d->bus_reserve = rnd(st) % 4;
    }
    free(devs);
}

/* drivers/xen/pci.c xen_add_device(): one report to both simulated hypervisors. */
static void report_add(struct scen *sc, const struct fx_dev *d)
{
    struct pt_add_info info = { .pxm = -1 };
    const struct fx_dev *p = d->parent;

    if ( d->kind == FX_VF )
    {
        info.virtfn = true;
        info.physfn = fx_sbdf(d->pf);
    }
    else
        /* pci_ari_enabled(bus) && PCI_SLOT(devfn) != 0 */
        info.extfn = p && p->kind != FX_ROOT_BUS && p->ari_fwd && d->slot != 0;
    for ( unsigned m = 0; m < 2; m++ )
    {
        int r = pt_sim_add(&sc->sim[m], fx_sbdf(d), &info);

        /* A failed add is what Linux logs and ignores; the crash is not. */
        if ( sc->sim[m].crashed && !sc->err )
            sc->err = r ? r : -EFAULT;
    }
    sc->nreports++;
}

static int cmp_kid(const void *a, const void *b)
{
    const struct fx_dev *x = *(struct fx_dev *const *)a, *y = *(struct fx_dev *const *)b;
    unsigned dx = PT_DEVFN_OF(x->slot, x->func), dy = PT_DEVFN_OF(y->slot, y->func);

    return dx < dy ? -1 : dx > dy;
}

/*
 * pci_scan_child_bus_extend() under pci=assign-busses for the bus behind
 * node (numbered busnr): every device on it is reported first (so a bridge
 * is reported with whatever its registers hold), the SR-IOV bus range is
 * reserved, pass 0 clears every bridge, pass 1 numbers each and recurses.
 * Returns the highest bus used.
 */
static unsigned linux_scan_bus(struct scen *sc, struct fx_dev *node, unsigned busnr)
{
    struct fx_dev **kids;
    unsigned max = busnr;

    if ( !node->nkids )
        return max;
    kids = malloc(node->nkids * sizeof(*kids));
    if ( !kids )
    {
        sc->err = -ENOMEM;
        return max;
    }
    memcpy(kids, node->kids, node->nkids * sizeof(*kids));
    qsort(kids, node->nkids, sizeof(*kids), cmp_kid);

    for ( size_t i = 0; i < node->nkids; i++ )
        report_add(sc, kids[i]);

    /* pci_iov_bus_range(): buses for the most VFs each PF could have. */
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        const struct fx_dev *d = kids[i];

        if ( d->kind == FX_SRIOV_PF && d->totalvfs )
        {
            unsigned rid = busnr << 8 | PT_DEVFN_OF(d->slot, d->func);
            unsigned last = (rid + d->vf_offset + (d->totalvfs - 1u) * d->vf_stride) >> 8;

            if ( last > max )
                max = last;
        }
    }

    for ( size_t i = 0; i < node->nkids; i++ )
        if ( fx_kind_is_bridge(kids[i]->kind) )
            fx_set_bridge_regs(kids[i], 0, 0, 0);       /* pass 0 */
    for ( size_t i = 0; i < node->nkids; i++ )
    {
        struct fx_dev *d = kids[i];
        unsigned sec;

        if ( !fx_kind_is_bridge(d->kind) )
            continue;
        sec = max < 0xff ? max + 1 : 0xff;              /* pass 1 */
        fx_set_bridge_regs(d, (uint8_t)busnr, (uint8_t)sec, 0xff);
        max = linux_scan_bus(sc, d, sec);
        if ( max > 0xff )
            max = 0xff;
        fx_set_bridge_regs(d, (uint8_t)busnr, (uint8_t)sec, (uint8_t)max);
    }
    free(kids);
    return max;
}

/* Every PF's driver enables its VFs: each VF reported as a VF (sriov_enable). */
static int enable_vfs(struct scen *sc, struct fx_dev **pfs, const unsigned *numvfs, size_t npf)
{
    for ( size_t i = 0; i < npf; i++ )
    {
        int r = fx_set_numvfs(pfs[i], numvfs[i]);

        if ( r < 0 )
            return r;
        for ( size_t v = 0; v < pfs[i]->numvfs; v++ )
            report_add(sc, pfs[i]->vfs[v]);
    }
    return sc->err;
}

/*
 * Counts the minimal edit set from the diff: a stale entry needs one
 * remove, a missing device one add, a mismatch in the flags a plain add
 * (pci_add_device() overwrites them), a mismatch in type, recorded range,
 * phantom stride or a failed owner a re-registration (remove + add).
 * bus2bridge and cycle findings cost nothing of their own: they follow
 * from the bridges' entries.  Blocked findings are not touched.
 */
static void minimal_edits(const struct pt_report *r, struct plan_tot *tot, unsigned long *min)
{
    *min = 0;
    for ( size_t i = 0; i < r->n; i++ )
    {
        const struct pt_finding *f = &r->f[i];

        switch ( f->kind )
        {
        case PT_FIND_STALE:
            tot->stale++;
            ++*min;
            break;
        case PT_FIND_MISSING:
            tot->missing++;
            ++*min;
            break;
        case PT_FIND_MISMATCH:
            if ( f->what & (PT_MIS_TYPE | PT_MIS_RANGE | PT_MIS_PHANTOM | PT_MIS_NO_OWNER) )
            {
                tot->rereg++;
                *min += 2;
            }
            else
            {
                tot->refresh++;
                ++*min;
            }
            break;
        case PT_FIND_BUS2BRIDGE:
        case PT_FIND_CYCLE:
            tot->b2b++;
            break;
        default:
            break;
        }
    }
}

/* True when the report has a finding of its own on sbdf (or mask of them). */
static unsigned finding_on(const struct pt_report *r, pt_sbdf_t sbdf)
{
    unsigned what = 0;

    for ( size_t i = 0; i < r->n; i++ )
        if ( r->f[i].sbdf == sbdf && r->f[i].bus < 0 )
            what |= r->f[i].kind == PT_FIND_MISMATCH ? r->f[i].what | 0x100 : 0x200;
    return what;
}

/*
 * What DESIGN 4.5 adds to the minimal set: a bridge (or PF) that is
 * re-registered takes what sits behind it along (removed first, added
 * after), so each consistent device below one costs a remove and an add.
 */
static bool is_blocked(const struct pt_plan *plan, pt_sbdf_t sbdf)
{
    for ( size_t i = 0; i < plan->nblocked; i++ )
        if ( plan->blocked[i].sbdf == sbdf )
            return true;
    return false;
}

static unsigned long rule_extra(const struct pt_topo *topo, const struct pt_xview *xv,
                                const struct pt_report *r, const struct pt_plan *plan)
{
    const unsigned rereg = PT_MIS_TYPE | PT_MIS_RANGE | PT_MIS_PHANTOM | PT_MIS_NO_OWNER;
    unsigned *what = calloc(topo->n + 1, sizeof(*what));
    unsigned long extra = 0;

    if ( !what )
        return 0;
    /* A blocked bridge's subtree stays where it is: 0x400 marks it. */
    for ( size_t i = 0; i < topo->n; i++ )
        what[i] = finding_on(r, topo->devs[i].sbdf) |
                  (is_blocked(plan, topo->devs[i].sbdf) ? 0x400 : 0);
    for ( size_t i = 0; i < topo->n; i++ )
    {
        const struct pt_dev *d = &topo->devs[i];
        bool along = false;

        if ( (what[i] & ~0x400u) || !pt_xview_find(xv, d->sbdf) )
            continue;           /* counted already, or a plain add */
        bool held = false;

        for ( size_t up = d->parent; up != PT_NO_PARENT; up = topo->devs[up].parent )
        {
            along |= (what[up] & rereg) != 0;
            held |= (what[up] & 0x400) != 0;
        }
        if ( d->is_virtfn )
        {
            const struct pt_dev *pf = pt_topo_find(topo, d->physfn);

            along |= pf && (what[pf - topo->devs] & rereg);
            held |= pf && (what[pf - topo->devs] & 0x400);
        }
        extra += along && !held ? 2 : 0;
    }
    free(what);
    return extra;
}

/* Plans and applies for one model; adds to tot. */
static int score_model(struct pt_sim *sim, const struct pt_topo *topo, struct plan_tot *tot)
{
    struct pt_errlog log = { 0 };
    struct pt_report before = { 0 }, after = { 0 };
    struct pt_plan plan = { 0 };
    unsigned long min = 0, nx = 0;
    size_t done = 0;
    int rc;

    rc = pt_diff(topo, &sim->state, NULL, &before);
    if ( !rc )
        rc = pt_plan_build(topo, &sim->state, NULL, &plan, &log);
    if ( rc )
        goto out;
    minimal_edits(&before, tot, &min);
    tot->rule_min += min + rule_extra(topo, &sim->state, &before, &plan);
    for ( size_t s = 0; s < sim->state.nsegs; s++ )
        nx += sim->state.segs[s].n;
    tot->nscen++;
    tot->plan += plan.n;
    tot->minimal += min;
    tot->naive += nx + topo->n;
    tot->unrep += plan.nunrep;
    tot->blocked += plan.nblocked;
    tot->partial += plan.nunrep || plan.nblocked;
    if ( min && (double)plan.n / (double)min > tot->worst )
        tot->worst = (double)plan.n / (double)min;

    /* A plan that leaves the registry wrong would make the counts meaningless. */
    rc = pt_sim_apply(sim, &plan, &done, &log);
    if ( rc )
    {
        char sb[PT_SBDF_STRLEN];

        /* The first few in detail; the table counts them all. */
        if ( tot->failed++ < 3 )
        {
            fprintf(stderr, "ptbench: %s model: the plan failed on the simulator at op %zu of %zu (%s %s): %s\n",
                    pt_hv_name(sim->hv), done + 1, plan.n,
                    done < plan.n ? (plan.ops[done].op == PT_OP_REMOVE ? "remove" : "add") : "-",
                    done < plan.n ? pt_sbdf_fmt(plan.ops[done].sbdf, sb) : "-", strerror(-rc));
            pt_errlog_print(&log, stderr, PT_SEV_WARN);
        }
        rc = 0;
    }
    else if ( !pt_diff(topo, &sim->state, NULL, &after) )
    {
        tot->residue += pt_report_inconsistent(&after);
        if ( !plan.nunrep && !plan.nblocked )
            tot->unexpected += pt_report_inconsistent(&after);
        if ( getenv("PTBENCH_DEBUG") && pt_report_inconsistent(&after) )
        {
            fprintf(stderr, "---- %s model: before\n", pt_hv_name(sim->hv));
            pt_report_print(&before, stderr);
            fprintf(stderr, "---- plan\n");
            pt_plan_print(&plan, stderr);
            fprintf(stderr, "---- after\n");
            pt_report_print(&after, stderr);
            pt_errlog_print(&log, stderr, PT_SEV_DEBUG);
        }
    }

 out:
    pt_report_free(&before);
    pt_report_free(&after);
    pt_plan_free(&plan);
    pt_errlog_free(&log);
    return rc;
}

/* The devices' SBDFs in fx_devices() order; *out malloc'ed. */
static int snapshot_sbdfs(const struct fx_tree *t, pt_sbdf_t **out, size_t *n)
{
    struct fx_dev **devs = NULL;
    int r = fx_devices(t, &devs, n);

    if ( r < 0 )
        return r;
    *out = malloc((*n + 1) * sizeof(**out));
    if ( !*out )
    {
        free(devs);
        return -ENOMEM;
    }
    for ( size_t i = 0; i < *n; i++ )
        (*out)[i] = fx_sbdf(devs[i]);
    free(devs);
    return 0;
}

/*
 * One scenario: tree t (taken) renumbered from firmware to Linux numbering.
 * *numbering_ok tells whether the emulated enumeration ended where the
 * fixture's own Linux numbering does.
 */
static int run_scenario(struct fx_tree *t, enum reserve_cfg cfg, unsigned seed,
                        struct plan_tot tot[2], bool *numbering_ok)
{
    struct scen sc = { .t = t };
    struct pt_hw hw = { fx_hw_probe, t };
    struct fx_dev **devs = NULL, **pfs = NULL;
    unsigned *numvfs = NULL, st = seed * 2654435761u + (unsigned)cfg;
    pt_sbdf_t *mine = NULL, *ref = NULL;
    size_t n = 0, npf = 0, nm = 0, nr = 0;
    struct pt_topo topo = { 0 };
    uint16_t segs[64];
    size_t nsegs;
    int rc;

    *numbering_ok = false;
    rc = fx_devices(t, &devs, &n);
    if ( rc < 0 )
        goto out;
    pfs = calloc(n + 1, sizeof(*pfs));
    numvfs = calloc(n + 1, sizeof(*numvfs));
    if ( !pfs || !numvfs )
    {
        rc = -ENOMEM;
        goto out;
    }
    /* Firmware does not enable SR-IOV: the VFs appear when the driver asks. */
    for ( size_t i = 0; i < n; i++ )
        if ( devs[i]->kind == FX_SRIOV_PF )
        {
            pfs[npf] = devs[i];
            numvfs[npf++] = devs[i]->numvfs;
        }
    for ( size_t i = 0; i < npf; i++ )
        if ( (rc = fx_set_numvfs(pfs[i], 0)) < 0 )
            goto out;
    free(devs);                 /* it listed the VFs just freed */
    devs = NULL;
    rc = fx_devices(t, &devs, &n);
    if ( rc < 0 )
        goto out;
    set_reserves(t, cfg, &st);
    fx_number_busses(t, FX_NUMBER_FIRMWARE);

    rc = pt_sim_init(&sc.sim[0], NULL, PT_HV_PATCHED, hw);
    if ( !rc )
        rc = pt_sim_init(&sc.sim[1], NULL, PT_HV_STOCK, hw);
    nsegs = tree_segments(t, segs, 64);
    for ( size_t i = 0; i < nsegs && !rc; i++ )
    {
        rc = pt_sim_boot_scan(&sc.sim[0], segs[i]);
        if ( !rc )
            rc = pt_sim_boot_scan(&sc.sim[1], segs[i]);
    }
    if ( rc )
        goto out;

    /* Linux boots with pci=assign-busses: every root bus from its own number. */
    {
        struct fx_dev *seen[64];
        size_t nseen = 0;

        for ( size_t i = 0; i < n; i++ )
        {
            struct fx_dev *root = devs[i]->parent;
            size_t k;

            while ( root && root->kind != FX_ROOT_BUS )
                root = root->parent;
            if ( !root )
                continue;
            for ( k = 0; k < nseen && seen[k] != root; k++ )
                ;
            if ( k < nseen || nseen == 64 )
                continue;
            seen[nseen++] = root;
            linux_scan_bus(&sc, root, root->sec);
        }
    }
    rc = sc.err ? sc.err : enable_vfs(&sc, pfs, numvfs, npf);
    if ( rc )
        goto out;

    /* The emulation must agree with the fixture's own Linux numbering. */
    rc = snapshot_sbdfs(t, &mine, &nm);
    if ( rc )
        goto out;
    fx_number_busses(t, FX_NUMBER_LINUX);
    rc = snapshot_sbdfs(t, &ref, &nr);
    if ( rc )
        goto out;
    *numbering_ok = nm == nr && !memcmp(mine, ref, nm * sizeof(*mine));

    rc = fx_topo(t, &topo);
    for ( unsigned m = 0; m < 2 && !rc; m++ )
        rc = score_model(&sc.sim[m], &topo, &tot[m]);

 out:
    pt_topo_free(&topo);
    pt_sim_free(&sc.sim[0]);
    pt_sim_free(&sc.sim[1]);
    free(mine);
    free(ref);
    free(devs);
    free(pfs);
    free(numvfs);
    fx_free(t);
    return rc;
}

static double ratio(unsigned long a, unsigned long b)
{
    return b ? (double)a / (double)b : 0.0;
}

/* Runs every configuration; fills tot[cfg][model]; false when a scenario could not be scored. */
static bool bench_plans(const struct options *o, struct plan_tot tot[NFAMILIES][2])
{
    bool ok = true;
    unsigned long badnum = 0;

    memset(tot, 0, sizeof(struct plan_tot) * NFAMILIES * 2);
    for ( unsigned cfg = 0; cfg < RES__COUNT; cfg++ )
        for ( unsigned s = 1; s <= o->seeds; s++ )
        {
            /* Small trees of every kind, and fx_gen's larger SR-IOV-heavy ones. */
            struct fx_tree *t = s % 4 ? fx_random(s, 60 + s % 7 * 20) : fx_gen(300 + 50 * s, s);
            bool numbering_ok;
            int rc;

            if ( !t )
            {
                fprintf(stderr, "ptbench: scenario %u/%u: out of memory\n", cfg, s);
                return false;
            }
            rc = run_scenario(t, (enum reserve_cfg)cfg, s, tot[cfg], &numbering_ok);
            if ( rc )
            {
                fprintf(stderr, "ptbench: scenario \"%s\" seed %u: %s\n", reserve_name[cfg], s,
                        strerror(-rc));
                ok = false;
            }
            badnum += !numbering_ok;
        }
    /* tests/history.h: boot, then rescans, hot-plug, SR-IOV, assignment... */
    for ( unsigned s = 1; s <= o->histories; s++ )
        for ( unsigned m = 0; m < 2; m++ )
        {
            struct hist_opts ho = { .maxdev = 40 };
            struct pt_topo topo = { 0 };
            struct hist h;
            int rc;

            memset(&h, 0, sizeof(h));
            rc = hist_run(s, m ? PT_HV_STOCK : PT_HV_PATCHED, &ho, &h);
            if ( !rc )
                rc = fx_topo(h.tree, &topo);
            if ( !rc )
                rc = score_model(&h.sim, &topo, &tot[RES__COUNT][m]);
            if ( rc )
            {
                fprintf(stderr, "ptbench: random history %u (%s model): %s\n", s,
                        pt_hv_name(m ? PT_HV_STOCK : PT_HV_PATCHED), strerror(-rc));
                ok = false;
            }
            pt_topo_free(&topo);
            hist_free(&h);
        }
    if ( badnum )
    {
        fprintf(stderr, "ptbench: %lu scenarios ended with other bus numbers than fx_number_busses(LINUX)\n",
                badnum);
        ok = false;
    }
    return ok;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

/* "16000", or "6 /sys" for this machine's own tree. */
static const char *row_label(const struct size_result *r, char *buf, size_t len)
{
    snprintf(buf, len, "%zu%s", r->ndev, r->real ? " /sys" : "");
    return buf;
}

static void print_speed(const struct options *o, const struct size_result *res, size_t n)
{
    char lb[32];

    const struct size_result *r4k = NULL;

    printf("\n== pcitopod check vs lspci -A linux-sysfs: median of %u interleaved runs ==\n"
           "wall = clock_gettime around fork/exec/wait4; cpu = user + system from wait4;\n"
           "RSS = ru_maxrss (largest over the runs).  ratio = pcitopod / lspci.\n\n", o->runs);
    printf("%7s | %8s %8s %6s | %8s %8s %6s | %9s %9s %6s | %8s %8s\n", "devices", "check s",
           "lspci s", "ratio", "chk cpu", "lsp cpu", "ratio", "check KiB", "lspci KiB", "ratio",
           "chk us/d", "lsp us/d");
    for ( size_t i = 0; i < n; i++ )
    {
        const struct size_result *r = &res[i];

        if ( !r->valid )
        {
            printf("%7s  (not measured: see the error above)\n", row_label(r, lb, sizeof(lb)));
            continue;
        }
        printf("%7s | %8.4f %8.4f %6.2f | %8.4f %8.4f %6.2f | %9ld %9ld %6.2f | %8.2f %8.2f\n",
               row_label(r, lb, sizeof(lb)), r->pt_med, r->ls_med, r->pt_med / r->ls_med,
               r->pt_cpu, r->ls_cpu,
               r->ls_cpu > 0 ? r->pt_cpu / r->ls_cpu : 0.0, r->pt_rss, r->ls_rss,
               (double)r->pt_rss / (double)r->ls_rss, r->pt_med / (double)r->ndev * 1e6,
               r->ls_med / (double)r->ndev * 1e6);
        if ( !r->real && (!r4k || labs((long)r->ndev - 4000) < labs((long)r4k->ndev - 4000)) )
            r4k = r;
    }
    printf("\nGrowth: exponent k in t ~ n^k between consecutive sizes (1.00 = linear):\n");
    for ( size_t i = 1; i < n; i++ )
        if ( res[i - 1].valid && res[i].valid && !res[i].real )
        {
            double dn = log((double)res[i].ndev / (double)res[i - 1].ndev);

            printf("  %zu -> %zu devices: check k = %.2f (cpu %.2f), lspci k = %.2f (cpu %.2f)\n",
                   res[i - 1].ndev, res[i].ndev, log(res[i].pt_med / res[i - 1].pt_med) / dn,
                   log(res[i].pt_cpu / res[i - 1].pt_cpu) / dn,
                   log(res[i].ls_med / res[i - 1].ls_med) / dn,
                   log(res[i].ls_cpu / res[i - 1].ls_cpu) / dn);
        }
    if ( r4k )
        printf("Target <= 0.50x lspci at %zu devices: wall %.2fx, cpu %.2fx: %s\n", r4k->ndev,
               r4k->pt_med / r4k->ls_med, r4k->ls_cpu > 0 ? r4k->pt_cpu / r4k->ls_cpu : 0.0,
               r4k->pt_med / r4k->ls_med <= 0.5 ? "met" : "MISSED");
    if ( n && res[n - 1].real )
        printf("The /sys row reads real config space (here: a VM's trapped config cycles): what\n"
               "a synthetic tree on tmpfs cannot show; lspci reads 64 bytes of each function.\n");
}

static void print_plans(const struct plan_tot tot[NFAMILIES][2])
{
    static const char *const model[2] = { "patched", "stock" };

    printf("\n== Plan size over Linux pci=assign-busses renumbering scenarios ==\n"
           "Each scenario: firmware numbering (bus reservations as below), Xen's boot scan, Linux\n"
           "renumbering with pci=assign-busses reporting each device as drivers/xen/pci.c does,\n"
           "then the PF drivers enabling SR-IOV; trees: fx_random (60-180 devices, every kind)\n"
           "and, every 4th seed, fx_gen (SR-IOV PFs with 32-128 VFs, switches, bridges).\n"
           "\"no reservation\" is the control: firmware and Linux then number these trees alike\n"
           "  (the VFs fit on their PF's bus), so nothing should be planned.\n"
           "\"random histories\": tests/history.h (hist_run, about 40 devices): boot as above\n"
           "  (assign-busses or not), then 2-9 random rescans, hot-plugs, unplugs, SR-IOV\n"
           "  changes, assignments to guests and owner-less entries.\n"
           "minimal = stale + missing + refresh + 2 x re-register, where refresh is a plain add\n"
           "  that rewrites wrong VF/physfn/extfn flags, and re-register (remove + add) is needed\n"
           "  for a wrong type, recorded bridge range, phantom stride or a failed (owner-less) add;\n"
           "  bus2bridge/cycle findings add nothing (they follow from the bridges' entries).\n"
           "rule-min = minimal + 2 x each consistent device behind a re-registered bridge or PF\n"
           "  (DESIGN 4.5: a bridge is removed after its subtree and added before it).\n"
           "naive   = every Xen entry removed + every dom0 device added.\n"
           "blocked = entries the plan leaves (reported, not touched); unrep = bus2bridge entries\n"
           "  no plan can fix (stock); residue = inconsistent findings after applying the plan on\n"
           "  the simulator (unexp = residue of plans with nothing blocked or unrepairable);\n"
           "  failed = plans that stopped on the simulator with an error (no residue counted).\n\n");
    printf("%-27s %-7s %4s %6s %7s %8s %6s %8s %8s %8s %7s %7s %5s %7s %5s %6s\n",
           "scenarios", "model", "scen", "plan", "minimal", "rule-min", "naive",
           "plan/min", "plan/rul", "plan/nai", "worst", "blocked", "unrep", "residue", "unexp",
           "failed");
    for ( unsigned c = 0; c < NFAMILIES; c++ )
        for ( unsigned m = 0; m < 2; m++ )
        {
            const struct plan_tot *t = &tot[c][m];

            printf("%-27s %-7s %4lu %6lu %7lu %8lu %6lu %8.2f %8.2f %8.3f %7.2f %7lu %5lu %7lu %5lu %6lu\n",
                   m ? "" : reserve_name[c], model[m], t->nscen, t->plan, t->minimal,
                   t->rule_min, t->naive, ratio(t->plan, t->minimal),
                   ratio(t->plan, t->rule_min), ratio(t->plan, t->naive), t->worst,
                   t->blocked, t->unrep, t->residue, t->unexpected, t->failed);
        }
    printf("\nFindings before repair (patched model), by configuration:\n");
    for ( unsigned c = 0; c < NFAMILIES; c++ )
        printf("  %-27s stale %lu, missing %lu, refresh %lu, re-register %lu, bus2bridge/cycle %lu\n",
               reserve_name[c], tot[c][0].stale, tot[c][0].missing, tot[c][0].refresh,
               tot[c][0].rereg, tot[c][0].b2b);
}

static void print_summary(const struct options *o, const struct size_result *res, size_t n,
                          const struct plan_tot tot[NFAMILIES][2], bool plans_ok)
{
    struct plan_tot sum[2];

    printf("\n================================ SUMMARY ================================\n");
    if ( !o->no_speed )
    {
        printf("%-9s %-9s %-9s %-11s %-10s %-10s %-10s %-10s %-9s %-9s %-9s\n", "devices",
               "check s", "lspci s", "time ratio", "cpu ratio", "RSS ratio", "check KiB",
               "lspci KiB", "chk us/d", "lsp us/d", "chk cpu us/d");
        for ( size_t i = 0; i < n; i++ )
        {
            char lb[32];

            if ( !res[i].valid )
            {
                printf("%-9s INVALID (see above)\n", row_label(&res[i], lb, sizeof(lb)));
                continue;
            }
            printf("%-9s %-9.4f %-9.4f %-11.2f %-10.2f %-10.2f %-10ld %-10ld %-9.2f %-9.2f %-9.2f\n",
                   row_label(&res[i], lb, sizeof(lb)), res[i].pt_med, res[i].ls_med,
                   res[i].pt_med / res[i].ls_med,
                   res[i].ls_cpu > 0 ? res[i].pt_cpu / res[i].ls_cpu : 0.0,
                   (double)res[i].pt_rss / (double)res[i].ls_rss, res[i].pt_rss, res[i].ls_rss,
                   res[i].pt_med / (double)res[i].ndev * 1e6,
                   res[i].ls_med / (double)res[i].ndev * 1e6,
                   res[i].pt_cpu / (double)res[i].ndev * 1e6);
        }
        printf("(wall time suffers from whatever else runs on the machine; cpu time much less)\n");
    }
    if ( !o->no_plans )
    {
        memset(sum, 0, sizeof(sum));
        for ( unsigned c = 0; c < NFAMILIES; c++ )
            for ( unsigned m = 0; m < 2; m++ )
            {
                sum[m].nscen += tot[c][m].nscen;
                sum[m].plan += tot[c][m].plan;
                sum[m].minimal += tot[c][m].minimal;
                sum[m].rule_min += tot[c][m].rule_min;
                sum[m].naive += tot[c][m].naive;
                sum[m].blocked += tot[c][m].blocked;
                sum[m].residue += tot[c][m].residue;
                sum[m].unexpected += tot[c][m].unexpected;
                sum[m].failed += tot[c][m].failed;
            }
        printf("\n%-9s %-6s %-9s %-9s %-9s %-9s %-9s %-9s %-9s %-8s %-6s %-6s\n", "model",
               "scen", "plan ops", "minimal", "rule-min", "naive", "plan/min", "plan/rul",
               "plan/nai", "blocked", "unexp", "failed");
        for ( unsigned m = 0; m < 2; m++ )
            printf("%-9s %-6lu %-9lu %-9lu %-9lu %-9lu %-9.2f %-9.2f %-9.3f %-8lu %-6lu %-6lu\n",
                   m ? "stock" : "patched", sum[m].nscen, sum[m].plan, sum[m].minimal,
                   sum[m].rule_min, sum[m].naive, ratio(sum[m].plan, sum[m].minimal),
                   ratio(sum[m].plan, sum[m].rule_min), ratio(sum[m].plan, sum[m].naive),
                   sum[m].blocked, sum[m].unexpected, sum[m].failed);
        for ( unsigned m = 0; m < 2; m++ )
            if ( sum[m].unexpected || sum[m].failed )
                printf("WARNING (%s model): %lu plans stopped with an error on the simulator and"
                       " %lu findings stayed after plans that claimed a complete repair: the"
                       " planner has work to do (details above)\n",
                       m ? "stock" : "patched", sum[m].failed, sum[m].unexpected);
        if ( !plans_ok )
            printf("INVALID: some scenarios could not be scored (see the errors above)\n");
    }
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ptbench [--sizes N,N,...] [--runs N] [--seeds N] [--histories N]\n"
            "               [--pcitopod PATH] [--lspci PATH] [--workdir DIR] [--keep]\n"
            "               [--no-speed] [--no-plans] [--no-sys]\n"
            "defaults: --sizes 1000,4000,16000 --runs 7 --seeds 12 --histories 100\n"
            "          --pcitopod ./pcitopod --lspci lspci; trees go to --workdir, else a new\n"
            "          directory in $TMPDIR, else /dev/shm (sysfs is in memory too), else /tmp\n");
}

/* 0: go on; 1: help was printed; -EINVAL: bad arguments (usage printed). */
static int parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->sizes[0] = 1000;
    o->sizes[1] = 4000;
    o->sizes[2] = 16000;
    o->nsizes = 3;
    o->runs = 7;
    o->seeds = 12;
    o->histories = 100;
    o->pcitopod = "./pcitopod";
    o->lspci = "lspci";
    for ( int i = 1; i < argc; i++ )
    {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;

        if ( !strcmp(a, "--help") || !strcmp(a, "-h") )
        {
            usage(stdout);
            return 1;
        }
        else if ( !strcmp(a, "--keep") )
            o->keep = true;
        else if ( !strcmp(a, "--no-speed") )
            o->no_speed = true;
        else if ( !strcmp(a, "--no-plans") )
            o->no_plans = true;
        else if ( !strcmp(a, "--no-sys") )
            o->no_sys = true;
        else if ( !v )
            goto bad;
        else if ( !strcmp(a, "--sizes") )
        {
            char *s = (char *)v;

            o->nsizes = 0;
            while ( *s && o->nsizes < MAX_SIZES )
            {
                unsigned long n = strtoul(s, &end, 10);

                if ( end == s || !n || n > 200000 || (*end && *end != ',') )
                    goto bad;
                o->sizes[o->nsizes++] = n;
                s = *end ? end + 1 : end;
            }
            i++;
        }
        else if ( !strcmp(a, "--histories") )
        {
            unsigned long n = strtoul(v, &end, 10);

            if ( *end || n > 100000 )
                goto bad;
            o->histories = (unsigned)n;
            i++;
        }
        else if ( !strcmp(a, "--runs") )
        {
            unsigned long n = strtoul(v, &end, 10);

            if ( *end || !n || n > MAX_RUNS )
                goto bad;
            o->runs = (unsigned)n;
            i++;
        }
        else if ( !strcmp(a, "--seeds") )
        {
            unsigned long n = strtoul(v, &end, 10);

            if ( *end || !n || n > 10000 )
                goto bad;
            o->seeds = (unsigned)n;
            i++;
        }
        else if ( !strcmp(a, "--pcitopod") )
            o->pcitopod = argv[++i];
        else if ( !strcmp(a, "--lspci") )
            o->lspci = argv[++i];
        else if ( !strcmp(a, "--workdir") )
            o->workdir = argv[++i];
        else
            goto bad;
    }
    return 0;
 bad:
    fprintf(stderr, "ptbench: bad or incomplete arguments\n");
    usage(stderr);
    return -EINVAL;
}

int main(int argc, char **argv)
{
    struct size_result res[MAX_SIZES + 1];
    size_t nres = 0;
    static struct plan_tot tot[NFAMILIES][2];
    struct options o;
    char work[WORK_MAX];
    bool ok = true, plans_ok = true, made = false;
    double t0 = now();

    switch ( parse_args(argc, argv, &o) )
    {
    case 0:
        break;
    case 1:
        return 0;
    default:
        return 2;
    }
    /* A launcher that died must give an error, not kill ptbench. */
    signal(SIGPIPE, SIG_IGN);
    if ( !o.no_speed )
    {
        int req = -1, resp = -1;

        switch ( launcher_start(&req, &resp) )
        {
        case 0:
            break;
        case 1:
            return launcher_serve(req, resp);
        default:
            fprintf(stderr, "ptbench: cannot fork the command launcher: %s\n", strerror(errno));
            return 2;
        }
    }
    memset(res, 0, sizeof(res));

    if ( !o.no_speed )
    {
        if ( strlen(o.workdir ? o.workdir : getenv("TMPDIR") ? getenv("TMPDIR") : "")
             >= WORK_MAX - 32 )
        {
            fprintf(stderr, "ptbench: the work directory's name is too long\n");
            return 2;
        }
        if ( o.workdir )
        {
            snprintf(work, sizeof(work), "%s", o.workdir);
            if ( mkdir(work, 0755) < 0 && errno != EEXIST )
            {
                fprintf(stderr, "ptbench: creating %s: %s\n", work, strerror(errno));
                return 2;
            }
        }
        else
        {
            const char *tmp = getenv("TMPDIR");
            struct stat st;

            /*
             * sysfs lives in memory: a tmpfs is its fair stand-in (and
             * spares ext4's slow inode allocation after mass deletes).
             */
            if ( !tmp || !*tmp )
                tmp = !stat("/dev/shm", &st) && S_ISDIR(st.st_mode) &&
                      !access("/dev/shm", W_OK) ? "/dev/shm" : "/tmp";
            snprintf(work, sizeof(work), "%s/ptbench.XXXXXX", tmp);
            if ( !mkdtemp(work) )
            {
                fprintf(stderr, "ptbench: creating a work directory %s: %s\n", work,
                        strerror(errno));
                return 2;
            }
            made = true;
        }
        printf("== Speed: %s check vs %s, trees under %s ==\n", o.pcitopod, o.lspci, work);
        fflush(stdout);
        for ( size_t i = 0; i < o.nsizes; i++ )
            if ( bench_size(&o, o.sizes[i], work, &res[i]) )
            {
                ok = false;
                res[i].valid = false;
            }
        nres = o.nsizes;
        if ( !o.no_sys && count_sysfs_devices("/sys") > 0 )
        {
            /* Real config-space reads: their cost is what tmpfs cannot show. */
            if ( bench_real(&o, work, &res[nres]) )
            {
                ok = false;
                res[nres].valid = false;
            }
            nres++;
        }
        launcher_stop();
        if ( made && !o.keep )
            fx_rmtree(work);
        print_speed(&o, res, nres);
    }
    if ( !o.no_plans )
    {
        plans_ok = bench_plans(&o, tot);
        print_plans(tot);
    }
    print_summary(&o, res, nres, tot, plans_ok);
    printf("(ptbench ran %.1f s)\n", now() - t0);
    return ok && plans_ok ? 0 : 1;
}
