/* The vendor-neutral exit handlers and helpers they share. */
#ifndef VMM_EXITS_H
#define VMM_EXITS_H

#include "vmm/vcpu.h"

/* Stops the domain: an exit that skips its instruction came without the
 * instruction's length (the vendor code always knows it for those). */
void vcpu_insn_len_unknown(struct vcpu *v);

/* Move RIP past the exiting instruction (e->insn_len bytes). Inline: it
 * ends most exits. */
static inline void vcpu_skip_insn(struct vcpu *v, const struct vm_exit *e)
{
	if (__builtin_expect(e->insn_len == 0, 0)) {
		vcpu_insn_len_unknown(v);
		return;
	}
	v->regs.rip += e->insn_len;
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
