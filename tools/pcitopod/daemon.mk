# daemon.mk - the daemon (pcitopod run), its core pieces and tests
libpcitopo_a_SOURCES += \
	tools/libpcitopo/daemon.h \
	tools/libpcitopo/sched.c \
	tools/libpcitopo/conf.c \
	tools/libpcitopo/uevent.c \
	tools/libpcitopo/status.c \
	tools/libpcitopo/stock_courtesy.c

check_PROGRAMS += tests/test_sched tests/test_conf tests/test_uevent tests/test_status tests/test_stock
tests_test_sched_SOURCES = tests/test_sched.c
tests_test_sched_CFLAGS = $(TEST_CFLAGS)
tests_test_sched_LDADD = $(TEST_LIBS)
tests_test_conf_SOURCES = tests/test_conf.c
tests_test_conf_CFLAGS = $(TEST_CFLAGS)
tests_test_conf_LDADD = $(TEST_LIBS)
tests_test_uevent_SOURCES = tests/test_uevent.c
tests_test_uevent_CFLAGS = $(TEST_CFLAGS)
tests_test_uevent_LDADD = $(TEST_LIBS)
tests_test_status_SOURCES = tests/test_status.c
tests_test_status_CFLAGS = $(TEST_CFLAGS) $(YAJL_CFLAGS)
tests_test_status_LDADD = $(TEST_LIBS)
tests_test_stock_SOURCES = tests/test_stock.c
tests_test_stock_CFLAGS = $(TEST_CFLAGS)
tests_test_stock_LDADD = $(TEST_LIBS)
TESTS += tests/test_sched tests/test_conf tests/test_uevent tests/test_status tests/test_stock

# The daemon's adapters.  pass.c is also what `pcitopod apply` runs.
pcitopod_SOURCES += tools/pcitopod/pass.h tools/pcitopod/pass.c
if HAVE_SYSTEMD
pcitopod_SOURCES += tools/pcitopod/daemon.c tools/pcitopod/sysfs_watch.c tools/pcitopod/journal.c
endif

# The systemd unit, with the installed path of the binary.
systemdsystemunit_DATA = scripts/pcitopod.service
scripts/pcitopod.service: $(top_srcdir)/scripts/pcitopod.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) scripts && sed -e 's|@sbindir[@]|$(sbindir)|g' $(top_srcdir)/scripts/pcitopod.service.in >$@.tmp && mv $@.tmp $@
CLEANFILES = scripts/pcitopod.service

dist_man_MANS += man/pcitopod.conf.5
TESTS += tests/daemon.test tests/daemon_stock.test
EXTRA_DIST += scripts/pcitopod.service.in tests/daemon.test tests/daemon_stock.test
