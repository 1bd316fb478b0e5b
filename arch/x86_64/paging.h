/*
 * The hypervisor's own page tables: an identity map of the physical
 * address space (RAM and the MMIO below 4 GiB), read+write and
 * non-executable, with the image mapped page by page by section (text
 * R+X, rodata R, data/bss R+W), page 0 and every stack's guard page left
 * unmapped. Built once on the boot CPU from the memory map.
 */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/memmap.h"

/* Build and switch to the final tables. 0 or a negative errno (the early
 * tables stay in use then). */
int paging_init(const struct memmap *m);

int paging_map(uintptr_t va, uint64_t pa, size_t size, unsigned flags);
int paging_unmap(uintptr_t va, size_t size);

/* Is [va, va + size) mapped (for the exception reporter)? */
int paging_is_mapped(uintptr_t va, size_t size);

#endif
