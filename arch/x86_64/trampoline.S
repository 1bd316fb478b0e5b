/*
 * The application processors' way into long mode. Copied to a page below
 * 1 MiB; an AP starts here in real mode at CS:IP = (page >> 4):0 after the
 * SIPI (SDM Vol. 3A 9.4.4.2). Position independent: data is addressed
 * relative to CS in real mode and to RIP in long mode; the few absolute
 * addresses are patched by smp.c before each start (tr_* below).
 *
 * Real mode -> (PAE, LME, NXE, paging with the early tables, which map
 * 0..4 GiB executable) -> 64-bit code -> ap_entry64 in the image with
 * RDI = CPU index, RSI = the final CR3, RDX = stack top.
 */
#define MSR_EFER 0xc0000080

	.section .rodata.trampoline, "a"
	.balign 16
	.globl trampoline_start, trampoline_end
	.globl tr_gdt_desc, tr_jump64, tr_cr3_early, tr_cr3, tr_stack, tr_entry, tr_cpu, tr_long, tr_gdt
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tr_gdt_desc - trampoline_start
	movl %cr4, %eax
	orl $0x20, %eax				/* PAE */
	movl %eax, %cr4
	movl tr_cr3_early - trampoline_start, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	movl %cr0, %eax
	andl $0x9fffffff, %eax			/* caches on: CD, NW clear after INIT */
	orl $0x80010001, %eax			/* PG, WP, PE */
	movl %eax, %cr0
	ljmpl *(tr_jump64 - trampoline_start)

	.code64
tr_long:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movq tr_cpu(%rip), %rdi
	movq tr_cr3(%rip), %rsi
	movq tr_stack(%rip), %rdx
	movq tr_entry(%rip), %rax
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff		/* 0x10: data */
tr_gdt_desc:
	.short 23
	.long 0					/* patched: linear address of tr_gdt */
	.balign 4
tr_jump64:
	.long 0					/* patched: linear address of tr_long */
	.short 0x08
	.balign 8
tr_cr3_early:	.quad 0
tr_cr3:		.quad 0
tr_stack:	.quad 0
tr_entry:	.quad 0
tr_cpu:		.quad 0
trampoline_end:

/* Where the trampoline lands in the image: switch to the final page tables
 * (the trampoline page itself is not executable there), take the stack
 * and go to C. */
	.text
	.globl ap_entry64
ap_entry64:
	movq %rsi, %cr3
	movq %rdx, %rsp
	xorl %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b
