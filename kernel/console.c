/* The shared console; see console.h. */
#include "kernel/console.h"
#include "kernel/printk.h"
#include "kernel/string.h"

static struct uart console = { .mmio = false, .base = UART_COM1 };

/* What was printed before the console moved to the SPCR UART, replayed
 * there so the operator watching that port sees the whole boot. */
static char early_log[8192];
static size_t early_len;
static bool early_capture = true;

void console_early_init(void)
{
	uart_init(&console, 115200);
}

void console_use_spcr(const struct acpi_spcr *spcr)
{
	struct uart u = { .base = spcr->address };

	/* SPCR interface types 0 (full 16550) and 1 (16450 subset) are what
	 * this driver speaks (Microsoft SPCR spec, table 3). */
	if (spcr->interface_type > 1) {
		pr_warn("console: SPCR UART type %u not supported, staying on COM1\n",
			spcr->interface_type);
		return;
	}
	if (spcr->space_id == 1) {		/* GAS: system I/O */
		if (spcr->address == 0 || spcr->address > 0xfff8) {
			pr_warn("console: SPCR I/O port 0x%llx invalid, staying on COM1\n",
				(unsigned long long)spcr->address);
			return;
		}
	} else if (spcr->space_id == 0) {	/* GAS: system memory */
		if (spcr->address == 0 || (spcr->address & 3)) {
			pr_warn("console: SPCR MMIO address 0x%llx invalid, staying on COM1\n",
				(unsigned long long)spcr->address);
			return;
		}
		u.mmio = true;
		u.access_bytes = spcr->access_size == 3 ? 4 : 1;
		u.reg_shift = spcr->bit_width == 32 ? 2 : 0;
	} else {
		pr_warn("console: SPCR address space %u not supported, staying on COM1\n",
			spcr->space_id);
		return;
	}
	if (!u.mmio && u.base == console.base)
		return;
	pr_info("console: switching to the SPCR UART at %s 0x%llx\n",
		u.mmio ? "MMIO" : "port", (unsigned long long)u.base);
	uart_init(&u, spcr->baud);
	console = u;
	early_capture = false;
	console_write(early_log, early_len);
	if (early_len == sizeof(early_log))
		console_write("(early log truncated)\n", 22);
}

void console_write(const char *s, size_t len)
{
	if (early_capture) {
		size_t room = sizeof(early_log) - early_len;
		size_t n = len < room ? len : room;
		memcpy(early_log + early_len, s, n);
		early_len += n;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc(&console, '\r');
		uart_putc(&console, s[i]);
	}
}

const struct uart *console_uart(void) { return &console; }

void console_drain(void) { uart_drain(&console); }

int console_getc(void) { return uart_getc(&console); }
