/*
 * test_cfg.c - pt_cfg_parse(): Xen's pdev_type() classes, phantom stride,
 * capability walks (standard and extended), SR-IOV/ARI, and every way a
 * config space can be short or broken.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcitopo.h"
#include "fixture.h"
#include "tap.h"

static uint8_t cfg[PT_CFG_EXT_LEN];

static void w16(size_t off, uint16_t v)
{
    cfg[off] = (uint8_t)v;
    cfg[off + 1] = (uint8_t)(v >> 8);
}

static void w32(size_t off, uint32_t v)
{
    w16(off, (uint16_t)v);
    w16(off + 2, (uint16_t)(v >> 16));
}

/* A minimal function: IDs, class, header layout; pcie_type < 0: no PCIe cap. */
static void mk(uint32_t class, uint8_t hdr, int pcie_type)
{
    memset(cfg, 0, sizeof(cfg));
    w16(0x00, 0x8086);
    w16(0x02, 0x1234);
    w32(0x08, class << 8 | 0x02);
    cfg[0x0e] = hdr;
    if ( pcie_type >= 0 )
    {
        w16(0x06, 0x0010);
        cfg[0x34] = 0x50;
        cfg[0x50] = 0x01;           /* PM first, then PCIe at 0x70 */
        cfg[0x51] = 0x70;
        cfg[0x70] = 0x10;
        cfg[0x71] = 0x00;
        w16(0x72, (uint16_t)(0x0002 | pcie_type << 4));
    }
}

static enum pt_dev_type type_of(size_t len)
{
    struct pt_cfg_info ci;
    const char *why;

    if ( pt_cfg_parse(cfg, len, 0, &ci, &why) < 0 )
        return PT_TYPE__COUNT;
    return ci.xen_type;
}

static void test_types(void)
{
    mk(0x060400, 1, -1);
    CHECK_EQ_INT(type_of(256), PT_TYPE_LEGACY_BRIDGE);
    mk(0x060401, 1, -1);                        /* subtractive decode: still 0x0604 */
    CHECK_EQ_INT(type_of(256), PT_TYPE_LEGACY_BRIDGE);
    mk(0x060400, 1, 7);
    CHECK_EQ_INT(type_of(4096), PT_TYPE_PCIE2PCI_BRIDGE);
    mk(0x060400, 1, 8);
    CHECK_EQ_INT(type_of(4096), PT_TYPE_PCI2PCIE_BRIDGE);
    for ( int t = 4; t <= 6; t++ )
    {
        mk(0x060400, 1, t);                     /* root, switch up, switch down */
        CHECK_EQ_INT(type_of(4096), PT_TYPE_PCIE_PORT);
    }
    mk(0x060400, 1, 0xa);                       /* any other port type: pcie-port */
    CHECK_EQ_INT(type_of(4096), PT_TYPE_PCIE_PORT);
    mk(0x060000, 0, -1);
    CHECK_EQ_INT(type_of(256), PT_TYPE_HOST_BRIDGE);
    mk(0x060000, 0, 0);                         /* a host bridge with a PCIe cap too */
    CHECK_EQ_INT(type_of(4096), PT_TYPE_HOST_BRIDGE);
    mk(0xffff00, 0, -1);
    CHECK_EQ_INT(type_of(256), PT_TYPE_UNKNOWN);
    mk(0x020000, 0, 0);
    CHECK_EQ_INT(type_of(4096), PT_TYPE_PCIE_ENDPOINT);
    mk(0x020000, 0, 1);                         /* legacy PCIe endpoint */
    CHECK_EQ_INT(type_of(4096), PT_TYPE_PCIE_ENDPOINT);
    mk(0x020000, 0, -1);
    CHECK_EQ_INT(type_of(256), PT_TYPE_PCI_ENDPOINT);
    mk(0x060400, 0x81, -1);                     /* multifunction bit does not matter */
    CHECK_EQ_INT(type_of(256), PT_TYPE_LEGACY_BRIDGE);
    /* PCIe cap present but status says no list: Xen does not see it. */
    mk(0x060400, 1, 7);
    w16(0x06, 0);
    CHECK_EQ_INT(type_of(4096), PT_TYPE_LEGACY_BRIDGE);
}

static void test_header_fields(void)
{
    struct pt_cfg_info ci;

    mk(0x060400, 0x81, 7);
    cfg[0x18] = 3;
    cfg[0x19] = 4;
    cfg[0x1a] = 9;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, NULL), 0);
    CHECK_EQ_INT(ci.len, 4096);
    CHECK_EQ_INT(ci.vendor, 0x8086);
    CHECK_EQ_INT(ci.device, 0x1234);
    CHECK_EQ_INT(ci.class, 0x060400);
    CHECK_EQ_INT(ci.header_type, 0x81);
    CHECK_EQ_INT(ci.reg_pri, 3);
    CHECK_EQ_INT(ci.reg_sec, 4);
    CHECK_EQ_INT(ci.reg_sub, 9);
    CHECK_EQ_INT(ci.pcie_pos, 0x70);
    CHECK_EQ_INT(ci.pcie_type, 7);
    CHECK(ci.caps_known);
    /* Over-long input is clamped to 4096. */
    CHECK_EQ_INT(pt_cfg_parse(cfg, 8192, 0, &ci, NULL), 0);
    CHECK_EQ_INT(ci.len, 4096);
}

static void test_phantom(void)
{
    struct pt_cfg_info ci;

    /* DEVCAP bits 4:3 = n -> stride 8 >> n, 0 when the function is beyond it. */
    static const struct { unsigned bits, func, stride; } cases[] = {
        { 0, 0, 0 }, { 1, 0, 4 }, { 1, 3, 4 }, { 1, 4, 0 }, { 2, 0, 2 }, { 2, 1, 2 },
        { 2, 2, 0 }, { 3, 0, 1 }, { 3, 1, 0 },
    };

    for ( size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++ )
    {
        mk(0x020000, 0, 0);
        w32(0x74, cases[i].bits << 3);
        CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, PT_DEVFN_OF(2, cases[i].func), &ci, NULL), 0);
        CHECKF(ci.phantom_stride == cases[i].stride, "bits %u func %u: stride %u, want %u",
               cases[i].bits, cases[i].func, ci.phantom_stride, cases[i].stride);
        CHECK_EQ_INT(ci.devcap & 0x18, cases[i].bits << 3);
    }
    /* Not for bridges or conventional endpoints. */
    mk(0x060400, 1, 4);
    w32(0x74, 1 << 3);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, NULL), 0);
    CHECK_EQ_INT(ci.phantom_stride, 0);
}

static void test_ext_caps(void)
{
    struct pt_cfg_info ci;
    const char *why = NULL;

    /* AER at 0x100 -> ARI at 0x150 -> SR-IOV at 0x180. */
    mk(0x020000, 0x80, 0);
    w32(0x100, 0x0001 | 2u << 16 | 0x150u << 20);
    w32(0x150, 0x000e | 1u << 16 | 0x180u << 20);
    w32(0x180, 0x0010 | 1u << 16);
    w16(0x180 + 0x08, 0x0009);
    w16(0x180 + 0x0e, 64);
    w16(0x180 + 0x10, 7);
    w16(0x180 + 0x14, 0x80);
    w16(0x180 + 0x16, 2);
    w16(0x180 + 0x1a, 0x10ed);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), 0);
    CHECK_EQ_INT(ci.ari_pos, 0x150);
    CHECK_EQ_INT(ci.sriov_pos, 0x180);
    CHECK_EQ_INT(ci.sriov_ctrl, 0x0009);
    CHECK_EQ_INT(ci.sriov_totalvfs, 64);
    CHECK_EQ_INT(ci.sriov_numvfs, 7);
    CHECK_EQ_INT(ci.sriov_offset, 0x80);
    CHECK_EQ_INT(ci.sriov_stride, 2);
    CHECK_EQ_INT(ci.sriov_vf_device, 0x10ed);
    CHECK(ci.caps_known);

    /* 256 bytes: the extended list is not looked at. */
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), 0);
    CHECK_EQ_INT(ci.sriov_pos, 0);
    CHECK_EQ_INT(ci.ari_pos, 0);

    /* No extended caps: 0 or all ones at 0x100. */
    memset(cfg + 0x100, 0, 4096 - 0x100);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), 0);
    CHECK_EQ_INT(ci.sriov_pos, 0);
    memset(cfg + 0x100, 0xff, 4096 - 0x100);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), 0);
    CHECK_EQ_INT(ci.sriov_pos, 0);

    /* A loop: 0x100 -> 0x140 -> 0x100. */
    memset(cfg + 0x100, 0, 4096 - 0x100);
    w32(0x100, 0x0001 | 1u << 16 | 0x140u << 20);
    w32(0x140, 0x0003 | 1u << 16 | 0x100u << 20);
    why = NULL;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), -EINVAL);
    CHECK(why && strstr(why, "loop"));
    /* Self loop. */
    w32(0x100, 0x0001 | 1u << 16 | 0x100u << 20);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), -EINVAL);
    /* Points back into the standard space. */
    w32(0x100, 0x0001 | 1u << 16 | 0x40u << 20);
    why = NULL;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), -EINVAL);
    CHECK(why != NULL);
    /* Unaligned. */
    w32(0x100, 0x0001 | 1u << 16 | 0x142u << 20);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), -EINVAL);
}

static void test_std_caps_broken(void)
{
    struct pt_cfg_info ci;
    const char *why;

    /* A loop 0x50 -> 0x70 -> 0x50. */
    mk(0x020000, 0, 0);
    cfg[0x71] = 0x50;
    why = NULL;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), -EINVAL);
    CHECK(why && strstr(why, "loop"));
    /* A self loop. */
    mk(0x020000, 0, -1);
    w16(0x06, 0x10);
    cfg[0x34] = 0x40;
    cfg[0x40] = 0x01;
    cfg[0x41] = 0x40;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), -EINVAL);
    /* Pointer into the header. */
    mk(0x020000, 0, 0);
    cfg[0x71] = 0x20;
    why = NULL;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), -EINVAL);
    CHECK(why && strstr(why, "header"));
    /* A long but legal chain (pointers in the low bits are masked). */
    mk(0x020000, 0, -1);
    w16(0x06, 0x10);
    cfg[0x34] = 0x41;
    for ( unsigned p = 0x40; p < 0xfc; p += 4 )
    {
        cfg[p] = 0x09;
        cfg[p + 1] = p + 4 < 0xfc ? (uint8_t)(p + 4) : 0;
    }
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), 0);
    CHECK(ci.caps_known);
    /* All ones where a capability should be. */
    mk(0x020000, 0, 0);
    cfg[0x51] = 0x90;
    memset(cfg + 0x90, 0xff, 4);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), -EINVAL);
}

static void test_short_and_garbage(void)
{
    struct pt_cfg_info ci;
    const char *why;

    /* 64 bytes (no CAP_SYS_ADMIN): parses, caps unknown, no PCIe info. */
    mk(0x060400, 1, 7);
    cfg[0x19] = 5;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 64, 0, &ci, &why), 0);
    CHECK(!ci.caps_known);
    CHECK_EQ_INT(ci.len, 64);
    CHECK_EQ_INT(ci.pcie_pos, 0);
    CHECK_EQ_INT(ci.reg_sec, 5);
    /* 64 bytes, no cap list at all: still unknown by contract. */
    mk(0x020000, 0, -1);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 64, 0, &ci, &why), 0);
    CHECK(!ci.caps_known);
    /* PCIe cap cut off (only part of it readable). */
    mk(0x020000, 0, 0);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 0x78, 0, &ci, &why), 0);
    CHECK(!ci.caps_known);
    /* Fewer than 64 bytes. */
    why = NULL;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 63, 0, &ci, &why), -EINVAL);
    CHECK(why != NULL);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 0, 0, &ci, &why), -EINVAL);
    CHECK_EQ_INT(pt_cfg_parse(NULL, 256, 0, &ci, &why), -EINVAL);
    /* Vendor 0. */
    mk(0x020000, 0, 0);
    w16(0x00, 0);
    why = NULL;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), -EINVAL);
    CHECK(why && strstr(why, "vendor"));
    /* Header layouts 3 and 0x7f (all ones). */
    mk(0x020000, 3, 0);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), -EINVAL);
    memset(cfg, 0xff, sizeof(cfg));
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), -EINVAL);
    /* Layout 2 (CardBus) is legal; its list starts at 0x14. */
    mk(0x060700, 2, -1);
    w16(0x06, 0x10);
    cfg[0x14] = 0x80;
    cfg[0x80] = 0x01;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), 0);
    CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCI_ENDPOINT);
    /* A VF: vendor/device read 0xffff but the header is sane: not garbage. */
    mk(0x020000, 0, 0);
    w16(0x00, 0xffff);
    w16(0x02, 0xffff);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, &why), 0);
    CHECK_EQ_INT(ci.vendor, 0xffff);
    CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCIE_ENDPOINT);
    /* why may be NULL. */
    mk(0x020000, 3, 0);
    CHECK_EQ_INT(pt_cfg_parse(cfg, 4096, 0, &ci, NULL), -EINVAL);
}

/*
 * Parses the first len bytes of cfg from a copy that ends right at an
 * unmapped page: a read past len faults, with or without a sanitizer.
 */
static int parse_guarded(size_t len, struct pt_cfg_info *ci, const char **why)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = (len + pg - 1) / pg * pg;
    uint8_t *map = mmap(NULL, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int r;

    if ( map == MAP_FAILED )
        return -ENOMEM;
    mprotect(map + span, pg, PROT_NONE);
    memcpy(map + span - len, cfg, len);
    r = pt_cfg_parse(map + span - len, len, 0, ci, why);
    munmap(map, span + pg);
    return r;
}

/* 257-259 bytes: no whole extended capability header; nothing past len is read. */
static void test_odd_lengths(void)
{
    struct pt_cfg_info ci;
    const char *why;

    for ( size_t len = 64; len <= 264; len++ )
    {
        mk(0x020000, 0, 0);
        w32(0x100, 0x00010010);         /* an ext cap header a 260-byte read would see */
        why = NULL;
        CHECKF(parse_guarded(len, &ci, &why) == 0, "len %zu: %s", len, why ? why : "?");
    }
    mk(0x020000, 0, 0);
    CHECK_EQ_INT(parse_guarded(PT_CFG_EXT_LEN, &ci, &why), 0);
}

/* The fixture's config bytes parse into what each kind is. */
static void test_fixture_configs(void)
{
    static const struct { enum fx_kind k; enum pt_dev_type t; size_t len; } cases[] = {
        { FX_HOST_BRIDGE, PT_TYPE_HOST_BRIDGE, 256 },
        { FX_ROOT_PORT, PT_TYPE_PCIE_PORT, 4096 },
        { FX_PCIE2PCI, PT_TYPE_PCIE2PCI_BRIDGE, 4096 },
        { FX_LEGACY_BRIDGE, PT_TYPE_LEGACY_BRIDGE, 256 },
        { FX_PCI2PCIE, PT_TYPE_PCI2PCIE_BRIDGE, 4096 },
        { FX_PCIE_EP, PT_TYPE_PCIE_ENDPOINT, 4096 },
        { FX_PCI_EP, PT_TYPE_PCI_ENDPOINT, 256 },
        { FX_SRIOV_PF, PT_TYPE_PCIE_ENDPOINT, 4096 },
    };
    struct fx_tree *t = fx_new();
    struct fx_dev *root = fx_root(t, 0, 0), *up, *dn, *pf, *ep;
    struct pt_cfg_info ci;
    size_t len;

    for ( size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++ )
    {
        struct fx_dev *d = fx_add(t, root, (unsigned)i + 1, 0, cases[i].k);

        fx_config(d, cfg, &len);
        CHECK_EQ_INT(len, cases[i].len);
        CHECK_EQ_INT(pt_cfg_parse(cfg, len, PT_DEVFN_OF(i + 1, 0), &ci, NULL), 0);
        CHECKF(ci.xen_type == cases[i].t, "%s: type %s", fx_kind_name(cases[i].k),
               pt_type_name(ci.xen_type));
        CHECK(ci.caps_known);
    }
    up = fx_add(t, fx_add(t, root, 0x10, 0, FX_ROOT_PORT), 0, 0, FX_SWITCH_UP);
    dn = fx_add(t, up, 3, 0, FX_SWITCH_DOWN);
    dn->ari_fwd = true;
    pf = fx_add(t, dn, 0, 0, FX_SRIOV_PF);
    pf->ari_cap = true;
    pf->totalvfs = 16;
    pf->vf_offset = 0x80;
    pf->vf_stride = 2;
    ep = fx_add(t, dn, 0, 1, FX_PCIE_EP);
    ep->phantom = 2;
    CHECK_EQ_INT(fx_set_numvfs(pf, 4), 0);
    fx_number_busses(t, FX_NUMBER_LINUX);

    fx_config(up, cfg, &len);
    CHECK_EQ_INT(pt_cfg_parse(cfg, len, 0, &ci, NULL), 0);
    CHECK_EQ_INT(ci.pcie_type, 5);
    CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCIE_PORT);
    fx_config(dn, cfg, &len);
    CHECK_EQ_INT(pt_cfg_parse(cfg, len, 0, &ci, NULL), 0);
    CHECK_EQ_INT(ci.pcie_type, 6);
    CHECK(ci.devctl2 & 0x20);
    CHECK_EQ_INT(ci.reg_sec, dn->sec);
    CHECK_EQ_INT(ci.reg_sub, dn->sub);
    fx_config(pf, cfg, &len);
    CHECK_EQ_INT(pt_cfg_parse(cfg, len, 0, &ci, NULL), 0);
    CHECK(ci.ari_pos != 0);
    CHECK(ci.sriov_pos != 0);
    CHECK_EQ_INT(ci.sriov_numvfs, 4);
    CHECK_EQ_INT(ci.sriov_totalvfs, 16);
    CHECK_EQ_INT(ci.sriov_offset, 0x80);
    CHECK_EQ_INT(ci.sriov_stride, 2);
    CHECK(ci.sriov_ctrl & 1);
    CHECK(ci.header_type & 0x80);               /* the ep at 00.1 makes it multifunction */
    fx_config(pf->vfs[0], cfg, &len);
    CHECK_EQ_INT(pt_cfg_parse(cfg, len, 0, &ci, NULL), 0);
    CHECK_EQ_INT(ci.vendor, 0xffff);
    CHECK_EQ_INT(ci.device, 0xffff);
    CHECK_EQ_INT(ci.sriov_pos, 0);
    fx_config(ep, cfg, &len);
    CHECK_EQ_INT(pt_cfg_parse(cfg, len, PT_DEVFN_OF(0, 1), &ci, NULL), 0);
    CHECK_EQ_INT(ci.phantom_stride, 2);
    CHECK_EQ_INT(fx_set_numvfs(pf, 0), 0);
    fx_config(pf, cfg, &len);
    CHECK_EQ_INT(pt_cfg_parse(cfg, len, 0, &ci, NULL), 0);
    CHECK(!(ci.sriov_ctrl & 1));
    CHECK_EQ_INT(fx_set_numvfs(pf, 17), -EINVAL);

    /* Behind a PCIe-to-PCI bridge even a PCIe function has no extended space. */
    {
        struct fx_dev *br = fx_add(t, root, 0x11, 0, FX_PCIE2PCI);
        struct fx_dev *x = fx_add(t, br, 1, 0, FX_PCI2PCIE);
        struct fx_dev *y = fx_add(t, x, 0, 0, FX_PCIE_EP);

        fx_config(y, cfg, &len);
        CHECK_EQ_INT(len, 256);
        CHECK_EQ_INT(pt_cfg_parse(cfg, len, 0, &ci, NULL), 0);
        CHECK_EQ_INT(ci.xen_type, PT_TYPE_PCIE_ENDPOINT);
    }
    fx_free(t);
}

/* MSI and MSI-X Enable bits: what tells the planner dom0 has live interrupts. */
static void test_msi(void)
{
    struct pt_cfg_info ci;
    const char *why;

    mk(0x020000, 0, 0);                 /* PM 0x50 -> PCIe 0x70 */
    cfg[0x71] = 0x90;                   /* PCIe -> MSI 0x90 -> MSI-X 0xa0 */
    cfg[0x90] = 0x05;
    cfg[0x91] = 0xa0;
    cfg[0xa0] = 0x11;
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), 0);
    CHECK(!ci.msi_enabled && !ci.msix_enabled);
    w16(0x92, 0x0081);                  /* 64-bit, enabled */
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), 0);
    CHECK(ci.msi_enabled && !ci.msix_enabled);
    w16(0x92, 0x0080);
    w16(0xa2, 0x8007);                  /* MSI-X enabled, 8 vectors */
    CHECK_EQ_INT(pt_cfg_parse(cfg, 256, 0, &ci, &why), 0);
    CHECK(!ci.msi_enabled && ci.msix_enabled);
}

int main(void)
{
    test_types();
    test_msi();
    test_header_fields();
    test_phantom();
    test_ext_caps();
    test_std_caps_broken();
    test_short_and_garbage();
    test_odd_lengths();
    test_fixture_configs();
    return tap_done();
}
