/*
 * The IOMMU: DMA remapping for passed-through PCI functions, VT-d or
 * AMD-Vi as the ACPI tables say (DMAR -> VT-d, IVRS -> AMD-Vi; never the
 * CPU vendor). A domain asks "give device D my address space", never
 * "write this context entry": the vendor units sit behind struct
 * iommu_ops, like the vCPU ops.
 *
 * Every unit found is enabled before any domain runs, with every requester
 * ID blocked (no translation, no passthrough): a function assigned to no
 * domain can do no DMA at all. A domain's I/O address space is its
 * guest-physical one (IOVA = GPA), built by the shared page-table engine
 * in the unit's format from the same RAM ranges as its EPT/NPT: nothing
 * else (the hypervisor, other domains) is ever mapped in it.
 *
 * Faults are reported by the units' fault interrupts, which the drivers
 * aim at the boot CPU as NMIs (the console's doorbell); conin_on_nmi()
 * then calls iommu_poll_faults(), which prints
 * "hv: iommu: fault: device BB:DD.F (NAME) write at 0x... blocked"
 * (rate-limited) and counts them in the owner's dma_faults.
 */
#ifndef DRIVERS_IOMMU_IOMMU_H
#define DRIVERS_IOMMU_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/pgtable.h"

struct acpi_info;
struct pci_func;

/*
 * Interrupt remapping. With it on, a device's MSI and an IOAPIC pin carry
 * only a handle (an entry index); the entry, checked against the
 * requester ID that sent the message, names the CPU and the vector.
 * Compatibility-format (unremapped) messages are blocked, and so is every
 * message that names no entry of its sender: both are reported as
 * "hv: iommu: interrupt fault: device BB:DD.F (NAME) ...: blocked".
 */
struct iommu_irq {
	uint32_t dest;		/* APIC ID, or a logical x2APIC ID if logical */
	uint8_t vector;		/* 16..255 (ignored for NMI) */
	bool logical;		/* destination mode logical */
	bool lowest;		/* lowest priority among dest (redirection hint) */
	bool level;		/* level-triggered (IOAPIC pins only) */
	bool nmi;		/* NMI delivery (the console's pin) */
};

/* The message a device must send for an entry: MSI address (64-bit) and
 * data. Multi-message MSI: the device ORs k into the low data bits for
 * its vector k, which selects entry index + k. */
struct iommu_msi {
	uint64_t addr;
	uint32_t data;
};

/* A domain's I/O address space. */
struct iommu_domain {
	struct pgtable pt;	/* IOVA -> host-physical, the unit's format */
	uint16_t id;		/* VT-d domain ID / AMD-Vi DomainID, nonzero */
	bool ready;
};

/* What a unit driver (drivers/iommu/vtd.c, amdvi.c) provides. */
struct iommu_ops {
	const char *name;		/* "VT-d", "AMD-Vi" */
	/* Set up every unit the tables describe: translation tables with
	 * every device blocked, invalidation queue or registers, fault
	 * reporting; then enable translation. One line per unit. 0 or
	 * -errno (then no unit is left translating, and there is no IOMMU). */
	int (*init)(const struct acpi_info *acpi);
	/* The I/O page-table format every unit can walk. */
	const struct pt_format *(*pt_format)(void);
	/* pt_mem for that format (a unit that does not snoop needs sync). */
	const struct pt_mem *(*pt_mem)(void);
	/* Is f behind a unit (so its DMA can be fenced)? */
	bool (*covers)(const struct pci_func *f);
	/* Is f one of the units themselves (AMD-Vi is a PCI function)? */
	bool (*is_unit)(const struct pci_func *f);
	/* Point f's requester ID (f->rid) at d's tables; invalidate and wait.
	 * 0 or -errno. */
	int (*attach)(struct iommu_domain *d, const struct pci_func *f);
	/* Block f's requester ID again; invalidate and wait. */
	void (*detach)(struct iommu_domain *d, const struct pci_func *f);
	/* After d's tables changed: flush its IOTLB entries; wait. */
	void (*flush)(struct iommu_domain *d);
	/* The memory the firmware keeps using for f's DMA (VT-d RMRRs, AMD-Vi
	 * IVMD unity ranges naming f's requester ID): fn(ctx, base, end) for
	 * each, [base, end) page aligned; returns how many. */
	unsigned (*reserved)(const struct pci_func *f,
			     void (*fn)(void *ctx, uint64_t base, uint64_t end), void *ctx);
	/* Read and clear the units' fault records, reporting each through
	 * iommu_report_fault() or iommu_report_irq_fault(). Called with
	 * iommu's poll lock held. */
	void (*poll_faults)(void);

	/* ---- interrupt remapping (NULL members: the unit has none) ---- */
	/* Is remapping on, on every unit (set up by init when the units can:
	 * remappable-format only, compatibility format blocked; x2APIC
	 * destinations where the unit has them)? */
	bool (*ir_on)(void);
	/* Can an entry name a destination APIC ID above 255 (VT-d EIM,
	 * AMD-Vi XT)? */
	bool (*ir_x2apic)(void);
	/* Reserve n entries (a power of two, 1..32) for requester ID rid of
	 * segment seg, the first aligned to n; all blocked (not present).
	 * The index of the first, or -errno. */
	int (*irq_alloc)(uint16_t seg, uint16_t rid, unsigned n);
	/* Block and give back entries [index, index + n) of rid. */
	void (*irq_free)(uint16_t seg, uint16_t rid, unsigned index, unsigned n);
	/* Entry index of rid: present with *irq, valid only for messages
	 * from rid; or blocked (irq NULL). Invalidate the unit's interrupt
	 * entry cache and wait. 0 or -errno. */
	int (*irq_set)(uint16_t seg, uint16_t rid, unsigned index, const struct iommu_irq *irq);
	/* The message that selects entry index of rid. */
	void (*irq_msi)(uint16_t seg, uint16_t rid, unsigned index, struct iommu_msi *msg);
	/* Route pin of the IOAPIC with APIC ID ioapic_id through an entry
	 * (allocated on first use, then reused) set to *irq: the redirection
	 * entry to write into the IOAPIC (masked bit 16 clear; the caller
	 * masks it as it needs). 0, or -ENODEV if no unit covers that
	 * IOAPIC, or -errno. */
	int (*ioapic_route)(uint32_t ioapic_id, unsigned pin, const struct iommu_irq *irq,
			    uint64_t *rte);
};

extern const struct iommu_ops vtd_ops;
extern const struct iommu_ops amdvi_ops;

/* Pick and start the unit driver from the ACPI tables; "hv: iommu: ..."
 * lines say what was found. Fault interrupts go as NMIs to the CPU with
 * nmi_apic_id (the boot CPU, which serves the console). 0 also when there is none (iommu_present()
 * says so). */
int iommu_init(const struct acpi_info *acpi, uint32_t nmi_apic_id);
bool iommu_present(void);
const char *iommu_name(void);	/* "VT-d", "AMD-Vi", or "none" */
/* Could f's DMA be fenced? (present, and f is behind a unit) */
bool iommu_covers(const struct pci_func *f);
bool iommu_is_unit(const struct pci_func *f);

/* An empty address space for a domain (id: nonzero, unique). */
int iommu_domain_init(struct iommu_domain *d, uint16_t id);
/* Map [iova, iova + size) to hpa, read and write (flushes). */
int iommu_map(struct iommu_domain *d, uint64_t iova, uint64_t hpa, uint64_t size);
int iommu_attach(struct iommu_domain *d, const struct pci_func *f);
void iommu_detach(struct iommu_domain *d, const struct pci_func *f);

/* ops->reserved, or 0 ranges without an IOMMU. */
unsigned iommu_reserved_ranges(const struct pci_func *f,
			       void (*fn)(void *ctx, uint64_t base, uint64_t end), void *ctx);

/* Report and clear what the units recorded (any CPU; one at a time, the
 * others return at once). */
void iommu_poll_faults(void);

/* For the unit drivers: one fault. rid: the requester ID; what: "read",
 * "write", or a reason. Prints the first few per function, then counts. */
void iommu_report_fault(uint16_t seg, uint16_t rid, uint64_t addr, const char *what);

/* Interrupt remapping through ops (see struct iommu_ops): false/-ENODEV
 * without an IOMMU or without remapping on it. */
bool iommu_ir_on(void);
bool iommu_ir_x2apic(void);
int iommu_irq_alloc(uint16_t seg, uint16_t rid, unsigned n);
void iommu_irq_free(uint16_t seg, uint16_t rid, unsigned index, unsigned n);
int iommu_irq_set(uint16_t seg, uint16_t rid, unsigned index, const struct iommu_irq *irq);
void iommu_irq_msi(uint16_t seg, uint16_t rid, unsigned index, struct iommu_msi *msg);
int iommu_ioapic_route(uint32_t ioapic_id, unsigned pin, const struct iommu_irq *irq,
		       uint64_t *rte);

/* For the unit drivers: one blocked interrupt from rid; what says why
 * ("entry 3 not present", "compatibility format", ...). Printed as
 * "iommu: interrupt fault: device BB:DD.F (NAME) WHAT: blocked", rate-
 * limited with the DMA faults, counted in the owner's dma_faults. */
void iommu_report_irq_fault(uint16_t seg, uint16_t rid, const char *what);
/* Faults reported since boot (DMA, interrupt), and the last few as text
 * (back = 0: the latest; NULL past them), for the console's `iommu`. */
void iommu_fault_totals(uint64_t *dma, uint64_t *irq);
const char *iommu_last_fault(uint32_t back);

/* For the unit drivers: take n free bits (n a power of two) of the bitmap
 * map of total bits, the first aligned to n, and set them: the first's
 * index, or -1 when there is no such run. */
static inline int iommu_take_aligned(uint8_t *map, unsigned total, unsigned n)
{
	for (unsigned i = 0; i + n <= total; i += n) {
		unsigned k = 0;
		while (k < n && !(map[(i + k) / 8] & (1u << ((i + k) % 8))))
			k++;
		if (k < n)
			continue;
		for (k = 0; k < n; k++)
			map[(i + k) / 8] |= (uint8_t)(1u << ((i + k) % 8));
		return (int)i;
	}
	return -1;
}

/* For the unit drivers: the MSI address and data that deliver a fault
 * interrupt as an NMI to the boot CPU (xAPIC-format destination). */
void iommu_fault_msi(uint32_t *addr, uint32_t *data);

#endif
