/* The vendor-neutral exit handlers and helpers they share. */
#ifndef VMM_EXITS_H
#define VMM_EXITS_H

#include "vmm/vcpu.h"

/* Stops the domain: an exit that skips its instruction came without the
 * instruction's length (the vendor code always knows it for those). */
void vcpu_insn_len_unknown(struct vcpu *v);

/* The rest of an emulated instruction's completion when RFLAGS has one
 * of VCPU_INSN_DONE_RARE set: RF cleared, the single-step trap for TF.
 * Out of line. */
#define VCPU_INSN_DONE_RARE (X86_RFLAGS_TF | X86_RFLAGS_RF)
void vcpu_insn_done_flags(struct vcpu *v);

/*
 * Complete an instruction the hypervisor emulated: RIP moves past its
 * len bytes and the guest goes on as if the CPU had executed it, which
 * beyond RIP means (SDM Vol. 3A 18.3.1.1, 18.3.1.4, 6.8.3; APM Vol. 2
 * 13.1, 15.21.5):
 *  - with RFLAGS.TF set at its start, a single-step trap after it: #DB
 *    with DR6.BS, RIP past it, exactly once (the vendor's single_step_trap);
 *  - RFLAGS.RF is cleared (it only suppresses a breakpoint on the
 *    instruction it was set for);
 *  - an STI or MOV SS interrupt shadow it was in has ended. The vendor
 *    code ends it when it decodes an instruction's exit (svm.c, vmx.c:
 *    such an exit either completes the instruction here or faults it,
 *    and an exception's delivery ends the shadow too), so this costs the
 *    skip nothing.
 * TF and RF are tested in the RFLAGS the vendor code copied into
 * v->regs at the exit (both vendors do on every exit): one test of a
 * register already loaded, not taken in the common case.
 * Not emulated: data and I/O breakpoints (DR0-DR3 with DR7) on the
 * access the hypervisor emulates, and a REP string I/O instruction,
 * refused whole in one exit, traps once, not after each iteration
 * (docs/linux-guests.md, "Debugging").
 */
static inline void vcpu_insn_done(struct vcpu *v, unsigned len)
{
	v->regs.rip += len;
	if (__builtin_expect(v->regs.rflags & VCPU_INSN_DONE_RARE, 0))
		vcpu_insn_done_flags(v);
}

/* Complete the exiting instruction (e->insn_len bytes, vcpu_insn_done).
 * Inline: it ends most exits. */
static inline void vcpu_skip_insn(struct vcpu *v, const struct vm_exit *e)
{
	if (__builtin_expect(e->insn_len == 0, 0)) {
		vcpu_insn_len_unknown(v);
		return;
	}
	vcpu_insn_done(v, e->insn_len);
}

void cpuid_exit(struct vcpu *v, const struct vm_exit *e);
void io_exit(struct vcpu *v, const struct vm_exit *e);
/* Which device takes each port, for io_exit: once, before the domains. */
void io_init(void);

/* The hypercall ABI: RAX = number in, result out. */
#define HC_VERSION  0		/* returns HC_ABI_VERSION */
#define HC_EXIT_COUNT 1		/* returns the domain's exits so far (all reasons) */
#define HC_ABI_VERSION 1

/* CPUID 0x40000000: the hypervisor's signature. */
#define HV_CPUID_BASE      0x40000000u
#define HV_CPUID_MAX       0x40000001u
#define HV_CPUID_SIGNATURE "hvstatic-x86"

#endif
