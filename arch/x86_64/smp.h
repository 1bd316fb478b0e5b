/*
 * Application processors: started with INIT-SIPI-SIPI from the MADT list,
 * each with its own stacks, GDT/TSS and per-CPU block, and virtualization
 * turned on; then parked until there is a vCPU for them to run.
 */
#ifndef ARCH_X86_64_SMP_H
#define ARCH_X86_64_SMP_H

#include <stdint.h>

#include "arch/x86_64/cpuinfo.h"
#include "kernel/acpi.h"
#include "kernel/memmap.h"

/* Give the boot CPU its MADT index (before anything keys per-CPU state by
 * it, such as enabling virtualization). Returns the index. */
uint32_t smp_number_boot_cpu(const struct acpi_info *acpi);

/*
 * Start every enabled MADT CPU but the calling (boot) one. CPUs that do
 * not answer within a bounded time, or cannot enable virtualization, are
 * reported and left out. `virt_enable` runs on each AP (may be NULL);
 * `boot_cpu` (its vendor and family) says how long INIT needs.
 * Returns the mask of CPU indexes (MADT order) that are online with
 * virtualization on, the boot CPU included when `boot_virt_ok`.
 */
uint64_t smp_start(const struct acpi_info *acpi, const struct cpu_info *boot_cpu,
		   struct memmap *m, int (*virt_enable)(void), int boot_virt_ok);

/* Run `fn` on a parked CPU (returns at once; fn runs there). */
void smp_run_on(uint32_t cpu, void (*fn)(void));

/* Park the calling CPU for good (a CPU no domain owns). */
__attribute__((noreturn)) void smp_park_forever(void);

#endif
