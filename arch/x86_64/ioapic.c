/* Host IOAPIC access; see ioapic.h. */
#include "arch/x86_64/ioapic.h"

#define IOREGSEL 0x00
#define IOWIN    0x10
#define REG_VER  0x01
#define REG_RTE  0x10
#define RTE_NMI  (4u << 8)	/* delivery mode NMI; physical, edge, high, unmasked */

static void ioapic_write(uint64_t addr, uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(addr + IOREGSEL) = reg;
	*(volatile uint32_t *)(uintptr_t)(addr + IOWIN) = v;
}

static uint32_t ioapic_read(uint64_t addr, uint32_t reg)
{
	*(volatile uint32_t *)(uintptr_t)(addr + IOREGSEL) = reg;
	return *(volatile uint32_t *)(uintptr_t)(addr + IOWIN);
}

unsigned ioapic_pins(uint64_t addr)
{
	return ((ioapic_read(addr, REG_VER) >> 16) & 0xff) + 1;
}

void ioapic_set_rte(uint64_t addr, unsigned pin, uint64_t rte)
{
	/* Masked while the halves change, then the low half sets the mask
	 * as rte has it. */
	ioapic_write(addr, REG_RTE + 2 * pin, IOAPIC_RTE_MASKED);
	ioapic_write(addr, REG_RTE + 2 * pin + 1, (uint32_t)(rte >> 32));
	ioapic_write(addr, REG_RTE + 2 * pin, (uint32_t)rte);
}

uint64_t ioapic_get_rte(uint64_t addr, unsigned pin)
{
	return ioapic_read(addr, REG_RTE + 2 * pin) |
	       (uint64_t)ioapic_read(addr, REG_RTE + 2 * pin + 1) << 32;
}

void ioapic_route_nmi(uint64_t addr, unsigned pin, uint32_t apic_id)
{
	ioapic_set_rte(addr, pin, RTE_NMI | (uint64_t)apic_id << 56);
}

#define MAX_IOAPICS 16

struct ioapic_unit {
	uint32_t id, gsi_base;
	uint64_t addr;
	unsigned pins;
};

static struct ioapic_unit ioapics[MAX_IOAPICS];
static unsigned nioapics;

void ioapic_register(uint32_t id, uint64_t addr, uint32_t gsi_base)
{
	if (nioapics < MAX_IOAPICS)
		ioapics[nioapics++] = (struct ioapic_unit){ id, gsi_base, addr, ioapic_pins(addr) };
}

bool ioapic_find_gsi(uint32_t gsi, struct ioapic_pin *out)
{
	for (unsigned i = 0; i < nioapics; i++)
		if (gsi >= ioapics[i].gsi_base && gsi - ioapics[i].gsi_base < ioapics[i].pins) {
			*out = (struct ioapic_pin){ ioapics[i].id, ioapics[i].addr,
						    gsi - ioapics[i].gsi_base };
			return true;
		}
	return false;
}
