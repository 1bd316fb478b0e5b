/*
 * TSC frequency, once at boot, from the first source that gives it:
 *  - CPUID 0x15: crystal frequency times the TSC/crystal ratio (SDM Vol.
 *    3B 19.7.3); where the crystal is not enumerated (ECX 0), the base
 *    frequency of CPUID 0x16 is the TSC's (as Linux also takes it). Taken
 *    when a short PIT measure (CHECK_PPM) agrees within CHECK_PCT: an
 *    emulator's CPUID can name a frequency its TSC does not run at
 *    (Bochs reports 3.5 GHz and counts instructions);
 *  - the PIT: channel 2 as a square wave (mode 3, the gate and OUT2 are
 *    bits 0 and 5 of port 0x61), whose OUT2 flips every PIT_HALF ticks of
 *    the 1.193182 MHz clock. The TSC is read around every poll of OUT2,
 *    so each flip is known to within the poll that saw it: the error of
 *    the measure is that bracket at both ends, and the window grows by
 *    half periods until the error is at most CAL_PPM of it (or the window
 *    is CAL_MAX_HALVES long; the error reached is reported either way).
 *    On real hardware a poll is about a microsecond (~10 ms for 200
 *    ppm); under an emulator that counts instructions it is a few dozen
 *    ticks (well under a millisecond);
 *  - else a guess of 1 GHz, with a warning.
 * The PM timer and kvmclock of the domains count from this rate.
 */
#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/printk.h"

#define PIT_HZ 1193182u
#define PIT_HALF 60u		/* ticks per OUT2 level: ~50 us */
#define CAL_PPM 200u		/* the error the window stops at */
#define CHECK_PPM 5000u		/* the error of the check of CPUID's rate */
#define CHECK_PCT 2u		/* how far CPUID's rate may be from the PIT's */
#define CAL_MAX_HALVES 1000u	/* ~50 ms */
#define CAL_TRIES 3
/* Polls of OUT2 before a flip counts as missing: a flip comes every ~50
 * us, a poll takes ~1 us on hardware and tens of ns under an emulator;
 * a PIT that does not count (clock-gated on some recent chipsets) costs
 * about a second, once. */
#define EDGE_POLLS 1000000u

uint64_t tsc_at_entry;
static uint64_t hz;
static uint64_t cal_ticks;	/* spent calibrating: the PIT window */

static uint64_t tsc_from_cpuid(void)
{
	uint32_t max = cpuid(0).eax;

	if (max < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15);
	if (!r.eax || !r.ebx)
		return 0;
	if (r.ecx)
		return (uint64_t)r.ecx * r.ebx / r.eax;
	uint32_t base_mhz = max >= 0x16 ? cpuid(0x16).eax & 0xffff : 0;
	return base_mhz * 1000000ull;
}

static inline bool pit_out2(void) { return inb(0x61) & 0x20; }

/* Wait for OUT2 to leave `level`. *mid: the TSC halfway between the poll
 * before (which still saw `level`) and the poll that saw the change;
 * *half: half that span, the error of *mid. False if it never changes. */
static bool pit_edge(bool level, uint64_t *mid, uint64_t *half)
{
	uint64_t before = rdtsc();

	for (uint32_t spin = 0; spin < EDGE_POLLS; spin++) {
		uint64_t start = rdtsc();
		bool now = pit_out2();
		uint64_t end = rdtsc();

		if (now != level) {
			*mid = before + (end - before) / 2;
			*half = (end - before) / 2 + 1;
			return true;
		}
		before = start;
	}
	return false;
}

/* One measure: 0 when a half period is seen far from the first (a poll
 * missed a flip: an SMI, a slow emulator), or when OUT2 does not move
 * (then *dead). */
static uint64_t pit_measure(uint32_t goal_ppm, uint32_t *ppm, bool *dead)
{
	uint64_t t0, e0, t, e, prev, first = 0;
	bool level = pit_out2();

	if (!pit_edge(level, &t0, &e0)) {
		*dead = true;
		return 0;
	}
	prev = t0;
	for (uint32_t n = 1; n <= CAL_MAX_HALVES; n++) {
		level = !level;
		if (!pit_edge(level, &t, &e)) {
			*dead = true;
			return 0;
		}
		uint64_t step = t - prev, span = t - t0, err = e0 + e;

		if (n == 1)
			first = step;
		else if (step > first + first / 4 || step + first / 4 < first)
			return 0;
		prev = t;
		if (n >= 2 && (err * 1000000u <= (uint64_t)goal_ppm * span || n == CAL_MAX_HALVES)) {
			*ppm = (uint32_t)(err * 1000000u / span);
			return span * PIT_HZ / (n * PIT_HALF);
		}
	}
	return 0;
}

/* The TSC rate measured against the PIT to goal_ppm (*ppm: reached), 0
 * if the PIT does not count. */
static uint64_t tsc_from_pit(uint32_t goal_ppm, uint32_t *ppm)
{
	uint8_t gate = inb(0x61);
	uint64_t rate = 0, t0 = rdtsc();

	outb(0x61, (uint8_t)((gate & ~0x02) | 0x01));	/* gate on, speaker off */
	outb(0x43, 0xb6);				/* channel 2, lo/hi, mode 3 */
	outb(0x42, (uint8_t)(2 * PIT_HALF));
	outb(0x42, (uint8_t)((2 * PIT_HALF) >> 8));
	bool dead = false;

	for (int i = 0; i < CAL_TRIES && !rate && !dead; i++)
		rate = pit_measure(goal_ppm, ppm, &dead);
	outb(0x61, gate);
	cal_ticks += rdtsc() - t0;
	return rate;
}

void tsc_calibrate(void)
{
	uint64_t claimed = tsc_from_cpuid();	/* kept for the PIT's line when wrong */
	uint32_t ppm;

	if (claimed) {
		uint64_t seen = tsc_from_pit(CHECK_PPM, &ppm);
		uint64_t off = claimed > seen ? claimed - seen : seen - claimed;

		if (!seen || off * 100 <= seen * CHECK_PCT) {
			hz = claimed;
			pr_info("tsc: %llu kHz from CPUID 0x15/0x16\n", (unsigned long long)(hz / 1000));
			return;
		}
	}
	hz = tsc_from_pit(CAL_PPM, &ppm);
	if (!hz) {
		hz = 1000000000ull;
		pr_warn("tsc: cannot calibrate (no CPUID 0x15, the PIT does not count); assuming 1 GHz\n");
		return;
	}
	if (claimed)
		pr_warn("tsc: %llu kHz from the PIT in %llu ticks, within %u ppm (CPUID 0x15/0x16 says %llu kHz)\n",
			(unsigned long long)(hz / 1000), (unsigned long long)cal_ticks, ppm,
			(unsigned long long)(claimed / 1000));
	else
		pr_info("tsc: %llu kHz from the PIT in %llu ticks, within %u ppm\n",
			(unsigned long long)(hz / 1000), (unsigned long long)cal_ticks, ppm);
}

uint64_t tsc_hz(void) { return hz; }
uint64_t tsc_calibration_ticks(void) { return cal_ticks; }

void udelay(uint64_t us)
{
	uint64_t end = tsc_deadline_us(us);

	while (rdtsc() < end)
		cpu_relax();
}
