/*
 * MSI and MSI-X of a passed-through function, as its domain sees them
 * (PCI 3.0 6.8; PCIe 5.0 7.7.1-7.7.2), delivered by interrupt remapping.
 *
 * The guest programs what a guest programs: a message address naming its
 * destination APIC ID, a data word with its vector, masks. None of it
 * reaches the device. The device's real registers and table entries hold
 * only remappable messages that select remapping entries of the
 * function's own requester ID (drivers/iommu/iommu.h); each entry is
 * filled from the guest's message once it is checked:
 *   - address 0xFEEx_xxxx, physical destination mode, no extended
 *     destination bits; the destination one of the domain's CPUs;
 *   - delivery mode fixed or lowest priority, vector 16-255, edge.
 * A message that fails leaves its entry blocked and its vector masked at
 * the device (so it cannot storm the IOMMU's fault reporting); a line says
 * so once the guest unmasks it. The interrupt itself goes from the device
 * straight to the guest's CPU with the guest's vector: no exit.
 *
 * MSI (configuration space): control (enable, multiple message enable),
 * address, data and per-vector masks are the guest's; the mask bits and
 * enable are written through, pending bits read through. Multiple
 * messages: entries are reserved for all the function can ask for, and
 * vector k of the guest's block fills entry k.
 *
 * MSI-X: the capability's enable and function mask are written through;
 * the table lives in the trapped page(s) of its BAR: reads answer the
 * guest's values, writes update them and the device's entry (its mask bit
 * as the guest's). The PBA reads through; writes to it are dropped. Other
 * accesses in the trapped pages are forwarded to the device as they are.
 *
 * Pure logic over drivers/pci.h's configuration accessors and iommu.h's
 * remapping calls (host unit tests fake both); the device's MSI-X pages
 * are reached at their physical address plus io_delta.
 */
#ifndef VMM_VMSI_H
#define VMM_VMSI_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/pci.h"

#define VMSI_MAX_CPUS 64

struct vmsix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* what the guest wrote */
	int16_t irte;				/* its remapping entry, -1: none yet */
	bool blocked;				/* its message was refused: masked */
};

/* The index of the domain's vCPU a logical destination names first, or
 * UINT32_MAX for none (vlapic_logical_first). */
typedef uint32_t (*vmsi_logical_fn)(const void *ctx, uint32_t dest);

struct vmsi {
	const struct pci_func *host;
	uint32_t cpus[VMSI_MAX_CPUS];		/* the cores' APIC IDs, by the domain's (0..n-1) */
	uint32_t ncpus;
	/* Logical destinations: resolved to one vCPU by this (set after
	 * vmsi_init), or refused when it is NULL. */
	vmsi_logical_fn logical;
	const void *logical_ctx;

	/* MSI: the capability's offset (0: none or hidden) */
	uint8_t msi;
	bool msi64, msi_pvm;			/* 64-bit address, per-vector masks */
	uint8_t msi_max;			/* vectors it can ask for (1 << MMC) */
	uint16_t msi_ctrl;			/* the guest's enable and MME */
	uint32_t msi_addr_lo, msi_addr_hi, msi_mask;
	uint16_t msi_data;
	int16_t msi_irte;			/* the first of msi_max entries, -1: none */
	uint32_t msi_blocked;			/* vectors refused: quiet at the device */

	/* MSI-X: the capability's offset (0: none or hidden) */
	uint8_t msix;
	uint16_t msix_n;			/* table entries */
	uint16_t msix_ctrl;			/* the guest's enable and function mask */
	uint64_t table, pba;			/* where they are (guest = host physical) */
	uint64_t trap_lo[2], trap_hi[2];	/* the trapped pages: table's, PBA's */
	intptr_t io_delta;			/* the device at physical P: P + io_delta */
	struct vmsix_entry *ent;		/* msix_n of them */

	uint64_t refused;			/* messages the domain may not send */
	bool full;				/* no remapping entry was left, said once */
};

/*
 * Set up for host function h: msi/msix say which capabilities the domain
 * sees (false: hidden, no interrupts of that kind). ent: room for the
 * MSI-X table size entries; cpus: its cores' APIC IDs, in the domain's order. No remapping
 * entry is taken yet (the first guest write does).
 */
void vmsi_init(struct vmsi *m, const struct pci_func *h, bool msi, bool msix,
	       struct vmsix_entry *ent, const uint32_t *cpus, uint32_t ncpus, intptr_t io_delta);

/* The MSI-X table size of h (0: none), for sizing ent. */
unsigned vmsi_msix_size(const struct pci_func *h);

/* Does config byte reg lie in a capability this owns (beyond its ID and
 * next-pointer bytes, which vpci answers)? */
bool vmsi_cfg_owns(const struct vmsi *m, unsigned reg);
/* The dword at reg (aligned, in an owned capability), bytes 0-1 of a
 * capability's first dword as the host has them. */
uint32_t vmsi_cfg_read(const struct vmsi *m, unsigned reg);
/* The MSI capability's length in bytes (0: none shown). */
unsigned vmsi_msi_len(const struct vmsi *m);
/* A guest write to the dword at reg, lanes: the byte mask of it. */
void vmsi_cfg_write(struct vmsi *m, unsigned reg, uint32_t v, uint32_t lanes);

/* Is gpa in a trapped MSI-X page of this function? */
bool vmsi_msix_contains(const struct vmsi *m, uint64_t gpa);
/* A guest access there: size 1, 2, 4 or 8, naturally aligned. */
void vmsi_msix_access(struct vmsi *m, uint64_t gpa, unsigned size, bool write, uint64_t *val);

/* The domain stops: every entry blocked, MSI and MSI-X off at the device,
 * the guest's state forgotten (the entries stay reserved for a restart). */
void vmsi_reset(struct vmsi *m);
/* ... and the entries given back (the function leaves the domain). */
void vmsi_release(struct vmsi *m);

#endif
