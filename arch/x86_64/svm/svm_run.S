/*
 * One trip into an SVM guest and back (APM Vol. 2 15.5, 15.5.2):
 *   svm_vmrun(guest_vmcb_pa, regs, host_vmcb_pa)
 * GIF is clear around the sequence (the caller does CLGI/STGI), so nothing
 * interrupts us between loading guest state and VMRUN. VMRUN itself
 * switches RAX, RSP, RIP, RFLAGS, CRs, EFER and CS/SS/DS/ES/GDTR/IDTR;
 * VMLOAD/VMSAVE switch FS, GS, TR, LDTR and the syscall MSRs; the other
 * general-purpose registers are ours to switch, from/to struct guest_regs
 * (vmm/vcpu.h: rax rbx rcx rdx rsi rdi rbp r8..r15, 8 bytes each).
 */
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

	.text
	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* 16(%rsp): host VMCB */
	pushq %rsi			/*  8(%rsp): regs */
	pushq %rdi			/*  0(%rsp): guest VMCB */

	movq %rdi, %rax
	vmload %rax			/* guest FS/GS/TR/LDTR/syscall MSRs */

	movq %rsi, %rax
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
	movq 0(%rsp), %rax
	vmrun %rax
	/* #VMEXIT: RAX/RSP are the host's again; the rest are the guest's. */
	vmsave %rax

	movq 8(%rsp), %rax
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

	movq 16(%rsp), %rax
	vmload %rax			/* the host's FS/GS (percpu)/TR/LDTR back */

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
