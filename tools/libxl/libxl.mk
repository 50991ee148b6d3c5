# libxl.mk - the libxl extension (issue #6): its core piece (affects.c: the
# per-device verdict and the drift guard's identity store) and the unit test
# that runs without Xen.  libxl_pci_topo.c itself is built into libxenlight
# by patches/xen-4.17/0007-* through scripts/xen-src-build.
libpcitopo_a_SOURCES += tools/libpcitopo/affects.h tools/libpcitopo/affects.c \
	tools/libpcitopo/lock_shared.c

check_PROGRAMS += tests/test_libxl_logic
tests_test_libxl_logic_SOURCES = tests/test_libxl_logic.c
tests_test_libxl_logic_CFLAGS = $(TEST_CFLAGS)
tests_test_libxl_logic_LDADD = $(TEST_LIBS)
TESTS += tests/test_libxl_logic

# The XEN_SYSCTL_pci_topology reader shared by libxl and the daemon's Xen
# backend: built here too, so that it compiles warning-free against the
# installed Xen headers (and the daemon can link it).
if HAVE_XEN
noinst_LIBRARIES += libptxen.a
libptxen_a_SOURCES = tools/libxl/pt_xen_sysctl.c tools/libxl/pt_xen_sysctl.h
libptxen_a_CFLAGS = $(AM_CFLAGS) $(XEN_CFLAGS)
libptxen_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/pcitopod

# The reader against a fake transport (tests/fake_xc.c stands in for -lxenctrl).
check_PROGRAMS += tests/test_sysctl_reader
tests_test_sysctl_reader_SOURCES = tests/test_sysctl_reader.c tests/fake_xc.c tests/fake_xc.h
tests_test_sysctl_reader_CFLAGS = $(TEST_CFLAGS) $(XEN_CFLAGS)
tests_test_sysctl_reader_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools/libxl -I$(top_srcdir)/tools/pcitopod
tests_test_sysctl_reader_LDADD = libptxen.a $(TEST_LIBS)
TESTS += tests/test_sysctl_reader

# The core objects the libxl patch links into libxenlight define every pt_
# symbol they use (a shared library would link anyway, and xl fail at run time).
TESTS += tests/libxl_objs.test
endif
EXTRA_DIST += tests/libxl_objs.test scripts/xen-src-build patches/xen-4.17
EXTRA_DIST += tests/test_sysctl_reader.c tests/fake_xc.c tests/fake_xc.h

EXTRA_DIST += tools/libxl/libxl_pci_topo.c tools/libxl/libxl_pci_topo.h \
	tools/libxl/pt_xen_sysctl.c tools/libxl/pt_xen_sysctl.h \
	tests/xen/libxl-check/run tests/xen/libxl-check/scenario.conf \
	tests/xen/libxl-drift/run tests/xen/libxl-drift/scenario.conf
