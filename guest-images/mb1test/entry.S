/*
 * mb1test entry: the multiboot (version 1) header and _start. Entered as
 * Multiboot 0.6.96 3.2 says: 32-bit protected mode, paging off, EAX =
 * 0x2BADB002, EBX = the multiboot information structure. GDTR, ESP are
 * not ours to trust: a flat GDT and our own stack first.
 */
#define MB1_HEADER_MAGIC 0x1BADB002
/* bit 0: modules page aligned; bit 1: memory information */
#define MB1_HEADER_FLAGS 0x00000003

#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define STACK_SIZE 8192

/* ---- multiboot header (spec 3.1.1): 4-byte aligned, in the first 8 KiB -- */
	.section .multiboot, "a"
	.balign 4
	.long MB1_HEADER_MAGIC
	.long MB1_HEADER_FLAGS
	.long -(MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)

	.section .data
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, 32-bit, flat 4 GiB */
	.quad 0x00cf92000000ffff	/* 0x10: data, writable, flat 4 GiB */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 16
stack_bottom:
	.skip STACK_SIZE
stack_top:

	.section .text
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %ebp			/* magic */
	mov %ebx, %esi			/* info structure */
	lgdt gdt_ptr
	ljmp $SEL_CODE32, $1f
1:	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov $stack_top, %esp
	push %esi
	push %ebp
	call mb1test_main
2:	cli
	hlt
	jmp 2b

	.section .note.GNU-stack, "", @progbits
