/*
 * The boot information after parsing: what the rest of the hypervisor
 * knows about how it was started. Filled from multiboot2 info (GRUB, or
 * our EFI loader which speaks the same format) by mb2_parse().
 */
#ifndef KERNEL_BOOTINFO_H
#define KERNEL_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/multiboot2.h"

#define BOOT_MAX_MODULES   64
#define BOOT_MAX_MMAP      256

enum boot_path {
	BOOT_MB2_BIOS,		/* GRUB (or another multiboot2 loader) on BIOS */
	BOOT_MB2_UEFI,		/* GRUB on UEFI: EFI system table/memory map tags */
	BOOT_UEFI,		/* our own GNU-EFI loader */
};

struct boot_module {
	uint64_t start;
	uint64_t end;		/* exclusive */
	const char *string;	/* points into the info block; never NULL */
};

struct boot_info {
	enum boot_path path;
	const char *cmdline;		/* never NULL ("" when absent) */
	const char *loader_name;	/* never NULL ("" when absent) */

	uint32_t nmodules;
	struct boot_module modules[BOOT_MAX_MODULES];

	/* The firmware memory map as the loader gave it (copied out). */
	uint32_t nmmap;
	struct mb2_mmap_entry mmap[BOOT_MAX_MMAP];

	/* A copy of the RSDP (inside the info block), or NULL. */
	const void *rsdp;
	size_t rsdp_len;

	uint64_t efi_systab;		/* 0 when not booted from UEFI */
	uint64_t info_start, info_end;	/* the info block itself, physical */
};

/* "uefi", "multiboot2-uefi" or "multiboot2-bios" (the console contract). */
const char *boot_path_name(enum boot_path path);

/*
 * Parse multiboot2 boot information at `info` (physical address
 * `info_phys`, used only to record where it lies). Checks the magic, the
 * total size (at least 16, at most 1 MiB), that every tag lies inside the
 * block, sizes fit their types, strings are NUL-terminated inside their
 * tag, modules have start <= end, and that an END tag is present.
 * Returns 0, or a negative errno with one clear "hv: boot: ..." line.
 * A memory map is required (-ENODATA without one).
 */
int mb2_parse(uint32_t magic, const void *info, uint64_t info_phys,
	      struct boot_info *out);

#endif
