/*
 * The virtual 16550 each domain sees at its COM1 ports (0x3f8-0x3ff).
 * Output is collected into lines, as sent, and handed to the console
 * (vuart_output, vmm/console/output.c), which keeps it in the domain's
 * log and shows it. Input typed on the shared console, while the domain has
 * the focus (vmm/conin.c), waits in a small receive FIFO. Registers per the
 * NS16550A data sheet, with its interrupts: received data available and
 * transmitter holding register empty (IIR 0x04 / 0x02), gated by MCR OUT2
 * as on a PC. Transmission is instant, so THR is always empty: the THRE
 * interrupt is raised when the guest writes THR or turns IER.THRI on, and
 * cleared by reading IIR (when it is the reason) or writing THR.
 *
 * Not thread-safe: the owner (the domain) serializes every call.
 */
#ifndef VMM_VUART_H
#define VMM_VUART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VUART_BASE 0x3f8
#define VUART_PORTS 8
#define VUART_LINE_MAX 200
#define VUART_RX_MAX 4096	/* a pasted burst fits; beyond, bytes are lost */

struct vuart {
	const char *name;	/* the domain's, for the line tag */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending;	/* the THRE interrupt is raised */
	uint32_t len;
	char line[VUART_LINE_MAX];
	/* Receive FIFO, free-running indexes. */
	uint32_t rx_head, rx_tail;
	uint8_t rx[VUART_RX_MAX];
};

void vuart_init(struct vuart *u, const char *name);
/* A read or a write of register `reg` (port VUART_BASE + reg). */
uint8_t vuart_read(struct vuart *u, uint16_t reg);
void vuart_write(struct vuart *u, uint16_t reg, uint8_t v);

/* An access to port VUART_BASE + offset; *val in or out. True when it
 * may have changed the interrupt line (vuart_irq_line): a write, or a
 * read of RBR (offset 0) or IIR (offset 2); the other reads leave the
 * state as it was. Inline: the UART's exit path. */
static inline bool vuart_access(struct vuart *u, uint16_t offset, bool in, uint32_t *val)
{
	if (!in) {
		vuart_write(u, offset, (uint8_t)*val);
		return true;
	}
	*val = vuart_read(u, offset);
	return offset == 0 || offset == 2;
}
/* Queue a received byte; false (byte dropped) when the FIFO is full. */
bool vuart_receive(struct vuart *u, uint8_t byte);
/* Print what is buffered (when the domain stops mid-line). */
void vuart_flush(struct vuart *u);
/* The console's side (vmm/console/output.c): text as the guest sent it
 * (no '\n' in it); eol: its line ended. Called with the owner's lock held. */
void vuart_output(struct vuart *u, const char *text, size_t len, bool eol);
/* The level of its interrupt line (IRQ 4) now. */
bool vuart_irq_line(const struct vuart *u);

#endif
