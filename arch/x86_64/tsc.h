/* Time from the TSC, calibrated once against the PIT (or CPUID 0x15). */
#ifndef ARCH_X86_64_TSC_H
#define ARCH_X86_64_TSC_H

#include <stdint.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* The TSC at the hypervisor's entry (kernel_main): boot figures count
 * from it. */
extern uint64_t tsc_at_entry;

void tsc_calibrate(void);
uint64_t tsc_hz(void);
/* TSC ticks the calibration spent waiting (0 when CPUID gave the rate). */
uint64_t tsc_calibration_ticks(void);

/* The TSC value `us` microseconds from now (for bounded waits). */
static inline uint64_t tsc_deadline_us(uint64_t us)
{
	uint64_t per_us = tsc_hz() / 1000000;

	return rdtsc() + us * (per_us ? per_us : 1);
}
void udelay(uint64_t us);

#endif
