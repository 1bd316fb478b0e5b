/*
 * Guest image loading: put a kernel image into a domain's memory and say
 * how to enter it. Pure logic: guest RAM is a host buffer (`mem`, guest
 * physical 0 .. size), so this is host-tested with crafted images.
 *
 * Formats (tried in this order):
 *  - Linux bzImage: boot sector flag 0xaa55 at 0x1fe and "HdrS" at 0x202
 *    (Linux Documentation/arch/x86/boot.rst), boot protocol 2.10 or later,
 *    LOADED_HIGH. Booted by the 32-bit boot protocol: the protected-mode
 *    kernel at its preferred address (pref_address, kernel_alignment; at
 *    1 MiB when not relocatable), a zeroed boot_params ("zero page") with
 *    the setup header, the command line, the initrd (as high as
 *    initrd_addr_max, the domain and 4 GiB allow), an e820 table of
 *    exactly the domain's RAM (one RAM entry [0, size), its ACPI area
 *    marked ACPI data when there is an RSDP) and its reserved ranges, and
 *    the ACPI RSDP address when given. Entered in 32-bit protected mode, paging off,
 *    flat 4 GiB segments (the protocol names CS 0x10, DS/ES/SS 0x18),
 *    interrupts off, ESI = boot_params, EAX = EBX = 0 (EBP = EDI = 0).
 *  - multiboot2 kernel: a multiboot2 header in the first 32 KiB (Multiboot2
 *    spec 3.1); loaded from its ELF program headers, or with the address
 *    tag (3.1.5) when present; entry from the entry-address tag or e_entry.
 *  - multiboot kernel: a multiboot header in the first 8 KiB (Multiboot
 *    0.6.96, 3.1); loaded with its address fields (flags bit 16, the
 *    a.out kludge) when present, else from its ELF program headers.
 *  - ELF (32- or 64-bit, ET_EXEC): PT_LOAD segments at p_paddr; entry at
 *    e_entry translated to physical through the PT_LOAD whose
 *    [p_vaddr, p_vaddr + p_memsz) holds it (as GRUB does: the same number
 *    when p_vaddr == p_paddr, the right one for a higher-half kernel); it
 *    must end up below 4 GiB.
 * A multiboot2 kernel or a plain ELF is entered as multiboot2 specifies
 * (3.3): 32-bit protected mode, paging off, flat 4 GiB segments,
 * EAX = 0x36d76289, EBX = guest-physical address of a multiboot2
 * information block that the loader builds in guest memory: boot-loader
 * name "hv", the command line (the kernel's file name, a blank and
 * `cmdline`, as QEMU's -kernel gives a multiboot kernel; the name alone
 * when `cmdline` is empty), basic meminfo, a memory map of exactly the
 * domain's RAM (one available region [0, size)) and its reserved ranges
 * (type 2, sorted), a module tag per
 * module, END. A multiboot kernel is entered the same way (Multiboot
 * 0.6.96, 3.2) with EAX = 0x2BADB002 and EBX = the address of a multiboot
 * information structure (3.3) saying the same: mem_lower/mem_upper, the
 * command line (the file name first, the same way), the modules, the memory map, the boot-loader name.
 * Either information block is placed at the first page after the image,
 * and the modules after it, each at the start of a page.
 */
#ifndef VMM_LOADER_H
#define VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct guest_entry {
	uint32_t rip;		/* entry point, guest physical */
	uint32_t eax;		/* multiboot2 or multiboot magic; Linux: 0 */
	uint32_t ebx;		/* multiboot: the info block's address; Linux: 0 */
	uint32_t esi;		/* Linux: boot_params' address; multiboot: 0 */
	uint32_t info_size;	/* bytes of the info block / boot_params (4096) */
	uint64_t image_end;	/* highest guest-physical byte of the kernel + 1
				 * (Linux: of the range it claims, init_size) */
};

/* A guest-physical range [base, base + size). */
struct guest_mem_range {
	uint64_t base, size;
};

/* At most this many reserved ranges in a memory map. */
#define GUEST_MAX_RESERVED 16u

/* A multiboot or multiboot2 kernel's command line at most, its file name
 * and all, with the NUL: CONFIG_CMDLINE_MAX, the blob's own limit. */
#define GUEST_MB_CMDLINE_MAX 1024u

/* A boot module for a multiboot or multiboot2 kernel. */
struct guest_module {
	const void *data;	/* len bytes */
	size_t len;
	const char *string;	/* its command line; NULL: "" */
};

struct guest_load_args {
	const char *name;	/* the domain's name, only for messages */
	const void *image;	/* the kernel, len bytes */
	size_t len;
	uint8_t *mem;		/* guest-physical 0 .. mem_size */
	uint64_t mem_size;
	uint64_t ram_size;	/* what the memory map says (< mem_size: mem_size) */
	const char *cmdline;	/* NULL: "" */
	/* The kernel's file name (the configuration's `kernel` path): the
	 * first word of a multiboot, multiboot2 or plain ELF kernel's command
	 * line (argv[0]), as QEMU's -kernel gives it; a Linux kernel's does
	 * not have it. NULL or "": the command line is `cmdline` alone. */
	const char *kernel_name;
	const void *initrd;	/* Linux: optional (NULL or 0 bytes: none) */
	size_t initrd_len;
	const struct guest_module *modules;	/* multiboot: optional */
	uint32_t nmodules;
	uint64_t acpi_rsdp;	/* guest-physical; 0 = none (Linux only) */
	/* Ranges the memory map lists as reserved (e820 type 2, multiboot
	 * and multiboot2 type 2), e.g. a PCI ECAM window: in any order (the
	 * map is sorted), none empty, none overlapping another or the RAM
	 * [0, ram_size), at most GUEST_MAX_RESERVED. */
	const struct guest_mem_range *reserved;
	uint32_t nreserved;
};

/* Where a domain's ACPI tables live (guest-physical): a Linux memory map
 * marks this range ACPI data when acpi_rsdp is given. */
#define GUEST_ACPI_BASE 0xe0000ull
#define GUEST_ACPI_END  0x100000ull

/*
 * Load `a->image` into guest memory `a->mem` and build the boot
 * information (see above). Returns 0, or a negative errno after one clear
 * line "hv: domain NAME: kernel: <what is wrong>" (bad magic, truncated,
 * segment outside the domain's memory, entry outside the image, no room
 * for the info block...): -ENOEXEC for a malformed image, -ENOTSUP for
 * one that needs what a domain lacks (EFI boot services, an unknown
 * required multiboot2 header tag or multiboot flag, an entry above 4 GiB,
 * a Linux boot protocol older than 2.10), -ENOMEM when it, its boot
 * information, its modules or its initrd do not fit the domain, -E2BIG
 * for a command line longer than a Linux kernel takes or (with the file
 * name in front) longer than GUEST_MB_CMDLINE_MAX - 1 bytes for a
 * multiboot kernel, -EINVAL for a multiboot kernel's file name with a
 * blank in it (it would be two words), for an
 * initrd given to a multiboot or ELF kernel or modules given to Linux, or
 * for reserved ranges that are empty, wrap, overlap each other or the
 * RAM, or are more than GUEST_MAX_RESERVED.
 * Never reads outside [image, image+len) (nor outside the initrd and
 * modules) nor writes outside [mem, mem+mem_size); on failure it writes no
 * guest memory at all and *out is zeroed.
 */
int guest_load_args(const struct guest_load_args *a, struct guest_entry *out);

/* The same without initrd, modules or RSDP, RAM = mem_size. */
int guest_load(const char *name, const void *image, size_t len, uint8_t *mem,
	       uint64_t mem_size, const char *cmdline, struct guest_entry *out);

/*
 * The same, for a domain whose RAM is several host ranges: `mem` is the
 * first (guest-physical 0 .. mem_size), where the image and the boot
 * information must fit; the memory map given to the guest says ram_size.
 */
int guest_load_ram(const char *name, const void *image, size_t len, uint8_t *mem,
		   uint64_t mem_size, uint64_t ram_size, const char *cmdline,
		   struct guest_entry *out);

#endif
