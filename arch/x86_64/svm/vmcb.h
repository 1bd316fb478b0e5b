/*
 * The VMCB (AMD APM Vol. 2, Appendix B): control area at 0x000, state save
 * area at 0x400. Only the fields this hypervisor uses are named; the rest
 * is padding, and every offset is checked at compile time.
 */
#ifndef ARCH_X86_64_SVM_VMCB_H
#define ARCH_X86_64_SVM_VMCB_H

#include <stddef.h>
#include <stdint.h>

struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;	/* descriptor bits 40-47 and 52-55, packed */
	uint32_t limit;
	uint64_t base;
};

struct vmcb_control {
	uint32_t intercept_cr;		/* 0x000 */
	uint32_t intercept_dr;		/* 0x004 */
	uint32_t intercept_exceptions;	/* 0x008 */
	uint32_t intercept_misc1;	/* 0x00c */
	uint32_t intercept_misc2;	/* 0x010 */
	uint32_t intercept_misc3;	/* 0x014 */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_threshold;	/* 0x03c */
	uint16_t pause_filter_count;	/* 0x03e */
	uint64_t iopm_base_pa;		/* 0x040 */
	uint64_t msrpm_base_pa;		/* 0x048 */
	uint64_t tsc_offset;		/* 0x050 */
	uint32_t guest_asid;		/* 0x058 */
	uint8_t tlb_control;		/* 0x05c */
	uint8_t reserved_05d[3];
	uint64_t vintr;			/* 0x060 */
	uint64_t interrupt_shadow;	/* 0x068 */
	uint64_t exitcode;		/* 0x070 */
	uint64_t exitinfo1;		/* 0x078 */
	uint64_t exitinfo2;		/* 0x080 */
	uint64_t exitintinfo;		/* 0x088 */
	uint64_t np_control;		/* 0x090: bit 0 NP_ENABLE */
	uint8_t reserved_098[0x0a8 - 0x098];
	uint64_t eventinj;		/* 0x0a8 */
	uint64_t n_cr3;			/* 0x0b0 */
	uint64_t virt_ext;		/* 0x0b8 */
	uint32_t clean_bits;		/* 0x0c0 */
	uint32_t reserved_0c4;
	uint64_t next_rip;		/* 0x0c8 */
	uint8_t insn_bytes_fetched;	/* 0x0d0 */
	uint8_t insn_bytes[15];		/* 0x0d1 */
	uint8_t reserved_0e0[0x400 - 0x0e0];
};

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs;	/* 0x400 .. 0x45f */
	struct vmcb_seg gdtr, ldtr, idtr, tr;	/* 0x460 .. 0x49f */
	uint8_t reserved_4a0[0x4cb - 0x4a0];
	uint8_t cpl;			/* 0x4cb */
	uint32_t reserved_4cc;
	uint64_t efer;			/* 0x4d0 */
	uint8_t reserved_4d8[0x548 - 0x4d8];
	uint64_t cr4;			/* 0x548 */
	uint64_t cr3;			/* 0x550 */
	uint64_t cr0;			/* 0x558 */
	uint64_t dr7;			/* 0x560 */
	uint64_t dr6;			/* 0x568 */
	uint64_t rflags;		/* 0x570 */
	uint64_t rip;			/* 0x578 */
	uint8_t reserved_580[0x5d8 - 0x580];
	uint64_t rsp;			/* 0x5d8 */
	uint8_t reserved_5e0[0x5f8 - 0x5e0];
	uint64_t rax;			/* 0x5f8 */
	uint64_t star, lstar, cstar, sfmask;	/* 0x600 */
	uint64_t kernel_gs_base;	/* 0x620 */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;	/* 0x628 */
	uint64_t cr2;			/* 0x640 */
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;			/* 0x668 */
	uint8_t reserved_670[0x1000 - 0x670];
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

#define VMCB_CHECK(f, off) _Static_assert(offsetof(struct vmcb, f) == (off), "VMCB " #f)
VMCB_CHECK(control.iopm_base_pa, 0x040);
VMCB_CHECK(control.guest_asid, 0x058);
VMCB_CHECK(control.interrupt_shadow, 0x068);
VMCB_CHECK(control.exitcode, 0x070);
VMCB_CHECK(control.np_control, 0x090);
VMCB_CHECK(control.eventinj, 0x0a8);
VMCB_CHECK(control.next_rip, 0x0c8);
VMCB_CHECK(save.es, 0x400);
VMCB_CHECK(save.tr, 0x490);
VMCB_CHECK(save.cpl, 0x4cb);
VMCB_CHECK(save.efer, 0x4d0);
VMCB_CHECK(save.cr4, 0x548);
VMCB_CHECK(save.dr6, 0x568);
VMCB_CHECK(save.rip, 0x578);
VMCB_CHECK(save.rsp, 0x5d8);
VMCB_CHECK(save.rax, 0x5f8);
VMCB_CHECK(save.cr2, 0x640);
VMCB_CHECK(save.g_pat, 0x668);
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");

/* Intercept bits (APM Vol. 2 B, table B-1). */
#define SVM_MISC1_INTR     (1u << 0)
#define SVM_MISC1_NMI      (1u << 1)
#define SVM_MISC1_INIT     (1u << 3)
#define SVM_MISC1_CPUID    (1u << 18)
#define SVM_MISC1_INVD     (1u << 22)
#define SVM_MISC1_HLT      (1u << 24)
#define SVM_MISC1_IOIO     (1u << 27)
#define SVM_MISC1_MSR      (1u << 28)
#define SVM_MISC1_SHUTDOWN (1u << 31)
#define SVM_MISC2_VMRUN    (1u << 0)
#define SVM_MISC2_VMMCALL  (1u << 1)
#define SVM_MISC2_VMLOAD   (1u << 2)
#define SVM_MISC2_VMSAVE   (1u << 3)
#define SVM_MISC2_STGI     (1u << 4)
#define SVM_MISC2_CLGI     (1u << 5)
#define SVM_MISC2_SKINIT   (1u << 6)

/* Exit codes (APM Vol. 2 Appendix C). */
#define SVM_EXIT_INTR     0x060
#define SVM_EXIT_NMI      0x061
#define SVM_EXIT_INIT     0x063
#define SVM_EXIT_CPUID    0x072
#define SVM_EXIT_INVD     0x076
#define SVM_EXIT_HLT      0x078
#define SVM_EXIT_IOIO     0x07b
#define SVM_EXIT_MSR      0x07c
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN    0x080
#define SVM_EXIT_VMMCALL  0x081
#define SVM_EXIT_VMLOAD   0x082
#define SVM_EXIT_VMSAVE   0x083
#define SVM_EXIT_STGI     0x084
#define SVM_EXIT_CLGI     0x085
#define SVM_EXIT_SKINIT   0x086
#define SVM_EXIT_NPF      0x400
#define SVM_EXIT_INVALID  ((uint64_t)-1)

#define SVM_VINTR_MASKING (1ull << 24)
#define SVM_NP_ENABLE     (1ull << 0)
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_NOTHING   0

/* EVENTINJ / EXITINTINFO (APM Vol. 2 15.20). */
#define SVM_EVT_VALID     (1ull << 31)
#define SVM_EVT_ERR_VALID (1ull << 11)
#define SVM_EVT_TYPE_INTR (0ull << 8)
#define SVM_EVT_TYPE_EXC  (3ull << 8)

/* IOIO EXITINFO1 (APM Vol. 2 15.10.2). */
#define SVM_IOIO_IN       (1ull << 0)
#define SVM_IOIO_STR      (1ull << 2)
#define SVM_IOIO_REP      (1ull << 3)
#define SVM_IOIO_SZ8      (1ull << 4)
#define SVM_IOIO_SZ16     (1ull << 5)
#define SVM_IOIO_SZ32     (1ull << 6)

/* NPF EXITINFO1: a #PF-style error code (APM Vol. 2 15.25.6). */
#define SVM_NPF_WRITE     (1ull << 1)
#define SVM_NPF_EXEC      (1ull << 4)

#define MSR_VM_HSAVE_PA   0xc0010117u

#endif
