/*
 * hvtest: a multiboot2 test guest that checks, from inside a domain, what
 * the hypervisor promises it (see README.md). Shared declarations.
 */
#ifndef HVTEST_H
#define HVTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/multiboot2.h"

#define PAGE_SIZE 4096u
#define MIB       (1024u * 1024u)

/* Selectors of our own GDT (entry.S). */
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

/* ---- console.c: COM1 output and a small formatter ------------------------ */

struct strbuf {
	char *buf;
	size_t cap;	/* including the terminating NUL */
	size_t len;
};

#define STRBUF_INIT(mem) { (mem), sizeof(mem), 0 }

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append one problem to a "; "-separated list. */
void problem(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void con_write(const char *s, size_t len);
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
size_t strlen(const char *s);
bool str_eq(const char *a, const char *b);

/* ---- hvtest.c: results and power ----------------------------------------- */

/* The check running now ("" outside any), for the exception reporter. */
extern const char *current_check;

void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run one check: it must report exactly one PASS or FAIL line. */
void run_check(const char *name, void (*check)(void));
/* Hypercall nr with the vendor's instruction; false after a FAIL (#UD,
 * unknown vendor). */
bool hv_hypercall(uint32_t nr, uint32_t *ret);
/* CPUID 0's vendor string ("AuthenticAMD", "GenuineIntel", ...). */
void cpu_vendor(char out[13]);
#define HC_EXIT_COUNT 1		/* hypercall: the domain's exits so far */
/* One line from COM1 (polling LSR.DR), without its end; false if none
 * came for a long while (*len: the bytes that did). */
bool console_read_line(char *line, size_t cap, uint32_t *len);
__attribute__((noreturn)) void power_off(void);
void hvtest_main(uint32_t magic, uint32_t info_addr);

/* The domain's exits over a stretch, by hypercall HC_EXIT_COUNT, less
 * what reading the count costs (two readings back to back): exits_start
 * before, exits_since after. False without the hypercall (after a FAIL). */
struct exit_meter {
	uint32_t start, cost;
};
bool exits_start(struct exit_meter *m);
bool exits_since(const struct exit_meter *m, uint32_t *exits);

/* console=ticker|flood|ansi (conmodes.c): never returns. */
__attribute__((noreturn)) void console_mode_run(const char *mode);

/* apic=check (apic.c): the boot CPU's APIC ID, and xAPIC mode. */
void check_apic_id(void);
void check_xapic(void);

/* ---- mb2info.c: the multiboot2 information block ------------------------ */

struct boot_info {
	bool valid;
	uint32_t addr, size;		/* the block, guest physical */
	const char *cmdline;		/* "" when there is no tag */
	bool have_cmdline;
	/* The command line's first word, argv0_len bytes at argv0: the
	 * kernel's file name (argv[0]) when the loader gives one, as the
	 * hypervisor does (GRUB 2 does not). The parsers read every word of
	 * cmdline: the name has no "key=" of theirs. */
	const char *argv0;
	uint32_t argv0_len;
	const char *loader;		/* "" when there is no tag */
	bool have_meminfo;
	uint32_t mem_lower, mem_upper;	/* KiB */
	const struct mb2_tag_mmap *mmap;
	uint32_t mmap_count;
};

bool mb2_parse(uint32_t magic, uint32_t addr, struct boot_info *bi, struct strbuf *why);
const struct mb2_mmap_entry *mmap_entry(const struct boot_info *bi, uint32_t i);
bool cmdline_value(const char *cmdline, const char *key, char *out, size_t cap);
/* A hex digit's value; 99 for anything else. */
int digit_value(char c);
bool parse_size(const char *s, uint64_t *out);

/* ---- memtest.c: the RAM we may scribble on ------------------------------ */

struct range {
	uint64_t start, end;	/* [start, end) */
};

/* Pages that hold the image (with its stack and bss) and the info block. */
size_t reserved_ranges(const struct boot_info *bi, struct range *out, size_t cap);
bool page_is_free(const struct boot_info *bi, uint64_t addr);
void check_memory_rw(const struct boot_info *bi);

/* ---- trap.c: exceptions ----------------------------------------------------- */

struct trap_frame {		/* entry.S builds it: pusha, vector, error, then the CPU's */
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

struct desc_ptr32 {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

struct desc_ptr64 {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* Vector of the last fault an .extable entry recovered from, or -1. */
extern volatile int fixup_vector;
extern struct desc_ptr32 idt32_ptr;

/* Takes every #DB while set (and may change the frame it returns to). */
extern void (*volatile db_hook)(struct trap_frame *f);

void trap_init(void);
void trap_handler(struct trap_frame *f);
const char *vector_name(uint32_t vector);
void idt64_build(struct desc_ptr64 *ptr);
/* Interrupts taken per vector (32-255), by entry.S's stubs. */
extern volatile uint32_t irq_count[256];
/* A register the stub writes all ones to before the EOI (0: none). */
extern volatile uint32_t irq_ack[256];
/* Where the interrupt stubs EOI: NULL for the x2APIC EOI MSR, else the
 * xAPIC EOI register (a guest that left x2APIC mode). */
extern volatile uint32_t *volatile lapic_eoi_mmio;
/* Enable the LAPIC and interrupts; our x2APIC ID. */
uint32_t lapic_start(void);
/* Interrupts taken so far, every vector. */
uint32_t irq_total(void);

/* ---- step.c: step=check --------------------------------------------------- */

/* The checks single-step and interrupt-shadow (README.md). */
void step_tests_run(void);

/* ---- entry.S / long_mode.S ---------------------------------------------- */

extern char __image_start[], __image_end[];
extern const uint32_t trap_stubs32[32], trap_stubs64[32];
extern const char irq_stubs32[];

/* Return RAX, or the argument if the instruction faulted (fixup_vector). */
uint32_t hypercall_vmmcall(uint32_t nr);
uint32_t hypercall_vmcall(uint32_t nr);
/* RDMSR/WRMSR; a fault resumes after them with fixup_vector set (a
 * faulted read returns 0). */
uint64_t msr_read_fixup(uint32_t msr);
void msr_write_fixup(uint32_t msr, uint32_t lo, uint32_t hi);

#define LM_FAIL_LMA    1u	/* EFER.LMA clear in 64-bit code */
#define LM_FAIL_REG64  2u	/* a 64-bit register lost its upper half */
#define LM_FAIL_MARKER 4u	/* marker written above 4 GiB (alias) not read back below */
#define LM_MARKER      0x3436747365747668ull	/* "hvtest64" */

/* Enter long mode, run the 64-bit checks, come back; LM_FAIL_* bits. */
uint32_t long_mode_trip(uint32_t pml4, uint32_t marker, const struct desc_ptr64 *idt64,
			const struct desc_ptr32 *idt32);

#endif
