/*
 * Intel VT-d remapping hardware: registers, table entries and
 * invalidation descriptors of legacy (non-scalable) mode, and the pure
 * encoders in vtd_tables.c. Private to drivers/iommu/vtd*.c and their
 * host tests.
 *
 * References: Intel Virtualization Technology for Directed I/O
 * Architecture Specification (rev. 4.x): chapter 9 (root, context and
 * second-level paging entries), 6.5 (invalidation), chapter 10 (registers),
 * chapter 7 (fault recording).
 */
#ifndef DRIVERS_IOMMU_VTD_HW_H
#define DRIVERS_IOMMU_VTD_HW_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/pgtable.h"

/* Registers (10.4), offsets from the unit's base. */
#define VTD_VER     0x00	/* 32: 7:4 major, 3:0 minor */
#define VTD_CAP     0x08	/* 64 */
#define VTD_ECAP    0x10	/* 64 */
#define VTD_GCMD    0x18	/* 32 */
#define VTD_GSTS    0x1c	/* 32 */
#define VTD_RTADDR  0x20	/* 64 */
#define VTD_CCMD    0x28	/* 64 */
#define VTD_FSTS    0x34	/* 32 */
#define VTD_FECTL   0x38	/* 32 */
#define VTD_FEDATA  0x3c	/* 32 */
#define VTD_FEADDR  0x40	/* 32 */
#define VTD_FEUADDR 0x44	/* 32 */
#define VTD_PMEN    0x64	/* 32 */
#define VTD_IQH     0x80	/* 64 */
#define VTD_IQT     0x88	/* 64 */
#define VTD_IQA     0x90	/* 64 */
#define VTD_ICS     0x9c	/* 32 */
#define VTD_IRTA    0xb8	/* 64 */
/* At ECAP.IRO * 16: IVA (+0), IOTLB (+8) (10.4.8). */
#define VTD_IOTLB_REG_OFF 0x8

/* CAP_REG (10.4.2) */
#define VTD_CAP_ND(c)     ((unsigned)((c) & 7))	/* 2^(4 + 2 * ND) domain IDs */
#define VTD_CAP_RWBF      (1ull << 4)		/* write buffer flush required */
#define VTD_CAP_PLMR      (1ull << 5)
#define VTD_CAP_PHMR      (1ull << 6)
#define VTD_CAP_CM        (1ull << 7)		/* caching mode: not-present entries cached */
#define VTD_CAP_SAGAW(c)  ((unsigned)(((c) >> 8) & 0x1f))
#define VTD_CAP_MGAW(c)   ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c)    ((unsigned)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_SLLPS(c)  ((unsigned)(((c) >> 34) & 0xf))	/* bit 0: 2 MiB, bit 1: 1 GiB */
#define VTD_CAP_NFR(c)    ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_DWD       (1ull << 54)
#define VTD_CAP_DRD       (1ull << 55)

#define VTD_SAGAW_39      (1u << 1)	/* 3-level tables */
#define VTD_SAGAW_48      (1u << 2)	/* 4-level tables */

/* ECAP_REG (10.4.3) */
#define VTD_ECAP_C        (1ull << 0)	/* page-walk coherency */
#define VTD_ECAP_QI       (1ull << 1)
#define VTD_ECAP_IR       (1ull << 3)
#define VTD_ECAP_EIM      (1ull << 4)
#define VTD_ECAP_IRO(e)   ((unsigned)(((e) >> 8) & 0x3ff) * 16)

/* GCMD_REG / GSTS_REG (10.4.4, 10.4.5): the same bit positions. */
#define VTD_GCMD_TE       (1u << 31)
#define VTD_GCMD_SRTP     (1u << 30)
#define VTD_GCMD_WBF      (1u << 27)
#define VTD_GCMD_QIE      (1u << 26)
#define VTD_GCMD_IRE      (1u << 25)
#define VTD_GCMD_SIRTP    (1u << 24)
#define VTD_GCMD_CFI      (1u << 23)	/* compatibility-format interrupts pass */
/* GSTS bits that are persistent commands (TE 31, EAFL 28, QIE 26, IRE 25,
 * CFI 23); the one-shot ones (SRTP 30, SFL 29, WBF 27, SIRTP 24) must not
 * be written back. */
#define VTD_GSTS_PERSIST  0x96800000u

/* CCMD_REG (10.4.7) */
#define VTD_CCMD_ICC      (1ull << 63)
#define VTD_CCMD_GLOBAL   (1ull << 61)
#define VTD_CCMD_DOMAIN   (2ull << 61)
#define VTD_CCMD_DEVICE   (3ull << 61)
#define VTD_CCMD_CAIG(v)  ((unsigned)(((v) >> 59) & 3))

/* IOTLB_REG (10.4.8.1) */
#define VTD_IOTLB_IVT     (1ull << 63)
#define VTD_IOTLB_GLOBAL  (1ull << 60)
#define VTD_IOTLB_DOMAIN  (2ull << 60)
#define VTD_IOTLB_DR      (1ull << 49)
#define VTD_IOTLB_DW      (1ull << 48)
#define VTD_IOTLB_IAIG(v) ((unsigned)(((v) >> 57) & 3))

/* FSTS_REG (10.4.9), FECTL_REG (10.4.10) */
#define VTD_FSTS_PFO      (1u << 0)	/* primary fault overflow, RW1C */
#define VTD_FSTS_PPF      (1u << 1)	/* primary pending fault, RO */
#define VTD_FSTS_AFO      (1u << 2)
#define VTD_FSTS_APF      (1u << 3)
#define VTD_FSTS_IQE      (1u << 4)	/* invalidation queue error */
#define VTD_FSTS_ICE      (1u << 5)
#define VTD_FSTS_ITE      (1u << 6)
#define VTD_FSTS_W1C      0x7du		/* every RW1C bit */
#define VTD_FSTS_FRI(s)   ((unsigned)(((s) >> 8) & 0xff))
#define VTD_FECTL_IM      (1u << 31)

/* PMEN_REG (10.4.16) */
#define VTD_PMEN_EPM      (1u << 31)
#define VTD_PMEN_PRS      (1u << 0)

/* IQA_REG (10.4.23): base | QS (2^QS pages); 128-bit descriptors. */
#define VTD_IQ_ENTRIES    256u		/* one 4 KiB page (QS = 0) */
#define VTD_ICS_IWC       (1u << 0)

/* Fault recording register, upper 64 bits (10.4.14) */
#define VTD_FRCD_F        (1ull << 63)
#define VTD_FRCD_T        (1ull << 62)	/* 1: read, 0: write */
#define VTD_FRCD_FR(h)    ((unsigned)(((h) >> 32) & 0xff))
#define VTD_FRCD_SID(h)   ((uint16_t)((h) & 0xffff))

/* Fault reasons of interrupt requests (7.1.2, table 26): 0x20..0x2f. The
 * record's FI field then holds the interrupt index in bits 63:48. */
#define VTD_FR_IR_FIRST   0x20
#define VTD_FR_IR_LAST    0x2f
#define VTD_FR_IR_INDEX   0x21	/* index beyond the table */
#define VTD_FR_IR_NP      0x22	/* entry not present */
#define VTD_FR_IR_RSVD    0x24	/* entry has reserved bits set */
#define VTD_FR_IR_COMPAT  0x25	/* compatibility format, CFI off */
#define VTD_FR_IR_SID     0x26	/* source-id does not match the entry */

/* IRTA_REG (10.4.29): table base (63:12), EIME (11), S (3:0): 2^(S+1)
 * entries of 128 bits. */
#define VTD_IRTA_EIME     (1ull << 11)

/* Root-table address (10.4.6): TTM (bits 11:10) 00 = legacy mode. */

/* A root or context entry (9.1, 9.3): 128 bits. */
struct vtd_entry {
	uint64_t lo, hi;
};

#define VTD_ROOT_P        (1ull << 0)
#define VTD_CTX_P         (1ull << 0)
#define VTD_CTX_TT_MASK   (3ull << 2)	/* 00: untranslated requests, SL tables */
#define VTD_ADDR_4K       0xfffffffffffff000ull

/* Second-level paging entries (9.8) */
#define VTD_SL_R          (1ull << 0)
#define VTD_SL_W          (1ull << 1)
#define VTD_SL_PS         (1ull << 7)

/* ---- vtd_tables.c: pure encoders ---------------------------------------- */

/* Root entry for a bus: present, pointing to its context table. */
struct vtd_entry vtd_root_entry(uint64_t ctx_table);
/* Context entry: present, translation type 00, address width agaw
 * (1: 39-bit 3-level, 2: 48-bit 4-level), domain did, tables at slptptr. */
struct vtd_entry vtd_context_entry(uint64_t slptptr, unsigned agaw, uint16_t did);
/* The AGAW (context-entry AW) of a table depth: levels - 2. */
unsigned vtd_agaw(unsigned levels);

/* Second-level table depth every unit supports (SAGAW bits ANDed over the
 * units): 4 if possible, else 3, 0 if neither. */
unsigned vtd_pick_levels(unsigned sagaw_all);

/* The second-level paging format: `levels` 3 or 4, leaves up to
 * max_leaf_level (1..3), output addresses below 2^addr_bits. */
void vtd_sl_format_init(struct pt_format *f, unsigned levels, unsigned max_leaf_level,
			unsigned addr_bits);

/* Invalidation granularities, as the descriptors and the CCMD/IOTLB
 * registers number them (context: 3 = device; IOTLB: 3 = page). */
#define VTD_INV_GLOBAL 1u
#define VTD_INV_DOMAIN 2u
#define VTD_INV_DEVICE 3u

/* Invalidation descriptors (6.5.2.1, 6.5.2.3, 6.5.2.8). */
struct vtd_entry vtd_qi_context(unsigned g, uint16_t did, uint16_t sid);
struct vtd_entry vtd_qi_iotlb(unsigned g, uint16_t did, bool dr, bool dw);
struct vtd_entry vtd_qi_wait(uint64_t status_addr, uint32_t data);
/* Interrupt entry cache invalidation (6.5.2.7): every entry (global), or
 * the 2^im entries from index. */
struct vtd_entry vtd_qi_iec(bool global, unsigned index, unsigned im);

/* ---- interrupt remapping (chapter 5, 9.10) --------------------------------- */

/* An interrupt remapping table entry (9.10), remapped (not posted): present,
 * faults reported, the destination in x2APIC form (32 bits) if x2apic else
 * in xAPIC form (bits 15:8 of the field), delivery mode fixed, lowest
 * priority or NMI, and source validation: requests from sid only
 * (SVT 01, SQ 00). */
struct vtd_entry vtd_irte(uint32_t dest, uint8_t vector, bool logical, bool lowest, bool level,
			  bool nmi, uint16_t sid, bool x2apic);
/* The remappable-format MSI that selects entry index (5.1.5.2): address
 * 0xFEE | handle 14:0 in 19:5 | format (4) | SHV (3) | handle 15 in 2;
 * data 0 (the subhandle: a multi-message device ORs its vector number in). */
void vtd_irte_msi(unsigned index, uint64_t *addr, uint32_t *data);
/* A remappable-format IOAPIC redirection entry (5.1.5.1) selecting index:
 * vector (must equal the entry's, for the EOI of a level line), trigger,
 * format (48), handle 14:0 in 63:49 and 15 in 11; unmasked, active high. */
uint64_t vtd_irte_ioapic_rte(unsigned index, uint8_t vector, bool level);

/* ---- MMIO: vtd_mmio.c in the hypervisor, a fake in the host tests -------- */

uint32_t vtd_read32(uintptr_t regs, unsigned off);
uint64_t vtd_read64(uintptr_t regs, unsigned off);
void vtd_write32(uintptr_t regs, unsigned off, uint32_t val);
void vtd_write64(uintptr_t regs, unsigned off, uint64_t val);

#endif
