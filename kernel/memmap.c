/*
 * The physical memory map; see memmap.h.
 *
 * Invariants of m->r[0..count): sorted by base, pairwise disjoint, no two
 * touching regions of the same type, every MEM_USABLE region made of
 * whole pages.
 *
 * What memmap_add means, exactly (the unit tests check it against a
 * byte-by-byte model):
 *  - every added range paints its bytes with its type; where ranges
 *    overlap, the higher type wins (MEM_USABLE is the lowest), whatever
 *    the order of the calls;
 *  - usable ranges are first shrunk inward to whole pages;
 *  - a page holding any byte of another type is never usable: the usable
 *    rest of such a page is dropped (it becomes a hole). The firmware said
 *    part of that page is not free RAM, and we only hand out whole pages;
 *  - zero-length ranges are ignored, and so are wrapping ones (base + len
 *    beyond 2^64 - 1): no physical address is that high, so such an entry
 *    is firmware garbage, and clamping it would make up a region.
 *
 * The map is edited in place (it is big, and boot stacks are small) and
 * -ENOSPC must leave it untouched, so memmap_add first counts the regions
 * the result will have, then edits in two passes neither of which needs
 * more room than the result: pass 1 only shortens or drops the regions
 * that [base, end) overlaps, pass 2 fills the holes left in [base, end).
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/errno.h"
#include "kernel/memmap.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define PAGE_MASK (PAGE_SIZE - 1)

void memmap_init(struct memmap *m) { m->count = 0; }

const char *mem_type_name(uint32_t type)
{
	static const char *const names[] = {
		[MEM_USABLE] = "usable", [MEM_RESERVED] = "reserved", [MEM_ACPI] = "acpi",
		[MEM_NVS] = "nvs",       [MEM_BAD] = "bad",           [MEM_HV] = "hypervisor",
		[MEM_BOOT] = "boot",
	};

	if (type >= MEM_USABLE && type <= MEM_BOOT)
		return names[type];
	return "unknown";
}

/* Types outside 1..7 count as reserved: what we do not understand, we do
 * not use. (Firmware types 6 and 7, ACPI's "disabled" and "persistent
 * memory", collide with MEM_HV and MEM_BOOT: callers feeding a firmware
 * map must turn them into MEM_RESERVED first.) */
static uint32_t memmap_norm_type(uint32_t type)
{
	return type >= MEM_USABLE && type <= MEM_BOOT ? type : MEM_RESERVED;
}

static bool region_empty(const struct mem_region *r) { return r->base >= r->end; }

static struct mem_region region_make(uint64_t base, uint64_t end, uint32_t type)
{
	struct mem_region r = { .base = base, .end = end, .type = type };
	return r;
}

/* Shrink a usable region inward to whole pages; it may end up empty. */
static void region_trim(struct mem_region *r)
{
	if (r->type != MEM_USABLE || region_empty(r))
		return;
	if (r->base > UINT64_MAX - PAGE_MASK) {	/* no whole page above it */
		r->end = r->base;
		return;
	}
	uint64_t base = (r->base + PAGE_MASK) & ~PAGE_MASK;
	uint64_t end = r->end & ~PAGE_MASK;
	if (base >= end) {
		r->end = r->base;
		return;
	}
	r->base = base;
	r->end = end;
}

/*
 * What is left of region `r` once [base, end) is painted with `type`:
 * all of it when it does not overlap or outranks `type` (returned in
 * *left), else its parts left and right of [base, end), usable parts
 * trimmed to whole pages. Either part may be empty.
 */
static void region_clip(const struct mem_region *r, uint64_t base, uint64_t end, uint32_t type,
			struct mem_region *left, struct mem_region *right)
{
	*left = *r;
	*right = region_make(r->end, r->end, r->type);
	if (r->end <= base || r->base >= end || r->type > type)
		return;
	*left = region_make(r->base, r->end < base ? r->end : base, r->type);
	*right = region_make(r->base > end ? r->base : end, r->end, r->type);
	region_trim(left);
	region_trim(right);
}

/* Counts the regions a sequence of pieces makes, merging as the map does. */
struct piece_count {
	uint32_t n;
	bool have_last;
	struct mem_region last;
};

static void piece_count_put(struct piece_count *pc, struct mem_region p)
{
	if (region_empty(&p))
		return;
	if (pc->have_last && pc->last.end == p.base && pc->last.type == p.type) {
		pc->last.end = p.end;
		return;
	}
	pc->n++;
	pc->last = p;
	pc->have_last = true;
}

static void piece_count_fill(struct piece_count *pc, uint64_t from, uint64_t to, uint32_t type)
{
	if (from >= to)
		return;
	struct mem_region p = region_make(from, to, type);
	region_trim(&p);
	piece_count_put(pc, p);
}

/*
 * How many regions r[i..j) become once [base, end) is painted with
 * `type`: the surviving parts of each, with the holes between them inside
 * [base, end) filled, merged where they touch with equal types. This
 * mirrors what memmap_clip_window and memmap_fill_window do.
 */
static uint32_t memmap_window_result(const struct memmap *m, uint32_t i, uint32_t j,
				     uint64_t base, uint64_t end, uint32_t type)
{
	struct piece_count pc = { 0 };
	uint64_t cursor = base;

	for (uint32_t k = i; k < j; k++) {
		struct mem_region part[2];
		region_clip(&m->r[k], base, end, type, &part[0], &part[1]);
		for (int q = 0; q < 2; q++) {
			if (region_empty(&part[q]))
				continue;
			piece_count_fill(&pc, cursor, part[q].base < end ? part[q].base : end, type);
			piece_count_put(&pc, part[q]);
			if (part[q].end > cursor)
				cursor = part[q].end;
		}
	}
	piece_count_fill(&pc, cursor, end, type);
	return pc.n;
}

static void memmap_insert(struct memmap *m, uint32_t k, struct mem_region r)
{
	memmove(&m->r[k + 1], &m->r[k], (m->count - k) * sizeof(m->r[0]));
	m->r[k] = r;
	m->count++;
}

static void memmap_remove(struct memmap *m, uint32_t k, uint32_t n)
{
	memmove(&m->r[k], &m->r[k + n], (m->count - k - n) * sizeof(m->r[0]));
	m->count -= n;
}

/*
 * Pass 1: replace each of r[i..j) by what survives of it. Never grows
 * the map, except when one region strictly contains [base, end) and is
 * split in two; it is then the only region in the window (anything else
 * there would overlap it), and memmap_add made sure the result fits.
 */
static void memmap_clip_window(struct memmap *m, uint32_t i, uint32_t j, uint64_t base,
			       uint64_t end, uint32_t type)
{
	uint32_t w = i;

	for (uint32_t k = i; k < j; k++) {
		struct mem_region part[2];
		region_clip(&m->r[k], base, end, type, &part[0], &part[1]);
		if (!region_empty(&part[0]) && !region_empty(&part[1])) {
			m->r[k] = part[0];
			memmap_insert(m, k + 1, part[1]);
			return;
		}
		for (int q = 0; q < 2; q++)
			if (!region_empty(&part[q]))
				m->r[w++] = part[q];	/* w <= k: already read */
	}
	memmap_remove(m, w, j - w);
}

/*
 * Put [from, to) of `type` before r[k], merging with the neighbours.
 * Returns the index of what was r[k] (or of the region it merged into).
 */
static uint32_t memmap_fill_gap(struct memmap *m, uint32_t k, uint64_t from, uint64_t to,
				uint32_t type)
{
	struct mem_region p = region_make(from, to, type);

	region_trim(&p);
	if (region_empty(&p))
		return k;
	bool prev = k > 0 && m->r[k - 1].end == p.base && m->r[k - 1].type == type;
	bool next = k < m->count && m->r[k].base == p.end && m->r[k].type == type;
	if (prev && next) {
		m->r[k - 1].end = m->r[k].end;
		memmap_remove(m, k, 1);
		return k - 1;
	}
	if (prev) {
		m->r[k - 1].end = p.end;
		return k;
	}
	if (next) {
		m->r[k].base = p.base;
		return k;
	}
	memmap_insert(m, k, p);
	return k + 1;
}

/*
 * Pass 2: fill the holes in [base, end) with `type`. What pass 1 left
 * inside [base, end) outranks `type`, so a filled hole can merge with at
 * most one neighbour, unless it is the only hole: the map grows by one
 * region per hole at most and never shrinks on the way, so it never needs
 * more room than the result.
 */
static void memmap_fill_window(struct memmap *m, uint32_t k, uint64_t base, uint64_t end,
			       uint32_t type)
{
	uint64_t cursor = base;

	for (; k < m->count && m->r[k].base < end; k++) {
		if (m->r[k].base > cursor)
			k = memmap_fill_gap(m, k, cursor, m->r[k].base, type);
		if (m->r[k].end > cursor)
			cursor = m->r[k].end;
	}
	if (cursor < end)
		memmap_fill_gap(m, k, cursor, end, type);
}

int memmap_add(struct memmap *m, uint64_t base, uint64_t len, uint32_t type)
{
	if (len == 0)
		return 0;
	if (len > UINT64_MAX - base) {
		pr_warn("memmap: ignoring range 0x%llx+0x%llx (type %u): it wraps around\n",
			(unsigned long long)base, (unsigned long long)len, type);
		return 0;
	}
	type = memmap_norm_type(type);
	struct mem_region add = region_make(base, base + len, type);
	region_trim(&add);
	if (region_empty(&add))
		return 0;	/* a usable range without a whole page */
	base = add.base;
	uint64_t end = add.end;

	/* The window: every region overlapping or touching [base, end). */
	uint32_t i = 0;
	while (i < m->count && m->r[i].end < base)
		i++;
	uint32_t j = i;
	while (j < m->count && m->r[j].base <= end)
		j++;

	/* Already covered by something at least as restrictive: no change.
	 * (Also keeps pass 1 from splitting a region pass 2 would re-merge.) */
	for (uint32_t k = i; k < j; k++)
		if (m->r[k].base <= base && end <= m->r[k].end && m->r[k].type >= type)
			return 0;

	uint32_t result = m->count - (j - i) + memmap_window_result(m, i, j, base, end, type);
	if (result > MEMMAP_MAX)
		return trace_error(-ENOSPC);

	memmap_clip_window(m, i, j, base, end, type);
	memmap_fill_window(m, i, base, end, type);
	return 0;
}

int memmap_reserve(struct memmap *m, uint64_t base, uint64_t end, uint32_t type)
{
	if (end < base) {
		pr_warn("memmap: ignoring reservation 0x%llx-0x%llx: end below base\n",
			(unsigned long long)base, (unsigned long long)end);
		return trace_error(-EINVAL);
	}
	if (end == base)
		return 0;
	base &= ~PAGE_MASK;
	/* The last page of the address space cannot be described (end is
	 * exclusive): reserve up to 2^64 - 1 instead. */
	end = end > UINT64_MAX - PAGE_MASK ? UINT64_MAX : (end + PAGE_MASK) & ~PAGE_MASK;
	return memmap_add(m, base, end - base, type);
}

uint64_t memmap_total(const struct memmap *m, uint32_t type)
{
	uint64_t total = 0;

	for (uint32_t k = 0; k < m->count; k++)
		if (m->r[k].type == type)
			total += m->r[k].end - m->r[k].base;
	return total;
}

uint64_t memmap_top(const struct memmap *m) { return m->count ? m->r[m->count - 1].end : 0; }
