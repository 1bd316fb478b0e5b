/* The virtual 16550; see vuart.h. */
#include "kernel/console.h"
#include "kernel/string.h"
#include "vmm/vuart.h"

enum { THR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define LCR_DLAB   0x80
#define LSR_DR     0x01
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define IIR_NONE   0x01
#define IIR_FIFO   0xc0
#define MSR_DCD_DSR_CTS 0xb0
#define MCR_LOOP   0x10

void vuart_init(struct vuart *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	u->name = name;
	u->dll = 1;	/* 115200 baud */
}

void vuart_flush(struct vuart *u)
{
	if (u->len) {
		console_write_tagged(u->name, u->line, u->len);
		u->len = 0;
	}
}

static void vuart_put(struct vuart *u, char c)
{
	if (c == '\n') {
		console_write_tagged(u->name, u->line, u->len);
		u->len = 0;
		return;
	}
	if (c == '\r')
		return;
	/* Keep the console readable: control bytes become '.' */
	u->line[u->len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '.';
	if (u->len >= VUART_LINE_MAX)
		vuart_flush(u);
}

bool vuart_receive(struct vuart *u, uint8_t byte)
{
	uint32_t head = u->rx_head;

	if (head - __atomic_load_n(&u->rx_tail, __ATOMIC_ACQUIRE) >= VUART_RX_MAX)
		return false;
	u->rx[head % VUART_RX_MAX] = byte;
	__atomic_store_n(&u->rx_head, head + 1, __ATOMIC_RELEASE);
	return true;
}

static uint8_t vuart_rx_pop(struct vuart *u)
{
	uint32_t tail = u->rx_tail;

	if (tail == __atomic_load_n(&u->rx_head, __ATOMIC_ACQUIRE))
		return 0;
	uint8_t byte = u->rx[tail % VUART_RX_MAX];
	__atomic_store_n(&u->rx_tail, tail + 1, __ATOMIC_RELEASE);
	return byte;
}

static uint8_t vuart_read(struct vuart *u, uint16_t reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case THR: return dlab ? u->dll : vuart_rx_pop(u);	/* RBR */
	case IER: return dlab ? u->dlm : u->ier;
	case IIR: return IIR_NONE | IIR_FIFO;
	case LCR: return u->lcr;
	case MCR: return u->mcr;
	case LSR: return LSR_THRE | LSR_TEMT | (u->rx_head != u->rx_tail ? LSR_DR : 0);
	case MSR: return u->mcr & MCR_LOOP ? 0 : MSR_DCD_DSR_CTS;
	default: return u->scr;
	}
}

static void vuart_write(struct vuart *u, uint16_t reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case THR:
		if (dlab)
			u->dll = v;
		else if (!(u->mcr & MCR_LOOP))
			vuart_put(u, (char)v);
		break;
	case IER:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		break;
	case LCR: u->lcr = v; break;
	case MCR: u->mcr = v & 0x1f; break;
	case SCR: u->scr = v; break;
	default: break;	/* FCR, LSR, MSR: nothing to keep */
	}
}

void vuart_access(struct vuart *u, uint16_t offset, bool in, uint32_t *val)
{
	if (in)
		*val = vuart_read(u, offset);
	else
		vuart_write(u, offset, (uint8_t)*val);
}
