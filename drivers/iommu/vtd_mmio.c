/*
 * VT-d register access. The registers are uncached MMIO (the firmware's
 * MTRRs below 4 GiB, PT_UC above); 64-bit registers take one 64-bit
 * access (VT-d spec 10.2: software may access them as a whole or in two
 * 32-bit halves). Kept apart from vtd.c so the host tests can link vtd.c
 * against a fake register file instead.
 */
#include <stdint.h>

#include "drivers/iommu/vtd_hw.h"

uint32_t vtd_read32(uintptr_t regs, unsigned off)
{
	return *(volatile uint32_t *)(regs + off);
}

uint64_t vtd_read64(uintptr_t regs, unsigned off)
{
	return *(volatile uint64_t *)(regs + off);
}

void vtd_write32(uintptr_t regs, unsigned off, uint32_t val)
{
	*(volatile uint32_t *)(regs + off) = val;
}

void vtd_write64(uintptr_t regs, unsigned off, uint64_t val)
{
	*(volatile uint64_t *)(regs + off) = val;
}
