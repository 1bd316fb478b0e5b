/* Console input by interrupt (NMI); see console_irq.c. */
#ifndef KERNEL_CONSOLE_IRQ_H
#define KERNEL_CONSOLE_IRQ_H

#include "kernel/acpi.h"

/* On the boot CPU, before the domains start. */
void console_irq_setup(const struct acpi_info *acpi);

#endif
