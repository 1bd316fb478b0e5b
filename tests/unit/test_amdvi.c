/*
 * Host tests of the AMD-Vi encodings (drivers/iommu/amdvi_tables.c): the
 * I/O page-table format driven through the real page-table engine on fake
 * physical memory and read back by a walker written here from the spec
 * (48882 2.2.3), device-table entries, commands, event-log entries and the
 * event-log drain, and the IVRS look-ups. Expected values are spelled out
 * as the spec's bit positions, not taken from the code under test.
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

#include "drivers/iommu/amdvi_tables.h"
#include "kernel/acpi.h"
#include "kernel/errno.h"
#include "kernel/pgtable.h"
#include "tests/unit/host_stubs.h"

#define PAGE	4096ull
#define MIB	(1024ull * 1024)
#define GIB	(1024ull * MIB)

/* ---- fake physical memory ---------------------------------------------- */

#define ARENA_PAGES	256u
#define ARENA_BASE	0x40000000ull

static uint8_t *arena;
static bool used[ARENA_PAGES];

static uint64_t fake_alloc(void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < ARENA_PAGES; i++) {
		if (!used[i]) {
			used[i] = true;
			memset(arena + i * PAGE, 0, PAGE);
			return ARENA_BASE + i * PAGE;
		}
	}
	return 0;
}

static void *fake_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	if (phys < ARENA_BASE || phys >= ARENA_BASE + ARENA_PAGES * PAGE)
		fail_msg("phys %#llx outside the arena", (unsigned long long)phys);
	return arena + (phys - ARENA_BASE);
}

static void fake_free(void *ctx, uint64_t phys)
{
	(void)ctx;
	used[(phys - ARENA_BASE) / PAGE] = false;
}

static const struct pt_mem mem = {
	.alloc_page = fake_alloc,
	.phys_to_virt = fake_virt,
	.free_page = fake_free,
};

static int setup(void **state)
{
	(void)state;
	memset(used, 0, sizeof(used));
	arena = aligned_alloc(PAGE, ARENA_PAGES * PAGE);
	return arena ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(arena);
	return 0;
}

/* ---- a walker after the spec ------------------------------------------- */

/* Bits of an I/O PTE (48882 2.2.3, figure "I/O page table entry"). */
#define S_PR	(1ull << 0)
#define S_NEXT(e) (((e) >> 9) & 7)
#define S_ADDR	0x000ffffffffff000ull
#define S_FC	(1ull << 60)
#define S_IR	(1ull << 61)
#define S_IW	(1ull << 62)

struct walk {
	bool ok;
	uint64_t pa;
	unsigned page_level;	/* 1: 4 KiB, 2: 2 MiB, 3: 1 GiB */
	bool r, w;
};

/* What the IOMMU does with a DTE of Mode `mode` and this root (2.2.3):
 * at each table of level L the index is IOVA bits [12+9(L-1) +: 9]; a
 * present entry with NextLevel 0 is a page of the size of level L; a
 * nonzero NextLevel must be L-1 (skipping levels is not used here) and
 * leads to the next table. IR/IW are ANDed along the way. */
static struct walk spec_walk(uint64_t root, unsigned mode, uint64_t iova)
{
	struct walk w = { false, 0, 0, true, true };
	uint64_t table = root;

	for (unsigned level = mode; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e = ((uint64_t *)fake_virt(NULL, table))[(iova >> shift) & 511];

		if (!(e & S_PR))
			return w;
		w.r &= !!(e & S_IR);
		w.w &= !!(e & S_IW);
		if (S_NEXT(e) == 0) {
			assert_true(e & S_FC);	/* leaves force coherence */
			w.ok = true;
			w.page_level = level;
			w.pa = (e & S_ADDR & ~((1ull << shift) - 1)) | (iova & ((1ull << shift) - 1));
			return w;
		}
		assert_int_equal(S_NEXT(e), level - 1);
		assert_true(level > 1);
		table = e & S_ADDR;
	}
	fail_msg("walk fell off the last level");
	return w;
}

static void expect_walk(const struct pgtable *pt, uint64_t iova, uint64_t pa, unsigned level,
			bool r, bool wr)
{
	struct walk w = spec_walk(pt->root, 4, iova);

	assert_true(w.ok);
	assert_int_equal(w.pa, pa);
	assert_int_equal(w.page_level, level);
	assert_int_equal(w.r, r);
	assert_int_equal(w.w, wr);
}

static void test_format_through_engine(void **state)
{
	struct pgtable pt;
	const unsigned rw = PT_READ | PT_WRITE;

	(void)state;
	assert_int_equal(amdvi_pt_format.levels, 4);
	assert_int_equal(pt_init(&pt, &amdvi_pt_format, &mem), 0);
	/* Domain RAM at GPA 0: 2 MiB + 4 KiB -> one 2 MiB leaf, one 4 KiB */
	assert_int_equal(pt_map(&pt, 0, 0x80000000ull, 2 * MIB + PAGE, rw), 0);
	/* 1 GiB aligned: a 1 GiB leaf at level 3 */
	assert_int_equal(pt_map(&pt, 4 * GIB, 0x100000000ull, GIB, PT_READ), 0);
	/* near the top of the 48-bit space */
	assert_int_equal(pt_map(&pt, (1ull << 48) - PAGE, 0x1234000, PAGE, PT_WRITE), 0);

	expect_walk(&pt, 0x1234, 0x80001234ull, 2, true, true);
	expect_walk(&pt, 2 * MIB + 0x10, 0x80200010ull, 1, true, true);
	expect_walk(&pt, 4 * GIB + 0x3456789, 0x103456789ull, 3, true, false);
	expect_walk(&pt, (1ull << 48) - 8, 0x1234ff8, 1, false, true);
	assert_false(spec_walk(pt.root, 4, 2 * MIB + PAGE).ok);
	assert_false(spec_walk(pt.root, 4, 5 * GIB).ok);

	/* No execute, user, global or UC permission exists in this format. */
	assert_int_equal(pt_map(&pt, 8 * GIB, 0, PAGE, PT_READ | PT_EXEC), -EINVAL);
	assert_int_equal(pt_map(&pt, 8 * GIB, 0, PAGE, PT_READ | PT_UC), -EINVAL);

	/* Splitting the 1 GiB leaf keeps the rest, with correct NextLevels
	 * (checked by spec_walk at every step). */
	assert_int_equal(pt_map(&pt, 4 * GIB + PAGE, 0x5000, PAGE, rw), 0);
	expect_walk(&pt, 4 * GIB + PAGE, 0x5000, 1, true, true);
	expect_walk(&pt, 4 * GIB, 0x100000000ull, 1, true, false);
	expect_walk(&pt, 4 * GIB + 4 * MIB, 0x100400000ull, 2, true, false);

	/* Unmap: gone for the hardware too. */
	assert_int_equal(pt_unmap(&pt, 0, 2 * MIB), 0);
	assert_false(spec_walk(pt.root, 4, 0x1234).ok);
	expect_walk(&pt, 2 * MIB, 0x80200000ull, 1, true, true);
}

static void test_pte_bits(void **state)
{
	(void)state;
	/* A table entry at level 4 pointing to a level-3 table */
	assert_int_equal(amdvi_pt_format.make_table(0x12345000, 4),
			 0x12345000ull | S_PR | (3ull << 9) | S_IR | S_IW);
	assert_int_equal(amdvi_pt_format.make_table(0x12345000, 2),
			 0x12345000ull | S_PR | (1ull << 9) | S_IR | S_IW);
	/* A 2 MiB leaf: NextLevel 0 */
	assert_int_equal(amdvi_pt_format.make_leaf(0x200000, 2, PT_READ),
			 0x200000ull | S_PR | S_FC | S_IR);
	assert_true(amdvi_pt_format.is_leaf(0x200000ull | S_PR, 2));
	assert_false(amdvi_pt_format.is_leaf(0x200000ull | S_PR | (1ull << 9), 2));
	assert_true(amdvi_pt_format.is_leaf(0x200000ull | S_PR | (7ull << 9), 2));
	assert_int_equal(amdvi_pt_format.leaf_flags(S_PR | S_IW, 1), PT_WRITE);
	assert_int_equal(amdvi_pt_format.addr_mask, 0x000ffffffffff000ull);
	assert_false(amdvi_pt_format.present(0));
}

/* ---- device table entries (2.2.2.1) ------------------------------------ */

static void test_dte_blocked(void **state)
{
	struct amdvi_dte d = amdvi_dte_blocked(0x7654000, 4);

	(void)state;
	/* V (bit 0) and TV (bit 1) set: V=0 would be passthrough. Mode 4 in
	 * bits 11:9 (0 would disable translation). IR (61) and IW (62) clear:
	 * every access refused. */
	assert_int_equal(d.q[0], 0x7654000ull | 0x1 | 0x2 | (4ull << 9));
	assert_int_equal(d.q[0] & (3ull << 61), 0);
	assert_int_equal(d.q[1], 0);	/* DomainID 0, no IOTLB, SE/SA clear: log it */
	assert_int_equal(d.q[2], 0);	/* IV=0 */
	assert_int_equal(d.q[3], 0);
	assert_int_equal(sizeof(d), 32);
}

static void test_dte_translated(void **state)
{
	struct amdvi_dte d = amdvi_dte_translated(0x4321000, 4, 0x0102);

	(void)state;
	assert_int_equal(d.q[0], 0x4321000ull | 0x3 | (4ull << 9) | (1ull << 61) | (1ull << 62));
	assert_int_equal(d.q[1], 0x0102);
	assert_int_equal(d.q[2], 0);
	assert_int_equal(d.q[3], 0);
}

/* Interrupt fields of DTE quadword 2 (2.2.2.2) and the two IRTE formats
 * (2.2.5.1: 32-bit; 2.2.5.2: 128-bit, GA mode). */
static void test_interrupt_entries(void **state)
{
	(void)state;
	/* IV (0), IntTabLen 8 (4:1), root 51:6, NMIPass (58), IntCtl 10b (61:60) */
	assert_int_equal(amdvi_dte_irq(0x12345000, 8, AMDVI_INTCTL_REMAP, false),
			 0x1 | 8u << 1 | 0x12345000ull | 2ull << 60);
	assert_int_equal(amdvi_dte_irq(0, 0, AMDVI_INTCTL_ABORT, true), 0x1 | 1ull << 58);
	/* a root that is not 64-byte aligned loses its low bits, not a flag */
	assert_int_equal(amdvi_dte_irq(0x1000 | 0x3f, 0, AMDVI_INTCTL_ABORT, false), 0x1 | 0x1000);

	/* 32-bit: RemapEn 0, IntType 4:2 (1 = arbitrated), DM 6, dest 15:8, vector 23:16 */
	assert_int_equal(amdvi_irte32(3, 0x41, false, false), 0x1 | 3u << 8 | 0x41u << 16);
	assert_int_equal(amdvi_irte32(0xff, 0xfe, true, true),
			 0x1 | 1u << 2 | 1u << 6 | 0xffu << 8 | 0xfeu << 16);

	/* 128-bit: dest 23:0 in lo 31:8, 31:24 in hi 63:56, vector in hi 7:0 */
	struct amdvi_irte128 e = amdvi_irte128(0x12345678, 0x80, false, false);
	assert_int_equal(e.lo, 0x1 | 0x345678ull << 8);
	assert_int_equal(e.hi, 0x80 | 0x12ull << 56);
	e = amdvi_irte128(5, 0x30, true, true);
	assert_int_equal(e.lo, 0x1 | 1u << 2 | 1u << 6 | 5u << 8);
	assert_int_equal(e.hi, 0x30);
}

/* ---- commands (2.4) ---------------------------------------------------- */

static void test_commands(void **state)
{
	struct amdvi_cmd c;

	(void)state;
	/* COMPLETION_WAIT: opcode 1 in dword 1 bits 31:28, S = dword 0 bit 0,
	 * store address 51:3 in dwords 0-1, data in dwords 2-3. */
	c = amdvi_cmd_completion_wait(0x000f123456789ab8ull, 0xfeedbeef00000001ull);
	assert_int_equal(c.q[0], 0x100f123456789ab9ull);
	assert_int_equal(c.q[1], 0xfeedbeef00000001ull);

	/* INVALIDATE_DEVTAB_ENTRY: opcode 2, DeviceID in dword 0 15:0 */
	c = amdvi_cmd_inv_devtab_entry(0x0028);
	assert_int_equal(c.q[0], 0x2000000000000028ull);
	assert_int_equal(c.q[1], 0);

	/* INVALIDATE_IOMMU_PAGES: opcode 3, DomainID in dword 1 15:0, PASID 0;
	 * dword 2: S (bit 0), PDE (bit 1); address 7FFF_FFFF_FFFF_F000h =
	 * every page. */
	c = amdvi_cmd_inv_domain(0xabcd);
	assert_int_equal(c.q[0], 0x3000abcd00000000ull);
	assert_int_equal(c.q[1], 0x7ffffffffffff003ull);

	/* INVALIDATE_INTERRUPT_TABLE: opcode 5, DeviceID in dword 0 15:0 */
	c = amdvi_cmd_inv_int_table(0x00a0);
	assert_int_equal(c.q[0], 0x50000000000000a0ull);
	assert_int_equal(c.q[1], 0);

	/* INVALIDATE_IOMMU_ALL: opcode 8, nothing else */
	c = amdvi_cmd_inv_all();
	assert_int_equal(c.q[0], 0x8000000000000000ull);
	assert_int_equal(c.q[1], 0);
}

static void test_registers(void **state)
{
	(void)state;
	/* DevTblSize: 512 pages (all 64K IDs) = 1FFh */
	assert_int_equal(amdvi_reg_devtab(0x12200000, AMDVI_DT_PAGES), 0x122001ffull);
	assert_int_equal(AMDVI_DT_PAGES, 512);
	/* ComLen / EventLen in bits 59:56 */
	assert_int_equal(amdvi_reg_ring(0x3000, 8), 0x0800000000003000ull);
	assert_int_equal(amdvi_reg_ring(0x4000, 9), 0x0900000000004000ull);
	/* HATS 00b: 4 levels, 01b: 5, 10b: 6, 11b (reserved): 4 */
	assert_int_equal(amdvi_efr_max_levels(0), 4);
	assert_int_equal(amdvi_efr_max_levels(1ull << 10), 5);
	assert_int_equal(amdvi_efr_max_levels(2ull << 10), 6);
	assert_int_equal(amdvi_efr_max_levels(3ull << 10), 4);
}

/* ---- event log (2.5) --------------------------------------------------- */

/* An event as the spec lays it out: four dwords. */
static void make_event(uint64_t e[2], uint32_t d0, uint32_t d1, uint64_t addr)
{
	e[0] = (uint64_t)d1 << 32 | d0;
	e[1] = addr;
}

static void test_event_decode(void **state)
{
	uint64_t e[2];
	struct amdvi_event ev;

	(void)state;
	/* IO_PAGE_FAULT (code 2) from 00:05.0, domain 3, flags PR|RW */
	make_event(e, 0x0028, (2u << 28) | ((AMDVI_EVF_PR | AMDVI_EVF_RW) << 16) | 3,
		   0x123456000ull);
	ev = amdvi_event_decode(e);
	assert_int_equal(ev.code, AMDVI_EVT_IO_PAGE_FAULT);
	assert_int_equal(ev.devid, 0x28);
	assert_int_equal(ev.domid, 3);
	assert_int_equal(ev.flags, AMDVI_EVF_PR | AMDVI_EVF_RW);
	assert_int_equal(ev.addr, 0x123456000ull);
	assert_string_equal(amdvi_event_what(&ev), "write");
	assert_int_equal(1u << 21, (uint32_t)(e[0] >> 32) & (1u << 21));	/* RW is dword 1 bit 21 */

	make_event(e, 0x0100, (2u << 28), 0x1000);
	ev = amdvi_event_decode(e);
	assert_string_equal(amdvi_event_what(&ev), "read");

	make_event(e, 0x0100, (2u << 28) | (AMDVI_EVF_I << 16), 0xfee00000);
	ev = amdvi_event_decode(e);
	assert_string_equal(amdvi_event_what(&ev), "interrupt");

	make_event(e, 0, (5u << 28), 0x5000);
	ev = amdvi_event_decode(e);
	assert_int_equal(ev.code, AMDVI_EVT_ILLEGAL_COMMAND);
	assert_false(amdvi_event_has_device(ev.code));
	assert_string_equal(amdvi_event_name(ev.code), "ILLEGAL_COMMAND_ERROR");
	assert_true(amdvi_event_has_device(AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY));
	assert_string_equal(amdvi_event_name(0xf), "event");
	assert_string_equal(amdvi_event_name(0), "event");
}

struct seen {
	unsigned n;
	uint16_t devid[16];
};

static void collect(void *ctx, const struct amdvi_event *ev)
{
	struct seen *s = ctx;

	if (s->n < 16)
		s->devid[s->n] = ev->devid;
	s->n++;
}

static void test_evtlog_drain(void **state)
{
	uint64_t log[4 * 2];	/* a ring of 4 entries */
	uint32_t head;
	struct seen s;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		make_event(&log[2 * i], 0x10 + i, 2u << 28, i * PAGE);

	/* head 48 (entry 3), tail 16 (entry 1): entries 3 and 0, wrapping */
	memset(&s, 0, sizeof(s));
	head = 48;
	assert_int_equal(amdvi_evtlog_drain(log, sizeof(log), &head, 16, collect, &s), 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.devid[0], 0x13);
	assert_int_equal(s.devid[1], 0x10);
	assert_int_equal(head, 16);
	assert_int_equal(log[6], 0);	/* taken entries are zeroed */
	assert_int_equal(log[0], 0);
	assert_int_not_equal(log[2], 0);	/* the others are not */

	/* head == tail: nothing */
	memset(&s, 0, sizeof(s));
	assert_int_equal(amdvi_evtlog_drain(log, sizeof(log), &head, 16, collect, &s), 0);

	/* A tail outside the ring is taken modulo its size. */
	memset(&s, 0, sizeof(s));
	head = 16;
	assert_int_equal(amdvi_evtlog_drain(log, sizeof(log), &head, 0x1000, collect, &s),
			 3);
	assert_int_equal(head, 0);
	assert_int_equal(amdvi_evtlog_drain(log, 0, &head, 16, collect, &s), 0);
}

/* ---- IVRS look-ups ----------------------------------------------------- */

static void test_ivrs(void **state)
{
	struct acpi_ivhd h;
	struct acpi_ivmd m;
	uint16_t alias = 0;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.nranges = 2;
	h.ranges[0] = (struct acpi_ivhd_range){ .first = 0x0000, .last = 0x00ff };
	h.ranges[1] = (struct acpi_ivhd_range){ .first = 0x0300, .last = 0x03ff,
						.has_alias = true, .alias = 0x0210 };
	assert_true(amdvi_ivhd_covers(&h, 0x0028));
	assert_false(amdvi_ivhd_covers(&h, 0x0100));
	assert_true(amdvi_ivhd_covers(&h, 0x03ff));
	assert_false(amdvi_ivhd_alias(&h, 0x0028, &alias));
	assert_true(amdvi_ivhd_alias(&h, 0x0308, &alias));
	assert_int_equal(alias, 0x0210);

	memset(&m, 0, sizeof(m));
	m.type = 0x21;
	m.flags = ACPI_IVMD_UNITY | ACPI_IVMD_IR;
	m.first = m.last = 0x00a0;
	m.base = 0xe0000;
	m.end = 0xf0000;
	assert_true(amdvi_ivmd_applies(&m, 0x00a0));
	assert_false(amdvi_ivmd_applies(&m, 0x00a1));
	m.type = 0x20;
	assert_true(amdvi_ivmd_applies(&m, 0x1234));
	m.flags = ACPI_IVMD_IR;		/* not unity: not kept mapped */
	assert_false(amdvi_ivmd_applies(&m, 0x1234));
	m.flags = ACPI_IVMD_EXCL;	/* exclusion range: kept mapped */
	assert_true(amdvi_ivmd_applies(&m, 0x1234));
	m.end = m.base;			/* empty */
	assert_false(amdvi_ivmd_applies(&m, 0x1234));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_format_through_engine),
		cmocka_unit_test(test_pte_bits),
		cmocka_unit_test(test_dte_blocked),
		cmocka_unit_test(test_dte_translated),
		cmocka_unit_test(test_interrupt_entries),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_registers),
		cmocka_unit_test(test_event_decode),
		cmocka_unit_test(test_evtlog_drain),
		cmocka_unit_test(test_ivrs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
