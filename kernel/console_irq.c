/*
 * Console input by interrupt: the console UART's receive interrupt is
 * routed through the machine's IOAPIC as an NMI to the boot CPU. An NMI
 * reaches a CPU whatever its guest is doing (NMIs always exit, the
 * guest's own interrupts do not), so input reaches the focus domain even
 * while every domain idles without exits. The NMI only notes its arrival;
 * the boot CPU polls the UART at its next safe point (vmm/conin.c).
 *
 * ISA COM ports only (COM1/COM3 on IRQ 4, COM2/COM4 on IRQ 3, on the same
 * GSI: MADT interrupt source overrides for them are not looked at).
 */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/percpu.h"
#include "drivers/iommu/iommu.h"
#include "kernel/console.h"
#include "kernel/console_irq.h"
#include "kernel/printk.h"

bool console_irq_enabled;

static int isa_irq_of(const struct uart *u)
{
	if (u->mmio)
		return -1;
	switch (u->base) {
	case 0x3f8: case 0x3e8: return 4;
	case 0x2f8: case 0x2e8: return 3;
	default: return -1;
	}
}

void console_irq_setup(const struct acpi_info *acpi)
{
	const struct uart *u = console_uart();
	int irq = isa_irq_of(u);

	for (uint32_t i = 0; irq >= 0 && i < acpi->nioapics; i++) {
		const struct acpi_ioapic *io = &acpi->ioapics[i];
		if ((uint32_t)irq < io->gsi_base || (uint32_t)irq >= io->gsi_base + ioapic_pins(io->addr))
			continue;
		unsigned pin = (unsigned)irq - io->gsi_base;
		const struct iommu_irq nmi = { .dest = this_cpu()->apic_id, .nmi = true };
		uint64_t rte;
		/* With interrupt remapping on, the pin's message must be in
		 * remappable format: compatibility format is blocked. */
		if (iommu_ir_on()) {
			int err = iommu_ioapic_route(io->id, pin, &nmi, &rte);
			if (err) {
				pr_warn("console: cannot remap the console's interrupt (error %d): input is polled\n",
					err);
				return;
			}
			ioapic_set_rte(io->addr, pin, rte);
		} else {
			ioapic_route_nmi(io->addr, pin, this_cpu()->apic_id);
		}
		uart_enable_rx_irq(u);
		console_irq_enabled = true;
		pr_debug("console: input interrupt (IRQ %d) as an NMI to CPU %u\n", irq,
			 this_cpu()->cpu_id);
		return;
	}
	pr_info("console: no IOAPIC pin for the console's interrupt: input is polled\n");
}
