/*
 * util.c - SBDF text, the message log, type names, whole-file I/O.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcitopo.h"

char *pt_sbdf_fmt(pt_sbdf_t sbdf, char *buf)
{
    snprintf(buf, PT_SBDF_STRLEN, "%04x:%02x:%02x.%u", PT_SEG(sbdf), PT_BUS(sbdf),
             PT_SLOT(PT_DEVFN(sbdf)), PT_FUNC(PT_DEVFN(sbdf)));
    return buf;
}

char *pt_bdf_fmt(pt_sbdf_t sbdf, char *buf)
{
    snprintf(buf, PT_BDF_STRLEN, "%02x:%02x.%u", PT_BUS(sbdf),
             PT_SLOT(PT_DEVFN(sbdf)), PT_FUNC(PT_DEVFN(sbdf)));
    return buf;
}

static int hexfield(const char **p, unsigned maxdigits, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    unsigned n = 0;

    while ( n < maxdigits )
    {
        char c = **p;
        int d;

        if ( c >= '0' && c <= '9' )
            d = c - '0';
        else if ( c >= 'a' && c <= 'f' )
            d = c - 'a' + 10;
        else if ( c >= 'A' && c <= 'F' )
            d = c - 'A' + 10;
        else
            break;
        v = v * 16 + d;
        (*p)++;
        n++;
    }
    if ( n == 0 || v > max )
        return -EINVAL;
    *out = v;
    return 0;
}

int pt_sbdf_parse(const char *s, uint16_t default_seg, pt_sbdf_t *out)
{
    unsigned long a, b, c, d;
    const char *p = s;

    if ( !s )
        return -EINVAL;
    if ( hexfield(&p, 4, 0xffff, &a) )
        return -EINVAL;
    if ( *p++ != ':' )
        return -EINVAL;
    if ( hexfield(&p, 2, 0xff, &b) )
        return -EINVAL;
    if ( *p == ':' )
    {
        /* ssss:bb:dd.f */
        p++;
        if ( hexfield(&p, 2, 0x1f, &c) || *p++ != '.' || hexfield(&p, 1, 7, &d) || *p )
            return -EINVAL;
        if ( a > 0xffff || strchr(s, ':') - s > 4 )
            return -EINVAL;
        *out = PT_SBDF(a, b, PT_DEVFN_OF(c, d));
        return 0;
    }
    /* bb:dd.f: a is the bus, b the slot */
    if ( *p++ != '.' || hexfield(&p, 1, 7, &d) || *p || a > 0xff || b > 0x1f )
        return -EINVAL;
    *out = PT_SBDF(default_seg, a, PT_DEVFN_OF(b, d));
    return 0;
}

void pt_log(struct pt_errlog *log, enum pt_severity sev, const char *fmt, ...)
{
    va_list ap;
    char *text = NULL;

    if ( !log )
        return;
    va_start(ap, fmt);
    if ( vasprintf(&text, fmt, ap) < 0 )
        text = NULL;
    va_end(ap);
    if ( !text )
        return;
    if ( log->n == log->cap )
    {
        size_t ncap = log->cap ? log->cap * 2 : 16;
        struct pt_msg *m = realloc(log->msgs, ncap * sizeof(*m));

        if ( !m )
        {
            free(text);
            return;
        }
        log->msgs = m;
        log->cap = ncap;
    }
    log->msgs[log->n].sev = sev;
    log->msgs[log->n].text = text;
    log->n++;
    if ( sev == PT_SEV_ERROR )
        log->nerrors++;
}

void pt_errlog_free(struct pt_errlog *log)
{
    for ( size_t i = 0; i < log->n; i++ )
        free(log->msgs[i].text);
    free(log->msgs);
    memset(log, 0, sizeof(*log));
}

void pt_errlog_print(const struct pt_errlog *log, FILE *f, enum pt_severity min)
{
    static const char *const prefix[] = {
        [PT_SEV_DEBUG] = "debug: ", [PT_SEV_INFO] = "",
        [PT_SEV_WARN] = "warning: ", [PT_SEV_ERROR] = "error: ",
    };

    for ( size_t i = 0; i < log->n; i++ )
        if ( log->msgs[i].sev >= min )
            fprintf(f, "pcitopod: %s%s\n", prefix[log->msgs[i].sev], log->msgs[i].text);
}

static const char *const type_names[PT_TYPE__COUNT] = {
    [PT_TYPE_UNKNOWN] = "unknown",
    [PT_TYPE_HOST_BRIDGE] = "host-bridge",
    [PT_TYPE_PCIE_PORT] = "pcie-port",
    [PT_TYPE_PCIE2PCI_BRIDGE] = "pcie2pci-bridge",
    [PT_TYPE_LEGACY_BRIDGE] = "legacy-bridge",
    [PT_TYPE_PCI2PCIE_BRIDGE] = "pci2pcie-bridge",
    [PT_TYPE_PCIE_ENDPOINT] = "pcie-endpoint",
    [PT_TYPE_PCI_ENDPOINT] = "pci-endpoint",
};

const char *pt_type_name(enum pt_dev_type t)
{
    return (unsigned)t < PT_TYPE__COUNT ? type_names[t] : "unknown";
}

int pt_type_parse(const char *s, enum pt_dev_type *out)
{
    for ( unsigned i = 0; i < PT_TYPE__COUNT; i++ )
        if ( !strcmp(s, type_names[i]) )
        {
            *out = i;
            return 0;
        }
    return -EINVAL;
}

bool pt_type_is_bridge(enum pt_dev_type t)
{
    return t == PT_TYPE_PCIE_PORT || t == PT_TYPE_PCIE2PCI_BRIDGE ||
           t == PT_TYPE_LEGACY_BRIDGE || t == PT_TYPE_PCI2PCIE_BRIDGE;
}

bool pt_type_feeds_bus2bridge(enum pt_dev_type t)
{
    /* alloc_pdev()/free_pdev(): only these two touch bus2bridge in 4.17. */
    return t == PT_TYPE_PCIE2PCI_BRIDGE || t == PT_TYPE_LEGACY_BRIDGE;
}

const char *pt_source_name(enum pt_view_source s)
{
    switch ( s )
    {
    case PT_SOURCE_SYSCTL: return "sysctl";
    case PT_SOURCE_STOCK:  return "stock";
    case PT_SOURCE_SIM:    return "sim";
    }
    return "sim";
}

const char *pt_hv_name(enum pt_hv_model hv)
{
    return hv == PT_HV_STOCK ? "stock" : "patched";
}

const char *pt_read_file_strerror(int r)
{
    if ( r == -PT_ENOTREG )
        return "not a regular file";
    if ( r == -EFBIG )
        return "larger than " PT_DOC_MAX_TEXT ", the limit for a file pcitopod reads";
    return strerror(-r);
}

/* pt_read_file() and pt_read_doc(): the latter refuses all but a regular file. */
static int read_capped(const char *file, bool regular_only, char **out, size_t *outlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; cleared below. */
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct stat st;
    int r = 0;

    if ( fd < 0 )
        return -errno;
    if ( fstat(fd, &st) < 0 )
    {
        r = -errno;
        goto out;
    }
    if ( S_ISDIR(st.st_mode) || (regular_only && !S_ISREG(st.st_mode)) )
    {
        r = -PT_ENOTREG;
        goto out;
    }
    if ( S_ISREG(st.st_mode) && st.st_size > PT_DOC_MAX )
    {
        r = -EFBIG;
        goto out;
    }
    if ( fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 )
    {
        r = -errno;
        goto out;
    }
    for ( ;; )
    {
        ssize_t got;

        if ( cap - len < 4096 )
        {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb;

            /* The file may grow after fstat(): the cap holds for what is read. */
            if ( len > PT_DOC_MAX )
            {
                r = -EFBIG;
                goto out;
            }
            nb = realloc(buf, ncap + 1);
            if ( !nb )
            {
                r = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        got = read(fd, buf + len, cap - len);
        if ( got < 0 )
        {
            if ( errno == EINTR )
                continue;
            r = -errno;
            goto out;
        }
        if ( got == 0 )
            break;
        len += got;
    }
    if ( len > PT_DOC_MAX )
    {
        r = -EFBIG;
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
    if ( outlen )
        *outlen = len;
 out:
    free(buf);
    close(fd);
    return r;
}

int pt_read_file(const char *file, char **out, size_t *outlen)
{
    return read_capped(file, false, out, outlen);
}

int pt_read_doc(const char *file, char **out, size_t *outlen)
{
    return read_capped(file, true, out, outlen);
}

/*
 * The file a save replaces: file itself, or what its symlink chain leads
 * to (the link stays a link).  *mode: the existing file's permissions,
 * 0644 for a new one.  -errno for a dangling link.
 */
static int save_target(const char *file, char **real, mode_t *mode)
{
    struct stat st;

    *mode = 0644;
    if ( lstat(file, &st) < 0 )
    {
        if ( errno != ENOENT )
            return -errno;
        return (*real = strdup(file)) ? 0 : -ENOMEM;
    }
    if ( S_ISLNK(st.st_mode) )
    {
        if ( !(*real = realpath(file, NULL)) )
            return -errno;
        if ( stat(*real, &st) < 0 )
        {
            int r = -errno;

            free(*real);
            *real = NULL;
            return r;
        }
    }
    else if ( !(*real = strdup(file)) )
        return -ENOMEM;
    *mode = st.st_mode & 07777;
    return 0;
}

/* fsync() of the directory holding file, so that a rename in it is durable. */
static int sync_dir_of(const char *file)
{
    char *dir = strdup(file), *slash;
    int fd, r = 0;

    if ( !dir )
        return -ENOMEM;
    slash = strrchr(dir, '/');
    if ( !slash )
        strcpy(dir, ".");
    else if ( slash == dir )
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if ( fd < 0 )
        r = -errno;
    else
    {
        if ( fsync(fd) < 0 && errno != EINVAL )
            r = -errno;
        close(fd);
    }
    free(dir);
    return r;
}

int pt_write_file_atomic(const char *file, const char *buf, size_t len)
{
    char *real = NULL, *tmp = NULL;
    mode_t mode;
    int fd, r;

    r = save_target(file, &real, &mode);
    if ( r )
        return r;
    if ( asprintf(&tmp, "%s.tmpXXXXXX", real) < 0 )
    {
        free(real);
        return -ENOMEM;
    }
    fd = mkstemp(tmp);
    if ( fd < 0 )
    {
        r = -errno;
        goto out;
    }
    while ( len > 0 )
    {
        ssize_t w = write(fd, buf, len);

        if ( w < 0 )
        {
            if ( errno == EINTR )
                continue;
            r = -errno;
            break;
        }
        buf += w;
        len -= w;
    }
    if ( !r && fchmod(fd, mode) < 0 )
        r = -errno;
    if ( !r && fsync(fd) < 0 )
        r = -errno;
    if ( close(fd) < 0 && !r )
        r = -errno;
    if ( !r && rename(tmp, real) < 0 )
        r = -errno;
    if ( r )
        unlink(tmp);
    else
        r = sync_dir_of(real);
 out:
    free(tmp);
    free(real);
    return r;
}

bool pt_parse_uint(const char *v, unsigned min, unsigned max, unsigned *out)
{
    unsigned long x;
    char *end;

    if ( !v || !isdigit((unsigned char)v[0]) )
        return false;
    errno = 0;
    x = strtoul(v, &end, 10);
    if ( errno || *end || x < min || x > max )
        return false;
    *out = (unsigned)x;
    return true;
}
