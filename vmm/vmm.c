/*
 * From a validated configuration to running domains. For now every
 * domain runs on the boot CPU, one after the other is not allowed: the
 * configuration may use CPU 0 only (application processors come with the
 * SMP issue), so there is at most one domain.
 */
#include "arch/x86_64/cpu.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "vmm/domain.h"
#include "vmm/vmm.h"

static struct domain domains[CONFIG_MAX_DOMAINS];

static const struct vcpu_ops *select_vendor(const struct cpu_info *ci)
{
	/* cpu_identify() has checked the features each one needs. */
	return ci->vendor == CPU_VENDOR_INTEL ? &vmx_ops : &svm_ops;
}

/* The CPUs that can run a vCPU now: the boot CPU. */
static int check_cpus(const struct hv_config *cfg, uint32_t ncpus)
{
	uint64_t usable = 1;	/* SMP bring-up comes later */

	(void)ncpus;
	for (uint32_t i = 0; i < cfg->ndomains; i++) {
		uint64_t extra = cfg->domains[i].cpus & ~usable;
		if (extra) {
			pr_err("vmm: domain %s: CPU %u cannot run domains yet (only CPU 0 does)\n",
			       cfg->domains[i].name, (unsigned)__builtin_ctzll(extra));
			return trace_error(-EINVAL);
		}
	}
	return 0;
}

int vmm_run(const struct hv_config *cfg, const struct boot_info *bi,
	    const struct cpu_info *ci, uint32_t ncpus)
{
	int err;

	vcpu_ops = select_vendor(ci);
	if (!vcpu_ops)
		return trace_error(-ENOTSUP);
	err = check_cpus(cfg, ncpus);
	if (err)
		return err;
	err = vcpu_ops->cpu_enable();
	if (err)
		return err;

	struct domain *on_boot_cpu = NULL;
	for (uint32_t i = 0; i < cfg->ndomains; i++)
		if (domain_create(&domains[i], i, &cfg->domains[i], bi) == 0)
			on_boot_cpu = &domains[i];
	if (!on_boot_cpu) {
		pr_err("vmm: no domain could be started\n");
		return trace_error(-ENOENT);
	}
	vcpu_loop(&on_boot_cpu->vcpus[0]);
	return 0;
}
