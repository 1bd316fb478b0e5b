/*
 * One trip into a VMX guest and back (SDM Vol. 3C 26, 28):
 *   vmx_enter(struct guest_regs *regs, int launched, v, e)
 * It does not return: after the exit, or when the entry fails (VMfail),
 * it jumps to vmx_vcpu_exited(v, e, failed) (vmx.c), which returns to
 * vmx_enter's caller's caller, so the trip costs one frame and one save
 * of the host's registers. Guest RSP, RIP and RFLAGS live in the VMCS;
 * the other general-purpose registers are switched here from/to struct
 * guest_regs (vmm/vcpu.h: rax rbx rcx rdx rsi rdi rbp r8..r15). HOST_RSP
 * is written just before entry so the exit lands on this frame; HOST_RIP
 * is vmx_exit_point (set once).
 */
#include "arch/x86_64/guest_regs.h"
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
	pushq %rcx			/* 16(%rsp): e */
	pushq %rdx			/*  8(%rsp): v */
	pushq %rdi			/*  0(%rsp): regs, found again at exit */

	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax

	movq %rdi, %rax
	testl %esi, %esi
	LOAD_GUEST_GPRS %rax
	movq R_RAX(%rax), %rax		/* movs leave the flags of testl alone */
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* VMfail: we are still in the host, on our own frame. */
	movl $1, %edx
	jmp 3f

vmx_exit_point:
	pushq %rax
	movq 8(%rsp), %rax		/* regs */
	SAVE_GUEST_GPRS %rax
	popq %rbx
	movq %rbx, R_RAX(%rax)
	xorl %edx, %edx
3:	addq $8, %rsp
	popq %rdi			/* v */
	popq %rsi			/* e */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	jmp vmx_vcpu_exited
