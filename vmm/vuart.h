/*
 * The virtual 16550 each domain sees at its COM1 ports (0x3f8-0x3ff).
 * Output is collected into lines and printed on the shared console as
 * "[NAME] text". Registers per the NS16550A data sheet; no interrupts yet
 * and no input (both come with the Linux-guest issue).
 */
#ifndef VMM_VUART_H
#define VMM_VUART_H

#include <stdbool.h>
#include <stdint.h>

#define VUART_BASE 0x3f8
#define VUART_PORTS 8
#define VUART_LINE_MAX 200

struct vuart {
	const char *name;	/* the domain's, for the line tag */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint32_t len;
	char line[VUART_LINE_MAX];
};

void vuart_init(struct vuart *u, const char *name);
/* An access to port VUART_BASE + offset; *val in or out. */
void vuart_access(struct vuart *u, uint16_t offset, bool in, uint32_t *val);
/* Print what is buffered (when the domain stops mid-line). */
void vuart_flush(struct vuart *u);

#endif
