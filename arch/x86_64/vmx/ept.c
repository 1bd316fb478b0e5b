/*
 * The EPT format (Intel SDM Vol. 3C 29.3.2, tables 29-2..29-6): bits 0-2
 * read/write/execute (an entry with none of them is not present), bits 3-5
 * the memory type of a leaf, bit 7 a large leaf. No access/dirty flags.
 */
#include "arch/x86_64/vmx/vmx.h"

#define EPT_R    (1ull << 0)
#define EPT_W    (1ull << 1)
#define EPT_X    (1ull << 2)
#define EPT_RWX  (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK  (7ull << EPT_MT_SHIFT)
#define EPT_MT_UC 0ull
#define EPT_MT_WB 6ull
#define EPT_LARGE (1ull << 7)
#define EPT_ADDR 0x000ffffffffff000ull

static bool ept_present(uint64_t pte) { return pte & EPT_RWX; }

static bool ept_is_leaf(uint64_t pte, unsigned level)
{
	return (level == 2 || level == 3) && (pte & EPT_LARGE);
}

static uint64_t ept_make_table(uint64_t table_phys, unsigned level)
{
	(void)level;
	return (table_phys & EPT_ADDR) | EPT_RWX;
}

/* Write-only or execute-only-without-read leaves are either
 * misconfigurations or need a CPU capability; PT_READ is always given. */
static uint64_t ept_make_leaf(uint64_t phys, unsigned level, unsigned flags)
{
	uint64_t pte = (phys & EPT_ADDR) | EPT_R;

	if (flags & PT_WRITE)
		pte |= EPT_W;
	if (flags & PT_EXEC)
		pte |= EPT_X;
	pte |= (flags & PT_UC ? EPT_MT_UC : EPT_MT_WB) << EPT_MT_SHIFT;
	if (level > 1)
		pte |= EPT_LARGE;
	return pte;
}

static unsigned ept_leaf_flags(uint64_t pte, unsigned level)
{
	unsigned flags = PT_READ | PT_USER;	/* guest accesses: user or not, alike */

	(void)level;
	if (pte & EPT_W)
		flags |= PT_WRITE;
	if (pte & EPT_X)
		flags |= PT_EXEC;
	if (((pte & EPT_MT_MASK) >> EPT_MT_SHIFT) == EPT_MT_UC)
		flags |= PT_UC;
	return flags;
}

#define EPT_FORMAT(max_leaf)                                  \
	{                                                     \
		.name = "ept",                                \
		.levels = 4,                                  \
		.max_leaf_level = (max_leaf),                 \
		.addr_mask = EPT_ADDR,                        \
		.present = ept_present,                       \
		.is_leaf = ept_is_leaf,                       \
		.make_table = ept_make_table,                 \
		.make_leaf = ept_make_leaf,                   \
		.leaf_flags = ept_leaf_flags,                 \
	}

const struct pt_format pt_format_ept = EPT_FORMAT(3);
const struct pt_format pt_format_ept_2m = EPT_FORMAT(2);
const struct pt_format pt_format_ept_4k = EPT_FORMAT(1);
