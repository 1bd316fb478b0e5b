/* Starting the domains of a configuration and running them. */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include "arch/x86_64/cpuinfo.h"
#include "kernel/bootinfo.h"
#include "kernel/config.h"

/*
 * Check the configuration against this machine (`ncpus` CPUs can run
 * domains), build every domain, and run them. Returns when every domain
 * has stopped (0), or at once with a negative errno when none could start.
 */
int vmm_run(const struct hv_config *cfg, const struct boot_info *bi,
	    const struct cpu_info *ci, uint32_t ncpus);

#endif
