/*
 * The legacy PC devices (vmm/dev/legacy.c) against a fake TSC and a fake RTC:
 * what Linux's i8259 probe, TSC calibration, RTC and PCI conf1 probes do,
 * step by step, and the registers one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/dev/legacy.h"

#define PIT_HZ 1193182ull
/* At this frequency one PIT tick is exactly 1000 TSC cycles. */
#define EXACT_HZ (PIT_HZ * 1000)
/* A realistic, inexact one. */
#define REAL_HZ 2903999000ull

static uint64_t fake_tsc;

static uint64_t fake_now(void)
{
	return fake_tsc;
}

static void advance_ticks(uint64_t n)
{
	fake_tsc += n * 1000;
}

static void init_at(struct legacy *l, uint64_t hz, uint8_t (*cmos)(uint8_t))
{
	struct legacy_host host = { .tsc = fake_now, .tsc_hz = hz, .cmos_read = cmos };

	legacy_init(l, &host);
}

/* ---- port access helpers ------------------------------------------------- */

static uint32_t in_n(struct legacy *l, uint16_t port, unsigned size)
{
	uint32_t v = 0xa5a5a5a5;

	assert_int_equal(legacy_io(l, port, size, true, &v), LEGACY_DONE);
	if (size < 4)
		assert_true(v < (1u << (8 * size)));
	return v;
}

static uint8_t in8(struct legacy *l, uint16_t port)
{
	return (uint8_t)in_n(l, port, 1);
}

static void out_n(struct legacy *l, uint16_t port, unsigned size, uint32_t v)
{
	/* Channel 0's counts and control words say so, and the master PIC's
	 * ICW1 and odd-port writes (ICW2-4, OCW1: where IRQ 0 goes); nothing
	 * else does. */
	bool irq0 = port == 0x40 || (port == 0x43 && (v & 0xc0) == 0 && (v & 0x30)) ||
		    port == 0x21 || (port == 0x20 && (v & 0x10));

	assert_int_equal(legacy_io(l, port, size, false, &v), irq0 ? LEGACY_IRQ0_MOVED : LEGACY_DONE);
}

static void out8(struct legacy *l, uint16_t port, uint8_t v)
{
	out_n(l, port, 1, v);
}

static enum legacy_result try_io(struct legacy *l, uint16_t port, unsigned size, bool in, uint32_t v)
{
	return legacy_io(l, port, size, in, &v);
}

/* The 16-bit count of channel ch via the counter latch command. */
static uint16_t pit_latched(struct legacy *l, unsigned ch)
{
	out8(l, 0x43, (uint8_t)(ch << 6));
	uint8_t lo = in8(l, (uint16_t)(0x40 + ch));
	return (uint16_t)(lo | in8(l, (uint16_t)(0x40 + ch)) << 8);
}

static bool out2(struct legacy *l)
{
	return in8(l, 0x61) & 0x20;
}

/* Gate channel 2 on, speaker off, as Linux does before calibrating. */
static void gate2_on(struct legacy *l)
{
	out8(l, 0x61, (uint8_t)((in8(l, 0x61) & ~0x02) | 0x01));
}

/* ---- unhandled ------------------------------------------------------------ */

static void test_unhandled_ports_and_sizes(void **state)
{
	static const struct { uint16_t port; unsigned size; } refused[] = {
		{ 0x3f8, 1 }, { 0x81, 1 }, { 0x600, 2 }, { 0xcf9, 1 }, { 0xcfa, 2 }, { 0xcfb, 1 },
		{ 0x1f0, 1 }, { 0x22, 1 }, { 0x44, 1 }, { 0x65, 1 }, { 0x72, 1 }, { 0x4d2, 1 },
		{ 0x21, 2 }, { 0x20, 4 }, { 0xa0, 2 }, { 0x40, 2 }, { 0x43, 4 }, { 0x61, 2 },
		{ 0x70, 2 }, { 0x71, 4 }, { 0x60, 2 }, { 0x64, 4 }, { 0x92, 2 }, { 0x80, 2 },
		{ 0x80, 4 }, { 0x4d0, 2 }, { 0xcf8, 1 }, { 0xcf8, 2 }, { 0xcfd, 4 }, { 0xcff, 2 },
		{ 0xcfe, 4 },
	};
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(try_io(&l, refused[i].port, refused[i].size, true, 0), LEGACY_UNHANDLED);
		assert_int_equal(try_io(&l, refused[i].port, refused[i].size, false, 0xfe), LEGACY_UNHANDLED);
	}
	/* Nothing above touched the state: the PIC is still masked. */
	assert_int_equal(in8(&l, 0x21), 0xff);
}

/* ---- 8259A ------------------------------------------------------------------- */

static void test_pic_reset_and_probe(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	assert_int_equal(in8(&l, 0x21), 0xff);
	assert_int_equal(in8(&l, 0xa1), 0xff);
	/* probe_8259A(): mask the slave, all but the cascade on the master,
	 * read it back. */
	out8(&l, 0xa1, 0xff);
	out8(&l, 0x21, 0xfb);
	assert_int_equal(in8(&l, 0x21), 0xfb);
	assert_int_equal(in8(&l, 0xa1), 0xff);
}

/* IRQ 0 through the master 8259A (vmm/dev/pit_irq.c): requested, given
 * at INTA by priority, held while in service, EOI'd by OCW2 (specific and
 * not), masked by OCW1, or not kept in service with automatic EOI. */
static void pic_init_master(struct legacy *l, uint8_t icw4)
{
	out8(l, 0x20, 0x11);
	out8(l, 0x21, 0x20);
	out8(l, 0x21, 0x04);
	out8(l, 0x21, icw4);
}

static void test_pic_delivery(void **state)
{
	struct legacy l;
	uint8_t vec = 0;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	assert_false(legacy_pic_irq0_open(&l));		/* not initialized */
	legacy_pic_raise(&l, 0);
	assert_false(legacy_pic_next(&l, false, &vec));
	pic_init_master(&l, 0x01);
	assert_true(legacy_pic_irq0_open(&l));
	assert_false(legacy_pic_next(&l, false, &vec));	/* ICW1 cleared the request */
	legacy_pic_raise(&l, 0);
	legacy_pic_raise(&l, 3);
	assert_int_equal(in8(&l, 0x20), 0x09);			/* the IRR */
	assert_true(legacy_pic_next(&l, true, &vec));
	assert_int_equal(vec, 0x20);				/* IRQ 0 first */
	out8(&l, 0x20, 0x0b);					/* OCW3: read the ISR */
	assert_int_equal(in8(&l, 0x20), 0x01);
	legacy_pic_raise(&l, 0);
	assert_false(legacy_pic_next(&l, false, &vec));	/* IRQ 0 in service holds all */
	out8(&l, 0x20, 0x20);					/* non-specific EOI */
	assert_int_equal(in8(&l, 0x20), 0x00);
	assert_true(legacy_pic_next(&l, true, &vec));
	assert_int_equal(vec, 0x20);
	assert_true(legacy_pic_next(&l, false, &vec) == false);	/* IRQ 3 below IRQ 0 */
	out8(&l, 0x20, 0x60);					/* specific EOI, level 0 */
	assert_true(legacy_pic_next(&l, true, &vec));
	assert_int_equal(vec, 0x23);
	out8(&l, 0x20, 0x20);
	out8(&l, 0x21, 0x01);					/* IRQ 0 masked */
	assert_false(legacy_pic_irq0_open(&l));
	legacy_pic_raise(&l, 0);
	assert_false(legacy_pic_next(&l, false, &vec));
	out8(&l, 0x21, 0x00);
	assert_true(legacy_pic_next(&l, false, &vec));		/* the request waited */
	/* automatic EOI: nothing stays in service */
	pic_init_master(&l, 0x03);
	legacy_pic_raise(&l, 0);
	assert_true(legacy_pic_next(&l, true, &vec));
	legacy_pic_raise(&l, 0);
	assert_true(legacy_pic_next(&l, true, &vec));
	assert_int_equal(l.pic[0].isr, 0);
}

static void test_pic_init_sequence(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	/* init_8259A(0) */
	out8(&l, 0x21, 0xff);
	out8(&l, 0x20, 0x11);		/* ICW1: edge, cascade, ICW4 */
	assert_int_equal(in8(&l, 0x21), 0x00);	/* ICW1 clears the IMR */
	out8(&l, 0x21, 0x30);		/* ICW2 */
	out8(&l, 0x21, 0x04);		/* ICW3: slave on IR2 */
	out8(&l, 0x21, 0x01);		/* ICW4: 8086 mode */
	assert_int_equal(in8(&l, 0x21), 0x00);	/* none of them was OCW1 */
	out8(&l, 0xa0, 0x11);
	out8(&l, 0xa1, 0x38);
	out8(&l, 0xa1, 0x02);
	out8(&l, 0xa1, 0x01);
	assert_int_equal(in8(&l, 0xa1), 0x00);
	assert_int_equal(l.pic[0].icw2, 0x30);
	assert_int_equal(l.pic[0].icw3, 0x04);
	assert_int_equal(l.pic[0].icw4, 0x01);
	assert_int_equal(l.pic[1].icw2, 0x38);
	assert_int_equal(l.pic[1].icw3, 0x02);
	assert_int_equal(l.pic[1].icw4, 0x01);
	/* Restore the masks: now OCW1. */
	out8(&l, 0x21, 0xfb);
	out8(&l, 0xa1, 0xff);
	assert_int_equal(in8(&l, 0x21), 0xfb);
	assert_int_equal(in8(&l, 0xa1), 0xff);
	out8(&l, 0x21, 0x5a);
	assert_int_equal(in8(&l, 0x21), 0x5a);
	assert_int_equal(in8(&l, 0xa1), 0xff);
}

/* ICW3 comes only in cascade mode (ICW1 SNGL clear), ICW4 only with IC4. */
static void test_pic_icw_variants(void **state)
{
	static const struct { uint8_t icw1; unsigned icws; } cases[] = {
		{ 0x13, 2 },	/* single, ICW4: ICW2, ICW4 */
		{ 0x10, 2 },	/* cascade, no ICW4: ICW2, ICW3 */
		{ 0x12, 1 },	/* single, no ICW4: ICW2 */
		{ 0x19, 3 },	/* level-triggered, cascade, ICW4 */
	};
	struct legacy l;

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		init_at(&l, EXACT_HZ, NULL);
		out8(&l, 0xa0, cases[i].icw1);
		for (unsigned k = 0; k < cases[i].icws; k++) {
			out8(&l, 0xa1, (uint8_t)(0x70 + k));
			assert_int_equal(in8(&l, 0xa1), 0);
		}
		out8(&l, 0xa1, 0xe7);
		assert_int_equal(in8(&l, 0xa1), 0xe7);
		assert_int_equal(l.pic[1].icw2, 0x70);
		assert_int_equal(in8(&l, 0x21), 0xff);	/* the master is untouched */
	}
}

static void test_pic_ocw(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	out8(&l, 0x21, 0xfb);
	out8(&l, 0x20, 0x0b);		/* OCW3: read ISR */
	assert_true(l.pic[0].read_isr);
	assert_int_equal(in8(&l, 0x20), 0);
	out8(&l, 0x20, 0x0a);		/* OCW3: read IRR */
	assert_false(l.pic[0].read_isr);
	assert_int_equal(in8(&l, 0x20), 0);
	out8(&l, 0x20, 0x08);		/* OCW3 without RR: selection kept */
	assert_false(l.pic[0].read_isr);
	out8(&l, 0x20, 0x68);		/* OCW3: special mask mode on */
	assert_true(l.pic[0].special_mask);
	out8(&l, 0x20, 0x48);		/* off */
	assert_false(l.pic[0].special_mask);
	out8(&l, 0x20, 0x0c);		/* poll: no interrupt */
	assert_int_equal(in8(&l, 0x20), 0);
	out8(&l, 0x20, 0x20);		/* OCW2: non-specific EOI */
	out8(&l, 0x20, 0x62);		/* OCW2: specific EOI, IR2 */
	out8(&l, 0xa0, 0x20);
	/* None of these started an init sequence or touched the IMR. */
	assert_int_equal(in8(&l, 0x21), 0xfb);
	out8(&l, 0x21, 0xfa);
	assert_int_equal(in8(&l, 0x21), 0xfa);
	assert_int_equal(in8(&l, 0xa1), 0xff);
}

static void test_elcr(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	assert_int_equal(in8(&l, 0x4d0), 0);
	assert_int_equal(in8(&l, 0x4d1), 0);
	out8(&l, 0x4d1, 0x02);		/* IRQ 9 (the SCI) level */
	assert_int_equal(in8(&l, 0x4d1), 0x02);
	assert_int_equal(in8(&l, 0x4d0), 0);
	out8(&l, 0x4d0, 0xff);		/* IRQ 0-2 stay edge */
	out8(&l, 0x4d1, 0xff);		/* IRQ 8 and 13 stay edge */
	assert_int_equal(in8(&l, 0x4d0), 0xf8);
	assert_int_equal(in8(&l, 0x4d1), 0xde);
	out8(&l, 0x4d0, 0x20);
	assert_int_equal(in8(&l, 0x4d0), 0x20);
}

/* ---- 8254 ------------------------------------------------------------------ */

/* Each TSC read in the simulated guest costs this much; each port access
 * (a VM exit) costs more. */
#define READ_COST 40
#define EXIT_COST 1700

static uint64_t guest_tsc(void)
{
	fake_tsc += READ_COST;
	return fake_tsc;
}

static uint8_t guest_in8(struct legacy *l, uint16_t port)
{
	fake_tsc += EXIT_COST;
	return in8(l, port);
}

/* Linux's pit_verify_msb(): read the LSB, compare the MSB. */
static bool verify_msb(struct legacy *l, uint8_t val)
{
	guest_in8(l, 0x42);
	return guest_in8(l, 0x42) == val;
}

/* Linux's pit_expect_msb(): how long the MSB stays val. */
static bool expect_msb(struct legacy *l, uint8_t val, uint64_t *tscp, uint64_t *deltap)
{
	uint64_t tsc = 0, prev = 0;
	int count;

	for (count = 0; count < 50000; count++) {
		if (!verify_msb(l, val))
			break;
		prev = tsc;
		tsc = guest_tsc();
	}
	*deltap = guest_tsc() - prev;
	*tscp = tsc;
	return count > 5;
}

/*
 * quick_pit_calibrate() from arch/x86/kernel/tsc.c, step by step: channel
 * 2 in mode 0 from 0xffff, the MSB polled until the error is under 500
 * ppm. The frequency it finds must be the fake TSC's.
 */
static void test_pit_quick_calibrate(void **state)
{
	const unsigned max_iterations = 50 * PIT_HZ / 1000 / 256;
	struct legacy l;
	uint64_t tsc, delta, d1, d2;
	unsigned i;

	(void)state;
	fake_tsc = 123456789;
	init_at(&l, REAL_HZ, NULL);
	gate2_on(&l);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 0xff);
	out8(&l, 0x42, 0xff);
	verify_msb(&l, 0);

	assert_true(expect_msb(&l, 0xff, &tsc, &d1));
	for (i = 1; i <= max_iterations; i++) {
		assert_true(expect_msb(&l, (uint8_t)(0xff - i), &delta, &d2));
		delta -= tsc;
		if (i == 1)
			assert_true(d1 + d2 < (delta * max_iterations) >> 11);
		if (d1 + d2 >= delta >> 11)
			continue;
		assert_true(verify_msb(&l, (uint8_t)(0xfe - i)));
		break;
	}
	assert_true(i <= max_iterations);

	uint64_t khz = delta * PIT_HZ / (i * 256 * 1000);
	uint64_t want = REAL_HZ / 1000;
	uint64_t err = khz > want ? khz - want : want - khz;
	assert_true(err * 1000000 / want < 500);

	/* The count went down 256 per MSB step, in as many TSC cycles as
	 * 256 PIT ticks take. */
	uint64_t per_step = delta / i, expected = 256 * REAL_HZ / PIT_HZ;
	assert_true(per_step > expected - expected / 100 && per_step < expected + expected / 100);
}

/* Mode 0 exactly: loaded on the first tick, 0 after N more, OUT2 high
 * from then on while the count wraps. */
/* IRQ 0: channel 0's OUT rising, in TSC time, against what the counter
 * reads at that moment (mode 2: the reload just happened). */
static void test_pit_irq0_periodic_and_one_shot(void **state)
{
	struct legacy l;

	(void)state;
	fake_tsc = 5000000;
	init_at(&l, EXACT_HZ, NULL);
	/* As firmware leaves it: mode 3, 65536, already counting. */
	uint64_t first = legacy_irq0_next(&l, fake_tsc);
	assert_int_equal(first, 5000000 + (65536 + 1) * 1000ull);

	/* Mode 2, count 1000: edges 1001, 2001, ... ticks after the write. */
	out8(&l, 0x43, 0x34);
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), LEGACY_NEVER);	/* no count yet */
	out8(&l, 0x40, 1000 & 0xff);
	out8(&l, 0x40, 1000 >> 8);
	uint64_t t0 = fake_tsc, next = legacy_irq0_next(&l, fake_tsc);
	assert_int_equal(next, t0 + 1001 * 1000);
	fake_tsc = next - 1;
	assert_int_equal(pit_latched(&l, 0), 1);	/* OUT low: the count is 1 */
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), next);
	fake_tsc = next;
	assert_int_equal(pit_latched(&l, 0), 1000);	/* reloaded: the edge */
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), t0 + 2001 * 1000);
	/* Edges missed are not counted: the next one after now. */
	fake_tsc = t0 + 5500 * 1000;
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), t0 + 6001 * 1000);

	/* A new count in mode 2 takes over at the end of the period. */
	out8(&l, 0x40, 100);
	out8(&l, 0x40, 0);
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), t0 + 6001 * 1000);
	fake_tsc = t0 + 6001 * 1000;
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), t0 + 6101 * 1000);

	/* Mode 0, one-shot: one edge at the terminal count, then none. */
	out8(&l, 0x43, 0x30);
	out8(&l, 0x40, 50);
	out8(&l, 0x40, 0);
	t0 = fake_tsc;
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), t0 + 51 * 1000);
	fake_tsc = t0 + 51 * 1000;
	assert_int_equal(pit_latched(&l, 0), 0);
	assert_int_equal(legacy_irq0_next(&l, fake_tsc), LEGACY_NEVER);

	/* An inexact TSC rate: the deadline is the first TSC value at which
	 * the counter shows the edge, not one before. */
	init_at(&l, REAL_HZ, NULL);
	out8(&l, 0x43, 0x34);
	out8(&l, 0x40, 0x9c);
	out8(&l, 0x40, 0x04);		/* 1180: about 1 kHz */
	next = legacy_irq0_next(&l, fake_tsc);
	fake_tsc = next - 1;
	assert_int_equal(pit_latched(&l, 0), 1);
	fake_tsc = next;
	assert_int_equal(pit_latched(&l, 0), 1180);
}

static void test_pit_mode0_terminal_count(void **state)
{
	struct legacy l;

	(void)state;
	fake_tsc = 1000000;
	init_at(&l, EXACT_HZ, NULL);
	assert_false(out2(&l));
	gate2_on(&l);
	out8(&l, 0x43, 0xb0);
	assert_false(out2(&l));
	out8(&l, 0x42, 100);
	out8(&l, 0x42, 0);
	assert_int_equal(pit_latched(&l, 2), 100);
	assert_false(out2(&l));
	advance_ticks(1);		/* the loading tick */
	assert_int_equal(pit_latched(&l, 2), 100);
	advance_ticks(1);
	assert_int_equal(pit_latched(&l, 2), 99);
	advance_ticks(98);
	assert_int_equal(pit_latched(&l, 2), 1);
	assert_false(out2(&l));
	fake_tsc += 999;
	assert_false(out2(&l));
	fake_tsc += 1;
	assert_int_equal(pit_latched(&l, 2), 0);
	assert_true(out2(&l));
	advance_ticks(1);
	assert_int_equal(pit_latched(&l, 2), 0xffff);
	assert_true(out2(&l));
	advance_ticks(70000);
	assert_int_equal(pit_latched(&l, 2), (uint16_t)(100 - 70101));
	assert_true(out2(&l));

	/* A new count sets OUT low again. */
	out8(&l, 0x42, 0x10);
	assert_false(out2(&l));		/* the first byte does it */
	out8(&l, 0x42, 0x00);
	assert_false(out2(&l));
	advance_ticks(0x11);
	assert_true(out2(&l));

	/* A count of 0 is 65536. */
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 0);
	out8(&l, 0x42, 0);
	advance_ticks(2);
	assert_int_equal(pit_latched(&l, 2), 0xffff);
	advance_ticks(65535);
	assert_int_equal(pit_latched(&l, 2), 0);
	assert_true(out2(&l));
}

/* Mode 0, two-byte count: the first byte stops the count and sets OUT low. */
static void test_pit_mode0_first_byte_stops(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	gate2_on(&l);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 5);
	out8(&l, 0x42, 0);
	advance_ticks(10);
	assert_true(out2(&l));
	out8(&l, 0x42, 50);
	assert_false(out2(&l));
	uint16_t stopped = pit_latched(&l, 2);
	advance_ticks(20);
	assert_int_equal(pit_latched(&l, 2), stopped);
	out8(&l, 0x42, 0);
	advance_ticks(11);
	assert_int_equal(pit_latched(&l, 2), 40);
}

/* pit_calibrate_tsc(): mode 0 with a 10 ms latch, then poll port 0x61
 * until OUT2 rises. */
static void test_pit_calibrate_tsc_out2(void **state)
{
	const unsigned latch = (unsigned)(PIT_HZ / (1000 / 10));
	struct legacy l;
	unsigned loops = 0;

	(void)state;
	fake_tsc = 5;
	init_at(&l, REAL_HZ, NULL);
	gate2_on(&l);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, (uint8_t)latch);
	out8(&l, 0x42, (uint8_t)(latch >> 8));
	uint64_t t1 = guest_tsc();
	while (!(guest_in8(&l, 0x61) & 0x20)) {
		guest_tsc();
		loops++;
		assert_true(loops < 1000000);
	}
	uint64_t t2 = guest_tsc();
	uint64_t expect = (uint64_t)(latch + 1) * REAL_HZ / PIT_HZ;
	uint64_t step = READ_COST * 2 + EXIT_COST;
	assert_true(t2 - t1 >= expect);
	assert_true(t2 - t1 <= expect + step + REAL_HZ / PIT_HZ + 1);
	assert_true(loops > 1000);	/* Linux wants at least CAL_PIT_LOOPS */
}

static void test_pit_gate_freezes_channel2(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 0xe8);
	out8(&l, 0x42, 0x03);		/* 1000, gate still low */
	advance_ticks(500);
	assert_int_equal(pit_latched(&l, 2), 1000);
	gate2_on(&l);
	advance_ticks(101);
	assert_int_equal(pit_latched(&l, 2), 900);
	out8(&l, 0x61, 0x00);		/* gate off */
	advance_ticks(5000);
	assert_int_equal(pit_latched(&l, 2), 900);
	assert_int_equal(in8(&l, 0x42), 0x84);	/* live reads too */
	assert_int_equal(in8(&l, 0x42), 0x03);
	out8(&l, 0x61, 0x01);
	advance_ticks(100);
	assert_int_equal(pit_latched(&l, 2), 800);
	advance_ticks(800);
	assert_true(out2(&l));

	/* Mode 2: a low gate stops the count and holds OUT high; the rising
	 * edge reloads the count. */
	out8(&l, 0x43, 0xb4);
	out8(&l, 0x42, 10);
	out8(&l, 0x42, 0);
	advance_ticks(10);		/* count 1: OUT low */
	assert_int_equal(pit_latched(&l, 2), 1);
	assert_false(out2(&l));
	out8(&l, 0x61, 0x00);
	assert_true(out2(&l));
	advance_ticks(3);
	assert_int_equal(pit_latched(&l, 2), 1);
	out8(&l, 0x61, 0x01);
	assert_int_equal(pit_latched(&l, 2), 10);
	advance_ticks(4);
	assert_int_equal(pit_latched(&l, 2), 7);

	/* Channels 0 and 1 have no gate to turn off. */
	out8(&l, 0x43, 0x30);
	out8(&l, 0x40, 0x00);
	out8(&l, 0x40, 0x01);
	out8(&l, 0x61, 0x00);
	advance_ticks(11);
	assert_int_equal(pit_latched(&l, 0), 0x100 - 10);
}

static void test_pit_mode2_and_3(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	/* Channel 0, mode 2, period 10: reads 10..1, OUT low at 1. */
	out8(&l, 0x43, 0x34);
	out8(&l, 0x40, 10);
	out8(&l, 0x40, 0);
	advance_ticks(1);
	for (unsigned period = 0; period < 3; period++) {
		for (unsigned k = 0; k < 10; k++) {
			out8(&l, 0x43, 0xc2);	/* read back count and status of 0 */
			uint8_t status = in8(&l, 0x40);
			uint8_t lo = in8(&l, 0x40);
			uint16_t count = (uint16_t)(lo | in8(&l, 0x40) << 8);
			assert_int_equal(count, 10 - k);
			assert_int_equal(!!(status & 0x80), count != 1);
			advance_ticks(1);
		}
	}
	/* A count written mid-period takes over at the end of the period. */
	advance_ticks(3);
	assert_int_equal(pit_latched(&l, 0), 7);
	out8(&l, 0x40, 4);
	out8(&l, 0x40, 0);
	assert_int_equal(pit_latched(&l, 0), 7);
	advance_ticks(6);
	assert_int_equal(pit_latched(&l, 0), 1);
	advance_ticks(1);
	assert_int_equal(pit_latched(&l, 0), 4);
	advance_ticks(3);
	assert_int_equal(pit_latched(&l, 0), 1);
	advance_ticks(1);
	assert_int_equal(pit_latched(&l, 0), 4);

	/* A control word drops a count waiting for the end of the period. */
	out8(&l, 0x40, 9);
	out8(&l, 0x40, 0);
	out8(&l, 0x43, 0x30);
	advance_ticks(20);
	out8(&l, 0x43, 0xc2);
	assert_int_equal(in8(&l, 0x40), 0x70);	/* OUT low, null count: not started */
	assert_int_equal(in8(&l, 0x40), 4);	/* the count it had */
	assert_int_equal(in8(&l, 0x40), 0);

	/* Mode 6 is mode 2. */
	out8(&l, 0x43, 0x3c);
	out8(&l, 0x40, 3);
	out8(&l, 0x40, 0);
	advance_ticks(3);
	assert_int_equal(pit_latched(&l, 0), 1);
	advance_ticks(1);
	assert_int_equal(pit_latched(&l, 0), 3);

	/* Channel 2, mode 3, period 10: OUT2 high 5 ticks, low 5. */
	gate2_on(&l);
	out8(&l, 0x43, 0xb6);
	out8(&l, 0x42, 10);
	out8(&l, 0x42, 0);
	advance_ticks(1);
	for (unsigned k = 0; k < 30; k++) {
		assert_int_equal(out2(&l), k % 10 < 5);
		assert_int_equal(pit_latched(&l, 2), 10 - 2 * (k % 5));
		advance_ticks(1);
	}
	/* Odd: high (N + 1) / 2, low (N - 1) / 2. */
	out8(&l, 0x43, 0xb6);
	out8(&l, 0x42, 7);
	out8(&l, 0x42, 0);
	advance_ticks(1);
	for (unsigned k = 0; k < 14; k++) {
		assert_int_equal(out2(&l), k % 7 < 4);
		advance_ticks(1);
	}
}

/* Modes 1, 4 and 5: OUT through read-back status. */
static void test_pit_modes_1_4_5(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	/* Mode 4 on channel 1: counts at once, OUT low for the tick at 0. */
	out8(&l, 0x43, 0x78);
	out8(&l, 0x41, 5);
	out8(&l, 0x41, 0);
	for (unsigned k = 0; k < 9; k++) {
		out8(&l, 0x43, 0xe4);	/* status of channel 1 */
		assert_int_equal(!!(in8(&l, 0x41) & 0x80), k != 6);
		advance_ticks(1);
	}
	/* Mode 1 on channel 2: armed until the gate rises, then OUT low
	 * until terminal count. */
	out8(&l, 0x43, 0xb2);
	out8(&l, 0x42, 5);
	out8(&l, 0x42, 0);
	advance_ticks(10);
	assert_true(out2(&l));
	out8(&l, 0x43, 0xe8);
	assert_int_equal(in8(&l, 0x42) & 0x40, 0x40);	/* null count: not loaded */
	gate2_on(&l);
	assert_false(out2(&l));
	advance_ticks(5);
	assert_false(out2(&l));
	out8(&l, 0x61, 0x00);		/* the gate level does not matter */
	advance_ticks(1);
	assert_true(out2(&l));
	gate2_on(&l);			/* retrigger */
	assert_false(out2(&l));
	assert_int_equal(pit_latched(&l, 2), 5);
	/* Mode 5: OUT high, low for one tick at 0 after a trigger. */
	out8(&l, 0x61, 0x00);
	out8(&l, 0x43, 0xba);
	out8(&l, 0x42, 3);
	out8(&l, 0x42, 0);
	gate2_on(&l);
	for (unsigned k = 0; k < 6; k++) {
		assert_int_equal(out2(&l), k != 4);
		advance_ticks(1);
	}
}

static void test_pit_latch(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	gate2_on(&l);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 0x34);
	out8(&l, 0x42, 0x12);
	advance_ticks(0x11);
	out8(&l, 0x43, 0x80);		/* latch channel 2 */
	advance_ticks(0x100);
	out8(&l, 0x43, 0x80);		/* ignored: the first latch is unread */
	assert_int_equal(in8(&l, 0x42), 0x24);
	advance_ticks(0x100);
	assert_int_equal(in8(&l, 0x42), 0x12);
	/* Read in full: live again. */
	assert_int_equal(in8(&l, 0x42), 0x24);
	assert_int_equal(in8(&l, 0x42), 0x10);
	/* A control word drops an unread latch. */
	out8(&l, 0x43, 0x80);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 0x00);
	out8(&l, 0x42, 0x20);
	advance_ticks(2);
	assert_int_equal(in8(&l, 0x42), 0xff);
	assert_int_equal(in8(&l, 0x42), 0x1f);
}

static void test_pit_read_back(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	gate2_on(&l);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x43, 0xe8);		/* status of 2 */
	assert_int_equal(in8(&l, 0x42), 0x70);	/* OUT low, null count, LSB/MSB, mode 0 */
	out8(&l, 0x42, 0x00);
	out8(&l, 0x42, 0x01);
	out8(&l, 0x43, 0xe8);
	assert_int_equal(in8(&l, 0x42), 0x30);	/* loaded */

	/* Count and status of 0 and 2: status first, then the count; a
	 * second read-back before they are read changes nothing. */
	out8(&l, 0x43, 0x36);		/* channel 0: mode 3, LSB/MSB */
	out8(&l, 0x40, 0x00);
	out8(&l, 0x40, 0x10);
	advance_ticks(0x11);
	out8(&l, 0x43, 0xca);
	advance_ticks(0x40);
	out8(&l, 0x43, 0xca);
	assert_int_equal(in8(&l, 0x42), 0x30);
	assert_int_equal(in8(&l, 0x42), 0xf0);
	assert_int_equal(in8(&l, 0x42), 0x00);
	assert_int_equal(in8(&l, 0x40), 0xb6);	/* OUT high, LSB/MSB, mode 3 */
	assert_int_equal(in8(&l, 0x40), 0xe0);	/* 0x1000 - 2 * 0x10 */
	assert_int_equal(in8(&l, 0x40), 0x0f);
	/* Count only (bit 5 clear, bit 4 set), channel 1 not selected. */
	out8(&l, 0x43, 0x51);		/* channel 1: LSB only, mode 0, BCD */
	out8(&l, 0x41, 0x50);
	out8(&l, 0x43, 0xd6);		/* count of 0 and 1 */
	advance_ticks(5);
	assert_int_equal(in8(&l, 0x41), 0x50);
	assert_int_equal(in8(&l, 0x41), 0x4c);	/* live */
	out8(&l, 0x43, 0xe4);		/* status of 1 */
	assert_int_equal(in8(&l, 0x41), 0x11);
	/* Channel 0's count latched at 0xd6, still waiting. */
	advance_ticks(0x100);
	uint8_t lo = in8(&l, 0x40);
	uint16_t c0 = (uint16_t)(lo | in8(&l, 0x40) << 8);
	assert_int_equal(c0, 0x1000 - 2 * (0x10 + 0x40));
}

static void test_pit_access_modes(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	gate2_on(&l);
	/* LSB then MSB: reads alternate, live. */
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 0x00);
	out8(&l, 0x42, 0x30);
	advance_ticks(0x11);
	assert_int_equal(in8(&l, 0x42), 0xf0);
	advance_ticks(0x100);
	assert_int_equal(in8(&l, 0x42), 0x2e);
	assert_int_equal(in8(&l, 0x42), 0xf0);
	assert_int_equal(in8(&l, 0x42), 0x2e);
	/* LSB only: writes set the LSB (MSB 0), reads give the LSB. */
	out8(&l, 0x43, 0x90);
	out8(&l, 0x42, 0x80);
	advance_ticks(0x11);
	assert_int_equal(in8(&l, 0x42), 0x70);
	assert_int_equal(in8(&l, 0x42), 0x70);
	assert_int_equal(pit_latched(&l, 2) & 0xff, 0x70);
	assert_int_equal(in8(&l, 0x42), 0x70);	/* the latch went with one read */
	/* MSB only. */
	out8(&l, 0x43, 0xa0);
	out8(&l, 0x42, 0x02);
	advance_ticks(0x101);
	assert_int_equal(in8(&l, 0x42), 0x01);
	assert_int_equal(in8(&l, 0x42), 0x01);
	advance_ticks(1);
	assert_int_equal(in8(&l, 0x42), 0x00);
	/* The control word register reads nothing. */
	assert_int_equal(in8(&l, 0x43), 0xff);
}

/* Any TSC value: across its wrap, and deltas whose product with the PIT
 * rate does not fit in 64 bits. */
static void test_pit_tsc_arithmetic(void **state)
{
	struct legacy l;

	(void)state;
	fake_tsc = UINT64_MAX - 500 * 1000;
	init_at(&l, EXACT_HZ, NULL);
	gate2_on(&l);
	out8(&l, 0x43, 0xb0);
	out8(&l, 0x42, 0xe8);
	out8(&l, 0x42, 0x03);
	advance_ticks(1001);
	assert_int_equal(pit_latched(&l, 2), 0);
	assert_true(out2(&l));

	/* A TSC a little behind the one the count was loaded at (another
	 * CPU's) is no time, not 2^64 cycles. */
	out8(&l, 0x42, 0xe8);
	out8(&l, 0x42, 0x03);
	fake_tsc -= 5000;
	assert_int_equal(pit_latched(&l, 2), 1000);
	assert_false(out2(&l));
	fake_tsc += 5000 + 2000;
	assert_int_equal(pit_latched(&l, 2), 999);

	const uint64_t hz = 3000000000ull;
	const uint64_t deltas[] = { 1ull << 62, UINT64_MAX / 3, 15500000000000ull, 987654321987ull };
	for (unsigned i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		fake_tsc = 0xfedcba9876543210ull;
		init_at(&l, hz, NULL);
		gate2_on(&l);
		out8(&l, 0x43, 0xb0);
		out8(&l, 0x42, 0);
		out8(&l, 0x42, 0);
		fake_tsc += deltas[i];
		unsigned __int128 ticks = (unsigned __int128)deltas[i] * PIT_HZ / hz;
		assert_int_equal(pit_latched(&l, 2), (uint16_t)(0x10000 - (uint64_t)(ticks - 1)));
	}
}

static void test_port61(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	uint8_t a = in8(&l, 0x61), b = in8(&l, 0x61);
	assert_int_equal(a & 0xcf, 0);
	assert_int_equal((a ^ b) & 0x10, 0x10);	/* refresh toggles */
	out8(&l, 0x61, 0xff);
	a = in8(&l, 0x61);
	b = in8(&l, 0x61);
	assert_int_equal(a & 0xcf, 0x0f);
	assert_int_equal((a ^ b) & 0x10, 0x10);
	out8(&l, 0x61, 0x0a);
	assert_int_equal(in8(&l, 0x61) & 0xcf, 0x0a);
	assert_false(l.pit[2].gate);
}

/* ---- RTC and CMOS --------------------------------------------------------- */

static uint8_t host_cmos[128];
static unsigned host_reads[128];

static uint8_t fake_cmos_read(uint8_t idx)
{
	assert_true(idx < 128);
	host_reads[idx]++;
	return host_cmos[idx];
}

static uint8_t cmos_in(struct legacy *l, uint8_t idx)
{
	out8(l, 0x70, idx);
	return in8(l, 0x71);
}

static void cmos_out(struct legacy *l, uint8_t idx, uint8_t v)
{
	out8(l, 0x70, idx);
	out8(l, 0x71, v);
}

static void test_rtc_passthrough(void **state)
{
	static const uint8_t clock_regs[] = { 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x32 };
	struct legacy l;

	(void)state;
	for (unsigned i = 0; i < 128; i++)
		host_cmos[i] = (uint8_t)(0x80 | i);
	host_cmos[0x0b] = 0x7e;		/* binary, 24h, DSE off, every interrupt on */
	memset(host_reads, 0, sizeof(host_reads));
	init_at(&l, EXACT_HZ, fake_cmos_read);

	for (unsigned i = 0; i < sizeof(clock_regs); i++) {
		assert_int_equal(cmos_in(&l, clock_regs[i]), 0x80 | clock_regs[i]);
		assert_int_equal(host_reads[clock_regs[i]], 1);
	}
	/* B: the format bits only. */
	assert_int_equal(cmos_in(&l, 0x0b), 0x06);
	host_cmos[0x0b] = 0x03;
	assert_int_equal(cmos_in(&l, 0x0b), 0x03);
	assert_int_equal(cmos_in(&l, 0x0c), 0x00);
	assert_int_equal(cmos_in(&l, 0x0d), 0x80);
	/* Alarms read 0; nothing else came from the host. */
	assert_int_equal(cmos_in(&l, 0x01), 0);
	assert_int_equal(cmos_in(&l, 0x03), 0);
	assert_int_equal(cmos_in(&l, 0x05), 0);
	assert_int_equal(cmos_in(&l, 0x0e), 0);
	assert_int_equal(cmos_in(&l, 0x7f), 0);
	for (unsigned i = 0; i < 128; i++) {
		bool clock = memchr(clock_regs, (int)i, sizeof(clock_regs)) || i == 0x0b;
		if (!clock)
			assert_int_equal(host_reads[i], 0);
	}
	/* The NMI mask bit is not part of the index. */
	assert_int_equal(cmos_in(&l, 0x80 | 0x04), 0x84);
	host_cmos[0x00] = 0x59;
	assert_int_equal(cmos_in(&l, 0x80), 0x59);
	/* Writes to 0x00-0x0d and the century are dropped. */
	for (unsigned i = 0; i <= 0x0d; i++)
		cmos_out(&l, (uint8_t)i, 0x11);
	cmos_out(&l, 0x32, 0x11);
	assert_int_equal(cmos_in(&l, 0x00), 0x59);
	assert_int_equal(cmos_in(&l, 0x0a), 0x8a);
	assert_int_equal(cmos_in(&l, 0x0b), 0x03);
	assert_int_equal(cmos_in(&l, 0x0c), 0x00);
	assert_int_equal(cmos_in(&l, 0x0d), 0x80);
	assert_int_equal(cmos_in(&l, 0x01), 0x00);
	assert_int_equal(cmos_in(&l, 0x32), 0xb2);
	/* The index register reads back. */
	out8(&l, 0x70, 0x8f);
	assert_int_equal(in8(&l, 0x70), 0x8f);
}

static void test_rtc_fixed_time(void **state)
{
	static const struct { uint8_t idx, val; } regs[] = {
		{ 0x00, 0x00 }, { 0x02, 0x00 }, { 0x04, 0x00 }, { 0x06, 0x07 }, { 0x07, 0x01 },
		{ 0x08, 0x01 }, { 0x09, 0x00 }, { 0x0a, 0x26 }, { 0x0b, 0x02 }, { 0x0c, 0x00 },
		{ 0x0d, 0x80 }, { 0x32, 0x20 },
	};
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		cmos_out(&l, regs[i].idx, 0x55);
		assert_int_equal(cmos_in(&l, regs[i].idx), regs[i].val);
	}
}

static void test_cmos_ram(void **state)
{
	struct legacy a, b;

	(void)state;
	init_at(&a, EXACT_HZ, NULL);
	init_at(&b, EXACT_HZ, NULL);
	for (unsigned i = 0x0e; i < 0x80; i++)
		assert_int_equal(cmos_in(&a, (uint8_t)i), i == 0x32 ? 0x20 : 0);
	for (unsigned i = 0x0e; i < 0x80; i++)
		cmos_out(&a, (uint8_t)i, (uint8_t)(i * 7 + 1));
	for (unsigned i = 0x0e; i < 0x80; i++) {
		assert_int_equal(cmos_in(&a, (uint8_t)i), i == 0x32 ? 0x20 : (uint8_t)(i * 7 + 1));
		assert_int_equal(cmos_in(&b, (uint8_t)i), i == 0x32 ? 0x20 : 0);
	}
	/* The reboot code's shutdown status, with NMI masked. */
	cmos_out(&a, 0x8f, 0x00);
	assert_int_equal(cmos_in(&a, 0x0f), 0);
}

/* ---- PCI conf1 ------------------------------------------------------------ */

static uint32_t conf1(uint8_t bus, uint8_t devfn, uint16_t reg)
{
	return 0x80000000u | (uint32_t)(reg & 0xf00) << 16 | (uint32_t)bus << 16 | (uint32_t)devfn << 8 |
	       (reg & 0xfc);
}

static uint32_t conf1_read(struct legacy *l, uint8_t bus, uint8_t devfn, uint16_t reg, unsigned len)
{
	out_n(l, 0xcf8, 4, conf1(bus, devfn, reg));
	switch (len) {
	case 1: return in_n(l, (uint16_t)(0xcfc + (reg & 3)), 1);
	case 2: return in_n(l, (uint16_t)(0xcfc + (reg & 2)), 2);
	default: return in_n(l, 0xcfc, 4);
	}
}

static void test_pci_host_bridge(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	assert_int_equal(conf1_read(&l, 0, 0, 0x00, 4), 0x00081b36);
	assert_int_equal(conf1_read(&l, 0, 0, 0x00, 2), 0x1b36);
	assert_int_equal(conf1_read(&l, 0, 0, 0x02, 2), 0x0008);
	assert_int_equal(conf1_read(&l, 0, 0, 0x01, 1), 0x1b);
	assert_int_equal(conf1_read(&l, 0, 0, 0x03, 1), 0x00);
	assert_int_equal(conf1_read(&l, 0, 0, 0x04, 4), 0);	/* command, status */
	assert_int_equal(conf1_read(&l, 0, 0, 0x08, 4), 0x06000000);
	assert_int_equal(conf1_read(&l, 0, 0, 0x0a, 2), 0x0600);
	assert_int_equal(conf1_read(&l, 0, 0, 0x0b, 1), 0x06);
	assert_int_equal(conf1_read(&l, 0, 0, 0x08, 1), 0x00);	/* revision */
	assert_int_equal(conf1_read(&l, 0, 0, 0x0e, 1), 0x00);	/* header type 0, one function */
	for (unsigned reg = 0x0c; reg < 0x100; reg += 4)
		assert_int_equal(conf1_read(&l, 0, 0, (uint16_t)reg, 4), 0);
	/* A word across bytes 1-2 of the data port. */
	out_n(&l, 0xcf8, 4, conf1(0, 0, 0));
	assert_int_equal(in_n(&l, 0xcfd, 2), 0x081b);
	/* Read-only. */
	out_n(&l, 0xcf8, 4, conf1(0, 0, 0x04));
	out_n(&l, 0xcfc, 4, 0x00000007);
	out_n(&l, 0xcf8, 4, conf1(0, 0, 0x00));
	out_n(&l, 0xcfc, 2, 0x8086);
	out_n(&l, 0xcfe, 1, 0x12);
	assert_int_equal(conf1_read(&l, 0, 0, 0x04, 4), 0);
	assert_int_equal(conf1_read(&l, 0, 0, 0x00, 4), 0x00081b36);
}

/* pci_check_type1() and pci_sanity_check() from arch/x86/pci/direct.c. */
static void test_pci_linux_probe(void **state)
{
	struct legacy l;
	bool sane = false;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	assert_int_equal(try_io(&l, 0xcfb, 1, false, 0x01), LEGACY_UNHANDLED);
	uint32_t saved = in_n(&l, 0xcf8, 4);
	out_n(&l, 0xcf8, 4, 0x80000000);
	assert_int_equal(in_n(&l, 0xcf8, 4), 0x80000000);
	for (unsigned devfn = 0; devfn < 0x100 && !sane; devfn++)
		sane = conf1_read(&l, 0, (uint8_t)devfn, 0x0a, 2) == 0x0600;
	assert_true(sane);
	out_n(&l, 0xcf8, 4, saved);
	assert_int_equal(in_n(&l, 0xcf8, 4), saved);
	/* The latch keeps every bit written, the low two included. */
	out_n(&l, 0xcf8, 4, 0x7fffffff);
	assert_int_equal(in_n(&l, 0xcf8, 4), 0x7fffffff);
}

static void test_pci_absent_and_disabled(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	assert_int_equal(conf1_read(&l, 0, 0x08, 0x00, 4), 0xffffffff);	/* 00:01.0 */
	assert_int_equal(conf1_read(&l, 0, 0x01, 0x00, 4), 0xffffffff);	/* 00:00.1 */
	assert_int_equal(conf1_read(&l, 0, 0xff, 0x0a, 2), 0xffff);
	assert_int_equal(conf1_read(&l, 1, 0, 0x00, 4), 0xffffffff);
	assert_int_equal(conf1_read(&l, 0xff, 0, 0x0b, 1), 0xff);
	/* Extended registers (AMD's bits 27-24): none on a PCI host bridge. */
	assert_int_equal(conf1_read(&l, 0, 0, 0x100, 4), 0xffffffff);
	/* Enable bit clear: all ones, even for 00:00.0. */
	out_n(&l, 0xcf8, 4, 0x00000000);
	assert_int_equal(in_n(&l, 0xcfc, 4), 0xffffffff);
	assert_int_equal(in_n(&l, 0xcfe, 2), 0xffff);
	assert_int_equal(in_n(&l, 0xcff, 1), 0xff);
	out_n(&l, 0xcf8, 4, 0x00000008);
	assert_int_equal(in_n(&l, 0xcfe, 2), 0xffff);
	out_n(&l, 0xcfc, 4, 0);		/* taken, dropped */
}

/* ---- keyboard controller, 0x92, 0x80 ------------------------------------- */

static void test_kbc_port92_post(void **state)
{
	struct legacy l;

	(void)state;
	init_at(&l, EXACT_HZ, NULL);
	assert_int_equal(in8(&l, 0x64), 0);
	assert_int_equal(in8(&l, 0x60), 0);
	out8(&l, 0x64, 0xd1);		/* write output port: dropped */
	out8(&l, 0x60, 0xdf);
	out8(&l, 0x64, 0xff);		/* pulse nothing */
	out8(&l, 0x64, 0xaa);
	out8(&l, 0x60, 0xfe);		/* not a command on the data port */
	assert_int_equal(in8(&l, 0x64), 0);
	assert_int_equal(try_io(&l, 0x64, 1, false, 0xfe), LEGACY_RESET);
	assert_int_equal(try_io(&l, 0x64, 1, false, 0xf0), LEGACY_RESET);

	assert_int_equal(in8(&l, 0x92), 0x02);
	out8(&l, 0x92, 0x02);
	out8(&l, 0x92, 0x00);
	assert_int_equal(in8(&l, 0x92), 0x02);
	assert_int_equal(try_io(&l, 0x92, 1, false, 0x03), LEGACY_RESET);
	assert_int_equal(try_io(&l, 0x92, 1, false, 0x01), LEGACY_RESET);

	out8(&l, 0x80, 0x55);
	assert_int_equal(in8(&l, 0x80), 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unhandled_ports_and_sizes),
		cmocka_unit_test(test_pic_reset_and_probe),
		cmocka_unit_test(test_pic_init_sequence),
		cmocka_unit_test(test_pic_icw_variants),
		cmocka_unit_test(test_pic_ocw),
		cmocka_unit_test(test_pic_delivery),
		cmocka_unit_test(test_elcr),
		cmocka_unit_test(test_pit_quick_calibrate),
		cmocka_unit_test(test_pit_irq0_periodic_and_one_shot),
		cmocka_unit_test(test_pit_mode0_terminal_count),
		cmocka_unit_test(test_pit_mode0_first_byte_stops),
		cmocka_unit_test(test_pit_calibrate_tsc_out2),
		cmocka_unit_test(test_pit_gate_freezes_channel2),
		cmocka_unit_test(test_pit_mode2_and_3),
		cmocka_unit_test(test_pit_modes_1_4_5),
		cmocka_unit_test(test_pit_latch),
		cmocka_unit_test(test_pit_read_back),
		cmocka_unit_test(test_pit_access_modes),
		cmocka_unit_test(test_pit_tsc_arithmetic),
		cmocka_unit_test(test_port61),
		cmocka_unit_test(test_rtc_passthrough),
		cmocka_unit_test(test_rtc_fixed_time),
		cmocka_unit_test(test_cmos_ram),
		cmocka_unit_test(test_pci_host_bridge),
		cmocka_unit_test(test_pci_linux_probe),
		cmocka_unit_test(test_pci_absent_and_disabled),
		cmocka_unit_test(test_kbc_port92_post),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
