/*
 * Multiboot2 boot information: the one boot-info format every boot path
 * hands to the hypervisor (GRUB natively, our EFI loader by translation).
 * Layouts from the Multiboot2 specification, version 2.0, section 3.6.
 *
 * Shared by the entry stubs, the kernel's parser and the EFI loader, so it
 * depends on nothing but <stdint.h>.
 */
#ifndef BOOT_MULTIBOOT2_H
#define BOOT_MULTIBOOT2_H

#define MB2_HEADER_MAGIC     0xe85250d6  /* in the image's header */
#define MB2_BOOTLOADER_MAGIC 0x36d76289  /* in EAX/RDI at entry */
#define MB2_ARCH_I386        0

/* Header tags (spec 3.1.3 ff.). */
#define MB2_HDR_TAG_END          0
#define MB2_HDR_TAG_INFO_REQUEST 1
#define MB2_HDR_TAG_ENTRY        3
#define MB2_HDR_TAG_FLAGS        4
#define MB2_HDR_TAG_MODULE_ALIGN 6

/* Boot-information tags (spec 3.6). */
#define MB2_TAG_END            0
#define MB2_TAG_CMDLINE        1
#define MB2_TAG_BOOTLOADER     2
#define MB2_TAG_MODULE         3
#define MB2_TAG_BASIC_MEMINFO  4
#define MB2_TAG_BOOTDEV        5
#define MB2_TAG_MMAP           6
#define MB2_TAG_FRAMEBUFFER    8
#define MB2_TAG_EFI32          11
#define MB2_TAG_EFI64          12
#define MB2_TAG_ACPI_OLD       14
#define MB2_TAG_ACPI_NEW       15
#define MB2_TAG_EFI_MMAP       17
#define MB2_TAG_EFI_BS         18
#define MB2_TAG_LOAD_BASE      21

/* Memory-map entry types (spec 3.6.8). */
#define MB2_MEM_AVAILABLE 1
#define MB2_MEM_RESERVED  2
#define MB2_MEM_ACPI      3
#define MB2_MEM_NVS       4
#define MB2_MEM_BAD       5

/* The name our EFI loader puts in its boot-loader-name tag. */
#define MB2_LOADER_NAME_HV_EFI "hv-efi-loader"

#ifndef __ASSEMBLER__
#include <stdint.h>

struct mb2_info_header {
	uint32_t total_size;
	uint32_t reserved;
};

struct mb2_tag {
	uint32_t type;
	uint32_t size;	/* of this tag, header included, padding excluded */
};

struct mb2_tag_string {		/* CMDLINE, BOOTLOADER */
	uint32_t type;
	uint32_t size;
	char string[];
};

struct mb2_tag_module {
	uint32_t type;
	uint32_t size;
	uint32_t mod_start;
	uint32_t mod_end;	/* exclusive */
	char string[];
};

struct mb2_mmap_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
	uint32_t zero;
};

struct mb2_tag_mmap {
	uint32_t type;
	uint32_t size;
	uint32_t entry_size;
	uint32_t entry_version;
	struct mb2_mmap_entry entries[];
};

struct mb2_tag_efi64 {
	uint32_t type;
	uint32_t size;
	uint64_t pointer;
};

struct mb2_tag_rsdp {		/* ACPI_OLD, ACPI_NEW: a copy of the RSDP */
	uint32_t type;
	uint32_t size;
	uint8_t rsdp[];
};

struct mb2_tag_efi_mmap {
	uint32_t type;
	uint32_t size;
	uint32_t descr_size;
	uint32_t descr_vers;
	uint8_t efi_mmap[];
};

struct mb2_tag_load_base {
	uint32_t type;
	uint32_t size;
	uint32_t load_base_addr;
};

_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "mb2 mmap entry layout");
_Static_assert(sizeof(struct mb2_tag_module) == 16, "mb2 module tag layout");
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "mb2 mmap tag layout");
#endif /* !__ASSEMBLER__ */

#endif
