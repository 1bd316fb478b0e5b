/*
 * The MMIO instruction decoder (vmm/insn.c): encodings gcc emits for
 * Linux's readl/writel/readb/writeq and the IOAPIC accessors, the
 * addressing forms around them in every CPU mode, the register file
 * updates a load makes, and refusals. Every length here was checked with
 * `objdump -D -b binary -mi386:x86-64` (or -mi386, -mi8086). Each
 * buffer is an exact-size heap copy, so ASan catches a read past n.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/errno.h"
#include "tests/unit/host_stubs.h"
#include "vmm/insn.h"
#include "vmm/vcpu.h"

/* x86 register numbers. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

struct want {
	int mode;
	const char *hex;	/* the bytes, spaces allowed */
	uint8_t len, size;
	bool write, imm_src;
	uint64_t imm;
	uint8_t reg;
	bool high8;
	uint8_t dst_size;
	bool sign_extend;
};

#define LOAD(m, h, l, s, r) { m, h, l, s, false, false, 0, r, false, s, false }
#define STORE(m, h, l, s, r) { m, h, l, s, true, false, 0, r, false, s, false }
#define STORE_IMM(m, h, l, s, i) { m, h, l, s, true, true, i, 0, false, s, false }
#define LOAD_EXT(m, h, l, s, r, d, sx) { m, h, l, s, false, false, 0, r, false, d, sx }

static const struct want good[] = {
	/* What gcc -O2 makes of readl/writel/readb/writeq and io_apic_read/write. */
	LOAD(64, "8b 02", 2, 4, RAX),				/* mov (%rdx),%eax */
	STORE(64, "89 02", 2, 4, RAX),				/* mov %eax,(%rdx) */
	STORE(64, "89 37", 2, 4, RSI),				/* mov %esi,(%rdi) */
	LOAD(64, "8b 47 10", 3, 4, RAX),			/* mov 0x10(%rdi),%eax */
	STORE(64, "89 57 10", 3, 4, RDX),			/* mov %edx,0x10(%rdi) */
	STORE(64, "44 89 00", 3, 4, R8),			/* mov %r8d,(%rax) */
	STORE_IMM(64, "c7 00 10 00 00 00", 6, 4, 0x10),	/* movl $0x10,(%rax) */
	STORE_IMM(64, "c7 00 78 56 34 12", 6, 4, 0x12345678),
	STORE_IMM(64, "c7 00 00 00 00 80", 6, 4, 0x80000000),	/* not extended past size */
	LOAD(64, "a1 10 00 c0 fe 00 00 00 00", 9, 4, RAX),	/* movabs 0xfec00010,%eax */
	LOAD(64, "48 a1 10 00 c0 fe 00 00 00 00", 10, 8, RAX),
	LOAD(64, "67 a1 10 00 c0 fe", 6, 4, RAX),		/* addr32 mov 0xfec00010,%eax */
	LOAD(64, "a0 10 00 c0 fe 00 00 00 00", 9, 1, RAX),
	STORE(64, "a2 10 00 c0 fe 00 00 00 00", 9, 1, RAX),
	STORE(64, "66 a3 10 00 c0 fe 00 00 00 00", 10, 2, RAX),
	LOAD_EXT(64, "0f b6 47 03", 4, 1, RAX, 4, false),	/* movzbl 0x3(%rdi),%eax */
	STORE(64, "48 89 b7 20 03 00 00", 7, 8, RSI),		/* mov %rsi,0x320(%rdi) */
	STORE_IMM(64, "48 c7 00 ff ff ff ff", 7, 8, ~0ull),	/* movq $-1,(%rax) */
	STORE_IMM(64, "48 c7 00 00 00 00 80", 7, 8, 0xffffffff80000000ull),
	STORE_IMM(64, "48 c7 00 ff ff ff 7f", 7, 8, 0x7fffffff),
	LOAD(64, "8b 05 00 00 00 00", 6, 4, RAX),		/* mov 0x0(%rip),%eax */
	LOAD(64, "4c 8b 05 f0 ff ff ff", 7, 8, R8),		/* mov -0x10(%rip),%r8 */
	LOAD_EXT(64, "48 0f bf 07", 4, 2, RAX, 8, true),	/* movswq (%rdi),%rax */
	STORE(64, "66 89 07", 3, 2, RAX),			/* mov %ax,(%rdi) */
	STORE_IMM(64, "c6 07 80", 3, 1, 0x80),			/* movb $0x80,(%rdi) */
	STORE_IMM(64, "66 c7 00 34 12", 5, 2, 0x1234),		/* movw $0x1234,(%rax) */
	/* ModRM/SIB forms. */
	LOAD(64, "48 8b 04 25 00 00 c0 fe", 8, 8, RAX),	/* mov 0xfffffffffec00000,%rax */
	LOAD(64, "8b 0c 65 00 00 c0 fe", 7, 4, RCX),		/* SIB base 5, mod 0: disp32 */
	LOAD(64, "8b 4c 65 10", 4, 4, RCX),			/* SIB base 5, mod 1: disp8 */
	LOAD(64, "8b 87 00 01 00 00", 6, 4, RAX),		/* disp32 */
	STORE(64, "4c 89 6c 24 08", 5, 8, R13),			/* mov %r13,0x8(%rsp) */
	LOAD(64, "42 8b 04 a0", 4, 4, RAX),			/* mov (%rax,%r12,4),%eax */
	LOAD(64, "41 8b 45 00", 4, 4, RAX),			/* mov 0x0(%r13),%eax */
	LOAD(64, "41 8b 04 24", 4, 4, RAX),			/* mov (%r12),%eax */
	LOAD(64, "67 8b 02", 3, 4, RAX),			/* mov (%edx),%eax */
	LOAD(64, "67 66 8b 8c 24 10 00 00 00", 9, 2, RCX),	/* mov 0x10(%esp),%cx */
	LOAD(64, "64 48 8b 04 25 28 00 00 00", 9, 8, RAX),	/* mov %fs:0x28,%rax */
	LOAD(64, "2e 3e 8b 02", 4, 4, RAX),
	/* A REX before another prefix is ignored; after it, it counts. */
	STORE(64, "48 66 89 00", 4, 2, RAX),
	STORE_IMM(64, "48 66 c7 00 34 12", 6, 2, 0x1234),
	STORE(64, "66 48 89 00", 4, 8, RAX),			/* data16 mov %rax,(%rax) */
	STORE(64, "44 3e 89 00", 4, 4, RAX),
	/* Byte registers. */
	{ 64, "88 20", 2, 1, true, false, 0, RAX, true, 1, false },	/* mov %ah,(%rax) */
	{ 64, "8a 3a", 2, 1, false, false, 0, RBX, true, 1, false },	/* mov (%rdx),%bh */
	{ 32, "88 20", 2, 1, true, false, 0, RAX, true, 1, false },
	STORE(64, "40 88 30", 3, 1, RSI),			/* mov %sil,(%rax) */
	LOAD(64, "40 8a 20", 3, 1, RSP),			/* mov (%rax),%spl */
	LOAD(64, "45 8a 38", 3, 1, R15),			/* mov (%r8),%r15b */
	LOAD(64, "4f 8a 38", 3, 1, R15),			/* REX.W does not widen a byte op */
	/* MOVZX/MOVSX. */
	LOAD_EXT(64, "0f b7 07", 3, 2, RAX, 4, false),		/* movzwl */
	LOAD_EXT(64, "48 0f be 07", 4, 1, RAX, 8, true),	/* movsbq */
	LOAD_EXT(64, "0f bf 07", 3, 2, RAX, 4, true),		/* movswl */
	LOAD_EXT(64, "66 0f b6 37", 4, 1, RSI, 2, false),	/* movzbw (%rdi),%si */
	LOAD_EXT(64, "44 0f b6 37", 4, 1, R14, 4, false),	/* movzbl (%rdi),%r14d */
	LOAD_EXT(32, "0f b6 22", 3, 1, RSP, 4, false),		/* movzbl (%edx),%esp: not AH */
	/* 32-bit mode. */
	LOAD(32, "8b 15 00 00 c0 fe", 6, 4, RDX),		/* absolute disp32, not RIP */
	LOAD(32, "a1 00 00 c0 fe", 5, 4, RAX),
	LOAD(32, "66 a1 00 00 c0 fe", 6, 2, RAX),
	LOAD(32, "67 a1 00 00", 4, 4, RAX),			/* addr16 moffs */
	LOAD(32, "67 8b 07", 3, 4, RAX),			/* mov (%bx),%eax */
	LOAD(32, "67 8b 06 34 12", 5, 4, RAX),			/* mov 0x1234,%eax */
	LOAD(32, "67 8b 47 10", 4, 4, RAX),
	LOAD(32, "67 8b 87 34 12", 5, 4, RAX),
	STORE_IMM(32, "66 c7 00 34 12", 5, 2, 0x1234),
	LOAD(32, "8b 04 24", 3, 4, RAX),
	LOAD(32, "8b 04 25 00 00 c0 fe", 7, 4, RAX),
	LOAD(32, "8b 44 24 10", 4, 4, RAX),
	LOAD(32, "8b 84 24 00 00 c0 fe", 7, 4, RAX),
	STORE_IMM(32, "c7 00 78 56 34 12", 6, 4, 0x12345678),
	/* 16-bit mode. */
	LOAD(16, "8b 07", 2, 2, RAX),				/* mov (%bx),%ax */
	LOAD(16, "66 8b 07", 3, 4, RAX),
	LOAD(16, "67 8b 04 24", 4, 2, RAX),			/* mov (%esp),%ax */
	LOAD(16, "a1 34 12", 3, 2, RAX),
	LOAD(16, "67 a1 00 00 c0 fe", 6, 2, RAX),
	STORE_IMM(16, "c7 06 34 12 78 56", 6, 2, 0x5678),	/* movw $0x5678,0x1234 */
	STORE_IMM(16, "66 c7 06 34 12 78 56 34 12", 9, 4, 0x12345678),
	LOAD(16, "8b 46 10", 3, 2, RAX),			/* mov 0x10(%bp),%ax */
	LOAD(16, "8b 86 34 12", 4, 2, RAX),
	LOAD(16, "8b 06 34 12", 4, 2, RAX),
	LOAD(16, "67 66 8b 84 24 10 00 00 00", 9, 4, RAX),
	/* Exactly 15 bytes is allowed. */
	LOAD(64, "3e 3e 3e 3e 3e 3e 3e 48 8b 04 25 00 00 c0 fe", 15, 8, RAX),
};

static const struct { int mode; const char *hex; } bad[] = {
	{ 64, "f0 89 02" },		/* lock */
	{ 64, "f3 89 02" },		/* rep */
	{ 64, "f2 8b 02" },		/* repne */
	{ 64, "66 f0 89 02" },
	{ 64, "89 c0" },		/* mod 3: a register */
	{ 64, "8b c2" },
	{ 64, "c7 c0 00 00 00 00" },
	{ 64, "0f b6 c0" },
	{ 64, "c7 08 00 00 00 00" },	/* c7 /1 */
	{ 64, "c6 38 00" },		/* c6 /7 */
	{ 64, "8d 02" },		/* lea */
	{ 64, "01 02" },		/* add */
	{ 64, "87 02" },		/* xchg */
	{ 64, "a4" },			/* movsb */
	{ 64, "63 02" },		/* movsxd */
	{ 64, "0f 0b" },
	{ 64, "0f" "b8 02" },		/* popcnt without f3 */
	{ 64, "c5 f8 10 00" },		/* vmovups */
	{ 32, "48 8b 02" },		/* dec eax, not a REX */
	{ 16, "40" },
	{ 64, "3e 3e 3e 3e 3e 3e 3e 3e 48 8b 04 25 00 00 c0 fe" },	/* 16 bytes */
	{ 64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 8b 02" },
	{ 64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66" },	/* 15 prefixes */
};

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (const char *p = hex; *p; p++) {
		if (*p == ' ')
			continue;
		unsigned v;
		assert_int_equal(sscanf(p, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		p++;
	}
	return n;
}

/* Decode the first n bytes of hex from an exact-size heap buffer. */
static int decode(int mode, const char *hex, size_t n, struct mmio_insn *out)
{
	uint8_t bytes[64];
	size_t all = unhex(hex, bytes);
	assert_true(n <= all);
	uint8_t *buf = malloc(n ? n : 1);
	assert_non_null(buf);
	memcpy(buf, bytes, n);
	int rc = insn_decode_mmio(n ? buf : NULL, n, mode, out);
	free(buf);
	return rc;
}

static void check_want(const struct want *w, const struct mmio_insn *d)
{
	if (d->len != w->len || d->size != w->size || d->reg != w->reg)
		fprintf(stderr, "%d-bit \"%s\": len %u size %u reg %u\n", w->mode, w->hex,
			d->len, d->size, d->reg);
	assert_int_equal(d->len, w->len);
	assert_int_equal(d->size, w->size);
	assert_int_equal(d->write, w->write);
	assert_int_equal(d->imm_src, w->imm_src);
	assert_true(d->imm == w->imm);
	assert_int_equal(d->reg, w->reg);
	assert_int_equal(d->high8, w->high8);
	assert_int_equal(d->dst_size, w->dst_size);
	assert_int_equal(d->sign_extend, w->sign_extend);
}

static void test_good(void **state)
{
	uint8_t bytes[64];
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct want *w = &good[i];
		struct mmio_insn d;
		size_t n = unhex(w->hex, bytes);
		assert_int_equal(n, w->len);
		memset(&d, 0xa5, sizeof(d));
		int rc = decode(w->mode, w->hex, n, &d);
		if (rc)
			fprintf(stderr, "%d-bit \"%s\": %d\n", w->mode, w->hex, rc);
		assert_int_equal(rc, 0);
		check_want(w, &d);
	}
}

/* Whatever follows the instruction does not change it. */
static void test_trailing_bytes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct want *w = &good[i];
		char hex[200];
		struct mmio_insn d;
		snprintf(hex, sizeof(hex), "%s 8b 02 c7 00 ff ff ff ff 0f 0f 0f 0f 0f 0f", w->hex);
		for (size_t extra = 1; extra <= 14; extra += 13) {
			assert_int_equal(decode(w->mode, hex, w->len + extra, &d), 0);
			check_want(w, &d);
		}
	}
}

/* Cut short anywhere, a good instruction asks for more bytes. */
static void test_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct want *w = &good[i];
		for (size_t n = 0; n < w->len; n++) {
			struct mmio_insn d;
			int rc = decode(w->mode, w->hex, n, &d);
			if (rc != -ENODATA)
				fprintf(stderr, "%d-bit \"%s\" cut at %zu: %d\n", w->mode, w->hex, n, rc);
			assert_int_equal(rc, -ENODATA);
		}
	}
}

static void test_bad(void **state)
{
	uint8_t bytes[64];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mmio_insn d;
		size_t n = unhex(bad[i].hex, bytes);
		int rc = decode(bad[i].mode, bad[i].hex, n, &d);
		if (rc != -EINVAL)
			fprintf(stderr, "%d-bit \"%s\": %d\n", bad[i].mode, bad[i].hex, rc);
		assert_int_equal(rc, -EINVAL);
	}
	/* The refusal comes as soon as the bytes show it. */
	struct mmio_insn d;
	assert_int_equal(decode(64, "f0", 1, &d), -EINVAL);
	assert_int_equal(decode(64, "89 c0", 2, &d), -EINVAL);
	assert_int_equal(decode(64, "8b", 1, &d), -ENODATA);
	/* Too long is refused even when the buffer ends early. */
	assert_int_equal(decode(64, "3e 3e 3e 3e 3e 3e 3e 3e 48 8b 04 25 00 00 c0 fe", 13, &d),
			 -EINVAL);
	/* Only 16, 32 and 64 are modes. */
	assert_int_equal(decode(0, "8b 02", 2, &d), -EINVAL);
	assert_int_equal(decode(8, "8b 02", 2, &d), -EINVAL);
}

/* ---- completing the access ------------------------------------------------ */

static struct guest_regs regs_pattern(void)
{
	struct guest_regs r = {
		.rax = 0x1111111111115511, .rbx = 0x2222222222223322, .rcx = 0x3333333333333333,
		.rdx = 0x4444444444444444, .rsi = 0x5555555555555555, .rdi = 0x6666666666666666,
		.rbp = 0x7777777777777777, .r8 = 0x8888888888888888, .r9 = 0x9999999999999999,
		.r10 = 0xaaaaaaaaaaaaaaaa, .r11 = 0xbbbbbbbbbbbbbbbb, .r12 = 0xcccccccccccccccc,
		.r13 = 0xdddddddddddddddd, .r14 = 0xeeeeeeeeeeeeeeee, .r15 = 0xffffffffffffffff,
		.rsp = 0x0123456789abcdef, .rip = 0x1000, .rflags = 0x2,
	};
	return r;
}

/* Decode hex, complete a load of `value`, expect only `field` to change,
 * to `expect`. */
static void load_case(int mode, const char *hex, uint64_t value, size_t field, uint64_t expect)
{
	uint8_t bytes[16];
	struct mmio_insn d;
	struct guest_regs r = regs_pattern(), before = r;

	assert_int_equal(decode(mode, hex, unhex(hex, bytes), &d), 0);
	assert_false(d.write);
	insn_complete_load(&r, &d, value);
	*(uint64_t *)((char *)&before + field) = expect;
	if (memcmp(&r, &before, sizeof(r)))
		fprintf(stderr, "\"%s\" <- %#llx: got %#llx\n", hex, (unsigned long long)value,
			(unsigned long long)*(uint64_t *)((char *)&r + field));
	assert_memory_equal(&r, &before, sizeof(r));
}

#define F(x) offsetof(struct guest_regs, x)

static void test_complete_load(void **state)
{
	(void)state;
	load_case(64, "8b 02", 0xfec0ffee, F(rax), 0xfec0ffee);		/* zero-extends */
	load_case(64, "8b 0a", 0x80000000, F(rcx), 0x80000000);
	load_case(64, "8b 12", 0xaabbccdd, F(rdx), 0xaabbccdd);
	load_case(64, "8b 1a", 1, F(rbx), 1);
	load_case(64, "8b 22", 2, F(rsp), 2);
	load_case(64, "8b 2a", 3, F(rbp), 3);
	load_case(64, "8b 32", 4, F(rsi), 4);
	load_case(64, "8b 3a", 5, F(rdi), 5);
	load_case(64, "44 8b 02", 6, F(r8), 6);
	load_case(64, "44 8b 0a", 7, F(r9), 7);
	load_case(64, "44 8b 12", 8, F(r10), 8);
	load_case(64, "44 8b 1a", 9, F(r11), 9);
	load_case(64, "44 8b 22", 10, F(r12), 10);
	load_case(64, "44 8b 2a", 11, F(r13), 11);
	load_case(64, "44 8b 32", 12, F(r14), 12);
	load_case(64, "44 8b 3a", 13, F(r15), 13);
	load_case(64, "48 8b 02", 0x8000000000000001, F(rax), 0x8000000000000001);
	load_case(64, "66 8b 02", 0xbeef, F(rax), 0x111111111111beef);	/* merges */
	load_case(64, "8a 02", 0x42, F(rax), 0x1111111111115542);
	load_case(64, "8a 22", 0x42, F(rax), 0x1111111111114211);		/* AH */
	load_case(64, "8a 3a", 0x42, F(rbx), 0x2222222222224222);		/* BH */
	load_case(64, "40 8a 22", 0x42, F(rsp), 0x0123456789abcd42);	/* SPL */
	load_case(64, "a0 00 00 c0 fe 00 00 00 00", 0x99, F(rax), 0x1111111111115599);
	load_case(32, "8b 02", 0xfec0ffee, F(rax), 0xfec0ffee);
	load_case(16, "8b 07", 0xbeef, F(rax), 0x111111111111beef);
	load_case(64, "0f b6 02", 0x80, F(rax), 0x80);
	load_case(64, "0f be 02", 0x80, F(rax), 0xffffff80);			/* 32-bit dst */
	load_case(64, "48 0f be 02", 0x80, F(rax), 0xffffffffffffff80);
	load_case(64, "48 0f be 02", 0x7f, F(rax), 0x7f);
	load_case(64, "66 0f be 02", 0x80, F(rax), 0x111111111111ff80);	/* 16-bit dst */
	load_case(64, "66 0f b6 02", 0x80, F(rax), 0x1111111111110080);
	load_case(64, "0f b7 02", 0x8001, F(rax), 0x8001);
	load_case(64, "0f bf 02", 0x8001, F(rax), 0xffff8001);
	load_case(64, "48 0f bf 02", 0x8001, F(rax), 0xffffffffffff8001);
	load_case(64, "4c 0f bf 3a", 0x7001, F(r15), 0x7001);
	load_case(64, "0f b6 22", 0x80, F(rsp), 0x80);			/* ESP, not AH */
	/* A value wider than the access is cut to it first. */
	load_case(64, "8a 02", 0x1234, F(rax), 0x1111111111115534);
	load_case(64, "0f be 02", 0xff7f, F(rax), 0x7f);
}

static void store_case(int mode, const char *hex, uint64_t expect)
{
	uint8_t bytes[16];
	struct mmio_insn d;
	struct guest_regs r = regs_pattern();

	assert_int_equal(decode(mode, hex, unhex(hex, bytes), &d), 0);
	assert_true(d.write);
	uint64_t v = insn_store_value(&r, &d);
	if (v != expect)
		fprintf(stderr, "\"%s\": %#llx\n", hex, (unsigned long long)v);
	assert_true(v == expect);
}

static void test_store_value(void **state)
{
	(void)state;
	store_case(64, "89 02", 0x11115511);
	store_case(64, "89 0a", 0x33333333);
	store_case(64, "89 12", 0x44444444);
	store_case(64, "89 1a", 0x22223322);
	store_case(64, "89 22", 0x89abcdef);	/* esp */
	store_case(64, "89 2a", 0x77777777);
	store_case(64, "89 32", 0x55555555);
	store_case(64, "89 3a", 0x66666666);
	store_case(64, "4c 89 02", 0x8888888888888888);
	store_case(64, "4c 89 3a", 0xffffffffffffffff);
	store_case(64, "44 89 2a", 0xdddddddd);
	store_case(64, "66 89 02", 0x5511);
	store_case(64, "48 89 22", 0x0123456789abcdef);
	store_case(64, "88 02", 0x11);
	store_case(64, "88 22", 0x55);		/* AH */
	store_case(64, "88 3a", 0x33);		/* BH */
	store_case(64, "40 88 22", 0xef);	/* SPL */
	store_case(64, "a3 00 00 c0 fe 00 00 00 00", 0x11115511);
	store_case(64, "c7 00 78 56 34 12", 0x12345678);
	store_case(64, "48 c7 00 fe ff ff ff", 0xfffffffffffffffe);
	store_case(64, "c6 00 80", 0x80);
	store_case(64, "66 c7 00 34 12", 0x1234);
	store_case(16, "89 07", 0x5511);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_complete_load),
		cmocka_unit_test(test_store_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
