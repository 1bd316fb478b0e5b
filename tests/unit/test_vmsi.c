/*
 * Host tests of MSI and MSI-X virtualisation (vmm/dev/vmsi.c): what the
 * guest writes stays virtual, the device holds only the remappable
 * messages the IOMMU layer hands out, each remapping entry is filled from
 * a checked guest message or blocked, refused vectors stay quiet at the
 * device, masked half-written MSI-X entries are not reported, the table
 * pages are trapped and the rest of them forwarded, and a reset blocks it
 * all. The function's configuration space, its MSI-X BAR and the
 * remapping calls are fakes here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/iommu/iommu.h"
#include "kernel/errno.h"
#include "drivers/pci.h"
#include "tests/unit/host_stubs.h"
#include "vmm/dev/vmsi.h"

/* ---- the fake function: MSI at 0x50 (64-bit, 4 vectors, PVM as asked),
 * MSI-X at 0x70 (8 entries, table at BAR0 + 0x2000, PBA at BAR0 + 0x3000) */

#define CAP_MSI   0x50
#define CAP_MSIX  0x70
#define BAR_PHYS  0xfe000000ull
#define BAR_SIZE  0x4000u
#define TABLE_OFF 0x2000u
#define PBA_OFF   0x3000u
#define NENT      8u

static struct pci_func fn;
static uint8_t cfg[4096];
static uint32_t bar[BAR_SIZE / 4] __attribute__((aligned(4096)));

static uint32_t get(unsigned off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)cfg[off + i] << (8 * i);
	return v;
}

uint32_t pci_read(const struct pci_func *f, unsigned off, unsigned size)
{
	assert_ptr_equal(f, &fn);
	assert_int_equal(off & (size - 1), 0);
	return get(off, size);
}

void pci_write(const struct pci_func *f, unsigned off, unsigned size, uint32_t val)
{
	assert_ptr_equal(f, &fn);
	assert_int_equal(off & (size - 1), 0);
	for (unsigned i = 0; i < size; i++)
		cfg[off + i] = (uint8_t)(val >> (8 * i));
}

/* ---- the fake remapping layer -------------------------------------------- */

#define NIRQ 64
static struct {
	bool taken, present;
	struct iommu_irq irq;
	unsigned sets;
} irq[NIRQ];
static unsigned next_irq;

int iommu_irq_alloc(uint16_t seg, uint16_t rid, unsigned n)
{
	assert_int_equal(seg, fn.seg);
	assert_int_equal(rid, fn.rid);
	next_irq = (next_irq + n - 1) & ~(n - 1);
	assert_true(next_irq + n <= NIRQ);
	for (unsigned i = 0; i < n; i++)
		irq[next_irq + i].taken = true;
	next_irq += n;
	return (int)(next_irq - n);
}

void iommu_irq_free(uint16_t seg, uint16_t rid, unsigned index, unsigned n)
{
	(void)seg, (void)rid;
	for (unsigned i = index; i < index + n; i++)
		irq[i].taken = irq[i].present = false;
}

static uint32_t refuse_dest = ~0u;	/* a destination the fake unit cannot name */

int iommu_irq_set(uint16_t seg, uint16_t rid, unsigned index, const struct iommu_irq *i)
{
	assert_int_equal(rid, fn.rid);
	(void)seg;
	assert_true(index < NIRQ && irq[index].taken);
	if (i && i->dest == refuse_dest)
		return -EINVAL;	/* the entry is left as it was */
	irq[index].present = i != NULL;
	if (i)
		irq[index].irq = *i;
	irq[index].sets++;
	return 0;
}

/* The message for entry index: distinct per entry, as a unit's would be. */
#define HANDLE_MSG(i) (0xfee00018ull | (uint64_t)(i) << 5)
void iommu_irq_msi(uint16_t seg, uint16_t rid, unsigned index, struct iommu_msi *msg)
{
	(void)seg, (void)rid;
	*msg = (struct iommu_msi){ HANDLE_MSG(index), 0 };
}

/* ---- helpers ---------------------------------------------------------- */

static struct vmsi m;
static struct vmsix_entry ent[NENT];
static const uint32_t cpus[] = { 2, 3 };	/* the cores of the domain's APIC IDs 0 and 1 */

static void device(bool pvm)
{
	memset(cfg, 0, sizeof(cfg));
	memset(bar, 0, sizeof(bar));
	memset(irq, 0, sizeof(irq));
	next_irq = 0;
	memset(&fn, 0, sizeof(fn));
	fn.bus = 0;
	fn.devfn = 0x28;
	fn.rid = 0x28;
	fn.nbars = 6;
	fn.bar[0].base = BAR_PHYS;
	fn.bar[0].size = BAR_SIZE;
	fn.cap_msi = CAP_MSI;
	fn.cap_msix = CAP_MSIX;
	/* MSI: 64-bit, MMC 2 (4 vectors), PVM if asked */
	cfg[CAP_MSI] = 0x05;
	uint16_t ctl = (uint16_t)(1u << 7 | 2u << 1 | (pvm ? 1u << 8 : 0));
	cfg[CAP_MSI + 2] = (uint8_t)ctl;
	cfg[CAP_MSI + 3] = (uint8_t)(ctl >> 8);
	/* MSI-X: table size 8 (N-1 = 7), table and PBA in BAR0 */
	cfg[CAP_MSIX] = 0x11;
	cfg[CAP_MSIX + 2] = NENT - 1;
	cfg[CAP_MSIX + 4] = (uint8_t)TABLE_OFF;
	cfg[CAP_MSIX + 5] = (uint8_t)(TABLE_OFF >> 8);
	cfg[CAP_MSIX + 8] = (uint8_t)PBA_OFF;
	cfg[CAP_MSIX + 9] = (uint8_t)(PBA_OFF >> 8);
	for (unsigned i = 0; i < NENT; i++)
		bar[(TABLE_OFF + i * 16 + 12) / 4] = 1;		/* masked after reset */
	vmsi_init(&m, &fn, true, true, ent, cpus, 2, (intptr_t)bar - (intptr_t)BAR_PHYS);
	test_log_clear();
}

static int setup(void **state)
{
	(void)state;
	device(false);
	return 0;
}

static void cfgw(unsigned reg, uint32_t v, uint32_t lanes)
{
	vmsi_cfg_write(&m, reg, v, lanes);
}

static uint32_t dev_entry(unsigned i, unsigned w)
{
	return bar[(TABLE_OFF + i * 16 + w * 4) / 4];
}

static void table_write(unsigned i, unsigned w, uint32_t v)
{
	uint64_t val = v;
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + i * 16 + w * 4, 4, true, &val);
}

static uint32_t table_read(unsigned i, unsigned w)
{
	uint64_t val = 0;
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + i * 16 + w * 4, 4, false, &val);
	return (uint32_t)val;
}

/* ---- MSI ---------------------------------------------------------------- */

static void test_msi_program(void **state)
{
	(void)state;
	assert_true(vmsi_cfg_owns(&m, CAP_MSI + 4));
	assert_int_equal(vmsi_msi_len(&m), 0x0c + 4);		/* 64-bit, no masks */
	cfgw(CAP_MSI + 4, 0xfee01000, ~0u);			/* the domain's APIC ID 1: core 3 */
	cfgw(CAP_MSI + 8, 0, ~0u);
	cfgw(CAP_MSI + 0xc, 0x41, 0xffff);
	assert_int_equal(next_irq, 0);				/* nothing before enable */
	cfgw(CAP_MSI, 1u << 16, 0xffff0000u);			/* enable, one vector */

	assert_int_equal(next_irq, 4);				/* all it can ask for */
	assert_true(irq[0].present);
	assert_int_equal(irq[0].irq.dest, 3);
	assert_int_equal(irq[0].irq.vector, 0x41);
	assert_false(irq[0].irq.logical);
	assert_false(irq[1].present);
	/* the device has the handle's message and is on */
	assert_int_equal(get(CAP_MSI + 4, 4), (uint32_t)HANDLE_MSG(0));
	assert_int_equal(get(CAP_MSI + 0xc, 2), 0);
	assert_true(get(CAP_MSI + 2, 2) & 1);
	/* the guest reads back what it wrote */
	assert_int_equal(vmsi_cfg_read(&m, CAP_MSI + 4), 0xfee01000);
	assert_int_equal(vmsi_cfg_read(&m, CAP_MSI + 0xc) & 0xffff, 0x41);
	assert_int_equal(vmsi_cfg_read(&m, CAP_MSI) >> 16 & 1, 1);

	/* a destination the unit cannot take: the entry must not keep its old one */
	refuse_dest = 2;
	cfgw(CAP_MSI + 4, 0xfee00000, ~0u);
	assert_false(irq[0].present);
	assert_false(get(CAP_MSI + 2, 2) & 1);
	assert_true(test_log_has("message 0xfee00000/0x41 cannot be remapped by the IOMMU: blocked"));
	refuse_dest = ~0u;
	test_log_clear();

	/* Linux moves it: another CPU of the domain, another vector */
	cfgw(CAP_MSI + 4, 0xfee00000, ~0u);
	cfgw(CAP_MSI + 0xc, 0x52, 0xffff);
	assert_int_equal(irq[0].irq.dest, 2);
	assert_int_equal(irq[0].irq.vector, 0x52);
	assert_false(test_log_has("blocked"));

	/* off: entries blocked, the device off */
	cfgw(CAP_MSI, 0, 0xffff0000u);
	assert_false(irq[0].present);
	assert_false(get(CAP_MSI + 2, 2) & 1);
}

static void test_msi_multiple(void **state)
{
	(void)state;
	cfgw(CAP_MSI + 4, 0xfee00000, ~0u);
	cfgw(CAP_MSI + 0xc, 0x60, 0xffff);
	cfgw(CAP_MSI, (1u | 2u << 4) << 16, 0xffff0000u);	/* MME 2: 4 vectors */
	for (unsigned k = 0; k < 4; k++) {
		assert_true(irq[k].present);
		assert_int_equal(irq[k].irq.vector, 0x60 + k);
	}
	cfgw(CAP_MSI, (1u | 7u << 4) << 16, 0xffff0000u);	/* more than it has: 4 */
	assert_int_equal(vmsi_cfg_read(&m, CAP_MSI) >> 20 & 7, 2);
}

/* Each refused message: its line, its entry blocked, and the device kept
 * quiet (MSI off there without per-vector masks) while the guest reads
 * its own enable bit. */
static void test_msi_refused(void **state)
{
	static const struct {
		uint32_t addr, data;
		const char *why;
	} bad[] = {
		{ 0xfee07000, 0x41, "aims at a CPU that is not the domain's" },
		{ 0xfee00004, 0x41, "uses logical or extended destinations" },
		{ 0xfee00010, 0x41, "uses logical or extended destinations" },
		{ 0xfed00000, 0x41, "is not an interrupt message address" },
		{ 0xfee00000, 0x0f, "has a reserved vector" },
		{ 0xfee00000, 0x441, "is not a fixed or lowest-priority edge interrupt" },
		{ 0xfee00000, 0x8041, "is not a fixed or lowest-priority edge interrupt" },
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		device(false);
		cfgw(CAP_MSI + 4, bad[i].addr, ~0u);
		cfgw(CAP_MSI + 0xc, bad[i].data, 0xffff);
		cfgw(CAP_MSI, 1u << 16, 0xffff0000u);
		assert_false(irq[0].present);
		assert_false(get(CAP_MSI + 2, 2) & 1);		/* quiet at the device */
		assert_int_equal(vmsi_cfg_read(&m, CAP_MSI) >> 16 & 1, 1);
		assert_true(test_log_has(bad[i].why));
		assert_true(test_log_has("domain ?: device 00:05.0 MSI vector 0: message"));
	}
	/* corrected: on at the device */
	cfgw(CAP_MSI + 0xc, 0x41, 0xffff);
	assert_true(irq[0].present);
	assert_true(get(CAP_MSI + 2, 2) & 1);
	/* lowest priority is fine, with the redirection hint */
	cfgw(CAP_MSI + 0xc, 0x141, 0xffff);
	assert_true(irq[0].present && irq[0].irq.lowest);
}

/* A logical destination, once the domain's resolver is there: the first
 * vCPU it names (here: flat bit 1 is vCPU 1, core 3), as one CPU in the
 * remapping entry; one naming nobody is refused. */
static uint32_t fake_logical(const void *ctx, uint32_t dest)
{
	(void)ctx;
	return dest == 0x02 ? 1 : dest == 0x03 ? 0 : UINT32_MAX;
}

static void test_msi_logical(void **state)
{
	(void)state;
	m.logical = fake_logical;
	cfgw(CAP_MSI + 4, 0xfee02004, ~0u);			/* logical 0x02 */
	cfgw(CAP_MSI + 0xc, 0x41, 0xffff);
	cfgw(CAP_MSI, 1u << 16, 0xffff0000u);
	assert_true(irq[0].present);
	assert_int_equal(irq[0].irq.dest, 3);
	cfgw(CAP_MSI + 4, 0xfee03004, ~0u);			/* 0x03: vCPUs 0 and 1 */
	assert_int_equal(irq[0].irq.dest, 2);
	cfgw(CAP_MSI + 4, 0xfee04004, ~0u);			/* nobody */
	assert_false(irq[0].present);
	assert_true(test_log_has("message 0xfee04004/0x41 aims at a CPU that is not the domain's"));
	cfgw(CAP_MSI + 4, 0xfee02014, ~0u);			/* extended: still refused */
	assert_true(test_log_has("uses logical or extended destinations"));
	m.logical = NULL;
}

static void test_msi_masks(void **state)
{
	(void)state;
	device(true);
	assert_int_equal(vmsi_msi_len(&m), 0x0c + 12);
	cfgw(CAP_MSI + 0x10, 0x2, ~0u);				/* vector 1 masked */
	assert_int_equal(get(CAP_MSI + 0x10, 4), 0x2);
	cfgw(CAP_MSI + 4, 0xfee01000, ~0u);
	cfgw(CAP_MSI + 0xc, 0x70, 0xffff);
	cfgw(CAP_MSI, (1u | 1u << 4) << 16, 0xffff0000u);	/* 2 vectors */
	assert_true(irq[0].present && irq[1].present);
	/* a refused message: with per-vector masks, masked at the device */
	cfgw(CAP_MSI + 4, 0xfee09000, ~0u);
	assert_false(irq[0].present);
	assert_int_equal(get(CAP_MSI + 0x10, 4), 0x3);
	assert_true(get(CAP_MSI + 2, 2) & 1);
	assert_int_equal(vmsi_cfg_read(&m, CAP_MSI + 0x10), 0x2);	/* the guest's own */
	/* vector 1 was masked by the guest: only vector 0's refusal is said */
	assert_true(test_log_has("MSI vector 0: message 0xfee09000/0x70"));
	assert_false(test_log_has("MSI vector 1:"));
	cfgw(CAP_MSI + 4, 0xfee01000, ~0u);
	assert_int_equal(get(CAP_MSI + 0x10, 4), 0x2);
}

/* ---- MSI-X -------------------------------------------------------------- */

static void test_msix_entry(void **state)
{
	(void)state;
	assert_true(vmsi_msix_contains(&m, BAR_PHYS + TABLE_OFF));
	assert_true(vmsi_msix_contains(&m, BAR_PHYS + PBA_OFF + 0xff8));
	assert_false(vmsi_msix_contains(&m, BAR_PHYS + 0x1000));	/* registers: mapped */
	assert_false(vmsi_msix_contains(&m, BAR_PHYS + PBA_OFF + 0x1000));

	/* written while masked, address before data: checked but not said */
	table_write(1, 0, 0xfee00000);
	table_write(1, 1, 0);
	table_write(1, 2, 0x45);
	assert_false(test_log_has("blocked"));
	assert_int_equal(dev_entry(1, 3), 1);			/* still masked */
	unsigned e = (unsigned)ent[1].irte;
	assert_true(irq[e].present);
	assert_int_equal(irq[e].irq.vector, 0x45);
	/* the device entry holds the handle's message */
	assert_int_equal(dev_entry(1, 0), (uint32_t)HANDLE_MSG(e));
	assert_int_equal(dev_entry(1, 2), 0);
	/* the guest reads its own */
	assert_int_equal(table_read(1, 0), 0xfee00000);
	assert_int_equal(table_read(1, 2), 0x45);
	assert_int_equal(table_read(1, 3), 1);

	table_write(1, 3, 0);					/* unmask */
	assert_int_equal(dev_entry(1, 3), 0);
	/* moved while unmasked */
	table_write(1, 0, 0xfee01000);
	assert_int_equal(irq[e].irq.dest, 3);
	table_write(1, 3, 1);					/* masked again */
	assert_int_equal(dev_entry(1, 3), 1);
	assert_true(irq[e].present);
}

static void test_msix_refused(void **state)
{
	(void)state;
	table_write(0, 0, 0xfee05000);				/* APIC ID 5: not ours */
	table_write(0, 2, 0x41);
	assert_false(test_log_has("blocked"));			/* masked: not yet */
	table_write(0, 3, 0);					/* unmasked */
	assert_false(irq[ent[0].irte].present);
	assert_int_equal(dev_entry(0, 3), 1);			/* quiet at the device */
	assert_int_equal(table_read(0, 3), 0);			/* the guest's view */
	assert_true(test_log_has("MSI-X entry 0: message 0xfee05000/0x41 aims at a CPU that is not the domain's: blocked"));
	table_write(0, 0, 0xfee00000);				/* corrected */
	assert_true(irq[ent[0].irte].present);
	assert_int_equal(dev_entry(0, 3), 0);
}

static void test_msix_pba_and_forwarding(void **state)
{
	uint64_t v;

	(void)state;
	bar[PBA_OFF / 4] = 0x5;
	v = 0;
	vmsi_msix_access(&m, BAR_PHYS + PBA_OFF, 4, false, &v);
	assert_int_equal(v, 0x5);				/* read through */
	v = 0;
	vmsi_msix_access(&m, BAR_PHYS + PBA_OFF, 4, true, &v);
	assert_int_equal(bar[PBA_OFF / 4], 0x5);		/* writes dropped */
	/* past the table, in its page: forwarded, any size */
	v = 0xab;
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + NENT * 16 + 1, 1, true, &v);
	assert_int_equal(bar[(TABLE_OFF + NENT * 16) / 4], 0xab00);
	v = 0;
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + NENT * 16, 2, false, &v);
	assert_int_equal(v, 0xab00);
	/* 8 bytes at once: the two dwords of an entry */
	v = 0x00000000fee01000ull;
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + 2 * 16, 8, true, &v);
	assert_int_equal(table_read(2, 0), 0xfee01000);
	v = 0;
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + 2 * 16, 8, false, &v);
	assert_int_equal(v, 0xfee01000);
	/* misaligned: nothing written, all ones read */
	v = 0x1234;
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + 2, 4, true, &v);
	assert_int_equal(table_read(0, 0), 0);
	vmsi_msix_access(&m, BAR_PHYS + TABLE_OFF + 2, 4, false, &v);
	assert_int_equal(v, ~0ull);
}

static void test_msix_enable_and_reset(void **state)
{
	(void)state;
	cfgw(CAP_MSIX, (1u << 15 | 1u << 14) << 16, 0xffff0000u);	/* enable, function mask */
	assert_int_equal(get(CAP_MSIX + 2, 2) & 0xc000, 0xc000);
	table_write(3, 0, 0xfee00000);
	table_write(3, 2, 0x50);
	table_write(3, 3, 0);
	unsigned e = (unsigned)ent[3].irte;
	assert_true(irq[e].present);

	vmsi_reset(&m);
	assert_false(irq[e].present);
	assert_int_equal(dev_entry(3, 3), 1);
	assert_int_equal(get(CAP_MSIX + 2, 2) & 0xc000, 0);
	assert_int_equal(table_read(3, 0), 0);			/* forgotten */
	assert_int_equal(table_read(3, 3), 1);
	assert_true(irq[e].taken);				/* kept for a restart */
	vmsi_release(&m);
	assert_false(irq[e].taken);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_msi_program, setup),
		cmocka_unit_test_setup(test_msi_multiple, setup),
		cmocka_unit_test_setup(test_msi_refused, setup),
		cmocka_unit_test_setup(test_msi_logical, setup),
		cmocka_unit_test_setup(test_msi_masks, setup),
		cmocka_unit_test_setup(test_msix_entry, setup),
		cmocka_unit_test_setup(test_msix_refused, setup),
		cmocka_unit_test_setup(test_msix_pba_and_forwarding, setup),
		cmocka_unit_test_setup(test_msix_enable_and_reset, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
