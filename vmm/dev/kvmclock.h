/*
 * The guest's clock: KVM's paravirtual clock ("kvmclock", Linux
 * Documentation/virt/kvm/x86/msr.rst), offered through the KVM-compatible
 * CPUID leaves (vmm/cpuid.c). It tells a guest the TSC's frequency and
 * the wall-clock time without the PIT or PM-timer calibration loops,
 * which need port reads much faster than an exit (under emulation they
 * fail outright), and costs one exit per CPU at boot: the guest then
 * reads its clock from the TSC and a page the hypervisor wrote once.
 */
#ifndef VMM_KVMCLOCK_H
#define VMM_KVMCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vcpu.h"

#define MSR_KVM_WALL_CLOCK_NEW  0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

/* What the guest reads (Linux arch/x86/include/asm/pvclock-abi.h). */
struct pvclock_vcpu_time_info {
	uint32_t version;	/* even: stable */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock ABI");
_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock ABI");

/* KVM_FEATURE_* bits of CPUID 0x40000101 EAX this clock stands for. */
#define KVMCLOCK_FEATURES ((1u << 3) | (1u << 24))	/* CLOCKSOURCE2, STABLE_BIT */

/* A write to one of the two MSRs: false if the value is refused (#GP). */
bool kvmclock_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);
/* v's TSC offset changed: its time page (if enabled) follows it, so
 * that its clock does not jump. */
void kvmclock_tsc_moved(struct vcpu *v);
/* A read: what was last written. */
uint64_t kvmclock_rdmsr(const struct vcpu *v, uint32_t msr);

/* The machine's wall-clock time as Unix seconds, from its RTC read
 * through `cmos_read`; pure, for the unit tests. 0 if it is not valid. */
uint64_t kvmclock_rtc_to_unix(uint8_t (*cmos_read)(uint8_t idx));

#endif
