/* Guest MSR policy; see msr.h. MSR numbers: SDM Vol. 4 / APM Vol. 2 App. A. */
#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/msr.h"

#define MSR_TSC             0x10u
#define MSR_APIC_BASE       0x1bu
#define MSR_SYSENTER_CS     0x174u
#define MSR_SYSENTER_ESP    0x175u
#define MSR_SYSENTER_EIP    0x176u
#define MSR_PAT             0x277u
#define MSR_STAR            0xc0000081u
#define MSR_LSTAR           0xc0000082u
#define MSR_CSTAR           0xc0000083u
#define MSR_SFMASK          0xc0000084u
#define MSR_KERNEL_GS_BASE  0xc0000102u
#define MSR_TSC_AUX         0xc0000103u

/* Guest-writable EFER bits: SCE, LME, LMA (read-only in effect), NXE. */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | (1ull << 10) | EFER_NXE)

/*
 * Switched by the hardware on every entry and exit (SVM: VMCB save area
 * with VMLOAD/VMSAVE; VMX: guest-state area), or only ever used by the
 * guest (the hypervisor makes no system calls and uses no TSC_AUX).
 */
const struct msr_passthrough msr_passthrough_list[] = {
	{ MSR_FS_BASE, true, true },
	{ MSR_GS_BASE, true, true },
	{ MSR_KERNEL_GS_BASE, true, true },
	{ MSR_STAR, true, true },
	{ MSR_LSTAR, true, true },
	{ MSR_CSTAR, true, true },
	{ MSR_SFMASK, true, true },
	{ MSR_SYSENTER_CS, true, true },
	{ MSR_SYSENTER_ESP, true, true },
	{ MSR_SYSENTER_EIP, true, true },
	{ MSR_TSC_AUX, true, true },
	{ MSR_TSC, true, false },	/* guest TSC = host TSC; no writes */
};
const unsigned msr_passthrough_count = sizeof(msr_passthrough_list) / sizeof(msr_passthrough_list[0]);

static bool pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));
		if (t == 2 || t == 3 || t > 7)	/* reserved memory types */
			return false;
	}
	return true;
}

static void msr_refuse(struct vcpu *v, const struct vm_exit *e, bool write)
{
	struct domain *d = v->dom;

	if (d->msr_refused++ < 8)
		pr_debug("domain %s: %s of MSR 0x%x refused (#GP)\n", d->name,
			write ? "write" : "read", e->msr.index);
	vcpu_ops->inject_exception(v, X86_EXC_GP, true, 0);
}

void msr_read_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val;

	switch (e->msr.index) {
	case MSR_EFER:
		val = vcpu_ops->get_efer(v);
		break;
	case MSR_PAT:
		val = vcpu_ops->get_pat(v);
		break;
	case MSR_APIC_BASE:
		val = rdmsr(MSR_APIC_BASE);	/* its core's real LAPIC */
		break;
	default:
		msr_refuse(v, e, false);
		return;
	}
	v->regs.rax = (uint32_t)val;
	v->regs.rdx = val >> 32;
	vcpu_skip_insn(v, e);
}

void msr_write_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;

	switch (e->msr.index) {
	case MSR_EFER:
		/* LME may not change while paging is on (SDM Vol. 3A 10.8.5). */
		if ((val & ~EFER_GUEST_BITS) ||
		    ((vcpu_ops->get_cr(v, 0) & (1ull << 31)) &&
		     ((val ^ vcpu_ops->get_efer(v)) & EFER_LME)))
			goto refuse;
		vcpu_ops->set_efer(v, val);
		break;
	case MSR_PAT:
		if (!pat_valid(val))
			goto refuse;
		vcpu_ops->set_pat(v, val);
		break;
	default:
		goto refuse;
	}
	vcpu_skip_insn(v, e);
	return;
refuse:
	msr_refuse(v, e, true);
}
