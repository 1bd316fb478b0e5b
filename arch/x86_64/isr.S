/*
 * Exception entry stubs for vectors 0..31, each ISR_STUB_SIZE (16) bytes
 * so the IDT can be filled by arithmetic. Vectors where the CPU pushes an
 * error code (SDM Vol. 3A 6.13: 8, 10-14, 17, 21, 29, 30) do not push a
 * dummy one. The common path saves every GPR into a struct trap_frame
 * (arch/x86_64/trap.h) and calls trap_handler(frame).
 */
	.section .text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

	.balign 16
isr_common:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
	cld
	movq %rsp, %rdi
	call trap_handler
	popq %rax
	popq %rbx
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbp
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	addq $16, %rsp		/* vector and error code */
	iretq

/*
 * void nmi_wait_insns(const volatile uint32_t *word, uint32_t val,
 *                     const volatile uint32_t *seen)
 * HLT unless *word != val or *seen != 0. An NMI between nmi_wait_begin and
 * nmi_wait_end resumes at nmi_wait_end (trap_handler moves RIP there), so
 * a wake-up that lands after the checks but before the HLT is not lost.
 */
	.globl nmi_wait_insns, nmi_wait_begin, nmi_wait_end
	.type nmi_wait_insns, @function
nmi_wait_insns:
nmi_wait_begin:
	cmpl %esi, (%rdi)
	jne nmi_wait_end
	cmpl $0, (%rdx)
	jne nmi_wait_end
	hlt
nmi_wait_end:
	ret
	.size nmi_wait_insns, . - nmi_wait_insns
