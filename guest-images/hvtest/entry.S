/*
 * hvtest entry: the multiboot2 header, _start (own GDT, zeroed bss, own
 * stack), the 32-bit exception stubs and the hypercall instructions.
 * Entered as Multiboot2 spec 3.3 says: 32-bit protected mode, paging
 * off, EAX = magic, EBX = info block; GDTR, IDTR and ESP are not ours to
 * trust, so we load our own before using them.
 */
#include "boot/multiboot2.h"

#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define STACK_SIZE 16384

/* ---- multiboot2 header (spec 3.1): 8-byte aligned, in the first 32 KiB -- */
	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	/* checksum: magic + arch + length + checksum == 0 (mod 2^32) */
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* END tag (3.1.3): type 0, flags 0, size 8. An ELF needs no address tag. */
	.word MB2_HDR_TAG_END, 0
	.long 8
mb2_header_end:

/* ---- GDT: flat 4 GiB segments (SDM Vol. 3A 3.4.5) ----------------------- */
	.section .data
	.balign 8
	.globl gdt
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, 32-bit (D=1), G=1, limit 4 GiB */
	.quad 0x00cf92000000ffff	/* 0x10: data, writable, B=1, G=1 */
	.quad 0x00af9a000000ffff	/* 0x18: code, 64-bit (L=1, D=0), for the long-mode check */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 16
stack_bottom:
	.skip STACK_SIZE
stack_top:

/* ---- _start ---------------------------------------------------------------- */
	.section .text
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %ebp			/* magic */
	mov %ebx, %esi			/* info block */
	lgdt gdt_ptr
	ljmp $SEL_CODE32, $1f
1:	mov $SEL_DATA, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %fs
	mov %eax, %gs
	mov %eax, %ss
	/* The loader zeroes bss (ELF p_memsz); do it again rather than trust it. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb
	mov $stack_top, %esp
	push %esi
	push %ebp
	call hvtest_main
2:	cli
	hlt
	jmp 2b

/* ---- exception stubs: vectors 0-31 -> trap_handler(struct trap_frame *) -- */
/* Vectors with a CPU-pushed error code (SDM Vol. 3A 6.13, Table 6-1). */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
trap32_\v:
	.if HAS_ERROR(\v) == 0
	pushl $0
	.endif
	pushl $\v
	jmp trap32_common
	.endr

trap32_common:
	pusha
	push %esp			/* struct trap_frame * */
	call trap_handler
	add $4, %esp
	popa
	add $8, %esp			/* vector, error code */
	iret

	.section .rodata
	.balign 4
	.globl trap_stubs32
trap_stubs32:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap32_\v
	.endr

/* ---- interrupt stubs: vectors 32-255, 16 bytes apart -------------------- */
/*
 * Each counts its vector in irq_count[], writes all ones to the register
 * irq_ack[vector] names, if any (a level-triggered device line must be
 * acknowledged at the device before the EOI, or it fires again at once),
 * and sends the x2APIC EOI (MSR 0x80b, SDM Vol. 3A 11.12.1.2): the
 * hypervisor leaves the domain its LAPIC in x2APIC mode, and an interrupt
 * from a passed-through device lands here with no exit.
 */
#define MSR_X2APIC_EOI 0x80b

	.section .text
	.balign 16
	.globl irq_stubs32
irq_stubs32:
	.set vec, 32
	.rept 224
	.balign 16
	pushl $vec
	jmp irq32_common
	.set vec, vec + 1
	.endr

irq32_common:
	push %eax
	push %ecx
	push %edx
	mov 12(%esp), %eax
	lock incl irq_count(,%eax,4)
	mov irq_ack(,%eax,4), %ecx
	test %ecx, %ecx
	jz 1f
	movl $0xffffffff, (%ecx)
1:	mov lapic_eoi_mmio, %ecx	/* xAPIC mode: the EOI register's address */
	test %ecx, %ecx
	jnz 2f
	mov $MSR_X2APIC_EOI, %ecx
	xor %eax, %eax
	xor %edx, %edx
	wrmsr
	jmp 3f
2:	movl $0, (%ecx)
3:	pop %edx
	pop %ecx
	pop %eax
	add $4, %esp
	iret

/* ---- hypercalls: uint32_t hypercall_vmmcall(uint32_t nr), ..._vmcall --- */
/*
 * RAX = number in, result out. Without a hypervisor the instruction
 * raises #UD; the .extable entry makes trap_handler resume after it with
 * EAX unchanged and fixup_vector set.
 */
	.section .text
	.globl hypercall_vmmcall
hypercall_vmmcall:
	mov 4(%esp), %eax
1:	vmmcall				/* AMD APM Vol. 3: 0f 01 d9 */
2:	ret
	.section .extable, "a"
	.long 1b, 2b
	.previous

	.globl hypercall_vmcall
hypercall_vmcall:
	mov 4(%esp), %eax
1:	vmcall				/* Intel SDM Vol. 2: 0f 01 c1 */
2:	ret
	.section .extable, "a"
	.long 1b, 2b
	.previous

/* ---- MSRs that may fault: uint64_t msr_read_fixup(uint32_t msr), ------
 * void msr_write_fixup(uint32_t msr, uint32_t lo, uint32_t hi). A #GP
 * resumes after the instruction (the .extable entry) with fixup_vector
 * set; the read's result is then 0. */
	.globl msr_read_fixup
msr_read_fixup:
	mov 4(%esp), %ecx
	xor %eax, %eax
	xor %edx, %edx
1:	rdmsr
2:	ret
	.section .extable, "a"
	.long 1b, 2b
	.previous

	.globl msr_write_fixup
msr_write_fixup:
	mov 4(%esp), %ecx
	mov 8(%esp), %eax
	mov 12(%esp), %edx
1:	wrmsr
2:	ret
	.section .extable, "a"
	.long 1b, 2b
	.previous

	.section .note.GNU-stack, "", @progbits
