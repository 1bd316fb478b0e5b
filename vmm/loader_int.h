/*
 * Internals of the guest loader (vmm/loader*.c), shared between its parts:
 * loader.c (guest_load, the boot information), loader_mb2.c (the
 * multiboot2 header and its address tag) and loader_elf.c (ELF images).
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

/* Guest-physical addresses and sizes are 64-bit and become host offsets. */
_Static_assert(sizeof(size_t) >= sizeof(uint64_t), "64-bit host required");

#define LDR_KIB 1024ull
#define LDR_MIB (1024ull * 1024ull)
#define LDR_4G  0x100000000ull

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
};

/* What the multiboot2 header (Multiboot2 spec 3.1) asks for. */
struct ldr_mb2 {
	bool found;
	uint64_t off;		/* of the header in the file, 8-byte aligned */
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

static inline void ldr_wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof(v)); }
static inline void ldr_wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }

/* True when [addr, addr + size) lies inside [0, limit), without overflow. */
static inline bool ldr_fits(uint64_t addr, uint64_t size, uint64_t limit)
{
	return addr <= limit && size <= limit - addr;
}

/* The domain's memory size for messages: "%llu %s" of these two. */
unsigned long long ldr_size_val(uint64_t bytes);
const char *ldr_size_unit(uint64_t bytes);

/* loader_mb2.c */
int ldr_mb2_find(const struct ldr_ctx *c, struct ldr_mb2 *h);
int ldr_aout_check(const struct ldr_ctx *c, const struct ldr_mb2 *h,
		   struct ldr_aout *a, struct ldr_plan *p);
void ldr_aout_load(const struct ldr_ctx *c, const struct ldr_aout *a);

/* loader_elf.c */
bool ldr_elf_magic(const struct ldr_ctx *c);
int ldr_elf_check(const struct ldr_ctx *c, const struct ldr_mb2 *h,
		  struct ldr_elf *e, struct ldr_plan *p);
void ldr_elf_load(const struct ldr_ctx *c, const struct ldr_elf *e);

#endif
