/*
 * One trip into an SVM guest and back (APM Vol. 2 15.5, 15.5.2):
 *   svm_vmrun(vmcb, regs, host_vmcb_pa, v, e)
 * vmcb is the guest's VMCB, identity-mapped (its address is its physical
 * address). It does not return: after the exit it jumps to
 * svm_vcpu_exited(v, e) (svm.c), which returns to svm_vmrun's caller's
 * caller, so the trip costs one frame and one save of the host's
 * registers. GIF is clear from before the guest's state is loaded until
 * the host's is back, so nothing interrupts us in between. VMRUN itself
 * switches RAX, RSP, RIP, RFLAGS (copied here between struct guest_regs
 * and the VMCB), CRs, EFER and CS/SS/DS/ES/GDTR/IDTR; VMLOAD/VMSAVE
 * switch FS, GS, TR, LDTR and the syscall MSRs; the other general-purpose
 * registers are switched here from/to struct guest_regs (vmm/vcpu.h).
 */
#include "arch/x86_64/guest_regs.h"

/* VMCB save-area offsets (vmcb.h; checked in svm.c) */
#define VMCB_RFLAGS 0x570
#define VMCB_RIP    0x578
#define VMCB_RSP    0x5d8
#define VMCB_RAX    0x5f8

.macro VMCB_COPY from, to, scratch
	movq \from, \scratch
	movq \scratch, \to
.endm

	.text
	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %r8			/* 32(%rsp): e */
	pushq %rcx			/* 24(%rsp): v */
	pushq %rdx			/* 16(%rsp): host VMCB */
	pushq %rsi			/*  8(%rsp): regs */
	pushq %rdi			/*  0(%rsp): guest VMCB */

	VMCB_COPY R_RAX(%rsi), VMCB_RAX(%rdi), %rax
	VMCB_COPY R_RSP(%rsi), VMCB_RSP(%rdi), %rax
	VMCB_COPY R_RIP(%rsi), VMCB_RIP(%rdi), %rax
	VMCB_COPY R_RFLAGS(%rsi), VMCB_RFLAGS(%rdi), %rax

	clgi
	movq %rdi, %rax
	vmload %rax			/* guest FS/GS/TR/LDTR/syscall MSRs */
	movq %rsi, %rax
	LOAD_GUEST_GPRS %rax
	movq 0(%rsp), %rax
	vmrun %rax
	/* #VMEXIT: RAX (the guest VMCB) and RSP are the host's again; the
	 * rest are the guest's. */
	vmsave %rax

	movq 8(%rsp), %rax
	SAVE_GUEST_GPRS %rax
	movq 0(%rsp), %rdi
	VMCB_COPY VMCB_RAX(%rdi), R_RAX(%rax), %rcx
	VMCB_COPY VMCB_RSP(%rdi), R_RSP(%rax), %rcx
	VMCB_COPY VMCB_RIP(%rdi), R_RIP(%rax), %rcx
	VMCB_COPY VMCB_RFLAGS(%rdi), R_RFLAGS(%rax), %rcx

	movq 16(%rsp), %rax
	vmload %rax			/* the host's FS/GS (percpu)/TR/LDTR back */
	stgi

	addq $24, %rsp
	popq %rdi			/* v */
	popq %rsi			/* e */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	jmp svm_vcpu_exited
