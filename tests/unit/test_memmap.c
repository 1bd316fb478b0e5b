/*
 * Tests for kernel/memmap.c: hand-picked firmware maps (unsorted,
 * overlapping, unaligned, wrapping), the -ENOSPC contract, and a
 * randomized run against a byte-granular reference model.
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
#include "tests/unit/host_stubs.h"

#define KiB 0x400ull
#define MiB 0x100000ull
#define GiB 0x40000000ull

static struct memmap map, saved;	/* 12 KiB each: off the stack */

static void check_invariants(const struct memmap *m)
{
	for (uint32_t i = 0; i < m->count; i++) {
		const struct mem_region *r = &m->r[i];
		assert_true(r->base < r->end);
		assert_true(r->type >= MEM_USABLE && r->type <= MEM_BOOT);
		if (r->type == MEM_USABLE) {
			assert_int_equal(r->base % PAGE_SIZE, 0);
			assert_int_equal(r->end % PAGE_SIZE, 0);
		}
		if (i > 0) {
			assert_true(m->r[i - 1].end <= r->base);
			if (m->r[i - 1].end == r->base)
				assert_int_not_equal(m->r[i - 1].type, r->type);
		}
	}
}

static void dump(const struct memmap *m)
{
	for (uint32_t i = 0; i < m->count; i++)
		fprintf(stderr, "  [%#llx-%#llx) %s\n", (unsigned long long)m->r[i].base,
			(unsigned long long)m->r[i].end, mem_type_name(m->r[i].type));
}

/* Field by field: struct padding may differ. */
static bool map_is(const struct memmap *m, const struct mem_region *w, uint32_t n)
{
	if (m->count != n)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (m->r[i].base != w[i].base || m->r[i].end != w[i].end ||
		    m->r[i].type != w[i].type)
			return false;
	return true;
}

static void expect_map(const struct memmap *m, const struct mem_region *w, uint32_t n)
{
	check_invariants(m);
	bool ok = map_is(m, w, n);
	if (!ok) {
		fprintf(stderr, "map differs; got:\n");
		dump(m);
		fprintf(stderr, "want:\n");
		for (uint32_t i = 0; i < n; i++)
			fprintf(stderr, "  [%#llx-%#llx) %s\n", (unsigned long long)w[i].base,
				(unsigned long long)w[i].end, mem_type_name(w[i].type));
	}
	assert_true(ok);
}

#define EXPECT(m, ...)                                                        \
	do {                                                                  \
		static const struct mem_region w_[] = { __VA_ARGS__ };           \
		expect_map((m), w_, sizeof(w_) / sizeof(w_[0]));              \
	} while (0)

static int setup(void **state)
{
	(void)state;
	memmap_init(&map);
	test_log_clear();
	return 0;
}

/* ---- basics ------------------------------------------------------------ */

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(map.count, 0);
	assert_int_equal(memmap_top(&map), 0);
	assert_int_equal(memmap_total(&map, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x1000, 0, MEM_RESERVED), 0);
	assert_int_equal(map.count, 0);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(mem_type_name(MEM_USABLE), "usable");
	assert_string_equal(mem_type_name(MEM_RESERVED), "reserved");
	assert_string_equal(mem_type_name(MEM_ACPI), "acpi");
	assert_string_equal(mem_type_name(MEM_NVS), "nvs");
	assert_string_equal(mem_type_name(MEM_BAD), "bad");
	assert_string_equal(mem_type_name(MEM_HV), "hypervisor");
	assert_string_equal(mem_type_name(MEM_BOOT), "boot");
	assert_string_equal(mem_type_name(0), "unknown");
	assert_string_equal(mem_type_name(8), "unknown");
	assert_string_equal(mem_type_name(0xffffffffu), "unknown");
}

/* A QEMU/SeaBIOS-like e820, given out of order. */
static void test_unsorted_firmware_map(void **state)
{
	(void)state;
	assert_int_equal(memmap_add(&map, 0x100000, 0x7ee0000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0xfffc0000, 0x40000, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0x9fc00, 0x400, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0x7fe0000, 0x20000, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0, 0x9fc00, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0xf0000, 0x10000, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0x100000000ull, 0x80000000ull, MEM_USABLE), 0);
	EXPECT(&map,
	       { 0, 0x9f000, MEM_USABLE },	/* 0x9fc00 shrunk down to a page */
	       { 0x9fc00, 0xa0000, MEM_RESERVED },
	       { 0xf0000, 0x100000, MEM_RESERVED },
	       { 0x100000, 0x7fe0000, MEM_USABLE },
	       { 0x7fe0000, 0x8000000, MEM_RESERVED },
	       { 0xfffc0000, 0x100000000ull, MEM_RESERVED },
	       { 0x100000000ull, 0x180000000ull, MEM_USABLE });
	assert_int_equal(memmap_top(&map), 0x180000000ull);
	assert_int_equal(memmap_total(&map, MEM_USABLE), 0x9f000 + 0x7ee0000 + 0x80000000ull);
	assert_int_equal(memmap_total(&map, MEM_RESERVED), 0x400 + 0x10000 + 0x20000 + 0x40000);
	assert_int_equal(memmap_total(&map, MEM_ACPI), 0);
}

static void test_merge_adjacent(void **state)
{
	(void)state;
	assert_int_equal(memmap_add(&map, 0x2000, 0x1000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x4000, 0x1000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x3000, 0x1000, MEM_USABLE), 0);	/* bridges */
	assert_int_equal(memmap_add(&map, 0x5000, 0x1000, MEM_ACPI), 0);	/* differs */
	assert_int_equal(memmap_add(&map, 0x7000, 0x1000, MEM_ACPI), 0);	/* gap */
	assert_int_equal(memmap_add(&map, 0x1000, 0x1000, MEM_USABLE), 0);	/* below */
	EXPECT(&map, { 0x1000, 0x5000, MEM_USABLE }, { 0x5000, 0x6000, MEM_ACPI },
	       { 0x7000, 0x8000, MEM_ACPI });
	/* A usable range already inside usable memory changes nothing. */
	assert_int_equal(memmap_add(&map, 0x1000, 0x3000, MEM_USABLE), 0);
	assert_int_equal(map.count, 3);
}

/* ---- overlaps ---------------------------------------------------------- */

static void add_both_orders(uint64_t b1, uint64_t l1, uint32_t t1, uint64_t b2, uint64_t l2,
			    uint32_t t2)
{
	assert_int_equal(memmap_add(&map, b1, l1, t1), 0);
	assert_int_equal(memmap_add(&map, b2, l2, t2), 0);
	saved = map;
	memmap_init(&map);
	assert_int_equal(memmap_add(&map, b2, l2, t2), 0);
	assert_int_equal(memmap_add(&map, b1, l1, t1), 0);
	assert_true(map_is(&map, saved.r, saved.count));
}

static void test_reserved_beats_usable(void **state)
{
	(void)state;
	add_both_orders(0x10000, 0x10000, MEM_USABLE, 0x14000, 0x2000, MEM_RESERVED);
	EXPECT(&map, { 0x10000, 0x14000, MEM_USABLE }, { 0x14000, 0x16000, MEM_RESERVED },
	       { 0x16000, 0x20000, MEM_USABLE });
}

static void test_partial_overlaps(void **state)
{
	(void)state;
	add_both_orders(0x10000, 0x10000, MEM_USABLE, 0x1c000, 0x8000, MEM_NVS);
	EXPECT(&map, { 0x10000, 0x1c000, MEM_USABLE }, { 0x1c000, 0x24000, MEM_NVS });
	memmap_init(&map);
	add_both_orders(0x10000, 0x10000, MEM_USABLE, 0x8000, 0x10000, MEM_ACPI);
	EXPECT(&map, { 0x8000, 0x18000, MEM_ACPI }, { 0x18000, 0x20000, MEM_USABLE });
}

static void test_higher_type_wins(void **state)
{
	(void)state;
	/* acpi(3) over reserved(2), bad(5) over nvs(4), boot(7) over hv(6) */
	add_both_orders(0x0, 0x10000, MEM_RESERVED, 0x4000, 0x4000, MEM_ACPI);
	EXPECT(&map, { 0x0, 0x4000, MEM_RESERVED }, { 0x4000, 0x8000, MEM_ACPI },
	       { 0x8000, 0x10000, MEM_RESERVED });
	memmap_init(&map);
	add_both_orders(0x0, 0x10000, MEM_BAD, 0x4000, 0x20000, MEM_NVS);
	EXPECT(&map, { 0x0, 0x10000, MEM_BAD }, { 0x10000, 0x24000, MEM_NVS });
	memmap_init(&map);
	add_both_orders(0x1000, 0x3000, MEM_HV, 0x2000, 0x1000, MEM_BOOT);
	EXPECT(&map, { 0x1000, 0x2000, MEM_HV }, { 0x2000, 0x3000, MEM_BOOT },
	       { 0x3000, 0x4000, MEM_HV });
}

/* A big reserved range swallowing many regions collapses them. */
static void test_cover_many(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(memmap_add(&map, i * 0x10000, 0x8000, i % 2 ? MEM_USABLE : MEM_NVS), 0);
	assert_int_equal(memmap_add(&map, 0x10000, 0x7c000, MEM_BAD), 0);
	EXPECT(&map, { 0x0, 0x8000, MEM_NVS }, { 0x10000, 0x8c000, MEM_BAD },
	       { 0x90000, 0x98000, MEM_USABLE });
	/* And a usable range only fills the holes. */
	assert_int_equal(memmap_add(&map, 0, 0x100000, MEM_USABLE), 0);
	EXPECT(&map, { 0x0, 0x8000, MEM_NVS }, { 0x8000, 0x10000, MEM_USABLE },
	       { 0x10000, 0x8c000, MEM_BAD }, { 0x8c000, 0x100000, MEM_USABLE });
}

static void test_unknown_type_is_reserved(void **state)
{
	(void)state;
	assert_int_equal(memmap_add(&map, 0x1000, 0x1000, 12), 0);	/* e.g. persistent memory */
	assert_int_equal(memmap_add(&map, 0x2000, 0x1000, 0), 0);
	assert_int_equal(memmap_add(&map, 0x3000, 0x1000, MEM_USABLE), 0);
	EXPECT(&map, { 0x1000, 0x3000, MEM_RESERVED }, { 0x3000, 0x4000, MEM_USABLE });
}

/* ---- alignment ---------------------------------------------------------- */

static void test_usable_shrinks_to_pages(void **state)
{
	(void)state;
	assert_int_equal(memmap_add(&map, 0x1234, 0x5000, MEM_USABLE), 0);
	EXPECT(&map, { 0x2000, 0x6000, MEM_USABLE });
	/* Smaller than a page, or a page's worth straddling a boundary: gone. */
	assert_int_equal(memmap_add(&map, 0x10000, 0xfff, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x20800, 0x1000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0xfffffffffffff001ull, 0xffe, MEM_USABLE), 0);
	EXPECT(&map, { 0x2000, 0x6000, MEM_USABLE });
	/* Other types keep their exact bytes. */
	assert_int_equal(memmap_add(&map, 0x10001, 0x10, MEM_ACPI), 0);
	EXPECT(&map, { 0x2000, 0x6000, MEM_USABLE }, { 0x10001, 0x10011, MEM_ACPI });
}

/* A page partly reserved is not usable, whichever came first. */
static void test_partial_page_not_usable(void **state)
{
	(void)state;
	add_both_orders(0x1000, 0x4000, MEM_USABLE, 0x2800, 0x1000, MEM_RESERVED);
	EXPECT(&map, { 0x1000, 0x2000, MEM_USABLE }, { 0x2800, 0x3800, MEM_RESERVED },
	       { 0x4000, 0x5000, MEM_USABLE });
	memmap_init(&map);
	add_both_orders(0x1000, 0x2000, MEM_USABLE, 0x1800, 0x100, MEM_ACPI);
	EXPECT(&map, { 0x1800, 0x1900, MEM_ACPI }, { 0x2000, 0x3000, MEM_USABLE });
	/* ... and a later usable range does not bring the hole back. */
	assert_int_equal(memmap_add(&map, 0x0, 0x4000, MEM_USABLE), 0);
	EXPECT(&map, { 0x0, 0x1000, MEM_USABLE }, { 0x1800, 0x1900, MEM_ACPI },
	       { 0x2000, 0x4000, MEM_USABLE });
}

/* ---- wrapping and the top of the address space --------------------------- */

static void test_wrapping_ignored(void **state)
{
	(void)state;
	assert_int_equal(memmap_add(&map, 0xfffffffffffff000ull, 0x2000, MEM_RESERVED), 0);
	assert_true(test_log_has("hv: memmap: ignoring range 0xfffffffffffff000+0x2000 (type 2): "
				 "it wraps around\n"));
	/* Ending exactly at 2^64 cannot be described either. */
	assert_int_equal(memmap_add(&map, 0xfffffffffffff000ull, 0x1000, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 1, UINT64_MAX, MEM_USABLE), 0);
	assert_int_equal(map.count, 0);
	/* Up to 2^64 - 1 is fine. */
	assert_int_equal(memmap_add(&map, 0xfffffffffffff000ull, 0xfff, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0, UINT64_MAX, MEM_USABLE), 0);
	EXPECT(&map, { 0, 0xfffffffffffff000ull, MEM_USABLE },
	       { 0xfffffffffffff000ull, UINT64_MAX, MEM_RESERVED });
	assert_int_equal(memmap_top(&map), UINT64_MAX);
}

/* ---- memmap_reserve ------------------------------------------------------ */

static void test_reserve_rounds_outward(void **state)
{
	(void)state;
	assert_int_equal(memmap_add(&map, 0, 64 * MiB, MEM_USABLE), 0);
	/* The image at 16 MiB, the boot info in the middle of a page. */
	assert_int_equal(memmap_reserve(&map, 16 * MiB, 16 * MiB + 0x12345, MEM_HV), 0);
	assert_int_equal(memmap_reserve(&map, 0x9123, 0x9456, MEM_BOOT), 0);
	assert_int_equal(memmap_reserve(&map, 0x5000, 0x5000, MEM_BOOT), 0);	/* empty */
	EXPECT(&map, { 0, 0x9000, MEM_USABLE }, { 0x9000, 0xa000, MEM_BOOT },
	       { 0xa000, 16 * MiB, MEM_USABLE }, { 16 * MiB, 16 * MiB + 0x13000, MEM_HV },
	       { 16 * MiB + 0x13000, 64 * MiB, MEM_USABLE });
	assert_int_equal(memmap_total(&map, MEM_HV), 0x13000);
	assert_int_equal(memmap_total(&map, MEM_BOOT), 0x1000);
	assert_int_equal(memmap_total(&map, MEM_USABLE), 64 * MiB - 0x14000);
}

static void test_reserve_bad_and_top(void **state)
{
	(void)state;
	assert_int_equal(memmap_reserve(&map, 0x3000, 0x2000, MEM_BOOT), -EINVAL);
	assert_true(test_log_has("hv: memmap: ignoring reservation 0x3000-0x2000: end below base\n"));
	assert_int_equal(map.count, 0);
	assert_int_equal(memmap_reserve(&map, UINT64_MAX - 0x1800, UINT64_MAX - 0x10, MEM_BOOT), 0);
	EXPECT(&map, { 0xffffffffffffe000ull, UINT64_MAX, MEM_BOOT });
}

/* ---- -ENOSPC --------------------------------------------------------------- */

/* MEMMAP_MAX separate one-page regions, alternating usable and acpi, with
 * a page of hole between each. */
static void fill_map(uint32_t n)
{
	memmap_init(&map);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(memmap_add(&map, (uint64_t)i * 0x2000 + 0x1000, 0x1000,
					    i % 2 ? MEM_ACPI : MEM_USABLE), 0);
	assert_int_equal(map.count, n);
}

static void expect_unchanged_enospc(uint64_t base, uint64_t len, uint32_t type)
{
	saved = map;
	assert_int_equal(memmap_add(&map, base, len, type), -ENOSPC);
	assert_memory_equal(&map, &saved, sizeof(map));
}

static void test_enospc_leaves_map_unchanged(void **state)
{
	(void)state;
	fill_map(MEMMAP_MAX);
	uint64_t top = memmap_top(&map);
	expect_unchanged_enospc(top + 0x1000, 0x1000, MEM_RESERVED);	/* one more */
	expect_unchanged_enospc(0x3400, 0x100, MEM_BAD);		/* split an acpi page */
	expect_unchanged_enospc(0x0, 0x1000, MEM_NVS);			/* fill a hole */
	/* Changes that need no extra room still work on a full map. */
	assert_int_equal(memmap_add(&map, 0x0, 0x1000, MEM_USABLE), 0);	/* merges */
	assert_int_equal(map.count, MEMMAP_MAX);
	assert_int_equal(memmap_add(&map, 0x3000, 0x1000, MEM_BAD), 0);	/* retypes */
	assert_int_equal(map.count, MEMMAP_MAX);
	assert_int_equal(memmap_add(&map, top, 0x1000, MEM_ACPI), 0);	/* extends the last */
	assert_int_equal(map.count, MEMMAP_MAX);
	check_invariants(&map);
	/* Covering everything collapses the map. */
	assert_int_equal(memmap_add(&map, 0, 1ull << 40, MEM_HV), 0);
	EXPECT(&map, { 0, 1ull << 40, MEM_HV });
}

/* A split needs two more regions: fits at MAX - 2, not at MAX - 1. */
static void test_enospc_exact_boundary(void **state)
{
	(void)state;
	fill_map(MEMMAP_MAX - 1);
	expect_unchanged_enospc(0x3400, 0x100, MEM_BAD);
	fill_map(MEMMAP_MAX - 2);
	assert_int_equal(memmap_add(&map, 0x3400, 0x100, MEM_BAD), 0);
	assert_int_equal(map.count, MEMMAP_MAX);
	assert_int_equal(map.r[1].end, 0x3400);
	assert_int_equal(map.r[2].type, MEM_BAD);
	assert_int_equal(map.r[3].base, 0x3500);
	check_invariants(&map);
	/* Inside a usable page, the same split loses the whole page instead:
	 * no room needed, even on a full map. */
	fill_map(MEMMAP_MAX);
	assert_int_equal(memmap_add(&map, 0x1400, 0x100, MEM_RESERVED), 0);
	assert_int_equal(map.count, MEMMAP_MAX);
	assert_int_equal(map.r[0].base, 0x1400);
	assert_int_equal(map.r[0].end, 0x1500);
	assert_int_equal(map.r[0].type, MEM_RESERVED);
	/* Filling the holes between all regions collapses the map. */
	fill_map(MEMMAP_MAX);
	assert_int_equal(memmap_add(&map, 0, (uint64_t)MEMMAP_MAX * 0x2000, MEM_NVS), 0);
	EXPECT(&map, { 0, (uint64_t)MEMMAP_MAX * 0x2000, MEM_NVS });
}

/* ---- randomized, against a model ------------------------------------------ */

/*
 * The model: 1 MiB of address space in 256-byte units. Non-usable types
 * paint units (the highest wins); usable ranges mark whole pages; a unit
 * is usable if its page was marked and holds no unit of another type.
 * Every range in the test starts and ends on a unit boundary.
 */
#define UNIT   256u
#define UNITS  4096u
#define UPP    (PAGE_SIZE / UNIT)

struct model {
	uint8_t paint[UNITS];		/* 0 or a non-usable type */
	uint8_t usable_page[UNITS / UPP];
};

static struct model model, model_saved;
static struct memmap expected;

#ifndef MODEL_ROUNDS
#define MODEL_ROUNDS 8		/* -DMODEL_ROUNDS=1000 for a long soak */
#endif

static uint32_t max_seen;
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rnd_below(uint64_t n) { return rnd() % n; }

static void model_add(uint64_t ubase, uint64_t ulen, uint32_t type)
{
	if (type < MEM_USABLE || type > MEM_BOOT)
		type = MEM_RESERVED;
	if (type != MEM_USABLE) {
		for (uint64_t u = ubase; u < ubase + ulen; u++)
			if (model.paint[u] < type)
				model.paint[u] = (uint8_t)type;
		return;
	}
	uint64_t p0 = (ubase + UPP - 1) / UPP, p1 = (ubase + ulen) / UPP;
	for (uint64_t p = p0; p < p1; p++)
		model.usable_page[p] = 1;
}

static uint32_t model_type(uint64_t u)
{
	if (model.paint[u])
		return model.paint[u];
	uint64_t p = u / UPP;
	if (!model.usable_page[p])
		return 0;
	for (uint64_t v = p * UPP; v < (p + 1) * UPP; v++)
		if (model.paint[v])
			return 0;
	return MEM_USABLE;
}

/* The model as a map; count may exceed MEMMAP_MAX (then not all stored). */
static uint32_t model_map(struct memmap *m)
{
	uint32_t n = 0, prev = 0;
	for (uint64_t u = 0; u < UNITS; u++) {
		uint32_t t = model_type(u);
		if (t && t == prev) {
			if (n <= MEMMAP_MAX)
				m->r[n - 1].end += UNIT;
		} else if (t) {
			if (n < MEMMAP_MAX)
				m->r[n] = (struct mem_region){ u * UNIT, (u + 1) * UNIT, t };
			n++;
		}
		prev = t;
	}
	m->count = n < MEMMAP_MAX ? n : MEMMAP_MAX;
	return n;
}

static void random_op(bool small, unsigned *nospc, unsigned *ok_near_full)
{
	uint64_t ubase = rnd_below(UNITS);
	uint64_t ulen = small ? 1 + rnd_below(3) : 1 + rnd_below(UNITS - ubase);
	if (ubase + ulen > UNITS)
		ulen = UNITS - ubase;
	static const uint32_t types[] = { 1, 1, 1, 2, 3, 4, 5, 6, 7, 9 };
	uint32_t type = types[rnd_below(sizeof(types) / sizeof(types[0]))];
	bool reserve = rnd_below(8) == 0;

	model_saved = model;
	saved = map;
	if (reserve) {
		/* memmap_reserve rounds outward to pages: so does the model. */
		uint64_t pb = ubase / UPP * UPP, pe = (ubase + ulen + UPP - 1) / UPP * UPP;
		if (pe > UNITS)
			pe = UNITS;
		model_add(pb, pe - pb, type);
	} else {
		model_add(ubase, ulen, type);
	}
	uint32_t want = model_map(&expected);
	int err = reserve ? memmap_reserve(&map, ubase * UNIT, (ubase + ulen) * UNIT, type)
			  : memmap_add(&map, ubase * UNIT, ulen * UNIT, type);
	if (want > MEMMAP_MAX) {
		assert_int_equal(err, -ENOSPC);
		assert_memory_equal(&map, &saved, sizeof(map));
		model = model_saved;
		(*nospc)++;
		return;
	}
	assert_int_equal(err, 0);
	if (want >= MEMMAP_MAX - 2)
		(*ok_near_full)++;
	if (getenv("TEST_VERBOSE") && want > max_seen)
		max_seen = want;
	if (!map_is(&map, expected.r, expected.count)) {
		fprintf(stderr, "after %s [%#llx-%#llx) %s from:\n", reserve ? "reserve" : "add",
			(unsigned long long)(ubase * UNIT), (unsigned long long)((ubase + ulen) * UNIT),
			mem_type_name(type));
		dump(&saved);
	}
	expect_map(&map, expected.r, expected.count);
}

static void test_random_against_model(void **state)
{
	unsigned nospc = 0, ok_near_full = 0;
	(void)state;
	for (int round = 0; round < MODEL_ROUNDS; round++) {
		memset(&model, 0, sizeof(model));
		memmap_init(&map);
		for (int i = 0; i < 200; i++)
			random_op(false, &nospc, &ok_near_full);
		/* Then small ranges on a fresh map, until it is full. */
		memset(&model, 0, sizeof(model));
		memmap_init(&map);
		for (int i = 0; i < 2000; i++)
			random_op(true, &nospc, &ok_near_full);
	}
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "max %u nospc %u near full %u\n", max_seen, nospc, ok_near_full);
	/* The run must have reached both a full map and ENOSPC. */
	assert_true(nospc > 0);
	assert_true(ok_near_full > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_empty, setup),
		cmocka_unit_test_setup(test_type_names, setup),
		cmocka_unit_test_setup(test_unsorted_firmware_map, setup),
		cmocka_unit_test_setup(test_merge_adjacent, setup),
		cmocka_unit_test_setup(test_reserved_beats_usable, setup),
		cmocka_unit_test_setup(test_partial_overlaps, setup),
		cmocka_unit_test_setup(test_higher_type_wins, setup),
		cmocka_unit_test_setup(test_cover_many, setup),
		cmocka_unit_test_setup(test_unknown_type_is_reserved, setup),
		cmocka_unit_test_setup(test_usable_shrinks_to_pages, setup),
		cmocka_unit_test_setup(test_partial_page_not_usable, setup),
		cmocka_unit_test_setup(test_wrapping_ignored, setup),
		cmocka_unit_test_setup(test_reserve_rounds_outward, setup),
		cmocka_unit_test_setup(test_reserve_bad_and_top, setup),
		cmocka_unit_test_setup(test_enospc_leaves_map_unchanged, setup),
		cmocka_unit_test_setup(test_enospc_exact_boundary, setup),
		cmocka_unit_test_setup(test_random_against_model, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
