/*
 * The virtual I/O APIC (vmm/dev/vioapic.c) through its two MMIO registers,
 * as a guest driver sees it: reset state, ID, version, arbitration,
 * redirection entries with their read-only and reserved bits, accesses
 * that are not IOREGSEL/IOWIN dwords, and the routing that results.
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

#include "tests/unit/host_stubs.h"
#include "vmm/dev/vioapic.h"

static uint32_t reg_read(struct vioapic *a, uint32_t reg)
{
	uint32_t v = reg;
	vioapic_mmio(a, 0x00, 4, true, &v);
	v = 0xdeadbeef;
	vioapic_mmio(a, 0x10, 4, false, &v);
	return v;
}

static void reg_write(struct vioapic *a, uint32_t reg, uint32_t val)
{
	uint32_t v = reg;
	vioapic_mmio(a, 0x00, 4, true, &v);
	vioapic_mmio(a, 0x10, 4, true, &val);
}

static void test_reset(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;
	(void)state;

	memset(&a, 0x5a, sizeof(a));
	vioapic_init(&a, 2);
	assert_int_equal(reg_read(&a, 0x00), 2u << 24);
	assert_int_equal(reg_read(&a, 0x01), 0x00170011);
	assert_int_equal(reg_read(&a, 0x02), 2u << 24);
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++) {
		assert_int_equal(reg_read(&a, 0x10 + 2 * pin), 1u << 16);	/* masked */
		assert_int_equal(reg_read(&a, 0x11 + 2 * pin), 0);
		assert_false(vioapic_route(&a, pin, &m));
	}
	vioapic_init(&a, 0x1f);			/* 4 bits */
	assert_int_equal(reg_read(&a, 0x00), 0xfu << 24);
}

static void test_id_version_arb(void **state)
{
	struct vioapic a;
	(void)state;

	vioapic_init(&a, 0);
	reg_write(&a, 0x00, 0xffffffff);
	assert_int_equal(reg_read(&a, 0x00), 0x0f000000);
	assert_int_equal(reg_read(&a, 0x02), 0x0f000000);	/* follows the ID */
	reg_write(&a, 0x00, 0x09000000);
	assert_int_equal(reg_read(&a, 0x00), 0x09000000);
	reg_write(&a, 0x01, 0);				/* read-only */
	assert_int_equal(reg_read(&a, 0x01), 0x00170011);
	reg_write(&a, 0x02, 0x05000000);
	assert_int_equal(reg_read(&a, 0x02), 0x09000000);
	assert_int_equal(reg_read(&a, 0x00), 0x09000000);
	/* Registers that do not exist: 0 and writes dropped. */
	for (uint32_t r = 0x03; r < 0x10; r++) {
		reg_write(&a, r, 0xffffffff);
		assert_int_equal(reg_read(&a, r), 0);
	}
	for (uint32_t r = 0x40; r < 0x100; r++) {
		reg_write(&a, r, 0xffffffff);
		assert_int_equal(reg_read(&a, r), 0);
	}
	for (unsigned pin = 0; pin < VIOAPIC_PINS; pin++)
		assert_true(a.rte[pin] == 1u << 16);
}

static void test_ioregsel(void **state)
{
	struct vioapic a;
	uint32_t v;
	(void)state;

	vioapic_init(&a, 0);
	v = 0x12345611;				/* bits 31:8 reserved */
	vioapic_mmio(&a, 0x00, 4, true, &v);
	v = 0;
	vioapic_mmio(&a, 0x00, 4, false, &v);
	assert_int_equal(v, 0x11);
	v = 0xff000000;
	vioapic_mmio(&a, 0x10, 4, true, &v);	/* RTE 0 high */
	assert_true(a.rte[0] == (0xffull << 56 | 1u << 16));
}

static void test_rte(void **state)
{
	struct vioapic a;
	struct vioapic_msg m;
	(void)state;

	vioapic_init(&a, 0);
	/* Everything set: delivery status (12), remote IRR (14) and the
	 * reserved 31:17 and 55:32 do not stick. */
	reg_write(&a, 0x10 + 2 * 5, 0xffffffff);
	reg_write(&a, 0x11 + 2 * 5, 0xffffffff);
	assert_int_equal(reg_read(&a, 0x10 + 2 * 5), 0x0001afff);
	assert_int_equal(reg_read(&a, 0x11 + 2 * 5), 0xff000000);
	assert_false(vioapic_route(&a, 5, &m));		/* masked */

	/* What Linux writes for a level-triggered, active-low pin 9 (ACPI
	 * SCI): high dword first, then low unmasked. */
	reg_write(&a, 0x11 + 2 * 9, 0x03000000);
	reg_write(&a, 0x10 + 2 * 9, 0x0000a029);
	assert_true(vioapic_route(&a, 9, &m));
	assert_int_equal(m.vector, 0x29);
	assert_int_equal(m.delivery, 0);
	assert_false(m.logical);
	assert_int_equal(m.dest, 3);
	assert_true(m.level);

	/* Edge, logical, lowest priority, destination 0xff. */
	reg_write(&a, 0x11 + 2 * 23, 0xff000000);
	reg_write(&a, 0x10 + 2 * 23, 0x00000930);
	assert_true(vioapic_route(&a, 23, &m));
	assert_int_equal(m.vector, 0x30);
	assert_int_equal(m.delivery, 1);
	assert_true(m.logical);
	assert_int_equal(m.dest, 0xff);
	assert_false(m.level);

	/* Each delivery mode comes out as written. */
	static const uint8_t modes[] = { 0, 1, 2, 4, 5, 7 };
	for (unsigned i = 0; i < sizeof(modes); i++) {
		reg_write(&a, 0x10, (uint32_t)modes[i] << 8 | 0x40);
		assert_true(vioapic_route(&a, 0, &m));
		assert_int_equal(m.delivery, modes[i]);
		assert_int_equal(m.vector, 0x40);
	}

	/* Writing one half leaves the other alone; masking stops routing. */
	reg_write(&a, 0x11 + 2 * 9, 0x01000000);
	assert_int_equal(reg_read(&a, 0x10 + 2 * 9), 0x0000a029);
	reg_write(&a, 0x10 + 2 * 9, 0x0001a029);
	assert_false(vioapic_route(&a, 9, &m));
	assert_int_equal(reg_read(&a, 0x11 + 2 * 9), 0x01000000);
	/* Pins beyond the last. */
	assert_false(vioapic_route(&a, VIOAPIC_PINS, &m));
	assert_false(vioapic_route(&a, ~0u, &m));
}

static void test_other_accesses(void **state)
{
	struct vioapic a, before;
	uint32_t v;
	(void)state;

	vioapic_init(&a, 1);
	reg_write(&a, 0x10, 0x31);
	v = 0x10;
	vioapic_mmio(&a, 0x00, 4, true, &v);
	memcpy(&before, &a, sizeof(a));
	/* Wrong sizes at the two registers, and every other dword offset. */
	static const unsigned sizes[] = { 1, 2, 8 };
	for (unsigned i = 0; i < 3; i++) {
		v = 0xffffffff;
		vioapic_mmio(&a, 0x00, sizes[i], true, &v);
		vioapic_mmio(&a, 0x10, sizes[i], true, &v);
		v = 0xdeadbeef;
		vioapic_mmio(&a, 0x10, sizes[i], false, &v);
		assert_int_equal(v, 0);
	}
	for (uint64_t off = 0; off < VIOAPIC_SIZE; off += 4) {
		if (off == 0x00 || off == 0x10)
			continue;
		v = 0xffffffff;
		vioapic_mmio(&a, off, 4, true, &v);
		v = 0xdeadbeef;
		vioapic_mmio(&a, off, 4, false, &v);
		assert_int_equal(v, 0);
	}
	v = 0;
	vioapic_mmio(&a, VIOAPIC_SIZE + 0x10, 4, false, &v);
	assert_int_equal(v, 0);
	assert_memory_equal(&a, &before, sizeof(a));
	assert_int_equal(reg_read(&a, 0x10), 0x31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_id_version_arb),
		cmocka_unit_test(test_ioregsel),
		cmocka_unit_test(test_rte),
		cmocka_unit_test(test_other_accesses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
