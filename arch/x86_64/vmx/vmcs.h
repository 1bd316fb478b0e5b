/*
 * VMCS field encodings (Intel SDM Vol. 3C, Appendix B), control bits
 * (chapter 25) and exit reasons (Appendix C) that this hypervisor uses.
 */
#ifndef ARCH_X86_64_VMX_VMCS_H
#define ARCH_X86_64_VMX_VMCS_H

#include <stdint.h>

/* 16-bit fields */
#define VMCS_VPID                 0x0000
#define VMCS_GUEST_ES_SEL         0x0800	/* ES CS SS DS FS GS LDTR TR: +2 each */
#define VMCS_HOST_ES_SEL          0x0c00
#define VMCS_HOST_CS_SEL          0x0c02
#define VMCS_HOST_SS_SEL          0x0c04
#define VMCS_HOST_DS_SEL          0x0c06
#define VMCS_HOST_FS_SEL          0x0c08
#define VMCS_HOST_GS_SEL          0x0c0a
#define VMCS_HOST_TR_SEL          0x0c0c
/* 64-bit fields */
#define VMCS_IO_BITMAP_A          0x2000
#define VMCS_IO_BITMAP_B          0x2002
#define VMCS_MSR_BITMAP           0x2004
#define VMCS_TSC_OFFSET           0x2010
#define VMCS_EPT_POINTER          0x201a
#define VMCS_GUEST_PHYS_ADDR      0x2400
#define VMCS_LINK_POINTER         0x2800
#define VMCS_GUEST_DEBUGCTL       0x2802
#define VMCS_GUEST_PAT            0x2804
#define VMCS_GUEST_EFER           0x2806
#define VMCS_HOST_PAT             0x2c00
#define VMCS_HOST_EFER            0x2c02
/* 32-bit fields */
#define VMCS_PIN_CTLS             0x4000
#define VMCS_PROC_CTLS            0x4002
#define VMCS_EXCEPTION_BITMAP     0x4004
#define VMCS_CR3_TARGET_COUNT     0x400a
#define VMCS_EXIT_CTLS            0x400c
#define VMCS_EXIT_MSR_STORE_COUNT 0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT  0x4010
#define VMCS_ENTRY_CTLS           0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014
#define VMCS_ENTRY_INTR_INFO      0x4016
#define VMCS_ENTRY_EXC_ERROR      0x4018
#define VMCS_ENTRY_INSN_LEN       0x401a
#define VMCS_PROC_CTLS2           0x401e
#define VMCS_VM_INSN_ERROR        0x4400
#define VMCS_EXIT_REASON          0x4402
#define VMCS_EXIT_INTR_INFO       0x4404
#define VMCS_IDT_VECTORING_INFO   0x4408
#define VMCS_IDT_VECTORING_ERROR  0x440a
#define VMCS_EXIT_INSN_LEN        0x440c
#define VMCS_GUEST_ES_LIMIT       0x4800	/* ... +2 each, then: */
#define VMCS_GUEST_GDTR_LIMIT     0x4810
#define VMCS_GUEST_IDTR_LIMIT     0x4812
#define VMCS_GUEST_ES_AR          0x4814	/* ES .. TR: +2 each */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY       0x4826
#define VMCS_GUEST_SYSENTER_CS    0x482a
#define VMCS_HOST_SYSENTER_CS     0x4c00
/* natural-width fields */
#define VMCS_CR0_MASK             0x6000
#define VMCS_CR4_MASK             0x6002
#define VMCS_CR0_SHADOW           0x6004
#define VMCS_CR4_SHADOW           0x6006
#define VMCS_EXIT_QUALIFICATION   0x6400
#define VMCS_GUEST_CR0            0x6800
#define VMCS_GUEST_CR3            0x6802
#define VMCS_GUEST_CR4            0x6804
#define VMCS_GUEST_ES_BASE        0x6806	/* ES .. TR: +2 each, then: */
#define VMCS_GUEST_GDTR_BASE      0x6816
#define VMCS_GUEST_IDTR_BASE      0x6818
#define VMCS_GUEST_DR7            0x681a
#define VMCS_GUEST_RSP            0x681c
#define VMCS_GUEST_RIP            0x681e
#define VMCS_GUEST_RFLAGS         0x6820
#define VMCS_GUEST_PENDING_DBG    0x6822
#define VMCS_GUEST_SYSENTER_ESP   0x6824
#define VMCS_GUEST_SYSENTER_EIP   0x6826
#define VMCS_HOST_CR0             0x6c00
#define VMCS_HOST_CR3             0x6c02
#define VMCS_HOST_CR4             0x6c04
#define VMCS_HOST_FS_BASE         0x6c06
#define VMCS_HOST_GS_BASE         0x6c08
#define VMCS_HOST_TR_BASE         0x6c0a
#define VMCS_HOST_GDTR_BASE       0x6c0c
#define VMCS_HOST_IDTR_BASE       0x6c0e
#define VMCS_HOST_SYSENTER_ESP    0x6c10
#define VMCS_HOST_SYSENTER_EIP    0x6c12
#define VMCS_HOST_RSP             0x6c14
#define VMCS_HOST_RIP             0x6c16

enum vmcs_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* Controls (SDM Vol. 3C 25.6) */
#define PIN_EXTINT_EXITING  (1u << 0)
#define PIN_NMI_EXITING     (1u << 3)
#define PROC_TSC_OFFSETTING (1u << 3)
#define PROC_HLT_EXITING    (1u << 7)
#define PROC_IO_BITMAPS     (1u << 25)
#define PROC_MSR_BITMAPS    (1u << 28)
#define PROC_SECONDARY      (1u << 31)
#define PROC2_EPT           (1u << 1)
#define PROC2_RDTSCP        (1u << 3)
#define PROC2_VPID          (1u << 5)
#define PROC2_UNRESTRICTED  (1u << 7)
#define PROC2_INVPCID       (1u << 12)
#define PROC2_XSAVES        (1u << 20)
#define EXIT_SAVE_DEBUG     (1u << 2)
#define EXIT_HOST_64BIT     (1u << 9)
#define EXIT_SAVE_PAT       (1u << 18)
#define EXIT_LOAD_PAT       (1u << 19)
#define EXIT_SAVE_EFER      (1u << 20)
#define EXIT_LOAD_EFER      (1u << 21)
#define ENTRY_LOAD_DEBUG    (1u << 2)
#define ENTRY_IA32E_GUEST   (1u << 9)
#define ENTRY_LOAD_PAT      (1u << 14)
#define ENTRY_LOAD_EFER     (1u << 15)

/* Capability MSRs (SDM Vol. 3C Appendix A) */
#define MSR_VMX_BASIC           0x480u
#define MSR_VMX_PINBASED        0x481u
#define MSR_VMX_PROCBASED       0x482u
#define MSR_VMX_EXIT            0x483u
#define MSR_VMX_ENTRY           0x484u
#define MSR_VMX_CR0_FIXED0      0x486u
#define MSR_VMX_CR0_FIXED1      0x487u
#define MSR_VMX_CR4_FIXED0      0x488u
#define MSR_VMX_CR4_FIXED1      0x489u
#define MSR_VMX_PROCBASED2      0x48bu
#define MSR_VMX_EPT_VPID_CAP    0x48cu
#define MSR_VMX_TRUE_PINBASED   0x48du
#define MSR_VMX_TRUE_PROCBASED  0x48eu
#define MSR_VMX_TRUE_EXIT       0x48fu
#define MSR_VMX_TRUE_ENTRY      0x490u
#define VMX_BASIC_TRUE_CTLS     (1ull << 55)

/* Exit reasons (SDM Vol. 3C Appendix C) */
#define VMX_EXIT_EXCEPTION_NMI  0
#define VMX_EXIT_EXTINT         1
#define VMX_EXIT_TRIPLE_FAULT   2
#define VMX_EXIT_INIT           3
#define VMX_EXIT_SIPI           4
#define VMX_EXIT_TASK_SWITCH    9
#define VMX_EXIT_CPUID          10
#define VMX_EXIT_GETSEC         11
#define VMX_EXIT_HLT            12
#define VMX_EXIT_INVD           13
#define VMX_EXIT_VMCALL         18
#define VMX_EXIT_CR_ACCESS      28
#define VMX_EXIT_IO             30
#define VMX_EXIT_RDMSR          31
#define VMX_EXIT_WRMSR          32
#define VMX_EXIT_BAD_GUEST      33
#define VMX_EXIT_BAD_MSR_LOAD   34
#define VMX_EXIT_EPT_VIOLATION  48
#define VMX_EXIT_EPT_MISCONFIG  49
#define VMX_EXIT_INVEPT         50
#define VMX_EXIT_INVVPID        53
#define VMX_EXIT_XSETBV         55
#define VMX_EXIT_ENTRY_FAILURE  (1u << 31)

/* Guest interruptibility state (SDM Vol. 3C 25.4.2, table 25-3) */
#define VMX_BLOCK_STI           (1ull << 0)
#define VMX_BLOCK_MOV_SS        (1ull << 1)

#define CR4_VMXE (1ull << 13)

#endif
