/*
 * A domain's view of its cores' LAPICs. The LAPICs are the real ones, in
 * x2APIC mode, passed through register by register (vmm/msr.c) -- except
 * the ICR: every IPI a guest sends comes here, and only reaches the
 * domain's own CPUs. INIT and SIPI start the domain's other vCPUs.
 * Interrupts of the domain's virtual devices (routed by its virtual
 * IOAPIC) are sent the same way: as real fixed IPIs, which the guest
 * takes with no exit.
 */
#ifndef VMM_VLAPIC_H
#define VMM_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vcpu.h"

struct domain;

#define VLAPIC_BASE 0xfee00000ull

/* IA32_APIC_BASE as the guest reads it: enabled, x2APIC mode, the BSP
 * flag on the domain's first vCPU. */
uint64_t vlapic_apic_base(const struct vcpu *v);

/* The guest wrote `icr` to the x2APIC ICR (MSR 0x830). */
void vlapic_icr_write(struct vcpu *v, uint64_t icr);

/* Send `vector` to the domain's vCPUs named by an interrupt message
 * (physical APIC ID, 0xff/0xffffffff broadcast, or x2APIC logical). */
void vlapic_deliver(struct domain *d, uint8_t vector, bool logical, uint32_t dest);

/* The first of the domain's vCPUs an interrupt message names (as
 * vlapic_deliver reads it), or NULL. */
struct vcpu *vlapic_first_target(struct domain *d, bool logical, uint32_t dest);

/* Make v's CPU leave the guest soon (an NMI), unless it is this CPU. */
void vcpu_kick(const struct vcpu *v);

#endif
