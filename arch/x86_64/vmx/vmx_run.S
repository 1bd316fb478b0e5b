/*
 * One trip into a VMX guest and back (SDM Vol. 3C 26, 28):
 *   int vmx_enter(struct guest_regs *regs, int launched)
 * Guest RSP, RIP and RFLAGS live in the VMCS; the other general-purpose
 * registers are switched here from/to struct guest_regs (vmm/vcpu.h: rax
 * rbx rcx rdx rsi rdi rbp r8..r15). HOST_RSP is written just before entry
 * so the exit lands on this frame; HOST_RIP is vmx_exit_point (set once).
 */
#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8  56
#define R_R9  64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112
#define VMCS_HOST_RSP 0x6c14

	.text
	.globl vmx_enter, vmx_exit_point
vmx_enter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* 0(%rsp): regs, found again at exit */

	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax

	movq %rdi, %rax
	testl %esi, %esi
	movq R_RBX(%rax), %rbx
	movq R_RCX(%rax), %rcx
	movq R_RDX(%rax), %rdx
	movq R_RSI(%rax), %rsi
	movq R_RDI(%rax), %rdi
	movq R_RBP(%rax), %rbp
	movq R_R8(%rax), %r8
	movq R_R9(%rax), %r9
	movq R_R10(%rax), %r10
	movq R_R11(%rax), %r11
	movq R_R12(%rax), %r12
	movq R_R13(%rax), %r13
	movq R_R14(%rax), %r14
	movq R_R15(%rax), %r15
	movq R_RAX(%rax), %rax		/* movs leave the flags of testl alone */
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* VMfail: we are still in the host, on our own frame. */
	popq %rdi
	movl $1, %eax
	jmp 3f

vmx_exit_point:
	pushq %rax
	movq 8(%rsp), %rax		/* regs */
	movq %rbx, R_RBX(%rax)
	movq %rcx, R_RCX(%rax)
	movq %rdx, R_RDX(%rax)
	movq %rsi, R_RSI(%rax)
	movq %rdi, R_RDI(%rax)
	movq %rbp, R_RBP(%rax)
	movq %r8, R_R8(%rax)
	movq %r9, R_R9(%rax)
	movq %r10, R_R10(%rax)
	movq %r11, R_R11(%rax)
	movq %r12, R_R12(%rax)
	movq %r13, R_R13(%rax)
	movq %r14, R_R14(%rax)
	movq %r15, R_R15(%rax)
	popq %rbx
	movq %rbx, R_RAX(%rax)
	popq %rdi
	xorl %eax, %eax
3:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
