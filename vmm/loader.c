/*
 * guest_load: pick the image's format, check it all, then load it and
 * build the multiboot2 boot information after it (Multiboot2 spec 2.0,
 * 3.6). See vmm/loader.h for the contract, vmm/loader_int.h for the parts.
 */
#include <stdbool.h>
#include <stdint.h>

#include "boot/multiboot2.h"
#include "kernel/errno.h"
#include "vmm/loader.h"
#include "vmm/loader_int.h"

#define LDR_PAGE 4096ull
#define LDR_LOADER_NAME "hv"
#define LDR_MEM_LOWER_KIB 640u	/* conventional memory, 3.6.3 */

/* ---- messages ------------------------------------------------------------ */

unsigned long long ldr_size_val(uint64_t bytes)
{
	if (bytes != 0 && bytes % LDR_MIB == 0)
		return bytes / LDR_MIB;
	if (bytes != 0 && bytes % LDR_KIB == 0)
		return bytes / LDR_KIB;
	return bytes;
}

const char *ldr_size_unit(uint64_t bytes)
{
	if (bytes != 0 && bytes % LDR_MIB == 0)
		return "MiB";
	if (bytes != 0 && bytes % LDR_KIB == 0)
		return "KiB";
	return "bytes";
}

/* ---- the boot information (3.6) ------------------------------------------ */

static uint64_t ldr_pad8(uint64_t n) { return (n + 7) & ~7ull; }

/* Tag sizes without padding (3.6.2 ff.). */
static uint64_t ldr_string_tag_size(const char *s) { return 8 + strlen(s) + 1; }
#define LDR_MEMINFO_SIZE 16u	/* type, size, mem_lower, mem_upper */
#define LDR_MMAP_SIZE    (16u + 24u)	/* header + one entry */
#define LDR_END_SIZE     8u

static uint64_t ldr_info_size(const char *cmdline)
{
	return sizeof(struct mb2_info_header) +
	       ldr_pad8(ldr_string_tag_size(LDR_LOADER_NAME)) +
	       ldr_pad8(ldr_string_tag_size(cmdline)) +
	       LDR_MEMINFO_SIZE + LDR_MMAP_SIZE + LDR_END_SIZE;
}

/* The first page after the image; the block must end below both the
 * domain's memory end and 4 GiB (EBX holds its address). */
static int ldr_info_place(const struct ldr_ctx *c, uint64_t image_end,
			  uint64_t size, uint64_t *addr)
{
	uint64_t at = (image_end + LDR_PAGE - 1) & ~(LDR_PAGE - 1);

	if (image_end > UINT64_MAX - LDR_PAGE || !ldr_fits(at, size, c->mem_size)) {
		pr_err(LDR_PFX "no room for the boot information (%llu bytes after the image's end at 0x%llx) in the domain's %llu %s\n",
		       c->name, (unsigned long long)size, (unsigned long long)image_end,
		       ldr_size_val(c->mem_size), ldr_size_unit(c->mem_size));
		return trace_error(-ENOMEM);
	}
	if (!ldr_fits(at, size, LDR_4G)) {
		pr_err(LDR_PFX "no room for the boot information below 4 GiB (the image ends at 0x%llx)\n",
		       c->name, (unsigned long long)image_end);
		return trace_error(-ENOMEM);
	}
	*addr = at;
	return 0;
}

/* Append a tag header; returns the tag's start. */
static uint8_t *ldr_info_tag(uint8_t **pos, uint32_t type, uint64_t size)
{
	uint8_t *t = *pos;
	ldr_wr32(t, type);
	ldr_wr32(t + 4, (uint32_t)size);
	*pos += ldr_pad8(size);
	return t;
}

/* 3.6.2 command line, 3.6.4 boot loader name: NUL-terminated strings. */
static void ldr_info_string(uint8_t **pos, uint32_t type, const char *s)
{
	uint64_t size = ldr_string_tag_size(s);
	uint8_t *t = ldr_info_tag(pos, type, size);
	memcpy(t + 8, s, size - 8);
}

/* 3.6.3 basic memory information, in KiB: lower from 0 (at most the
 * 640 KiB of conventional memory), upper from 1 MiB. The domain's RAM is
 * the single region [0, size). */
static void ldr_info_meminfo(uint8_t **pos, uint64_t mem_size)
{
	uint8_t *t = ldr_info_tag(pos, MB2_TAG_BASIC_MEMINFO, LDR_MEMINFO_SIZE);
	uint64_t lower = mem_size / LDR_KIB, upper = 0;

	if (lower > LDR_MEM_LOWER_KIB)
		lower = LDR_MEM_LOWER_KIB;
	if (mem_size > LDR_MIB)
		upper = (mem_size - LDR_MIB) / LDR_KIB;
	if (upper > UINT32_MAX)
		upper = UINT32_MAX;
	ldr_wr32(t + 8, (uint32_t)lower);
	ldr_wr32(t + 12, (uint32_t)upper);
}

/* 3.6.8 memory map: entry_size 24, version 0, one available region. */
static void ldr_info_mmap(uint8_t **pos, uint64_t mem_size)
{
	uint8_t *t = ldr_info_tag(pos, MB2_TAG_MMAP, LDR_MMAP_SIZE);

	ldr_wr32(t + 8, sizeof(struct mb2_mmap_entry));
	ldr_wr32(t + 12, 0);
	ldr_wr64(t + 16, 0);
	ldr_wr64(t + 24, mem_size);
	ldr_wr32(t + 32, MB2_MEM_AVAILABLE);
	ldr_wr32(t + 36, 0);
}

/* 3.6.1: total_size, reserved, then 8-byte aligned tags up to END. */
static void ldr_info_write(const struct ldr_ctx *c, uint64_t addr, uint64_t size,
			   const char *cmdline)
{
	uint8_t *start = c->mem + addr, *pos = start + sizeof(struct mb2_info_header);

	memset(start, 0, size);
	ldr_wr32(start, (uint32_t)size);
	ldr_info_string(&pos, MB2_TAG_BOOTLOADER, LDR_LOADER_NAME);
	ldr_info_string(&pos, MB2_TAG_CMDLINE, cmdline);
	ldr_info_meminfo(&pos, c->ram_size);
	ldr_info_mmap(&pos, c->ram_size);
	ldr_info_tag(&pos, MB2_TAG_END, LDR_END_SIZE);
}

/* ---- guest_load ---------------------------------------------------------- */

/* What is to be loaded: a.out kludge or ELF. */
struct ldr_job {
	bool aout;
	struct ldr_aout a;
	struct ldr_elf e;
	struct ldr_plan p;
};

/*
 * Multiboot2 3.1.5: an address tag says where the file goes, whatever its
 * format; otherwise the image must be ELF. An ELF without a multiboot2
 * header is loaded the same way and entered the same way.
 */
static int ldr_check(const struct ldr_ctx *c, struct ldr_job *j)
{
	struct ldr_mb2 h;
	int err = ldr_mb2_find(c, &h);

	if (err)
		return err;
	if (h.found && h.has_addr) {
		j->aout = true;
		return ldr_aout_check(c, &h, &j->a, &j->p);
	}
	if (ldr_elf_magic(c))
		return ldr_elf_check(c, h.found ? &h : NULL, &j->e, &j->p);
	if (h.found)
		pr_err(LDR_PFX "multiboot2 header has no address tag and the image is not ELF (bad magic)\n",
		       c->name);
	else
		pr_err(LDR_PFX "not a multiboot2 kernel or ELF executable (bad magic)\n", c->name);
	return trace_error(-ENOEXEC);
}

int guest_load(const char *name, const void *image, size_t len, uint8_t *mem,
	       uint64_t mem_size, const char *cmdline, struct guest_entry *out)
{
	return guest_load_ram(name, image, len, mem, mem_size, mem_size, cmdline, out);
}

int guest_load_ram(const char *name, const void *image, size_t len, uint8_t *mem,
		   uint64_t mem_size, uint64_t ram_size, const char *cmdline,
		   struct guest_entry *out)
{
	const struct ldr_ctx c = {
		.name = name ? name : "?",
		.img = image,
		.len = len,
		.mem = mem,
		.mem_size = mem_size,
		.ram_size = ram_size > mem_size ? ram_size : mem_size,
	};
	struct ldr_job j = { .aout = false };
	uint64_t info_addr = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (!cmdline)
		cmdline = "";
	err = ldr_check(&c, &j);
	if (err)
		return err;
	uint64_t info_size = ldr_info_size(cmdline);
	err = ldr_info_place(&c, j.p.image_end, info_size, &info_addr);
	if (err)
		return err;

	/* All checked: nothing was written before this point. */
	if (j.aout)
		ldr_aout_load(&c, &j.a);
	else
		ldr_elf_load(&c, &j.e);
	ldr_info_write(&c, info_addr, info_size, cmdline);

	out->rip = j.p.entry;
	out->eax = MB2_BOOTLOADER_MAGIC;
	out->ebx = (uint32_t)info_addr;
	out->info_size = (uint32_t)info_size;
	out->image_end = j.p.image_end;
	return 0;
}
