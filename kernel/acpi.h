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
#define ACPI_MAX_IOMMUS  8	/* DRHDs or IVHDs */
#define ACPI_MAX_SCOPES  32	/* device scopes / IVHD device ranges per unit */
#define ACPI_MAX_RESV    16	/* RMRRs or IVMDs */
#define ACPI_SCOPE_PATH  4	/* (device, function) hops of a DMAR device scope */

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

/*
 * DMAR (Intel VT-d spec 4.x, chapter 8): the remapping hardware units and
 * the memory the firmware keeps using for DMA (RMRR). A device scope is
 * kept as written -- a start bus and a path of (device, function) hops
 * through bridges -- since resolving it needs the PCI bus numbers the
 * firmware assigned (acpi_dmar_scope_resolve).
 */
#define ACPI_SCOPE_ENDPOINT  1
#define ACPI_SCOPE_BRIDGE    2
#define ACPI_SCOPE_IOAPIC    3
#define ACPI_SCOPE_HPET      4
#define ACPI_SCOPE_NAMESPACE 5

struct acpi_dmar_scope {
	uint8_t type;		/* ACPI_SCOPE_* */
	uint8_t enum_id;	/* IOAPIC/HPET ID */
	uint8_t start_bus;
	uint8_t npath;		/* 1..ACPI_SCOPE_PATH */
	struct {
		uint8_t dev, fn;
	} path[ACPI_SCOPE_PATH];
};

struct acpi_drhd {		/* DMA remapping hardware unit definition */
	uint64_t base;		/* register base (4 KiB aligned) */
	uint16_t segment;
	uint8_t flags;		/* bit 0: INCLUDE_PCI_ALL */
	uint8_t size;		/* register set size: 2^size 4 KiB pages (rev. 2+: 0 = 1 page) */
	uint32_t nscopes;
	struct acpi_dmar_scope scopes[ACPI_MAX_SCOPES];
};
#define ACPI_DRHD_INCLUDE_PCI_ALL 0x01

struct acpi_rmrr {		/* reserved memory region */
	uint16_t segment;
	uint64_t base;		/* 4 KiB aligned */
	uint64_t end;		/* last byte + 1, 4 KiB aligned */
	uint32_t nscopes;
	struct acpi_dmar_scope scopes[ACPI_MAX_SCOPES];
};

struct acpi_dmar {
	bool present;		/* a DMAR table with at least one good DRHD */
	uint8_t haw;		/* host address width: bits (table value + 1) */
	uint8_t flags;		/* bit 0: INTR_REMAP, bit 1: X2APIC_OPT_OUT */
	uint32_t ndrhd;
	struct acpi_drhd drhd[ACPI_MAX_IOMMUS];
	uint32_t nrmrr;
	struct acpi_rmrr rmrr[ACPI_MAX_RESV];
};
#define ACPI_DMAR_INTR_REMAP    0x01
#define ACPI_DMAR_X2APIC_OPT_OUT 0x02

/*
 * IVRS (AMD I/O Virtualization Technology spec 48882, 5.2): the IOMMUs
 * (IVHD blocks of type 0x10, 0x11 or 0x40; when one IOMMU is described by
 * several types, the parser keeps the highest type it understands) with the
 * device IDs each one covers, and the memory definitions (IVMD).
 * A device ID is the 16-bit requester ID: bus << 8 | devfn.
 */
struct acpi_ivhd_range {
	uint16_t first, last;	/* device IDs, inclusive */
	uint8_t setting;	/* DTE setting byte (INITPass, EIntPass, ...) */
	bool has_alias;		/* an alias entry (IVHD types 0x42/0x43) */
	uint16_t alias;		/* ... then requests from [first, last] carry this ID */
	uint8_t special;	/* 0, or a special device entry (type 0x48): */
	uint8_t handle;		/* ACPI_IVHD_IOAPIC/HPET with its IOAPIC ID / HPET
				 * number, first = last = the ID it uses */
};
#define ACPI_IVHD_IOAPIC 1	/* "variety" of a type 0x48 entry (48882 5.2.2.5) */
#define ACPI_IVHD_HPET   2

struct acpi_ivhd {
	uint8_t type;		/* 0x10, 0x11 or 0x40 */
	uint8_t flags;
	uint16_t devid;		/* the IOMMU's own PCI function */
	uint16_t cap_offset;	/* its capability block in that function's config space */
	uint16_t segment;
	uint64_t base;		/* MMIO register base (16 KiB aligned) */
	uint16_t info;
	uint32_t feature;	/* type 0x10: IOMMU feature reporting; 0x11/0x40: attributes */
	uint64_t efr;		/* type 0x11/0x40: the EFR register image; 0 for 0x10 */
	uint32_t nranges;
	struct acpi_ivhd_range ranges[ACPI_MAX_SCOPES];
};

struct acpi_ivmd {		/* I/O virtualization memory definition */
	uint8_t type;		/* 0x20 all devices, 0x21 one device, 0x22 a range */
	uint8_t flags;		/* bit 0 unity, bit 1 IR, bit 2 IW, bit 3 exclusion range */
	uint16_t first, last;	/* device IDs it applies to (0x20: 0..0xffff) */
	uint16_t segment;	/* PCI segment (0 on tables before revision 2) */
	uint64_t base;		/* 4 KiB aligned */
	uint64_t end;		/* last byte + 1, 4 KiB aligned */
};
#define ACPI_IVMD_UNITY 0x01
#define ACPI_IVMD_IR    0x02
#define ACPI_IVMD_IW    0x04
#define ACPI_IVMD_EXCL  0x08

struct acpi_ivrs {
	bool present;		/* an IVRS table with at least one good IVHD */
	uint32_t iv_info;
	uint32_t nivhd;
	struct acpi_ivhd ivhd[ACPI_MAX_IOMMUS];
	uint32_t nivmd;
	struct acpi_ivmd ivmd[ACPI_MAX_RESV];
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

/*
 * The host's PCI interrupt routing read from the DSDT's _PRT packages
 * (kernel/acpi_prt.c says how far: constant packages, links with a
 * constant _CRS; APIC-mode GSIs only; ambiguous pins dropped).
 */
#define ACPI_MAX_PRT 128
struct acpi_prt_entry {
	uint8_t slot;		/* device number */
	uint8_t pin;		/* 0-3: INTA-INTD */
	bool level, active_low;
	uint32_t gsi;
};

struct acpi_prt {
	uint32_t n;
	struct acpi_prt_entry e[ACPI_MAX_PRT];
};

/* Fill *out from a DSDT (whole table, header included). */
void acpi_dsdt_prt(const uint8_t *dsdt, uint32_t len, struct acpi_prt *out);
/* The GSI for INTx pin (0-3) of device slot: false if unknown. */
bool acpi_prt_lookup(const struct acpi_prt *prt, uint8_t slot, uint8_t pin,
		     struct acpi_prt_entry *out);

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
	struct acpi_prt prt;	/* from the DSDT, with pm */

	struct acpi_dmar dmar;
	struct acpi_ivrs ivrs;
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
 * SPCR, DMAR, IVRS and the FADT (with the DSDT it points to, for \_S5). Each
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

/*
 * Resolve a DMAR device scope to the bus and devfn of the function it
 * names: start at scope->start_bus; each hop but the last is a bridge
 * whose secondary bus (config register 0x19) secondary_bus() reads.
 * true with *bus, *devfn; false when a bridge along the path is absent
 * (secondary_bus returns -1) or the scope is malformed.
 */
bool acpi_dmar_scope_resolve(const struct acpi_dmar_scope *scope, uint16_t segment,
			     int (*secondary_bus)(uint16_t seg, uint8_t bus, uint8_t devfn),
			     uint8_t *bus, uint8_t *devfn);

/* The value to write for w when the register reads old. */
uint16_t acpi_io_write_value(const struct acpi_io_write *w, uint16_t old);

#endif
