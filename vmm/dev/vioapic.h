/*
 * A virtual I/O APIC at the standard address, modelled on the 82093AA
 * data sheet (version 0x11: no EOI register): 24 redirection entries,
 * reached through IOREGSEL/IOWIN. This is the register file and the
 * routing decision only; delivering the interrupt, remote IRR and EOI
 * handling belong to the caller.
 */
#ifndef VMM_VIOAPIC_H
#define VMM_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VIOAPIC_BASE 0xfec00000ull
#define VIOAPIC_SIZE 0x1000
#define VIOAPIC_PINS 24

struct vioapic {
	uint8_t id;		/* 4 bits */
	uint32_t sel;		/* IOREGSEL: register index, bits 7:0 */
	uint64_t rte[VIOAPIC_PINS];
};

/* Delivery modes of a redirection entry (82093AA 3.2.4, bits 10:8). */
enum {
	VIOAPIC_DM_FIXED = 0,
	VIOAPIC_DM_LOWEST = 1,
	VIOAPIC_DM_SMI = 2,
	VIOAPIC_DM_NMI = 4,
	VIOAPIC_DM_INIT = 5,
	VIOAPIC_DM_EXTINT = 7,
};

struct vioapic_msg {
	uint8_t vector;
	uint8_t delivery;	/* VIOAPIC_DM_*; the reserved 3 and 6 are passed on as is */
	bool logical;		/* destination mode */
	uint32_t dest;		/* APIC ID (physical) or set of processors (logical), 8 bits */
	bool level;		/* trigger mode */
};

/* Every pin masked, as after reset. */
void vioapic_init(struct vioapic *a, uint8_t id);

/* A guest access at `offset` within the page: IOREGSEL at 0x00, IOWIN at
 * 0x10, 4 bytes each; other offsets and sizes read 0 / are dropped. *val
 * is read from (write) or written (read). */
void vioapic_mmio(struct vioapic *a, uint64_t offset, unsigned size, bool write, uint32_t *val);

/* Does IOREGSEL select a register of `pin`'s redirection entry? */
static inline bool vioapic_pin_selected(const struct vioapic *a, unsigned pin)
{
	return (a->sel - 0x10u) / 2 == pin;
}

/* Where an interrupt on `pin` goes now: false if the pin is masked or out
 * of range. */
bool vioapic_route(const struct vioapic *a, unsigned pin, struct vioapic_msg *m);

#endif
