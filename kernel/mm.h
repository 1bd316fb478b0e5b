/* The hypervisor's memory: the map and the page allocator at boot. */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include "kernel/bootinfo.h"
#include "kernel/memmap.h"

extern struct memmap hv_memmap;

/* Image bounds from linker.ld. */
extern char __image_start[], __image_end[];
extern char __text_start[], __text_end[];
extern char __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];

/*
 * Build hv_memmap from the boot memory map, reserve the image, the boot
 * modules and the boot info, set up hv_palloc. 0 or a negative errno
 * (with a clear line), e.g. when the image does not lie in usable RAM.
 */
int mm_init(const struct boot_info *bi);

/* RAM in the machine, in bytes: what the firmware calls usable, including
 * what the hypervisor and the boot modules occupy. */
uint64_t mm_ram_bytes(void);

/* Page-table pages for every table the hypervisor builds (its own,
 * NPT/EPT): from hv_palloc, reached through the identity map. Replaced
 * subtrees go back right away; callers flush TLBs after each change. */
struct pt_mem;
extern const struct pt_mem hv_pt_mem;

#endif
