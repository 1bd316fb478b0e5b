/* AMD-V (SVM): the vendor half of the vCPU interface (vmm/vcpu.h). */
#ifndef ARCH_X86_64_SVM_SVM_H
#define ARCH_X86_64_SVM_SVM_H

#include <stdint.h>

#include "kernel/pgtable.h"

extern const struct pt_format pt_format_npt;	/* 1 GiB leaves */
extern const struct pt_format pt_format_npt_2m;	/* CPUs without 1 GiB pages */

void svm_vmrun(uint64_t guest_vmcb_pa, void *regs, uint64_t host_vmcb_pa);

#endif
