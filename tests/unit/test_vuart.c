/*
 * The virtual 16550 (vmm/dev/vuart.c) as Linux's 8250 driver drives it: the
 * probe (scratch, IER, loopback, FIFO), the THRE interrupt dance of
 * serial8250_do_startup, interrupt priorities and the OUT2 gate, the
 * receive FIFO, loopback, and the lines that reach the shared console.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_stubs.h"
#include "vmm/dev/vuart.h"

enum { RBR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

/* ---- vuart_output stand-in (the console's side): every call, recorded ---- */

#define MAX_WRITES 16

static struct {
	const char *name;
	char text[VUART_LINE_MAX + 1];
	size_t len;
	bool eol;
} writes[MAX_WRITES];
static unsigned nwrites;

void vuart_output(struct vuart *u, const char *text, size_t len, bool eol)
{
	assert_true(nwrites < MAX_WRITES);
	assert_true(len <= VUART_LINE_MAX);
	writes[nwrites].name = u->name;
	memcpy(writes[nwrites].text, text, len);
	writes[nwrites].text[len] = '\0';
	writes[nwrites].len = len;
	writes[nwrites].eol = eol;
	nwrites++;
}

static int reset_writes(void **state)
{
	(void)state;
	nwrites = 0;
	memset(writes, 0, sizeof(writes));
	return 0;
}

static void assert_write(unsigned i, const char *text, bool eol)
{
	assert_true(i < nwrites);
	assert_string_equal(writes[i].name, "dom0");
	assert_int_equal(writes[i].len, strlen(text));
	assert_string_equal(writes[i].text, text);
	assert_int_equal(writes[i].eol, eol);
}

/* ---- port access helpers ------------------------------------------------- */

static uint8_t in8(struct vuart *u, uint16_t reg)
{
	uint32_t v = 0xa5a5a5a5;

	vuart_access(u, reg, true, &v);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void out8(struct vuart *u, uint16_t reg, uint8_t v)
{
	uint32_t w = v;

	vuart_access(u, reg, false, &w);
}

static void puts_thr(struct vuart *u, const char *s)
{
	while (*s)
		out8(u, RBR, (uint8_t)*s++);
}

static void init(struct vuart *u)
{
	memset(u, 0x5a, sizeof(*u));
	vuart_init(u, "dom0");
}

/* ---- reset and the 8250 probe -------------------------------------------- */

static void test_reset_state(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	assert_int_equal(in8(&u, IER), 0);
	assert_int_equal(in8(&u, IIR), 0x01);
	assert_int_equal(in8(&u, LCR), 0);
	assert_int_equal(in8(&u, MCR), 0);
	assert_int_equal(in8(&u, LSR), 0x60);	/* THRE | TEMT, no data */
	assert_int_equal(in8(&u, MSR), 0xb0);	/* DCD, DSR, CTS */
	assert_int_equal(in8(&u, RBR), 0);	/* empty FIFO reads 0 */
	assert_false(vuart_irq_line(&u));
	assert_int_equal(nwrites, 0);
}

static void test_linux_probe(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	/* autoconfig(): the scratch register keeps what is written */
	out8(&u, SCR, 0xa5);
	assert_int_equal(in8(&u, SCR), 0xa5);
	out8(&u, SCR, 0x5a);
	assert_int_equal(in8(&u, SCR), 0x5a);

	/* IER: zero reads back 0, 0x0f reads back 0x0f (the high nibble
	 * does not stick) */
	out8(&u, IER, 0);
	assert_int_equal(in8(&u, IER) & 0x0f, 0);
	out8(&u, IER, 0xff);
	assert_int_equal(in8(&u, IER), 0x0f);
	out8(&u, IER, 0);
	assert_int_equal(in8(&u, IER), 0);

	/* Loopback: MCR = LOOP | OUT2 | RTS gives MSR CTS | DCD */
	out8(&u, MCR, 0x1a);
	assert_int_equal(in8(&u, MSR) & 0xf0, 0x90);
	out8(&u, MCR, 0x0a);
	assert_int_equal(in8(&u, MSR), 0xb0);	/* loop off: the fixed lines */

	/* Each modem control output on its own, in loopback */
	out8(&u, MCR, 0x11);
	assert_int_equal(in8(&u, MSR) & 0xf0, 0x20);	/* DTR -> DSR */
	out8(&u, MCR, 0x12);
	assert_int_equal(in8(&u, MSR) & 0xf0, 0x10);	/* RTS -> CTS */
	out8(&u, MCR, 0x14);
	assert_int_equal(in8(&u, MSR) & 0xf0, 0x40);	/* OUT1 -> RI */
	out8(&u, MCR, 0x18);
	assert_int_equal(in8(&u, MSR) & 0xf0, 0x80);	/* OUT2 -> DCD */
	out8(&u, MCR, 0xff);
	assert_int_equal(in8(&u, MCR), 0x1f);
	out8(&u, MCR, 0);

	/* FIFO enable: IIR bits 7:6 = 11 (a 16550A) */
	out8(&u, IIR, 0x01);
	assert_int_equal(in8(&u, IIR), 0xc1);
	out8(&u, IIR, 0x00);
	assert_int_equal(in8(&u, IIR), 0x01);
	out8(&u, IIR, 0xc7);	/* enable, clear both FIFOs, trigger 14 */
	assert_int_equal(in8(&u, IIR) & 0xc0, 0xc0);
	assert_int_equal(nwrites, 0);
}

static void test_dlab(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, IER, 0x05);
	out8(&u, LCR, 0x83);		/* DLAB, 8N1 */
	assert_int_equal(in8(&u, LCR), 0x83);
	assert_int_equal(in8(&u, RBR), 1);	/* DLL after reset: 115200 */
	assert_int_equal(in8(&u, IER), 0);	/* DLM */
	out8(&u, RBR, 0x0c);		/* 9600 */
	out8(&u, IER, 0x00);
	assert_int_equal(in8(&u, RBR), 0x0c);
	assert_int_equal(in8(&u, IER), 0x00);
	out8(&u, IER, 0x12);
	assert_int_equal(in8(&u, IER), 0x12);	/* DLM keeps all 8 bits */
	assert_int_equal(nwrites, 0);		/* DLL write is not output */
	out8(&u, LCR, 0x03);
	assert_int_equal(in8(&u, IER), 0x05);	/* IER untouched by DLM writes */
	assert_int_equal(in8(&u, LCR), 0x03);
	/* And with DLAB off, RBR/THR are the data path again */
	assert_true(vuart_receive(&u, 'x'));
	assert_int_equal(in8(&u, RBR), 'x');
	out8(&u, LCR, 0x80);
	assert_int_equal(in8(&u, RBR), 0x0c);
	assert_int_equal(in8(&u, IER), 0x12);
}

/* ---- interrupts ----------------------------------------------------------- */

static void test_iir_priorities(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, MCR, 0x08);			/* OUT2 */
	assert_int_equal(in8(&u, IIR), 0x01);
	/* Data waiting but RDI off: no interrupt, LSR.DR still says so */
	assert_true(vuart_receive(&u, 'a'));
	assert_int_equal(in8(&u, IIR), 0x01);
	assert_int_equal(in8(&u, LSR) & 0x01, 0x01);
	assert_false(vuart_irq_line(&u));

	out8(&u, IER, 0x03);			/* RDI | THRI: THRE raised too */
	assert_true(vuart_irq_line(&u));
	/* Received data wins, and reading IIR for it keeps THRE pending */
	assert_int_equal(in8(&u, IIR), 0x04);
	assert_int_equal(in8(&u, IIR), 0x04);
	assert_int_equal(in8(&u, RBR), 'a');
	assert_int_equal(in8(&u, LSR) & 0x01, 0);
	assert_int_equal(in8(&u, IIR), 0x02);	/* now THRE, acknowledged */
	assert_int_equal(in8(&u, IIR), 0x01);
	assert_false(vuart_irq_line(&u));

	/* With the FIFOs on, the high bits come with every reason */
	out8(&u, IIR, 0x01);
	assert_true(vuart_receive(&u, 'b'));
	assert_int_equal(in8(&u, IIR), 0xc4);
	in8(&u, RBR);
	assert_int_equal(in8(&u, IIR), 0xc1);
}

static void test_thre(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, MCR, 0x08);
	/* THR written with THRI off: nothing to report */
	out8(&u, RBR, 'x');
	assert_int_equal(in8(&u, IIR), 0x01);
	out8(&u, IER, 0x00);	/* THRI 0 -> 0: nothing */
	assert_int_equal(in8(&u, IIR), 0x01);

	/* THRI 0 -> 1 raises it (THR is empty) ... */
	out8(&u, IER, 0x02);
	assert_true(vuart_irq_line(&u));
	/* ... and writing IER again with THRI still on does not re-raise */
	assert_int_equal(in8(&u, IIR), 0x02);
	assert_false(vuart_irq_line(&u));
	out8(&u, IER, 0x02);
	assert_int_equal(in8(&u, IIR), 0x01);
	/* A THR write raises it again; reading IIR is the acknowledgement */
	out8(&u, RBR, 'y');
	assert_true(vuart_irq_line(&u));
	assert_int_equal(in8(&u, IIR), 0x02);
	assert_int_equal(in8(&u, IIR), 0x01);
	assert_false(vuart_irq_line(&u));
	/* Raised while THRI is off, then THRI off -> on: raised (THR empty) */
	out8(&u, IER, 0x00);
	out8(&u, RBR, 'z');
	assert_int_equal(in8(&u, IIR), 0x01);
	out8(&u, IER, 0x02);
	assert_int_equal(in8(&u, IIR), 0x02);
	assert_int_equal(in8(&u, IIR), 0x01);
}

/* serial8250_do_startup()'s UART_BUG_THRE test: a UART that does not
 * re-assert THRE when THRI is toggled is flagged buggy and driven by a
 * timer instead. */
static void test_linux_bug_thre_check(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, MCR, 0x0b);			/* DTR | RTS | OUT2 */
	assert_int_equal(in8(&u, LSR) & 0x20, 0x20);	/* wait_for_xmitr */
	out8(&u, IER, 0x02);
	uint8_t iir1 = in8(&u, IIR);
	out8(&u, IER, 0x00);
	out8(&u, IER, 0x02);
	uint8_t iir = in8(&u, IIR);
	out8(&u, IER, 0x00);
	assert_int_equal(iir1 & 0x0f, 0x02);
	assert_int_equal(iir & 0x0f, 0x02);
	assert_false(iir & 0x01);		/* not UART_BUG_THRE */
}

static void test_irq_line_gated_by_out2(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, IER, 0x01);
	assert_true(vuart_receive(&u, 'q'));
	assert_false(vuart_irq_line(&u));		/* OUT2 off */
	out8(&u, MCR, 0x07);				/* all but OUT2 */
	assert_false(vuart_irq_line(&u));
	out8(&u, MCR, 0x08);
	assert_true(vuart_irq_line(&u));
	out8(&u, MCR, 0x00);
	assert_false(vuart_irq_line(&u));
	assert_int_equal(in8(&u, IIR), 0x04);		/* still pending */
	out8(&u, MCR, 0x08);
	assert_true(vuart_irq_line(&u));
	in8(&u, RBR);
	assert_false(vuart_irq_line(&u));
}

/* ---- receive ---------------------------------------------------------------- */

static void test_rx_fifo(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	for (unsigned round = 0; round < 3; round++) {	/* wrap the indexes */
		for (unsigned i = 0; i < VUART_RX_MAX; i++)
			assert_true(vuart_receive(&u, (uint8_t)(i + round)));
		assert_false(vuart_receive(&u, 0xee));	/* full: dropped */
		assert_false(vuart_receive(&u, 0xef));
		for (unsigned i = 0; i < VUART_RX_MAX; i++) {
			assert_int_equal(in8(&u, LSR) & 0x01, 0x01);
			assert_int_equal(in8(&u, RBR), (uint8_t)(i + round));
		}
		assert_int_equal(in8(&u, LSR), 0x60);
		assert_int_equal(in8(&u, RBR), 0);
		/* room again after draining part of it */
		assert_true(vuart_receive(&u, 1));
		assert_true(vuart_receive(&u, 2));
		assert_int_equal(in8(&u, RBR), 1);
		assert_int_equal(in8(&u, RBR), 2);
	}
	assert_int_equal(nwrites, 0);
}

static void test_fcr_clears_rx(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, IER, 0x01);
	out8(&u, MCR, 0x08);
	for (unsigned i = 0; i < 10; i++)
		assert_true(vuart_receive(&u, (uint8_t)('0' + i)));
	out8(&u, IIR, 0x01);			/* enable only: kept */
	assert_int_equal(in8(&u, RBR), '0');
	out8(&u, IIR, 0x05);			/* clear XMIT only: kept */
	assert_int_equal(in8(&u, RBR), '1');
	assert_true(vuart_irq_line(&u));
	out8(&u, IIR, 0x03);			/* clear RCVR */
	assert_int_equal(in8(&u, LSR) & 0x01, 0);
	assert_false(vuart_irq_line(&u));
	assert_int_equal(in8(&u, IIR), 0xc1);
	for (unsigned i = 0; i < VUART_RX_MAX; i++)
		assert_true(vuart_receive(&u, 'z'));	/* the whole FIFO is free */
	assert_false(vuart_receive(&u, 'z'));
}

static void test_loopback(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, MCR, 0x18);			/* LOOP | OUT2 */
	out8(&u, IER, 0x01);
	puts_thr(&u, "hi\n");
	assert_int_equal(nwrites, 0);		/* not printed */
	assert_true(vuart_irq_line(&u));
	assert_int_equal(in8(&u, IIR), 0x04);
	assert_int_equal(in8(&u, RBR), 'h');
	assert_int_equal(in8(&u, RBR), 'i');
	assert_int_equal(in8(&u, RBR), '\n');
	assert_int_equal(in8(&u, LSR) & 0x01, 0);
	/* Loop off: THR goes to the console again, nothing comes back */
	out8(&u, MCR, 0x08);
	puts_thr(&u, "ok\n");
	assert_int_equal(in8(&u, LSR) & 0x01, 0);
	assert_int_equal(nwrites, 1);
	assert_write(0, "ok", true);
	vuart_flush(&u);
	assert_int_equal(nwrites, 1);		/* nothing left over from the loop */
}

/* ---- output ------------------------------------------------------------------ */

static void test_output_lines(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	/* Bytes as sent: what shows is the console's choice (output.c) */
	puts_thr(&u, "Linux version 6.1\r\n");
	assert_int_equal(nwrites, 1);
	assert_write(0, "Linux version 6.1\r", true);
	puts_thr(&u, "a\tb\x1b[0m\x7f\x80\xff!\n");
	assert_int_equal(nwrites, 2);
	assert_write(1, "a\tb\x1b[0m\x7f\x80\xff!", true);
	puts_thr(&u, "\n");			/* an empty line is a line */
	assert_int_equal(nwrites, 3);
	assert_write(2, "", true);
	puts_thr(&u, "\r\r");
	assert_int_equal(nwrites, 3);
	vuart_flush(&u);			/* what is buffered ends as a line */
	assert_int_equal(nwrites, 4);
	assert_write(3, "\r\r", true);
}

static void test_partial_line_on_thri_off(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	out8(&u, MCR, 0x08);
	out8(&u, IER, 0x02);
	puts_thr(&u, "login: ");
	assert_int_equal(nwrites, 0);
	out8(&u, IER, 0x03);			/* THRI stays on: nothing */
	assert_int_equal(nwrites, 0);
	out8(&u, IER, 0x01);			/* 1 -> 0: the driver is done */
	assert_int_equal(nwrites, 1);
	assert_write(0, "login: ", false);
	out8(&u, IER, 0x00);			/* 0 -> 0, nothing buffered */
	out8(&u, IER, 0x02);
	out8(&u, IER, 0x00);			/* 1 -> 0 with nothing buffered */
	assert_int_equal(nwrites, 1);
	/* The rest of the line follows, ended by its newline */
	puts_thr(&u, "root\n");
	assert_int_equal(nwrites, 2);
	assert_write(1, "root", true);
}

static void test_flush(void **state)
{
	struct vuart u;

	(void)state;
	init(&u);
	vuart_flush(&u);
	assert_int_equal(nwrites, 0);
	puts_thr(&u, "Kernel panic - not syncing");
	assert_int_equal(nwrites, 0);
	vuart_flush(&u);
	assert_int_equal(nwrites, 1);
	assert_write(0, "Kernel panic - not syncing", true);
	vuart_flush(&u);
	assert_int_equal(nwrites, 1);
}

static void test_long_line_split(void **state)
{
	struct vuart u;
	char expect[VUART_LINE_MAX + 1];

	(void)state;
	init(&u);
	memset(expect, 'x', VUART_LINE_MAX);
	expect[VUART_LINE_MAX] = '\0';
	for (unsigned i = 0; i < VUART_LINE_MAX; i++)
		out8(&u, RBR, 'x');
	assert_int_equal(nwrites, 0);		/* full, but the line may end here */
	puts_thr(&u, "\n");			/* exactly full: one line, no empty one */
	assert_int_equal(nwrites, 1);
	assert_write(0, expect, true);
	for (unsigned i = 0; i < VUART_LINE_MAX; i++)
		out8(&u, RBR, 'x');
	puts_thr(&u, "tail\n");			/* one more: the full part goes out first, the line open */
	assert_int_equal(nwrites, 3);
	assert_write(1, expect, false);
	assert_write(2, "tail", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, reset_writes),
		cmocka_unit_test_setup(test_linux_probe, reset_writes),
		cmocka_unit_test_setup(test_dlab, reset_writes),
		cmocka_unit_test_setup(test_iir_priorities, reset_writes),
		cmocka_unit_test_setup(test_thre, reset_writes),
		cmocka_unit_test_setup(test_linux_bug_thre_check, reset_writes),
		cmocka_unit_test_setup(test_irq_line_gated_by_out2, reset_writes),
		cmocka_unit_test_setup(test_rx_fifo, reset_writes),
		cmocka_unit_test_setup(test_fcr_clears_rx, reset_writes),
		cmocka_unit_test_setup(test_loopback, reset_writes),
		cmocka_unit_test_setup(test_output_lines, reset_writes),
		cmocka_unit_test_setup(test_partial_line_on_thri_off, reset_writes),
		cmocka_unit_test_setup(test_flush, reset_writes),
		cmocka_unit_test_setup(test_long_line_split, reset_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
