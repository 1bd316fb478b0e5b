/*
 * hv-efi-loader: build the Multiboot2 boot information (Multiboot2
 * specification 2.0, section 3.6).
 *
 * Layout: an 8-byte header (total_size, reserved) followed by tags, each
 * starting on an 8-byte boundary; a tag's size field counts its header and
 * payload but not the padding.  An END tag (type 0, size 8) closes the list.
 *
 * ld_mb2_begin() runs before ExitBootServices(); ld_mb2_finish() runs after
 * it and therefore touches nothing but memory the loader already owns.
 */
#include "loader.h"

/*
 * Framebuffer tag (spec 3.6.12), common part plus the RGB colour info.
 * boot/multiboot2.h has the tag number but no struct, so it lives here.
 */
struct ld_mb2_tag_framebuffer {
	UINT32 type;
	UINT32 size;
	UINT64 framebuffer_addr;
	UINT32 framebuffer_pitch;
	UINT32 framebuffer_width;
	UINT32 framebuffer_height;
	UINT8 framebuffer_bpp;
	UINT8 framebuffer_type;		/* 1 = direct RGB */
	UINT16 reserved;
	UINT8 red_field_position;
	UINT8 red_mask_size;
	UINT8 green_field_position;
	UINT8 green_mask_size;
	UINT8 blue_field_position;
	UINT8 blue_mask_size;
} __attribute__((packed));

_Static_assert(sizeof(struct ld_mb2_tag_framebuffer) == 38,
	       "mb2 framebuffer tag layout");

#define LD_MB2_FB_TYPE_RGB 1

static UINTN ld_align8(UINTN n)
{
	return (n + 7) & ~(UINTN)7;
}

static UINTN ld_strlen(const char *s)
{
	UINTN n = 0;

	while (s[n])
		n++;
	return n;
}

/* Reserve a tag of `size` bytes (header included); NULL if it won't fit. */
static void *ld_tag(struct ld_mb2 *mb, UINT32 type, UINTN size)
{
	struct mb2_tag *t;
	UINTN padded = ld_align8(size);

	if (padded > mb->capacity - mb->used)
		return NULL;
	t = (struct mb2_tag *)(mb->base + mb->used);
	ld_memset(t, 0, padded);
	t->type = type;
	t->size = (UINT32)size;
	mb->used += padded;
	return t;
}

static void ld_tag_string(struct ld_mb2 *mb, UINT32 type, const char *s,
			  UINTN len)
{
	struct mb2_tag_string *t;

	t = ld_tag(mb, type, sizeof(*t) + len + 1);
	if (t)
		ld_memcpy(t->string, s, len);	/* NUL from ld_tag's memset */
}

UINTN ld_mb2_size(const struct ld_config *cfg, const struct ld_rsdp *rsdp,
		  const struct ld_fb *fb, const struct ld_memmap *mm)
{
	UINTN max_desc = mm->capacity / mm->desc_size;
	UINTN n = sizeof(struct mb2_info_header);

	n += ld_align8(sizeof(struct mb2_tag_string) +
		       ld_strlen(MB2_LOADER_NAME_HV_EFI) + 1);
	n += ld_align8(sizeof(struct mb2_tag_string) + cfg->cmdline_len + 1);
	for (UINTN i = 0; i < cfg->nmodules; i++)
		n += ld_align8(sizeof(struct mb2_tag_module) +
			       cfg->modules[i].string_len + 1);
	if (rsdp->ptr)
		n += ld_align8(sizeof(struct mb2_tag_rsdp) + rsdp->len);
	n += ld_align8(sizeof(struct mb2_tag_efi64));
	n += ld_align8(sizeof(struct mb2_tag_load_base));
	if (fb->present)
		n += ld_align8(sizeof(struct ld_mb2_tag_framebuffer));
	/* MMAP: at most one entry per EFI descriptor. */
	n += sizeof(struct mb2_tag_mmap) +
	     max_desc * sizeof(struct mb2_mmap_entry);
	n += ld_align8(sizeof(struct mb2_tag_efi_mmap) + mm->capacity);
	n += sizeof(struct mb2_tag);	/* END */
	return n;
}

static void ld_tag_framebuffer(struct ld_mb2 *mb, const struct ld_fb *fb)
{
	struct ld_mb2_tag_framebuffer *t;

	t = ld_tag(mb, MB2_TAG_FRAMEBUFFER, sizeof(*t));
	if (!t)
		return;
	t->framebuffer_addr = fb->addr;
	t->framebuffer_pitch = fb->pitch;
	t->framebuffer_width = fb->width;
	t->framebuffer_height = fb->height;
	t->framebuffer_bpp = fb->bpp;
	t->framebuffer_type = LD_MB2_FB_TYPE_RGB;
	t->red_field_position = fb->red_pos;
	t->red_mask_size = fb->red_size;
	t->green_field_position = fb->green_pos;
	t->green_mask_size = fb->green_size;
	t->blue_field_position = fb->blue_pos;
	t->blue_mask_size = fb->blue_size;
}

void ld_mb2_begin(struct ld_mb2 *mb, const struct ld_config *cfg,
		  const struct ld_rsdp *rsdp, const struct ld_fb *fb,
		  const struct ld_image *img, EFI_SYSTEM_TABLE *st)
{
	struct mb2_info_header *hdr = (struct mb2_info_header *)mb->base;

	hdr->total_size = 0;		/* set by ld_mb2_finish() */
	hdr->reserved = 0;
	mb->used = sizeof(*hdr);

	ld_tag_string(mb, MB2_TAG_BOOTLOADER, MB2_LOADER_NAME_HV_EFI,
		      ld_strlen(MB2_LOADER_NAME_HV_EFI));
	ld_tag_string(mb, MB2_TAG_CMDLINE, cfg->cmdline, cfg->cmdline_len);

	for (UINTN i = 0; i < cfg->nmodules; i++) {
		const struct ld_module *m = &cfg->modules[i];
		struct mb2_tag_module *t;

		t = ld_tag(mb, MB2_TAG_MODULE,
			   sizeof(*t) + m->string_len + 1);
		if (!t)
			continue;
		t->mod_start = (UINT32)m->start;
		t->mod_end = (UINT32)(m->start + m->size);
		ld_memcpy(t->string, m->string, m->string_len);
	}

	if (rsdp->ptr) {
		struct mb2_tag_rsdp *t;

		t = ld_tag(mb, rsdp->v2 ? MB2_TAG_ACPI_NEW : MB2_TAG_ACPI_OLD,
			   sizeof(*t) + rsdp->len);
		if (t)
			ld_memcpy(t->rsdp, rsdp->ptr, rsdp->len);
	}

	struct mb2_tag_efi64 *efi = ld_tag(mb, MB2_TAG_EFI64, sizeof(*efi));
	if (efi)
		efi->pointer = (UINT64)(UINTN)st;

	struct mb2_tag_load_base *lb = ld_tag(mb, MB2_TAG_LOAD_BASE,
					      sizeof(*lb));
	if (lb)
		lb->load_base_addr = (UINT32)img->load_base;

	if (fb->present)
		ld_tag_framebuffer(mb, fb);
}

/* EFI memory type -> Multiboot2 type, as GRUB maps them. */
static UINT32 ld_mb2_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
	case EfiLoaderCode:
	case EfiLoaderData:
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return MB2_MEM_AVAILABLE;
	case EfiACPIReclaimMemory:
		return MB2_MEM_ACPI;
	case EfiACPIMemoryNVS:
		return MB2_MEM_NVS;
	case EfiUnusableMemory:
		return MB2_MEM_BAD;
	default:	/* runtime services, MMIO, reserved, PAL, persistent... */
		return MB2_MEM_RESERVED;
	}
}

static EFI_MEMORY_DESCRIPTOR *ld_desc(struct ld_memmap *mm, UINTN i)
{
	return (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)mm->buf + i * mm->desc_size);
}

/*
 * The UEFI spec does not promise an ordered map (EDK2 happens to sort it).
 * Insertion sort by adjacent byte swaps: descriptors are desc_size bytes,
 * which may exceed sizeof(EFI_MEMORY_DESCRIPTOR), and there is no allocator
 * any more.  Linear on an already sorted map.
 */
static void ld_sort_memmap(struct ld_memmap *mm)
{
	UINTN n = mm->size / mm->desc_size;

	for (UINTN i = 1; i < n; i++) {
		for (UINTN j = i; j > 0; j--) {
			UINT8 *a = (UINT8 *)ld_desc(mm, j - 1);
			UINT8 *b = (UINT8 *)ld_desc(mm, j);

			if (((EFI_MEMORY_DESCRIPTOR *)a)->PhysicalStart <=
			    ((EFI_MEMORY_DESCRIPTOR *)b)->PhysicalStart)
				break;
			for (UINTN k = 0; k < mm->desc_size; k++) {
				UINT8 t = a[k];

				a[k] = b[k];
				b[k] = t;
			}
		}
	}
}

static void ld_tag_mmap(struct ld_mb2 *mb, struct ld_memmap *mm)
{
	UINTN ndesc = mm->size / mm->desc_size, nent = 0;
	struct mb2_tag_mmap *t;

	/* Reserve the worst case, then shrink to the merged entry count. */
	t = ld_tag(mb, MB2_TAG_MMAP,
		   sizeof(*t) + ndesc * sizeof(struct mb2_mmap_entry));
	if (!t)
		return;
	mb->used -= ld_align8(t->size);
	t->entry_size = sizeof(struct mb2_mmap_entry);
	t->entry_version = 0;

	for (UINTN i = 0; i < ndesc; i++) {
		const EFI_MEMORY_DESCRIPTOR *d = ld_desc(mm, i);
		UINT64 len = d->NumberOfPages * EFI_PAGE_SIZE;
		UINT32 type = ld_mb2_type(d->Type);
		struct mb2_mmap_entry *prev = nent ? &t->entries[nent - 1] : 0;

		if (len == 0)
			continue;
		if (prev && prev->type == type &&
		    prev->addr + prev->len == d->PhysicalStart) {
			prev->len += len;
			continue;
		}
		t->entries[nent].addr = d->PhysicalStart;
		t->entries[nent].len = len;
		t->entries[nent].type = type;
		t->entries[nent].zero = 0;
		nent++;
	}
	t->size = (UINT32)(sizeof(*t) + nent * sizeof(struct mb2_mmap_entry));
	mb->used += ld_align8(t->size);
}

void ld_mb2_finish(struct ld_mb2 *mb, struct ld_memmap *mm)
{
	struct mb2_tag_efi_mmap *em;

	ld_sort_memmap(mm);
	ld_tag_mmap(mb, mm);

	em = ld_tag(mb, MB2_TAG_EFI_MMAP, sizeof(*em) + mm->size);
	if (em) {
		em->descr_size = (UINT32)mm->desc_size;
		em->descr_vers = mm->desc_version;
		ld_memcpy(em->efi_mmap, mm->buf, mm->size);
	}

	ld_tag(mb, MB2_TAG_END, sizeof(struct mb2_tag));
	((struct mb2_info_header *)mb->base)->total_size = (UINT32)mb->used;
}
