/*
 * util.c - SBDF text, the message log, type names, whole-file I/O.
 */
#include "config.h"

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

int pt_read_file(const char *file, char **out, size_t *outlen)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int r = 0;

    if ( fd < 0 )
        return -errno;
    for ( ;; )
    {
        ssize_t got;

        if ( cap - len < 4096 )
        {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap + 1);

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

int pt_write_file_atomic(const char *file, const char *buf, size_t len)
{
    char *tmp = NULL;
    int fd, r = 0;

    if ( asprintf(&tmp, "%s.tmpXXXXXX", file) < 0 )
        return -ENOMEM;
    fd = mkstemp(tmp);
    if ( fd < 0 )
    {
        r = -errno;
        free(tmp);
        return r;
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
    if ( !r && fchmod(fd, 0644) < 0 )
        r = -errno;
    if ( !r && fsync(fd) < 0 )
        r = -errno;
    if ( close(fd) < 0 && !r )
        r = -errno;
    if ( !r && rename(tmp, file) < 0 )
        r = -errno;
    if ( r )
        unlink(tmp);
    free(tmp);
    return r;
}
