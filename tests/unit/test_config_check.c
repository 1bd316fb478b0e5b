/*
 * config_check_machine: a parsed configuration against a machine (its
 * present CPUs and memory map). Every problem is one line, all of them
 * are printed, and the exact lines are what an operator reads.
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

#include "kernel/config.h"
#include "kernel/memmap.h"
#include "tests/unit/host_stubs.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define EINVAL_RC (-22)

/*
 * The fake machine:
 *   0          - 0x9f000     usable
 *   0x9f000    - 0x100000    reserved
 *   0x100000   - 0x300000    the hypervisor
 *   0x300000   - 0x400000    boot modules
 *   0x400000   - 0x7ff0000   usable
 *   0x7ff0000  - 0x8000000   ACPI
 *   0x8000000  - 0x10000000  hole
 *   0x10000000 - 0x18000000  usable
 *   0x18000000 - 0x18001000  bad
 *   0x18001000 - 0x1fff0000  usable
 *   0x1fff0000 - 0x20000000  NVS
 *   0x20000000 - 0x40000000  hole
 *   0x40000000 - 0x50000000  usable
 *   0x50000000 - 0x60000000  hole
 *   0x60000000 - 0x70000000  usable
 *   0x70000000 - 0x100000000 hole
 *   4 GiB      - 5 GiB       usable (the top of the map)
 */
static struct memmap map;

static void fake_map(void)
{
	memmap_init(&map);
	assert_int_equal(memmap_add(&map, 0, 0x9f000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x9f000, 0x61000, MEM_RESERVED), 0);
	assert_int_equal(memmap_add(&map, 0x100000, 0x7f00000, MEM_USABLE), 0);
	assert_int_equal(memmap_reserve(&map, 0x100000, 0x300000, MEM_HV), 0);
	assert_int_equal(memmap_reserve(&map, 0x300000, 0x400000, MEM_BOOT), 0);
	assert_int_equal(memmap_add(&map, 0x7ff0000, 0x10000, MEM_ACPI), 0);
	assert_int_equal(memmap_add(&map, 0x10000000, 0x10000000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x18000000, 0x1000, MEM_BAD), 0);
	assert_int_equal(memmap_add(&map, 0x1fff0000, 0x10000, MEM_NVS), 0);
	assert_int_equal(memmap_add(&map, 0x40000000, 0x10000000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 0x60000000, 0x10000000, MEM_USABLE), 0);
	assert_int_equal(memmap_add(&map, 4 * GiB, GiB, MEM_USABLE), 0);
}

/* Usable bytes of the fake map: 0x9f000 + 0x7bf0000 + 0xffef000 +
 * 2 * 0x10000000 + 1 GiB = 1916.49 MiB. */
#define FAKE_USABLE (0x9f000ull + 0x7bf0000 + 0xffef000 + 0x20000000 + GiB)

static struct hv_config cfg;

static void cfg_reset(void) { memset(&cfg, 0, sizeof(cfg)); }

/* Domain i: `name` with CPUs `cpus`, placed `memory` bytes. */
static struct domain_config *dom_placed(uint32_t i, const char *name, uint64_t cpus,
					uint64_t memory)
{
	struct domain_config *d = &cfg.domains[i];

	d->name = name;
	d->kernel = "k";
	d->cmdline = "";
	d->cpus = cpus;
	d->memory = memory;
	if (cfg.ndomains <= i)
		cfg.ndomains = i + 1;
	return d;
}

/* Add the range [base, end) to domain d (its memory: their total). */
static void dom_range(struct domain_config *d, uint64_t base, uint64_t end)
{
	if (d->nranges == 0)
		d->memory = 0;
	d->ranges[d->nranges].base = base;
	d->ranges[d->nranges].size = end - base;
	d->nranges++;
	d->memory += end - base;
}

static int check(uint64_t present)
{
	test_log_clear();
	return config_check_machine(&cfg, present, &map);
}

static void expect_ok(uint64_t present)
{
	int rc = check(present);
	if (rc)
		fprintf(stderr, "rc %d, log:\n%s", rc, test_log());
	assert_int_equal(rc, 0);
	assert_string_equal(test_log(), "");
}

/* Exactly these lines (each "hv: config: ..." with its newline). */
static void expect_lines(uint64_t present, const char *lines)
{
	int rc = check(present);
	if (rc != EINVAL_RC || strcmp(test_log(), lines))
		fprintf(stderr, "rc %d, wanted:\n%sgot:\n%s", rc, lines, test_log());
	assert_int_equal(rc, EINVAL_RC);
	assert_string_equal(test_log(), lines);
}

static int setup(void **state)
{
	(void)state;
	fake_map();
	cfg_reset();
	return 0;
}

/* ---- good configurations ------------------------------------------------------ */

static void test_fake_map(void **state)
{
	(void)state;
	assert_true(memmap_total(&map, MEM_USABLE) == FAKE_USABLE);
	assert_true(memmap_top(&map) == 5 * GiB);
}

static void test_everything_fits(void **state)
{
	(void)state;
	dom_placed(0, "placed", 0x3, 64 * MiB);
	struct domain_config *d = dom_placed(1, "fixed", 0x4, 0);
	dom_range(d, 0x400000, 0x800000);
	dom_range(d, 4 * GiB + 16 * MiB, 4 * GiB + 32 * MiB);
	/* Whole usable regions, up to their very edges, are fine. */
	dom_range(d, 0x10000000, 0x18000000);
	dom_range(d, 0x18001000, 0x1fff0000);
	dom_range(d, 0, 0x9f000);
	dom_range(d, 4 * GiB + 1023 * MiB, 5 * GiB);
	expect_ok(0xf);
	/* On a machine with more CPUs too. */
	expect_ok(UINT64_MAX);
}

/* Usable regions that touch count as one, even unmerged. */
static void test_adjacent_usable_regions(void **state)
{
	(void)state;
	memset(&map, 0, sizeof(map));
	map.count = 3;
	map.r[0] = (struct mem_region){ 0, 0x100000, MEM_USABLE };
	map.r[1] = (struct mem_region){ 0x100000, 0x200000, MEM_USABLE };
	map.r[2] = (struct mem_region){ 0x200000, 0x300000, 9 };	/* unknown type */
	struct domain_config *d = dom_placed(0, "a", 1, 0);
	dom_range(d, 0x80000, 0x180000);
	expect_ok(1);
	/* An unknown type counts as reserved. */
	dom_range(d, 0x280000, 0x290000);
	expect_lines(1, "hv: config: domain a: memory 0x280000-0x290000 overlaps reserved memory "
		     "(0x280000-0x290000)\n");
}

/* ---- CPUs ------------------------------------------------------------------- */

static void test_cpu_absent(void **state)
{
	(void)state;
	dom_placed(0, "web", 1ull << 5, 16 * MiB);
	expect_lines(0xf, "hv: config: domain web: CPU 5 is not on this machine (CPUs 0-3 are)\n");
	dom_placed(0, "web", 0x130, 16 * MiB);		/* 4, 5, 8 */
	expect_lines(0x4f, "hv: config: domain web: CPUs 4-5,8 are not on this machine "
		     "(CPUs 0-3,6 are)\n");
	dom_placed(0, "web", 0x2, 16 * MiB);
	expect_lines(0x1, "hv: config: domain web: CPU 1 is not on this machine (CPU 0 is)\n");
	expect_lines(0, "hv: config: domain web: CPU 1 is not on this machine (no CPU is)\n");
	dom_placed(0, "web", 1ull << 63 | 1, 16 * MiB);
	expect_lines(UINT64_MAX >> 1, "hv: config: domain web: CPU 63 is not on this machine "
		     "(CPUs 0-62 are)\n");
	expect_ok(UINT64_MAX);
	dom_placed(0, "web", UINT64_MAX, 16 * MiB);
	expect_lines(0x5, "hv: config: domain web: CPUs 1,3-63 are not on this machine "
		     "(CPUs 0,2 are)\n");
}

/* ---- explicit ranges ---------------------------------------------------------- */

/* Domain "d" with the one range [base, end): expect `what` it overlaps. */
static void expect_range(uint64_t base, uint64_t end, const char *what)
{
	char line[512];

	cfg_reset();
	dom_range(dom_placed(0, "d", 1, 0), base, end);
	snprintf(line, sizeof(line), "hv: config: domain d: memory 0x%llx-0x%llx overlaps %s\n",
		 (unsigned long long)base, (unsigned long long)end, what);
	expect_lines(1, line);
}

static void test_range_hits(void **state)
{
	(void)state;
	expect_range(0x100000, 0x200000, "the hypervisor (0x100000-0x200000)");
	expect_range(0x80000, 0x180000, "reserved memory (0x9f000-0x100000) and "
		     "the hypervisor (0x100000-0x180000)");
	expect_range(0x380000, 0x500000, "the boot modules (0x380000-0x400000)");
	expect_range(0x200000, 0x400000, "the hypervisor (0x200000-0x300000) and "
		     "the boot modules (0x300000-0x400000)");
	expect_range(0x9e000, 0xa0000, "reserved memory (0x9f000-0xa0000)");
	expect_range(0x7000000, 0x7ff1000, "ACPI tables (0x7ff0000-0x7ff1000)");
	expect_range(0x17000000, 0x19000000, "bad memory (0x18000000-0x18001000)");
	expect_range(0x1ff00000, 0x20000000, "ACPI NVS memory (0x1fff0000-0x20000000)");
	/* Every kind it meets, in address order, each once (its first piece). */
	expect_range(0, 0x10001000, "reserved memory (0x9f000-0x100000), the hypervisor "
		     "(0x100000-0x300000), the boot modules (0x300000-0x400000), ACPI tables "
		     "(0x7ff0000-0x8000000) and a hole in the memory map (0x8000000-0x10000000)");
	expect_range(0x1fff0000, 0x60001000, "ACPI NVS memory (0x1fff0000-0x20000000) and a hole "
		     "in the memory map (0x20000000-0x40000000)");
}

static void test_range_holes(void **state)
{
	(void)state;
	/* Two usable regions with a hole between them. */
	expect_range(0x4ff00000, 0x60100000, "a hole in the memory map (0x50000000-0x60000000)");
	/* Wholly in a hole; at and beyond the top of the map. */
	expect_range(0x8000000, 0x8001000, "a hole in the memory map (0x8000000-0x8001000)");
	expect_range(5 * GiB, 5 * GiB + 4096, "a hole in the memory map (0x140000000-0x140001000)");
	expect_range(5 * GiB - MiB, 5 * GiB + MiB, "a hole in the memory map "
		     "(0x140000000-0x140100000)");
	expect_range((1ull << 52) - MiB, 1ull << 52, "a hole in the memory map "
		     "(0xffffffff00000-0x10000000000000)");
	/* An empty map: all hole, and no memory at all. */
	memmap_init(&map);
	cfg_reset();
	dom_range(dom_placed(0, "d", 1, 0), 0x1000, 0x2000);
	expect_lines(1, "hv: config: domain d: memory 0x1000-0x2000 overlaps a hole in the memory "
		     "map (0x1000-0x2000)\n"
		     "hv: config: the domains need 0.1 MiB of memory in all, this machine has "
		     "0 MiB usable\n");
}

/* ---- the total ------------------------------------------------------------------- */

static void test_total(void **state)
{
	(void)state;
	/* Placed sizes and explicit ranges both count. */
	dom_placed(0, "a", 1, FAKE_USABLE - 16 * MiB);
	dom_range(dom_placed(1, "b", 2, 0), 0x400000, 0x1400000);
	expect_ok(3);
	dom_placed(2, "c", 4, 4096);
	expect_lines(7, "hv: config: the domains need 1916.5 MiB of memory in all, this machine "
		     "has 1916.4 MiB usable\n");
	dom_placed(2, "c", 4, 4 * GiB);
	expect_lines(7, "hv: config: the domains need 6012.5 MiB of memory in all, this machine "
		     "has 1916.4 MiB usable\n");

	/* Whole MiB print without a decimal; the need is rounded up and the
	 * usable memory down, so the line never reads "need 100 > have 100". */
	memmap_init(&map);
	assert_int_equal(memmap_add(&map, 0, 100 * MiB + 4096, MEM_USABLE), 0);
	cfg_reset();
	dom_placed(0, "a", 1, 100 * MiB + 4096);
	expect_ok(1);
	dom_placed(0, "a", 1, 100 * MiB + 8192);
	expect_lines(1, "hv: config: the domains need 100.1 MiB of memory in all, this machine "
		     "has 100.0 MiB usable\n");
	dom_placed(0, "a", 1, 160 * MiB);
	memmap_init(&map);
	assert_int_equal(memmap_add(&map, 0, 128 * MiB, MEM_USABLE), 0);
	expect_lines(1, "hv: config: the domains need 160 MiB of memory in all, this machine "
		     "has 128 MiB usable\n");
	/* Sizes that would overflow a 64-bit sum (config_parse forbids them,
	 * the check must not wrap around either). */
	dom_placed(0, "a", 1, UINT64_MAX - 4095);
	dom_placed(1, "b", 2, UINT64_MAX - 4095);
	expect_lines(3, "hv: config: the domains need 17592186044416.0 MiB of memory in all, this "
		     "machine has 128 MiB usable\n");
}

/* ---- everything at once ---------------------------------------------------------- */

static void test_every_problem_reported(void **state)
{
	(void)state;
	struct domain_config *a = dom_placed(0, "a", 0x30, 0);	/* CPUs 4, 5 */
	dom_range(a, 0x400000, 0x800000);			/* fine */
	dom_range(a, 0x100000, 0x200000);			/* hypervisor */
	dom_range(a, 0x50000000, 0x50001000);			/* hole */
	dom_placed(1, "b", 0x1, 2 * GiB);			/* fine CPU, too big */
	dom_placed(2, "c", 1ull << 9, 16 * MiB);		/* CPU 9 */
	expect_lines(0xf,
		     "hv: config: domain a: CPUs 4-5 are not on this machine (CPUs 0-3 are)\n"
		     "hv: config: domain a: memory 0x100000-0x200000 overlaps the hypervisor "
		     "(0x100000-0x200000)\n"
		     "hv: config: domain a: memory 0x50000000-0x50001000 overlaps a hole in the "
		     "memory map (0x50000000-0x50001000)\n"
		     "hv: config: domain c: CPU 9 is not on this machine (CPUs 0-3 are)\n"
		     "hv: config: the domains need 2069.1 MiB of memory in all, this machine has "
		     "1916.4 MiB usable\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fake_map, setup),
		cmocka_unit_test_setup(test_everything_fits, setup),
		cmocka_unit_test_setup(test_adjacent_usable_regions, setup),
		cmocka_unit_test_setup(test_cpu_absent, setup),
		cmocka_unit_test_setup(test_range_hits, setup),
		cmocka_unit_test_setup(test_range_holes, setup),
		cmocka_unit_test_setup(test_total, setup),
		cmocka_unit_test_setup(test_every_problem_reported, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
