/* Guest MSR policy; see msr.h. MSR numbers: SDM Vol. 4 / APM Vol. 2 App. A. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "kernel/printk.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/dev/kvmclock.h"
#include "vmm/dev/vlapic.h"
#include "vmm/msr.h"

#define MSR_TSC             0x10u
#define MSR_TSC_ADJUST      0x3bu
#define MSR_APIC_BASE       0x1bu
#define MSR_UCODE_REV       0x8bu	/* AMD: PATCH_LEVEL */
#define MSR_MTRRCAP         0xfeu
#define MSR_MISC_ENABLE     0x1a0u
#define MSR_MTRR_DEF_TYPE   0x2ffu
#define MSR_SPEC_CTRL       0x48u
#define MSR_PRED_CMD        0x49u
#define MSR_ARCH_CAPABILITIES 0x10au
#define MSR_FLUSH_CMD       0x10bu
#define MSR_FEATURE_CONTROL 0x3au
#define MSR_X2APIC_FIRST    0x800u
#define MSR_X2APIC_ID       0x802u
#define MSR_X2APIC_LDR      0x80du
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

/* IA32_MISC_ENABLE (SDM Vol. 4 2.1, Table 2-2). Kept as written, and
 * harmless, for they change nothing the hypervisor gives: fast strings
 * (0), automatic thermal control (3), Enhanced SpeedStep (16), MONITOR
 * FSM (18; CPUID hides MONITOR anyway), xTPR messages disabled (23). Read
 * only: BTS (11) and PEBS (12) unavailable, set. Limit-CPUID-maxval (22)
 * and XD-disable (34) would change CPUID's answers: they read 0 and a
 * write of 1 is dropped (Linux clears both at boot). The rest (#GP). */
#define MISC_ENABLE_KEPT    ((1ull << 0) | (1ull << 3) | (1ull << 16) | (1ull << 18) | (1ull << 23))
#define MISC_ENABLE_FIXED   ((1ull << 11) | (1ull << 12))
#define MISC_ENABLE_DROPPED ((1ull << 7) | (1ull << 22) | (1ull << 34))

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
	/* The domain's cores' LAPICs are its own (x2APIC mode, DESIGN.md):
	 * every register but the ICR, which vmm/dev/vlapic.c filters, and
	 * the ID and LDR, which are the domain's (its APIC IDs 0..n-1); and
	 * the TSC-deadline timer. In xAPIC mode the guest could still reach
	 * the passed-through ones through RDMSR/WRMSR, where a CPU raises
	 * #GP (docs/guest-cpu.md): its own LAPIC, nothing more. */
	{ MSR_X2APIC_FIRST, true, true, MSR_X2APIC_ID - MSR_X2APIC_FIRST },
	{ MSR_X2APIC_ID + 1, true, true, MSR_X2APIC_LDR - MSR_X2APIC_ID - 1 },
	{ MSR_X2APIC_LDR + 1, true, true, MSR_X2APIC_ICR - MSR_X2APIC_LDR - 1 },
	{ MSR_X2APIC_ICR, true, false, 1 },
	{ MSR_X2APIC_ICR + 1, true, true, MSR_X2APIC_END - MSR_X2APIC_ICR - 1 },
	/* In host TSC time: passed through while the vCPU's TSC is not
	 * offset; translated below once it is (the vendor's second map). */
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

void msr_vcpu_reset(struct vcpu *v)
{
	v->tsc_offset = 0;
	v->tsc_adjust = 0;
	v->misc_enable = 1ull << 0;	/* fast strings, as firmware leaves it */
	v->kvmclock_msr = 0;
}

static bool have_tsc_adjust(void)
{
	return cpuid_count(7, 0).ebx & (1u << 1);
}

/* The guest's TSC moves by `delta`: IA32_TSC_ADJUST with it (SDM Vol. 3B
 * 18.17.3), kvmclock's reference point with it (its time does not jump). */
static void tsc_shift(struct vcpu *v, uint64_t delta)
{
	v->tsc_offset += delta;
	v->tsc_adjust += delta;
	vcpu_ops->set_tsc_offset(v);
	kvmclock_tsc_moved(v);
}

/* IA32_TSC_DEADLINE of an offset TSC: the LAPIC compares host TSC. 0
 * disarms; a deadline already passed (which may be before host TSC 0,
 * and would wrap) is due at once, as 1. */
static void tsc_deadline_write(const struct vcpu *v, uint64_t val)
{
	uint64_t host = val - v->tsc_offset;

	if (val && (int64_t)(host - rdtsc()) <= 0)
		host = 1;
	wrmsr(MSR_TSC_DEADLINE, host);
}

static uint64_t tsc_deadline_read(const struct vcpu *v)
{
	uint64_t host = rdmsr(MSR_TSC_DEADLINE);

	return host ? host + v->tsc_offset : 0;
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

static void msr_answer(struct vcpu *v, const struct vm_exit *e, uint64_t val)
{
	v->regs.rax = (uint32_t)val;
	v->regs.rdx = val >> 32;
	vcpu_skip_insn(v, e);
}

/* Every intercepted read but IA32_APIC_BASE's (msr_read_exit). */
__attribute__((noinline)) static void msr_read_other(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val;

	switch (e->msr.index) {
	case MSR_EFER:
		val = vcpu_ops->get_efer(v);
		break;
	case MSR_PAT:
		val = vcpu_ops->get_pat(v);
		break;
	case MSR_X2APIC_ID:
	case MSR_X2APIC_LDR:
		if (v->apic_mode != VLAPIC_X2APIC)
			goto refuse;
		val = e->msr.index == MSR_X2APIC_ID ? v->vapic_id : vlapic_x2apic_ldr(v->vapic_id);
		break;
	case MSR_MTRRCAP:
		val = 0;	/* no variable or fixed ranges, no WC */
		break;
	case MSR_MTRR_DEF_TYPE:
		val = v->dom->mtrr_def_type;
		break;
	case MSR_MISC_ENABLE:
		val = v->misc_enable | MISC_ENABLE_FIXED;
		break;
	case MSR_TSC:
		/* RDTSC is not intercepted; RDMSR of the TSC, which guests
		 * seldom use, is (QEMU's SVM reads it as 0 in a guest). */
		val = rdtsc() + v->tsc_offset;
		break;
	case MSR_TSC_ADJUST:
		if (!have_tsc_adjust())
			goto refuse;
		val = v->tsc_adjust;
		break;
	case MSR_TSC_DEADLINE:
		val = tsc_deadline_read(v);
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
		if (!zero_msr(e->msr.index))
			goto refuse;
		val = 0;
		break;
	}
	msr_answer(v, e, val);
	return;
refuse:
	msr_refuse(v, e, false);
}

/* The exit path: IA32_APIC_BASE, the MSR guests read most among those
 * intercepted, without a frame; the rest out of line. */
void msr_read_exit(struct vcpu *v, const struct vm_exit *e)
{
	if (e->msr.index == MSR_APIC_BASE)
		msr_answer(v, e, vlapic_apic_base(v));
	else
		msr_read_other(v, e);
}

/* Every intercepted write but an IPI's (msr_write_exit). */
__attribute__((noinline)) static void msr_write_other(struct vcpu *v, const struct vm_exit *e,
						      uint64_t val)
{

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
		goto refuse;	/* outside x2APIC mode (msr_write_exit) */
	case MSR_APIC_BASE:
		if (!vlapic_apic_base_write(v, val))
			goto refuse;
		break;
	case MSR_MTRR_DEF_TYPE:
		/* Its RAM is write-back in NPT/EPT whatever the guest's MTRRs
		 * say; keep what it writes (type and E/FE bits) for it to read. */
		if (val & ~0xcffull)
			goto refuse;
		v->dom->mtrr_def_type = val;
		break;
	case MSR_TSC:
		tsc_shift(v, val - (rdtsc() + v->tsc_offset));
		break;
	case MSR_TSC_ADJUST:
		if (!have_tsc_adjust())
			goto refuse;
		tsc_shift(v, val - v->tsc_adjust);
		break;
	case MSR_TSC_DEADLINE:
		tsc_deadline_write(v, val);
		break;
	case MSR_MISC_ENABLE:
		if (val & ~(MISC_ENABLE_KEPT | MISC_ENABLE_FIXED | MISC_ENABLE_DROPPED))
			goto refuse;
		v->misc_enable = val & MISC_ENABLE_KEPT;
		break;
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

/* The exit path: an IPI, the one write a guest makes often (its exit is
 * the IPI's cost), and IA32_APIC_BASE rewritten unchanged, without a
 * frame; the rest out of line. */
void msr_write_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;

	if (e->msr.index == MSR_X2APIC_ICR && v->apic_mode == VLAPIC_X2APIC) {
		vcpu_skip_insn(v, e);
		vlapic_icr_write(v, val);	/* a tail call */
	} else if (e->msr.index == MSR_APIC_BASE && val == vlapic_apic_base(v)) {
		vcpu_skip_insn(v, e);	/* written back as read: nothing changes */
	} else {
		msr_write_other(v, e, val);
	}
}
