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
#include "arch/x86_64/guest_regs.h"

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
	LOAD_GUEST_GPRS %rax
	movq 0(%rsp), %rax
	vmrun %rax
	/* #VMEXIT: RAX/RSP are the host's again; the rest are the guest's. */
	vmsave %rax

	movq 8(%rsp), %rax
	SAVE_GUEST_GPRS %rax

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
