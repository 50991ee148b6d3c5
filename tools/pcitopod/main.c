/*
 * main.c - pcitopod's command line: options, the command table, help.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcitopod.h"

#define STR(x) #x
#define XSTR(x) STR(x)

/* The help users see is data, next to the code (xl's cmd_table habit). */
const struct pt_command pt_commands[] = {
    { "run", pt_cmd_run,
      "[--config FILE] [--settle-ms N] [--max-delay-ms N] [--resync-minutes N] "
      "[--status-file FILE] [--lock-file FILE] [--max-lost-percent N] [--dry-run] [--requarantine] [COMMON]",
      "The daemon (what systemd starts): a full pass at start-up, after every settled "
      "batch of PCI uevents (quiet for --settle-ms, or at most --max-delay-ms after the "
      "first), on SIGHUP and every --resync-minutes (0: never); failed passes are retried "
      "with back-off. Each pass scans sysfs, reads Xen's registry, applies the plan under "
      "the lock (unless --dry-run), reads Xen again and writes the status file. Settings "
      "come from " SYSCONFDIR "/pcitopod.conf (see pcitopod.conf(5)); options override it." },
    { "check", pt_cmd_check, "[--json] [--force] [--max-lost-percent N] [COMMON]",
      "Compare dom0's PCI topology (sysfs) with Xen's PCI registry and list every "
      "difference: missing, stale, mismatch, bus2bridge, cycle, blocked. Exit 0 when "
      "consistent, 1 when apply would repair differences, 4 when only blocked ones remain "
      "(a stale BDF a guest owns...), 2 on error, 3 when nothing is wrong but a stock "
      "hypervisor hides part of its view." },
    { "plan", pt_cmd_plan, "[--json] [--requarantine] [--force] [--max-lost-percent N] [COMMON]",
      "Print the ordered PHYSDEVOP_pci_device_remove/add operations that would make Xen "
      "match dom0, the devices left alone (blocked) and what cannot be repaired. Changes "
      "nothing. Exit 0 when there is nothing to do, 1 when there are operations, 4 when "
      "there are none but blocked or unrepairable entries remain, 2 on error." },
    { "apply", pt_cmd_apply,
      "[--json] [--dry-run] [--requarantine] [--force] [--max-lost-percent N] "
      "[--lock-timeout SECS] [--sim-fail-op K:ERRNO] [COMMON]",
      "Build the plan and issue it under the lock (waiting for it at most --lock-timeout "
      "seconds, default 30). An operation that fails stops only the operations that depend "
      "on it; whatever Xen had before and a failure left out is added back. Then read "
      "Xen's view again and report what is now true. Success is only what was observed. "
      "Exit 0 when Xen now matches dom0 (apart from blocked devices), 1 when differences "
      "remain, 2 on error (a failed operation, the lock still held, a device left "
      "unregistered). Nothing is applied (exit 2) when dom0's scan found no PCI device, "
      "or lacks more than --max-lost-percent of the devices Xen has for dom0, unless "
      "--force. --sim-fail-op K:ERRNO (testing, with --xen-sim only) makes "
      "operation K fail with ERRNO (ENODEV, EBUSY, EIO, ... or a number)." },
    { "xen-view", pt_cmd_xen_view, "[--json] [COMMON]",
      "Print Xen's PCI registry as pcitopod sees it: devices with type, recorded bus "
      "range, owner and flags, and each segment's bus2bridge table "
      "(--json: a pcitopod-xen-view/1 document)." },
    { "status", pt_cmd_status, "[--json] [--status-file FILE]",
      "Say whether the daemon is running, then show its last pass (" RUNSTATEDIR
      "/pcitopod/status.json): when, why, the result, operations applied, blocked devices "
      "and findings; --json prints the pcitopod-status/1 document itself. Exit 0 running "
      "and consistent, 1 running and inconsistent, 2 its last pass failed (or error), "
      "3 not running (stale status), 4 never ran, 5 running, no pass finished yet." },
    { NULL, NULL, NULL, NULL },
};

static const char common_help[] =
    "Common options:\n"
    "  --sysfs-root DIR   read dom0's topology from DIR instead of /sys\n"
    "  --xen-sim FILE     use the Xen-registry simulator, its state in FILE\n"
    "                     (a pcitopod-xen-view/1 document), instead of the hypervisor\n"
    "  --json             machine-readable output (DESIGN §4.3/§4.4 documents)\n"
    "  --dry-run          apply: print the plan, change nothing\n"
    "  --requarantine     repair quarantined (DomIO) devices and quarantine them again\n"
    "                     (default: leave them alone and report them blocked)\n"
    "  --lock-file FILE   the lock libxl and pcitopod share (default " RUNSTATEDIR "/pcitopod/lock);\n"
    "                     given, it is taken with --xen-sim too\n"
    "  --max-lost-percent N  refuse to remove anything when dom0's scan lacks more\n"
    "                     than N% of the devices Xen has for dom0 (default "
    XSTR(PT_MAX_LOST_PCT_DEFAULT) ")\n"
    "  --force            check, plan, apply: act on such a scan all the same\n"
    "  -q, --quiet        only errors on stderr\n"
    "  -v, --verbose      more detail on stderr\n"
    "  -h, --help         this help (also: pcitopod COMMAND --help)\n"
    "  -V, --version      print the version\n";

/* --max-lost-percent's value: a whole number from 0 to 100; -EINVAL with a message. */
static int parse_percent(const char *v, unsigned *out)
{
    if ( pt_parse_uint(v, 0, 100, out) )
        return 0;
    fprintf(stderr, "pcitopod: --max-lost-percent '%s': expected a whole number from 0 to 100\n", v);
    return -EINVAL;
}

static void usage_all(FILE *f)
{
    fprintf(f, "Usage: pcitopod COMMAND [OPTIONS]\n\n"
               "Keeps Xen's PCI registry consistent with dom0's PCI topology.\n\nCommands:\n");
    for ( const struct pt_command *c = pt_commands; c->name; c++ )
        fprintf(f, "  %-9s %s\n", c->name, c->usage);
    fprintf(f, "\n%s\nSee pcitopod(8).\n", common_help);
}

static void usage_one(const struct pt_command *c, FILE *f)
{
    fprintf(f, "Usage: pcitopod %s %s\n\n%s\n\n%s", c->name, c->usage, c->help, common_help);
}

static const struct pt_command *find_command(const char *name)
{
    for ( const struct pt_command *c = pt_commands; c->name; c++ )
        if ( !strcmp(c->name, name) )
            return c;
    return NULL;
}

int main(int argc, char **argv)
{
    enum { OPT_SYSFS = 256, OPT_SIM, OPT_JSON, OPT_DRY, OPT_REQ,
           OPT_CONFIG, OPT_STATUS_FILE, OPT_SETTLE, OPT_MAX_DELAY, OPT_RESYNC,
           OPT_LOCK_FILE, OPT_LOCK_TIMEOUT, OPT_SIM_FAIL, OPT_FORCE, OPT_MAX_LOST };
    static const struct option longopts[] = {
        { "sysfs-root", required_argument, NULL, OPT_SYSFS },
        { "xen-sim", required_argument, NULL, OPT_SIM },
        { "json", no_argument, NULL, OPT_JSON },
        { "dry-run", no_argument, NULL, OPT_DRY },
        { "requarantine", no_argument, NULL, OPT_REQ },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "status-file", required_argument, NULL, OPT_STATUS_FILE },
        { "settle-ms", required_argument, NULL, OPT_SETTLE },
        { "max-delay-ms", required_argument, NULL, OPT_MAX_DELAY },
        { "resync-minutes", required_argument, NULL, OPT_RESYNC },
        { "lock-file", required_argument, NULL, OPT_LOCK_FILE },
        { "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
        { "sim-fail-op", required_argument, NULL, OPT_SIM_FAIL },
        { "force", no_argument, NULL, OPT_FORCE },
        { "max-lost-percent", required_argument, NULL, OPT_MAX_LOST },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct pt_options o = { .sysfs_root = "/sys", .max_lost_pct = PT_MAX_LOST_PCT_DEFAULT };
    const struct pt_command *cmd = NULL;
    bool help = false;
    int c;

    while ( (c = getopt_long(argc, argv, "qvhV", longopts, NULL)) != -1 )
    {
        switch ( c )
        {
        case OPT_SYSFS:  o.sysfs_root = optarg; break;
        case OPT_SIM:    o.xen_sim = optarg; break;
        case OPT_JSON:   o.json = true; break;
        case OPT_DRY:    o.dry_run = true; break;
        case OPT_REQ:    o.policy.requarantine = true; break;
        case OPT_CONFIG: o.config = optarg; break;
        case OPT_STATUS_FILE: o.status_file = optarg; break;
        case OPT_SETTLE: o.settle_ms = optarg; break;
        case OPT_MAX_DELAY: o.max_delay_ms = optarg; break;
        case OPT_RESYNC: o.resync_minutes = optarg; break;
        case OPT_LOCK_FILE: o.lock_file = optarg; break;
        case OPT_LOCK_TIMEOUT: o.lock_timeout = optarg; break;
        case OPT_SIM_FAIL: o.sim_fail_op = optarg; break;
        case OPT_FORCE:  o.force = true; break;
        case OPT_MAX_LOST:
            if ( parse_percent(optarg, &o.max_lost_pct) < 0 )
                return PT_EXIT_ERROR;
            o.max_lost_given = true;
            break;
        case 'q':        o.quiet = true; break;
        case 'v':        o.verbose++; break;
        case 'h':        help = true; break;
        case 'V':
            printf("pcitopod %s\n", PACKAGE_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try 'pcitopod --help'.\n");
            return PT_EXIT_ERROR;
        }
    }
    if ( optind < argc )
    {
        cmd = find_command(argv[optind]);
        if ( !cmd )
        {
            fprintf(stderr, "pcitopod: unknown command '%s'. Try 'pcitopod --help'.\n",
                    argv[optind]);
            return PT_EXIT_ERROR;
        }
        if ( optind + 1 < argc )
        {
            fprintf(stderr, "pcitopod %s: unexpected argument '%s'. Try 'pcitopod %s --help'.\n",
                    cmd->name, argv[optind + 1], cmd->name);
            return PT_EXIT_ERROR;
        }
    }
    if ( help )
    {
        if ( cmd )
            usage_one(cmd, stdout);
        else
            usage_all(stdout);
        return 0;
    }
    if ( !cmd )
    {
        usage_all(stderr);
        return PT_EXIT_ERROR;
    }
    if ( o.dry_run && strcmp(cmd->name, "apply") && strcmp(cmd->name, "run") )
    {
        fprintf(stderr, "pcitopod %s: --dry-run only applies to 'apply' (this command changes nothing anyway)\n",
                cmd->name);
        return PT_EXIT_ERROR;
    }
    if ( (o.lock_timeout || o.sim_fail_op) && strcmp(cmd->name, "apply") )
    {
        fprintf(stderr, "pcitopod %s: --%s only applies to 'apply'\n", cmd->name,
                o.lock_timeout ? "lock-timeout" : "sim-fail-op");
        return PT_EXIT_ERROR;
    }
    if ( o.sim_fail_op && !o.xen_sim )
    {
        fprintf(stderr, "pcitopod %s: --sim-fail-op is a testing option of the simulator: it needs --xen-sim FILE\n",
                cmd->name);
        return PT_EXIT_ERROR;
    }
    if ( (o.force || o.max_lost_given) && strcmp(cmd->name, "check") &&
         strcmp(cmd->name, "plan") && strcmp(cmd->name, "apply") &&
         (o.force || strcmp(cmd->name, "run")) )
    {
        fprintf(stderr, "pcitopod %s: %s only applies to %s\n", cmd->name,
                o.force ? "--force" : "--max-lost-percent",
                o.force ? "check, plan and apply (the daemon never forces)"
                        : "check, plan, apply and run");
        return PT_EXIT_ERROR;
    }
    return cmd->run(&o);
}
