/*
 * The physical page allocator; see palloc.h. (hv_palloc, alloc_page and
 * alloc_pages live in kernel/mm.c.)
 *
 * p->free[0..count) is sorted, disjoint and coalesced (no two ranges
 * touch), every range whole pages; free_bytes is their exact sum.
 * p->pool[] remembers the ranges palloc_init started with, so that a free
 * of memory that never belonged to the allocator is refused instead of
 * silently handing, say, the hypervisor image out later.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/errno.h"
#include "kernel/memmap.h"
#include "kernel/palloc.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define PAGE_MASK (PAGE_SIZE - 1)

/* Round up to a multiple of `align` (a power of two); false on overflow. */
static bool round_up(uint64_t x, uint64_t align, uint64_t *out)
{
	if (x > UINT64_MAX - (align - 1))
		return false;
	*out = (x + align - 1) & ~(align - 1);
	return true;
}

static void palloc_insert(struct palloc *p, uint32_t k, uint64_t base, uint64_t end)
{
	memmove(&p->free[k + 1], &p->free[k], (p->count - k) * sizeof(p->free[0]));
	p->free[k].base = base;
	p->free[k].end = end;
	p->count++;
}

static void palloc_remove(struct palloc *p, uint32_t k)
{
	memmove(&p->free[k], &p->free[k + 1], (p->count - k - 1) * sizeof(p->free[0]));
	p->count--;
}

/* Append [base, end) (above everything so far) to the initial ranges. */
static void palloc_init_add(struct palloc *p, uint64_t base, uint64_t end)
{
	if (p->count && p->free[p->count - 1].end == base) {
		p->free[p->count - 1].end = end;
	} else if (p->count == PALLOC_MAX_RANGES) {
		pr_warn("palloc: more than %u free ranges, leaving 0x%llx-0x%llx unused\n",
			PALLOC_MAX_RANGES, (unsigned long long)base, (unsigned long long)end);
		return;
	} else {
		p->free[p->count].base = base;
		p->free[p->count].end = end;
		p->count++;
	}
	p->free_bytes += end - base;
}

void palloc_init(struct palloc *p, const struct memmap *m, uint64_t low_limit)
{
	uint64_t low;

	p->count = 0;
	p->free_bytes = 0;
	/* Page 0 is never handed out: 0 is the "no memory" answer. */
	if (low_limit < PAGE_SIZE)
		low_limit = PAGE_SIZE;
	if (!round_up(low_limit, PAGE_SIZE, &low))
		low = UINT64_MAX;

	/* The map is sorted, so the ranges come out sorted too. */
	for (uint32_t i = 0; i < m->count; i++) {
		const struct mem_region *r = &m->r[i];
		uint64_t base, end = r->end & ~PAGE_MASK;

		if (r->type != MEM_USABLE || r->end <= low)
			continue;
		if (!round_up(r->base > low ? r->base : low, PAGE_SIZE, &base) || base >= end)
			continue;
		palloc_init_add(p, base, end);
	}
	p->pool_count = p->count;
	memcpy(p->pool, p->free, p->count * sizeof(p->free[0]));
}

/* Highest address in free range k for `size` bytes aligned to `align`
 * ending at or below `limit` (0 = none); 0 when it does not fit. */
static uint64_t palloc_fit_high(const struct palloc *p, uint32_t k, uint64_t size,
				uint64_t align, uint64_t limit)
{
	uint64_t base = p->free[k].base, top = p->free[k].end;

	if (limit && limit < top)
		top = limit;
	if (top <= base || top - base < size)
		return 0;
	uint64_t addr = (top - size) & ~(align - 1);
	return addr >= base ? addr : 0;
}

/* Take [addr, addr + size) out of free range k. Fails (changing nothing)
 * only when that splits the range and the table is full. */
static bool palloc_take_range(struct palloc *p, uint32_t k, uint64_t addr, uint64_t size)
{
	uint64_t base = p->free[k].base, end = p->free[k].end, aend = addr + size;

	if (addr == base && aend == end) {
		palloc_remove(p, k);
	} else if (addr == base) {
		p->free[k].base = aend;
	} else if (aend == end) {
		p->free[k].end = addr;
	} else {
		if (p->count == PALLOC_MAX_RANGES)
			return false;
		p->free[k].end = addr;
		palloc_insert(p, k + 1, aend, end);
	}
	p->free_bytes -= size;
	return true;
}

/* Table full and the highest fit would split range k: the lowest aligned
 * address does not split it if it is the range's base. */
static bool palloc_take_low(struct palloc *p, uint32_t k, uint64_t size, uint64_t align,
			    uint64_t limit, uint64_t *addr)
{
	uint64_t base = p->free[k].base, top = p->free[k].end;

	if (limit && limit < top)
		top = limit;
	if (base & (align - 1) || top <= base || top - base < size)
		return false;
	*addr = base;
	return palloc_take_range(p, k, base, size);
}

uint64_t palloc_alloc(struct palloc *p, uint64_t npages, uint64_t align, uint64_t limit)
{
	if (npages == 0 || npages > UINT64_MAX / PAGE_SIZE)
		return 0;
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;	/* any page satisfies a smaller alignment */
	if (align & (align - 1)) {
		pr_warn("palloc: alignment 0x%llx is not a power of two\n",
			(unsigned long long)align);
		return 0;
	}
	uint64_t size = npages * PAGE_SIZE;

	/* Ranges are sorted: the first fit from the top is the highest. */
	for (uint32_t k = p->count; k-- > 0;) {
		uint64_t addr = palloc_fit_high(p, k, size, align, limit);
		if (!addr)
			continue;
		if (palloc_take_range(p, k, addr, size) || palloc_take_low(p, k, size, align, limit, &addr))
			return addr;
	}
	return 0;
}

static bool palloc_in_pool(const struct palloc *p, uint64_t base, uint64_t end)
{
	for (uint32_t i = 0; i < p->pool_count; i++)
		if (p->pool[i].base <= base && end <= p->pool[i].end)
			return true;
	return false;
}

int palloc_free(struct palloc *p, uint64_t base, uint64_t npages)
{
	if (npages == 0 || npages > UINT64_MAX / PAGE_SIZE || (base & PAGE_MASK) ||
	    base > UINT64_MAX - npages * PAGE_SIZE) {
		pr_err("palloc: refusing to free %llu pages at 0x%llx: not a page range\n",
		       (unsigned long long)npages, (unsigned long long)base);
		return trace_error(-EINVAL);
	}
	uint64_t end = base + npages * PAGE_SIZE;

	if (!palloc_in_pool(p, base, end)) {
		pr_err("palloc: refusing to free 0x%llx-0x%llx: not memory of the allocator\n",
		       (unsigned long long)base, (unsigned long long)end);
		return trace_error(-EINVAL);
	}
	uint32_t k = 0;
	while (k < p->count && p->free[k].end <= base)
		k++;
	if (k < p->count && p->free[k].base < end) {
		pr_err("palloc: refusing to free 0x%llx-0x%llx: overlaps free 0x%llx-0x%llx "
		       "(double free?)\n",
		       (unsigned long long)base, (unsigned long long)end,
		       (unsigned long long)p->free[k].base, (unsigned long long)p->free[k].end);
		return trace_error(-EINVAL);
	}

	bool prev = k > 0 && p->free[k - 1].end == base;
	bool next = k < p->count && p->free[k].base == end;
	if (prev && next) {
		p->free[k - 1].end = p->free[k].end;
		palloc_remove(p, k);
	} else if (prev) {
		p->free[k - 1].end = end;
	} else if (next) {
		p->free[k].base = base;
	} else if (p->count == PALLOC_MAX_RANGES) {
		pr_err("palloc: cannot free 0x%llx-0x%llx: free range table full (%u ranges)\n",
		       (unsigned long long)base, (unsigned long long)end, PALLOC_MAX_RANGES);
		return trace_error(-ENOSPC);
	} else {
		palloc_insert(p, k, base, end);
	}
	p->free_bytes += end - base;
	return 0;
}

int palloc_claim(struct palloc *p, uint64_t base, uint64_t npages)
{
	uint64_t size = npages * PAGE_SIZE;

	if ((base & (PAGE_SIZE - 1)) || !npages || npages > UINT64_MAX / PAGE_SIZE ||
	    base + size < base)
		return trace_error(-EINVAL);
	for (uint32_t k = 0; k < p->count; k++)
		if (p->free[k].base <= base && base + size <= p->free[k].end)
			return palloc_take_range(p, k, base, size) ? 0 : trace_error(-ENOSPC);
	return trace_error(-EBUSY);
}
