/*
 * The legacy 8259 PICs: the firmware may leave them unmasked with the PIT
 * ticking, and their default vectors (0x08-0x0f) collide with exceptions.
 * The hypervisor takes no legacy interrupts: remap them out of the way
 * (0x20-0x2f, ICW sequence per the 8259A data sheet) and mask them all.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pic.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

void pic_disable(void)
{
	outb(PIC1_CMD, 0x11);	/* ICW1: init, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, 0x20);	/* ICW2: vector base */
	outb(PIC2_DATA, 0x28);
	outb(PIC1_DATA, 0x04);	/* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);	/* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);	/* mask everything */
	outb(PIC2_DATA, 0xff);
}
