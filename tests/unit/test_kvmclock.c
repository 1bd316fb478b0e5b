/*
 * kvmclock (vmm/dev/kvmclock.c): the RTC read into Unix time, and the two
 * pvclock structures the guest names with its MSRs, checked the way a
 * Linux guest uses them (arch/x86/include/asm/pvclock.h). tsc_hz() is a
 * fake frequency; rdtsc() is the host's own; guest RAM is a buffer.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "arch/x86_64/tsc.h"
#include "tests/unit/host_stubs.h"
#include "vmm/domain.h"
#include "vmm/dev/kvmclock.h"


#define NSEC 1000000000ull
#define FILL 0xcc

/* ---- stand-ins: the TSC frequency and the domain's RAM ---------------------- */

static uint64_t fake_hz;

uint64_t tsc_hz(void)
{
	return fake_hz;
}

#define RAM_SIZE 0x10000ull
static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));

void *domain_gpa_to_hva(const struct domain *d, uint64_t gpa, uint64_t len)
{
	(void)d;
	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

/* ---- the RTC ------------------------------------------------------------------- */

static uint8_t cmos[128];
static unsigned uip_reads;	/* register A reads that still report UIP */
static unsigned reads_a;	/* register A reads */
static unsigned first_time_read;	/* reads_a when a time register was first read */
static bool time_read;

static uint8_t fake_cmos(uint8_t idx)
{
	assert_true(idx < 128);
	if (idx == 0x0a) {
		reads_a++;
		if (uip_reads) {
			uip_reads--;
			return cmos[0x0a] | 0x80;
		}
		return cmos[0x0a] & 0x7f;
	}
	if (!time_read && idx != 0x0b) {
		time_read = true;
		first_time_read = reads_a;
	}
	return cmos[idx];
}

/* Set the RTC to a date; register B mode bits as given; values BCD
 * unless `binary`. */
static uint8_t enc(unsigned v, bool binary)
{
	return binary ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static void rtc_set(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
		    uint8_t reg_b)
{
	bool binary = reg_b & 0x04;

	memset(cmos, 0, sizeof(cmos));
	cmos[0x0a] = 0x26;
	cmos[0x0b] = reg_b;
	cmos[0x00] = enc(s, binary);
	cmos[0x02] = enc(mi, binary);
	cmos[0x04] = enc(h, binary);
	cmos[0x07] = enc(d, binary);
	cmos[0x08] = enc(mo, binary);
	cmos[0x09] = enc(y % 100, binary);
	cmos[0x32] = enc(y / 100, binary);
	uip_reads = reads_a = first_time_read = 0;
	time_read = false;
}

/* The oracle: libc's own UTC conversion. */
static uint64_t unix_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	struct tm tm = { .tm_year = (int)y - 1900, .tm_mon = (int)mo - 1, .tm_mday = (int)d,
			 .tm_hour = (int)h, .tm_min = (int)mi, .tm_sec = (int)s };
	time_t t = timegm(&tm);

	assert_true(t >= 0);
	return (uint64_t)t;
}

static void test_rtc_bcd_24h(void **state)
{
	(void)state;
	rtc_set(2024, 2, 29, 12, 34, 56, 0x02);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 1709210096ull);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2024, 2, 29, 12, 34, 56));
	rtc_set(2024, 3, 1, 0, 0, 0, 0x02);	/* the day after the leap day */
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2024, 2, 29, 0, 0, 0) + 86400);
	rtc_set(2023, 12, 31, 23, 59, 59, 0x02);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2023, 12, 31, 23, 59, 59));
	rtc_set(2000, 2, 29, 6, 7, 8, 0x02);	/* divisible by 400: leap */
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2000, 2, 29, 6, 7, 8));
	rtc_set(2100, 3, 1, 0, 0, 0, 0x02);	/* 2100 is not a leap year */
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2100, 2, 28, 0, 0, 0) + 86400);
	rtc_set(1970, 1, 1, 0, 0, 1, 0x02);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 1);
	/* Register A's other bits and UIP clear from the start: one read */
	assert_int_equal(reads_a, 1);
}

static void test_rtc_binary(void **state)
{
	(void)state;
	rtc_set(2024, 2, 29, 23, 59, 58, 0x06);		/* binary, 24h */
	assert_int_equal(cmos[0x00], 58);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2024, 2, 29, 23, 59, 58));
	rtc_set(2031, 10, 9, 8, 7, 6, 0x06 | 0x10);	/* update-ended IRQ enable: ignored */
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2031, 10, 9, 8, 7, 6));
}

static void test_rtc_12_hour(void **state)
{
	static const struct {
		uint8_t raw;	/* register 4, BCD */
		unsigned hour;	/* 24-hour */
	} bcd[] = {
		{ 0x12, 0 }, { 0x01, 1 }, { 0x11, 11 }, { 0x92, 12 }, { 0x81, 13 }, { 0x91, 23 },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(bcd) / sizeof(bcd[0]); i++) {
		rtc_set(2024, 7, 4, 0, 30, 15, 0x00);		/* BCD, 12h */
		cmos[0x04] = bcd[i].raw;
		assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2024, 7, 4, bcd[i].hour, 30, 15));
	}
	/* binary 12h: 11 PM, 12 AM, 12 PM */
	rtc_set(2024, 7, 4, 0, 30, 15, 0x04);
	cmos[0x04] = 0x80 | 11;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2024, 7, 4, 23, 30, 15));
	cmos[0x04] = 12;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2024, 7, 4, 0, 30, 15));
	cmos[0x04] = 0x80 | 12;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2024, 7, 4, 12, 30, 15));
}

static void test_rtc_century(void **state)
{
	(void)state;
	rtc_set(1999, 12, 31, 23, 59, 59, 0x02);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 946684799ull);
	rtc_set(2099, 12, 31, 23, 59, 59, 0x02);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), unix_time(2099, 12, 31, 23, 59, 59));
	/* No (or a nonsense) century byte: the 2000s */
	rtc_set(2024, 2, 29, 12, 34, 56, 0x02);
	cmos[0x32] = 0x00;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 1709210096ull);
	cmos[0x32] = 0x99;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 1709210096ull);
	cmos[0x32] = 0x18;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 1709210096ull);
	/* Before 1970: not a time */
	rtc_set(1969, 12, 31, 23, 59, 59, 0x02);
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 0);
}

static void test_rtc_invalid(void **state)
{
	static const struct {
		uint8_t idx, val;
	} bad[] = {
		{ 0x00, 0x60 }, { 0x00, 0x5a }, { 0x02, 0x60 }, { 0x02, 0xff },
		{ 0x04, 0x24 }, { 0x04, 0x30 }, { 0x07, 0x00 }, { 0x07, 0x32 },
		{ 0x08, 0x00 }, { 0x08, 0x13 }, { 0x08, 0x20 }, { 0x09, 0xa0 },
		{ 0x09, 0xff },
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rtc_set(2024, 2, 29, 12, 34, 56, 0x02);
		cmos[bad[i].idx] = bad[i].val;
		assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 0);
	}
	/* binary mode */
	rtc_set(2024, 2, 29, 12, 34, 56, 0x06);
	cmos[0x00] = 60;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 0);
	rtc_set(2024, 2, 29, 12, 34, 56, 0x06);
	cmos[0x09] = 100;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 0);
	rtc_set(2024, 2, 29, 12, 34, 56, 0x06);
	cmos[0x04] = 24;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 0);
	/* No RTC at all */
	assert_int_equal(kvmclock_rtc_to_unix(NULL), 0);
}

static void test_rtc_waits_out_uip(void **state)
{
	(void)state;
	rtc_set(2024, 2, 29, 12, 34, 56, 0x02);
	uip_reads = 3;
	assert_int_equal(kvmclock_rtc_to_unix(fake_cmos), 1709210096ull);
	assert_int_equal(reads_a, 4);			/* 3 with UIP, 1 without */
	assert_true(time_read);
	assert_int_equal(first_time_read, 4);		/* only after UIP cleared */
}

/* ---- the per-vCPU time info ----------------------------------------------------- */

static struct domain *dom;

static int setup(void **state)
{
	(void)state;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return -1;
	dom->name = "linux0";
	dom->nvcpus = 2;
	for (unsigned i = 0; i < 2; i++)
		dom->vcpus[i].dom = dom;
	dom->legacy.host.cmos_read = fake_cmos;
	memset(ram, FILL, sizeof(ram));
	fake_hz = 2600000000ull;
	rtc_set(2024, 2, 29, 12, 34, 56, 0x02);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(dom);
	return 0;
}

/* What the guest computes: pvclock_scale_delta(). */
static uint64_t guest_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	delta = shift >= 0 ? delta << shift : delta >> -shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static bool untouched(uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		if (ram[i] != FILL)
			return false;
	return true;
}

static void read_pvti(uint64_t gpa, struct pvclock_vcpu_time_info *ti)
{
	memcpy(ti, ram + gpa, sizeof(*ti));
}

/* Enable the time info at `gpa` with the TSC at `hz`; check the result
 * the way a guest would use it. */
static void check_system_time_at(uint64_t hz, uint64_t gpa)
{
	struct vcpu *v = &dom->vcpus[0];
	struct pvclock_vcpu_time_info ti;

	fake_hz = hz;
	memset(ram, FILL, sizeof(ram));
	uint64_t t0 = rdtsc();
	assert_true(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, gpa | 1));
	uint64_t t1 = rdtsc();
	assert_int_equal(kvmclock_rdmsr(v, MSR_KVM_SYSTEM_TIME_NEW), gpa | 1);
	read_pvti(gpa, &ti);

	assert_int_equal(ti.version % 2, 0);
	assert_int_equal(ti.flags & 1, 1);		/* PVCLOCK_TSC_STABLE_BIT */
	assert_int_equal(ti.pad0, 0);
	assert_true(t0 <= ti.tsc_timestamp && ti.tsc_timestamp <= t1);
	assert_true(untouched(0, gpa));
	assert_true(untouched(gpa + sizeof(ti), RAM_SIZE));

	/* One second of ticks is 1e9 ns, within 1 ppm */
	uint64_t ns = guest_scale(hz, ti.tsc_to_system_mul, ti.tsc_shift);
	if (ns < NSEC - 1000 || ns > NSEC + 1000)
		fail_msg("tsc_hz %llu: mul 0x%x shift %d: 1 s of ticks -> %llu ns",
			 (unsigned long long)hz, ti.tsc_to_system_mul, ti.tsc_shift,
			 (unsigned long long)ns);
	/* ... and so are a millisecond and an hour */
	uint64_t ms = guest_scale(hz / 1000, ti.tsc_to_system_mul, ti.tsc_shift);
	assert_true(ms >= 999000 - 2 && ms <= 1001000 + 2);
	uint64_t hour = guest_scale(hz * 3600, ti.tsc_to_system_mul, ti.tsc_shift);
	assert_true(hour >= 3600 * (NSEC - 1000) && hour <= 3600 * (NSEC + 1000));

	/* system_time is the time since TSC 0 at tsc_timestamp */
	unsigned __int128 exact = (unsigned __int128)ti.tsc_timestamp * NSEC / hz;
	unsigned __int128 tol = exact / 1000000 + 2;
	assert_true(ti.system_time + tol >= exact && ti.system_time <= exact + tol);
}

static void test_system_time_scales(void **state)
{
	static const uint64_t hz[] = {
		10000000ull, 2600000000ull, 5000000000ull,
		1193182ull, 14318180ull, 100000000ull, 999999999ull, 1000000001ull,
		2903999000ull, 3999999999ull, 4000000000ull, 8000000000ull, 30000000000ull,
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(hz) / sizeof(hz[0]); i++)
		check_system_time_at(hz[i], 0x2000);
	/* At the very end of RAM, and at the very start */
	check_system_time_at(2600000000ull, RAM_SIZE - sizeof(struct pvclock_vcpu_time_info));
	check_system_time_at(2600000000ull, 0);
}

/* A TSC at exactly 1 GHz (or 1 GHz / 2^k: 500, 250, 125 MHz ...). */
static void test_system_time_exact_ghz(void **state)
{
	(void)state;
	/* hz == 1e9 exactly must not give mul = 2^32 (0 in 32 bits). */
	check_system_time_at(1000000000ull, 0x2000);
	check_system_time_at(500000000ull, 0x2000);
	check_system_time_at(125000000ull, 0x2000);
}

static void test_system_time_refused(void **state)
{
	struct vcpu *v = &dom->vcpus[0];
	static const uint64_t bad[] = {
		RAM_SIZE | 1,				/* past the end of RAM */
		(RAM_SIZE - 16) | 1,			/* straddles the end */
		(1ull << 40) | 1,
		0xfffffffffffff001ull,
		0x2002 | 1,				/* bit 1 set */
		0x2003,
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(ram, FILL, sizeof(ram));
		assert_false(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, bad[i]));
		assert_true(untouched(0, RAM_SIZE));
	}
	/* Misaligned but within RAM: still nothing written */
	assert_false(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, 0x2006 | 1));
	assert_true(untouched(0, RAM_SIZE));
}

static void test_system_time_refused_keeps_msr(void **state)
{
	struct vcpu *v = &dom->vcpus[0];

	(void)state;
	/* A refused (#GP) write has no effect: RDMSR still reads the last
	 * good one. */
	assert_true(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, 0x2001));
	assert_false(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, RAM_SIZE | 1));
	assert_int_equal(kvmclock_rdmsr(v, MSR_KVM_SYSTEM_TIME_NEW), 0x2001);
}

static void test_system_time_disabled(void **state)
{
	struct vcpu *v = &dom->vcpus[0];
	static const uint64_t off[] = { 0, 0x2000, 0x2002, RAM_SIZE, 1ull << 40 };

	(void)state;
	for (unsigned i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		memset(ram, FILL, sizeof(ram));
		assert_true(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, off[i]));
		assert_true(untouched(0, RAM_SIZE));
		assert_int_equal(kvmclock_rdmsr(v, MSR_KVM_SYSTEM_TIME_NEW), off[i]);
	}
	/* Enabled, then disabled: the page is left as it was (the guest's) */
	assert_true(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3001));
	memset(ram, FILL, sizeof(ram));
	assert_true(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3000));
	assert_true(untouched(0, RAM_SIZE));
	assert_int_equal(kvmclock_rdmsr(v, MSR_KVM_SYSTEM_TIME_NEW), 0x3000);
}

static void test_rdmsr(void **state)
{
	struct vcpu *v0 = &dom->vcpus[0], *v1 = &dom->vcpus[1];

	(void)state;
	assert_int_equal(kvmclock_rdmsr(v0, MSR_KVM_SYSTEM_TIME_NEW), 0);
	assert_int_equal(kvmclock_rdmsr(v0, MSR_KVM_WALL_CLOCK_NEW), 0);
	assert_true(kvmclock_wrmsr(v0, MSR_KVM_SYSTEM_TIME_NEW, 0x1001));
	assert_true(kvmclock_wrmsr(v1, MSR_KVM_SYSTEM_TIME_NEW, 0x1041));
	assert_true(kvmclock_wrmsr(v1, MSR_KVM_WALL_CLOCK_NEW, 0x1100));
	/* The time info is per vCPU, the wall clock per domain */
	assert_int_equal(kvmclock_rdmsr(v0, MSR_KVM_SYSTEM_TIME_NEW), 0x1001);
	assert_int_equal(kvmclock_rdmsr(v1, MSR_KVM_SYSTEM_TIME_NEW), 0x1041);
	assert_int_equal(kvmclock_rdmsr(v0, MSR_KVM_WALL_CLOCK_NEW), 0x1100);
	assert_int_equal(kvmclock_rdmsr(v1, MSR_KVM_WALL_CLOCK_NEW), 0x1100);
	/* A refused wall clock address leaves the MSR as it was */
	assert_false(kvmclock_wrmsr(v0, MSR_KVM_WALL_CLOCK_NEW, RAM_SIZE - 4));
	assert_int_equal(kvmclock_rdmsr(v0, MSR_KVM_WALL_CLOCK_NEW), 0x1100);
}

/* ---- the wall clock -------------------------------------------------------------- */

static void check_wall_clock(uint64_t hz)
{
	struct vcpu *v = &dom->vcpus[0];
	struct pvclock_vcpu_time_info ti;
	struct pvclock_wall_clock wc;
	uint64_t now = unix_time(2024, 2, 29, 12, 34, 56);

	fake_hz = hz;
	memset(ram, FILL, sizeof(ram));
	rtc_set(2024, 2, 29, 12, 34, 56, 0x02);
	assert_true(kvmclock_wrmsr(v, MSR_KVM_SYSTEM_TIME_NEW, 0x1000 | 1));
	assert_true(kvmclock_wrmsr(v, MSR_KVM_WALL_CLOCK_NEW, 0x1800));
	uint64_t t1 = rdtsc();
	read_pvti(0x1000, &ti);
	memcpy(&wc, ram + 0x1800, sizeof(wc));
	assert_true(untouched(0x1800 + sizeof(wc), 0x1900));
	assert_true(untouched(0x1000 + sizeof(ti), 0x1800));

	assert_int_equal(wc.version % 2, 0);
	assert_true(wc.nsec < NSEC);
	/* The guest's time at tsc_timestamp: boot + system_time. It is the
	 * RTC time minus the (short) time between the two writes. */
	unsigned __int128 guest_ns = (unsigned __int128)wc.sec * NSEC + wc.nsec + ti.system_time;
	unsigned __int128 rtc_ns = (unsigned __int128)now * NSEC;
	uint64_t between = guest_scale(t1 - ti.tsc_timestamp, ti.tsc_to_system_mul, ti.tsc_shift);
	assert_true(guest_ns <= rtc_ns + 2);
	assert_true(guest_ns + between + 2 >= rtc_ns);
	/* To the second, when the writes were close (always, at 1 s) */
	if (between < NSEC / 10)
		assert_int_equal(wc.sec + (wc.nsec + ti.system_time + NSEC / 2) / NSEC, now);
}

static void test_wall_clock(void **state)
{
	struct pvclock_wall_clock wc;

	(void)state;
	check_wall_clock(2600000000ull);
	check_wall_clock(10000000ull);
	check_wall_clock(5000000000ull);

	/* No RTC: Unix time 0 at TSC 0 */
	dom->legacy.host.cmos_read = NULL;
	memset(ram, FILL, sizeof(ram));
	assert_true(kvmclock_wrmsr(&dom->vcpus[0], MSR_KVM_WALL_CLOCK_NEW, 0x40));
	memcpy(&wc, ram + 0x40, sizeof(wc));
	assert_int_equal(wc.version, 0);
	assert_int_equal(wc.sec, 0);
	assert_int_equal(wc.nsec, 0);

	/* Outside RAM: refused, nothing written */
	memset(ram, FILL, sizeof(ram));
	assert_false(kvmclock_wrmsr(&dom->vcpus[0], MSR_KVM_WALL_CLOCK_NEW, RAM_SIZE));
	assert_false(kvmclock_wrmsr(&dom->vcpus[0], MSR_KVM_WALL_CLOCK_NEW, RAM_SIZE - 11));
	assert_true(untouched(0, RAM_SIZE));
	assert_true(kvmclock_wrmsr(&dom->vcpus[0], MSR_KVM_WALL_CLOCK_NEW, RAM_SIZE - 12));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rtc_bcd_24h),
		T(test_rtc_binary),
		T(test_rtc_12_hour),
		T(test_rtc_century),
		T(test_rtc_invalid),
		T(test_rtc_waits_out_uip),
		T(test_system_time_scales),
		T(test_system_time_exact_ghz),
		T(test_system_time_refused),
		T(test_system_time_refused_keeps_msr),
		T(test_system_time_disabled),
		T(test_rdmsr),
		T(test_wall_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
