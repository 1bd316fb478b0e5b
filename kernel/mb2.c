/*
 * Multiboot2 boot information parser; see bootinfo.h. Layouts from the
 * Multiboot2 specification, version 2.0, section 3.6.
 *
 * The block comes from a boot loader, so nothing in it is trusted: every
 * read is bounds-checked against [info, info + total_size), byte by byte
 * (little-endian), so neither a misaligned block nor an odd tag size can
 * make us read outside it or trip over alignment. Structural problems are
 * fatal (one "boot: ..." line, -EINVAL): a loader that gets the format
 * wrong cannot be trusted with the memory map either. Only limits of our
 * own (too many modules or map entries) are warnings.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/multiboot2.h"
#include "kernel/bootinfo.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/string.h"

#define MB2_INFO_MIN 16u		/* fixed part + END tag (3.6.2) */
#define MB2_INFO_MAX (1u << 20)	/* far beyond any real block */
#define MB2_TAG_HDR  8u
#define MB2_RSDP_V1_LEN 20u		/* ACPI 6.5, 5.2.5.3: RSDP up to rsdt_address */
#define MB2_RSDP_V2_LEN 36u		/* ... and the ACPI 2.0+ fields */

/* One tag as found: where it lies in the block, and its header. */
struct mb2_tag_ref {
	const uint8_t *p;	/* the tag's first byte */
	uint32_t type, size;
	uint32_t index;		/* 0 for the first tag, for messages */
};

/* What the walk collected that is decided only at the end. */
struct mb2_state {
	bool have_cmdline, have_loader, have_mmap, have_efi64;
	bool efi_seen;		/* EFI32/EFI64 system table or EFI memory map tag */
	bool modules_warned;
	const uint8_t *rsdp_old, *rsdp_new;
	uint32_t rsdp_old_len, rsdp_new_len;
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static const char *mb2_tag_name(uint32_t type)
{
	switch (type) {
	case MB2_TAG_CMDLINE:    return "command line";
	case MB2_TAG_BOOTLOADER: return "boot loader name";
	case MB2_TAG_MODULE:     return "module";
	case MB2_TAG_MMAP:       return "memory map";
	case MB2_TAG_EFI32:      return "EFI32 system table";
	case MB2_TAG_EFI64:      return "EFI64 system table";
	case MB2_TAG_ACPI_OLD:   return "ACPI old RSDP";
	case MB2_TAG_ACPI_NEW:   return "ACPI new RSDP";
	case MB2_TAG_EFI_MMAP:   return "EFI memory map";
	default:                 return "unknown";
	}
}

/* Smallest size of the tags we read, header included; 0 = not read. */
static uint32_t mb2_tag_min_size(uint32_t type)
{
	switch (type) {
	case MB2_TAG_CMDLINE:    /* 3.6.5: a string, at least its NUL */
	case MB2_TAG_BOOTLOADER: return MB2_TAG_HDR + 1;	/* 3.6.9 */
	case MB2_TAG_MODULE:     return 16 + 1;			/* 3.6.6 */
	case MB2_TAG_MMAP:       return 16;			/* 3.6.8 */
	case MB2_TAG_EFI32:      return 12;			/* 3.6.13 */
	case MB2_TAG_EFI64:      return 16;			/* 3.6.14 */
	case MB2_TAG_ACPI_OLD:   return MB2_TAG_HDR + MB2_RSDP_V1_LEN;	/* 3.6.16 */
	case MB2_TAG_ACPI_NEW:   return MB2_TAG_HDR + MB2_RSDP_V2_LEN;	/* 3.6.17 */
	case MB2_TAG_EFI_MMAP:   return 16;			/* 3.6.19 */
	default:                 return 0;
	}
}

/* The NUL-terminated string at `off` in the tag, or NULL (with a line). */
static const char *mb2_tag_string(const struct mb2_tag_ref *t, uint32_t off)
{
	for (uint32_t i = off; i < t->size; i++)
		if (t->p[i] == '\0')
			return (const char *)(t->p + off);
	pr_err("boot: multiboot2 %s string (tag %u) is not NUL-terminated\n",
	       mb2_tag_name(t->type), t->index);
	return NULL;
}

static void mb2_duplicate(const struct mb2_tag_ref *t)
{
	pr_warn("boot: ignoring duplicate multiboot2 %s tag (tag %u)\n", mb2_tag_name(t->type),
		t->index);
}

/* 3.6.5 / 3.6.9: command line and boot loader name. */
static int mb2_string_tag(const struct mb2_tag_ref *t, bool *seen, const char **out)
{
	const char *s = mb2_tag_string(t, MB2_TAG_HDR);

	if (!s)
		return trace_error(-EINVAL);
	if (*seen) {
		mb2_duplicate(t);
		return 0;
	}
	*seen = true;
	*out = s;
	return 0;
}

/* 3.6.6: u32 mod_start, u32 mod_end (exclusive), then the string. */
static int mb2_module_tag(const struct mb2_tag_ref *t, struct mb2_state *st,
			  struct boot_info *out)
{
	uint32_t start = rd32(t->p + 8), end = rd32(t->p + 12);
	const char *s = mb2_tag_string(t, 16);

	if (!s)
		return trace_error(-EINVAL);
	if (start > end) {
		pr_err("boot: multiboot2 module (tag %u) starts at 0x%x, after its end 0x%x\n",
		       t->index, start, end);
		return trace_error(-EINVAL);
	}
	if (out->nmodules == BOOT_MAX_MODULES) {
		if (!st->modules_warned)
			pr_warn("boot: more than %u boot modules, ignoring the rest\n",
				BOOT_MAX_MODULES);
		st->modules_warned = true;
		return 0;
	}
	struct boot_module *m = &out->modules[out->nmodules++];
	m->start = start;
	m->end = end;
	m->string = s;
	return 0;
}

/* 3.6.8: u32 entry_size, u32 entry_version, then entries of entry_size
 * bytes, each starting with the 24 bytes of struct mb2_mmap_entry. */
static int mb2_mmap_tag(const struct mb2_tag_ref *t, struct mb2_state *st,
			struct boot_info *out)
{
	uint32_t esize = rd32(t->p + 8);

	if (esize < sizeof(struct mb2_mmap_entry) || esize % 8) {
		pr_err("boot: multiboot2 memory map entry_size %u is invalid "
		       "(need a multiple of 8, at least 24)\n", esize);
		return trace_error(-EINVAL);
	}
	uint32_t n = (t->size - 16) / esize, stray = (t->size - 16) % esize;
	if (n == 0 && stray) {
		pr_err("boot: multiboot2 memory map entry_size %u is larger than its %u bytes of "
		       "entries\n", esize, stray);
		return trace_error(-EINVAL);
	}
	if (st->have_mmap) {
		mb2_duplicate(t);
		return 0;
	}
	st->have_mmap = true;

	if (stray)
		pr_warn("boot: multiboot2 memory map has %u stray bytes after its %u entries\n",
			stray, n);
	if (n > BOOT_MAX_MMAP) {
		pr_warn("boot: memory map has %u entries, using the first %u\n", n, BOOT_MAX_MMAP);
		n = BOOT_MAX_MMAP;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = t->p + 16 + (size_t)i * esize;
		out->mmap[i].addr = rd64(e);
		out->mmap[i].len = rd64(e + 8);
		out->mmap[i].type = rd32(e + 16);
		out->mmap[i].zero = rd32(e + 20);
	}
	out->nmmap = n;
	return 0;
}

/* 3.6.16 / 3.6.17: a copy of the RSDP follows the header. */
static void mb2_acpi_tag(const struct mb2_tag_ref *t, const uint8_t **rsdp, uint32_t *len)
{
	if (*rsdp) {
		mb2_duplicate(t);
		return;
	}
	*rsdp = t->p + MB2_TAG_HDR;
	*len = t->size - MB2_TAG_HDR;
}

static int mb2_tag(const struct mb2_tag_ref *t, struct mb2_state *st, struct boot_info *out)
{
	uint32_t min = mb2_tag_min_size(t->type);

	if (t->size < min) {
		pr_err("boot: multiboot2 %s tag (tag %u) has size %u, need at least %u\n",
		       mb2_tag_name(t->type), t->index, t->size, min);
		return trace_error(-EINVAL);
	}
	switch (t->type) {
	case MB2_TAG_CMDLINE:
		return mb2_string_tag(t, &st->have_cmdline, &out->cmdline);
	case MB2_TAG_BOOTLOADER:
		return mb2_string_tag(t, &st->have_loader, &out->loader_name);
	case MB2_TAG_MODULE:
		return mb2_module_tag(t, st, out);
	case MB2_TAG_MMAP:
		return mb2_mmap_tag(t, st, out);
	case MB2_TAG_EFI32:
	case MB2_TAG_EFI_MMAP:
		st->efi_seen = true;
		return 0;
	case MB2_TAG_EFI64:
		st->efi_seen = true;
		if (st->have_efi64)
			mb2_duplicate(t);
		else
			out->efi_systab = rd64(t->p + 8);
		st->have_efi64 = true;
		return 0;
	case MB2_TAG_ACPI_OLD:
		mb2_acpi_tag(t, &st->rsdp_old, &st->rsdp_old_len);
		return 0;
	case MB2_TAG_ACPI_NEW:
		mb2_acpi_tag(t, &st->rsdp_new, &st->rsdp_new_len);
		return 0;
	default:
		return 0;	/* tags we do not use (framebuffer, ELF sections...) */
	}
}

/*
 * 3.6.2: after the 8-byte fixed part, tags follow one another, each
 * starting 8-byte aligned (a tag's size excludes its padding), up to an
 * END tag of type 0 and size 8.
 */
static int mb2_walk(const uint8_t *b, uint32_t total, struct mb2_state *st,
		    struct boot_info *out)
{
	uint32_t off = 8;

	for (uint32_t n = 0;; n++) {
		if (off > total || total - off < MB2_TAG_HDR) {
			pr_err("boot: multiboot2 info truncated at tag %u: no END tag within its "
			       "%u bytes\n", n, total);
			return trace_error(-EINVAL);
		}
		struct mb2_tag_ref t = { b + off, rd32(b + off), rd32(b + off + 4), n };
		if (t.size < MB2_TAG_HDR) {
			pr_err("boot: multiboot2 tag %u (type %u) has size %u, less than its header\n",
			       n, t.type, t.size);
			return trace_error(-EINVAL);
		}
		if (t.size > total - off) {
			pr_err("boot: multiboot2 tag %u (type %u, size %u at offset %u) runs past "
			       "the end of the info (%u bytes)\n", n, t.type, t.size, off, total);
			return trace_error(-EINVAL);
		}
		if (t.type == MB2_TAG_END) {
			if (t.size != MB2_TAG_HDR) {
				pr_err("boot: multiboot2 END tag has size %u, expected 8\n", t.size);
				return trace_error(-EINVAL);
			}
			if (off + MB2_TAG_HDR != total)
				pr_warn("boot: ignoring %u bytes after the multiboot2 END tag\n",
					total - off - MB2_TAG_HDR);
			return 0;
		}
		int err = mb2_tag(&t, st, out);
		if (err)
			return err;
		off += (t.size + 7) & ~7u;	/* size <= 1 MiB: no overflow */
	}
}

static enum boot_path mb2_boot_path(const struct mb2_state *st, const struct boot_info *bi)
{
	if (!strcmp(bi->loader_name, MB2_LOADER_NAME_HV_EFI))
		return BOOT_UEFI;
	return st->efi_seen ? BOOT_MB2_UEFI : BOOT_MB2_BIOS;
}

int mb2_parse(uint32_t magic, const void *info, uint64_t info_phys, struct boot_info *out)
{
	struct mb2_state st = { 0 };

	memset(out, 0, sizeof(*out));
	out->cmdline = "";
	out->loader_name = "";
	out->path = BOOT_MB2_BIOS;

	if (magic != MB2_BOOTLOADER_MAGIC) {
		pr_err("boot: bad multiboot2 magic 0x%x (expected 0x%x)\n", magic,
		       MB2_BOOTLOADER_MAGIC);
		return trace_error(-EINVAL);
	}
	if (!info) {
		pr_err("boot: no multiboot2 info (NULL pointer)\n");
		return trace_error(-EINVAL);
	}
	const uint8_t *b = info;
	uint32_t total = rd32(b);
	if (total < MB2_INFO_MIN) {
		pr_err("boot: multiboot2 info total_size %u is too small (minimum %u)\n", total,
		       MB2_INFO_MIN);
		return trace_error(-EINVAL);
	}
	if (total > MB2_INFO_MAX) {
		pr_err("boot: multiboot2 info total_size %u is too large (maximum %u)\n", total,
		       MB2_INFO_MAX);
		return trace_error(-EINVAL);
	}
	out->info_start = info_phys;
	out->info_end = info_phys + total;

	int err = mb2_walk(b, total, &st, out);
	if (err)
		return err;
	if (!st.have_mmap) {
		pr_err("boot: no memory map in the multiboot2 info (tag type %u)\n", MB2_TAG_MMAP);
		return trace_error(-ENODATA);
	}
	/* An ACPI 2.0+ RSDP (with the XSDT) beats the 1.0 one. */
	if (st.rsdp_new) {
		out->rsdp = st.rsdp_new;
		out->rsdp_len = st.rsdp_new_len;
	} else if (st.rsdp_old) {
		out->rsdp = st.rsdp_old;
		out->rsdp_len = st.rsdp_old_len;
	}
	out->path = mb2_boot_path(&st, out);
	return 0;
}

const char *boot_path_name(enum boot_path path)
{
	switch (path) {
	case BOOT_UEFI:     return "uefi";
	case BOOT_MB2_UEFI: return "multiboot2-uefi";
	case BOOT_MB2_BIOS: return "multiboot2-bios";
	}
	return "unknown";
}
