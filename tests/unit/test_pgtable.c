/*
 * Host tests of the page-table walker (kernel/pgtable.c) with the x86-64
 * host formats (arch/x86_64/pt_host.c), a test-only EPT format and a
 * test-only format modelled on AMD IOMMU tables, all on fake physical
 * memory: a page-aligned arena whose "physical" addresses are offsets
 * from ARENA_BASE.
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
#include "kernel/pgtable.h"
#include "tests/unit/host_stubs.h"

#define PAGE	4096ull
#define KIB	1024ull
#define MIB	(1024ull * KIB)
#define GIB	(1024ull * MIB)
#define TIB	(1024ull * GIB)

/* ---- fake physical memory ---------------------------------------------- */

#define ARENA_PAGES	1024u
#define ARENA_BASE	0x10000000ull	/* "physical" address of page 0; never 0 */

struct fake_mem {
	uint8_t *arena;
	uint8_t *shadow;	/* what a non-coherent walker sees; NULL: off */
	bool used[ARENA_PAGES];
	unsigned used_count;
	long budget;		/* allocations left; < 0: unlimited */
	unsigned allocs, frees, syncs;
	const struct pgtable *linked;	/* non-NULL: frees must be unlinked */
};

static struct fake_mem fm;

static unsigned fake_page_index(uint64_t phys)
{
	if (phys < ARENA_BASE || phys >= ARENA_BASE + ARENA_PAGES * PAGE)
		fail_msg("phys %#llx outside the arena", (unsigned long long)phys);
	return (unsigned)((phys - ARENA_BASE) / PAGE);
}

static uint64_t fake_alloc(void *ctx)
{
	struct fake_mem *m = ctx;

	if (m->budget == 0)
		return 0;
	for (unsigned i = 0; i < ARENA_PAGES; i++) {
		if (m->used[i])
			continue;
		if (m->budget > 0)
			m->budget--;
		m->used[i] = true;
		m->used_count++;
		m->allocs++;
		memset(m->arena + i * PAGE, 0, PAGE);
		return ARENA_BASE + i * PAGE;
	}
	return 0;
}

static bool fake_reachable(const struct pgtable *pt, uint64_t table, unsigned level,
			   uint64_t phys);

static void fake_free(void *ctx, uint64_t phys)
{
	struct fake_mem *m = ctx;
	unsigned i = fake_page_index(phys);

	if (phys % PAGE || !m->used[i])
		fail_msg("bad free of phys %#llx", (unsigned long long)phys);
	/* A table is freed only once no entry leads to it any more (else a
	 * hardware walk could still go there). */
	if (m->linked && fake_reachable(m->linked, m->linked->root, m->linked->fmt->levels, phys))
		fail_msg("phys %#llx freed while still linked in", (unsigned long long)phys);
	m->used[i] = false;
	m->used_count--;
	m->frees++;
	memset(m->arena + i * PAGE, 0xa5, PAGE);	/* poison: stale users see junk */
}

/* Only pages in use may be reached: this catches use after free. */
static void *fake_phys_to_virt(void *ctx, uint64_t phys)
{
	struct fake_mem *m = ctx;
	unsigned i = fake_page_index(phys);

	if (!m->used[i])
		fail_msg("access to free page phys %#llx", (unsigned long long)phys);
	return m->arena + (phys - ARENA_BASE);
}

/* A non-coherent walker's memory is updated only where the walker syncs. */
static void fake_sync(void *ctx, const void *virt, uint64_t len)
{
	struct fake_mem *m = ctx;
	size_t off = (size_t)((const uint8_t *)virt - m->arena);

	assert_true(off + len <= ARENA_PAGES * PAGE);
	m->syncs++;
	if (m->shadow)
		memcpy(m->shadow + off, m->arena + off, len);
}

static const struct pt_mem mem = {
	.alloc_page = fake_alloc,
	.phys_to_virt = fake_phys_to_virt,
	.ctx = &fm,
	.free_page = fake_free,
};

static const struct pt_mem mem_leaky = {
	.alloc_page = fake_alloc,
	.phys_to_virt = fake_phys_to_virt,
	.ctx = &fm,
};

static const struct pt_mem mem_noncoherent = {
	.alloc_page = fake_alloc,
	.phys_to_virt = fake_phys_to_virt,
	.ctx = &fm,
	.free_page = fake_free,
	.sync = fake_sync,
};

static int setup(void **state)
{
	(void)state;
	memset(&fm, 0, sizeof(fm));
	fm.arena = aligned_alloc(PAGE, ARENA_PAGES * PAGE);
	fm.shadow = calloc(ARENA_PAGES, PAGE);
	fm.budget = -1;
	return fm.arena && fm.shadow ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(fm.arena);
	free(fm.shadow);
	return 0;
}

/* Every page in use looks the same to a non-coherent walker. */
static void expect_synced(void)
{
	for (unsigned i = 0; i < ARENA_PAGES; i++)
		if (fm.used[i] && memcmp(fm.arena + i * PAGE, fm.shadow + i * PAGE, PAGE))
			fail_msg("page %u changed without a sync", i);
}

/* ---- test-only formats -------------------------------------------------- */

/*
 * EPT (Intel SDM Vol. 3C, "The EPT Translation Mechanism"): bits 0..2
 * read/write/execute, present = any of them; leaves carry the memory type
 * in bits 5:3 (0 UC, 6 WB) and bit 7 marks a 1 GiB/2 MiB page. Non-leaf
 * entries grant RWX and have bits 7:3 reserved. Write without read is a
 * misconfiguration, so it is not encodable.
 */
#define EPT_R		(1ull << 0)
#define EPT_W		(1ull << 1)
#define EPT_X		(1ull << 2)
#define EPT_RWX		(EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT	3
#define EPT_MT_MASK	(7ull << EPT_MT_SHIFT)
#define EPT_MT_UC	0ull
#define EPT_MT_WB	6ull
#define EPT_LARGE	(1ull << 7)
#define EPT_ADDR	0x000ffffffffff000ull

static bool ept_present(uint64_t e)
{
	return e & EPT_RWX;
}

static bool ept_is_leaf(uint64_t e, unsigned level)
{
	return (level == 2 || level == 3) && (e & EPT_LARGE);
}

static uint64_t ept_make_table(uint64_t phys, unsigned level)
{
	(void)level;
	return (phys & EPT_ADDR) | EPT_RWX;
}

static uint64_t ept_make_leaf(uint64_t phys, unsigned level, unsigned flags)
{
	uint64_t e = phys & EPT_ADDR;

	if ((flags & PT_WRITE) && !(flags & PT_READ))
		return 0;
	if (flags & PT_READ)
		e |= EPT_R;
	if (flags & PT_WRITE)
		e |= EPT_W;
	if (flags & PT_EXEC)
		e |= EPT_X;
	e |= (flags & PT_UC ? EPT_MT_UC : EPT_MT_WB) << EPT_MT_SHIFT;
	if (level > 1)
		e |= EPT_LARGE;
	return e;
}

static unsigned ept_leaf_flags(uint64_t e, unsigned level)
{
	unsigned flags = 0;

	(void)level;
	if (e & EPT_R)
		flags |= PT_READ;
	if (e & EPT_W)
		flags |= PT_WRITE;
	if (e & EPT_X)
		flags |= PT_EXEC;
	if (((e & EPT_MT_MASK) >> EPT_MT_SHIFT) == EPT_MT_UC)
		flags |= PT_UC;
	return flags;
}

static const struct pt_format ept_fmt = {
	.name = "test EPT",
	.levels = 4,
	.max_leaf_level = 3,
	.addr_mask = EPT_ADDR,
	.present = ept_present,
	.is_leaf = ept_is_leaf,
	.make_table = ept_make_table,
	.make_leaf = ept_make_leaf,
	.leaf_flags = ept_leaf_flags,
};

/*
 * Modelled on AMD IOMMU host page tables: bit 0 present, bits 11:9 the
 * level of the table an entry points to (0 in a leaf, at any level), bit
 * 61 read, bit 62 write, no execute permission. It needs the level passed
 * to make_table.
 */
#define AMDVI_PR		(1ull << 0)
#define AMDVI_NEXT_SHIFT	9
#define AMDVI_NEXT_MASK		(7ull << AMDVI_NEXT_SHIFT)
#define AMDVI_IR		(1ull << 61)
#define AMDVI_IW		(1ull << 62)
#define AMDVI_ADDR		0x000ffffffffff000ull

static bool amdvi_present(uint64_t e)
{
	return e & AMDVI_PR;
}

static bool amdvi_is_leaf(uint64_t e, unsigned level)
{
	(void)level;
	return (e & AMDVI_NEXT_MASK) == 0;
}

static uint64_t amdvi_make_table(uint64_t phys, unsigned level)
{
	return (phys & AMDVI_ADDR) | AMDVI_PR | AMDVI_IR | AMDVI_IW |
	       ((uint64_t)(level - 1) << AMDVI_NEXT_SHIFT);
}

static uint64_t amdvi_make_leaf(uint64_t phys, unsigned level, unsigned flags)
{
	uint64_t e = (phys & AMDVI_ADDR) | AMDVI_PR;

	(void)level;
	if (flags & PT_READ)
		e |= AMDVI_IR;
	if (flags & PT_WRITE)
		e |= AMDVI_IW;
	return e;
}

static unsigned amdvi_leaf_flags(uint64_t e, unsigned level)
{
	(void)level;
	return (e & AMDVI_IR ? PT_READ : 0) | (e & AMDVI_IW ? PT_WRITE : 0);
}

static const struct pt_format amdvi_fmt = {
	.name = "test AMD IOMMU",
	.levels = 4,
	.max_leaf_level = 3,
	.addr_mask = AMDVI_ADDR,
	.present = amdvi_present,
	.is_leaf = amdvi_is_leaf,
	.make_table = amdvi_make_table,
	.make_leaf = amdvi_make_leaf,
	.leaf_flags = amdvi_leaf_flags,
};

/* x86-64 entry bits, SDM Vol. 3A tables 4-15..4-20, spelled out again
 * here so the tests check pt_host.c against the manual, not itself. */
#define X_P	(1ull << 0)
#define X_RW	(1ull << 1)
#define X_US	(1ull << 2)
#define X_PWT	(1ull << 3)
#define X_PCD	(1ull << 4)
#define X_PS	(1ull << 7)	/* PAT in a 4 KiB PTE */
#define X_G	(1ull << 8)
#define X_XD	(1ull << 63)
#define X_ADDR	0x000ffffffffff000ull

/* ---- helpers ------------------------------------------------------------ */

static uint64_t level_size(unsigned level)
{
	return 1ull << (12 + 9 * (level - 1));
}

static void init_pt(struct pgtable *pt, const struct pt_format *fmt, const struct pt_mem *m)
{
	assert_int_equal(pt_init(pt, fmt, m), 0);
}

/* level 0: any level. */
static void expect_map(const struct pgtable *pt, uint64_t va, uint64_t pa,
		       unsigned flags, unsigned level)
{
	uint64_t got_pa = 0;
	unsigned got_flags = 0, got_level = 0;

	if (!pt_lookup(pt, va, &got_pa, &got_flags, &got_level))
		fail_msg("va %#llx is not mapped", (unsigned long long)va);
	if (got_pa != pa || got_flags != flags || (level && got_level != level))
		fail_msg("va %#llx: pa %#llx flags %#x level %u; want pa %#llx flags %#x level %u",
			 (unsigned long long)va, (unsigned long long)got_pa, got_flags,
			 got_level, (unsigned long long)pa, flags, level);
}

/* Is `phys` the table at `level` or any table below it? */
static bool fake_reachable(const struct pgtable *pt, uint64_t table, unsigned level,
			   uint64_t phys)
{
	const uint64_t *t = fake_phys_to_virt(&fm, table);

	if (table == phys)
		return true;
	for (unsigned i = 0; i < 512 && level > 1; i++)
		if (pt->fmt->present(t[i]) && !pt->fmt->is_leaf(t[i], level) &&
		    fake_reachable(pt, t[i] & pt->fmt->addr_mask, level - 1, phys))
			return true;
	return false;
}

static void expect_unmapped(const struct pgtable *pt, uint64_t va)
{
	uint64_t pa;

	if (pt_lookup(pt, va, &pa, NULL, NULL))
		fail_msg("va %#llx is mapped (to %#llx)", (unsigned long long)va,
			 (unsigned long long)pa);
}

static uint64_t *table_at(uint64_t phys)
{
	return fake_phys_to_virt(&fm, phys);
}

/* The entry at `level` on the walk to va. */
static uint64_t raw_entry(const struct pgtable *pt, uint64_t va, unsigned level)
{
	uint64_t table = pt->root;

	for (unsigned l = pt->fmt->levels;; l--) {
		uint64_t e = table_at(table)[(va >> (12 + 9 * (l - 1))) & 511];

		if (l == level)
			return e;
		if (!pt->fmt->present(e) || pt->fmt->is_leaf(e, l))
			fail_msg("va %#llx: no table at level %u", (unsigned long long)va, l);
		table = e & pt->fmt->addr_mask;
	}
}

struct tree_stats {
	unsigned tables;
	unsigned leaves[6];	/* by level */
};

static void tree_count(const struct pgtable *pt, uint64_t table, unsigned level,
		       bool root, struct tree_stats *s)
{
	const uint64_t *t = table_at(table);
	unsigned present = 0;

	s->tables++;
	for (unsigned i = 0; i < 512; i++) {
		if (!pt->fmt->present(t[i]))
			continue;
		present++;
		if (level > 1 && !pt->fmt->is_leaf(t[i], level))
			tree_count(pt, t[i] & pt->fmt->addr_mask, level - 1, false, s);
		else
			s->leaves[level]++;
	}
	if (!root && !present)
		fail_msg("an empty table is still linked in");
}

/* Counts tables and leaves; with the freeing allocator, every page in use
 * must be a reachable table (nothing leaked). */
static struct tree_stats tree_stats(const struct pgtable *pt)
{
	struct tree_stats s = { 0 };

	tree_count(pt, pt->root, pt->fmt->levels, true, &s);
	if (pt->mem->free_page && s.tables != fm.used_count)
		fail_msg("%u tables reachable, %u pages in use", s.tables, fm.used_count);
	return s;
}

/* ---- tests -------------------------------------------------------------- */

static void test_init_and_empty(void **state)
{
	struct pgtable pt;
	struct pt_format bad = pt_format_x86_host;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	assert_int_equal(fm.used_count, 1);
	expect_unmapped(&pt, 0);
	expect_unmapped(&pt, 0x7ffffffff000ull);
	assert_false(pt_lookup(&pt, 1ull << 48, NULL, NULL, NULL));

	fm.budget = 0;		/* size 0 is a no-op: no allocation needed */
	assert_int_equal(pt_map(&pt, 4 * GIB, 0, 0, PT_READ), 0);
	assert_int_equal(pt_unmap(&pt, 4 * GIB, 0), 0);
	assert_int_equal(pt_init(&pt, &pt_format_x86_host, &mem), -ENOMEM);

	fm.budget = -1;
	bad.max_leaf_level = 0;
	assert_int_equal(pt_init(&pt, &bad, &mem), -EINVAL);
	bad = pt_format_x86_host;
	bad.levels = 6;
	assert_int_equal(pt_init(&pt, &bad, &mem), -EINVAL);
	bad = pt_format_x86_host;
	bad.make_leaf = NULL;
	assert_int_equal(pt_init(&pt, &bad, &mem), -EINVAL);
}

static void test_identity_4g_1g_leaves(void **state)
{
	struct pgtable pt;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	assert_int_equal(pt_map(&pt, 0, 0, 4 * GIB, PT_READ | PT_WRITE), 0);
	for (uint64_t va = 0; va < 4 * GIB; va += 256 * MIB)
		expect_map(&pt, va + 0x1234000, va + 0x1234000, PT_READ | PT_WRITE, 3);
	expect_map(&pt, 4 * GIB - PAGE, 4 * GIB - PAGE, PT_READ | PT_WRITE, 3);
	expect_unmapped(&pt, 4 * GIB);

	struct tree_stats s = tree_stats(&pt);
	assert_int_equal(s.tables, 2);		/* PML4 + one PDPT */
	assert_int_equal(s.leaves[3], 4);
	assert_int_equal(s.leaves[2] + s.leaves[1], 0);
}

static void test_identity_4g_2m_leaves(void **state)
{
	struct pgtable pt;

	(void)state;
	init_pt(&pt, &pt_format_x86_host_2m, &mem);
	assert_int_equal(pt_map(&pt, 0, 0, 4 * GIB, PT_READ | PT_WRITE), 0);
	for (uint64_t va = 0; va < 4 * GIB; va += 2 * MIB)
		expect_map(&pt, va, va, PT_READ | PT_WRITE, 2);

	struct tree_stats s = tree_stats(&pt);
	assert_int_equal(s.tables, 6);		/* PML4, PDPT, 4 PDs */
	assert_int_equal(s.leaves[2], 2048);
	assert_int_equal(s.leaves[3] + s.leaves[1], 0);
}

static void test_unaligned_range_uses_4k_edges(void **state)
{
	struct pgtable pt;
	const unsigned f = PT_READ | PT_WRITE;
	uint64_t va = 2 * MIB - 2 * PAGE, end = 8 * MIB + 3 * PAGE;
	uint64_t pa = 0x40000000ull - 2 * PAGE;	/* same offset within 2 MiB */

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	assert_int_equal(pt_map(&pt, va, pa, end - va, f), 0);
	for (uint64_t v = va; v < end; v += PAGE)
		expect_map(&pt, v, pa + (v - va), f, v >= 2 * MIB && v < 8 * MIB ? 2 : 1);
	expect_unmapped(&pt, va - PAGE);
	expect_unmapped(&pt, end);
	struct tree_stats s = tree_stats(&pt);
	assert_int_equal(s.leaves[2], 3);
	assert_int_equal(s.leaves[1], 5);

	/* pa misaligned to 2 MiB relative to va: 4 KiB pages throughout. */
	assert_int_equal(pt_map(&pt, 64 * MIB, 0x5000, 4 * MIB, f), 0);
	for (uint64_t v = 64 * MIB; v < 68 * MIB; v += PAGE)
		expect_map(&pt, v, 0x5000 + (v - 64 * MIB), f, 1);

	/* Across 1 GiB boundaries: 2M, then 1G, then 4K. */
	va = GIB - 2 * MIB;
	assert_int_equal(pt_map(&pt, va, va, 2 * GIB + PAGE - va, f), 0);
	expect_map(&pt, va, va, f, 2);
	expect_map(&pt, GIB, GIB, f, 3);
	expect_map(&pt, 2 * GIB - PAGE, 2 * GIB - PAGE, f, 3);
	expect_map(&pt, 2 * GIB, 2 * GIB, f, 1);
	expect_unmapped(&pt, 2 * GIB + PAGE);
	tree_stats(&pt);
}

static void test_split_1g_keeps_rest(void **state)
{
	struct pgtable pt;
	const unsigned big = PT_READ | PT_WRITE | PT_GLOBAL;
	const unsigned small = PT_READ | PT_EXEC;
	uint64_t base = GIB, pa = 5 * GIB, va = base + 0x12345000ull;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	assert_int_equal(pt_map(&pt, base, pa, GIB, big), 0);
	uint64_t leaf_1g = raw_entry(&pt, base, 3);

	assert_int_equal(pt_map(&pt, va, 0x7000, PAGE, small), 0);
	expect_map(&pt, va, 0x7000, small, 1);
	/* The rest of its 2 MiB: 4 KiB leaves, same pa and flags as before. */
	for (uint64_t v = va & ~(2 * MIB - 1); v < (va & ~(2 * MIB - 1)) + 2 * MIB; v += PAGE)
		if (v != va)
			expect_map(&pt, v, pa + (v - base), big, 1);
	/* The rest of the 1 GiB: 2 MiB leaves. */
	for (uint64_t v = base; v < base + GIB; v += 2 * MIB)
		if (v != (va & ~(2 * MIB - 1)))
			expect_map(&pt, v + 0x3000, pa + (v - base) + 0x3000, big, 2);
	/* The raw entries carry exactly the old bits (here: G kept, XD kept,
	 * PS only where it belongs). */
	uint64_t e2 = raw_entry(&pt, base, 2), e1 = raw_entry(&pt, va + PAGE, 1);
	assert_int_equal(e2, (leaf_1g & ~X_ADDR) | ((pa) & X_ADDR));
	assert_int_equal(e1, ((leaf_1g & ~X_ADDR & ~X_PS) | ((pa + (va + PAGE - base)) & X_ADDR)));
	assert_int_equal(raw_entry(&pt, va, 1), 0x7000 | X_P);

	struct tree_stats s = tree_stats(&pt);
	assert_int_equal(s.tables, 4);		/* PML4, PDPT, PD, PT */
	assert_int_equal(s.leaves[2], 511);
	assert_int_equal(s.leaves[1], 512);
}

static void test_unmap_guard_page(void **state)
{
	struct pgtable pt;
	const unsigned f = PT_READ | PT_WRITE;
	uint64_t guard = 3 * GIB + 0x7654000ull;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	fm.linked = &pt;
	assert_int_equal(pt_map(&pt, 3 * GIB, 3 * GIB, GIB, f), 0);
	assert_int_equal(pt_unmap(&pt, guard, PAGE), 0);
	expect_unmapped(&pt, guard);
	expect_map(&pt, guard - PAGE, guard - PAGE, f, 1);
	expect_map(&pt, guard + PAGE, guard + PAGE, f, 1);
	expect_map(&pt, 3 * GIB, 3 * GIB, f, 2);
	expect_map(&pt, 4 * GIB - PAGE, 4 * GIB - PAGE, f, 2);
	assert_int_equal(tree_stats(&pt).tables, 4);

	/* Unmapping what is left frees every table below the root. */
	assert_int_equal(pt_unmap(&pt, 3 * GIB, guard - 3 * GIB), 0);
	assert_int_equal(pt_unmap(&pt, guard + PAGE, 4 * GIB - guard - PAGE), 0);
	expect_unmapped(&pt, 3 * GIB);
	expect_unmapped(&pt, guard + PAGE);
	assert_int_equal(tree_stats(&pt).tables, 1);
	assert_int_equal(fm.used_count, 1);

	/* Unmapping nothing that is mapped allocates nothing. */
	fm.budget = 0;
	assert_int_equal(pt_unmap(&pt, 100 * GIB, GIB + PAGE), 0);
}

static void test_permissions(void **state)
{
	struct pgtable pt;
	const uint64_t text = 16 * MIB, rodata = text + 2 * PAGE, data = rodata + PAGE;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	assert_int_equal(pt_map(&pt, text, text, 2 * PAGE, PT_READ | PT_EXEC), 0);
	assert_int_equal(pt_map(&pt, rodata, rodata, PAGE, PT_READ), 0);
	assert_int_equal(pt_map(&pt, data, data, PAGE, PT_READ | PT_WRITE), 0);
	assert_int_equal(pt_map(&pt, 0xfec00000ull, 0xfec00000ull, 2 * MIB,
				PT_READ | PT_WRITE | PT_UC | PT_GLOBAL), 0);
	assert_int_equal(pt_map(&pt, 8 * GIB, 8 * GIB, GIB, PT_READ | PT_WRITE | PT_EXEC), 0);

	assert_int_equal(raw_entry(&pt, text, 1), text | X_P);
	assert_int_equal(raw_entry(&pt, rodata, 1), rodata | X_P | X_XD);
	assert_int_equal(raw_entry(&pt, data, 1), data | X_P | X_RW | X_XD);
	assert_int_equal(raw_entry(&pt, 0xfec00000ull, 2),
			 0xfec00000ull | X_P | X_RW | X_PCD | X_PWT | X_G | X_PS | X_XD);
	assert_int_equal(raw_entry(&pt, 8 * GIB, 3), 8 * GIB | X_P | X_RW | X_PS);

	expect_map(&pt, text + PAGE, text + PAGE, PT_READ | PT_EXEC, 1);
	expect_map(&pt, rodata, rodata, PT_READ, 1);
	expect_map(&pt, data, data, PT_READ | PT_WRITE, 1);
	expect_map(&pt, 0xfec01000ull, 0xfec01000ull,
		   PT_READ | PT_WRITE | PT_UC | PT_GLOBAL, 2);
	expect_map(&pt, 8 * GIB, 8 * GIB, PT_READ | PT_WRITE | PT_EXEC, 3);

	/* Non-leaf entries: P|RW and the address, nothing else (no U/S, no
	 * XD that would take execute away from the whole subtree). */
	for (unsigned l = 4; l >= 2; l--) {
		uint64_t e = raw_entry(&pt, text, l);
		assert_int_equal(e & ~X_ADDR, X_P | X_RW);
	}

	/* PT_READ is implied; flags the format cannot encode are refused. */
	assert_int_equal(pt_map(&pt, data, data, PAGE, 0), 0);
	expect_map(&pt, data, data, PT_READ, 1);
	assert_int_equal(pt_map(&pt, data, data, PAGE, PT_READ | PT_USER), -EINVAL);
	assert_int_equal(pt_map(&pt, data, data, PAGE, PT_READ | (1u << 6)), -EINVAL);
	expect_map(&pt, data, data, PT_READ, 1);
	tree_stats(&pt);
}

static void test_invalid_args(void **state)
{
	struct pgtable pt;
	const unsigned f = PT_READ;
	const uint64_t top = 1ull << 48;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	assert_int_equal(pt_map(&pt, 0x1000 + 1, 0, PAGE, f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x1000, 0x800, PAGE, f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x1000, 0, 100, f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x1001, 0, 0, f), -EINVAL);	/* checked even if empty */
	assert_int_equal(pt_map(&pt, top, 0, PAGE, f), -EINVAL);
	assert_int_equal(pt_map(&pt, top - PAGE, 0, 2 * PAGE, f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0xffff800000000000ull, 0, PAGE, f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x1000, 0, UINT64_MAX & ~(PAGE - 1), f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x1000, UINT64_MAX & ~(PAGE - 1), 2 * PAGE, f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x1000, 1ull << 52, PAGE, f), -EINVAL);
	assert_int_equal(pt_map(&pt, 0x1000, (1ull << 52) - PAGE, 2 * PAGE, f), -EINVAL);
	assert_int_equal(pt_unmap(&pt, 0x1800, PAGE), -EINVAL);
	assert_int_equal(pt_unmap(&pt, 0x1000, 0x800), -EINVAL);
	assert_int_equal(pt_unmap(&pt, top - PAGE, 2 * PAGE), -EINVAL);
	assert_int_equal(pt_unmap(&pt, PAGE, UINT64_MAX & ~(PAGE - 1)), -EINVAL);
	assert_int_equal(fm.used_count, 1);	/* nothing was touched */

	/* The edges themselves are fine. */
	assert_int_equal(pt_map(&pt, top - PAGE, (1ull << 52) - PAGE, PAGE, f), 0);
	expect_map(&pt, top - PAGE, (1ull << 52) - PAGE, f, 1);
	assert_int_equal(pt_unmap(&pt, top - PAGE, PAGE), 0);
	expect_unmapped(&pt, top - PAGE);
	tree_stats(&pt);
}

static void expect_gib_unchanged(const struct pgtable *pt, uint64_t base, uint64_t pa,
				 unsigned f, uint64_t hot)
{
	for (uint64_t v = hot - 8 * PAGE; v < hot + 8 * PAGE; v += PAGE)
		expect_map(pt, v, pa + (v - base), f, 0);
	for (uint64_t v = base; v < base + GIB; v += 2 * MIB)
		expect_map(pt, v, pa + (v - base), f, 0);
}

static void test_enomem_keeps_mappings(void **state)
{
	struct pgtable pt;
	const unsigned f = PT_READ | PT_WRITE | PT_GLOBAL;
	uint64_t hot = GIB + 0x123000;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	assert_int_equal(pt_map(&pt, GIB, 5 * GIB, GIB, f), 0);

	/* Mapping 4K into the 1G leaf needs a PD and a PT: fail at each. */
	for (long budget = 0; budget < 2; budget++) {
		fm.budget = budget;
		assert_int_equal(pt_map(&pt, hot, 0x7000, PAGE, PT_READ), -ENOMEM);
		fm.budget = -1;
		expect_gib_unchanged(&pt, GIB, 5 * GIB, f, hot);
		tree_stats(&pt);
	}
	fm.budget = 2;
	assert_int_equal(pt_map(&pt, hot, 0x7000, PAGE, PT_READ), 0);
	fm.budget = -1;
	expect_map(&pt, hot, 0x7000, PT_READ, 1);

	/* Unmap that must split a 2M leaf: nothing unmapped on failure. */
	uint64_t guard = GIB + 600 * MIB + 5 * PAGE;
	fm.budget = 0;
	assert_int_equal(pt_unmap(&pt, guard, PAGE), -ENOMEM);
	fm.budget = -1;
	expect_gib_unchanged(&pt, GIB, 5 * GIB, f, guard);

	/* A fresh map needing PDPT, PD and PT where nothing was: the tables
	 * made before the failure are freed again. */
	unsigned used = fm.used_count;
	fm.budget = 2;
	assert_int_equal(pt_map(&pt, 3 * 512 * GIB + PAGE, 0, PAGE, f), -ENOMEM);
	fm.budget = -1;
	assert_int_equal(fm.used_count, used);
	expect_unmapped(&pt, 3 * 512 * GIB + PAGE);
	tree_stats(&pt);
}

static void test_enomem_2m_identity(void **state)
{
	struct pgtable pt;

	(void)state;
	init_pt(&pt, &pt_format_x86_host_2m, &mem);
	fm.budget = 3;		/* PDPT + 2 of the 4 PDs */
	assert_int_equal(pt_map(&pt, 0, 0, 4 * GIB, PT_READ), -ENOMEM);
	fm.budget = -1;
	assert_int_equal(fm.used_count, 1);
	for (uint64_t va = 0; va < 4 * GIB; va += 2 * MIB)
		expect_unmapped(&pt, va);
}

static void test_replace_frees_subtree(void **state)
{
	struct pgtable pt;
	const unsigned f = PT_READ | PT_WRITE;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem);
	/* pa off by 4K: 512 PTs under one PD. */
	assert_int_equal(pt_map(&pt, 0, PAGE, GIB, f), 0);
	assert_int_equal(tree_stats(&pt).leaves[1], 512 * 512);
	assert_int_equal(fm.used_count, 3 + 512);
	/* One 1G leaf replaces all of it. */
	assert_int_equal(pt_map(&pt, 0, 0, GIB, f), 0);
	assert_int_equal(fm.used_count, 2);
	assert_int_equal(fm.frees, 513);
	expect_map(&pt, 0x5000, 0x5000, f, 3);
	/* Unmapping a whole 1G entry with 2M leaves below frees the PD. */
	assert_int_equal(pt_map(&pt, 2 * GIB, 2 * GIB + 2 * MIB, GIB, f), 0);
	assert_int_equal(pt_unmap(&pt, 2 * GIB, GIB), 0);
	assert_int_equal(fm.used_count, 2);
	tree_stats(&pt);
}

static void test_leaky_mem_without_free_page(void **state)
{
	struct pgtable pt;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem_leaky);
	assert_int_equal(pt_map(&pt, 0, PAGE, 4 * MIB, PT_READ), 0);
	assert_int_equal(fm.used_count, 5);
	assert_int_equal(pt_map(&pt, 0, 0, GIB, PT_READ), 0);
	assert_int_equal(fm.frees, 0);		/* documented: tables leak */
	expect_map(&pt, 0x3000, 0x3000, PT_READ, 3);
	assert_int_equal(tree_stats(&pt).tables, 2);
}

static void test_ept_format(void **state)
{
	struct pgtable pt;
	const unsigned rwx = PT_READ | PT_WRITE | PT_EXEC;
	uint64_t va = GIB + 0x5000;

	(void)state;
	init_pt(&pt, &ept_fmt, &mem);
	assert_int_equal(pt_map(&pt, 0, 0, 4 * GIB, rwx), 0);
	for (uint64_t g = 0; g < 4 * GIB; g += GIB)
		expect_map(&pt, g + 0x1000, g + 0x1000, rwx, 3);
	assert_int_equal(raw_entry(&pt, 2 * GIB, 3),
			 2 * GIB | EPT_RWX | EPT_MT_WB << EPT_MT_SHIFT | EPT_LARGE);
	assert_int_equal(raw_entry(&pt, 0, 4) & ~EPT_ADDR, EPT_RWX);

	/* Execute-only: present though R is clear; splits down to 4K. */
	assert_int_equal(pt_map(&pt, va, 0x9000, PAGE, PT_EXEC), 0);
	expect_map(&pt, va, 0x9000, PT_EXEC, 1);
	assert_int_equal(raw_entry(&pt, va, 1), 0x9000 | EPT_X | EPT_MT_WB << EPT_MT_SHIFT);
	expect_map(&pt, va - PAGE, va - PAGE, rwx, 1);
	expect_map(&pt, va + 2 * MIB, va + 2 * MIB, rwx, 2);
	assert_int_equal(raw_entry(&pt, va, 2) & ~EPT_ADDR, EPT_RWX);

	/* MMIO: uncached memory type. */
	assert_int_equal(pt_map(&pt, 0xfee00000ull, 0xfee00000ull, PAGE,
				PT_READ | PT_WRITE | PT_UC), 0);
	assert_int_equal(raw_entry(&pt, 0xfee00000ull, 1), 0xfee00000ull | EPT_R | EPT_W);
	expect_map(&pt, 0xfee00000ull, 0xfee00000ull, PT_READ | PT_WRITE | PT_UC, 1);

	/* Not encodable: write-only, no access at all, global, user. */
	assert_int_equal(pt_map(&pt, va, va, PAGE, PT_WRITE), -EINVAL);
	assert_int_equal(pt_map(&pt, va, va, PAGE, 0), -EINVAL);
	assert_int_equal(pt_map(&pt, va, va, PAGE, PT_READ | PT_GLOBAL), -EINVAL);
	assert_int_equal(pt_map(&pt, va, va, PAGE, PT_READ | PT_USER), -EINVAL);

	assert_int_equal(pt_unmap(&pt, va, PAGE), 0);
	expect_unmapped(&pt, va);
	expect_map(&pt, va + PAGE, va + PAGE, rwx, 1);
	tree_stats(&pt);
}

/* Every table entry records the level of the table it points to. */
static void amdvi_check_levels(uint64_t table, unsigned level)
{
	const uint64_t *t = table_at(table);

	for (unsigned i = 0; i < 512; i++) {
		if (!amdvi_present(t[i]) || amdvi_is_leaf(t[i], level))
			continue;
		assert_int_equal((t[i] & AMDVI_NEXT_MASK) >> AMDVI_NEXT_SHIFT, level - 1);
		amdvi_check_levels(t[i] & AMDVI_ADDR, level - 1);
	}
}

static void test_amdvi_format_next_level(void **state)
{
	struct pgtable pt;
	const unsigned rw = PT_READ | PT_WRITE;

	(void)state;
	init_pt(&pt, &amdvi_fmt, &mem);
	assert_int_equal(pt_map(&pt, 0, 0, 2 * MIB + PAGE, rw), 0);
	assert_int_equal(pt_map(&pt, 600 * GIB, 0, 2 * GIB, PT_READ), 0);
	expect_map(&pt, 0x1000, 0x1000, rw, 2);
	expect_map(&pt, 2 * MIB, 2 * MIB, rw, 1);
	expect_map(&pt, 601 * GIB, GIB, PT_READ, 3);
	amdvi_check_levels(pt.root, 4);
	/* Splitting a 1G leaf links a PD (next level 2) of 2M leaves (next
	 * level 0), then a PT (next level 1) under one of them. */
	assert_int_equal(pt_map(&pt, 600 * GIB + PAGE, 0x3000, PAGE, rw), 0);
	amdvi_check_levels(pt.root, 4);
	expect_map(&pt, 600 * GIB + 2 * PAGE, 2 * PAGE, PT_READ, 1);
	expect_map(&pt, 600 * GIB + 4 * MIB, 4 * MIB, PT_READ, 2);
	assert_int_equal(pt_map(&pt, 0, 0, PAGE, PT_READ | PT_EXEC), -EINVAL);
	tree_stats(&pt);
}

static void test_noncoherent_sync(void **state)
{
	struct pgtable pt;
	const unsigned f = PT_READ | PT_WRITE;

	(void)state;
	init_pt(&pt, &pt_format_x86_host, &mem_noncoherent);
	expect_synced();
	assert_int_equal(pt_map(&pt, 0, 0, 4 * GIB, f), 0);
	expect_synced();
	assert_int_equal(pt_map(&pt, GIB + 0x5000, 0x9000, 3 * PAGE, PT_READ), 0);
	expect_synced();
	assert_int_equal(pt_unmap(&pt, 2 * GIB + 0x7000, PAGE), 0);
	expect_synced();
	assert_int_equal(pt_map(&pt, 3 * GIB - PAGE, 3 * GIB - PAGE, 4 * MIB, f), 0);
	expect_synced();
	assert_int_equal(pt_unmap(&pt, 0, 4 * GIB), 0);
	expect_synced();
	assert_true(fm.syncs > 0);
	tree_stats(&pt);
}

/* ---- randomized test against a reference model ---------------------------
 *
 * A 1 GiB region starts out mapped by one leaf (2 MiB leaves with the 2M
 * format); random maps and unmaps hit a 64 MiB window inside it, with
 * random alignments and random allocation failures. The model holds one
 * entry per 4 KiB page of the window plus the (uniform) mapping of the
 * rest of the region.
 */

#define RND_REGION	GIB
#define RND_WIN		(RND_REGION + 288 * MIB)
#define RND_WIN_PAGES	(64 * MIB / PAGE)
#define RND_STEPS	1500

struct ref_page {
	bool mapped;
	unsigned flags;
	uint64_t pa;
};

static struct ref_page ref[RND_WIN_PAGES];
static struct ref_page ref_rest;	/* pa: where RND_REGION maps to */
static uint64_t rng;

static uint64_t rnd(void)	/* xorshift64* */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static unsigned rnd_flags(unsigned allowed)
{
	unsigned f = PT_READ;
	const unsigned opt[] = { PT_WRITE, PT_EXEC, PT_GLOBAL, PT_UC };

	for (unsigned i = 0; i < 4; i++)
		if ((allowed & opt[i]) && (rnd() & 1))
			f |= opt[i];
	return f;
}

/* A random page range [*first, *first + *n) of the window. */
static void rnd_range(uint64_t *first, uint64_t *n)
{
	static const uint64_t max_len[] = { 4, 64, 1024, RND_WIN_PAGES };
	uint64_t f = rnd() % RND_WIN_PAGES, len = 1 + rnd() % max_len[rnd() % 4];

	if (rnd() % 2)
		f &= ~511ull;		/* 2 MiB aligned start */
	if (rnd() % 3 == 0)
		len = (len + 511) & ~511ull;
	if (f + len > RND_WIN_PAGES)
		len = RND_WIN_PAGES - f;
	*first = f;
	*n = len;
}

static void ref_set_window(bool mapped, uint64_t first, uint64_t n, uint64_t pa, unsigned flags)
{
	for (uint64_t i = 0; i < n; i++)
		ref[first + i] = (struct ref_page){ mapped, flags, pa + i * PAGE };
}

static void rnd_check(const struct pgtable *pt, int step)
{
	for (uint64_t i = 0; i < RND_WIN_PAGES; i++) {
		uint64_t va = RND_WIN + i * PAGE, pa = 0;
		unsigned flags = 0, level = 0;
		bool ok = pt_lookup(pt, va, &pa, &flags, &level);

		if (ok != ref[i].mapped || (ok && (pa != ref[i].pa || flags != ref[i].flags)))
			fail_msg("step %d va %#llx: %s pa %#llx flags %#x; want %s pa %#llx flags %#x",
				 step, (unsigned long long)va, ok ? "mapped" : "unmapped",
				 (unsigned long long)pa, flags, ref[i].mapped ? "mapped" : "unmapped",
				 (unsigned long long)ref[i].pa, ref[i].flags);
		if (!ok || level == 1)
			continue;
		/* A large leaf: the model must agree on its whole block. */
		uint64_t start = va & ~(level_size(level) - 1);
		uint64_t last = start + level_size(level) - PAGE;
		for (uint64_t b = start; b <= last; b += level_size(level) - PAGE) {
			if (b < RND_WIN || b >= RND_WIN + RND_WIN_PAGES * PAGE) {
				struct ref_page r = ref_rest;
				r.pa += b - RND_REGION;
				assert_true(r.mapped && r.flags == flags && r.pa == pa - (va - b));
				continue;
			}
			const struct ref_page *r = &ref[(b - RND_WIN) / PAGE];
			if (!r->mapped || r->flags != flags || r->pa != pa - (va - b))
				fail_msg("step %d: level %u leaf at %#llx disagrees with the model",
					 step, level, (unsigned long long)start);
		}
	}
	/* The rest of the region, in 2 MiB steps, and the window's edges. */
	for (uint64_t va = RND_REGION; va < RND_REGION + GIB; va += 2 * MIB) {
		if (va >= RND_WIN && va < RND_WIN + RND_WIN_PAGES * PAGE)
			continue;
		for (uint64_t v = va; v < va + 2 * MIB; v += 2 * MIB - PAGE) {
			if (ref_rest.mapped)
				expect_map(pt, v, ref_rest.pa + (v - RND_REGION), ref_rest.flags, 0);
			else
				expect_unmapped(pt, v);
		}
	}
	tree_stats(pt);
	expect_synced();
}

/* After a successful map: every 2 MiB block it covers with a 2 MiB
 * aligned pa is one leaf. */
static void rnd_check_largest(const struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t size)
{
	for (uint64_t b = (va + 2 * MIB - 1) & ~(2 * MIB - 1); b + 2 * MIB <= va + size; b += 2 * MIB) {
		unsigned level = 0;
		if (((pa + (b - va)) & (2 * MIB - 1)) == 0) {
			assert_true(pt_lookup(pt, b, NULL, NULL, &level));
			assert_int_equal(level, 2);
		}
	}
}

static void run_random(const struct pt_format *fmt, unsigned allowed, uint64_t seed)
{
	struct pgtable pt;
	unsigned enomem = 0, ops[4] = { 0 };

	rng = seed;
	init_pt(&pt, fmt, &mem_noncoherent);
	fm.linked = &pt;
	ref_rest = (struct ref_page){ true, PT_READ | PT_WRITE, 3 * GIB };
	assert_int_equal(pt_map(&pt, RND_REGION, ref_rest.pa, GIB, ref_rest.flags), 0);
	ref_set_window(true, 0, RND_WIN_PAGES, ref_rest.pa + (RND_WIN - RND_REGION), ref_rest.flags);
	expect_map(&pt, RND_WIN, ref[0].pa, ref_rest.flags, fmt->max_leaf_level);
	rnd_check(&pt, -1);

	for (int step = 0; step < RND_STEPS; step++) {
		uint64_t first, n, pa;
		unsigned op = (unsigned)(rnd() % 100), flags = rnd_flags(allowed);
		int rc;

		rnd_range(&first, &n);
		uint64_t va = RND_WIN + first * PAGE, size = n * PAGE;
		pa = (rnd() % (1ull << 24)) * PAGE;	/* below 64 GiB */
		if (rnd() % 2)		/* same offset in 2 MiB: large leaves possible */
			pa = (pa & ~(2 * MIB - 1)) | (va & (2 * MIB - 1));
		if (rnd() % 4 == 0)
			fm.budget = (long)(rnd() % 4);

		if (op < 47) {
			ops[0]++;
			rc = pt_map(&pt, va, pa, size, flags);
			if (!rc) {
				ref_set_window(true, first, n, pa, flags);
				rnd_check_largest(&pt, va, pa, size);
			}
		} else if (op < 94) {
			ops[1]++;
			rc = pt_unmap(&pt, va, size);
			if (!rc)
				ref_set_window(false, first, n, 0, 0);
		} else if (op < 97) {
			/* The whole region, with a 1 GiB aligned pa. */
			ops[2]++;
			pa = (rnd() % 64) * GIB;
			rc = pt_map(&pt, RND_REGION, pa, GIB, flags);
			if (!rc) {
				ref_rest = (struct ref_page){ true, flags, pa };
				ref_set_window(true, 0, RND_WIN_PAGES, pa + (RND_WIN - RND_REGION), flags);
				expect_map(&pt, RND_WIN, ref[0].pa, flags, fmt->max_leaf_level);
			}
		} else {
			ops[3]++;
			rc = pt_unmap(&pt, RND_REGION, GIB);
			if (!rc) {
				ref_rest.mapped = false;
				ref_set_window(false, 0, RND_WIN_PAGES, 0, 0);
			}
		}
		if (rc == -ENOMEM && fm.budget >= 0)
			enomem++;
		else if (rc)
			fail_msg("step %d: unexpected error %d", step, rc);
		fm.budget = -1;
		rnd_check(&pt, step);
	}
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "%s: %u maps, %u unmaps, %u region maps, %u region unmaps, "
			"%u ENOMEM, %u allocs, %u frees, %u syncs\n", fmt->name, ops[0], ops[1],
			ops[2], ops[3], enomem, fm.allocs, fm.frees, fm.syncs);
	/* The run did exercise what it is meant to. */
	assert_true(enomem > 10);
	assert_true(ops[0] > 100 && ops[1] > 100 && ops[2] > 5 && ops[3] > 5);
}

static void test_random_host_1g(void **state)
{
	(void)state;
	run_random(&pt_format_x86_host, PT_WRITE | PT_EXEC | PT_GLOBAL | PT_UC, 0x9e3779b97f4a7c15ull);
}

static void test_random_host_2m(void **state)
{
	(void)state;
	run_random(&pt_format_x86_host_2m, PT_WRITE | PT_EXEC | PT_GLOBAL | PT_UC, 0x243f6a8885a308d3ull);
}

static void test_random_ept(void **state)
{
	(void)state;
	run_random(&ept_fmt, PT_WRITE | PT_EXEC | PT_UC, 0x13198a2e03707344ull);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_and_empty),
		T(test_identity_4g_1g_leaves),
		T(test_identity_4g_2m_leaves),
		T(test_unaligned_range_uses_4k_edges),
		T(test_split_1g_keeps_rest),
		T(test_unmap_guard_page),
		T(test_permissions),
		T(test_invalid_args),
		T(test_enomem_keeps_mappings),
		T(test_enomem_2m_identity),
		T(test_replace_frees_subtree),
		T(test_leaky_mem_without_free_page),
		T(test_ept_format),
		T(test_amdvi_format_next_level),
		T(test_noncoherent_sync),
		T(test_random_host_1g),
		T(test_random_host_2m),
		T(test_random_ept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
