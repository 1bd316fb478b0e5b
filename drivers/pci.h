/*
 * The host's PCI functions: found once at boot (pci_init), then read and
 * written on the domains' behalf. Configuration space is reached through
 * ECAM (the ACPI MCFG windows) where there is one for the segment and bus,
 * else through configuration mechanism #1 (ports 0xcf8/0xcfc, segment 0,
 * registers below 0x100 only).
 *
 * Enumeration walks every MCFG window's first bus (or bus 0 without
 * MCFG) and every bus reachable through the PCI-to-PCI bridges found
 * there, as the firmware numbered them (no bus is renumbered).
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct acpi_info;

#define PCI_MAX_FUNCS 256
#define PCI_MAX_BARS  6

#define PCI_DEVFN(dev, fn) ((uint8_t)(((dev) << 3) | (fn)))
#define PCI_RID(bus, devfn) ((uint16_t)((bus) << 8 | (devfn)))

/* Configuration registers (PCI Local Bus 3.0, 6.1; PCIe 5.0, 7.5) */
#define PCI_VENDOR_ID     0x00
#define PCI_COMMAND       0x04
#define PCI_STATUS        0x06
#define PCI_CLASS_REV     0x08
#define PCI_HEADER_TYPE   0x0e
#define PCI_BAR0          0x10
#define PCI_PRIMARY_BUS   0x18	/* type 1 */
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBORDINATE   0x1a
#define PCI_ROM_TYPE0     0x30
#define PCI_CAP_PTR       0x34
#define PCI_ROM_TYPE1     0x38
#define PCI_INTR_LINE     0x3c
#define PCI_INTR_PIN      0x3d

#define PCI_CMD_IO        0x0001
#define PCI_CMD_MEMORY    0x0002
#define PCI_CMD_MASTER    0x0004
#define PCI_CMD_INTX_OFF  0x0400
#define PCI_STATUS_CAPS   0x0010

#define PCI_CAP_PM        0x01
#define PCI_CAP_MSI       0x05
#define PCI_CAP_PCIE      0x10
#define PCI_CAP_MSIX      0x11
#define PCI_EXT_CAP_SRIOV 0x0010

/* PCIe capability: device/port type (bits 7:4 of the capabilities register) */
#define PCIE_TYPE_ENDPOINT       0x0
#define PCIE_TYPE_LEGACY_EP      0x1
#define PCIE_TYPE_ROOT_PORT      0x4
#define PCIE_TYPE_UPSTREAM       0x5
#define PCIE_TYPE_DOWNSTREAM     0x6
#define PCIE_TYPE_PCIE_TO_PCI    0x7
#define PCIE_TYPE_PCI_TO_PCIE    0x8
#define PCIE_TYPE_RC_ENDPOINT    0x9
#define PCIE_TYPE_RC_EVENT_COLL  0xa

struct pci_bar {
	uint64_t base;		/* as the firmware programmed it */
	uint64_t size;		/* 0: no BAR in this slot (absent, or the upper half of a 64-bit BAR) */
	bool io;		/* I/O space, else memory */
	bool is64;		/* a 64-bit memory BAR (takes this slot and the next) */
	bool prefetch;
};

struct pci_func {
	uint16_t seg;
	uint8_t bus, devfn;
	uint16_t vendor, device;
	uint32_t class_code;	/* base class << 16 | sub-class << 8 | prog-if */
	uint8_t revision;
	uint8_t header_type;	/* bits 6:0 (0 endpoint, 1 PCI bridge, 2 CardBus) */
	bool multifunction;
	uint8_t nbars;		/* 6 for type 0, 2 for type 1, 0 otherwise */
	struct pci_bar bar[PCI_MAX_BARS];
	/* Capabilities: offsets in configuration space, 0 = absent. */
	uint8_t cap_pm, cap_msi, cap_msix, cap_pcie;
	uint8_t pcie_type;	/* PCIE_TYPE_*, when cap_pcie */
	/* Every capability's offset, in list order (the first 16): where a
	 * capability ends is where another begins. */
	uint8_t ncaps;
	uint8_t caps[16];
	bool flr;		/* function-level reset (PCIe DevCap bit 28) */
	uint16_t cap_sriov;	/* extended capability offset, 0 = absent */
	uint8_t secondary, subordinate;	/* bridges: the buses behind it */
	/* The requester ID its DMA carries at the IOMMU: its own BDF, or an
	 * alias taken by a bridge on the way (a PCIe-to-PCI bridge's secondary
	 * bus with devfn 0; a conventional PCI bridge's own ID). Functions
	 * with the same `rid` cannot be told apart by the IOMMU: they form
	 * one group, and must go to one domain. */
	uint16_t rid;
	const struct pci_func *parent;	/* the bridge above it; NULL on a root bus */
	/* INTx: the pin it uses (1-4 = INTA-INTD, 0: none) and, where the
	 * host's _PRT says (root-bus functions only), the GSI it drives. */
	uint8_t intx_pin;
	bool gsi_known, gsi_level, gsi_low;
	uint32_t gsi;

	/* Set by the domain that owns it (vmm/): NULL = nobody. */
	const char *owner;
	uint64_t *dma_faults;	/* the owner's counter, or NULL */
};

/* Find every function (with one boot line per problem, not per
 * function: pci_print_all says those). 0, or -ENODEV when no
 * configuration mechanism works (then there are no functions). */
int pci_init(const struct acpi_info *acpi);

uint32_t pci_count(void);
struct pci_func *pci_func_at(uint32_t i);	/* 0 .. pci_count() - 1 */
struct pci_func *pci_find(uint16_t seg, uint8_t bus, uint8_t devfn);
/* A function whose DMA the IOMMU sees with requester ID rid (the first
 * of its group), or NULL. */
struct pci_func *pci_find_rid(uint16_t seg, uint16_t rid);

/* Configuration space access; size 1, 2 or 4, naturally aligned, off < 4096
 * (< 256 without ECAM: reads all ones, writes dropped above). */
uint32_t pci_read(const struct pci_func *f, unsigned off, unsigned size);
void pci_write(const struct pci_func *f, unsigned off, unsigned size, uint32_t val);
/* The same by address, for functions not (yet) in the table; reads all
 * ones where nothing answers. */
uint32_t pci_read_at(uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off, unsigned size);
void pci_write_at(uint16_t seg, uint8_t bus, uint8_t devfn, unsigned off, unsigned size,
		  uint32_t val);

/* The ECAM window of a segment (guest domains get theirs at the same
 * address): true with its base and bus range. */
bool pci_ecam_window(uint16_t seg, uint64_t *base, uint8_t *bus_start, uint8_t *bus_end);

/* "hv: pci BB:DD.F VVVV:DDDD class CCCC -> OWNER" for every function. */
void pci_print_all(void);

/* A function-level reset (when f->flr), after which its BARs are put
 * back where they were (the command register is left as the reset left
 * it: decoding and bus mastering off). false without FLR. */
bool pci_flr(struct pci_func *f);

/* Stop a function's DMA: bus mastering off (and memory/I/O decode), then
 * a function-level reset where it has one. */
void pci_quiesce(struct pci_func *f);

/* "00:03.0" (segment 0) or "0001:00:03.0", as the TOML and the boot
 * lines write a function; buf of at least 13 bytes. Pure (pci_enum.c):
 * the configuration parser uses it too. */
const char *pci_bdf_str(uint16_t seg, uint8_t bus, uint8_t devfn, char *buf);

#endif
