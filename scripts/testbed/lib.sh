# lib.sh - shared helpers for the testbed scripts (sourced, not run).
#
# The cache lives outside the source tree: ${PCITOPOD_CACHE:-/var/cache/pcitopod}.
# Every cached artefact sits in a directory named by a key made of the Debian
# package versions it was built from and a hash of the scripts that built it,
# so a new package version or an edited script rebuilds it, and nothing else.

TESTBED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_SRCDIR=$(cd "$TESTBED_DIR/../.." && pwd)
CACHE=${PCITOPOD_CACHE:-/var/cache/pcitopod}

# The Debian packages the base image is made of.  The kernel is whatever
# linux-image-amd64 points at (a 6.1 kernel on bookworm).
XEN_HV_PKG=xen-hypervisor-4.17-amd64
XEN_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
libxenmisc4.17 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1
libxengnttab1 libxenhypfs1 libxenstore4 libxentoolcore1 libxentoollog1 libyajl2
busybox-static"

tb_log()
{
    echo "testbed: $*" >&2
}

tb_die()
{
    echo "testbed: error: $*" >&2
    exit 1
}

# Prints the package the Debian kernel meta-package depends on.
tb_kernel_pkg()
{
    local k
    k=$(apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
    [ -n "$k" ] || k=$(cd /boot 2>/dev/null && ls vmlinuz-*-amd64 2>/dev/null |
                       sed 's/^vmlinuz-/linux-image-/' | tail -n1)
    [ -n "$k" ] || tb_die "cannot find the Debian kernel package (apt-cache depends linux-image-amd64 failed; run apt-get update)"
    echo "$k"
}

# Prints "pkg=version" for each package name given, using apt's candidate
# (one apt-cache call: it costs about a second each).
tb_pkg_versions()
{
    local out p try missing
    # Retried: an apt-get update running elsewhere swaps the lists under us.
    for try in 1 2 3 4 5; do
        out=$(apt-cache policy "$@" 2>/dev/null |
            awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1); sub(/:amd64$/, "", p) }
                 /^  Candidate:/ && $2 != "(none)" { print p "=" $2 }')
        missing=
        for p in "$@"; do
            # (a pattern match, not "| grep -q": under pipefail grep -q's
            # early exit can make the writer's SIGPIPE fail the pipeline)
            case $'\n'"$out" in *$'\n'"$p="*) ;; *) missing="$missing $p" ;; esac
        done
        [ -n "$missing" ] || break
        sleep 3
    done
    [ -z "$missing" ] ||
        tb_die "no candidate version in apt for$missing (run apt-get update)"
    echo "$out"
}

# Hash of the given files' contents (short).
tb_hash_files()
{
    cat "$@" | sha256sum | cut -c1-16
}

# tb_wait_lock FILE: serialise builds of one cache entry between parallel runs.
tb_lock()
{
    mkdir -p "$CACHE"
    exec 9>"$CACHE/.lock-$1"
    flock 9
}

tb_unlock()
{
    flock -u 9
    exec 9>&-
}

# tb_xen_tarball: the upstream Xen release tarball the stock and patched
# flavours are built from: $XEN_SRC_TARBALL, else the reference copy beside
# the checkout (../shared/xen/xen-RELEASE-4.17.7.tar.xz, where CI has it);
# prints nothing when there is neither (Debian's source package is used).
tb_xen_tarball()
{
    local t=$TOP_SRCDIR/../shared/xen/xen-RELEASE-4.17.7.tar.xz

    if [ -n "${XEN_SRC_TARBALL:-}" ]; then
        echo "$XEN_SRC_TARBALL"     # given: xen-src-build says if it is missing
    elif [ -f "$t" ]; then
        echo "$t"
    fi
}

# tb_xen_src_build stock|patched: build (or find in the cache) that flavour;
# prints its build directory.  Fails with xen-src-build's reason on stderr.
tb_xen_src_build()
{
    local t d args=()
    t=$(tb_xen_tarball)
    [ -z "$t" ] || args+=(--tarball "$t")
    [ "$1" = patched ] || args+=(--stock)
    d=$("$TOP_SRCDIR/scripts/xen-src-build" "${args[@]}" | tail -n1) || return 1
    [ -f "$d/xen" ] || { echo "xen-src-build printed no build directory with a hypervisor" >&2; return 1; }
    echo "$d"
}
