/* Exceptions taken by the hypervisor itself. */
#ifndef ARCH_X86_64_TRAP_H
#define ARCH_X86_64_TRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Saved by arch/x86_64/isr.S, lowest address first. */
struct trap_frame {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

/* isr.S relies on these. */
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "isr.S frame layout");
_Static_assert(offsetof(struct trap_frame, rip) == 17 * 8, "isr.S frame layout");
_Static_assert(sizeof(struct trap_frame) % 16 == 0, "isr.S keeps RSP 16-aligned");

void trap_handler(struct trap_frame *f);

/*
 * NMIs are the hypervisor's doorbell: other CPUs send one to make a CPU
 * leave its guest (a domain stopping, a virtual interrupt to deliver), and
 * the console UART's interrupt arrives as one on the console CPU. The NMI
 * itself only notes that it came (it may interrupt anything, the console
 * lock included); the CPU acts on it at its next safe point with
 * nmi_take().
 */
void nmi_note(void);
/* Whether an NMI came since the last call, on this CPU (and forget it). */
bool nmi_take(void);
/* Whether one is noted on CPU cpu (this one), without taking it: a load,
 * for the exit path to test before it calls anything. */
extern volatile uint32_t nmi_seen[];
static inline bool nmi_noted(uint32_t cpu)
{
	return __atomic_load_n(&nmi_seen[cpu], __ATOMIC_RELAXED) != 0;
}
/* After a VMX NMI exit: end the NMI blocking it left behind (an IRET). */
void nmi_unblock(void);
/* Halt this CPU while *word == val and no NMI is noted; any NMI wakes it
 * (none is lost between the check and the halt). Callers loop. */
void nmi_wait(const volatile uint32_t *word, uint32_t val);

/* The entry stubs, one per vector 0..31, laid out every ISR_STUB_SIZE bytes. */
extern const char isr_stubs[];
#define ISR_STUB_SIZE 16
#define ISR_VECTORS 32

#endif
