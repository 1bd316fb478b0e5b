/*
 * Internals of the guest loader (vmm/load/loader*.c), shared between its parts:
 * loader.c (guest_load_args, the multiboot2 boot information, modules),
 * loader_mb2.c (the multiboot2 header and the a.out-kludge load),
 * loader_mb1.c (the multiboot header and information structure),
 * loader_elf.c (ELF images) and loader_bzimage.c (Linux bzImages).
 *
 * Every part first checks, then writes: the check functions read only the
 * image and fill a plan; the load functions run only after the whole plan
 * (including room for the boot information) has been found good, so a
 * failed load leaves guest memory untouched.
 *
 * The image is read with memcpy (no unaligned pointer dereferences) in
 * host byte order: the loader runs on x86, which is little endian like
 * every image it accepts.
 */
#ifndef VMM_LOADER_INT_H
#define VMM_LOADER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/printk.h"
#include "kernel/string.h"
#include "vmm/load/loader.h"

/* Guest-physical addresses and sizes are 64-bit and become host offsets. */
_Static_assert(sizeof(size_t) >= sizeof(uint64_t), "64-bit host required");

#define LDR_KIB 1024ull
#define LDR_MIB (1024ull * 1024ull)
#define LDR_4G  0x100000000ull
#define LDR_PAGE 4096ull

/* Multiboot 0.6.96: in the kernel's header (3.1.1), in EAX at entry (3.2). */
#define LDR_MB1_HEADER_MAGIC     0x1badb002u
#define LDR_MB1_BOOTLOADER_MAGIC 0x2badb002u

/* The boot-loader name in either multiboot information block. */
#define LDR_LOADER_NAME "hv"

/* Every failure is one line: "hv: domain NAME: kernel: <what>". Use as
 * pr_err(LDR_PFX "what %u\n", c->name, ...). */
#define LDR_PFX "domain %s: kernel: "

/* The job at hand. */
struct ldr_ctx {
	const char *name;
	const uint8_t *img;
	uint64_t len;
	uint8_t *mem;
	uint64_t mem_size;
	uint64_t ram_size;	/* what the memory map reports (>= mem_size) */
	const char *cmdline;	/* never NULL */
	const char *kernel_name;	/* never NULL; "": no name in front */
	const uint8_t *initrd;	/* NULL when initrd_len is 0 */
	uint64_t initrd_len;
	const struct guest_module *mods;
	uint32_t nmods;
	uint64_t acpi_rsdp;
	struct guest_mem_range resv[GUEST_MAX_RESERVED];	/* sorted by base */
	uint32_t nresv;
};

/*
 * A memory map as every boot protocol here gives it: entries sorted by
 * address, not overlapping. The type numbers are the same in all three
 * (e820, Multiboot2 3.6.8, Multiboot 3.3 as GRUB fills it): 1 RAM,
 * 2 reserved, 3 ACPI data (reclaimable).
 */
#define LDR_MAP_RAM      1u
#define LDR_MAP_RESERVED 2u
#define LDR_MAP_ACPI     3u
#define LDR_MAP_MAX      (3u + GUEST_MAX_RESERVED)

struct ldr_map_entry {
	uint64_t addr, size;
	uint32_t type;
};

/*
 * What the multiboot2 header (Multiboot2 spec 3.1) asks for, or the
 * multiboot header (Multiboot 0.6.96, 3.1.1) when `mb1`: its address
 * fields (flags bit 16) are the address tag's and its entry_addr the
 * entry address tag's.
 */
struct ldr_mb2 {
	bool found;
	bool mb1;		/* a multiboot (version 1) header */
	uint64_t off;		/* of the header in the file, 8- (mb1: 4-) byte aligned */
	bool has_addr;		/* address tag, 3.1.5 */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	bool has_entry;		/* entry address tag, 3.1.6 */
	uint32_t entry_addr;
};

/* Where the a.out-kludge image goes (from the address tag). */
struct ldr_aout {
	uint64_t file_off;	/* first byte to copy */
	uint64_t load;		/* its guest-physical address */
	uint64_t copy_len;	/* bytes copied from the file */
	uint64_t zero_len;	/* bytes zeroed after them (bss) */
};

/* An ELF image, from its file header (ELF gABI, "ELF Header"). */
struct ldr_elf {
	bool is64;
	uint64_t entry;		/* e_entry (virtual) */
	uint64_t phoff;
	uint32_t phentsize;
	uint32_t phnum;
};

/* One program header, widened to 64 bits. */
struct ldr_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* A Linux bzImage (boot.rst), as checked: where everything goes. */
struct ldr_linux {
	uint64_t setup_len;	/* (setup_sects + 1) * 512: not loaded */
	uint64_t hdr_end;	/* image offset where the copied setup header ends */
	uint64_t load;		/* the protected-mode kernel's address = entry */
	uint64_t kernel_len;	/* its bytes: the image after the setup */
	uint64_t end;		/* end of the range the kernel claims */
	uint64_t initrd;	/* the initrd's address (0: none) */
	uint64_t cmdline_len;	/* without the NUL */
};

/* The outcome of a check: what gets loaded and where to enter. */
struct ldr_plan {
	uint64_t image_end;	/* highest guest-physical byte loaded + 1 */
	uint32_t entry;
};

static inline uint16_t ldr_rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ldr_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t ldr_rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void ldr_wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }
static inline void ldr_wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static inline void ldr_wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }

/* True when [addr, addr + size) lies inside [0, limit), without overflow. */
static inline bool ldr_fits(uint64_t addr, uint64_t size, uint64_t limit)
{
	return addr <= limit && size <= limit - addr;
}

/* Round up to a page; the caller makes sure it cannot wrap. */
static inline uint64_t ldr_page_up(uint64_t a)
{
	return (a + LDR_PAGE - 1) & ~(LDR_PAGE - 1);
}

/* The domain's memory size for messages: "%llu %s" of these two. */
unsigned long long ldr_size_val(uint64_t bytes);
const char *ldr_size_unit(uint64_t bytes);

/* loader.c: basic memory information in KiB (Multiboot2 3.6.3, Multiboot
 * 3.3): lower from 0 (at most 640), upper from 1 MiB, for RAM [0, ram). */
void ldr_meminfo(uint64_t ram, uint32_t *lower, uint32_t *upper);
/* The domain's memory map into out[LDR_MAP_MAX]: its RAM [0, ram_size)
 * -- with the ACPI area GUEST_ACPI_BASE..END as ACPI data when `acpi` and
 * the RAM holds it -- then the reserved ranges. Returns the count. */
uint32_t ldr_memmap(const struct ldr_ctx *c, bool acpi, struct ldr_map_entry *out);
/* The number of entries ldr_memmap gives. */
uint32_t ldr_memmap_len(const struct ldr_ctx *c, bool acpi);
/* A module's string, "" for NULL. */
const char *ldr_mod_string(const struct guest_module *m);
/* A multiboot kernel's command line, "<kernel_name> <cmdline>" (no blank
 * around an empty part): its length without the NUL, and a copy of it
 * with the NUL into dst (ldr_mb_cmdline_len + 1 bytes). */
uint64_t ldr_mb_cmdline_len(const struct ldr_ctx *c);
void ldr_mb_cmdline_copy(const struct ldr_ctx *c, uint8_t *dst);

/* loader_mb2.c */
int ldr_mb2_find(const struct ldr_ctx *c, struct ldr_mb2 *h);
int ldr_aout_check(const struct ldr_ctx *c, const struct ldr_mb2 *h,
		   struct ldr_aout *a, struct ldr_plan *p);
void ldr_aout_load(const struct ldr_ctx *c, const struct ldr_aout *a);

/* loader_mb1.c */
int ldr_mb1_find(const struct ldr_ctx *c, struct ldr_mb2 *h);
uint64_t ldr_mb1_info_size(const struct ldr_ctx *c);
void ldr_mb1_info_write(const struct ldr_ctx *c, uint64_t addr, uint64_t size);

/* loader_bzimage.c */
bool ldr_linux_magic(const struct ldr_ctx *c);
int ldr_linux_check(const struct ldr_ctx *c, struct ldr_linux *l);
void ldr_linux_load(const struct ldr_ctx *c, const struct ldr_linux *l,
		    struct guest_entry *out);

/* loader_elf.c */
bool ldr_elf_magic(const struct ldr_ctx *c);
int ldr_elf_check(const struct ldr_ctx *c, const struct ldr_mb2 *h,
		  struct ldr_elf *e, struct ldr_plan *p);
void ldr_elf_load(const struct ldr_ctx *c, const struct ldr_elf *e);

#endif
