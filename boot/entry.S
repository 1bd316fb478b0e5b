/*
 * Entry stubs. Two ways in, one way on:
 *  - _start32: multiboot2 (GRUB, BIOS or UEFI) enters in 32-bit protected
 *    mode, paging off, EAX = magic, EBX = info (Multiboot2 spec 3.3).
 *  - _start64: our EFI loader enters in long mode on the firmware's
 *    identity page tables, RDI = magic, RSI = info.
 * Both load the early page tables below (0..4 GiB identity, 2 MiB pages),
 * the early GDT, a boot stack, clear .bss and call
 * kernel_main(magic, info). C then builds the final page tables.
 */
#include "boot/multiboot2.h"

#define CR0_PE   (1 << 0)
#define CR0_PG   (1 << 31)
#define CR4_PAE  (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define PTE_P    0x1
#define PTE_RW   0x2
#define PTE_PS   0x80
#define BOOT_CS  0x08
#define BOOT_DS  0x10

/* ---- Multiboot2 header (spec 3.1) ---- */
	.section .mb2hdr, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	.balign 8
	.short MB2_HDR_TAG_ENTRY, 0	/* entry address tag (3.1.6) */
	.long 12
	.long _start32
	.balign 8
	.short MB2_HDR_TAG_MODULE_ALIGN, 0	/* page-aligned modules (3.1.11) */
	.long 8
	.balign 8
	.short MB2_HDR_TAG_END, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"

/* ---- 32-bit entry ---- */
	.code32
	.globl _start32
_start32:
	cli
	cld
	movl %eax, %edi			/* keep magic and info for C */
	movl %ebx, %esi

	/* Long mode needs CPUID 0x80000001 EDX.LM[29]. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $early_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
	lgdt early_gdt_desc
	ljmp $BOOT_CS, $start64_common

	/* Say why on COM1 (the console is not up yet) and stop. */
no_long_mode:
	movl $msg_no_lm, %esi
1:	lodsb
	testb %al, %al
	jz 3f
	movw $0x3fd, %dx		/* LSR: wait for THR empty */
	movb %al, %ah
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movb %ah, %al
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 1b
3:	hlt
	jmp 3b

/* ---- 64-bit entry (EFI loader) ---- */
	.code64
	.globl _start64
_start64:
	cli
	cld
	movq $early_pml4, %rax		/* identity: link == load address */
	movq %rax, %cr3
	lgdt early_gdt_desc
	pushq $BOOT_CS
	pushq $start64_common
	lretq

start64_common:
	movl $BOOT_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %edi, %edi			/* zero-extend magic and info */
	movl %esi, %esi
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp

	movq %rdi, %r12			/* clear .bss (loaders should, but) */
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb
	movq %r12, %rdi

	call kernel_main
4:	cli
	hlt
	jmp 4b

	.section .rodata
msg_no_lm:
	.asciz "hv: this CPU has no long mode (x86-64); cannot boot\r\n"

/* ---- Early GDT and page tables ---- */
	.balign 16
early_gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff		/* 0x10: data */
early_gdt_end:
early_gdt_desc:
	.short early_gdt_end - early_gdt - 1
	.quad early_gdt

	.section .data.pgtable, "aw"
	.balign 4096
	.globl early_pml4
early_pml4:
	.quad early_pdpt + PTE_P + PTE_RW
	.fill 511, 8, 0
early_pdpt:
	.quad early_pd + 0x0000 + PTE_P + PTE_RW
	.quad early_pd + 0x1000 + PTE_P + PTE_RW
	.quad early_pd + 0x2000 + PTE_P + PTE_RW
	.quad early_pd + 0x3000 + PTE_P + PTE_RW
	.fill 508, 8, 0
early_pd:				/* 2048 x 2 MiB = 4 GiB */
	.set pde, PTE_P + PTE_RW + PTE_PS
	.rept 2048
	.quad pde
	.set pde, pde + 0x200000
	.endr

	.section .bss
	.balign 4096
	.globl boot_stack_guard, boot_stack_top
boot_stack_guard:			/* unmapped by paging_init */
	.skip 4096
boot_stack:
	.skip 16384
boot_stack_top:
