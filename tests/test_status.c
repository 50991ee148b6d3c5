/*
 * test_status.c - the pcitopod-status/1 document: every field, nulls, the
 * nested report, the blocked list; the atomic write (content, no temp file
 * left, errors); and the summary `pcitopod status` prints.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "daemon.h"
#include "tap.h"

static yajl_val get(yajl_val obj, const char *k1, const char *k2)
{
    const char *path[] = { k1, k2, NULL };

    return yajl_tree_get(obj, path, yajl_t_any);
}

static const char *get_s(yajl_val obj, const char *k1, const char *k2)
{
    yajl_val v = get(obj, k1, k2);

    return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static long long get_i(yajl_val obj, const char *k1, const char *k2)
{
    yajl_val v = get(obj, k1, k2);

    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -999;
}

/* A report with one stale finding and one blocked, stock-style unverified list. */
static struct pt_finding findings[2];
static char *unverified[] = { "bus2bridge" };
static struct pt_report report;
static struct pt_blocked blocked[1];
static struct pt_plan plan;

static void fixtures(void)
{
    findings[0] = (struct pt_finding){ .kind = PT_FIND_STALE, .sbdf = PT_SBDF(0, 6, PT_DEVFN_OF(1, 0)),
                                       .path = NULL, .bus = -1,
                                       .detail = "Xen has 0000:06:01.0, dom0 has no such device" };
    findings[1] = (struct pt_finding){ .kind = PT_FIND_BLOCKED, .sbdf = PT_SBDF(0, 7, 0),
                                       .path = "0000:00:1c.1/00.0", .bus = -1, .owner = 4,
                                       .cause = PT_FIND_STALE, .detail = "assigned to domain 4" };
    report = (struct pt_report){ .f = findings, .n = 2, .unverified = unverified, .nunverified = 1 };
    blocked[0] = (struct pt_blocked){ .sbdf = PT_SBDF(0, 7, 0), .owner = 4,
                                      .reason = "assigned to domain 4" };
    plan = (struct pt_plan){ .blocked = blocked, .nblocked = 1 };
}

static void test_document(void)
{
    struct pt_status st = {
        .time = 1700000000, .pid = 4242, .pass = 7, .trigger = PT_TRIG_OVERFLOW,
        .result = PT_RESULT_INCONSISTENT, .have_view = true, .source = PT_SOURCE_STOCK,
        .hv = PT_HV_STOCK, .ops_planned = 5, .ops_done = 3, .error = NULL,
        .plan = &plan, .report = &report, .pending = true,
    };
    char *buf = NULL, err[128];
    size_t len = 0;
    yajl_val doc, v;

    CHECK_EQ_INT(pt_status_to_json(&st, true, &buf, &len), 0);
    CHECK(buf && strlen(buf) == len);
    doc = buf ? yajl_tree_parse(buf, err, sizeof(err)) : NULL;
    CHECKF(doc != NULL, "%s", err);
    if ( !doc )
        return;
    CHECK_EQ_STR(get_s(doc, "format", NULL), "pcitopod-status/1");
    CHECK_EQ_INT(get_i(doc, "time", NULL), 1700000000);
    CHECK_EQ_INT(get_i(doc, "pid", NULL), 4242);
    CHECK_EQ_INT(get_i(doc, "pass", NULL), 7);
    {
        const char *path[] = { "pending", NULL };
        yajl_val pv = yajl_tree_get(doc, path, yajl_t_any);

        CHECK(pv && YAJL_IS_TRUE(pv));
    }
    CHECK_EQ_STR(get_s(doc, "trigger", NULL), "overflow");
    CHECK_EQ_STR(get_s(doc, "result", NULL), "inconsistent");
    CHECK_EQ_STR(get_s(doc, "source", NULL), "stock");
    CHECK_EQ_STR(get_s(doc, "hypervisor", NULL), "stock");
    CHECK_EQ_INT(get_i(doc, "ops_planned", NULL), 5);
    CHECK_EQ_INT(get_i(doc, "ops_done", NULL), 3);
    v = get(doc, "error", NULL);
    CHECK(v && YAJL_IS_NULL(v));
    v = get(doc, "blocked", NULL);
    CHECK(v && YAJL_IS_ARRAY(v) && v->u.array.len == 1);
    if ( v && YAJL_IS_ARRAY(v) && v->u.array.len == 1 )
    {
        CHECK_EQ_STR(get_s(v->u.array.values[0], "sbdf", NULL), "0000:07:00.0");
        CHECK_EQ_INT(get_i(v->u.array.values[0], "owner", NULL), 4);
        CHECK_EQ_STR(get_s(v->u.array.values[0], "reason", NULL), "assigned to domain 4");
    }
    /* The report, nested as the core writes it. */
    CHECK_EQ_STR(get_s(doc, "report", "format"), "pcitopod-report/1");
    v = get(doc, "report", "consistent");
    CHECK(v && YAJL_IS_FALSE(v));
    v = get(doc, "report", "findings");
    CHECK(v && YAJL_IS_ARRAY(v) && v->u.array.len == 2);
    if ( v && YAJL_IS_ARRAY(v) && v->u.array.len == 2 )
    {
        CHECK_EQ_STR(get_s(v->u.array.values[0], "kind", NULL), "stale");
        CHECK_EQ_STR(get_s(v->u.array.values[0], "sbdf", NULL), "0000:06:01.0");
        CHECK(YAJL_IS_NULL(get(v->u.array.values[0], "path", NULL)));
        CHECK_EQ_STR(get_s(v->u.array.values[1], "path", NULL), "0000:00:1c.1/00.0");
        CHECK_EQ_INT(get_i(v->u.array.values[1], "owner", NULL), 4);
    }
    v = get(doc, "report", "unverified");
    CHECK(v && YAJL_IS_ARRAY(v) && v->u.array.len == 1);
    yajl_tree_free(doc);
    free(buf);

    /* An error pass: no view, no plan, no report; the error string. */
    st = (struct pt_status){ .time = 1, .pid = 2, .pass = 1, .trigger = PT_TRIG_STARTUP,
                             .result = PT_RESULT_ERROR, .error = "cannot open /dev/xen/privcmd: \"No such file\"" };
    buf = NULL;
    CHECK_EQ_INT(pt_status_to_json(&st, false, &buf, &len), 0);
    doc = buf ? yajl_tree_parse(buf, err, sizeof(err)) : NULL;
    CHECKF(doc != NULL, "%s", err);
    if ( doc )
    {
        CHECK_EQ_STR(get_s(doc, "result", NULL), "error");
        CHECK_EQ_STR(get_s(doc, "trigger", NULL), "startup");
        CHECK_EQ_STR(get_s(doc, "error", NULL), "cannot open /dev/xen/privcmd: \"No such file\"");
        CHECK(YAJL_IS_NULL(get(doc, "source", NULL)));
        CHECK(YAJL_IS_NULL(get(doc, "hypervisor", NULL)));
        CHECK(YAJL_IS_NULL(get(doc, "report", NULL)));
        v = get(doc, "blocked", NULL);
        CHECK(v && YAJL_IS_ARRAY(v) && v->u.array.len == 0);
        yajl_tree_free(doc);
    }
    CHECK(buf && !strchr(buf, '\n'));                   /* not pretty */
    free(buf);

    /* Every trigger and result has its name. */
    static const char *const trig[] = { "startup", "uevent", "sighup", "resync", "retry", "overflow" };
    for ( unsigned t = 0; t < PT_TRIG__COUNT; t++ )
        CHECK_EQ_STR(pt_trigger_name(t), trig[t]);
    CHECK_EQ_STR(pt_result_name(PT_RESULT_CONSISTENT), "consistent");
    CHECK_EQ_STR(pt_result_name(PT_RESULT_DRY_RUN), "dry-run");
}

static void test_write_and_print(void)
{
    char dir[] = "/tmp/test_status.XXXXXX", file[80], bad[80];
    struct pt_status st = {
        .time = 1700000000, .pid = 99, .pass = 3, .trigger = PT_TRIG_UEVENT,
        .result = PT_RESULT_INCONSISTENT, .have_view = true, .source = PT_SOURCE_SIM,
        .hv = PT_HV_PATCHED, .ops_planned = 2, .ops_done = 2, .plan = &plan, .report = &report,
    };
    struct pt_errlog log = { 0 };
    char *want = NULL, *got = NULL, *out = NULL;
    size_t gotlen = 0, outlen = 0;
    unsigned entries = 0;
    FILE *f;
    DIR *d;
    struct dirent *de;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof(file), "%s/status.json", dir);
    snprintf(bad, sizeof(bad), "%s/nodir/status.json", dir);
    CHECK_EQ_INT(pt_status_write(file, &st), 0);
    st.pass = 4;                                        /* overwrite in place */
    CHECK_EQ_INT(pt_status_write(file, &st), 0);
    CHECK_EQ_INT(pt_status_to_json(&st, true, &want, NULL), 0);
    CHECK_EQ_INT(pt_read_file(file, &got, &gotlen), 0);
    CHECK_EQ_STR(got, want);
    CHECK_EQ_INT(pt_status_write(bad, &st), -ENOENT);
    d = opendir(dir);
    while ( d && (de = readdir(d)) )
        if ( de->d_name[0] != '.' )
            entries++;
    if ( d )
        closedir(d);
    CHECK_EQ_INT(entries, 1);                           /* no temp file left behind */

    /* The summary for people. */
    f = open_memstream(&out, &outlen);
    CHECK_EQ_INT(pt_status_print(got, gotlen, f, &log), 0);
    fclose(f);
    CHECK(strstr(out, "last pass:   #4") != NULL);
    CHECK(strstr(out, "trigger uevent") != NULL);
    CHECK(strstr(out, "result:      inconsistent") != NULL);
    CHECK(strstr(out, "operations:  2 of 2 applied") != NULL);
    CHECK(strstr(out, "blocked:     0000:07:00.0: assigned to domain 4") != NULL);
    CHECK(strstr(out, "findings:    2") != NULL);
    CHECK(strstr(out, "stale      0000:06:01.0") != NULL);
    CHECK(strstr(out, "unverified:  bus2bridge") != NULL);
    CHECK(strstr(out, "hypervisor:  patched (view source: sim)") != NULL);
    free(out);

    /* Not a status document. */
    out = NULL;
    f = open_memstream(&out, &outlen);
    CHECK_EQ_INT(pt_status_print("{\"format\":\"pcitopod-report/1\"}", 30, f, &log), -EINVAL);
    CHECK_EQ_INT(pt_status_print("{ garbage", 9, f, &log), -EINVAL);
    fclose(f);
    CHECK_EQ_INT(log.nerrors, 2);
    CHECK(log.n && strstr(log.msgs[0].text, "not a pcitopod-status/1 document") != NULL);
    free(out);
    pt_errlog_free(&log);

    /* Nesting that overflowed the stack in yajl_tree_free(): refused before yajl. */
    {
        size_t depth = 1000000;
        char *deep = malloc(2 * depth);

        CHECK(deep != NULL);
        if ( deep )
        {
            memset(deep, '[', depth);
            memset(deep + depth, ']', depth);
            out = NULL;
            f = open_memstream(&out, &outlen);
            CHECK_EQ_INT(pt_status_print(deep, 2 * depth, f, &log), -EINVAL);
            fclose(f);
            CHECK(log.n && strstr(log.msgs[0].text, "nested deeper than 64") != NULL);
            free(out);
            free(deep);
        }
        /* A NUL inside the text is refused too (len is honoured, not strlen). */
        out = NULL;
        f = open_memstream(&out, &outlen);
        CHECK_EQ_INT(pt_status_print("{\"format\":\"pcitopod-status/1\"}\0{", 33, f, &log), -EINVAL);
        fclose(f);
        free(out);
        pt_errlog_free(&log);
    }

    free(want);
    free(got);
    unlink(file);
    rmdir(dir);
}

int main(void)
{
    fixtures();
    test_document();
    test_write_and_print();
    return tap_done();
}
