/*
 * Assembly helpers shared by the SVM and VMX entry code: loading and
 * saving the guest's general-purpose registers from/to struct guest_regs
 * (vmm/vcpu.h; the offsets below are checked by _Static_assert in svm.c
 * and vmx.c). RAX and RSP are the vendor's business and not touched by
 * the macros.
 */
#ifndef ARCH_X86_64_GUEST_REGS_H
#define ARCH_X86_64_GUEST_REGS_H

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
#define R_RSP 120
#define R_RIP 128
#define R_RFLAGS 136

#ifdef __ASSEMBLER__
/* All but RAX/RSP from the struct at \base (a register other than those loaded). */
.macro LOAD_GUEST_GPRS base
	movq R_RBX(\base), %rbx
	movq R_RCX(\base), %rcx
	movq R_RDX(\base), %rdx
	movq R_RSI(\base), %rsi
	movq R_RDI(\base), %rdi
	movq R_RBP(\base), %rbp
	movq R_R8(\base), %r8
	movq R_R9(\base), %r9
	movq R_R10(\base), %r10
	movq R_R11(\base), %r11
	movq R_R12(\base), %r12
	movq R_R13(\base), %r13
	movq R_R14(\base), %r14
	movq R_R15(\base), %r15
.endm

.macro SAVE_GUEST_GPRS base
	movq %rbx, R_RBX(\base)
	movq %rcx, R_RCX(\base)
	movq %rdx, R_RDX(\base)
	movq %rsi, R_RSI(\base)
	movq %rdi, R_RDI(\base)
	movq %rbp, R_RBP(\base)
	movq %r8, R_R8(\base)
	movq %r9, R_R9(\base)
	movq %r10, R_R10(\base)
	movq %r11, R_R11(\base)
	movq %r12, R_R12(\base)
	movq %r13, R_R13(\base)
	movq %r14, R_R14(\base)
	movq %r15, R_R15(\base)
.endm
#endif

#endif
