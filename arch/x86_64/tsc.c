/*
 * TSC frequency: CPUID 0x15 when it gives crystal and ratio (SDM Vol. 3B
 * 18.7.3), else 10 ms of PIT channel 2 in mode 0 (the gate and OUT2 are
 * bits 0 and 5 of port 0x61), else a guess of 1 GHz with a warning. Used
 * for the delays of the INIT-SIPI-SIPI protocol; emulators make any value
 * plausible, so nothing depends on precision.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/printk.h"

#define PIT_HZ 1193182u

static uint64_t hz;
static uint64_t cal_ticks;	/* spent calibrating: the PIT window */

static uint64_t tsc_from_cpuid(void)
{
	if (cpuid(0).eax < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15);
	if (!r.eax || !r.ebx || !r.ecx)
		return 0;
	return (uint64_t)r.ecx * r.ebx / r.eax;
}

static uint64_t tsc_from_pit(void)
{
	uint16_t count = PIT_HZ / 100;	/* 10 ms */
	uint8_t gate = inb(0x61);

	outb(0x61, (uint8_t)((gate & ~0x02) | 0x01));	/* gate on, speaker off */
	outb(0x43, 0xb0);				/* channel 2, lo/hi, mode 0 */
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	uint64_t t0 = rdtsc();
	for (uint32_t spin = 0; !(inb(0x61) & 0x20); spin++)
		if (spin > 50000000u)
			return 0;
	uint64_t t1 = rdtsc();
	outb(0x61, gate);
	cal_ticks = t1 - t0;
	return (t1 - t0) * 100;
}

void tsc_calibrate(void)
{
	const char *how = "CPUID 0x15";

	hz = tsc_from_cpuid();
	if (!hz) {
		how = "the PIT";
		hz = tsc_from_pit();
	}
	if (!hz) {
		hz = 1000000000ull;
		pr_warn("tsc: cannot calibrate (no CPUID 0x15, no PIT); assuming 1 GHz\n");
		return;
	}
	pr_debug("tsc: %llu kHz (from %s)\n", (unsigned long long)(hz / 1000), how);
}

uint64_t tsc_hz(void) { return hz; }
uint64_t tsc_calibration_ticks(void) { return cal_ticks; }

void udelay(uint64_t us)
{
	uint64_t end = tsc_deadline_us(us);

	while (rdtsc() < end)
		cpu_relax();
}
