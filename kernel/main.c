/*
 * The boot CPU's init sequence, from the entry stub to the boot summary:
 * console, boot info, exceptions, memory, own page tables, ACPI, CPU.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpuinfo.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/tsc.h"
#include "drivers/iommu/iommu.h"
#include "drivers/pci.h"
#include "arch/x86_64/ioapic.h"
#include "kernel/acpi.h"
#include "kernel/console_irq.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/config.h"
#include "kernel/console.h"
#include "kernel/mm.h"
#include "kernel/printk.h"
#include "kernel/power.h"
#include "kernel/selftest.h"
#include "kernel/string.h"
#include "vmm/vcpu.h"
#include "vmm/vmm.h"
#include "vmm/console/shell.h"

extern char boot_stack_guard[], boot_stack_top[];

static struct boot_info boot_info;
static struct acpi_info acpi;
static struct cpu_info boot_cpu;

static __attribute__((noreturn)) void boot_stop(const char *why)
{
	pr_err("%s; halting\n", why);
	cpu_halt_forever();
}

/* ACPI tables are reached through the identity map; refuse what it does
 * not cover rather than fault on it. */
static const void *acpi_map_identity(uint64_t phys, size_t len)
{
	if (phys < 4096 || phys + len < phys || !paging_is_mapped((uintptr_t)phys, len))
		return NULL;
	return (const void *)(uintptr_t)phys;
}

static void apply_cmdline(const char *cmdline)
{
	char v[8];

	if (cmdline_get(cmdline, "loglevel", v, sizeof(v)) && v[0] >= '1' && v[0] <= '4')
		printk_set_level((enum log_level)(v[0] - '0'));
}

static void acpi_init(void)
{
	int err;

	if (boot_info.rsdp) {
		err = acpi_parse(boot_info.rsdp, boot_info.rsdp_len, acpi_map_identity, &acpi);
	} else {
		uint64_t rsdp = boot_info.path == BOOT_MB2_BIOS
					? acpi_find_rsdp_legacy(acpi_map_identity) : 0;
		const void *p = rsdp ? acpi_map_identity(rsdp, 36) : NULL;
		if (!p) {
			pr_warn("acpi: no RSDP from the boot loader or the BIOS areas: no ACPI\n");
			return;
		}
		err = acpi_parse(p, 36, acpi_map_identity, &acpi);
	}
	if (err)
		pr_warn("acpi: tables unusable (error %d): going on without ACPI\n", err);
	if (acpi.has_spcr)
		console_use_spcr(&acpi.spcr);
}

/* The configuration: a boot module named "hv.config", else the default
 * blob built into the image. A bad blob boots no domain at all. */
static int load_config(struct hv_config *cfg)
{
	for (uint32_t i = 0; i < boot_info.nmodules; i++) {
		const struct boot_module *m = &boot_info.modules[i];
		if (!strcmp(m->string, HVCFG_MODULE_NAME)) {
			pr_info("config: from boot module %u (%llu bytes)\n", i,
				(unsigned long long)(m->end - m->start));
			return config_parse((const void *)(uintptr_t)m->start, m->end - m->start, cfg);
		}
	}
	pr_info("config: built-in default\n");
	return config_parse(default_config_blob,
			    (size_t)(default_config_blob_end - default_config_blob), cfg);
}

static __attribute__((noreturn)) void idle(enum hvcfg_on_idle action)
{
	if (action == HVCFG_ON_IDLE_POWEROFF)
		power_off(&acpi);	/* says what it does; halts if it cannot */
	boot_stop("idle");
}

static enum hvcfg_on_idle on_idle_action = HVCFG_ON_IDLE_HALT;
static bool shell_on;

static void all_domains_stopped(void)
{
	pr_info("all domains stopped\n");
	if (on_idle_action == HVCFG_ON_IDLE_HALT && shell_on) {
		/* The CPUs idle; the console shell stays for the operator. */
		pr_info("idle; halting the domains' CPUs (the shell stays: Ctrl-] :)\n");
		return;
	}
	idle(on_idle_action);
}

static __attribute__((noreturn)) void shell_poweroff(void) { power_off(&acpi); }
static __attribute__((noreturn)) void shell_reboot(void) { power_reset(&acpi); }

static const struct shell_host shell_power = { .poweroff = shell_poweroff,
					       .reboot = shell_reboot };

static __attribute__((noreturn)) void run_domains(uint64_t online)
{
	static struct hv_config cfg;

	/* Every IOMMU unit blocks all DMA from here on, whatever the
	 * configuration; devices are let through one by one as domains take
	 * them. */
	for (uint32_t i = 0; i < acpi.nioapics; i++)
		ioapic_register(acpi.ioapics[i].id, acpi.ioapics[i].addr, acpi.ioapics[i].gsi_base);
	pci_init(&acpi);
	iommu_init(&acpi, this_cpu()->apic_id);
	if (load_config(&cfg)) {
		pci_print_all();	/* what a configuration could name */
		pr_err("config: refused; no domain started\n");
		idle(HVCFG_ON_IDLE_HALT);
	}
	on_idle_action = cfg.on_idle;
	shell_on = cfg.shell;
	console_irq_setup(&acpi);
	vmm_start(&cfg, &boot_info, online, &hv_memmap, all_domains_stopped, &shell_power);
	pr_err("vmm: no domain started\n");
	idle(HVCFG_ON_IDLE_HALT);
}

static unsigned cpu_count(uint64_t mask)
{
	unsigned n = 0;

	for (; mask; mask &= mask - 1)
		n++;
	return n;
}

/* Every CPU up, virtualization on where it can be: the mask of CPUs that
 * can run domains. */
static uint64_t bring_up_cpus(void)
{
	int err;

	/* x2APIC wherever the CPU has it: a domain's LAPIC is passed through
	 * register by register as x2APIC MSRs, with only the ICR filtered
	 * (xAPIC's one MMIO page cannot be split so). */
	tsc_calibrate();
	lapic_init(acpi.lapic_addr, true);
	smp_number_boot_cpu(&acpi);
	vmm_select_vendor(&boot_cpu);
	err = vmm_cpu_enable();
	if (err)
		pr_err("cpu: the boot CPU cannot enable %s (error %d)\n", vcpu_ops->name, err);
	return smp_start(&acpi, &boot_cpu, &hv_memmap, vmm_cpu_enable, err == 0);
}

void kernel_main(uint32_t magic, uint64_t info_phys);

void kernel_main(uint32_t magic, uint64_t info_phys)
{
	uint64_t t_entry = tsc_at_entry = rdtsc();

	console_early_init();
	pic_disable();
	percpu_init_boot_cpu((uintptr_t)boot_stack_guard + 4096, (uintptr_t)boot_stack_top);
	pr_info("hypervisor starting\n");

	if (mb2_parse(magic, (const void *)(uintptr_t)info_phys, info_phys, &boot_info))
		boot_stop("boot: unusable boot information");
	apply_cmdline(boot_info.cmdline);
	pr_info("boot: %s via %s%s%s\n", boot_path_name(boot_info.path),
		boot_info.loader_name[0] ? boot_info.loader_name : "unnamed loader",
		boot_info.cmdline[0] ? ", cmdline: " : "", boot_info.cmdline);

	if (mm_init(&boot_info))
		boot_stop("mm: cannot set up memory");
	if (paging_init(&hv_memmap))
		boot_stop("paging: cannot build the hypervisor's page tables");
	percpu_protect_stacks();

	acpi_init();

	cpu_identify(&boot_cpu);
	pr_info("cpu: %s, %s family 0x%x model 0x%x stepping %u\n", boot_cpu.vendor_id,
		boot_cpu.brand[0] ? boot_cpu.brand : "(no brand string)", boot_cpu.family,
		boot_cpu.model, boot_cpu.stepping);
	if (!boot_cpu.virt_ok) {
		pr_err("cpu: %s: no domain can run\n", boot_cpu.virt_reason);
		boot_stop("cpu: no usable hardware virtualization");
	}
	cpu_print_virt(&boot_cpu);

	uint64_t online = bring_up_cpus();
	pr_info("boot=%s cpu=%s cpus=%u ram=%lluMiB\n", boot_path_name(boot_info.path),
		cpu_vendor_name(boot_cpu.vendor), cpu_count(online),
		(unsigned long long)(mm_ram_bytes() >> 20));

	/* Under QEMU -icount shift=0 this is an instruction count (scripts/bench). */
	pr_info("boot: %llu TSC ticks from entry to the summary (%llu of them calibrating the TSC)\n",
		(unsigned long long)(rdtsc() - t_entry),
		(unsigned long long)tsc_calibration_ticks());

	selftest_run(boot_info.cmdline);
	run_domains(online);
}
