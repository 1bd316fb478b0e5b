/*
 * mb1test: a multiboot (version 1) test kernel. It checks the boot magic,
 * reads the multiboot information structure (Multiboot 0.6.96 3.3: flags,
 * command line, modules, memory map) and reports on COM1:
 *
 *   mb1test: cmdline '<cmdline>'
 *   mb1test: mmap: <n> entries, <k> KiB available
 *   mb1test: module <i> '<string>' <size> bytes, first line '<up to 40 chars>'
 *   mb1test: PASS | mb1test: FAIL <why>
 *
 * PASS needs EAX == 0x2BADB002, a command line, and as many modules as the
 * command line's `expect-mods=<n>` word says (and each module page
 * aligned, as the header's flag bit 0 asks). Then it powers off: ACPI S5
 * through PM1a_CNT with our hypervisor's SLP_TYP (5), then QEMU's (0).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB1_BOOTLOADER_MAGIC 0x2BADB002u
#define MB1_INFO_MEM     (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS    (1u << 3)
#define MB1_INFO_MMAP    (1u << 6)

#define COM1_THR      0x3f8
#define COM1_LSR      0x3fd
#define LSR_THR_EMPTY 0x20
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

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

/* The compiler may emit calls to these even with -ffreestanding. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

/* Wait for THR empty, but not forever: an unowned port may never say so. */
static void con_putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(COM1_LSR) & LSR_THR_EMPTY); i++)
		;
	outb(COM1_THR, (uint8_t)c);
}

static void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

static void con_putu(uint32_t v)
{
	char buf[11];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		con_putc(buf[--n]);
}

/* A string from the guest's memory, printable characters only. */
static void put_text(const char *s, size_t max, bool stop_at_newline)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		char c = s[i];
		if (stop_at_newline && (c == '\n' || c == '\r'))
			break;
		con_putc(c >= 0x20 && c < 0x7f ? c : '?');
	}
}

static __attribute__((noreturn)) void power_off(void)
{
	outw(PM1A_CNT, (5u << 10) | (1u << 13));
	outw(PM1A_CNT, 1u << 13);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* The number after "expect-mods=" as a word of the command line, or -1. */
static int expect_mods(const char *cmdline)
{
	static const char key[] = "expect-mods=";

	for (const char *p = cmdline; *p; p++) {
		if (p != cmdline && p[-1] != ' ')
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

static void fail(const char *why, uint32_t a, uint32_t b)
{
	con_puts("mb1test: FAIL ");
	con_puts(why);
	if (a != b) {
		con_puts(" (");
		con_putu(a);
		con_puts(" vs ");
		con_putu(b);
		con_puts(")");
	}
	con_puts("\n");
	power_off();
}

void mb1test_main(uint32_t magic, uint32_t info_addr)
{
	const struct mb1_info *info = (const struct mb1_info *)(uintptr_t)info_addr;
	const char *cmdline = NULL;

	if (magic != MB1_BOOTLOADER_MAGIC) {
		con_puts("mb1test: FAIL boot magic 0x");
		for (int shift = 28; shift >= 0; shift -= 4)
			con_putc("0123456789abcdef"[(magic >> shift) & 0xf]);
		con_puts(", not 0x2badb002\n");
		power_off();
	}
	if (info->flags & MB1_INFO_CMDLINE) {
		cmdline = (const char *)(uintptr_t)info->cmdline;
		con_puts("mb1test: cmdline '");
		put_text(cmdline, 1024, false);
		con_puts("'\n");
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
		con_puts("mb1test: mmap: ");
		con_putu(n);
		con_puts(" entries, ");
		con_putu(kib);
		con_puts(" KiB available\n");
	}
	uint32_t nmods = info->flags & MB1_INFO_MODS ? info->mods_count : 0;
	const struct mb1_module *mods = (const struct mb1_module *)(uintptr_t)info->mods_addr;
	for (uint32_t i = 0; i < nmods && i < 64; i++) {
		const struct mb1_module *m = &mods[i];
		uint32_t size = m->mod_end - m->mod_start;
		con_puts("mb1test: module ");
		con_putu(i);
		con_puts(" '");
		if (m->string)
			put_text((const char *)(uintptr_t)m->string, 256, false);
		con_puts("' ");
		con_putu(size);
		con_puts(" bytes, first line '");
		put_text((const char *)(uintptr_t)m->mod_start,
			 size < FIRST_LINE_MAX ? size : FIRST_LINE_MAX, true);
		con_puts("'\n");
		if (m->mod_start % 4096)
			fail("a module is not page aligned", m->mod_start % 4096, 0);
	}
	if (!cmdline)
		fail("no command line", 0, 0);
	int want = expect_mods(cmdline);
	if (want < 0)
		fail("no expect-mods=<n> in the command line", 0, 0);
	if (!(info->flags & MB1_INFO_MODS) && want > 0)
		fail("no modules (flags bit 3 clear)", 0, 0);
	if (nmods != (uint32_t)want)
		fail("mods_count is not expect-mods", nmods, (uint32_t)want);
	con_puts("mb1test: PASS\n");
	power_off();
}
