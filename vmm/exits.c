/*
 * The exit dispatch: one table from vendor-neutral exit reason to handler
 * (ACRN-style), and the vCPU loop that feeds it. Handlers either resume
 * the guest (after moving RIP on) or stop the domain with a reason.
 */
#include "arch/x86_64/trap.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "vmm/console/conin.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/mmio.h"
#include "vmm/msr.h"
#include "vmm/dev/pit_irq.h"

const struct vcpu_ops *vcpu_ops;

const char *const exit_reason_names[EXIT_REASONS] = {
	[EXIT_CPUID] = "cpuid",
	[EXIT_MSR_READ] = "rdmsr",
	[EXIT_MSR_WRITE] = "wrmsr",
	[EXIT_IO] = "io",
	[EXIT_HLT] = "hlt",
	[EXIT_MEM_VIOLATION] = "npf",
	[EXIT_HYPERCALL] = "hypercall",
	[EXIT_SHUTDOWN] = "shutdown",
	[EXIT_INIT] = "init",
	[EXIT_SIPI] = "sipi",
	[EXIT_INTR] = "intr",
	[EXIT_NMI] = "nmi",
	[EXIT_VIRT_INSN] = "virt-insn",
	[EXIT_ENTRY_FAILED] = "entry-failed",
	[EXIT_OTHER] = "other",
};


void vcpu_insn_len_unknown(struct vcpu *v)
{
	domain_stop(v->dom, "internal error: unknown instruction length");
}

void vcpu_insn_done_flags(struct vcpu *v)
{
	bool step = v->regs.rflags & X86_RFLAGS_TF;

	v->regs.rflags &= ~X86_RFLAGS_RF;
	if (step)
		vcpu_ops->single_step_trap(v);
}

static void mem_violation_exit(struct vcpu *v, const struct vm_exit *e)
{
	char why[96];

	if (mmio_exit(v, e))
		return;

	hv_snprintf(why, sizeof(why), "memory violation at GPA 0x%llx (%s)",
		    (unsigned long long)e->mem.gpa,
		    e->mem.exec ? "execute" : e->mem.write ? "write" : "read");
	domain_crash(v->dom, why);
}

static void hypercall_exit(struct vcpu *v, const struct vm_exit *e)
{
	switch (v->regs.rax) {
	case HC_VERSION:
		v->regs.rax = HC_ABI_VERSION;
		break;
	case HC_EXIT_COUNT: {
		uint64_t total = 0;
		for (unsigned r = 0; r < EXIT_REASONS; r++)
			total += __atomic_load_n(&v->dom->exits[r], __ATOMIC_RELAXED);
		v->regs.rax = total;
		break;
	}
	default:
		v->regs.rax = (uint64_t)-ENOSYS;
		break;
	}
	vcpu_skip_insn(v, e);
}

static void shutdown_exit(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	domain_crash(v->dom, "triple fault");
}

static void init_exit(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	/* A real INIT signal: no guest can send one to a core (vmm/dev/vlapic.c
	 * turns a guest's INIT into its vCPUs' wait for SIPI), so it is the
	 * platform's; the domain cannot go on. */
	domain_stop(v->dom, "INIT signal (reset)");
}

static void resume_exit(struct vcpu *v, const struct vm_exit *e)
{
	/* Physical interrupts and NMIs: the host takes them after the exit
	 * (they are held pending until then); the guest just goes on. */
	(void)v;
	(void)e;
}

static void virt_insn_exit(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	/* Virtualization is hidden from domains: behave as a CPU without it. */
	vcpu_ops->inject_exception(v, X86_EXC_UD, false, 0);
}

static void fatal_exit(struct vcpu *v, const struct vm_exit *e)
{
	char why[128];

	if (e->reason == EXIT_ENTRY_FAILED)
		hv_snprintf(why, sizeof(why), "VM entry failed (%s exit 0x%llx)",
			    vcpu_ops->name, (unsigned long long)e->vendor_code);
	else if (e->reason == EXIT_OTHER)
		hv_snprintf(why, sizeof(why),
			    "unexpected exit (%s 0x%llx, info 0x%llx 0x%llx) at RIP 0x%llx",
			    vcpu_ops->name, (unsigned long long)e->vendor_code,
			    (unsigned long long)e->other.info1, (unsigned long long)e->other.info2,
			    (unsigned long long)v->regs.rip);
	else	/* the decoders fill `other` only for EXIT_OTHER */
		hv_snprintf(why, sizeof(why), "unexpected exit (%s 0x%llx) at RIP 0x%llx",
			    vcpu_ops->name, (unsigned long long)e->vendor_code,
			    (unsigned long long)v->regs.rip);
	vcpu_ops->dump(v);
	domain_crash(v->dom, why);
}

typedef void (*exit_handler)(struct vcpu *v, const struct vm_exit *e);

static void settled_exit(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;	/* settled by the vendor code: back into the guest */
}

static const exit_handler exit_handlers[EXIT_REASONS + 1] = {
	[EXIT_CPUID] = cpuid_exit,
	[EXIT_MSR_READ] = msr_read_exit,
	[EXIT_MSR_WRITE] = msr_write_exit,
	[EXIT_IO] = io_exit,
	/* HLT exits only on a vCPU that serves its domain's PIT interrupt;
	 * the others halt their own cores. */
	[EXIT_HLT] = pit_irq_hlt,
	[EXIT_MEM_VIOLATION] = mem_violation_exit,
	[EXIT_HYPERCALL] = hypercall_exit,
	[EXIT_SHUTDOWN] = shutdown_exit,
	[EXIT_INIT] = init_exit,
	[EXIT_SIPI] = fatal_exit,
	[EXIT_INTR] = resume_exit,
	[EXIT_NMI] = resume_exit,
	[EXIT_VIRT_INSN] = virt_insn_exit,
	[EXIT_ENTRY_FAILED] = fatal_exit,
	[EXIT_OTHER] = fatal_exit,
	[EXIT_SETTLED] = settled_exit,
};

/* An NMI came: console input, IOMMU faults, or a kick (the domain
 * stops, or wants this vCPU to serve its PIT interrupt, or no longer). */
__attribute__((noinline)) static void vcpu_nmi(struct vcpu *v)
{
	conin_on_nmi();
	pit_irq_apply(v);
}

/* One trip into the guest and back: the exit counted (its vCPUs count at
 * once: atomic, uncontended on one vCPU), handled, and an NMI that came
 * looked at (a load, then a call only when one came). Inlined in both
 * loops below. */
static inline __attribute__((always_inline)) void vcpu_trip(struct vcpu *v, struct vm_exit *e)
{
	enum exit_reason r = vcpu_ops->vcpu_run(v, e);	/* <= EXIT_SETTLED */

	__atomic_add_fetch(&v->dom->exits[r], 1, __ATOMIC_RELAXED);
	exit_handlers[r](v, e);
	if (nmi_noted(v->cpu))
		vcpu_nmi(v);
}

/* vcpu_loop for a vCPU in VCPU_RUNNING_PIT (pit_irq.h): the same, and
 * the PIT's deadline looked at after every exit. Out of line: the loop
 * of every other vCPU stays as it was. */
__attribute__((noinline)) static void vcpu_loop_pit(struct vcpu *v)
{
	struct vm_exit e;

	while (v->state == VCPU_RUNNING_PIT) {
		vcpu_trip(v, &e);
		pit_irq_exit(v);
	}
}

/* The state test that ends the first loop is the one it has anyway: a
 * vCPU that serves no PIT interrupt pays nothing for the second. */
void vcpu_loop(struct vcpu *v)
{
	struct vm_exit e;

	pit_irq_apply(v);	/* the domain may want it already */
	for (;;) {
		while (v->state == VCPU_RUNNING)
			vcpu_trip(v, &e);
		if (v->state != VCPU_RUNNING_PIT)
			return;		/* stopped */
		vcpu_loop_pit(v);
	}
}
