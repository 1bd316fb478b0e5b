/*
 * Tests for kernel/mb2.c. A small builder assembles multiboot2 info
 * blocks tag by tag (layouts: Multiboot2 spec 2.0, section 3.6), like
 * GRUB on BIOS, GRUB on UEFI and our own EFI loader make them, and every
 * malformed variant we guard against. Each block is parsed from its own
 * exact-size heap copy, so ASan catches any read past total_size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/multiboot2.h"
#include "kernel/bootinfo.h"
#include "kernel/errno.h"
#include "tests/unit/host_stubs.h"

#define INFO_PHYS 0x7f000ull

/* ---- the builder ---------------------------------------------------------- */

struct mb {
	_Alignas(8) uint8_t buf[1 << 16];
	uint32_t len;
};

static struct mb b;
static struct boot_info bi;	/* ~8 KiB */
static void *copy;		/* the block last parsed; bi points into it */

static void put32(uint32_t off, uint32_t v) { memcpy(b.buf + off, &v, 4); }
static void put64(uint32_t off, uint64_t v) { memcpy(b.buf + off, &v, 8); }

static void mb_begin(void)
{
	memset(&b, 0, sizeof(b));
	b.len = 8;
}

/* Append a tag of `size` bytes (header included), padded to 8; returns
 * its offset. The payload is zero until the caller fills it. */
static uint32_t mb_tag(uint32_t type, uint32_t size)
{
	uint32_t off = b.len;
	assert_true(off + size + 8 <= sizeof(b.buf));
	put32(off, type);
	put32(off + 4, size);
	b.len += (size + 7) & ~7u;
	return off;
}

static void mb_string(uint32_t type, const char *s)
{
	uint32_t off = mb_tag(type, 8 + (uint32_t)strlen(s) + 1);
	memcpy(b.buf + off + 8, s, strlen(s) + 1);
}

static void mb_module(uint32_t start, uint32_t end, const char *s)
{
	uint32_t off = mb_tag(MB2_TAG_MODULE, 16 + (uint32_t)strlen(s) + 1);
	put32(off + 8, start);
	put32(off + 12, end);
	memcpy(b.buf + off + 16, s, strlen(s) + 1);
}

static const struct mb2_mmap_entry e820[] = {
	{ 0x0, 0x9fc00, MB2_MEM_AVAILABLE, 0 },
	{ 0x9fc00, 0x400, MB2_MEM_RESERVED, 0 },
	{ 0xf0000, 0x10000, MB2_MEM_RESERVED, 0 },
	{ 0x100000, 0x7ee0000, MB2_MEM_AVAILABLE, 0 },
	{ 0x7fe0000, 0x20000, MB2_MEM_ACPI, 0 },
	{ 0xfffc0000, 0x40000, MB2_MEM_RESERVED, 0 },
};
#define NE820 (sizeof(e820) / sizeof(e820[0]))

/* A memory map tag with entries `esize` bytes apart (extra bytes 0xee). */
static uint32_t mb_mmap(const struct mb2_mmap_entry *e, uint32_t n, uint32_t esize)
{
	uint32_t off = mb_tag(MB2_TAG_MMAP, 16 + n * esize);
	put32(off + 8, esize);
	put32(off + 12, 0);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t eo = off + 16 + i * esize;
		memset(b.buf + eo, 0xee, esize);
		put64(eo, e[i].addr);
		put64(eo + 8, e[i].len);
		put32(eo + 16, e[i].type);
		put32(eo + 20, e[i].zero);
	}
	return off;
}

static void mb_efi64(uint64_t systab)
{
	put64(mb_tag(MB2_TAG_EFI64, 16) + 8, systab);
}

static void mb_efi32(uint32_t systab)
{
	put32(mb_tag(MB2_TAG_EFI32, 12) + 8, systab);
}

/* EFI memory map tag (3.6.19): descriptor size and version, then descriptors. */
static void mb_efi_mmap(void)
{
	uint32_t off = mb_tag(MB2_TAG_EFI_MMAP, 16 + 2 * 48);
	put32(off + 8, 48);
	put32(off + 12, 1);
}

/* An RSDP copy of `len` bytes whose first byte is `mark`. */
static void mb_acpi(uint32_t type, uint32_t len, uint8_t mark)
{
	uint32_t off = mb_tag(type, 8 + len);
	memcpy(b.buf + off + 8, "RSD PTR ", len < 8 ? len : 8);
	b.buf[off + 8 + 8] = mark;	/* the checksum byte, as a marker */
}

static void mb_end(void)
{
	mb_tag(MB2_TAG_END, 8);
	put32(0, b.len);
}

/* Parse the first `len` bytes of the block from an exact-size copy. */
static int parse_n(uint32_t magic, size_t len)
{
	free(copy);
	copy = calloc(1, len);
	assert_non_null(copy);
	memcpy(copy, b.buf, len < sizeof(b.buf) ? len : sizeof(b.buf));
	test_log_clear();
	return mb2_parse(magic, copy, INFO_PHYS, &bi);
}

static int parse(void) { return parse_n(MB2_BOOTLOADER_MAGIC, b.len); }

static void expect_error(int err, const char *msg)
{
	assert_int_equal(parse(), err);
	if (!test_log_has(msg))
		fprintf(stderr, "log was: %s", test_log());
	assert_true(test_log_has(msg));
}

static int setup(void **state)
{
	(void)state;
	mb_begin();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(copy);
	copy = NULL;
	return 0;
}

/* ---- real-world shapes ------------------------------------------------------ */

/* GRUB 2 on SeaBIOS: no EFI tags, ACPI old RSDP only. */
static void build_grub_bios(void)
{
	put32(mb_tag(MB2_TAG_LOAD_BASE, 12) + 8, 0x1000000);
	mb_string(MB2_TAG_CMDLINE, "loglevel=4 console=com1");
	mb_string(MB2_TAG_BOOTLOADER, "GRUB 2.06-13+deb12u1");
	mb_module(0x200000, 0x280000, "/boot/guest.bin guest0");
	mb_module(0x280000, 0x280000, "");
	uint32_t m = mb_tag(MB2_TAG_BASIC_MEMINFO, 16);
	put32(m + 8, 639);
	put32(m + 12, 130048);
	put32(mb_tag(MB2_TAG_BOOTDEV, 20) + 8, 0xe0);
	mb_mmap(e820, NE820, 24);
	mb_tag(MB2_TAG_FRAMEBUFFER, 38);	/* odd size: padding follows */
	mb_tag(9, 20 + 64 * 3);			/* ELF sections, skipped */
	mb_acpi(MB2_TAG_ACPI_OLD, 20, 0x11);
	mb_end();
}

static void test_grub_bios(void **state)
{
	(void)state;
	build_grub_bios();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.path, BOOT_MB2_BIOS);
	assert_string_equal(boot_path_name(bi.path), "multiboot2-bios");
	assert_string_equal(bi.cmdline, "loglevel=4 console=com1");
	assert_string_equal(bi.loader_name, "GRUB 2.06-13+deb12u1");
	assert_int_equal(bi.nmodules, 2);
	assert_int_equal(bi.modules[0].start, 0x200000);
	assert_int_equal(bi.modules[0].end, 0x280000);
	assert_string_equal(bi.modules[0].string, "/boot/guest.bin guest0");
	assert_int_equal(bi.modules[1].start, bi.modules[1].end);	/* empty is fine */
	assert_string_equal(bi.modules[1].string, "");
	/* Strings point into the block itself. */
	assert_true((const uint8_t *)bi.cmdline > (const uint8_t *)copy &&
		    (const uint8_t *)bi.cmdline < (const uint8_t *)copy + b.len);
	assert_int_equal(bi.nmmap, NE820);
	for (uint32_t i = 0; i < NE820; i++) {
		assert_int_equal(bi.mmap[i].addr, e820[i].addr);
		assert_int_equal(bi.mmap[i].len, e820[i].len);
		assert_int_equal(bi.mmap[i].type, e820[i].type);
	}
	assert_non_null(bi.rsdp);
	assert_int_equal(bi.rsdp_len, 20);
	assert_memory_equal(bi.rsdp, "RSD PTR ", 8);
	assert_int_equal(((const uint8_t *)bi.rsdp)[8], 0x11);
	assert_int_equal(bi.efi_systab, 0);
	assert_int_equal(bi.info_start, INFO_PHYS);
	assert_int_equal(bi.info_end, INFO_PHYS + b.len);
	assert_string_equal(test_log(), "");	/* nothing to complain about */
}

/* GRUB 2 on OVMF: EFI64 system table, both RSDPs, EFI memory map. */
static void test_grub_uefi(void **state)
{
	(void)state;
	mb_string(MB2_TAG_CMDLINE, "");
	mb_string(MB2_TAG_BOOTLOADER, "GRUB 2.06");
	mb_mmap(e820, NE820, 24);
	mb_tag(MB2_TAG_FRAMEBUFFER, 38);
	mb_efi64(0x7f9ee018);
	mb_acpi(MB2_TAG_ACPI_OLD, 20, 0x11);
	mb_acpi(MB2_TAG_ACPI_NEW, 36, 0x22);
	mb_efi_mmap();
	put64(mb_tag(20, 16) + 8, 0x7e123000);	/* EFI64 image handle, skipped */
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.path, BOOT_MB2_UEFI);
	assert_string_equal(boot_path_name(bi.path), "multiboot2-uefi");
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(bi.efi_systab, 0x7f9ee018);
	assert_int_equal(bi.rsdp_len, 36);
	assert_int_equal(((const uint8_t *)bi.rsdp)[8], 0x22);	/* the new one */
	assert_int_equal(bi.nmodules, 0);
}

/* The NEW RSDP wins whatever the order. */
static void test_acpi_new_preferred(void **state)
{
	(void)state;
	mb_mmap(e820, 1, 24);
	mb_acpi(MB2_TAG_ACPI_NEW, 36, 0x22);
	mb_acpi(MB2_TAG_ACPI_OLD, 20, 0x11);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.rsdp_len, 36);
	assert_int_equal(((const uint8_t *)bi.rsdp)[8], 0x22);
	/* A longer (ACPI 6) RSDP copy keeps its length. */
	mb_begin();
	mb_mmap(e820, 1, 24);
	mb_acpi(MB2_TAG_ACPI_NEW, 40, 0x33);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.rsdp_len, 40);
}

/* Our EFI loader: its name decides the path. */
static void test_own_loader(void **state)
{
	(void)state;
	mb_string(MB2_TAG_BOOTLOADER, MB2_LOADER_NAME_HV_EFI);
	mb_string(MB2_TAG_CMDLINE, "hv.selftest=ud");
	mb_module(0x3000000, 0x3100000, "guest0");
	mb_mmap(e820, NE820, 24);
	mb_efi64(0x7f9ee018);
	mb_acpi(MB2_TAG_ACPI_NEW, 36, 0x22);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.path, BOOT_UEFI);
	assert_string_equal(boot_path_name(bi.path), "uefi");
	assert_string_equal(bi.loader_name, "hv-efi-loader");
	assert_int_equal(bi.efi_systab, 0x7f9ee018);
	assert_int_equal(bi.nmodules, 1);
}

static void test_path_detection(void **state)
{
	(void)state;
	/* Only an EFI32 system table, or only an EFI memory map: UEFI. */
	mb_mmap(e820, 1, 24);
	mb_efi32(0x7f000000);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.path, BOOT_MB2_UEFI);
	assert_int_equal(bi.efi_systab, 0);
	mb_begin();
	mb_mmap(e820, 1, 24);
	mb_efi_mmap();
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.path, BOOT_MB2_UEFI);
	/* A name that only starts like ours is not ours. */
	mb_begin();
	mb_string(MB2_TAG_BOOTLOADER, "hv-efi-loader2");
	mb_mmap(e820, 1, 24);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.path, BOOT_MB2_BIOS);
	assert_string_equal(boot_path_name((enum boot_path)7), "unknown");
}

/* Absent strings read as "", unknown tags are skipped, entries bigger
 * than 24 bytes are stepped over correctly. */
static void test_minimal_and_unknown_tags(void **state)
{
	(void)state;
	mb_tag(0x1234, 8);
	mb_tag(99, 13);
	static const struct mb2_mmap_entry two[] = {
		{ 0x1000, 0x2000, 1, 0 }, { 0x100000, 0x300000, 2, 0 },
	};
	mb_mmap(two, 2, 40);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "");
	assert_null(bi.rsdp);
	assert_int_equal(bi.rsdp_len, 0);
	assert_int_equal(bi.nmmap, 2);
	assert_int_equal(bi.mmap[1].addr, 0x100000);
	assert_int_equal(bi.mmap[1].len, 0x300000);
	assert_int_equal(bi.mmap[1].type, 2);
	assert_int_equal(bi.path, BOOT_MB2_BIOS);
}

/* ---- the fixed part ---------------------------------------------------------- */

static void test_bad_magic(void **state)
{
	(void)state;
	build_grub_bios();
	assert_int_equal(parse_n(0x2badb002, b.len), -EINVAL);	/* multiboot 1 */
	assert_true(test_log_has("hv: boot: bad multiboot2 magic 0x2badb002 (expected 0x36d76289)\n"));
	/* Nothing is read from the block then, not even its size. */
	free(copy);
	copy = NULL;
	test_log_clear();
	assert_int_equal(mb2_parse(0, NULL, 0, &bi), -EINVAL);
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, NULL, 0, &bi), -EINVAL);
	assert_true(test_log_has("hv: boot: no multiboot2 info (NULL pointer)\n"));
}

static void test_total_size_bounds(void **state)
{
	(void)state;
	mb_end();
	put32(0, 8);
	expect_error(-EINVAL, "hv: boot: multiboot2 info total_size 8 is too small (minimum 16)\n");
	put32(0, 0);
	expect_error(-EINVAL, "total_size 0 is too small");
	/* A huge size is refused before anything past the header is read
	 * (the copy is only 16 bytes). */
	put32(0, (1u << 20) + 1);
	expect_error(-EINVAL, "hv: boot: multiboot2 info total_size 1048577 is too large "
		     "(maximum 1048576)\n");
	put32(0, 0xffffffffu);
	expect_error(-EINVAL, "too large");
}

/* Just an END tag: well-formed, but there is no memory map. */
static void test_no_mmap(void **state)
{
	(void)state;
	mb_end();
	expect_error(-ENODATA, "hv: boot: no memory map in the multiboot2 info (tag type 6)\n");
	mb_begin();
	mb_string(MB2_TAG_CMDLINE, "x");
	mb_efi64(0x1000);
	mb_end();
	expect_error(-ENODATA, "no memory map");
}

/* ---- tag structure --------------------------------------------------------------- */

static void test_tag_past_end(void **state)
{
	(void)state;
	mb_mmap(e820, NE820, 24);
	uint32_t off = mb_tag(MB2_TAG_CMDLINE, 12);
	memcpy(b.buf + off + 8, "abc", 4);
	mb_end();
	put32(off + 4, 200);
	char msg[128];
	snprintf(msg, sizeof(msg), "hv: boot: multiboot2 tag 1 (type 1, size 200 at offset %u) "
		 "runs past the end of the info (%u bytes)\n", off, b.len);
	expect_error(-EINVAL, msg);
	/* A total_size that cuts the block short does the same. */
	mb_begin();
	build_grub_bios();
	put32(0, b.len - 24);
	assert_int_equal(parse_n(MB2_BOOTLOADER_MAGIC, b.len - 24), -EINVAL);
	assert_true(test_log_has("runs past the end of the info"));
}

static void test_missing_end(void **state)
{
	(void)state;
	mb_mmap(e820, NE820, 24);
	put32(0, b.len);
	char msg[128];
	snprintf(msg, sizeof(msg), "hv: boot: multiboot2 info truncated at tag 1: no END tag "
		 "within its %u bytes\n", b.len);
	expect_error(-EINVAL, msg);
	/* The last tag's padding would run past the end: no room for END. */
	mb_begin();
	mb_mmap(e820, 1, 24);
	mb_tag(0x77, 12);
	put32(0, b.len - 4);	/* the block ends right after the tag */
	assert_int_equal(parse_n(MB2_BOOTLOADER_MAGIC, b.len - 4), -EINVAL);
	assert_true(test_log_has("truncated at tag 2"));
	/* An END tag with the wrong size. */
	mb_begin();
	mb_mmap(e820, 1, 24);
	mb_tag(MB2_TAG_END, 16);
	put32(0, b.len);
	expect_error(-EINVAL, "hv: boot: multiboot2 END tag has size 16, expected 8\n");
}

static void test_bytes_after_end(void **state)
{
	(void)state;
	mb_mmap(e820, 1, 24);
	mb_end();
	mb_tag(MB2_TAG_CMDLINE, 16);	/* after END: never looked at */
	put32(0, b.len);
	assert_int_equal(parse(), 0);
	assert_true(test_log_has("hv: boot: ignoring 16 bytes after the multiboot2 END tag\n"));
	assert_string_equal(bi.cmdline, "");
}

static void test_tag_size_below_header(void **state)
{
	(void)state;
	mb_tag(0x1234, 8);
	uint32_t off = mb_tag(0x99, 8);
	mb_mmap(e820, 1, 24);
	mb_end();
	put32(off + 4, 4);
	expect_error(-EINVAL, "hv: boot: multiboot2 tag 1 (type 153) has size 4, less than its "
		     "header\n");
	put32(off + 4, 0);	/* would loop forever if accepted */
	expect_error(-EINVAL, "has size 0, less than its header");
}

/* Each string must end inside its own tag, not in the padding after it. */
static void test_unterminated_strings(void **state)
{
	(void)state;
	uint32_t off = mb_tag(MB2_TAG_CMDLINE, 11);
	memcpy(b.buf + off + 8, "abc", 3);
	mb_mmap(e820, 1, 24);
	mb_end();
	expect_error(-EINVAL, "hv: boot: multiboot2 command line string (tag 0) is not "
		     "NUL-terminated\n");

	mb_begin();
	mb_mmap(e820, 1, 24);
	off = mb_tag(MB2_TAG_BOOTLOADER, 8 + 8);
	memcpy(b.buf + off + 8, "GRUB 2.0", 8);
	mb_end();
	expect_error(-EINVAL, "boot loader name string (tag 1) is not NUL-terminated");

	mb_begin();
	mb_mmap(e820, 1, 24);
	off = mb_tag(MB2_TAG_MODULE, 16 + 5);
	put32(off + 8, 0x100000);
	put32(off + 12, 0x200000);
	memcpy(b.buf + off + 16, "guest", 5);
	mb_end();
	expect_error(-EINVAL, "module string (tag 1) is not NUL-terminated");
}

static void expect_too_small(uint32_t type, uint32_t size, const char *msg)
{
	mb_begin();
	mb_mmap(e820, 1, 24);
	mb_tag(type, size);
	mb_end();
	expect_error(-EINVAL, msg);
}

static void test_tag_minimum_sizes(void **state)
{
	(void)state;
	expect_too_small(MB2_TAG_CMDLINE, 8,
			 "hv: boot: multiboot2 command line tag (tag 1) has size 8, need at least 9\n");
	expect_too_small(MB2_TAG_BOOTLOADER, 8, "boot loader name tag (tag 1) has size 8, need at least 9");
	expect_too_small(MB2_TAG_MODULE, 16, "module tag (tag 1) has size 16, need at least 17");
	expect_too_small(MB2_TAG_MMAP, 12, "memory map tag (tag 1) has size 12, need at least 16");
	expect_too_small(MB2_TAG_EFI32, 8, "EFI32 system table tag (tag 1) has size 8, need at least 12");
	expect_too_small(MB2_TAG_EFI64, 12, "EFI64 system table tag (tag 1) has size 12, need at least 16");
	expect_too_small(MB2_TAG_ACPI_OLD, 27, "ACPI old RSDP tag (tag 1) has size 27, need at least 28");
	expect_too_small(MB2_TAG_ACPI_NEW, 28, "ACPI new RSDP tag (tag 1) has size 28, need at least 44");
	expect_too_small(MB2_TAG_EFI_MMAP, 12, "EFI memory map tag (tag 1) has size 12, need at least 16");
}

/* ---- the memory map ----------------------------------------------------------------- */

static void test_mmap_entry_size(void **state)
{
	(void)state;
	static const uint32_t bad[] = { 0, 8, 20, 28 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mb_begin();
		uint32_t off = mb_mmap(e820, 2, 24);
		put32(off + 8, bad[i]);
		mb_end();
		char msg[128];
		snprintf(msg, sizeof(msg), "hv: boot: multiboot2 memory map entry_size %u is invalid "
			 "(need a multiple of 8, at least 24)\n", bad[i]);
		expect_error(-EINVAL, msg);
	}
	/* Valid, but bigger than what the tag holds. */
	mb_begin();
	uint32_t off = mb_mmap(e820, 2, 24);
	put32(off + 8, 64);
	mb_end();
	expect_error(-EINVAL, "hv: boot: multiboot2 memory map entry_size 64 is larger than its "
		     "48 bytes of entries\n");
}

static void test_mmap_stray_and_empty(void **state)
{
	(void)state;
	/* 2 entries and 8 bytes that are not a whole entry. */
	uint32_t off = mb_tag(MB2_TAG_MMAP, 16 + 2 * 24 + 8);
	put32(off + 8, 24);
	put64(off + 16, 0x1000);
	put64(off + 24, 0x9000);
	put32(off + 32, 1);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.nmmap, 2);
	assert_int_equal(bi.mmap[0].len, 0x9000);
	assert_true(test_log_has("hv: boot: multiboot2 memory map has 8 stray bytes after its 2 "
				 "entries\n"));
	/* No entries at all is a (useless) memory map, not a missing one. */
	mb_begin();
	mb_mmap(e820, 0, 24);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.nmmap, 0);
}

static void test_mmap_too_many_entries(void **state)
{
	(void)state;
	static struct mb2_mmap_entry many[300];
	for (uint32_t i = 0; i < 300; i++)
		many[i] = (struct mb2_mmap_entry){ i * 0x10000ull, 0x8000, 1 + i % 5, 0 };
	mb_mmap(many, 300, 32);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_true(test_log_has("hv: boot: memory map has 300 entries, using the first 256\n"));
	assert_int_equal(bi.nmmap, BOOT_MAX_MMAP);
	assert_int_equal(bi.mmap[255].addr, 255 * 0x10000ull);
	assert_int_equal(bi.mmap[255].type, 1 + 255 % 5);
}

/* ---- modules ------------------------------------------------------------------------- */

static unsigned log_count(const char *needle)
{
	unsigned n = 0;
	for (const char *p = test_log(); (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_too_many_modules(void **state)
{
	(void)state;
	char name[16];
	mb_mmap(e820, 1, 24);
	for (uint32_t i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "mod%u", i);
		mb_module(0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, name);
	}
	mb_end();
	assert_int_equal(parse(), 0);
	assert_int_equal(bi.nmodules, BOOT_MAX_MODULES);
	assert_string_equal(bi.modules[63].string, "mod63");
	assert_int_equal(bi.modules[63].start, 0x1000000 + 63 * 0x1000);
	assert_int_equal(log_count("hv: boot: more than 64 boot modules, ignoring the rest\n"), 1);
}

static void test_module_start_after_end(void **state)
{
	(void)state;
	mb_mmap(e820, 1, 24);
	mb_module(0x300000, 0x200000, "backwards");
	mb_end();
	expect_error(-EINVAL, "hv: boot: multiboot2 module (tag 1) starts at 0x300000, after its "
		     "end 0x200000\n");
}

static void test_duplicates_keep_first(void **state)
{
	(void)state;
	static const struct mb2_mmap_entry other = { 0x5000, 0x1000, 1, 0 };
	mb_string(MB2_TAG_CMDLINE, "first");
	mb_string(MB2_TAG_CMDLINE, "second");
	mb_mmap(e820, NE820, 24);
	mb_mmap(&other, 1, 24);
	mb_efi64(0x1111000);
	mb_efi64(0x2222000);
	mb_end();
	assert_int_equal(parse(), 0);
	assert_string_equal(bi.cmdline, "first");
	assert_int_equal(bi.nmmap, NE820);
	assert_int_equal(bi.efi_systab, 0x1111000);
	assert_true(test_log_has("hv: boot: ignoring duplicate multiboot2 command line tag (tag 1)\n"));
	assert_true(test_log_has("ignoring duplicate multiboot2 memory map tag (tag 3)"));
	assert_true(test_log_has("ignoring duplicate multiboot2 EFI64 system table tag (tag 5)"));
}

/* ---- garbage in ------------------------------------------------------------------------- */

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool inside(const void *p, size_t len)
{
	const uint8_t *c = copy, *q = p;
	return q >= c && q + len <= c + b.len;
}

static bool string_inside(const char *s)
{
	if (!inside(s, 1))
		return false;
	size_t max = (size_t)((const uint8_t *)copy + b.len - (const uint8_t *)s);
	return memchr(s, 0, max) != NULL;
}

/*
 * Mutate a valid block at random (bytes, tag sizes, total_size) and parse
 * it: never a read outside the block (ASan), and whatever is accepted
 * points inside it.
 */
static void test_fuzz_mutations(void **state)
{
	static struct mb pristine;
	unsigned accepted = 0, rejected = 0;
	(void)state;
	build_grub_bios();
	pristine = b;
	for (int iter = 0; iter < 20000; iter++) {
		b = pristine;
		unsigned nmut = 1 + (unsigned)(rnd() % 4);
		for (unsigned k = 0; k < nmut; k++) {
			uint32_t off = (uint32_t)(rnd() % b.len);
			switch (rnd() % 4) {
			case 0:
				b.buf[off] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 1:	/* a size-ish field */
				put32(off & ~3u, (uint32_t)(rnd() % 512));
				break;
			case 2:
				b.buf[off] = 0;
				break;
			default:
				b.buf[off] = (uint8_t)rnd();
				break;
			}
		}
		if (rnd() % 8 == 0)
			put32(0, (uint32_t)(rnd() % (b.len + 1)));
		uint32_t total;
		memcpy(&total, b.buf, 4);
		/* The block is total_size bytes (the parser must trust that
		 * much), when that is within bounds. */
		size_t len = total >= 16 && total <= (1u << 20) ? total : b.len;
		int err = parse_n(MB2_BOOTLOADER_MAGIC, len);
		if (err) {
			assert_true(err == -EINVAL || err == -ENODATA);
			assert_true(test_log_has("hv: boot: "));
			rejected++;
			continue;
		}
		accepted++;
		uint32_t save_len = b.len;
		b.len = (uint32_t)len;
		assert_true(string_inside(bi.cmdline) || bi.cmdline[0] == '\0');
		assert_true(string_inside(bi.loader_name) || bi.loader_name[0] == '\0');
		assert_true(bi.nmodules <= BOOT_MAX_MODULES);
		for (uint32_t i = 0; i < bi.nmodules; i++) {
			assert_true(string_inside(bi.modules[i].string));
			assert_true(bi.modules[i].start <= bi.modules[i].end);
		}
		assert_true(bi.nmmap <= BOOT_MAX_MMAP);
		assert_true(!bi.rsdp || inside(bi.rsdp, bi.rsdp_len));
		assert_true(bi.rsdp_len == 0 || bi.rsdp_len >= 20);
		b.len = save_len;
	}
	if (getenv("TEST_VERBOSE"))
		fprintf(stderr, "fuzz: %u accepted, %u rejected\n", accepted, rejected);
	assert_true(accepted > 100 && rejected > 100);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_grub_bios),
		T(test_grub_uefi),
		T(test_acpi_new_preferred),
		T(test_own_loader),
		T(test_path_detection),
		T(test_minimal_and_unknown_tags),
		T(test_bad_magic),
		T(test_total_size_bounds),
		T(test_no_mmap),
		T(test_tag_past_end),
		T(test_missing_end),
		T(test_bytes_after_end),
		T(test_tag_size_below_header),
		T(test_unterminated_strings),
		T(test_tag_minimum_sizes),
		T(test_mmap_entry_size),
		T(test_mmap_stray_and_empty),
		T(test_mmap_too_many_entries),
		T(test_too_many_modules),
		T(test_module_start_after_end),
		T(test_duplicates_keep_first),
		T(test_fuzz_mutations),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
