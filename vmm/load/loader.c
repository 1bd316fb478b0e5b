/*
 * guest_load_args: pick the image's format, check it all, then load it
 * and build the boot information: for a multiboot2 or ELF kernel the
 * multiboot2 boot information after it (Multiboot2 spec 2.0, 3.6), for a
 * multiboot kernel the multiboot information structure (loader_mb1.c),
 * either followed by the modules; a Linux bzImage is loader_bzimage.c's.
 * See vmm/load/loader.h for the contract, vmm/load/loader_int.h for the parts.
 */
#include <stdbool.h>
#include <stdint.h>

#include "boot/multiboot2.h"
#include "kernel/errno.h"
#include "vmm/load/loader.h"
#include "vmm/load/loader_int.h"

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

/* ---- shared by both multiboot information blocks -------------------------- */

void ldr_meminfo(uint64_t ram, uint32_t *lower, uint32_t *upper)
{
	uint64_t lo = ram / LDR_KIB, up = 0;

	if (lo > LDR_MEM_LOWER_KIB)
		lo = LDR_MEM_LOWER_KIB;
	if (ram > LDR_MIB)
		up = (ram - LDR_MIB) / LDR_KIB;
	if (up > UINT32_MAX)
		up = UINT32_MAX;
	*lower = (uint32_t)lo;
	*upper = (uint32_t)up;
}

static bool ldr_map_has_acpi(const struct ldr_ctx *c, bool acpi)
{
	return acpi && c->ram_size >= GUEST_ACPI_END;
}

uint32_t ldr_memmap_len(const struct ldr_ctx *c, bool acpi)
{
	return (ldr_map_has_acpi(c, acpi) ? 3u : 1u) + c->nresv;
}

uint32_t ldr_memmap(const struct ldr_ctx *c, bool acpi, struct ldr_map_entry *out)
{
	uint32_t n = 0;

	if (ldr_map_has_acpi(c, acpi)) {
		out[n++] = (struct ldr_map_entry){ 0, GUEST_ACPI_BASE, LDR_MAP_RAM };
		out[n++] = (struct ldr_map_entry){ GUEST_ACPI_BASE,
						   GUEST_ACPI_END - GUEST_ACPI_BASE, LDR_MAP_ACPI };
		out[n++] = (struct ldr_map_entry){ GUEST_ACPI_END, c->ram_size - GUEST_ACPI_END,
						   LDR_MAP_RAM };
	} else {
		out[n++] = (struct ldr_map_entry){ 0, c->ram_size, LDR_MAP_RAM };
	}
	/* The RAM starts at 0 and the reserved ranges do not overlap it
	 * (ldr_reserved_check): they all come after it, already sorted. */
	for (uint32_t i = 0; i < c->nresv; i++)
		out[n++] = (struct ldr_map_entry){ c->resv[i].base, c->resv[i].size,
						   LDR_MAP_RESERVED };
	return n;
}

/*
 * The reserved ranges, sorted into c->resv: refused (-EINVAL, one line)
 * when there are too many, one is empty or wraps, or one overlaps another
 * or the RAM -- a memory map saying both would leave the kernel to guess,
 * and it is the caller's mistake.
 */
static int ldr_reserved_check(const struct guest_load_args *a, struct ldr_ctx *c)
{
	uint32_t n = a->reserved ? a->nreserved : 0;

	c->nresv = 0;
	if (n > GUEST_MAX_RESERVED) {
		pr_err(LDR_PFX "%u reserved memory ranges, at most %u\n", c->name, n,
		       GUEST_MAX_RESERVED);
		return trace_error(-EINVAL);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct guest_mem_range r = a->reserved[i];
		uint32_t j = c->nresv;

		if (r.size == 0 || r.base + r.size - 1 < r.base) {
			pr_err(LDR_PFX "reserved memory range %u at 0x%llx (0x%llx bytes) is empty or wraps\n",
			       c->name, i, (unsigned long long)r.base, (unsigned long long)r.size);
			return trace_error(-EINVAL);
		}
		if (r.base < c->ram_size) {
			pr_err(LDR_PFX "reserved memory range 0x%llx-0x%llx overlaps the domain's RAM 0x0-0x%llx\n",
			       c->name, (unsigned long long)r.base,
			       (unsigned long long)(r.base + r.size - 1),
			       (unsigned long long)(c->ram_size - 1));
			return trace_error(-EINVAL);
		}
		/* insertion sort: at most GUEST_MAX_RESERVED of them */
		while (j > 0 && c->resv[j - 1].base > r.base) {
			c->resv[j] = c->resv[j - 1];
			j--;
		}
		c->resv[j] = r;
		c->nresv++;
	}
	for (uint32_t i = 1; i < c->nresv; i++) {
		const struct guest_mem_range *p = &c->resv[i - 1], *q = &c->resv[i];
		if (q->base - p->base < p->size) {
			pr_err(LDR_PFX "reserved memory ranges 0x%llx-0x%llx and 0x%llx-0x%llx overlap\n",
			       c->name, (unsigned long long)p->base,
			       (unsigned long long)(p->base + p->size - 1),
			       (unsigned long long)q->base, (unsigned long long)(q->base + q->size - 1));
			return trace_error(-EINVAL);
		}
	}
	return 0;
}

const char *ldr_mod_string(const struct guest_module *m)
{
	return m->string ? m->string : "";
}

/* ---- a multiboot kernel's command line ------------------------------------ */

/*
 * QEMU's -kernel hands a multiboot kernel the command line "FILE ARGS"
 * (the file name as given, a blank, -append): a kernel that parses argv
 * takes the file name as argv[0]. Here FILE is the configuration's
 * `kernel` path. (GRUB 2's `multiboot FILE ARGS` and `multiboot2 FILE
 * ARGS` skip the file name and give ARGS alone: grub-core/loader/
 * multiboot.c, "Skip filename"; a kernel that reads key=value words sees
 * no difference.)
 */
uint64_t ldr_mb_cmdline_len(const struct ldr_ctx *c)
{
	uint64_t name = strlen(c->kernel_name), args = strlen(c->cmdline);

	if (name && args)
		return name + 1 + args;
	return name + args;
}

void ldr_mb_cmdline_copy(const struct ldr_ctx *c, uint8_t *dst)
{
	size_t name = strlen(c->kernel_name), args = strlen(c->cmdline);

	memcpy(dst, c->kernel_name, name);
	if (name && args)
		dst[name++] = ' ';
	memcpy(dst + name, c->cmdline, args + 1);
}

static bool ldr_is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The file name is one word, and the whole line fits what the
 * configuration allows a command line (hvconfig checks the same). */
static int ldr_mb_cmdline_check(const struct ldr_ctx *c)
{
	for (const char *p = c->kernel_name; *p; p++) {
		if (ldr_is_blank(*p)) {
			pr_err(LDR_PFX "its file name '%s' has a blank (0x%02x): a multiboot kernel gets it as the first word of its command line\n",
			       c->name, c->kernel_name, (unsigned char)*p);
			return trace_error(-EINVAL);
		}
	}
	uint64_t n = ldr_mb_cmdline_len(c);
	if (n > GUEST_MB_CMDLINE_MAX - 1) {
		bool named = *c->kernel_name;
		pr_err(LDR_PFX "command line is %llu bytes%s%s%s, at most %u\n", c->name,
		       (unsigned long long)n, named ? " with the file name '" : "",
		       c->kernel_name, named ? "' in front" : "", GUEST_MB_CMDLINE_MAX - 1);
		return trace_error(-E2BIG);
	}
	return 0;
}

/* ---- the boot information (3.6) ------------------------------------------ */

static uint64_t ldr_pad8(uint64_t n) { return (n + 7) & ~7ull; }

/* Tag sizes without padding (3.6.2 ff.). */
static uint64_t ldr_string_tag_size(const char *s) { return 8 + strlen(s) + 1; }
static uint64_t ldr_cmdline_tag_size(const struct ldr_ctx *c) { return 8 + ldr_mb_cmdline_len(c) + 1; }
#define LDR_MEMINFO_SIZE 16u	/* type, size, mem_lower, mem_upper */
#define LDR_MMAP_HDR     16u	/* type, size, entry_size, entry_version */
#define LDR_MODULE_SIZE  16u	/* type, size, mod_start, mod_end + string */
#define LDR_END_SIZE     8u

static uint64_t ldr_info_size(const struct ldr_ctx *c)
{
	uint64_t size = sizeof(struct mb2_info_header) +
			ldr_pad8(ldr_string_tag_size(LDR_LOADER_NAME)) +
			ldr_pad8(ldr_cmdline_tag_size(c)) +
			LDR_MEMINFO_SIZE + LDR_END_SIZE + LDR_MMAP_HDR +
			ldr_memmap_len(c, false) * sizeof(struct mb2_mmap_entry);

	for (uint32_t i = 0; i < c->nmods; i++)
		size += ldr_pad8(LDR_MODULE_SIZE + strlen(ldr_mod_string(&c->mods[i])) + 1);
	return size;
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

/*
 * The modules follow the boot information, each at the start of a page
 * (what Multiboot's flags bit 0 asks for; multiboot2 kernels get the same).
 * mod_start and mod_end (exclusive) are 32-bit in both formats.
 */
static int ldr_mods_place(const struct ldr_ctx *c, uint64_t info_end)
{
	uint64_t end = info_end;

	for (uint32_t i = 0; i < c->nmods; i++) {
		const struct guest_module *m = &c->mods[i];
		bool wraps = end > UINT64_MAX - (LDR_PAGE - 1);
		uint64_t start = wraps ? 0 : ldr_page_up(end);
		if (wraps || !ldr_fits(start, m->len, c->mem_size)) {
			pr_err(LDR_PFX "no room for module %u '%s' (%llu bytes) after 0x%llx in the domain's %llu %s\n",
			       c->name, i + 1, ldr_mod_string(m), (unsigned long long)m->len,
			       (unsigned long long)end, ldr_size_val(c->mem_size),
			       ldr_size_unit(c->mem_size));
			return trace_error(-ENOMEM);
		}
		if (!ldr_fits(start, m->len, UINT32_MAX)) {
			pr_err(LDR_PFX "no room for module %u '%s' (%llu bytes) below 4 GiB (it would start at 0x%llx)\n",
			       c->name, i + 1, ldr_mod_string(m), (unsigned long long)m->len,
			       (unsigned long long)start);
			return trace_error(-ENOMEM);
		}
		end = start + m->len;
	}
	return 0;
}

static void ldr_mods_load(const struct ldr_ctx *c, uint64_t info_end)
{
	uint64_t end = info_end;

	for (uint32_t i = 0; i < c->nmods; i++) {
		uint64_t start = ldr_page_up(end);
		if (c->mods[i].len)
			memcpy(c->mem + start, c->mods[i].data, c->mods[i].len);
		end = start + c->mods[i].len;
	}
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

/* 3.6.4 boot loader name: a NUL-terminated string. */
static void ldr_info_string(uint8_t **pos, uint32_t type, const char *s)
{
	uint64_t size = ldr_string_tag_size(s);
	uint8_t *t = ldr_info_tag(pos, type, size);
	memcpy(t + 8, s, size - 8);
}

/* 3.6.2 command line: the same, the file name first. */
static void ldr_info_cmdline(const struct ldr_ctx *c, uint8_t **pos)
{
	uint8_t *t = ldr_info_tag(pos, MB2_TAG_CMDLINE, ldr_cmdline_tag_size(c));
	ldr_mb_cmdline_copy(c, t + 8);
}

/* 3.6.3 basic memory information, in KiB: lower from 0 (at most the
 * 640 KiB of conventional memory), upper from 1 MiB. The domain's RAM is
 * the single region [0, size). */
static void ldr_info_meminfo(uint8_t **pos, uint64_t mem_size)
{
	uint8_t *t = ldr_info_tag(pos, MB2_TAG_BASIC_MEMINFO, LDR_MEMINFO_SIZE);
	uint32_t lower, upper;

	ldr_meminfo(mem_size, &lower, &upper);
	ldr_wr32(t + 8, lower);
	ldr_wr32(t + 12, upper);
}

/* 3.6.8 memory map: entry_size 24, version 0; the RAM as one available
 * region, then the reserved ranges. */
_Static_assert(LDR_MAP_RAM == MB2_MEM_AVAILABLE && LDR_MAP_RESERVED == MB2_MEM_RESERVED &&
	       LDR_MAP_ACPI == MB2_MEM_ACPI, "one numbering for all memory maps");
static void ldr_info_mmap(const struct ldr_ctx *c, uint8_t **pos)
{
	struct ldr_map_entry map[LDR_MAP_MAX];
	uint32_t n = ldr_memmap(c, false, map);
	uint8_t *t = ldr_info_tag(pos, MB2_TAG_MMAP,
				  LDR_MMAP_HDR + n * sizeof(struct mb2_mmap_entry));

	ldr_wr32(t + 8, sizeof(struct mb2_mmap_entry));
	ldr_wr32(t + 12, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = t + LDR_MMAP_HDR + i * sizeof(struct mb2_mmap_entry);
		ldr_wr64(e, map[i].addr);
		ldr_wr64(e + 8, map[i].size);
		ldr_wr32(e + 16, map[i].type);
		ldr_wr32(e + 20, 0);
	}
}

/* 3.6.6 modules: where ldr_mods_load put them (checked below 4 GiB). */
static void ldr_info_modules(const struct ldr_ctx *c, uint8_t **pos, uint64_t info_end)
{
	uint64_t end = info_end;

	for (uint32_t i = 0; i < c->nmods; i++) {
		const char *s = ldr_mod_string(&c->mods[i]);
		uint64_t size = LDR_MODULE_SIZE + strlen(s) + 1;
		uint8_t *t = ldr_info_tag(pos, MB2_TAG_MODULE, size);
		uint64_t start = ldr_page_up(end);
		end = start + c->mods[i].len;
		ldr_wr32(t + 8, (uint32_t)start);
		ldr_wr32(t + 12, (uint32_t)end);
		memcpy(t + LDR_MODULE_SIZE, s, size - LDR_MODULE_SIZE);
	}
}

/* 3.6.1: total_size, reserved, then 8-byte aligned tags up to END. */
static void ldr_info_write(const struct ldr_ctx *c, uint64_t addr, uint64_t size)
{
	uint8_t *start = c->mem + addr, *pos = start + sizeof(struct mb2_info_header);

	memset(start, 0, size);
	ldr_wr32(start, (uint32_t)size);
	ldr_info_string(&pos, MB2_TAG_BOOTLOADER, LDR_LOADER_NAME);
	ldr_info_cmdline(c, &pos);
	ldr_info_meminfo(&pos, c->ram_size);
	ldr_info_mmap(c, &pos);
	ldr_info_modules(c, &pos, addr + size);
	ldr_info_tag(&pos, MB2_TAG_END, LDR_END_SIZE);
}

/* ---- guest_load ---------------------------------------------------------- */

/* What is to be loaded: a.out kludge or ELF, for multiboot2 or multiboot. */
struct ldr_job {
	bool aout;
	bool mb1;
	struct ldr_aout a;
	struct ldr_elf e;
	struct ldr_plan p;
};

/*
 * Multiboot2 3.1.5 (Multiboot 3.1.3): an address tag (address fields)
 * says where the file goes, whatever its format; otherwise the image must
 * be ELF. An ELF without a multiboot2 or multiboot header is loaded the
 * same way and entered as multiboot2. A multiboot2 header wins over a
 * multiboot one in the same image.
 */
static int ldr_check(const struct ldr_ctx *c, struct ldr_job *j)
{
	struct ldr_mb2 h;
	int err = ldr_mb2_find(c, &h);

	if (!err && !h.found)
		err = ldr_mb1_find(c, &h);
	if (err)
		return err;
	j->mb1 = h.found && h.mb1;
	if (h.found && h.has_addr) {
		j->aout = true;
		return ldr_aout_check(c, &h, &j->a, &j->p);
	}
	if (ldr_elf_magic(c))
		return ldr_elf_check(c, h.found ? &h : NULL, &j->e, &j->p);
	if (h.found && h.mb1)
		pr_err(LDR_PFX "multiboot header has no address fields (flags bit 16) and the image is not ELF (bad magic)\n",
		       c->name);
	else if (h.found)
		pr_err(LDR_PFX "multiboot2 header has no address tag and the image is not ELF (bad magic)\n",
		       c->name);
	else
		pr_err(LDR_PFX "not a Linux bzImage, multiboot kernel or ELF executable (bad magic)\n", c->name);
	return trace_error(-ENOEXEC);
}

/* A multiboot2, multiboot or ELF kernel: the image, the boot information
 * after it, the modules after that. */
static int ldr_multiboot(const struct ldr_ctx *c, struct guest_entry *out)
{
	struct ldr_job j = { .aout = false };
	uint64_t info_addr = 0;

	if (c->initrd_len) {
		pr_err(LDR_PFX "an initrd is for a Linux kernel; give a multiboot kernel modules instead\n",
		       c->name);
		return trace_error(-EINVAL);
	}
	int err = ldr_check(c, &j);
	if (!err)
		err = ldr_mb_cmdline_check(c);
	if (err)
		return err;
	uint64_t info_size = j.mb1 ? ldr_mb1_info_size(c) : ldr_info_size(c);
	err = ldr_info_place(c, j.p.image_end, info_size, &info_addr);
	if (!err)
		err = ldr_mods_place(c, info_addr + info_size);
	if (err)
		return err;

	/* All checked: nothing was written before this point. */
	if (j.aout)
		ldr_aout_load(c, &j.a);
	else
		ldr_elf_load(c, &j.e);
	ldr_mods_load(c, info_addr + info_size);
	if (j.mb1)
		ldr_mb1_info_write(c, info_addr, info_size);
	else
		ldr_info_write(c, info_addr, info_size);

	out->rip = j.p.entry;
	out->eax = j.mb1 ? LDR_MB1_BOOTLOADER_MAGIC : MB2_BOOTLOADER_MAGIC;
	out->ebx = (uint32_t)info_addr;
	out->info_size = (uint32_t)info_size;
	out->image_end = j.p.image_end;
	return 0;
}

/* A Linux bzImage: loader_bzimage.c. */
static int ldr_bzimage(const struct ldr_ctx *c, struct guest_entry *out)
{
	struct ldr_linux l;

	if (c->nmods) {
		pr_err(LDR_PFX "modules are for multiboot kernels; give a Linux kernel an initrd instead\n",
		       c->name);
		return trace_error(-EINVAL);
	}
	int err = ldr_linux_check(c, &l);
	if (err)
		return err;
	/* All checked: nothing was written before this point. */
	ldr_linux_load(c, &l, out);
	return 0;
}

int guest_load_args(const struct guest_load_args *a, struct guest_entry *out)
{
	struct ldr_ctx c = {
		.name = a->name ? a->name : "?",
		.img = a->image,
		.len = a->len,
		.mem = a->mem,
		.mem_size = a->mem_size,
		.ram_size = a->ram_size > a->mem_size ? a->ram_size : a->mem_size,
		.cmdline = a->cmdline ? a->cmdline : "",
		.kernel_name = a->kernel_name ? a->kernel_name : "",
		.initrd = a->initrd_len ? a->initrd : NULL,
		.initrd_len = a->initrd ? a->initrd_len : 0,
		.mods = a->nmodules ? a->modules : NULL,
		.nmods = a->modules ? a->nmodules : 0,
		.acpi_rsdp = a->acpi_rsdp,
	};

	memset(out, 0, sizeof(*out));
	int err = ldr_reserved_check(a, &c);
	if (err)
		return err;
	if (ldr_linux_magic(&c))
		return ldr_bzimage(&c, out);
	return ldr_multiboot(&c, out);
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
	const struct guest_load_args a = {
		.name = name,
		.image = image,
		.len = len,
		.mem = mem,
		.mem_size = mem_size,
		.ram_size = ram_size,
		.cmdline = cmdline,
	};

	return guest_load_args(&a, out);
}
