/*
 * The shared console: the one physical UART the hypervisor owns (ACPI
 * SPCR, else COM1). Everything printed goes through here.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/uart16550.h"
#include "kernel/acpi.h"

/* COM1 at 115200, before anything else is known. */
void console_early_init(void);
/* Switch to the UART that ACPI SPCR names, if any and if usable. */
void console_use_spcr(const struct acpi_spcr *spcr);
/* Write bytes ("\n" becomes "\r\n"); callers hold no lock. */
void console_write(const char *s, size_t len);
/* Print a domain's console output (no '\n' in it) under the console
 * lock (kernel/printk.c): "[NAME] " first at a line start, unless
 * CON_UNTAGGED. With CON_EOL the line ends; without, it stays open (a
 * prompt) and NAME's next text continues it, while any other output
 * starts on a new line. CON_CONTROL: the text may have changed the
 * terminal's state (escape sequences), which is reset before any other
 * source prints. */
#define CON_EOL      1u
#define CON_UNTAGGED 2u
#define CON_CONTROL  4u
void console_write_domain(const char *name, const char *text, size_t len, unsigned flags);
/* The shell's prompt and echo: raw, on a line of its own. */
void console_write_prompt(const char *text, size_t len);

/* A byte received on the console, or -1. */
int console_getc(void);

/* Wait until the UART has sent everything (before powering off). */
void console_drain(void);

/* The UART in use, for the boot log. */
const struct uart *console_uart(void);

#endif
