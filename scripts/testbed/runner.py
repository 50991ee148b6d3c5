#!/usr/bin/python3
"""runner.py - boot one testbed run under QEMU and judge it by console markers.

Called by scripts/testbed/run-scenario; not meant to be run by hand.

    runner.py --log-dir DIR --timeout SECS [--qmp-steps FILE] [--qmp-socket PATH]
              [--expect-panic] -- QEMU ARGV...

The serial console (Xen's com1, which carries dom0's hvc0) goes to
DIR/console.log through a file chardev (a file never blocks QEMU's UART, so
Xen never drops characters), and this program follows that file.  Markers it
acts on, anywhere in a line (Xen's own lines can interleave with dom0's):

    TESTBED-READY ...               dom0's tools are up
    TESTBED-QMP <step>              run the QMP commands of [step] in FILE
    TESTBED-FILE-BEGIN <name> <sha256>  base64 lines of a log file follow ...
    TESTBED-FILE-END <name>         ... until here; saved as DIR/<name>
    SCENARIO-PASS / SCENARIO-FAIL <reason> / SCENARIO-SKIP <reason>
    SCENARIO-EXPECT-PANIC <why>     a Xen panic from now on is the expected result
    TESTBED-DONE rc=N               the scenario script has finished

A Xen panic, a dom0 oops/panic, QEMU exiting early or the timeout end the run;
QEMU is always ended by its PID (QEMU 7.2 may segfault at power-off after a
hot-unplug, so its exit code is never used).  Exit: 0 pass, 1 fail, 99 the
scenario said SCENARIO-SKIP (it could not run here: check-xen counts that as
a failure, never as a pass or a skip).
"""

import argparse
import base64
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

PANIC_RE = re.compile(r"\(XEN\) Panic on CPU|\(XEN\) \*\*\*\* Panic|Kernel panic - not syncing"
                      r"|\(XEN\) Reboot in five seconds|\(XEN\) Manual reset required")
OOPS_RE = re.compile(r"BUG: unable to handle|Oops: |general protection fault|kernel BUG at")
XEN_LINE_RE = re.compile(r"\(XEN\) [^\n]*\n")


def log(msg):
    print("runner: %s" % msg, file=sys.stderr, flush=True)


class Qmp:
    """A minimal QMP client: negotiate capabilities, run commands, keep events."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.time() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []
        self._recv()                    # greeting
        self.command({"execute": "qmp_capabilities"})

    def _recv(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise OSError("QMP socket closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, cmd):
        self.sock.sendall(json.dumps(cmd).encode() + b"\n")
        while True:
            msg = self._recv()
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def load_steps(path):
    """Parses a QMP step file: '[name]' headers, one JSON command per line."""
    steps = {}
    if not path:
        return steps
    cur = None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^\[(\S+)\]$", line)
            if m:
                cur = steps.setdefault(m.group(1), [])
                continue
            if cur is None:
                raise ValueError("%s:%d: command outside a [step]" % (path, n))
            if line.startswith("sleep "):
                cur.append({"sleep": float(line.split()[1])})
            else:
                cur.append(json.loads(line))
    return steps


class Run:
    def __init__(self, args, qemu_argv):
        self.args = args
        self.qemu_argv = qemu_argv
        self.logdir = args.log_dir
        self.console_path = os.path.join(self.logdir, "console.log")
        # The socket lives where run-scenario says: a UNIX socket path must be
        # shorter than 108 bytes, and the log directory's may be longer.
        self.qmp_path = args.qmp_socket or os.path.join(self.logdir, "qmp.sock")
        self.steps = load_steps(args.qmp_steps)
        self.verdict = None             # "pass" | "fail" | "skip"
        self.reasons = []
        self.done_rc = None
        self.expect_panic = args.expect_panic
        self.panic = None
        self.panic_lines = 0
        self.oops = None
        self.ready_at = None
        self.file = None                # (name, sha, [lines]) while inside a file block
        self.qmp = None
        self.qmp_log = open(os.path.join(self.logdir, "qmp.log"), "w")

    def fail(self, reason):
        self.reasons.append(reason)
        self.verdict = "fail"

    def qmp_step(self, name):
        cmds = self.steps.get(name)
        if cmds is None:
            self.fail("dom0 asked for QMP step '%s', which the scenario does not define" % name)
            return
        try:
            if self.qmp is None:
                self.qmp = Qmp(self.qmp_path)
            for c in cmds:
                if "sleep" in c:
                    time.sleep(c["sleep"])
                    continue
                r = self.qmp.command(c)
                self.qmp_log.write("%.1f %s -> %s\n" % (time.time() - self.t0, json.dumps(c), json.dumps(r)))
                self.qmp_log.flush()
                if "error" in r:
                    self.fail("QMP step '%s': %s failed: %s" % (name, c.get("execute"), r["error"].get("desc")))
                    return
            for e in self.qmp.events:
                self.qmp_log.write("%.1f event %s\n" % (time.time() - self.t0, json.dumps(e)))
            self.qmp.events = []
            self.qmp_log.flush()
            log("QMP step '%s' done (%d commands)" % (name, len(cmds)))
        except (OSError, ValueError) as e:
            self.fail("QMP step '%s': %s" % (name, e))

    def file_end(self, name):
        fname, sha, lines = self.file
        self.file = None
        if fname != name:
            self.fail("console file block %s ended as %s" % (fname, name))
            return
        text = XEN_LINE_RE.sub("", "".join(lines))
        data_b64 = "".join(ch for ch in text if ch.isalnum() or ch in "+/=")
        try:
            data = base64.b64decode(data_b64)
        except ValueError as e:
            self.fail("console file %s: bad base64: %s" % (name, e))
            return
        got = hashlib.sha256(data).hexdigest()
        if sha and got != sha:
            self.fail("console file %s: sha256 %s, dom0 sent %s (characters lost on the console)"
                      % (name, got, sha))
            name = name + ".corrupt"
        safe = name.replace("/", "_")
        with open(os.path.join(self.logdir, safe), "wb") as f:
            f.write(data)

    def line(self, raw):
        """Handles one console line (with its newline)."""
        if self.file is not None:
            m = re.search(r"TESTBED-FILE-END (\S+)", raw)
            if m:
                # Anything before the marker on the same line is data.
                self.file[2].append(raw[:m.start()])
                self.file_end(m.group(1))
            else:
                self.file[2].append(raw)
            return
        m = re.search(r"TESTBED-FILE-BEGIN (\S+)(?: ([0-9a-f]{64}))?", raw)
        if m:
            self.file = (m.group(1), m.group(2), [])
            return
        m = re.search(r"TESTBED-QMP (\S+)", raw)
        if m:
            self.qmp_step(m.group(1))
            return
        if "TESTBED-READY" in raw and self.ready_at is None:
            self.ready_at = time.time() - self.t0
            log("dom0 ready after %.1f s" % self.ready_at)
        m = re.search(r"SCENARIO-EXPECT-PANIC", raw)
        if m:
            self.expect_panic = True
        m = re.search(r"SCENARIO-(PASS|FAIL|SKIP)\b ?(.*)", raw)
        if m:
            kind, why = m.group(1), m.group(2).strip()
            if kind == "FAIL":
                self.fail(why or "scenario failed")
            elif kind == "SKIP" and self.verdict is None:
                self.verdict = "skip"
                self.reasons.append(why)
            elif kind == "PASS" and self.verdict is None:
                self.verdict = "pass"
        m = re.search(r"TESTBED-DONE rc=(\d+)", raw)
        if m:
            self.done_rc = int(m.group(1))
        if self.panic is not None and self.panic_lines < 1:
            # The line after "Panic on CPU n:" says why ("Xen BUG at irq.c:1753").
            why = raw.replace("(XEN)", "").strip()
            if why and "****" not in why:
                self.panic += " " + why
                self.panic_lines += 1
        if PANIC_RE.search(raw) and self.panic is None:
            self.panic = raw.strip()
        if OOPS_RE.search(raw) and self.oops is None and "(XEN)" not in raw:
            self.oops = raw.strip()

    def kill_qemu(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass

    def run(self):
        open(self.console_path, "w").close()
        self.t0 = time.time()
        qemu_log = open(os.path.join(self.logdir, "qemu.log"), "w")
        qemu_log.write(" ".join(self.qemu_argv) + "\n\n")
        qemu_log.flush()
        self.proc = subprocess.Popen(self.qemu_argv, stdin=subprocess.DEVNULL,
                                     stdout=qemu_log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        with open(os.path.join(self.logdir, "qemu.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        ended = None
        panic_at = None
        try:
            con = open(self.console_path, "r", errors="replace", newline="\n")
            pending = ""
            while True:
                chunk = con.read()
                if chunk:
                    pending += chunk
                    while "\n" in pending:
                        ln, pending = pending.split("\n", 1)
                        self.line(ln + "\n")
                now = time.time() - self.t0
                if self.done_rc is not None:
                    ended = "done"
                    break
                if (self.panic or self.oops) and panic_at is None:
                    panic_at = now
                if panic_at is not None and now - panic_at > 3:
                    ended = "panic"     # 3 s to let the rest of the dump arrive
                    break
                if self.proc.poll() is not None:
                    time.sleep(0.2)
                    chunk = con.read()
                    for ln in chunk.splitlines(True):
                        self.line(ln)
                    ended = "done" if self.done_rc is not None else "qemu-exit"
                    break
                if now > self.args.timeout:
                    ended = "timeout"
                    break
                if not chunk:
                    time.sleep(0.05)
            # After TESTBED-DONE dom0 powers off.  Keep reading until QEMU has
            # exited (at most 10 s): a crash during the power-off (Xen BUG when
            # dom0 closes its event channels, say) fails the run too.
            if ended == "done":
                deadline = time.time() + 10
                while time.time() < deadline:
                    chunk = con.read()
                    if chunk:
                        pending += chunk
                        while "\n" in pending:
                            ln, pending = pending.split("\n", 1)
                            self.line(ln + "\n")
                    elif self.proc.poll() is not None:
                        break
                    else:
                        time.sleep(0.05)
                    if self.panic:
                        time.sleep(2)
                        for ln in con.read().splitlines(True):
                            self.line(ln)
                        break
        finally:
            self.kill_qemu()
            if self.qmp:
                self.qmp.close()
            self.qmp_log.close()
            try:
                os.unlink(self.qmp_path)
            except OSError:
                pass
        wall = time.time() - self.t0
        return self.judge(ended, wall)

    def judge(self, ended, wall):
        if self.panic:
            if self.expect_panic:
                log("Xen/dom0 panicked, as the scenario expected: %s" % self.panic)
                if self.verdict != "fail":
                    self.verdict = "pass"
            else:
                self.fail("panic: %s" % self.panic)
        elif self.expect_panic and self.verdict == "pass":
            pass                        # the scenario itself said the panic was absent and fine
        if self.oops and not self.panic:
            self.fail("dom0 oops: %s" % self.oops)
        if ended == "timeout":
            self.fail("timeout after %d s" % self.args.timeout)
        elif ended == "qemu-exit" and not self.panic:
            self.fail("QEMU exited before the scenario finished (see qemu.log)")
        elif ended == "done" and self.done_rc not in (0, 77) and self.verdict != "fail":
            self.fail("scenario script exited %d" % self.done_rc)
        if self.file is not None:
            self.fail("console file block %s never ended" % self.file[0])
        if self.verdict is None:
            self.fail("no SCENARIO-PASS marker")
        with open(os.path.join(self.logdir, "result"), "w") as f:
            f.write("%s %.1f %s\n" % (self.verdict, wall, "; ".join(self.reasons)))
        log("%s in %.1f s%s" % (self.verdict.upper(), wall,
                                (": " + "; ".join(self.reasons)) if self.reasons else ""))
        return {"pass": 0, "fail": 1, "skip": 99}[self.verdict]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log-dir", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--qmp-steps")
    ap.add_argument("--qmp-socket", help="QEMU's QMP socket (default: LOG_DIR/qmp.sock)")
    ap.add_argument("--expect-panic", action="store_true",
                    help="a panic anywhere in the run is the expected result")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    # make/CI may end us with SIGTERM: unwind so that QEMU is killed too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    qemu_argv = args.qemu
    if qemu_argv and qemu_argv[0] == "--":
        qemu_argv = qemu_argv[1:]
    if not qemu_argv:
        ap.error("no QEMU command line")
    try:
        run = Run(args, qemu_argv)
    except (OSError, ValueError) as e:
        log("cannot start: %s" % e)
        return 1
    return run.run()


if __name__ == "__main__":
    sys.exit(main())
