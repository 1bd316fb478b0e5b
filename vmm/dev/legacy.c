/* The legacy PC devices of a domain; see legacy.h. */
#include "kernel/string.h"
#include "vmm/dev/legacy.h"

/* ---- 8259A PIC pair and ELCR (Intel 8259A data sheet) -------------------- */

#define PIC_ICW1       0x10	/* even port, bit 4 set: ICW1 */
#define PIC_ICW1_IC4   0x01	/* ICW4 follows */
#define PIC_ICW1_SNGL  0x02	/* single 8259A: no ICW3 */
#define PIC_OCW3       0x08	/* even port, bit 4 clear: bit 3 set is OCW3, clear OCW2 */
#define PIC_OCW3_RR    0x02	/* read register command ... */
#define PIC_OCW3_RIS   0x01	/* ... ISR (set) or IRR (clear) */
#define PIC_OCW3_ESMM  0x40	/* special mask mode command ... */
#define PIC_OCW3_SMM   0x20	/* ... set (set) or reset (clear) */
#define PIC_OCW2_EOI   0x20	/* OCW2 (even port, bits 4-3 clear): an EOI ... */
#define PIC_OCW2_SL    0x40	/* ... specific: of level bits 2-0, else the highest in service */
#define PIC_ICW4_AEOI  0x02

/* ELCR bits that can be level: IRQ 0, 1, 2, 8 and 13 are edge-only on the
 * PIIX/ICH south bridges that define the ELCR. */
static const uint8_t elcr_writable[2] = { 0xf8, 0xde };

static void pic_command(struct legacy_pic *p, uint8_t v)
{
	if (v & PIC_ICW1) {
		/* ICW1 starts the initialization sequence: the IMR is
		 * cleared, special mask mode reset, reads select the IRR;
		 * without IC4, ICW4's functions are all zero. */
		p->icw1 = v;
		p->icw4 = 0;
		p->imr = 0;
		p->irr = p->isr = 0;
		p->read_isr = false;
		p->special_mask = false;
		p->icw_next = 2;
	} else if (v & PIC_OCW3) {
		if (v & PIC_OCW3_RR)
			p->read_isr = v & PIC_OCW3_RIS;
		if (v & PIC_OCW3_ESMM)
			p->special_mask = v & PIC_OCW3_SMM;
		/* The poll command (bit 2) is not modelled: the poll word
		 * reads as the IRR. */
	} else if (v & PIC_OCW2_EOI) {
		/* OCW2's EOIs; rotation (bit 7) is not modelled: IRQ 0 stays
		 * highest, as after initialization. */
		uint8_t bit = (v & PIC_OCW2_SL) ? (uint8_t)(1u << (v & 7)) : (uint8_t)(p->isr & (0u - p->isr));
		p->isr &= (uint8_t)~bit;
	}
}

bool legacy_pic_irq0_open(const struct legacy *l)
{
	const struct legacy_pic *m = &l->pic[0];

	return m->icw1 && !m->icw_next && !(m->imr & 1);
}

void legacy_pic_raise(struct legacy *l, unsigned irq)
{
	l->pic[0].irr |= (uint8_t)(1u << (irq & 7));
}

bool legacy_pic_next(struct legacy *l, bool take, uint8_t *vector)
{
	struct legacy_pic *m = &l->pic[0];
	uint8_t want = m->irr & (uint8_t)~m->imr;

	if (!m->icw1 || m->icw_next || !want)
		return false;
	unsigned irq = (unsigned)__builtin_ctz(want);
	if (m->isr & (uint8_t)((2u << irq) - 1))
		return false;	/* that level or a higher one is in service */
	*vector = (uint8_t)((m->icw2 & 0xf8) | irq);
	if (take) {
		m->irr &= (uint8_t)~(1u << irq);
		if (!(m->icw4 & PIC_ICW4_AEOI))
			m->isr |= (uint8_t)(1u << irq);
	}
	return true;
}

static void pic_data(struct legacy_pic *p, uint8_t v)
{
	switch (p->icw_next) {
	case 2:
		p->icw2 = v;
		p->icw_next = !(p->icw1 & PIC_ICW1_SNGL) ? 3 : (p->icw1 & PIC_ICW1_IC4) ? 4 : 0;
		break;
	case 3:
		p->icw3 = v;
		p->icw_next = (p->icw1 & PIC_ICW1_IC4) ? 4 : 0;
		break;
	case 4:
		p->icw4 = v;
		p->icw_next = 0;
		break;
	default:
		p->imr = v;	/* OCW1 */
		break;
	}
}

static enum legacy_result pic_access(struct legacy *l, uint16_t port, unsigned size, bool in,
				      uint32_t *val)
{
	struct legacy_pic *p = &l->pic[port >= 0xa0];

	(void)size;
	if (port & 1) {
		if (in)
			*val = p->imr;
		else
			pic_data(p, (uint8_t)*val);
	} else {
		if (in)
			*val = p->read_isr ? p->isr : p->irr;
		else
			pic_command(p, (uint8_t)*val);
	}
	/* The master's initialization done or its mask written: where IRQ 0
	 * goes may have changed. */
	if (!in && p == &l->pic[0] && ((port & 1) || (*val & PIC_ICW1)))
		return LEGACY_IRQ0_MOVED;
	return LEGACY_DONE;
}

static enum legacy_result elcr_access(struct legacy *l, uint16_t port, unsigned size, bool in,
				       uint32_t *val)
{
	struct legacy_pic *p = &l->pic[port & 1];

	(void)size;
	if (in)
		*val = p->elcr;
	else
		p->elcr = (uint8_t)*val & elcr_writable[port & 1];
	return LEGACY_DONE;
}

/* ---- 8254 PIT (Intel 8254 data sheet) ------------------------------------ */

#define PIT_HZ           1193182ull
#define PIT_READ_BACK    3	/* control word bits 7-6 */
#define PIT_RB_NO_COUNT  0x20	/* read-back: bit 5 clear latches the count(s) */
#define PIT_RB_NO_STATUS 0x10	/* read-back: bit 4 clear latches the status(es) */
#define PIT_STATUS_OUT   0x80
#define PIT_STATUS_NULL  0x40	/* a count written is not yet in the counting element */
#define PORT61_KEEP      0x0f	/* gate 2, speaker data and two chipset bits */
#define PORT61_GATE2     0x01
#define PORT61_REFRESH   0x10
#define PORT61_OUT2      0x20

/* tsc_delta * PIT_HZ / tsc_hz without overflowing 64 bits for any delta
 * (given tsc_hz < 2^64 / PIT_HZ). */
static uint64_t pit_ticks(const struct legacy *l, uint64_t tsc_delta)
{
	uint64_t hz = l->host.tsc_hz;

	return tsc_delta / hz * PIT_HZ + tsc_delta % hz * PIT_HZ / hz;
}

/* Modes 6 and 7 are modes 2 and 3. */
static unsigned pit_mode(const struct legacy_pit_channel *c)
{
	return (c->mode & 2) ? (c->mode & 3) : c->mode;
}

/* A low gate stops the count in modes 0, 2, 3 and 4; in modes 1 and 5 the
 * gate only triggers. */
static bool pit_counting(const struct legacy_pit_channel *c)
{
	unsigned m = pit_mode(c);

	return c->state == LEGACY_PIT_RUNNING && (c->gate || m == 1 || m == 5);
}

/* PIT ticks since the count was written or triggered. A TSC behind
 * start_tsc (read on another CPU, a little behind) counts as no time. */
static uint64_t pit_elapsed(const struct legacy *l, const struct legacy_pit_channel *c, uint64_t now)
{
	uint64_t delta = now - c->start_tsc;

	if (!pit_counting(c) || (int64_t)delta < 0)
		return c->ticks_before;
	return c->ticks_before + pit_ticks(l, delta);
}

/* Ticks the counting element has counted: it is loaded on the first CLK
 * pulse after the count is written (or the trigger), which does not count. */
static uint64_t pit_counted(const struct legacy *l, const struct legacy_pit_channel *c, uint64_t now)
{
	uint64_t e = pit_elapsed(l, c, now);

	return e ? e - 1 : 0;
}

static void pit_start(struct legacy_pit_channel *c, uint32_t count, uint64_t ticks, uint64_t now)
{
	c->state = LEGACY_PIT_RUNNING;
	c->count = count;
	c->ticks_before = ticks;
	c->start_tsc = now;
	c->pending = false;
}

/* Modes 2 and 3: a count written while counting is loaded at the end of
 * the current period (the data sheet has mode 3 reload at the end of the
 * half-cycle; we wait for the whole period, which keeps OUT's phase). */
static void pit_sync(struct legacy *l, struct legacy_pit_channel *c, uint64_t now)
{
	if (!c->pending)
		return;
	uint64_t e = pit_counted(l, c, now);
	if (e >= c->switch_at)
		pit_start(c, c->reload, e - c->switch_at + 1, now);
}

static uint16_t pit_count(const struct legacy *l, const struct legacy_pit_channel *c, uint64_t now)
{
	if (c->state != LEGACY_PIT_RUNNING)
		return c->held;

	uint64_t e = pit_counted(l, c, now);
	uint32_t n = c->count;

	switch (pit_mode(c)) {
	case 2:
		return (uint16_t)(n - e % n);		/* n .. 1, then reload */
	case 3: {
		/* Down by two through each half: the high one (n + 1) / 2
		 * ticks long, the low one n / 2. */
		uint64_t k = e % n, high = (n + 1) / 2;
		if (k >= high)
			k -= high;
		return (uint16_t)(n - 2 * k);
	}
	default:
		return (uint16_t)(n - e);		/* past 0, it wraps */
	}
}

static bool pit_out(const struct legacy *l, const struct legacy_pit_channel *c, uint64_t now)
{
	unsigned m = pit_mode(c);

	if (c->state == LEGACY_PIT_IDLE)
		return m != 0;		/* a control word sets OUT low in mode 0, high otherwise */
	if (c->state == LEGACY_PIT_ARMED || ((m == 2 || m == 3) && !c->gate))
		return true;

	uint64_t e = pit_counted(l, c, now);
	uint32_t n = c->count;

	switch (m) {
	case 0:
	case 1:
		return e >= n;			/* high from terminal count on */
	case 2:
		return e % n != n - 1;		/* low while the count is 1 */
	case 3:
		return e % n < (n + 1) / 2;
	default:
		return e != n;			/* 4, 5: low for the one tick at 0 */
	}
}

static uint8_t pit_status(const struct legacy *l, const struct legacy_pit_channel *c, uint64_t now)
{
	bool null_count = c->state != LEGACY_PIT_RUNNING || c->pending;

	return (uint8_t)((pit_out(l, c, now) ? PIT_STATUS_OUT : 0) | (null_count ? PIT_STATUS_NULL : 0) |
			 c->access << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
}

/* A count, complete, written to the count register. */
static void pit_load(struct legacy *l, struct legacy_pit_channel *c, uint32_t value, uint64_t now)
{
	unsigned m = pit_mode(c);

	c->reload = value ? value : 0x10000;
	if (m == 1 || m == 5) {
		/* Loaded by the next trigger (gate rising edge). */
		if (c->state == LEGACY_PIT_IDLE)
			c->state = LEGACY_PIT_ARMED;
	} else if ((m == 2 || m == 3) && c->state == LEGACY_PIT_RUNNING) {
		uint64_t e = pit_counted(l, c, now);
		c->pending = true;
		c->switch_at = e - e % c->count + c->count;
	} else {
		pit_start(c, c->reload, 0, now);
	}
}

static void pit_write(struct legacy *l, struct legacy_pit_channel *c, uint8_t v, uint64_t now)
{
	switch (c->access) {
	case LEGACY_PIT_LSB:
		pit_load(l, c, v, now);
		break;
	case LEGACY_PIT_MSB:
		pit_load(l, c, (uint32_t)v << 8, now);
		break;
	default:
		if (!c->write_msb_next) {
			c->lsb_written = v;
			c->write_msb_next = true;
			/* Mode 0: the first byte stops the count and sets OUT low. */
			if (pit_mode(c) == 0) {
				c->held = pit_count(l, c, now);
				c->state = LEGACY_PIT_IDLE;
			}
		} else {
			c->write_msb_next = false;
			pit_load(l, c, c->lsb_written | (uint32_t)v << 8, now);
		}
		break;
	}
}

static uint8_t pit_read(struct legacy *l, struct legacy_pit_channel *c, uint64_t now)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->latched_status;
	}

	uint16_t v = c->count_latched ? c->latched_count : pit_count(l, c, now);
	bool msb = c->access == LEGACY_PIT_MSB;

	if (c->access == LEGACY_PIT_WORD) {
		msb = c->read_msb_next;
		c->read_msb_next = !msb;
	}
	/* A latched count is held until read in full. */
	if (c->access != LEGACY_PIT_WORD || msb)
		c->count_latched = false;
	return (uint8_t)(msb ? v >> 8 : v);
}

/* Latching twice before the first latch is read keeps the first value. */
static void pit_latch(struct legacy *l, struct legacy_pit_channel *c, bool count, bool status, uint64_t now)
{
	if (count && !c->count_latched) {
		c->latched_count = pit_count(l, c, now);
		c->count_latched = true;
	}
	if (status && !c->status_latched) {
		c->latched_status = pit_status(l, c, now);
		c->status_latched = true;
	}
}

static void pit_control(struct legacy *l, uint8_t v, uint64_t now)
{
	unsigned select = v >> 6, access = (v >> 4) & 3;

	if (select == PIT_READ_BACK) {
		for (unsigned i = 0; i < 3; i++)
			if (v & (2u << i))
				pit_latch(l, &l->pit[i], !(v & PIT_RB_NO_COUNT), !(v & PIT_RB_NO_STATUS), now);
		return;
	}

	struct legacy_pit_channel *c = &l->pit[select];

	if (access == LEGACY_PIT_LATCH) {
		pit_latch(l, c, true, false, now);
		return;
	}
	/* A control word resets the counter: it stops until a count is
	 * written (the value it reads meanwhile is undefined; we keep the
	 * last one). */
	c->held = pit_count(l, c, now);
	c->mode = (v >> 1) & 7;
	c->access = (uint8_t)access;
	c->bcd = v & 1;
	c->state = LEGACY_PIT_IDLE;
	c->pending = false;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->count_latched = false;
	c->status_latched = false;
}

/* The gate of channel 2 (port 0x61 bit 0; 0 and 1 are tied high). */
static void pit_set_gate(struct legacy *l, struct legacy_pit_channel *c, bool gate, uint64_t now)
{
	if (gate == c->gate)
		return;
	c->ticks_before = pit_elapsed(l, c, now);
	c->start_tsc = now;
	c->gate = gate;

	unsigned m = pit_mode(c);
	/* A rising edge triggers modes 1, 2, 3 and 5: the count is
	 * reloaded; modes 0 and 4 just count on. */
	if (gate && c->state != LEGACY_PIT_IDLE && m != 0 && m != 4)
		pit_start(c, c->reload, 0, now);
}

/* The TSC delta after which pit_ticks() reaches `ticks`: the smallest d
 * with d * PIT_HZ >= ticks * tsc_hz, without overflow (as pit_ticks). */
static uint64_t pit_tsc_for(const struct legacy *l, uint64_t ticks)
{
	uint64_t hz = l->host.tsc_hz;

	return ticks / PIT_HZ * hz + (ticks % PIT_HZ * hz + PIT_HZ - 1) / PIT_HZ;
}

/*
 * IRQ 0 is channel 0's OUT going high (edge-triggered on the PICs and the
 * IOAPIC's pin 2). Its counting element holds `count` after e ticks
 * counted (pit_count): mode 2 and 3 raise OUT when a period ends, at
 * e = k * count (k >= 1); mode 0 at its terminal count, e = count, once;
 * mode 4 one tick after it (OUT is low for the tick at 0). Modes 1 and 5
 * wait for a gate trigger, and channel 0's gate is tied high: never.
 * A reload pending in modes 2 and 3 takes over at the end of a period
 * (switch_at), which is itself an edge of the old count.
 */
uint64_t legacy_irq0_next(struct legacy *l, uint64_t now)
{
	struct legacy_pit_channel *c = &l->pit[0];

	pit_sync(l, c, now);
	if (!pit_counting(c))
		return LEGACY_NEVER;

	uint64_t e = pit_counted(l, c, now), n = c->count, at;
	switch (pit_mode(c)) {
	case 2:
	case 3:
		at = (e / n + 1) * n;
		break;
	case 0:
		at = n;
		break;
	case 4:
		at = n + 1;
		break;
	default:
		return LEGACY_NEVER;
	}
	if (at <= e)
		return LEGACY_NEVER;	/* the one-shot edge is behind */
	/* Counted `at` is reached when at + 1 ticks have elapsed since the
	 * count was written (pit_counted); ticks_before <= e + 1 <= at. */
	return c->start_tsc + pit_tsc_for(l, at + 1 - c->ticks_before);
}

static void pit_sync_all(struct legacy *l, uint64_t now)
{
	for (unsigned i = 0; i < 3; i++)
		pit_sync(l, &l->pit[i], now);
}

static enum legacy_result pit_access(struct legacy *l, uint16_t port, unsigned size, bool in,
				      uint32_t *val)
{
	uint64_t now = l->host.tsc();
	unsigned reg = port & 3;

	(void)size;
	pit_sync_all(l, now);
	/* A control word or a count for channel 0 may move IRQ 0's next edge
	 * (read-back and latch commands do not). */
	bool irq0 = !in && (reg == 0 || (reg == 3 && (*val & 0xc0) == 0 && (*val & 0x30)));
	if (reg == 3) {
		if (in)
			*val = 0xff;	/* the control word register is write-only */
		else
			pit_control(l, (uint8_t)*val, now);
	} else if (in) {
		*val = pit_read(l, &l->pit[reg], now);
	} else {
		pit_write(l, &l->pit[reg], (uint8_t)*val, now);
	}
	return irq0 ? LEGACY_IRQ0_MOVED : LEGACY_DONE;
}

/* Port 0x61. The refresh bit toggles on every read (on hardware: every
 * 15 us), enough for code that waits for it to change. */
static enum legacy_result port61_access(struct legacy *l, uint16_t port, unsigned size, bool in,
					 uint32_t *val)
{
	struct legacy_pit_channel *c = &l->pit[2];
	uint64_t now = l->host.tsc();

	(void)port;
	(void)size;
	pit_sync(l, c, now);
	if (in) {
		l->refresh = !l->refresh;
		*val = (l->port61 & PORT61_KEEP) | (l->refresh ? PORT61_REFRESH : 0) |
		       (pit_out(l, c, now) ? PORT61_OUT2 : 0);
	} else {
		l->port61 = (uint8_t)*val & PORT61_KEEP;
		pit_set_gate(l, c, *val & PORT61_GATE2, now);
	}
	return LEGACY_DONE;
}

static void pit_init(struct legacy *l, uint64_t now)
{
	for (unsigned i = 0; i < 3; i++) {
		l->pit[i].access = LEGACY_PIT_WORD;
		l->pit[i].gate = i != 2;
	}
	/* Channel 0 as PC firmware leaves it: mode 3, count 65536 (18.2 Hz). */
	l->pit[0].mode = 3;
	pit_load(l, &l->pit[0], 0, now);
}

/* ---- MC146818 RTC and CMOS RAM (Motorola MC146818 data sheet) ------------- */

#define RTC_INDEX_MASK 0x7f	/* port 0x70 bit 7 is the NMI mask */
#define RTC_REG_A      0x0a
#define RTC_REG_B      0x0b
#define RTC_REG_C      0x0c
#define RTC_REG_D      0x0d
#define RTC_CENTURY    0x32	/* ACPI FADT CENTURY, as on PCs */
#define CMOS_RAM_START 0x0e
/* Seconds, minutes, hours, day of week, day, month, year, A and B. */
#define RTC_CLOCK_REGS 0x0fd5u
/* Register B as the domain sees it: the data format (DM, 24/12, DSE) of
 * the clock it reads; no interrupt enables (it gets no RTC interrupt). */
#define RTC_B_FORMAT   0x07
#define RTC_D_VRT      0x80	/* valid RAM and time */

/* 2000-01-01 00:00:00, a Saturday (day of week 7), BCD, 24-hour; register
 * A: divider on (32.768 kHz), 1024 Hz rate, no update in progress. */
static uint8_t rtc_fixed(uint8_t idx)
{
	static const uint8_t regs[16] = {
		[0x06] = 0x07, [0x07] = 0x01, [0x08] = 0x01, [RTC_REG_A] = 0x26, [RTC_REG_B] = 0x02,
	};

	return idx == RTC_CENTURY ? 0x20 : regs[idx];
}

static uint8_t rtc_read(const struct legacy *l, uint8_t idx)
{
	if (idx == RTC_CENTURY || (idx < 16 && ((RTC_CLOCK_REGS >> idx) & 1))) {
		uint8_t v = l->host.cmos_read ? l->host.cmos_read(idx) : rtc_fixed(idx);
		return idx == RTC_REG_B ? v & RTC_B_FORMAT : v;
	}
	if (idx == RTC_REG_D)
		return RTC_D_VRT;
	if (idx < CMOS_RAM_START)
		return 0;	/* alarms (never set), register C (no interrupt flags) */
	return l->cmos[idx];
}

static enum legacy_result rtc_access(struct legacy *l, uint16_t port, unsigned size, bool in,
				      uint32_t *val)
{
	uint8_t idx = l->rtc_index & RTC_INDEX_MASK;

	(void)size;
	if (!(port & 1)) {
		if (in)
			*val = l->rtc_index;
		else
			l->rtc_index = (uint8_t)*val;
	} else if (in) {
		*val = rtc_read(l, idx);
	} else if (idx >= CMOS_RAM_START && idx != RTC_CENTURY) {
		l->cmos[idx] = (uint8_t)*val;
	}
	/* Writes to the clock and its registers are dropped: the domain
	 * neither sets the machine's time nor enables RTC interrupts. */
	return LEGACY_DONE;
}

/* ---- PCI configuration mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2) -- */

#define PCI_ENABLE      (1u << 31)
/* Bus, device, function and the extended-register bits 27-24 (AMD's
 * extension for registers 0x100-0xfff): all zero for the host bridge. */
#define PCI_TARGET      0x0fffff00u
#define PCI_REGISTER    0xfcu
#define PCI_EXT_REGISTER 0x0f000000u

/* 00:00.0, a host bridge: vendor 0x1b36, device 0x0008, class 06 00 00,
 * revision 0, header type 0; every other register 0, all read-only. */
uint32_t legacy_pci_bridge_read(uint8_t reg)
{
	switch (reg) {
	case 0x00: return 0x0008u << 16 | 0x1b36u;
	case 0x08: return 0x060000u << 8;
	default: return 0;
	}
}

static enum legacy_result pci_address_access(struct legacy *l, uint16_t port, unsigned size, bool in,
					      uint32_t *val)
{
	(void)size;
	(void)port;
	if (in)
		*val = l->pci_address;
	else
		l->pci_address = *val;
	return LEGACY_DONE;
}

static enum legacy_result pci_data_access(struct legacy *l, uint16_t port, unsigned size, bool in,
					  uint32_t *val)
{
	unsigned offset = port & 3;
	uint32_t a = l->pci_address;

	if (offset + size > 4)
		return LEGACY_UNHANDLED;
	if ((a & PCI_ENABLE) && (a & PCI_TARGET) && l->host.pci_cfg && !(offset & (size - 1))) {
		unsigned reg = ((a & PCI_EXT_REGISTER) >> 16) | (a & PCI_REGISTER) | offset;
		l->host.pci_cfg(l->host.pci_ctx, (uint8_t)(a >> 16), (uint8_t)(a >> 8), reg, size,
				in, val);
		return LEGACY_DONE;
	}
	if (!in)
		return LEGACY_DONE;	/* nothing writable */

	uint32_t dword = 0xffffffffu;	/* no such device, or disabled */
	if ((a & PCI_ENABLE) && !(a & PCI_TARGET))
		dword = legacy_pci_bridge_read((uint8_t)(a & PCI_REGISTER));
	dword >>= 8 * offset;
	*val = size == 4 ? dword : dword & ((1u << (8 * size)) - 1);
	return LEGACY_DONE;
}

/* ---- keyboard controller, port 0x92, port 0x80 --------------------------- */

#define KBC_PORT_COMMAND 0x64
#define KBC_PULSE        0xf0	/* 0xf0-0xff: pulse the output lines whose bit is 0 ... */
#define KBC_PULSE_RESET  0x01	/* ... bit 0 being the CPU reset line */
#define SYSCTL_A20       0x02
#define SYSCTL_RESET     0x01

static enum legacy_result kbc_access(struct legacy *l, uint16_t port, unsigned size, bool in,
				      uint32_t *val)
{
	uint8_t v = (uint8_t)*val;

	(void)l;
	(void)size;
	if (in) {
		*val = 0;	/* status: no output, input buffer empty; data: nothing */
		return LEGACY_DONE;
	}
	if (port == KBC_PORT_COMMAND && (v & KBC_PULSE) == KBC_PULSE && !(v & KBC_PULSE_RESET))
		return LEGACY_RESET;
	return LEGACY_DONE;
}

static enum legacy_result sysctl_access(struct legacy *l, uint16_t port, unsigned size, bool in,
					 uint32_t *val)
{
	(void)size;
	(void)l;
	(void)port;
	if (in) {
		*val = SYSCTL_A20;
		return LEGACY_DONE;
	}
	return (*val & SYSCTL_RESET) ? LEGACY_RESET : LEGACY_DONE;
}

static enum legacy_result post_access(struct legacy *l, uint16_t port, unsigned size, bool in,
				       uint32_t *val)
{
	(void)size;
	(void)l;
	(void)port;
	if (in)
		*val = 0xff;
	return LEGACY_DONE;
}

/* ---- dispatch -------------------------------------------------------------- */

#define SIZE_1 (1u << 1)
#define SIZE_2 (1u << 2)
#define SIZE_4 (1u << 4)

struct legacy_port {
	uint16_t base, count;
	uint8_t sizes;	/* SIZE_n: an access of n bytes is taken */
	/* Called with a size that `sizes` allows. */
	enum legacy_result (*access)(struct legacy *l, uint16_t port, unsigned size, bool in, uint32_t *val);
};

static const struct legacy_port legacy_ports[] = {
	{ 0x20, 2, SIZE_1, pic_access },
	{ 0xa0, 2, SIZE_1, pic_access },
	{ 0x4d0, 2, SIZE_1, elcr_access },
	{ 0x40, 4, SIZE_1, pit_access },
	{ 0x61, 1, SIZE_1, port61_access },
	{ 0x70, 2, SIZE_1, rtc_access },
	{ 0xcf8, 1, SIZE_4, pci_address_access },
	{ 0xcfc, 4, SIZE_1 | SIZE_2 | SIZE_4, pci_data_access },
	{ 0x60, 1, SIZE_1, kbc_access },
	{ 0x64, 1, SIZE_1, kbc_access },
	{ 0x92, 1, SIZE_1, sysctl_access },
	{ 0x80, 1, SIZE_1, post_access },
};

bool legacy_claims(uint16_t port)
{
	for (unsigned i = 0; i < sizeof(legacy_ports) / sizeof(legacy_ports[0]); i++)
		if ((unsigned)port - legacy_ports[i].base < legacy_ports[i].count)
			return true;
	return false;
}

void legacy_init(struct legacy *l, const struct legacy_host *host)
{
	memset(l, 0, sizeof(*l));
	l->host = *host;
	l->pic[0].imr = 0xff;
	l->pic[1].imr = 0xff;
	pit_init(l, host->tsc());
}

enum legacy_result legacy_io(struct legacy *l, uint16_t port, unsigned size, bool in, uint32_t *val)
{
	if (size > 4)
		return LEGACY_UNHANDLED;
	for (unsigned i = 0; i < sizeof(legacy_ports) / sizeof(legacy_ports[0]); i++) {
		const struct legacy_port *p = &legacy_ports[i];

		if (port < p->base || port - p->base >= p->count)
			continue;
		if (!(p->sizes & (1u << size)))
			return LEGACY_UNHANDLED;
		return p->access(l, port, size, in, val);
	}
	return LEGACY_UNHANDLED;
}
