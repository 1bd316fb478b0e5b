/*
 * Multiboot (version 1) kernels, Multiboot specification 0.6.96: the
 * header (3.1) and the information structure the kernel is handed (3.3).
 * What the header asks to be loaded goes through the same code as a
 * multiboot2 kernel: its address fields (flags bit 16) are the a.out
 * kludge of loader_mb2.c, and without them the image must be ELF.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kernel/errno.h"
#include "vmm/load/loader_int.h"

/* 3.1.1: the header lies in the first 8192 bytes, 32-bit aligned. */
#define LDR_MB1_SCAN  8192u
#define LDR_MB1_ALIGN 4u
#define LDR_MB1_FIXED 12u	/* magic, flags, checksum */
#define LDR_MB1_ADDR_END 32u	/* ... header_addr .. entry_addr (3.1.3) */

/* Header flags (3.1.2). Bits 0-15 are requirements: one we do not know
 * means the kernel cannot be booted; bits 16-31 are optional. */
#define LDR_MB1_PAGE_ALIGN  (1u << 0)	/* modules page aligned: always */
#define LDR_MB1_MEMORY_INFO (1u << 1)	/* mem_* fields: always given */
#define LDR_MB1_VIDEO_MODE  (1u << 2)	/* a video mode: text console only */
#define LDR_MB1_AOUT_KLUDGE (1u << 16)	/* the address fields are valid */
#define LDR_MB1_REQUIRED    0xffffu
#define LDR_MB1_KNOWN (LDR_MB1_PAGE_ALIGN | LDR_MB1_MEMORY_INFO | LDR_MB1_VIDEO_MODE)

/* The information structure (3.3): the fields we fill and their flags.
 * Its fixed part is 88 bytes in 0.6.96; GRUB 2's framebuffer fields make
 * it 116: we give 120 zeroed bytes so either reads zeros past ours. */
#define LDR_MBI_FLAGS        0
#define LDR_MBI_MEM_LOWER    4
#define LDR_MBI_MEM_UPPER    8
#define LDR_MBI_CMDLINE      16
#define LDR_MBI_MODS_COUNT   20
#define LDR_MBI_MODS_ADDR    24
#define LDR_MBI_MMAP_LENGTH  44
#define LDR_MBI_MMAP_ADDR    48
#define LDR_MBI_LOADER_NAME  64
#define LDR_MBI_FIXED        120u
#define LDR_MBI_F_MEMORY     (1u << 0)
#define LDR_MBI_F_CMDLINE    (1u << 2)
#define LDR_MBI_F_MODS       (1u << 3)
#define LDR_MBI_F_MMAP       (1u << 6)
#define LDR_MBI_F_LOADER_NAME (1u << 9)
#define LDR_MBI_MOD_SIZE     16u	/* mod_start, mod_end, string, reserved */
#define LDR_MBI_MMAP_SIZE    24u	/* size (20), base_addr, length, type */

/* ---- the header (3.1) ------------------------------------------------------ */

static int ldr_mb1_flags(const struct ldr_ctx *c, uint32_t flags)
{
	uint32_t unknown = flags & LDR_MB1_REQUIRED & ~LDR_MB1_KNOWN;

	if (unknown) {
		pr_err(LDR_PFX "multiboot flag bit %u is not supported\n", c->name,
		       (unsigned)__builtin_ctz(unknown));
		return trace_error(-ENOTSUP);
	}
	return 0;
}

/* 3.1.3: the address fields, when flags bit 16 says they are valid. */
static int ldr_mb1_addr(const struct ldr_ctx *c, struct ldr_mb2 *h, uint64_t limit)
{
	if (h->off + LDR_MB1_ADDR_END > limit) {
		pr_err(LDR_PFX "multiboot header at 0x%llx is truncated: its address fields run past the first %llu bytes of the image\n",
		       c->name, (unsigned long long)h->off, (unsigned long long)limit);
		return trace_error(-ENOEXEC);
	}
	const uint8_t *p = c->img + h->off;
	h->has_addr = true;
	h->header_addr = ldr_rd32(p + 12);
	h->load_addr = ldr_rd32(p + 16);
	h->load_end_addr = ldr_rd32(p + 20);
	h->bss_end_addr = ldr_rd32(p + 24);
	h->has_entry = true;
	h->entry_addr = ldr_rd32(p + 28);
	return 0;
}

/*
 * Find the multiboot header: the first magic at a 4-byte aligned offset in
 * the first 8 KiB whose checksum is good (magic + flags + checksum == 0).
 * As with multiboot2, magics with none good mean a broken header.
 */
int ldr_mb1_find(const struct ldr_ctx *c, struct ldr_mb2 *h)
{
	uint64_t limit = c->len < LDR_MB1_SCAN ? c->len : LDR_MB1_SCAN;
	bool bad = false;
	uint64_t first_bad = 0;

	memset(h, 0, sizeof(*h));
	for (uint64_t off = 0; off + LDR_MB1_FIXED <= limit; off += LDR_MB1_ALIGN) {
		const uint8_t *p = c->img + off;
		if (ldr_rd32(p) != LDR_MB1_HEADER_MAGIC)
			continue;
		uint32_t flags = ldr_rd32(p + 4);
		if ((uint32_t)(LDR_MB1_HEADER_MAGIC + flags + ldr_rd32(p + 8)) != 0) {
			if (!bad)
				first_bad = off;
			bad = true;
			continue;
		}
		h->found = true;
		h->mb1 = true;
		h->off = off;
		int err = ldr_mb1_flags(c, flags);
		if (err)
			return err;
		if (flags & LDR_MB1_AOUT_KLUDGE)
			return ldr_mb1_addr(c, h, limit);
		return 0;
	}
	if (bad) {
		pr_err(LDR_PFX "multiboot header checksum bad (header at 0x%llx)\n", c->name,
		       (unsigned long long)first_bad);
		return trace_error(-ENOEXEC);
	}
	return 0;
}

/* ---- the information structure (3.3) -------------------------------------- */

/*
 * One block: the fixed part, the module structures, the memory map (the
 * RAM, then the reserved ranges), then the strings it points to: command line, boot-loader name,
 * the modules' strings.
 */
static uint64_t ldr_mbi_mods_off(void) { return LDR_MBI_FIXED; }

static uint64_t ldr_mbi_mmap_off(const struct ldr_ctx *c)
{
	return LDR_MBI_FIXED + (uint64_t)c->nmods * LDR_MBI_MOD_SIZE;
}

static uint64_t ldr_mbi_strings_off(const struct ldr_ctx *c)
{
	return ldr_mbi_mmap_off(c) + (uint64_t)ldr_memmap_len(c, false) * LDR_MBI_MMAP_SIZE;
}

uint64_t ldr_mb1_info_size(const struct ldr_ctx *c)
{
	uint64_t size = ldr_mbi_strings_off(c) + ldr_mb_cmdline_len(c) + 1 +
			sizeof(LDR_LOADER_NAME);

	for (uint32_t i = 0; i < c->nmods; i++)
		size += strlen(ldr_mod_string(&c->mods[i])) + 1;
	return size;
}

/* Copy a string into the block at *off; returns its guest address. */
static uint32_t ldr_mbi_string(uint8_t *info, uint64_t addr, uint64_t *off, const char *s)
{
	uint64_t n = strlen(s) + 1;
	uint32_t at = (uint32_t)(addr + *off);

	memcpy(info + *off, s, n);
	*off += n;
	return at;
}

/*
 * The block at `addr` (below 4 GiB, as checked: every address in it is
 * 32-bit); the modules at the pages after it, where loader.c put them.
 */
void ldr_mb1_info_write(const struct ldr_ctx *c, uint64_t addr, uint64_t size)
{
	uint8_t *info = c->mem + addr;
	uint64_t str = ldr_mbi_strings_off(c), mod_end = addr + size;
	uint32_t lower, upper;

	memset(info, 0, size);
	ldr_wr32(info + LDR_MBI_FLAGS, LDR_MBI_F_MEMORY | LDR_MBI_F_CMDLINE | LDR_MBI_F_MODS |
				       LDR_MBI_F_MMAP | LDR_MBI_F_LOADER_NAME);
	ldr_meminfo(c->ram_size, &lower, &upper);
	ldr_wr32(info + LDR_MBI_MEM_LOWER, lower);
	ldr_wr32(info + LDR_MBI_MEM_UPPER, upper);
	/* The command line: the file name first (loader.c). */
	ldr_wr32(info + LDR_MBI_CMDLINE, (uint32_t)(addr + str));
	ldr_mb_cmdline_copy(c, info + str);
	str += ldr_mb_cmdline_len(c) + 1;
	ldr_wr32(info + LDR_MBI_LOADER_NAME, ldr_mbi_string(info, addr, &str, LDR_LOADER_NAME));

	/* 3.3 "mods": start and end (exclusive, as GRUB gives it), string. */
	ldr_wr32(info + LDR_MBI_MODS_COUNT, c->nmods);
	ldr_wr32(info + LDR_MBI_MODS_ADDR, c->nmods ? (uint32_t)(addr + ldr_mbi_mods_off()) : 0);
	for (uint32_t i = 0; i < c->nmods; i++) {
		uint8_t *m = info + ldr_mbi_mods_off() + (uint64_t)i * LDR_MBI_MOD_SIZE;
		uint64_t start = ldr_page_up(mod_end);
		mod_end = start + c->mods[i].len;
		ldr_wr32(m, (uint32_t)start);
		ldr_wr32(m + 4, (uint32_t)mod_end);
		ldr_wr32(m + 8, ldr_mbi_string(info, addr, &str, ldr_mod_string(&c->mods[i])));
	}

	/* 3.3 "mmap": mmap_addr points at the first entry's size field;
	 * type 1 is RAM, any other reserved (2, as GRUB gives it). */
	struct ldr_map_entry map[LDR_MAP_MAX];
	uint32_t n = ldr_memmap(c, false, map);
	ldr_wr32(info + LDR_MBI_MMAP_LENGTH, n * LDR_MBI_MMAP_SIZE);
	ldr_wr32(info + LDR_MBI_MMAP_ADDR, (uint32_t)(addr + ldr_mbi_mmap_off(c)));
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = info + ldr_mbi_mmap_off(c) + (uint64_t)i * LDR_MBI_MMAP_SIZE;
		ldr_wr32(e, LDR_MBI_MMAP_SIZE - 4);
		ldr_wr64(e + 4, map[i].addr);
		ldr_wr64(e + 12, map[i].size);
		ldr_wr32(e + 20, map[i].type);
	}
}
