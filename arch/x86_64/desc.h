/*
 * Descriptor tables: GDT with a 64-bit TSS, the IDT. Layouts from Intel
 * SDM Vol. 3A 3.4.5 (segment descriptors), 7.2.3 (64-bit TSS) and 6.14.1
 * (64-bit IDT gate descriptors).
 */
#ifndef ARCH_X86_64_DESC_H
#define ARCH_X86_64_DESC_H

#include <stdint.h>

#define GDT_NULL     0
#define GDT_CODE64   1
#define GDT_DATA     2
#define GDT_TSS      3	/* 16 bytes: entries 3 and 4 */
#define GDT_ENTRIES  5

#define SEL_CODE64 (GDT_CODE64 * 8)
#define SEL_DATA   (GDT_DATA * 8)
#define SEL_TSS    (GDT_TSS * 8)

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];	/* IST1..IST7 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss64) == 104, "SDM Vol. 3A Figure 8-11");

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct idt_gate) == 16, "SDM Vol. 3A Figure 6-8");

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void idt_init(void);
void idt_load(void);

#endif
