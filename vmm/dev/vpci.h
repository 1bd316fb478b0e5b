/*
 * A domain's PCI bus: the host bridge at 00:00.0 (vmm/dev/legacy.c's) and
 * the host functions passed through to it, each behind a virtual
 * configuration space.
 *
 * Numbering: every function appears on the domain's bus 0, so a guest
 * that scans only its root bus finds it (the domain has no bridges). A
 * function on host bus 0 keeps its device and function numbers; one
 * behind a bridge (a PCIe root port on a server) gets the highest free
 * device number, its function number kept, functions of one host device
 * staying together.
 *
 * What the guest sees of a function (PCI 3.0 chapter 6, PCIe 5.0 7.5):
 *   - identity, class, revision, header type, subsystem: the host's;
 *   - command: I/O, memory, bus master, parity, SERR and INTx-disable
 *     written through, the rest kept; status: read through, RW1C bits
 *     written through;
 *   - BARs: where the firmware placed them, fixed (guest-physical =
 *     host-physical); sizing (all ones written) answers the real size;
 *     any other write is dropped;
 *   - expansion ROM: none; interrupt pin: the host's when its INTx is
 *     routed to the domain (intx), else none; interrupt line: a scratch
 *     byte;
 *   - capabilities: power management (PMCSR written through), PCI
 *     Express (device control written through but for FLR, which the
 *     hypervisor performs itself and then puts the BARs back), and MSI and
 *     MSI-X once vpci_init_irqs shows them (virtual: vmsi.h); every other
 *     capability is skipped in the list; extended capabilities (SR-IOV,
 *     AER, ...) are hidden: 0x100 reads 0.
 * An access to a function it does not own reads all ones, is dropped,
 * and counts in `refused pci=N`.
 *
 * Pure logic over drivers/pci.h's accessors (the host unit tests fake
 * them).
 */
#ifndef VMM_VPCI_H
#define VMM_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/pci.h"
#include "kernel/config.h"
#include "vmm/dev/vmsi.h"

struct vpci_func {
	struct pci_func *host;
	uint8_t devfn;			/* on the domain's bus 0 */
	uint8_t intr_line;		/* 0x3c, the guest's scratch */
	uint8_t sizing;			/* bit n: BAR n was written all ones */
	uint8_t first_cap;		/* the first visible capability, 0: none */
	bool intx;			/* its INTx pin is shown (routed) */
	uint64_t intx_seen;		/* the guest's IOAPIC entry last applied */
	struct vmsi msi;		/* its MSI and MSI-X (vmsi.h) */
};

struct vpci {
	uint32_t n;
	struct vpci_func funcs[CONFIG_MAX_DEVICES];
	uint64_t refused;		/* accesses to functions it does not own */
};

/* Place the host functions hosts[0..n) on bus 0 as described above.
 * @pre n <= CONFIG_MAX_DEVICES, no function twice. */
void vpci_init(struct vpci *b, struct pci_func *const *hosts, uint32_t n);

/* Show function i's MSI and/or MSI-X to the domain (vmsi_init's
 * arguments); until then both are hidden. */
void vpci_init_irqs(struct vpci *b, uint32_t i, bool msi, bool msix, struct vmsix_entry *ent,
		    const uint32_t *cpus, uint32_t ncpus, intptr_t io_delta);

/* The function the domain sees at devfn of bus 0, or NULL. */
struct vpci_func *vpci_find(struct vpci *b, uint8_t bus, uint8_t devfn);

/*
 * A configuration access by the domain: reg 0..0xfff, size 1/2/4,
 * naturally aligned (else: refused). Reads fill *val.
 */
void vpci_access(struct vpci *b, uint8_t bus, uint8_t devfn, unsigned reg, unsigned size,
		 bool write, uint32_t *val);

#endif
