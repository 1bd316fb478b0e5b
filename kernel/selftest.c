/* Deliberate faults for the integration tests; see selftest.h. */
#include <stdint.h>

#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "kernel/selftest.h"
#include "kernel/string.h"

static const uint32_t rodata_word = 0x12345678;
static uint8_t data_code[16] = { 0xc3 };	/* "ret", in a non-executable page */

/* Each frame keeps a buffer live so the recursion really eats stack. */
static __attribute__((noinline)) unsigned recurse(volatile unsigned depth)
{
	volatile uint8_t pad[512];

	pad[0] = (uint8_t)depth;
	if (depth > 1000000)	/* far beyond any stack: never reached */
		return pad[0];
	return recurse(depth + 1) + pad[0];
}

static void fault_ud(void) { __asm__ volatile("ud2"); }

static void fault_null(void)
{
	volatile uintptr_t addr = 8;	/* page 0 is never mapped */
	(void)*(volatile uint32_t *)addr;
}

static void fault_wp(void)
{
	volatile uintptr_t addr = (uintptr_t)&rodata_word;
	*(volatile uint32_t *)addr = 0;
}

static void fault_nx(void)
{
	void (*volatile fn)(void) = (void (*)(void))(uintptr_t)data_code;
	fn();
}

static void fault_stack(void) { (void)recurse(0); }

void selftest_run(const char *cmdline)
{
	static const struct {
		const char *name;
		void (*run)(void);
		const char *what;
	} tests[] = {
		{ "ud", fault_ud, "invalid opcode" },
		{ "null", fault_null, "read of page 0" },
		{ "wp", fault_wp, "write to read-only data" },
		{ "nx", fault_nx, "execution of data" },
		{ "stack", fault_stack, "stack overflow into the guard page" },
	};
	char name[16];

	if (!cmdline_get(cmdline, "hv.selftest", name, sizeof(name)))
		return;
	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!strcmp(name, tests[i].name)) {
			pr_info("selftest: %s: %s, expect a fault report\n", name, tests[i].what);
			tests[i].run();
			pr_err("selftest: %s: no fault happened\n", name);
			return;
		}
	}
	pr_warn("selftest: unknown test '%s' (ud, null, wp, nx, stack)\n", name);
}
