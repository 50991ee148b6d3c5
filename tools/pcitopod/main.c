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

/*
 * The options, each with its help (xl's cmd_table habit: the help users see
 * is data, next to the code).  A command lists the options it takes in its
 * entry below; any other is refused with an error naming the command, so
 * that every option a command accepts has an effect.
 */
struct opt_desc {
    unsigned bit;
    const char *name;           /* long name */
    char shortname;             /* 0: none */
    const char *arg;            /* NULL: a flag */
    const char *help;
};

static const struct opt_desc opt_descs[] = {
    { PT_OPT_SYSFS, "sysfs-root", 0, "DIR",
      "read dom0's topology from DIR (a tree mirroring sysfs) instead of /sys" },
    { PT_OPT_SIM, "xen-sim", 0, "FILE",
      "use the Xen-registry simulator, its state in FILE (a pcitopod-xen-view/1 document), "
      "instead of the hypervisor" },
    { PT_OPT_JSON, "json", 0, NULL,
      "machine-readable output (the document named in the description above)" },
    { PT_OPT_DRY, "dry-run", 0, NULL, "plan only: change nothing" },
    { PT_OPT_REQ, "requarantine", 0, NULL,
      "repair quarantined (DomIO) devices and quarantine them again (default: leave them "
      "alone, reported blocked)" },
    { PT_OPT_CONFIG, "config", 0, "FILE",
      "the daemon's settings from FILE, which must exist and be valid (default "
      SYSCONFDIR "/pcitopod.conf if present; see pcitopod.conf(5))" },
    { PT_OPT_STATUS_FILE, "status-file", 0, "FILE",
      "the daemon's status file (default " RUNSTATEDIR "/pcitopod/status.json)" },
    { PT_OPT_SETTLE, "settle-ms", 0, "N",
      "a batch of PCI uevents is settled after N ms without one" },
    { PT_OPT_MAX_DELAY, "max-delay-ms", 0, "N",
      "a pass runs at most N ms after the first uevent of a batch" },
    { PT_OPT_RESYNC, "resync-minutes", 0, "N", "a full pass every N minutes (0: never)" },
    { PT_OPT_LOCK_FILE, "lock-file", 0, "FILE",
      "the lock libxl and pcitopod share (default " RUNSTATEDIR "/pcitopod/lock); "
      "given, it is taken with --xen-sim too" },
    { PT_OPT_LOCK_TIMEOUT, "lock-timeout", 0, "SECS",
      "wait at most SECS whole seconds for the lock (default 30; 0: try once)" },
    { PT_OPT_SIM_FAIL, "sim-fail-op", 0, "K:ERRNO",
      "testing, with --xen-sim only: operation K (from 1) fails with ERRNO (ENODEV, EBUSY, "
      "EIO, ... or a number)" },
    { PT_OPT_FORCE, "force", 0, NULL,
      "act on a scan of dom0 the view guard refuses (devices really gone)" },
    { PT_OPT_MAX_LOST, "max-lost-percent", 0, "N",
      "refuse to remove anything when dom0's scan lacks more than N% of the devices Xen has "
      "for dom0 (default " XSTR(PT_MAX_LOST_PCT_DEFAULT) ")" },
    { PT_OPT_QUIET, "quiet", 'q', NULL, "print nothing but errors: the exit status says it" },
    { PT_OPT_VERBOSE, "verbose", 'v', NULL, "more detail: what was read from where (-vv: debugging)" },
    { 0, "help", 'h', NULL, "this help" },
    { 0, NULL, 0, NULL, NULL },
};

#define VIEW_OPTS (PT_OPT_SYSFS | PT_OPT_SIM | PT_OPT_QUIET | PT_OPT_VERBOSE)

const struct pt_command pt_commands[] = {
    { "check", pt_cmd_check,
      VIEW_OPTS | PT_OPT_JSON | PT_OPT_REQ | PT_OPT_FORCE | PT_OPT_MAX_LOST,
      "compare dom0's PCI topology with Xen's registry, list the differences",
      "Compare dom0's PCI topology (sysfs) with Xen's PCI registry and list every "
      "difference: missing, stale, mismatch, bus2bridge, cycle, blocked (--json: a "
      "pcitopod-report/1 document).\n"
      "Exit status: 0 consistent; 1 differences apply would repair; 4 only blocked ones "
      "(a stale BDF a guest owns, a quarantined device...: pcitopod leaves them alone); "
      "3 nothing wrong seen, but a stock hypervisor hides part of its view; 2 error." },
    { "plan", pt_cmd_plan,
      VIEW_OPTS | PT_OPT_JSON | PT_OPT_REQ | PT_OPT_FORCE | PT_OPT_MAX_LOST,
      "print the operations apply would issue, and what it leaves alone",
      "Print the ordered PHYSDEVOP_pci_device_remove/add operations that would make Xen "
      "match dom0, the devices left alone (blocked) and what cannot be repaired (--json: a "
      "pcitopod-plan/1 document). Changes nothing.\n"
      "Exit status: 0 nothing to do; 1 there are operations; 4 none, but blocked or "
      "unrepairable entries remain; 2 error." },
    { "apply", pt_cmd_apply,
      VIEW_OPTS | PT_OPT_JSON | PT_OPT_DRY | PT_OPT_REQ | PT_OPT_FORCE | PT_OPT_MAX_LOST |
      PT_OPT_LOCK_FILE | PT_OPT_LOCK_TIMEOUT | PT_OPT_SIM_FAIL,
      "issue the plan under the lock, then read Xen again and report",
      "Build the plan and issue it under the lock. An operation that fails stops only the "
      "operations that depend on it; whatever Xen had before and a failure left out is "
      "added back. Then read Xen's view again and report what is now true (--json: a "
      "pcitopod-apply/1 document): success is only what was observed. Nothing is applied "
      "when dom0's scan found no PCI device, or lacks more than --max-lost-percent of the "
      "devices Xen has for dom0, unless --force.\n"
      "Exit status: 0 Xen now matches dom0 (apart from blocked devices); 1 differences "
      "remain; 3 nothing wrong seen, but a stock hypervisor hides part of its view; 2 error "
      "(a failed operation, the lock still held, a device left unregistered, no hypervisor). "
      "With --dry-run: as plan." },
    { "xen-view", pt_cmd_xen_view, VIEW_OPTS | PT_OPT_JSON,
      "print Xen's PCI registry as pcitopod sees it",
      "Print Xen's PCI registry as pcitopod sees it: devices with type, recorded bus range, "
      "owner and flags, and each segment's bus2bridge table (--json: a "
      "pcitopod-xen-view/1 document). On a stock hypervisor this sends debug key 'Q' (a "
      "dump of every PCI device on Xen's console).\n"
      "Exit status: 0, or 2 on error." },
    { "status", pt_cmd_status,
      PT_OPT_JSON | PT_OPT_STATUS_FILE | PT_OPT_QUIET | PT_OPT_VERBOSE,
      "say whether the daemon runs, and show its last pass",
      "Say whether the daemon is running (the pid its status file records is alive and is "
      "'pcitopod run' writing that file), then show its last pass: when, why, the result, "
      "operations applied, blocked devices and findings (--json: the pcitopod-status/1 "
      "document itself, the liveness line on stderr).\n"
      "Exit status, like systemctl is-active: 0 running, its last pass left Xen consistent; "
      "1 running, its last pass left differences; 2 running, its last pass failed (or the "
      "status file is bad); 3 not running: the status file is stale; 4 not running, never "
      "ran since boot; 5 running, no pass finished yet." },
    { "run", pt_cmd_run,
      VIEW_OPTS | PT_OPT_DRY | PT_OPT_REQ | PT_OPT_MAX_LOST | PT_OPT_LOCK_FILE |
      PT_OPT_CONFIG | PT_OPT_STATUS_FILE | PT_OPT_SETTLE | PT_OPT_MAX_DELAY | PT_OPT_RESYNC,
      "the daemon (what systemd starts)",
      "The daemon: a full pass at start-up, after every settled batch of PCI uevents, on "
      "SIGHUP and every --resync-minutes; failed passes are retried with back-off. Each "
      "pass scans sysfs, reads Xen's registry, applies the plan under the lock (unless "
      "--dry-run), reads Xen again and writes the status file. Settings come from "
      SYSCONFDIR "/pcitopod.conf (see pcitopod.conf(5)); options override it. It refuses "
      "to start outside Xen's dom0 (no privcmd, a domU, not root) unless --xen-sim.\n"
      "Exit status: 0 after SIGTERM or SIGINT; 2 when it cannot start." },
    { NULL, NULL, 0, NULL, NULL },
};

/*
 * Writes text to f wrapped at WRAP_COLS, lines after the first indented by
 * indent; col is the column the first line starts at.  '\n' in text starts
 * a new paragraph (a blank line).
 */
#define WRAP_COLS 80
#define NBSP      '\1'
static void wrap(FILE *f, const char *text, int indent, int col)
{
    const char *w = text;

    while ( *w )
    {
        size_t len = strcspn(w, " \n");   /* NBSP (a '\1') keeps "[--opt ARG]" whole */

        if ( col > indent && col + 1 + (int)len > WRAP_COLS )
        {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        }
        else if ( col > indent )
        {
            fputc(' ', f);
            col++;
        }
        for ( size_t i = 0; i < len; i++ )
            fputc(w[i] == NBSP ? ' ' : w[i], f);
        col += (int)len;
        w += len;
        if ( *w == '\n' )
        {
            fprintf(f, "\n\n%*s", indent, "");
            col = indent;
        }
        while ( *w == ' ' || *w == '\n' )
            w++;
    }
    fputc('\n', f);
}

/* "-q, --quiet" or "    --name ARG" into buf (GNU's layout). */
static const char *opt_label(const struct opt_desc *d, char *buf, size_t len)
{
    if ( d->shortname )
        snprintf(buf, len, "-%c, --%s%s%s", d->shortname, d->name, d->arg ? " " : "",
                 d->arg ? d->arg : "");
    else
        snprintf(buf, len, "    --%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
    return buf;
}

static void usage_all(FILE *f)
{
    fprintf(f, "Usage: pcitopod COMMAND [OPTIONS]\n"
               "       pcitopod help [COMMAND]\n\n"
               "Keeps Xen's PCI registry consistent with dom0's PCI topology.\n\nCommands:\n");
    for ( const struct pt_command *c = pt_commands; c->name; c++ )
    {
        fprintf(f, "  %-9s ", c->name);
        wrap(f, c->summary, 12, 12);
    }
    fprintf(f, "\n");
    wrap(f, "'pcitopod help COMMAND' (or 'pcitopod COMMAND --help') lists a command's options "
            "and exit statuses. 'pcitopod --version' prints the version. See pcitopod(8).", 0, 0);
}

static void usage_one(const struct pt_command *c, FILE *f)
{
    char label[64], line[1024] = "";
    size_t used = 0;

    /* The synopsis: every option the command takes. */
    for ( const struct opt_desc *d = opt_descs; d->name; d++ )
        if ( d->bit & c->opts )
            used += (size_t)snprintf(line + used, sizeof(line) - used, "[%s%s%s%s] ",
                                     d->shortname ? "-" : "--",
                                     d->shortname ? (char[2]){ d->shortname, 0 } : d->name,
                                     d->arg ? "\1" : "", d->arg ? d->arg : "");
    fprintf(f, "Usage: pcitopod %s", c->name);
    wrap(f, line, 7, 15 + (int)strlen(c->name));
    fputc('\n', f);
    wrap(f, c->help, 0, 0);
    fprintf(f, "\nOptions:\n");
    for ( const struct opt_desc *d = opt_descs; d->name; d++ )
    {
        if ( d->bit && !(d->bit & c->opts) )
            continue;
        opt_label(d, label, sizeof(label));
        if ( strlen(label) > 22 )
        {
            fprintf(f, "  %s\n%*s", label, 26, "");
            wrap(f, d->help, 26, 26);
        }
        else
        {
            fprintf(f, "  %-22s  ", label);
            wrap(f, d->help, 26, 26);
        }
    }
    fprintf(f, "\nSee pcitopod(8).\n");
}

/* --max-lost-percent's value: a whole number from 0 to 100; -EINVAL with a message. */
static int parse_percent(const char *v, unsigned *out)
{
    if ( pt_parse_uint(v, 0, 100, out) )
        return 0;
    fprintf(stderr, "pcitopod: --max-lost-percent '%s': expected a whole number from 0 to 100\n", v);
    return -EINVAL;
}

static const struct pt_command *find_command(const char *name)
{
    for ( const struct pt_command *c = pt_commands; c->name; c++ )
        if ( !strcmp(c->name, name) )
            return c;
    return NULL;
}

/* The options given that cmd does not take: an error naming the command and what it takes. */
static int refuse_options(const struct pt_command *cmd, unsigned given)
{
    unsigned extra = given & ~cmd->opts;

    if ( !extra )
        return 0;
    if ( cmd->run == pt_cmd_run && (extra & PT_OPT_FORCE) )
    {
        fprintf(stderr, "pcitopod run: --force does not apply to this command: the daemon never forces (raise "
                        "max_lost_percent in pcitopod.conf, or use 'pcitopod apply --force')\n");
        return -EINVAL;
    }
    for ( const struct opt_desc *d = opt_descs; d->name; d++ )
        if ( d->bit & extra )
        {
            fprintf(stderr, "pcitopod %s: --%s does not apply to this command; it takes:", cmd->name,
                    d->name);
            for ( const struct opt_desc *t = opt_descs; t->name; t++ )
                if ( t->bit & cmd->opts )
                    fprintf(stderr, " %s%s", t->shortname ? "-" : "--",
                            t->shortname ? (char[2]){ t->shortname, 0 } : t->name);
            fprintf(stderr, ". See 'pcitopod help %s'.\n", cmd->name);
            break;
        }
    return -EINVAL;
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
    const char *max_lost = NULL;
    char bad[160] = "";
    unsigned given = 0;
    bool help = false, version = false;
    int c;

    /* Our own messages: "pcitopod: ...", never argv[0]'s full path. */
    opterr = 0;
    while ( (c = getopt_long(argc, argv, ":qvhV", longopts, NULL)) != -1 )
    {
        switch ( c )
        {
        case OPT_SYSFS:  o.sysfs_root = optarg; given |= PT_OPT_SYSFS; break;
        case OPT_SIM:    o.xen_sim = optarg; given |= PT_OPT_SIM; break;
        case OPT_JSON:   o.json = true; given |= PT_OPT_JSON; break;
        case OPT_DRY:    o.dry_run = true; given |= PT_OPT_DRY; break;
        case OPT_REQ:    o.policy.requarantine = true; given |= PT_OPT_REQ; break;
        case OPT_CONFIG: o.config = optarg; given |= PT_OPT_CONFIG; break;
        case OPT_STATUS_FILE: o.status_file = optarg; given |= PT_OPT_STATUS_FILE; break;
        case OPT_SETTLE: o.settle_ms = optarg; given |= PT_OPT_SETTLE; break;
        case OPT_MAX_DELAY: o.max_delay_ms = optarg; given |= PT_OPT_MAX_DELAY; break;
        case OPT_RESYNC: o.resync_minutes = optarg; given |= PT_OPT_RESYNC; break;
        case OPT_LOCK_FILE: o.lock_file = optarg; given |= PT_OPT_LOCK_FILE; break;
        case OPT_LOCK_TIMEOUT: o.lock_timeout = optarg; given |= PT_OPT_LOCK_TIMEOUT; break;
        case OPT_SIM_FAIL: o.sim_fail_op = optarg; given |= PT_OPT_SIM_FAIL; break;
        case OPT_FORCE:  o.force = true; given |= PT_OPT_FORCE; break;
        case OPT_MAX_LOST: max_lost = optarg; given |= PT_OPT_MAX_LOST; break;
        case 'q':        o.quiet = true; given |= PT_OPT_QUIET; break;
        case 'v':        o.verbose++; given |= PT_OPT_VERBOSE; break;
        case 'h':        help = true; break;
        case 'V':        version = true; break;
        case ':':
            if ( !bad[0] )
                snprintf(bad, sizeof(bad), "option '%s' needs an argument",
                         optopt > 0 && optopt < 256 ? (char[3]){ '-', (char)optopt, 0 }
                                                    : argv[optind - 1]);
            break;
        default:
            if ( !bad[0] )
            {
                if ( optopt > 0 && optopt < 256 )
                    snprintf(bad, sizeof(bad), "unknown option '-%c'", optopt);
                else
                    snprintf(bad, sizeof(bad), "unknown option '%s'", argv[optind - 1]);
            }
            break;
        }
    }
    if ( optind < argc && !strcmp(argv[optind], "help") && !bad[0] && !given )
    {
        /* pcitopod help [COMMAND] */
        if ( optind + 1 >= argc )
        {
            usage_all(stdout);
            return 0;
        }
        cmd = find_command(argv[optind + 1]);
        if ( !cmd || optind + 2 < argc )
        {
            fprintf(stderr, "pcitopod help: %s '%s'. Try 'pcitopod help'.\n",
                    cmd ? "unexpected argument" : "unknown command",
                    argv[optind + (cmd ? 2 : 1)]);
            return PT_EXIT_ERROR;
        }
        usage_one(cmd, stdout);
        return 0;
    }
    if ( optind < argc )
    {
        cmd = find_command(argv[optind]);
        if ( !cmd )
        {
            fprintf(stderr, "pcitopod: unknown command '%s'. Try 'pcitopod help'.\n", argv[optind]);
            return PT_EXIT_ERROR;
        }
        if ( optind + 1 < argc )
        {
            fprintf(stderr, "pcitopod %s: unexpected argument '%s'. Try 'pcitopod help %s'.\n",
                    cmd->name, argv[optind + 1], cmd->name);
            return PT_EXIT_ERROR;
        }
    }
    if ( bad[0] )
    {
        if ( cmd )
            fprintf(stderr, "pcitopod %s: %s. Try 'pcitopod help %s'.\n", cmd->name, bad, cmd->name);
        else
            fprintf(stderr, "pcitopod: %s. Try 'pcitopod help'.\n", bad);
        return PT_EXIT_ERROR;
    }
    if ( version )
    {
        printf("pcitopod %s\n", PACKAGE_VERSION);
        return 0;
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
    if ( refuse_options(cmd, given) )
        return PT_EXIT_ERROR;
    if ( max_lost )
    {
        if ( parse_percent(max_lost, &o.max_lost_pct) < 0 )
            return PT_EXIT_ERROR;
        o.max_lost_given = true;
    }
    if ( o.quiet && (o.json || o.verbose) )
    {
        fprintf(stderr, "pcitopod %s: --quiet and %s contradict each other\n", cmd->name,
                o.json ? "--json" : "--verbose");
        return PT_EXIT_ERROR;
    }
    if ( o.sim_fail_op && !o.xen_sim )
    {
        fprintf(stderr, "pcitopod %s: --sim-fail-op is a testing option of the simulator: it needs --xen-sim FILE\n",
                cmd->name);
        return PT_EXIT_ERROR;
    }
    return cmd->run(&o);
}
