/*
 * The ACPI tables a domain's kernel reads (ACPI 6.5 chapter 5): RSDP,
 * XSDT, FADT, FACS, DSDT and MADT, built into the domain's RAM. They
 * describe the platform every domain gets:
 *
 *   - its CPUs (physical cores, real APIC IDs; the first is the boot CPU)
 *     and the local APIC at 0xfee00000;
 *   - a virtual IOAPIC at 0xfec00000 (ID 0, GSI base 0, 24 pins), ISA
 *     IRQ 0 on GSI 2, the SCI (IRQ 9) level-triggered active-high, and a
 *     dual 8259 (MADT PCAT_COMPAT);
 *   - COM1, a 16550 at I/O 0x3f8 IRQ 4 (in the DSDT as PNP0501);
 *   - ACPI fixed hardware in I/O space, already in ACPI mode (no SMI_CMD):
 *     PM1a event block 0x600 (status 0x600, enable 0x602), PM1a control
 *     block 0x604 (S5 = SLP_TYP 5 | SLP_EN: power off), PM timer 0x608
 *     (24-bit), a fixed-feature power button, the reset register at I/O
 *     0xcf9 (value 0x06);
 *   - with a PCI description: an MCFG and a PCI Express root bridge (see
 *     struct acpi_guest_pci); without, no PCI at all;
 *   - no HPET, no i8042, no VGA.
 *
 * The emulation behind all this is the hypervisor's job; see acpi_guest.c
 * for what each device must do so that Linux is happy with it.
 */
#ifndef VMM_ACPI_GUEST_H
#define VMM_ACPI_GUEST_H

#include <stddef.h>
#include <stdint.h>

struct acpi_guest_cpu {
	uint32_t apic_id;
};

/*
 * A domain's PCI host bridge, when it has devices: an MCFG entry for its
 * ECAM window and, in the DSDT, a PCI root bridge \_SB.PCI0 (PNP0A08,
 * _CID PNP0A03, _UID 0, _SEG segment, _BBN bus_start, an _OSC that grants
 * no native PCIe control, a _PRT when nprt says) whose _CRS holds the bus range, the
 * configuration ports 0xcf8-0xcff and every window below (I/O as WordIO,
 * or DWordIO for all 64 KiB; memory as DWordMemory below 4 GiB and
 * QWordMemory above, non-cacheable for ACPI_WIN_MEM, prefetchable for
 * ACPI_WIN_MEM_PREF), plus a
 * motherboard-resources device \_SB.MRES (PNP0C02, _UID 1) reserving the
 * ECAM window of buses bus_start..bus_end.
 *
 * ecam_base is what MCFG holds (PCI Firmware Spec 3.3 table 4-3): the
 * address of bus 0's configuration space, even when bus_start > 0; the
 * window decoded (and reserved) is ecam_base + bus_start MiB up to
 * ecam_base + (bus_end + 1) MiB. It must be 1 MiB aligned. Windows need
 * not be sorted; they must not be empty or wrap, I/O ones must end at
 * 0x10000 or below. acpi_guest_build refuses anything else.
 */
#define ACPI_GUEST_PCI_WINDOWS 16
enum acpi_guest_window { ACPI_WIN_MEM, ACPI_WIN_MEM_PREF, ACPI_WIN_IO };
#define ACPI_GUEST_PCI_PRT 32

struct acpi_guest_pci {
	uint64_t ecam_base;		/* covers buses bus_start..bus_end, 1 MiB each */
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint32_t nwindows;
	struct {
		uint64_t base, size;	/* size > 0; I/O windows below 0x10000 */
		enum acpi_guest_window kind;
	} windows[ACPI_GUEST_PCI_WINDOWS];
	/* INTx routing for the bridge's _PRT (6.2.13): device slot, pin
	 * (0-3 = INTA-D), the GSI of the domain's IOAPIC it arrives on. */
	uint32_t nprt;
	struct {
		uint8_t slot, pin;
		uint32_t gsi;
	} prt[ACPI_GUEST_PCI_PRT];
};

/*
 * Build the tables into buf, a host pointer to `size` bytes of guest
 * memory at guest-physical gpa (64-byte aligned, for the FACS). Every byte
 * the tables use is written (padding zeroed), so buf need not be clean.
 * The RSDP comes first, at gpa itself: put the area at 0xe0000 and the
 * legacy scan of 0xe0000-0xfffff finds it; otherwise pass the address to
 * the kernel (boot_params.acpi_rsdp_addr).
 *
 * cpus[0..ncpus): the domain's CPUs in order; CPU i gets ACPI processor
 * UID i. A CPU with an APIC ID below 255 must have an xAPIC MADT entry
 * (8-bit UID, 0xff meaning "all"), so it must come at index 254 or lower.
 *
 * pci: the PCI host bridge to describe (see above), NULL for none: then the
 * tables are exactly those of a domain without PCI.
 *
 * Returns the guest-physical address of the RSDP, or 0 after one line
 * "hv: domain NAME: acpi: ..." saying why (does not fit, bad CPU list,
 * bad PCI description).
 */
uint64_t acpi_guest_build(const char *name, uint8_t *buf, uint64_t gpa, size_t size,
			  const struct acpi_guest_cpu *cpus, uint32_t ncpus,
			  const struct acpi_guest_pci *pci);	/* NULL: no PCI */

/* Bytes acpi_guest_build needs for ncpus CPUs at most (whatever their
 * APIC IDs) and this PCI description (NULL: none). The most for any PCI
 * description: ACPI_GUEST_PCI_WINDOWS windows above 4 GiB and an ECAM
 * window above 4 GiB; a domain's 128 KiB area holds that for thousands
 * of CPUs. */
size_t acpi_guest_size(uint32_t ncpus, const struct acpi_guest_pci *pci);

#endif
