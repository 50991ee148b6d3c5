/*
 * test_conf.c - /etc/pcitopod.conf: defaults, good files (comments, spaces,
 * every key, every spelling of yes/no), bad files (unknown key, bad value,
 * missing '=', repeated key, out of range, inconsistent values) with the
 * FILE:LINE in the message, and loading (missing default file vs missing
 * explicit file).
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "daemon.h"
#include "tap.h"

/* The last message of log, or "" */
static const char *last_msg(const struct pt_errlog *log)
{
    return log->n ? log->msgs[log->n - 1].text : "";
}

static int parse(const char *text, struct pt_daemon_conf *c, struct pt_errlog *log)
{
    pt_conf_defaults(c);
    return pt_conf_parse(text, strlen(text), "/etc/pcitopod.conf", c, log);
}

static void test_defaults(void)
{
    struct pt_daemon_conf c;
    struct pt_sched_conf sc;
    struct pt_errlog log = { 0 };

    pt_conf_defaults(&c);
    CHECK_EQ_INT(c.settle_ms, 500);
    CHECK_EQ_INT(c.max_delay_ms, 5000);
    CHECK_EQ_INT(c.resync_minutes, 10);
    CHECK_EQ_INT(c.retry_max_s, 300);
    CHECK(!c.dry_run);
    CHECK(!c.requarantine);
    CHECK_EQ_INT(c.stock_mode, PT_STOCK_REPAIR);
    CHECK_EQ_INT(c.log_level, PT_SEV_INFO);
    CHECK_EQ_INT(c.max_lost_percent, PT_MAX_LOST_PCT_DEFAULT);
    CHECK_EQ_INT(c.stock_dump_min_interval_s, 60);
    pt_conf_sched(&c, &sc);
    CHECK_EQ_INT(sc.settle_usec, 500000);
    CHECK_EQ_INT(sc.max_delay_usec, 5000000);
    CHECK_EQ_INT(sc.resync_usec, 600000000ULL);
    CHECK_EQ_INT(sc.retry_min_usec, 1000000);
    CHECK_EQ_INT(sc.retry_max_usec, 300000000ULL);
    CHECK_EQ_STR(pt_stock_mode_name(PT_STOCK_REPORT), "report");
    CHECK_EQ_STR(pt_severity_name(PT_SEV_WARN), "warning");

    /* An empty file and a file of comments change nothing. */
    CHECK_EQ_INT(parse("", &c, &log), 0);
    CHECK_EQ_INT(parse("# nothing\n\n   # indented comment\n\t\n", &c, &log), 0);
    CHECK_EQ_INT(c.settle_ms, 500);
    CHECK_EQ_INT(log.nerrors, 0);
    pt_errlog_free(&log);
}

static void test_good(void)
{
    struct pt_daemon_conf c;
    struct pt_errlog log = { 0 };
    const char *text =
        "# /etc/pcitopod.conf\n"
        "settle_ms = 250\n"
        "max_delay_ms=2000   # a comment after the value\n"
        "  resync_minutes\t=\t0\n"
        "retry_max_s = 60\r\n"
        "dry_run = yes\n"
        "requarantine = on\n"
        "stock_mode = report\n"
        "max_lost_percent = 30\n"
        "log_level = debug";                 /* no newline at the end */

    CHECK_EQ_INT(parse(text, &c, &log), 0);
    CHECK_EQ_INT(c.settle_ms, 250);
    CHECK_EQ_INT(c.max_delay_ms, 2000);
    CHECK_EQ_INT(c.resync_minutes, 0);
    CHECK_EQ_INT(c.retry_max_s, 60);
    CHECK(c.dry_run);
    CHECK(c.requarantine);
    CHECK_EQ_INT(c.stock_mode, PT_STOCK_REPORT);
    CHECK_EQ_INT(c.log_level, PT_SEV_DEBUG);
    CHECK_EQ_INT(c.max_lost_percent, 30);
    CHECK_EQ_INT(log.nerrors, 0);

    /* Every spelling of a boolean. */
    static const char *const yes[] = { "yes", "YES", "true", "on", "1" };
    static const char *const no[] = { "no", "False", "off", "0" };
    for ( size_t i = 0; i < 5; i++ )
    {
        char buf[64];

        snprintf(buf, sizeof(buf), "dry_run = %s\n", yes[i]);
        CHECK_EQ_INT(parse(buf, &c, &log), 0);
        CHECK(c.dry_run);
    }
    for ( size_t i = 0; i < 4; i++ )
    {
        char buf[64];

        snprintf(buf, sizeof(buf), "dry_run=%s", no[i]);
        c.dry_run = true;
        CHECK_EQ_INT(pt_conf_parse(buf, strlen(buf), "f", &c, &log), 0);
        CHECK(!c.dry_run);
    }
    /* The other values of the enums, and limits. */
    CHECK_EQ_INT(parse("stock_mode = repair\nlog_level = error\nsettle_ms = 0\n", &c, &log), 0);
    CHECK_EQ_INT(c.stock_mode, PT_STOCK_REPAIR);
    CHECK_EQ_INT(c.log_level, PT_SEV_ERROR);
    CHECK_EQ_INT(c.settle_ms, 0);
    CHECK_EQ_INT(parse("log_level = warning\nresync_minutes = 10080\n", &c, &log), 0);
    CHECK_EQ_INT(c.log_level, PT_SEV_WARN);
    CHECK_EQ_INT(c.resync_minutes, 10080);
    CHECK_EQ_INT(parse("stock_dump_min_interval_s = 0\n", &c, &log), 0);
    CHECK_EQ_INT(c.stock_dump_min_interval_s, 0);
    CHECK_EQ_INT(parse("stock_dump_min_interval_s = 86400\n", &c, &log), 0);
    CHECK_EQ_INT(c.stock_dump_min_interval_s, 86400);
    CHECK_EQ_INT(parse("max_lost_percent = 0\n", &c, &log), 0);
    CHECK_EQ_INT(c.max_lost_percent, 0);
    CHECK_EQ_INT(parse("max_lost_percent = 100\n", &c, &log), 0);
    CHECK_EQ_INT(c.max_lost_percent, 100);
    CHECK_EQ_INT(log.nerrors, 0);
    pt_errlog_free(&log);
}

/* Parses a bad text: -EINVAL and a message containing want. */
static void bad(const char *text, const char *want)
{
    struct pt_daemon_conf c;
    struct pt_errlog log = { 0 };
    int rc = parse(text, &c, &log);

    CHECKF(rc == -EINVAL, "'%s' parsed (%d)", text, rc);
    CHECKF(strstr(last_msg(&log), want) != NULL, "message '%s' lacks '%s'", last_msg(&log), want);
    CHECK_EQ_INT(log.nerrors, 1);
    pt_errlog_free(&log);
}

static void test_bad(void)
{
    bad("settle_ms = 500\nsetle_ms = 400\n", "/etc/pcitopod.conf:2: unknown key 'setle_ms'");
    bad("# c\n\nsettle_ms 500\n", "/etc/pcitopod.conf:3: expected 'key = value', found 'settle_ms 500' (no '=')");
    bad("settle_ms = fast\n", "/etc/pcitopod.conf:1: bad value 'fast' for 'settle_ms' (expected a whole number from 0 to 600000)");
    bad("settle_ms = -1\n", ":1: bad value '-1' for 'settle_ms'");
    bad("settle_ms = 500ms\n", ":1: bad value '500ms'");
    bad("settle_ms = 600001\n", ":1: bad value '600001'");
    bad("settle_ms = 99999999999999999999\n", ":1: bad value");
    bad("retry_max_s = 0\n", ":1: bad value '0' for 'retry_max_s' (expected a whole number from 1 to 86400)");
    bad("dry_run = maybe\n", ":1: bad value 'maybe' for 'dry_run' (expected yes or no)");
    bad("stock_mode = fix\n", ":1: bad value 'fix' for 'stock_mode' (expected repair or report)");
    bad("log_level = verbose\n", ":1: bad value 'verbose' for 'log_level' (expected debug, info, warning or error)");
    bad("log_level = INFO\n", ":1: bad value 'INFO'");
    bad("\n\nsettle_ms =\n", ":3: 'settle_ms' has no value (expected a whole number");
    bad("= 5\n", ":1: a value without a key");
    bad("settle_ms = 100\nsettle_ms = 200\n", ":2: 'settle_ms' is set again (first on line 1)");
    bad("settle_ms = 6000\n", "max_delay_ms (5000) is shorter than settle_ms (6000)");
    bad("Settle_ms = 5\n", "unknown key 'Settle_ms'");
    bad("settle_ms = 1 2\n", "bad value '1 2'");
    bad("stock_dump_min_interval_s = 86401\n", ":1: bad value '86401' for 'stock_dump_min_interval_s' (expected a whole number from 0 to 86400)");
    bad("max_lost_percent = 101\n", ":1: bad value '101' for 'max_lost_percent' (expected a whole number from 0 to 100)");
    bad("max_lost_percent = 25%\n", ":1: bad value '25%'");

    char nul[] = "settle_ms = 1\nx\0y = 2\n";
    struct pt_daemon_conf c;
    struct pt_errlog log = { 0 };

    pt_conf_defaults(&c);
    CHECK_EQ_INT(pt_conf_parse(nul, sizeof(nul) - 1, "f", &c, &log), -EINVAL);
    CHECK(strstr(last_msg(&log), "f:2: NUL byte") != NULL);
    pt_errlog_free(&log);
}

static void test_load(void)
{
    struct pt_daemon_conf c;
    struct pt_errlog log = { 0 };
    char dir[] = "/tmp/test_conf.XXXXXX", file[64], missing[64];
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof(file), "%s/pcitopod.conf", dir);
    snprintf(missing, sizeof(missing), "%s/none.conf", dir);

    pt_conf_defaults(&c);
    CHECK_EQ_INT(pt_conf_load(missing, false, &c, &log), 0);    /* the default path may be absent */
    CHECK_EQ_INT(c.settle_ms, 500);
    CHECK_EQ_INT(log.nerrors, 0);
    CHECK_EQ_INT(pt_conf_load(missing, true, &c, &log), -ENOENT); /* --config FILE must exist */
    CHECK(strstr(last_msg(&log), "none.conf") != NULL);
    pt_errlog_free(&log);

    f = fopen(file, "w");
    CHECK(f != NULL);
    if ( f )
    {
        fputs("settle_ms = 100\nmax_delay_ms = 1000\nbogus = 1\n", f);
        fclose(f);
    }
    pt_conf_defaults(&c);
    CHECK_EQ_INT(pt_conf_load(file, true, &c, &log), -EINVAL);
    CHECKF(strstr(last_msg(&log), "pcitopod.conf:3: unknown key 'bogus'") != NULL, "%s", last_msg(&log));
    pt_errlog_free(&log);

    f = fopen(file, "w");
    if ( f )
    {
        fputs("settle_ms = 100\nmax_delay_ms = 1000\n", f);
        fclose(f);
    }
    pt_conf_defaults(&c);
    CHECK_EQ_INT(pt_conf_load(file, true, &c, &log), 0);
    CHECK_EQ_INT(c.settle_ms, 100);
    CHECK_EQ_INT(c.max_delay_ms, 1000);

    /* Checks of merged values (command line over the file) name their origin. */
    c.settle_ms = 2000;
    CHECK_EQ_INT(pt_conf_check(&c, "command line", &log), -EINVAL);
    CHECK(strstr(last_msg(&log), "command line: max_delay_ms (1000)") != NULL);
    pt_errlog_free(&log);
    unlink(file);
    rmdir(dir);
}

int main(void)
{
    test_defaults();
    test_good();
    test_bad();
    test_load();
    return tap_done();
}
