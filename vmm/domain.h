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
#include "kernel/spinlock.h"
#include "drivers/iommu/iommu.h"
#include "vmm/dev/legacy.h"
#include "vmm/vcpu.h"
#include "vmm/dev/vioapic.h"
#include "vmm/dev/vpci.h"
#include "vmm/dev/vuart.h"
#include "vmm/console/conlog.h"

#define DOMAIN_MAX_VCPUS 64	/* one vCPU per physical CPU */

/* A domain's lifecycle; the transitions are in vmm/lifecycle.c. */
enum domain_state {
	DOMAIN_NOT_STARTED,	/* built, waiting for the operator's `start` */
	DOMAIN_STARTING,	/* its first CPU (re)loads it and enters it */
	DOMAIN_RUNNING,
	DOMAIN_STOPPING,	/* its CPUs leave the guest; then it is scrubbed */
	DOMAIN_STOPPED,		/* scrubbed, its CPUs idle, waiting for `start` */
	DOMAIN_RESTARTING,	/* its CPUs leave the guest; then it starts again */
};

struct domain {
	const struct domain_config *cfg;
	const char *name;
	uint32_t id;
	/* Its RAM: host ranges laid out from guest-physical 0 in this order. */
	uint32_t nranges;
	struct {
		uint64_t hpa;
		uint64_t size;
		bool placed;	/* taken from the allocator (else explicit) */
	} ram[CONFIG_MAX_RANGES];
	uint64_t mem_size;		/* total */
	struct pgtable slat;		/* guest-physical -> host-physical */
	/* Its place in the lifecycle (vmm/lifecycle.c has the state
	 * machine); `running` is state == DOMAIN_RUNNING, for the exit
	 * paths that only ask that. */
	uint32_t state;			/* enum domain_state */
	bool running;
	bool crashed;			/* its last stop was a crash */
	bool loaded;			/* its RAM holds a fresh image, never run */
	bool scrubbed;			/* its RAM is all zero */
	bool restart;			/* the next start is a restart */
	bool op_start;			/* the next start is the operator's */
	bool end_done;			/* domain_end has finished its part */
	bool entered;			/* its first vCPU has entered the guest once */
	uint32_t parked;		/* secondary vCPUs parked for a stop */
	uint32_t starts;		/* times it started (1 at the first) */
	uint64_t started_tsc;		/* when it last started */
	char stop_reason[96];		/* why it last stopped ("" never) */
	const struct boot_info *bi;	/* where its kernel is reloaded from */
	uint32_t nvcpus;
	struct vcpu vcpus[DOMAIN_MAX_VCPUS];
	uint64_t acpi_rsdp;		/* guest-physical; 0: no ACPI tables */

	/* Its virtual devices, shared by its vCPUs (and the console CPU,
	 * which feeds the UART): `lock` serializes every access. */
	struct spinlock lock;
	struct vuart uart;
	struct conlog log;		/* what it printed (vmm/console/output.c) */
	bool uart_line;			/* IRQ 4 as last seen (edges deliver) */
	struct vioapic ioapic;
	struct legacy legacy;
	/* IRQ 0 (vmm/dev/pit_irq.c): the TSC at which the PIT raises it
	 * next, LEGACY_NEVER while no vCPU serves it. */
	uint64_t pit_deadline;
	uint64_t mtrr_def_type;
	uint64_t kvmclock_wall_msr;
	uint16_t pm1_enable;		/* its ACPI PM1a enable register */

	/* Its PCI functions (vmm/passthrough.c): their configuration spaces
	 * (under `lock`), its I/O address space, the ports their I/O BARs
	 * open (a 3-page permission map, 0: every port intercepted) and the
	 * guest-physical ECAM window (0: none). */
	struct vpci vpci;
	struct iommu_domain iommu;
	uint64_t iopm;
	uint64_t ecam_gpa;
	uint64_t dma_faults;		/* DMA its devices tried outside its memory */

	uint64_t exits[EXIT_REASONS + 1];	/* [EXIT_SETTLED]: the vendor-settled ones */
	uint64_t io_refused;		/* port accesses to ports it does not own */
	uint64_t msr_refused;		/* MSR accesses answered with #GP */
	uint64_t ipi_refused;		/* IPIs to CPUs it does not own, or not allowed */
	uint64_t mmio_refused;		/* accesses to emulated MMIO it could not decode */
};

/*
 * Build domain `id` from its configuration: take and zero its memory,
 * map it, load its kernel (from the boot module named cfg->kernel) and
 * assign one vCPU to each of its CPUs. 0, or a negative errno after one
 * clear line; then nothing of the domain remains (its memory is returned).
 * The vCPUs' vendor state is made on their own CPUs (domain_vcpu_run).
 */
int domain_create(struct domain *d, uint32_t id, const struct domain_config *cfg,
		  const struct boot_info *bi);

/* The lifecycle (vmm/lifecycle.c). The guest's own ends, from its vCPUs:
 * stop for good (poweroff, a failed set-up), restart (the guest asked for
 * a reset), crash (triple fault, memory violation, ...: as on_crash says).
 * Each prints "hv: domain NAME stopped: why" and the exit counters; only
 * the first of racing calls has an effect. */
void domain_stop(struct domain *d, const char *why);
void domain_reboot(struct domain *d, const char *why);
void domain_crash(struct domain *d, const char *why);

/* The operator's (the console shell), from any CPU. 0 when the domain
 * is on its way; else a negative errno and `msg` says why nothing was
 * done (it is running already, it is stopped already, ...). They return
 * at once: the domain's own CPUs do the work and print the outcome. */
int domain_op_stop(struct domain *d, char *msg, size_t len);
int domain_op_stop_for(struct domain *d, const char *why, char *msg, size_t len);
int domain_op_start(struct domain *d, char *msg, size_t len);
int domain_op_restart(struct domain *d, char *msg, size_t len);
/* "running", "stopped", "crashed", "restarting", "not started", ... */
const char *domain_state_name(const struct domain *d);
/* Count a built domain in (before its CPUs run it). */
void domain_lifecycle_add(struct domain *d);

/*
 * On each of the domain's CPUs, forever: run its vCPU whenever the
 * domain runs; wait, idle, while it is stopped. Only a domain's first
 * vCPU starts running; the others wait for the guest to start them with
 * INIT-SIPI-SIPI (vmm/dev/vlapic.c).
 */
__attribute__((noreturn)) void domain_vcpu_run(struct vcpu *v);

/* For the lifecycle: zero its RAM; reload it as at boot (devices reset,
 * tables and kernel from the boot modules, counters from zero). */
void domain_scrub(struct domain *d);
int domain_reload(struct domain *d);

/* Console input for the domain: queue it in the virtual UART (dropped
 * when its FIFO is full) and raise the UART's interrupt as needed. */
void domain_uart_input(struct domain *d, uint8_t byte);
/* Raise the UART's interrupt if its line has just risen.
 * @pre d->lock held */
void domain_uart_sync(struct domain *d);

/* A guest access to the virtual UART (port offset 0-7). Inline: the
 * UART's exit path. */
static inline void domain_uart_access(struct domain *d, uint16_t offset, bool in, uint32_t *val)
{
	spin_lock(&d->lock);
	if (vuart_access(&d->uart, offset, in, val))
		domain_uart_sync(d);
	spin_unlock(&d->lock);
}

/* The hypervisor's pointer to len bytes of the domain's RAM at
 * guest-physical gpa, or NULL if that is not all within one RAM range. */
void *domain_gpa_to_hva(const struct domain *d, uint64_t gpa, uint64_t len);

/* "hv: domain NAME exits: total=N reason=N ..." (and the refused line):
 * its counters since it (re)started. */
void domain_print_exits(const struct domain *d);

/* Called (on whichever CPU) when the last running domain has stopped. */
extern void (*domain_all_stopped)(void);

#endif
