# The ACPI DMAR table and the VT-d scope model (issue 12): core sources, tests, fixtures.
libpcitopo_a_SOURCES += \
	tools/libpcitopo/dmar.h \
	tools/libpcitopo/dmar.c \
	tools/libpcitopo/iommu_scope.h \
	tools/libpcitopo/iommu_scope.c
libpttest_a_SOURCES += tests/fx_dmar.c
check_PROGRAMS += tests/test_dmar tests/test_iommu
tests_test_dmar_SOURCES = tests/test_dmar.c
tests_test_dmar_CFLAGS = $(TEST_CFLAGS)
tests_test_dmar_LDADD = $(TEST_LIBS)
tests_test_iommu_SOURCES = tests/test_iommu.c
tests_test_iommu_CFLAGS = $(TEST_CFLAGS)
tests_test_iommu_LDADD = $(TEST_LIBS)
TESTS += tests/test_dmar tests/test_iommu
EXTRA_DIST += tests/dmar_fuzz_body.c
