/*
 * Intel VT-x (SDM Vol. 3C chapters 24-29): per-CPU VMXON, a VMCS per vCPU
 * computed from the capability MSRs, the run loop and exit decoding into
 * the vendor-neutral struct vm_exit.
 *
 * The guest runs unrestricted (real and protected mode without paging
 * need no emulation) behind EPT, tagged with a VPID. Intercepted: CPUID
 * and the other always-exiting instructions, all port I/O (bitmaps all
 * ones), MSRs outside vmm/msr.c's allow-list, and NMIs. Not intercepted:
 * external interrupts and HLT (the guest owns its core; HLT exits only on
 * the vCPU that serves its domain's PIT interrupt, vmm/dev/pit_irq.c). CR0/CR4 bits that VMX operation fixes are owned by the host and
 * shadowed, so the guest sees the values it wrote.
 */
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/desc.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/vmx/vmcs.h"
#include "arch/x86_64/vmx/vmx.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/exits.h"
#include "vmm/msr.h"
#include "vmm/vcpu.h"

#define FC_LOCK       (1ull << 0)
#define FC_VMXON      (1ull << 2)
#define DEFAULT_PAT   0x0007040600070406ull
#define CR0_PE        (1ull << 0)
#define CR0_NE        (1ull << 5)
#define CR0_PG        (1ull << 31)
#define EPTP_WB       6ull
#define EPTP_WALK4    (3ull << 3)
#define EFER_LMA      (1ull << 10)

_Static_assert(offsetof(struct guest_regs, rax) == 0, "vmx_run.S");
_Static_assert(offsetof(struct guest_regs, rbx) == 8, "vmx_run.S");
_Static_assert(offsetof(struct guest_regs, rbp) == 48, "vmx_run.S");
_Static_assert(offsetof(struct guest_regs, r15) == 112, "vmx_run.S");

extern char vmx_exit_point[];

struct vmx_vcpu {
	uint64_t vmcs_pa;
	bool launched;
	uint64_t cr0_fixed_mask, cr4_fixed_mask;	/* host-owned bits */
	uint64_t pending_event;	/* entry interruption info, 0 = none */
	uint32_t pending_error;
};

static struct vmx_vcpu vmx_vcpus[MAX_CPUS];
static uint64_t vmxon_pa[MAX_CPUS];
static uint64_t io_bitmap_pa, msr_bitmap_pa, msr_bitmap_offset_pa;

/* ---- VMCS access ---- */

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v;
	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
	return v;
}

static inline void vmwrite(uint64_t field, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"(field), "r"(v) : "cc", "memory");
}

/* VMX instructions report failure in CF (VMfailInvalid) or ZF
 * (VMfailValid) (SDM Vol. 3C 31.2): true means success. */
#define VMX_PA_INSN(name)                                                          \
	static inline bool name(uint64_t pa)                                       \
	{                                                                          \
		bool bad;                                                          \
		__asm__ volatile(#name " %1; setbe %0" : "=q"(bad) : "m"(pa) : "cc", "memory"); \
		return !bad;                                                       \
	}
VMX_PA_INSN(vmxon)
VMX_PA_INSN(vmclear)
VMX_PA_INSN(vmptrld)

/* ---- controls from the capability MSRs (SDM Vol. 3C A.3-A.5) ---- */

static uint32_t ctl_msr(uint32_t plain, uint32_t true_msr)
{
	return rdmsr(MSR_VMX_BASIC) & VMX_BASIC_TRUE_CTLS ? true_msr : plain;
}

/*
 * `want` must be allowed; `nice` is taken where the CPU allows it. Bits
 * the CPU requires (allowed-0 = 1) are set whether we like them or not.
 * Returns -ENOTSUP, naming the missing control, if `want` cannot be met.
 */
static int adjust_ctls(const char *what, uint32_t msr, uint32_t want, uint32_t nice, uint32_t *out)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);

	if (want & ~may) {
		pr_err("vmx: %s control bits 0x%x not supported by this CPU\n", what, want & ~may);
		return trace_error(-ENOTSUP);
	}
	*out = must | want | (nice & may);
	return 0;
}

/* ---- per CPU ---- */

/* Let an access to `msr` through (pass) or intercept it. Read-low 0,
 * read-high 1024, write-low 2048, write-high 3072 (SDM Vol. 3C 25.6.9);
 * a clear bit lets the access through. */
static void msr_bitmap_set(uint8_t *bm, uint32_t msr, bool read, bool write, bool pass)
{
	uint32_t base;

	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base = 1024;
	else
		return;	/* outside the bitmap: always intercepted */
	uint32_t bit = msr & 0x1fff;
	uint8_t mask = (uint8_t)(1u << (bit % 8));
	for (unsigned w = 0; w < 2; w++) {
		if (!(w ? write : read))
			continue;
		uint8_t *b = &bm[base + w * 2048 + bit / 8];
		*b = pass ? (uint8_t)(*b & ~mask) : (uint8_t)(*b | mask);
	}
}

/* Two MSR bitmaps: the policy's, and the same with IA32_TSC_DEADLINE
 * intercepted for vCPUs whose TSC is offset (set_tsc_offset). */
static int vmx_build_bitmaps(void)
{
	io_bitmap_pa = alloc_pages(2, PAGE_SIZE, 0);
	msr_bitmap_pa = alloc_page();
	msr_bitmap_offset_pa = alloc_page();
	if (!io_bitmap_pa || !msr_bitmap_pa || !msr_bitmap_offset_pa)
		return trace_error(-ENOMEM);
	memset((void *)(uintptr_t)io_bitmap_pa, 0xff, 2 * PAGE_SIZE);
	uint8_t *bm = (uint8_t *)(uintptr_t)msr_bitmap_pa;
	memset(bm, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < msr_passthrough_count; i++) {
		const struct msr_passthrough *p = &msr_passthrough_list[i];
		for (uint32_t k = 0; k < p->count; k++)
			msr_bitmap_set(bm, p->index + k, p->read, p->write, true);
	}
	uint8_t *obm = (uint8_t *)(uintptr_t)msr_bitmap_offset_pa;
	memcpy(obm, bm, PAGE_SIZE);
	msr_bitmap_set(obm, MSR_TSC_DEADLINE, true, true, false);
	return 0;
}

/* IA32_FEATURE_CONTROL: set and lock it where the firmware left it open
 * (SDM Vol. 3C 24.7); cpu_identify() already refused a locked-off one. */
static int vmx_feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FC_LOCK)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FC_LOCK | FC_VMXON);
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	}
	if (!(fc & FC_VMXON)) {
		pr_err("vmx: VMXON is disabled by IA32_FEATURE_CONTROL (0x%llx)\n",
		       (unsigned long long)fc);
		return trace_error(-ENOTSUP);
	}
	return 0;
}

static int vmx_cpu_enable(void)
{
	uint32_t cpu = this_cpu()->cpu_id;
	int err;

	if (cpu == 0 && !io_bitmap_pa && vmx_build_bitmaps()) {
		pr_err("vmx: out of memory for the I/O and MSR bitmaps\n");
		return -ENOMEM;
	}
	err = vmx_feature_control();
	if (err)
		return err;

	/* CR0/CR4 as VMX operation requires (SDM Vol. 3C 24.8, A.7, A.8). */
	uint64_t cr0 = (read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1);
	uint64_t cr4 = (read_cr4() | CR4_VMXE | rdmsr(MSR_VMX_CR4_FIXED0)) & rdmsr(MSR_VMX_CR4_FIXED1);
	write_cr0(cr0);
	write_cr4(cr4);

	vmxon_pa[cpu] = alloc_page();
	if (!vmxon_pa[cpu])
		return trace_error(-ENOMEM);
	*(uint32_t *)(uintptr_t)vmxon_pa[cpu] = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
	if (!vmxon(vmxon_pa[cpu])) {
		pr_err("vmx: CPU %u: VMXON failed\n", cpu);
		return trace_error(-EIO);
	}
	/* Nothing cached from before us may survive (SDM Vol. 3C 28.3.3.4):
	 * all-context INVEPT (cap bits 20, 26) and INVVPID (32, 42). */
	uint64_t cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
	struct { uint64_t a, b; } desc = { 0, 0 };
	if ((cap & (1ull << 20)) && (cap & (1ull << 26)))
		__asm__ volatile("invept %0, %1" ::"m"(desc), "r"(2ull) : "cc", "memory");
	if ((cap & (1ull << 32)) && (cap & (1ull << 42)))
		__asm__ volatile("invvpid %0, %1" ::"m"(desc), "r"(2ull) : "cc", "memory");
	return 0;
}

/* ---- vCPU set-up ---- */

static int vmx_setup_controls(struct vmx_vcpu *xv, uint64_t slat_root, uint32_t tag,
			      uint64_t io_bitmap)
{
	uint32_t pin, proc, proc2, exit, entry;
	int err;

	/* No external-interrupt exiting: the guest owns its core's interrupts
	 * (they go through its IDT as its IF allows); NMIs stay the host's. */
	err = adjust_ctls("pin-based", ctl_msr(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED),
			  PIN_NMI_EXITING, 0, &pin);
	if (!err)
		err = adjust_ctls("processor-based", ctl_msr(MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED),
				  PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY |
				  PROC_TSC_OFFSETTING,
				  0, &proc);
	/* RDTSCP, INVPCID and XSAVES would #UD in the guest unless enabled;
	 * CPUID reports them as the host has them. */
	if (!err)
		err = adjust_ctls("secondary", MSR_VMX_PROCBASED2,
				  PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED,
				  PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES, &proc2);
	if (!err)
		err = adjust_ctls("VM-exit", ctl_msr(MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT),
				  EXIT_HOST_64BIT | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT |
				  EXIT_LOAD_PAT | EXIT_SAVE_DEBUG, 0, &exit);
	if (!err)
		err = adjust_ctls("VM-entry", ctl_msr(MSR_VMX_ENTRY, MSR_VMX_TRUE_ENTRY),
				  ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG, 0, &entry);
	if (err)
		return err;
	entry &= ~ENTRY_IA32E_GUEST;	/* the guest starts in 32-bit mode */

	vmwrite(VMCS_PIN_CTLS, pin);
	vmwrite(VMCS_PROC_CTLS, proc);
	vmwrite(VMCS_PROC_CTLS2, proc2);
	vmwrite(VMCS_EXIT_CTLS, exit);
	vmwrite(VMCS_ENTRY_CTLS, entry);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	uint64_t io = io_bitmap ? io_bitmap : io_bitmap_pa;	/* A, then B */
	vmwrite(VMCS_IO_BITMAP_A, io);
	vmwrite(VMCS_IO_BITMAP_B, io + PAGE_SIZE);
	vmwrite(VMCS_EPT_POINTER, slat_root | EPTP_WALK4 | EPTP_WB);
	vmwrite(VMCS_VPID, tag);

	/* CR0/CR4 bits fixed by VMX are the host's; the guest reads its own
	 * values from the shadows. With unrestricted guest, PE and PG are
	 * the guest's to change (SDM Vol. 3C 26.3.1.1). */
	uint64_t cr0_fixed = rdmsr(MSR_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG);
	uint64_t cr4_fixed = rdmsr(MSR_VMX_CR4_FIXED0);
	xv->cr0_fixed_mask = cr0_fixed | ~rdmsr(MSR_VMX_CR0_FIXED1);
	xv->cr4_fixed_mask = cr4_fixed | ~rdmsr(MSR_VMX_CR4_FIXED1);
	vmwrite(VMCS_CR0_MASK, xv->cr0_fixed_mask);
	vmwrite(VMCS_CR4_MASK, xv->cr4_fixed_mask);
	return 0;
}

static void vmx_setup_host(void)
{
	struct percpu *c = this_cpu();
	struct desc_ptr gdtr, idtr;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_ES_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_CS_SEL, SEL_CODE64);
	vmwrite(VMCS_HOST_SS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_DS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_FS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_GS_SEL, SEL_DATA);
	vmwrite(VMCS_HOST_TR_SEL, SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, (uintptr_t)c);
	vmwrite(VMCS_HOST_TR_BASE, (uintptr_t)&c->tss);
	vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_PAT, rdmsr(0x277));
	vmwrite(VMCS_HOST_RIP, (uintptr_t)vmx_exit_point);
}

/* Multiboot's entry state (spec 3.3): 32-bit protected mode, paging off,
 * flat 4 GiB segments; access rights per SDM Vol. 3C 24.4.1. */
static void vmx_setup_guest(struct vmx_vcpu *xv, const struct vcpu *v)
{
	const struct guest_regs *r = &v->regs;
	bool real = v->real_mode_start;

	/* Real mode after INIT-SIPI (SDM Vol. 3A table 9-1): CS = vector << 8,
	 * 64 KiB segments; unrestricted guest runs it as it is. */
	for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
		bool code = s == SEG_CS;
		uint16_t sel = real ? (code ? (uint16_t)(v->sipi_vector << 8) : 0) : code ? 0x08 : 0x10;
		vmwrite(VMCS_GUEST_ES_SEL + 2 * s, sel);
		vmwrite(VMCS_GUEST_ES_LIMIT + 2 * s, real ? 0xffff : 0xffffffff);
		vmwrite(VMCS_GUEST_ES_AR + 2 * s, (code ? 0x9b : 0x93) | (real ? 0 : 0xc000));
		vmwrite(VMCS_GUEST_ES_BASE + 2 * s, real ? (uint64_t)sel << 4 : 0);
	}
	vmwrite(VMCS_GUEST_ES_SEL + 2 * SEG_LDTR, 0);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * SEG_LDTR, 0);
	vmwrite(VMCS_GUEST_ES_AR + 2 * SEG_LDTR, 0x10000);	/* unusable */
	vmwrite(VMCS_GUEST_ES_BASE + 2 * SEG_LDTR, 0);
	vmwrite(VMCS_GUEST_ES_SEL + 2 * SEG_TR, 0);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * SEG_TR, 0xffff);
	vmwrite(VMCS_GUEST_ES_AR + 2 * SEG_TR, 0x8b);		/* busy 32-bit TSS */
	vmwrite(VMCS_GUEST_ES_BASE + 2 * SEG_TR, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);

	/* NE is VMX-fixed; showing it set means a guest that keeps it (all
	 * do: Linux sets it with PG in one write) never exits on CR0. */
	uint64_t cr0 = (real ? 0 : CR0_PE) | CR0_NE | (1ull << 4) /* ET */;
	vmwrite(VMCS_CR0_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, cr0 | (xv->cr0_fixed_mask & rdmsr(MSR_VMX_CR0_FIXED0)));
	vmwrite(VMCS_CR4_SHADOW, 0);
	vmwrite(VMCS_GUEST_CR4, xv->cr4_fixed_mask & rdmsr(MSR_VMX_CR4_FIXED0));
	vmwrite(VMCS_GUEST_CR3, 0);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_RSP, r->rsp);
	vmwrite(VMCS_GUEST_RIP, r->rip);
	vmwrite(VMCS_GUEST_RFLAGS, r->rflags);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_PAT, DEFAULT_PAT);
	vmwrite(VMCS_GUEST_EFER, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
}

static void vmx_flush_guest_tlb(struct vmx_vcpu *xv);

/* The guest's TSC offset and the MSR bitmap that goes with it (the
 * deadline intercepted while it is not 0). @pre v's VMCS is current. */
static void vmx_set_tsc_offset(struct vcpu *v)
{
	vmwrite(VMCS_TSC_OFFSET, v->tsc_offset);
	vmwrite(VMCS_MSR_BITMAP, v->tsc_offset ? msr_bitmap_offset_pa : msr_bitmap_pa);
}

static int vmx_vcpu_init(struct vcpu *v, uint64_t slat_root, uint32_t tag)
{
	struct vmx_vcpu *xv = &vmx_vcpus[v->cpu];
	int err;

	if (tag == 0 || tag > 0xffff) {
		pr_err("vmx: no VPID for domain tag %u\n", tag);
		return trace_error(-ENOSPC);
	}
	if (!xv->vmcs_pa)
		xv->vmcs_pa = alloc_page();
	if (!xv->vmcs_pa)
		return trace_error(-ENOMEM);
	*(uint32_t *)(uintptr_t)xv->vmcs_pa = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
	if (!vmclear(xv->vmcs_pa) || !vmptrld(xv->vmcs_pa)) {
		pr_err("vmx: VMCLEAR/VMPTRLD of the VMCS failed\n");
		return trace_error(-EIO);
	}
	v->arch = xv;
	xv->launched = false;
	err = vmx_setup_controls(xv, slat_root, tag, v->io_bitmap);
	if (err)
		return err;
	vmx_set_tsc_offset(v);
	vmx_setup_host();
	vmx_setup_guest(xv, v);
	xv->pending_event = 0;
	vmx_flush_guest_tlb(xv);	/* a restarted domain: nothing of its past */
	return 0;
}

/* ---- running ---- */

static void vmx_queue_exception(struct vmx_vcpu *xv, uint8_t vector, bool has_error, uint32_t error)
{
	/* Entry interruption info: vector, type 3 (hardware exception),
	 * deliver-error-code bit 11, valid bit 31 (SDM Vol. 3C 25.8.3). */
	/* No error code in real mode: VM entry checks it (SDM Vol. 3C 27.2.1.3). */
	if (!(vmread(VMCS_GUEST_CR0) & CR0_PE))
		has_error = false;
	xv->pending_event = vector | (3u << 8) | (has_error ? 1u << 11 : 0) | (1u << 31);
	xv->pending_error = error;
}

/* Drop the guest's cached translations of its VPID (paging mode changes
 * outside the CPU's view, SDM Vol. 3C 29.4.3.3): single-context INVVPID
 * where the CPU has it, else all contexts. */
static void vmx_flush_guest_tlb(struct vmx_vcpu *xv)
{
	uint64_t cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
	struct { uint64_t vpid, addr; } desc = { vmread(VMCS_VPID), 0 };
	uint64_t type = cap & (1ull << 41) ? 1 : 2;

	(void)xv;
	if (cap & (1ull << 32))
		__asm__ volatile("invvpid %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

/*
 * XSETBV always exits (SDM Vol. 3C 26.1.2). Let through what the CPU
 * supports and a real CPU would accept (SDM Vol. 1 13.3): XCR0 only, x87
 * set, AVX only with SSE, the AVX-512 trio together; else #GP. The host
 * never uses extended state, so the guest's XCR0 can stay in the CPU.
 */
static void vmx_xsetbv(struct vcpu *v, struct vmx_vcpu *xv)
{
	struct cpuid_regs r = cpuid_count(0xd, 0);
	uint64_t supported = ((uint64_t)r.edx << 32) | r.eax;
	uint64_t val = ((uint64_t)(uint32_t)v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	bool ok = (uint32_t)v->regs.rcx == 0 && (val & 1) && !(val & ~supported) &&
		  (!(val & 4) || (val & 2)) &&
		  ((val & 0xe0) == 0 || (val & 0xe0) == 0xe0);

	if (!ok) {
		vmx_queue_exception(xv, X86_EXC_GP, true, 0);
		return;
	}
	__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
	vcpu_insn_done(v, (unsigned)vmread(VMCS_EXIT_INSN_LEN));
}

/*
 * A MOV to CR0/CR4 that touched a host-owned bit (SDM Vol. 3C 28.1.3,
 * qualification in table 28-3). Keep the fixed bits in the real register,
 * the guest's value in the shadow; bits VMX cannot have set are #GP, as
 * on a CPU that lacks them. Returns false for anything else.
 */
static bool vmx_cr_write(struct vcpu *v, struct vmx_vcpu *xv, uint64_t qual)
{
	unsigned cr = qual & 15, type = (qual >> 4) & 3;

	if (type != 0 || (cr != 0 && cr != 4))
		return false;
	uint64_t val = *guest_gpr(&v->regs, (unsigned)(qual >> 8));	/* SDM Vol. 3C table 28-3 */
	bool long64 = (vmread(VMCS_GUEST_EFER) & EFER_LMA) &&
		      (vmread(VMCS_GUEST_ES_AR + 2 * SEG_CS) & (1u << 13));
	if (!long64)
		val = (uint32_t)val;	/* outside 64-bit mode MOV CR takes 32 bits */
	if (cr == 0) {
		uint64_t fixed1 = rdmsr(MSR_VMX_CR0_FIXED1), old = vmread(VMCS_GUEST_CR0);
		/* PG without PE, NW without CD: #GP (SDM Vol. 3A 2.5) */
		if ((val & ~fixed1) || ((val & CR0_PG) && !(val & CR0_PE)) ||
		    ((val & (1ull << 29)) && !(val & (1ull << 30)))) {
			vmx_queue_exception(xv, X86_EXC_GP, true, 0);
			return true;
		}
		vmwrite(VMCS_CR0_SHADOW, val);
		vmwrite(VMCS_GUEST_CR0, val | (rdmsr(MSR_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG)));
		/* Turning paging on or off with EFER.LME is entering or leaving
		 * IA-32e mode: LMA and the entry control follow (SDM Vol. 3A 10.8.5). */
		uint64_t efer = vmread(VMCS_GUEST_EFER);
		uint64_t entry = vmread(VMCS_ENTRY_CTLS);
		if (!(old & CR0_PG) && (val & CR0_PG) && (efer & EFER_LME)) {
			vmwrite(VMCS_GUEST_EFER, efer | EFER_LMA);
			vmwrite(VMCS_ENTRY_CTLS, entry | ENTRY_IA32E_GUEST);
		} else if ((old & CR0_PG) && !(val & CR0_PG)) {
			vmwrite(VMCS_GUEST_EFER, efer & ~EFER_LMA);
			vmwrite(VMCS_ENTRY_CTLS, entry & ~ENTRY_IA32E_GUEST);
		}
		vmx_flush_guest_tlb(xv);
	} else {
		if ((val & CR4_VMXE) || (val & ~rdmsr(MSR_VMX_CR4_FIXED1))) {
			vmx_queue_exception(xv, X86_EXC_GP, true, 0);
			return true;
		}
		vmwrite(VMCS_CR4_SHADOW, val);
		vmwrite(VMCS_GUEST_CR4, val | rdmsr(MSR_VMX_CR4_FIXED0));
		vmx_flush_guest_tlb(xv);
	}
	vcpu_insn_done(v, (unsigned)vmread(VMCS_EXIT_INSN_LEN));
	return true;
}

static void vmx_decode_io(uint64_t q, struct vm_exit *e)
{
	e->reason = EXIT_IO;
	e->io.size = (uint8_t)((q & 7) + 1);	/* 0, 1, 3: 1, 2, 4 bytes */
	e->io.in = q & (1u << 3);
	e->io.string = q & (1u << 4);
	e->io.rep = q & (1u << 5);
	e->io.port = (uint16_t)(q >> 16);
}

/* An exit the generic handlers only report (and stop the domain for). */
static enum exit_reason vmx_exit_other(struct vm_exit *e)
{
	e->reason = EXIT_OTHER;
	e->other.info1 = vmread(VMCS_EXIT_QUALIFICATION);
	e->other.info2 = vmread(VMCS_GUEST_PHYS_ADDR);
	return EXIT_OTHER;
}

/* Exits the vendor code settles itself without the generic handlers:
 * CR0/CR4 shadowing, XSETBV, GETSEC, and INVD (it always exits; the
 * hypervisor's own dirty cache lines must not be dropped, so it becomes
 * WBINVD). EXIT_SETTLED, and vcpu_loop enters again (not from here: a
 * guest repeating them must not grow the stack); a CR access other than
 * a MOV to CR0/CR4 is an unexpected exit. Out of line, so the exit path
 * keeps no registers for it. */
__attribute__((noinline, cold)) static enum exit_reason vmx_settle(struct vcpu *v,
								     struct vmx_vcpu *xv,
								     uint32_t reason,
								     struct vm_exit *e)
{
	switch (reason) {
	case VMX_EXIT_CR_ACCESS:
		if (!vmx_cr_write(v, xv, vmread(VMCS_EXIT_QUALIFICATION)))
			return vmx_exit_other(e);
		break;
	case VMX_EXIT_XSETBV:
		vmx_xsetbv(v, xv);
		break;
	case VMX_EXIT_GETSEC:	/* SMX is not the guest's */
		vmx_queue_exception(xv, X86_EXC_UD, false, 0);
		break;
	default:		/* VMX_EXIT_INVD */
		__asm__ volatile("wbinvd" ::: "memory");
		vcpu_insn_done(v, (unsigned)vmread(VMCS_EXIT_INSN_LEN));
		break;
	}
	return EXIT_SETTLED;
}

/* The NMI is consumed by the exit and NMIs stay blocked until the next
 * IRET (SDM Vol. 3C 28.2.3): note it as the host's NMI handler would, then
 * unblock. Out of line and a tail call, as vmx_settle. */
__attribute__((noinline, cold)) static enum exit_reason vmx_nmi_exit(struct vm_exit *e)
{
	e->reason = EXIT_NMI;
	nmi_note();
	nmi_unblock();
	return EXIT_NMI;
}

/*
 * An instruction's exit ends the STI or MOV SS shadow it was in (the
 * interruptibility state's blocking by STI, bit 0, and by MOV SS, bit 1;
 * SDM Vol. 3C 25.4.2): the hypervisor completes the instruction (the
 * shadow covers that one instruction), or faults it with an exception,
 * whose delivery ends the shadow too, or the domain stops. Left set,
 * the entry would hold off interrupts for one more guest instruction,
 * and with RFLAGS.TF set and BS clear in the pending debug exceptions the
 * entry would fail its checks (SDM Vol. 3C 27.3.1.5). NMI and SMI
 * blocking (bits 2, 3) stay. One read and a test not taken when there is
 * no shadow, the common case.
 */
static inline void vmx_end_shadow(void)
{
	uint64_t s = vmread(VMCS_GUEST_INTERRUPTIBILITY);

	if (__builtin_expect(s & (VMX_BLOCK_STI | VMX_BLOCK_MOV_SS), 0))
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, s & ~(VMX_BLOCK_STI | VMX_BLOCK_MOV_SS));
}

/* The exit as the generic handlers see it (its reason is the result), or
 * EXIT_SETTLED after vmx_settle. Each case fills the fields of its
 * reason: no zeroing of the whole struct on the exit path. */
static enum exit_reason vmx_decode_exit(struct vcpu *v, struct vmx_vcpu *xv, uint32_t reason,
					struct vm_exit *e)
{
	uint64_t q;

	e->insn_len = (uint8_t)vmread(VMCS_EXIT_INSN_LEN);
	reason &= 0xffff;
	/* The common exits ahead of the switch (a compare each, not its
	 * range check and table jump), each an instruction's: the shadow
	 * ends in each branch (not behind a test of the reason). */
	if (reason == VMX_EXIT_CPUID) {
		vmx_end_shadow();
		return e->reason = EXIT_CPUID;
	}
	if (reason == VMX_EXIT_IO) {
		vmx_end_shadow();
		vmx_decode_io(vmread(VMCS_EXIT_QUALIFICATION), e);
		return EXIT_IO;
	}
	if (reason == VMX_EXIT_RDMSR || reason == VMX_EXIT_WRMSR) {
		vmx_end_shadow();
		e->msr.index = (uint32_t)v->regs.rcx;
		return e->reason = reason == VMX_EXIT_RDMSR ? EXIT_MSR_READ : EXIT_MSR_WRITE;
	}
	/* Of the rest, basic exit reasons 0-4 (exception or NMI, external
	 * interrupt, triple fault, INIT, SIPI) come between instructions and
	 * keep the shadow; the others this VMCS enables are an instruction's
	 * (an EPT violation too: MMIO is emulated, anything else stops the
	 * domain). But HLT: vmm/dev/pit_irq.c may leave the guest to execute
	 * it for real, and `sti; hlt` must keep its shadow then, or an
	 * interrupt pending would be taken before the halt, not wake it; it
	 * ends the shadow itself when it completes the HLT. */
	if (reason > VMX_EXIT_SIPI && reason != VMX_EXIT_HLT)
		vmx_end_shadow();
	/* An event whose delivery the exit interrupted is delivered again at
	 * the next entry (SDM Vol. 3C 28.2.4). The field is valid only for an
	 * exit during event delivery, which the instruction exits above never
	 * are: only the others read it. */
	uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	if (idt & (1u << 31)) {
		xv->pending_event = idt & ~(1u << 12);
		xv->pending_error = (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR);
	}
	switch (reason) {
	case VMX_EXIT_HLT: e->reason = EXIT_HLT; break;
	case VMX_EXIT_EPT_VIOLATION:
		q = vmread(VMCS_EXIT_QUALIFICATION);
		e->reason = EXIT_MEM_VIOLATION;
		e->mem.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
		e->mem.read = q & 1;
		e->mem.write = q & 2;
		e->mem.exec = q & 4;
		break;
	case VMX_EXIT_VMCALL: e->reason = EXIT_HYPERCALL; break;
	case VMX_EXIT_TRIPLE_FAULT: e->reason = EXIT_SHUTDOWN; break;
	case VMX_EXIT_INIT: e->reason = EXIT_INIT; break;
	case VMX_EXIT_SIPI:
		e->reason = EXIT_SIPI;
		e->sipi.vector = (uint8_t)vmread(VMCS_EXIT_QUALIFICATION);
		break;
	case VMX_EXIT_EXTINT: e->reason = EXIT_INTR; break;
	case VMX_EXIT_EXCEPTION_NMI:
		if (((vmread(VMCS_EXIT_INTR_INFO) >> 8) & 7) == 2)
			return vmx_nmi_exit(e);
		return vmx_exit_other(e);
	case 19: case 20: case 21: case 22: case 23:	/* VMCLEAR .. VMRESUME */
	case 24: case 25: case 26: case 27:		/* .. VMWRITE VMXOFF VMXON */
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
		e->reason = EXIT_VIRT_INSN;
		break;
	case VMX_EXIT_CR_ACCESS: case VMX_EXIT_XSETBV: case VMX_EXIT_GETSEC: case VMX_EXIT_INVD:
		return vmx_settle(v, xv, reason, e);
	default:
		return vmx_exit_other(e);
	}
	return e->reason;
}

static enum exit_reason vmx_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct vmx_vcpu *xv = v->arch;

	vmwrite(VMCS_GUEST_RSP, v->regs.rsp);
	vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
	/* Every VM exit clears the valid bit of the entry's event (SDM Vol.
	 * 3C 28.2): it is written only when there is one. */
	if (xv->pending_event) {
		vmwrite(VMCS_ENTRY_INTR_INFO, xv->pending_event);
		if (xv->pending_event & (1u << 11))
			vmwrite(VMCS_ENTRY_EXC_ERROR, xv->pending_error);
		xv->pending_event = 0;
	}
	return vmx_enter(&v->regs, xv->launched, v, e);	/* on in vmx_vcpu_exited */
}

/* Where vmx_enter goes after the exit; returns to vmx_vcpu_run's caller. */
enum exit_reason vmx_vcpu_exited(struct vcpu *v, struct vm_exit *e, int failed)
{
	struct vmx_vcpu *xv = v->arch;

	if (failed) {
		e->insn_len = 0;
		e->reason = EXIT_ENTRY_FAILED;
		e->vendor_code = vmread(VMCS_VM_INSN_ERROR);
		return EXIT_ENTRY_FAILED;
	}
	xv->launched = true;
	v->regs.rsp = vmread(VMCS_GUEST_RSP);
	v->regs.rip = vmread(VMCS_GUEST_RIP);
	v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);

	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	e->vendor_code = reason;
	if (reason & VMX_EXIT_ENTRY_FAILURE) {
		e->insn_len = 0;
		e->reason = EXIT_ENTRY_FAILED;
		return EXIT_ENTRY_FAILED;
	}
	return vmx_decode_exit(v, xv, reason, e);
}

static void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	vmx_queue_exception(v->arch, vector, has_error, error);
}

/*
 * The single-step trap after an emulated instruction: BS (bit 14) in the
 * guest's pending debug exceptions (SDM Vol. 3C 25.4.2, table 25-4). The
 * entry after it delivers #DB before the guest's next instruction and
 * sets DR6.BS itself (SDM Vol. 3C 27.7.3), which an injected #DB would
 * not (guest DR6 is not in the VMCS: it stays in the CPU's register). An
 * OR: an instruction in a MOV SS shadow may have B0-B3 or BS pending
 * already, and they come in the same #DB, as on hardware. The shadow is
 * gone (vmx_end_shadow), so the entry checks on BS against TF and
 * blocking (27.3.1.5) do not apply. No event is injected at this entry
 * (the instruction completed), so the entry is not vectoring and the
 * pending #DB is delivered.
 */
static void vmx_single_step_trap(struct vcpu *v)
{
	(void)v;
	vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | X86_DR6_BS);
}

static uint64_t vmx_get_efer(struct vcpu *v)
{
	(void)v;
	return vmread(VMCS_GUEST_EFER);
}

/* LMA is the CPU's; the "IA-32e mode guest" entry control follows it (the
 * CPU updates that control itself on every exit, SDM Vol. 3C 28.2). */
static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
	(void)v;
	vmwrite(VMCS_GUEST_EFER, (efer & ~EFER_LMA) | (vmread(VMCS_GUEST_EFER) & EFER_LMA));
}

/* What the guest sees: its own bits, and the shadow where the host owns them. */
static uint64_t vmx_get_cr(struct vcpu *v, unsigned cr)
{
	struct vmx_vcpu *xv = v->arch;

	if (cr == 0)
		return (vmread(VMCS_GUEST_CR0) & ~xv->cr0_fixed_mask) |
		       (vmread(VMCS_CR0_SHADOW) & xv->cr0_fixed_mask);
	if (cr == 4)
		return (vmread(VMCS_GUEST_CR4) & ~xv->cr4_fixed_mask) |
		       (vmread(VMCS_CR4_SHADOW) & xv->cr4_fixed_mask);
	if (cr == 3)
		return vmread(VMCS_GUEST_CR3);
	return 0;
}

static void vmx_fetch_state(struct vcpu *v, struct vcpu_fetch_state *f)
{
	uint64_t cs_ar = vmread(VMCS_GUEST_ES_AR + 2 * SEG_CS);

	f->cr0 = vmx_get_cr(v, 0);
	f->cr3 = vmread(VMCS_GUEST_CR3);
	f->cr4 = vmx_get_cr(v, 4);
	f->efer = vmread(VMCS_GUEST_EFER);
	f->cs_base = vmread(VMCS_GUEST_ES_BASE + 2 * SEG_CS);
	if (!(f->cr0 & CR0_PE))
		f->mode = 16;
	else if ((f->efer & EFER_LMA) && (cs_ar & (1u << 13)))	/* CS.L */
		f->mode = 64;
	else
		f->mode = cs_ar & (1u << 14) ? 32 : 16;			/* CS.D */
}

/* HLT exiting (SDM Vol. 3C 25.6.2): every CPU with VMX may set it, and
 * vmx_setup_controls has left it clear, so it may be clear too. */
static void vmx_set_hlt_exiting(struct vcpu *v, bool on)
{
	uint64_t proc = vmread(VMCS_PROC_CTLS);

	(void)v;	/* its VMCS is the current one: we are on its CPU */
	vmwrite(VMCS_PROC_CTLS, on ? proc | PROC_HLT_EXITING : proc & ~(uint64_t)PROC_HLT_EXITING);
}

static void vmx_end_interrupt_shadow(struct vcpu *v)
{
	(void)v;
	vmx_end_shadow();
}

/* Interruption type 0, external interrupt (SDM Vol. 3C 25.8.3), at the
 * entry, as the queued exceptions are. */
static bool vmx_inject_extint(struct vcpu *v, uint8_t vector)
{
	struct vmx_vcpu *xv = v->arch;

	if (xv->pending_event ||
	    (vmread(VMCS_GUEST_INTERRUPTIBILITY) & (VMX_BLOCK_STI | VMX_BLOCK_MOV_SS)))
		return false;
	xv->pending_event = vector | (1u << 31);
	return true;
}

static uint64_t vmx_get_pat(struct vcpu *v)
{
	(void)v;
	return vmread(VMCS_GUEST_PAT);
}

static void vmx_set_pat(struct vcpu *v, uint64_t pat)
{
	(void)v;
	vmwrite(VMCS_GUEST_PAT, pat);
}

/* VM-instruction error numbers (SDM Vol. 3C 31.4). */
static const char *vm_insn_error(uint64_t n)
{
	switch (n) {
	case 3: return "VMCLEAR with the VMXON pointer";
	case 4: return "VMLAUNCH with a non-clear VMCS";
	case 5: return "VMRESUME with a non-launched VMCS";
	case 7: return "invalid control field(s)";
	case 8: return "invalid host-state field(s)";
	case 9: return "VMPTRLD with an invalid address";
	case 13: return "VMWRITE to a read-only field";
	default: return "see SDM Vol. 3C 31.4";
	}
}

/* Which guest-state rule failed: check the ones a VMCS built here can
 * break (SDM Vol. 3C 27.3.1.1), name the field. */
static void vmx_explain_guest_state(void)
{
	uint64_t cr0 = vmread(VMCS_GUEST_CR0), cr4 = vmread(VMCS_GUEST_CR4);
	uint64_t f0 = rdmsr(MSR_VMX_CR0_FIXED0) & ~(CR0_PE | CR0_PG), f1 = rdmsr(MSR_VMX_CR0_FIXED1);

	if ((cr0 & f0) != f0 || (cr0 & ~f1))
		pr_err("vmx: guest CR0 0x%llx violates the VMX fixed bits\n", (unsigned long long)cr0);
	f0 = rdmsr(MSR_VMX_CR4_FIXED0);
	f1 = rdmsr(MSR_VMX_CR4_FIXED1);
	if ((cr4 & f0) != f0 || (cr4 & ~f1))
		pr_err("vmx: guest CR4 0x%llx violates the VMX fixed bits\n", (unsigned long long)cr4);
	bool ia32e = vmread(VMCS_ENTRY_CTLS) & ENTRY_IA32E_GUEST;
	bool lma = vmread(VMCS_GUEST_EFER) & EFER_LMA;
	if (ia32e != lma)
		pr_err("vmx: guest EFER.LMA %u differs from the IA-32e mode entry control %u\n",
		       lma, ia32e);
	if (!(vmread(VMCS_GUEST_RFLAGS) & 2))
		pr_err("vmx: guest RFLAGS bit 1 is clear\n");
}

static void vmx_dump(struct vcpu *v)
{
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);

	if (((struct vmx_vcpu *)v->arch)->launched && !(reason & VMX_EXIT_ENTRY_FAILURE)) {
		pr_err("vmx: exit reason %u qualification 0x%llx GPA 0x%llx\n", reason & 0xffff,
		       (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION),
		       (unsigned long long)vmread(VMCS_GUEST_PHYS_ADDR));
	} else if (reason & VMX_EXIT_ENTRY_FAILURE) {
		pr_err("vmx: VM entry failed: exit reason %u (%s), qualification %llu\n",
		       reason & 0xffff, (reason & 0xffff) == VMX_EXIT_BAD_GUEST ? "invalid guest state"
		       : "MSR loading", (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
		vmx_explain_guest_state();
	} else {
		uint64_t n = vmread(VMCS_VM_INSN_ERROR);
		pr_err("vmx: VM entry failed: VM-instruction error %llu (%s)\n",
		       (unsigned long long)n, vm_insn_error(n));
	}
	pr_err("vmx: RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx\n",
	       (unsigned long long)vmread(VMCS_GUEST_RIP), (unsigned long long)vmread(VMCS_GUEST_RSP),
	       (unsigned long long)vmread(VMCS_GUEST_RFLAGS), (unsigned long long)vmread(VMCS_GUEST_CR0),
	       (unsigned long long)vmread(VMCS_GUEST_CR3), (unsigned long long)vmread(VMCS_GUEST_CR4),
	       (unsigned long long)vmread(VMCS_GUEST_EFER));
}

/* The largest EPT leaves the CPU supports (IA32_VMX_EPT_VPID_CAP bits
 * 17: 1 GiB, 16: 2 MiB). */
static const struct pt_format *vmx_slat_format(void)
{
	uint64_t cap = rdmsr(MSR_VMX_EPT_VPID_CAP);

	if (cap & (1ull << 17))
		return &pt_format_ept;
	return cap & (1ull << 16) ? &pt_format_ept_2m : &pt_format_ept_4k;
}

const struct vcpu_ops vmx_ops = {
	.name = "vmx",
	.slat_format = vmx_slat_format,
	.cpu_enable = vmx_cpu_enable,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_run = vmx_vcpu_run,
	.inject_exception = vmx_inject_exception,
	.single_step_trap = vmx_single_step_trap,
	.get_efer = vmx_get_efer,
	.set_efer = vmx_set_efer,
	.get_cr = vmx_get_cr,
	.fetch_state = vmx_fetch_state,
	.set_tsc_offset = vmx_set_tsc_offset,
	.set_hlt_exiting = vmx_set_hlt_exiting,
	.end_interrupt_shadow = vmx_end_interrupt_shadow,
	.inject_extint = vmx_inject_extint,
	.get_pat = vmx_get_pat,
	.set_pat = vmx_set_pat,
	.dump = vmx_dump,
};
