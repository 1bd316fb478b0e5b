/*
 * VT-d table entries and invalidation descriptors (legacy mode); pure, so
 * the host tests check them with the real page-table engine. See vtd_hw.h.
 */
#include <stdbool.h>
#include <stdint.h>

#include "drivers/iommu/vtd_hw.h"
#include "kernel/pgtable.h"

/* Root entry (9.1): P (bit 0), context-table pointer (63:12); the upper
 * 64 bits are reserved in legacy mode. */
struct vtd_entry vtd_root_entry(uint64_t ctx_table)
{
	return (struct vtd_entry){ .lo = (ctx_table & VTD_ADDR_4K) | VTD_ROOT_P, .hi = 0 };
}

/* Context entry (9.3): lo = P, FPD 0 (faults are reported), TT 00
 * (untranslated requests walk the second-level tables; translated and
 * translation requests are blocked), SLPTPTR; hi = AW (2:0), DID (23:8). */
struct vtd_entry vtd_context_entry(uint64_t slptptr, unsigned agaw, uint16_t did)
{
	return (struct vtd_entry){
		.lo = (slptptr & VTD_ADDR_4K) | VTD_CTX_P,
		.hi = (uint64_t)(agaw & 7) | (uint64_t)did << 8,
	};
}

/* 10.4.2 SAGAW / 9.3 AW: 1 = 39-bit (3-level), 2 = 48-bit (4-level). */
unsigned vtd_agaw(unsigned levels)
{
	return levels - 2;
}

unsigned vtd_pick_levels(unsigned sagaw_all)
{
	if (sagaw_all & VTD_SAGAW_48)
		return 4;
	if (sagaw_all & VTD_SAGAW_39)
		return 3;
	return 0;
}

/* ---- second-level paging entries (9.8) ----------------------------------
 * R (bit 0), W (bit 1); an entry with neither is not present (3.7.1).
 * X (bit 2), EMT (5:3) and IPAT (6) are left 0 (legacy-mode requests
 * carry no execute permission; memory types are a nested-mode thing); SNP (bit 11) and TM (bit 62) stay 0 (no
 * snoop override, no transient mapping; QEMU treats SNP as reserved). PS
 * (bit 7) marks 2 MiB / 1 GiB leaves in PDEs / PDPTEs and is reserved in a
 * PML4E. */

static uint64_t vtd_sl_addr_mask;	/* set by vtd_sl_format_init */

static bool vtd_sl_present(uint64_t pte)
{
	return pte & (VTD_SL_R | VTD_SL_W);
}

static bool vtd_sl_is_leaf(uint64_t pte, unsigned level)
{
	return (level == 2 || level == 3) && (pte & VTD_SL_PS);
}

/* Non-leaf entries grant R and W: access is the AND over the walk (3.7.1),
 * so the leaf alone restricts it. */
static uint64_t vtd_sl_make_table(uint64_t table_phys, unsigned level)
{
	(void)level;
	return (table_phys & vtd_sl_addr_mask) | VTD_SL_R | VTD_SL_W;
}

/* Only PT_READ and PT_WRITE can be encoded: anything else is reported
 * back missing by vtd_sl_leaf_flags, and the walker refuses the map. */
static uint64_t vtd_sl_make_leaf(uint64_t phys, unsigned level, unsigned flags)
{
	uint64_t pte = phys & vtd_sl_addr_mask;

	if (flags & PT_READ)
		pte |= VTD_SL_R;
	if (flags & PT_WRITE)
		pte |= VTD_SL_W;
	if (!(pte & (VTD_SL_R | VTD_SL_W)))
		return 0;
	if (level > 1)
		pte |= VTD_SL_PS;
	return pte;
}

static unsigned vtd_sl_leaf_flags(uint64_t pte, unsigned level)
{
	unsigned flags = 0;

	(void)level;
	if (pte & VTD_SL_R)
		flags |= PT_READ;
	if (pte & VTD_SL_W)
		flags |= PT_WRITE;
	return flags;
}

/* One format at a time: every unit of the machine walks the same tables,
 * so the address mask is a single value (the narrowest unit's). */
void vtd_sl_format_init(struct pt_format *f, unsigned levels, unsigned max_leaf_level,
			unsigned addr_bits)
{
	if (addr_bits > 52)
		addr_bits = 52;
	vtd_sl_addr_mask = ((1ull << addr_bits) - 1) & VTD_ADDR_4K;
	*f = (struct pt_format){
		.name = levels == 4 ? "VT-d second-level 4-level" : "VT-d second-level 3-level",
		.levels = levels,
		.max_leaf_level = max_leaf_level,
		.addr_mask = vtd_sl_addr_mask,
		.present = vtd_sl_present,
		.is_leaf = vtd_sl_is_leaf,
		.make_table = vtd_sl_make_table,
		.make_leaf = vtd_sl_make_leaf,
		.leaf_flags = vtd_sl_leaf_flags,
	};
}

/* ---- invalidation descriptors (6.5.2) ---------------------------------- */

/* Context-cache invalidate (type 1): G 5:4, DID 31:16, SID 47:32, FM 49:48
 * (0: no function mask). */
struct vtd_entry vtd_qi_context(unsigned g, uint16_t did, uint16_t sid)
{
	return (struct vtd_entry){
		.lo = 0x1 | (uint64_t)(g & 3) << 4 | (uint64_t)did << 16 | (uint64_t)sid << 32,
		.hi = 0,
	};
}

/* IOTLB invalidate (type 2): G 5:4, DW 6, DR 7, DID 31:16; the address
 * (upper half) only matters for page-selective requests. */
struct vtd_entry vtd_qi_iotlb(unsigned g, uint16_t did, bool dr, bool dw)
{
	return (struct vtd_entry){
		.lo = 0x2 | (uint64_t)(g & 3) << 4 | (uint64_t)dw << 6 | (uint64_t)dr << 7 |
		      (uint64_t)did << 16,
		.hi = 0,
	};
}

/* Invalidation wait (type 5): SW (bit 5) writes `data` (63:32) to the
 * dword at status_addr (127:66) once every earlier descriptor completed;
 * FN (bit 6) keeps later ones from starting before that. */
struct vtd_entry vtd_qi_wait(uint64_t status_addr, uint32_t data)
{
	return (struct vtd_entry){
		.lo = 0x5 | 1ull << 5 | 1ull << 6 | (uint64_t)data << 32,
		.hi = status_addr & ~3ull,
	};
}

/* 6.5.2.7: type 4, G (bit 4: 0 global, 1 index-selective), IM (31:27),
 * IIDX (47:32). */
struct vtd_entry vtd_qi_iec(bool global, unsigned index, unsigned im)
{
	uint64_t lo = 0x4;

	if (!global)
		lo |= 1ull << 4 | (uint64_t)(im & 0x1f) << 27 | (uint64_t)(index & 0xffff) << 32;
	return (struct vtd_entry){ .lo = lo, .hi = 0 };
}

/* 9.10: lo = P (0), FPD (1) 0, DM (2), RH (3), TM (4), DLM (7:5), IM (15)
 * 0, V (23:16), DST (63:32); hi = SID (15:0), SQ (17:16) 0, SVT (19:18). */
struct vtd_entry vtd_irte(uint32_t dest, uint8_t vector, bool logical, bool lowest, bool level,
			  bool nmi, uint16_t sid, bool x2apic)
{
	uint64_t dlm = nmi ? 4 : lowest ? 1 : 0;
	uint64_t dst = x2apic ? dest : (uint64_t)(dest & 0xff) << 8;
	uint64_t lo = 1ull | dlm << 5 | dst << 32;

	if (logical)
		lo |= 1ull << 2;
	if (lowest)
		lo |= 1ull << 3;
	if (level && !nmi)
		lo |= 1ull << 4;
	if (!nmi)
		lo |= (uint64_t)vector << 16;
	return (struct vtd_entry){ .lo = lo, .hi = (uint64_t)sid | 1ull << 18 };
}

void vtd_irte_msi(unsigned index, uint64_t *addr, uint32_t *data)
{
	*addr = 0xfee00000ull | (uint64_t)(index & 0x7fff) << 5 | 1ull << 4 | 1ull << 3 |
		(uint64_t)((index >> 15) & 1) << 2;
	*data = 0;
}

uint64_t vtd_irte_ioapic_rte(unsigned index, uint8_t vector, bool level)
{
	return (uint64_t)vector | (uint64_t)((index >> 15) & 1) << 11 |
	       (level ? 1ull << 15 : 0) | 1ull << 48 | (uint64_t)(index & 0x7fff) << 49;
}
