/* The virtual I/O APIC; see vioapic.h. Register layout: 82093AA data
 * sheet 3.0 to 3.2.4. */
#include "kernel/string.h"
#include "vmm/dev/vioapic.h"

#define IOREGSEL	0x00
#define IOWIN		0x10

#define REG_ID		0x00
#define REG_VERSION	0x01
#define REG_ARB		0x02
#define REG_RTE_FIRST	0x10
#define REG_RTE_END	(REG_RTE_FIRST + 2 * VIOAPIC_PINS)

#define ID_SHIFT	24
#define ID_MASK		0xfu
/* 3.2.2: version 0x11, maximum redirection entry (pins - 1) in 23:16. */
#define VERSION_VALUE	(0x11u | (uint32_t)(VIOAPIC_PINS - 1) << 16)

#define RTE_VECTOR	0xffull
#define RTE_DELIVERY_SHIFT 8
#define RTE_LOGICAL	(1ull << 11)
#define RTE_LEVEL	(1ull << 15)
#define RTE_MASKED	(1ull << 16)
#define RTE_DEST_SHIFT	56
/* Software-writable bits: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask and the destination. Delivery status (12)
 * and remote IRR (14) are the APIC's, and read 0 here; the rest is
 * reserved. */
#define RTE_WRITABLE	(0x1afffull | 0xffull << RTE_DEST_SHIFT)

void vioapic_init(struct vioapic *a, uint8_t id)
{
	memset(a, 0, sizeof(*a));
	a->id = id & ID_MASK;
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		a->rte[i] = RTE_MASKED;
}

static uint32_t vioapic_reg_read(const struct vioapic *a, uint32_t reg)
{
	if (reg == REG_ID || reg == REG_ARB)	/* arbitration ID = APIC ID */
		return (uint32_t)a->id << ID_SHIFT;
	if (reg == REG_VERSION)
		return VERSION_VALUE;
	if (reg >= REG_RTE_FIRST && reg < REG_RTE_END) {
		uint64_t rte = a->rte[(reg - REG_RTE_FIRST) / 2];
		return (uint32_t)(reg & 1 ? rte >> 32 : rte);
	}
	return 0;
}

static void vioapic_reg_write(struct vioapic *a, uint32_t reg, uint32_t val)
{
	if (reg == REG_ID) {
		a->id = (val >> ID_SHIFT) & ID_MASK;
		return;
	}
	if (reg >= REG_RTE_FIRST && reg < REG_RTE_END) {
		uint64_t *rte = &a->rte[(reg - REG_RTE_FIRST) / 2];
		uint64_t v = reg & 1 ? (*rte & 0xffffffffull) | (uint64_t)val << 32
				     : (*rte & ~0xffffffffull) | val;
		*rte = v & RTE_WRITABLE;
	}
	/* Version, arbitration and unimplemented registers: read-only. */
}

void vioapic_mmio(struct vioapic *a, uint64_t offset, unsigned size, bool write, uint32_t *val)
{
	if (size != 4 || (offset != IOREGSEL && offset != IOWIN)) {
		if (!write)
			*val = 0;
		return;
	}
	if (offset == IOREGSEL) {
		if (write)
			a->sel = *val & 0xff;	/* bits 31:8 reserved */
		else
			*val = a->sel;
		return;
	}
	if (write)
		vioapic_reg_write(a, a->sel, *val);
	else
		*val = vioapic_reg_read(a, a->sel);
}

bool vioapic_route(const struct vioapic *a, unsigned pin, struct vioapic_msg *m)
{
	if (pin >= VIOAPIC_PINS || (a->rte[pin] & RTE_MASKED))
		return false;
	uint64_t rte = a->rte[pin];
	m->vector = (uint8_t)(rte & RTE_VECTOR);
	m->delivery = (uint8_t)((rte >> RTE_DELIVERY_SHIFT) & 7);
	m->logical = rte & RTE_LOGICAL;
	m->dest = (uint32_t)(rte >> RTE_DEST_SHIFT);
	m->level = rte & RTE_LEVEL;
	return true;
}
