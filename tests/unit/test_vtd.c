/*
 * Host tests of the VT-d driver (drivers/iommu/vtd.c, vtd_tables.c):
 * the second-level format through the real page-table engine, the root and
 * context entry encodings, interrupt remapping (entries, messages, IOAPIC
 * redirection entries), and the driver's init / attach / detach / flush /
 * interrupt-entry / fault paths against a fake register file (vtd_read32 & co. are the fake
 * here) that models what the spec says a unit does with each command.
 *
 * "Physical" addresses are host addresses (the hypervisor identity-maps
 * RAM, and so does this test): pages come from a static arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "drivers/iommu/iommu.h"
#include "drivers/iommu/vtd_hw.h"
#include "drivers/pci.h"
#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "kernel/palloc.h"
#include "kernel/pgtable.h"
#include "tests/unit/host_stubs.h"

#define PAGE 4096ull
#define MIB (1024ull * 1024)
#define GIB (1024ull * MIB)

/* ---- page allocator stand-in -------------------------------------------------- */

#define ARENA_PAGES 1024u
static uint8_t arena[ARENA_PAGES * PAGE] __attribute__((aligned(4096)));
static unsigned arena_next;
static long arena_budget = -1;	/* pages left; < 0: unlimited */

uint64_t alloc_pages(uint64_t npages, uint64_t align, uint64_t limit)
{
	(void)align;
	(void)limit;
	if (arena_next + npages > ARENA_PAGES || (arena_budget >= 0 && (long)npages > arena_budget))
		return 0;
	if (arena_budget >= 0)
		arena_budget -= (long)npages;
	uint8_t *p = arena + arena_next * PAGE;
	arena_next += (unsigned)npages;
	memset(p, 0, npages * PAGE);
	return (uintptr_t)p;
}

uint64_t alloc_page(void) { return alloc_pages(1, PAGE, 0); }

/* ---- other kernel services ---------------------------------------------------- */

static unsigned paging_maps;
int paging_map(uintptr_t va, uint64_t pa, size_t size, unsigned flags)
{
	assert_int_equal(va, pa);
	assert_true(size >= PAGE);
	assert_int_equal(flags, PT_READ | PT_WRITE | PT_UC);
	paging_maps++;
	return 0;
}

/* A small TSC rate: the driver's 1 s timeout is ~1 ms of real time here. */
uint64_t tsc_hz(void) { return 3000000; }

#define FAULT_MSI_ADDR 0xfee00000u
#define FAULT_MSI_DATA 0x400u	/* delivery mode NMI */
void iommu_fault_msi(uint32_t *addr, uint32_t *data)
{
	*addr = FAULT_MSI_ADDR;
	*data = FAULT_MSI_DATA;
}

static struct {
	uint16_t seg, rid;
	uint64_t addr;
	char what[16];
} faults[8];
static unsigned nfaults;
void iommu_report_fault(uint16_t seg, uint16_t rid, uint64_t addr, const char *what)
{
	assert_true(nfaults < 8);
	faults[nfaults].seg = seg;
	faults[nfaults].rid = rid;
	faults[nfaults].addr = addr;
	snprintf(faults[nfaults].what, sizeof(faults[nfaults].what), "%s", what);
	nfaults++;
}

static struct {
	uint16_t seg, rid;
	char what[48];
} irq_faults[4];
static unsigned nirq_faults;
void iommu_report_irq_fault(uint16_t seg, uint16_t rid, const char *what)
{
	assert_true(nirq_faults < 4);
	irq_faults[nirq_faults].seg = seg;
	irq_faults[nirq_faults].rid = rid;
	snprintf(irq_faults[nirq_faults].what, sizeof(irq_faults[nirq_faults].what), "%s", what);
	nirq_faults++;
}

/* PCI: a root port at 00:1c.0 with buses 2..3 behind it; 00:02.0; 02:00.0. */
static const struct {
	uint8_t bus, devfn, secondary, subordinate;
} fake_pci[] = {
	{ 0, PCI_DEVFN(0x1c, 0), 2, 3 },
	{ 0, PCI_DEVFN(2, 0), 0, 0 },
	{ 0, PCI_DEVFN(5, 0), 0, 0 },
	{ 2, PCI_DEVFN(0, 0), 0, 0 },
};

uint32_t pci_read_at(uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off, unsigned size)
{
	uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	for (unsigned i = 0; i < sizeof(fake_pci) / sizeof(fake_pci[0]); i++) {
		if (seg || fake_pci[i].bus != bus || fake_pci[i].devfn != devfn)
			continue;
		switch (off) {
		case PCI_VENDOR_ID: return 0x8086;
		case PCI_SECONDARY_BUS: return fake_pci[i].secondary;
		case PCI_SUBORDINATE: return fake_pci[i].subordinate;
		default: return 0;
		}
	}
	return ones;
}

/* What kernel/acpi.c will provide (ACPI DMAR scope walk, VT-d spec 8.3.1). */
bool acpi_dmar_scope_resolve(const struct acpi_dmar_scope *scope, uint16_t segment,
			     int (*secondary_bus)(uint16_t seg, uint8_t bus, uint8_t devfn),
			     uint8_t *bus, uint8_t *devfn)
{
	uint8_t b = scope->start_bus;

	if (!scope->npath || scope->npath > ACPI_SCOPE_PATH)
		return false;
	for (unsigned i = 0; i + 1 < scope->npath; i++) {
		int s = secondary_bus(segment, b, PCI_DEVFN(scope->path[i].dev, scope->path[i].fn));
		if (s < 0)
			return false;
		b = (uint8_t)s;
	}
	*bus = b;
	*devfn = PCI_DEVFN(scope->path[scope->npath - 1].dev, scope->path[scope->npath - 1].fn);
	return true;
}

/* ---- the fake unit ------------------------------------------------------------------ */

#define FAKE_FRO  0x200u
#define FAKE_NFR  4u
#define FAKE_IRO  0xf0u

struct fake_unit {
	uint8_t r[4096] __attribute__((aligned(4096)));
	bool dead;		/* ignores every command */
	uint64_t latched_root;	/* RTADDR when SRTP was last done */
	uint64_t latched_irta;	/* IRTA when SIRTP was last done */
	unsigned gcmd_bad;	/* GCMD writes that changed more than one command */
	uint64_t ccmd[16];
	unsigned nccmd;
	uint64_t iotlb[16];
	unsigned niotlb;
	struct vtd_entry qi[32];
	unsigned nqi;
};

static struct fake_unit fu[2] __attribute__((aligned(4096)));

static struct fake_unit *fake_of(uintptr_t regs)
{
	for (unsigned i = 0; i < 2; i++)
		if (regs == (uintptr_t)fu[i].r)
			return &fu[i];
	fail_msg("register access to unknown unit %#lx", (unsigned long)regs);
	return NULL;
}

static uint32_t fr32(struct fake_unit *f, unsigned off)
{
	uint32_t v;
	memcpy(&v, f->r + off, 4);
	return v;
}

static uint64_t fr64(struct fake_unit *f, unsigned off)
{
	uint64_t v;
	memcpy(&v, f->r + off, 8);
	return v;
}

static void fw32(struct fake_unit *f, unsigned off, uint32_t v) { memcpy(f->r + off, &v, 4); }
static void fw64(struct fake_unit *f, unsigned off, uint64_t v) { memcpy(f->r + off, &v, 8); }

static void fake_setup(struct fake_unit *f, bool qi, bool coherent, unsigned sagaw)
{
	memset(f, 0, sizeof(*f));
	fw32(f, VTD_VER, 0x10);
	fw64(f, VTD_CAP, 2ull /* ND: 256 domains */ | (uint64_t)sagaw << 8 | 47ull << 16 |
				 (uint64_t)(FAKE_FRO / 16) << 24 | 3ull << 34 /* 2M, 1G */ |
				 (uint64_t)(FAKE_NFR - 1) << 40);
	fw64(f, VTD_ECAP, (coherent ? VTD_ECAP_C : 0) | (qi ? VTD_ECAP_QI : 0) | VTD_ECAP_IR |
				  (uint64_t)(FAKE_IRO / 16) << 8);
}

static void fake_qi_run(struct fake_unit *f)
{
	uint64_t base = fr64(f, VTD_IQA) & VTD_ADDR_4K;
	unsigned head = (unsigned)(fr64(f, VTD_IQH) >> 4), tail = (unsigned)(fr64(f, VTD_IQT) >> 4);

	while (head != tail) {
		struct vtd_entry *d = (struct vtd_entry *)(uintptr_t)(base + head * 16ull);
		assert_true(f->nqi < 32);
		f->qi[f->nqi++] = *d;
		if ((d->lo & 0xf) == 5 && (d->lo & (1u << 5)))
			*(uint32_t *)(uintptr_t)d->hi = (uint32_t)(d->lo >> 32);
		head = (head + 1) % VTD_IQ_ENTRIES;
	}
	fw64(f, VTD_IQH, (uint64_t)head << 4);
}

uint32_t vtd_read32(uintptr_t regs, unsigned off) { return fr32(fake_of(regs), off); }
uint64_t vtd_read64(uintptr_t regs, unsigned off) { return fr64(fake_of(regs), off); }

void vtd_write32(uintptr_t regs, unsigned off, uint32_t val)
{
	struct fake_unit *f = fake_of(regs);
	const uint32_t persist = VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI;
	const uint32_t oneshot = VTD_GCMD_SRTP | VTD_GCMD_WBF | VTD_GCMD_SIRTP;

	if (off == VTD_GCMD) {
		uint32_t sts = fr32(f, VTD_GSTS);
		uint32_t changed = ((sts ^ val) & persist) | (val & oneshot);
		if (changed & (changed - 1))
			f->gcmd_bad++;
		if (f->dead)
			return;
		sts = (sts & (VTD_GCMD_SRTP | VTD_GCMD_SIRTP)) | (val & persist);
		if (val & VTD_GCMD_SRTP) {
			f->latched_root = fr64(f, VTD_RTADDR);
			sts |= VTD_GCMD_SRTP;	/* RTPS */
		}
		if (val & VTD_GCMD_SIRTP) {
			f->latched_irta = fr64(f, VTD_IRTA);
			sts |= VTD_GCMD_SIRTP;	/* IRTPS */
		}
		fw32(f, VTD_GSTS, sts);
	} else if (off == VTD_FSTS) {
		fw32(f, off, fr32(f, off) & ~(val & VTD_FSTS_W1C));
	} else if (off >= FAKE_FRO && off < FAKE_FRO + FAKE_NFR * 16 && off % 16 == 12) {
		if (val & (1u << 31))
			fw32(f, off, fr32(f, off) & ~(1u << 31));
		uint32_t ppf = 0;
		for (unsigned i = 0; i < FAKE_NFR; i++)
			if (fr64(f, FAKE_FRO + i * 16 + 8) & VTD_FRCD_F)
				ppf = VTD_FSTS_PPF;
		fw32(f, VTD_FSTS, (fr32(f, VTD_FSTS) & ~VTD_FSTS_PPF) | ppf);
	} else {
		fw32(f, off, val);
	}
}

void vtd_write64(uintptr_t regs, unsigned off, uint64_t val)
{
	struct fake_unit *f = fake_of(regs);

	if (off == VTD_CCMD) {
		assert_true(f->nccmd < 16);
		f->ccmd[f->nccmd++] = val;
		if (!f->dead)
			val = (val & ~VTD_CCMD_ICC) | ((val >> 61) & 3) << 59;
	} else if (off == FAKE_IRO + VTD_IOTLB_REG_OFF) {
		assert_true(f->niotlb < 16);
		f->iotlb[f->niotlb++] = val;
		if (!f->dead)
			val = (val & ~VTD_IOTLB_IVT) | ((val >> 60) & 3) << 57;
	}
	fw64(f, off, val);
	if (off == VTD_IQT && !f->dead && (fr32(f, VTD_GSTS) & VTD_GCMD_QIE))
		fake_qi_run(f);
}

/* ---- helpers ------------------------------------------------------------------------ */

static struct acpi_info acpi;

static void machine(unsigned nunits)
{
	memset(&acpi, 0, sizeof(acpi));
	acpi.dmar.present = true;
	acpi.dmar.haw = 46;
	acpi.dmar.ndrhd = nunits;
	for (unsigned i = 0; i < nunits; i++)
		acpi.dmar.drhd[i].base = (uintptr_t)fu[i].r;
	/* the last unit takes everything else */
	acpi.dmar.drhd[nunits - 1].flags = ACPI_DRHD_INCLUDE_PCI_ALL;
	arena_next = 0;
	arena_budget = -1;
	nfaults = 0;
	nirq_faults = 0;
	paging_maps = 0;
	test_log_clear();
}

static int setup(void **state)
{
	(void)state;
	fake_setup(&fu[0], true, false, VTD_SAGAW_39 | VTD_SAGAW_48);
	fake_setup(&fu[1], true, false, VTD_SAGAW_39 | VTD_SAGAW_48);
	machine(1);
	return 0;
}

static const struct pci_func *func(uint8_t bus, uint8_t devfn)
{
	static struct pci_func f[4];
	static unsigned n;
	struct pci_func *p = &f[n++ % 4];

	memset(p, 0, sizeof(*p));
	p->bus = bus;
	p->devfn = devfn;
	p->rid = PCI_RID(bus, devfn);
	return p;
}

static struct vtd_entry *root_of(struct fake_unit *f)
{
	return (struct vtd_entry *)(uintptr_t)(f->latched_root & VTD_ADDR_4K);
}

static struct vtd_entry *ctx_of(struct fake_unit *f, uint16_t rid)
{
	struct vtd_entry *root = root_of(f);
	assert_true(root[rid >> 8].lo & VTD_ROOT_P);
	return (struct vtd_entry *)(uintptr_t)(root[rid >> 8].lo & VTD_ADDR_4K) + (rid & 0xff);
}

/* ---- encodings ------------------------------------------------------------------------ */

static void test_entries(void **state)
{
	(void)state;
	struct vtd_entry r = vtd_root_entry(0x12345000);
	assert_int_equal(r.lo, 0x12345001);
	assert_int_equal(r.hi, 0);

	struct vtd_entry c = vtd_context_entry(0xabcde000, vtd_agaw(4), 0x1234);
	assert_int_equal(c.lo, 0xabcde001);	/* P, FPD 0, TT 00 */
	assert_int_equal(c.hi, 0x2 | 0x1234ull << 8);
	assert_int_equal(vtd_context_entry(0x1000, vtd_agaw(3), 1).hi, 0x1 | 1ull << 8);

	assert_int_equal(vtd_pick_levels(VTD_SAGAW_39 | VTD_SAGAW_48), 4);
	assert_int_equal(vtd_pick_levels(VTD_SAGAW_39), 3);
	assert_int_equal(vtd_pick_levels(1u << 3), 0);	/* 5-level only */

	struct vtd_entry q = vtd_qi_context(VTD_INV_DEVICE, 7, 0x0028);
	assert_int_equal(q.lo, 0x1 | 3u << 4 | 7u << 16 | 0x28ull << 32);
	q = vtd_qi_iotlb(VTD_INV_DOMAIN, 7, true, false);
	assert_int_equal(q.lo, 0x2 | 2u << 4 | 1u << 7 | 7u << 16);
	q = vtd_qi_wait(0x5000, 9);
	assert_int_equal(q.lo, 0x5 | 1u << 5 | 1u << 6 | 9ull << 32);
	assert_int_equal(q.hi, 0x5000);
	assert_int_equal(vtd_qi_iec(true, 7, 3).lo, 0x4);
	q = vtd_qi_iec(false, 0x1234, 2);
	assert_int_equal(q.lo, 0x4 | 1u << 4 | 2u << 27 | 0x1234ull << 32);

	/* IRTE: P, DM, RH, TM, DLM 7:5, V 23:16, DST 63:32; SID, SVT 01 */
	struct vtd_entry e = vtd_irte(3, 0x41, false, false, false, false, 0x0028, false);
	assert_int_equal(e.lo, 0x1 | 0x41ull << 16 | (3ull << 8) << 32);	/* xAPIC: DST 15:8 */
	assert_int_equal(e.hi, 0x0028 | 1ull << 18);
	e = vtd_irte(0x1234, 0x80, true, true, true, false, 0xff00, true);
	assert_int_equal(e.lo, 0x1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 0x80ull << 16 |
			       0x1234ull << 32);
	e = vtd_irte(0, 0x99, false, false, true, true, 0xff00, true);	/* NMI: edge, no vector */
	assert_int_equal(e.lo, 0x1 | 4u << 5);

	uint64_t addr;
	uint32_t data = 1;
	vtd_irte_msi(5, &addr, &data);
	assert_int_equal(addr, 0xfee00000ull | 5u << 5 | 1u << 4 | 1u << 3);
	assert_int_equal(data, 0);
	vtd_irte_msi(0x8003, &addr, &data);	/* handle bit 15 in address bit 2 */
	assert_int_equal(addr, 0xfee00000ull | 3u << 5 | 1u << 4 | 1u << 3 | 1u << 2);
	assert_int_equal(vtd_irte_ioapic_rte(0x8005, 0x30, true),
			 0x30 | 1u << 11 | 1u << 15 | 1ull << 48 | 5ull << 49);
	assert_int_equal(vtd_irte_ioapic_rte(1, 0x31, false), 0x31 | 1ull << 48 | 1ull << 49);
}

/* A pt_mem over the arena, counting syncs. */
static unsigned syncs;
static uint64_t t_alloc(void *ctx) { (void)ctx; return alloc_page(); }
static void *t_virt(void *ctx, uint64_t pa) { (void)ctx; return (void *)(uintptr_t)pa; }
static void t_sync(void *ctx, const void *p, uint64_t len) { (void)ctx; (void)p; (void)len; syncs++; }
static const struct pt_mem tmem = { .alloc_page = t_alloc, .phys_to_virt = t_virt, .sync = t_sync };

static uint64_t entry_at(const struct pgtable *pt, uint64_t va, unsigned level)
{
	uint64_t table = pt->root;
	for (unsigned l = pt->fmt->levels; ; l--) {
		uint64_t e = ((uint64_t *)(uintptr_t)table)[(va >> (12 + 9 * (l - 1))) & 511];
		if (l == level)
			return e;
		assert_true(e & 3);
		assert_false(e & VTD_SL_PS);
		assert_int_equal(e & 0xfff, VTD_SL_R | VTD_SL_W);	/* tables: R|W, nothing else */
		table = e & VTD_ADDR_4K;
	}
}

static void test_format_4level(void **state)
{
	(void)state;
	struct pt_format fmt;
	struct pgtable pt;
	uint64_t pa;
	unsigned flags, level;

	vtd_sl_format_init(&fmt, 4, 3, 48);
	assert_int_equal(fmt.levels, 4);
	assert_int_equal(fmt.addr_mask, 0x0000fffffffff000ull);
	assert_int_equal(pt_init(&pt, &fmt, &tmem), 0);

	/* 4 KiB, 2 MiB and 1 GiB leaves */
	assert_int_equal(pt_map(&pt, 0x1000, 0x7000000000ull + 0x1000, PAGE, PT_READ), 0);
	assert_int_equal(pt_map(&pt, 0x200000, 0x40200000, 2 * MIB, PT_READ | PT_WRITE), 0);
	assert_int_equal(pt_map(&pt, 4 * GIB, 8 * GIB, GIB, PT_READ | PT_WRITE), 0);
	assert_true(syncs > 0);

	assert_int_equal(entry_at(&pt, 0x1000, 1), 0x7000001000ull | VTD_SL_R);
	assert_int_equal(entry_at(&pt, 0x200000, 2), 0x40200000ull | VTD_SL_R | VTD_SL_W | VTD_SL_PS);
	assert_int_equal(entry_at(&pt, 4 * GIB, 3), 8 * GIB | VTD_SL_R | VTD_SL_W | VTD_SL_PS);

	assert_true(pt_lookup(&pt, 4 * GIB + 0x1234000, &pa, &flags, &level));
	assert_int_equal(pa, 8 * GIB + 0x1234000);
	assert_int_equal(flags, PT_READ | PT_WRITE);
	assert_int_equal(level, 3);

	/* A split keeps the permissions; no execute, no memory type. */
	assert_int_equal(pt_unmap(&pt, 4 * GIB + 2 * MIB, PAGE), 0);
	assert_true(pt_lookup(&pt, 4 * GIB, &pa, &flags, &level));
	assert_int_equal(level, 2);
	assert_int_equal(flags, PT_READ | PT_WRITE);
	assert_false(pt_lookup(&pt, 4 * GIB + 2 * MIB, NULL, NULL, NULL));

	assert_int_equal(pt_map(&pt, 0x10000, 0x10000, PAGE, PT_READ | PT_EXEC), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x10000, 0x10000, PAGE, PT_READ | PT_UC), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x10000, 1ull << 48, PAGE, PT_READ), -EINVAL);	/* beyond MGAW */
	assert_int_equal(pt_map(&pt, 1ull << 48, 0, PAGE, PT_READ), -EINVAL);	/* beyond 4 levels */
	/* write-only is a VT-d permission */
	assert_int_equal(pt_map(&pt, 0x20000, 0x20000, PAGE, PT_WRITE), 0);
	assert_int_equal(entry_at(&pt, 0x20000, 1), 0x20000 | VTD_SL_W);
}

static void test_format_3level_small(void **state)
{
	(void)state;
	struct pt_format fmt;
	struct pgtable pt;
	unsigned level;

	vtd_sl_format_init(&fmt, 3, 1, 48);	/* SLLPS 0: 4 KiB leaves only */
	assert_int_equal(pt_init(&pt, &fmt, &tmem), 0);
	assert_int_equal(pt_map(&pt, 0, 0, 4 * MIB, PT_READ | PT_WRITE), 0);
	assert_true(pt_lookup(&pt, 3 * MIB, NULL, NULL, &level));
	assert_int_equal(level, 1);
	assert_int_equal(entry_at(&pt, 3 * MIB, 1), 3 * MIB | VTD_SL_R | VTD_SL_W);
	/* 39 bits of IOVA */
	assert_int_equal(pt_map(&pt, 1ull << 39, 0, PAGE, PT_READ), -EINVAL);
	assert_int_equal(pt_map(&pt, (1ull << 39) - PAGE, 0, PAGE, PT_READ), 0);
}

/* ---- init ------------------------------------------------------------------------------- */

static void check_started(struct fake_unit *f, bool qi)
{
	assert_true(fr32(f, VTD_GSTS) & VTD_GCMD_TE);
	assert_int_equal(!!(fr32(f, VTD_GSTS) & VTD_GCMD_QIE), qi);
	assert_int_equal(f->gcmd_bad, 0);
	assert_int_equal(fr32(f, VTD_FECTL), 0);	/* unmasked */
	assert_int_equal(fr32(f, VTD_FEDATA), FAULT_MSI_DATA);
	assert_int_equal(fr32(f, VTD_FEADDR), FAULT_MSI_ADDR);
	/* every bus has a context table, every context entry blocks */
	struct vtd_entry *root = root_of(f);
	assert_non_null(root);
	assert_int_equal(f->latched_root & 0xfff, 0);	/* legacy mode */
	for (unsigned bus = 0; bus < 256; bus++) {
		assert_int_equal(root[bus].lo & 0xfff, VTD_ROOT_P);
		assert_int_equal(root[bus].hi, 0);
		struct vtd_entry *ctx = (struct vtd_entry *)(uintptr_t)(root[bus].lo & VTD_ADDR_4K);
		for (unsigned d = 0; d < 256; d++)
			assert_true(ctx[d].lo == 0 && ctx[d].hi == 0);
	}
}

static void test_init_qi(void **state)
{
	(void)state;
	assert_int_equal(vtd_ops.init(&acpi), 0);
	check_started(&fu[0], true);
	/* global context-cache, then global IOTLB, then the wait; then the
	 * global interrupt entry cache for remapping, and its wait */
	assert_int_equal(fu[0].nqi, 5);
	assert_int_equal(fu[0].qi[0].lo & 0x3f, 0x1 | VTD_INV_GLOBAL << 4);
	assert_int_equal(fu[0].qi[1].lo & 0x3f, 0x2 | VTD_INV_GLOBAL << 4);
	assert_int_equal(fu[0].qi[2].lo & 0xf, 0x5);
	assert_int_equal(fu[0].qi[3].lo, 0x4);
	assert_int_equal(fu[0].qi[4].lo & 0xf, 0x5);
	assert_int_equal(fu[0].nccmd + fu[0].niotlb, 0);	/* no register invalidation with QI on */
	assert_int_equal(paging_maps, 1);	/* the fake's registers are above 4 GiB */
	assert_true(test_log_has("iommu: VT-d unit 0 at 0x"));
	assert_true(test_log_has("version 1.0, SAGAW 0x6, MGAW 48, QI yes, coherent no, IR yes, EIM no"));
	assert_true(test_log_has("4-level tables"));

	const struct pt_format *fmt = vtd_ops.pt_format();
	assert_non_null(fmt);
	assert_int_equal(fmt->levels, 4);
	assert_int_equal(fmt->max_leaf_level, 3);
	assert_int_equal(fmt->addr_mask, 0x00003ffffffff000ull);	/* DMAR HAW 46 < MGAW 48 */
	assert_non_null(vtd_ops.pt_mem()->sync);	/* ECAP.C = 0 */
}

static void test_init_registers(void **state)
{
	(void)state;
	fake_setup(&fu[0], false, true, VTD_SAGAW_39);
	assert_int_equal(vtd_ops.init(&acpi), 0);
	check_started(&fu[0], false);
	assert_int_equal(fu[0].nqi, 0);
	assert_int_equal(fu[0].nccmd, 1);
	assert_int_equal(fu[0].ccmd[0], VTD_CCMD_ICC | VTD_CCMD_GLOBAL);
	assert_int_equal(fu[0].niotlb, 1);
	assert_int_equal(fu[0].iotlb[0], VTD_IOTLB_IVT | VTD_IOTLB_GLOBAL);
	assert_int_equal(vtd_ops.pt_format()->levels, 3);
	assert_null(vtd_ops.pt_mem()->sync);	/* coherent */
}

/* The depth every unit supports: one unit without 4-level tables makes it 3. */
static void test_init_two_units(void **state)
{
	(void)state;
	fake_setup(&fu[0], true, true, VTD_SAGAW_39);
	machine(2);
	assert_int_equal(vtd_ops.init(&acpi), 0);
	check_started(&fu[0], true);
	check_started(&fu[1], true);
	assert_int_equal(fu[0].latched_root, fu[1].latched_root);	/* one segment, one root */
	assert_int_equal(vtd_ops.pt_format()->levels, 3);
	assert_true(test_log_has("2 units translating"));
}

static void test_init_dead_unit(void **state)
{
	(void)state;
	machine(2);
	fu[1].dead = true;
	assert_int_equal(vtd_ops.init(&acpi), -EIO);
	assert_true(test_log_has("VT-d unit 1 at 0x"));
	assert_true(test_log_has("timed out waiting for the root table pointer"));
	assert_true(test_log_has("translation left off on every unit"));
	/* unit 0 had been started: it is off again */
	assert_false(fr32(&fu[0], VTD_GSTS) & (VTD_GCMD_TE | VTD_GCMD_QIE));
	assert_false(fr32(&fu[1], VTD_GSTS) & VTD_GCMD_TE);
	assert_int_equal(fr32(&fu[0], VTD_FECTL), VTD_FECTL_IM);
	assert_null(vtd_ops.pt_format());
	assert_false(vtd_ops.covers(func(0, PCI_DEVFN(2, 0))));
	vtd_ops.poll_faults();	/* nothing to poll, no crash */
}

static void test_init_no_depth(void **state)
{
	(void)state;
	fake_setup(&fu[0], true, true, 1u << 3);	/* 5-level only */
	assert_int_equal(vtd_ops.init(&acpi), -ENOTSUP);
	assert_false(fr32(&fu[0], VTD_GSTS) & VTD_GCMD_TE);
}

static void test_init_absent(void **state)
{
	(void)state;
	memset(fu[0].r, 0xff, sizeof(fu[0].r));
	assert_int_equal(vtd_ops.init(&acpi), -ENODEV);
	assert_true(test_log_has("does not answer"));
}

static void test_init_out_of_memory(void **state)
{
	(void)state;
	arena_budget = 257;	/* the tables, but no queue */
	assert_int_equal(vtd_ops.init(&acpi), -ENOMEM);
	assert_false(fr32(&fu[0], VTD_GSTS) & VTD_GCMD_TE);
}

/* The firmware left translation on: the new root is set under it, and TE
 * is never turned off on the way. */
static void test_init_firmware_te(void **state)
{
	(void)state;
	fw32(&fu[0], VTD_GSTS, VTD_GCMD_TE);
	assert_int_equal(vtd_ops.init(&acpi), 0);
	check_started(&fu[0], true);
	assert_true(test_log_has("left translation on"));
}

/* ---- attach / detach / flush --------------------------------------------------------- */

static struct iommu_domain dom(uint16_t id)
{
	struct iommu_domain d = { .id = id };
	assert_int_equal(pt_init(&d.pt, vtd_ops.pt_format(), vtd_ops.pt_mem()), 0);
	return d;
}

static void test_attach_detach(void **state)
{
	(void)state;
	assert_int_equal(vtd_ops.init(&acpi), 0);
	struct iommu_domain d = dom(5), d2 = dom(6);
	const struct pci_func *f = func(0, PCI_DEVFN(5, 0));
	struct vtd_entry *e = ctx_of(&fu[0], f->rid);

	fu[0].nqi = 0;
	assert_int_equal(vtd_ops.attach(&d, f), 0);
	assert_int_equal(e->lo, d.pt.root | VTD_CTX_P);
	assert_int_equal(e->hi, 2 | 5u << 8);
	assert_int_equal(fu[0].nqi, 3);
	assert_int_equal(fu[0].qi[0].lo, vtd_qi_context(VTD_INV_DEVICE, 5, f->rid).lo);
	assert_int_equal(fu[0].qi[1].lo, vtd_qi_iotlb(VTD_INV_DOMAIN, 5, false, false).lo);

	/* to another domain: the old one is invalidated first */
	fu[0].nqi = 0;
	assert_int_equal(vtd_ops.attach(&d2, f), 0);
	assert_int_equal(e->hi, 2 | 6u << 8);
	assert_int_equal(fu[0].nqi, 6);
	assert_int_equal(fu[0].qi[0].lo, vtd_qi_context(VTD_INV_DEVICE, 5, f->rid).lo);
	assert_int_equal(fu[0].qi[3].lo, vtd_qi_context(VTD_INV_DEVICE, 6, f->rid).lo);

	fu[0].nqi = 0;
	vtd_ops.flush(&d2);
	assert_int_equal(fu[0].nqi, 2);
	assert_int_equal(fu[0].qi[0].lo, vtd_qi_iotlb(VTD_INV_DOMAIN, 6, false, false).lo);

	fu[0].nqi = 0;
	vtd_ops.detach(&d2, f);
	assert_true(e->lo == 0 && e->hi == 0);
	assert_int_equal(fu[0].nqi, 3);
	assert_int_equal(fu[0].qi[0].lo, vtd_qi_context(VTD_INV_DEVICE, 6, f->rid).lo);
	vtd_ops.detach(&d2, f);	/* again: nothing to do */
	assert_int_equal(fu[0].nqi, 3);

	/* unusable domains */
	struct iommu_domain d0 = dom(0), dbig = dom(256);
	assert_int_equal(vtd_ops.attach(&d0, f), -EINVAL);
	assert_int_equal(vtd_ops.attach(&dbig, f), -EINVAL);	/* ND: 256 IDs */
}

static void test_attach_registers(void **state)
{
	(void)state;
	fake_setup(&fu[0], false, true, VTD_SAGAW_48);
	assert_int_equal(vtd_ops.init(&acpi), 0);
	struct iommu_domain d = dom(3);
	const struct pci_func *f = func(2, PCI_DEVFN(0, 0));

	fu[0].nccmd = fu[0].niotlb = 0;
	assert_int_equal(vtd_ops.attach(&d, f), 0);
	assert_int_equal(fu[0].nccmd, 1);
	assert_int_equal(fu[0].ccmd[0], VTD_CCMD_ICC | VTD_CCMD_DEVICE | (uint64_t)f->rid << 16 | 3);
	assert_int_equal(fu[0].niotlb, 1);
	assert_int_equal(fu[0].iotlb[0], VTD_IOTLB_IVT | VTD_IOTLB_DOMAIN | 3ull << 32);
}

/* A unit that stops answering after init: attach fails, bounded, and
 * leaves the entry blocked. */
static void test_attach_dead(void **state)
{
	(void)state;
	assert_int_equal(vtd_ops.init(&acpi), 0);
	struct iommu_domain d = dom(3);
	const struct pci_func *f = func(0, PCI_DEVFN(2, 0));
	fu[0].dead = true;
	assert_int_equal(vtd_ops.attach(&d, f), -EIO);
	assert_true(test_log_has("timed out waiting for an invalidation wait descriptor"));
	struct vtd_entry *e = ctx_of(&fu[0], f->rid);
	assert_true(e->lo == 0 && e->hi == 0);
	vtd_ops.flush(&d);	/* skipped, no second timeout */
}

/* ---- scopes, RMRRs ---------------------------------------------------------------------- */

struct range {
	uint64_t base, end;
	unsigned n;
};

static void cb(void *ctx, uint64_t base, uint64_t end)
{
	struct range *g = ctx;
	g->base = base;
	g->end = end;
	g->n++;
}

static void test_covers_reserved(void **state)
{
	(void)state;
	machine(2);
	/* unit 0: the root port 00:1c.0 (bridge) and 00:02.0 (endpoint) */
	struct acpi_drhd *h = &acpi.dmar.drhd[0];
	h->nscopes = 2;
	h->scopes[0] = (struct acpi_dmar_scope){ .type = ACPI_SCOPE_BRIDGE, .start_bus = 0,
						 .npath = 1, .path = { { 0x1c, 0 } } };
	h->scopes[1] = (struct acpi_dmar_scope){ .type = ACPI_SCOPE_ENDPOINT, .start_bus = 0,
						 .npath = 1, .path = { { 2, 0 } } };
	/* an RMRR for 02:00.0, named through the root port */
	acpi.dmar.nrmrr = 1;
	acpi.dmar.rmrr[0] = (struct acpi_rmrr){ .base = 0x7000000, .end = 0x7100000, .nscopes = 1 };
	acpi.dmar.rmrr[0].scopes[0] = (struct acpi_dmar_scope){
		.type = ACPI_SCOPE_ENDPOINT, .start_bus = 0, .npath = 2, .path = { { 0x1c, 0 }, { 0, 0 } } };
	assert_int_equal(vtd_ops.init(&acpi), 0);

	struct iommu_domain d = dom(9);
	const struct pci_func *behind = func(2, PCI_DEVFN(0, 0));
	const struct pci_func *igd = func(0, PCI_DEVFN(2, 0));
	const struct pci_func *other = func(0, PCI_DEVFN(5, 0));
	assert_true(vtd_ops.covers(behind));
	assert_true(vtd_ops.covers(other));	/* INCLUDE_PCI_ALL */
	assert_false(vtd_ops.is_unit(igd));

	/* each device is invalidated on its own unit */
	fu[0].nqi = fu[1].nqi = 0;
	assert_int_equal(vtd_ops.attach(&d, igd), 0);
	assert_int_equal(fu[0].nqi, 3);
	assert_int_equal(fu[1].nqi, 0);
	assert_int_equal(vtd_ops.attach(&d, other), 0);
	assert_int_equal(fu[1].nqi, 3);
	/* flush: every unit */
	fu[0].nqi = fu[1].nqi = 0;
	vtd_ops.flush(&d);
	assert_int_equal(fu[0].nqi, 2);
	assert_int_equal(fu[1].nqi, 2);

	struct range got = { 0, 0, 0 };
	assert_int_equal(vtd_ops.reserved(behind, cb, &got), 1);
	assert_int_equal(got.base, 0x7000000);
	assert_int_equal(got.end, 0x7100000);
	assert_int_equal(vtd_ops.reserved(other, cb, &got), 0);
}

/* ---- faults ----------------------------------------------------------------------------- */

static void record(struct fake_unit *f, unsigned i, uint16_t sid, uint64_t addr, bool read,
		   unsigned reason)
{
	fw64(f, FAKE_FRO + i * 16, addr);
	fw64(f, FAKE_FRO + i * 16 + 8, VTD_FRCD_F | (read ? VTD_FRCD_T : 0) |
					       (uint64_t)reason << 32 | sid);
	fw32(f, VTD_FSTS, fr32(f, VTD_FSTS) | VTD_FSTS_PPF);
}

static void test_faults(void **state)
{
	(void)state;
	/* stale records from before init are cleared, not reported */
	record(&fu[0], 0, 0x0010, 0x1000, false, 2);
	assert_int_equal(vtd_ops.init(&acpi), 0);
	assert_false(fr64(&fu[0], FAKE_FRO + 8) & VTD_FRCD_F);
	vtd_ops.poll_faults();
	assert_int_equal(nfaults, 0);

	record(&fu[0], 1, 0x0028, 0x12345000, false, 2);
	record(&fu[0], 3, 0x0200, 0xfee00000, true, 6);
	fw32(&fu[0], VTD_FSTS, fr32(&fu[0], VTD_FSTS) | VTD_FSTS_PFO | 1u << 8 /* FRI 1 */);
	vtd_ops.poll_faults();
	assert_int_equal(nfaults, 2);
	assert_int_equal(faults[0].rid, 0x0028);
	assert_int_equal(faults[0].addr, 0x12345000);
	assert_string_equal(faults[0].what, "write");
	assert_int_equal(faults[1].rid, 0x0200);
	assert_int_equal(faults[1].addr, 0xfee00000);
	assert_string_equal(faults[1].what, "read");
	for (unsigned i = 0; i < FAKE_NFR; i++)
		assert_false(fr64(&fu[0], FAKE_FRO + i * 16 + 8) & VTD_FRCD_F);
	assert_int_equal(fr32(&fu[0], VTD_FSTS) & (VTD_FSTS_PFO | VTD_FSTS_PPF), 0);
	assert_true(test_log_has("fault records overflowed"));
	vtd_ops.poll_faults();
	assert_int_equal(nfaults, 2);
}

/* ---- interrupt remapping ------------------------------------------------------------ */

static struct vtd_entry *irt_of(struct fake_unit *f)
{
	return (struct vtd_entry *)(uintptr_t)(f->latched_irta & VTD_ADDR_4K);
}

static void test_ir_init(void **state)
{
	(void)state;
	fw64(&fu[0], VTD_ECAP, fr64(&fu[0], VTD_ECAP) | VTD_ECAP_EIM);
	fw32(&fu[0], VTD_GSTS, VTD_GCMD_CFI);	/* firmware let compatibility format pass */
	assert_int_equal(vtd_ops.init(&acpi), 0);
	assert_true(vtd_ops.ir_on());
	assert_true(vtd_ops.ir_x2apic());
	uint32_t sts = fr32(&fu[0], VTD_GSTS);
	assert_true(sts & VTD_GCMD_IRE);
	assert_false(sts & VTD_GCMD_CFI);
	assert_int_equal(fu[0].gcmd_bad, 0);
	assert_int_equal(fu[0].latched_irta & 0xfff, VTD_IRTA_EIME | 11);	/* 4096 entries */
	assert_int_equal(fu[0].latched_irta & VTD_ADDR_4K,
			 fu[0].latched_irta & ~(uint64_t)0xfff);
	assert_true(test_log_has("interrupt remapping on, 4096 entries, compatibility format blocked, x2APIC"));
}

/* Remapping needs every unit to have it (and EIM for x2APIC, every unit). */
static void test_ir_off(void **state)
{
	(void)state;
	fw64(&fu[1], VTD_ECAP, fr64(&fu[1], VTD_ECAP) & ~VTD_ECAP_IR);
	machine(2);
	assert_int_equal(vtd_ops.init(&acpi), 0);
	assert_false(vtd_ops.ir_on());
	assert_false(fr32(&fu[0], VTD_GSTS) & VTD_GCMD_IRE);
	assert_true(test_log_has("interrupt remapping off (a unit has no interrupt remapping)"));
	assert_int_equal(vtd_ops.irq_alloc(0, 0x28, 1), -ENODEV);

	/* register-based invalidation only: no remapping either */
	fake_setup(&fu[0], false, true, VTD_SAGAW_48);
	machine(1);
	assert_int_equal(vtd_ops.init(&acpi), 0);
	assert_false(vtd_ops.ir_on());
}

static void test_ir_entries(void **state)
{
	(void)state;
	assert_int_equal(vtd_ops.init(&acpi), 0);
	assert_false(vtd_ops.ir_x2apic());	/* the fake has no EIM */
	int a = vtd_ops.irq_alloc(0, 0x0028, 4);
	int b = vtd_ops.irq_alloc(0, 0x0030, 1);
	int c = vtd_ops.irq_alloc(0, 0x0038, 2);
	assert_int_equal(a, 0);
	assert_int_equal(b, 4);
	assert_int_equal(c, 6);			/* aligned to its size */
	assert_int_equal(vtd_ops.irq_alloc(0, 1, 3), -EINVAL);
	assert_int_equal(vtd_ops.irq_alloc(0, 1, 64), -EINVAL);

	struct vtd_entry *irt = irt_of(&fu[0]);
	const struct iommu_irq irq = { .dest = 2, .vector = 0x41 };
	unsigned before = fu[0].nqi;
	assert_int_equal(vtd_ops.irq_set(0, 0x0028, 1, &irq), 0);
	assert_int_equal(irt[1].lo, 0x1 | 0x41ull << 16 | (2ull << 8) << 32);
	assert_int_equal(irt[1].hi, 0x0028 | 1ull << 18);	/* only 00:05.0 may use it */
	assert_int_equal(fu[0].nqi, before + 2);		/* index invalidation, wait */
	assert_int_equal(fu[0].qi[before].lo, vtd_qi_iec(false, 1, 0).lo);

	/* another device's entry, or one beyond what it holds: refused */
	assert_int_equal(vtd_ops.irq_set(0, 0x0030, 1, &irq), -EINVAL);
	assert_int_equal(vtd_ops.irq_set(0, 0x0028, 4, &irq), -EINVAL);
	assert_int_equal(vtd_ops.irq_set(1, 0x0028, 1, &irq), -EINVAL);
	/* an 8-bit destination field without EIM */
	const struct iommu_irq far = { .dest = 300, .vector = 0x41 };
	assert_int_equal(vtd_ops.irq_set(0, 0x0028, 2, &far), -ERANGE);

	/* the same again: nothing to invalidate */
	before = fu[0].nqi;
	assert_int_equal(vtd_ops.irq_set(0, 0x0028, 1, &irq), 0);
	assert_int_equal(fu[0].nqi, before);

	struct iommu_msi msg;
	vtd_ops.irq_msi(0, 0x0028, 1, &msg);
	assert_int_equal(msg.addr, 0xfee00000ull | 1u << 5 | 0x18);

	assert_int_equal(vtd_ops.irq_set(0, 0x0028, 1, NULL), 0);	/* blocked */
	assert_int_equal(irt[1].lo, 0);
	assert_int_equal(irt[1].hi, 0);

	assert_int_equal(vtd_ops.irq_set(0, 0x0028, 3, &irq), 0);
	vtd_ops.irq_free(0, 0x0028, 0, 4);
	assert_int_equal(irt[3].lo, 0);
	assert_int_equal(vtd_ops.irq_alloc(0, 0x0040, 4), 0);	/* given back */
	vtd_ops.irq_free(0, 0x0028, 4, 1);			/* not its own: kept */
	assert_int_equal(vtd_ops.irq_set(0, 0x0030, 4, &irq), 0);
}

static void test_ir_ioapic(void **state)
{
	(void)state;
	struct acpi_drhd *h = &acpi.dmar.drhd[0];
	h->nscopes = 1;
	h->scopes[0] = (struct acpi_dmar_scope){ .type = ACPI_SCOPE_IOAPIC, .enum_id = 2,
						 .start_bus = 0xf0, .npath = 1,
						 .path = { { 0x1f, 0 } } };
	assert_int_equal(vtd_ops.init(&acpi), 0);
	const struct iommu_irq nmi = { .dest = 0, .nmi = true };
	const struct iommu_irq lvl = { .dest = 1, .vector = 0x33, .level = true };
	uint64_t rte = 0;
	assert_int_equal(vtd_ops.ioapic_route(2, 4, &nmi, &rte), 0);
	assert_int_equal(rte, 1ull << 48);			/* entry 0, edge */
	assert_int_equal(vtd_ops.ioapic_route(2, 9, &lvl, &rte), 0);
	assert_int_equal(rte, 0x33 | 1u << 15 | 1ull << 48 | 1ull << 49);	/* entry 1 */
	struct vtd_entry *irt = irt_of(&fu[0]);
	assert_int_equal(irt[0].lo, 0x1 | 4u << 5);
	assert_int_equal(irt[0].hi, 0xf0f8 | 1ull << 18);	/* the IOAPIC's source-id */
	assert_int_equal(irt[1].lo & (1u << 4), 1u << 4);	/* level */
	/* the same pin again: its entry, rewritten */
	const struct iommu_irq moved = { .dest = 1, .vector = 0x34, .level = true };
	assert_int_equal(vtd_ops.ioapic_route(2, 9, &moved, &rte), 0);
	assert_int_equal(rte, 0x34 | 1u << 15 | 1ull << 48 | 1ull << 49);
	assert_int_equal(irt[1].lo >> 16 & 0xff, 0x34);
	/* an IOAPIC no unit lists */
	assert_int_equal(vtd_ops.ioapic_route(3, 0, &nmi, &rte), -ENODEV);
}

static void test_ir_faults(void **state)
{
	(void)state;
	assert_int_equal(vtd_ops.init(&acpi), 0);
	record(&fu[0], 0, 0x0028, 7ull << 48, false, VTD_FR_IR_NP);
	record(&fu[0], 1, 0x0028, 9ull << 48, false, VTD_FR_IR_SID);
	record(&fu[0], 2, 0x0030, 0, false, VTD_FR_IR_COMPAT);
	vtd_ops.poll_faults();
	assert_int_equal(nfaults, 0);		/* none of them is a DMA fault */
	assert_int_equal(nirq_faults, 3);
	assert_int_equal(irq_faults[0].rid, 0x0028);
	assert_string_equal(irq_faults[0].what, "entry 7 not present");
	assert_string_equal(irq_faults[1].what, "entry 9 of another device");
	assert_int_equal(irq_faults[2].rid, 0x0030);
	assert_string_equal(irq_faults[2].what, "compatibility-format message");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test_setup(test_format_4level, setup),
		cmocka_unit_test_setup(test_format_3level_small, setup),
		cmocka_unit_test_setup(test_init_qi, setup),
		cmocka_unit_test_setup(test_init_registers, setup),
		cmocka_unit_test_setup(test_init_two_units, setup),
		cmocka_unit_test_setup(test_init_dead_unit, setup),
		cmocka_unit_test_setup(test_init_no_depth, setup),
		cmocka_unit_test_setup(test_init_absent, setup),
		cmocka_unit_test_setup(test_init_out_of_memory, setup),
		cmocka_unit_test_setup(test_init_firmware_te, setup),
		cmocka_unit_test_setup(test_attach_detach, setup),
		cmocka_unit_test_setup(test_attach_registers, setup),
		cmocka_unit_test_setup(test_attach_dead, setup),
		cmocka_unit_test_setup(test_covers_reserved, setup),
		cmocka_unit_test_setup(test_faults, setup),
		cmocka_unit_test_setup(test_ir_init, setup),
		cmocka_unit_test_setup(test_ir_off, setup),
		cmocka_unit_test_setup(test_ir_entries, setup),
		cmocka_unit_test_setup(test_ir_ioapic, setup),
		cmocka_unit_test_setup(test_ir_faults, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
