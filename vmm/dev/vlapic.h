/*
 * A domain's view of its cores' LAPICs. The LAPICs are the real ones. In
 * x2APIC mode they are passed through register by register (vmm/msr.c)
 * -- except the ICR: every IPI a guest sends comes here, and only reaches
 * the domain's own CPUs -- and the ID and LDR, which are the domain's.
 * INIT and SIPI start the domain's other vCPUs. Interrupts of the
 * domain's virtual devices (routed by its virtual IOAPIC) are sent the
 * same way: as real fixed IPIs, which the guest takes with no exit.
 *
 * APIC IDs: a domain's vCPUs have APIC IDs 0..n-1 in its own order (its
 * MADT, CPUID, the ID and LDR registers, and every destination it names:
 * IPIs, its IOAPIC's entries, its devices' MSIs); the hypervisor turns
 * them into the cores' when it sends. A guest that takes its boot CPU
 * for APIC ID 0, or sizes per-CPU tables by the highest ID, works as on
 * a machine of its own.
 *
 * xAPIC mode (a guest that leaves x2APIC mode through IA32_APIC_BASE, or
 * any guest on a CPU without x2APIC): the real LAPIC stays as the
 * hypervisor runs it, and the guest's xAPIC page at 0xfee00000 is
 * emulated, one exit per access, onto the real registers (the ICR
 * filtered as above). An interrupt costs the guest one exit (its EOI),
 * arming the timer one (the initial count, or none with the TSC-deadline
 * MSR, which stays passed through).
 */
#ifndef VMM_VLAPIC_H
#define VMM_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vcpu.h"

struct domain;

#define VLAPIC_BASE 0xfee00000ull
#define APIC_BASE_BSP    (1ull << 8)
#define APIC_BASE_EXTD   (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)

enum vlapic_mode { VLAPIC_X2APIC, VLAPIC_XAPIC, VLAPIC_DISABLED };

/* v's LAPIC as at power-on: APIC ID `index`, x2APIC mode where the
 * hypervisor runs the LAPICs in it (else xAPIC), LDR 0, flat DFR. */
void vlapic_reset(struct vcpu *v, uint32_t index);

/* IA32_APIC_BASE as the guest reads it: 0xfee00000, the mode's EN and
 * EXTD bits, the BSP flag on the domain's first vCPU (APIC ID 0).
 * Inline: the MSR exit's fast path. */
static inline uint64_t vlapic_apic_base(const struct vcpu *v)
{
	return VLAPIC_BASE | (v->apic_mode != VLAPIC_DISABLED ? APIC_BASE_ENABLE : 0) |
	       (v->apic_mode == VLAPIC_X2APIC ? APIC_BASE_EXTD : 0) |
	       (v->vapic_id == 0 ? APIC_BASE_BSP : 0);
}
/* A write of it: false if the CPU would raise #GP (an illegal mode
 * transition, reserved bits, a moved base). */
bool vlapic_apic_base_write(struct vcpu *v, uint64_t val);

/* The x2APIC logical ID (LDR) of APIC ID `id` (SDM Vol. 3A 11.12.10.2). */
uint32_t vlapic_x2apic_ldr(uint32_t id);

/* An access to the xAPIC page at `off` (vmm/mmio.c, xAPIC mode only). */
void vlapic_mmio(struct vcpu *v, uint32_t off, unsigned size, bool write, uint32_t *val);

/* The guest wrote `icr` to the x2APIC ICR (MSR 0x830). */
void vlapic_icr_write(struct vcpu *v, uint64_t icr);

/* Send `vector` to the domain's vCPUs named by an interrupt message
 * (the domain's APIC IDs: physical, 0xff/0xffffffff broadcast, or
 * logical as each target's mode defines it). */
void vlapic_deliver(struct domain *d, uint8_t vector, bool logical, uint32_t dest);

/* The first of domain `ctx`'s vCPUs (its index) that logical destination
 * `dest` names, each in its own mode; UINT32_MAX if none. For the
 * interrupt messages of its devices, which the IOMMU sends to one CPU. */
uint32_t vlapic_logical_first(const void *ctx, uint32_t dest);
/* The first of the domain's vCPUs an interrupt message names (as
 * vlapic_deliver reads it), or NULL. */
const struct vcpu *vlapic_first_target(const struct domain *d, bool logical, uint32_t dest);

/* Make v's CPU leave the guest soon (an NMI), unless it is this CPU. */
void vcpu_kick(const struct vcpu *v);

#endif
