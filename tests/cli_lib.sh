# cli_lib.sh - sourced by the tests/cli_*.test scripts: the helpers of
# cli.test (expect, has, hasnt), a generated sysfs tree ($T/sys, $R) and
# two simulator states: good.json (Xen matches the tree) and guest.json (a
# guest owns a stale BDF, nothing else differs).
set -u
B=${top_builddir:-.}
S=${top_srcdir:-.}
P="$B/pcitopod"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect STATUS DESCRIPTION CMD... : runs CMD, output in $T/out and $T/err
expect() {
    want=$1; what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" = "$want" ]; then ok; else
        bad "$what: exit $got, wanted $want"; sed 's/^/  | /' "$T/out" "$T/err" >&2; fi
}
has() { if grep -q -- "$2" "$T/$1"; then ok; else bad "$1 lacks '$2'"; sed 's/^/  | /' "$T/$1" >&2; fi; }
hasnt() { if grep -q -- "$2" "$T/$1"; then bad "$1 has '$2'"; sed 's/^/  | /' "$T/$1" >&2; else ok; fi; }
# done_tests: the summary and the exit status.
done_tests() {
    echo "$pass passed, $fail failed"
    [ "$fail" = 0 ]
}

cat >"$T/tree.desc" <<'D'
root 0000:00
  00.0 host
  1c.0 rootport
    00.0 ep driver=e1000e
D
"$B/tests/mktree" "$T/tree.desc" "$T/sys" >/dev/null || { echo "mktree failed"; exit 1; }
R="--sysfs-root $T/sys"

cat >"$T/good.json" <<'J'
{ "format": "pcitopod-xen-view/1", "source": "sim", "hypervisor": "patched",
  "segments": [ { "segment": 0, "bus2bridge_known": true, "bus2bridge": [],
    "devices": [
      { "sbdf": "0000:00:00.0", "type": "host-bridge", "owner": 0 },
      { "sbdf": "0000:00:1c.0", "type": "pcie-port", "sec_bus": 1, "sub_bus": 1, "owner": 0 },
      { "sbdf": "0000:01:00.0", "type": "pcie-endpoint", "owner": 0 } ] } ] }
J
# A guest (domain 4) owns 0000:07:00.0, a BDF dom0 does not have.
sed 's/"owner": 0 } ] } ] }/"owner": 0 }, { "sbdf": "0000:07:00.0", "type": "pcie-endpoint", "owner": 4 } ] } ] }/' \
    "$T/good.json" >"$T/guest.json"
grep -q 07:00.0 "$T/guest.json" || { echo "guest.json not made"; exit 1; }
