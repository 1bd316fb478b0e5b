/* Guest MSR policy; see msr.h. MSR numbers: SDM Vol. 4 / APM Vol. 2 App. A. */
#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/dev/kvmclock.h"
#include "vmm/dev/vlapic.h"
#include "vmm/msr.h"

#define MSR_TSC             0x10u
#define MSR_APIC_BASE       0x1bu
#define MSR_UCODE_REV       0x8bu	/* AMD: PATCH_LEVEL */
#define MSR_MTRRCAP         0xfeu
#define MSR_MISC_ENABLE     0x1a0u
#define MSR_MTRR_DEF_TYPE   0x2ffu
#define MSR_TSC_DEADLINE    0x6e0u
#define MSR_SPEC_CTRL       0x48u
#define MSR_PRED_CMD        0x49u
#define MSR_ARCH_CAPABILITIES 0x10au
#define MSR_FLUSH_CMD       0x10bu
#define MSR_FEATURE_CONTROL 0x3au
#define MSR_X2APIC_FIRST    0x800u
#define MSR_X2APIC_ICR      0x830u
#define MSR_X2APIC_END      0x900u
#define MSR_SYSENTER_CS     0x174u
#define MSR_SYSENTER_ESP    0x175u
#define MSR_SYSENTER_EIP    0x176u
#define MSR_PAT             0x277u
#define MSR_STAR            0xc0000081u
#define MSR_LSTAR           0xc0000082u
#define MSR_CSTAR           0xc0000083u
#define MSR_SFMASK          0xc0000084u
#define MSR_KERNEL_GS_BASE  0xc0000102u
#define MSR_AMD_DE_CFG      0xc0011029u
#define MSR_TSC_AUX         0xc0000103u

/* Guest-writable EFER bits: SCE, LME, LMA (read-only in effect), NXE. */
#define EFER_GUEST_BITS (EFER_SCE | EFER_LME | (1ull << 10) | EFER_NXE)

/*
 * Switched by the hardware on every entry and exit (SVM: VMCB save area
 * with VMLOAD/VMSAVE; VMX: guest-state area), or only ever used by the
 * guest (the hypervisor makes no system calls and uses no TSC_AUX).
 */
const struct msr_passthrough msr_passthrough_list[] = {
	{ MSR_FS_BASE, true, true, 1 },
	{ MSR_GS_BASE, true, true, 1 },
	{ MSR_KERNEL_GS_BASE, true, true, 1 },
	{ MSR_STAR, true, true, 1 },
	{ MSR_LSTAR, true, true, 1 },
	{ MSR_CSTAR, true, true, 1 },
	{ MSR_SFMASK, true, true, 1 },
	{ MSR_SYSENTER_CS, true, true, 1 },
	{ MSR_SYSENTER_ESP, true, true, 1 },
	{ MSR_SYSENTER_EIP, true, true, 1 },
	{ MSR_TSC_AUX, true, true, 1 },
	{ MSR_TSC, true, false, 1 },	/* guest TSC = host TSC; no writes */
	/* The domain's cores' LAPICs are its own (x2APIC mode, DESIGN.md):
	 * every register but the ICR, which vmm/lapic.c filters, and the
	 * TSC-deadline timer. */
	{ MSR_X2APIC_FIRST, true, true, MSR_X2APIC_ICR - MSR_X2APIC_FIRST },
	{ MSR_X2APIC_ICR, true, false, 1 },
	{ MSR_X2APIC_ICR + 1, true, true, MSR_X2APIC_END - MSR_X2APIC_ICR - 1 },
	{ MSR_TSC_DEADLINE, true, true, 1 },
	/* Speculation controls: the guest protects itself (IBRS, STIBP, SSBD,
	 * IBPB, L1D flush) on its own cores, as often as it likes, with no
	 * exit; the hypervisor does not depend on their values. */
	{ MSR_SPEC_CTRL, true, true, 1 },
	{ MSR_PRED_CMD, false, true, 1 },
	{ MSR_ARCH_CAPABILITIES, true, false, 1 },
	{ MSR_FLUSH_CMD, false, true, 1 },
};
const unsigned msr_passthrough_count = sizeof(msr_passthrough_list) / sizeof(msr_passthrough_list[0]);

/* The vendor's counters with no virtual PMU behind them (vcpu_ops):
 * reads return 0 and writes are dropped, as KVM does without a PMU. */
static bool zero_msr(uint32_t msr)
{
	return msr - vcpu_ops->zero_msr_first < vcpu_ops->zero_msr_count;
}

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
		val = vlapic_apic_base(v);
		break;
	case MSR_MTRRCAP:
		val = 0;	/* no variable or fixed ranges, no WC */
		break;
	case MSR_MTRR_DEF_TYPE:
		val = v->dom->mtrr_def_type;
		break;
	case MSR_MISC_ENABLE:
		/* Fast strings; BTS and PEBS unavailable; XD not disabled. */
		val = (1ull << 0) | (1ull << 11) | (1ull << 12);
		break;
	case MSR_UCODE_REV:
		val = 0;	/* no microcode revision to report */
		break;
	case MSR_FEATURE_CONTROL:
		val = 1;	/* locked, VMX and SGX off: not the domain's */
		break;
	case MSR_AMD_DE_CFG:
		val = 1u << 1;	/* LFENCE is dispatch-serializing (the OS would set it) */
		break;
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		val = kvmclock_rdmsr(v, e->msr.index);
		break;
	default:
		if (!zero_msr(e->msr.index)) {
			msr_refuse(v, e, false);
			return;
		}
		val = 0;
		break;
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
	case MSR_X2APIC_ICR:
		vlapic_icr_write(v, val);
		break;
	case MSR_APIC_BASE:
		/* The LAPIC stays in x2APIC mode at 0xfee00000: the hypervisor
		 * sends its own IPIs through it. Rewriting the same value is
		 * fine; a change is dropped and counted. */
		if ((val ^ vlapic_apic_base(v)) & ~0xfffull)
			goto refuse;
		if ((val ^ vlapic_apic_base(v)) & ~(1ull << 8))
			v->dom->msr_refused++;
		break;
	case MSR_MTRR_DEF_TYPE:
		/* Its RAM is write-back in NPT/EPT whatever the guest's MTRRs
		 * say; keep what it writes (type and E/FE bits) for it to read. */
		if (val & ~0xcffull)
			goto refuse;
		v->dom->mtrr_def_type = val;
		break;
	case MSR_MISC_ENABLE:
	case MSR_UCODE_REV:
	case MSR_AMD_DE_CFG:
		break;	/* nothing the guest may change */
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!kvmclock_wrmsr(v, e->msr.index, val))
			goto refuse;
		break;
	default:
		if (!zero_msr(e->msr.index))
			goto refuse;
		break;	/* dropped: no virtual PMU */
	}
	vcpu_skip_insn(v, e);
	return;
refuse:
	msr_refuse(v, e, true);
}
