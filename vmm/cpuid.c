/*
 * CPUID as the guest sees it: the host's, with the hypervisor-present bit
 * (leaf 1 ECX[31]), a hypervisor leaf at 0x40000000 naming us, KVM's
 * featureless leaves at 0x40000100, the virtualization extensions hidden
 * (leaf 1 ECX[5] VMX, 0x80000001 ECX[2] SVM, leaf 0x8000000a SVM
 * features: a domain cannot nest) and hardware it is not given hidden
 * (machine check, performance counters, thermal and power control).
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "kernel/string.h"
#include "vmm/exits.h"
#include "vmm/dev/kvmclock.h"
#include "vmm/vcpu.h"

/* KVM's paravirtual interface, as a second hypervisor range (Linux looks
 * for "KVMKVMKVM" every 0x100 leaves from 0x40000000, as KVM itself
 * places it behind Hyper-V's): it offers kvmclock (vmm/dev/kvmclock.h) and
 * NOP_IO_DELAY (port 0x80 delays are not needed), nothing else. And: a Linux
 * guest that sees it keeps the x2APIC mode the domain starts in
 * (x2apic_available) without interrupt remapping, and the LAPIC stays
 * passed through. DESIGN.md, "x2APIC in a Linux guest". */
#define KVM_CPUID_BASE      0x40000100u
#define KVM_CPUID_FEATURES  0x40000101u
#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)

/* Leaf 1 bits hidden from a domain: ECX MONITOR(3) VMX(5) SMX(6) EST(7)
 * TM2(8) PDCM(15); EDX MCE(7) MCA(14) DS(21) ACPI(22) TM(29) PBE(31):
 * hardware the hypervisor does not give a domain (its MSRs #GP). */
#define LEAF1_ECX_HIDE ((1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 15))
#define LEAF1_EDX_HIDE ((1u << 7) | (1u << 14) | (1u << 21) | (1u << 22) | (1u << 29) | (1u << 31))
#define LEAF1_ECX_X2APIC (1u << 21)

/* XCR0: the guest's (it is not switched: XSETBV sets the real one).
 * @pre CR4.OSXSAVE (vmm_cpu_enable sets it where XSAVE exists). */
static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	if (!(read_cr4() & CR4_OSXSAVE))
		return 3;	/* no XSAVE: x87 and SSE */

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* The size of an XSAVEC area for `features`: the legacy area and the
 * header (576 bytes), then each component in order, 64-byte aligned
 * where its leaf 0xd sub-leaf says so (ECX bit 1). */
__attribute__((noinline, cold)) static uint32_t xsave_compacted_size(uint64_t features)
{
	uint32_t size = 576;

	for (uint32_t i = 2; i < 63; i++) {
		if (!(features & (1ull << i)))
			continue;
		struct cpuid_regs c = cpuid_count(0xd, i);
		if (c.ecx & 2)
			size = (size + 63) & ~63u;
		size += c.eax;
	}
	return size;
}

/* Our own leaves: the hypervisor's and the KVM-compatible ones. */
__attribute__((noinline)) static struct cpuid_regs hv_cpuid(uint32_t leaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };
	static const char kvm_sig[12] = "KVMKVMKVM\0\0";

	if (leaf == HV_CPUID_BASE || leaf == KVM_CPUID_BASE) {
		static const char sig[12] = HV_CPUID_SIGNATURE;
		const char *s = leaf == HV_CPUID_BASE ? sig : kvm_sig;
		r.eax = leaf == HV_CPUID_BASE ? HV_CPUID_MAX : KVM_CPUID_FEATURES;
		memcpy(&r.ebx, &s[0], 4);
		memcpy(&r.ecx, &s[4], 4);
		memcpy(&r.edx, &s[8], 4);
		return r;
	}
	if (leaf == KVM_CPUID_FEATURES)
		r.eax = KVM_FEATURE_NOP_IO_DELAY | KVMCLOCK_FEATURES;
	return r;	/* the rest of our range: reserved, zero */
}

/* The leaves the guest does not get as the CPU answers them: ours, the
 * hidden ones, and those filtered below. Bit n: basic leaf n. */
#define FILTERED_BASIC ((1u << 1) | (1u << 6) | (1u << 7) | (1u << 0xa) | (1u << 0xb) | (1u << 0xd) | \
			(1u << 0x1f))

static bool cpuid_filtered(uint32_t leaf)
{
	if (leaf < 32)
		return (FILTERED_BASIC >> leaf) & 1;
	return (leaf & 0xffff0000u) == HV_CPUID_BASE || leaf == 0x80000001u ||
	       leaf == 0x8000000au || leaf == 0x8000001eu;
}

/* The CPU's answer with what the domain is not given filtered out. */
static struct cpuid_regs guest_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if ((leaf & 0xffff0000u) == HV_CPUID_BASE)
		return hv_cpuid(leaf);
	if (leaf == 0x8000000au || leaf == 0xa)
		return r;	/* SVM features (hidden with SVM); the PMU (not given) */

	r = cpuid_count(leaf, subleaf);
	switch (leaf) {
	case 1:
		r.ecx |= 1u << 31;
		r.ecx &= ~LEAF1_ECX_HIDE;
		r.edx &= ~LEAF1_EDX_HIDE;
		if (!lapic_x2apic())
			r.ecx &= ~LEAF1_ECX_X2APIC;	/* the LAPIC is in xAPIC mode */
		break;
	case 6:
		r = (struct cpuid_regs){ .eax = r.eax & (1u << 2) };	/* ARAT only */
		break;
	case 0xd:
		if (subleaf != 1)
			break;
		/* XSAVES and its supervisor states (IA32_XSS) are not given;
		 * EBX, the compacted size of what XCR0 enables, is computed
		 * from the per-component leaves (SDM Vol. 1 13.4.3), as some
		 * CPUs (Bochs's models) report it inconsistently. */
		r.eax &= ~(1u << 3);
		r.ebx = xsave_compacted_size(xgetbv0());
		r.ecx = 0;
		r.edx = 0;
		break;
	case 0x80000001u:
		/* SVM(2) IBS(10) SKINIT(12) WDT(13) PERFCTR_CORE(23) PERFCTR_NB(24) */
		r.ecx &= ~((1u << 2) | (1u << 10) | (1u << 12) | (1u << 13) | (1u << 23) | (1u << 24));
		break;
	}
	return r;
}

#define CR4_PKE     (1ull << 22)

static void cpuid_answer(struct vcpu *v, const struct vm_exit *e, struct cpuid_regs r)
{
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
	vcpu_skip_insn(v, e);
}

__attribute__((noinline)) static void cpuid_exit_filtered(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.rax;
	struct cpuid_regs r = guest_cpuid(leaf, (uint32_t)v->regs.rcx);

	/* OSXSAVE and OSPKE mirror the guest's own CR4, not the host's; the
	 * APIC IDs are the domain's (vmm/dev/vlapic.h): the initial APIC ID
	 * (leaf 1 EBX[31:24]), the x2APIC ID of the topology leaves (0xb,
	 * 0x1f EDX) and AMD's extended APIC ID (0x8000001e EAX). */
	if (leaf == 1) {
		r.ecx &= ~(1u << 27);
		if (vcpu_ops->get_cr(v, 4) & CR4_OSXSAVE)
			r.ecx |= 1u << 27;
		r.ebx = (r.ebx & 0x00ffffffu) | (v->vapic_id << 24);
	} else if ((leaf == 0xb || leaf == 0x1f || leaf == 0x8000001eu) &&
		   leaf <= cpuid(leaf & 0x80000000u).eax) {
		/* (past the highest leaf a CPU repeats another's answer) */
		if (leaf == 0x8000001eu)
			r.eax = v->vapic_id;
		else
			r.edx = v->vapic_id;
	} else if (leaf == 7 && (uint32_t)v->regs.rcx == 0) {
		r.ecx &= ~(1u << 4);
		if (vcpu_ops->get_cr(v, 4) & CR4_PKE)
			r.ecx |= 1u << 4;
	}
	cpuid_answer(v, e, r);
}

/* The exit path: a leaf the domain sees as the CPU answers it costs one
 * CPUID and the stores, without a frame (the rare leaves' calls are out
 * of line, and RBX, callee-saved, is kept aside in RSI around the CPUID
 * rather than pushed). In 64-bit mode CPUID zero-extends its results into
 * RAX/RBX/RCX/RDX, so they are stored as the CPU left them. */
void cpuid_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.rax;
	uint64_t a, b, c, d;

	if (cpuid_filtered(leaf)) {
		cpuid_exit_filtered(v, e);
		return;
	}
	__asm__ volatile("movq %%rbx, %1\n\tcpuid\n\txchgq %%rbx, %1"
			 : "=a"(a), "=&S"(b), "=c"(c), "=d"(d)
			 : "a"(leaf), "c"((uint32_t)v->regs.rcx));
	v->regs.rax = a;
	v->regs.rbx = b;
	v->regs.rcx = c;
	v->regs.rdx = d;
	vcpu_skip_insn(v, e);
}
