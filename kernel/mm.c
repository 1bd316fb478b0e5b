/* Boot-time memory set-up; see mm.h. */
#include "kernel/errno.h"
#include "kernel/mm.h"
#include "kernel/palloc.h"
#include "kernel/pgtable.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"

#define LOW_MEMORY_LIMIT 0x100000ull	/* keep real-mode memory for later */

struct memmap hv_memmap;
struct palloc hv_palloc;

/* Is [base, end) RAM that the firmware called usable? Parts of it may
 * already be reserved for other boot data sharing its pages (GRUB packs
 * modules and the info block tightly). */
static bool range_is_usable(const struct memmap *m, uint64_t base, uint64_t end)
{
	for (uint32_t i = 0; i < m->count && base < end; i++) {
		const struct mem_region *r = &m->r[i];
		if (r->end <= base)
			continue;
		if (r->base > base || (r->type != MEM_USABLE && r->type != MEM_BOOT))
			return false;
		base = r->end;
	}
	return base >= end;
}

static int build_map(const struct boot_info *bi)
{
	memmap_init(&hv_memmap);
	for (uint32_t i = 0; i < bi->nmmap; i++) {
		const struct mb2_mmap_entry *e = &bi->mmap[i];
		/* Types above 5 (ACPI 6 "disabled", 7 "persistent") are not RAM we
		 * may use; they must not alias MEM_HV/MEM_BOOT either. */
		uint32_t type = e->type <= MB2_MEM_BAD ? e->type : MEM_RESERVED;
		if (memmap_add(&hv_memmap, e->addr, e->len, type)) {
			pr_err("mm: memory map has too many regions (more than %u)\n", MEMMAP_MAX);
			return trace_error(-ENOSPC);
		}
	}
	if (memmap_total(&hv_memmap, MEM_USABLE) == 0) {
		pr_err("mm: the memory map has no usable RAM\n");
		return trace_error(-ENODATA);
	}
	return 0;
}

static int reserve(uint64_t base, uint64_t end, uint32_t type, const char *what)
{
	if (!range_is_usable(&hv_memmap, base & ~(PAGE_SIZE - 1), end)) {
		pr_err("mm: %s at 0x%llx-0x%llx is not in usable RAM of the memory map\n", what,
		       (unsigned long long)base, (unsigned long long)end);
		return trace_error(-EFAULT);
	}
	if (memmap_reserve(&hv_memmap, base, end, type)) {
		pr_err("mm: memory map full while reserving the %s\n", what);
		return trace_error(-ENOSPC);
	}
	return 0;
}

int mm_init(const struct boot_info *bi)
{
	int err = build_map(bi);
	if (err)
		return err;

	err = reserve((uintptr_t)__image_start, (uintptr_t)__image_end, MEM_HV,
		      "hypervisor image");
	if (!err)
		err = reserve(bi->info_start, bi->info_end, MEM_BOOT, "boot information");
	for (uint32_t i = 0; !err && i < bi->nmodules; i++)
		if (bi->modules[i].end > bi->modules[i].start)
			err = reserve(bi->modules[i].start, bi->modules[i].end, MEM_BOOT,
				      "boot module");
	if (err)
		return err;

	for (uint32_t i = 0; i < hv_memmap.count; i++)
		pr_debug("mm: [0x%012llx-0x%012llx) %s\n",
			 (unsigned long long)hv_memmap.r[i].base,
			 (unsigned long long)hv_memmap.r[i].end, mem_type_name(hv_memmap.r[i].type));

	palloc_init(&hv_palloc, &hv_memmap, LOW_MEMORY_LIMIT);
	pr_info("mm: %llu MiB RAM, %llu MiB free for domains and the hypervisor\n",
		(unsigned long long)(mm_ram_bytes() >> 20),
		(unsigned long long)(hv_palloc.free_bytes >> 20));
	return 0;
}

uint64_t mm_ram_bytes(void)
{
	return memmap_total(&hv_memmap, MEM_USABLE) + memmap_total(&hv_memmap, MEM_HV) +
	       memmap_total(&hv_memmap, MEM_BOOT);
}

/* CPUs set up their vCPUs at the same time: one allocator, one lock. */
static struct spinlock palloc_lock = SPINLOCK_INIT;

uint64_t alloc_pages(uint64_t npages, uint64_t align, uint64_t limit)
{
	spin_lock(&palloc_lock);
	uint64_t pa = palloc_alloc(&hv_palloc, npages, align, limit);
	spin_unlock(&palloc_lock);

	if (pa)
		memset((void *)(uintptr_t)pa, 0, npages * PAGE_SIZE);	/* identity mapped */
	return pa;
}

uint64_t alloc_page(void) { return alloc_pages(1, PAGE_SIZE, 0); }

static uint64_t pt_alloc_page(void *ctx)
{
	(void)ctx;
	return alloc_page();
}

static void pt_free_page(void *ctx, uint64_t phys)
{
	(void)ctx;
	spin_lock(&palloc_lock);
	palloc_free(&hv_palloc, phys, 1);
	spin_unlock(&palloc_lock);
}

static void *pt_phys_to_virt(void *ctx, uint64_t phys)
{
	(void)ctx;
	return (void *)(uintptr_t)phys;	/* everything is identity mapped */
}

const struct pt_mem hv_pt_mem = {
	.alloc_page = pt_alloc_page,
	.free_page = pt_free_page,
	.phys_to_virt = pt_phys_to_virt,
};
