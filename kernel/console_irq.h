/* Console input by interrupt (NMI); see console_irq.c. */
#ifndef KERNEL_CONSOLE_IRQ_H
#define KERNEL_CONSOLE_IRQ_H

#include "kernel/acpi.h"

/* On the boot CPU, before the domains start. */
void console_irq_setup(const struct acpi_info *acpi);
/* Does input arrive by interrupt (else only when someone polls)? Set
 * once at boot; inline for the UART's exit path. */
extern bool console_irq_enabled;
static inline bool console_irq_on(void) { return console_irq_enabled; }

#endif
