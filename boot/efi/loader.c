/*
 * hv-efi-loader (BOOTX64.EFI): boot the hypervisor from a UEFI ESP.
 *
 *   1. open the volume we were started from,
 *   2. load \hv\hv.elf at its physical addresses (or stage it, if the
 *      firmware occupies them until ExitBootServices: see ld_place.c),
 *   3. load \hv\cmdline.txt, \hv\modules.txt and the modules (below 4 GiB),
 *   4. find the ACPI RSDP and (if any) the GOP framebuffer,
 *   5. allocate the memory-map and Multiboot2 buffers, write the early tags,
 *   6. GetMemoryMap + ExitBootServices (retrying on a stale map key),
 *   7. add the memory-map tags, copy staged ranges into place and jump to
 *      the ELF entry with RDI = MB2_BOOTLOADER_MAGIC, RSI = physical
 *      address of the mb2 info (see README.md for the full contract).
 *
 * Any failure before step 6 prints one "hv-efi: ..." line, frees what was
 * allocated and returns an error so the boot manager tries the next option.
 */
#include "loader.h"

/* ------------------------------------------------------------- ACPI */

/* RSDP layout, ACPI 6.5 section 5.2.5.3. */
struct ld_acpi_rsdp {
	char signature[8];	/* "RSD PTR " */
	UINT8 checksum;		/* over the first 20 bytes */
	char oem_id[6];
	UINT8 revision;		/* 0: ACPI 1.0 (20 bytes), >= 2: 36+ bytes */
	UINT32 rsdt_address;
	UINT32 length;		/* revision >= 2 only */
	UINT64 xsdt_address;
	UINT8 extended_checksum;
	UINT8 reserved[3];
} __attribute__((packed));

_Static_assert(sizeof(struct ld_acpi_rsdp) == 36, "RSDP layout");

#define LD_RSDP_V1_LEN 20

static BOOLEAN ld_guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	const UINT8 *x = (const UINT8 *)a, *y = (const UINT8 *)b;

	for (UINTN i = 0; i < sizeof(EFI_GUID); i++)
		if (x[i] != y[i])
			return FALSE;
	return TRUE;
}

static BOOLEAN ld_rsdp_sig_ok(const struct ld_acpi_rsdp *r)
{
	static const char sig[8] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' };

	for (UINTN i = 0; i < 8; i++)
		if (r->signature[i] != sig[i])
			return FALSE;
	return TRUE;
}

static BOOLEAN ld_sum_ok(const void *p, UINTN len)
{
	const UINT8 *b = p;
	UINT8 sum = 0;

	while (len--)
		sum += *b++;
	return sum == 0;
}

/*
 * The RSDP is published in the EFI configuration table (UEFI 2.10 section
 * 4.6) under EFI_ACPI_20_TABLE_GUID and/or ACPI_TABLE_GUID; prefer 2.0.
 */
void ld_find_rsdp(EFI_SYSTEM_TABLE *st, struct ld_rsdp *rsdp)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	const struct ld_acpi_rsdp *v2 = NULL, *v1 = NULL;

	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *ct = &st->ConfigurationTable[i];

		if (ld_guid_eq(&ct->VendorGuid, &acpi20))
			v2 = ct->VendorTable;
		else if (ld_guid_eq(&ct->VendorGuid, &acpi10))
			v1 = ct->VendorTable;
	}

	rsdp->ptr = NULL;
	if (v2 && ld_rsdp_sig_ok(v2) && v2->revision >= 2 &&
	    v2->length >= sizeof(*v2) && v2->length <= 4096) {
		rsdp->ptr = v2;
		rsdp->len = v2->length;
		rsdp->v2 = TRUE;
	} else if (v1 || v2) {
		const struct ld_acpi_rsdp *r = v1 ? v1 : v2;

		if (ld_rsdp_sig_ok(r)) {
			rsdp->ptr = r;
			rsdp->len = LD_RSDP_V1_LEN;
			rsdp->v2 = FALSE;
		}
	}

	if (!rsdp->ptr) {
		Print(L"hv-efi: ACPI RSDP not found\n");
		return;
	}
	Print(L"hv-efi: ACPI %a RSDP at 0x%lx (revision %d, %d bytes)\n",
	      rsdp->v2 ? "2.0+" : "1.0", (UINT64)(UINTN)rsdp->ptr,
	      (INTN)((const struct ld_acpi_rsdp *)rsdp->ptr)->revision,
	      (INTN)rsdp->len);
	if (!ld_sum_ok(rsdp->ptr, LD_RSDP_V1_LEN))
		Print(L"hv-efi: warning: RSDP checksum is wrong\n");
}

/* ------------------------------------------------------- framebuffer */

static void ld_mask_info(UINT32 mask, UINT8 *pos, UINT8 *size)
{
	UINT8 p = 0, s = 0;

	if (mask) {
		while (!(mask & 1)) {
			mask >>= 1;
			p++;
		}
		while (mask & 1) {
			mask >>= 1;
			s++;
		}
	}
	*pos = p;
	*size = s;
}

/*
 * Current GOP mode (UEFI 2.10 section 12.9).  Linear framebuffers only:
 * PixelBltOnly has none, and we never change the mode.
 */
void ld_find_framebuffer(struct ld_fb *fb)
{
	EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi;
	EFI_STATUS st;

	fb->present = FALSE;
	st = uefi_call_wrapper(BS->LocateProtocol, 3, &gop_guid, NULL,
			       (void **)&gop);
	if (EFI_ERROR(st) || !gop || !gop->Mode || !gop->Mode->Info) {
		Print(L"hv-efi: no GOP framebuffer\n");
		return;
	}
	mi = gop->Mode->Info;

	switch (mi->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:	/* byte 0 = red */
		fb->red_pos = 0;
		fb->green_pos = 8;
		fb->blue_pos = 16;
		fb->red_size = fb->green_size = fb->blue_size = 8;
		fb->bpp = 32;
		break;
	case PixelBlueGreenRedReserved8BitPerColor:	/* byte 0 = blue */
		fb->blue_pos = 0;
		fb->green_pos = 8;
		fb->red_pos = 16;
		fb->red_size = fb->green_size = fb->blue_size = 8;
		fb->bpp = 32;
		break;
	case PixelBitMask: {
		EFI_PIXEL_BITMASK *m = &mi->PixelInformation;
		UINT32 all = m->RedMask | m->GreenMask | m->BlueMask |
			     m->ReservedMask;
		UINT8 top = 0;

		ld_mask_info(m->RedMask, &fb->red_pos, &fb->red_size);
		ld_mask_info(m->GreenMask, &fb->green_pos, &fb->green_size);
		ld_mask_info(m->BlueMask, &fb->blue_pos, &fb->blue_size);
		while (all) {
			all >>= 1;
			top++;
		}
		fb->bpp = (UINT8)((top + 7) & ~7);
		break;
	}
	default:
		Print(L"hv-efi: GOP has no linear framebuffer\n");
		return;
	}
	if (fb->bpp == 0)
		return;

	fb->addr = gop->Mode->FrameBufferBase;
	fb->width = mi->HorizontalResolution;
	fb->height = mi->VerticalResolution;
	fb->pitch = mi->PixelsPerScanLine * (fb->bpp / 8);
	fb->present = TRUE;
	Print(L"hv-efi: framebuffer %dx%dx%d at 0x%lx\n", (INTN)fb->width,
	      (INTN)fb->height, (INTN)fb->bpp, fb->addr);
}

/* ------------------------------------------- memory map and handover */

/*
 * Size the map once and allocate its buffer with slack: the allocations
 * made from here on (this buffer, the mb2 buffer) can split descriptors,
 * and nothing may be allocated once the final map has been taken.
 */
static EFI_STATUS ld_memmap_alloc(struct ld_memmap *mm)
{
	EFI_MEMORY_DESCRIPTOR probe;
	EFI_PHYSICAL_ADDRESS addr;
	UINTN size = 0, key = 0, dsize = 0;
	UINT32 dver = 0;
	UINT64 pages;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->GetMemoryMap, 5, &size, &probe, &key,
			       &dsize, &dver);
	if (st != EFI_BUFFER_TOO_SMALL && EFI_ERROR(st)) {
		Print(L"hv-efi: GetMemoryMap failed: %r\n", st);
		return st;
	}
	if (dsize < sizeof(EFI_MEMORY_DESCRIPTOR)) {
		Print(L"hv-efi: GetMemoryMap: bad descriptor size %d\n",
		      (INTN)dsize);
		return EFI_UNSUPPORTED;
	}
	pages = ld_pages(size + 32 * dsize);
	st = ld_alloc_pages(AllocateAnyPages, EfiLoaderData, pages, &addr);
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: no memory for the memory map: %r\n", st);
		return st;
	}
	mm->buf = (EFI_MEMORY_DESCRIPTOR *)(UINTN)addr;
	mm->capacity = pages * LD_PAGE_SIZE;
	mm->size = 0;
	mm->desc_size = dsize;
	mm->desc_version = dver;
	return EFI_SUCCESS;
}

/*
 * UEFI 2.10 section 7.4.6: ExitBootServices() fails with
 * EFI_INVALID_PARAMETER if the map key is stale; the loader must then call
 * GetMemoryMap() again (and nothing else: the firmware may already have
 * shut part of itself down) and retry.
 */
static EFI_STATUS ld_exit_boot_services(EFI_HANDLE image,
					struct ld_memmap *mm)
{
	EFI_STATUS st = EFI_SUCCESS;

	for (int attempt = 0; attempt < 8; attempt++) {
		mm->size = mm->capacity;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &mm->size, mm->buf,
				       &mm->key, &mm->desc_size,
				       &mm->desc_version);
		if (EFI_ERROR(st))
			return st;
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image,
				       mm->key);
		if (st != EFI_INVALID_PARAMETER)
			return st;	/* success, or a hard failure */
	}
	return st;
}

/* --------------------------------------------------------------- main */

/* Big (64 modules, 64 moves): keep them off the firmware stack. */
static struct ld_config ld_cfg;
static struct ld_image ld_img;
static BOOLEAN ld_ebs_failed;	/* boot services may be partly shut down */

static EFI_STATUS ld_boot(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct ld_rsdp rsdp;
	struct ld_fb fb;
	struct ld_memmap mm;
	struct ld_mb2 mb;
	EFI_PHYSICAL_ADDRESS info;
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	st = ld_open_boot_root(image, &root);
	if (EFI_ERROR(st))
		return st;

	st = ld_elf_load(root, LD_HV_ELF, &ld_img);
	if (EFI_ERROR(st))
		goto close;
	Print(L"hv-efi: loaded %s at [0x%lx, 0x%lx), entry 0x%lx\n",
	      LD_HV_ELF, ld_img.load_base, ld_img.load_end, ld_img.entry);

	st = ld_config_load(root, &ld_cfg);
	if (EFI_ERROR(st))
		goto close;
	Print(L"hv-efi: cmdline \"%a\"\n", ld_cfg.cmdline);
	Print(L"hv-efi: %d module(s)\n", (INTN)ld_cfg.nmodules);

	ld_find_rsdp(systab, &rsdp);
	ld_find_framebuffer(&fb);

	st = ld_memmap_alloc(&mm);
	if (EFI_ERROR(st))
		goto close;
	mb.capacity = ld_mb2_size(&ld_cfg, &rsdp, &fb, &mm);
	st = ld_alloc_low(mb.capacity, &info);
	if (EFI_ERROR(st)) {
		Print(L"hv-efi: no memory below 4 GiB for the boot "
		      L"information (%ld bytes): %r\n", (UINT64)mb.capacity,
		      st);
		goto close;
	}
	mb.base = (UINT8 *)(UINTN)info;
	ld_mb2_begin(&mb, &ld_cfg, &rsdp, &fb, &ld_img, systab);

	Print(L"hv-efi: boot information at 0x%lx; exiting boot services "
	      L"and jumping to 0x%lx\n", info, ld_img.entry);
	uefi_call_wrapper(root->Close, 1, root);

	/* From here on: no Print, no allocation, nothing but GetMemoryMap. */
	st = ld_exit_boot_services(image, &mm);
	if (EFI_ERROR(st)) {
		/* GetMemoryMap or every ExitBootServices attempt failed. */
		/* Boot services may be half gone; printing is a last resort. */
		ld_ebs_failed = TRUE;
		Print(L"hv-efi: ExitBootServices failed: %r\n", st);
		return st;
	}

	ld_mb2_finish(&mb, &mm);
	ld_place_finish(&ld_img);
	ld_handover(&ld_img, info);

close:
	uefi_call_wrapper(root->Close, 1, root);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_STATUS st;

	InitializeLib(image, systab);
	Print(L"hv-efi: %a starting\n", MB2_LOADER_NAME_HV_EFI);

	st = ld_boot(image, systab);
	/* Only reached on failure, which ld_boot() has already reported:
	 * give memory back and let the boot manager try the next option. */
	if (!ld_ebs_failed)
		ld_free_all();
	return EFI_ERROR(st) ? st : EFI_LOAD_ERROR;
}
