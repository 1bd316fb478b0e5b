/*
 * AMD-V (APM Vol. 2 chapter 15): per-CPU enable, VMCB set-up, the run loop
 * and exit decoding into the vendor-neutral struct vm_exit.
 *
 * Intercepted: CPUID, all port I/O (IOPM all ones), MSRs outside the
 * allow-list of vmm/msr.c, VMMCALL and every SVM instruction, INIT, NMI,
 * shutdown. Not intercepted: physical interrupts and HLT -- the guest
 * owns its core, takes its interrupts through its own IDT and halts its
 * own core when idle (HLT exits only on the vCPU that serves its
 * domain's PIT interrupt, vmm/dev/pit_irq.c). Nested paging maps the domain's RAM at
 * guest-physical 0; everything else faults (NPF).
 */
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpuinfo.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/svm/svm.h"
#include "arch/x86_64/svm/vmcb.h"
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/exits.h"
#include "vmm/msr.h"
#include "vmm/vcpu.h"

#define IOPM_PAGES  3	/* 64 K ports + 3 bits (15.10.1) */
#define MSRPM_PAGES 2	/* 15.11: three 2 KiB ranges, 2 bits per MSR */
#define DEFAULT_PAT 0x0007040600070406ull

/* svm_run.S reads struct guest_regs at these offsets. */
_Static_assert(offsetof(struct guest_regs, rbx) == 8, "svm_run.S");
_Static_assert(offsetof(struct guest_regs, rbp) == 48, "svm_run.S");
_Static_assert(offsetof(struct guest_regs, r8) == 56, "svm_run.S");
_Static_assert(offsetof(struct guest_regs, r15) == 112, "svm_run.S");
_Static_assert(offsetof(struct guest_regs, rsp) == 120, "svm_run.S");
_Static_assert(offsetof(struct guest_regs, rip) == 128, "svm_run.S");
_Static_assert(offsetof(struct guest_regs, rflags) == 136, "svm_run.S");
_Static_assert(offsetof(struct vmcb, save.rflags) == 0x570, "svm_run.S");
_Static_assert(offsetof(struct vmcb, save.rip) == 0x578, "svm_run.S");
_Static_assert(offsetof(struct vmcb, save.rsp) == 0x5d8, "svm_run.S");
_Static_assert(offsetof(struct vmcb, save.rax) == 0x5f8, "svm_run.S");

struct svm_cpu {
	uint64_t hsave_pa;	/* VM_HSAVE_PA: where VMRUN keeps host state */
	uint64_t host_vmcb_pa;	/* VMSAVE/VMLOAD of host FS/GS/TR/... */
};

struct svm_vcpu {
	struct vmcb *vmcb;	/* identity-mapped: its address is its physical address */
	uint64_t host_vmcb_pa;	/* its CPU's (svm_cpu): a vCPU stays on its CPU */
};

static struct svm_cpu svm_cpus[MAX_CPUS];
static struct svm_vcpu svm_vcpus[MAX_CPUS];
static uint64_t iopm_pa, msrpm_pa, msrpm_offset_pa;
static bool have_nrips;

/* ---- permission maps (shared by every vCPU: the policy is global) ---- */

/* Let an access to `msr` through (pass) or intercept it. */
static void msrpm_set(uint8_t *pm, uint32_t msr, bool read, bool write, bool pass)
{
	uint32_t base;

	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base = 0x800;
	else if (msr >= 0xc0010000u && msr <= 0xc0011fffu)
		base = 0x1000;
	else
		return;	/* outside the map: always intercepted */
	uint32_t bit = (msr & 0x1fff) * 2;
	uint8_t mask = (uint8_t)(((read ? 1u : 0u) | (write ? 2u : 0u)) << (bit % 8));
	if (pass)
		pm[base + bit / 8] &= (uint8_t)~mask;
	else
		pm[base + bit / 8] |= mask;
}

/* Two MSR maps: the policy's, and the same with IA32_TSC_DEADLINE
 * intercepted for vCPUs whose TSC is offset (set_tsc_offset). */
static int svm_build_maps(void)
{
	iopm_pa = alloc_pages(IOPM_PAGES, PAGE_SIZE, 0);
	msrpm_pa = alloc_pages(MSRPM_PAGES, PAGE_SIZE, 0);
	msrpm_offset_pa = alloc_pages(MSRPM_PAGES, PAGE_SIZE, 0);
	if (!iopm_pa || !msrpm_pa || !msrpm_offset_pa)
		return trace_error(-ENOMEM);
	memset((void *)(uintptr_t)iopm_pa, 0xff, IOPM_PAGES * PAGE_SIZE);
	uint8_t *pm = (uint8_t *)(uintptr_t)msrpm_pa;
	memset(pm, 0xff, MSRPM_PAGES * PAGE_SIZE);
	for (unsigned i = 0; i < msr_passthrough_count; i++) {
		const struct msr_passthrough *p = &msr_passthrough_list[i];
		for (uint32_t k = 0; k < p->count; k++)
			msrpm_set(pm, p->index + k, p->read, p->write, true);
	}
	uint8_t *opm = (uint8_t *)(uintptr_t)msrpm_offset_pa;
	memcpy(opm, pm, MSRPM_PAGES * PAGE_SIZE);
	msrpm_set(opm, MSR_TSC_DEADLINE, true, true, false);
	return 0;
}

/* ---- per CPU ---- */

static int svm_cpu_enable(void)
{
	uint32_t cpu = this_cpu()->cpu_id;
	struct svm_cpu *c = &svm_cpus[cpu];

	if (cpu == 0 && !iopm_pa && svm_build_maps()) {
		pr_err("svm: out of memory for the I/O and MSR permission maps\n");
		return -ENOMEM;
	}
	c->hsave_pa = alloc_page();
	c->host_vmcb_pa = alloc_page();
	if (!c->hsave_pa || !c->host_vmcb_pa) {
		pr_err("svm: CPU %u: out of memory for the host save area\n", cpu);
		return trace_error(-ENOMEM);
	}
	have_nrips = cpuid(0x8000000a).edx & (1u << 3);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, c->hsave_pa);
	/* The host's FS/GS/TR/LDTR as they are now: restored after each exit. */
	__asm__ volatile("vmsave %%rax" ::"a"(c->host_vmcb_pa) : "memory");
	return 0;
}

/* ---- vCPU set-up ---- */

static void flat_segment(struct vmcb_seg *s, uint16_t sel, uint16_t attrib)
{
	*s = (struct vmcb_seg){ .selector = sel, .attrib = attrib, .limit = 0xffffffff, .base = 0 };
}

/* Multiboot's entry state (spec 3.3): 32-bit protected mode, paging off,
 * flat 4 GiB code (0x08) and data (0x10) segments. Attribute encoding:
 * APM Vol. 2 15.5.1 (descriptor bits 40-47, then 52-55). */
static void vmcb_init_state(struct vmcb_save *s, const struct vcpu *v)
{
	const struct guest_regs *r = &v->regs;

	memset(s, 0, sizeof(*s));
	flat_segment(&s->cs, 0x08, 0xc9b);	/* P, DPL0, code RX accessed, D, G */
	flat_segment(&s->ds, 0x10, 0xc93);	/* P, DPL0, data RW accessed, B, G */
	s->cr0 = 0x11;		/* PE | ET */
	if (v->real_mode_start) {
		/* After INIT-SIPI: real mode, CS = vector << 8, IP = 0, 64 KiB
		 * segments (SDM Vol. 3A table 9-1). */
		s->cs = (struct vmcb_seg){ .selector = (uint16_t)(v->sipi_vector << 8),
					   .attrib = 0x9b, .limit = 0xffff,
					   .base = (uint64_t)v->sipi_vector << 12 };
		s->ds = (struct vmcb_seg){ .attrib = 0x93, .limit = 0xffff };
		s->cr0 = 0x10;	/* ET */
	}
	s->es = s->ds;
	s->ss = s->ds;
	s->fs = s->ds;
	s->gs = s->ds;
	s->gdtr = (struct vmcb_seg){ .limit = 0xffff };
	s->idtr = (struct vmcb_seg){ .limit = 0xffff };
	s->ldtr = (struct vmcb_seg){ .attrib = 0x82, .limit = 0xffff };
	s->tr = (struct vmcb_seg){ .attrib = 0x8b, .limit = 0xffff };
	s->cpl = 0;
	s->efer = EFER_SVME;	/* required in the guest's EFER (15.5.1) */
	s->cr3 = 0;
	s->cr4 = 0;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->g_pat = DEFAULT_PAT;
	s->rip = r->rip;
	s->rsp = r->rsp;
	s->rflags = r->rflags;
	s->rax = r->rax;
}

static void svm_set_tsc_offset(struct vcpu *v)
{
	struct vmcb_control *c = &((struct svm_vcpu *)v->arch)->vmcb->control;

	c->tsc_offset = v->tsc_offset;
	c->msrpm_base_pa = v->tsc_offset ? msrpm_offset_pa : msrpm_pa;
}

static int svm_vcpu_init(struct vcpu *v, uint64_t slat_root, uint32_t tag)
{
	struct svm_vcpu *sv = &svm_vcpus[v->cpu];
	uint32_t nasids = cpuid(0x8000000a).ebx;

	if (!iopm_pa || !msrpm_pa) {
		pr_err("svm: permission maps missing (the boot CPU could not build them)\n");
		return trace_error(-ENOMEM);
	}
	if (tag == 0 || tag >= nasids) {
		pr_err("svm: no ASID for domain tag %u (the CPU has %u)\n", tag, nasids);
		return trace_error(-ENOSPC);
	}
	if (!sv->vmcb)
		sv->vmcb = (struct vmcb *)(uintptr_t)alloc_page();
	if (!sv->vmcb)
		return trace_error(-ENOMEM);
	sv->host_vmcb_pa = svm_cpus[v->cpu].host_vmcb_pa;
	memset(sv->vmcb, 0, PAGE_SIZE);
	v->arch = sv;

	struct vmcb_control *c = &sv->vmcb->control;
	c->intercept_exceptions = 0;
	/* No INTR intercept and no V_INTR_MASKING: physical interrupts go
	 * straight to the guest through its IDT, as its IF allows (the guest
	 * owns its core). INVD would drop the hypervisor's dirty lines. */
	c->intercept_misc1 = SVM_MISC1_NMI | SVM_MISC1_INIT | SVM_MISC1_CPUID | SVM_MISC1_INVD |
			     SVM_MISC1_IOIO | SVM_MISC1_MSR | SVM_MISC1_SHUTDOWN;
	c->intercept_misc2 = SVM_MISC2_VMRUN | SVM_MISC2_VMMCALL | SVM_MISC2_VMLOAD |
			     SVM_MISC2_VMSAVE | SVM_MISC2_STGI | SVM_MISC2_CLGI |
			     SVM_MISC2_SKINIT;
	c->iopm_base_pa = v->io_bitmap ? v->io_bitmap : iopm_pa;
	c->guest_asid = tag;
	c->tlb_control = SVM_TLB_FLUSH_ALL;	/* first entry: the ASID may be stale */
	c->np_control = SVM_NP_ENABLE;
	c->n_cr3 = slat_root;
	vmcb_init_state(&sv->vmcb->save, v);
	svm_set_tsc_offset(v);	/* the MSR map with it */
	return 0;
}

/* ---- running ---- */

/* SZ8/SZ16/SZ32 are bits 4/5/6 and the CPU sets one (15.10.2): the
 * three bits read as the size, 1, 2 or 4 bytes. */
_Static_assert(SVM_IOIO_SZ8 == 1u << 4 && SVM_IOIO_SZ16 == 2u << 4 && SVM_IOIO_SZ32 == 4u << 4,
	       "io_size");
static uint8_t io_size(uint64_t info1)
{
	return (uint8_t)((info1 >> 4) & 7);
}

/* Without next-RIP saving (QEMU's TCG has none), the length of the few
 * instructions we skip is their fixed encoding: CPUID 0f a2, RDMSR 0f 32,
 * WRMSR 0f 30, VMMCALL 0f 01 d9, HLT f4 (prefixes are not expected). */
static uint8_t insn_len(const struct vmcb *vmcb, uint8_t fallback)
{
	if (have_nrips && vmcb->control.next_rip > vmcb->save.rip)
		return (uint8_t)(vmcb->control.next_rip - vmcb->save.rip);
	return fallback;
}

/*
 * The exits of an instruction (CPUID, port I/O, RDMSR/WRMSR, VMMCALL, a
 * nested page fault) end its interrupt shadow: the hypervisor completes
 * the instruction (the shadow of an STI or MOV SS before it covers that
 * one instruction only), or it faults it with an exception, whose
 * delivery ends the shadow too, or the domain stops. Left set, VMRUN
 * would hold off interrupts for one more guest instruction (APM Vol. 2
 * 15.21.5). INTERRUPT_SHADOW is bit 0 of its field; bit 1, the guest's
 * IF, is written by the CPU on exits and ignored by VMRUN: one store,
 * not a test.
 */
static inline void svm_end_shadow(struct vmcb_control *c)
{
	c->interrupt_shadow = 0;
}

static void svm_decode_exit(struct vmcb *vmcb, const struct guest_regs *r,
			    struct vm_exit *e)
{
	struct vmcb_control *c = &vmcb->control;

	/* Each case fills the fields of its reason: no zeroing of the
	 * whole struct on the exit path. */
	const uint64_t code = c->exitcode;	/* once: e's stores may alias the VMCB for the compiler */

	e->vendor_code = code;
	/* The common exits ahead of the switch (a compare each, not its
	 * range checks and table jump). */
	if (code == SVM_EXIT_CPUID) {
		svm_end_shadow(c);
		e->reason = EXIT_CPUID;
		e->insn_len = insn_len(vmcb, 2);
		return;
	}
	if (code == SVM_EXIT_IOIO) {
		const uint64_t info = c->exitinfo1;

		svm_end_shadow(c);
		e->reason = EXIT_IO;
		e->io.port = (uint16_t)(info >> 16);
		e->io.size = io_size(info);
		e->io.in = info & SVM_IOIO_IN;
		e->io.string = info & SVM_IOIO_STR;
		e->io.rep = info & SVM_IOIO_REP;
		e->insn_len = (uint8_t)(c->exitinfo2 - vmcb->save.rip);	/* EXITINFO2 = next RIP */
		return;
	}
	if (code == SVM_EXIT_MSR) {
		svm_end_shadow(c);
		e->reason = c->exitinfo1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->msr.index = (uint32_t)r->rcx;
		e->insn_len = insn_len(vmcb, 2);
		return;
	}
	e->insn_len = 0;	/* the rest that skip set it again */
	if (code == SVM_EXIT_NPF) {
		svm_end_shadow(c);	/* MMIO is emulated; anything else stops the domain */
		e->reason = EXIT_MEM_VIOLATION;
		e->mem.gpa = c->exitinfo2;
		e->mem.write = c->exitinfo1 & SVM_NPF_WRITE;
		e->mem.exec = c->exitinfo1 & SVM_NPF_EXEC;
		e->mem.read = !e->mem.write && !e->mem.exec;
		return;
	}
	switch (code) {
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		e->insn_len = insn_len(vmcb, 1);
		break;
	case SVM_EXIT_VMMCALL:
		svm_end_shadow(c);
		e->reason = EXIT_HYPERCALL;
		e->insn_len = insn_len(vmcb, 3);
		break;
	case SVM_EXIT_SHUTDOWN: e->reason = EXIT_SHUTDOWN; break;
	case SVM_EXIT_INIT: e->reason = EXIT_INIT; break;
	case SVM_EXIT_INTR: e->reason = EXIT_INTR; break;
	case SVM_EXIT_NMI: e->reason = EXIT_NMI; break;
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT:
		e->reason = EXIT_VIRT_INSN;
		break;
	case SVM_EXIT_INVALID:
		e->reason = EXIT_ENTRY_FAILED;
		break;
	default:
		e->reason = EXIT_OTHER;
		e->other.info1 = c->exitinfo1;
		e->other.info2 = c->exitinfo2;
		break;
	}
}

static enum exit_reason svm_vcpu_run(struct vcpu *v, struct vm_exit *e)
{
	struct svm_vcpu *sv = v->arch;

	return svm_vmrun(sv->vmcb, &v->regs, sv->host_vmcb_pa, v, e);	/* on in svm_vcpu_exited */
}

/* INVD becomes WBINVD, settled here (0f 08: 2 bytes). */
__attribute__((noinline, cold)) static void svm_invd(struct vcpu *v, struct vmcb *vmcb)
{
	__asm__ volatile("wbinvd" ::: "memory");
	svm_end_shadow(&vmcb->control);
	vcpu_insn_done(v, insn_len(vmcb, 2));
}

/* Where svm_vmrun goes after the exit; returns to svm_vcpu_run's caller. */
enum exit_reason svm_vcpu_exited(struct vcpu *v, struct vm_exit *e)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	uint64_t intinfo = vmcb->control.exitintinfo;

	vmcb->control.tlb_control = SVM_TLB_NOTHING;
	/* An event the exit interrupted (e.g. an exception whose delivery
	 * hit a nested page fault) is delivered again at the next entry
	 * (15.7.2). */
	vmcb->control.eventinj = intinfo & SVM_EVT_VALID ? intinfo : 0;
	if (__builtin_expect(vmcb->control.exitcode == SVM_EXIT_INVD, 0)) {
		svm_invd(v, vmcb);
		return EXIT_SETTLED;	/* no re-entry from here: the stack must not grow */
	}
	svm_decode_exit(vmcb, &v->regs, e);
	return e->reason;
}

static void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	struct svm_vcpu *sv = v->arch;
	uint64_t ev = vector | SVM_EVT_TYPE_EXC | SVM_EVT_VALID;

	if (has_error && (sv->vmcb->save.cr0 & 1))	/* real mode pushes no error code */
		ev |= SVM_EVT_ERR_VALID | ((uint64_t)error << 32);
	sv->vmcb->control.eventinj = ev;
}

/*
 * The single-step trap after an emulated instruction: #DB injected as an
 * exception (EVENTINJ type 3, vector 1, no error code; APM Vol. 2 15.20)
 * and DR6.BS set in the guest's DR6, which lives in the VMCB save area
 * (VMRUN loads it; an injected #DB does not touch DR6, so the bit is set
 * here as the CPU would set it; the guest clears DR6 itself, as on
 * hardware). The instruction completed, so nothing else is being
 * injected (exits.h). The VMCB clean bits are not used: the DR6 write
 * needs no clean bit cleared.
 */
static void svm_single_step_trap(struct vcpu *v)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;

	vmcb->save.dr6 |= X86_DR6_BS;
	vmcb->control.eventinj = X86_EXC_DB | SVM_EVT_TYPE_EXC | SVM_EVT_VALID;
}

/* As the guest sees it: SVME is ours (required on in guest mode, 15.5.1),
 * and virtualization is hidden from the guest. */
static uint64_t svm_get_efer(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->arch)->vmcb->save.efer & ~EFER_SVME;
}

static void svm_set_efer(struct vcpu *v, uint64_t efer)
{
	struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	uint64_t lma = 1ull << 10;

	/* LMA is the CPU's to set; SVME must stay on in guest mode. */
	vmcb->save.efer = (efer & ~lma) | (vmcb->save.efer & lma) | EFER_SVME;
}

static uint64_t svm_get_cr(struct vcpu *v, unsigned cr)
{
	const struct vmcb_save *s = &((struct svm_vcpu *)v->arch)->vmcb->save;
	return cr == 0 ? s->cr0 : cr == 3 ? s->cr3 : cr == 4 ? s->cr4 : 0;
}

static void svm_fetch_state(struct vcpu *v, struct vcpu_fetch_state *f)
{
	const struct vmcb_save *s = &((struct svm_vcpu *)v->arch)->vmcb->save;

	f->cr0 = s->cr0;
	f->cr3 = s->cr3;
	f->cr4 = s->cr4;
	f->efer = svm_get_efer(v);
	f->cs_base = s->cs.base;
	if (!(s->cr0 & 1))
		f->mode = 16;
	else if ((s->efer & (1ull << 10)) && (s->cs.attrib & 0x200))	/* LMA, CS.L */
		f->mode = 64;
	else
		f->mode = s->cs.attrib & 0x400 ? 32 : 16;		/* CS.D */
}

/* No VMCB clean bits are ever set (15.15.3): the change is seen at the
 * next VMRUN. */
static void svm_set_hlt_exiting(struct vcpu *v, bool on)
{
	struct vmcb_control *c = &((struct svm_vcpu *)v->arch)->vmcb->control;

	c->intercept_misc1 = on ? c->intercept_misc1 | SVM_MISC1_HLT
				: c->intercept_misc1 & ~SVM_MISC1_HLT;
}

static void svm_end_interrupt_shadow(struct vcpu *v)
{
	svm_end_shadow(&((struct svm_vcpu *)v->arch)->vmcb->control);
}

/* EVENTINJ type 0, external interrupt (APM Vol. 2 15.20). */
static bool svm_inject_extint(struct vcpu *v, uint8_t vector)
{
	struct vmcb_control *c = &((struct svm_vcpu *)v->arch)->vmcb->control;

	if ((c->eventinj & SVM_EVT_VALID) || (c->interrupt_shadow & 1))
		return false;
	c->eventinj = vector | SVM_EVT_TYPE_INTR | SVM_EVT_VALID;
	return true;
}

static uint64_t svm_get_pat(struct vcpu *v) { return ((struct svm_vcpu *)v->arch)->vmcb->save.g_pat; }
static void svm_set_pat(struct vcpu *v, uint64_t pat) { ((struct svm_vcpu *)v->arch)->vmcb->save.g_pat = pat; }

static void svm_dump(struct vcpu *v)
{
	const struct vmcb *vmcb = ((struct svm_vcpu *)v->arch)->vmcb;
	const struct vmcb_save *s = &vmcb->save;

	pr_err("svm: exit 0x%llx info1 0x%llx info2 0x%llx intinfo 0x%llx\n",
	       (unsigned long long)vmcb->control.exitcode, (unsigned long long)vmcb->control.exitinfo1,
	       (unsigned long long)vmcb->control.exitinfo2, (unsigned long long)vmcb->control.exitintinfo);
	pr_err("svm: RIP 0x%llx RSP 0x%llx RFLAGS 0x%llx CR0 0x%llx CR3 0x%llx CR4 0x%llx EFER 0x%llx\n",
	       (unsigned long long)s->rip, (unsigned long long)s->rsp, (unsigned long long)s->rflags,
	       (unsigned long long)s->cr0, (unsigned long long)s->cr3, (unsigned long long)s->cr4,
	       (unsigned long long)s->efer);
	pr_err("svm: CS %04x/%04x base 0x%llx limit 0x%x CPL %u\n", s->cs.selector, s->cs.attrib,
	       (unsigned long long)s->cs.base, s->cs.limit, s->cpl);
}

/* 1 GiB leaves where the CPU has 1 GiB pages (NPT follows the host's
 * paging features, APM Vol. 2 15.25.3). */
static const struct pt_format *svm_slat_format(void)
{
	return cpuid(0x80000001).edx & (1u << 26) ? &pt_format_npt : &pt_format_npt_2m;
}

const struct vcpu_ops svm_ops = {
	.name = "svm",
	.slat_format = svm_slat_format,
	.cpu_enable = svm_cpu_enable,
	.vcpu_init = svm_vcpu_init,
	.vcpu_run = svm_vcpu_run,
	.inject_exception = svm_inject_exception,
	.single_step_trap = svm_single_step_trap,
	.get_efer = svm_get_efer,
	.set_efer = svm_set_efer,
	.get_cr = svm_get_cr,
	.fetch_state = svm_fetch_state,
	/* The legacy performance counters PERF_CTL0-3/PERF_CTR0-3 (APM Vol. 2
	 * 13.2.1), which every AMD CPU since the K7 has and guests program
	 * without asking CPUID; the domain's cores' own counters are not
	 * given (the hypervisor does not switch them). An Intel CPU has no
	 * such MSRs: VT-x names none, and they raise #GP there. */
	.zero_msr_first = 0xc0010000u,
	.zero_msr_count = 8,
	.set_tsc_offset = svm_set_tsc_offset,
	.set_hlt_exiting = svm_set_hlt_exiting,
	.end_interrupt_shadow = svm_end_interrupt_shadow,
	.inject_extint = svm_inject_extint,
	.get_pat = svm_get_pat,
	.set_pat = svm_set_pat,
	.dump = svm_dump,
};
