/* The virtual 16550; see vuart.h. */
#include "kernel/string.h"
#include "vmm/dev/vuart.h"

enum { THR = 0, IER = 1, IIR = 2,	/* vuart_access (vuart.h) knows THR and IIR */
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define LCR_DLAB   0x80
#define LSR_DR     0x01
#define LSR_THRE   0x20
#define LSR_TEMT   0x40
#define IIR_NONE   0x01
#define IIR_THRE   0x02
#define IIR_RDA    0x04
#define IIR_FIFO   0xc0
#define IER_RDI    0x01
#define IER_THRI   0x02
#define FCR_ENABLE 0x01
#define MCR_OUT2   0x08
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
		vuart_output(u, u->line, u->len, true);
		u->len = 0;
	}
}

/* Show a partial line (a prompt, typed characters echoed) now. */
static void vuart_show_partial(struct vuart *u)
{
	if (u->len) {
		vuart_output(u, u->line, u->len, false);
		u->len = 0;
	}
}

static void vuart_put(struct vuart *u, char c)
{
	if (c == '\n') {
		vuart_output(u, u->line, u->len, true);
		u->len = 0;
		return;
	}
	if (u->len >= VUART_LINE_MAX)
		vuart_show_partial(u);	/* a long line goes out in pieces */
	u->line[u->len++] = c;		/* as sent: the console decides what shows */
}

bool vuart_receive(struct vuart *u, uint8_t byte)
{
	if (u->rx_head - u->rx_tail >= VUART_RX_MAX)
		return false;
	u->rx[u->rx_head++ % VUART_RX_MAX] = byte;
	return true;
}

static uint8_t vuart_rx_pop(struct vuart *u)
{
	if (u->rx_tail == u->rx_head)
		return 0;
	return u->rx[u->rx_tail++ % VUART_RX_MAX];
}

/* The pending interrupt of highest priority, as IIR bits 3:0. */
static uint8_t vuart_iir(const struct vuart *u)
{
	if ((u->ier & IER_RDI) && u->rx_head != u->rx_tail)
		return IIR_RDA;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRE;
	return IIR_NONE;
}

bool vuart_irq_line(const struct vuart *u)
{
	return (u->mcr & MCR_OUT2) && vuart_iir(u) != IIR_NONE;
}

uint8_t vuart_read(struct vuart *u, uint16_t reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case THR: return dlab ? u->dll : vuart_rx_pop(u);	/* RBR */
	case IER: return dlab ? u->dlm : u->ier;
	case IIR: {
		uint8_t iir = vuart_iir(u);
		if (iir == IIR_THRE)
			u->thre_pending = false;	/* reading it is the acknowledgement */
		return iir | (u->fcr & FCR_ENABLE ? IIR_FIFO : 0);
	}
	case LCR: return u->lcr;
	case MCR: return u->mcr;
	case LSR: return LSR_THRE | LSR_TEMT | (u->rx_head != u->rx_tail ? LSR_DR : 0);
	case MSR:
		if (u->mcr & MCR_LOOP)	/* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
			return (uint8_t)(((u->mcr & 1) << 5) | ((u->mcr & 2) << 3) |
					 ((u->mcr & 4) << 4) | ((u->mcr & 8) << 4));
		return MSR_DCD_DSR_CTS;
	default: return u->scr;
	}
}

void vuart_write(struct vuart *u, uint16_t reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case THR:
		if (dlab) {
			u->dll = v;
			break;
		}
		if (!(u->mcr & MCR_LOOP))
			vuart_put(u, (char)v);
		else
			vuart_receive(u, v);	/* loopback: the byte comes back */
		u->thre_pending = true;		/* sent at once: THR is empty again */
		break;
	case IER:
		if (dlab) {
			u->dlm = v;
			break;
		}
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thre_pending = true;	/* enabling it with THR empty raises it */
		if (!(v & IER_THRI) && (u->ier & IER_THRI))
			vuart_show_partial(u);	/* its driver has nothing more to send */
		u->ier = v & 0x0f;
		break;
	case IIR:	/* FCR */
		u->fcr = v & 0xc9;
		if (v & 0x02)
			u->rx_tail = u->rx_head;	/* clear the receive FIFO */
		break;
	case LCR: u->lcr = v; break;
	case MCR: u->mcr = v & 0x1f; break;
	case SCR: u->scr = v; break;
	default: break;	/* LSR, MSR: read-only */
	}
}
