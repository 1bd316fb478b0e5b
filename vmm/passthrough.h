/*
 * A domain's PCI functions: checked and taken at domain creation, fenced
 * by the IOMMU, their BARs mapped, their configuration spaces virtual
 * (vmm/dev/vpci.c), quiesced when the domain stops or restarts.
 *
 * The boot-time checks are authoritative (hvconfig's are a courtesy): the
 * function exists; it is not a host bridge, a bridge, an IOMMU, or the
 * hypervisor console's device; no other domain has it; every function
 * with its requester ID is in this domain too; its BARs were placed by
 * the firmware, lie above the domain's RAM and share no page with a BAR
 * of a function outside the domain; its firmware-reserved DMA memory
 * (RMRR/IVMD) does not collide with the domain's RAM; and an IOMMU covers
 * it. A device that fails stops its domain from starting, with one line.
 */
#ifndef VMM_PASSTHROUGH_H
#define VMM_PASSTHROUGH_H

#include <stdbool.h>
#include <stdint.h>

struct domain;
struct vcpu;
struct vm_exit;
struct acpi_guest_pci;
struct vmsi;

/* Take, check, fence and map the configured functions (after the RAM is
 * mapped). 0, or -errno after "hv: domain NAME: device BB:DD.F ..." and
 * with nothing taken. */
int passthrough_assign(struct domain *d);
/* Give them back (domain creation failed later). */
void passthrough_release(struct domain *d);
/* Stop their DMA (bus mastering off, FLR): before the domain's memory is
 * scrubbed or left; the IOMMU keeps fencing them. */
void passthrough_quiesce(struct domain *d);
/* The domain's PCI host bridge for its ACPI tables: false if it has no
 * functions. */
bool passthrough_acpi(const struct domain *d, struct acpi_guest_pci *out);
/* Is gpa in the domain's ECAM window (its configuration space by MMIO,
 * at the host's segment-0 window address, 256 buses)? */
bool passthrough_ecam_contains(const struct domain *d, uint64_t gpa);
uint64_t passthrough_ecam_size(void);
/* A decoded guest access there (size 1, 2, 4 or 8; 8 is refused). */
void passthrough_ecam_access(struct domain *d, uint64_t gpa, unsigned size, bool write,
			     uint32_t *val);
/* The function whose trapped MSI-X page holds gpa (vmsi_msix_access
 * serves the access, with d->lock held), or NULL. */
struct vmsi *passthrough_msix_find(struct domain *d, uint64_t gpa);
/* The domain's IOAPIC changed (d->lock held): its devices' INTx pins at
 * the real IOAPIC follow the entries for them. */
void passthrough_intx_sync(struct domain *d);
/* A configuration access through 0xcf8/0xcfc (struct legacy_host's
 * pci_cfg), with d->lock held. */
void passthrough_cf8_access(void *domain, uint8_t bus, uint8_t devfn, unsigned reg,
			    unsigned size, bool in, uint32_t *val);

#endif
