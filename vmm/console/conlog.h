/*
 * A domain's console log: everything its virtual UART sent, as sent, in a
 * ring of console_log bytes (64 KiB unless the configuration says), and
 * how much of it the shared console has shown. Output held back (the
 * shell is open, another domain has the screen) waits here; `log NAME`
 * reads it back. Under the domain's lock.
 */
#ifndef VMM_CONSOLE_CONLOG_H
#define VMM_CONSOLE_CONLOG_H

#include <stdbool.h>
#include <stdint.h>

struct conlog {
	uint8_t *buf;
	uint32_t size;
	uint64_t head;		/* bytes written since boot: buf[head % size] next */
	uint64_t shown;		/* bytes of those the console has printed */
	/* The escape-sequence parser for the domain in focus (output.c). */
	uint8_t esc;		/* 0: text; else where in a sequence it is */
	uint8_t nparam;
	char param[8];		/* a CSI sequence's parameter bytes, the first few */
	bool at_line_start;	/* of what was shown */
};

#endif
