/*
 * printk: format, prefix "hv: " at the start of every line, write to the
 * console under one lock so lines from different CPUs never interleave.
 */
#include <stdbool.h>

#include "kernel/console.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

static struct spinlock printk_lock = SPINLOCK_INIT;
static enum log_level console_level = LOG_INFO;
static bool at_line_start = true;
static bool panic_mode;

void printk_panic_mode(void)
{
	panic_mode = true;
	if (!at_line_start) {
		console_write("\n", 1);
		at_line_start = true;
	}
}

void printk_set_level(enum log_level level) { console_level = level; }

/* A domain's line left open (a shell prompt, echo): whose it is. More of
 * its text goes on the same line; anything else starts a new one. */
static const char *open_tag;

static void end_open_line(void)
{
	console_write("\n", 1);
	at_line_start = true;
	open_tag = NULL;
}

void vprintk(enum log_level level, const char *fmt, va_list ap)
{
	char buf[512];

	if (level > console_level)
		return;
	int n = hv_vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n;
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;	/* truncated: still a whole line below */

	if (!panic_mode)
		spin_lock(&printk_lock);
	if (open_tag)
		end_open_line();	/* a domain's prompt: our line goes below it */
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (at_line_start) {
			console_write("hv: ", 4);
			at_line_start = false;
		}
		if (buf[i] == '\n') {
			console_write(buf + start, i + 1 - start);
			start = i + 1;
			at_line_start = true;
		}
	}
	if (start < len)
		console_write(buf + start, len - start);
	if ((size_t)n >= sizeof(buf) && !at_line_start) {
		console_write("...\n", 4);
		at_line_start = true;
	}
	if (!panic_mode)
		spin_unlock(&printk_lock);
}

void console_write_tagged(const char *name, const char *text, size_t len, bool eol)
{
	if (!panic_mode)
		spin_lock(&printk_lock);
	if (!at_line_start && open_tag != name)
		end_open_line();
	if (at_line_start) {
		console_write("[", 1);
		console_write(name, strlen(name));
		console_write("] ", 2);
	}
	console_write(text, len);
	if (eol)
		console_write("\n", 1);
	at_line_start = eol;
	open_tag = eol ? NULL : name;
	if (!panic_mode)
		spin_unlock(&printk_lock);
}

void printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

int trace_error_at(const char *file, int line, int code)
{
	pr_debug("error %d at %s:%d\n", code, file, line);
	return code;
}
