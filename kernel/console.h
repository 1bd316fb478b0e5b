/*
 * The shared console: the one physical UART the hypervisor owns (ACPI
 * SPCR, else COM1). Everything printed goes through here.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>

#include "drivers/uart16550.h"
#include "kernel/acpi.h"

/* COM1 at 115200, before anything else is known. */
void console_early_init(void);
/* Switch to the UART that ACPI SPCR names, if any and if usable. */
void console_use_spcr(const struct acpi_spcr *spcr);
/* Write bytes ("\n" becomes "\r\n"); callers hold no lock. */
void console_write(const char *s, size_t len);
/* Print one line of a domain's console output as "[NAME] text", whole,
 * under the console lock (kernel/printk.c). */
void console_write_tagged(const char *name, const char *text, size_t len);

/* A byte received on the console, or -1. */
int console_getc(void);

/* Wait until the UART has sent everything (before powering off). */
void console_drain(void);

/* The UART in use, for the boot log. */
const struct uart *console_uart(void);

#endif
