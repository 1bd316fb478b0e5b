/*
 * 16550-compatible UART, on I/O ports or MMIO (as ACPI SPCR describes it).
 * Polled; the hypervisor owns the physical console UART.
 */
#ifndef DRIVERS_UART16550_H
#define DRIVERS_UART16550_H

#include <stdbool.h>
#include <stdint.h>

struct uart {
	bool mmio;		/* false: I/O ports at `base` */
	uint64_t base;
	uint8_t reg_shift;	/* MMIO register stride = 1 << reg_shift */
	uint8_t access_bytes;	/* MMIO access width: 1 or 4 */
};

#define UART_COM1 0x3f8

/* Program 8N1 at `baud` (0: keep the firmware's divisor), FIFOs on,
 * interrupts off. */
void uart_init(const struct uart *u, uint32_t baud);
void uart_putc(const struct uart *u, char c);
/* Raise the UART's interrupt line when a byte arrives (IER receive data
 * available, and MCR OUT2, which connects the line on a PC). */
void uart_enable_rx_irq(const struct uart *u);
/* Wait (bounded) until everything written has left the wire. */
void uart_drain(const struct uart *u);
/* A received byte, or -1 when none is waiting. */
int uart_getc(const struct uart *u);

#endif
