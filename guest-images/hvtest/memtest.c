/*
 * memory-rw: write every 32-bit word of the available RAM below 4 GiB
 * (except our own pages), then read it all back. Two passes, a pattern
 * and its complement, so every bit is seen at 0 and at 1. The pattern is
 * a bijection of the address (a*K + C, K odd), so two addresses that
 * alias the same cell cannot both read back right.
 */
#include "guest-images/hvtest/hvtest.h"

#define FOUR_GIB     0x100000000ull
#define MAX_RESERVED 2

static uint64_t page_down(uint64_t v)
{
	return v & ~(uint64_t)(PAGE_SIZE - 1);
}

static uint64_t page_up(uint64_t v)
{
	return page_down(v + PAGE_SIZE - 1);
}

/* Sorted by start: the image (text, data, bss with stack and page tables) and the info block. */
size_t reserved_ranges(const struct boot_info *bi, struct range *out, size_t cap)
{
	size_t n = 0;

	if (cap < MAX_RESERVED)
		return 0;
	out[n++] = (struct range){ page_down((uintptr_t)__image_start), page_up((uintptr_t)__image_end) };
	if (bi->valid)
		out[n++] = (struct range){ page_down(bi->addr), page_up((uint64_t)bi->addr + bi->size) };
	if (n == 2 && out[1].start < out[0].start) {
		struct range t = out[0];
		out[0] = out[1];
		out[1] = t;
	}
	return n;
}

static bool in_available(const struct boot_info *bi, uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; bi->mmap && i < bi->mmap_count; i++) {
		const struct mb2_mmap_entry *e = mmap_entry(bi, i);
		if (e->type == MB2_MEM_AVAILABLE && start >= e->addr && end <= e->addr + e->len)
			return true;
	}
	return false;
}

/* The 4 KiB page at addr is available RAM and none of ours. */
bool page_is_free(const struct boot_info *bi, uint64_t addr)
{
	struct range res[MAX_RESERVED];
	size_t n = reserved_ranges(bi, res, MAX_RESERVED);

	if (!in_available(bi, addr, addr + PAGE_SIZE))
		return false;
	for (size_t i = 0; i < n; i++)
		if (addr < res[i].end && addr + PAGE_SIZE > res[i].start)
			return false;
	return true;
}

static uint32_t pattern(uint32_t addr, uint32_t invert)
{
	return (addr * 0x9e3779b1u + 0x5a5a5a5au) ^ invert;
}

struct mismatch {
	bool found;
	uint32_t addr, expected, got;
};

enum op { OP_FILL, OP_VERIFY };

/* One operation over [start, end), both 4-byte aligned and below 4 GiB. */
static void walk_words(uint64_t start, uint64_t end, enum op op, uint32_t invert, struct mismatch *bad)
{
	uint32_t n = (uint32_t)((end - start) >> 2);
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)start;
	uint32_t a = (uint32_t)start;

	if (op == OP_FILL) {
		for (; n; n--, p++, a += 4)
			*p = pattern(a, invert);
		return;
	}
	for (; n; n--, p++, a += 4) {
		uint32_t got = *p;
		if (got != pattern(a, invert) && !bad->found)
			*bad = (struct mismatch){ true, a, pattern(a, invert), got };
	}
}

/* Apply op to [start, end) minus the reserved ranges; returns bytes covered. */
static uint64_t walk_region(uint64_t start, uint64_t end, const struct range *res, size_t nres,
			    enum op op, uint32_t invert, struct mismatch *bad)
{
	uint64_t cur = (start + 3) & ~3ull, bytes = 0;

	end &= ~3ull;
	for (size_t i = 0; i <= nres && cur < end; i++) {
		uint64_t stop = i < nres ? res[i].start : end;
		if (stop > end)
			stop = end;
		if (stop > cur) {
			walk_words(cur, stop, op, invert, bad);
			bytes += stop - cur;
		}
		if (i < nres && res[i].end > cur)
			cur = res[i].end;
	}
	return bytes;
}

static uint64_t walk_all(const struct boot_info *bi, enum op op, uint32_t invert, struct mismatch *bad)
{
	struct range res[MAX_RESERVED];
	size_t nres = reserved_ranges(bi, res, MAX_RESERVED);
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct mb2_mmap_entry *e = mmap_entry(bi, i);
		uint64_t end = e->addr + e->len;
		if (e->type != MB2_MEM_AVAILABLE || e->addr >= FOUR_GIB)
			continue;
		bytes += walk_region(e->addr, end > FOUR_GIB ? FOUR_GIB : end, res, nres, op,
				     invert, bad);
	}
	return bytes;
}

void check_memory_rw(const struct boot_info *bi)
{
	static const uint32_t inverts[] = { 0, 0xffffffffu };
	struct mismatch bad = { 0 };
	uint64_t bytes = 0;

	if (!bi->valid || !bi->mmap) {
		fail("no memory map to test");
		return;
	}
	for (size_t i = 0; i < sizeof(inverts) / sizeof(inverts[0]) && !bad.found; i++) {
		bytes = walk_all(bi, OP_FILL, inverts[i], &bad);
		walk_all(bi, OP_VERIFY, inverts[i], &bad);
	}
	if (bad.found)
		fail("word at 0x%x read 0x%08x, wrote 0x%08x", bad.addr, bad.got, bad.expected);
	else if (bytes == 0)
		fail("no available RAM outside the image and the info block");
	else
		pass("(%u MiB)", (uint32_t)(bytes >> 20));
}
