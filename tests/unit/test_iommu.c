/*
 * Tests for drivers/iommu/iommu.c: the choice of unit driver from the ACPI
 * tables alone, and how DMA faults are reported (rate limit, counters,
 * owner names). The unit drivers and the PCI table are fakes here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/iommu/iommu.h"
#include "drivers/pci.h"
#include "kernel/acpi.h"
#include "tests/unit/host_stubs.h"

/* ---- fakes ---------------------------------------------------------------------------------- */

static struct pci_func edu = { .seg = 0, .bus = 0, .devfn = PCI_DEVFN(5, 0),
			       .rid = PCI_RID(0, PCI_DEVFN(5, 0)) };

struct pci_func *pci_find_rid(uint16_t seg, uint16_t rid)
{
	return seg == edu.seg && rid == edu.rid ? &edu : NULL;
}

const char *pci_bdf_str(uint16_t seg, uint8_t bus, uint8_t devfn, char *buf)
{
	(void)seg;
	snprintf(buf, 13, "%02x:%02x.%u", bus, devfn >> 3, devfn & 7);
	return buf;
}

int pt_init(struct pgtable *pt, const struct pt_format *fmt, const struct pt_mem *mem)
{
	pt->fmt = fmt;
	pt->mem = mem;
	pt->root = 0x1000;
	return 0;
}

int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
	(void)pt; (void)va; (void)pa; (void)size; (void)flags;
	return 0;
}

static const char *inited;
static int init_result;

static int vtd_init(const struct acpi_info *a) { (void)a; inited = "VT-d"; return init_result; }
static int amdvi_init(const struct acpi_info *a) { (void)a; inited = "AMD-Vi"; return init_result; }
static void no_poll(void) {}

const struct iommu_ops vtd_ops = { .name = "VT-d", .init = vtd_init, .poll_faults = no_poll };
const struct iommu_ops amdvi_ops = { .name = "AMD-Vi", .init = amdvi_init, .poll_faults = no_poll };

static struct acpi_info acpi;

static int setup(void **state)
{
	(void)state;
	memset(&acpi, 0, sizeof(acpi));
	inited = NULL;
	init_result = 0;
	test_log_clear();
	return 0;
}

/* ---- the unit follows the tables ------------------------------------------------------------ */

static void test_dmar_means_vtd(void **state)
{
	(void)state;
	acpi.dmar.present = true;
	assert_int_equal(iommu_init(&acpi, 3), 0);
	assert_string_equal(inited, "VT-d");
	assert_true(iommu_present());
	assert_string_equal(iommu_name(), "VT-d");
	assert_true(test_log_has("iommu: VT-d on"));
}

static void test_ivrs_means_amdvi(void **state)
{
	(void)state;
	acpi.ivrs.present = true;
	assert_int_equal(iommu_init(&acpi, 3), 0);
	assert_string_equal(inited, "AMD-Vi");
	assert_string_equal(iommu_name(), "AMD-Vi");
}

static void test_failed_unit_is_none(void **state)
{
	(void)state;
	acpi.ivrs.present = true;
	init_result = -5;
	assert_int_equal(iommu_init(&acpi, 3), -5);
	assert_false(iommu_present());
	assert_string_equal(iommu_name(), "none");
	assert_true(test_log_has("no device can be passed through"));
}

/* ---- fault reports --------------------------------------------------------------------------- */

static void test_faults_counted_and_limited(void **state)
{
	(void)state;
	uint64_t counter = 0;
	edu.owner = "evil";
	edu.dma_faults = &counter;
	for (unsigned i = 0; i < 20; i++)
		iommu_report_fault(0, edu.rid, 0x10800000 + i * 4096, "write");
	assert_int_equal(counter, 20);
	assert_true(test_log_has("iommu: fault: device 00:05.0 (evil) write at 0x10800000 blocked"));
	assert_true(test_log_has("iommu: fault: device 00:05.0 (evil) write at 0x10807000 blocked"));
	/* the ninth on: counted, not printed; a count at 16 */
	assert_false(test_log_has("at 0x10808000 blocked"));
	assert_true(test_log_has("iommu: fault: device 00:05.0 (evil): 16 faults so far, all blocked"));
	edu.owner = NULL;
	edu.dma_faults = NULL;
}

static void test_fault_from_unknown_rid(void **state)
{
	(void)state;
	iommu_report_fault(0, PCI_RID(3, PCI_DEVFN(0, 1)), 0x2000, "read");
	assert_true(test_log_has("iommu: fault: device 03:00.1 (no domain) read at 0x2000 blocked"));
}

static void test_fault_msi_is_nmi(void **state)
{
	(void)state;
	uint32_t addr, data;
	iommu_fault_msi(&addr, &data);
	assert_int_equal(addr, 0xfee00000u | 3u << 12);	/* the CPU iommu_init was given */
	assert_int_equal((data >> 8) & 7, 4);	/* delivery mode NMI */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_dmar_means_vtd, setup),
		cmocka_unit_test_setup(test_ivrs_means_amdvi, setup),
		cmocka_unit_test_setup(test_failed_unit_is_none, setup),
		cmocka_unit_test_setup(test_faults_counted_and_limited, setup),
		cmocka_unit_test_setup(test_fault_from_unknown_rid, setup),
		cmocka_unit_test_setup(test_fault_msi_is_nmi, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
