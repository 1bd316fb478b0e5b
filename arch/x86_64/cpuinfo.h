/*
 * What the boot CPU is and whether it can host domains: vendor, the
 * features the hypervisor itself needs, and hardware virtualization (VT-x
 * with EPT, or AMD-V with NPT) present and not disabled by the firmware.
 */
#ifndef ARCH_X86_64_CPUINFO_H
#define ARCH_X86_64_CPUINFO_H

#include <stdbool.h>
#include <stdint.h>

enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD };

struct cpu_info {
	enum cpu_vendor vendor;
	char vendor_id[13];
	char brand[49];
	uint32_t family, model, stepping;
	bool nx, pdpe1gb, x2apic, invariant_tsc;

	/* Hardware virtualization. virt_ok: usable by this hypervisor; when
	 * false, virt_reason says why in words a user can act on. */
	bool virt_ok;
	const char *virt_reason;
	bool vmx, vmx_locked_off, vmx_unlocked;	/* Intel */
	bool ept, ept_1g, ept_2m, ept_ad, vpid, unrestricted;
	bool svm, svm_disabled;			/* AMD */
	bool npt, nrips, decode_assists, vgif, flush_by_asid;
	uint32_t svm_revision, nasids;
};

void cpu_identify(struct cpu_info *ci);
/* "intel", "amd" or "other" (the console contract's cpu= value). */
const char *cpu_vendor_name(enum cpu_vendor v);
/* One info line describing the virtualization features found. */
void cpu_print_virt(const struct cpu_info *ci);

#endif
