/*
 * Vendor-neutral vCPU state and the vendor interface.
 *
 * The hypervisor picks one `struct vcpu_ops` at boot from CPUID (svm_ops
 * on AMD, vmx_ops on Intel) and generic code calls only through it. A
 * vendor's run() enters the guest and returns a decoded, vendor-neutral
 * `struct vm_exit`; the handlers in vmm/ act on `struct vcpu` and never
 * see a VMCB or VMCS.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pgtable.h"

struct domain;

/* Guest general-purpose registers. The vendor code keeps them in sync
 * with its control block around every entry and exit: handlers may read
 * and write any of them, RIP and RFLAGS included. */
struct guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rsp, rip, rflags;
};

/* The register with x86 number n (the encoding order of ModRM, VMX exit
 * qualifications, ...: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15), which is
 * not the field order above. */
static inline uint64_t *guest_gpr(struct guest_regs *r, unsigned n)
{
	/* Field index by x86 number: one load (a table of pointers built on
	 * the stack would cost a store each, and this is the MMIO path). */
#define GPR_AT(f) ((uint8_t)offsetof(struct guest_regs, f))
	static const uint8_t at[16] = { GPR_AT(rax), GPR_AT(rcx), GPR_AT(rdx), GPR_AT(rbx),
					GPR_AT(rsp), GPR_AT(rbp), GPR_AT(rsi), GPR_AT(rdi),
					GPR_AT(r8), GPR_AT(r9), GPR_AT(r10), GPR_AT(r11),
					GPR_AT(r12), GPR_AT(r13), GPR_AT(r14), GPR_AT(r15) };
#undef GPR_AT
	return (uint64_t *)((char *)r + at[n & 15]);
}

enum exit_reason {
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_HLT,
	EXIT_MEM_VIOLATION,	/* nested page fault / EPT violation */
	EXIT_HYPERCALL,		/* VMMCALL / VMCALL */
	EXIT_SHUTDOWN,		/* triple fault */
	EXIT_INIT,
	EXIT_SIPI,
	EXIT_INTR,		/* a physical interrupt */
	EXIT_NMI,
	EXIT_VIRT_INSN,		/* the guest tried VMRUN/VMLAUNCH & co. */
	EXIT_ENTRY_FAILED,	/* the CPU refused the guest state */
	EXIT_OTHER,		/* anything not expected: stops the domain */
	EXIT_REASONS,
	/* Not an exit to handle: the vendor code settled it itself (CR0/CR4
	 * shadowing, INVD, ...), and the loop only checks for a stop or an
	 * NMI before entering again. Counted apart, not printed. */
	EXIT_SETTLED = EXIT_REASONS
};

/* Counter names as printed in "hv: domain NAME exits: ..." */
extern const char *const exit_reason_names[EXIT_REASONS];

struct vm_exit {
	enum exit_reason reason;
	uint64_t vendor_code;	/* raw exit code, for reports */
	uint8_t insn_len;	/* length of the exiting instruction, 0 = unknown */
	union {
		struct {
			uint16_t port;
			uint8_t size;	/* 1, 2 or 4 */
			bool in;
			bool string;	/* INS/OUTS */
			bool rep;
		} io;
		struct {
			uint32_t index;
		} msr;
		struct {
			uint64_t gpa;
			bool read, write, exec;
		} mem;
		struct {
			uint8_t vector;
		} sipi;
		struct {
			uint64_t info1, info2;	/* vendor details for reports */
		} other;
	};
};

/*
 * A vCPU's life: a domain's first vCPU starts RUNNING at the kernel's
 * entry; the others start in WAIT_SIPI, and the guest's own INIT-SIPI-SIPI
 * (through its ICR, vmm/lapic.c) moves them to RUNNING in real mode at
 * the SIPI vector. STOPPED is final (the domain stopped).
 * RUNNING_PIT is RUNNING while the vCPU serves its domain's PIT interrupt
 * (vmm/dev/pit_irq.c): its HLT exits and it looks at the PIT's deadline
 * after every exit. A state of its own, so that the run loop of every
 * other vCPU tests nothing more than it did (vcpu_loop); only the vCPU
 * itself moves between the two, and only from one to the other (a
 * compare-exchange: STOPPED, set by another CPU, wins).
 */
enum vcpu_state { VCPU_WAIT_SIPI, VCPU_RUNNING, VCPU_STOPPED, VCPU_RUNNING_PIT };
_Static_assert(sizeof(enum vcpu_state) == 4, "waited on as a 32-bit word (nmi_wait)");

struct vcpu {
	struct domain *dom;
	uint32_t cpu;			/* physical CPU index */
	uint32_t apic_id;		/* its core's (x2)APIC ID */
	/* The APIC ID the guest sees: its index in the domain, so that the
	 * boot CPU is 0 (vmm/dev/vlapic.h). */
	uint32_t vapic_id;
	/* vapic_id while its LAPIC is enabled, else no ID (UINT32_MAX - 1):
	 * what a physical destination matches first (vlapic.c, the IPI path). */
	uint32_t vapic_match;
	/* Its LAPIC's mode as IA32_APIC_BASE says (enum vlapic_mode), and
	 * the xAPIC registers the real LAPIC (in x2APIC mode, or shared with
	 * the hypervisor) does not hold for it. */
	uint8_t apic_mode;
	uint32_t xapic_ldr, xapic_dfr, xapic_icr_hi, xapic_icr_lo;
	volatile enum vcpu_state state;
	bool real_mode_start;		/* vcpu_init: real mode at sipi_vector << 12 */
	uint8_t sipi_vector;
	/* The PIT's interrupt (vmm/dev/pit_irq.c): the domain wants this
	 * vCPU to serve it (written under the domain's lock, by any of its
	 * vCPUs, which then kicks it); whether HLT exits now (its own).
	 * Here, in padding. */
	bool pit_wanted;
	bool hlt_exiting;
	uint64_t kvmclock_msr;		/* MSR_KVM_SYSTEM_TIME_NEW as written */
	/* Its TSC: host TSC + tsc_offset (0 until the guest writes IA32_TSC
	 * or IA32_TSC_ADJUST), and IA32_TSC_ADJUST as it reads it (SDM Vol.
	 * 3B 18.17.3: it moves with every write to either). */
	uint64_t tsc_offset, tsc_adjust;
	uint64_t misc_enable;		/* IA32_MISC_ENABLE's guest-writable bits */
	/* Physical address of its domain's I/O permission map (one bit per
	 * port, 1 = intercept; 3 pages: SVM's IOPM layout, whose first two
	 * pages are VMX's bitmaps A and B), or 0: the vendor's default,
	 * which intercepts every port. */
	uint64_t io_bitmap;
	struct guest_regs regs;
	void *arch;			/* the vendor's per-vCPU state */
};

/* Exceptions a handler may raise in the guest. */
#define X86_EXC_DB 1
#define X86_EXC_UD 6
#define X86_EXC_GP 13

/* RFLAGS bits the skip of an emulated instruction acts on (SDM Vol. 3A
 * 2.3, 18.3.1.1, 18.3.1.4): TF traps after the instruction, RF is
 * cleared once it completes. DR6.BS reports a single-step trap. */
#define X86_RFLAGS_TF (1ull << 8)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_RFLAGS_RF (1ull << 16)
#define X86_DR6_BS    (1ull << 14)

/* The guest's paging registers as it sees them, its code size and its
 * CS base: where its instruction is and how to read it. */
struct vcpu_fetch_state {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t cs_base;	/* where RIP counts from outside 64-bit mode */
	int mode;		/* code size: 64 (long mode, CS.L), 32 or 16 */
};

struct vcpu_ops {
	const char *name;		/* "svm" or "vmx" */
	/* The format of this vendor's second-level page tables. */
	const struct pt_format *(*slat_format)(void);
	/* Turn on virtualization on the calling CPU. 0 or -errno (with a line). */
	int (*cpu_enable)(void);
	/* Create the vendor state for v: guest-physical tables rooted at
	 * slat_root, tagged with `tag` (ASID/VPID), the guest in 32-bit
	 * protected mode, paging off, flat segments, state from v->regs; or,
	 * with v->real_mode_start, in real mode at CS = sipi_vector << 8,
	 * IP 0 (an AP after INIT-SIPI, SDM Vol. 3A 9.4.4). May be called
	 * again for the same vCPU (it reuses its control block). */
	int (*vcpu_init)(struct vcpu *v, uint64_t slat_root, uint32_t tag);
	/* Enter the guest; return at the next exit, decoded into *e, with
	 * e->reason as the result (a register, not a load, for the loop),
	 * or EXIT_SETTLED (then *e is not filled). */
	enum exit_reason (*vcpu_run)(struct vcpu *v, struct vm_exit *e);
	/* Make the guest take exception `vector` at its next entry. */
	void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
	/* The guest completed an instruction the hypervisor emulated with
	 * RFLAGS.TF set: make it take the single-step trap, #DB with DR6.BS
	 * set, before its next instruction, as the CPU would have (once:
	 * calling it twice for one instruction still makes one #DB). The
	 * vendor code has already ended the instruction's interrupt shadow
	 * (exits.h). Not on the exit path's common case: vcpu_skip_insn
	 * calls it only when TF is set. */
	void (*single_step_trap)(struct vcpu *v);
	/* The guest's EFER as the guest sees it (for MSR emulation), and its
	 * update; bits the vendor needs set for itself stay its business. */
	uint64_t (*get_efer)(struct vcpu *v);
	void (*set_efer)(struct vcpu *v, uint64_t efer);
	/* CR0, CR3 or CR4 as the guest sees it (for emulation decisions). */
	uint64_t (*get_cr)(struct vcpu *v, unsigned cr);
	/* What fetching the guest's current instruction needs, in one call
	 * (the MMIO exit's path). */
	void (*fetch_state)(struct vcpu *v, struct vcpu_fetch_state *f);
	/* MSRs this vendor's CPUs have that a domain reads as 0 and whose
	 * writes are dropped (counters with no virtual PMU; vmm/msr.c):
	 * [zero_msr_first, zero_msr_first + zero_msr_count). */
	uint32_t zero_msr_first, zero_msr_count;
	/* Make the guest's TSC (RDTSC, RDTSCP, RDMSR IA32_TSC) read host TSC
	 * + v->tsc_offset. While it is not 0, IA32_TSC_DEADLINE (in host TSC
	 * time in the LAPIC) is intercepted, for vmm/msr.c to translate. */
	void (*set_tsc_offset)(struct vcpu *v);
	/* HLT exits (on) or halts the guest's core (off, the default).
	 * @pre on v's own CPU. */
	void (*set_hlt_exiting)(struct vcpu *v, bool on);
	/* End the guest's interrupt shadow (STI, MOV SS): after a halt
	 * emulated up to its wake-up. */
	void (*end_interrupt_shadow)(struct vcpu *v);
	/* Inject external interrupt `vector` at the next entry (the 8259A's,
	 * vmm/dev/pit_irq.c), unless the guest is in an interrupt shadow or
	 * an event is being injected already: false then. The caller has
	 * checked RFLAGS.IF. */
	bool (*inject_extint)(struct vcpu *v, uint8_t vector);
	uint64_t (*get_pat)(struct vcpu *v);
	void (*set_pat)(struct vcpu *v, uint64_t pat);
	/* Print the vendor state (for fatal reports). */
	void (*dump)(struct vcpu *v);
};

/* The ops chosen at boot; NULL until vmm_select_vendor(). */
extern const struct vcpu_ops *vcpu_ops;
extern const struct vcpu_ops svm_ops;
extern const struct vcpu_ops vmx_ops;

/* Run v until it stops (the domain is stopped by a handler or a fault). */
void vcpu_loop(struct vcpu *v);

#endif
