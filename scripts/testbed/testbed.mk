# testbed.mk - make check-xen (the real-Xen scenarios), included by Makefile.am.
#
# `make check-xen` boots Xen 4.17 (Debian's, and Debian's source with
# patches/xen-4.17 applied) with a Debian 6.1 dom0 under QEMU for every
# scenario in tests/xen/, with this tree installed into the image.  See
# scripts/testbed/check-xen for the knobs (PCITOPOD_XEN_FLAVOURS,
# PCITOPOD_TESTBED_JOBS, PCITOPOD_CACHE, PCITOPOD_TESTBED_LOGS).
# `make check-xen` runs each scenario on the flavours CI runs it on
# (CI_FLAVOURS in its scenario.conf); `make check-xen-full` runs the whole
# matrix, every scenario on every flavour it supports.

TESTBED_DIST_FILES = \
	scripts/testbed/lib.sh \
	scripts/testbed/build-image \
	scripts/testbed/init \
	scripts/testbed/guest-init \
	scripts/testbed/runner.py \
	scripts/testbed/run-scenario \
	scripts/testbed/stage-project \
	scripts/testbed/stage-xen-tools \
	scripts/testbed/check-xen \
	scripts/testbed/check-path \
	scripts/testbed/build-rootfs-systemd \
	scripts/testbed/systemd-init \
	scripts/testbed/systemd-scenario \
	scripts/testbed/systemd-scenario.service \
	scripts/demo

XEN_SCENARIOS = boot assign-busses deep-assign-busses deep-nested-bridges remove-rescan hotplug sriov passthrough \
	null-remove-panic msi-alias-panic libxl-check libxl-drift daemon-boot daemon-hotplug \
	daemon-remove-rescan daemon-storm-kill

EXTRA_DIST += $(TESTBED_DIST_FILES) tests/xen/lib.sh \
	tests/xen/boot/scenario.conf tests/xen/boot/run \
	tests/xen/assign-busses/scenario.conf tests/xen/assign-busses/run \
	tests/xen/deep-assign-busses/scenario.conf tests/xen/deep-assign-busses/run \
	tests/xen/deep-nested-bridges/scenario.conf tests/xen/deep-nested-bridges/run \
	tests/xen/remove-rescan/scenario.conf tests/xen/remove-rescan/run \
	tests/xen/hotplug/scenario.conf tests/xen/hotplug/run tests/xen/hotplug/qmp \
	tests/xen/sriov/scenario.conf tests/xen/sriov/run \
	tests/xen/passthrough/scenario.conf tests/xen/passthrough/run \
	tests/xen/stock-courtesy/scenario.conf tests/xen/stock-courtesy/run \
	tests/xen/null-remove-panic/scenario.conf tests/xen/null-remove-panic/run \
	tests/xen/msi-alias-panic/scenario.conf tests/xen/msi-alias-panic/run \
	tests/xen/daemon-boot/modprobe.conf \
	tests/xen/daemon-boot/run \
	tests/xen/daemon-boot/scenario.conf \
	tests/xen/daemon-hotplug/qmp \
	tests/xen/daemon-hotplug/run \
	tests/xen/daemon-hotplug/scenario.conf \
	tests/xen/daemon-remove-rescan/run \
	tests/xen/daemon-remove-rescan/scenario.conf \
	tests/xen/daemon-storm-kill/qmp \
	tests/xen/daemon-storm-kill/run \
	tests/xen/daemon-storm-kill/scenario.conf

# The repair is required: every scenario must be repaired (or what is left
# reported blocked), not only shown inconsistent.
check-xen: all
	PCITOPOD_BUILDDIR='$(abs_top_builddir)' PCITOPOD_TESTBED_REPAIR=required \
	  $(SHELL) '$(srcdir)/scripts/testbed/check-xen' $(XEN_SCENARIOS)

check-xen-full: all
	PCITOPOD_BUILDDIR='$(abs_top_builddir)' PCITOPOD_TESTBED_REPAIR=required \
	  $(SHELL) '$(srcdir)/scripts/testbed/check-xen' --full $(XEN_SCENARIOS)

.PHONY: check-xen check-xen-full

# The core's scanner on sysfs trees captured from the testbed's dom0
# (scripts/testbed/run-scenario NAME --capture writes tests/fixtures/sysfs-*).
check_PROGRAMS += tests/xen/test_captures
tests_xen_test_captures_SOURCES = tests/xen/test_captures.c
tests_xen_test_captures_CFLAGS = $(TEST_CFLAGS)
tests_xen_test_captures_LDADD = $(TEST_LIBS)
TESTS += tests/xen/test_captures
# tests/fixtures stays out of the tarball until AM_INIT_AUTOMAKE has
# tar-ustar (or tar-pax): sysfs paths exceed the v7 format's 99 characters.
# test_captures skips where the directory is absent (a release tarball).
