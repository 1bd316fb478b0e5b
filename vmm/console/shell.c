/*
 * The shell's line editor: the prompt, echo, backspace, Ctrl-U (erase the
 * line), Ctrl-C (cancel it), up and down arrows (the last commands), and
 * nothing else -- any other control byte, escape sequence or byte above
 * 0x7e is dropped, so garbage typed at the prompt changes nothing. The
 * commands are in shell_cmds.c.
 */
#include "kernel/console.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/console/output.h"
#include "vmm/console/shell.h"
#include "vmm/console/shell_int.h"

#define HISTORY 8

static bool enabled, open;
const struct shell_host *shell_host;

static char line[SHELL_LINE_MAX + 1];
static uint32_t len;
static bool overlong;		/* more was typed than fits: refused at Enter */
static uint8_t esc;		/* 0; 1 after ESC; 2 in a CSI sequence */
static bool after_cr;		/* a '\n' right after '\r' is the same Enter */

static char history[HISTORY][SHELL_LINE_MAX + 1];
static uint32_t nhistory;	/* lines ever kept */
static uint32_t recall;		/* how far back the arrows are (0: the new line) */

void shell_init(bool on, const struct shell_host *host)
{
	enabled = on;
	shell_host = host;
}

bool shell_enabled(void) { return enabled; }
bool shell_is_open(void) { return open; }

static void echo(const char *s, size_t n) { console_write_prompt(s, n); }

void shell_prompt(void)
{
	echo("hv> ", 4);
	if (len)
		echo(line, len);
}

void shell_open(void)
{
	if (!enabled || open)
		return;
	open = true;
	shell_forget();
	conout_hold_all(true);
	len = 0;
	overlong = false;
	esc = 0;
	recall = 0;
	pr_info("shell: domain output is held until you leave (exit, or Ctrl-]); type help\n");
	shell_prompt();
}

void shell_close(void)
{
	if (!open)
		return;
	open = false;
	echo("\n", 1);		/* the prompt line ends: not drawn again */
	pr_info("shell: closed\n");
	conout_hold_all(false);
}

static void erase(uint32_t n)
{
	for (; n; n--)
		echo("\b \b", 3);
}

/* Replace the line being edited with `s` (history). */
static void set_line(const char *s)
{
	erase(len);
	len = (uint32_t)strlen(s);
	memcpy(line, s, len);
	echo(line, len);
}

static void arrow(uint8_t final)
{
	uint32_t kept = nhistory < HISTORY ? nhistory : HISTORY;

	if (final == 'A' && recall < kept)
		recall++;
	else if (final == 'B' && recall > 0)
		recall--;
	else
		return;
	set_line(recall ? history[(nhistory - recall) % HISTORY] : "");
}

static void remember(void)
{
	if (!len || (nhistory && !strcmp(history[(nhistory - 1) % HISTORY], line)))
		return;
	memcpy(history[nhistory % HISTORY], line, len + 1);
	nhistory++;
}

static void enter(void)
{
	echo("\n", 1);
	line[len] = '\0';
	if (overlong)
		pr_info("shell: line too long (at most %u characters): not run\n", SHELL_LINE_MAX);
	else {
		remember();
		shell_run_line(line);
	}
	len = 0;
	overlong = false;
	recall = 0;
	if (open)
		shell_prompt();
}

void shell_input(uint8_t c)
{
	bool cr = after_cr;

	after_cr = c == '\r';
	if (esc) {	/* ESC [ params final: only the arrows mean something */
		if (esc == 1)
			esc = c == '[' || c == 'O' ? 2 : 0;
		else if (c >= 0x40 && c <= 0x7e) {
			esc = 0;
			arrow(c);
		} else if (c < 0x20 || c > 0x7e)
			esc = 0;
		return;
	}
	switch (c) {
	case '\r':
		enter();
		return;
	case '\n':
		if (!cr)
			enter();
		return;
	case 0x1b:
		esc = 1;
		return;
	case 0x7f:
	case '\b':
		if (len) {
			len--;
			erase(1);
		}
		return;
	case 0x15:	/* Ctrl-U */
		erase(len);
		len = 0;
		overlong = false;
		return;
	case 0x03:	/* Ctrl-C */
		echo("^C\n", 3);
		len = 0;
		overlong = false;
		recall = 0;
		shell_prompt();
		return;
	default:
		break;
	}
	if (c < 0x20 || c > 0x7e)
		return;		/* not text: dropped */
	if (len >= SHELL_LINE_MAX) {
		if (!overlong)
			echo("\a", 1);
		overlong = true;
		return;
	}
	line[len++] = (char)c;
	echo((const char *)&c, 1);
}

void shell_leave(void) { shell_close(); }
