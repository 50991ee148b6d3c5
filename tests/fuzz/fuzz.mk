# tests/fuzz/fuzz.mk - libFuzzer harnesses for every parser (issue 11).
#
#   make fuzz [FUZZ_SECONDS=20] [FUZZ_RUNS=N] [FUZZ_TARGETS="cfg conf ..."]
#
# builds each harness with clang -fsanitize=fuzzer,address,undefined (the
# core's sources compiled again with coverage), runs it for FUZZ_SECONDS
# (or FUZZ_RUNS executions) from a copy of its seeds (tests/fuzz/corpus/NAME
# and, for some, tests/fixtures), prints per harness the executions and the
# crashes, and fails on any crash; the reproducers are kept in
# fuzz-build/artifacts-NAME/.  configure finds whether clang can
# (FUZZ_CC=...); without it `make fuzz` says so and fails.

FUZZ_SECONDS = 20
FUZZ_RUNS =
FUZZ_HARNESSES = cfg sysfs_attr xen_view sysctl uevent conf status idstore dmar
FUZZ_TARGETS = $(FUZZ_HARNESSES)
FUZZ_BUILD = fuzz-build
FUZZ_FLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir)/tools/libpcitopo -I$(top_srcdir)/tests \
	-I$(top_srcdir)/tools/libxl -I$(top_srcdir)/tools/pcitopod \
	-DSYSCONFDIR='"$(sysconfdir)"' -DRUNSTATEDIR='"/run"' $(YAJL_CFLAGS) $(XEN_CFLAGS)
FUZZ_CORE = util cfg topo sysfs_scan hw xen_view xen_view_json json_out diff report plan \
	sim affects lock_shared sched conf uevent status dmar iommu_scope run view_guard

EXTRA_DIST += tests/fuzz/fuzz.mk tests/fuzz/run-fuzz tests/fuzz/README.md \
	tests/fuzz/fuzz_cfg.c tests/fuzz/fuzz_sysfs_attr.c tests/fuzz/fuzz_xen_view.c \
	tests/fuzz/fuzz_sysctl.c tests/fuzz/fuzz_uevent.c tests/fuzz/fuzz_conf.c \
	tests/fuzz/fuzz_status.c tests/fuzz/fuzz_idstore.c tests/fuzz/fuzz_dmar.c tests/fuzz/corpus

# The sysctl reader links the fake transport instead of libxenctrl; the
# scanner's attribute parsing is reached by including sysfs_scan.c.  One
# shell loop (plain make, no pattern rules): each object is rebuilt when its
# source or pcitopo.h is newer.
fuzz-build-all:
	@if [ "$(HAVE_FUZZ)" != yes ]; then \
	    echo "make fuzz: $(FUZZ_CC) cannot build libFuzzer harnesses (-fsanitize=fuzzer);" \
	         "install clang and libclang-rt-dev (scripts/setup --deps), then ./configure again" >&2; \
	    exit 2; fi
	@set -e; mkdir -p $(FUZZ_BUILD)/core; \
	hdr=$(top_srcdir)/tools/libpcitopo/pcitopo.h; \
	cc() { src=$$1; obj=$$2; \
	    if [ ! -e "$$obj" ] || [ "$$src" -nt "$$obj" ] || [ "$$hdr" -nt "$$obj" ]; then \
	        echo "  FUZZCC   $$obj"; \
	        $(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_CPPFLAGS) -c "$$src" -o "$$obj"; fi; }; \
	objs=; \
	for m in $(FUZZ_CORE); do \
	    cc $(top_srcdir)/tools/libpcitopo/$$m.c $(FUZZ_BUILD)/core/$$m.o; \
	    objs="$$objs $(FUZZ_BUILD)/core/$$m.o"; done; \
	cc $(top_srcdir)/tests/fake_xc.c $(FUZZ_BUILD)/fake_xc.o; \
	cc $(top_srcdir)/tools/libxl/pt_xen_sysctl.c $(FUZZ_BUILD)/pt_xen_sysctl.o; \
	for h in $(FUZZ_TARGETS); do \
	    src=$(top_srcdir)/tests/fuzz/fuzz_$$h.c; bin=$(FUZZ_BUILD)/fuzz_$$h; \
	    use=$$objs; extra=; \
	    case $$h in \
	    sysfs_attr) use=$$(echo $$objs | sed 's|[^ ]*/sysfs_scan\.o||');; \
	    sysctl) extra="$(FUZZ_BUILD)/pt_xen_sysctl.o $(FUZZ_BUILD)/fake_xc.o";; \
	    esac; \
	    if [ ! -e "$$bin" ] || [ -n "$$(find $$src $$use $$extra -newer $$bin)" ]; then \
	        echo "  FUZZLD   $$bin"; \
	        $(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) $$src $$use $$extra \
	            $(YAJL_LIBS) -o $$bin; fi; \
	done

fuzz: fuzz-build-all
	@$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzz "$(FUZZ_BUILD)" "$(top_srcdir)" \
	    "$(FUZZ_SECONDS)" "$(FUZZ_RUNS)" $(FUZZ_TARGETS)

clean-local: clean-fuzz
clean-fuzz:
	rm -rf $(FUZZ_BUILD)

.PHONY: fuzz fuzz-build-all clean-fuzz
