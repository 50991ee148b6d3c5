/*
 * test_dmar.c - the DMAR parser (hand-built binary tables: INCLUDE_PCI_ALL,
 * endpoint scope, bridge scope with a two-element path, the structures it
 * skips, and every kind of truncated or malformed table rejected with a
 * clear error), the resolution at boot-time bus numbers, the
 * acpi_find_matched_drhd_unit() rule and reading the table from sysfs.
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "dmar.h"
#include "fixture.h"
#include "handbuilt.h"
#include "tap.h"
#include "dmar_fuzz_body.c"

static const uint8_t P_11_0[][2] = { { 0x11, 0 } };
static const uint8_t P_11_0_00_0[][2] = { { 0x11, 0 }, { 0x00, 0 } };
static const uint8_t P_02_0[][2] = { { 0x02, 0 } };
static const uint8_t P_1f_0[][2] = { { 0x1f, 0 } };

/* Parses b's table; expects success. */
static void parse_ok(struct fx_dmar *b, struct pt_dmar *d)
{
    char err[256] = "";
    size_t len = fx_dmar_finish(b);
    int rc = pt_dmar_parse(b->buf, len, d, err, sizeof(err));

    CHECKF(rc == 0, "parse failed: %d %s", rc, err);
}

/* Expects the bytes to be rejected with -EINVAL and a message containing what. */
static void parse_bad(const uint8_t *buf, size_t len, const char *what, int line)
{
    struct pt_dmar d;
    char err[256] = "";
    int rc = pt_dmar_parse(buf, len, &d, err, sizeof(err));

    CHECKF(rc == -EINVAL, "line %d: rc %d (%s)", line, rc, err);
    CHECKF(strstr(err, what) != NULL, "line %d: error \"%s\" lacks \"%s\"", line, err, what);
    CHECKF(d.n == 0 && d.units == NULL, "line %d: a rejected table left units behind", line);
}

/* Re-checksums a modified table. */
static void resum(uint8_t *buf, size_t len)
{
    uint8_t sum = 0;

    buf[9] = 0;
    for ( size_t i = 0; i < len; i++ )
        sum = (uint8_t)(sum + buf[i]);
    buf[9] = (uint8_t)(0x100 - sum);
}

/* The issue's table: 00:10.0 and 00:11.0 bridge scopes in one DRHD, an INCLUDE_ALL unit too. */
static void build_issue(struct fx_dmar *b, bool with_all)
{
    static const uint8_t p10[][2] = { { 0x10, 0 } };

    fx_dmar_init(b, "DMAR", 38, 1);
    fx_dmar_drhd(b, 0, 0xfed90000, false);
    fx_dmar_scope(b, PT_DMAR_SCOPE_BRIDGE, 0, 0, p10, 1);
    fx_dmar_scope(b, PT_DMAR_SCOPE_BRIDGE, 0, 0, P_11_0, 1);
    if ( with_all )
    {
        fx_dmar_drhd(b, 0, 0xfed91000, true);
        fx_dmar_scope(b, PT_DMAR_SCOPE_IOAPIC, 2, 0, P_1f_0, 1);
    }
}

static void test_include_all(void)
{
    struct fx_dmar b;
    struct pt_dmar d;
    struct pt_xview v = { 0 };

    fx_dmar_init(&b, "DMAR", 38, 1);
    fx_dmar_drhd(&b, 0, 0xfed91000, true);
    fx_dmar_scope(&b, PT_DMAR_SCOPE_IOAPIC, 2, 0xf0, P_1f_0, 1);
    parse_ok(&b, &d);
    CHECK_EQ_INT(d.width, 38);
    CHECK_EQ_INT(d.flags, 1);
    CHECK_EQ_INT(d.n, 1);
    CHECK(d.units[0].include_all);
    CHECK_EQ_INT(d.units[0].seg, 0);
    CHECK(d.units[0].base == 0xfed91000ull);
    CHECK_EQ_INT(d.units[0].nscopes, 1);
    CHECK_EQ_INT(d.units[0].scopes[0].type, PT_DMAR_SCOPE_IOAPIC);
    CHECK_EQ_INT(d.units[0].scopes[0].enum_id, 2);
    CHECK_EQ_INT(d.units[0].scopes[0].start_bus, 0xf0);
    CHECK_EQ_INT(pt_dmar_resolve(&d, pt_dmar_range_xen, &v, NULL, NULL), 0);
    CHECK(d.complete);
    CHECK(d.units[0].scopes[0].bdf == PT_SBDF(0, 0xf0, PT_DEVFN_OF(0x1f, 0)));
    /* every bus of segment 0, none of segment 1 */
    CHECK(pt_dmar_match(&d, 0, 0x42, 0x08, NULL, NULL) == &d.units[0]);
    CHECK(pt_dmar_match(&d, 0, 0xff, 0xff, NULL, NULL) == &d.units[0]);
    CHECK(pt_dmar_match(&d, 1, 0x00, 0x00, NULL, NULL) == NULL);
    pt_dmar_free(&d);
    pt_xview_free(&v);
}

static void test_endpoint_scope(void)
{
    struct fx_dmar b;
    struct pt_dmar d;
    struct pt_xview v = { 0 };
    char why[256];

    fx_dmar_init(&b, "DMAR", 38, 0);
    fx_dmar_drhd(&b, 0, 0xfed90000, false);
    fx_dmar_scope(&b, PT_DMAR_SCOPE_ENDPOINT, 0, 0, P_02_0, 1);
    parse_ok(&b, &d);
    CHECK_EQ_INT(d.n, 1);
    CHECK(!d.units[0].include_all);
    CHECK_EQ_INT(pt_dmar_resolve(&d, pt_dmar_range_xen, &v, NULL, NULL), 0);
    CHECK(d.complete);
    CHECK(pt_dmar_match(&d, 0, 0, PT_DEVFN_OF(2, 0), NULL, NULL) == &d.units[0]);
    CHECK(pt_dmar_match(&d, 0, 0, PT_DEVFN_OF(2, 1), NULL, NULL) == NULL);
    CHECK(pt_dmar_match(&d, 0, 1, PT_DEVFN_OF(2, 0), NULL, NULL) == NULL);
    for ( unsigned bus = 0; bus < 256; bus++ )
        CHECK(!(d.units[0].buses[bus / 8] & (1u << (bus % 8))));
    CHECK_EQ_STR(pt_dmar_why_uncovered(&d, 0, 1, why, sizeof(why)), "no DMAR unit covers bus 01 (DRHD fed90000: endpoint scope 00:02.0)");
    pt_dmar_free(&d);
    pt_xview_free(&v);
}

/* A bridge scope whose path goes 00:11.0 -> (its secondary bus):00.0, resolved as at boot. */
static void test_bridge_scope_two_elements(void)
{
    struct fx_dmar b;
    struct pt_dmar d;
    struct pt_xview v = { 0 };
    struct pt_topo t = { 0 };
    char why[256];

    fx_dmar_init(&b, "DMAR", 38, 0);
    fx_dmar_drhd(&b, 0, 0xfed90000, false);
    fx_dmar_scope(&b, PT_DMAR_SCOPE_BRIDGE, 0, 0, P_11_0_00_0, 2);
    parse_ok(&b, &d);
    CHECK_EQ_INT(d.units[0].scopes[0].npath, 2);
    CHECK_EQ_INT(d.units[0].scopes[0].path[0], PT_DEVFN_OF(0x11, 0));
    CHECK_EQ_INT(d.units[0].scopes[0].path[1], 0);

    /* Xen recorded the boot ranges: 00:11.0 3-7, 03:00.0 4-7.  dom0 has renumbered. */
    hb_x(&v, PT_SBDF(0, 0, PT_DEVFN_OF(0x11, 0)), PT_TYPE_PCIE_PORT, 3, 7);
    hb_x(&v, PT_SBDF(0, 3, 0), PT_TYPE_PCIE_PORT, 4, 7);
    hb_dev(&t, PT_SBDF(0, 0, PT_DEVFN_OF(0x11, 0)), PT_TYPE_PCIE_PORT, 3, 9);
    hb_dev(&t, PT_SBDF(0, 3, 0), PT_TYPE_PCIE_PORT, 4, 9);
    pt_topo_finish(&t);

    CHECK_EQ_INT(pt_dmar_resolve(&d, pt_dmar_range_xen, &v, pt_dmar_range_dom0, &t), 0);
    CHECK(d.complete);
    CHECK(d.units[0].scopes[0].resolved);
    CHECK(d.units[0].scopes[0].bdf == PT_SBDF(0, 3, 0));
    CHECK_EQ_INT(d.units[0].scopes[0].sec, 4);
    CHECK_EQ_INT(d.units[0].scopes[0].sub, 7);
    CHECK_EQ_INT(d.units[0].scopes[0].src, 'x');
    for ( unsigned bus = 0; bus < 256; bus++ )
        CHECKF(!!(d.units[0].buses[bus / 8] & (1u << (bus % 8))) == (bus >= 4 && bus <= 7),
               "bus %02x", bus);
    CHECK(pt_dmar_match(&d, 0, 5, 0x08, NULL, NULL) == &d.units[0]);
    CHECK(pt_dmar_match(&d, 0, 3, 0x00, NULL, NULL) == &d.units[0]);   /* the bridge itself */
    CHECK(pt_dmar_match(&d, 0, 3, 0x08, NULL, NULL) == NULL);
    CHECK(pt_dmar_match(&d, 0, 9, 0x08, NULL, NULL) == NULL);
    CHECK_EQ_STR(pt_dmar_why_uncovered(&d, 0, 9, why, sizeof(why)), "no DMAR unit covers bus 09 (DRHD fed90000: bridge scope 03:00.0 covers buses 04-07 as at boot)");

    /* The bridge scopes following the bridges (patch 0006): dom0's ranges now. */
    d.follow_bridges = true;
    CHECK(pt_dmar_match(&d, 0, 9, 0x08, pt_dmar_range_dom0, &t) == &d.units[0]);
    CHECK(pt_dmar_match(&d, 0, 10, 0x08, pt_dmar_range_dom0, &t) == NULL);
    /* a bridge the registry does not have: its boot range */
    CHECK(pt_dmar_match(&d, 0, 9, 0x08, pt_dmar_range_xen, &(struct pt_xview){ 0 }) == NULL);
    CHECK(pt_dmar_match(&d, 0, 7, 0x08, pt_dmar_range_xen, &(struct pt_xview){ 0 }) == &d.units[0]);
    d.follow_bridges = false;

    /* Without Xen's record, dom0's live range is taken (right only without a renumbering). */
    CHECK_EQ_INT(pt_dmar_resolve(&d, NULL, NULL, pt_dmar_range_dom0, &t), 0);
    CHECK_EQ_INT(d.units[0].scopes[0].sub, 9);
    CHECK_EQ_INT(d.units[0].scopes[0].src, 'd');
    /* Nobody knows the first bridge: unresolved, the model is incomplete. */
    CHECK_EQ_INT(pt_dmar_resolve(&d, pt_dmar_range_xen, &(struct pt_xview){ 0 }, NULL, NULL), 0);
    CHECK(!d.complete);
    CHECK(!d.units[0].scopes[0].resolved);
    pt_dmar_free(&d);
    pt_xview_free(&v);
    pt_topo_free(&t);
}

/* The issue's reason text, with an INCLUDE_ALL unit in another segment. */
static void test_reason_text(void)
{
    struct fx_dmar b;
    struct pt_dmar d;
    struct pt_xview v = { 0 };
    char why[256];

    build_issue(&b, false);
    parse_ok(&b, &d);
    hb_x(&v, PT_SBDF(0, 0, PT_DEVFN_OF(0x10, 0)), PT_TYPE_PCIE_PORT, 1, 2);
    hb_x(&v, PT_SBDF(0, 0, PT_DEVFN_OF(0x11, 0)), PT_TYPE_PCIE_PORT, 3, 7);
    CHECK_EQ_INT(pt_dmar_resolve(&d, pt_dmar_range_xen, &v, NULL, NULL), 0);
    CHECK(pt_dmar_match(&d, 0, 9, PT_DEVFN_OF(1, 0), NULL, NULL) == NULL);
    CHECK(pt_dmar_match(&d, 0, 2, PT_DEVFN_OF(1, 0), NULL, NULL) == &d.units[0]);
    CHECK_EQ_STR(pt_dmar_why_uncovered(&d, 0, 9, why, sizeof(why)), "no DMAR unit covers bus 09 (DRHD fed90000: bridge scope 00:10.0 covers buses "
                      "01-02 as at boot, bridge scope 00:11.0 covers buses 03-07 as at boot)");
    CHECK_EQ_STR(pt_dmar_why_uncovered(&d, 1, 9, why, sizeof(why)), "no DMAR unit covers bus 09 (no DRHD of this segment)");
    pt_dmar_free(&d);

    /* With an INCLUDE_ALL unit the same bus is covered, and a scoped unit still wins its buses. */
    build_issue(&b, true);
    parse_ok(&b, &d);
    CHECK_EQ_INT(pt_dmar_resolve(&d, pt_dmar_range_xen, &v, NULL, NULL), 0);
    CHECK(pt_dmar_match(&d, 0, 9, PT_DEVFN_OF(1, 0), NULL, NULL) == &d.units[1]);
    CHECK(pt_dmar_match(&d, 0, 5, PT_DEVFN_OF(1, 0), NULL, NULL) == &d.units[0]);
    pt_dmar_free(&d);
    pt_xview_free(&v);
}

/* RMRR, ATSR, RHSA, ANDD, SATC and an unknown type are skipped by their length; RMAD is accepted. */
static void test_skipped_structures(void)
{
    struct fx_dmar b;
    struct pt_dmar d;

    fx_dmar_init(&b, "RMAD", 38, 1);
    fx_dmar_other(&b, PT_DMAR_TYPE_RMRR, 32);
    fx_dmar_drhd(&b, 0, 0xfed90000, false);
    fx_dmar_scope(&b, PT_DMAR_SCOPE_ENDPOINT, 0, 0, P_02_0, 1);
    fx_dmar_scope(&b, PT_DMAR_SCOPE_NAMESPACE, 1, 0, P_1f_0, 1);
    fx_dmar_other(&b, PT_DMAR_TYPE_ATSR, 8);
    fx_dmar_other(&b, PT_DMAR_TYPE_RHSA, 20);
    fx_dmar_other(&b, PT_DMAR_TYPE_ANDD, 12);
    fx_dmar_other(&b, PT_DMAR_TYPE_SATC, 8);
    fx_dmar_other(&b, 99, 4);
    fx_dmar_drhd(&b, 1, 0xfed92000, true);
    parse_ok(&b, &d);
    CHECK_EQ_INT(d.n, 2);
    CHECK_EQ_INT(d.units[0].nscopes, 2);
    CHECK_EQ_INT(d.units[1].seg, 1);
    CHECK(d.units[1].include_all);
    CHECK_EQ_INT(d.units[1].nscopes, 0);
    CHECK_EQ_INT(pt_dmar_resolve(&d, NULL, NULL, NULL, NULL), 0);
    CHECK(d.complete);
    /* the ACPI-namespace scope is not a device Xen matches (default: case in acpi_parse_dev_scope) */
    CHECK(pt_dmar_match(&d, 0, 0, PT_DEVFN_OF(0x1f, 0), NULL, NULL) == NULL);
    CHECK(pt_dmar_match(&d, 0, 0, PT_DEVFN_OF(0x02, 0), NULL, NULL) == &d.units[0]);
    CHECK(pt_dmar_match(&d, 1, 0x80, 0, NULL, NULL) == &d.units[1]);
    pt_dmar_free(&d);
}

static void test_malformed(void)
{
    struct fx_dmar b;
    uint8_t t[8192];
    size_t len;

    /* A valid table to break. */
    fx_dmar_init(&b, "DMAR", 38, 1);
    fx_dmar_drhd(&b, 0, 0xfed90000, false);
    fx_dmar_scope(&b, PT_DMAR_SCOPE_BRIDGE, 0, 0, P_11_0_00_0, 2);
    len = fx_dmar_finish(&b);
    CHECK_EQ_INT(len, 48 + 16 + 10);
    if ( len != 74 )
        return;
    len = 74;

    /* every truncation */
    for ( size_t l = 0; l < len; l++ )
        parse_bad(b.buf, l, l < 48 ? "a DMAR header alone is 48" : "truncated", __LINE__);
    parse_bad(NULL, 0, "a DMAR header alone is 48", __LINE__);

    memcpy(t, b.buf, len);
    memcpy(t, "APIC", 4);
    parse_bad(t, len, "signature is \"APIC\"", __LINE__);

    memcpy(t, b.buf, len);
    t[4] = 40;  resum(t, len);
    parse_bad(t, len, "less than the 48-byte header", __LINE__);

    memcpy(t, b.buf, len);
    t[20] ^= 0x55;
    parse_bad(t, len, "checksum", __LINE__);

    memcpy(t, b.buf, len);
    t[36] = 0;  resum(t, len);
    parse_bad(t, len, "host address width is 0", __LINE__);

    /* structure length 2 */
    memcpy(t, b.buf, len);
    t[48 + 2] = 2;  t[48 + 3] = 0;  resum(t, len);
    parse_bad(t, len, "remapping structure at offset 48 (type 0) has length 2", __LINE__);

    /* structure length past the table */
    memcpy(t, b.buf, len);
    t[48 + 2] = 200;  resum(t, len);
    parse_bad(t, len, "only 26 byte(s) left", __LINE__);

    /* DRHD shorter than 16 */
    memcpy(t, b.buf, len);
    t[48 + 2] = 12;  resum(t, len);
    parse_bad(t, len, "DRHD at offset 48 has length 12", __LINE__);

    /* scope length 6 (no path) */
    memcpy(t, b.buf, len);
    t[64 + 1] = 6;  resum(t, len);
    parse_bad(t, len, "has length 6 (at least 8", __LINE__);

    /* scope length past its DRHD */
    memcpy(t, b.buf, len);
    t[64 + 1] = 12;  resum(t, len);
    parse_bad(t, len, "its DRHD has only 10 byte(s) left", __LINE__);

    /* odd path length: the scope says 9, the DRHD holds 10 bytes of scopes */
    memcpy(t, b.buf, len);
    t[64 + 1] = 9;  resum(t, len);
    parse_bad(t, len, "not a whole number", __LINE__);

    /* device 32 in the path */
    memcpy(t, b.buf, len);
    t[64 + 6] = 32;  resum(t, len);
    parse_bad(t, len, "device 32 function 0", __LINE__);

    /* register base 0 and ~0 */
    memcpy(t, b.buf, len);
    memset(t + 48 + 8, 0, 8);  resum(t, len);
    parse_bad(t, len, "register base 0x0", __LINE__);
    memset(t + 48 + 8, 0xff, 8);  resum(t, len);
    parse_bad(t, len, "register base 0xffffffffffffffff", __LINE__);

    /* three bytes of a structure header at the end */
    memcpy(t, b.buf, len);
    memset(t + len, 0, 3);
    t[4] = (uint8_t)(len + 3);  resum(t, len + 3);
    parse_bad(t, len + 3, "remapping structure at offset 74 is truncated", __LINE__);

    /* a scope header cut after one byte */
    memcpy(t, b.buf, len);
    t[48 + 2] = 16 + 10 + 1;  t[4] = (uint8_t)(len + 1);  t[len] = 1;  resum(t, len + 1);
    parse_bad(t, len + 1, "device scope at offset 74 is truncated", __LINE__);

    /* The valid one still parses (the cases above broke copies). */
    {
        struct pt_dmar d;

        CHECK_EQ_INT(pt_dmar_parse(b.buf, len, &d, NULL, 0), 0);
        pt_dmar_free(&d);
        /* trailing bytes beyond the header's length are ignored */
        CHECK_EQ_INT(pt_dmar_parse(b.buf, len + 7, &d, NULL, 0), 0);
        pt_dmar_free(&d);
    }
}

/* acpi_find_matched_drhd_unit()'s substitutions. */
static void test_lookup_bdf(void)
{
    uint8_t bus, devfn;
    pt_sbdf_t vf = PT_SBDF(0, 0x0a, PT_DEVFN_OF(0, 3)), pf = PT_SBDF(0, 0x09, PT_DEVFN_OF(0, 1));

    pt_dmar_lookup_bdf(vf, true, pf, false, false, &bus, &devfn);
    CHECK_EQ_INT(bus, 0x09);
    CHECK_EQ_INT(devfn, PT_DEVFN_OF(0, 1));
    pt_dmar_lookup_bdf(vf, true, pf, true, false, &bus, &devfn);
    CHECK_EQ_INT(bus, 0x09);
    CHECK_EQ_INT(devfn, 0);
    pt_dmar_lookup_bdf(PT_SBDF(0, 5, PT_DEVFN_OF(3, 0)), false, 0, false, true, &bus, &devfn);
    CHECK_EQ_INT(bus, 5);
    CHECK_EQ_INT(devfn, 0);
    pt_dmar_lookup_bdf(PT_SBDF(0, 5, PT_DEVFN_OF(3, 2)), false, 0, false, false, &bus, &devfn);
    CHECK_EQ_INT(bus, 5);
    CHECK_EQ_INT(devfn, PT_DEVFN_OF(3, 2));
    CHECK(pt_dmar_type_needs_unit(PT_TYPE_PCIE_ENDPOINT));
    CHECK(pt_dmar_type_needs_unit(PT_TYPE_PCI_ENDPOINT));
    CHECK(!pt_dmar_type_needs_unit(PT_TYPE_PCIE_PORT));
    CHECK(!pt_dmar_type_needs_unit(PT_TYPE_PCIE2PCI_BRIDGE));
    CHECK(!pt_dmar_type_needs_unit(PT_TYPE_HOST_BRIDGE));
}

/* The spec format mktree takes, and the file dom0 reads. */
static void test_spec_and_sysfs(void)
{
    struct fx_dmar b;
    struct pt_dmar d;
    char err[256], dir[] = "/tmp/pt-dmar-XXXXXX";
    uint8_t *buf;
    size_t len;
    char *file;
    struct pt_topo t = { 0 };
    struct pt_errlog log = { 0 };

    CHECK_EQ_INT(fx_dmar_from_spec(&b, "fed90000,bridge:00:10.0,bridge:00:11.0/00.0;fed91000@1,all,ioapic:f0:1f.0",
                                   err, sizeof(err)), 0);
    CHECK_EQ_INT(pt_dmar_parse(b.buf, b.len, &d, err, sizeof(err)), 0);
    CHECK_EQ_INT(d.n, 2);
    CHECK_EQ_INT(d.units[0].nscopes, 2);
    CHECK_EQ_INT(d.units[0].scopes[1].npath, 2);
    CHECK_EQ_INT(d.units[1].seg, 1);
    CHECK(d.units[1].include_all);
    CHECK_EQ_INT(d.units[1].scopes[0].type, PT_DMAR_SCOPE_IOAPIC);
    pt_dmar_free(&d);
    CHECK_EQ_INT(fx_dmar_from_spec(&b, "fed90000,widget:00:10.0", err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "unknown scope kind") != NULL);
    CHECK_EQ_INT(fx_dmar_from_spec(&b, "fed90000,bridge:00:40.0", err, sizeof(err)), -EINVAL);

    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(pt_dmar_read_sysfs(dir, &buf, &len, &file), -ENOENT);
    pt_topo_read_dmar(dir, &t, &log);
    CHECK(t.dmar == NULL);
    CHECK_EQ_INT(t.dmar_errno, ENOENT);
    CHECK_EQ_INT(log.n, 0);                  /* absent is not a problem */
    CHECK_EQ_INT(fx_write_dmar(dir, "RMAD", b.buf, 10), 0);   /* as Xen leaves it */
    CHECK_EQ_INT(pt_dmar_read_sysfs(dir, &buf, &len, &file), 0);
    CHECK_EQ_INT(len, 10);
    CHECK(file && strstr(file, "/firmware/acpi/tables/RMAD"));
    free(buf);
    free(file);
    CHECK_EQ_INT(fx_write_dmar(dir, "DMAR", b.buf, b.len), 0);
    pt_topo_read_dmar(dir, &t, &log);
    CHECK(t.dmar != NULL);
    CHECK_EQ_INT(t.dmar_len, b.len);
    CHECK(t.dmar_file && strstr(t.dmar_file, "/firmware/acpi/tables/DMAR"));
    pt_topo_free(&t);
    pt_errlog_free(&log);
    CHECK_EQ_INT(fx_rmtree(dir), 0);
}

/* The fuzz harness's body over every truncation and every single-byte change of two tables. */
static void test_fuzz_body(void)
{
    struct fx_dmar b;
    char err[128];
    uint8_t t[8192];
    size_t len;
    unsigned runs = 0;

    CHECK_EQ_INT(fx_dmar_from_spec(&b, "fed90000,bridge:00:10.0,bridge:00:11.0/00.0/02.0,endpoint:00:02.0;"
                                   "fed91000@1,all,ioapic:f0:1f.0,hpet:00:1f.7,namespace:00:1f.1",
                                   err, sizeof(err)), 0);
    len = b.len;
    CHECK(len > 48 && len < 200);
    if ( len <= 48 || len >= 200 )
        return;
    for ( size_t l = 0; l <= len; l++, runs++ )
        pt_fuzz_dmar_one(b.buf, l);
    for ( size_t i = 0; i < len; i++ )
        for ( unsigned v = 0; v < 256; v += 7 )
        {
            memcpy(t, b.buf, len);
            t[i] = (uint8_t)v;
            pt_fuzz_dmar_one(t, len);
            if ( i != 9 )
            {
                resum(t, len);          /* past the checksum, into the structures */
                pt_fuzz_dmar_one(t, len);
            }
            runs += 2;
        }
    CHECK(runs > 1000);                 /* it ran; a broken promise aborts */
}

int main(void)
{
    test_include_all();
    test_endpoint_scope();
    test_bridge_scope_two_elements();
    test_reason_text();
    test_skipped_structures();
    test_malformed();
    test_lookup_bdf();
    test_spec_and_sysfs();
    test_fuzz_body();
    return tap_done();
}
