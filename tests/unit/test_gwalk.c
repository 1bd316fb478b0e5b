/*
 * The guest page-table walker (vmm/gwalk.c) in every paging mode, on a
 * fake guest RAM of GUEST_RAM bytes at guest-physical 0: tables built by
 * hand, small and large pages, not-present and reserved-bit entries,
 * reads across a page boundary and outside RAM.
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

#include "kernel/errno.h"
#include "tests/unit/host_stubs.h"
#include "vmm/gwalk.h"

#define GUEST_RAM (8u << 20)

#define P	(1ull << 0)
#define RW	(1ull << 1)
#define PS	(1ull << 7)
#define NX	(1ull << 63)
#define CR0_PE	(1ull << 0)
#define CR0_PG	(1ull << 31)
#define CR4_PSE	(1ull << 4)
#define CR4_PAE	(1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static uint8_t *ram;
static unsigned reads;

static bool fake_read_gpa(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	assert_ptr_equal(opaque, &ram);
	reads++;
	if (gpa >= GUEST_RAM || len > GUEST_RAM - gpa)
		return false;
	memcpy(buf, ram + gpa, len);
	return true;
}

static void put32(uint64_t gpa, uint32_t v) { memcpy(ram + gpa, &v, 4); }
static void put64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, GUEST_RAM);
	return ram ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static struct gwalk walker(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer)
{
	struct gwalk w = { cr0, cr3, cr4, efer, fake_read_gpa, &ram };
	return w;
}

/* Translate la; expect rc and, on success, gpa. */
static void expect(const struct gwalk *w, uint64_t la, int rc, uint64_t gpa)
{
	uint64_t got = 0xdead;
	int r = gwalk_translate(w, la, &got);
	if (r != rc || (rc == 0 && got != gpa))
		fprintf(stderr, "la %#llx: rc %d gpa %#llx, wanted rc %d gpa %#llx\n",
			(unsigned long long)la, r, (unsigned long long)got, rc,
			(unsigned long long)gpa);
	assert_int_equal(r, rc);
	if (rc == 0)
		assert_true(got == gpa);
}

static void test_paging_off(void **state)
{
	(void)state;
	struct gwalk w = walker(CR0_PE, 0x1000, 0, 0);
	expect(&w, 0x12345, 0, 0x12345);
	expect(&w, 0xfec00010, 0, 0xfec00010);
	expect(&w, 0x100001000ull, 0, 0x1000);	/* linear addresses are 32-bit */
	reads = 0;
	expect(&w, 0x2000, 0, 0x2000);
	assert_int_equal(reads, 0);		/* CR3 is not looked at */

	w.efer = EFER_LME | EFER_LMA;		/* an impossible state */
	expect(&w, 0x1000, -ENOTSUP, 0);
	w = walker(CR0_PE | CR0_PG, 0x1000, 0, EFER_LME | EFER_LMA);	/* long mode, no PAE */
	expect(&w, 0x1000, -ENOTSUP, 0);
}

static void test_32bit(void **state)
{
	(void)state;
	memset(ram, 0, GUEST_RAM);
	/* PD at 0x1000. PDE 0 -> PT at 0x2000; PDE 1 has PS set but points
	 * at a PT at 0x401000 (bit 12 is PAT in a 4 MiB PDE); PDE 2 and 3
	 * are 4 MiB pages (PSE, PSE-36). */
	put32(0x1000 + 0 * 4, 0x2000 | P | RW);
	put32(0x1000 + 1 * 4, 0x401000 | P | PS);
	put32(0x1000 + 2 * 4, 0x00c00000 | P | PS);
	put32(0x1000 + 3 * 4, 0x00400000 | (5u << 13) | P | PS);
	put32(0x1000 + 4 * 4, 0x00400000 | (1u << 21) | P | PS);	/* reserved bit 21 */
	put32(0x1000 + 5 * 4, 0x4000);				/* not present */
	put32(0x2000 + 5 * 4, 0x7000 | P);
	put32(0x2000 + 6 * 4, 0x8000 | RW);			/* not present */
	put32(0x2000 + 0x3ff * 4, 0xfffff000 | P);
	put32(0x401000 + 0 * 4, 0x9000 | P);

	struct gwalk w = walker(CR0_PE | CR0_PG, 0x1000 | 0x18, 0, 0);	/* PWT|PCD in CR3 */
	expect(&w, 0x5123, 0, 0x7123);
	expect(&w, 0x6000, -EFAULT, 0);
	expect(&w, 0x3ff004, 0, 0xfffff004);
	expect(&w, 0x400abc, 0, 0x9abc);		/* PS ignored without CR4.PSE */
	expect(&w, 0x800000, -EFAULT, 0);		/* PDE 2 as a table: 0xc00000 is not RAM */
	w.cr4 = CR4_PSE;
	expect(&w, 0x5123, 0, 0x7123);
	expect(&w, 0x400abc, 0, 0x400abc);		/* now a 4 MiB page */
	expect(&w, 0x8abcde, 0, 0xcabcde);
	expect(&w, 0xc12345, 0, 0x500412345ull);	/* PSE-36: bits 39:32 from 20:13 */
	expect(&w, 0x1000000, -EFAULT, 0);		/* reserved bit 21 */
	expect(&w, 0x1400000, -EFAULT, 0);		/* not present */
	expect(&w, 0x100005123ull, 0, 0x7123);		/* linear addresses are 32-bit */
	/* A table outside RAM. */
	put32(0x1000 + 6 * 4, (0x7ff000 + GUEST_RAM) | P);
	expect(&w, 0x1800000, -EFAULT, 0);
}

static void test_pae(void **state)
{
	(void)state;
	memset(ram, 0, GUEST_RAM);
	/* PDPT at 0x4020 (32-byte aligned, as CR3 bits 31:5 allow). */
	put64(0x4020 + 0 * 8, 0);			/* not present */
	put64(0x4020 + 1 * 8, 0x5000 | P);
	put64(0x4020 + 2 * 8, 0x5000 | P | PS);	/* PS is reserved in a PDPTE */
	put64(0x4020 + 3 * 8, 0x5000 | P | (1ull << 60));	/* so are 63:52 */
	put64(0x5000 + 3 * 8, 0x6000 | P | NX);
	put64(0x5000 + 4 * 8, 0x200000 | P | PS | NX | (1ull << 12));	/* 2 MiB, PAT */
	put64(0x5000 + 5 * 8, 0x400000 | P | PS | (1ull << 13));	/* reserved bit 13 */
	put64(0x6000 + 4 * 8, 0x8000 | P | NX);
	put64(0x6000 + 5 * 8, 0x123456789000ull | P | (0x7ffull << 52));	/* high: dropped */

	struct gwalk w = walker(CR0_PE | CR0_PG, 0x4020, CR4_PAE, 0);
	uint64_t g1 = 1ull << 30;
	expect(&w, g1 | 3 << 21 | 4 << 12 | 0x56, 0, 0x8056);
	expect(&w, g1 | 3 << 21 | 5 << 12 | 0x78, 0, 0x123456789078ull);
	expect(&w, g1 | 4 << 21 | 0x1abcde, 0, 0x3abcde);
	expect(&w, g1 | 5 << 21, -EFAULT, 0);
	expect(&w, g1 | 3 << 21 | 6 << 12, -EFAULT, 0);	/* PTE not present */
	expect(&w, g1 | 6 << 21, -EFAULT, 0);		/* PDE not present */
	expect(&w, 0x1000, -EFAULT, 0);			/* PDPTE not present */
	expect(&w, 2 * g1, -EFAULT, 0);
	expect(&w, 3 * g1, -EFAULT, 0);
	/* CR4.LA57 means nothing outside long mode; PSE nothing with PAE. */
	w.cr4 |= CR4_LA57 | CR4_PSE;
	expect(&w, g1 | 3 << 21 | 4 << 12 | 0x56, 0, 0x8056);
}

/* 4-level tables at 0x10000: the top 2 GiB (a kernel's text) in 4 KiB
 * pages, 0-1 GiB in 2 MiB pages, 1-2 GiB a 1 GiB page. */
static void build_4level(uint64_t pml4)
{
	const uint64_t pdpt_hi = 0x11000, pd_hi = 0x12000, pt_hi = 0x13000;
	const uint64_t pdpt_lo = 0x14000, pd_lo = 0x15000;
	uint64_t high = 0x7ffull << 52;	/* ignored bits and protection keys */

	put64(pml4 + 511 * 8, pdpt_hi | P | RW | high);
	put64(pdpt_hi + 510 * 8, pd_hi | P | NX);
	put64(pd_hi + 0 * 8, pt_hi | P);
	put64(pt_hi + 1 * 8, 0x7000 | P | NX | high);
	put64(pt_hi + 2 * 8, 0x3000 | P);		/* not contiguous with 0x7000 */
	put64(pt_hi + 4 * 8, 0x9000 | P);
	put64(pt_hi + 5 * 8, 0x9000);			/* not present */
	put64(pt_hi + 6 * 8, GUEST_RAM | P);		/* outside RAM */
	put64(pml4 + 0 * 8, pdpt_lo | P);
	put64(pdpt_lo + 0 * 8, pd_lo | P);
	put64(pd_lo + 1 * 8, 0x600000 | P | PS | (1ull << 12) | high);
	put64(pd_lo + 2 * 8, 0x400000 | P | PS | (1ull << 20));	/* reserved */
	put64(pdpt_lo + 1 * 8, 0x40000000 | P | PS);
	put64(pdpt_lo + 2 * 8, 0x80000000 | P | PS | (1ull << 29));	/* reserved */
	put64(pml4 + 1 * 8, pdpt_lo | P | PS);		/* PS is reserved in a PML4E */
	put64(pml4 + 2 * 8, pdpt_lo);			/* not present */
}

static void test_4level(void **state)
{
	(void)state;
	memset(ram, 0, GUEST_RAM);
	build_4level(0x10000);

	struct gwalk w = walker(CR0_PE | CR0_PG, 0x10000 | 0x123, CR4_PAE, EFER_LME | EFER_LMA);
	expect(&w, 0xffffffff80001234ull, 0, 0x7234);
	expect(&w, 0xffffffff80002ffcull, 0, 0x3ffc);
	expect(&w, 0xffffffff80005000ull, -EFAULT, 0);
	expect(&w, 0xffffffff80007000ull, -EFAULT, 0);	/* PTE 7 is 0 */
	expect(&w, 0xffffffff80200000ull, -EFAULT, 0);	/* PDE not present */
	expect(&w, 0xfffffffe00000000ull, -EFAULT, 0);	/* PDPTE not present */
	expect(&w, 0x0000ffff80001234ull, 0, 0x7234);	/* bits 63:48 are not looked at */
	expect(&w, 0x212345, 0, 0x612345);		/* 2 MiB */
	expect(&w, 0x400000, -EFAULT, 0);
	expect(&w, 0x40000000 + 0x3456789, 0, 0x43456789);	/* 1 GiB */
	expect(&w, 0x80000000, -EFAULT, 0);
	expect(&w, 1ull << 39, -EFAULT, 0);
	expect(&w, 2ull << 39, -EFAULT, 0);
	/* CR3 above RAM. */
	w.cr3 = GUEST_RAM;
	expect(&w, 0x212345, -EFAULT, 0);
}

static void test_5level(void **state)
{
	(void)state;
	memset(ram, 0, GUEST_RAM);
	build_4level(0x10000);
	/* PML5 at 0x20000: entry 511 (the top) and 1 both lead to the PML4. */
	put64(0x20000 + 511 * 8, 0x10000 | P);
	put64(0x20000 + 1 * 8, 0x10000 | P | NX);
	put64(0x20000 + 2 * 8, 0x10000 | P | PS);	/* reserved */

	struct gwalk w = walker(CR0_PE | CR0_PG, 0x20000, CR4_PAE | CR4_LA57,
				EFER_LME | EFER_LMA);
	expect(&w, 0xffffffff80001234ull, 0, 0x7234);
	expect(&w, (1ull << 48) | 0x212345, 0, 0x612345);
	expect(&w, (2ull << 48) | 0x212345, -EFAULT, 0);
	expect(&w, 0x212345, -EFAULT, 0);		/* PML5E 0 not present */
	/* Without LA57 the same CR3 is a PML4: entry 1 is then the PML4E. */
	w.cr4 = CR4_PAE;
	w.cr3 = 0x10000;
	expect(&w, (1ull << 48) | 0x212345, 0, 0x612345);	/* bits 56:48 ignored */
}

static void test_read(void **state)
{
	uint8_t buf[16];
	(void)state;
	memset(ram, 0, GUEST_RAM);
	build_4level(0x10000);
	for (unsigned i = 0; i < 16; i++) {
		ram[0x7ff8 + i] = (uint8_t)(0x10 + i);	/* end of the 1st page, then */
		ram[0x3000 + i] = (uint8_t)(0x80 + i);	/* start of the 2nd */
	}
	struct gwalk w = walker(CR0_PE | CR0_PG, 0x10000, CR4_PAE, EFER_LME | EFER_LMA);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(gwalk_read(&w, 0xffffffff80001ffbull, buf, 10), 0);
	const uint8_t want[10] = { 0x13, 0x14, 0x15, 0x16, 0x17, 0x80, 0x81, 0x82, 0x83, 0x84 };
	assert_memory_equal(buf, want, 10);
	assert_int_equal(gwalk_read(&w, 0xffffffff80001ff8ull, buf, 8), 0);
	assert_int_equal(buf[0], 0x10);
	assert_int_equal(buf[7], 0x17);
	assert_int_equal(gwalk_read(&w, 0xffffffff80001ff8ull, buf, 0), 0);

	/* The second page is not present, or outside RAM. */
	ram[0x9ffe] = 0x55;
	assert_int_equal(gwalk_read(&w, 0xffffffff80004ffeull, buf, 2), 0);
	assert_int_equal(buf[0], 0x55);
	assert_int_equal(gwalk_read(&w, 0xffffffff80004ffeull, buf, 3), -EFAULT);
	assert_int_equal(gwalk_read(&w, 0xffffffff80006000ull, buf, 1), -EFAULT);

	/* Paging off: straight through, and not past RAM. */
	w = walker(CR0_PE, 0, 0, 0);
	assert_int_equal(gwalk_read(&w, 0x7ffb, buf, 5), 0);
	assert_int_equal(buf[0], 0x13);
	assert_int_equal(buf[4], 0x17);
	assert_int_equal(gwalk_read(&w, GUEST_RAM - 2, buf, 4), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_4level),
		cmocka_unit_test(test_5level),
		cmocka_unit_test(test_read),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
