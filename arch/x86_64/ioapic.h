/*
 * The machine's IOAPICs, as far as the hypervisor uses them: one pin
 * routed to a CPU as an NMI (the console's receive interrupt; see
 * kernel/console_irq.c). Registers: 82093AA data sheet (IOREGSEL at +0,
 * IOWIN at +0x10, redirection entries from register 0x10).
 */
#ifndef ARCH_X86_64_IOAPIC_H
#define ARCH_X86_64_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_RTE_MASKED (1u << 16)

/* Write redirection entry `pin` (masked while its halves change). */
void ioapic_set_rte(uint64_t addr, unsigned pin, uint64_t rte);
uint64_t ioapic_get_rte(uint64_t addr, unsigned pin);
/* Route `pin` of the IOAPIC at `addr` (identity mapped) to APIC ID
 * `apic_id` as an edge-triggered, active-high NMI. */
void ioapic_route_nmi(uint64_t addr, unsigned pin, uint32_t apic_id);
/* The number of pins (redirection entries) it has. */
unsigned ioapic_pins(uint64_t addr);

/* The machine's IOAPICs (from the MADT), for finding a GSI's pin. */
void ioapic_register(uint32_t id, uint64_t addr, uint32_t gsi_base);
struct ioapic_pin {
	uint32_t id;		/* the IOAPIC's APIC ID */
	uint64_t addr;		/* its registers (identity mapped) */
	unsigned pin;
};
/* The pin that GSI gsi arrives on: false if no IOAPIC has it. */
bool ioapic_find_gsi(uint32_t gsi, struct ioapic_pin *out);

#endif
