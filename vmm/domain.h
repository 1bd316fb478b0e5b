/*
 * A domain: a static partition with its CPUs, one contiguous range of host
 * memory mapped at guest-physical 0 in its own second-level page tables
 * (NPT or EPT), a virtual UART and exit counters.
 */
#ifndef VMM_DOMAIN_H
#define VMM_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/bootinfo.h"
#include "kernel/config.h"
#include "kernel/pgtable.h"
#include "vmm/vcpu.h"
#include "vmm/vuart.h"

#define DOMAIN_MAX_VCPUS 1	/* one vCPU per physical CPU; SMP comes later */

struct domain {
	const struct domain_config *cfg;
	const char *name;
	uint32_t id;
	uint64_t mem_hpa;		/* host-physical base of its RAM */
	uint64_t mem_size;
	struct pgtable slat;		/* guest-physical -> host-physical */
	bool running;
	uint32_t nvcpus;
	struct vcpu vcpus[DOMAIN_MAX_VCPUS];
	struct vuart uart;

	uint64_t exits[EXIT_REASONS];
	uint64_t io_refused;		/* port accesses to ports it does not own */
	uint64_t msr_refused;		/* MSR accesses answered with #GP */
};

/*
 * Build domain `id` from its configuration: take and zero its memory,
 * map it, load its kernel (from the boot module named cfg->kernel) and set
 * up its vCPU. 0, or a negative errno after one clear line; then nothing
 * of the domain remains (its memory is returned).
 */
int domain_create(struct domain *d, uint32_t id, const struct domain_config *cfg,
		  const struct boot_info *bi);

/* Stop the domain: every vCPU leaves its loop; prints the stop line with
 * `why` and the exit counters. Only the first call has an effect. */
void domain_stop(struct domain *d, const char *why);

/* The domain's RAM as the hypervisor sees it (identity map). */
static inline uint8_t *domain_ram(const struct domain *d)
{
	return (uint8_t *)(uintptr_t)d->mem_hpa;
}

#endif
