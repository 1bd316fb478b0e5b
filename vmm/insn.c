/*
 * The MMIO instruction decoder; see insn.h. Instruction format: SDM Vol.
 * 2A 2.1 (prefixes, ModRM, SIB, displacement, immediate), 2.2.1 (REX),
 * tables 2-1 to 2-3 (16-, 32- and 64-bit ModRM/SIB forms).
 */
#include <stddef.h>

#include "kernel/errno.h"
#include "vmm/insn.h"
#include "vmm/vcpu.h"

/* What an opcode needs decoded, and how it moves data. */
#define OP_MODRM	(1u << 0)	/* a ModRM (and maybe SIB, displacement) follows */
#define OP_MOFFS	(1u << 1)	/* an address-size offset follows, register is rAX */
#define OP_IMM		(1u << 2)	/* an immediate of the operand size (at most 4 bytes) */
#define OP_WRITE	(1u << 3)	/* memory is the destination */
#define OP_BYTE		(1u << 4)	/* memory operand is 8-bit, register too */
#define OP_WORD_SRC	(1u << 5)	/* memory operand is 16-bit (MOVZX/MOVSX) */
#define OP_EXTEND	(1u << 6)	/* MOVZX/MOVSX: register has the operand size */
#define OP_SIGN		(1u << 7)	/* MOVSX */
#define OP_REG0		(1u << 8)	/* ModRM.reg must be 0 (the /0 forms) */

#define TWO(b) ((uint16_t)(0x100 | (b)))

/* What the opcode byte (TWO(byte) after the 0f escape) needs; 0 for one
 * we do not emulate. A switch: the compiler makes it one table jump. */
static uint16_t opcode_flags(uint16_t code)
{
	switch (code) {
	case 0x88: return OP_MODRM | OP_WRITE | OP_BYTE;
	case 0x89: return OP_MODRM | OP_WRITE;
	case 0x8a: return OP_MODRM | OP_BYTE;
	case 0x8b: return OP_MODRM;
	case 0xa0: return OP_MOFFS | OP_BYTE;
	case 0xa1: return OP_MOFFS;
	case 0xa2: return OP_MOFFS | OP_WRITE | OP_BYTE;
	case 0xa3: return OP_MOFFS | OP_WRITE;
	case 0xc6: return OP_MODRM | OP_REG0 | OP_IMM | OP_WRITE | OP_BYTE;
	case 0xc7: return OP_MODRM | OP_REG0 | OP_IMM | OP_WRITE;
	case TWO(0xb6): return OP_MODRM | OP_EXTEND | OP_BYTE;
	case TWO(0xb7): return OP_MODRM | OP_EXTEND | OP_WORD_SRC;
	case TWO(0xbe): return OP_MODRM | OP_EXTEND | OP_BYTE | OP_SIGN;
	case TWO(0xbf): return OP_MODRM | OP_EXTEND | OP_WORD_SRC | OP_SIGN;
	default: return 0;
	}
}

#define REX_W 0x8
#define REX_R 0x4

/* The bytes seen so far. Every read goes through cursor_room, which
 * enforces both the 15-byte limit and the buffer's end; the limit comes
 * first so that -ENODATA always means "more bytes could still decode". */
struct cursor {
	const uint8_t *buf;
	size_t n, pos;
};

/* Can k more bytes be taken? 0, or why not. */
static inline int cursor_room(const struct cursor *c, size_t k)
{
	if (c->pos + k > INSN_MAX_LEN)
		return trace_error(-EINVAL);
	if (c->pos + k > c->n)
		return -ENODATA;	/* normal: the caller fetches more */
	return 0;
}

/* k bytes, little-endian, into *val. */
static int cursor_take(struct cursor *c, size_t k, uint64_t *val)
{
	int rc = cursor_room(c, k);

	if (rc)
		return rc;
	uint64_t v = 0;
	for (size_t i = 0; i < k; i++)
		v |= (uint64_t)c->buf[c->pos + i] << (8 * i);
	c->pos += k;
	*val = v;
	return 0;
}

/* k bytes passed over (a displacement or an offset: the fault gave the
 * address). */
static inline int cursor_skip(struct cursor *c, size_t k)
{
	int rc = cursor_room(c, k);

	if (!rc)
		c->pos += k;
	return rc;
}

static inline int cursor_byte(struct cursor *c, uint8_t *b)
{
	int rc = cursor_room(c, 1);

	if (!rc)
		*b = c->buf[c->pos++];
	return rc;
}

/* Bytes of displacement after a memory ModRM (and the SIB it announces). */
static int modrm_disp_len(struct cursor *c, uint8_t modrm, unsigned addr_size, size_t *disp)
{
	unsigned mod = modrm >> 6, rm = modrm & 7;

	if (addr_size == 2) {	/* SDM Vol. 2A table 2-1: no SIB */
		*disp = mod == 1 ? 1 : mod == 2 ? 2 : rm == 6 ? 2 : 0;
		return 0;
	}
	/* Table 2-2/2-3; REX.B does not change these special cases (2.2.1.2). */
	*disp = mod == 1 ? 1 : mod == 2 ? 4 : rm == 5 ? 4 : 0;	/* mod 0 rm 5: disp32 or RIP+disp32 */
	if (rm == 4) {
		uint8_t sib;
		int rc = cursor_byte(c, &sib);
		if (rc)
			return rc;
		if (mod == 0)
			*disp = (sib & 7) == 5 ? 4 : 0;
	}
	return 0;
}

int insn_decode_mmio(const uint8_t *buf, size_t n, int cpu_mode, struct mmio_insn *out)
{
	struct cursor c = { buf, n, 0 };
	bool opsize_prefix = false, addrsize_prefix = false;
	uint8_t rex = 0, b;
	int rc;

	if (cpu_mode != 16 && cpu_mode != 32 && cpu_mode != 64)
		return trace_error(-EINVAL);

	/* Prefixes, SDM Vol. 2A 2.1.1. A REX only counts directly before the
	 * opcode (2.2.1): one followed by another prefix is ignored. */
	for (;;) {
		if ((rc = cursor_byte(&c, &b)))
			return rc;
		switch (b) {
		case 0x66:
			opsize_prefix = true;
			rex = 0;
			continue;
		case 0x67:
			addrsize_prefix = true;
			rex = 0;
			continue;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:	/* segments */
			rex = 0;
			continue;
		case 0xf0: case 0xf2: case 0xf3:
			return trace_error(-EINVAL);	/* LOCK, REPNE, REP */
		}
		if (cpu_mode == 64 && (b & 0xf0) == 0x40) {
			rex = b;
			continue;
		}
		break;
	}

	uint16_t code = b;
	if (b == 0x0f) {
		if ((rc = cursor_byte(&c, &b)))
			return rc;
		code = TWO(b);
	}
	const uint16_t flags = opcode_flags(code);
	if (!flags)
		return trace_error(-EINVAL);

	/* Operand and address size, SDM Vol. 2A 3.6 table 3-4, 2.2.1.2. */
	unsigned opsize = cpu_mode == 16 ? 2 : 4;
	if (opsize_prefix)
		opsize = cpu_mode == 16 ? 4 : 2;
	if (rex & REX_W)
		opsize = 8;
	unsigned addr_size = cpu_mode == 64 ? 8 : cpu_mode == 32 ? 4 : 2;
	if (addrsize_prefix)
		addr_size = cpu_mode == 64 ? 4 : cpu_mode == 32 ? 2 : 4;

	struct mmio_insn d = { 0 };
	d.write = flags & OP_WRITE;
	d.size = flags & OP_BYTE ? 1 : flags & OP_WORD_SRC ? 2 : (uint8_t)opsize;
	d.dst_size = flags & OP_EXTEND ? (uint8_t)opsize : d.size;
	d.sign_extend = flags & OP_SIGN;

	if (flags & OP_MODRM) {
		uint8_t modrm;
		size_t disp;
		if ((rc = cursor_byte(&c, &modrm)))
			return rc;
		if (modrm >> 6 == 3)
			return trace_error(-EINVAL);	/* a register, not memory */
		unsigned reg = (modrm >> 3) & 7;
		if ((flags & OP_REG0) && reg != 0)
			return trace_error(-EINVAL);
		if ((rc = modrm_disp_len(&c, modrm, addr_size, &disp)))
			return rc;
		if ((rc = cursor_skip(&c, disp)))
			return rc;
		if (rex & REX_R)
			reg += 8;
		/* Byte registers 4-7 are AH/CH/DH/BH unless a REX is present
		 * (then SPL/BPL/SIL/DIL), SDM Vol. 2A 3.7.2.1 table 3-2. */
		if ((flags & OP_BYTE) && !(flags & OP_EXTEND) && !rex && reg >= 4) {
			d.high8 = true;
			reg -= 4;
		}
		d.reg = (uint8_t)reg;
	} else if (flags & OP_MOFFS) {
		if ((rc = cursor_skip(&c, addr_size)))
			return rc;
	}

	if (flags & OP_IMM) {
		unsigned imm_len = d.size == 8 ? 4 : d.size;
		uint64_t imm = 0;
		if ((rc = cursor_take(&c, imm_len, &imm)))
			return rc;
		if (d.size == 8)
			imm = (uint64_t)(int64_t)(int32_t)(uint32_t)imm;
		d.imm = imm;
		d.imm_src = true;
		d.reg = 0;
	}

	d.len = (uint8_t)c.pos;
	*out = d;
	return 0;
}

static uint64_t *gpr(struct guest_regs *r, unsigned reg)
{
	return guest_gpr(r, reg);
}

static uint64_t gpr_get(const struct guest_regs *r, unsigned reg)
{
	return *guest_gpr((struct guest_regs *)r, reg);
}

/* The low `size` bytes set (any size above 4 counts as 8). */
static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : size == 4 ? 0xffffffffull : size == 2 ? 0xffffull : 0xffull;
}

void insn_complete_load(struct guest_regs *r, const struct mmio_insn *in, uint64_t value)
{
	uint64_t *dst = gpr(r, in->reg);
	uint64_t mask = size_mask(in->size);

	value &= mask;
	if (in->sign_extend && (value & (mask ^ (mask >> 1))))
		value |= ~mask;
	if (in->high8) {
		*dst = (*dst & ~0xff00ull) | (value & 0xff) << 8;
		return;
	}
	/* SDM Vol. 1 3.4.1.1: a 32-bit destination zero-extends into the
	 * whole register; 8- and 16-bit ones leave the rest alone. */
	uint64_t width = size_mask(in->dst_size);
	if (in->dst_size >= 4)
		*dst = value & width;
	else
		*dst = (*dst & ~width) | (value & width);
}

uint64_t insn_store_value(const struct guest_regs *r, const struct mmio_insn *in)
{
	uint64_t v = in->imm_src ? in->imm : gpr_get(r, in->reg);

	if (in->high8)
		v >>= 8;
	return v & size_mask(in->size);
}
