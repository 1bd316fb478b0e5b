/*
 * hv-efi-loader: placing the hypervisor at its fixed physical address, and
 * the final jump.
 *
 * The normal case is AllocatePages(AllocateAddress) at the page-rounded
 * segment range.  That fails when the firmware itself still uses the range
 * during boot services: OVMF, for one, decompresses its DXE firmware volume
 * to 0x900000-0x1500000 (EfiBootServicesData), right where a kernel linked
 * at 16 MiB wants to be.  Boot-services memory is free again once
 * ExitBootServices() has returned (UEFI 2.10 section 7.2, table 7-6), so,
 * like GRUB's relocator, we then "defer" the range:
 *
 *   before ExitBootServices()
 *     - the range must consist only of EfiConventionalMemory and
 *       EfiBootServicesCode/Data, and must not hold the live page tables,
 *       GDT or IDT (the CPU keeps using those until the hypervisor loads
 *       its own);
 *     - its free pages are allocated (EfiLoaderCode) so that none of our
 *       later allocations (modules, boot info, staging) can land inside;
 *     - the segments are loaded into a staging buffer instead;
 *   after ExitBootServices()
 *     - any no-execute bit on the range is cleared in the firmware's page
 *       tables (EDK2 may map boot-services data NX);
 *     - the handover code copies staging -> final address using registers
 *       only (the firmware stack itself may be in the overwritten range) and
 *       jumps to the entry.
 */
#include "loader.h"

#define LD_PTE_P       (1ull << 0)
#define LD_PTE_PS      (1ull << 7)
#define LD_PTE_XD      (1ull << 63)
#define LD_PTE_ADDR    0x000ffffffffff000ull
#define LD_CR0_WP      (1ull << 16)
#define LD_CR4_PGE     (1ull << 7)
#define LD_CR4_LA57    (1ull << 12)

struct ld_desc_table {
	UINT16 limit;
	UINT64 base;
} __attribute__((packed));

static UINT64 ld_read_cr0(void)
{
	UINT64 v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static UINT64 ld_read_cr3(void)
{
	UINT64 v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static UINT64 ld_read_cr4(void)
{
	UINT64 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void ld_write_cr0(UINT64 v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static void ld_write_cr3(UINT64 v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static void ld_write_cr4(UINT64 v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static BOOLEAN ld_overlaps(UINT64 a, UINT64 alen, UINT64 start, UINT64 end)
{
	return a < end && start < a + alen;
}

/* 4-level paging, or 5-level when CR4.LA57 is set (Intel SDM vol. 3, 4.5). */
static int ld_pt_levels(void)
{
	return (ld_read_cr4() & LD_CR4_LA57) ? 5 : 4;
}

/*
 * Find a paging-structure page inside [start, end).  Paging structures are
 * reached through identity-mapped physical addresses (UEFI 2.10 2.3.4).
 * Levels 3 and 2 may map 1 GiB / 2 MiB pages (PS); level 1 is always leaf.
 */
static BOOLEAN ld_pt_in_range(UINT64 table, int level, UINT64 start,
			      UINT64 end, UINT64 *hit)
{
	const UINT64 *t = (const UINT64 *)(UINTN)table;

	if (ld_overlaps(table, LD_PAGE_SIZE, start, end)) {
		*hit = table;
		return TRUE;
	}
	if (level == 1)
		return FALSE;
	for (UINTN i = 0; i < 512; i++) {
		UINT64 e = t[i];

		if (!(e & LD_PTE_P))
			continue;
		if (level <= 3 && (e & LD_PTE_PS))
			continue;	/* large page: no table below */
		if (ld_pt_in_range(e & LD_PTE_ADDR, level - 1, start, end, hit))
			return TRUE;
	}
	return FALSE;
}

/* The CPU state that must survive the copy into [start, end). */
static const CHAR16 *ld_cpu_state_in_range(UINT64 start, UINT64 end,
					   UINT64 *hit)
{
	struct ld_desc_table gdt, idt;

	__asm__ volatile("sgdt %0" : "=m"(gdt));
	__asm__ volatile("sidt %0" : "=m"(idt));
	if (ld_overlaps(gdt.base, (UINT64)gdt.limit + 1, start, end)) {
		*hit = gdt.base;
		return L"holds the firmware's GDT";
	}
	if (ld_overlaps(idt.base, (UINT64)idt.limit + 1, start, end)) {
		*hit = idt.base;
		return L"holds the firmware's IDT";
	}
	if (ld_pt_in_range(ld_read_cr3() & LD_PTE_ADDR, ld_pt_levels(), start,
			   end, hit))
		return L"holds the firmware's page tables";
	return NULL;
}

/* Memory that is free or reusable after ExitBootServices(), or ours. */
static BOOLEAN ld_deferrable(UINT32 type, UINT64 s, UINT64 e)
{
	if (type == EfiConventionalMemory || type == EfiBootServicesCode ||
	    type == EfiBootServicesData)
		return TRUE;
	return type == EfiLoaderCode && ld_owns(s, e);	/* reserved by us */
}

/* Reason buffer for the one error line ld_place_range() prints. */
#define LD_WHY_CHARS 96

static const CHAR16 *ld_efi_type_name(UINT32 type)
{
	static const CHAR16 *const names[] = {
		L"EfiReservedMemoryType", L"EfiLoaderCode", L"EfiLoaderData",
		L"EfiBootServicesCode", L"EfiBootServicesData",
		L"EfiRuntimeServicesCode", L"EfiRuntimeServicesData",
		L"EfiConventionalMemory", L"EfiUnusableMemory",
		L"EfiACPIReclaimMemory", L"EfiACPIMemoryNVS",
		L"EfiMemoryMappedIO", L"EfiMemoryMappedIOPortSpace",
		L"EfiPalCode", L"EfiPersistentMemory", L"EfiUnacceptedMemory",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] :
	       L"an unknown memory type";
}

/*
 * One pass over the current memory map: check that [start, end) is fully
 * covered by deferrable memory, and allocate its free pieces.  *reserved
 * tells whether anything was allocated (the map changed: check again).
 */
static EFI_STATUS ld_defer_pass(UINT64 start, UINT64 end, BOOLEAN *reserved,
				CHAR16 *why)
{
	EFI_MEMORY_DESCRIPTOR *map;
	UINTN n, key, dsize;
	UINT32 dver;
	UINT64 covered = 0;
	EFI_STATUS st = EFI_SUCCESS;

	*reserved = FALSE;
	map = LibMemoryMap(&n, &key, &dsize, &dver);	/* pool copy */
	if (!map) {
		UnicodeSPrint(why, LD_WHY_CHARS * sizeof(CHAR16),
			      L"cannot read the memory map");
		return EFI_OUT_OF_RESOURCES;
	}
	for (UINTN i = 0; i < n && !EFI_ERROR(st); i++) {
		EFI_MEMORY_DESCRIPTOR *d =
			(EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * dsize);
		UINT64 ds = d->PhysicalStart;
		UINT64 de = ds + d->NumberOfPages * EFI_PAGE_SIZE;
		UINT64 s = ds > start ? ds : start;
		UINT64 e = de < end ? de : end;

		if (s >= e)
			continue;
		covered += e - s;
		if (!ld_deferrable(d->Type, s, e)) {
			UnicodeSPrint(why, LD_WHY_CHARS * sizeof(CHAR16),
				      L"0x%lx is %s", s,
				      ld_efi_type_name(d->Type));
			st = EFI_NOT_FOUND;
		} else if (d->Type == EfiConventionalMemory) {
			EFI_PHYSICAL_ADDRESS a = s;

			st = ld_alloc_pages(AllocateAddress, EfiLoaderCode,
					    (e - s) / LD_PAGE_SIZE, &a);
			if (EFI_ERROR(st))
				UnicodeSPrint(why, LD_WHY_CHARS * sizeof(CHAR16),
					      L"free pages at 0x%lx could not "
					      L"be reserved", s);
			*reserved = TRUE;
		}
	}
	FreePool(map);
	if (!EFI_ERROR(st) && covered != end - start) {
		UnicodeSPrint(why, LD_WHY_CHARS * sizeof(CHAR16),
			      L"the range is not all RAM");
		st = EFI_NOT_FOUND;
	}
	return st;
}

/*
 * [start, end) could not be allocated: make sure it can be written after
 * ExitBootServices() and keep our own allocations out of it.
 */
static EFI_STATUS ld_defer_range(UINT64 start, UINT64 end, CHAR16 *why)
{
	BOOLEAN reserved = TRUE;
	EFI_STATUS st = EFI_SUCCESS;
	UINT64 hit = start;
	const CHAR16 *cpu = ld_cpu_state_in_range(start, end, &hit);

	if (cpu) {
		UnicodeSPrint(why, LD_WHY_CHARS * sizeof(CHAR16), L"0x%lx %s",
			      hit, cpu);
		return EFI_ACCESS_DENIED;
	}
	/* Reserving pages may make the firmware allocate memory-map
	 * bookkeeping (boot-services data): repeat until nothing changes. */
	for (int pass = 0; reserved && pass < 8; pass++) {
		st = ld_defer_pass(start, end, &reserved, why);
		if (EFI_ERROR(st))
			return st;
	}
	if (reserved) {
		UnicodeSPrint(why, LD_WHY_CHARS * sizeof(CHAR16),
			      L"the memory map keeps changing");
		return EFI_NOT_READY;
	}
	return EFI_SUCCESS;
}

EFI_STATUS ld_place_range(const CHAR16 *path, UINT64 start, UINT64 end,
			  struct ld_image *img, UINT8 **where)
{
	EFI_PHYSICAL_ADDRESS addr = start;
	UINT64 pages = (end - start) / LD_PAGE_SIZE;
	CHAR16 why[LD_WHY_CHARS];
	struct ld_move *mv;
	EFI_STATUS st, st2;

	st = ld_alloc_pages(AllocateAddress, LD_IMAGE_MEMTYPE, pages, &addr);
	if (!EFI_ERROR(st)) {
		*where = (UINT8 *)(UINTN)start;
		return EFI_SUCCESS;
	}

	why[0] = 0;
	st2 = ld_defer_range(start, end, why);
	if (EFI_ERROR(st2)) {
		Print(L"hv-efi: %s: cannot allocate physical range [0x%lx, "
		      L"0x%lx): %r (%s)\n", path, start, end, st, why);
		return st2;
	}

	st2 = ld_alloc_pages(AllocateAnyPages, EfiLoaderData, pages, &addr);
	if (EFI_ERROR(st2)) {
		Print(L"hv-efi: %s: no memory to stage [0x%lx, 0x%lx): %r\n",
		      path, start, end, st2);
		return st2;
	}
	ld_memset((void *)(UINTN)addr, 0, pages * LD_PAGE_SIZE);
	mv = &img->moves[img->nmoves++];
	mv->dst = start;
	mv->src = addr;
	mv->len = end - start;
	*where = (UINT8 *)(UINTN)addr;
	Print(L"hv-efi: [0x%lx, 0x%lx) is in use by the firmware until "
	      L"ExitBootServices; staged at 0x%lx\n", start, end, addr);
	return EFI_SUCCESS;
}

/*
 * After ExitBootServices(): clear XD on every paging-structure entry on the
 * way to the deferred ranges (XD at any level forbids execution, Intel SDM
 * vol. 3, 4.6.2).  The tables may be write-protected, hence CR0.WP; the
 * TLB is flushed through CR4.PGE (also drops global entries) and CR3.
 */
void ld_place_finish(const struct ld_image *img)
{
	UINT64 cr0 = ld_read_cr0(), cr4 = ld_read_cr4();
	int levels = ld_pt_levels();

	if (img->nmoves == 0)
		return;
	ld_write_cr0(cr0 & ~LD_CR0_WP);
	for (UINTN m = 0; m < img->nmoves; m++) {
		UINT64 va = img->moves[m].dst;
		UINT64 end = va + img->moves[m].len;

		while (va < end) {
			UINT64 *t = (UINT64 *)(UINTN)(ld_read_cr3() &
						      LD_PTE_ADDR);
			UINT64 step = LD_PAGE_SIZE;

			for (int level = levels; level >= 1; level--) {
				UINT64 *e = &t[(va >> (12 + 9 * (level - 1))) &
					       511];

				if (!(*e & LD_PTE_P))
					break;	/* not mapped: nothing to do */
				if (*e & LD_PTE_XD)
					*e &= ~LD_PTE_XD;
				if (level == 1 || (level <= 3 && (*e & LD_PTE_PS))) {
					step = 1ull << (12 + 9 * (level - 1));
					break;
				}
				t = (UINT64 *)(UINTN)(*e & LD_PTE_ADDR);
			}
			va = (va & ~(step - 1)) + step;
		}
	}
	ld_write_cr0(cr0);
	if (cr4 & LD_CR4_PGE) {
		ld_write_cr4(cr4 & ~LD_CR4_PGE);
		ld_write_cr4(cr4);
	}
	ld_write_cr3(ld_read_cr3());
}

/*
 * The jump.  Everything the code needs is loaded into registers first,
 * because the copy may overwrite the firmware stack this function runs on.
 * At the hypervisor's entry: long mode, firmware page tables (identity
 * mapped), firmware GDT/CS, IF = 0, DF = 0, RDI = MB2_BOOTLOADER_MAGIC,
 * RSI = boot information, RSP = somewhere in firmware memory (unusable).
 */
static struct {
	UINT64 entry;
	UINT64 info;
	UINT64 moves;		/* const struct ld_move * */
	UINT64 nmoves;
} ld_jump_block;

void ld_handover(const struct ld_image *img, UINT64 info)
{
	ld_jump_block.entry = img->entry;
	ld_jump_block.info = info;
	ld_jump_block.moves = (UINT64)(UINTN)img->moves;
	ld_jump_block.nmoves = img->nmoves;

	__asm__ volatile(
		"cli\n\t"
		"cld\n\t"
		"mov 0(%%rax), %%r10\n\t"	/* entry */
		"mov 8(%%rax), %%r11\n\t"	/* info */
		"mov 16(%%rax), %%r8\n\t"	/* moves */
		"mov 24(%%rax), %%r9\n\t"	/* nmoves */
		"test %%r9, %%r9\n\t"
		"jz 2f\n"
		"1:\n\t"
		"mov 0(%%r8), %%rdi\n\t"	/* dst */
		"mov 8(%%r8), %%rsi\n\t"	/* src */
		"mov 16(%%r8), %%rcx\n\t"	/* len */
		"rep movsb\n\t"
		"add $24, %%r8\n\t"
		"dec %%r9\n\t"
		"jnz 1b\n"
		"2:\n\t"
		"mov %[magic], %%edi\n\t"
		"mov %%r11, %%rsi\n\t"
		"jmp *%%r10\n\t"
		:
		: "a"(&ld_jump_block), [magic] "i"(MB2_BOOTLOADER_MAGIC)
		: "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11", "memory");
	__builtin_unreachable();
}
