/*
 * Console input routing; see conin.h. The console UART's receive
 * interrupt arrives as an NMI on the boot CPU (vmm/console_irq.c), which
 * polls the UART at its next safe point; a domain reading its virtual
 * UART polls it too, so input flows with or without that interrupt.
 */
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/printk.h"
#include "arch/x86_64/trap.h"
#include "drivers/iommu/iommu.h"
#include "vmm/console/conin.h"
#include "vmm/console/output.h"
#include "vmm/console/shell.h"
#include "vmm/domain.h"

static struct domain *order[CONFIG_MAX_DOMAINS];
static uint32_t count, focus;
static bool in_escape;
static uint32_t busy;	/* one poller at a time; the others skip */

void conin_register(struct domain *d)
{
	if (count < CONFIG_MAX_DOMAINS)
		order[count++] = d;
}

static void announce(void)
{
	pr_info("console: input goes to %s (Ctrl-] n: next domain, Ctrl-] 0-9: domain N, "
		"Ctrl-] s: exit counters%s)\n",
		order[focus]->name, shell_enabled() ? ", Ctrl-] : shell" : "");
}

void conin_start(void)
{
	if (count) {
		conout_focus(order[0]);
		announce();
	}
}

static void set_focus(uint32_t to)
{
	focus = to;
	conout_focus(order[focus]);
	announce();
}

void conin_focus(struct domain *d)
{
	for (uint32_t i = 0; i < count; i++)
		if (order[i] == d)
			set_focus(i);
}

static void deliver(uint8_t byte)
{
	struct domain *d = order[focus];

	if (d->running)
		domain_uart_input(d, byte);
}

static void escape(uint8_t byte)
{
	uint32_t to = focus;

	if (byte == CONIN_ESCAPE) {
		deliver(byte);
		return;
	}
	if (byte == ':') {
		shell_open();	/* unless shell = false */
		return;
	}
	if (byte == 's') {
		for (uint32_t i = 0; i < count; i++)
			domain_print_exits(order[i]);
		return;
	}
	if (byte == 'n')
		to = (focus + 1) % count;
	else if (byte >= '0' && byte <= '9' && (uint32_t)(byte - '0') < count)
		to = (uint32_t)(byte - '0');
	else
		return;
	set_focus(to);
}

void conin_poll(void)
{
	int c;

	if (!count || __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		return;
	while ((c = console_getc()) >= 0) {
		if (shell_is_open()) {
			if (c == CONIN_ESCAPE)
				shell_close();
			else
				shell_input((uint8_t)c);
		} else if (in_escape) {
			in_escape = false;
			escape((uint8_t)c);
		} else if (c == CONIN_ESCAPE) {
			in_escape = true;
		} else {
			deliver((uint8_t)c);
		}
	}
	conout_service();
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

void conin_on_nmi(void)
{
	if (nmi_take()) {
		conin_poll();
		iommu_poll_faults();	/* the IOMMUs' fault interrupts are NMIs too */
	}
}
