/*
 * The multiboot2 header of a guest kernel (Multiboot2 spec 2.0, 3.1) and
 * the a.out-kludge load it can ask for with its address tag (3.1.5) -- or
 * that a multiboot header asks for with its address fields (Multiboot
 * 0.6.96, 3.1.3: the same four addresses, meaning the same, bar the
 * load_addr -1 of multiboot2).
 */
#include <stdbool.h>
#include <stdint.h>

#include "boot/multiboot2.h"
#include "kernel/errno.h"
#include "vmm/load/loader_int.h"

/* 3.1.1: the header lies in the first 32768 bytes, 64-bit aligned. */
#define LDR_MB2_SCAN  32768u
#define LDR_MB2_ALIGN 8u
/* 3.1.2: magic, architecture, header_length, checksum. */
#define LDR_MB2_FIXED 16u

/* Header tags we know beyond those in boot/multiboot2.h (3.1.4 ff.). */
#define LDR_HDR_TAG_ADDRESS     2
#define LDR_HDR_TAG_FRAMEBUFFER 5
#define LDR_HDR_TAG_EFI_BS      7
#define LDR_HDR_TAG_EFI_I386    8
#define LDR_HDR_TAG_EFI_AMD64   9
#define LDR_HDR_TAG_RELOCATABLE 10
#define LDR_HDR_TAG_OPTIONAL    0x1	/* bit 0 of a tag's flags, 3.1.3 */

#define LDR_ADDR_TAG_SIZE  24u	/* type, flags, size + 4 addresses */
#define LDR_ENTRY_TAG_SIZE 12u	/* type, flags, size + entry_addr */
#define LDR_LOAD_FROM_START 0xffffffffu	/* load_addr -1, 3.1.5 */

enum ldr_mb2_bad { LDR_MB2_OK, LDR_MB2_ARCH, LDR_MB2_LENGTH, LDR_MB2_CSUM };

/* The fixed part of a header candidate at `off` (its magic matched). */
static enum ldr_mb2_bad ldr_mb2_fixed(const struct ldr_ctx *c, uint64_t off)
{
	const uint8_t *p = c->img + off;
	uint32_t arch = ldr_rd32(p + 4), hlen = ldr_rd32(p + 8);

	if (arch != MB2_ARCH_I386)
		return LDR_MB2_ARCH;
	if (hlen < LDR_MB2_FIXED || hlen > c->len - off)
		return LDR_MB2_LENGTH;
	/* 3.1.2: the four fields sum to 0 modulo 2^32. */
	if ((uint32_t)(MB2_HEADER_MAGIC + arch + hlen + ldr_rd32(p + 12)) != 0)
		return LDR_MB2_CSUM;
	return LDR_MB2_OK;
}

static int ldr_mb2_report(const struct ldr_ctx *c, uint64_t off,
			  enum ldr_mb2_bad bad)
{
	const uint8_t *p = c->img + off;

	if (bad == LDR_MB2_ARCH)
		pr_err(LDR_PFX "multiboot2 header at 0x%llx is for architecture %u, not i386 (0)\n",
		       c->name, (unsigned long long)off, ldr_rd32(p + 4));
	else if (bad == LDR_MB2_LENGTH)
		pr_err(LDR_PFX "multiboot2 header at 0x%llx has bad header_length %u (file is %llu bytes)\n",
		       c->name, (unsigned long long)off, ldr_rd32(p + 8),
		       (unsigned long long)c->len);
	else
		pr_err(LDR_PFX "multiboot2 header checksum bad (header at 0x%llx)\n",
		       c->name, (unsigned long long)off);
	return trace_error(-ENOEXEC);
}

static int ldr_tag_address(const struct ldr_ctx *c, struct ldr_mb2 *h,
			   const uint8_t *t, uint32_t size)
{
	if (size < LDR_ADDR_TAG_SIZE) {
		pr_err(LDR_PFX "multiboot2 address tag has bad size %u\n", c->name, size);
		return trace_error(-ENOEXEC);
	}
	h->has_addr = true;
	h->header_addr = ldr_rd32(t + 8);
	h->load_addr = ldr_rd32(t + 12);
	h->load_end_addr = ldr_rd32(t + 16);
	h->bss_end_addr = ldr_rd32(t + 20);
	return 0;
}

static int ldr_tag_entry(const struct ldr_ctx *c, struct ldr_mb2 *h,
			 const uint8_t *t, uint32_t size)
{
	if (size < LDR_ENTRY_TAG_SIZE) {
		pr_err(LDR_PFX "multiboot2 entry address tag has bad size %u\n", c->name, size);
		return trace_error(-ENOEXEC);
	}
	h->has_entry = true;
	h->entry_addr = ldr_rd32(t + 8);
	return 0;
}

/*
 * One header tag. We honour the address (3.1.5) and entry address (3.1.6)
 * tags. We accept information requests (3.1.4) whatever they ask: the
 * boot information always has the basic set. Console flags (3.1.8),
 * framebuffer (3.1.9), module alignment (3.1.10) and relocatable (3.1.13)
 * need nothing from us or are met by loading at the requested address.
 * EFI boot services (3.1.11) and the EFI entry points (3.1.7, 3.1.12) we
 * cannot give; any other tag we do not know. Those fail when required.
 */
static int ldr_mb2_tag(const struct ldr_ctx *c, struct ldr_mb2 *h,
		       const uint8_t *t, uint32_t size)
{
	uint16_t type = ldr_rd16(t), flags = ldr_rd16(t + 2);
	bool optional = flags & LDR_HDR_TAG_OPTIONAL;

	switch (type) {
	case LDR_HDR_TAG_ADDRESS:
		return ldr_tag_address(c, h, t, size);
	case MB2_HDR_TAG_ENTRY:
		return ldr_tag_entry(c, h, t, size);
	case MB2_HDR_TAG_INFO_REQUEST:
	case MB2_HDR_TAG_FLAGS:
	case LDR_HDR_TAG_FRAMEBUFFER:
	case MB2_HDR_TAG_MODULE_ALIGN:
	case LDR_HDR_TAG_RELOCATABLE:
		return 0;
	case LDR_HDR_TAG_EFI_BS:
	case LDR_HDR_TAG_EFI_I386:
	case LDR_HDR_TAG_EFI_AMD64:
		if (optional)
			return 0;
		pr_err(LDR_PFX "needs EFI boot services (multiboot2 header tag %u), which a domain does not have\n",
		       c->name, type);
		return trace_error(-ENOTSUP);
	default:
		if (optional)
			return 0;
		pr_err(LDR_PFX "unsupported required multiboot2 header tag %u\n", c->name, type);
		return trace_error(-ENOTSUP);
	}
}

/* The tags after the fixed part (3.1.3): 8-byte aligned, up to END. */
static int ldr_mb2_tags(const struct ldr_ctx *c, struct ldr_mb2 *h)
{
	uint64_t end = h->off + ldr_rd32(c->img + h->off + 8);
	uint64_t off = h->off + LDR_MB2_FIXED;

	while (off + 8 <= end) {
		const uint8_t *t = c->img + off;
		uint32_t size = ldr_rd32(t + 4);

		if (size < 8 || size > end - off) {
			pr_err(LDR_PFX "multiboot2 header tag %u at 0x%llx has size %u, past the header's end\n",
			       c->name, ldr_rd16(t), (unsigned long long)off, size);
			return trace_error(-ENOEXEC);
		}
		if (ldr_rd16(t) == MB2_HDR_TAG_END)
			return 0;
		int err = ldr_mb2_tag(c, h, t, size);
		if (err)
			return err;
		off += ((uint64_t)size + 7) & ~7ull;
	}
	pr_err(LDR_PFX "multiboot2 header has no end tag\n", c->name);
	return trace_error(-ENOEXEC);
}

/*
 * Find the multiboot2 header: the first magic at an 8-byte aligned offset
 * in the first 32 KiB whose fixed part is good (as GRUB does). When magics
 * are found but none is good, the image was meant to be multiboot2 and is
 * broken: fail with what is wrong with the first one.
 */
int ldr_mb2_find(const struct ldr_ctx *c, struct ldr_mb2 *h)
{
	uint64_t limit = c->len < LDR_MB2_SCAN ? c->len : LDR_MB2_SCAN;
	uint64_t first_bad = 0;
	enum ldr_mb2_bad bad = LDR_MB2_OK;

	memset(h, 0, sizeof(*h));
	for (uint64_t off = 0; off + LDR_MB2_FIXED <= limit; off += LDR_MB2_ALIGN) {
		if (ldr_rd32(c->img + off) != MB2_HEADER_MAGIC)
			continue;
		enum ldr_mb2_bad why = ldr_mb2_fixed(c, off);
		if (why == LDR_MB2_OK) {
			h->found = true;
			h->off = off;
			return ldr_mb2_tags(c, h);
		}
		if (bad == LDR_MB2_OK) {
			bad = why;
			first_bad = off;
		}
	}
	if (bad != LDR_MB2_OK)
		return ldr_mb2_report(c, first_bad, bad);
	return 0;
}

/* Where the addresses come from, for messages. */
static const char *ldr_aout_what(const struct ldr_mb2 *h)
{
	return h->mb1 ? "multiboot header address fields" : "multiboot2 address tag";
}

/* 3.1.5: the file offset to load from and the address it goes to. */
static int ldr_aout_start(const struct ldr_ctx *c, const struct ldr_mb2 *h,
			  struct ldr_aout *a)
{
	if (!h->mb1 && h->load_addr == LDR_LOAD_FROM_START) {
		/* -1: the file loads from its beginning. */
		if (h->header_addr < h->off) {
			pr_err(LDR_PFX "multiboot2 address tag: header_addr 0x%x is below the header's file offset 0x%llx\n",
			       c->name, h->header_addr, (unsigned long long)h->off);
			return trace_error(-ENOEXEC);
		}
		a->file_off = 0;
		a->load = h->header_addr - h->off;
		return 0;
	}
	if (h->load_addr > h->header_addr) {
		pr_err(LDR_PFX "%s: load_addr 0x%x is above header_addr 0x%x\n",
		       c->name, ldr_aout_what(h), h->load_addr, h->header_addr);
		return trace_error(-ENOEXEC);
	}
	uint64_t before = h->header_addr - h->load_addr;
	if (before > h->off) {
		pr_err(LDR_PFX "%s: load_addr 0x%x is 0x%llx bytes before the header, which is at file offset 0x%llx\n",
		       c->name, ldr_aout_what(h), h->load_addr, (unsigned long long)before,
		       (unsigned long long)h->off);
		return trace_error(-ENOEXEC);
	}
	a->file_off = h->off - before;
	a->load = h->load_addr;
	return 0;
}

/* 3.1.5: how much to copy (load_end_addr 0: the rest of the file) and
 * how much bss to zero after it (bss_end_addr 0: none). */
static int ldr_aout_sizes(const struct ldr_ctx *c, const struct ldr_mb2 *h,
			  struct ldr_aout *a)
{
	uint64_t room = c->len - a->file_off;

	if (h->load_end_addr == 0) {
		a->copy_len = room;
	} else if (h->load_end_addr < a->load) {
		pr_err(LDR_PFX "%s: load_end_addr 0x%x is below load_addr 0x%llx\n",
		       c->name, ldr_aout_what(h), h->load_end_addr, (unsigned long long)a->load);
		return trace_error(-ENOEXEC);
	} else {
		a->copy_len = h->load_end_addr - a->load;
		if (a->copy_len > room) {
			pr_err(LDR_PFX "%s: load range 0x%llx+0x%llx runs past the end of the %llu-byte file\n",
			       c->name, ldr_aout_what(h), (unsigned long long)a->file_off,
			       (unsigned long long)a->copy_len, (unsigned long long)c->len);
			return trace_error(-ENOEXEC);
		}
	}
	uint64_t load_end = a->load + a->copy_len;
	a->zero_len = 0;
	if (h->bss_end_addr != 0) {
		if (h->bss_end_addr < load_end) {
			pr_err(LDR_PFX "%s: bss_end_addr 0x%x is below the load end 0x%llx\n",
			       c->name, ldr_aout_what(h), h->bss_end_addr, (unsigned long long)load_end);
			return trace_error(-ENOEXEC);
		}
		a->zero_len = h->bss_end_addr - load_end;
	}
	return 0;
}

/* The entry address tag (3.1.6) is the only entry an a.out image has. */
static int ldr_aout_entry(const struct ldr_ctx *c, const struct ldr_mb2 *h,
			  const struct ldr_aout *a, struct ldr_plan *p)
{
	if (!h->has_entry) {
		pr_err(LDR_PFX "multiboot2 address tag without an entry address tag\n", c->name);
		return trace_error(-ENOEXEC);
	}
	if (h->entry_addr < a->load || h->entry_addr - a->load >= a->copy_len + a->zero_len) {
		pr_err(LDR_PFX "entry point 0x%x is outside the loaded image 0x%llx+0x%llx\n",
		       c->name, h->entry_addr, (unsigned long long)a->load,
		       (unsigned long long)(a->copy_len + a->zero_len));
		return trace_error(-ENOEXEC);
	}
	p->entry = h->entry_addr;
	return 0;
}

int ldr_aout_check(const struct ldr_ctx *c, const struct ldr_mb2 *h,
		   struct ldr_aout *a, struct ldr_plan *p)
{
	int err = ldr_aout_start(c, h, a);
	if (!err)
		err = ldr_aout_sizes(c, h, a);
	if (err)
		return err;
	uint64_t total = a->copy_len + a->zero_len;
	if (!ldr_fits(a->load, total, c->mem_size)) {
		pr_err(LDR_PFX "image at 0x%llx+0x%llx lies outside the domain's %llu %s\n",
		       c->name, (unsigned long long)a->load, (unsigned long long)total,
		       ldr_size_val(c->mem_size), ldr_size_unit(c->mem_size));
		return trace_error(-ENOMEM);
	}
	p->image_end = a->load + total;
	return ldr_aout_entry(c, h, a, p);
}

void ldr_aout_load(const struct ldr_ctx *c, const struct ldr_aout *a)
{
	memcpy(c->mem + a->load, c->img + a->file_off, a->copy_len);
	memset(c->mem + a->load + a->copy_len, 0, a->zero_len);
}
