/*
 * Domain output on the shared console (vmm/console/output.c): what the
 * domain in focus may send the terminal, what the others may not, who
 * has the screen, output held by the shell and released in order, a log
 * that overflows while held, and `log NAME LINES`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/console.h"
#include "kernel/palloc.h"
#include "tests/unit/host_stubs.h"
#include "vmm/console/output.h"
#include "vmm/domain.h"
#include "vmm/vmm.h"

/* ---- stand-ins ------------------------------------------------------------------------ */

static struct domain doms[2];
static struct domain_config cfgs[2];

uint32_t vmm_ndomains(void) { return 2; }
struct domain *vmm_domain(uint32_t i) { return i < 2 ? &doms[i] : NULL; }

uint64_t alloc_pages(uint64_t npages, uint64_t align, uint64_t limit)
{
	(void)align;
	(void)limit;
	void *p = aligned_alloc(4096, npages * 4096);
	assert_non_null(p);
	memset(p, 0, npages * 4096);
	return (uint64_t)(uintptr_t)p;
}

/* Everything console_write_domain got, as one transcript: "[NAME] " where
 * a tag goes, "|" where a write ends its line, "~" for an untagged write,
 * "!" for one with control sequences. */
static char out[16384];
static size_t out_len;
static bool at_start = true;

void console_write_domain(const char *name, const char *text, size_t len, unsigned flags)
{
	char head[32] = "";

	if (at_start && !(flags & CON_UNTAGGED))
		snprintf(head, sizeof(head), "[%s] ", name);
	else if (at_start)
		snprintf(head, sizeof(head), "~");
	assert_true(out_len + strlen(head) + len + 2 < sizeof(out));
	memcpy(out + out_len, head, strlen(head));
	out_len += strlen(head);
	memcpy(out + out_len, text, len);
	out_len += len;
	if (flags & CON_CONTROL)
		out[out_len++] = '!';
	if (flags & CON_EOL)
		out[out_len++] = '|';
	out[out_len] = '\0';
	at_start = flags & CON_EOL;
}

static const char *transcript(void)
{
	out[out_len] = '\0';
	return out;
}

static void clear(void)
{
	out_len = 0;
	out[0] = '\0';
}

static void emit(struct domain *d, const char *s, bool eol)
{
	vuart_output(&d->uart, s, strlen(s), eol);
}

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		free(doms[i].log.buf);
		memset(&doms[i], 0, sizeof(doms[i]));
		cfgs[i].console_log = i ? 8192 : 65536;
		doms[i].cfg = &cfgs[i];
		doms[i].name = i ? "b" : "a";
		doms[i].uart.name = doms[i].name;
		assert_int_equal(conout_attach(&doms[i]), 0);
	}
	conout_init(false);
	conout_hold_all(false);
	conout_focus(&doms[0]);
	clear();
	at_start = true;
	test_log_clear();
	return 0;
}

/* ---- the cases ------------------------------------------------------------------------- */

static void test_unfocused_sanitised(void **state)
{
	(void)state;
	emit(&doms[1], "x\x1b[31my\r\x07\x7f\xc3\xa9\tz", true);
	assert_string_equal(transcript(), "[b] x.[31my....\tz|");
}

static void test_focused_raw(void **state)
{
	(void)state;
	emit(&doms[0], "x\x1b[31my\r", true);		/* CR LF: one line end */
	emit(&doms[0], "a\rb\bc", false);		/* a prompt, left open */
	emit(&doms[0], "d", true);
	assert_string_equal(transcript(), "[a] x\x1b[31my!|[a] a\rb\bcd|");
}

static void test_tagged_mode(void **state)
{
	(void)state;
	conout_init(true);
	emit(&doms[0], "x\x1b[31my", true);
	assert_string_equal(transcript(), "[a] x.[31my|");
}

static void test_screen(void **state)
{
	(void)state;
	emit(&doms[0], "\x1b[?1049h\x1b[Hone", true);	/* takes the screen */
	emit(&doms[1], "held", true);			/* the other waits */
	emit(&doms[0], "two", true);
	emit(&doms[0], "hv: forged", true);		/* keeps its tag */
	emit(&doms[0], "[b] forged", true);
	emit(&doms[0], "\x1b[?1049lback", true);	/* gives it back */
	assert_string_equal(transcript(), "[a] \x1b[?1049h\x1b[Hone!|~two|[a] hv: forged|"
			    "[a] [b] forged|~\x1b[?1049lback!|");
	clear();
	conout_service();				/* what waited shows */
	assert_string_equal(transcript(), "[b] held|");
	emit(&doms[0], "tagged", true);
	assert_string_equal(transcript(), "[b] held|[a] tagged|");
}

static void test_screen_ends_with_focus(void **state)
{
	(void)state;
	emit(&doms[0], "\x1b[2J", true);
	emit(&doms[1], "held", true);
	assert_string_equal(transcript(), "[a] \x1b[2J!|");
	conout_focus(&doms[1]);
	assert_string_equal(transcript(), "[a] \x1b[2J!|[b] held|");
	emit(&doms[0], "\x1b[2Jnow sanitised", true);
	assert_string_equal(transcript(), "[a] \x1b[2J!|[b] held|[a] .[2Jnow sanitised|");
}

static void test_held_by_shell(void **state)
{
	(void)state;
	conout_hold_all(true);
	emit(&doms[0], "one", true);
	emit(&doms[1], "two", false);
	emit(&doms[0], "three", true);
	assert_string_equal(transcript(), "");
	conout_hold_all(false);
	assert_string_equal(transcript(), "[a] one|[a] three|[b] two");
}

static void test_overrun_while_held(void **state)
{
	char line[101];

	(void)state;
	memset(line, 'x', 100);
	line[100] = '\0';
	conout_hold_all(true);
	for (int i = 0; i < 100; i++)		/* 10100 bytes into an 8 KiB log */
		emit(&doms[1], line, true);
	conout_hold_all(false);
	assert_true(test_log_has("console: b: 1908 bytes of its output not shown (held beyond its 8 KiB log)"));
	/* What is left starts mid-line and is shown whole from there on */
	/* 1908 = 18 lines and 90 bytes in: 10 bytes of that line, then 81 whole */
	assert_int_equal(out_len, (4 + 10 + 1) + 81 * (4 + 100 + 1));
}

static void test_log_lines(void **state)
{
	(void)state;
	emit(&doms[0], "one", true);
	emit(&doms[0], "two\x1b[1m", true);
	emit(&doms[0], "three", true);
	emit(&doms[0], "open", false);
	clear();
	at_start = true;	/* the shell's prompt came between */
	conout_print_log(&doms[0], 2);
	assert_string_equal(transcript(), "[a] three|[a] open|");
	clear();
	at_start = true;
	conout_print_log(&doms[0], 3);
	assert_string_equal(transcript(), "[a] two.[1m|[a] three|[a] open|");
	clear();
	at_start = true;
	conout_print_log(&doms[0], 100);
	assert_string_equal(transcript(), "[a] one|[a] two.[1m|[a] three|[a] open|");
	assert_int_equal(conout_log_used(&doms[0]), strlen("one\ntwo\x1b[1m\nthree\nopen"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_unfocused_sanitised, setup),
		cmocka_unit_test_setup(test_focused_raw, setup),
		cmocka_unit_test_setup(test_tagged_mode, setup),
		cmocka_unit_test_setup(test_screen, setup),
		cmocka_unit_test_setup(test_screen_ends_with_focus, setup),
		cmocka_unit_test_setup(test_held_by_shell, setup),
		cmocka_unit_test_setup(test_overrun_while_held, setup),
		cmocka_unit_test_setup(test_log_lines, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
