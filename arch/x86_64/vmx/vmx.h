/* Intel VT-x: the vendor half of the vCPU interface (vmm/vcpu.h). */
#ifndef ARCH_X86_64_VMX_VMX_H
#define ARCH_X86_64_VMX_VMX_H

#include <stdint.h>

#include "kernel/pgtable.h"
#include "vmm/vcpu.h"

extern const struct pt_format pt_format_ept;	/* 1 GiB leaves */
extern const struct pt_format pt_format_ept_2m;	/* no 1 GiB EPT pages */
extern const struct pt_format pt_format_ept_4k;	/* no large EPT pages */

/* Enter the guest (launched: VMRESUME, else VMLAUNCH). */
/* vmx_run.S: enter, and at the exit (or a VMfail) continue in
 * vmx_vcpu_exited(v, e, failed), whose result is the trip's (e->reason). */
enum exit_reason vmx_enter(void *regs, int launched, struct vcpu *v, struct vm_exit *e);
enum exit_reason vmx_vcpu_exited(struct vcpu *v, struct vm_exit *e, int failed);

#endif
