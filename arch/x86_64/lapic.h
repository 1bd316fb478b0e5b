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
#define ICR_PENDING   (1u << 12)	/* delivery status (xAPIC) */

/* The LAPIC's registers by xAPIC offset (SDM Vol. 3A Table 11-1; the
 * x2APIC MSR is 0x800 + offset / 16). ISR, TMR and IRR are 8 registers
 * each, 16 bytes apart. */
#define LAPIC_ID          0x020u
#define LAPIC_VERSION     0x030u
#define LAPIC_TPR         0x080u
#define LAPIC_PPR         0x0a0u
#define LAPIC_EOI         0x0b0u
#define LAPIC_LDR         0x0d0u
#define LAPIC_DFR         0x0e0u
#define LAPIC_SVR         0x0f0u
#define LAPIC_ISR0        0x100u
#define LAPIC_IRR0        0x200u
#define LAPIC_IRR7        0x270u
#define LAPIC_ESR         0x280u
#define LAPIC_LVT_CMCI    0x2f0u
#define LAPIC_ICR_LO      0x300u
#define LAPIC_ICR_HI      0x310u
#define LAPIC_LVT_TIMER   0x320u
#define LAPIC_LVT_THERMAL 0x330u
#define LAPIC_LVT_PERF    0x340u
#define LAPIC_LVT_LINT0   0x350u
#define LAPIC_LVT_LINT1   0x360u
#define LAPIC_LVT_ERROR   0x370u
#define LAPIC_TMICT       0x380u
#define LAPIC_TMCCT       0x390u
#define LAPIC_TDCR        0x3e0u

/* Those registers but the ICR, in either mode. */
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
