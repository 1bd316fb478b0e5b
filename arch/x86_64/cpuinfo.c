/*
 * CPU identification. Facts used:
 *  - CPUID.1:ECX.VMX[5] (SDM Vol. 3C 24.6); IA32_FEATURE_CONTROL (0x3a):
 *    bit 0 lock, bit 2 VMXON outside SMX (SDM Vol. 3C 24.7);
 *    IA32_VMX_PROCBASED_CTLS[2] allowed-1 bits in the high dword (App. A.3);
 *    IA32_VMX_EPT_VPID_CAP (App. A.10).
 *  - CPUID 0x80000001:ECX.SVM[2]; VM_CR (0xc0010114) bit 4 SVMDIS;
 *    CPUID 0x8000000a: EAX revision, EBX ASIDs, EDX features
 *    (APM Vol. 2 15.4, 15.30.1; APM Vol. 3 E.4.9).
 */
#include "arch/x86_64/cpuinfo.h"
#include "arch/x86_64/cpu.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define FC_LOCK        (1ull << 0)
#define FC_VMX_NO_SMX  (1ull << 2)
#define PROC_SECONDARY (1ull << (31 + 32))
#define PROC2_EPT      (1ull << (1 + 32))
#define PROC2_VPID     (1ull << (5 + 32))
#define PROC2_UG       (1ull << (7 + 32))
#define EPT_CAP_WALK4  (1ull << 6)
#define EPT_CAP_WB     (1ull << 14)
#define EPT_CAP_2M     (1ull << 16)
#define EPT_CAP_1G     (1ull << 17)
#define EPT_CAP_AD     (1ull << 21)
#define VMX_BASIC_TRUE (1ull << 55)
#define VM_CR_SVMDIS   (1ull << 4)

static void read_vendor(struct cpu_info *ci)
{
	struct cpuid_regs r = cpuid(0);

	memcpy(ci->vendor_id + 0, &r.ebx, 4);
	memcpy(ci->vendor_id + 4, &r.edx, 4);
	memcpy(ci->vendor_id + 8, &r.ecx, 4);
	ci->vendor_id[12] = '\0';
	if (!strcmp(ci->vendor_id, "GenuineIntel"))
		ci->vendor = CPU_VENDOR_INTEL;
	else if (!strcmp(ci->vendor_id, "AuthenticAMD") || !strcmp(ci->vendor_id, "HygonGenuine"))
		ci->vendor = CPU_VENDOR_AMD;	/* Hygon implements AMD-V as AMD does */
	else
		ci->vendor = CPU_VENDOR_OTHER;
}

static void read_basics(struct cpu_info *ci)
{
	struct cpuid_regs r = cpuid(1);
	uint32_t fam = (r.eax >> 8) & 0xf, model = (r.eax >> 4) & 0xf;

	if (fam == 0xf)
		fam += (r.eax >> 20) & 0xff;
	if (fam == 0x6 || fam >= 0xf)
		model |= ((r.eax >> 16) & 0xf) << 4;
	ci->family = fam;
	ci->model = model;
	ci->stepping = r.eax & 0xf;
	ci->x2apic = r.ecx & (1u << 21);
	ci->vmx = r.ecx & (1u << 5);

	uint32_t max_ext = cpuid(0x80000000).eax;
	if (max_ext >= 0x80000001) {
		r = cpuid(0x80000001);
		ci->nx = r.edx & (1u << 20);
		ci->pdpe1gb = r.edx & (1u << 26);
		ci->svm = r.ecx & (1u << 2);
	}
	if (max_ext >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			r = cpuid(0x80000002 + i);
			memcpy(ci->brand + 16 * i + 0, &r.eax, 4);
			memcpy(ci->brand + 16 * i + 4, &r.ebx, 4);
			memcpy(ci->brand + 16 * i + 8, &r.ecx, 4);
			memcpy(ci->brand + 16 * i + 12, &r.edx, 4);
		}
		ci->brand[48] = '\0';
	}
	if (max_ext >= 0x80000007)
		ci->invariant_tsc = cpuid(0x80000007).edx & (1u << 8);
}

static void probe_vmx(struct cpu_info *ci)
{
	if (!ci->vmx) {
		ci->virt_reason = "VT-x (VMX) is not available on this CPU";
		return;
	}
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FC_LOCK) && !(fc & FC_VMX_NO_SMX)) {
		ci->vmx_locked_off = true;
		ci->virt_reason = "VT-x is disabled by the firmware "
				  "(IA32_FEATURE_CONTROL locked); enable it in the firmware setup";
		return;
	}
	ci->vmx_unlocked = !(fc & FC_LOCK);

	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	uint64_t proc = rdmsr(basic & VMX_BASIC_TRUE ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
						     : MSR_IA32_VMX_PROCBASED_CTLS);
	if (proc & PROC_SECONDARY) {
		uint64_t proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		ci->ept = proc2 & PROC2_EPT;
		ci->vpid = proc2 & PROC2_VPID;
		ci->unrestricted = proc2 & PROC2_UG;
	}
	if (ci->ept) {
		uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
		if (!(cap & EPT_CAP_WALK4) || !(cap & EPT_CAP_WB))
			ci->ept = false;	/* we need 4-level, write-back EPT */
		ci->ept_2m = cap & EPT_CAP_2M;
		ci->ept_1g = cap & EPT_CAP_1G;
		ci->ept_ad = cap & EPT_CAP_AD;
	}
	if (!ci->ept) {
		ci->virt_reason = "VT-x without usable EPT (4-level, write-back) is not supported";
		return;
	}
	if (!ci->unrestricted) {
		ci->virt_reason = "VT-x without unrestricted guest is not supported";
		return;
	}
	ci->virt_ok = true;
}

static void probe_svm(struct cpu_info *ci)
{
	if (!ci->svm) {
		ci->virt_reason = "AMD-V (SVM) is not available on this CPU";
		return;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		ci->svm_disabled = true;
		ci->virt_reason = "AMD-V is disabled by the firmware (VM_CR.SVMDIS); "
				  "enable SVM in the firmware setup";
		return;
	}
	if (cpuid(0x80000000).eax < 0x8000000a) {
		ci->virt_reason = "AMD-V without CPUID leaf 0x8000000a is not supported";
		return;
	}
	struct cpuid_regs r = cpuid(0x8000000a);
	ci->svm_revision = r.eax & 0xff;
	ci->nasids = r.ebx;
	ci->npt = r.edx & (1u << 0);
	ci->nrips = r.edx & (1u << 3);
	ci->flush_by_asid = r.edx & (1u << 6);
	ci->decode_assists = r.edx & (1u << 7);
	ci->vgif = r.edx & (1u << 16);
	if (!ci->npt) {
		ci->virt_reason = "AMD-V without nested paging (NPT) is not supported";
		return;
	}
	ci->virt_ok = true;
}

void cpu_identify(struct cpu_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	read_vendor(ci);
	read_basics(ci);
	switch (ci->vendor) {
	case CPU_VENDOR_INTEL:
		probe_vmx(ci);
		break;
	case CPU_VENDOR_AMD:
		probe_svm(ci);
		break;
	default:
		ci->virt_reason = "unsupported CPU vendor (neither Intel nor AMD)";
		break;
	}
}

const char *cpu_vendor_name(enum cpu_vendor v)
{
	return v == CPU_VENDOR_INTEL ? "intel" : v == CPU_VENDOR_AMD ? "amd" : "other";
}

void cpu_print_virt(const struct cpu_info *ci)
{
	if (ci->vendor == CPU_VENDOR_INTEL && ci->virt_ok)
		pr_info("cpu: VT-x with EPT (2M %s, 1G %s, A/D %s), VPID %s, unrestricted guest%s\n",
			ci->ept_2m ? "yes" : "no", ci->ept_1g ? "yes" : "no",
			ci->ept_ad ? "yes" : "no", ci->vpid ? "yes" : "no",
			ci->vmx_unlocked ? ", FEATURE_CONTROL unlocked" : "");
	else if (ci->vendor == CPU_VENDOR_AMD && ci->virt_ok)
		pr_info("cpu: AMD-V rev %u with NPT, %u ASIDs, next-RIP %s, decode assists %s, vGIF %s\n",
			ci->svm_revision, ci->nasids, ci->nrips ? "yes" : "no",
			ci->decode_assists ? "yes" : "no", ci->vgif ? "yes" : "no");
}
