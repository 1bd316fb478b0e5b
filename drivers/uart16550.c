/*
 * 16550 UART driver. Register layout: the NS16550A data sheet (THR/RBR 0,
 * IER 1, FCR 2, LCR 3, MCR 4, LSR 5; DLL/DLM at 0/1 with LCR.DLAB).
 */
#include "drivers/uart16550.h"
#include "arch/x86_64/cpu.h"

enum {
	UART_THR = 0, UART_RBR = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
};

#define LCR_8N1    0x03
#define LCR_DLAB   0x80
#define FCR_ENABLE 0x07		/* FIFOs on, both cleared */
#define MCR_DTR_RTS 0x03
#define MCR_OUT2   0x08
#define IER_RDI    0x01
#define LSR_DR     0x01
#define LSR_THRE   0x20
#define LSR_TEMT   0x40	/* transmitter completely empty */
#define UART_CLOCK 1843200u	/* 1.8432 MHz crystal, divided by 16 */

static uint8_t uart_read(const struct uart *u, unsigned reg)
{
	if (!u->mmio)
		return inb((uint16_t)(u->base + reg));
	uintptr_t a = (uintptr_t)(u->base + ((uint64_t)reg << u->reg_shift));
	if (u->access_bytes == 4)
		return (uint8_t)*(volatile uint32_t *)a;
	return *(volatile uint8_t *)a;
}

static void uart_write(const struct uart *u, unsigned reg, uint8_t v)
{
	if (!u->mmio) {
		outb((uint16_t)(u->base + reg), v);
		return;
	}
	uintptr_t a = (uintptr_t)(u->base + ((uint64_t)reg << u->reg_shift));
	if (u->access_bytes == 4)
		*(volatile uint32_t *)a = v;
	else
		*(volatile uint8_t *)a = v;
}

void uart_init(const struct uart *u, uint32_t baud)
{
	uart_write(u, UART_IER, 0);
	if (baud) {
		uint32_t div = UART_CLOCK / 16 / baud;
		if (div == 0)
			div = 1;
		uart_write(u, UART_LCR, LCR_DLAB);
		uart_write(u, UART_DLL, (uint8_t)div);
		uart_write(u, UART_DLM, (uint8_t)(div >> 8));
	}
	uart_write(u, UART_LCR, LCR_8N1);
	uart_write(u, UART_FCR, FCR_ENABLE);
	uart_write(u, UART_MCR, MCR_DTR_RTS);
}

void uart_putc(const struct uart *u, char c)
{
	/* Bounded wait: a dead UART must not hang the hypervisor. */
	for (unsigned spin = 0; spin < 1000000; spin++) {
		if (uart_read(u, UART_LSR) & LSR_THRE)
			break;
		cpu_relax();
	}
	uart_write(u, UART_THR, (uint8_t)c);
}

void uart_drain(const struct uart *u)
{
	for (unsigned spin = 0; spin < 1000000; spin++) {
		if (uart_read(u, UART_LSR) & LSR_TEMT)
			return;
		cpu_relax();
	}
}

int uart_getc(const struct uart *u)
{
	if (!(uart_read(u, UART_LSR) & LSR_DR))
		return -1;
	return uart_read(u, UART_RBR);
}

void uart_enable_rx_irq(const struct uart *u)
{
	uart_write(u, UART_MCR, MCR_DTR_RTS | MCR_OUT2);
	uart_write(u, UART_IER, IER_RDI);
}
