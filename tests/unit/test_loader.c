/*
 * Tests for vmm/load/loader*.c (guest_load, guest_load_args). Small builders
 * assemble ELF32 and ELF64 file headers and program headers (ELF gABI),
 * multiboot2 headers (Multiboot2 spec 2.0, 3.1), multiboot headers
 * (Multiboot 0.6.96, 3.1) and Linux bzImage setup headers (Linux
 * Documentation/arch/x86/boot.rst) byte by byte; the boot information the
 * loader builds is parsed back (Multiboot2 3.6, Multiboot 3.3, boot_params).
 * With LINUX_BZIMAGE=path a real kernel is loaded too (else that test is
 * skipped). Each image (and initrd, and module) is handed over in an
 * exact-size heap copy and guest memory is a heap buffer of exactly the
 * domain's size, so ASan catches any read past the image or write past
 * the memory. Domains "above 4 GiB" get an inaccessible (PROT_NONE)
 * reservation instead: only failing loads use them, and those must not
 * touch guest memory at all.
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot/multiboot2.h"
#include "kernel/errno.h"
#include "tests/unit/host_stubs.h"
#include "vmm/load/loader.h"

#define MIB (1024ull * 1024ull)
#define GIB (1024ull * MIB)
#define POISON 0xaa

/* ---- guest memory ---------------------------------------------------------- */

static uint8_t *mem;
static uint64_t mem_size;
static bool mem_mapped;		/* a PROT_NONE reservation, not a heap buffer */

static void mem_free(void)
{
	if (mem_mapped)
		munmap(mem, mem_size);
	else
		free(mem);
	mem = NULL;
	mem_mapped = false;
}

static void mem_new(uint64_t size)
{
	mem_free();
	mem = malloc(size);
	assert_non_null(mem);
	memset(mem, POISON, size);
	mem_size = size;
}

/* `size` bytes of address space that fault on any access. */
static void mem_reserve(uint64_t size)
{
	mem_free();
	void *p = mmap(NULL, size, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(p != MAP_FAILED);
	mem = p;
	mem_size = size;
	mem_mapped = true;
}

static bool mem_all(uint64_t from, uint64_t to, uint8_t v)
{
	for (uint64_t i = from; i < to; i++)
		if (mem[i] != v)
			return false;
	return true;
}

/* ---- the image builder ----------------------------------------------------- */

#define IMG_MAX (256u * 1024u)

static uint8_t ib[IMG_MAX];
static size_t ilen;		/* bytes of ib that make up the image */
static uint8_t *image;		/* the exact-size copy last loaded */

static void img_begin(void)
{
	memset(ib, 0, sizeof(ib));
	ilen = 0;
}

static void touch(size_t off, size_t n)
{
	assert_true(off <= IMG_MAX && n <= IMG_MAX - off);
	if (off + n > ilen)
		ilen = off + n;
}

static void p8(size_t off, uint8_t v) { touch(off, 1); ib[off] = v; }
static void p16(size_t off, uint16_t v) { touch(off, 2); memcpy(ib + off, &v, 2); }
static void p32(size_t off, uint32_t v) { touch(off, 4); memcpy(ib + off, &v, 4); }
static void p64(size_t off, uint64_t v) { touch(off, 8); memcpy(ib + off, &v, 8); }

/* Recognisable bytes: code, data. */
static void fill(size_t off, size_t n, uint8_t seed)
{
	touch(off, n);
	for (size_t i = 0; i < n; i++)
		ib[off + i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* ELF file header (gABI "ELF Header"); program headers right after it
 * at offset 64 (both classes). Offsets of the fields that differ: */
#define PHOFF 64u
#define E_TYPE 16
#define E_MACHINE 18
#define E_PHOFF(b) ((b) == 64 ? 32 : 28)
#define E_PHENTSIZE(b) ((b) == 64 ? 54 : 42)
#define E_PHNUM(b) ((b) == 64 ? 56 : 44)
#define PHSIZE(b) ((b) == 64 ? 56u : 32u)

static void elf_hdr(int bits, uint64_t entry, uint16_t phnum)
{
	memcpy(ib, "\177ELF", 4);
	touch(0, bits == 64 ? 64 : 52);
	p8(4, bits == 64 ? 2 : 1);	/* EI_CLASS */
	p8(5, 1);			/* EI_DATA: little endian */
	p8(6, 1);			/* EI_VERSION */
	p16(E_TYPE, 2);			/* ET_EXEC */
	p16(E_MACHINE, bits == 64 ? 62 : 3);
	p32(20, 1);
	if (bits == 64) {
		p64(24, entry);
		p64(32, PHOFF);
		p16(52, 64);
	} else {
		p32(24, (uint32_t)entry);
		p32(28, PHOFF);
		p16(40, 52);
	}
	p16(E_PHENTSIZE(bits), (uint16_t)PHSIZE(bits));
	p16(E_PHNUM(bits), phnum);
}

static void elf_phdr(int bits, unsigned i, uint32_t type, uint64_t off,
		     uint64_t vaddr, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	size_t ph = PHOFF + i * PHSIZE(bits);
	p32(ph, type);
	if (bits == 64) {
		p32(ph + 4, 5);
		p64(ph + 8, off);
		p64(ph + 16, vaddr);
		p64(ph + 24, paddr);
		p64(ph + 32, filesz);
		p64(ph + 40, memsz);
		p64(ph + 48, 0x1000);
	} else {
		p32(ph + 4, (uint32_t)off);
		p32(ph + 8, (uint32_t)vaddr);
		p32(ph + 12, (uint32_t)paddr);
		p32(ph + 16, (uint32_t)filesz);
		p32(ph + 20, (uint32_t)memsz);
		p32(ph + 24, 5);
		p32(ph + 28, 0x1000);
	}
}

/* Multiboot2 header (3.1.2) and its tags (3.1.3 ff.). */
static size_t mbh_off, mbh_pos;

static void mbh_begin(size_t off)
{
	mbh_off = off;
	mbh_pos = off + 16;
	p32(off, MB2_HEADER_MAGIC);
	p32(off + 4, MB2_ARCH_I386);
}

static size_t mbh_tag(uint16_t type, uint16_t flags, uint32_t size)
{
	size_t t = mbh_pos;
	p16(t, type);
	p16(t + 2, flags);
	p32(t + 4, size);
	touch(t, size);
	mbh_pos += (size + 7) & ~7u;
	return t;
}

static void mbh_addr(uint32_t header_addr, uint32_t load, uint32_t load_end, uint32_t bss_end)
{
	size_t t = mbh_tag(2, 0, 24);
	p32(t + 8, header_addr);
	p32(t + 12, load);
	p32(t + 16, load_end);
	p32(t + 20, bss_end);
}

static void mbh_entry(uint32_t entry)
{
	p32(mbh_tag(MB2_HDR_TAG_ENTRY, 0, 12) + 8, entry);
}

/* The END tag, header_length and the checksum. */
static void mbh_end(void)
{
	mbh_tag(0, 0, 8);
	uint32_t len = (uint32_t)(mbh_pos - mbh_off);
	p32(mbh_off + 8, len);
	p32(mbh_off + 12, -(uint32_t)(MB2_HEADER_MAGIC + MB2_ARCH_I386 + len));
}

/* ---- a typical kernel ------------------------------------------------------- */

/* Text (with the multiboot2 header at its start) and data + bss. */
#define TEXT_OFF    0x1000u
#define TEXT_PADDR  0x100000u
#define TEXT_SIZE   0x1000u
#define DATA_OFF    0x2000u
#define DATA_PADDR  0x101000u
#define DATA_FILESZ 0x100u
#define DATA_MEMSZ  0x2f10u	/* ends at 0x103f10: not page aligned */
#define KERNEL_END  (DATA_PADDR + DATA_MEMSZ)
#define ENTRY       0x100200u
#define HIGH_HALF   0xffffffff80000000ull

enum kflags {
	K_MB2 = 1,		/* with a multiboot2 header */
	K_HIGH = 2,		/* virtual addresses in the top 2 GiB */
};

/* The multiboot2 header is left open for more tags; kernel_done() ends it. */
static void kernel_begin(int bits, unsigned flags)
{
	uint64_t v = flags & K_HIGH ? HIGH_HALF : 0;

	img_begin();
	elf_hdr(bits, v + ENTRY, 2);
	elf_phdr(bits, 0, 1, TEXT_OFF, v + TEXT_PADDR, TEXT_PADDR, TEXT_SIZE, TEXT_SIZE);
	elf_phdr(bits, 1, 1, DATA_OFF, v + DATA_PADDR, DATA_PADDR, DATA_FILESZ, DATA_MEMSZ);
	fill(TEXT_OFF, TEXT_SIZE, 0x90);
	fill(DATA_OFF, DATA_FILESZ, 0x11);
	if (flags & K_MB2)
		mbh_begin(TEXT_OFF);
}

static void kernel_done(unsigned flags)
{
	if (flags & K_MB2)
		mbh_end();
}

static void kernel(int bits, unsigned flags)
{
	kernel_begin(bits, flags);
	kernel_done(flags);
}

/* ---- loading and checking ---------------------------------------------------- */

static struct guest_entry ge;

/* What the next load gets besides the image: initrd, modules, RSDP, RAM.
 * All zero: it goes through guest_load, else through guest_load_args. */
static struct guest_load_args xa;

static int load_cmd(const char *cmdline)
{
	free(image);
	image = malloc(ilen ? ilen : 1);
	assert_non_null(image);
	memcpy(image, ib, ilen);
	test_log_clear();
	if (!xa.initrd && !xa.modules && !xa.acpi_rsdp && !xa.ram_size && !xa.reserved &&
	    !xa.kernel_name)
		return guest_load("dom1", image, ilen, mem, mem_size, cmdline, &ge);
	struct guest_load_args a = xa;
	a.name = "dom1";
	a.image = image;
	a.len = ilen;
	a.mem = mem;
	a.mem_size = mem_size;
	a.cmdline = cmdline;
	return guest_load_args(&a, &ge);
}

static int load(void) { return load_cmd("console=ttyS0 quiet"); }

static void expect_ok(void)
{
	int err = load();
	if (err)
		fprintf(stderr, "log was: %s", test_log());
	assert_int_equal(err, 0);
	assert_string_equal(test_log(), "");
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A failure: the code, exactly one line naming the domain with `msg` in
 * it, nothing written to guest memory and nothing to enter. */
static void expect_fail(int err, const char *msg)
{
	int got = load();
	if (!test_log_has(msg))
		fprintf(stderr, "log was: %s", test_log());
	assert_int_equal(got, err);
	assert_true(test_log_has(msg));
	assert_true(test_log_has("hv: domain dom1: kernel: "));
	assert_int_equal(count_lines(test_log()), 1);
	assert_int_equal(ge.rip, 0);
	assert_int_equal(ge.ebx, 0);
	assert_int_equal(ge.esi, 0);
	assert_int_equal(ge.info_size, 0);
	if (!mem_mapped)
		assert_true(mem_all(0, mem_size, POISON));
}

static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static uint64_t page_up(uint64_t a) { return (a + 4095) & ~4095ull; }

/* The RAM the memory maps must report. */
static uint64_t ram(void) { return xa.ram_size > mem_size ? xa.ram_size : mem_size; }

/* The memory map every boot protocol must give (types 1 RAM, 2 reserved,
 * 3 ACPI): the RAM from 0 -- for Linux with an RSDP, the ACPI area
 * 0xe0000-0xfffff cut out of it as ACPI data -- then xa's reserved ranges,
 * sorted by address. Returns the count. */
struct map_ent { uint64_t addr, size; uint32_t type; };
#define MAP_MAX (3 + GUEST_MAX_RESERVED)

static unsigned want_map(bool linux_acpi, struct map_ent *m)
{
	unsigned n = 0;

	if (linux_acpi && xa.acpi_rsdp && ram() >= GUEST_ACPI_END) {
		m[n++] = (struct map_ent){ 0, GUEST_ACPI_BASE, 1 };
		m[n++] = (struct map_ent){ GUEST_ACPI_BASE, GUEST_ACPI_END - GUEST_ACPI_BASE, 3 };
		m[n++] = (struct map_ent){ GUEST_ACPI_END, ram() - GUEST_ACPI_END, 1 };
	} else {
		m[n++] = (struct map_ent){ 0, ram(), 1 };
	}
	unsigned first = n;
	for (uint32_t i = 0; i < xa.nreserved; i++) {
		struct map_ent e = { xa.reserved[i].base, xa.reserved[i].size, 2 };
		unsigned k = n++;
		while (k > first && m[k - 1].addr > e.addr) {
			m[k] = m[k - 1];
			k--;
		}
		m[k] = e;
	}
	return n;
}

/* Module i of xa as the boot information gives it (start, end exclusive):
 * right after what precedes it (*prev: the info block's end, then the
 * module before) at the start of a page, holding its bytes. */
static void check_module(uint32_t i, uint64_t start, uint64_t end, uint64_t *prev)
{
	assert_true(i < xa.nmodules);
	const struct guest_module *m = &xa.modules[i];
	assert_int_equal(start, page_up(*prev));
	assert_int_equal(end - start, m->len);
	assert_true(end <= mem_size);
	if (m->len)
		assert_memory_equal(mem + start, m->data, m->len);
	assert_true(mem_all(*prev, start, POISON));
	*prev = end;
}

/* Nothing after the last module (or the info block) was written. */
static void check_after_modules(uint64_t end)
{
	assert_true(mem_all(end, mem_size, POISON));
}

/* Parse the boot information back (3.6) and check every tag. */
static void check_info(const char *cmdline)
{
	uint64_t at = (ge.image_end + 4095) & ~4095ull;
	assert_int_equal(ge.eax, MB2_BOOTLOADER_MAGIC);
	assert_int_equal(ge.ebx, at);
	assert_true(ge.ebx + (uint64_t)ge.info_size <= mem_size);

	const uint8_t *info = mem + ge.ebx;
	uint32_t total = rd32(info);
	assert_int_equal(total, ge.info_size);
	assert_int_equal(rd32(info + 4), 0);
	assert_int_equal(total % 8, 0);

	unsigned seen[8] = { 0 };
	uint32_t off = 8, mods = 0;
	uint64_t mod_end = ge.ebx + (uint64_t)ge.info_size;
	for (;;) {
		assert_int_equal(off % 8, 0);
		assert_true(off + 8 <= total);
		uint32_t type = rd32(info + off), size = rd32(info + off + 4);
		assert_true(size >= 8 && size <= total - off);
		assert_true(type < 8);
		seen[type]++;
		const uint8_t *t = info + off;
		switch (type) {
		case MB2_TAG_CMDLINE:
			assert_int_equal(size, 8 + strlen(cmdline) + 1);
			assert_string_equal((const char *)t + 8, cmdline);
			break;
		case MB2_TAG_BOOTLOADER:
			assert_int_equal(size, 8 + 3);
			assert_string_equal((const char *)t + 8, "hv");
			break;
		case MB2_TAG_BASIC_MEMINFO: {
			uint64_t lower = ram() / 1024 < 640 ? ram() / 1024 : 640;
			uint64_t upper = ram() > MIB ? (ram() - MIB) / 1024 : 0;
			assert_int_equal(size, 16);
			assert_int_equal(rd32(t + 8), lower);
			assert_int_equal(rd32(t + 12), upper);
			break;
		}
		case MB2_TAG_MMAP: {
			struct map_ent m[MAP_MAX];
			unsigned n = want_map(false, m);
			assert_int_equal(size, 16 + 24 * n);
			assert_int_equal(rd32(t + 8), 24);
			assert_int_equal(rd32(t + 12), 0);
			for (unsigned i = 0; i < n; i++) {
				const uint8_t *e = t + 16 + 24 * i;
				assert_int_equal(rd64(e), m[i].addr);
				assert_int_equal(rd64(e + 8), m[i].size);
				assert_int_equal(rd32(e + 16), m[i].type);
				assert_int_equal(rd32(e + 20), 0);
			}
			assert_int_equal(m[0].type, MB2_MEM_AVAILABLE);
			break;
		}
		case MB2_TAG_MODULE: {
			assert_true(mods < xa.nmodules);
			const char *str = xa.modules[mods].string ? xa.modules[mods].string : "";
			assert_int_equal(size, 16 + strlen(str) + 1);
			assert_string_equal((const char *)t + 16, str);
			check_module(mods++, rd32(t + 8), rd32(t + 12), &mod_end);
			break;
		}
		case MB2_TAG_END:
			assert_int_equal(size, 8);
			assert_int_equal(off + 8, total);
			break;
		default:
			fail_msg("unexpected info tag %u", type);
		}
		if (type == MB2_TAG_END)
			break;
		off += (size + 7) & ~7u;
	}
	for (unsigned i = 0; i < 8; i++) {
		bool want = i == MB2_TAG_END || i == MB2_TAG_CMDLINE || i == MB2_TAG_BOOTLOADER ||
			    i == MB2_TAG_BASIC_MEMINFO || i == MB2_TAG_MMAP;
		if (i == MB2_TAG_MODULE)
			assert_int_equal(seen[i], xa.nmodules);
		else
			assert_int_equal(seen[i], want ? 1 : 0);
	}
	if (xa.nmodules && !mem_mapped)
		check_after_modules(mod_end);
}

/* The typical kernel's bytes landed where its program headers say. */
static void check_kernel_loaded(void)
{
	assert_memory_equal(mem + TEXT_PADDR, image + TEXT_OFF, TEXT_SIZE);
	assert_memory_equal(mem + DATA_PADDR, image + DATA_OFF, DATA_FILESZ);
	assert_true(mem_all(DATA_PADDR + DATA_FILESZ, KERNEL_END, 0));	/* bss */
	assert_true(mem_all(0, TEXT_PADDR, POISON));
	assert_true(mem_all(KERNEL_END, 0x104000, POISON));	/* up to the info */
	assert_int_equal(ge.image_end, KERNEL_END);
	assert_int_equal(ge.ebx, 0x104000);
	assert_true(mem_all(0x104000 + ge.info_size, mem_size, POISON));
}

/* Exact-size heap copies of an initrd and of modules' data, freed by
 * teardown. */
#define MAX_BUFS 8
static void *bufs[MAX_BUFS];

static const void *heap_bytes(size_t n, uint8_t seed)
{
	for (unsigned i = 0; i < MAX_BUFS; i++) {
		if (bufs[i])
			continue;
		uint8_t *p = malloc(n ? n : 1);
		assert_non_null(p);
		for (size_t k = 0; k < n; k++)
			p[k] = (uint8_t)(seed + k * 13 + (k >> 9));
		bufs[i] = p;
		return p;
	}
	fail_msg("too many test buffers");
	return NULL;
}

static void set_initrd(size_t n)
{
	xa.initrd = heap_bytes(n, 0x5a);
	xa.initrd_len = n;
}

static struct guest_module mods[4];

static void set_modules(uint32_t n, const size_t *lens, const char *const *strings)
{
	assert_true(n <= 4);
	for (uint32_t i = 0; i < n; i++) {
		mods[i].data = heap_bytes(lens[i], (uint8_t)(0x20 * (i + 1)));
		mods[i].len = lens[i];
		mods[i].string = strings[i];
	}
	xa.modules = mods;
	xa.nmodules = n;
}

static int setup(void **state)
{
	(void)state;
	img_begin();
	mem_new(16 * MIB);
	memset(&ge, 0, sizeof(ge));
	memset(&xa, 0, sizeof(xa));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mem_free();
	free(image);
	image = NULL;
	for (unsigned i = 0; i < MAX_BUFS; i++) {
		free(bufs[i]);
		bufs[i] = NULL;
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------------ */

static void test_elf32_mb2_kernel(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	expect_ok();
	check_kernel_loaded();
	assert_int_equal(ge.rip, ENTRY);
	check_info("console=ttyS0 quiet");
}

static void test_entry_tag_overrides(void **state)
{
	(void)state;
	kernel_begin(32, K_MB2);
	mbh_entry(DATA_PADDR + 0x40);
	kernel_done(K_MB2);
	expect_ok();
	assert_int_equal(ge.rip, DATA_PADDR + 0x40);
	/* In the bss part of a segment still counts as inside. */
	kernel_begin(64, K_MB2 | K_HIGH);
	mbh_entry(KERNEL_END - 1);
	kernel_done(K_MB2);
	expect_ok();
	assert_int_equal(ge.rip, KERNEL_END - 1);
}

/* Like the hypervisor itself: ELF64, identity addresses, 32-bit entry. */
static void test_elf64_mb2_kernel(void **state)
{
	(void)state;
	kernel(64, K_MB2);
	expect_ok();
	check_kernel_loaded();
	assert_int_equal(ge.rip, ENTRY);
	check_info("console=ttyS0 quiet");
}

/* A higher-half ELF64 kernel: e_entry is virtual; enter at its physical
 * address in the segment holding it (as GRUB does). */
static void test_elf64_higher_half(void **state)
{
	(void)state;
	kernel(64, K_MB2 | K_HIGH);
	expect_ok();
	check_kernel_loaded();
	assert_int_equal(ge.rip, ENTRY);
	/* The same without a multiboot2 header, and as ELF32 with vaddr in
	 * the top of the 32-bit space. */
	kernel(64, K_HIGH);
	expect_ok();
	assert_int_equal(ge.rip, ENTRY);
	img_begin();
	elf_hdr(32, 0xc0100000u + 0x10, 1);
	elf_phdr(32, 0, 1, 0x1000, 0xc0100000u, 0x100000, 0x100, 0x100);
	fill(0x1000, 0x100, 1);
	expect_ok();
	assert_int_equal(ge.rip, 0x100010);
}

static void test_plain_elf(void **state)
{
	(void)state;
	kernel(32, 0);
	expect_ok();
	check_kernel_loaded();
	assert_int_equal(ge.rip, ENTRY);
	check_info("console=ttyS0 quiet");
	kernel(64, 0);
	mem_new(16 * MIB);
	expect_ok();
	check_kernel_loaded();
	assert_int_equal(ge.rip, ENTRY);
}

/* Segments that are not PT_LOAD, and empty PT_LOADs, are not loaded; a
 * segment at guest physical 0 is fine. */
static void test_other_segments(void **state)
{
	(void)state;
	img_begin();
	elf_hdr(32, 0x10, 4);
	elf_phdr(32, 0, 4, 0x100000, 0, 0x900000, 0x100, 0x100);	/* PT_NOTE, far */
	elf_phdr(32, 1, 1, 0xdead000, 0, 0xfff00000, 0, 0);		/* empty */
	elf_phdr(32, 2, 1, 0x1000, 0, 0, 0x20, 0x20);
	elf_phdr(32, 3, 6, 0, 0, 0, 0, 0);				/* PT_PHDR */
	fill(0x1000, 0x20, 5);
	expect_ok();
	assert_int_equal(ge.rip, 0x10);
	assert_int_equal(ge.image_end, 0x20);
	assert_int_equal(ge.ebx, 0x1000);
	assert_memory_equal(mem, image + 0x1000, 0x20);
	assert_true(mem_all(0x20, 0x1000, POISON));
	assert_true(mem_all(0x900000, 0x900100, POISON));
}

/* a.out kludge (3.1.5): header 0x40 into a flat binary loaded at 2 MiB. */
#define AOUT_LOAD 0x200000u
#define AOUT_HDR  0x40u
#define AOUT_LEN  0x3000u

static void aout_begin(uint32_t load, uint32_t load_end, uint32_t bss_end)
{
	img_begin();
	fill(0, AOUT_LEN, 0x33);
	mbh_begin(AOUT_HDR);
	mbh_addr(AOUT_LOAD + AOUT_HDR, load, load_end, bss_end);
	mbh_entry(AOUT_LOAD + 0x100);
}

static void aout(uint32_t load, uint32_t load_end, uint32_t bss_end)
{
	aout_begin(load, load_end, bss_end);
	mbh_end();
}

static void test_aout_kludge(void **state)
{
	(void)state;
	/* load_end_addr 0: the whole file; then 0x1000 bytes of bss. */
	aout(AOUT_LOAD, 0, AOUT_LOAD + AOUT_LEN + 0x1000);
	expect_ok();
	assert_int_equal(ge.rip, AOUT_LOAD + 0x100);
	assert_memory_equal(mem + AOUT_LOAD, image, AOUT_LEN);
	assert_true(mem_all(AOUT_LOAD + AOUT_LEN, AOUT_LOAD + AOUT_LEN + 0x1000, 0));
	assert_int_equal(ge.image_end, AOUT_LOAD + AOUT_LEN + 0x1000);
	assert_true(mem_all(0, AOUT_LOAD, POISON));
	check_info("console=ttyS0 quiet");

	/* Part of the file, starting 0x20 bytes before the header; no bss. */
	mem_new(16 * MIB);
	aout(AOUT_LOAD + 0x20, AOUT_LOAD + 0x2000, 0);
	expect_ok();
	assert_memory_equal(mem + AOUT_LOAD + 0x20, image + 0x20, 0x2000 - 0x20);
	assert_true(mem_all(AOUT_LOAD + 0x2000, ge.ebx, POISON));
	assert_true(mem_all(0, AOUT_LOAD + 0x20, POISON));
	assert_int_equal(ge.image_end, AOUT_LOAD + 0x2000);
	assert_int_equal(ge.ebx, AOUT_LOAD + 0x2000);

	/* load_addr -1: from the file's beginning, header_addr - 0x40. */
	mem_new(16 * MIB);
	aout(0xffffffffu, 0, 0);
	expect_ok();
	assert_memory_equal(mem + AOUT_LOAD, image, AOUT_LEN);
	assert_int_equal(ge.image_end, AOUT_LOAD + AOUT_LEN);

	/* The address tag wins over ELF program headers (3.1.5). */
	kernel_begin(32, K_MB2);
	mbh_addr(0x300000, 0x300000 - TEXT_OFF, 0, 0);
	mbh_entry(0x300000);
	kernel_done(K_MB2);
	expect_ok();
	assert_int_equal(ge.rip, 0x300000);
	assert_int_equal(ge.image_end, 0x300000 - TEXT_OFF + DATA_OFF + DATA_FILESZ);
	assert_memory_equal(mem + 0x300000 - TEXT_OFF, image, ilen);
}

/* Tags we honour by ignoring them, and optional ones we do not know. */
static void test_accepted_tags(void **state)
{
	(void)state;
	kernel_begin(32, K_MB2);
	size_t t = mbh_tag(MB2_HDR_TAG_INFO_REQUEST, 0, 8 + 3 * 4);
	p32(t + 8, MB2_TAG_MMAP);
	p32(t + 12, MB2_TAG_ACPI_NEW);	/* we do not provide it: fine */
	p32(t + 16, MB2_TAG_FRAMEBUFFER);
	p32(mbh_tag(MB2_HDR_TAG_FLAGS, 0, 12) + 8, 3);
	mbh_tag(5, 0, 20);			/* framebuffer */
	mbh_tag(MB2_HDR_TAG_MODULE_ALIGN, 0, 8);
	mbh_tag(10, 0, 24);			/* relocatable */
	mbh_tag(7, 1, 8);			/* EFI boot services, optional */
	mbh_tag(8, 1, 12);			/* EFI i386 entry, optional */
	mbh_tag(9, 1, 12);			/* EFI amd64 entry, optional */
	mbh_tag(0x4242, 1, 13);			/* unknown, optional, odd size */
	kernel_done(K_MB2);
	expect_ok();
	assert_int_equal(ge.rip, ENTRY);
}

/* A stray magic that is not a good header does not hide the real one. */
static void test_header_search(void **state)
{
	(void)state;
	kernel_begin(32, 0);
	p32(TEXT_OFF - 0x100, MB2_HEADER_MAGIC);	/* a stray magic, no header */
	mbh_begin(TEXT_OFF);
	mbh_entry(ENTRY + 4);
	mbh_end();
	expect_ok();
	assert_int_equal(ge.rip, ENTRY + 4);
	/* Misaligned magics are not headers (3.1.1: 64-bit aligned). */
	kernel_begin(32, 0);
	mbh_begin(TEXT_OFF + 4);
	mbh_entry(ENTRY + 4);
	mbh_end();
	expect_ok();
	assert_int_equal(ge.rip, ENTRY);
	/* Beyond the first 32 KiB nothing is searched. */
	mem_new(16 * MIB);
	img_begin();
	fill(0, 0x9000, 0x44);
	mbh_begin(0x8000);
	mbh_addr(0x208000, 0x200000, 0, 0);
	mbh_entry(0x200000);
	mbh_end();
	expect_fail(-ENOEXEC, "not a Linux bzImage, multiboot kernel or ELF executable (bad magic)");
	/* ... while the last slot in it is. */
	img_begin();
	fill(0, 0x9000, 0x44);
	mbh_begin(0x8000 - 16);
	mbh_addr(0x200000 + 0x8000 - 16, 0x200000, 0, 0);
	mbh_entry(0x200000);
	mbh_end();
	expect_ok();
	assert_int_equal(ge.image_end, 0x209000);
}

/* NULL command line: an empty one. Small domains: meminfo follows. */
static void test_info_block(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	assert_int_equal(load_cmd(NULL), 0);
	check_info("");
	/* A long command line, odd length: padding before the next tag. */
	char cl[301];
	memset(cl, 'x', sizeof(cl) - 1);
	cl[sizeof(cl) - 1] = '\0';
	mem_new(16 * MIB);
	assert_int_equal(load_cmd(cl), 0);
	check_info(cl);
	/* 512 KiB domain: lower 512, upper 0. */
	img_begin();
	elf_hdr(32, 0x1000, 1);
	elf_phdr(32, 0, 1, 0x100, 0x1000, 0x1000, 0x10, 0x10);
	fill(0x100, 0x10, 3);
	mem_new(512 * 1024);
	expect_ok();
	assert_int_equal(ge.ebx, 0x2000);
	check_info("console=ttyS0 quiet");
	/* Just over 1 MiB. */
	mem_new(MIB + 8192);
	expect_ok();
	check_info("console=ttyS0 quiet");
	/* Info right up to the end of memory fits. */
	mem_new(0x2000 + ge.info_size);
	expect_ok();
	assert_int_equal(ge.ebx + ge.info_size, mem_size);
	check_info("console=ttyS0 quiet");
}

/* ---- failures ------------------------------------------------------------------ */

static void test_bad_magic(void **state)
{
	(void)state;
	img_begin();
	const char *junk = "MZ this is not a kernel, honest.";
	memcpy(ib, junk, strlen(junk));
	touch(0, 64);
	expect_fail(-ENOEXEC, "hv: domain dom1: kernel: not a Linux bzImage, multiboot kernel or ELF executable (bad magic)\n");
	ilen = 0;
	expect_fail(-ENOEXEC, "(bad magic)");
	ilen = 3;
	memcpy(ib, "\177EL", 3);
	expect_fail(-ENOEXEC, "(bad magic)");
	/* A multiboot2 header, but no address tag and no ELF. */
	img_begin();
	fill(0, 0x100, 1);
	mbh_begin(0x10);
	mbh_end();
	expect_fail(-ENOEXEC, "multiboot2 header has no address tag and the image is not ELF (bad magic)");
}

static void test_truncated_header(void **state)
{
	(void)state;
	kernel(32, 0);
	ilen = 51;
	expect_fail(-ENOEXEC, "truncated ELF header (51 bytes)");
	kernel(64, 0);
	ilen = 60;
	expect_fail(-ENOEXEC, "truncated ELF header (60 bytes)");
	ilen = 4;
	expect_fail(-ENOEXEC, "truncated ELF header (4 bytes)");
}

static void test_bad_elf_header(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	p8(4, 3);
	expect_fail(-ENOEXEC, "unsupported ELF class 3");
	kernel(32, K_MB2);
	p8(5, 2);
	expect_fail(-ENOEXEC, "ELF image is not little endian (EI_DATA 2)");
	kernel(64, K_MB2);
	p16(E_TYPE, 3);
	expect_fail(-ENOEXEC, "ELF type 3 is not an executable (ET_EXEC)");
	kernel(32, 0);
	p16(E_MACHINE, 40);
	expect_fail(-ENOEXEC, "ELF machine 40 is not x86");
	kernel(32, 0);
	p16(E_PHENTSIZE(32), 31);
	expect_fail(-ENOEXEC, "ELF program header size 31 is too small (want 32)");
	kernel(64, 0);
	p16(E_PHNUM(64), 0xffff);
	expect_fail(-ENOTSUP, "PN_XNUM");
}

static void test_phdrs_outside_file(void **state)
{
	(void)state;
	kernel(32, 0);
	p32(E_PHOFF(32), (uint32_t)ilen - 32);	/* one fits, two do not */
	expect_fail(-ENOEXEC, "ELF program headers at 0x20e0 (2 x 32 bytes) lie outside the 8448-byte file");
	kernel(64, 0);
	p64(E_PHOFF(64), UINT64_MAX - 8);
	expect_fail(-ENOEXEC, "ELF program headers at 0xfffffffffffffff7");
	kernel(64, 0);
	p16(E_PHNUM(64), 0x1000);
	expect_fail(-ENOEXEC, "(4096 x 56 bytes) lie outside");
}

static void test_segment_file_range(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	elf_phdr(32, 1, 1, DATA_OFF, DATA_PADDR, DATA_PADDR, DATA_FILESZ + 1, DATA_MEMSZ);
	expect_fail(-ENOEXEC, "segment 1 file range 0x2000+0x101 lies outside the 8448-byte file");
	kernel(64, K_MB2);
	elf_phdr(64, 0, 1, UINT64_MAX - 0xff, TEXT_PADDR, TEXT_PADDR, 0x200, 0x200);
	expect_fail(-ENOEXEC, "segment 0 file range 0xffffffffffffff00+0x200 lies outside");
}

static void test_filesz_above_memsz(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	elf_phdr(32, 1, 1, DATA_OFF, DATA_PADDR, DATA_PADDR, DATA_FILESZ, DATA_FILESZ - 1);
	expect_fail(-ENOEXEC, "segment 1 file size 0x100 exceeds its memory size 0xff");
	kernel(32, 0);
	elf_phdr(32, 1, 1, DATA_OFF, DATA_PADDR, DATA_PADDR, 1, 0);
	expect_fail(-ENOEXEC, "segment 1 file size 0x1 exceeds its memory size 0x0");
}

static void test_segment_outside_memory(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	elf_phdr(32, 1, 1, DATA_OFF, DATA_PADDR, 15 * MIB, DATA_FILESZ, MIB + 1);
	expect_fail(-ENOMEM, "segment 1 at 0xf00000+0x100001 lies outside the domain's 16 MiB");
	kernel(32, K_MB2);
	elf_phdr(32, 1, 1, DATA_OFF, DATA_PADDR, 16 * MIB, DATA_FILESZ, DATA_MEMSZ);
	expect_fail(-ENOMEM, "segment 1 at 0x1000000+0x2f10 lies outside");
	/* Exactly up to the end is inside, but leaves no room for the info. */
	kernel(32, K_MB2);
	elf_phdr(32, 1, 1, DATA_OFF, DATA_PADDR, 16 * MIB - DATA_MEMSZ, DATA_FILESZ, DATA_MEMSZ);
	expect_fail(-ENOMEM, "no room for the boot information");
	/* p_paddr + p_memsz wraps around 2^64. */
	kernel(64, K_MB2);
	elf_phdr(64, 1, 1, DATA_OFF, DATA_PADDR, UINT64_MAX - 0xfff, DATA_FILESZ, 0x2000);
	expect_fail(-ENOMEM, "segment 1 at 0xfffffffffffff000+0x2000 lies outside the domain's 16 MiB");
	kernel(64, K_MB2);
	elf_phdr(64, 1, 1, DATA_OFF, DATA_PADDR, 0x1000, DATA_FILESZ, UINT64_MAX);
	expect_fail(-ENOMEM, "segment 1 at 0x1000+0xffffffffffffffff lies outside");
	/* Sizes that are not whole MiB are said in KiB. */
	mem_new(1000 * 1024);
	kernel(32, 0);
	expect_fail(-ENOMEM, "segment 0 at 0x100000+0x1000 lies outside the domain's 1000 KiB");
	mem_new(1000000);
	expect_fail(-ENOMEM, "segment 0 at 0x100000+0x1000 lies outside the domain's 1000000 bytes");
	/* No name: still one clear line. */
	assert_int_equal(guest_load(NULL, image, ilen, mem, mem_size, "", &ge), -ENOMEM);
	assert_true(test_log_has("hv: domain ?: kernel: segment 0 at 0x100000+0x1000"));
}

/* A (theoretical) domain as big as the address space: the image may end
 * within a page of 2^64 and rounding up to a page must not wrap. Failing
 * loads write nothing, so a 1-byte buffer stands in for its memory. */
static void test_huge_domain(void **state)
{
	(void)state;
	uint8_t dummy = POISON;
	img_begin();
	elf_hdr(64, UINT64_MAX - 0x10, 1);
	elf_phdr(64, 0, 1, 0x1000, UINT64_MAX - 0x100, UINT64_MAX - 0x100, 0x10, 0x100);
	fill(0x1000, 0x10, 1);
	free(image);
	image = malloc(ilen);
	assert_non_null(image);
	memcpy(image, ib, ilen);
	test_log_clear();
	assert_int_equal(guest_load("dom1", image, ilen, &dummy, UINT64_MAX, "", &ge), -ENOTSUP);
	assert_true(test_log_has("entry point 0xffffffffffffffef (physical 0xffffffffffffffef) is above 4 GiB"));
	/* Entry below 4 GiB, image at the very top. */
	elf_phdr(64, 1, 1, 0x1000, 0x100000, 0x100000, 0x10, 0x10);
	p16(E_PHNUM(64), 2);
	p64(24, 0x100000);
	memcpy(image, ib, ilen);
	test_log_clear();
	assert_int_equal(guest_load("dom1", image, ilen, &dummy, UINT64_MAX, "", &ge), -ENOMEM);
	assert_true(test_log_has("no room for the boot information (104 bytes after the image's end at 0xffffffffffffffff) in the domain's 18446744073709551615 bytes"));
	assert_int_equal(dummy, POISON);
}

static void test_entry_outside_segments(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	p32(24, KERNEL_END);
	expect_fail(-ENOEXEC, "entry point 0x103f10 is outside the loaded segments");
	kernel(32, 0);
	p32(24, TEXT_PADDR - 1);
	expect_fail(-ENOEXEC, "entry point 0xfffff is outside the loaded segments");
	/* Higher half: the virtual entry is not in any segment's vaddr range
	 * (its physical number would be, but that is not what e_entry is). */
	kernel(64, K_HIGH);
	p64(24, ENTRY);
	expect_fail(-ENOEXEC, "entry point 0x100200 is outside the loaded segments");
	/* The entry tag is physical. */
	kernel_begin(32, K_MB2);
	mbh_entry(0x80000);
	kernel_done(K_MB2);
	expect_fail(-ENOEXEC, "entry point 0x80000 (multiboot2 entry address tag) is outside the loaded segments");
	kernel_begin(64, K_MB2 | K_HIGH);
	mbh_entry((uint32_t)(HIGH_HALF + ENTRY));
	kernel_done(K_MB2);
	expect_fail(-ENOEXEC, "entry point 0x80100200 (multiboot2 entry address tag)");
}

/* Multiboot2 enters in 32-bit protected mode (3.3). */
static void test_entry_above_4g(void **state)
{
	(void)state;
	/* e_entry above 4 GiB with identity segments below: not the low
	 * 32 bits, but outside. */
	kernel(64, K_MB2);
	p64(24, 0x100000000ull + ENTRY);
	expect_fail(-ENOEXEC, "entry point 0x100100200 is outside the loaded segments");
	/* A segment (and the entry in it) above 4 GiB, in a domain big
	 * enough to hold it. */
	mem_reserve(4 * GIB + 2 * MIB);
	img_begin();
	elf_hdr(64, 0x100000010ull, 1);
	elf_phdr(64, 0, 1, 0x1000, 0x100000000ull, 0x100000000ull, 0x100, 0x1000);
	fill(0x1000, 0x100, 1);
	expect_fail(-ENOTSUP, "entry point 0x100000010 (physical 0x100000010) is above 4 GiB");
	/* The image below 4 GiB but ending there: no room for the info. */
	img_begin();
	elf_hdr(64, 0xfffff010ull, 1);
	elf_phdr(64, 0, 1, 0x1000, 0xfffff000ull, 0xfffff000ull, 0x100, 0x1000);
	fill(0x1000, 0x100, 1);
	expect_fail(-ENOMEM, "no room for the boot information below 4 GiB (the image ends at 0x100000000)");
}

static void test_no_pt_load(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	p16(E_PHNUM(32), 0);
	expect_fail(-ENOEXEC, "ELF image has no loadable segments (PT_LOAD)");
	kernel(64, K_MB2);
	elf_phdr(64, 0, 4, TEXT_OFF, TEXT_PADDR, TEXT_PADDR, TEXT_SIZE, TEXT_SIZE);
	elf_phdr(64, 1, 1, DATA_OFF, DATA_PADDR, DATA_PADDR, 0, 0);
	expect_fail(-ENOEXEC, "no loadable segments");
}

static void test_bad_mb2_header(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	p32(TEXT_OFF + 12, rd32(ib + TEXT_OFF + 12) + 1);
	expect_fail(-ENOEXEC, "multiboot2 header checksum bad (header at 0x1000)");
	kernel(32, K_MB2);
	p32(TEXT_OFF + 4, 4);				/* MIPS */
	p32(TEXT_OFF + 12, rd32(ib + TEXT_OFF + 12) - 4);
	expect_fail(-ENOEXEC, "multiboot2 header at 0x1000 is for architecture 4, not i386 (0)");
	/* header_length below 16 or past the file's end. */
	kernel(32, K_MB2);
	p32(TEXT_OFF + 8, 12);
	p32(TEXT_OFF + 12, -(uint32_t)(MB2_HEADER_MAGIC + 12));
	expect_fail(-ENOEXEC, "multiboot2 header at 0x1000 has bad header_length 12");
	img_begin();
	fill(0, 0x40, 1);
	mbh_begin(0x20);
	p32(0x28, 0x28);
	p32(0x2c, -(uint32_t)(MB2_HEADER_MAGIC + 0x28));
	expect_fail(-ENOEXEC, "multiboot2 header at 0x20 has bad header_length 40 (file is 64 bytes)");
	/* A tag running past header_length; no END tag. */
	kernel_begin(32, K_MB2);
	mbh_tag(0x99, 1, 16);
	mbh_end();
	p32(TEXT_OFF + 16 + 4, 25);	/* 24 bytes are left in the header */
	expect_fail(-ENOEXEC, "multiboot2 header tag 153 at 0x1010 has size 25, past the header's end");
	kernel_begin(32, K_MB2);
	mbh_tag(0x99, 1, 4);
	mbh_end();
	expect_fail(-ENOEXEC, "multiboot2 header tag 153 at 0x1010 has size 4");
	kernel_begin(32, K_MB2);
	mbh_tag(0x99, 1, 16);
	mbh_end();
	p16(TEXT_OFF + 32, 0x98);			/* END is no more */
	p16(TEXT_OFF + 34, 1);				/* (optional) */
	expect_fail(-ENOEXEC, "multiboot2 header has no end tag");
	/* Known tags too small to hold their fields. */
	kernel_begin(32, K_MB2);
	mbh_tag(2, 0, 20);
	mbh_end();
	expect_fail(-ENOEXEC, "multiboot2 address tag has bad size 20");
	kernel_begin(32, K_MB2);
	mbh_tag(3, 0, 8);
	mbh_end();
	expect_fail(-ENOEXEC, "multiboot2 entry address tag has bad size 8");
}

static void test_required_tags(void **state)
{
	(void)state;
	kernel_begin(32, K_MB2);
	mbh_tag(42, 0, 8);
	kernel_done(K_MB2);
	expect_fail(-ENOTSUP, "unsupported required multiboot2 header tag 42");
	kernel_begin(32, K_MB2);
	mbh_tag(42, 2, 8);				/* flag bits other than 0 */
	kernel_done(K_MB2);
	expect_fail(-ENOTSUP, "unsupported required multiboot2 header tag 42");
	for (uint16_t t = 7; t <= 9; t++) {
		kernel_begin(32, K_MB2);
		mbh_tag(t, 0, t == 7 ? 8 : 12);
		kernel_done(K_MB2);
		char msg[80];
		snprintf(msg, sizeof(msg), "needs EFI boot services (multiboot2 header tag %u)", t);
		expect_fail(-ENOTSUP, msg);
	}
}

static void test_bad_address_tag(void **state)
{
	(void)state;
	aout(AOUT_LOAD + AOUT_HDR + 1, 0, 0);
	expect_fail(-ENOEXEC, "multiboot2 address tag: load_addr 0x200041 is above header_addr 0x200040");
	aout(AOUT_LOAD - 8, 0, 0);
	expect_fail(-ENOEXEC, "load_addr 0x1ffff8 is 0x48 bytes before the header, which is at file offset 0x40");
	aout(AOUT_LOAD, AOUT_LOAD - 1, 0);
	expect_fail(-ENOEXEC, "load_end_addr 0x1fffff is below load_addr 0x200000");
	aout(AOUT_LOAD, AOUT_LOAD + AOUT_LEN + 1, 0);
	expect_fail(-ENOEXEC, "load range 0x0+0x3001 runs past the end of the 12288-byte file");
	aout(AOUT_LOAD, AOUT_LOAD + 0x1000, AOUT_LOAD + 0xfff);
	expect_fail(-ENOEXEC, "bss_end_addr 0x200fff is below the load end 0x201000");
	/* load_addr -1 with header_addr below the header's file offset. */
	img_begin();
	fill(0, AOUT_LEN, 0x33);
	mbh_begin(AOUT_HDR);
	mbh_addr(0x20, 0xffffffffu, 0, 0);
	mbh_entry(0x30);
	mbh_end();
	expect_fail(-ENOEXEC, "header_addr 0x20 is below the header's file offset 0x40");
	/* No entry address tag, entry outside. */
	img_begin();
	fill(0, AOUT_LEN, 0x33);
	mbh_begin(AOUT_HDR);
	mbh_addr(AOUT_LOAD + AOUT_HDR, AOUT_LOAD, 0, 0);
	mbh_end();
	expect_fail(-ENOEXEC, "multiboot2 address tag without an entry address tag");
	aout_begin(AOUT_LOAD, 0, AOUT_LOAD + AOUT_LEN + 0x10);
	mbh_entry(AOUT_LOAD + AOUT_LEN + 0x10);		/* the later one counts */
	mbh_end();
	expect_fail(-ENOEXEC, "entry point 0x203010 is outside the loaded image 0x200000+0x3010");
	/* Outside the domain. */
	aout(AOUT_LOAD, 0, 16 * MIB + 1);
	expect_fail(-ENOMEM, "image at 0x200000+0xe00001 lies outside the domain's 16 MiB");
}

/* An image that fills the whole domain leaves no room for the info. */
static void test_no_room_for_info(void **state)
{
	(void)state;
	mem_new(MIB);
	img_begin();
	elf_hdr(32, 0x100, 1);
	elf_phdr(32, 0, 1, 0x1000, 0, 0, 0x1000, MIB);
	fill(0x1000, 0x1000, 9);
	expect_fail(-ENOMEM, "no room for the boot information (120 bytes after the image's end at 0x100000) in the domain's 1 MiB");
	/* Within a page of the end, but the block is rounded up to a page. */
	elf_phdr(32, 0, 1, 0x1000, 0, 0, 0x1000, MIB - 0xf00);
	expect_fail(-ENOMEM, "no room for the boot information");
	/* One page free: fits. */
	elf_phdr(32, 0, 1, 0x1000, 0, 0, 0x1000, MIB - 0x1000);
	expect_ok();
	assert_int_equal(ge.ebx, MIB - 0x1000);
	check_info("console=ttyS0 quiet");
	/* A command line longer than a multiboot kernel's limit is refused
	 * before it could fill the page. */
	static char cl[5000];
	memset(cl, 'y', sizeof(cl) - 1);
	mem_new(MIB);
	assert_int_equal(load_cmd(cl), -E2BIG);
	assert_true(test_log_has("hv: domain dom1: kernel: command line is 4999 bytes, at most 1023\n"));
	assert_true(mem_all(0, mem_size, POISON));
}

/* ---- multiboot2 kernels with modules (3.6.6) ----------------------------------- */

static const size_t two_lens[2] = { 0x1801, 0x20 };
static const char *const two_strings[2] = { "mod-one arg=1", NULL };

static void test_mb2_modules(void **state)
{
	(void)state;
	kernel(32, K_MB2);
	set_modules(2, two_lens, two_strings);
	expect_ok();
	assert_int_equal(ge.ebx, 0x104000);
	check_info("console=ttyS0 quiet");
	/* A plain ELF gets them the same way; an empty module takes no room
	 * but still starts a page. */
	static const size_t lens[3] = { 0, 0x10, 0 };
	static const char *const strings[3] = { "empty", "", "x" };
	memset(&xa, 0, sizeof(xa));
	set_modules(3, lens, strings);
	kernel(64, 0);
	mem_new(16 * MIB);
	expect_ok();
	check_info("console=ttyS0 quiet");
	/* More RAM than the first range: the maps say so. */
	xa.ram_size = 64 * MIB;
	mem_new(16 * MIB);
	expect_ok();
	check_info("console=ttyS0 quiet");
}

/* ---- multiboot (0.6.96) kernels ---------------------------------------------- */

#define MB1_MAGIC      0x1badb002u
#define MB1_BL_MAGIC   0x2badb002u
#define MB1_AOUT       (1u << 16)

/* Header (3.1.1): magic, flags, checksum; with flags bit 16 the address
 * fields follow (3.1.3). */
static void mb1_hdr(size_t off, uint32_t flags)
{
	p32(off, MB1_MAGIC);
	p32(off + 4, flags);
	p32(off + 8, -(MB1_MAGIC + flags));
}

static void mb1_addr(size_t off, uint32_t header_addr, uint32_t load, uint32_t load_end,
		     uint32_t bss_end, uint32_t entry)
{
	p32(off + 12, header_addr);
	p32(off + 16, load);
	p32(off + 20, load_end);
	p32(off + 24, bss_end);
	p32(off + 28, entry);
}

/* The typical ELF kernel with a multiboot header at its text's start. */
static void mb1_kernel(int bits, unsigned kflags, uint32_t flags)
{
	kernel(bits, kflags);
	mb1_hdr(TEXT_OFF, flags);
}

/* The information structure (3.3), read back. */
static void check_mb1_info(const char *cmdline)
{
	assert_int_equal(ge.eax, MB1_BL_MAGIC);
	assert_int_equal(ge.ebx, page_up(ge.image_end));
	assert_int_equal(ge.esi, 0);
	uint64_t lo = ge.ebx, hi = lo + ge.info_size;
	assert_true(hi <= mem_size);
	const uint8_t *info = mem + ge.ebx;
#define INSIDE(addr, n) assert_true((addr) >= lo && (uint64_t)(addr) + (n) <= hi)

	assert_int_equal(rd32(info), 0x24d);	/* mem, cmdline, mods, mmap, name */
	uint64_t lower = ram() / 1024 < 640 ? ram() / 1024 : 640;
	uint64_t upper = ram() > MIB ? (ram() - MIB) / 1024 : 0;
	assert_int_equal(rd32(info + 4), lower);
	assert_int_equal(rd32(info + 8), upper);
	assert_int_equal(rd32(info + 12), 0);	/* no boot device */
	uint32_t cl = rd32(info + 16);
	INSIDE(cl, strlen(cmdline) + 1);
	assert_string_equal((const char *)mem + cl, cmdline);
	uint32_t name = rd32(info + 64);
	INSIDE(name, 3);
	assert_string_equal((const char *)mem + name, "hv");
	for (unsigned off = 28; off < 44; off += 4)	/* no symbols */
		assert_int_equal(rd32(info + off), 0);

	/* Modules: {mod_start, mod_end, string, reserved}. */
	uint32_t n = rd32(info + 20), ma = rd32(info + 24);
	assert_int_equal(n, xa.nmodules);
	uint64_t end = hi;
	if (n == 0)
		assert_int_equal(ma, 0);
	else
		INSIDE(ma, 16ull * n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *m = mem + ma + 16 * i;
		const char *want = xa.modules[i].string ? xa.modules[i].string : "";
		INSIDE(rd32(m + 8), strlen(want) + 1);
		assert_string_equal((const char *)mem + rd32(m + 8), want);
		assert_int_equal(rd32(m + 12), 0);
		check_module(i, rd32(m), rd32(m + 4), &end);
	}
	if (!mem_mapped)
		check_after_modules(end);

	/* Memory map: the RAM, then the reserved ranges; each entry's size
	 * field first. */
	struct map_ent map[MAP_MAX];
	unsigned nmap = want_map(false, map);
	assert_int_equal(rd32(info + 44), 24 * nmap);
	uint32_t mm = rd32(info + 48);
	INSIDE(mm, 24 * nmap);
	for (unsigned i = 0; i < nmap; i++) {
		const uint8_t *e = mem + mm + 24 * i;
		assert_int_equal(rd32(e), 20);
		assert_int_equal(rd64(e + 4), map[i].addr);
		assert_int_equal(rd64(e + 12), map[i].size);
		assert_int_equal(rd32(e + 20), map[i].type);
	}
#undef INSIDE
}

static void test_mb1_elf_kernel(void **state)
{
	(void)state;
	mb1_kernel(32, 0, 3);		/* page-aligned modules, memory info */
	expect_ok();
	check_kernel_loaded();
	assert_int_equal(ge.rip, ENTRY);
	check_mb1_info("console=ttyS0 quiet");
	/* Higher half ELF64, two modules, video mode asked (ignored), an
	 * optional flag we do not know. */
	mb1_kernel(64, K_HIGH, 7 | (1u << 20));
	set_modules(2, two_lens, two_strings);
	mem_new(16 * MIB);
	expect_ok();
	assert_int_equal(ge.rip, ENTRY);
	check_mb1_info("console=ttyS0 quiet");
	/* An empty command line, more RAM than the first range. */
	mem_new(16 * MIB);
	xa.ram_size = 3 * GIB;
	assert_int_equal(load_cmd(NULL), 0);
	check_mb1_info("");
}

/* a.out kludge (3.1.3): header 0x40 into a flat binary loaded at 2 MiB. */
static void mb1_aout(uint32_t flags, uint32_t load, uint32_t load_end, uint32_t bss_end,
		     uint32_t entry)
{
	img_begin();
	fill(0, AOUT_LEN, 0x33);
	mb1_hdr(AOUT_HDR, flags | MB1_AOUT);
	mb1_addr(AOUT_HDR, AOUT_LOAD + AOUT_HDR, load, load_end, bss_end, entry);
}

static void test_mb1_aout_kludge(void **state)
{
	(void)state;
	mb1_aout(1, AOUT_LOAD, 0, AOUT_LOAD + AOUT_LEN + 0x1000, AOUT_LOAD + 0x100);
	expect_ok();
	assert_int_equal(ge.rip, AOUT_LOAD + 0x100);
	assert_memory_equal(mem + AOUT_LOAD, image, AOUT_LEN);
	assert_true(mem_all(AOUT_LOAD + AOUT_LEN, AOUT_LOAD + AOUT_LEN + 0x1000, 0));
	assert_int_equal(ge.image_end, AOUT_LOAD + AOUT_LEN + 0x1000);
	assert_true(mem_all(0, AOUT_LOAD, POISON));
	check_mb1_info("console=ttyS0 quiet");
	/* Part of the file; modules. */
	mem_new(16 * MIB);
	mb1_aout(0, AOUT_LOAD + 0x20, AOUT_LOAD + 0x2000, 0, AOUT_LOAD + 0x1fff);
	set_modules(2, two_lens, two_strings);
	expect_ok();
	assert_memory_equal(mem + AOUT_LOAD + 0x20, image + 0x20, 0x2000 - 0x20);
	assert_int_equal(ge.image_end, AOUT_LOAD + 0x2000);
	assert_int_equal(ge.rip, AOUT_LOAD + 0x1fff);
	check_mb1_info("console=ttyS0 quiet");
	/* The address fields win over ELF program headers. */
	mem_new(16 * MIB);
	memset(&xa, 0, sizeof(xa));
	mb1_kernel(32, 0, MB1_AOUT);
	mb1_addr(TEXT_OFF, 0x300000, 0x300000 - TEXT_OFF, 0, 0, 0x300000);
	expect_ok();
	assert_int_equal(ge.rip, 0x300000);
	assert_memory_equal(mem + 0x300000 - TEXT_OFF, image, ilen);
	check_mb1_info("console=ttyS0 quiet");
}

static void test_mb1_bad_aout(void **state)
{
	(void)state;
	mb1_aout(0, AOUT_LOAD + AOUT_HDR + 1, 0, 0, AOUT_LOAD);
	expect_fail(-ENOEXEC, "multiboot header address fields: load_addr 0x200041 is above header_addr 0x200040");
	/* load_addr -1 means nothing special here (it does in multiboot2). */
	mb1_aout(0, 0xffffffffu, 0, 0, AOUT_LOAD);
	expect_fail(-ENOEXEC, "multiboot header address fields: load_addr 0xffffffff is above header_addr 0x200040");
	mb1_aout(0, AOUT_LOAD, AOUT_LOAD + AOUT_LEN + 1, 0, AOUT_LOAD);
	expect_fail(-ENOEXEC, "multiboot header address fields: load range 0x0+0x3001 runs past the end of the 12288-byte file");
	mb1_aout(0, AOUT_LOAD, AOUT_LOAD + 0x1000, AOUT_LOAD + 0xfff, AOUT_LOAD);
	expect_fail(-ENOEXEC, "multiboot header address fields: bss_end_addr 0x200fff is below the load end 0x201000");
	mb1_aout(0, AOUT_LOAD, 0, 0, AOUT_LOAD + AOUT_LEN);
	expect_fail(-ENOEXEC, "entry point 0x203000 is outside the loaded image 0x200000+0x3000");
	mb1_aout(0, AOUT_LOAD, 0, 16 * MIB + 1, AOUT_LOAD);
	expect_fail(-ENOMEM, "image at 0x200000+0xe00001 lies outside the domain's 16 MiB");
	/* Address fields cut off by the end of the file or of the 8 KiB. */
	img_begin();
	fill(0, 0x3c, 1);
	mb1_hdr(0x20, MB1_AOUT);
	expect_fail(-ENOEXEC, "multiboot header at 0x20 is truncated: its address fields run past the first 60 bytes of the image");
	mb1_addr(0x20, 0x100020, 0x100000, 0, 0, 0x100010);	/* just fits */
	expect_ok();
	assert_int_equal(ge.rip, 0x100010);
	assert_memory_equal(mem + 0x100000, image, 0x40);
	check_mb1_info("console=ttyS0 quiet");
	mem_new(16 * MIB);
	img_begin();
	fill(0, 0x4000, 1);
	mb1_hdr(8192 - 16, MB1_AOUT);
	expect_fail(-ENOEXEC, "multiboot header at 0x1ff0 is truncated: its address fields run past the first 8192 bytes");
	/* No address fields and not ELF. */
	img_begin();
	fill(0, 0x100, 1);
	mb1_hdr(0x10, 0);
	expect_fail(-ENOEXEC, "multiboot header has no address fields (flags bit 16) and the image is not ELF (bad magic)");
}

static void test_mb1_bad_header(void **state)
{
	(void)state;
	mb1_kernel(32, 0, 3);
	p32(TEXT_OFF + 8, rd32(ib + TEXT_OFF + 8) + 1);
	expect_fail(-ENOEXEC, "hv: domain dom1: kernel: multiboot header checksum bad (header at 0x1000)\n");
	/* Required flags (bits 0-15) we do not know: the lowest is named. */
	mb1_kernel(32, 0, 3 | (1u << 3) | (1u << 9));
	expect_fail(-ENOTSUP, "hv: domain dom1: kernel: multiboot flag bit 3 is not supported\n");
	mb1_kernel(32, 0, 1u << 15);
	expect_fail(-ENOTSUP, "multiboot flag bit 15 is not supported");
	/* A stray magic before a good header does not hide it; misaligned
	 * ones are not headers. */
	mb1_kernel(32, 0, 3);
	p32(TEXT_OFF - 0x100, MB1_MAGIC);
	p32(TEXT_OFF - 0x80 + 2, MB1_MAGIC);
	expect_ok();
	assert_int_equal(ge.eax, MB1_BL_MAGIC);
	/* Only the first 8 KiB are searched: beyond, the ELF is entered as
	 * multiboot2; the last slot still counts. */
	kernel(32, 0);
	fill(0x2000, 0x100, 7);
	elf_phdr(32, 1, 1, 0x2000, DATA_PADDR, DATA_PADDR, 0x100, DATA_MEMSZ);
	mb1_hdr(8192, 3);
	expect_ok();
	assert_int_equal(ge.eax, MB2_BOOTLOADER_MAGIC);
	mb1_hdr(8192 - 12, 3);
	expect_ok();
	assert_int_equal(ge.eax, MB1_BL_MAGIC);
	/* A multiboot2 header wins over a multiboot one. */
	kernel(32, K_MB2);
	mb1_hdr(TEXT_OFF + 0x100, 3);
	expect_ok();
	assert_int_equal(ge.eax, MB2_BOOTLOADER_MAGIC);
	check_info("console=ttyS0 quiet");
}

/* Modules that do not fit the domain or 4 GiB; an initrd is not for us. */
static void test_modules_no_room(void **state)
{
	(void)state;
	/* 2 MiB domain: the kernel ends at 0x103f10, the info at 0x104000. */
	mem_new(2 * MIB);
	mb1_kernel(32, 0, 3);
	/* The info block ends at 0x1040cd: m1 at 0x105000, m2 at 0x185000. */
	static const size_t fit[2] = { 0x80000, 2 * MIB - 0x185000 };
	static const char *const names[2] = { "m1", "m2" };
	set_modules(2, fit, names);
	expect_ok();
	check_mb1_info("console=ttyS0 quiet");
	assert_int_equal(rd32(mem + rd32(mem + ge.ebx + 24) + 16 + 4), 2 * MIB);
	static const size_t big[2] = { 0x80000, 2 * MIB - 0x185000 + 1 };
	set_modules(2, big, names);
	mem_new(2 * MIB);
	expect_fail(-ENOMEM, "no room for module 2 'm2' (503809 bytes) after 0x185000 in the domain's 2 MiB");
	kernel(32, K_MB2);
	expect_fail(-ENOMEM, "no room for module 2 'm2'");
	/* Near 4 GiB in a bigger domain. */
	mem_reserve(4 * GIB + 2 * MIB);
	img_begin();
	elf_hdr(64, 0xffe00010ull, 1);
	elf_phdr(64, 0, 1, 0x1000, 0xffe00000ull, 0xffe00000ull, 0x100, 0x1000);
	fill(0x1000, 0x100, 1);
	static const size_t huge[1] = { 2 * MIB };
	set_modules(1, huge, names);
	expect_fail(-ENOMEM, "no room for module 1 'm1' (2097152 bytes) below 4 GiB (it would start at 0xffe02000)");
	/* An initrd is for Linux. */
	memset(&xa, 0, sizeof(xa));
	mem_new(16 * MIB);
	set_initrd(100);
	mb1_kernel(32, 0, 3);
	expect_fail(-EINVAL, "an initrd is for a Linux kernel; give a multiboot kernel modules instead");
	kernel(32, K_MB2);
	expect_fail(-EINVAL, "an initrd is for a Linux kernel");
}

/* ---- Linux bzImage (boot.rst) -------------------------------------------------- */

/* Setup header fields (offsets in the image and in boot_params). */
#define LX_SETUP_SECTS 0x1f1
#define LX_VID_MODE    0x1fa
#define LX_BOOT_FLAG   0x1fe
#define LX_JUMP        0x200
#define LX_HDRS        0x202
#define LX_VERSION     0x206
#define LX_LOADER      0x210
#define LX_LOADFLAGS   0x211
#define LX_CODE32      0x214
#define LX_RD_IMAGE    0x218
#define LX_RD_SIZE     0x21c
#define LX_CMD_PTR     0x228
#define LX_INITRD_MAX  0x22c
#define LX_ALIGN       0x230
#define LX_RELOC       0x234
#define LX_MIN_ALIGN   0x235
#define LX_XLOADFLAGS  0x236
#define LX_CMD_SIZE    0x238
#define LX_SUBARCH     0x23c
#define LX_PAYLOAD_OFF 0x248
#define LX_SETUP_DATA  0x250
#define LX_PREF        0x258
#define LX_INIT_SIZE   0x260
#define LX_HANDOVER    0x264
#define LX_KINFO       0x268
#define LX_HDR_END     0x26c	/* protocol 2.15 */
/* boot_params */
#define BP_ACPI_RSDP   0x070
#define BP_EXT_RD_IMAGE 0x0c0
#define BP_EXT_RD_SIZE 0x0c4
#define BP_EXT_CMD_PTR 0x0c8
#define BP_E820_COUNT  0x1e8
#define BP_E820        0x2d0

/* The fake kernel: 2 setup sectors, 0x3000 bytes of kernel, wanting
 * 3 MiB at 4 MiB, 2 MiB aligned. */
#define BZ_SECTS     2u
#define BZ_SETUP     ((BZ_SECTS + 1) * 512u)
#define BZ_KLEN      0x3000u
#define BZ_PREF      0x400000u
#define BZ_KALIGN    0x200000u
#define BZ_INIT_SIZE 0x300000u

static void bz_image(uint16_t version)
{
	img_begin();
	fill(0, BZ_SETUP, 0x31);		/* real-mode code: not loaded */
	memset(ib + LX_SETUP_SECTS, 0, LX_HDR_END - LX_SETUP_SECTS);
	p8(LX_SETUP_SECTS, BZ_SECTS);
	p16(LX_VID_MODE, 0xffff);
	p16(LX_BOOT_FLAG, 0xaa55);
	p8(LX_JUMP, 0xeb);
	p8(LX_JUMP + 1, LX_HDR_END - 0x202);
	memcpy(ib + LX_HDRS, "HdrS", 4);
	p16(LX_VERSION, version);
	p8(LX_LOADFLAGS, 0x01);			/* LOADED_HIGH */
	p32(LX_CODE32, 0x100000);
	p32(LX_INITRD_MAX, 0x7fffffff);
	p32(LX_ALIGN, BZ_KALIGN);
	p8(LX_RELOC, 1);
	p8(LX_MIN_ALIGN, 21);
	p16(LX_XLOADFLAGS, 0x7f);
	p32(LX_CMD_SIZE, 0x7ff);
	p32(LX_PAYLOAD_OFF, 0x2cc);
	p64(LX_SETUP_DATA, 0x123456789ull);	/* stale: must not reach the kernel */
	p64(LX_PREF, BZ_PREF);
	p32(LX_INIT_SIZE, BZ_INIT_SIZE);
	p32(LX_HANDOVER, 0x190);
	p32(LX_KINFO, 0x1234);
	fill(BZ_SETUP, BZ_KLEN, 0xe8);		/* the protected-mode kernel */
}

/* [from, to) ranges the loader may have written; everything else must
 * still be poison. */
struct range { uint64_t from, to; };

static void check_untouched(struct range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)	/* sort: few entries */
		for (unsigned k = i + 1; k < n; k++)
			if (r[k].from < r[i].from) {
				struct range t = r[i];
				r[i] = r[k];
				r[k] = t;
			}
	uint64_t at = 0;
	for (unsigned i = 0; i < n; i++) {
		assert_true(r[i].from >= at);	/* no overlaps */
		assert_true(mem_all(at, r[i].from, POISON));
		at = r[i].to;
	}
	assert_true(mem_all(at, mem_size, POISON));
}

/*
 * A loaded fake kernel: entered at `load`, boot_params read back, the
 * kernel claiming [load... image_end), the initrd (xa) as high as it goes
 * below `initrd_top`, nothing else written.
 */
static void check_linux(uint64_t load, uint64_t setup_len, const char *cmdline,
			uint64_t initrd_top)
{
	uint64_t klen = ilen - setup_len;
	assert_int_equal(ge.rip, load);
	assert_int_equal(ge.eax, 0);
	assert_int_equal(ge.ebx, 0);
	assert_int_equal(ge.info_size, 4096);
	assert_true(ge.esi != 0 && ge.esi % 4096 == 0 && ge.esi + 4096ull <= load);
	const uint8_t *bp = mem + ge.esi;

	/* The setup header, as in the image but for the loader's fields. */
	uint64_t hdr_end = 0x202 + (uint64_t)image[LX_JUMP + 1];
	if (hdr_end > 0x290)
		hdr_end = 0x290;
	for (uint64_t off = LX_SETUP_SECTS; off < hdr_end; off++) {
		if (off == LX_LOADER || (off >= LX_CODE32 && off < LX_CODE32 + 4) ||
		    (off >= LX_RD_IMAGE && off < LX_RD_SIZE + 4) ||
		    (off >= LX_CMD_PTR && off < LX_CMD_PTR + 4) ||
		    (off >= LX_SETUP_DATA && off < LX_SETUP_DATA + 8))
			continue;
		assert_int_equal(bp[off], image[off]);
	}
	assert_int_equal(bp[LX_LOADER], 0xff);
	assert_int_equal(rd32(bp + LX_CODE32), load);
	assert_int_equal(rd64(bp + LX_SETUP_DATA), 0);
	/* Nothing else in the page but the e820 table and the RSDP. */
	struct map_ent map[MAP_MAX];
	unsigned nmap = want_map(true, map);
	for (uint64_t off = 0; off < 4096; off++) {
		if ((off >= LX_SETUP_SECTS && off < hdr_end) || off == BP_E820_COUNT ||
		    (off >= BP_E820 && off < BP_E820 + 20 * nmap) ||
		    (off >= BP_ACPI_RSDP && off < BP_ACPI_RSDP + 8))
			continue;
		assert_int_equal(bp[off], 0);
	}
	assert_int_equal(rd64(bp + BP_ACPI_RSDP), xa.acpi_rsdp);
	assert_int_equal(rd32(bp + BP_EXT_RD_IMAGE), 0);
	assert_int_equal(rd32(bp + BP_EXT_RD_SIZE), 0);
	assert_int_equal(rd32(bp + BP_EXT_CMD_PTR), 0);
	/* RAM (with an RSDP: RAM, the ACPI tables marked ACPI data, RAM),
	 * then the reserved ranges: exactly the domain. */
	assert_int_equal(bp[BP_E820_COUNT], nmap);
	assert_int_equal(nmap, (xa.acpi_rsdp ? 3 : 1) + xa.nreserved);
	for (unsigned i = 0; i < nmap; i++) {
		const uint8_t *e = bp + BP_E820 + 20 * i;
		assert_int_equal(rd64(e), map[i].addr);
		assert_int_equal(rd64(e + 8), map[i].size);
		assert_int_equal(rd32(e + 16), map[i].type);
	}

	/* The command line, in low memory, not in boot_params. */
	uint32_t cl = rd32(bp + LX_CMD_PTR);
	uint64_t cl_len = strlen(cmdline) + 1;
	assert_true(cl + cl_len <= 0xa0000);
	assert_true(cl >= ge.esi + 4096ull || cl + cl_len <= ge.esi);
	assert_string_equal((const char *)mem + cl, cmdline);

	/* The kernel. */
	uint32_t init_size = rd32(image + LX_INIT_SIZE);
	assert_memory_equal(mem + load, image + setup_len, klen);
	if (image[LX_RELOC])
		assert_int_equal(ge.image_end, load + (init_size > klen ? init_size : klen));
	assert_true(ge.image_end <= mem_size);

	/* The initrd: page aligned, as high as it goes, above the kernel. */
	uint32_t rd = rd32(bp + LX_RD_IMAGE), rd_len = rd32(bp + LX_RD_SIZE);
	struct range r[4] = {
		{ ge.esi, ge.esi + 4096ull },
		{ cl, cl + cl_len },
		{ load, load + klen },
	};
	unsigned n = 3;
	if (xa.initrd) {
		assert_int_equal(rd_len, xa.initrd_len);
		assert_int_equal(rd, (initrd_top - xa.initrd_len) & ~4095ull);
		assert_true(rd >= ge.image_end);
		assert_memory_equal(mem + rd, xa.initrd, xa.initrd_len);
		r[n++] = (struct range){ rd, rd + (uint64_t)rd_len };
	} else {
		assert_int_equal(rd, 0);
		assert_int_equal(rd_len, 0);
	}
	check_untouched(r, n);
}

static void test_bzimage(void **state)
{
	(void)state;
	bz_image(0x020f);
	expect_ok();
	assert_int_equal(ge.image_end, BZ_PREF + BZ_INIT_SIZE);
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 0);
	/* With an initrd (odd size), an RSDP, RAM beyond the first range. */
	bz_image(0x020f);
	set_initrd(0x12345);
	xa.acpi_rsdp = 0xf0010;
	xa.ram_size = 40 * MIB;
	mem_new(16 * MIB);
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 16 * MIB);
	/* No command line: an empty one. */
	mem_new(16 * MIB);
	assert_int_equal(load_cmd(NULL), 0);
	check_linux(BZ_PREF, BZ_SETUP, "", 16 * MIB);
	/* Protocol 2.10 is enough; a header whose jump says it ends at
	 * init_size's end; one that says it goes on far (we stop at 0x290). */
	bz_image(0x020a);
	p8(LX_JUMP + 1, 0x264 - 0x202);
	mem_new(16 * MIB);
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 16 * MIB);
	bz_image(0x020f);
	p8(LX_JUMP + 1, 0xff);
	mem_new(16 * MIB);
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 16 * MIB);
	assert_int_equal(mem[ge.esi + 0x28f], image[0x28f]);
	assert_int_equal(mem[ge.esi + 0x290], 0);
}

static void test_bzimage_placement(void **state)
{
	(void)state;
	/* pref_address not aligned: the next kernel_alignment boundary. */
	bz_image(0x020f);
	p64(LX_PREF, 0x500000);
	expect_ok();
	check_linux(0x600000, BZ_SETUP, "console=ttyS0 quiet", 0);
	/* Below 1 MiB (or 0): at 1 MiB, aligned. */
	bz_image(0x020f);
	p64(LX_PREF, 0);
	mem_new(16 * MIB);
	expect_ok();
	check_linux(0x200000, BZ_SETUP, "console=ttyS0 quiet", 0);
	bz_image(0x020f);
	p64(LX_PREF, 0x1000);
	p32(LX_ALIGN, 0x10);		/* less than a page: a page */
	mem_new(16 * MIB);
	expect_ok();
	check_linux(0x100000, BZ_SETUP, "console=ttyS0 quiet", 0);
	/* init_size smaller than the image (bogus, but the image must fit). */
	bz_image(0x020f);
	p32(LX_INIT_SIZE, 0x1000);
	mem_new(16 * MIB);
	expect_ok();
	assert_int_equal(ge.image_end, BZ_PREF + BZ_KLEN);
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 0);
	/* Not relocatable: loaded at 1 MiB, claims up to pref + init_size. */
	bz_image(0x020f);
	p8(LX_RELOC, 0);
	set_initrd(0x3000);
	mem_new(16 * MIB);
	expect_ok();
	assert_int_equal(ge.image_end, BZ_PREF + BZ_INIT_SIZE);
	check_linux(0x100000, BZ_SETUP, "console=ttyS0 quiet", 16 * MIB);
	/* setup_sects 0 means 4. */
	memset(&xa, 0, sizeof(xa));
	bz_image(0x020f);
	p8(LX_SETUP_SECTS, 0);
	mem_new(16 * MIB);
	expect_ok();
	check_linux(BZ_PREF, 5 * 512, "console=ttyS0 quiet", 0);
	assert_memory_equal(mem + BZ_PREF, image + 5 * 512, ilen - 5 * 512);
	/* init_size right up to the domain's end fits. */
	bz_image(0x020f);
	p32(LX_INIT_SIZE, 12 * MIB);
	mem_new(16 * MIB);
	expect_ok();
	assert_int_equal(ge.image_end, 16 * MIB);
	/* A bzImage that also has a multiboot2 header is Linux. */
	bz_image(0x020f);
	mbh_begin(BZ_SETUP + 0x100);
	mbh_end();
	mem_new(16 * MIB);
	expect_ok();
	assert_int_equal(ge.eax, 0);
	assert_int_equal(ge.esi, 0x10000);
	/* Without the boot flag it is not (and here nothing else either). */
	mem_new(16 * MIB);
	bz_image(0x020f);
	p16(LX_BOOT_FLAG, 0);
	expect_fail(-ENOEXEC, "not a Linux bzImage, multiboot kernel or ELF executable (bad magic)");
}

static void test_bzimage_initrd(void **state)
{
	(void)state;
	/* Below initrd_addr_max (the highest byte it may use). */
	bz_image(0x020f);
	p32(LX_INITRD_MAX, 0x9fffff);
	set_initrd(0x2001);
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 0xa00000);
	/* Exactly filling the room between the kernel and the domain's end. */
	memset(&xa, 0, sizeof(xa));
	bz_image(0x020f);
	set_initrd(16 * MIB - (BZ_PREF + BZ_INIT_SIZE));
	mem_new(16 * MIB);
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 16 * MIB);
	assert_int_equal(rd32(mem + ge.esi + LX_RD_IMAGE), BZ_PREF + BZ_INIT_SIZE);
	/* One byte more does not fit (the start rounds down into the kernel). */
	memset(&xa, 0, sizeof(xa));
	set_initrd(16 * MIB - (BZ_PREF + BZ_INIT_SIZE) + 1);
	mem_new(16 * MIB);
	expect_fail(-ENOMEM, "no room for the initrd (9437185 bytes) between the kernel's end at 0x700000 and 0x1000000 (initrd_addr_max 0x7fffffff, the domain's 16 MiB)");
	/* Bigger than the domain; than 4 GiB. */
	memset(&xa, 0, sizeof(xa));
	set_initrd(32 * MIB);
	expect_fail(-ENOMEM, "no room for the initrd (33554432 bytes)");
	/* initrd_addr_max below the kernel's end. */
	memset(&xa, 0, sizeof(xa));
	set_initrd(0x1000);
	p32(LX_INITRD_MAX, BZ_PREF + BZ_INIT_SIZE + 0xffe);
	expect_fail(-ENOMEM, "no room for the initrd (4096 bytes) between the kernel's end at 0x700000 and 0x700fff (initrd_addr_max 0x700ffe");
	p32(LX_INITRD_MAX, BZ_PREF + BZ_INIT_SIZE + 0xfff);
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", BZ_PREF + BZ_INIT_SIZE + 0x1000);
	/* initrd_addr_max 0xffffffff in a domain above 4 GiB: still below. */
	p32(LX_INITRD_MAX, 0xffffffffu);
	mem_reserve(4 * GIB + 2 * MIB);
	memset(&xa, 0, sizeof(xa));
	set_initrd(4 * GIB - (BZ_PREF + BZ_INIT_SIZE) + 1);
	expect_fail(-ENOMEM, "and 0x100000000 (initrd_addr_max 0xffffffff, the domain's 4098 MiB)");
	/* Modules are for multiboot. */
	memset(&xa, 0, sizeof(xa));
	mem_new(16 * MIB);
	set_modules(2, two_lens, two_strings);
	expect_fail(-EINVAL, "modules are for multiboot kernels; give a Linux kernel an initrd instead");
}

static void test_bzimage_bad(void **state)
{
	(void)state;
	bz_image(0x0208);
	expect_fail(-ENOTSUP, "hv: domain dom1: kernel: Linux boot protocol 2.08 is too old (2.10 or later needed)\n");
	bz_image(0x0109);
	expect_fail(-ENOTSUP, "Linux boot protocol 1.09 is too old");
	bz_image(0x020f);
	p8(LX_LOADFLAGS, 0x80);
	expect_fail(-ENOTSUP, "Linux zImage (loadflags 0x80 without LOADED_HIGH) is not supported: a bzImage is needed");
	/* Truncated: the setup runs past the end; nothing after it. */
	bz_image(0x020f);
	p8(LX_SETUP_SECTS, 40);
	expect_fail(-ENOEXEC, "Linux setup (40 sectors and the boot sector, 20992 bytes) runs past the end of the 13824-byte image");
	bz_image(0x020f);
	ilen = BZ_SETUP;
	expect_fail(-ENOEXEC, "Linux image has no protected-mode kernel after its 1536-byte setup");
	ilen = 0x206;				/* just the magics */
	expect_fail(-ENOEXEC, "Linux setup (2 sectors and the boot sector, 1536 bytes) runs past the end of the 518-byte image");
	ilen = 0x205;				/* not even "HdrS" */
	expect_fail(-ENOEXEC, "(bad magic)");
	bz_image(0x020f);
	p8(LX_JUMP + 1, 0x61);
	expect_fail(-ENOEXEC, "Linux setup header ends at 0x263, before the fields of protocol 2.10 (up to 0x264)");
	/* Alignment, addresses. */
	bz_image(0x020f);
	p32(LX_ALIGN, 0);
	expect_fail(-ENOEXEC, "Linux kernel_alignment 0x0 is not a power of two");
	p32(LX_ALIGN, 0x300000);
	expect_fail(-ENOEXEC, "Linux kernel_alignment 0x300000 is not a power of two");
	bz_image(0x020f);
	p64(LX_PREF, 0x100000000ull);
	expect_fail(-ENOTSUP, "Linux pref_address 0x100000000 is above 4 GiB");
	p64(LX_PREF, UINT64_MAX);
	expect_fail(-ENOTSUP, "Linux pref_address 0xffffffffffffffff is above 4 GiB");
	bz_image(0x020f);
	p8(LX_RELOC, 0);
	p64(LX_PREF, 0xff000);
	expect_fail(-ENOEXEC, "Linux kernel is not relocatable and runs at pref_address 0xff000, below 1 MiB");
	/* init_size too big for the domain. */
	bz_image(0x020f);
	p32(LX_INIT_SIZE, 12 * MIB + 1);
	expect_fail(-ENOMEM, "Linux kernel at 0x400000+0xc00001 (init_size) lies outside the domain's 16 MiB");
	p32(LX_INIT_SIZE, 0xffffffffu);
	expect_fail(-ENOMEM, "Linux kernel at 0x400000+0xffffffff (init_size) lies outside the domain's 16 MiB");
	p64(LX_PREF, 0xfff00000u);
	p32(LX_INIT_SIZE, 0x100000);
	expect_fail(-ENOMEM, "Linux kernel at 0x100000000+0x100000 (init_size) lies outside");
	bz_image(0x020f);
	p8(LX_RELOC, 0);
	p64(LX_PREF, 15 * MIB);
	p32(LX_INIT_SIZE, MIB + 1);
	expect_fail(-ENOMEM, "Linux kernel at 0xf00000+0x100001 (init_size at pref_address) lies outside the domain's 16 MiB");
	mem_new(MIB + 0x2000);
	expect_fail(-ENOMEM, "Linux kernel at 0x100000+0x3000 (image) lies outside the domain's 1032 KiB");
	/* In a domain above 4 GiB: the 32-bit entry cannot reach. */
	mem_reserve(4 * GIB + 2 * MIB);
	bz_image(0x020f);
	p64(LX_PREF, 0xffe00000u);
	expect_fail(-ENOTSUP, "Linux kernel at 0xffe00000+0x300000 (init_size) reaches above 4 GiB");
	/* The command line: cmdline_size, and room below 640 KiB. */
	mem_new(16 * MIB);
	bz_image(0x020f);
	p32(LX_CMD_SIZE, 18);
	expect_fail(-E2BIG, "command line is 19 bytes, longer than the kernel's cmdline_size 18");
	p32(LX_CMD_SIZE, 19);
	expect_ok();
	bz_image(0x020f);
	p32(LX_CMD_SIZE, 0xffffffffu);
	static char cl[0x80001];
	memset(cl, 'c', sizeof(cl) - 1);
	cl[0x80000] = '\0';
	mem_new(16 * MIB);
	assert_int_equal(load_cmd(cl), -E2BIG);
	assert_true(test_log_has("command line is 524288 bytes, longer than the 524287 bytes that fit below 640 KiB"));
	assert_true(mem_all(0, mem_size, POISON));
	cl[0x7ffff] = '\0';
	assert_int_equal(load_cmd(cl), 0);
	check_linux(BZ_PREF, BZ_SETUP, cl, 0);
}

/* Reserved ranges (a PCI ECAM window, say): in every memory map after the
 * RAM, sorted, as type 2. Given out of order. */
static const struct guest_mem_range two_reserved[2] = {
	{ 0xfed00000, 0x1000 },		/* an HPET-like page */
	{ 0xe0000000, 0x10000000 },	/* ECAM, buses 0-255 */
};

static void test_reserved_ranges(void **state)
{
	(void)state;
	/* multiboot2 */
	kernel(32, K_MB2);
	xa.reserved = two_reserved;
	xa.nreserved = 2;
	expect_ok();
	check_info("console=ttyS0 quiet");
	const uint8_t *info = mem + ge.ebx;
	bool found = false;
	for (uint32_t off = 8; !found && off < rd32(info); ) {
		const uint8_t *t = info + off;
		if (rd32(t) == MB2_TAG_MMAP) {
			assert_int_equal(rd32(t + 4), 16 + 3 * 24);
			assert_int_equal(rd64(t + 16 + 24), 0xe0000000);	/* sorted */
			assert_int_equal(rd32(t + 16 + 24 + 16), MB2_MEM_RESERVED);
			assert_int_equal(rd64(t + 16 + 48), 0xfed00000);
			found = true;
		}
		off += (rd32(t + 4) + 7) & ~7u;
	}
	assert_true(found);

	/* multiboot, with RAM beyond the first range up to the window */
	mb1_kernel(32, 0, 3);
	mem_new(16 * MIB);
	xa.ram_size = 0xe0000000;
	expect_ok();
	check_mb1_info("console=ttyS0 quiet");
	info = mem + ge.ebx;
	assert_int_equal(rd32(info + 44), 3 * 24);
	assert_int_equal(rd64(mem + rd32(info + 48) + 24 + 4), 0xe0000000);
	assert_int_equal(rd32(mem + rd32(info + 48) + 24 + 20), 2);

	/* Linux, with and without the ACPI area */
	bz_image(0x020f);
	mem_new(16 * MIB);
	xa.ram_size = 0;
	xa.acpi_rsdp = 0xe0000;
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 0);
	const uint8_t *bp = mem + ge.esi;
	assert_int_equal(bp[BP_E820_COUNT], 5);
	assert_int_equal(rd64(bp + BP_E820 + 60), 0xe0000000);
	assert_int_equal(rd64(bp + BP_E820 + 68), 0x10000000);
	assert_int_equal(rd32(bp + BP_E820 + 76), 2);
	assert_int_equal(rd64(bp + BP_E820 + 80), 0xfed00000);
	assert_int_equal(rd32(bp + BP_E820 + 96), 2);
	mem_new(16 * MIB);
	xa.acpi_rsdp = 0;
	xa.nreserved = 1;	/* just the first given */
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 0);
	assert_int_equal(mem[ge.esi + BP_E820_COUNT], 2);
	assert_int_equal(rd64(mem + ge.esi + BP_E820 + 20), 0xfed00000);

	/* As many as allowed, adjacent to the RAM and to each other */
	static struct guest_mem_range many[GUEST_MAX_RESERVED];
	for (unsigned i = 0; i < GUEST_MAX_RESERVED; i++)
		many[GUEST_MAX_RESERVED - 1 - i] =
			(struct guest_mem_range){ 16 * MIB + i * 0x1000, 0x1000 };
	xa.reserved = many;
	xa.nreserved = GUEST_MAX_RESERVED;
	kernel(64, K_MB2);
	mem_new(16 * MIB);
	expect_ok();
	check_info("console=ttyS0 quiet");
	mb1_kernel(32, 0, 3);
	mem_new(16 * MIB);
	expect_ok();
	check_mb1_info("console=ttyS0 quiet");
	bz_image(0x020f);
	mem_new(16 * MIB);
	xa.acpi_rsdp = 0xe0000;
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 0);
}

/* A reserved range that is empty, wraps, overlaps the RAM or another, or
 * one too many: the caller's bug, refused before anything is written, for
 * every kind of kernel. */
static void test_reserved_refused(void **state)
{
	static struct guest_mem_range r[GUEST_MAX_RESERVED + 1];

	(void)state;
	for (int kind = 0; kind < 3; kind++) {
		if (kind == 0)
			kernel(32, K_MB2);
		else if (kind == 1)
			mb1_kernel(32, 0, 3);
		else
			bz_image(0x020f);
		mem_new(16 * MIB);
		xa.reserved = r;
		xa.ram_size = 0;

		r[0] = (struct guest_mem_range){ 16 * MIB - 0x1000, 0x2000 };
		xa.nreserved = 1;
		expect_fail(-EINVAL, "hv: domain dom1: kernel: reserved memory range 0xfff000-0x1000fff overlaps the domain's RAM 0x0-0xffffff\n");
		/* RAM beyond the first host range counts too */
		r[0] = (struct guest_mem_range){ 0xe0000000, 0x10000000 };
		xa.ram_size = 4 * GIB;
		expect_fail(-EINVAL, "reserved memory range 0xe0000000-0xefffffff overlaps the domain's RAM 0x0-0xffffffff");
		xa.ram_size = 0;
		r[0] = (struct guest_mem_range){ 0xe0000000, 0 };
		expect_fail(-EINVAL, "reserved memory range 0 at 0xe0000000 (0x0 bytes) is empty or wraps");
		r[0] = (struct guest_mem_range){ 0xfffffffffffff000ull, 0x2000 };
		expect_fail(-EINVAL, "reserved memory range 0 at 0xfffffffffffff000 (0x2000 bytes) is empty or wraps");
		/* the very top is fine */
		r[0] = (struct guest_mem_range){ 0xfffffffffffff000ull, 0x1000 };
		r[1] = (struct guest_mem_range){ 0xe0000000, 0x10000000 };
		r[2] = (struct guest_mem_range){ 0xe8000000, 0x1000 };
		xa.nreserved = 2;
		memset(mem, POISON, mem_size);
		assert_int_equal(load(), 0);
		mem_new(16 * MIB);
		xa.nreserved = 3;
		expect_fail(-EINVAL, "reserved memory ranges 0xe0000000-0xefffffff and 0xe8000000-0xe8000fff overlap");
		xa.nreserved = GUEST_MAX_RESERVED + 1;
		expect_fail(-EINVAL, "17 reserved memory ranges, at most 16");
		xa.nreserved = 0;
		xa.reserved = NULL;
	}
}

/* A real kernel, when LINUX_BZIMAGE names one: loaded into 256 MiB with
 * a 1 MiB initrd; what its header says is printed. */
static void test_real_bzimage(void **state)
{
	(void)state;
	const char *path = getenv("LINUX_BZIMAGE");
	if (!path || !*path) {
		skip();
		return;
	}
	size_t len;
	uint8_t *k = test_read_file(path, &len);
	assert_true(len > 0x1000);
	uint16_t v = rd16(k + LX_VERSION);
	uint64_t pref = rd64(k + LX_PREF);
	uint32_t align = rd32(k + LX_ALIGN), init_size = rd32(k + LX_INIT_SIZE);
	printf("%s: %zu bytes, boot protocol %u.%02u, setup_sects %u, loadflags 0x%x, relocatable %u, kernel_alignment 0x%x, min_alignment %u, xloadflags 0x%x, pref_address 0x%llx, init_size 0x%x, cmdline_size 0x%x, initrd_addr_max 0x%x\n",
	       path, len, v >> 8, v & 0xff, k[LX_SETUP_SECTS], k[LX_LOADFLAGS], k[LX_RELOC],
	       align, k[LX_MIN_ALIGN], rd16(k + LX_XLOADFLAGS), (unsigned long long)pref,
	       init_size, rd32(k + LX_CMD_SIZE), rd32(k + LX_INITRD_MAX));
	mem_new(256 * MIB);
	free(image);
	image = k;
	ilen = len;
	set_initrd(MIB);
	xa.acpi_rsdp = 0xe0000;
	struct guest_load_args a = xa;
	a.name = "dom1";
	a.image = image;
	a.len = len;
	a.mem = mem;
	a.mem_size = mem_size;
	a.cmdline = "console=ttyS0 earlyprintk=serial";
	test_log_clear();
	int err = guest_load_args(&a, &ge);
	if (err)
		fprintf(stderr, "log was: %s", test_log());
	assert_int_equal(err, 0);
	uint32_t rd = rd32(mem + ge.esi + LX_RD_IMAGE);
	printf("loaded: entry (startup_32) 0x%x, boot_params 0x%x, command line 0x%x, kernel claims up to 0x%llx, initrd 0x%x+0x%x\n",
	       ge.rip, ge.esi, rd32(mem + ge.esi + LX_CMD_PTR), (unsigned long long)ge.image_end,
	       rd, rd32(mem + ge.esi + LX_RD_SIZE));
	uint64_t want = pref < MIB ? MIB : pref;
	want = (want + align - 1) & ~(uint64_t)(align - 1);
	if (k[LX_RELOC])
		assert_int_equal(ge.rip, want);
	uint64_t setup = (uint64_t)((k[LX_SETUP_SECTS] ? k[LX_SETUP_SECTS] : 4) + 1) * 512;
	uint32_t top = rd32(k + LX_INITRD_MAX);
	check_linux(ge.rip, setup, a.cmdline, (uint64_t)top + 1 < mem_size ? (uint64_t)top + 1 : mem_size);
}

/* ---- the kernel's file name as argv[0] (as QEMU's -kernel gives it) ------------ */

static void test_kernel_name_argv0(void **state)
{
	static char cl[GUEST_MB_CMDLINE_MAX];
	(void)state;

	/* multiboot2: "FILE ARGS"; no blank after FILE when there are no ARGS. */
	kernel(32, K_MB2);
	xa.kernel_name = "guests/k.elf";
	expect_ok();
	check_info("guests/k.elf console=ttyS0 quiet");
	mem_new(16 * MIB);
	assert_int_equal(load_cmd(""), 0);
	check_info("guests/k.elf");
	/* A plain ELF gets a multiboot2 block too, and the same line. */
	kernel(64, 0);
	mem_new(16 * MIB);
	expect_ok();
	check_info("guests/k.elf console=ttyS0 quiet");
	/* multiboot: the same, with modules (their strings have no name). */
	mb1_kernel(32, 0, 3);
	set_modules(2, two_lens, two_strings);
	mem_new(16 * MIB);
	expect_ok();
	check_mb1_info("guests/k.elf console=ttyS0 quiet");
	mem_new(16 * MIB);
	assert_int_equal(load_cmd(NULL), 0);
	check_mb1_info("guests/k.elf");
	/* No name ("" or NULL): the command line alone, as before. */
	xa.kernel_name = "";
	mem_new(16 * MIB);
	expect_ok();
	check_mb1_info("console=ttyS0 quiet");

	/* The whole line is at most 1023 bytes: 12 + 1 + 1010 fits. */
	xa.kernel_name = "guests/k.elf";
	memset(cl, 'c', 1010);
	cl[1010] = '\0';
	mb1_kernel(32, 0, 3);
	mem_new(16 * MIB);
	assert_int_equal(load_cmd(cl), 0);
	assert_int_equal(strlen((const char *)mem + rd32(mem + ge.ebx + 16)), 1023);
	cl[1010] = 'c';
	cl[1011] = '\0';
	mem_new(16 * MIB);
	assert_int_equal(load_cmd(cl), -E2BIG);
	assert_true(test_log_has("hv: domain dom1: kernel: command line is 1024 bytes with the "
				 "file name 'guests/k.elf' in front, at most 1023\n"));
	assert_int_equal(count_lines(test_log()), 1);
	assert_true(mem_all(0, mem_size, POISON));
	/* A name with a blank would be two words. */
	xa.kernel_name = "my guests/k.elf";
	mem_new(16 * MIB);
	expect_fail(-EINVAL, "its file name 'my guests/k.elf' has a blank (0x20): a multiboot "
		    "kernel gets it as the first word of its command line");
	xa.kernel_name = "k.elf\t";
	kernel(32, K_MB2);
	expect_fail(-EINVAL, "its file name 'k.elf\t' has a blank (0x09)");
	/* A bad image is still reported as such first. */
	img_begin();
	fill(0, 0x1000, 0x42);
	expect_fail(-ENOEXEC, "bad magic");
	memset(&xa, 0, sizeof(xa));
}

/* A Linux kernel's command line is the configuration's alone: no file name,
 * even one with a blank. */
static void test_kernel_name_not_for_linux(void **state)
{
	(void)state;
	bz_image(0x020f);
	xa.kernel_name = "linux/bz Image";
	expect_ok();
	check_linux(BZ_PREF, BZ_SETUP, "console=ttyS0 quiet", 0);
	memset(&xa, 0, sizeof(xa));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_elf32_mb2_kernel),
		T(test_entry_tag_overrides),
		T(test_elf64_mb2_kernel),
		T(test_elf64_higher_half),
		T(test_plain_elf),
		T(test_other_segments),
		T(test_aout_kludge),
		T(test_accepted_tags),
		T(test_header_search),
		T(test_info_block),
		T(test_bad_magic),
		T(test_truncated_header),
		T(test_bad_elf_header),
		T(test_phdrs_outside_file),
		T(test_segment_file_range),
		T(test_filesz_above_memsz),
		T(test_segment_outside_memory),
		T(test_huge_domain),
		T(test_entry_outside_segments),
		T(test_entry_above_4g),
		T(test_no_pt_load),
		T(test_bad_mb2_header),
		T(test_required_tags),
		T(test_bad_address_tag),
		T(test_no_room_for_info),
		T(test_kernel_name_argv0),
		T(test_mb2_modules),
		T(test_mb1_elf_kernel),
		T(test_mb1_aout_kludge),
		T(test_mb1_bad_aout),
		T(test_mb1_bad_header),
		T(test_modules_no_room),
		T(test_bzimage),
		T(test_bzimage_placement),
		T(test_bzimage_initrd),
		T(test_bzimage_bad),
		T(test_kernel_name_not_for_linux),
		T(test_reserved_ranges),
		T(test_reserved_refused),
		T(test_real_bzimage),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
