/*
 * The shell's commands. Each answers in lines of its own ("hv: ..."),
 * acts on a domain only through the lifecycle (vmm/lifecycle.c) and
 * refuses, in one line, anything that does not fit the domain's state or
 * names nothing. Nothing here waits for a domain: a stop or start is
 * under way when the command returns, and the domain's CPUs print how it
 * ends.
 */
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "drivers/iommu/iommu.h"
#include "drivers/pci.h"
#include "kernel/config.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/console/conin.h"
#include "vmm/console/output.h"
#include "vmm/console/shell_int.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/vmm.h"
#include "build_version.h"

#define MIB (1ull << 20)
#define MAX_ARGS 4
#define LOG_LINES_DEFAULT 20

enum confirm { CONFIRM_NONE, CONFIRM_REBOOT, CONFIRM_POWEROFF };
static enum confirm pending;

struct cmd {
	const char *name;
	const char *args;
	const char *help;
	void (*run)(int argc, char **argv);
	int min_args, max_args;		/* after the name */
};

static const struct cmd cmds[];

/* "1,2,5": the physical CPUs of d. */
static void cpu_list(const struct domain *d, char *buf, size_t len)
{
	int n = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < d->nvcpus && n >= 0 && (size_t)n < len; i++)
		n += hv_snprintf(buf + n, len - (size_t)n, "%s%u", i ? "," : "", d->vcpus[i].cpu);
}

static uint64_t total_exits(const struct domain *d)
{
	uint64_t total = 0;

	for (unsigned r = 0; r < EXIT_REASONS; r++)
		total += __atomic_load_n(&d->exits[r], __ATOMIC_RELAXED);
	return total;
}

/* "1h02m03s" since it started, or "-" when it is not running. */
static void uptime(const struct domain *d, char *buf, size_t len)
{
	if (!d->running || !tsc_hz()) {
		hv_snprintf(buf, len, "-");
		return;
	}
	uint64_t s = (rdtsc() - d->started_tsc) / tsc_hz();
	hv_snprintf(buf, len, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
		    (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

static struct domain *named(const char *name)
{
	struct domain *d = vmm_domain_named(name);

	if (!d)
		pr_info("shell: no domain named '%s' (list shows them)\n", name);
	return d;
}

static void cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (const struct cmd *c = cmds; c->name; c++)
		pr_info("  %-8s %-14s %s\n", c->name, c->args, c->help);
	pr_info("  Ctrl-] leaves the shell; Ctrl-U erases the line, Ctrl-C cancels it, up/down recall\n");
}

static void cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_info("version %s, built %s, %s\n", HV_BUILD_DESCRIBE, HV_BUILD_DATE, vcpu_ops->name);
}

static void cmd_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_info("%-16s %-12s %-8s %8s %4s %10s %10s  %s\n", "NAME", "STATE", "CPUS", "MEMORY", "DEVS",
		"UPTIME", "EXITS", "LAST STOP");
	for (uint32_t i = 0; i < vmm_ndomains(); i++) {
		const struct domain *d = vmm_domain(i);
		char cpus[48], up[24];
		cpu_list(d, cpus, sizeof(cpus));
		uptime(d, up, sizeof(up));
		pr_info("%-16s %-12s %-8s %7lluM %4u %10s %10llu  %s\n", d->name, domain_state_name(d),
			cpus, (unsigned long long)(d->mem_size / MIB), d->vpci.n, up,
			(unsigned long long)total_exits(d), d->stop_reason[0] ? d->stop_reason : "-");
	}
}

static void cmd_info(int argc, char **argv)
{
	struct domain *d = named(argv[1]);
	const struct domain_config *c;
	char cpus[200], up[24];
	uint64_t gpa = 0;

	(void)argc;
	if (!d)
		return;
	c = d->cfg;
	cpu_list(d, cpus, sizeof(cpus));
	uptime(d, up, sizeof(up));
	pr_info("domain %s: %s, up %s, started %u time%s, last stop: %s\n", d->name,
		domain_state_name(d), up, d->starts, d->starts == 1 ? "" : "s",
		d->stop_reason[0] ? d->stop_reason : "-");
	pr_info("  cpus: %s (physical; the guest numbers them 0..%u)\n", cpus, d->nvcpus - 1);
	for (uint32_t i = 0; i < d->nranges; i++) {
		pr_info("  memory: guest 0x%llx-0x%llx at host 0x%llx-0x%llx (%llu MiB%s)\n",
			(unsigned long long)gpa, (unsigned long long)(gpa + d->ram[i].size - 1),
			(unsigned long long)d->ram[i].hpa,
			(unsigned long long)(d->ram[i].hpa + d->ram[i].size - 1),
			(unsigned long long)(d->ram[i].size / MIB), d->ram[i].placed ? ", placed" : "");
		gpa += d->ram[i].size;
	}
	pr_info("  kernel: %s%s%s\n", c->kernel_path, c->initrd ? ", initrd: " : "",
		c->initrd ? c->initrd : "");
	pr_info("  cmdline: %s\n", c->cmdline[0] ? c->cmdline : "(none)");
	pr_info("  on_crash: %s, autostart: %s, console log: %u KiB (%llu bytes written)\n",
		c->on_crash == HVCFG_ON_CRASH_RESTART ? "restart" : "stop",
		c->autostart ? "yes" : "no", d->log.size >> 10, (unsigned long long)d->log.head);
	for (uint32_t i = 0; i < d->vpci.n; i++) {
		const struct pci_func *f = d->vpci.funcs[i].host;
		char bdf[16];
		pr_info("  device: %s %04x:%04x as 00:%02x.%u, DMA faults %llu\n",
			pci_bdf_str(f->seg, f->bus, f->devfn, bdf), f->vendor, f->device,
			d->vpci.funcs[i].devfn >> 3, d->vpci.funcs[i].devfn & 7,
			(unsigned long long)d->dma_faults);
	}
	domain_print_exits(d);	/* with the refused line, when anything was */
	if (!d->io_refused && !d->msr_refused && !d->ipi_refused && !d->mmio_refused &&
	    !d->vpci.refused)
		pr_info("domain %s refused: nothing\n", d->name);
}

static void cmd_focus(int argc, char **argv)
{
	struct domain *d = named(argv[1]);

	(void)argc;
	if (d)
		conin_focus(d);
}

static void cmd_stats(int argc, char **argv)
{
	if (argc > 1) {
		struct domain *d = named(argv[1]);
		if (d)
			domain_print_exits(d);
		return;
	}
	for (uint32_t i = 0; i < vmm_ndomains(); i++)
		domain_print_exits(vmm_domain(i));
}

/* A decimal count, or -1. */
static long number(const char *s)
{
	long n = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000)
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

static void cmd_log(int argc, char **argv)
{
	struct domain *d = named(argv[1]);
	long lines = argc > 2 ? number(argv[2]) : LOG_LINES_DEFAULT;

	if (!d)
		return;
	if (lines <= 0) {
		pr_info("shell: log: '%s' is not a number of lines\n", argv[2]);
		return;
	}
	pr_info("log %s: the last %ld lines (%llu bytes kept of %llu written)\n", d->name, lines,
		(unsigned long long)conout_log_used(d), (unsigned long long)d->log.head);
	conout_print_log(d, (uint32_t)lines);
	pr_info("log %s: end\n", d->name);
}

static void lifecycle(char **argv, int (*op)(struct domain *, char *, size_t))
{
	struct domain *d = named(argv[1]);
	char msg[96];

	if (!d)
		return;
	/* Done: the lifecycle's own lines say how it goes. */
	if (op(d, msg, sizeof(msg)))
		pr_info("shell: not done: %s\n", msg);
}

static void cmd_stop(int argc, char **argv) { (void)argc; lifecycle(argv, domain_op_stop); }
static void cmd_start(int argc, char **argv) { (void)argc; lifecycle(argv, domain_op_start); }
static void cmd_restart(int argc, char **argv) { (void)argc; lifecycle(argv, domain_op_restart); }

static void cmd_mem(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pr_info("mem: RAM %llu MiB; hypervisor image 0x%llx-0x%llx (%llu KiB)\n",
		(unsigned long long)(mm_ram_bytes() / MIB),
		(unsigned long long)(uintptr_t)__image_start,
		(unsigned long long)(uintptr_t)__image_end - 1,
		(unsigned long long)((uintptr_t)(__image_end - __image_start) >> 10));
	for (uint32_t i = 0; i < vmm_ndomains(); i++) {
		const struct domain *d = vmm_domain(i);
		for (uint32_t r = 0; r < d->nranges; r++)
			pr_info("mem: domain %s: host 0x%llx-0x%llx (%llu MiB), %s\n", d->name,
				(unsigned long long)d->ram[r].hpa,
				(unsigned long long)(d->ram[r].hpa + d->ram[r].size - 1),
				(unsigned long long)(d->ram[r].size / MIB), domain_state_name(d));
		pr_info("mem: domain %s: console log %u KiB at host 0x%llx\n", d->name,
			d->log.size >> 10, (unsigned long long)(uintptr_t)d->log.buf);
	}
	pr_info("mem: free %llu KiB (the allocator's: page tables, logs and placed domains come from it)\n",
		(unsigned long long)(hv_palloc.free_bytes >> 10));
}

static const char *vcpu_state_name(const struct vcpu *v)
{
	switch (__atomic_load_n(&v->state, __ATOMIC_RELAXED)) {
	case VCPU_WAIT_SIPI: return "waiting for SIPI";
	case VCPU_STOPPED: return "stopped";
	default: return "in the guest";
	}
}

static void cmd_cpus(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (uint32_t cpu = 0; cpu < MAX_CPUS; cpu++) {
		const struct vcpu *v = vmm_cpu_vcpu(cpu);
		if (!vmm_cpu_online(cpu) && !v)
			continue;
		if (!v) {
			pr_info("cpu %u: APIC ID %u, no domain (idle)%s\n", cpu, percpu_of(cpu)->apic_id,
				cpu == 0 ? ", serves the console" : "");
			continue;
		}
		pr_info("cpu %u: APIC ID %u, domain %s (%s) vCPU %u: %s%s\n", cpu, v->apic_id,
			v->dom->name, domain_state_name(v->dom), v->vapic_id, vcpu_state_name(v),
			cpu == 0 ? ", serves the console" : "");
	}
}

static void cmd_pci(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!pci_count())
		pr_info("pci: no functions found\n");
	for (uint32_t i = 0; i < pci_count(); i++) {
		const struct pci_func *f = pci_func_at(i);
		char bdf[16];
		pr_info("pci %s %04x:%04x class %06x -> %s, %s%s\n",
			pci_bdf_str(f->seg, f->bus, f->devfn, bdf), f->vendor, f->device, f->class_code,
			f->owner ? f->owner : "none",
			iommu_is_unit(f) ? "the IOMMU itself" :
			iommu_covers(f) ? "behind the IOMMU" : "not behind an IOMMU",
			f->flr ? ", FLR" : "");
	}
}

static void cmd_iommu(int argc, char **argv)
{
	uint64_t dma, irq;

	(void)argc;
	(void)argv;
	iommu_fault_totals(&dma, &irq);
	pr_info("iommu: %s%s%s; faults since boot: DMA %llu, interrupt %llu\n", iommu_name(),
		iommu_ir_on() ? ", interrupt remapping on" : ", no interrupt remapping",
		iommu_ir_x2apic() ? " (x2APIC)" : "", (unsigned long long)dma,
		(unsigned long long)irq);
	for (uint32_t i = 0; iommu_last_fault(i); i++)
		pr_info("iommu: fault %s\n", iommu_last_fault(i));
}

static void cmd_reboot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pending = CONFIRM_REBOOT;
	pr_info("shell: reboot the whole machine, every domain? type yes to confirm\n");
}

static void cmd_poweroff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pending = CONFIRM_POWEROFF;
	pr_info("shell: power the whole machine off, every domain? type yes to confirm\n");
}

static void cmd_exit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_leave();
}

static const struct cmd cmds[] = {
	{ "help", "", "this list", cmd_help, 0, 0 },
	{ "version", "", "build and version", cmd_version, 0, 0 },
	{ "list", "", "every domain: state, CPUs, memory, uptime, exits", cmd_list, 0, 0 },
	{ "info", "NAME", "one domain in full", cmd_info, 1, 1 },
	{ "focus", "NAME", "console input (and the terminal) to NAME", cmd_focus, 1, 1 },
	{ "stats", "[NAME]", "exit counters", cmd_stats, 0, 1 },
	{ "log", "NAME [LINES]", "what NAME printed lately", cmd_log, 1, 2 },
	{ "stop", "NAME", "stop NAME: CPUs out, devices reset, memory scrubbed", cmd_stop, 1, 1 },
	{ "start", "NAME", "start a stopped NAME from its boot images", cmd_start, 1, 1 },
	{ "restart", "NAME", "stop, then start", cmd_restart, 1, 1 },
	{ "mem", "", "the host memory map", cmd_mem, 0, 0 },
	{ "cpus", "", "each physical CPU: owner, state", cmd_cpus, 0, 0 },
	{ "pci", "", "host PCI functions: owner, IOMMU", cmd_pci, 0, 0 },
	{ "iommu", "", "IOMMU, fault counts, last faults", cmd_iommu, 0, 0 },
	{ "reboot", "", "reset the machine (asks)", cmd_reboot, 0, 0 },
	{ "poweroff", "", "power the machine off (asks)", cmd_poweroff, 0, 0 },
	{ "exit", "", "leave the shell", cmd_exit, 0, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0 },
};

/* Every domain stopped (devices quiesced) before the machine goes. */
static void stop_all(const char *why)
{
	for (uint32_t i = 0; i < vmm_ndomains(); i++) {
		char msg[96];
		domain_op_stop_for(vmm_domain(i), why, msg, sizeof(msg));
	}
}

static void confirmed(enum confirm what, const char *answer)
{
	if (strcmp(answer, "yes")) {
		pr_info("shell: not confirmed; nothing done\n");
		return;
	}
	if (what == CONFIRM_REBOOT) {
		stop_all("the operator reboots the machine");
		shell_host->reboot();
	} else {
		stop_all("the operator powers the machine off");
		shell_host->poweroff();
	}
}

void shell_forget(void) { pending = CONFIRM_NONE; }

void shell_run_line(const char *text)
{
	char buf[SHELL_LINE_MAX + 1], *argv[MAX_ARGS + 1];
	int argc = 0;
	enum confirm what = pending;

	pending = CONFIRM_NONE;		/* a confirmation is the very next line */
	hv_snprintf(buf, sizeof(buf), "%s", text);
	for (char *p = buf; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (argc == MAX_ARGS + 1) {
			pr_info("shell: too many words; help lists the commands\n");
			return;
		}
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (what != CONFIRM_NONE) {
		confirmed(what, argc ? argv[0] : "");
		return;
	}
	if (!argc)
		return;
	for (const struct cmd *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[0]))
			continue;
		if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
			pr_info("shell: usage: %s %s\n", c->name, c->args);
			return;
		}
		c->run(argc, argv);
		return;
	}
	pr_info("shell: unknown command '%s'; help lists the commands\n", argv[0]);
}
