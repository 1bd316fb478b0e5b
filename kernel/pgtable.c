/*
 * The page-table walker shared by every format; see pgtable.h.
 *
 * pt_map and pt_unmap walk their range twice:
 *  1. prepare: create the tables the range needs and split the large
 *     leaves that straddle its edges into equivalent next-level tables.
 *     Nothing done here changes what any address translates to, so
 *     running out of memory in this pass leaves the mapping as it was.
 *  2. commit: write the new leaves (or clear entries). Every table the
 *     range needs exists by now, so this pass allocates nothing and cannot
 *     fail.
 * Both passes take the same decisions at every entry: those depend only on
 * the range, the alignment of va and pa, and what prepare left behind.
 *
 * Recursion depth is the format's level count (at most 5).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/errno.h"
#include "kernel/pgtable.h"

#define PT_PAGE_SHIFT	12
#define PT_LEVEL_BITS	9
#define PT_ENTRIES	512u
#define PT_PAGE_SIZE	(1ull << PT_PAGE_SHIFT)
#define PT_MAX_LEVELS	5
#define PT_ALL_FLAGS	(PT_READ | PT_WRITE | PT_EXEC | PT_USER | PT_GLOBAL | PT_UC)

enum pt_op {
	PT_OP_MAP,
	PT_OP_UNMAP,
	PT_OP_PRUNE,	/* free tables left empty by a failed map */
};

struct pt_walk {
	const struct pgtable *pt;
	enum pt_op op;
	bool commit;		/* false: the prepare pass */
	uint64_t pa_delta;	/* map: pa = va + pa_delta (mod 2^64) */
	unsigned flags;		/* map: the leaves' flags */
};

static unsigned pt_shift(unsigned level)
{
	return PT_PAGE_SHIFT + PT_LEVEL_BITS * (level - 1);
}

/* Bytes one entry at `level` covers. */
static uint64_t pt_level_size(unsigned level)
{
	return 1ull << pt_shift(level);
}

static unsigned pt_index(uint64_t va, unsigned level)
{
	return (unsigned)(va >> pt_shift(level)) & (PT_ENTRIES - 1);
}

/* First address the format cannot translate. */
static uint64_t pt_va_limit(const struct pt_format *fmt)
{
	return 1ull << pt_shift(fmt->levels + 1);
}

static uint64_t *pt_table(const struct pgtable *pt, uint64_t phys)
{
	return pt->mem->phys_to_virt(pt->mem->ctx, phys);
}

static void pt_sync(const struct pgtable *pt, const void *p, uint64_t len)
{
	if (pt->mem->sync)
		pt->mem->sync(pt->mem->ctx, p, len);
}

/*
 * Write a live entry with one 64-bit store, so a concurrent hardware walk
 * sees the old or the new entry and never half of each. The compiler
 * barrier keeps the stores that filled a new table before the store that
 * links it in (x86 keeps stores in program order for the walker).
 */
static void pt_set(const struct pgtable *pt, uint64_t *pte, uint64_t val)
{
	__asm__ __volatile__("" ::: "memory");
	*(volatile uint64_t *)pte = val;
	pt_sync(pt, pte, sizeof(*pte));
}

static bool pt_is_table(const struct pt_format *fmt, uint64_t pte, unsigned level)
{
	return level > 1 && fmt->present(pte) && !fmt->is_leaf(pte, level);
}

/* The frame a leaf maps. Masking to the leaf size drops the low address
 * bits a large leaf uses for other things (x86: bit 12 is PAT). */
static uint64_t pt_leaf_pa(const struct pt_format *fmt, uint64_t pte, unsigned level)
{
	return pte & fmt->addr_mask & ~(pt_level_size(level) - 1);
}

/* A zeroed table page, synced for non-coherent walkers. */
static int pt_alloc_table(const struct pgtable *pt, uint64_t *phys)
{
	uint64_t p = pt->mem->alloc_page(pt->mem->ctx);

	if (!p)
		return trace_error(-ENOMEM);
	pt_sync(pt, pt_table(pt, p), PT_PAGE_SIZE);
	*phys = p;
	return 0;
}

/* Hand back the table at `level` and every table below it. */
static void pt_free_tree(const struct pgtable *pt, uint64_t table, unsigned level)
{
	const uint64_t *t = pt_table(pt, table);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (pt_is_table(pt->fmt, t[i], level))
			pt_free_tree(pt, t[i] & pt->fmt->addr_mask, level - 1);
	pt->mem->free_page(pt->mem->ctx, table);
}

/* Overwrite an entry, then free the subtree it pointed to (if any): only
 * once the entry no longer references it. */
static void pt_replace(const struct pgtable *pt, uint64_t *pte, unsigned level, uint64_t val)
{
	uint64_t old = *pte;

	pt_set(pt, pte, val);
	if (pt->mem->free_page && pt_is_table(pt->fmt, old, level))
		pt_free_tree(pt, old & pt->fmt->addr_mask, level - 1);
}

static bool pt_table_empty(const struct pgtable *pt, uint64_t table)
{
	const uint64_t *t = pt_table(pt, table);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (pt->fmt->present(t[i]))
			return false;
	return true;
}

/*
 * Replace the leaf *pte at `level` by a table of 512 leaves one level down
 * mapping the same frames with the same flags. The entry is written only
 * once the new table is complete, so every address translates the same
 * before and after; only the page size changes. Frame and attributes
 * stay, which is what makes that safe on a live table (SDM Vol. 3A
 * 4.10.4.2 "Recommended Invalidation": never change the page size together
 * with the frame or attributes). The caller still flushes afterwards.
 */
static int pt_split(const struct pgtable *pt, uint64_t *pte, unsigned level)
{
	const struct pt_format *fmt = pt->fmt;
	uint64_t old = *pte, sub = pt_level_size(level - 1), phys;
	uint64_t pa = pt_leaf_pa(fmt, old, level);
	unsigned flags = fmt->leaf_flags(old, level);
	int err = pt_alloc_table(pt, &phys);

	if (err)
		return err;
	uint64_t *t = pt_table(pt, phys);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = fmt->make_leaf(pa + i * sub, level - 1, flags);
	pt_sync(pt, t, PT_PAGE_SIZE);
	pt_set(pt, pte, fmt->make_table(phys, level));
	return 0;
}

/* The table below *pte, creating an empty one or splitting a leaf. */
static int pt_get_child(const struct pgtable *pt, uint64_t *pte, unsigned level,
			uint64_t *child)
{
	const struct pt_format *fmt = pt->fmt;
	int err = 0;

	if (!fmt->present(*pte)) {
		uint64_t phys;
		err = pt_alloc_table(pt, &phys);
		if (!err)
			pt_set(pt, pte, fmt->make_table(phys, level));
	} else if (fmt->is_leaf(*pte, level)) {
		err = pt_split(pt, pte, level);
	}
	if (err)
		return err;
	*child = *pte & fmt->addr_mask;
	return 0;
}

static int pt_walk_range(struct pt_walk *w, uint64_t table, unsigned level,
			 uint64_t va, uint64_t end);

/* Apply the walk to [va, end), which lies inside the span of *pte. */
static int pt_descend(struct pt_walk *w, uint64_t *pte, unsigned level,
		      uint64_t va, uint64_t end)
{
	uint64_t child;
	int err = pt_get_child(w->pt, pte, level, &child);

	if (!err)
		err = pt_walk_range(w, child, level - 1, va, end);
	if (err)
		return err;
	/* A map always leaves a leaf behind; unmap and prune may empty it. */
	if (w->commit && w->op != PT_OP_MAP && pt_table_empty(w->pt, child))
		pt_replace(w->pt, pte, level, 0);
	return 0;
}

/* May the map put one leaf at `level` for the entry starting at va? */
static bool pt_leaf_fits(const struct pt_walk *w, unsigned level, uint64_t va)
{
	uint64_t mask = pt_level_size(level) - 1;

	return level <= w->pt->fmt->max_leaf_level && ((va + w->pa_delta) & mask) == 0;
}

/* One entry whose span [va, end) intersects the range; `whole` when the
 * range covers all of that entry's span. */
static int pt_visit(struct pt_walk *w, uint64_t *pte, unsigned level,
		    uint64_t va, uint64_t end, bool whole)
{
	const struct pt_format *fmt = w->pt->fmt;

	switch (w->op) {
	case PT_OP_MAP:
		if (whole && pt_leaf_fits(w, level, va)) {
			if (w->commit)
				pt_replace(w->pt, pte, level,
					   fmt->make_leaf(va + w->pa_delta, level, w->flags));
			return 0;
		}
		return pt_descend(w, pte, level, va, end);
	case PT_OP_UNMAP:
		if (!fmt->present(*pte))
			return 0;
		if (whole) {
			if (w->commit)
				pt_replace(w->pt, pte, level, 0);
			return 0;
		}
		return pt_descend(w, pte, level, va, end);
	case PT_OP_PRUNE:
		if (!pt_is_table(fmt, *pte, level))
			return 0;
		return pt_descend(w, pte, level, va, end);
	}
	return trace_error(-EINVAL);
}

/* Walk the entries of the table at `level` that [va, end) touches. */
static int pt_walk_range(struct pt_walk *w, uint64_t table, unsigned level,
			 uint64_t va, uint64_t end)
{
	uint64_t *t = pt_table(w->pt, table);
	uint64_t mask = pt_level_size(level) - 1;

	while (va < end) {
		uint64_t next = (va | mask) + 1;	/* no overflow: va < 2^57 */
		uint64_t stop = next < end ? next : end;
		bool whole = (va & mask) == 0 && stop == next;
		int err = pt_visit(w, &t[pt_index(va, level)], level, va, stop, whole);

		if (err)
			return err;
		va = stop;
	}
	return 0;
}

static int pt_run(struct pt_walk *w, uint64_t va, uint64_t size)
{
	return pt_walk_range(w, w->pt->root, w->pt->fmt->levels, va, va + size);
}

static bool pt_format_ok(const struct pt_format *fmt)
{
	return fmt && fmt->levels >= 1 && fmt->levels <= PT_MAX_LEVELS &&
	       fmt->max_leaf_level >= 1 && fmt->max_leaf_level <= fmt->levels &&
	       fmt->present && fmt->is_leaf && fmt->make_table && fmt->make_leaf &&
	       fmt->leaf_flags && (fmt->addr_mask & (PT_PAGE_SIZE - 1)) == 0;
}

int pt_init(struct pgtable *pt, const struct pt_format *fmt, const struct pt_mem *mem)
{
	if (!pt_format_ok(fmt) || !mem || !mem->alloc_page || !mem->phys_to_virt)
		return trace_error(-EINVAL);
	pt->fmt = fmt;
	pt->mem = mem;
	pt->root = 0;
	return pt_alloc_table(pt, &pt->root);
}

/* va and size page-aligned, [va, va + size) below the format's limit. */
static int pt_check_va(const struct pgtable *pt, uint64_t va, uint64_t size)
{
	uint64_t limit = pt_va_limit(pt->fmt);

	if ((va | size) & (PT_PAGE_SIZE - 1))
		return trace_error(-EINVAL);
	if (size > limit || va > limit - size)
		return trace_error(-EINVAL);
	return 0;
}

/* [pa, pa + size) page-aligned, not wrapping, encodable in an entry. */
static int pt_check_pa(const struct pt_format *fmt, uint64_t pa, uint64_t size)
{
	uint64_t last = pa + size - 1;

	if (pa & (PT_PAGE_SIZE - 1))
		return trace_error(-EINVAL);
	if (size && (last < pa || ((pa | last) & ~(fmt->addr_mask | (PT_PAGE_SIZE - 1)))))
		return trace_error(-EINVAL);
	return 0;
}

/* Every requested flag must come back from the entry the format makes;
 * this rejects, say, PT_USER on host paging or write-only EPT. */
static int pt_check_flags(const struct pt_format *fmt, unsigned flags)
{
	uint64_t leaf = fmt->make_leaf(0, 1, flags);

	if (flags & ~PT_ALL_FLAGS)
		return trace_error(-EINVAL);
	if (!fmt->present(leaf) || (flags & ~fmt->leaf_flags(leaf, 1)))
		return trace_error(-EINVAL);
	return 0;
}

int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
	struct pt_walk w = {
		.pt = pt, .op = PT_OP_MAP, .pa_delta = pa - va, .flags = flags,
	};
	int err = pt_check_va(pt, va, size);

	if (!err)
		err = pt_check_pa(pt->fmt, pa, size);
	if (!err)
		err = pt_check_flags(pt->fmt, flags);
	if (err || size == 0)
		return err;

	err = pt_run(&w, va, size);
	if (err) {
		/* Prepare only added tables; drop those still empty. */
		w.op = PT_OP_PRUNE;
		w.commit = true;
		pt_run(&w, va, size);
		return err;
	}
	w.commit = true;
	return pt_run(&w, va, size);
}

int pt_unmap(struct pgtable *pt, uint64_t va, uint64_t size)
{
	struct pt_walk w = { .pt = pt, .op = PT_OP_UNMAP };
	int err = pt_check_va(pt, va, size);

	if (err || size == 0)
		return err;
	/* A failed prepare only split leaves: nothing is unmapped. */
	err = pt_run(&w, va, size);
	if (err)
		return err;
	w.commit = true;
	return pt_run(&w, va, size);
}

bool pt_lookup(const struct pgtable *pt, uint64_t va, uint64_t *pa,
	       unsigned *flags, unsigned *level)
{
	const struct pt_format *fmt = pt->fmt;
	uint64_t table = pt->root;

	if (va >= pt_va_limit(fmt))
		return false;
	for (unsigned l = fmt->levels; l >= 1; l--) {
		uint64_t pte = pt_table(pt, table)[pt_index(va, l)];

		if (!fmt->present(pte))
			return false;
		if (l > 1 && !fmt->is_leaf(pte, l)) {
			table = pte & fmt->addr_mask;
			continue;
		}
		if (pa)
			*pa = pt_leaf_pa(fmt, pte, l) | (va & (pt_level_size(l) - 1));
		if (flags)
			*flags = fmt->leaf_flags(pte, l);
		if (level)
			*level = l;
		return true;
	}
	return false;
}
