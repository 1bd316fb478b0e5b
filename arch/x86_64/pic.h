/* Legacy 8259 PICs: remapped and masked at boot. */
#ifndef ARCH_X86_64_PIC_H
#define ARCH_X86_64_PIC_H

void pic_disable(void);

#endif
