# bench.mk - make bench
