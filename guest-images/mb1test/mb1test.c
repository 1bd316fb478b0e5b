/*
 * mb1test: a multiboot (version 1) test kernel. It checks the boot magic,
 * reads the multiboot information structure (Multiboot 0.6.96 3.3: flags,
 * command line, modules, memory map) and reports on COM1:
 *
 *   mb1test: cmdline '<cmdline>'
 *   mb1test: argv0 '<its first word>'
 *   mb1test: mmap: <n> entries, <k> KiB available
 *   mb1test: module <i> '<string>' <size> bytes, first line '<up to 40 chars>'
 *   mb1test: PASS | mb1test: FAIL <why>
 *
 * argv0 is the command line's first word: the kernel's file name when the
 * loader gives one (the hypervisor and QEMU's -kernel do, GRUB 2 does
 * not). PASS needs EAX == 0x2BADB002, a command line, and as many modules
 * as its `expect-mods=<n>` word says (any word: argv[0] is not one) (and each module page
 * aligned, as the header's flag bit 0 asks). Then it powers off: ACPI S5
 * through PM1a_CNT with our hypervisor's SLP_TYP (5), then QEMU's (0).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Console and port I/O are hvtest's (console.c is linked in too). */
#include "guest-images/hvtest/hvtest.h"
#include "guest-images/hvtest/io.h"

#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB1_INFO_MEM     (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS    (1u << 3)
#define MB1_INFO_MMAP    (1u << 6)

#define PM1A_CNT      0x604
#define FIRST_LINE_MAX 40

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};

struct mb1_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
};

struct mb1_mmap_entry {
	uint32_t size;		/* of the rest of the entry */
	uint32_t base_lo, base_hi;
	uint32_t len_lo, len_hi;
	uint32_t type;		/* 1: available RAM */
} __attribute__((packed));

void mb1test_main(uint32_t magic, uint32_t info_addr);

/* A string from the guest's memory, printable characters only, into out. */
static const char *text(char *out, size_t cap, const char *s, size_t max, bool stop_at_newline)
{
	size_t n = 0;

	for (size_t i = 0; i < max && s[i] && n + 1 < cap; i++) {
		char c = s[i];
		if (stop_at_newline && (c == '\n' || c == '\r'))
			break;
		out[n++] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[n] = '\0';
	return out;
}

static __attribute__((noreturn)) void mb1_power_off(void)
{
	outw(PM1A_CNT, (5u << 10) | (1u << 13));
	outw(PM1A_CNT, 1u << 13);
	halt_forever();
}

/* The number after "expect-mods=" as a word of `args`, or -1. */
static int expect_mods(const char *args)
{
	static const char key[] = "expect-mods=";

	for (const char *p = args; *p; p++) {
		if (p != args && p[-1] != ' ')
			continue;
		size_t i = 0;
		while (key[i] && p[i] == key[i])
			i++;
		if (key[i])
			continue;
		const char *q = p + i;
		int n = 0;
		if (*q < '0' || *q > '9')
			return -1;
		while (*q >= '0' && *q <= '9' && n < 100000)
			n = n * 10 + (*q++ - '0');
		return (*q == '\0' || *q == ' ') ? n : -1;
	}
	return -1;
}

static __attribute__((noreturn)) void mb1_fail(const char *why, uint32_t a, uint32_t b)
{
	if (a != b)
		con_printf("mb1test: FAIL %s (%u vs %u)\n", why, a, b);
	else
		con_printf("mb1test: FAIL %s\n", why);
	mb1_power_off();
}

void mb1test_main(uint32_t magic, uint32_t info_addr)
{
	const struct mb1_info *info = (const struct mb1_info *)(uintptr_t)info_addr;
	const char *cmdline = NULL;

	char buf[256];

	if (magic != MB1_BOOTLOADER_MAGIC) {
		con_printf("mb1test: FAIL boot magic 0x%08x, not 0x2badb002\n", magic);
		mb1_power_off();
	}
	if (info->flags & MB1_INFO_CMDLINE) {
		cmdline = (const char *)(uintptr_t)info->cmdline;
		con_printf("mb1test: cmdline '%s'\n", text(buf, sizeof(buf), cmdline, 1024, false));
		const char *first = cmdline;
		while (*first == ' ')
			first++;
		size_t n = 0;
		while (first[n] && first[n] != ' ')
			n++;
		con_printf("mb1test: argv0 '%s'\n", text(buf, sizeof(buf), first, n, false));
	}
	if (info->flags & MB1_INFO_MMAP) {
		uint32_t n = 0, kib = 0, off = 0;
		while (off + sizeof(struct mb1_mmap_entry) <= info->mmap_length && n < 128) {
			const struct mb1_mmap_entry *e = (const struct mb1_mmap_entry *)
				(uintptr_t)(info->mmap_addr + off);
			if (e->type == 1 && !e->len_hi)
				kib += e->len_lo / 1024;
			n++;
			off += e->size + sizeof(e->size);
		}
		con_printf("mb1test: mmap: %u entries, %u KiB available\n", n, kib);
	}
	uint32_t nmods = info->flags & MB1_INFO_MODS ? info->mods_count : 0;
	const struct mb1_module *mods = (const struct mb1_module *)(uintptr_t)info->mods_addr;
	for (uint32_t i = 0; i < nmods && i < 64; i++) {
		const struct mb1_module *m = &mods[i];
		uint32_t size = m->mod_end - m->mod_start;
		char first[FIRST_LINE_MAX + 1];
		con_printf("mb1test: module %u '%s' %u bytes, first line '%s'\n", i,
			   m->string ? text(buf, sizeof(buf), (const char *)(uintptr_t)m->string,
					    256, false) : "",
			   size, text(first, sizeof(first), (const char *)(uintptr_t)m->mod_start,
				      size < FIRST_LINE_MAX ? size : FIRST_LINE_MAX, true));
		if (m->mod_start % 4096)
			mb1_fail("a module is not page aligned", m->mod_start % 4096, 0);
	}
	if (!cmdline)
		mb1_fail("no command line", 0, 0);
	int want = expect_mods(cmdline);
	if (want < 0)
		mb1_fail("no expect-mods=<n> in the command line", 0, 0);
	if (!(info->flags & MB1_INFO_MODS) && want > 0)
		mb1_fail("no modules (flags bit 3 clear)", 0, 0);
	if (nmods != (uint32_t)want)
		mb1_fail("mods_count is not expect-mods", nmods, (uint32_t)want);
	con_printf("mb1test: PASS\n");
	mb1_power_off();
}
