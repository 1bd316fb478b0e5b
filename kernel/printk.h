/*
 * Console logging. Every line the hypervisor prints starts with "hv: "
 * (the console contract in DESIGN.md); printk adds it at the start of each
 * line, so callers write "acpi: ...\n", not "hv: acpi: ...\n".
 *
 * Levels filter what reaches the console: LOG_DEBUG is hidden unless the
 * command line says loglevel=4 (or higher).
 */
#ifndef KERNEL_PRINTK_H
#define KERNEL_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_ERR = 1,
	LOG_WARN = 2,
	LOG_INFO = 3,
	LOG_DEBUG = 4,
};

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

void printk(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
void vprintk(enum log_level level, const char *fmt, va_list ap);
void printk_set_level(enum log_level level);
/* From here on this CPU prints without waiting for the console lock (a
 * fatal report must get out even if the CPU died holding it). */
void printk_panic_mode(void);

/* Our own formatter (freestanding); the subset printk needs:
 * %d %i %u %x %X %o %c %s %p %%, flags '-' '0', width, and the
 * length modifiers hh h l ll z. Always NUL-terminates when size > 0 and
 * returns the length the full output would have had. */
int hv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hv_snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#define pr_err(...)   printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

#endif
