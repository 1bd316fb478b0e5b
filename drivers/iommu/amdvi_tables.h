/*
 * AMD-Vi in-memory encodings (AMD I/O Virtualization Technology (IOMMU)
 * Specification 48882, rev. 3.x, chapter 2): I/O page-table entries,
 * device-table entries, commands and event-log entries, plus the IVRS
 * look-ups the driver needs. Pure logic, no hardware access: drivers/iommu/
 * amdvi.c uses it and tests/unit/test_amdvi.c checks it against the spec.
 */
#ifndef DRIVERS_IOMMU_AMDVI_TABLES_H
#define DRIVERS_IOMMU_AMDVI_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/pgtable.h"

struct acpi_ivhd;
struct acpi_ivmd;

/* ---- MMIO registers (48882 3.4) ------------------------------------------ */
#define AMDVI_MMIO_SIZE		0x4000ull	/* the 16 KiB base register set */
#define AMDVI_REG_DEVTAB	0x0000	/* Device Table Base Address */
#define AMDVI_REG_CMDBUF	0x0008	/* Command Buffer Base Address */
#define AMDVI_REG_EVTLOG	0x0010	/* Event Log Base Address */
#define AMDVI_REG_CONTROL	0x0018
#define AMDVI_REG_EXCL_BASE	0x0020
#define AMDVI_REG_EXCL_LIMIT	0x0028
#define AMDVI_REG_EFR		0x0030	/* Extended Feature Register */
#define AMDVI_REG_CMD_HEAD	0x2000
#define AMDVI_REG_CMD_TAIL	0x2008
#define AMDVI_REG_EVT_HEAD	0x2010
#define AMDVI_REG_EVT_TAIL	0x2018
#define AMDVI_REG_STATUS	0x2020

#define AMDVI_RING_PTR_MASK	0x7fff0ull	/* head/tail: byte offset, bits 18:4 */

/* Control register (3.4.3) */
#define AMDVI_CTL_IOMMU_EN	(1ull << 0)
#define AMDVI_CTL_HT_TUN_EN	(1ull << 1)
#define AMDVI_CTL_EVTLOG_EN	(1ull << 2)
#define AMDVI_CTL_EVTINT_EN	(1ull << 3)
#define AMDVI_CTL_COMWAIT_INT	(1ull << 4)
#define AMDVI_CTL_INV_TO_SHIFT	5	/* InvTimeOut, bits 7:5 */
#define AMDVI_CTL_PASS_PW	(1ull << 8)
#define AMDVI_CTL_RES_PASS_PW	(1ull << 9)
#define AMDVI_CTL_COHERENT	(1ull << 10)
#define AMDVI_CTL_ISOC		(1ull << 11)
#define AMDVI_CTL_CMDBUF_EN	(1ull << 12)
#define AMDVI_CTL_GA_EN		(1ull << 17)	/* 128-bit interrupt remapping entries */
#define AMDVI_CTL_XT_EN		(1ull << 50)	/* 32-bit destinations in them */

/* Status register (3.4.10); bits 0-2 are write-1-to-clear */
#define AMDVI_STS_EVT_OVERFLOW	(1ull << 0)
#define AMDVI_STS_EVT_INT	(1ull << 1)
#define AMDVI_STS_COMWAIT_INT	(1ull << 2)
#define AMDVI_STS_EVT_RUN	(1ull << 3)
#define AMDVI_STS_CMD_RUN	(1ull << 4)

/* Extended Feature Register (3.4.5) */
#define AMDVI_EFR_PREF		(1ull << 0)
#define AMDVI_EFR_PPR		(1ull << 1)
#define AMDVI_EFR_XT		(1ull << 2)	/* x2APIC interrupt formats */
#define AMDVI_EFR_NX		(1ull << 3)	/* no-execute in I/O PTEs */
#define AMDVI_EFR_GT		(1ull << 4)	/* guest (nested) translation */
#define AMDVI_EFR_IA		(1ull << 6)	/* INVALIDATE_IOMMU_ALL */
#define AMDVI_EFR_GA		(1ull << 7)
#define AMDVI_EFR_HE		(1ull << 8)
#define AMDVI_EFR_PC		(1ull << 9)
#define AMDVI_EFR_HATS_SHIFT	10	/* host address translation size, bits 11:10 */

/* The IOMMU capability header in the unit's PCI function (3.2.1) */
#define AMDVI_CAP_EFR_SUP	(1u << 27)

/* Page-table levels the host translation supports: HATS 00b = 4, 01b = 5,
 * 10b = 6 (11b reserved: read as 4). */
unsigned amdvi_efr_max_levels(uint64_t efr);

/* Base registers. Device table: 4 KiB-aligned base, Size = pages - 1
 * (bits 8:0, 1..512 pages). Command buffer / event log: 4 KiB-aligned base,
 * length 2^len_log2 entries of 16 bytes in bits 59:56 (8..15). */
uint64_t amdvi_reg_devtab(uint64_t phys, unsigned pages);
uint64_t amdvi_reg_ring(uint64_t phys, unsigned len_log2);

/* ---- I/O page tables (2.2.3) --------------------------------------------- */
#define AMDVI_PTE_PR		(1ull << 0)
#define AMDVI_PTE_NEXT_SHIFT	9		/* NextLevel, bits 11:9 */
#define AMDVI_PTE_NEXT_MASK	(7ull << AMDVI_PTE_NEXT_SHIFT)
#define AMDVI_PTE_ADDR		0x000ffffffffff000ull	/* bits 51:12 */
#define AMDVI_PTE_IR		(1ull << 61)
#define AMDVI_PTE_IW		(1ull << 62)

/* 4 levels (DTE Mode 4, 48-bit IOVA), 2 MiB and 1 GiB leaves. */
extern const struct pt_format amdvi_pt_format;

/* ---- Device table (2.2.2) ------------------------------------------------ */
#define AMDVI_DTE_SIZE		32u
#define AMDVI_DEVIDS		65536u
#define AMDVI_DT_PAGES		(AMDVI_DEVIDS * AMDVI_DTE_SIZE / 4096u)	/* 512 */

#define AMDVI_DTE_V		(1ull << 0)
#define AMDVI_DTE_TV		(1ull << 1)
#define AMDVI_DTE_MODE_SHIFT	9		/* bits 11:9 */
#define AMDVI_DTE_MODE_MASK	(7ull << AMDVI_DTE_MODE_SHIFT)
#define AMDVI_DTE_ROOT		0x000ffffffffff000ull	/* bits 51:12 */
#define AMDVI_DTE_IR		(1ull << 61)
#define AMDVI_DTE_IW		(1ull << 62)
#define AMDVI_DTE_DOMID_MASK	0xffffull	/* qword 1, bits 15:0 */

struct amdvi_dte {
	uint64_t q[4];
};

/* A requester ID that may do nothing: V=1 and TV=1 (V=0 would pass its
 * DMA untranslated; Mode 0 would disable translation), Mode = levels
 * over `empty_root` (a zeroed table), IR=IW=0 so every access is refused
 * and logged as IO_PAGE_FAULT. DomainID 0; interrupts (quadword 2) as the
 * caller sets them: 0 is IV=0, they pass as they are. */
struct amdvi_dte amdvi_dte_blocked(uint64_t empty_root, unsigned levels);
/* A requester ID translated by a domain's tables: Mode = levels, root,
 * IR=IW=1 (the PTEs then decide), DomainID = domid. */
struct amdvi_dte amdvi_dte_translated(uint64_t root, unsigned levels, uint16_t domid);

/* Interrupt fields, DTE quadword 2 (2.2.2.2): IV (128), IntTabLen
 * (132:129, 2^n entries), IntTableRootPtr (179:134), InitPass, EIntPass,
 * NMIPass (184-186), IntCtl (189:188). */
#define AMDVI_DTE2_IV		(1ull << 0)
#define AMDVI_DTE2_IRT_ROOT	0x000fffffffffffc0ull
#define AMDVI_DTE2_NMI_PASS	(1ull << 58)
#define AMDVI_INTCTL_ABORT	0u	/* fixed and arbitrated interrupts target-aborted */
#define AMDVI_INTCTL_REMAP	2u	/* ... looked up in the table */
#define AMDVI_IRT_LOG2		8	/* 256 entries per device: MSI data 7:0 */

uint64_t amdvi_dte_irq(uint64_t table, unsigned len_log2, unsigned intctl, bool nmi_pass);

/* Interrupt remapping table entries (2.2.5): the 32-bit one (RemapEn,
 * IntType 4:2 fixed or arbitrated, DM 6, Destination 15:8, Vector 23:16)
 * and the 128-bit one the GA format uses (Destination 31:8 of the low
 * quadword with bits 31:24 in the high one's 63:56, Vector in its 7:0). */
uint32_t amdvi_irte32(uint8_t dest, uint8_t vector, bool logical, bool lowest);
struct amdvi_irte128 {
	uint64_t lo, hi;
};
struct amdvi_irte128 amdvi_irte128(uint32_t dest, uint8_t vector, bool logical, bool lowest);

/* ---- Commands (2.4) ------------------------------------------------------ */
#define AMDVI_CMD_SIZE			16u
#define AMDVI_CMD_COMPLETION_WAIT	0x1
#define AMDVI_CMD_INV_DEVTAB_ENTRY	0x2
#define AMDVI_CMD_INV_IOMMU_PAGES	0x3
#define AMDVI_CMD_INV_INT_TABLE	0x5
#define AMDVI_CMD_INV_IOMMU_ALL		0x8

struct amdvi_cmd {
	uint64_t q[2];
};

/* Store `data` at `store_phys` (8-byte aligned) once every earlier
 * command has completed (S=1; no interrupt, I=0). */
struct amdvi_cmd amdvi_cmd_completion_wait(uint64_t store_phys, uint64_t data);
struct amdvi_cmd amdvi_cmd_inv_devtab_entry(uint16_t devid);
/* Every page of a domain, including cached page directories (S=1, PDE=1,
 * address 0x7ffffffffffff000: the "all pages" size encoding, 2.4.3). */
struct amdvi_cmd amdvi_cmd_inv_domain(uint16_t domid);
struct amdvi_cmd amdvi_cmd_inv_all(void);
struct amdvi_cmd amdvi_cmd_inv_int_table(uint16_t devid);

/* ---- Event log (2.5) ----------------------------------------------------- */
#define AMDVI_EVT_SIZE			16u
#define AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY 0x1
#define AMDVI_EVT_IO_PAGE_FAULT		0x2
#define AMDVI_EVT_DEV_TAB_HW_ERROR	0x3
#define AMDVI_EVT_PAGE_TAB_HW_ERROR	0x4
#define AMDVI_EVT_ILLEGAL_COMMAND	0x5
#define AMDVI_EVT_COMMAND_HW_ERROR	0x6
#define AMDVI_EVT_IOTLB_INV_TIMEOUT	0x7
#define AMDVI_EVT_INVALID_DEV_REQUEST	0x8

/* IO_PAGE_FAULT flags (event dword 1, bits 27:16, as the 12-bit field) */
#define AMDVI_EVF_GN	(1u << 0)
#define AMDVI_EVF_NX	(1u << 1)
#define AMDVI_EVF_US	(1u << 2)
#define AMDVI_EVF_I	(1u << 3)	/* an interrupt request */
#define AMDVI_EVF_PR	(1u << 4)	/* the page was present (permission fault) */
#define AMDVI_EVF_RW	(1u << 5)	/* a write */
#define AMDVI_EVF_PE	(1u << 6)
#define AMDVI_EVF_RZ	(1u << 7)
#define AMDVI_EVF_TR	(1u << 8)

struct amdvi_event {
	unsigned code;		/* AMDVI_EVT_*, 0 = an unwritten entry */
	uint16_t devid;
	uint16_t domid;		/* IO_PAGE_FAULT: DomainID (or PASID bits) */
	unsigned flags;		/* the 12-bit flags field */
	uint64_t addr;		/* faulting address / command or entry address */
};

struct amdvi_event amdvi_event_decode(const uint64_t e[2]);
/* "IO_PAGE_FAULT", ... or "event" for codes this driver does not name. */
const char *amdvi_event_name(unsigned code);
/* Does the event name a device (its devid means something)? */
bool amdvi_event_has_device(unsigned code);
/* What iommu_report_fault says: "write", "read", "interrupt", or the name. */
const char *amdvi_event_what(const struct amdvi_event *ev);

/*
 * Take the entries in [*head, tail) of a ring of `bytes` bytes (a multiple
 * of 16) at `log`: fn(ctx, event) for each, the entry zeroed after it is
 * read (so a stale one is never taken twice), *head advanced. At most
 * bytes / 16 entries per call (a tail that makes no sense is clamped).
 * Returns how many were taken.
 */
unsigned amdvi_evtlog_drain(uint64_t *log, uint32_t bytes, uint32_t *head, uint32_t tail,
			    void (*fn)(void *ctx, const struct amdvi_event *ev), void *ctx);

/* ---- IVRS look-ups (48882 5.2.2) ----------------------------------------- */
/* Is devid in one of the unit's device ranges? */
bool amdvi_ivhd_covers(const struct acpi_ivhd *h, uint16_t devid);
/* The ID requests from devid carry at this unit, if an alias entry says
 * so: true with *alias. */
bool amdvi_ivhd_alias(const struct acpi_ivhd *h, uint16_t devid, uint16_t *alias);
/* Does this IVMD ask for memory kept mapped for devid (unity, or an
 * exclusion range: both must stay reachable, 5.2.2.3)? */
bool amdvi_ivmd_applies(const struct acpi_ivmd *m, uint16_t devid);

#endif
