# staging.mk - build-test patches/xen-staging (the hypervisor series ported
# to upstream Xen staging) against a clone of upstream Xen:
#
#   make xen-staging-check XEN_GIT=/path/to/xen.git
#
# XEN_GIT is a git clone of upstream Xen containing the commit in
# patches/xen-staging/BASE (nothing is fetched).  Two hypervisor builds
# (x86_64 defconfig, then + XSM/flask), one at a time, -j$(XEN_STAGING_JOBS).
# Not part of `make check`, distcheck or CI.
XEN_STAGING_JOBS ?= 2
EXTRA_DIST += scripts/xen-staging-build patches/xen-staging/README.md \
	patches/xen-staging/BASE patches/xen-staging/series \
	patches/xen-staging/staging.mk \
	patches/xen-staging/0000-cover-letter.patch \
	patches/xen-staging/0001-pci-let-the-removal-of-an-owner-less-device-succeed.patch \
	patches/xen-staging/0002-pci-derive-bus2bridge-from-the-bridge-ranges-recorde.patch \
	patches/xen-staging/0003-sysctl-add-XEN_SYSCTL_pci_topology-to-read-the-PCI-d.patch \
	patches/xen-staging/0004-pci-refuse-to-remove-a-device-whose-MSI-MSI-X-interr.patch

.PHONY: xen-staging-check
xen-staging-check:
	@if test -z "$(XEN_GIT)"; then \
	  echo "xen-staging-check: set XEN_GIT=/path/to/a/clone/of/upstream/xen" >&2; exit 2; fi
	$(top_srcdir)/scripts/xen-staging-build --xen-git "$(XEN_GIT)" --jobs $(XEN_STAGING_JOBS)
