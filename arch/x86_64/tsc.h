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

void tsc_calibrate(void);
uint64_t tsc_hz(void);
void udelay(uint64_t us);

#endif
