/* Starting the domains of a configuration and running them. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/cpuinfo.h"
#include "kernel/bootinfo.h"
#include "kernel/config.h"
#include "kernel/memmap.h"

/* Pick the vendor ops for this CPU (sets vcpu_ops). */
void vmm_select_vendor(const struct cpu_info *ci);

/* On each CPU: what every vendor needs of it, then the vendor's own
 * cpu_enable. 0 or -errno (with a line). */
int vmm_cpu_enable(void);

/*
 * Check the configuration against this machine (the CPUs in `online` run
 * domains; memory per `m`), build every domain, start each on its first
 * CPU, and return. `all_stopped` runs on whichever CPU stops the last
 * domain; `shell` has the power controls for the console shell. The calling (boot) CPU runs its own domain, if it has one, and
 * never returns then. Returns a negative errno, with nothing started, when
 * the configuration does not fit the machine or no domain could be built.
 */
struct shell_host;
int vmm_start(const struct hv_config *cfg, const struct boot_info *bi, uint64_t online,
	      const struct memmap *m, void (*all_stopped)(void), const struct shell_host *shell);

/* The domains built at boot (configuration order, those refused left
 * out), for the console shell. */
struct domain;
struct vcpu;
uint32_t vmm_ndomains(void);
struct domain *vmm_domain(uint32_t i);		/* NULL past the end */
struct domain *vmm_domain_named(const char *name);	/* NULL: no such domain */
/* What physical CPU `cpu` runs (NULL: no domain's), whether it is up. */
const struct vcpu *vmm_cpu_vcpu(uint32_t cpu);
bool vmm_cpu_online(uint32_t cpu);

#endif
