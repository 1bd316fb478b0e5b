/*
 * step=check: what a debugger in the guest relies on around the
 * instructions the hypervisor emulates (README.md).
 *
 * single-step: with RFLAGS.TF set, each instruction of step.S ends in
 * exactly one #DB, a trap with DR6.BS set whose saved EIP is just past
 * the instruction (SDM Vol. 3A 18.3.1.4, 18.2.3), whether the CPU ran it
 * (NOP) or the hypervisor emulated it (CPUID, port I/O, string I/O,
 * RDMSR/WRMSR, MMIO, the hypercall), and also for a CPUID in a MOV SS
 * shadow, whose trap covers the MOV SS as well.
 *
 * interrupt-shadow: an interrupt pending behind STI arrives once the
 * instruction after the STI completes, when that instruction is an
 * emulated CPUID too (SDM Vol. 3A 6.8.3; APM Vol. 2 15.21.5).
 *
 * The output is the same on both vendors (the hypercall's instruction is
 * not named).
 */
#include "guest-images/hvtest/hvtest.h"
#include "guest-images/hvtest/io.h"

#define RFLAGS_TF     (1u << 8)
#define DR6_BS        (1u << 14)
#define DR6_INIT      0xffff0ff0u	/* DR6 as reset leaves it (SDM Vol. 3A 18.2.3) */
#define IOAPIC_BASE   0xfec00000u
#define SHADOW_VECTOR 0xe0
#define MSR_X2APIC_ICR 0x830

uint32_t step_nop(void), step_cpuid(void), step_in_uart(void), step_in_refused(void),
	 step_outsb_refused(void), step_rdmsr(void), step_wrmsr(void), step_mmio(void),
	 step_vmmcall(void), step_vmcall(void), step_movss_cpuid(void);
uint32_t sti_cpuid(const volatile uint32_t *count);

/* What the #DB handler saw: how many came, the first one's EIP and DR6. */
static volatile uint32_t db_count, db_eip, db_dr6;

static inline uint32_t read_dr6(void)
{
	uint32_t v;
	__asm__ volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr6(uint32_t v)
{
	__asm__ volatile("mov %0, %%dr6" : : "r"(v));
}

/* The #DB handler while the check runs: note it, clear DR6 (the CPU only
 * sets its bits) and TF in the frame, so that one trap ends the step. */
static void step_db(struct trap_frame *f)
{
	if (db_count++ == 0) {
		db_eip = f->eip;
		db_dr6 = read_dr6();
	}
	write_dr6(DR6_INIT);
	f->eflags &= ~RFLAGS_TF;
}

struct step_case {
	const char *name;
	uint32_t (*run)(void);
};

static void step_one(const struct step_case *c, struct strbuf *why)
{
	db_count = 0;
	write_dr6(DR6_INIT);
	uint32_t past = c->run();

	if (db_count != 1)
		problem(why, "%s: %u #DB (want 1)", c->name, db_count);
	else if (db_eip != past)
		problem(why, "%s: #DB at 0x%x, not just past the instruction (0x%x)", c->name,
			db_eip, past);
	else if (!(db_dr6 & DR6_BS))
		problem(why, "%s: DR6 0x%x without BS", c->name, db_dr6);
}

static void check_single_step(void)
{
	char vendor[13], mem[256];
	struct strbuf why = STRBUF_INIT(mem);

	cpu_vendor(vendor);
	bool intel = str_eq(vendor, "GenuineIntel");
	const struct step_case cases[] = {
		{ "nop", step_nop },
		{ "cpuid", step_cpuid },
		{ "in-uart", step_in_uart },
		{ "in-refused", step_in_refused },
		{ "outsb-refused", step_outsb_refused },
		{ "rdmsr", step_rdmsr },
		{ "wrmsr", step_wrmsr },
		{ "mmio", step_mmio },
		{ "hypercall", intel ? step_vmcall : step_vmmcall },
		{ "movss-cpuid", step_movss_cpuid },
	};
	const unsigned n = sizeof(cases) / sizeof(cases[0]);

	mem[0] = '\0';
	*(volatile uint32_t *)(uintptr_t)IOAPIC_BASE = 1;	/* IOREGSEL: the version register */
	db_hook = step_db;
	for (unsigned i = 0; i < n; i++)
		step_one(&cases[i], &why);
	db_hook = 0;
	if (why.len)
		fail("%s", mem);
	else
		pass("(%u instructions, one #DB each, DR6.BS, EIP past the instruction)", n);
}

static void check_interrupt_shadow(void)
{
	volatile uint32_t *count = &irq_count[SHADOW_VECTOR];
	uint32_t self = lapic_start();

	__asm__ volatile("cli");
	*count = 0;
	/* A fixed IPI to ourselves, held pending while IF is clear. */
	wrmsr(MSR_X2APIC_ICR, (uint64_t)self << 32 | SHADOW_VECTOR);
	for (unsigned i = 0; i < 10000; i++)
		__asm__ volatile("pause");
	if (*count) {
		fail("the self-IPI came with IF clear");
		return;
	}
	uint32_t seen = sti_cpuid(count);
	if (*count != 1)
		fail("the self-IPI was taken %u times (want 1)", *count);
	else if (!seen)
		fail("the interrupt came after the instruction after CPUID: STI's shadow outlived the CPUID");
	else
		pass("(the interrupt pending behind STI came as the CPUID completed)");
}

void step_tests_run(void)
{
	run_check("single-step", check_single_step);
	run_check("interrupt-shadow", check_interrupt_shadow);
}
