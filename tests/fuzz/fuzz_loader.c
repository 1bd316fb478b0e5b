/*
 * libFuzzer harness for guest_load_args (vmm/load/loader*.c): arbitrary bytes
 * as the kernel image of a 16 MiB domain. The image, the initrd and the
 * modules are exact-size heap copies and guest memory a heap buffer of
 * exactly 16 MiB, so ASan reports any read outside them or write outside
 * the domain; on success the entry the loader hands back, and the boot
 * information it built, are checked against the contract.
 *
 * The first input byte is a control byte, the rest is the image:
 *   bit 0: every multiboot2 header candidate (the magic at an 8-byte
 *          aligned offset in the first 32 KiB) gets its checksum fixed up
 *          (Multiboot2 3.1.2) before loading: a fuzzer rarely guesses a
 *          checksum, and without it never gets to the header's tags;
 *   bit 1: the same for multiboot header candidates (4-byte aligned, in
 *          the first 8 KiB; magic + flags + checksum == 0);
 *   bit 2: a small initrd is passed (only a Linux kernel may take it);
 *   bit 3: two modules are passed (only multiboot kernels may take them);
 *   bit 4: an ACPI RSDP address is passed, and the RAM is said to be
 *          48 MiB (the first 16 MiB of which are `mem`);
 *   bit 5: the image gets a bzImage's magics (boot flag 0xaa55 at 0x1fe,
 *          "HdrS" at 0x202), so that seeds of other formats (make test
 *          starts from hvtest.elf) reach the setup header's fields soon;
 *   bit 6: the kernel's file name is passed: a multiboot kernel's command
 *          line must then be "FILE CMDLINE", a Linux kernel's CMDLINE.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. vmm/load/loader*.c \
 *       tests/fuzz/fuzz_loader.c tests/unit/host_stubs.c -o build/fuzz_loader
 *   build/fuzz_loader -max_total_time=30
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/multiboot2.h"
#include "tests/unit/host_stubs.h"
#include "vmm/load/loader.h"

#define FUZZ_MEM (16u << 20)
#define FUZZ_RAM (48u << 20)
#define FUZZ_RSDP 0xf0000u
#define FUZZ_CMDLINE "fuzz=1"
#define FUZZ_KERNEL "guests/fuzz.elf"
#define FUZZ_MB_CMDLINE FUZZ_KERNEL " " FUZZ_CMDLINE
#define MB1_MAGIC 0x1badb002u
#define MB1_BOOTLOADER_MAGIC 0x2badb002u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint64_t page_up(uint64_t a) { return (a + 4095) & ~4095ull; }

static void fix_checksums(uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 16 <= len && off + 16 <= 32768; off += 8) {
		uint32_t f[4];
		memcpy(f, img + off, sizeof(f));
		if (f[0] != MB2_HEADER_MAGIC)
			continue;
		f[3] = -(f[0] + f[1] + f[2]);
		memcpy(img + off, f, sizeof(f));
	}
}

static void fix_mb1_checksums(uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 12 <= len && off + 12 <= 8192; off += 4) {
		uint32_t f[3];
		memcpy(f, img + off, sizeof(f));
		if (f[0] != MB1_MAGIC)
			continue;
		f[2] = -(f[0] + f[1]);
		memcpy(img + off, f, sizeof(f));
	}
}

static void plant_bzimage(uint8_t *img, size_t len)
{
	if (len < 0x206)
		return;
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
}

static const char *const mod_strings[2] = { "mod0 a=b", "" };

/* A module as a multiboot information block says it is: where it lies
 * (page aligned, after what precedes it), what it holds. */
static void check_module(const uint8_t *mem, const struct guest_module *m,
			 uint64_t start, uint64_t end, uint64_t *prev)
{
	check(start == page_up(*prev));
	check(end - start == m->len && end <= FUZZ_MEM);
	check(memcmp(mem + start, m->data, m->len) == 0);
	*prev = end;
}

/* What a multiboot kernel's command line must be: with the file name first
 * when there is one. */
static const char *mb_cmdline(const struct guest_load_args *a)
{
	return a->kernel_name ? FUZZ_MB_CMDLINE : FUZZ_CMDLINE;
}

/* Multiboot2: the block's size and every tag up to END; the modules. */
static void check_mb2(const uint8_t *mem, const struct guest_load_args *a,
		      const struct guest_entry *ge)
{
	const uint8_t *info = mem + ge->ebx;
	uint32_t total = rd32(info), off = 8, nmods = 0;
	uint64_t prev = (uint64_t)ge->ebx + ge->info_size;

	check(total == ge->info_size);
	for (;;) {
		check(off + 8 <= total);
		uint32_t type = rd32(info + off), tsize = rd32(info + off + 4);
		check(tsize >= 8 && tsize <= total - off);
		if (type == MB2_TAG_END)
			break;
		if (type == MB2_TAG_CMDLINE)
			check(strcmp((const char *)info + off + 8, mb_cmdline(a)) == 0);
		if (type == MB2_TAG_MODULE) {
			check(nmods < a->nmodules);
			check(strcmp((const char *)info + off + 16, mod_strings[nmods]) == 0);
			check_module(mem, &a->modules[nmods], rd32(info + off + 8),
				     rd32(info + off + 12), &prev);
			nmods++;
		}
		off += (tsize + 7) & ~7u;
	}
	check(off + 8 == total);
	check(nmods == a->nmodules);
}

/* Multiboot (3.3): flags, command line, modules, memory map. */
static void check_mb1(const uint8_t *mem, const struct guest_load_args *a,
		      const struct guest_entry *ge)
{
	const uint8_t *info = mem + ge->ebx;
	uint64_t prev = (uint64_t)ge->ebx + ge->info_size;

	check(rd32(info) == 0x24d);
	check(strcmp((const char *)mem + rd32(info + 16), mb_cmdline(a)) == 0);
	check(rd32(info + 20) == a->nmodules);
	for (uint32_t i = 0; i < a->nmodules; i++) {
		const uint8_t *m = mem + rd32(info + 24) + 16 * i;
		check(strcmp((const char *)mem + rd32(m + 8), mod_strings[i]) == 0);
		check_module(mem, &a->modules[i], rd32(m), rd32(m + 4), &prev);
	}
	const uint8_t *mm = mem + rd32(info + 48);
	check(rd32(info + 44) == 24 && rd32(mm) == 20);
	check(rd64(mm + 4) == 0 && rd64(mm + 12) == (a->ram_size ? a->ram_size : FUZZ_MEM));
}

/* Linux: boot_params below the kernel, the kernel, command line, initrd,
 * e820. */
static void check_linux(const uint8_t *mem, const struct guest_load_args *a,
			const struct guest_entry *ge, const uint8_t *image)
{
	const uint8_t *bp = mem + ge->esi;
	uint64_t sects = image[0x1f1] ? image[0x1f1] : 4, setup = (sects + 1) * 512;

	check(ge->eax == 0 && ge->ebx == 0 && ge->info_size == 4096);
	check(ge->esi % 4096 == 0 && ge->esi + 4096ull <= ge->rip);
	check(ge->rip >= (1u << 20) && ge->rip < ge->image_end && ge->image_end <= FUZZ_MEM);
	check(ge->rip + (a->len - setup) <= ge->image_end);
	check(memcmp(mem + ge->rip, image + setup, a->len - setup) == 0);
	check(bp[0x210] == 0xff && rd32(bp + 0x214) == ge->rip);
	check(strcmp((const char *)mem + rd32(bp + 0x228), FUZZ_CMDLINE) == 0);
	check(rd32(bp + 0x228) + sizeof(FUZZ_CMDLINE) <= 0xa0000);
	check(rd64(bp + 0x70) == a->acpi_rsdp);
	/* e820: the domain's RAM from 0, with the ACPI area cut out when
	 * there is an RSDP: entries end to end, the last ends at the RAM's end. */
	uint64_t ram_end = a->ram_size ? a->ram_size : FUZZ_MEM, at = 0;
	check(bp[0x1e8] == (a->acpi_rsdp && ram_end >= GUEST_ACPI_END ? 3 : 1));
	for (unsigned i = 0; i < bp[0x1e8]; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		check(rd64(e) == at && rd32(e + 16) == (i == 1 ? 3u : 1u));
		at += rd64(e + 8);
	}
	check(at == ram_end);
	uint32_t rd = rd32(bp + 0x218), rd_len = rd32(bp + 0x21c);
	check(rd_len == a->initrd_len);
	if (a->initrd_len) {
		check(rd % 4096 == 0 && rd >= ge->image_end);
		check((uint64_t)rd + rd_len <= FUZZ_MEM);
		check((uint64_t)rd + rd_len <= (uint64_t)rd32(image + 0x22c) + 1);
		check(memcmp(mem + rd, a->initrd, a->initrd_len) == 0);
	} else {
		check(rd == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct guest_entry ge;

	if (!mem) {
		mem = malloc(FUZZ_MEM);
		check(mem != NULL);
	}
	if (size == 0)
		return 0;
	uint8_t control = data[0];
	data++;
	size--;
	uint8_t *image = malloc(size ? size : 1);
	check(image != NULL);
	memcpy(image, data, size);
	if (control & 1)
		fix_checksums(image, size);
	if (control & 2)
		fix_mb1_checksums(image, size);
	if (control & 32)
		plant_bzimage(image, size);

	uint8_t *initrd = malloc(777), *mod0 = malloc(5000), *mod1 = malloc(1);
	check(initrd && mod0 && mod1);
	memset(initrd, 0x1d, 777);
	memset(mod0, 0x30, 5000);
	mod1[0] = 0x31;
	struct guest_module mods[2] = {
		{ mod0, 5000, mod_strings[0] },
		{ mod1, 1, mod_strings[1] },
	};
	struct guest_load_args a = {
		.name = "fuzz",
		.image = image,
		.len = size,
		.mem = mem,
		.mem_size = FUZZ_MEM,
		.cmdline = FUZZ_CMDLINE,
	};
	if (control & 4) {
		a.initrd = initrd;
		a.initrd_len = 777;
	}
	if (control & 8) {
		a.modules = mods;
		a.nmodules = 2;
	}
	if (control & 16) {
		a.acpi_rsdp = FUZZ_RSDP;
		a.ram_size = FUZZ_RAM;
	}
	if (control & 64)
		a.kernel_name = FUZZ_KERNEL;

	test_log_clear();
	int err = guest_load_args(&a, &ge);
	if (err == 0) {
		check(strcmp(test_log(), "") == 0);
		if (ge.eax == MB2_BOOTLOADER_MAGIC || ge.eax == MB1_BOOTLOADER_MAGIC) {
			check(a.initrd_len == 0 && ge.esi == 0);
			check(ge.ebx == page_up(ge.image_end));
			check((uint64_t)ge.ebx + ge.info_size <= FUZZ_MEM);
			check(ge.rip < ge.image_end);
			if (ge.eax == MB2_BOOTLOADER_MAGIC)
				check_mb2(mem, &a, &ge);
			else
				check_mb1(mem, &a, &ge);
		} else {
			check(a.nmodules == 0);
			check_linux(mem, &a, &ge, image);
		}
	} else {
		check(err < 0);
		check(test_log_has("hv: domain fuzz: kernel: "));
	}
	free(image);
	free(initrd);
	free(mod0);
	free(mod1);
	return 0;
}
