/*
 * Port I/O from a guest. Every port is intercepted; a domain owns only:
 *  - 0x3f8-0x3ff: its virtual 16550 (vmm/dev/vuart.c);
 *  - 0x600-0x603: an ACPI PM1a event block (status: no events, reads 0;
 *    enable: kept as written);
 *  - 0x604-0x605: an ACPI PM1a control block (as on QEMU's q35), where
 *    SLP_TYP=5 with SLP_EN turns the domain off (ACPI 6.5 4.8.3.2.1); it
 *    reads SCI_EN set: the domain is in ACPI mode from the start;
 *  - 0x608-0x60b: the ACPI PM timer, 24 bits at 3.579545 MHz, derived from
 *    the TSC (ACPI 6.5 4.8.3.3);
 *  - 0xcf9: the reset control register, where RST_CPU (bit 2) restarts
 *    the domain (the stop line says "reboot", then it boots again);
 *  - the legacy PC devices of vmm/dev/legacy.c: 8259 PICs, 8254 PIT (whose
 *    channel 0 raises IRQ 0, vmm/dev/pit_irq.c), RTC/CMOS,
 *    PCI configuration mechanism #1 with a host bridge, keyboard
 *    controller and port 0x92 resets, POST port 0x80.
 * Every other port is refused: reads return all ones, writes are dropped,
 * and each is counted. String I/O (INS/OUTS) is refused the same way.
 */
#include "arch/x86_64/tsc.h"
#include "kernel/console_irq.h"
#include "kernel/printk.h"
#include "vmm/console/conin.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/dev/pit_irq.h"

#define PM1A_EVT      0x600
#define PM1A_CNT      0x604
#define PM_TMR        0x608
#define PM_TMR_HZ     3579545ull
#define PM1_SCI_EN    (1u << 0)
#define PM1_SLP_TYP(v) (((v) >> 10) & 7)
#define PM1_SLP_EN    (1u << 13)
#define SLP_TYP_S5    5
#define RESET_CTRL    0xcf9
#define RESET_RST_CPU (1u << 2)

struct port_range {
	uint16_t base;
	uint16_t count;
	/* Handle an access at base+offset; false = refuse it. */
	bool (*access)(struct vcpu *v, uint16_t offset, const struct vm_exit *e, uint32_t *val);
};

static bool pm1_access(struct vcpu *v, uint16_t offset, const struct vm_exit *e, uint32_t *val)
{
	if (offset != 0 || e->io.size != 2)
		return false;
	if (e->io.in) {
		*val = PM1_SCI_EN;
		return true;
	}
	if ((*val & PM1_SLP_EN) && PM1_SLP_TYP(*val) == SLP_TYP_S5)
		domain_stop(v->dom, "poweroff");
	return true;
}

/* PM1a status (0x600, no event ever sets a bit: reads 0, writes clear
 * nothing) and enable (0x602, kept as written: the OS reads back what it
 * enabled, e.g. GBL_EN for the global lock). */
static bool pm1_evt_access(struct vcpu *v, uint16_t offset, const struct vm_exit *e, uint32_t *val)
{
	struct domain *d = v->dom;

	if (offset < 2) {
		if (e->io.in)
			*val = 0;
		return true;
	}
	unsigned shift = 8 * (offset - 2u);
	uint32_t mask = (e->io.size == 1 ? 0xffu : 0xffffu) << shift;
	if (offset + e->io.size > 4)
		return false;
	if (e->io.in)
		*val = (d->pm1_enable & mask) >> shift;
	else
		d->pm1_enable = (uint16_t)((d->pm1_enable & ~mask) | ((*val << shift) & mask));
	return true;
}

/* ticks * 3579545 / tsc_hz without overflow for any TSC value. */
static uint32_t pm_timer_now(void)
{
	uint64_t hz = tsc_hz(), t = rdtsc();
	uint64_t ticks = (t / hz) * PM_TMR_HZ + (t % hz) * PM_TMR_HZ / hz;

	return (uint32_t)(ticks & 0xffffff);
}

static bool pm_timer_access(struct vcpu *v, uint16_t offset, const struct vm_exit *e, uint32_t *val)
{
	(void)v;
	if (!e->io.in)
		return true;	/* read-only: writes are ignored */
	*val = pm_timer_now() >> (8 * offset);
	return true;
}

static bool reset_access(struct vcpu *v, uint16_t offset, const struct vm_exit *e, uint32_t *val)
{
	(void)offset;
	if (e->io.size != 1)
		return false;
	if (e->io.in)
		*val = 0;
	else if (*val & RESET_RST_CPU)
		domain_reboot(v->dom, "reboot");
	return true;
}

static const struct port_range owned_ports[] = {
	{ PM1A_EVT, 4, pm1_evt_access },
	{ PM1A_CNT, 2, pm1_access },
	{ PM_TMR, 4, pm_timer_access },
	{ RESET_CTRL, 1, reset_access },
};

/* The legacy PC devices of vmm/dev/legacy.c, which take scattered ports
 * (port_owner below knows which). */
static bool legacy_access(struct vcpu *v, const struct vm_exit *e, uint32_t *val)
{
	struct domain *d = v->dom;
	enum legacy_result r;

	spin_lock(&d->lock);
	r = legacy_io(&d->legacy, e->io.port, e->io.size, e->io.in, val);
	if (r == LEGACY_IRQ0_MOVED)
		pit_irq_update(d, v);
	spin_unlock(&d->lock);
	if (r == LEGACY_IRQ0_MOVED)
		pit_irq_apply(v);
	else if (r == LEGACY_RESET)
		domain_reboot(d, "reboot");
	return r != LEGACY_UNHANDLED;
}

/* Who takes each port below 0x1000 (no owned port is above): the index
 * of its owned_ports range plus one, PORT_UART for the virtual UART,
 * PORT_LEGACY for the legacy devices', 0 for none. One load on the exit
 * path instead of a walk of the ranges; a refused port costs no more.
 * Filled by io_init. */
#define PORT_LEGACY 0xff
#define PORT_UART   0xfe
static uint8_t port_owner[0x1000];
_Static_assert(sizeof(owned_ports) / sizeof(owned_ports[0]) < PORT_UART, "port_owner");

void io_init(void)
{
	for (unsigned port = 0; port < sizeof(port_owner); port++) {
		uint8_t owner = legacy_claims((uint16_t)port) ? PORT_LEGACY : 0;

		if (port - VUART_BASE < VUART_PORTS)
			owner = PORT_UART;

		for (unsigned i = 0; i < sizeof(owned_ports) / sizeof(owned_ports[0]); i++)
			if (port - owned_ports[i].base < owned_ports[i].count)
				owner = (uint8_t)(i + 1);
		port_owner[port] = owner;
	}
}

/* The first few refusals of a domain, as debug lines; out of line. */
__attribute__((noinline, cold)) static void io_refuse_note(const struct domain *d,
							   const struct vm_exit *e)
{
	pr_debug("domain %s: %s%u port 0x%x refused\n", d->name, e->io.in ? "in" : "out",
		 e->io.size * 8, e->io.port);
}

/* A refused read returns all ones; a write is dropped. */
static inline void io_refuse_value(struct vcpu *v, const struct vm_exit *e)
{
	if (e->io.in && !e->io.string) {
		uint64_t ones = e->io.size == 4 ? 0xffffffffull : e->io.size == 2 ? 0xffff : 0xff;
		v->regs.rax = (v->regs.rax & ~ones) | ones;
		if (e->io.size == 4)
			v->regs.rax = (uint32_t)v->regs.rax;	/* 32-bit writes zero-extend */
	}
}

/* The refusal, counted, the first few noted. The note is the last thing
 * done, a tail call: no frame. */
static inline void io_refuse(struct vcpu *v, const struct vm_exit *e)
{
	struct domain *d = v->dom;

	io_refuse_value(v, e);
	if (d->io_refused++ < 8)
		io_refuse_note(d, e);
}

/* The rare ends of io_exit's refusal in one out-of-line tail call: the
 * note of the domain's first few refusals, and the completion's RF/TF
 * work (exits.h; a no-op when neither flag is set). */
__attribute__((noinline, cold)) static void io_refuse_rare(struct vcpu *v, const struct vm_exit *e)
{
	if (v->dom->io_refused <= 8)
		io_refuse_note(v->dom, e);
	vcpu_insn_done_flags(v);
}

/* A port someone owns (port_owner), for an access that is not string I/O. */
__attribute__((noinline)) static void io_owned(struct vcpu *v, const struct vm_exit *e,
					       unsigned owner)
{
	uint16_t port = e->io.port;
	uint32_t val = (uint32_t)v->regs.rax;
	bool taken;

	if (owner == PORT_LEGACY)
		taken = legacy_access(v, e, &val);
	else
		taken = owned_ports[owner - 1].access(v, port - owned_ports[owner - 1].base, e, &val);
	vcpu_skip_insn(v, e);
	if (!taken) {
		io_refuse(v, e);
	} else if (e->io.in) {
		uint64_t mask = e->io.size == 4 ? 0xffffffffull : e->io.size == 2 ? 0xffff : 0xff;
		v->regs.rax = e->io.size == 4 ? val : (v->regs.rax & ~mask) | (val & mask);
	}
}

/* The UART's byte accesses (a driver polls LSR, a console writes THR):
 * the busiest owned ports, straight to the device. */
__attribute__((noinline)) static void uart_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t val = (uint8_t)v->regs.rax;

	/* A guest reading its UART may be waiting for input: poll the
	 * console, unless its input comes by interrupt anyway (then this
	 * would only cost every UART read a look at the real UART). */
	if (e->io.in && !console_irq_on())
		conin_poll();
	domain_uart_access(v->dom, e->io.port - VUART_BASE, e->io.in, &val);
	if (e->io.in)
		v->regs.rax = (v->regs.rax & ~0xffull) | (uint8_t)val;
	vcpu_skip_insn(v, e);
}

/* A refused port costs a look at port_owner and the refusal, no frame. */
void io_exit(struct vcpu *v, const struct vm_exit *e)
{
	uint16_t port = e->io.port;
	unsigned owner = port < sizeof(port_owner) ? port_owner[port] : 0;

	if (owner == PORT_UART && e->io.size == 1 && !e->io.string) {
		uart_exit(v, e);	/* wider accesses are refused, as below */
		return;
	}
	if (owner && owner != PORT_UART && !e->io.string) {
		io_owned(v, e, owner);
		return;
	}
	/* vcpu_skip_insn and io_refuse with their rare calls (the error, the
	 * note, RF/TF) tail calls: the refused port, and the tail jumps
	 * above, need no frame. */
	if (__builtin_expect(e->insn_len == 0, 0)) {
		vcpu_insn_len_unknown(v);
		return;
	}
	v->regs.rip += e->insn_len;
	io_refuse_value(v, e);
	bool note = v->dom->io_refused++ < 8;
	if (__builtin_expect(note || (v->regs.rflags & VCPU_INSN_DONE_RARE), 0))
		io_refuse_rare(v, e);
}
