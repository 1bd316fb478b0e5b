/*
 * Poweroff and reset; see power.h. What to write where for S5 comes from
 * acpi_s5_sequence (kernel/acpi.c, host-tested); this file does the port
 * and memory accesses and the waiting.
 *
 * There is no calibrated delay here, so waits count TSC ticks (every
 * x86_64 CPU has a TSC; 2^32 ticks is one to four seconds at 1-4 GHz),
 * with a cap on the iterations in case the TSC does not move.
 */
#include "kernel/console.h"
#include "kernel/power.h"

#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "kernel/errno.h"
#include "kernel/printk.h"

#define POWER_WAIT_SETTLE  (1ull << 17)	/* ~50 us: between two writes */
#define POWER_WAIT_STEP    (1ull << 28)	/* ~0.1 s: before the next reset method */
#define POWER_WAIT_OFF     (1ull << 32)	/* ~1-4 s: for the poweroff */

#define PCI_RST_CNT        0xcf9	/* Reset Control Register (ICH/PIIX) */
#define RST_CNT_SYS_RST    0x02		/* full (not INIT-only) reset */
#define RST_CNT_RST_CPU    0x04		/* 0 -> 1: do the reset */
#define KBC_STATUS         0x64
#define KBC_STATUS_IBF     0x02		/* input buffer full */
#define KBC_CMD            0x64
#define KBC_CMD_PULSE_RESET 0xfe


static inline void power_irq_off(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Spin for about `ticks` TSC ticks; at most ticks / 16 iterations. */
static void power_wait(uint64_t ticks)
{
	uint64_t t0 = rdtsc();

	for (uint64_t i = 0; i < ticks / 16 && rdtsc() - t0 < ticks; i++)
		cpu_relax();
}

void power_off(const struct acpi_info *acpi)
{
	struct acpi_io_write w[2];
	int n;

	power_irq_off();
	n = acpi_s5_sequence(acpi, w);
	if (n == -ENODEV || n == -ENODATA) {
		pr_err("power: no ACPI S5 information; halting\n");
		cpu_halt_forever();
	}
	if (n < 0) {
		pr_err("power: no usable ACPI PM1a control block (hardware-reduced ACPI?); halting\n");
		cpu_halt_forever();
	}
	pr_info("power: powering off (ACPI S5: PM1a_CNT 0x%x, SLP_TYPa %u)\n",
		w[0].port, (w[0].value & ACPI_PM1_CNT_SLP_TYP) >> ACPI_PM1_CNT_SLP_TYP_SHIFT);
	/* ACPI 6.5 4.8.3.2.1: SLP_TYP with SLP_EN set, PM1a then PM1b, the
	 * other bits as they are (SLP_EN and the write-only bits read 0). */
	console_drain();	/* the last line must leave the UART first */
	for (int i = 0; i < n; i++)
		outw(w[i].port, acpi_io_write_value(&w[i], inw(w[i].port)));
	power_wait(POWER_WAIT_OFF);
	pr_err("power: ACPI poweroff did not take effect; halting\n");
	cpu_halt_forever();
}

/* The FADT reset register (ACPI 6.5 4.8.4.6): RESET_VALUE, one byte. */
static void power_reset_acpi(const struct acpi_pm *pm)
{
	if (pm->reset_space == ACPI_GAS_IO) {
		pr_info("power: resetting via the ACPI reset register (I/O port 0x%llx <- 0x%x)\n",
			(unsigned long long)pm->reset_addr, pm->reset_value);
		outb((uint16_t)pm->reset_addr, pm->reset_value);
	} else if (paging_is_mapped((uintptr_t)pm->reset_addr, 1)) {
		pr_info("power: resetting via the ACPI reset register (memory 0x%llx <- 0x%x)\n",
			(unsigned long long)pm->reset_addr, pm->reset_value);
		*(volatile uint8_t *)(uintptr_t)pm->reset_addr = pm->reset_value;
	} else {
		pr_warn("power: ACPI reset register at 0x%llx is not mapped, skipped\n",
			(unsigned long long)pm->reset_addr);
		return;
	}
	power_wait(POWER_WAIT_STEP);
}

void power_reset(const struct acpi_info *acpi)
{
	power_irq_off();
	if (acpi && acpi->pm.reset_valid)
		power_reset_acpi(&acpi->pm);

	pr_info("power: resetting via port 0xcf9\n");
	outb(PCI_RST_CNT, RST_CNT_SYS_RST);
	power_wait(POWER_WAIT_SETTLE);
	outb(PCI_RST_CNT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
	power_wait(POWER_WAIT_STEP);

	pr_info("power: resetting via the keyboard controller\n");
	for (uint32_t i = 0; i < 0x10000 && (inb(KBC_STATUS) & KBC_STATUS_IBF); i++)
		cpu_relax();
	outb(KBC_CMD, KBC_CMD_PULSE_RESET);
	power_wait(POWER_WAIT_STEP);

	pr_err("power: reset did not take effect; halting\n");
	cpu_halt_forever();
}
