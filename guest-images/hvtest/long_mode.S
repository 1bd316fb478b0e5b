/*
 * The long-mode check: a round trip 32-bit -> 64-bit -> 32-bit.
 *
 * uint32_t long_mode_trip(uint32_t pml4, uint32_t marker,
 *                         const struct desc_ptr64 *idt64,
 *                         const struct desc_ptr32 *idt32);
 *
 * In: page tables identity-mapping the first GiB, also aliased at 4 GiB
 * (hvtest.c builds them); marker = a free qword above 4 MiB. Out: the
 * LM_FAIL_* bits of what went wrong in 64-bit mode (0 = all well), back
 * in 32-bit protected mode with paging off, as before the call.
 *
 * Entering follows Intel SDM Vol. 3A 10.8.5 (CR4.PAE, CR3, EFER.LME,
 * then CR0.PG, then a far jump to a code segment with L=1); leaving
 * follows 10.8.5.4 (far return to compatibility mode, clear CR0.PG from
 * identity-mapped code, then EFER.LME).
 */

#define SEL_CODE32 0x08
#define SEL_CODE64 0x18
#define CR0_PG     0x80000000
#define CR4_PAE    0x00000020
#define MSR_EFER   0xc0000080
#define EFER_LME   0x00000100
#define EFER_LMA   0x00000400

#define LM_FAIL_LMA    1
#define LM_FAIL_REG64  2
#define LM_FAIL_MARKER 4
#define LM_MARKER      0x3436747365747668	/* "hvtest64" */

#define PM1A_CNT       0x604
#define PM1_S5         0x3400	/* SLP_TYP=5 << 10 | SLP_EN (1 << 13) */
#define PM1_S5_QEMU    0x2000	/* SLP_TYP=0: QEMU's \_S5 */

	.section .text
	.code32
	.globl long_mode_trip
long_mode_trip:
	push %ebp
	push %ebx
	push %esi
	push %edi
	mov 20(%esp), %eax		/* pml4 */
	mov 24(%esp), %esi		/* marker address */
	mov 28(%esp), %ebx		/* idt64 descriptor */
	mov 32(%esp), %ebp		/* idt32 descriptor */

	mov %cr4, %ecx
	or $CR4_PAE, %ecx
	mov %ecx, %cr4
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0			/* now IA-32e mode, compatibility submode */
	ljmp $SEL_CODE64, $in_long_mode

	.code64
in_long_mode:
	/* Upper halves are undefined in 32-bit modes (SDM Vol. 1 3.4.1.1): zero-extend. */
	mov %esp, %esp
	mov %esi, %esi
	mov %ebx, %ebx
	mov %ebp, %ebp
	lidt (%rbx)			/* 64-bit gates from here until we leave */
	xor %edi, %edi			/* LM_FAIL_* bits */

	/* EFER.LMA: the CPU says long mode is active. */
	mov $MSR_EFER, %ecx
	rdmsr
	test $EFER_LMA, %eax
	jnz 1f
	or $LM_FAIL_LMA, %edi
1:
	/* A 64-bit register: only with CS.L=1 does this decode as one movabs. */
	movabs $0x0123456789abcdef, %rax
	mov %rax, %rdx
	shr $32, %rdx
	cmp $0x01234567, %edx
	je 1f
	or $LM_FAIL_REG64, %edi
1:
	/* Write the marker through its alias at 4 GiB + marker, read it at marker. */
	movabs $0x100000000, %rbx
	add %rsi, %rbx
	movabs $LM_MARKER, %rax
	mov %rax, (%rbx)
	mov (%rsi), %rdx
	cmp %rax, %rdx
	je 1f
	or $LM_FAIL_MARKER, %edi
1:
	movq $0, (%rsi)
	pushq $SEL_CODE32
	mov $leave_long_mode, %eax	/* a 32-bit immediate: ELF32 has no 32S relocation */
	push %rax
	lretq

	.code32
leave_long_mode:
	mov %cr0, %eax
	and $~CR0_PG, %eax
	mov %eax, %cr0			/* IA-32e mode off (EFER.LMA clears) */
	lidt (%ebp)
	mov $MSR_EFER, %ecx
	rdmsr
	and $~EFER_LME, %eax
	wrmsr
	mov %cr4, %eax
	and $~CR4_PAE, %eax
	mov %eax, %cr4
	mov %edi, %eax
	pop %edi
	pop %esi
	pop %ebx
	pop %ebp
	ret

/* ---- 64-bit exception stubs: report, then power off ---------------------- */
	.code64
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
trap64_\v:
	pushq $\v
	jmp trap64_common
	.endr

trap64_common:
	cli
	pop %rbx			/* vector */
	mov $trap64_msg, %esi
	call puts64
	mov %ebx, %eax
	shr $4, %eax
	call putx64
	mov %ebx, %eax
	call putx64
	mov $'\n', %eax
	call putc64
	mov $PM1A_CNT, %edx
	mov $PM1_S5, %eax
	out %ax, %dx
	mov $PM1_S5_QEMU, %eax
	out %ax, %dx
1:	cli
	hlt
	jmp 1b

/* The low nibble of %eax as a hex digit. */
putx64:
	and $0xf, %eax
	mov $hex_digits, %ecx
	add %ecx, %eax
	movzbl (%rax), %eax
	jmp putc64

/* %rsi: NUL-terminated string. */
puts64:
	movzbl (%rsi), %eax
	test %al, %al
	jz 1f
	call putc64
	inc %rsi
	jmp puts64
1:	ret

/* %al to COM1 once THR is empty (16550 LSR bit 5), or after a bounded wait. */
putc64:
	mov %eax, %r8d
	mov $1000000, %ecx
	mov $0x3fd, %edx
1:	in %dx, %al
	test $0x20, %al
	jnz 2f
	dec %ecx
	jnz 1b
2:	mov $0x3f8, %edx
	mov %r8d, %eax
	out %al, %dx
	ret

	.section .rodata
trap64_msg:
	.asciz "hvtest: FAIL long-mode: unexpected exception in 64-bit mode, vector 0x"
hex_digits:
	.ascii "0123456789abcdef"

	.balign 4
	.globl trap_stubs64
trap_stubs64:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap64_\v
	.endr

	.section .note.GNU-stack, "", @progbits
