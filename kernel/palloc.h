/*
 * The physical page allocator: a sorted list of free ranges, taken from
 * the usable regions of the memory map. First-fit from the top of memory
 * (low memory stays free for whatever needs it: AP trampolines, DMA).
 * Small, exact, and host-tested; not on any hot path.
 */
#ifndef KERNEL_PALLOC_H
#define KERNEL_PALLOC_H

#include <stdint.h>

#include "kernel/memmap.h"

#define PALLOC_MAX_RANGES 512

struct palloc_range {
	uint64_t base;
	uint64_t end;		/* exclusive */
};

struct palloc {
	uint32_t count;
	struct palloc_range free[PALLOC_MAX_RANGES];	/* sorted, coalesced */
	uint64_t free_bytes;
	/* The free ranges as palloc_init made them: a free must lie inside
	 * one of these (and not overlap anything free) to be accepted. */
	uint32_t pool_count;
	struct palloc_range pool[PALLOC_MAX_RANGES];
};

/* Free ranges := the MEM_USABLE regions of `m`, whole pages only,
 * ignoring the first MiB below `low_limit` (pass 0x100000 to keep real-mode
 * memory out). */
void palloc_init(struct palloc *p, const struct memmap *m, uint64_t low_limit);

/*
 * Allocate `npages` contiguous pages aligned to `align` bytes (a power of
 * two, at least PAGE_SIZE) lying wholly below `limit` (exclusive; 0 = no
 * limit). Takes the highest fitting range. Returns the physical address, or
 * 0 when nothing fits (page 0 is never handed out).
 */
uint64_t palloc_alloc(struct palloc *p, uint64_t npages, uint64_t align, uint64_t limit);

/* Return pages; double frees and frees of never-free memory are refused
 * with -EINVAL (and change nothing). Coalesces with neighbours. -ENOSPC
 * (changing nothing) when the freed pages touch no free range and the
 * range table is full. */
int palloc_free(struct palloc *p, uint64_t base, uint64_t npages);

/* Take exactly [base, base + npages pages) if it is all free: 0, -EBUSY
 * (some of it is not free), -EINVAL or -ENOSPC (range table full). */
int palloc_claim(struct palloc *p, uint64_t base, uint64_t npages);

/* The allocator the hypervisor itself uses (kernel/mm.c sets it up). */
extern struct palloc hv_palloc;
uint64_t alloc_page(void);		/* one zeroed page, or 0 */
uint64_t alloc_pages(uint64_t npages, uint64_t align, uint64_t limit); /* zeroed */

#endif
