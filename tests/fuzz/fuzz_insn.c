/*
 * libFuzzer harness for insn_decode_mmio (vmm/insn.c): arbitrary bytes,
 * decoded in each CPU mode from an exact-size heap copy, so ASan reports
 * any read past n. A success must honour the contract (len <= 15 and
 * <= n, size 1/2/4/8, reg < 16, ...), decode the same from a longer
 * buffer, and ask for more (-ENODATA) when cut anywhere short of len; a
 * failure must be -EINVAL or -ENODATA. The load and store helpers then
 * run on a register file, and may change only the destination register,
 * only in the bits the destination width allows.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. vmm/insn.c \
 *       tests/fuzz/fuzz_insn.c tests/unit/host_stubs.c -o build/fuzz_insn
 *   build/fuzz_insn -max_total_time=60
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "tests/unit/host_stubs.h"
#include "vmm/insn.h"
#include "vmm/vcpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static int decode_copy(const uint8_t *data, size_t n, int mode, struct mmio_insn *out)
{
	uint8_t *buf = malloc(n ? n : 1);
	check(buf != NULL);
	memcpy(buf, data, n);
	int rc = insn_decode_mmio(buf, n, mode, out);
	free(buf);
	return rc;
}

/* Byte offset in struct guest_regs of x86 register n. */
static size_t gpr_offset(struct guest_regs *r, unsigned n)
{
	return (size_t)((uint8_t *)guest_gpr(r, n) - (uint8_t *)r);
}

static uint64_t mask_of(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void check_registers(const struct mmio_insn *d, const uint8_t *data, size_t size)
{
	struct guest_regs r, before;
	uint64_t value = 0;

	for (size_t i = 0; i < sizeof(r); i++)
		((uint8_t *)&r)[i] = (uint8_t)(0x5a + 7 * i + (size ? data[i % size] : 0));
	memcpy(&value, data, size < 8 ? size : 8);
	memcpy(&before, &r, sizeof(r));

	uint64_t stored = insn_store_value(&r, d);
	check(memcmp(&r, &before, sizeof(r)) == 0);
	check((stored & ~mask_of(d->size)) == 0);
	if (d->write && d->imm_src)
		check(stored == d->imm);
	else if (d->write) {
		uint64_t src;
		memcpy(&src, (uint8_t *)&before + gpr_offset(&r, d->reg), 8);
		check(stored == ((d->high8 ? src >> 8 : src) & mask_of(d->size)));
	}

	insn_complete_load(&r, d, value);
	uint64_t after, old;
	memcpy(&after, (uint8_t *)&r + gpr_offset(&r, d->reg), 8);
	memcpy(&old, (uint8_t *)&before + gpr_offset(&r, d->reg), 8);
	memcpy((uint8_t *)&r + gpr_offset(&r, d->reg), &old, 8);
	check(memcmp(&r, &before, sizeof(r)) == 0);	/* nothing else moved */
	uint64_t v = value & mask_of(d->size);
	if (d->high8) {
		check(after == ((old & ~0xff00ull) | (v & 0xff) << 8));
		return;
	}
	if (d->sign_extend && (v >> (8 * d->size - 1)))
		v |= ~mask_of(d->size);
	uint64_t kept = d->dst_size >= 4 ? 0 : old & ~mask_of(d->dst_size);
	check(after == (kept | (v & mask_of(d->dst_size))));
}

static bool same_insn(const struct mmio_insn *a, const struct mmio_insn *b)
{
	return a->len == b->len && a->size == b->size && a->write == b->write &&
	       a->imm_src == b->imm_src && a->imm == b->imm && a->reg == b->reg &&
	       a->high8 == b->high8 && a->dst_size == b->dst_size &&
	       a->sign_extend == b->sign_extend;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int modes[] = { 16, 32, 64 };

	for (unsigned m = 0; m < 3; m++) {
		struct mmio_insn d;
		memset(&d, 0xa5, sizeof(d));
		int rc = decode_copy(data, size, modes[m], &d);
		if (rc) {
			check(rc == -EINVAL || rc == -ENODATA);
			check(rc == -EINVAL || size < INSN_MAX_LEN);
			continue;
		}
		check(d.len >= 1 && d.len <= INSN_MAX_LEN && d.len <= size);
		check(d.size == 1 || d.size == 2 || d.size == 4 || d.size == 8);
		check(d.reg < 16);
		check(!d.high8 || (d.size == 1 && d.reg < 4));
		check(d.dst_size == 1 || d.dst_size == 2 || d.dst_size == 4 || d.dst_size == 8);
		check(d.dst_size >= d.size);
		check(!d.sign_extend || !d.write);
		check(!d.imm_src || (d.write && d.reg == 0));
		check(d.imm_src || d.imm == 0);
		check((d.imm & ~mask_of(d.size)) == 0);
		check(!d.write || d.dst_size == d.size);

		/* The instruction alone decodes the same; cut short, it needs more. */
		struct mmio_insn e;
		check(decode_copy(data, d.len, modes[m], &e) == 0);
		check(same_insn(&d, &e));
		for (size_t k = 0; k < d.len; k++)
			check(decode_copy(data, k, modes[m], &e) == -ENODATA);

		check_registers(&d, data, size);
	}
	return 0;
}
