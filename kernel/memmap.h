/*
 * The physical memory map: sorted, non-overlapping regions, each with a
 * type. Built from the firmware's map (which may be unsorted, overlapping
 * or unaligned), then the hypervisor carves out what it must never hand
 * out (its image, the boot modules, the boot info).
 */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include <stdint.h>

#define MEMMAP_MAX 512
#define PAGE_SIZE  4096ull

enum mem_type {
	MEM_USABLE = 1,		/* the multiboot2 types, 1..5 */
	MEM_RESERVED = 2,
	MEM_ACPI = 3,		/* ACPI reclaimable: tables live here */
	MEM_NVS = 4,
	MEM_BAD = 5,
	MEM_HV = 6,		/* the hypervisor image */
	MEM_BOOT = 7,		/* boot modules and the boot info block */
};

struct mem_region {
	uint64_t base;
	uint64_t end;		/* exclusive */
	uint32_t type;
};

struct memmap {
	uint32_t count;
	struct mem_region r[MEMMAP_MAX];
};

void memmap_init(struct memmap *m);

/*
 * Add [base, base + len) with `type`. Where it overlaps what is there, the
 * more restrictive type wins: anything beats MEM_USABLE, and among the
 * others the higher enum value wins. Types outside 1..7 count as
 * MEM_RESERVED. Zero-length and wrapping ranges are ignored (0 returned);
 * usable ranges are shrunk inward to whole pages, and a page that any
 * other type touches is never usable (its usable rest becomes a hole), so
 * usable regions are always whole pages. Keeps the map sorted,
 * non-overlapping, with adjacent equal regions merged.
 * Returns 0 or -ENOSPC when the map is full (the map is unchanged then).
 */
int memmap_add(struct memmap *m, uint64_t base, uint64_t len, uint32_t type);

/* Like memmap_add for [base, end), rounded outward to whole pages;
 * -EINVAL (map unchanged) when end < base. */
int memmap_reserve(struct memmap *m, uint64_t base, uint64_t end, uint32_t type);

/* Bytes of memory of `type`. */
uint64_t memmap_total(const struct memmap *m, uint32_t type);

/* Highest end address of any region (0 for an empty map). */
uint64_t memmap_top(const struct memmap *m);

const char *mem_type_name(uint32_t type);

#endif
