/*
 * IRQ 0: the domain's PIT channel 0 (vmm/dev/legacy.c) as an interrupt,
 * through its virtual IOAPIC's pin 2 (ISA IRQ 0 by the MADT's override,
 * vmm/acpi_guest.c), to the vCPU the guest routes it to.
 *
 * The time source. The domain owns its cores, their LAPIC timers included
 * (the guest's own timer, passed through), HLT does not exit and no
 * physical interrupt makes one: the hypervisor has no timer of its own on
 * a domain's core. So the PIT's interrupt is served where the guest waits
 * for it, in its HLT:
 *  - while channel 0 counts in a mode that raises OUT (0, 2, 3, 4) and
 *    pin 2 is unmasked with fixed or lowest-priority delivery, the vCPU
 *    the pin names (the first, for a logical or broadcast destination)
 *    runs as VCPU_RUNNING_PIT: its HLT exits, and after every one of its
 *    exits the PIT's deadline is checked;
 *  - its HLT exit waits, on its own core, until the deadline or until an
 *    interrupt the guest would take is pending in the real LAPIC's IRR
 *    (above the PPR), then sends IRQ 0 as a fixed self-IPI at the pin's
 *    vector (vlapic_deliver): the guest takes it on re-entry, EOIs its
 *    own LAPIC, and no exit happens on that side. One exit per tick.
 *  - a guest halted with IF=0 halts its core for real (the intercept is
 *    off for that entry): nothing but an NMI could wake it anyway.
 * Costs and limits, written down on purpose:
 *  - a vCPU that waits for ticks with IF=1 but without HLT (a busy loop
 *    on a tick counter) gets them only at its exits -- none, if the loop
 *    exits never. Ticks missed meanwhile make one interrupt, as an
 *    edge-triggered line seen late does (legacy_irq0_next).
 *  - no domain whose PIT is stopped, masked or never touched pays
 *    anything: its vCPUs run the same loop as before, HLT not exiting.
 *  - with pin 2 masked and the master 8259A initialized with IRQ 0
 *    unmasked (PIC mode: real-mode code, bootloaders, older OSes), the
 *    edge is a request in the 8259A instead, for the BSP (the PIC's INTR
 *    is its LINT0 in virtual-wire mode), injected as an external
 *    interrupt at the vector of ICW2 when the BSP can take it (IF set, no
 *    shadow): at its HLT exit or any other exit; its EOI is the guest's
 *    OCW2 (port 0x20), the real LAPIC is not involved. The other IRQs of
 *    the 8259A are never raised.
 *  - the RTC's periodic interrupt (IRQ 8) is not delivered.
 * Rejected: the VMX preemption timer (AMD-V has none: one mechanism for
 * both vendors), and borrowing the core's LAPIC timer (the guest owns it:
 * Linux programs both, and calibrates one against the other).
 */
#ifndef VMM_PIT_IRQ_H
#define VMM_PIT_IRQ_H

#include <stdint.h>

#include "vmm/vcpu.h"

struct domain;

/* As at power-on: no vCPU serves it. @pre d->lock held */
void pit_irq_reset(struct domain *d);

/* Channel 0 or pin 2 may have changed: the next deadline and the vCPU
 * that serves it, again; a vCPU that must change mode is kicked, unless
 * it is `self` (the caller's, which calls pit_irq_apply after the lock,
 * or NULL). @pre d->lock held */
void pit_irq_update(struct domain *d, struct vcpu *self);

/* On v's own CPU: HLT exiting and v's state as the domain wants them. */
void pit_irq_apply(struct vcpu *v);

/* After every exit of a vCPU in VCPU_RUNNING_PIT: IRQ 0 if it is due. */
void pit_irq_exit(struct vcpu *v);

/* The HLT exit (only vCPUs that serve the PIT have it). */
void pit_irq_hlt(struct vcpu *v, const struct vm_exit *e);

#endif
