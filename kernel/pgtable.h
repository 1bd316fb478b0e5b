/*
 * One page-table engine for every x86 radix-tree format: the hypervisor's
 * own paging now; NPT, EPT and the IOMMU later. A format describes how an
 * entry encodes "present", an address, a leaf at a level and permissions;
 * the walker (map, unmap, lookup) is shared.
 *
 * Levels count from the leaf: level 1 = 4 KiB entries (PT), level 2 = 2 MiB
 * (PD), level 3 = 1 GiB (PDPT), level 4 = 512 GiB (PML4).
 */
#ifndef KERNEL_PGTABLE_H
#define KERNEL_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

/* Vendor- and format-neutral permissions and attributes. */
#define PT_READ   (1u << 0)
#define PT_WRITE  (1u << 1)
#define PT_EXEC   (1u << 2)
#define PT_USER   (1u << 3)
#define PT_GLOBAL (1u << 4)
#define PT_UC     (1u << 5)	/* uncached (MMIO) */

/*
 * An entry format. `level` is always the level of the entry itself. An
 * all-zero entry must be "not present" (the walker clears entries with 0).
 * make_leaf may return a non-present entry (e.g. 0) for flags the format
 * cannot encode; leaf_flags must report every flag make_leaf encoded (and
 * may add implied ones, like PT_READ on host paging): the walker rejects
 * flags that do not survive make_leaf -> leaf_flags, and it splits large
 * leaves by re-encoding leaf_flags, so anything else in an entry (A/D
 * bits, a memory type other than WB/UC) is not kept by a split.
 */
struct pt_format {
	const char *name;
	unsigned levels;		/* 4 for all x86 formats used here (1..5) */
	unsigned max_leaf_level;	/* 3 if 1 GiB leaves allowed, else 2 (or 1) */
	uint64_t addr_mask;		/* address bits of an entry */
	bool (*present)(uint64_t pte);
	bool (*is_leaf)(uint64_t pte, unsigned level);	/* level > 1 only asked */
	/* An entry at `level` pointing to a table of level - 1 (formats such
	 * as AMD's IOMMU record that next level in the entry). */
	uint64_t (*make_table)(uint64_t table_phys, unsigned level);
	uint64_t (*make_leaf)(uint64_t phys, unsigned level, unsigned flags);
	unsigned (*leaf_flags)(uint64_t pte, unsigned level);
};

/*
 * Where page-table pages come from and how to reach them.
 *
 * free_page (optional): table pages that a map or unmap makes unreachable
 * (a subtree replaced by a large leaf, a table left empty by an unmap) are
 * handed back before pt_map/pt_unmap return, i.e. BEFORE the caller's TLB
 * flush; paging-structure caches may still point at them until then. The
 * walker allocates nothing after freeing, so with one CPU on the tables,
 * flushing right after the call is enough; with more, leave free_page NULL
 * (the pages leak) or defer the real free past the shootdown.
 *
 * sync (optional): called after the walker wrote table memory, for agents
 * whose walks do not snoop the CPU caches (a VT-d unit without ECAP.C:
 * clflush the range). A new table is synced whole before it is linked in.
 */
struct pt_mem {
	uint64_t (*alloc_page)(void *ctx);		/* zeroed page, 0 on failure */
	void *(*phys_to_virt)(void *ctx, uint64_t phys);
	void *ctx;
	void (*free_page)(void *ctx, uint64_t phys);	/* NULL: leak */
	void (*sync)(void *ctx, const void *virt, uint64_t len);	/* NULL: coherent */
};

struct pgtable {
	const struct pt_format *fmt;
	const struct pt_mem *mem;
	uint64_t root;			/* physical address of the top table */
};

/* Allocate an empty root. 0, -EINVAL (unusable fmt or mem) or -ENOMEM. */
int pt_init(struct pgtable *pt, const struct pt_format *fmt, const struct pt_mem *mem);

/*
 * Map [va, va + size) to [pa, pa + size) with `flags`, using the largest
 * leaves that alignment and fmt->max_leaf_level allow. Replaces existing
 * mappings in the range (splitting larger leaves that straddle its edges,
 * keeping their other parts). va, pa, size: multiples of 4 KiB; va + size
 * at most 2^(12 + 9 * fmt->levels) (canonical form is the caller's job);
 * pa + size must fit fmt->addr_mask. size 0 is a no-op.
 * 0, -EINVAL (misaligned/wrapping/out of range, or flags the format cannot
 * encode) or -ENOMEM; after -ENOMEM every address translates as before.
 * The caller flushes TLBs.
 */
int pt_map(struct pgtable *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned flags);

/* Remove mappings in [va, va + size), splitting straddling leaves.
 * 0, -EINVAL (as pt_map) or -ENOMEM (nothing unmapped then). */
int pt_unmap(struct pgtable *pt, uint64_t va, uint64_t size);

/* Translate va. true with *pa, *flags and *level of the leaf found; any
 * of the out pointers may be NULL. */
bool pt_lookup(const struct pgtable *pt, uint64_t va, uint64_t *pa,
	       unsigned *flags, unsigned *level);

/* The x86-64 4-level format of the hypervisor's own page tables. */
extern const struct pt_format pt_format_x86_host;
extern const struct pt_format pt_format_x86_host_2m;	/* no 1 GiB leaves */

#endif
