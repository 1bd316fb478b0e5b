/* AMD-V (SVM): the vendor half of the vCPU interface (vmm/vcpu.h). */
#ifndef ARCH_X86_64_SVM_SVM_H
#define ARCH_X86_64_SVM_SVM_H

#include <stdint.h>

#include "kernel/pgtable.h"
#include "vmm/vcpu.h"

extern const struct pt_format pt_format_npt;	/* 1 GiB leaves */
extern const struct pt_format pt_format_npt_2m;	/* CPUs without 1 GiB pages */

struct vmcb;
struct vmcb;
/* svm_run.S: enter, and at the exit continue in svm_vcpu_exited(v, e),
 * whose result is the trip's (e->reason). */
enum exit_reason svm_vmrun(struct vmcb *vmcb, void *regs, uint64_t host_vmcb_pa, struct vcpu *v,
			   struct vm_exit *e);
enum exit_reason svm_vcpu_exited(struct vcpu *v, struct vm_exit *e);

#endif
