/*
 * printk: format, prefix "hv: " at the start of every line, write to the
 * console under one lock so lines from different CPUs never interleave.
 */
#include <stdbool.h>
#include <stdint.h>

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

/* A line left open (a domain's prompt, echo; the shell's prompt): whose
 * it is. More of its text goes on the same line; anything else starts a
 * new one. */
static const char *open_tag;
static const char shell_tag[] = "hv>";
/* The shell's open line (prompt and what was typed, as echoed), written
 * again below a line that had to break it; 0 when too long to keep. */
static char prompt_line[192];
static size_t prompt_len;

/* The terminal state a domain in focus may have left (attributes, scroll
 * region, hidden cursor, a half-sent sequence, another character set):
 * reset before anything else is printed. CAN ends a sequence; DECSC /
 * DECRC keep the cursor where it is across DECSTBM, which homes it. */
static const char *dirty_by;	/* the domain that may have, or NULL */
static const char term_reset[] = "\x18\x0f\x1b(B\x1b" "7\x1b[r\x1b" "8\x1b[0m\x1b[?25h";

static void end_open_line(void)
{
	console_write("\n", 1);
	at_line_start = true;
	open_tag = NULL;
}

/* Before text from `tag` (NULL: the hypervisor): a fresh line if another
 * source's is open, and the terminal reset if another domain may have
 * changed it. */
static void switch_source(const char *tag)
{
	if (!at_line_start && open_tag != tag)
		end_open_line();
	if (dirty_by && tag != dirty_by) {
		console_write(term_reset, sizeof(term_reset) - 1);
		dirty_by = NULL;
	}
}

static void console_lock(void)
{
	if (!panic_mode)
		spin_lock(&printk_lock);
}

static void console_unlock(void)
{
	if (!panic_mode)
		spin_unlock(&printk_lock);
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

	console_lock();
	bool redraw = open_tag == shell_tag && prompt_len && prompt_len != SIZE_MAX;
	if (open_tag)
		end_open_line();	/* a domain's prompt: our line goes below it */
	switch_source(NULL);
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
	if (redraw && at_line_start) {	/* the shell's line, below ours */
		console_write(prompt_line, prompt_len);
		at_line_start = false;
		open_tag = shell_tag;
	}
	console_unlock();
}

void console_write_domain(const char *name, const char *text, size_t len, unsigned flags)
{
	bool eol = flags & CON_EOL;

	console_lock();
	switch_source(name);
	if (at_line_start && !(flags & CON_UNTAGGED)) {
		console_write("[", 1);
		console_write(name, strlen(name));
		console_write("] ", 2);
	}
	console_write(text, len);
	if (eol)
		console_write("\n", 1);
	if (flags & CON_CONTROL)
		dirty_by = name;
	at_line_start = eol;
	open_tag = eol ? NULL : name;
	console_unlock();
}

void console_write_prompt(const char *text, size_t len)
{
	console_lock();
	switch_source(shell_tag);
	if (open_tag != shell_tag)
		prompt_len = 0;
	console_write(text, len);
	if (prompt_len != SIZE_MAX && prompt_len + len <= sizeof(prompt_line)) {
		memcpy(prompt_line + prompt_len, text, len);
		prompt_len += len;
	} else {
		prompt_len = SIZE_MAX;	/* too long to keep: not redrawn */
	}
	at_line_start = len && text[len - 1] == '\n';
	open_tag = at_line_start ? NULL : shell_tag;
	console_unlock();
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
