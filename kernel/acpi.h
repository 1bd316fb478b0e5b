/*
 * ACPI: the few tables the hypervisor reads at boot (ACPI 6.5 spec,
 * chapter 5). Parsing is pure logic: every physical access goes through a
 * caller-supplied map function, so the same code runs in the hypervisor
 * (identity-mapped memory) and in host unit tests (fixtures dumped from
 * QEMU).
 *
 * A bad or missing table never crashes: the parser logs one clear line
 * ("hv: acpi: ...") and either skips that table or returns an error.
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS    256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_MCFG    8

/*
 * Returns a pointer through which [phys, phys + len) can be read, or NULL
 * if that range is not accessible (outside RAM, not in a fixture...).
 */
typedef const void *(*acpi_map_fn)(uint64_t phys, size_t len);

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;		/* ACPI processor UID */
	bool x2apic;		/* came from an x2APIC (type 9) entry */
	bool enabled;		/* MADT flags: Enabled */
	bool online_capable;	/* MADT flags: Online Capable (not enabled) */
};

struct acpi_ioapic {
	uint32_t id;
	uint32_t addr;
	uint32_t gsi_base;
};

struct acpi_mcfg {		/* one ECAM window */
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
};

/* Generic Address Structure address spaces (ACPI 6.5 5.2.3.2) */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO     1

struct acpi_spcr {		/* the firmware's console UART */
	uint8_t interface_type;	/* 0 = full 16550, 1 = 16450-compatible ... */
	uint8_t space_id;	/* GAS address space: 0 = memory, 1 = I/O */
	uint8_t bit_width;
	uint8_t access_size;
	uint64_t address;
	uint32_t baud;		/* 0 = as the firmware left it */
};

/*
 * What it takes to power off (S5) and reset the ACPI way: the FADT's PM1
 * control blocks and reset register, and \_S5 from the DSDT.
 */
struct acpi_pm {
	bool has_fadt;		/* a good FADT was found */
	bool hw_reduced;	/* FADT flag HW_REDUCED_ACPI: no PM1 blocks */
	uint16_t pm1a_cnt;	/* PM1a/PM1b control block I/O ports; 0 = none, */
	uint16_t pm1b_cnt;	/* or not usable (not in I/O space...) */
	bool s5_valid;		/* the DSDT has a usable \_S5 package */
	uint8_t s5_typ_a;	/* its SLP_TYPa and SLP_TYPb (3 bits each) */
	uint8_t s5_typ_b;
	bool reset_valid;	/* FADT RESET_REG_SUP and a usable RESET_REG */
	uint8_t reset_space;	/* ACPI_GAS_MEMORY or ACPI_GAS_IO */
	uint64_t reset_addr;
	uint8_t reset_value;
};

struct acpi_info {
	uint64_t rsdp_phys;	/* 0 when the RSDP came as a copy only;
				 * acpi_parse gets a copy, so it leaves 0 and
				 * the caller stores the address it found */
	uint8_t revision;	/* RSDP revision: 0 = ACPI 1.0 (RSDT), 2+ = XSDT */
	char oem_id[7];

	uint64_t lapic_addr;	/* MADT local APIC address (after type 5 override) */
	bool pcat_compat;	/* MADT flags: dual 8259 PICs present */
	uint32_t ncpus;		/* entries in cpus[], enabled or not (entries
				 * neither Enabled nor Online Capable are
				 * unusable and skipped) */
	uint32_t ncpus_enabled;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];	/* MADT order */
	uint32_t nioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];

	uint32_t nmcfg;
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

	bool has_madt;
	bool has_spcr;
	struct acpi_spcr spcr;

	struct acpi_pm pm;
};

/* PM1 control register bits (ACPI 6.5 4.8.3.2.1, table 4.13) */
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP       (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN        (1u << 13)

/* One step of a sleep sequence: the 16-bit I/O register at port gets
 * (what it reads & ~mask) | value (acpi_io_write_value). */
struct acpi_io_write {
	uint16_t port;
	uint16_t mask;		/* the bits value replaces */
	uint16_t value;
};

/* Validate an RSDP (signature, ACPI 1.0 checksum, and for revision >= 2
 * the length and extended checksum). 0 or -EINVAL. */
int acpi_rsdp_check(const void *rsdp, size_t len);

/* Find the RSDP the legacy way (EBDA, then 0xE0000-0xFFFFF), for boot
 * loaders that pass none. Returns its physical address or 0. */
uint64_t acpi_find_rsdp_legacy(acpi_map_fn map);

/*
 * Parse everything reachable from the RSDP copy in rsdp/rsdp_len:
 * XSDT (or RSDT for revision 0, or when the XSDT is bad), then MADT, MCFG,
 * SPCR and the FADT (with the DSDT it points to, for \_S5). Each
 * table's checksum and length are checked; a bad table is reported and
 * skipped. Fills *out (zeroed first).
 * Returns 0, or a negative errno when the RSDP or the root table is
 * unusable (then *out holds no tables).
 */
int acpi_parse(const void *rsdp, size_t rsdp_len, acpi_map_fn map,
	       struct acpi_info *out);

/*
 * The register writes that enter S5 (soft off, ACPI 6.5 7.4.2 and
 * 16.1.7): PM1a_CNT gets SLP_TYPa and SLP_EN, then PM1b_CNT (if there is
 * one) SLP_TYPb and SLP_EN. Pure: nothing is printed or written.
 * Returns the number of writes in out[] (1 or 2), or -ENODEV (no FADT),
 * -ENOTSUP (hardware-reduced, or no usable PM1a control block), -ENODATA
 * (no \_S5).
 */
int acpi_s5_sequence(const struct acpi_info *acpi, struct acpi_io_write out[2]);

/* The value to write for w when the register reads old. */
uint16_t acpi_io_write_value(const struct acpi_io_write *w, uint16_t old);

#endif
