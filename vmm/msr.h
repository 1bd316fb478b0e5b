/*
 * The guest's MSRs. Principle: nothing passes through by default. A short
 * allow-list goes straight to the hardware (state the CPU switches between
 * guest and host, or that the hypervisor never uses); a few are emulated;
 * every other access gets #GP and is counted.
 */
#ifndef VMM_MSR_H
#define VMM_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vcpu.h"

#define MSR_TSC_DEADLINE 0x6e0u	/* in host TSC time: translated for an offset TSC */

struct msr_passthrough {
	uint32_t index;
	bool read;		/* reads go to the hardware */
	bool write;		/* writes go to the hardware */
	uint32_t count;		/* MSRs index .. index + count - 1 */
};

/* The allow-list the vendor code turns into its MSR bitmap. */
extern const struct msr_passthrough msr_passthrough_list[];
extern const unsigned msr_passthrough_count;

/* A vCPU's MSRs as at power-on (TSC offset, TSC_ADJUST, MISC_ENABLE,
 * kvmclock). */
void msr_vcpu_reset(struct vcpu *v);

/* Handlers for the intercepted accesses (EXIT_MSR_READ / EXIT_MSR_WRITE). */
void msr_read_exit(struct vcpu *v, const struct vm_exit *e);
void msr_write_exit(struct vcpu *v, const struct vm_exit *e);

#endif
