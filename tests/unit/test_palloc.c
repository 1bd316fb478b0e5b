/*
 * Tests for kernel/palloc.c: set-up from a memory map, highest-fit
 * allocation with alignment and limits, frees that coalesce, every kind
 * of bad free, a full range table, and a randomized run against a
 * page-by-page reference model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "kernel/memmap.h"
#include "kernel/palloc.h"
#include "tests/unit/host_stubs.h"

#define MiB 0x100000ull
#define GiB 0x40000000ull
#define PG  PAGE_SIZE

static struct memmap map;
static struct palloc pa, saved;	/* ~16 KiB each: off the stack */

static void add(uint64_t base, uint64_t len, uint32_t type)
{
	assert_int_equal(memmap_add(&map, base, len, type), 0);
}

static void check_invariants(const struct palloc *p)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < p->count; i++) {
		assert_true(p->free[i].base < p->free[i].end);
		assert_int_equal(p->free[i].base % PG, 0);
		assert_int_equal(p->free[i].end % PG, 0);
		assert_true(p->free[i].base >= PG);
		if (i)
			assert_true(p->free[i - 1].end < p->free[i].base);	/* coalesced */
		sum += p->free[i].end - p->free[i].base;
	}
	assert_int_equal(sum, p->free_bytes);
}

/* A bad free must change nothing and say why. */
static void expect_refused(uint64_t base, uint64_t npages, int err, const char *msg)
{
	saved = pa;
	test_log_clear();
	assert_int_equal(palloc_free(&pa, base, npages), err);
	assert_memory_equal(&pa, &saved, sizeof(pa));
	if (!test_log_has(msg))
		fprintf(stderr, "log was: %s", test_log());
	assert_true(test_log_has(msg));
}

/* A small PC: low RAM, a hole, 1 MiB..128 MiB, PCI hole, 4..6 GiB. */
static int setup(void **state)
{
	(void)state;
	test_log_clear();
	memmap_init(&map);
	add(0, 0x9fc00, MEM_USABLE);
	add(0x9fc00, 0x60400, MEM_RESERVED);
	add(1 * MiB, 127 * MiB, MEM_USABLE);
	add(0xfec00000, 0x1400000, MEM_RESERVED);
	add(4 * GiB, 2 * GiB, MEM_USABLE);
	assert_int_equal(memmap_reserve(&map, 16 * MiB, 18 * MiB, MEM_HV), 0);
	palloc_init(&pa, &map, 1 * MiB);
	return 0;
}

/* ---- init -------------------------------------------------------------- */

static void test_init_from_map(void **state)
{
	(void)state;
	assert_int_equal(pa.count, 3);
	assert_int_equal(pa.free[0].base, 1 * MiB);
	assert_int_equal(pa.free[0].end, 16 * MiB);
	assert_int_equal(pa.free[1].base, 18 * MiB);
	assert_int_equal(pa.free[1].end, 128 * MiB);
	assert_int_equal(pa.free[2].base, 4 * GiB);
	assert_int_equal(pa.free[2].end, 6 * GiB);
	assert_int_equal(pa.free_bytes, 15 * MiB + 110 * MiB + 2 * GiB);
	assert_int_equal(pa.pool_count, 3);
	check_invariants(&pa);
}

static void test_init_low_limit_and_page0(void **state)
{
	(void)state;
	/* No low limit: low memory is in, but page 0 never is. */
	palloc_init(&pa, &map, 0);
	assert_int_equal(pa.free[0].base, PG);
	assert_int_equal(pa.free[0].end, 0x9f000);
	assert_int_equal(pa.count, 4);
	/* An unaligned limit rounds up; a limit inside a range cuts it. */
	palloc_init(&pa, &map, 0x4001);
	assert_int_equal(pa.free[0].base, 0x5000);
	palloc_init(&pa, &map, 5 * GiB);
	assert_int_equal(pa.count, 1);
	assert_int_equal(pa.free[0].base, 5 * GiB);
	assert_int_equal(pa.free_bytes, 1 * GiB);
	palloc_init(&pa, &map, UINT64_MAX);
	assert_int_equal(pa.count, 0);
	assert_int_equal(pa.free_bytes, 0);
	assert_int_equal(palloc_alloc(&pa, 1, PG, 0), 0);
}

/* A hand-made map (not from memmap_add) with unaligned usable regions:
 * only whole pages, and adjacent regions coalesce. */
static void test_init_hand_made_map(void **state)
{
	(void)state;
	memmap_init(&map);
	map.r[0] = (struct mem_region){ 0x100800, 0x103000, MEM_USABLE };
	map.r[1] = (struct mem_region){ 0x103000, 0x106000, MEM_USABLE };
	map.r[2] = (struct mem_region){ 0x106000, 0x107000, MEM_ACPI };
	map.r[3] = (struct mem_region){ 0x108000, 0x108fff, MEM_USABLE };
	map.r[4] = (struct mem_region){ 0x10a000, 0x10b800, MEM_USABLE };
	map.count = 5;
	palloc_init(&pa, &map, 0);
	assert_int_equal(pa.count, 2);
	assert_int_equal(pa.free[0].base, 0x101000);
	assert_int_equal(pa.free[0].end, 0x106000);
	assert_int_equal(pa.free[1].base, 0x10a000);
	assert_int_equal(pa.free[1].end, 0x10b000);
	check_invariants(&pa);
}

/* ---- alloc ------------------------------------------------------------- */

static void test_alloc_highest_first(void **state)
{
	(void)state;
	assert_int_equal(palloc_alloc(&pa, 1, PG, 0), 6 * GiB - PG);
	assert_int_equal(palloc_alloc(&pa, 2, PG, 0), 6 * GiB - 3 * PG);
	assert_int_equal(palloc_alloc(&pa, 1, 0, 0), 6 * GiB - 4 * PG);	/* align 0: a page */
	assert_int_equal(palloc_alloc(&pa, 1, 16, 0), 6 * GiB - 5 * PG);	/* smaller: a page */
	assert_int_equal(pa.free_bytes, 15 * MiB + 110 * MiB + 2 * GiB - 5 * PG);
	check_invariants(&pa);
}

static void test_alloc_alignment(void **state)
{
	(void)state;
	assert_int_equal(palloc_alloc(&pa, 1, PG, 0), 6 * GiB - PG);
	/* 2 MiB aligned: the next 2 MiB boundary down, the page above stays free. */
	uint64_t a = palloc_alloc(&pa, 3, 2 * MiB, 0);
	assert_int_equal(a, 6 * GiB - 2 * MiB);
	assert_int_equal(pa.count, 4);	/* split: [a + 3 pages, top - 1 page) */
	assert_int_equal(pa.free[3].base, a + 3 * PG);
	assert_int_equal(pa.free[3].end, 6 * GiB - PG);
	uint64_t g = palloc_alloc(&pa, 1, 1 * GiB, 0);
	assert_int_equal(g, 5 * GiB);
	check_invariants(&pa);
	/* Not a power of two: refused. */
	test_log_clear();
	assert_int_equal(palloc_alloc(&pa, 1, 3 * PG, 0), 0);
	assert_true(test_log_has("hv: palloc: alignment 0x3000 is not a power of two\n"));
}

static void test_alloc_limit(void **state)
{
	(void)state;
	/* Below 4 GiB: the top of the 128 MiB range. */
	assert_int_equal(palloc_alloc(&pa, 1, PG, 4 * GiB), 128 * MiB - PG);
	/* The limit is exclusive and the whole block must fit under it. */
	assert_int_equal(palloc_alloc(&pa, 4, PG, 17 * MiB + PG), 16 * MiB - 4 * PG);
	assert_int_equal(palloc_alloc(&pa, 1, PG, 4 * GiB + PG), 4 * GiB);
	assert_int_equal(palloc_alloc(&pa, 1, PG, 1 * MiB + PG), 1 * MiB);
	assert_int_equal(palloc_alloc(&pa, 1, PG, 1 * MiB + PG), 0);	/* taken */
	assert_int_equal(palloc_alloc(&pa, 1, PG, 1 * MiB), 0);	/* nothing below */
	assert_int_equal(palloc_alloc(&pa, 2, PG, 1 * MiB + 3 * PG), 1 * MiB + PG);
	check_invariants(&pa);
}

static void test_alloc_bad_sizes(void **state)
{
	(void)state;
	saved = pa;
	assert_int_equal(palloc_alloc(&pa, 0, PG, 0), 0);
	assert_int_equal(palloc_alloc(&pa, UINT64_MAX, PG, 0), 0);
	assert_int_equal(palloc_alloc(&pa, UINT64_MAX / PG + 1, PG, 0), 0);
	assert_int_equal(palloc_alloc(&pa, 3 * GiB / PG, PG, 0), 0);	/* no range that big */
	assert_int_equal(palloc_alloc(&pa, 1, 1ull << 63, 0), 0);
	assert_memory_equal(&pa, &saved, sizeof(pa));
}

/* Allocate everything from a map starting at 0: page 0 is never handed
 * out, and the allocator runs dry cleanly. */
static void test_alloc_never_page0_until_empty(void **state)
{
	(void)state;
	memmap_init(&map);
	add(0, 64 * PG, MEM_USABLE);
	palloc_init(&pa, &map, 0);
	assert_int_equal(pa.free_bytes, 63 * PG);
	for (uint64_t i = 63; i >= 1; i--)
		assert_int_equal(palloc_alloc(&pa, 1, PG, 0), i * PG);
	assert_int_equal(pa.count, 0);
	assert_int_equal(pa.free_bytes, 0);
	assert_int_equal(palloc_alloc(&pa, 1, PG, 0), 0);
	assert_int_equal(palloc_alloc(&pa, 1, PG, 2 * PG), 0);
}

/* ---- free -------------------------------------------------------------- */

static void test_free_coalesces(void **state)
{
	(void)state;
	uint64_t before = pa.free_bytes;
	uint64_t a = palloc_alloc(&pa, 1, PG, 4 * GiB);
	uint64_t b = palloc_alloc(&pa, 1, PG, 4 * GiB);
	uint64_t c = palloc_alloc(&pa, 1, PG, 4 * GiB);
	assert_int_equal(b, a - PG);
	assert_int_equal(c, b - PG);
	assert_int_equal(palloc_free(&pa, b, 1), 0);	/* a and c used: a new range */
	assert_int_equal(pa.count, 4);
	assert_int_equal(palloc_free(&pa, a, 1), 0);	/* joins b (a is the range's top) */
	assert_int_equal(pa.count, 4);
	assert_int_equal(palloc_free(&pa, c, 1), 0);	/* bridges b and the rest below */
	assert_int_equal(pa.count, 3);
	assert_int_equal(pa.free_bytes, before);
	assert_int_equal(pa.free[1].end, 128 * MiB);
	check_invariants(&pa);
	/* A big block freed in two halves. */
	uint64_t big = palloc_alloc(&pa, 512, 2 * MiB, 0);
	assert_int_equal(palloc_free(&pa, big + MiB, 256), 0);
	assert_int_equal(palloc_free(&pa, big, 256), 0);
	assert_int_equal(pa.count, 3);
	assert_int_equal(pa.free_bytes, before);
	check_invariants(&pa);
}

static void test_free_refuses_double_and_overlap(void **state)
{
	(void)state;
	uint64_t a = palloc_alloc(&pa, 4, PG, 0);
	assert_int_equal(palloc_free(&pa, a, 4), 0);
	expect_refused(a, 4, -EINVAL, "hv: palloc: refusing to free 0x17fffc000-0x180000000: overlaps "
		       "free 0x100000000-0x180000000 (double free?)\n");
	a = palloc_alloc(&pa, 4, PG, 0);
	assert_int_equal(palloc_free(&pa, a + PG, 1), 0);
	expect_refused(a, 2, -EINVAL, "double free?");		/* runs into a free page */
	expect_refused(a + PG, 3, -EINVAL, "double free?");	/* starts in it */
	expect_refused(a - PG, 2, -EINVAL, "double free?");	/* starts in free below */
	expect_refused(4 * GiB, 2 * GiB / PG, -EINVAL, "double free?");
}

static void test_free_refuses_foreign_memory(void **state)
{
	(void)state;
	const char *msg = "not memory of the allocator";
	expect_refused(16 * MiB, 1, -EINVAL, "hv: palloc: refusing to free 0x1000000-0x1001000: "
		       "not memory of the allocator\n");			/* the image */
	expect_refused(0, 1, -EINVAL, msg);					/* page 0 */
	expect_refused(0x9000, 1, -EINVAL, msg);				/* below low_limit */
	expect_refused(0xfec00000, 1, -EINVAL, msg);				/* MMIO */
	expect_refused(6 * GiB, 1, -EINVAL, msg);				/* above RAM */
	expect_refused(128 * MiB - PG, 2, -EINVAL, msg);			/* past a range */
	/* Allocated pages on both sides of a hole are still not one block. */
	assert_int_equal(palloc_alloc(&pa, 1, PG, 16 * MiB), 16 * MiB - PG);
	assert_int_equal(palloc_alloc(&pa, 1, PG, 19 * MiB), 19 * MiB - PG);
	expect_refused(16 * MiB - PG, 3 * MiB / PG + 1, -EINVAL, msg);
}

static void test_free_refuses_bad_arguments(void **state)
{
	(void)state;
	uint64_t a = palloc_alloc(&pa, 2, PG, 0);
	expect_refused(a + 1, 1, -EINVAL, "hv: palloc: refusing to free 1 pages at 0x17fffe001: "
		       "not a page range\n");
	expect_refused(a, 0, -EINVAL, "not a page range");
	expect_refused(a, UINT64_MAX / PG + 1, -EINVAL, "not a page range");
	expect_refused(UINT64_MAX & ~(PG - 1), 1, -EINVAL, "not a page range");	/* wraps */
	expect_refused(UINT64_MAX & ~(PG - 1), 2, -EINVAL, "not a page range");
	assert_int_equal(palloc_free(&pa, a, 2), 0);
}

/* ---- a full range table ---------------------------------------------------- */

/*
 * 1100 pages at 1 MiB, all allocated, then every even page below 1024
 * freed: 512 one-page free ranges, and a run of allocated pages above.
 */
static void make_full_table(void)
{
	memmap_init(&map);
	add(MiB, 1100 * PG, MEM_USABLE);
	palloc_init(&pa, &map, 0);
	assert_int_equal(palloc_alloc(&pa, 1100, PG, 0), MiB);
	for (uint64_t i = 0; i < 1024; i += 2)
		assert_int_equal(palloc_free(&pa, MiB + i * PG, 1), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	check_invariants(&pa);
}

static void test_full_table_free(void **state)
{
	(void)state;
	make_full_table();
	/* A page touching no free range needs a new entry: none left. */
	expect_refused(MiB + 1050 * PG, 1, -ENOSPC, "hv: palloc: cannot free 0x51a000-0x51b000: "
		       "free range table full (512 ranges)\n");
	/* Touching one neighbour or two needs no entry. */
	assert_int_equal(palloc_free(&pa, MiB + 1023 * PG, 1), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	assert_int_equal(palloc_free(&pa, MiB + 1 * PG, 1), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES - 1);
	/* With one entry free, the lone page goes in. */
	assert_int_equal(palloc_free(&pa, MiB + 1050 * PG, 1), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	check_invariants(&pa);
}

/* With the table full, an aligned allocation that would split a range
 * takes the range's base when that is aligned, else looks lower. */
static void test_full_table_alloc(void **state)
{
	(void)state;
	memmap_init(&map);
	add(MiB, 2048 * PG, MEM_USABLE);
	palloc_init(&pa, &map, 0);
	assert_int_equal(palloc_alloc(&pa, 2048, PG, 0), MiB);
	/* 511 one-page ranges on odd pages, and 16 pages from page 1024. */
	for (uint64_t i = 1; i < 1022; i += 2)
		assert_int_equal(palloc_free(&pa, MiB + i * PG, 1), 0);
	assert_int_equal(palloc_free(&pa, MiB + 1024 * PG, 16), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	saved = pa;
	/* 2 pages aligned to 8: the highest fit (page 1032) would split. */
	assert_int_equal(palloc_alloc(&pa, 2, 8 * PG, 0), MiB + 1024 * PG);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	assert_int_equal(pa.free[511].base, MiB + 1026 * PG);
	/* 1 page aligned to 4: page 1036 would split, page 1026 is not
	 * aligned, and no odd page is: nothing. */
	assert_int_equal(palloc_alloc(&pa, 1, 4 * PG, 0), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	/* Unaligned, the top of the highest range: no split. */
	assert_int_equal(palloc_alloc(&pa, 1, PG, 0), MiB + 1039 * PG);
	check_invariants(&pa);
	assert_int_equal(pa.free_bytes, saved.free_bytes - 3 * PG);
}

/* ---- randomized, against a model ------------------------------------------- */

/*
 * The model: 8192 pages, each either outside the pool, free or allocated.
 * Every allocation is checked to be the highest aligned fit under the
 * limit; every state is checked to be exactly the model's free runs.
 */
#define NPAGES 8192u
enum { OUT, FREE, USED };

static uint8_t model[NPAGES];
static struct { uint64_t page, n; } live[4096];
static unsigned nlive;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rnd_below(uint64_t n) { return rnd() % n; }

static bool model_fits(uint64_t page, uint64_t n)
{
	for (uint64_t i = page; i < page + n; i++)
		if (model[i] != FREE)
			return false;
	return true;
}

/* The highest page-aligned-to-`align` block of n free pages below limit. */
static uint64_t model_alloc(uint64_t n, uint64_t align_pages, uint64_t limit_pages)
{
	uint64_t top = limit_pages && limit_pages < NPAGES ? limit_pages : NPAGES;
	if (n > top)
		return 0;
	for (uint64_t p = (top - n) / align_pages * align_pages; p > 0; p -= align_pages)
		if (model_fits(p, n))
			return p;
	return 0;	/* page 0 never */
}

static void check_against_model(void)
{
	uint32_t k = 0;
	uint64_t nfree = 0;
	for (uint64_t p = 0; p < NPAGES;) {
		if (model[p] != FREE) {
			p++;
			continue;
		}
		uint64_t q = p;
		while (q < NPAGES && model[q] == FREE)
			q++;
		assert_true(k < pa.count);
		assert_int_equal(pa.free[k].base, p * PG);
		assert_int_equal(pa.free[k].end, q * PG);
		nfree += q - p;
		k++;
		p = q;
	}
	assert_int_equal(k, pa.count);
	assert_int_equal(pa.free_bytes, nfree * PG);
}

static void model_setup(void)
{
	/* Usable 0..640K, 1M..12M, 12M+64K..20M, 24M..32M; reserved between. */
	memmap_init(&map);
	add(0, 0xa0000, MEM_USABLE);
	add(1 * MiB, 11 * MiB, MEM_USABLE);
	add(12 * MiB, 0x10000, MEM_RESERVED);
	add(12 * MiB + 0x10000, 8 * MiB - 0x10000, MEM_USABLE);
	add(24 * MiB, 8 * MiB, MEM_USABLE);
	palloc_init(&pa, &map, 0);
	memset(model, OUT, sizeof(model));
	for (uint32_t i = 0; i < map.count; i++)
		if (map.r[i].type == MEM_USABLE)
			for (uint64_t p = map.r[i].base / PG; p < map.r[i].end / PG; p++)
				model[p] = p ? FREE : OUT;
	nlive = 0;
	check_against_model();
}

static void random_alloc(void)
{
	static const uint64_t sizes[] = { 1, 1, 1, 2, 3, 4, 8, 16, 33, 100, 512 };
	uint64_t n = sizes[rnd_below(sizeof(sizes) / sizeof(sizes[0]))];
	uint64_t align = 1ull << rnd_below(rnd_below(4) ? 3 : 12);	/* in pages */
	uint64_t limit = 0;
	if (rnd_below(3) == 0)
		limit = rnd_below(NPAGES + 64);
	uint64_t want = model_alloc(n, align, limit);
	uint64_t got = palloc_alloc(&pa, n, align * PG, limit * PG);
	if (got != want * PG)
		fprintf(stderr, "alloc %llu pages align %llu limit %llu: got %#llx want %#llx\n",
			(unsigned long long)n, (unsigned long long)align,
			(unsigned long long)limit, (unsigned long long)got,
			(unsigned long long)(want * PG));
	assert_int_equal(got, want * PG);
	if (!got)
		return;
	/* What the allocator promises, independent of the model's choice. */
	assert_int_equal(got % (align * PG), 0);
	assert_true(!limit || got + n * PG <= limit * PG);
	assert_true(got != 0);
	for (uint64_t p = want; p < want + n; p++)
		model[p] = USED;
	live[nlive].page = want;
	live[nlive].n = n;
	nlive++;
}

static void random_free(void)
{
	unsigned i = (unsigned)rnd_below(nlive);
	uint64_t page = live[i].page, n = live[i].n;
	/* Sometimes return only the front part (a legal partial free). */
	uint64_t part = n > 1 && rnd_below(4) == 0 ? 1 + rnd_below(n - 1) : n;
	assert_int_equal(palloc_free(&pa, page * PG, part), 0);
	for (uint64_t p = page; p < page + part; p++)
		model[p] = FREE;
	if (part == n) {
		live[i] = live[--nlive];
	} else {
		live[i].page += part;
		live[i].n -= part;
	}
}

/* A random range that is not wholly allocated memory: must be refused. */
static void random_bad_free(void)
{
	uint64_t page = rnd_below(NPAGES), n = 1 + rnd_below(16);
	if (page + n > NPAGES)
		n = NPAGES - page;
	bool all_used = true;
	for (uint64_t p = page; p < page + n; p++)
		all_used &= model[p] == USED;
	if (all_used)
		return;
	saved = pa;
	assert_int_equal(palloc_free(&pa, page * PG, n), -EINVAL);
	assert_memory_equal(&pa, &saved, sizeof(pa));
}

static void test_random_against_model(void **state)
{
	unsigned allocs = 0, fails = 0, max_ranges = 0;
	(void)state;
	for (int round = 0; round < 4; round++) {
		model_setup();
		for (int i = 0; i < 6000; i++) {
			unsigned op = (unsigned)rnd_below(10);
			if (op < 5 && nlive < 4096) {
				uint64_t before = pa.free_bytes;
				random_alloc();
				allocs++;
				fails += pa.free_bytes == before;
			} else if (op < 9 && nlive) {
				random_free();
			} else {
				random_bad_free();
			}
			check_against_model();
			if (pa.count > max_ranges)
				max_ranges = pa.count;
		}
	}
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "%u allocs, %u failed, max %u ranges\n", allocs, fails, max_ranges);
	/* The run must have exercised both success and exhaustion. */
	assert_true(fails > 0 && fails < allocs);
	assert_true(max_ranges < PALLOC_MAX_RANGES);	/* else highest-fit is not promised */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_init_from_map, setup),
		cmocka_unit_test_setup(test_init_low_limit_and_page0, setup),
		cmocka_unit_test_setup(test_init_hand_made_map, setup),
		cmocka_unit_test_setup(test_alloc_highest_first, setup),
		cmocka_unit_test_setup(test_alloc_alignment, setup),
		cmocka_unit_test_setup(test_alloc_limit, setup),
		cmocka_unit_test_setup(test_alloc_bad_sizes, setup),
		cmocka_unit_test_setup(test_alloc_never_page0_until_empty, setup),
		cmocka_unit_test_setup(test_free_coalesces, setup),
		cmocka_unit_test_setup(test_free_refuses_double_and_overlap, setup),
		cmocka_unit_test_setup(test_free_refuses_foreign_memory, setup),
		cmocka_unit_test_setup(test_free_refuses_bad_arguments, setup),
		cmocka_unit_test_setup(test_full_table_free, setup),
		cmocka_unit_test_setup(test_full_table_alloc, setup),
		cmocka_unit_test_setup(test_random_against_model, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
