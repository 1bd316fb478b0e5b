/*
 * Emulated MMIO: a guest access to a guest-physical page that is not RAM
 * but one of the domain's virtual devices (its IOAPIC). The exit gives
 * only the address, so the instruction is fetched through the guest's
 * page tables (vmm/gwalk.c) and decoded (vmm/insn.c).
 */
#ifndef VMM_MMIO_H
#define VMM_MMIO_H

#include <stdbool.h>

#include "vmm/vcpu.h"

/* Handle a memory-violation exit that falls on an emulated device: true
 * when it did (the guest moved on, or the domain was stopped with the
 * reason); false when the address is no device's. */
bool mmio_exit(struct vcpu *v, const struct vm_exit *e);

#endif
