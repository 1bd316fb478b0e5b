/*
 * The x86-64 4-level paging format of the hypervisor's own page tables,
 * for the shared walker (kernel/pgtable.c).
 *
 * Entry layouts: Intel SDM Vol. 3A 4.5, tables 4-15 (PML4E), 4-16/4-17
 * (PDPTE mapping 1 GiB / referencing a PD), 4-18/4-19 (PDE mapping 2 MiB /
 * referencing a PT) and 4-20 (PTE); AMD APM Vol. 2 5.3 (long-mode page
 * translation) has the same layout.
 *
 * Requirements on the CPU state that loads these tables:
 *  - IA32_EFER.NXE = 1: leaves without PT_EXEC carry XD (bit 63), which
 *    is a reserved bit, faulting every access, while NXE = 0.
 *  - CR4.PGE = 1 for PT_GLOBAL to mean anything (G is ignored otherwise).
 *  - The power-on PAT: PCD|PWT selects PAT entry 3, UC. Nothing here sets
 *    the PAT bit (bit 7 of a PTE, bit 12 of a large leaf).
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/pgtable.h"

#define X86_PTE_P	(1ull << 0)	/* present */
#define X86_PTE_RW	(1ull << 1)	/* writable */
#define X86_PTE_PWT	(1ull << 3)	/* write-through */
#define X86_PTE_PCD	(1ull << 4)	/* cache disable */
#define X86_PTE_PS	(1ull << 7)	/* page size: PDPTE/PDE map a page (PAT in a PTE) */
#define X86_PTE_G	(1ull << 8)	/* global, leaves only */
#define X86_PTE_XD	(1ull << 63)	/* execute-disable */
#define X86_PTE_ADDR	0x000ffffffffff000ull	/* bits 51:12 */

/*
 * U/S (bit 2) is never set: the hypervisor has no user mode, and without
 * U/S in every non-leaf entry a user leaf would be a lie, so PT_USER is
 * left unencodable (pt_map rejects it).
 */

static bool pt_x86_present(uint64_t pte)
{
	return pte & X86_PTE_P;
}

/* PS means "maps a page" in a PDPTE (1 GiB) or PDE (2 MiB); in a PML4E
 * bit 7 is reserved (must be 0). */
static bool pt_x86_is_leaf(uint64_t pte, unsigned level)
{
	return (level == 2 || level == 3) && (pte & X86_PTE_PS);
}

/* Non-leaf entries grant everything (P|RW, no XD); the access rights are
 * the AND over the walk (SDM 4.6), so the leaf alone restricts them. */
static uint64_t pt_x86_make_table(uint64_t table_phys, unsigned level)
{
	(void)level;
	return (table_phys & X86_PTE_ADDR) | X86_PTE_P | X86_PTE_RW;
}

static uint64_t pt_x86_make_leaf(uint64_t phys, unsigned level, unsigned flags)
{
	uint64_t pte = (phys & X86_PTE_ADDR) | X86_PTE_P;

	if (flags & PT_WRITE)
		pte |= X86_PTE_RW;
	if (!(flags & PT_EXEC))
		pte |= X86_PTE_XD;
	if (flags & PT_GLOBAL)
		pte |= X86_PTE_G;
	if (flags & PT_UC)
		pte |= X86_PTE_PCD | X86_PTE_PWT;
	if (level > 1)
		pte |= X86_PTE_PS;
	return pte;
}

/* PCD alone (UC- with the default PAT) also reads as PT_UC: a split then
 * re-encodes it as UC, never as cacheable. */
static unsigned pt_x86_leaf_flags(uint64_t pte, unsigned level)
{
	unsigned flags = PT_READ;

	(void)level;
	if (pte & X86_PTE_RW)
		flags |= PT_WRITE;
	if (!(pte & X86_PTE_XD))
		flags |= PT_EXEC;
	if (pte & X86_PTE_G)
		flags |= PT_GLOBAL;
	if (pte & X86_PTE_PCD)
		flags |= PT_UC;
	return flags;
}

const struct pt_format pt_format_x86_host = {
	.name = "x86-64 4-level",
	.levels = 4,
	.max_leaf_level = 3,		/* 1 GiB pages: CPUID.80000001H:EDX[26] */
	.addr_mask = X86_PTE_ADDR,
	.present = pt_x86_present,
	.is_leaf = pt_x86_is_leaf,
	.make_table = pt_x86_make_table,
	.make_leaf = pt_x86_make_leaf,
	.leaf_flags = pt_x86_leaf_flags,
};

const struct pt_format pt_format_x86_host_2m = {
	.name = "x86-64 4-level, 2 MiB pages",
	.levels = 4,
	.max_leaf_level = 2,
	.addr_mask = X86_PTE_ADDR,
	.present = pt_x86_present,
	.is_leaf = pt_x86_is_leaf,
	.make_table = pt_x86_make_table,
	.make_leaf = pt_x86_make_leaf,
	.leaf_flags = pt_x86_leaf_flags,
};
