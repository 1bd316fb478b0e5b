/* IRQ 0 from the PIT's channel 0; see pit_irq.h for the design. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "vmm/console/conin.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/dev/pit_irq.h"
#include "vmm/dev/vlapic.h"

#define PIT_IRQ_PIN  2		/* ISA IRQ 0: the MADT's override to GSI 2 */

/* Where pin 2 sends its interrupt, if it is one we can send (fixed or
 * lowest priority, as the UART's). */
static bool pit_route(const struct domain *d, struct vioapic_msg *m)
{
	return vioapic_route(&d->ioapic, PIT_IRQ_PIN, m) &&
	       (m->delivery == VIOAPIC_DM_FIXED || m->delivery == VIOAPIC_DM_LOWEST);
}

void pit_irq_reset(struct domain *d)
{
	d->pit_deadline = LEGACY_NEVER;
	for (uint32_t i = 0; i < d->nvcpus; i++)
		d->vcpus[i].pit_wanted = false;
}

void pit_irq_update(struct domain *d, struct vcpu *self)
{
	struct vioapic_msg m;
	const struct vcpu *server = NULL;
	uint64_t next = legacy_irq0_next(&d->legacy, rdtsc());

	uint8_t vector;

	if (next != LEGACY_NEVER && pit_route(d, &m))
		server = vlapic_first_target(d, m.logical, m.dest);
	else if ((next != LEGACY_NEVER && legacy_pic_irq0_open(&d->legacy)) ||
		 legacy_pic_next(&d->legacy, false, &vector))
		server = &d->vcpus[0];	/* the 8259A's INTR: the BSP's LINT0 (virtual wire) */
	__atomic_store_n(&d->pit_deadline, server ? next : LEGACY_NEVER, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < d->nvcpus; i++) {
		struct vcpu *t = &d->vcpus[i];
		bool want = t == server;

		if (t->pit_wanted == want)
			continue;
		__atomic_store_n(&t->pit_wanted, want, __ATOMIC_SEQ_CST);
		if (t != self)
			vcpu_kick(t);	/* it applies it at the NMI */
	}
}

/* IRQ 0 if its edge is due: one interrupt for every edge since the last
 * (the line is edge-triggered), then the next deadline. @pre d->lock held */
static void pit_fire(struct domain *d, struct vcpu *self)
{
	struct vioapic_msg m;

	if (rdtsc() < d->pit_deadline)
		return;
	if (pit_route(d, &m))
		vlapic_deliver(d, m.vector, m.logical, m.dest);
	else if (legacy_pic_irq0_open(&d->legacy))
		legacy_pic_raise(&d->legacy, 0);
	pit_irq_update(d, self);
}

/* May the 8259A have an interrupt for v now? Its BSP, interrupts on,
 * a request raised: read without the lock, a hint taken again under it. */
static bool pic_hint(const struct domain *d, const struct vcpu *v)
{
	return v == &d->vcpus[0] && (v->regs.rflags & X86_RFLAGS_IF) &&
	       __atomic_load_n(&d->legacy.pic[0].irr, __ATOMIC_RELAXED);
}

/* The 8259A's interrupt into v, if it has one for v (the BSP) and v can
 * take it at this entry (IF set, no shadow, no other event): injected as
 * an external interrupt, its INTA done; true then. @pre d->lock held */
static bool pic_inject(struct domain *d, struct vcpu *v)
{
	uint8_t vector;

	if (v != &d->vcpus[0] || !(v->regs.rflags & X86_RFLAGS_IF) ||
	    !legacy_pic_next(&d->legacy, false, &vector) || !vcpu_ops->inject_extint(v, vector))
		return false;
	(void)legacy_pic_next(&d->legacy, true, &vector);
	pit_irq_update(d, v);	/* none left: the BSP may stop serving */
	return true;
}

void pit_irq_apply(struct vcpu *v)
{
	bool want = __atomic_load_n(&v->pit_wanted, __ATOMIC_ACQUIRE);
	enum vcpu_state from = want ? VCPU_RUNNING : VCPU_RUNNING_PIT;

	if (want != v->hlt_exiting) {
		vcpu_ops->set_hlt_exiting(v, want);
		v->hlt_exiting = want;
	}
	/* Fails if it is already there, or STOPPED. */
	__atomic_compare_exchange_n(&v->state, &from, want ? VCPU_RUNNING_PIT : VCPU_RUNNING,
				    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

void pit_irq_exit(struct vcpu *v)
{
	struct domain *d = v->dom;

	if (pic_hint(d, v) || rdtsc() >= __atomic_load_n(&d->pit_deadline, __ATOMIC_RELAXED)) {
		spin_lock(&d->lock);
		pit_fire(d, v);
		(void)pic_inject(d, v);
		spin_unlock(&d->lock);
	}
	pit_irq_apply(v);
}

/* Is an interrupt pending in this core's LAPIC (the guest's) that the
 * guest takes as soon as it runs with IF=1: a vector in a priority class
 * above the PPR's (SDM Vol. 3A 11.8.3)? `min` is the lowest such vector. */
static bool irr_deliverable(uint32_t min)
{
	for (uint32_t r = 7; r >= min / 32 && r < 8; r--) {
		uint32_t bits = lapic_reg_read(LAPIC_IRR0 + r * 16);

		if (r == min / 32)
			bits &= ~0u << (min % 32);
		if (bits)
			return true;
	}
	return false;
}

/*
 * The guest halted with the PIT's interrupt to serve. Wait on its core
 * (which it owns: nothing else would run here) until an interrupt it
 * would take is pending, IRQ 0 included once it is due; then on past the
 * HLT, as the CPU wakes. Whenever the intercept is off at the end, RIP
 * stays at the HLT, which the guest then executes for real: the LAPIC
 * wakes it for whatever is pending, as it would have.
 */
void pit_irq_hlt(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;

	pit_irq_apply(v);
	if (!v->hlt_exiting)
		return;		/* no longer ours (another vCPU changed the PIT) */
	if (!(v->regs.rflags & X86_RFLAGS_IF)) {
		/* Only an NMI would end this halt, and guests get none: let
		 * the core halt; the next exit sets the intercept again. */
		vcpu_ops->set_hlt_exiting(v, false);
		v->hlt_exiting = false;
		return;
	}

	uint32_t min = (lapic_reg_read(LAPIC_PPR) & 0xf0) + 16;
	while (v->state == VCPU_RUNNING_PIT) {
		if (nmi_noted(v->cpu)) {	/* console input, a kick, the end */
			conin_on_nmi();
			pit_irq_apply(v);
			if (!v->hlt_exiting)
				return;
		}
		if (rdtsc() >= __atomic_load_n(&d->pit_deadline, __ATOMIC_RELAXED)) {
			spin_lock(&d->lock);
			pit_fire(d, v);
			spin_unlock(&d->lock);
			pit_irq_apply(v);
			if (!v->hlt_exiting)
				return;	/* the one-shot's edge: the real HLT sees it pending */
		}
		bool pic = false;
		if (pic_hint(d, v)) {
			uint8_t vector;

			spin_lock(&d->lock);
			pic = legacy_pic_next(&d->legacy, false, &vector);
			spin_unlock(&d->lock);
		}
		if (pic || irr_deliverable(min)) {
			/* Past the HLT, and past the STI shadow it may have been
			 * in (sti; hlt): the interrupt comes before the next
			 * instruction, as when the CPU wakes (SDM Vol. 3A 6.8.3);
			 * the 8259A's is injected at the entry (its INTA), which
			 * needs the shadow gone. */
			vcpu_skip_insn(v, e);
			vcpu_ops->end_interrupt_shadow(v);
			if (pic) {
				spin_lock(&d->lock);
				(void)pic_inject(d, v);
				spin_unlock(&d->lock);
				pit_irq_apply(v);
			}
			return;
		}
		cpu_relax();
	}
}
