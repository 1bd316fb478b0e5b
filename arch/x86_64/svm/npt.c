/*
 * The nested page table format (AMD APM Vol. 2 15.25): the same 4-level
 * layout as long-mode paging, walked with the host's EFER.NXE. Guest
 * accesses are checked as user accesses (15.25.5), so every entry, tables
 * included, carries U/S.
 */
#include "arch/x86_64/svm/svm.h"

#define NPT_P   (1ull << 0)
#define NPT_RW  (1ull << 1)
#define NPT_US  (1ull << 2)
#define NPT_PWT (1ull << 3)
#define NPT_PCD (1ull << 4)
#define NPT_PS  (1ull << 7)
#define NPT_XD  (1ull << 63)
#define NPT_ADDR 0x000ffffffffff000ull

static bool npt_present(uint64_t pte) { return pte & NPT_P; }

static bool npt_is_leaf(uint64_t pte, unsigned level)
{
	return (level == 2 || level == 3) && (pte & NPT_PS);
}

static uint64_t npt_make_table(uint64_t table_phys, unsigned level)
{
	(void)level;
	return (table_phys & NPT_ADDR) | NPT_P | NPT_RW | NPT_US;
}

static uint64_t npt_make_leaf(uint64_t phys, unsigned level, unsigned flags)
{
	uint64_t pte = (phys & NPT_ADDR) | NPT_P | NPT_US;

	if (flags & PT_WRITE)
		pte |= NPT_RW;
	if (!(flags & PT_EXEC))
		pte |= NPT_XD;
	if (flags & PT_UC)
		pte |= NPT_PCD | NPT_PWT;
	if (level > 1)
		pte |= NPT_PS;
	return pte;
}

static unsigned npt_leaf_flags(uint64_t pte, unsigned level)
{
	unsigned flags = PT_READ | PT_USER;

	(void)level;
	if (pte & NPT_RW)
		flags |= PT_WRITE;
	if (!(pte & NPT_XD))
		flags |= PT_EXEC;
	if (pte & NPT_PCD)
		flags |= PT_UC;
	return flags;
}

#define NPT_FORMAT(max_leaf)                          \
	{                                             \
		.name = "npt",                        \
		.levels = 4,                          \
		.max_leaf_level = (max_leaf),         \
		.addr_mask = NPT_ADDR,                \
		.present = npt_present,               \
		.is_leaf = npt_is_leaf,               \
		.make_table = npt_make_table,         \
		.make_leaf = npt_make_leaf,           \
		.leaf_flags = npt_leaf_flags,         \
	}

const struct pt_format pt_format_npt = NPT_FORMAT(3);
const struct pt_format pt_format_npt_2m = NPT_FORMAT(2);
