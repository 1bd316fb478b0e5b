/*
 * The instructions step=check single-steps over (step.c), one function
 * each: uint32_t step_NAME(void) sets RFLAGS.TF, runs the one instruction
 * under test, and returns the address just past it, where its #DB trap
 * must point. TF is set by POPF, which does not trap itself: the first
 * trap comes after the instruction that follows it (SDM Vol. 3A 18.3.1.4),
 * the one under test. The #DB handler (step.c) clears TF in the frame it
 * returns to, so nothing after it is stepped.
 */
#define TF 0x100

.macro SET_TF
	pushfl
	orl $TF, (%esp)
	popfl
.endm

.macro STEP name
	.globl step_\name
step_\name:
.endm

/* The end of a stub: the address of label 1 (past the instruction) in EAX. */
.macro STEP_END
	movl $1b, %eax
.endm

	.section .text
	.code32

/* A NOP: the CPU traps on its own, bare or not (the sanity case). */
STEP nop
	SET_TF
	nop
1:	STEP_END
	ret

/* CPUID leaf 0: always intercepted. */
STEP cpuid
	push %ebx
	xor %eax, %eax
	xor %ecx, %ecx
	SET_TF
	cpuid
1:	pop %ebx
	STEP_END
	ret

/* IN from the virtual UART's scratch register (COM1 + 7). */
STEP in_uart
	mov $0x3ff, %dx
	SET_TF
	inb %dx, %al
1:	STEP_END
	ret

/* IN from a port no one owns (refused: reads all ones). */
STEP in_refused
	mov $0x510, %dx
	SET_TF
	inb %dx, %al
1:	STEP_END
	ret

/* OUTSB (string I/O, one byte, no REP) to a refused port. */
STEP outsb_refused
	push %esi
	mov $step_byte, %esi
	mov $0x510, %dx
	SET_TF
	outsb
1:	pop %esi
	STEP_END
	ret

/* RDMSR of IA32_APIC_BASE, which the hypervisor emulates. */
STEP rdmsr
	mov $0x1b, %ecx
	SET_TF
	rdmsr
1:	STEP_END
	ret

/* WRMSR of IA32_APIC_BASE with the value it holds. */
STEP wrmsr
	mov $0x1b, %ecx
	rdmsr
	SET_TF
	wrmsr
1:	STEP_END
	ret

/* A read of the virtual IOAPIC's IOWIN (emulated MMIO; step.c selects
 * the version register in IOREGSEL first). */
STEP mmio
	SET_TF
	movl 0xfec00010, %eax
1:	STEP_END
	ret

/* The hypercall HC_VERSION with either vendor's instruction. */
STEP vmmcall
	xor %eax, %eax
	SET_TF
	vmmcall
1:	STEP_END
	ret

STEP vmcall
	xor %eax, %eax
	SET_TF
	vmcall
1:	STEP_END
	ret

/* CPUID in the shadow of a MOV SS: the trap of the MOV SS itself is held
 * until the instruction after it completes (SDM Vol. 3A 6.8.3), so one
 * #DB, past the CPUID, covers both. */
STEP movss_cpuid
	push %ebx
	xor %eax, %eax
	xor %ecx, %ecx
	mov %ss, %bx
	SET_TF
	mov %bx, %ss
	cpuid
1:	pop %ebx
	STEP_END
	ret

/*
 * uint32_t sti_cpuid(const volatile uint32_t *count): with an interrupt
 * pending and IF clear, STI then CPUID, then a read of *count. STI holds
 * interrupts off for the one instruction after it (SDM Vol. 3A 6.8.3):
 * the interrupt comes once CPUID completes, before the read, which then
 * sees it counted. Returns what the read saw; IF is clear again after.
 */
	.globl sti_cpuid
sti_cpuid:
	push %ebx
	push %esi
	mov 12(%esp), %esi
	xor %eax, %eax
	xor %ecx, %ecx
	sti
	cpuid
	mov (%esi), %eax
	cli
	pop %esi
	pop %ebx
	ret

	.section .data
step_byte:
	.byte 0x5a

	.section .note.GNU-stack, "", @progbits
