/*
 * fuzz_dmar.c - libFuzzer harness: pt_dmar_parse() on any bytes, then the
 * resolution, the acpi_find_matched_drhd_unit() rule and the reason text
 * on whatever parsed (tests/dmar_fuzz_body.c, which test_dmar also runs
 * over every truncation and byte change of its tables).
 *
 * Needs "dmar" in FUZZ_HARNESSES and "dmar iommu_scope" in FUZZ_CORE
 * (tests/fuzz/fuzz.mk).
 */
#include "../dmar_fuzz_body.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return pt_fuzz_dmar_one(data, size);
}
