/*
 * A small decoder for the x86 instructions a guest uses to access an
 * emulated MMIO page: the MOV forms between a register or an immediate and
 * memory, and MOVZX/MOVSX loads. A nested-page fault or EPT violation only
 * says which guest-physical address was touched and whether it was a
 * write; the exit handler fetches the instruction at the guest's RIP
 * (vmm/gwalk.h), decodes it here for the access size, the register and
 * the instruction length, performs the access, then calls
 * insn_complete_load() or insn_store_value() and advances RIP by `len`.
 *
 * Accepted (SDM Vol. 2B "MOV", "MOVZX", "MOVSX"):
 *   88 /r, 89 /r        MOV m, r8 / r16/32/64
 *   8a /r, 8b /r        MOV r8 / r16/32/64, m
 *   c6 /0 ib, c7 /0 iw/id  MOV m, imm (id sign-extended with REX.W)
 *   a0, a1, a2, a3      MOV AL/rAX <-> moffs
 *   0f b6, 0f b7        MOVZX r, m8 / m16
 *   0f be, 0f bf        MOVSX r, m8 / m16
 * with the prefixes 66, 67, 26/2e/36/3e/64/65 (segments are the caller's
 * business: the fault gives the address) and, in 64-bit mode, REX.
 * Everything else is refused, LOCK and REP/REPNE included.
 */
#ifndef VMM_INSN_H
#define VMM_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_regs;

#define INSN_MAX_LEN 15		/* SDM Vol. 2A 2.3.11: longer raises #GP */

struct mmio_insn {
	uint8_t len;		/* bytes of the whole instruction */
	uint8_t size;		/* bytes accessed in memory: 1, 2, 4 or 8 */
	bool write;		/* memory is the destination */
	bool imm_src;		/* a write of `imm` (MOV m, imm) rather than of a register */
	uint64_t imm;		/* already sign-extended to `size` bytes as the CPU would */
	/* x86 register number 0-15 (0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp,
	 * 6 rsi, 7 rdi, 8-15 r8-r15) of the register operand; 0 for an
	 * immediate store. With high8 it names the register holding the byte:
	 * AH/CH/DH/BH are reg 0-3 with high8 set. */
	uint8_t reg;
	bool high8;		/* AH/CH/DH/BH (ModRM.reg 4-7 without REX in a byte op) */
	uint8_t dst_size;	/* loads: register width written (1, 2, 4, 8); stores: size */
	bool sign_extend;	/* loads: MOVSX (else zero-extend for MOVZX) */
};

/*
 * Decode the instruction at buf[0..n). `cpu_mode` is 16, 32 or 64 (64:
 * long mode with CS.L; 32/16 from CS.D). 0 and *out, -EINVAL (not one we
 * emulate, longer than INSN_MAX_LEN, or a bad cpu_mode), or -ENODATA (its
 * first n bytes are a valid beginning but it needs more). Never reads past
 * buf[n-1].
 * @pre out != NULL; buf != NULL unless n == 0
 */
int insn_decode_mmio(const uint8_t *buf, size_t n, int cpu_mode, struct mmio_insn *out);

/* Complete a load: write `value` (already `size` bytes wide) into the
 * destination register as the CPU would (32-bit destinations zero-extend
 * to 64; 8/16-bit ones merge; high8 goes to bits 8-15; MOVZX/MOVSX extend
 * to dst_size).
 * @pre in was filled by a successful insn_decode_mmio with !in->write */
void insn_complete_load(struct guest_regs *r, const struct mmio_insn *in, uint64_t value);

/* The value a store writes (register or immediate), truncated to `size`.
 * @pre in was filled by a successful insn_decode_mmio with in->write */
uint64_t insn_store_value(const struct guest_regs *r, const struct mmio_insn *in);

#endif
