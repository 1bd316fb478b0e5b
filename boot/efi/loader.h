/*
 * hv-efi-loader: internal interfaces shared by the loader sources in boot/efi.
 *
 * The loader is a GNU-EFI application (BOOTX64.EFI).  It loads \hv\hv.elf
 * and optional modules from the volume it was started from, builds a
 * Multiboot2 boot-information block, exits boot services and jumps to the
 * hypervisor's 64-bit entry.  See README.md for the handover contract.
 *
 * Firmware calls always go through uefi_call_wrapper(): we compile without
 * GNU_EFI_USE_MS_ABI, so the wrapper routes calls through gnu-efi's
 * efi_callN() SysV->MS-ABI trampolines, which works with gcc and clang.
 */
#ifndef BOOT_EFI_LOADER_H
#define BOOT_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>

#include "../multiboot2.h"

#define LD_MAX_MODULES   64
#define LD_MAX_PATH      256		/* CHAR16s, terminator included */
#define LD_4GIB          0x100000000ull
#define LD_PAGE_SIZE     4096ull

#define LD_HV_DIR        L"\\hv\\"
#define LD_HV_ELF        L"\\hv\\hv.elf"
#define LD_CMDLINE_TXT   L"\\hv\\cmdline.txt"
#define LD_MODULES_TXT   L"\\hv\\modules.txt"

/* ---------------------------------------------------------------- utils */

static inline UINT64 ld_pages(UINT64 bytes)
{
	return (bytes + LD_PAGE_SIZE - 1) / LD_PAGE_SIZE;
}

/*
 * Plain byte loops.  They are used after ExitBootServices() too, so they
 * must not go through boot services (BS->CopyMem/SetMem).
 */
void ld_memcpy(void *dst, const void *src, UINTN n);
void ld_memset(void *dst, int c, UINTN n);

/*
 * Page allocations are tracked so that a failed boot can give everything
 * back (ld_free_all) before returning to the firmware's boot manager.
 */
EFI_STATUS ld_alloc_pages(EFI_ALLOCATE_TYPE type, EFI_MEMORY_TYPE mtype,
			  UINT64 pages, EFI_PHYSICAL_ADDRESS *addr);
/* Whole pages of EfiLoaderData below 4 GiB (mb2 fields are 32-bit). */
EFI_STATUS ld_alloc_low(UINT64 bytes, EFI_PHYSICAL_ADDRESS *out);
void ld_free_pages(EFI_PHYSICAL_ADDRESS addr);
void ld_free_all(void);
/* Is every byte of [start, end) inside one of our page allocations? */
BOOLEAN ld_owns(UINT64 start, UINT64 end);

/* --------------------------------------------------------------- files */

/* Open the root directory of the volume this image was loaded from. */
EFI_STATUS ld_open_boot_root(EFI_HANDLE image, EFI_FILE_HANDLE *root);

/* ld_file_open() status for a path that names a directory. */
#define LD_ERR_IS_DIRECTORY EFIERR(0x4001)

/* Open a file read-only; rejects directories.  Prints nothing. */
EFI_STATUS ld_file_open(EFI_FILE_HANDLE root, const CHAR16 *path,
			EFI_FILE_HANDLE *fh, UINT64 *size);

/* Read exactly len bytes at offset; a short read is EFI_END_OF_FILE. */
EFI_STATUS ld_file_read_at(EFI_FILE_HANDLE fh, UINT64 offset, void *buf,
			   UINT64 len);

/*
 * Read a whole file into fresh pages below 4 GiB.  *addr and *size describe the
 * data, which is followed by a NUL byte (not counted in *size).  When
 * optional is set, a missing file returns EFI_NOT_FOUND silently; every
 * other failure is reported as "hv-efi: <path>: <reason>".
 */
EFI_STATUS ld_file_load_low(EFI_FILE_HANDLE root, const CHAR16 *path,
			    BOOLEAN optional, EFI_PHYSICAL_ADDRESS *addr,
			    UINT64 *size);

/* ----------------------------------------------------------------- ELF */

#define LD_ELF_MAX_PHDRS 64

/*
 * Memory type of the hypervisor image.  EDK2 can map EfiLoaderData
 * no-execute (PcdDxeNxMemoryProtectionPolicy), and the hypervisor's first
 * instructions run on the firmware's page tables, so the image is
 * EfiLoaderCode.  Both are "available" (1) in the Multiboot2 memory map.
 */
#define LD_IMAGE_MEMTYPE EfiLoaderCode

/* A range staged elsewhere, copied into place after ExitBootServices(). */
struct ld_move {
	UINT64 dst, src, len;
};

_Static_assert(sizeof(struct ld_move) == 24, "ld_handover's asm uses this");

struct ld_image {
	UINT64 entry;		/* physical entry address (from e_entry) */
	UINT64 load_base;	/* lowest PT_LOAD p_paddr */
	UINT64 load_end;	/* highest PT_LOAD p_paddr + p_memsz */
	struct ld_move moves[LD_ELF_MAX_PHDRS];
	UINTN nmoves;
};

/* Validate and load \hv\hv.elf at its physical addresses. */
EFI_STATUS ld_elf_load(EFI_FILE_HANDLE root, const CHAR16 *path,
		       struct ld_image *img);

/*
 * Claim the page range [start, end) for the image: allocate it in place or,
 * if it is firmware boot-services memory, stage it (see ld_place.c).
 * *where receives the address to load the bytes of `start` to.
 */
EFI_STATUS ld_place_range(const CHAR16 *path, UINT64 start, UINT64 end,
			  struct ld_image *img, UINT8 **where);

/* After ExitBootServices(): make staged ranges' destinations executable. */
void ld_place_finish(const struct ld_image *img);

/* cli; copy the staged ranges; jump to img->entry with RDI = magic,
 * RSI = info.  Never returns. */
void ld_handover(const struct ld_image *img, UINT64 info)
	__attribute__((noreturn));

/* ------------------------------------------------------ configuration */

struct ld_module {
	UINT64 start;		/* physical, below 4 GiB, page-aligned */
	UINT64 size;		/* bytes; mod_end = start + size */
	const char *string;	/* not NUL-terminated */
	UINTN string_len;
};

struct ld_config {
	const char *cmdline;	/* not NUL-terminated; may be empty */
	UINTN cmdline_len;
	struct ld_module modules[LD_MAX_MODULES];
	UINTN nmodules;
};

/* Read \hv\cmdline.txt and \hv\modules.txt and load the modules. */
EFI_STATUS ld_config_load(EFI_FILE_HANDLE root, struct ld_config *cfg);

/* ------------------------------------------------------ firmware info */

struct ld_rsdp {
	const void *ptr;	/* NULL when the firmware has no ACPI table */
	UINT32 len;		/* bytes to copy into the tag */
	BOOLEAN v2;		/* ACPI_NEW (15) rather than ACPI_OLD (14) */
};

struct ld_fb {
	BOOLEAN present;
	UINT64 addr;
	UINT32 pitch, width, height;
	UINT8 bpp;
	UINT8 red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

void ld_find_rsdp(EFI_SYSTEM_TABLE *st, struct ld_rsdp *rsdp);
void ld_find_framebuffer(struct ld_fb *fb);

/* ---------------------------------------------------------- multiboot2 */

/* The final EFI memory map lives here; sized once before ExitBootServices. */
struct ld_memmap {
	EFI_MEMORY_DESCRIPTOR *buf;
	UINTN capacity;		/* bytes allocated at buf */
	UINTN size;		/* bytes filled by GetMemoryMap */
	UINTN key;
	UINTN desc_size;
	UINT32 desc_version;
};

struct ld_mb2 {
	UINT8 *base;		/* below 4 GiB, 8-byte aligned */
	UINTN capacity;
	UINTN used;		/* bytes written so far, multiple of 8 */
};

/* Bytes needed for everything ld_mb2_begin() + ld_mb2_finish() write. */
UINTN ld_mb2_size(const struct ld_config *cfg, const struct ld_rsdp *rsdp,
		  const struct ld_fb *fb, const struct ld_memmap *mm);

/* Write the tags that do not depend on the final memory map. */
void ld_mb2_begin(struct ld_mb2 *mb, const struct ld_config *cfg,
		  const struct ld_rsdp *rsdp, const struct ld_fb *fb,
		  const struct ld_image *img, EFI_SYSTEM_TABLE *st);

/*
 * After ExitBootServices(): sort the final EFI map, add MMAP, EFI_MMAP and
 * END, and fill in total_size.  Calls no firmware service.
 */
void ld_mb2_finish(struct ld_mb2 *mb, struct ld_memmap *mm);

#endif
