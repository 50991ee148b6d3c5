# bench.mk - make bench: pcitopod check vs lspci on 1k/4k/16k-device trees,
# and the planner's op counts over renumbering scenarios (bench/ptbench.c).
# Not part of make check; takes a minute or two.
#
#   make bench                                   the full run
#   make bench BENCH_ARGS="--sizes 1000 --runs 3" a quick one
#
# lspci comes from Debian's pciutils (apt-get install pciutils).

EXTRA_PROGRAMS = bench/ptbench
bench_ptbench_SOURCES = bench/ptbench.c
bench_ptbench_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/tests
bench_ptbench_LDADD = libpttest.a $(CORE_LIBS) -lm

BENCH_ARGS =
LSPCI = lspci

.PHONY: bench
bench: pcitopod$(EXEEXT) bench/ptbench$(EXEEXT)
	@command -v $(LSPCI) >/dev/null 2>&1 || \
	    { echo "make bench: $(LSPCI) not found: install Debian's pciutils"; exit 1; }
	bench/ptbench$(EXEEXT) --pcitopod $(abs_top_builddir)/pcitopod$(EXEEXT) \
	    --lspci $(LSPCI) $(BENCH_ARGS)

# automake does not clean EXTRA_PROGRAMS by itself.
clean-bench:
	-rm -f bench/ptbench$(EXEEXT)
.PHONY: clean-bench

EXTRA_DIST += bench/README.md
