/*
 * An exception in the hypervisor is a bug in the hypervisor: report
 * everything a developer needs (vector, error code, CPU, registers,
 * control registers, a frame-pointer stack trace) and halt that CPU.
 * Guests never get here: their faults are VM exits, handled in vmm/.
 */
#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kernel/printk.h"

static const char *const exception_names[ISR_VECTORS] = {
	[0] = "#DE divide error",	[1] = "#DB debug",
	[2] = "NMI",			[3] = "#BP breakpoint",
	[4] = "#OF overflow",		[5] = "#BR bound range",
	[6] = "#UD invalid opcode",	[7] = "#NM device not available",
	[8] = "#DF double fault",	[9] = "coprocessor segment overrun",
	[10] = "#TS invalid TSS",	[11] = "#NP segment not present",
	[12] = "#SS stack fault",	[13] = "#GP general protection",
	[14] = "#PF page fault",	[16] = "#MF x87 error",
	[17] = "#AC alignment check",	[18] = "#MC machine check",
	[19] = "#XM SIMD error",	[20] = "#VE virtualization",
	[21] = "#CP control protection", [28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",	[30] = "#SX security",
};

static bool in_stack(const struct percpu *c, uintptr_t p, size_t len)
{
	if (p + len < p)
		return false;
	if (p >= c->stack.bottom && p + len <= c->stack.top)
		return true;
	for (unsigned i = 1; i <= IST_COUNT; i++)
		if (p >= c->ist[i].bottom && p + len <= c->ist[i].top)
			return true;
	return false;
}

/* Follow the RBP chain (the image is built with frame pointers), only
 * through frames that lie in this CPU's stacks: a trace must never fault. */
static void print_stack_trace(const struct percpu *c, const struct trap_frame *f)
{
	uintptr_t fp = f->rbp, last = 0;
	unsigned repeats = 0;

	printk(LOG_ERR, "stack trace (addr2line -e build/hv.elf ADDR):\n");
	printk(LOG_ERR, "  0x%016llx\n", (unsigned long long)f->rip);
	for (unsigned depth = 0; depth < 256; depth++) {
		if ((fp & 7) || !in_stack(c, fp, 16))
			break;
		const uintptr_t *frame = (const uintptr_t *)fp;
		if (frame[1] == 0)
			break;
		if (frame[1] == last) {		/* deep recursion: say it once */
			repeats++;
		} else {
			if (repeats)
				printk(LOG_ERR, "  (the frame above %u more times)\n", repeats);
			repeats = 0;
			last = frame[1];
			printk(LOG_ERR, "  0x%016llx\n", (unsigned long long)last);
		}
		if (frame[0] <= fp)	/* stacks grow down: callers are higher */
			break;
		fp = frame[0];
	}
	if (repeats)
		printk(LOG_ERR, "  (the frame above %u more times)\n", repeats);
}

static void print_registers(const struct trap_frame *f)
{
	printk(LOG_ERR, "RIP %016llx CS %04llx RFLAGS %016llx\n",
	       (unsigned long long)f->rip, (unsigned long long)f->cs,
	       (unsigned long long)f->rflags);
	printk(LOG_ERR, "RSP %016llx SS %04llx\n",
	       (unsigned long long)f->rsp, (unsigned long long)f->ss);
	printk(LOG_ERR, "RAX %016llx RBX %016llx RCX %016llx\n",
	       (unsigned long long)f->rax, (unsigned long long)f->rbx, (unsigned long long)f->rcx);
	printk(LOG_ERR, "RDX %016llx RSI %016llx RDI %016llx\n",
	       (unsigned long long)f->rdx, (unsigned long long)f->rsi, (unsigned long long)f->rdi);
	printk(LOG_ERR, "RBP %016llx R8  %016llx R9  %016llx\n",
	       (unsigned long long)f->rbp, (unsigned long long)f->r8, (unsigned long long)f->r9);
	printk(LOG_ERR, "R10 %016llx R11 %016llx R12 %016llx\n",
	       (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	printk(LOG_ERR, "R13 %016llx R14 %016llx R15 %016llx\n",
	       (unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
	printk(LOG_ERR, "CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx\n",
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
	       (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

static uint64_t nmi_count[MAX_CPUS];
volatile uint32_t nmi_seen[MAX_CPUS];	/* trap.h: nmi_noted() reads it */

void nmi_note(void)
{
	uint32_t cpu = this_cpu()->cpu_id % MAX_CPUS;

	__atomic_add_fetch(&nmi_count[cpu], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&nmi_seen[cpu], 1, __ATOMIC_RELEASE);
}

bool nmi_take(void)
{
	return __atomic_exchange_n(&nmi_seen[this_cpu()->cpu_id % MAX_CPUS], 0, __ATOMIC_ACQ_REL);
}

extern void nmi_wait_insns(const volatile uint32_t *word, uint32_t val,
			   const volatile uint32_t *seen);
extern const char nmi_wait_begin[], nmi_wait_end[];

void nmi_wait(const volatile uint32_t *word, uint32_t val)
{
	nmi_wait_insns(word, val, &nmi_seen[this_cpu()->cpu_id % MAX_CPUS]);
}

void nmi_unblock(void)
{
	/* An IRET to the next instruction, with a frame made by hand. */
	__asm__ volatile("mov %%rsp, %%rax\n\t"
			 "push %0\n\t"
			 "push %%rax\n\t"
			 "pushfq\n\t"
			 "push %1\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "push %%rax\n\t"
			 "iretq\n"
			 "1:"
			 :: "i"(SEL_DATA), "i"(SEL_CODE64) : "rax", "memory", "cc");
}

void trap_handler(struct trap_frame *f)
{
	const struct percpu *c = this_cpu();
	unsigned vec = (unsigned)f->vector;
	const char *name = vec < ISR_VECTORS && exception_names[vec] ? exception_names[vec]
								       : "reserved";

	if (vec == 2) {
		/* Print nothing: it may have come while this CPU held the
		 * console lock. (On SVM, an NMI that made a guest exit is held
		 * pending and arrives here at STGI.) */
		nmi_note();
		if (f->rip >= (uintptr_t)nmi_wait_begin && f->rip < (uintptr_t)nmi_wait_end)
			f->rip = (uintptr_t)nmi_wait_end;	/* do not halt now */
		return;
	}
	printk_panic_mode();
	printk(LOG_ERR, "PANIC: CPU %u: exception %u (%s), error code 0x%llx\n",
	       c->cpu_id, vec, name, (unsigned long long)f->error);
	if (vec == 14)
		printk(LOG_ERR, "page fault at 0x%llx: %s, %s, %s%s\n",
		       (unsigned long long)read_cr2(),
		       f->error & 1 ? "protection violation" : "page not present",
		       f->error & 2 ? "write" : "read",
		       f->error & 16 ? "instruction fetch" : "data access",
		       f->error & 8 ? ", reserved bit set" : "");
	print_registers(f);
	print_stack_trace(c, f);
	printk(LOG_ERR, "CPU %u halted\n", c->cpu_id);
	cpu_halt_forever();
}
