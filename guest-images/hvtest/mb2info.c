/*
 * The multiboot2 information block (Multiboot2 spec 3.6): validate it,
 * pick out the tags hvtest uses, and read words off the command line.
 */
#include "guest-images/hvtest/hvtest.h"

/* Far more than any loader needs (GRUB's with an EFI memory map is a few KiB). */
#define INFO_MAX_SIZE (1024u * 1024u)

static uint32_t align8(uint32_t v)
{
	return (v + 7) & ~7u;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* A string tag (3.6.3, 3.6.4) whose string is NUL-terminated inside it. */
static bool string_tag(const struct mb2_tag *tag, const char **out)
{
	const struct mb2_tag_string *t = (const void *)tag;

	if (tag->size < sizeof(*t) + 1 || t->string[tag->size - sizeof(*t) - 1] != '\0')
		return false;
	*out = t->string;
	return true;
}

/* Basic meminfo (3.6.7): mem_lower and mem_upper in KiB after the header. */
static bool meminfo_tag(const struct mb2_tag *tag, struct boot_info *bi)
{
	const uint32_t *w = (const uint32_t *)(tag + 1);

	if (tag->size < 16)
		return false;
	bi->mem_lower = w[0];
	bi->mem_upper = w[1];
	bi->have_meminfo = true;
	return true;
}

/* Memory map (3.6.8): entry_size is at least 24 and a multiple of 8. */
static bool mmap_tag(const struct mb2_tag *tag, struct boot_info *bi)
{
	const struct mb2_tag_mmap *m = (const void *)tag;

	if (tag->size < sizeof(*m) || m->entry_size < sizeof(struct mb2_mmap_entry) ||
	    m->entry_size % 8)
		return false;
	bi->mmap = m;
	bi->mmap_count = (tag->size - sizeof(*m)) / m->entry_size;
	return true;
}

static bool take_tag(const struct mb2_tag *tag, struct boot_info *bi)
{
	switch (tag->type) {
	case MB2_TAG_CMDLINE:
		bi->have_cmdline = true;
		return string_tag(tag, &bi->cmdline);
	case MB2_TAG_BOOTLOADER:
		return string_tag(tag, &bi->loader);
	case MB2_TAG_BASIC_MEMINFO:
		return meminfo_tag(tag, bi);
	case MB2_TAG_MMAP:
		return mmap_tag(tag, bi);
	default:
		return true;	/* tags we do not use are fine */
	}
}

static bool walk_tags(uint32_t addr, uint32_t total, struct boot_info *bi, struct strbuf *why)
{
	/* Tags start after the 8-byte header, each 8-byte aligned (3.6.1). */
	uint32_t off = 8;
	while (off + 8 <= total) {
		const struct mb2_tag *tag = (const void *)(addr + off);
		if (tag->size < 8 || tag->size > total - off) {
			sb_printf(why, "tag type %u at offset %u has size %u (block is %u bytes)",
				  tag->type, off, tag->size, total);
			return false;
		}
		if (tag->type == MB2_TAG_END)
			return true;
		if (!take_tag(tag, bi)) {
			sb_printf(why, "tag type %u at offset %u is malformed (size %u)",
				  tag->type, off, tag->size);
			return false;
		}
		off += align8(tag->size);
	}
	sb_printf(why, "no END tag in %u bytes", total);
	return false;
}

static bool overlaps_image(uint32_t addr, uint32_t size)
{
	return addr < (uintptr_t)__image_end && addr + size > (uintptr_t)__image_start;
}

/* The first word (argv[0] when the loader gives the file name). */
static void find_argv0(struct boot_info *bi)
{
	const char *p = bi->cmdline;

	while (is_space(*p))
		p++;
	bi->argv0 = p;
	while (*p && !is_space(*p))
		p++;
	bi->argv0_len = (uint32_t)(p - bi->argv0);
}

bool mb2_parse(uint32_t magic, uint32_t addr, struct boot_info *bi, struct strbuf *why)
{
	*bi = (struct boot_info){ .cmdline = "", .loader = "", .argv0 = "" };
	if (magic != MB2_BOOTLOADER_MAGIC) {
		sb_printf(why, "EAX was 0x%x, not 0x%x", magic, MB2_BOOTLOADER_MAGIC);
		return false;
	}
	if (addr == 0 || addr % 8) {
		sb_printf(why, "EBX 0x%x is not an 8-byte aligned address", addr);
		return false;
	}
	/* Before reading it: a block inside our bss was zeroed by _start. */
	if (overlaps_image(addr, 8)) {
		sb_printf(why, "info block at 0x%x lies inside the image", addr);
		return false;
	}
	uint32_t total = ((const struct mb2_info_header *)addr)->total_size;
	if (total < 16 || total > INFO_MAX_SIZE || addr + total < addr) {
		sb_printf(why, "info block at 0x%x has total_size %u", addr, total);
		return false;
	}
	if (overlaps_image(addr, total)) {
		sb_printf(why, "info block [0x%x, 0x%x) overlaps the image", addr, addr + total);
		return false;
	}
	if (!walk_tags(addr, total, bi, why))
		return false;
	if (!bi->have_cmdline) {
		sb_printf(why, "no command-line tag");
		return false;
	}
	find_argv0(bi);
	bi->addr = addr;
	bi->size = total;
	bi->valid = true;
	return true;
}

const struct mb2_mmap_entry *mmap_entry(const struct boot_info *bi, uint32_t i)
{
	return (const void *)((const char *)bi->mmap->entries + i * bi->mmap->entry_size);
}

/*
 * The value of the first word "key=value" on the command line, copied to
 * out (truncated to cap). Words are separated by blanks. A first word
 * that is the kernel's file name (argv[0]) has no "key=" of ours, so the
 * command line is read whole, with or without it.
 */
bool cmdline_value(const char *cmdline, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);

	for (const char *p = cmdline; *p;) {
		while (is_space(*p))
			p++;
		const char *word = p;
		while (*p && !is_space(*p))
			p++;
		size_t wlen = (size_t)(p - word);
		if (wlen <= klen || word[klen] != '=')
			continue;
		size_t i = 0;
		while (i < klen && word[i] == key[i])
			i++;
		if (i < klen)
			continue;
		size_t n = 0;
		for (const char *v = word + klen + 1; v < p && n + 1 < cap; v++)
			out[n++] = *v;
		out[n] = '\0';
		return true;
	}
	return false;
}

int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* "<n>[K|M|G]", n decimal or 0x-hex; K/M/G are binary (KiB, MiB, GiB). */
bool parse_size(const char *s, uint64_t *out)
{
	unsigned base = 10, shift = 0, digits = 0;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; digit_value(*s) < (int)base; s++, digits++) {
		if (v >> 50)
			return false;	/* too large to be a RAM size */
		v = v * base + (unsigned)digit_value(*s);
	}
	switch (*s) {
	case 'K': case 'k': shift = 10; s++; break;
	case 'M': case 'm': shift = 20; s++; break;
	case 'G': case 'g': shift = 30; s++; break;
	}
	if (!digits || *s || (v << shift) >> shift != v)
		return false;
	*out = v << shift;
	return true;
}
