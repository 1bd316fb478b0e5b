/*
 * The local APIC of the calling CPU, in x2APIC mode (MSRs) when the CPU
 * has it (domains need it, see vmm/dev/vlapic.h), else xAPIC (MMIO at the
 * MADT's address). Only what the hypervisor itself uses: its ID and the ICR.
 */
#ifndef ARCH_X86_64_LAPIC_H
#define ARCH_X86_64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Choose the mode on the boot CPU: x2APIC if `want_x2apic` and the CPU has it. */
void lapic_init(uint64_t mmio_base, bool want_x2apic);
/* The same mode on an application processor. */
void lapic_init_ap(void);
bool lapic_x2apic(void);
uint32_t lapic_id(void);

#define ICR_INIT      (5u << 8)
#define ICR_STARTUP   (6u << 8)
#define ICR_NMI       (4u << 8)
#define ICR_ASSERT    (1u << 14)
#define ICR_LEVEL     (1u << 15)

/* The LAPIC's registers but the ICR, by xAPIC offset (SDM Vol. 3A Table
 * 11-1), in either mode: MSR 0x800 + offset / 16 in x2APIC mode. */
uint32_t lapic_reg_read(uint32_t off);
void lapic_reg_write(uint32_t off, uint32_t val);

/*
 * After a guest had this core's LAPIC (or when it turns its LAPIC off
 * through IA32_APIC_BASE): no timer left armed, every local interrupt
 * source masked, TPR 0, nothing left in service, the LAPIC enabled -- as
 * the next guest, or the idle hypervisor, expects.
 */
void lapic_reset_after_guest(void);

/* Send an IPI to `apic_id`; waits (bounded) for the xAPIC to accept it. */
void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);

#endif
