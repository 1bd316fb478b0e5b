/*
 * From a validated configuration to running domains: every domain's
 * memory, tables and image are built on the boot CPU; then each domain's
 * first CPU is handed its vCPU and runs it. CPUs no domain owns stay parked.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "drivers/pci.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/console/conin.h"
#include "vmm/console/output.h"
#include "vmm/console/shell.h"
#include "vmm/domain.h"
#include "vmm/exits.h"
#include "vmm/vmm.h"

static struct domain domains[CONFIG_MAX_DOMAINS];
static uint32_t ndomains;		/* built, in configuration order */
static struct vcpu *cpu_vcpu[MAX_CPUS];	/* what each CPU runs */
static uint64_t cpus_online;

uint32_t vmm_ndomains(void) { return ndomains; }

struct domain *vmm_domain(uint32_t i) { return i < ndomains ? &domains[i] : NULL; }

struct domain *vmm_domain_named(const char *name)
{
	for (uint32_t i = 0; i < ndomains; i++)
		if (!strcmp(domains[i].name, name))
			return &domains[i];
	return NULL;
}

const struct vcpu *vmm_cpu_vcpu(uint32_t cpu) { return cpu < MAX_CPUS ? cpu_vcpu[cpu] : NULL; }

bool vmm_cpu_online(uint32_t cpu) { return cpu < 64 && (cpus_online >> cpu & 1); }

void vmm_select_vendor(const struct cpu_info *ci)
{
	/* cpu_identify() has checked the features each one needs. */
	vcpu_ops = ci->vendor == CPU_VENDOR_INTEL ? &vmx_ops : &svm_ops;
}

int vmm_cpu_enable(void)
{
	/* XCR0 is not switched between guest and host: the guest's stays in
	 * the CPU, and the host reads it (CPUID leaf 0xd) or writes it (VMX
	 * emulates XSETBV) with XGETBV/XSETBV, which need CR4.OSXSAVE. */
	if (cpuid(1).ecx & (1u << 26))
		write_cr4(read_cr4() | CR4_OSXSAVE);
	return vcpu_ops->cpu_enable();
}

/* A CPU with no vCPU (left to no domain, or its domain stopped) sleeps;
 * NMIs wake it, and it serves the console input they announce. */
static __attribute__((noreturn)) void idle_forever(void)
{
	static const uint32_t forever = 0;

	for (;;) {
		conin_on_nmi();
		nmi_wait(&forever, 0);
	}
}

/* Runs on the vCPU's CPU (an AP through smp_run_on, or the boot CPU). */
static void run_my_vcpu(void)
{
	struct vcpu *v = cpu_vcpu[this_cpu()->cpu_id];

	domain_vcpu_run(v);	/* for good: a stopped domain's CPUs wait in it */
}

int vmm_start(const struct hv_config *cfg, const struct boot_info *bi, uint64_t online,
	      const struct memmap *m, void (*all_stopped)(void), const struct shell_host *shell)
{
	uint32_t started = 0;
	int err = config_check_machine(cfg, online, m);

	if (err) {
		pci_print_all();	/* what a configuration could name */
		return err;
	}
	domain_all_stopped = all_stopped;
	cpus_online = online;
	conout_init(cfg->terminal_tagged);
	shell_init(cfg->shell, shell);
	io_init();
	for (uint32_t i = 0; i < cfg->ndomains; i++) {
		struct domain *d = &domains[ndomains];
		if (domain_create(d, i, &cfg->domains[i], bi))
			continue;
		for (uint32_t k = 0; k < d->nvcpus; k++)
			cpu_vcpu[d->vcpus[k].cpu] = &d->vcpus[k];
		domain_lifecycle_add(d);
		conin_register(d);
		ndomains++;
		started++;
	}
	pci_print_all();	/* with their owners, now that they have them */
	if (!started) {
		pr_err("vmm: no domain could be started\n");
		return trace_error(-ENOENT);
	}
	conin_start();
	uint32_t me = this_cpu()->cpu_id;
	for (uint32_t cpu = 0; cpu < MAX_CPUS; cpu++)
		if (cpu_vcpu[cpu] && cpu != me)
			smp_run_on(cpu, run_my_vcpu);
	if (cpu_vcpu[me])
		run_my_vcpu();
	idle_forever();
}
