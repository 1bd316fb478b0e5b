/* Starting the domains of a configuration and running them. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

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
 * domain. The calling (boot) CPU runs its own domain, if it has one, and
 * never returns then. Returns a negative errno, with nothing started, when
 * the configuration does not fit the machine or no domain could be built.
 */
int vmm_start(const struct hv_config *cfg, const struct boot_info *bi, uint64_t online,
	      const struct memmap *m, void (*all_stopped)(void));

#endif
