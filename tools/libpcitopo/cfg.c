/*
 * cfg.c - config-space parser: what Xen and Linux read from a function.
 *
 * One parser for the scanner (sysfs config files), the hardware probes and
 * the fixture generator, so that the simulated hypervisor classifies a
 * device exactly as the scanner does.  The classification follows Xen 4.17
 * pdev_type() and the phantom stride alloc_pdev()
 * (xen/drivers/passthrough/pci.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pcitopo.h"

#define CFG_VENDOR          0x00
#define CFG_DEVICE          0x02
#define CFG_STATUS          0x06
#define  CFG_STATUS_CAPS    0x10
#define CFG_CLASS_REV       0x08
#define CFG_HEADER_TYPE     0x0e
#define CFG_PRIMARY_BUS     0x18
#define CFG_SECONDARY_BUS   0x19
#define CFG_SUBORDINATE_BUS 0x1a
#define CFG_CAP_PTR         0x34
#define CFG_CAP_PTR_CARDBUS 0x14

#define CAP_ID_EXP          0x10
#define CAP_ID_MSI          0x05    /* control at +2, bit 0: MSI Enable */
#define CAP_ID_MSIX         0x11    /* control at +2, bit 15: MSI-X Enable */
#define EXP_FLAGS           0x02
#define EXP_DEVCAP          0x04
#define  EXP_DEVCAP_PHANTOM 0x18
#define EXP_DEVCTL2         0x28
#define EXP_MIN_LEN         0x2c    /* PCIe cap v2 covers DEVCTL2 */

#define EXT_CAP_START       0x100
#define EXT_ID_ARI          0x0e
#define EXT_ID_SRIOV        0x10
#define SRIOV_CTRL          0x08
#define SRIOV_TOTALVFS      0x0e
#define SRIOV_NUMVFS        0x10
#define SRIOV_OFFSET        0x14
#define SRIOV_STRIDE        0x16
#define SRIOV_VF_DEVICE     0x1a
#define SRIOV_MIN_LEN       0x1c

#define EXP_TYPE_PCI_BRIDGE  0x7    /* PCI_EXP_TYPE_PCI_BRIDGE */
#define EXP_TYPE_PCIE_BRIDGE 0x8    /* PCI_EXP_TYPE_PCIE_BRIDGE */

#define CLASS_BRIDGE_HOST   0x0600
#define CLASS_BRIDGE_PCI    0x0604

static uint16_t rd16(const uint8_t *cfg, size_t off)
{
    return (uint16_t)(cfg[off] | cfg[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *cfg, size_t off)
{
    return (uint32_t)cfg[off] | (uint32_t)cfg[off + 1] << 8 |
           (uint32_t)cfg[off + 2] << 16 | (uint32_t)cfg[off + 3] << 24;
}

/*
 * Walks the standard capability list.  Returns 1 when walked completely,
 * 0 when it leads beyond the readable bytes, -1 when malformed.
 */
static int walk_caps(const uint8_t *cfg, size_t len, struct pt_cfg_info *out,
                     const char **why)
{
    uint8_t seen[256 / 8] = { 0 };
    uint8_t layout = cfg[CFG_HEADER_TYPE] & 0x7f;
    unsigned pos;

    if ( !(rd16(cfg, CFG_STATUS) & CFG_STATUS_CAPS) )
        return 1;               /* no list: Linux and Xen look no further */

    pos = cfg[layout == 2 ? CFG_CAP_PTR_CARDBUS : CFG_CAP_PTR];
    /* 48 entries at most fit between 0x40 and 0xff (Xen's and Linux's TTL). */
    for ( unsigned ttl = 0; pos; ttl++ )
    {
        uint8_t id;

        if ( pos < PT_CFG_HDR_LEN || pos > 0xfc )
        {
            *why = "capability pointer points into the header";
            return -1;
        }
        pos &= ~3u;
        if ( seen[pos / 8] & (1u << (pos % 8)) || ttl >= 48 )
        {
            *why = "capability list loops";
            return -1;
        }
        seen[pos / 8] |= 1u << (pos % 8);
        if ( pos + 2 > len )
            return 0;
        id = cfg[pos];
        if ( id == 0xff )
        {
            /* Xen's pci_find_cap_offset stops at id 0xff: all ones. */
            *why = "capability list reads all ones";
            return -1;
        }
        if ( id == CAP_ID_EXP && !out->pcie_pos )
        {
            if ( pos + EXP_MIN_LEN > len )
                return 0;
            out->pcie_pos = (uint8_t)pos;
            out->pcie_type = (rd16(cfg, pos + EXP_FLAGS) >> 4) & 0xf;
            out->devcap = rd32(cfg, pos + EXP_DEVCAP);
            out->devctl2 = rd16(cfg, pos + EXP_DEVCTL2);
        }
        if ( id == CAP_ID_MSI && pos + 4 <= len )
            out->msi_enabled = rd16(cfg, pos + 2) & 0x0001;
        if ( id == CAP_ID_MSIX && pos + 4 <= len )
            out->msix_enabled = rd16(cfg, pos + 2) & 0x8000;
        pos = cfg[pos + 1];
    }
    return 1;
}

/* Walks the extended capability list at 0x100: 1 done, -1 malformed. */
static int walk_ext_caps(const uint8_t *cfg, size_t len, struct pt_cfg_info *out,
                         const char **why)
{
    uint8_t seen[PT_CFG_EXT_LEN / 4 / 8] = { 0 };
    unsigned pos = EXT_CAP_START;
    uint32_t hdr = rd32(cfg, pos);

    /* Linux pci_find_next_ext_capability(): 0 or all ones means none. */
    if ( hdr == 0 || hdr == 0xffffffffu )
        return 1;
    for ( ;; )
    {
        uint16_t id;

        if ( pos < EXT_CAP_START || pos + 4 > len || (pos & 3) )
        {
            *why = "extended capability pointer out of range";
            return -1;
        }
        if ( seen[pos / 4 / 8] & (1u << (pos / 4 % 8)) )
        {
            *why = "extended capability list loops";
            return -1;
        }
        seen[pos / 4 / 8] |= 1u << (pos / 4 % 8);
        hdr = rd32(cfg, pos);
        id = hdr & 0xffff;
        if ( id == EXT_ID_SRIOV && !out->sriov_pos && pos + SRIOV_MIN_LEN <= len )
        {
            out->sriov_pos = (uint16_t)pos;
            out->sriov_ctrl = rd16(cfg, pos + SRIOV_CTRL);
            out->sriov_totalvfs = rd16(cfg, pos + SRIOV_TOTALVFS);
            out->sriov_numvfs = rd16(cfg, pos + SRIOV_NUMVFS);
            out->sriov_offset = rd16(cfg, pos + SRIOV_OFFSET);
            out->sriov_stride = rd16(cfg, pos + SRIOV_STRIDE);
            out->sriov_vf_device = rd16(cfg, pos + SRIOV_VF_DEVICE);
        }
        else if ( id == EXT_ID_ARI && !out->ari_pos )
            out->ari_pos = (uint16_t)pos;
        pos = hdr >> 20;
        if ( !pos )
            return 1;
    }
}

/* pdev_type() (Xen 4.17, pci.c): class, then the PCIe capability's port type. */
static enum pt_dev_type xen_type(const struct pt_cfg_info *c)
{
    switch ( c->class >> 8 )
    {
    case CLASS_BRIDGE_PCI:
        if ( !c->pcie_pos )
            return PT_TYPE_LEGACY_BRIDGE;
        switch ( c->pcie_type )
        {
        case EXP_TYPE_PCI_BRIDGE:
            return PT_TYPE_PCIE2PCI_BRIDGE;
        case EXP_TYPE_PCIE_BRIDGE:
            return PT_TYPE_PCI2PCIE_BRIDGE;
        }
        return PT_TYPE_PCIE_PORT;
    case CLASS_BRIDGE_HOST:
        return PT_TYPE_HOST_BRIDGE;
    case 0xffff:
        return PT_TYPE_UNKNOWN;
    }
    return c->pcie_pos ? PT_TYPE_PCIE_ENDPOINT : PT_TYPE_PCI_ENDPOINT;
}

/* Parses config bytes as Xen (pdev_type, alloc_pdev) and Linux read them; -EINVAL + *why on garbage. */
int pt_cfg_parse(const uint8_t *cfg, size_t len, uint8_t devfn,
                 struct pt_cfg_info *out, const char **why)
{
    const char *dummy;
    int r;

    if ( !why )
        why = &dummy;
    *why = NULL;
    memset(out, 0, sizeof(*out));
    if ( !cfg || len < PT_CFG_HDR_LEN )
    {
        *why = "config space shorter than the 64-byte header";
        return -EINVAL;
    }
    if ( len > PT_CFG_EXT_LEN )
        len = PT_CFG_EXT_LEN;
    out->len = len;
    out->vendor = rd16(cfg, CFG_VENDOR);
    out->device = rd16(cfg, CFG_DEVICE);
    out->class = rd32(cfg, CFG_CLASS_REV) >> 8;
    out->header_type = cfg[CFG_HEADER_TYPE];
    out->reg_pri = cfg[CFG_PRIMARY_BUS];
    out->reg_sec = cfg[CFG_SECONDARY_BUS];
    out->reg_sub = cfg[CFG_SUBORDINATE_BUS];

    if ( out->vendor == 0x0000 )
    {
        *why = "vendor ID 0x0000 (garbage)";
        return -EINVAL;
    }
    if ( (out->header_type & 0x7f) > 2 )
    {
        *why = "header layout is neither 0, 1 nor 2 (garbage)";
        return -EINVAL;
    }

    r = walk_caps(cfg, len, out, why);
    if ( r < 0 )
        return -EINVAL;
    /* 64 bytes (no CAP_SYS_ADMIN): the list, if any, cannot be trusted to be complete. */
    out->caps_known = r == 1 && len >= PT_CFG_FULL_LEN;
    /* 257-259 bytes hold no whole extended capability header: as if 256. */
    if ( out->caps_known && len >= EXT_CAP_START + 4 )
    {
        if ( walk_ext_caps(cfg, len, out, why) < 0 )
            return -EINVAL;
    }

    out->xen_type = xen_type(out);
    /* alloc_pdev(): PCIe endpoints only; a function beyond the stride has none. */
    if ( out->xen_type == PT_TYPE_PCIE_ENDPOINT && (out->devcap & EXP_DEVCAP_PHANTOM) )
    {
        unsigned stride = 8u >> ((out->devcap & EXP_DEVCAP_PHANTOM) >> 3);

        out->phantom_stride = PT_FUNC(devfn) >= stride ? 0 : (uint8_t)stride;
    }
    return 0;
}
