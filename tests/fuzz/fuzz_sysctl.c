/*
 * fuzz_sysctl.c - libFuzzer harness: the XEN_SYSCTL_pci_topology reader
 * (tools/libxl/pt_xen_sysctl.c) decoding reply pages that the fuzzer
 * writes, through the fake transport of tests/fake_xc.c.  Each call takes
 * its reply from the input: flags, cursor, num_devs, the records, and
 * (first call of a segment) the bus2bridge table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_xc.h"
#include "pcitopo.h"
#include "pt_xen_sysctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_left;

static size_t take(void *out, size_t n)
{
    size_t k = n < in_left ? n : in_left;

    memset(out, 0, n);
    memcpy(out, in, k);
    in += k;
    in_left -= k;
    return k;
}

static int reply(struct xen_sysctl_pci_topology *op, struct xen_sysctl_pci_topology_dev *devs,
                 struct xen_sysctl_pci_topology_b2b *b2b)
{
    uint8_t hdr[4];
    uint32_t cursor;
    unsigned n;

    if ( !in_left || fake_xc_calls > 4096 )
        return EIO;
    take(hdr, sizeof(hdr));
    if ( hdr[0] == 0xee )
        return hdr[1] ? hdr[1] : ENOSYS;    /* the call fails with this errno */
    op->flags = hdr[0] & 1 ? XEN_SYSCTL_PCI_TOPOLOGY_SEG_KNOWN : 0;
    n = hdr[1];
    /* A num_devs past max_devs now and then: the reader must refuse it. */
    op->num_devs = hdr[2] == 0xff ? op->max_devs + 1 : n;
    take(&cursor, sizeof(cursor));
    op->cursor = hdr[3] & 1 ? XEN_SYSCTL_PCI_TOPOLOGY_DONE : cursor;
    if ( b2b && (hdr[3] & 2) )
        take(b2b, 256 * sizeof(*b2b));
    else if ( b2b && !(hdr[3] & 4) )
        memset(b2b, 0, 256 * sizeof(*b2b));
    if ( devs )
        for ( unsigned i = 0; i < n && i < op->max_devs; i++ )
            take(&devs[i], sizeof(devs[i]));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pt_topo dom0 = { 0 };
    struct pt_errlog log = { 0 };
    struct pt_xview v;
    uint8_t nsegs;

    if ( size < 1 )
        return 0;
    /* dom0 has devices on the first byte's count of segments (0..15). */
    nsegs = data[0] & 15;
    for ( unsigned s = 1; s <= nsegs; s++ )
    {
        struct pt_dev d = { 0 };

        d.sbdf = PT_SBDF(s * 7, 0, 0);
        d.numa_node = -1;
        if ( pt_topo_add(&dom0, &d) )
            abort();
    }
    pt_topo_finish(&dom0);
    in = data + 1;
    in_left = size - 1;
    fake_xc_calls = 0;
    fake_xc_topology = reply;
    if ( pt_xen_read_view_sysctl(NULL, &dom0, &v, &log) == 0 )
    {
        /* Every entry sits in its segment, in order, once. */
        for ( size_t s = 0; s < v.nsegs; s++ )
            for ( size_t i = 0; i < v.segs[s].n; i++ )
                if ( PT_SEG(v.segs[s].devs[i].sbdf) != v.segs[s].seg ||
                     (i && v.segs[s].devs[i - 1].sbdf >= v.segs[s].devs[i].sbdf) )
                    abort();
        pt_xview_free(&v);
    }
    pt_errlog_free(&log);
    pt_topo_free(&dom0);
    return 0;
}
