/*
 * CPUID as the guest sees it: the host's, with the hypervisor-present bit
 * (leaf 1 ECX[31]), a hypervisor leaf at 0x40000000 naming us, and the
 * virtualization extensions hidden (leaf 1 ECX[5] VMX, 0x80000001 ECX[2]
 * SVM, leaf 0x8000000a SVM features): a domain cannot nest.
 */
#include "arch/x86_64/cpu.h"
#include "kernel/string.h"
#include "vmm/exits.h"
#include "vmm/vcpu.h"

static struct cpuid_regs guest_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (leaf == HV_CPUID_BASE) {
		static const char sig[12] = HV_CPUID_SIGNATURE;
		r.eax = HV_CPUID_MAX;
		memcpy(&r.ebx, &sig[0], 4);
		memcpy(&r.ecx, &sig[4], 4);
		memcpy(&r.edx, &sig[8], 4);
		return r;
	}
	if ((leaf & 0xffff0000u) == HV_CPUID_BASE)
		return r;	/* the rest of our range: reserved, zero */
	if (leaf == 0x8000000au)
		return r;	/* SVM features: hidden with SVM */

	r = cpuid_count(leaf, subleaf);
	if (leaf == 1) {
		r.ecx |= 1u << 31;
		r.ecx &= ~((1u << 5) | (1u << 6));	/* VMX, SMX */
	} else if (leaf == 0x80000001u) {
		r.ecx &= ~(1u << 2);
	}
	return r;
}

#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE     (1ull << 22)

void cpuid_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.rax;
	struct cpuid_regs r = guest_cpuid(leaf, (uint32_t)v->regs.rcx);

	/* OSXSAVE and OSPKE mirror the guest's own CR4, not the host's. */
	if (leaf == 1) {
		r.ecx &= ~(1u << 27);
		if (vcpu_ops->get_cr(v, 4) & CR4_OSXSAVE)
			r.ecx |= 1u << 27;
	} else if (leaf == 7 && (uint32_t)v->regs.rcx == 0) {
		r.ecx &= ~(1u << 4);
		if (vcpu_ops->get_cr(v, 4) & CR4_PKE)
			r.ecx |= 1u << 4;
	}

	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_insn(v, e);
}
